package dev.fluxbot.app;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.fluxbot.app.FluxbotConfig.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    try {
      String text = file == null ? "" : Files.readString(file);
      if (!overrides.isEmpty()) {
        return overridden(text, overrides);
      }
      if (text.isBlank()) {
        return FluxbotConfig.DEFAULTS;
      }
      FluxbotConfig config = yaml().readValue(text, FluxbotConfig.class);
      return config == null ? FluxbotConfig.DEFAULTS : config;
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds().stream()
              .map(Object::toString)
              .sorted()
              .collect(Collectors.joining(", "));
      throw new ConfigException(
          source + ": unknown setting '" + path(e) + "'; known here: " + known + ".");
    } catch (JsonMappingException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      String why =
          root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
      throw new ConfigException(source + ": " + (path(e).isEmpty() ? "" : path(e) + ": ") + why);
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot be read (" + e.getMessage() + ").");
    }
  }

  private static FluxbotConfig overridden(String text, Map<String, Object> overrides)
      throws IOException {
    ObjectMapper yaml = yaml();
    JsonNode read = text.isBlank() ? null : yaml.readTree(text);
    ObjectNode root = read instanceof ObjectNode o ? o : yaml.createObjectNode();
    overrides.forEach(
        (setting, value) -> {
          String section = setting.substring(0, setting.indexOf('.'));
          ObjectNode node = root.get(section) instanceof ObjectNode o ? o : root.putObject(section);
          node.set(setting.substring(section.length() + 1), yaml.valueToTree(value));
        });
    return yaml.treeToValue(root, FluxbotConfig.class);
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."));
  }
}
