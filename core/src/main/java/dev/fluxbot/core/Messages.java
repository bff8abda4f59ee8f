package dev.fluxbot.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.MessageFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every sentence fluxbot says to a chat user, by key, in English ({@code messages.properties}, the
 * fallback), German ({@code messages_de.properties}) and Spanish ({@code messages_es.properties}),
 * beside this class in core's resources. Each value is a {@link MessageFormat} pattern (so a single
 * quote is written twice: {@code ''}). Logs and the command line stay in English.
 *
 * <p>The bundles are read as UTF-8 properties files by this class itself rather than through {@code
 * ResourceBundle.getBundle}, whose fallback to the JVM's default locale would make a German server
 * answer an unknown language in German, and whose {@code Control} is refused in a named module.
 */
public final class Messages {
  /** The languages shipped: English (the fallback), German, Spanish. */
  public static final List<Locale> SHIPPED =
      List.of(Locale.ENGLISH, Locale.GERMAN, Locale.forLanguageTag("es"));

  /** The file name of the bundle for a language; English is the base file. */
  public static String fileName(Locale language) {
    return language.getLanguage().equals("en")
        ? "messages.properties"
        : "messages_" + language.getLanguage() + ".properties";
  }

  private static final Map<String, Properties> BY_LANGUAGE = new ConcurrentHashMap<>();

  private Messages() {}

  /**
   * The locale for a platform's language tag ({@code de}, {@code de-DE}, {@code es-419}, {@code
   * en_US}); English for null, blank or malformed.
   */
  public static Locale locale(String tag) {
    if (tag == null || tag.isBlank()) {
      return Locale.ENGLISH;
    }
    Locale l = Locale.forLanguageTag(tag.strip().replace('_', '-'));
    return l.getLanguage().isEmpty() ? Locale.ENGLISH : Locale.forLanguageTag(l.getLanguage());
  }

  /** Whether fluxbot ships a bundle for this locale's language (else it answers in English). */
  public static boolean shipped(Locale locale) {
    return SHIPPED.stream().anyMatch(l -> l.getLanguage().equals(locale.getLanguage()));
  }

  /** The pattern for {@code key}: the locale's own, else English; the key itself when unknown. */
  public static String pattern(Locale locale, String key) {
    String own = properties(locale.getLanguage()).getProperty(key);
    if (own != null) {
      return own;
    }
    return properties("en").getProperty(key, key);
  }

  /** The sentence for {@code key} in {@code locale}, its arguments filled in. */
  public static String format(Locale locale, String key, Object... args) {
    Object[] shown = new Object[args.length];
    for (int i = 0; i < args.length; i++) {
      shown[i] =
          switch (args[i]) {
            case null -> "";
            case Localized m -> m.render(locale);
            default -> String.valueOf(args[i]);
          };
    }
    return new MessageFormat(pattern(locale, key), locale).format(shown);
  }

  /** The bundle of one language as it is on disk (empty for a language not shipped). */
  public static Properties properties(String language) {
    return BY_LANGUAGE.computeIfAbsent(language, Messages::load);
  }

  private static Properties load(String language) {
    Properties p = new Properties();
    String name = fileName(Locale.forLanguageTag(language));
    try (InputStream in = Messages.class.getResourceAsStream(name)) {
      if (in != null) {
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
          p.load(r);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the message bundle " + name, e);
    }
    return p;
  }
}
