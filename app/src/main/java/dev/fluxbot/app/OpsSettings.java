package dev.fluxbot.app;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code ops:} in {@code fluxbot.yaml}: the operations listener of {@code fluxbot run}, which
 * serves {@code /healthz}, {@code /readyz} and {@code /metrics} (docs/operations-metrics.md).
 *
 * @param listen {@code HOST:PORT} it binds (default {@code 127.0.0.1:9464}, this machine only; a
 *     port of 0 takes any free one and the log says which), or {@code off}; env {@code
 *     FLUXBOT_OPS_LISTEN} wins
 */
public record OpsSettings(String listen) {
  static final OpsSettings DEFAULTS = new OpsSettings(null);
  static final String DEFAULT_LISTEN = "127.0.0.1:9464";
  static final String FIELD = "ops.listen";

  public OpsSettings {
    listen = listen == null ? DEFAULT_LISTEN : listen.strip();
    parse(FIELD, listen);
  }

  /**
   * Where the listener binds, {@code FLUXBOT_OPS_LISTEN} winning over {@code ops.listen}; empty
   * when it is off.
   *
   * @throws FluxbotConfig.ConfigException naming the variable or the setting, the rule and the
   *     value
   */
  Optional<InetSocketAddress> address(Environment env) {
    Optional<String> variable = env.get(Environment.OPS_LISTEN);
    try {
      return variable.isPresent()
          ? parse(Environment.OPS_LISTEN, variable.get())
          : parse(FIELD, listen);
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /**
   * {@code off} (or {@code false}, as YAML may read a bare {@code off}) is empty; else {@code
   * HOST:PORT} with a port 0..65535.
   */
  static Optional<InetSocketAddress> parse(String field, String value) {
    String v = value.strip();
    String lower = v.toLowerCase(Locale.ROOT);
    if (lower.equals("off") || lower.equals("false")) {
      return Optional.empty();
    }
    String rule =
        field
            + ": must be HOST:PORT, e.g. "
            + DEFAULT_LISTEN
            + " (0.0.0.0:9464 for every interface; port 0 for any free one), or off; got \""
            + value
            + "\"";
    int colon = v.lastIndexOf(':');
    if (colon > 0 && v.substring(colon + 1).equals("0")) {
      String host = v.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.isBlank()) {
        throw new IllegalArgumentException(rule);
      }
      return Optional.of(InetSocketAddress.createUnresolved(host, 0));
    }
    try {
      return Optional.of(ConfigValues.address(field, v, DEFAULT_LISTEN));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(rule); // this rule, which also allows 0 and off
    }
  }
}
