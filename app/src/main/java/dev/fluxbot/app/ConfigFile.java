package dev.fluxbot.app;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.fluxbot.app.FluxbotConfig.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reading {@code fluxbot.yaml} into {@link FluxbotConfig}: snake_case settings, an unknown one
 * refused, and every problem a {@link ConfigException} naming the file and the field.
 */
final class ConfigFile {
  private ConfigFile() {}

  static ObjectMapper yaml() {
    return new ObjectMapper(new YAMLFactory())
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  /** As {@link FluxbotConfig#load}. */
  static FluxbotConfig load(Path file) {
    return load(file, Map.of());
  }

  /**
   * The config {@code file} holds (the built-in defaults when it is null), with the settings the
   * environment overrides (see {@link Environment#configOverrides}: setting path like {@code
   * storage.data_dir} to its value) put in place of the file's; problems name the file, or the
   * environment when there is no file.
   */
  static FluxbotConfig load(Path file, Map<String, Object> overrides) {
    if (file == null && overrides.isEmpty()) {
      return FluxbotConfig.DEFAULTS;
    }
    if (file != null && !Files.isRegularFile(file)) {
      throw new ConfigException("Config file " + file + " does not exist or is not a file.");
    }
    String set = "the environment's " + String.join(", ", overrides.keySet());
    String source =
        file == null ? set : overrides.isEmpty() ? file.toString() : file + " with " + set;
    ObjectNode tree = null;
    try {
      String text = file == null ? "" : Files.readString(file);
      ObjectMapper yaml = yaml();
      JsonNode read = text.isBlank() ? null : yaml.readTree(text);
      if (read != null && !read.isObject()) {
        throw new ConfigException(
            source
                + ": must be a mapping of settings (key: value lines); see docs/configuration.md");
      }
      tree = read instanceof ObjectNode o ? o : yaml.createObjectNode();
      if (file != null) {
        besideTheFile(tree, file);
      }
      override(yaml, tree, overrides);
      if (tree.isEmpty()) {
        return FluxbotConfig.DEFAULTS;
      }
      FluxbotConfig config = yaml.treeToValue(tree, FluxbotConfig.class);
      return config == null ? FluxbotConfig.DEFAULTS : config;
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds().stream()
              .map(Object::toString)
              .sorted()
              .collect(Collectors.joining(", "));
      throw new ConfigException(
          source + ": unknown setting '" + path(e) + "'; known here: " + known + ".");
    } catch (MismatchedInputException e) {
      throw new ConfigException(wrongType(source, tree, e));
    } catch (JsonMappingException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      String why =
          root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
      throw new ConfigException(source + ": " + (path(e).isEmpty() ? "" : path(e) + ": ") + why);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new ConfigException(
          source
              + (at == null ? "" : " line " + at.getLineNr() + ", column " + at.getColumnNr())
              + ": not valid YAML ("
              + e.getOriginalMessage().lines().findFirst().orElse("")
              + "). Check the indentation (spaces, not tabs) and the quoting there.");
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot be read (" + e.getMessage() + ").");
    }
  }

  /** The environment's settings (path like {@code storage.data_dir}) in place of the file's. */
  private static void override(ObjectMapper yaml, ObjectNode root, Map<String, Object> overrides) {
    overrides.forEach(
        (setting, value) -> {
          String section = setting.substring(0, setting.indexOf('.'));
          ObjectNode node = root.get(section) instanceof ObjectNode o ? o : root.putObject(section);
          node.set(setting.substring(section.length() + 1), yaml.valueToTree(value));
        });
  }

  /**
   * Makes each relative path in the file relative to the file's folder, not to wherever the bot
   * happens to be started: {@code data_dir: data} in {@code /etc/fluxbot/fluxbot.yaml} means {@code
   * /etc/fluxbot/data}. A setting's default (data_dir {@code data}) stays in the working folder.
   */
  private static void besideTheFile(ObjectNode settings, Path file) {
    Path folder = file.toAbsolutePath().normalize().getParent();
    for (String pointer : PATH_SETTINGS) {
      int slash = pointer.lastIndexOf('/');
      JsonNode parent = settings.at(pointer.substring(0, slash));
      String name = pointer.substring(slash + 1);
      if (parent instanceof ObjectNode section && section.path(name).isTextual()) {
        String value = section.path(name).asText();
        if (!value.isBlank() && !value.startsWith("~") && !Path.of(value).isAbsolute()) {
          section.put(name, folder.resolve(value).normalize().toString());
        }
      }
    }
  }

  /** The settings that name a file or folder on this machine. */
  static final List<String> PATH_SETTINGS =
      List.of(
          "/storage/data_dir",
          "/storage/database_password_file",
          "/bfl/api_key_file",
          "/discord/token_file",
          "/telegram/token_file",
          "/telegram/webhook/secret_file",
          "/slack/bot_token_file",
          "/slack/app_token_file",
          "/slack/signing_secret_file",
          "/local/spawn/checkpoint");

  /**
   * A value of the wrong type ({@code quotas.credits: lots}): the field, the type it must have, and
   * the value as written, read back from the file's tree, instead of Jackson's message.
   */
  private static String wrongType(String source, JsonNode tree, MismatchedInputException e) {
    String field = path(e);
    JsonNode node =
        tree == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : tree;
    for (var ref : e.getPath()) {
      node = ref.getFieldName() != null ? node.path(ref.getFieldName()) : node.path(ref.getIndex());
    }
    String got = describe(node);
    return source
        + ": "
        + (field.isEmpty() ? "the file" : field)
        + ": "
        + rule(e.getTargetType())
        + "; got "
        + got
        + ". See docs/configuration.md for this setting.";
  }

  private static String describe(JsonNode node) {
    if (node.isMissingNode()) {
      return "something else";
    } else if (node.isArray()) {
      return "a list";
    } else if (node.isObject()) {
      return "a mapping (nested settings)";
    } else if (node.isNull()) {
      return "nothing";
    }
    String text = node.asText();
    return "'" + (text.length() > 80 ? text.substring(0, 79) + "…" : text) + "'";
  }

  private static String rule(Class<?> type) {
    if (type == null) {
      return "has the wrong type";
    } else if (type == Integer.class
        || type == int.class
        || type == Long.class
        || type == long.class
        || type == Short.class
        || type == short.class) {
      return "must be a whole number";
    } else if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
      return "must be a number";
    } else if (type == Boolean.class || type == boolean.class) {
      return "must be true or false";
    } else if (type == String.class || type == Path.class) {
      return "must be a single value (text)";
    } else if (type.isEnum()) {
      return "must be one of "
          + Arrays.stream(type.getEnumConstants())
              .map(c -> c.toString().toLowerCase(Locale.ROOT))
              .collect(Collectors.joining(", "));
    } else if (Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "must be a list";
    } else {
      return "must be a mapping of settings (key: value lines, indented below it)";
    }
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."));
  }
}
