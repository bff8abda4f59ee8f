package dev.fluxbot.discord;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ResourceBundle;
import net.dv8tion.jda.api.interactions.DiscordLocale;
import net.dv8tion.jda.api.interactions.commands.build.CommandData;
import net.dv8tion.jda.api.interactions.commands.localization.LocalizationFunction;
import net.dv8tion.jda.api.interactions.commands.localization.ResourceBundleLocalizationFunction;

/**
 * The descriptions of fluxbot's slash commands and their options in the languages Discord shows
 * them in: the English ones are in the code (Discord's default), German and Spanish in {@code
 * commands_de.properties} and {@code commands_es.properties} beside this class, keyed as JDA asks
 * ({@code imagine.description}, {@code imagine.options.prompt.description}, {@code
 * fluxbot-admin.quota.set.description}…). Command, option and choice names stay English: only
 * descriptions are translated. Spanish serves both of Discord's Spanish locales.
 */
final class CommandTexts {
  /** The Discord locales each bundle serves. */
  static final List<DiscordLocale> GERMAN = List.of(DiscordLocale.GERMAN);

  static final List<DiscordLocale> SPANISH =
      List.of(DiscordLocale.SPANISH, DiscordLocale.SPANISH_LATAM);

  static final LocalizationFunction FUNCTION = function();

  private CommandTexts() {}

  /** The command with its descriptions localized. */
  static <T extends CommandData> T localized(T command) {
    command.setLocalizationFunction(FUNCTION);
    return command;
  }

  /** One language's bundle ({@code "de"}, {@code "es"}), read as UTF-8. */
  static ResourceBundle bundle(String language) {
    String name = "commands_" + language + ".properties";
    try (InputStream in = CommandTexts.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("the command bundle " + name + " is missing");
      }
      return new java.util.PropertyResourceBundle(
          new InputStreamReader(in, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the command bundle " + name, e);
    }
  }

  private static LocalizationFunction function() {
    ResourceBundle de = bundle("de");
    ResourceBundle es = bundle("es");
    ResourceBundleLocalizationFunction.Builder b = ResourceBundleLocalizationFunction.empty();
    GERMAN.forEach(l -> b.addBundle(de, l));
    SPANISH.forEach(l -> b.addBundle(es, l));
    return b.build();
  }
}
