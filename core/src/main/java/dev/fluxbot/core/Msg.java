package dev.fluxbot.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A user-facing sentence not yet written in a language: a key in the message bundles ({@link
 * Messages}) and its arguments, rendered late, in the reader's locale. An argument that is itself a
 * {@code Msg} is rendered in the same locale; every other argument is shown as its {@code
 * toString()} (numbers too, so a seed or a count never gains a locale's digit grouping).
 */
public record Msg(String key, List<Object> args) implements Localized {
  public Msg {
    Objects.requireNonNull(key, "key");
    args =
        java.util.Collections.unmodifiableList(
            new java.util.ArrayList<>(args)); // nulls shown as ""
  }

  public static Msg of(String key, Object... args) {
    return new Msg(key, Arrays.asList(args));
  }

  /** The sentence in {@code locale} (English where the locale has no bundle or no such key). */
  @Override
  public String render(Locale locale) {
    return Messages.format(locale, key, args.toArray());
  }

  /** The English sentence: for logs, the command line and stored job rows. */
  public String english() {
    return render(Locale.ENGLISH);
  }

  @Override
  public String toString() {
    return english();
  }
}
