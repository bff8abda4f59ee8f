package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The message bundles: every key in every language, with the same arguments; every pattern a valid
 * MessageFormat; and the lookup's fallbacks (an unknown language, a missing key).
 */
class MessageBundlesTest {
  private static final Pattern ARGUMENT = Pattern.compile("\\{(\\d+)[^}]*}");

  /** A single quote not doubled: MessageFormat would swallow it and quote what follows. */
  private static final Pattern LONE_QUOTE = Pattern.compile("(?<!')'(?!')");

  @Test
  void everyKeyIsInEveryLanguageWithTheSameArguments() {
    Properties english = Messages.properties("en");
    assertThat(english).as("messages.properties").hasSizeGreaterThan(50);
    List<String> problems = new ArrayList<>();
    for (Locale language : Messages.SHIPPED) {
      Properties p = Messages.properties(language.getLanguage());
      String file = Messages.fileName(language);
      for (String key : english.stringPropertyNames()) {
        String value = p.getProperty(key);
        if (value == null) {
          problems.add(file + ": key " + key + " is missing (English: " + english.get(key) + ")");
        } else if (!arguments(value).equals(arguments(english.getProperty(key)))) {
          problems.add(
              file
                  + ": "
                  + key
                  + " has arguments "
                  + arguments(value)
                  + ", English "
                  + arguments(english.getProperty(key)));
        }
      }
      for (String key : p.stringPropertyNames()) {
        if (!english.containsKey(key)) {
          problems.add(file + ": key " + key + " is not in messages.properties");
        }
      }
    }
    assertThat(problems).as("bundle problems").isEmpty();
  }

  @Test
  void everyPatternIsAValidMessageFormatWithItsQuotesDoubled() {
    List<String> problems = new ArrayList<>();
    for (Locale language : Messages.SHIPPED) {
      Properties p = Messages.properties(language.getLanguage());
      for (String key : p.stringPropertyNames()) {
        String value = p.getProperty(key);
        if (value.isBlank()) {
          problems.add(Messages.fileName(language) + ": " + key + " is empty");
        }
        if (LONE_QUOTE.matcher(value).find()) {
          problems.add(Messages.fileName(language) + ": " + key + " has a single ' (write '')");
        }
        try {
          Object[] args = new Object[arguments(value).size() + 1];
          java.util.Arrays.fill(args, "X");
          String shown = new MessageFormat(value, language).format(args);
          if (shown.contains("{")) {
            problems.add(Messages.fileName(language) + ": " + key + " leaves a { in " + shown);
          }
        } catch (IllegalArgumentException e) {
          problems.add(Messages.fileName(language) + ": " + key + ": " + e.getMessage());
        }
      }
    }
    assertThat(problems).as("pattern problems").isEmpty();
  }

  @Test
  void aLanguageIsChosenByItsTagAndEnglishIsTheFallback() {
    assertThat(Messages.locale("de")).isEqualTo(Locale.GERMAN);
    assertThat(Messages.locale("de-AT")).isEqualTo(Locale.GERMAN);
    assertThat(Messages.locale("es-419")).isEqualTo(Locale.forLanguageTag("es"));
    assertThat(Messages.locale("en_US")).isEqualTo(Locale.ENGLISH);
    assertThat(Messages.locale(null)).isEqualTo(Locale.ENGLISH);
    assertThat(Messages.locale("")).isEqualTo(Locale.ENGLISH);
    assertThat(Messages.format(Locale.GERMAN, "progress.generating")).isEqualTo("Erzeuge");
    assertThat(Messages.format(Locale.forLanguageTag("es-MX"), "progress.generating"))
        .isEqualTo("Generando");
    assertThat(Messages.format(Locale.forLanguageTag("fr"), "progress.generating"))
        .as("a language fluxbot does not ship: English, whatever the JVM's default")
        .isEqualTo("Generating");
    assertThat(Messages.shipped(Locale.forLanguageTag("fr"))).isFalse();
  }

  @Test
  void aUserErrorIsRenderedLateInTheReadersLanguageAndLogsInEnglish() {
    UserError e =
        UserError.of(
            UserError.Code.INVALID_OPTION,
            "error.option.invalid",
            "--ar",
            Msg.of("rule.ratio", "square"),
            Text.quote("7"),
            Msg.of("fix.example", "--ar 16:9"));
    assertThat(e.getMessage())
        .isEqualTo(
            "--ar: must be W:H (like 16:9) or a preset (square); got \"7\". Example: --ar 16:9.");
    assertThat(e.message(Locale.GERMAN))
        .isEqualTo(
            "--ar: muss B:H sein (etwa 16:9) oder eine Vorgabe (square); erhalten: \"7\"."
                + " Beispiel: --ar 16:9.");
    assertThat(e.message(Locale.forLanguageTag("es")))
        .startsWith("--ar: debe ser AN:AL (como 16:9)")
        .endsWith("Ejemplo: --ar 16:9.");
    assertThat(new UserError(UserError.Code.BANNED, "plain English").message(Locale.GERMAN))
        .as("a message not yet in the bundles stays English")
        .isEqualTo("plain English");
  }

  @Test
  void numbersAreShownAsTheyAreNotInTheLocalesGrouping() {
    assertThat(Messages.format(Locale.GERMAN, "request.summary", "pro", "1024×768", 4294967295L))
        .isEqualTo("pro, 1024×768, Seed 4294967295");
  }

  private static Set<Integer> arguments(String pattern) {
    Set<Integer> found = new TreeSet<>();
    Matcher m = ARGUMENT.matcher(pattern.replace("''", ""));
    while (m.find()) {
      found.add(Integer.parseInt(m.group(1)));
    }
    return found;
  }
}
