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
    return load(file, null);
  }

  /**
   * The config {@code file} holds (the built-in defaults when it is null), with {@code
   * storage.data_dir} replaced by {@code dataDir} when that is not null ({@code $FLUXBOT_DATA_DIR}:
   * a container or a service names its data folder so, whatever the file says).
   */
  static FluxbotConfig load(Path file, String dataDir) {
    if (file == null && dataDir == null) {
      return FluxbotConfig.DEFAULTS;
    }
    if (file == null) {
      try {
        return withDataDir("", dataDir);
      } catch (IOException e) {
        throw new ConfigException(Environment.DATA_DIR + ": " + e.getMessage());
      }
    }
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("Config file " + file + " does not exist or is not a file.");
    }
    try {
      String text = Files.readString(file);
      if (dataDir != null) {
        return withDataDir(text, dataDir);
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
          file + ": unknown setting '" + path(e) + "'; known here: " + known + ".");
    } catch (JsonMappingException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      String why =
          root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
      throw new ConfigException(file + ": " + (path(e).isEmpty() ? "" : path(e) + ": ") + why);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot be read (" + e.getMessage() + ").");
    }
  }

  private static FluxbotConfig withDataDir(String text, String dataDir) throws IOException {
    ObjectMapper yaml = yaml();
    JsonNode read = text.isBlank() ? null : yaml.readTree(text);
    ObjectNode root = read instanceof ObjectNode o ? o : yaml.createObjectNode();
    ObjectNode storage =
        root.get("storage") instanceof ObjectNode o ? o : root.putObject("storage");
    storage.put("data_dir", dataDir);
    return yaml.treeToValue(root, FluxbotConfig.class);
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."));
  }
}
