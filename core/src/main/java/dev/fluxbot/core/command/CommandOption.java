package dev.fluxbot.core.command;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.StringJoiner;

/** The options of {@code /imagine}, by their flag names and the native names platforms use. */
enum CommandOption {
  MODEL("model", true),
  AR("ar", true, "aspect"),
  SIZE("size", true),
  RES("res", true, "resolution"),
  SEED("seed", true),
  STEPS("steps", true),
  GUIDANCE("guidance", true),
  FORMAT("format", true),
  SAFETY("safety", true, "safety_tolerance"),
  NO_CACHE("no-cache", false, "nocache", "no_cache"),
  REPEAT("repeat", true),
  N("n", true, "count"),
  ENHANCE("enhance", false),
  NO_ENHANCE("no-enhance", false, "noenhance", "no_enhance");

  private final String id;
  private final boolean takesValue;
  private final List<String> aliases;

  CommandOption(String id, boolean takesValue, String... aliases) {
    this.id = id;
    this.takesValue = takesValue;
    this.aliases = List.of(aliases);
  }

  String id() {
    return id;
  }

  String flag() {
    return "--" + id;
  }

  boolean takesValue() {
    return takesValue;
  }

  static Optional<CommandOption> byName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (CommandOption o : values()) {
      if (o.id.equals(n) || o.aliases.contains(n)) {
        return Optional.of(o);
      }
    }
    return Optional.empty();
  }

  static String knownNames() {
    StringJoiner j = new StringJoiner(", ");
    for (CommandOption o : values()) {
      j.add(o.flag());
    }
    return j.toString();
  }
}
