package dev.fluxbot.app;

import java.util.Locale;

/**
 * {@code log:} in {@code fluxbot.yaml}: how the log lines on stderr look.
 *
 * @param format {@code text} (default: one line per event, starting with its ISO-8601 time in UTC)
 *     or {@code json} (one JSON object per line, for a log collector); env {@code
 *     FLUXBOT_LOG_FORMAT} wins
 */
public record LogSettings(String format) {
  static final LogSettings DEFAULTS = new LogSettings(null);

  /** The environment variable that wins over {@code log.format}. */
  static final String FORMAT_VARIABLE = "FLUXBOT_LOG_FORMAT";

  /** The two formats. */
  enum Format {
    TEXT,
    JSON
  }

  public LogSettings {
    format = format == null ? "text" : format.strip().toLowerCase(Locale.ROOT);
    parse("log.format", format);
  }

  /**
   * The format {@code FLUXBOT_LOG_FORMAT} or, without it, {@code log.format} names.
   *
   * @throws FluxbotConfig.ConfigException for a variable that is neither text nor json
   */
  Format format(Environment env) {
    try {
      return env.get(FORMAT_VARIABLE)
          .map(v -> parse(FORMAT_VARIABLE, v.toLowerCase(Locale.ROOT)))
          .orElseGet(() -> parse("log.format", format));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  private static Format parse(String field, String value) {
    return switch (value) {
      case "text" -> Format.TEXT;
      case "json" -> Format.JSON;
      default ->
          throw new IllegalArgumentException(
              field
                  + ": must be text or json; got \""
                  + value
                  + "\". Leave it out for text (one line per event, starting with its time)");
    };
  }
}
