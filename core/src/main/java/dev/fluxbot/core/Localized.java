package dev.fluxbot.core;

import java.util.Locale;

/**
 * An argument of a {@link Msg} that is written differently per language (a nested sentence, a
 * weekday, a date): {@link Messages} renders it in the reader's locale.
 */
@FunctionalInterface
public interface Localized {
  String render(Locale locale);
}
