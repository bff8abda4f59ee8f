package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMention;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordRequest;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeDiscordExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real app ({@code fluxbot run}, a child process) against the fake Discord and the fake BFL
 * API, with its web server for originals on a free loopback port.
 */
class DiscordRunProcessTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String UPLOAD = "PATCH /webhooks/{app}/{token}/messages/@original";
  private static final String BFL_KEY = "sk-discord-e2e";

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  @RegisterExtension
  final FakeDiscordExtension discordFake =
      new FakeDiscordExtension(b -> b.awaitTimeout(Duration.ofSeconds(30)));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeDiscord discord = discordFake.get();
  private final DiscordContext alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
  private RunningApp app;
  private String webBase;

  @TempDir Path dir;

  @BeforeEach
  void start() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    webBase = "http://127.0.0.1:" + port;
    Files.writeString(
        dir.resolve("fluxbot.yaml"),
        "web:\n  listen: 127.0.0.1:" + port + "\n  public_url: " + webBase + "\n");
    app = startApp();
  }

  @AfterEach
  void stop() throws Exception {
    stopApp();
  }

  private ProcessBuilder fluxbot(String... args) {
    return FluxbotProcess.builder(
        dir,
        Map.of(
            "BFL_API_KEY",
            BFL_KEY,
            "FLUXBOT_BFL_BASE_URL",
            bfl.baseUrl(),
            "FLUXBOT_DISCORD_TOKEN",
            discord.token(),
            "FLUXBOT_DISCORD_REST_URL",
            discord.restBaseUrl(),
            "FLUXBOT_DISCORD_GATEWAY_URL",
            discord.gatewayUrl()),
        args);
  }

  private long registrations() {
    return discord.requests().stream()
        .filter(r -> r.method().equals("PUT") && r.path().endsWith("/commands"))
        .count();
  }

  /**
   * Starts the app and waits until it has registered its commands: it is then ready for
   * interactions.
   */
  private RunningApp startApp() throws Exception {
    int sessions = discord.liveGatewaySessions();
    long registered = registrations();
    return RunningApp.start(
        fluxbot("run", "--grace", "5"),
        dir,
        () -> discord.liveGatewaySessions() > sessions && registrations() > registered);
  }

  private void stopApp() throws Exception {
    if (app != null) {
      app.stop();
    }
  }

  private String log() {
    return RunningApp.read(dir.resolve("app.log"));
  }

  private DiscordMessage imageOf(DiscordInteraction i) {
    try {
      return discord.awaitOriginalEdit(i.token(), m -> !m.files().isEmpty());
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nThe app's log:\n" + log(), e);
    }
  }

  @Test
  void imagineWithTwoAttachmentsDefersShowsProgressAndDeliversTheImageWithFourButtons()
      throws Exception {
    byte[] one = TestImages.noisePng(64, 48, 1);
    byte[] two = TestImages.noisePng(32, 32, 2);
    DiscordAttachment a1 = discord.addAttachment(one, "fox.png", "image/png");
    DiscordAttachment a2 = discord.addAttachment(two, "snow.png", "image/png");
    DiscordInteraction imagine =
        discord.slashCommand(
            alice,
            "imagine",
            Map.of(
                "prompt",
                "a fox in the snow --seed 7",
                "aspect",
                "widescreen_16_9",
                "image1",
                a1,
                "image2",
                a2));

    assertThat(discord.awaitCallback(imagine.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    DiscordMessage image = imageOf(imagine);
    assertThat(image.content())
        .contains("a fox in the snow")
        .contains("klein-4b · 1344×768 · seed 7")
        .contains("credits");
    assertThat(image.customIds()).hasSize(4).allMatch(id -> id.startsWith("fx:"));
    assertThat(image.customIds().get(0)).startsWith("fx:reroll:");
    BufferedImage delivered = ImageIO.read(new ByteArrayInputStream(image.files().get(0).bytes()));
    assertThat(delivered.getWidth()).isEqualTo(1344);
    assertThat(discord.messages())
        .anyMatch(
            m ->
                m.kind() == DiscordMessage.Kind.ORIGINAL_EDIT
                    && m.files().isEmpty()
                    && m.token().equals(imagine.token()));

    JsonNode submit = bfl.takeSubmit().body();
    assertThat(submit.get("input_image").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(one));
    assertThat(submit.get("input_image_2").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(two));
    assertThat(submit.get("prompt").asText()).isEqualTo("a fox in the snow");
    assertThat(log()).doesNotContain(discord.token()).doesNotContain(BFL_KEY);
  }

  @Test
  void rerollMakesANewSeedAndOldButtonsWorkAfterARestart() throws Exception {
    DiscordInteraction imagine =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "a lighthouse --seed 11"));
    DiscordMessage first = imageOf(imagine);
    String reroll = first.customIds().get(0);

    DiscordInteraction press = discord.button(alice, first.messageId(), reroll);
    assertThat(discord.awaitCallback(press.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    DiscordMessage rerolled = imageOf(press);
    assertThat(rerolled.content()).contains("a lighthouse").doesNotContain("seed 11 ·");

    stopApp();
    app = startApp();
    DiscordInteraction later = discord.button(alice, first.messageId(), reroll);
    DiscordMessage afterRestart = imageOf(later);
    assertThat(afterRestart.content()).contains("a lighthouse");
    assertThat(bfl.submits()).hasSize(3);

    String vary = first.customIds().get(1);
    DiscordInteraction varyPress = discord.button(alice, first.messageId(), vary);
    DiscordCallback modal = discord.awaitCallback(varyPress.id());
    assertThat(modal.type()).isEqualTo(DiscordCallback.MODAL);
    assertThat(modal.data().toString()).contains("a lighthouse");
    DiscordInteraction submitted =
        discord.modalSubmit(alice, vary, Map.of("prompt", "a lighthouse at night"));
    DiscordMessage varied = imageOf(submitted);
    assertThat(varied.content()).contains("a lighthouse at night").contains("seed 11");
  }

  @Test
  void overQuotaIsRefusedEphemerallyWithTheResetTime() throws Exception {
    Process set =
        fluxbot(
                "quota",
                "set",
                "--user",
                "discord:" + FakeDiscord.DEFAULT_USER_ID + "@" + FakeDiscord.DEFAULT_GUILD_ID,
                "--credits",
                "1")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("quota.log").toFile())
            .start();
    assertThat(set.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(set.exitValue()).as(Files.readString(dir.resolve("quota.log"))).isZero();

    DiscordInteraction imagine = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
    DiscordMessage refusal = discord.awaitFollowup(imagine.token(), DiscordMessage::isEphemeral);
    assertThat(refusal.content())
        .contains(
            "You have 1 of 1 credit left today; this image needs 1.4 (klein-4b). Resets at 00:00 UTC");
    assertThat(bfl.submits()).isEmpty();

    DiscordInteraction quota = discord.slashCommand(alice, "quota", Map.of());
    DiscordCallback shown = discord.awaitCallback(quota.id());
    assertThat(shown.isEphemeral()).isTrue();
    assertThat(shown.data().path("content").asText()).contains("You have 1 of 1 credit left today");
  }

  @Test
  void fluxbotAdminIsForAdminsAndItsSettingsApply() throws Exception {
    DiscordInteraction refused =
        discord.slashCommand(
            alice,
            "fluxbot-admin quota show",
            Map.of("user", DiscordMention.user(FakeDiscord.DEFAULT_USER_ID)));
    DiscordCallback no = discord.awaitCallback(refused.id());
    assertThat(no.isEphemeral()).isTrue();
    assertThat(no.data().path("content").asText())
        .startsWith("⛔ /fluxbot-admin is for members with Manage Server");

    DiscordContext mod = discord.inGuild(FakeDiscord.DEFAULT_MODERATOR_ID);
    DiscordInteraction set =
        discord.slashCommand(
            mod,
            "fluxbot-admin quota set",
            Map.of("user", DiscordMention.user(FakeDiscord.DEFAULT_USER_ID), "credits", 2.0));
    assertThat(discord.awaitFollowup(set.token(), DiscordMessage::isEphemeral).content())
        .isEqualTo(
            "Set <@" + FakeDiscord.DEFAULT_USER_ID + "> on this server to 2 credits per day.");
    DiscordInteraction model =
        discord.slashCommand(
            mod, "fluxbot-admin server default-model", Map.of("model", "klein-9b"));
    assertThat(discord.awaitFollowup(model.token(), DiscordMessage::isEphemeral).content())
        .contains("klein-9b");

    DiscordInteraction prefs =
        discord.slashCommand(alice, "settings", Map.of("aspect", "social_story_9_16"));
    assertThat(discord.awaitCallback(prefs.id()).data().path("content").asText())
        .contains("aspect **social_story_9_16**");

    DiscordMessage image =
        imageOf(discord.slashCommand(alice, "imagine", Map.of("prompt", "a tall fox")));
    assertThat(image.content()).contains("klein-9b · 768×1344");
    DiscordInteraction quota = discord.slashCommand(alice, "quota", Map.of());
    assertThat(discord.awaitCallback(quota.id()).data().path("content").asText())
        .contains("of 2 credits left today");

    DiscordInteraction only =
        discord.slashCommand(
            mod,
            "fluxbot-admin server channels",
            Map.of("mode", "allow", "channel", DiscordMention.channel("1200000000000000999")));
    assertThat(discord.awaitFollowup(only.token(), DiscordMessage::isEphemeral).content())
        .contains("only in <#1200000000000000999>");
    DiscordInteraction elsewhere =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
    DiscordCallback off = discord.awaitCallback(elsewhere.id());
    assertThat(off.isEphemeral()).isTrue();
    assertThat(off.data().path("content").asText())
        .contains("not on in this channel")
        .contains("<#1200000000000000999>");
  }

  @Test
  void badShardSettingsStopTheStartNamingTheVariableTheRuleAndTheValue() throws Exception {
    Await.until(
        "the start's shard line",
        Duration.ofSeconds(30),
        () -> app.log().contains("this instance runs shard(s)"));
    assertThat(app.log())
        .as("one instance runs the one shard the fake recommends, and says so")
        .contains("this instance runs shard(s) 0 of 1, as Discord recommends");
    stopApp(); // one bot per SQLite file: this start is tried on its own
    ProcessBuilder pb = fluxbot("run");
    pb.environment().put("FLUXBOT_DISCORD_SHARDS_TOTAL", "2");
    pb.environment().put("FLUXBOT_DISCORD_SHARD_IDS", "1-2");
    Process p =
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("shards.log").toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(dir.resolve("shards.log"));
    assertThat(p.exitValue()).as(log).isEqualTo(2);
    assertThat(log)
        .contains(
            "fluxbot: FLUXBOT_DISCORD_SHARD_IDS: shard 2 is outside 0..1, as the bot has 2 shard(s)"
                + " in all; got \"1-2\"")
        .doesNotContain("Exception");
  }

  @Test
  void aBadTokenFailsFastWithAClearMessage() throws Exception {
    stopApp(); // one bot per SQLite file: this start is tried on its own
    ProcessBuilder pb = fluxbot("run");
    pb.environment().put("FLUXBOT_DISCORD_TOKEN", "MTIz.not-the-token.xyz");
    Process p =
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("bad.log").toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(dir.resolve("bad.log")))
        .contains("Discord refused the bot token (FLUXBOT_DISCORD_TOKEN)")
        .doesNotContain("not-the-token");
  }

  @Test
  void aDiscordThatCannotBeReachedIsOneClearLine() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nothing listens there
    }
    stopApp(); // one bot per SQLite file: this start is tried on its own
    ProcessBuilder pb =
        FluxbotProcess.builder(
            dir,
            Map.of(
                "BFL_API_KEY",
                BFL_KEY,
                "FLUXBOT_BFL_BASE_URL",
                bfl.baseUrl(),
                "FLUXBOT_DISCORD_TOKEN",
                discord.token(),
                "FLUXBOT_DISCORD_REST_URL",
                "http://127.0.0.1:" + port + "/api/v10/",
                "FLUXBOT_DISCORD_GATEWAY_URL",
                discord.gatewayUrl()),
            "run");
    Process p =
        pb.redirectErrorStream(true)
            .redirectOutput(dir.resolve("unreachable.log").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(dir.resolve("unreachable.log"));
    assertThat(p.exitValue()).as(log).isEqualTo(2);
    assertThat(log)
        .contains("fluxbot: Discord could not be reached for the login (connection refused)")
        .doesNotContain("unexpected error")
        .doesNotContain(discord.token());
  }

  @Test
  void bflsCallThroughTheWebServerFinishesTheJobWithoutAPollAndAForgedCallIsRefused()
      throws Exception {
    bfl.setWorkTime(java.time.Duration.ofMillis(200));
    DiscordInteraction imagine =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "a quick heron --seed 3"));
    DiscordMessage image = imageOf(imagine);

    assertThat(image.content()).contains("seed 3");
    assertThat(bfl.submits().get(0).body().path("webhook_url").asText())
        .isEqualTo(webBase + "/bfl/webhook");
    assertThat(bfl.webhookCalls())
        .singleElement()
        .satisfies(c -> assertThat(c.httpStatus()).isEqualTo(200));
    assertThat(bfl.polls()).isEmpty();

    String taskId = bfl.webhookCalls().get(0).taskId();
    java.net.http.HttpResponse<String> forged =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(webBase + "/bfl/webhook"))
                    .header("X-BFL-Signature", "sha256=" + "00".repeat(32))
                    .POST(
                        java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"id\":\"" + taskId + "\",\"status\":\"Error\"}"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(bfl.submits()).hasSize(1);
  }

  @Test
  void aRateLimitOnTheImageUploadLosesNothing() throws Exception {
    discord.rateLimitNextUpload(UPLOAD, 1.0, 1);
    DiscordInteraction imagine =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "a patient fox --seed 5"));
    DiscordMessage image = imageOf(imagine);
    assertThat(image.content()).contains("seed 5");
    assertThat(uploadStatuses()).containsExactly(429, 200);
    assertThat(bfl.submits()).hasSize(1);
  }

  /**
   * The statuses Discord gave the edits of {@code @original} that carried the image, up to the one
   * it took.
   */
  private List<Integer> uploadStatuses() {
    discord.awaitRequest(UPLOAD, r -> r.isMultipart() && r.status() == 200);
    return discord.requests(UPLOAD).stream()
        .filter(DiscordRequest::isMultipart)
        .map(DiscordRequest::status)
        .toList();
  }

  @Test
  void anImageOverTheUploadLimitArrivesAsAPreviewWithALinkToTheExactOriginal() throws Exception {
    byte[] big = TestImages.noisePng(1024, 1024, 3);
    assertThat(big.length).isGreaterThan(2_000_000);
    bfl.enqueue(Scenario.ready().withImage(big, "png"));
    discord.setAttachmentSizeLimit(400_000);
    DiscordInteraction imagine =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "static --format png --seed 21"));
    DiscordMessage image = imageOf(imagine);
    assertThat(image.files().get(0).bytes().length).isLessThanOrEqualTo(400_000);
    assertThat(image.files().get(0).filename()).endsWith(".jpg");
    assertThat(image.content())
        .containsPattern(
            "Preview: the original is \\d\\.\\d MB \\(PNG\\), over this channel's upload limit")
        .contains("The **Original** button downloads the full image.");
    JsonNode button = image.components().get(0).path("components").get(4);
    assertThat(button.path("style").asInt()).isEqualTo(5);
    assertThat(button.path("label").asText()).isEqualTo("Original");
    String jobId = image.customIds().get(0).substring("fx:reroll:".length());
    URI link = URI.create(button.path("url").asText());
    assertThat(link.toString()).startsWith(webBase + "/originals/" + jobId + "?exp=");

    HttpResponse<byte[]> original =
        HTTP.send(HttpRequest.newBuilder(link).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(original.statusCode()).isEqualTo(200);
    assertThat(original.body()).as("exactly the original's bytes").isEqualTo(big);
    assertThat(original.headers().firstValue("Content-Type")).contains("image/png");
    assertThat(original.headers().firstValue("Content-Disposition"))
        .contains("attachment; filename=\"fluxbot-21.png\"");

    String tampered = link.toString().replaceFirst("exp=(\\d+)", "exp=9$1");
    HttpResponse<String> refused =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(tampered)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).startsWith("This link is not valid: its signature does not match.");

    Path key = dir.resolve("data").resolve("web-secret");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    assertThat(log())
        .contains(
            "web: serving originals on 127.0.0.1:"
                + link.getPort()
                + " as "
                + webBase
                + "/originals/…")
        .doesNotContain(Files.readString(key).strip())
        .doesNotContain(link.getRawQuery());

    Process show =
        fluxbot("jobs", "show", jobId, "-o", "original.png")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("show.log").toFile())
            .start();
    assertThat(show.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(show.exitValue()).as(Files.readString(dir.resolve("show.log"))).isZero();
    assertThat(Files.readAllBytes(dir.resolve("original.png"))).isEqualTo(big);
  }

  @Test
  void serverErrorsOnTheImageUploadAreOutlastedAndTheImageIsChargedOnce() throws Exception {
    // 5 x 503: JDA tries 4 times, then the core's delivery retry, after 2 s, meets the last one and
    // JDA tries again.
    discord.failNextUpload(UPLOAD, 503, 0, "503: Service Unavailable", 5);
    DiscordInteraction imagine =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "a stubborn fox --seed 5"));
    DiscordMessage image = imageOf(imagine);
    assertThat(image.content()).contains("seed 5");
    assertThat(uploadStatuses()).containsExactly(503, 503, 503, 503, 503, 200);
    assertThat(discord.messages()).filteredOn(m -> !m.files().isEmpty()).containsExactly(image);
    assertThat(bfl.submits()).hasSize(1);
    DiscordInteraction quota = discord.slashCommand(alice, "quota", Map.of());
    assertThat(discord.awaitCallback(quota.id()).data().path("content").asText())
        .contains("(spent 1.4).");
  }
}
