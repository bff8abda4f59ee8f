package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.DiscordContext;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What Discord checks when commands are registered; problems come back as 400 "Invalid Form Body".
 */
final class CommandRules {
  private static final Pattern NAME = Pattern.compile("^[-_'\\p{L}\\p{N}]{1,32}$");

  private CommandRules() {}

  static FormErrors check(JsonNode commands) {
    FormErrors errors = new FormErrors();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < commands.size(); i++) {
      JsonNode command = commands.get(i);
      List<String> at = List.of(Integer.toString(i));
      command(command, at, errors);
      if (!names.add(command.path("type").asInt(1) + ":" + command.path("name").asText())) {
        errors.add(
            at, "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique");
      }
    }
    return errors;
  }

  static void command(JsonNode command, List<String> at, FormErrors errors) {
    int type = command.path("type").asInt(1);
    String name = command.path("name").asText("");
    if (type == 1) {
      slashName(name, MessageRules.plus(at, "name"), errors);
      description(
          command.path("description").asText(""), MessageRules.plus(at, "description"), errors);
      localizations(command, at, errors);
      options(command.path("options"), MessageRules.plus(at, "options"), errors);
    } else if (name.isEmpty() || name.length() > 32) {
      errors.add(
          MessageRules.plus(at, "name"),
          "BASE_TYPE_BAD_LENGTH",
          "Must be between 1 and 32 in length.");
    } else if (!command.path("description").asText("").isEmpty()) {
      errors.add(
          MessageRules.plus(at, "description"),
          "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID",
          "Context menu commands cannot have description");
    }
  }

  private static void options(JsonNode options, List<String> at, FormErrors errors) {
    if (options.size() > 25)
      errors.add(at, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
    Set<String> names = new HashSet<>();
    boolean optionalSeen = false;
    for (int i = 0; i < options.size(); i++) {
      JsonNode option = options.get(i);
      List<String> here = MessageRules.plus(at, Integer.toString(i));
      slashName(option.path("name").asText(""), MessageRules.plus(here, "name"), errors);
      description(
          option.path("description").asText(""), MessageRules.plus(here, "description"), errors);
      localizations(option, here, errors);
      if (!names.add(option.path("name").asText())) {
        errors.add(
            MessageRules.plus(here, "name"),
            "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
            "Option name already exists");
      }
      int type = option.path("type").asInt();
      if (type < 1 || type > 11) {
        errors.add(
            MessageRules.plus(here, "type"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, …, 11}.");
      }
      boolean required = option.path("required").asBoolean(false);
      if (required && optionalSeen) {
        errors.add(
            here,
            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID_ORDER",
            "Required options must be placed before non-required options");
      }
      optionalSeen |= !required && type > 2;
      if (option.path("choices").size() > 25) {
        errors.add(
            MessageRules.plus(here, "choices"),
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.");
      }
      if (type == 1 || type == 2)
        options(option.path("options"), MessageRules.plus(here, "options"), errors);
    }
  }

  private static void slashName(String name, List<String> at, FormErrors errors) {
    if (!NAME.matcher(name).matches() || !name.equals(name.toLowerCase(Locale.ROOT))) {
      errors.add(at, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
    }
  }

  /**
   * {@code description_localizations} and {@code name_localizations}: keys among Discord's locales,
   * descriptions 1 to 100 characters, names like a command's name.
   */
  private static void localizations(JsonNode item, List<String> at, FormErrors errors) {
    for (String field : List.of("description_localizations", "name_localizations")) {
      JsonNode map = item.path(field);
      if (map.isMissingNode() || map.isNull()) {
        continue;
      }
      List<String> here = MessageRules.plus(at, field);
      if (!map.isObject()) {
        errors.add(here, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
        continue;
      }
      map.properties()
          .forEach(
              e -> {
                List<String> entry = MessageRules.plus(here, e.getKey());
                if (!DiscordContext.LOCALES.contains(e.getKey())) {
                  errors.add(entry, "BASE_TYPE_CHOICES", "Value must be one of Discord's locales.");
                } else if (field.startsWith("name")) {
                  slashName(e.getValue().asText(""), entry, errors);
                } else {
                  description(e.getValue().asText(""), entry, errors);
                }
              });
    }
  }

  private static void description(String description, List<String> at, FormErrors errors) {
    if (description.isEmpty() || description.length() > 100) {
      errors.add(at, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    }
  }
}
