package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeDiscordExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replies in the user's language, through the real JDA against the fake Discord: the interaction's
 * {@code locale} picks German or Spanish, anything else gets English; the slash commands carry
 * their descriptions in German and Spanish in Discord's localization maps, which the fake checks.
 */
class DiscordLanguagesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  final FakeDiscordExtension discordFake = new FakeDiscordExtension(b -> b.awaitTimeout(WAIT));

  private final FakeDiscord discord = discordFake.get();
  private final DiscordContext member = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
  private final StepBackend backend = new StepBackend();

  @Order(Integer.MAX_VALUE) // stops before the fake Discord closes
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension(b -> b.backends(backend));

  private DiscordBot bot;

  @AfterEach
  void stop() {
    if (bot != null) {
      bot.close();
    }
  }

  private void startBot() throws InterruptedException {
    FluxbotCore core = cores.get();
    ChatServices services =
        core.chatServices(Duration.ofHours(1), java.time.Clock.systemUTC(), Sleeper.SYSTEM);
    bot =
        new DiscordBot(
            new DiscordBot.Config(
                Secret.of(discord.token()),
                discord.restBaseUrl(),
                discord.gatewayUrl(),
                Set.of(),
                true),
            services,
            OriginalLinks.NONE);
    bot.start();
  }

  private DiscordInteraction imagine(DiscordContext who, String prompt) {
    DiscordInteraction i = discord.slashCommand(who, "imagine", Map.of("prompt", prompt));
    discord.awaitCallback(i.id());
    return i;
  }

  @Test
  void aGermanUserGetsAGermanErrorNamingTheFieldAndTheValue() throws Exception {
    startBot();
    DiscordInteraction i = imagine(member.withLocale("de"), "ein Fuchs --ar 7");

    DiscordMessage error = discord.awaitFollowup(i.token(), m -> m.content().startsWith("⚠️"));
    assertThat(error.content())
        .isEqualTo(
            "⚠️ --ar: muss B:H sein (etwa 16:9) oder eine Vorgabe ("
                + presets()
                + "); erhalten: \"7\". Beispiel: --ar 16:9.");
  }

  @Test
  void aGermanUserSeesGermanProgressCaptionAndButtons() throws Exception {
    startBot();
    DiscordInteraction i = imagine(member.withLocale("de"), "ein Fuchs --seed 5");

    discord.awaitOriginalEdit(i.token(), m -> m.content().startsWith("In Arbeit: "));
    discord.awaitOriginalEdit(i.token(), m -> m.content().equals("🎨 Erzeuge 50%…"));
    backend.go.release();
    DiscordMessage image = discord.awaitOriginalEdit(i.token(), m -> !m.files().isEmpty());
    assertThat(image.content()).contains(" · 64×64 · Seed 5 · 1 Credit");
    assertThat(labels(image)).contains("Neu würfeln", "Variieren", "Als Referenz nutzen");
  }

  @Test
  void aSpanishUserInLatinAmericaGetsSpanishAndAnUnknownLanguageGetsEnglish() throws Exception {
    startBot();
    DiscordInteraction es = imagine(member.withLocale("es-419"), "un zorro --ar 7");
    assertThat(discord.awaitFollowup(es.token(), m -> m.content().startsWith("⚠️")).content())
        .startsWith("⚠️ --ar: debe ser AN:AL (como 16:9)")
        .endsWith("recibido: \"7\". Ejemplo: --ar 16:9.");

    DiscordInteraction ja = imagine(member.withLocale("ja"), "a fox --ar 7");
    assertThat(discord.awaitFollowup(ja.token(), m -> m.content().startsWith("⚠️")).content())
        .isEqualTo(
            "⚠️ --ar: must be W:H (like 16:9) or a preset ("
                + presets()
                + "); got \"7\". Example: --ar 16:9.");
  }

  @Test
  void theSlashCommandsCarryGermanAndSpanishDescriptionsThatDiscordAccepts() throws Exception {
    startBot();
    JsonNode imagine = command("imagine");
    assertThat(imagine.path("name").asText()).as("names stay English").isEqualTo("imagine");
    assertThat(imagine.path("description_localizations").path("de").asText())
        .isEqualTo("Ein Bild mit FLUX.2 erzeugen");
    assertThat(imagine.path("description_localizations").path("es-ES").asText())
        .isEqualTo("Genera una imagen con FLUX.2");
    assertThat(imagine.path("description_localizations").path("es-419").asText())
        .isEqualTo("Genera una imagen con FLUX.2");
    JsonNode prompt = imagine.path("options").get(0);
    assertThat(prompt.path("name").asText()).isEqualTo("prompt");
    assertThat(prompt.path("description_localizations").path("de").asText())
        .startsWith("Was gezeichnet werden soll");
    JsonNode ban = command("fluxbot-admin").path("options").get(0).path("options");
    List<String> german = new ArrayList<>();
    ban.forEach(s -> german.add(s.path("description_localizations").path("de").asText()));
    assertThat(german).contains("Hindert einen Nutzer daran, hier Bilder zu erstellen");
  }

  @Test
  void everyDescriptionIsLocalizedInGermanAndSpanishWithinDiscordsLimits() throws Exception {
    List<String> problems = new ArrayList<>();
    java.util.Set<String> used = new java.util.HashSet<>();
    for (var c : DiscordBot.commands(cores.get().catalog())) {
      JsonNode data = JSON.readTree(c.toData().toString());
      if (data.path("type").asInt(1) == 1) {
        walk(data, data.path("name").asText(), problems, used);
      }
    }
    for (String language : List.of("de", "es")) {
      var bundle = CommandTexts.bundle(language);
      for (String key : bundle.keySet()) {
        if (!used.contains(key)) {
          problems.add("commands_" + language + ".properties: " + key + " is no command's");
        }
      }
    }
    assertThat(problems).isEmpty();
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** Each description (command, group, subcommand, option) needs a de, es-ES and es-419 text. */
  private static void walk(JsonNode item, String key, List<String> problems, Set<String> used) {
    used.add(key + ".description");
    JsonNode l = item.path("description_localizations");
    for (String locale : List.of("de", "es-ES", "es-419")) {
      String text = l.path(locale).asText("");
      if (text.isEmpty() || text.length() > 100) {
        problems.add(key + ".description has no " + locale + " text of 1..100 characters");
      }
    }
    item.path("options")
        .forEach(
            o -> {
              int type = o.path("type").asInt();
              String name = o.path("name").asText();
              walk(
                  o,
                  type == 1 || type == 2 ? key + "." + name : key + ".options." + name,
                  problems,
                  used);
            });
  }

  private JsonNode command(String name) {
    return discord.registeredCommands().stream()
        .filter(c -> c.path("name").asText().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> labels(DiscordMessage m) {
    List<String> out = new ArrayList<>();
    m.components()
        .forEach(row -> row.path("components").forEach(b -> out.add(b.path("label").asText())));
    return out;
  }

  private static String presets() {
    StringBuilder sb = new StringBuilder();
    for (var p : dev.fluxbot.core.model.AspectPreset.values()) {
      sb.append(sb.isEmpty() ? "" : ", ").append(p.id());
    }
    return sb.toString();
  }

  /** Reports 50 % after a second and waits for the test before it hands over a small image. */
  private static final class StepBackend implements ImageBackend {
    final Semaphore go = new Semaphore(0);

    @Override
    public String name() {
      return "step";
    }

    @Override
    public Optional<String> refusal(dev.fluxbot.core.model.GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      try {
        Thread.sleep(1_100); // past the status line's one edit a second
        progress.onProgress(new Progress(Progress.Stage.GENERATING, 0.5, ""));
        if (!go.tryAcquire(WAIT.toSeconds(), TimeUnit.SECONDS)) {
          throw new UserError(UserError.Code.BACKEND_FAILED, "the test did not let the job go");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UserError(UserError.Code.CANCELLED, "interrupted");
      }
      return new GenerationResult(
          TestImages.noisePng(64, 64, 1),
          ImageType.PNG,
          64,
          64,
          job.seed(),
          BigDecimal.ONE,
          name(),
          "step-1",
          Duration.ZERO);
    }
  }
}
