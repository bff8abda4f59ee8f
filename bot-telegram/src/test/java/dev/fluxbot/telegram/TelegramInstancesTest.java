package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.LoadBalancer;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Several instances of one bot on one PostgreSQL database, as issue 16 runs them: in polling mode
 * one instance polls and the others stand by (no {@code getUpdates}) until it is gone; in webhook
 * mode behind a load balancer, an album whose items reach different instances runs once. And a 409
 * Conflict from {@code getUpdates} is one log line, not a stack trace loop.
 */
class TelegramInstancesTest {
  private static final AddressPolicy FAKES_ON_LOOPBACK =
      AddressPolicy.permitting("test", List.of("127.0.0.0/8"));

  /** Within this of the leader's end, a standby answers. */
  private static final Duration TAKEOVER = Duration.ofSeconds(30);

  private final Harness.RecordingSleeper sleeper = new Harness.RecordingSleeper();

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension();

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(b -> b.awaitTimeout(Duration.ofSeconds(40)).clock(sleeper));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();
  private final TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final List<TelegramBot> bots = new ArrayList<>();

  @Order(Integer.MAX_VALUE) // registered last, so it stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension();

  @BeforeEach
  void listen() {
    logs.start();
    root().addAppender(logs);
  }

  @AfterEach
  void stop() {
    bots.forEach(TelegramBot::close);
    root().detachAppender(logs);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** A core on the test's database (the first one, or another beside it: another instance). */
  private FluxbotCore core() {
    OkHttpClient http = new OkHttpClient();
    BflBackend backend =
        new BflBackend(
            BflConfig.defaults(Secret.of(bfl.key()))
                .withBaseUrl(URI.create(bfl.baseUrl()))
                .withPolling(Duration.ofMillis(20), Duration.ofMillis(100)),
            http,
            InstantSource.system(),
            Sleeper.SYSTEM,
            new SecureRandom());
    UnaryOperator<FluxbotCore.Builder> options =
        b ->
            b.backends(backend)
                .referenceHttp(http)
                .referenceAddresses(FAKES_ON_LOOPBACK)
                .schedulerSettings(new JobScheduler.Settings(4, Map.of(), 1_000))
                .imagineSettings(
                    new ImagineService.Settings(1000, 0, List.of(Duration.ofMillis(50))));
    return bots.isEmpty() ? cores.start(options) : cores.startBeside(options);
  }

  /**
   * An instance: its own core on the shared database and a bot that reaches the fake as {@code
   * host} (the fake records it, so each call says which instance made it).
   */
  private TelegramBot instance(String host, UnaryOperator<TelegramBot.Config> tweak) {
    FluxbotCore core = core();
    TelegramBot bot =
        new TelegramBot(
            tweak.apply(
                TelegramBot.Config.of(Secret.of(telegram.token()))
                    .withApiBaseUrl(URI.create("http://" + host + ":" + telegram.port()))
                    .withAlbumQuiet(Duration.ofMillis(300))
                    .withPollTimeoutSeconds(1)),
            core.chatServices(Duration.ofHours(1), sleeper, sleeper));
    bots.add(bot);
    bot.start();
    return bot;
  }

  private List<TelegramCall> answersTo(JsonNode message) {
    long id = message.path("message_id").asLong();
    return telegram.calls().stream()
        .filter(c -> c.is("sendPhoto") || c.is("sendMessage"))
        .filter(TelegramCall::ok)
        .filter(c -> c.json("reply_parameters").path("message_id").asLong() == id)
        .toList();
  }

  private List<TelegramCall> polls(String host) {
    return telegram.calls("getUpdates").stream()
        .filter(c -> c.host() != null && c.host().startsWith(host + ":"))
        .toList();
  }

  private List<String> lines(Level level, String containing) {
    return logs.list.stream()
        .filter(e -> e.getLevel() == level && e.getFormattedMessage().contains(containing))
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private void noStackTraces() {
    assertThat(logs.list)
        .as("no failure logged with a stack trace")
        .noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN) && e.getThrowableProxy() != null);
  }

  @Test
  void onePollsTheOtherStandsByAndTakesOverWhenTheFirstStops() throws Exception {
    cores.on(Database.Dialect.POSTGRESQL);
    TelegramBot first = instance("127.0.0.1", c -> c);
    TelegramBot second = instance("localhost", c -> c);
    assertThat(first.polling()).isTrue();
    assertThat(second.polling()).isFalse();

    JsonNode imagine = telegram.sendText(alice, "/imagine a lighthouse --seed 3");
    Await.until("the command is answered", TAKEOVER, () -> answersTo(imagine).size() >= 2);
    Thread.sleep(1500); // a second answer, if any, would come now
    assertThat(answersTo(imagine))
        .extracting(call -> call.method().toLowerCase(java.util.Locale.ROOT))
        .as("answered once: its status, then its photo")
        .containsExactly("sendmessage", "sendphoto");
    assertThat(bfl.submits()).hasSize(1);
    assertThat(polls("127.0.0.1")).isNotEmpty();
    assertThat(polls("localhost")).as("the standby makes no getUpdates call").isEmpty();
    assertThat(telegram.calls("getUpdates")).allMatch(TelegramCall::ok);
    assertThat(lines(Level.INFO, "another instance is polling Telegram; standing by")).hasSize(1);

    long stoppedAt = System.nanoTime();
    first.close();
    JsonNode help = telegram.sendText(alice, "/help");
    Await.until("the standby answers", TAKEOVER, () -> !answersTo(help).isEmpty());
    assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).isLessThan(TAKEOVER);
    assertThat(second.polling()).isTrue();
    assertThat(polls("localhost")).isNotEmpty();
    Thread.sleep(1500);
    assertThat(answersTo(help)).hasSize(1);
    assertThat(answersTo(imagine)).as("the first command is not run again").hasSize(2);
    assertThat(telegram.calls("getUpdates"))
        .as("never two polls at once")
        .allMatch(TelegramCall::ok);
    noStackTraces();
  }

  @Test
  void aLeaderWhoseLockConnectionDiesStopsPollingAndTheStandbyTakesOver() throws Exception {
    cores.on(Database.Dialect.POSTGRESQL);
    TelegramBot first = instance("127.0.0.1", c -> c);
    TelegramBot second = instance("localhost", c -> c);
    assertThat(first.polling()).isTrue();

    int killed =
        cores
            .database()
            .read(
                c -> {
                  try (PreparedStatement st =
                          c.prepareStatement(
                              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                  + " WHERE application_name = 'fluxbot leader lock'"
                                  + " AND datname = current_database()");
                      ResultSet rs = st.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                  }
                });
    assertThat(killed).as("the leader's lock connection").isEqualTo(1);

    Await.until("the standby polls", TAKEOVER, second::polling);
    Await.until("the old leader stopped polling", TAKEOVER, () -> !first.polling());
    JsonNode help = telegram.sendText(alice, "/help");
    Await.until("answered", TAKEOVER, () -> !answersTo(help).isEmpty());
    Thread.sleep(1500);
    assertThat(answersTo(help)).hasSize(1);
    assertThat(lines(Level.WARN, "lost the polling lock")).hasSize(1);
    assertThat(lines(Level.WARN, "409")).as("an overlap is one line at most").hasSizeLessThan(2);
    noStackTraces();
  }

  @Test
  void a409ConflictIsOneClearLineAndPollingGoesOnOnceItEnds() throws Exception {
    TelegramBot bot = instance("127.0.0.1", c -> c);
    assertThat(bot.polling()).as("SQLite: always the leader").isTrue();
    OkHttpClient http = new OkHttpClient();
    String api = telegram.baseUrl() + "/bot" + telegram.token();
    try (var set =
        http.newCall(
                new Request.Builder()
                    .url(api + "/setWebhook?url=http://127.0.0.1:9/elsewhere")
                    .build())
            .execute()) {
      assertThat(set.code()).isEqualTo(200); // another program sets a webhook
    }
    Await.until(
        "a poll refused",
        Duration.ofSeconds(20),
        () -> telegram.calls("getUpdates").stream().anyMatch(c -> c.status() == 409));
    Thread.sleep(Polls.CONFLICT_PAUSE.toMillis() * 2 + 500); // two more refused polls
    assertThat(telegram.calls("getUpdates").stream().filter(c -> c.status() == 409).count())
        .as("polls again every few seconds, not in a loop")
        .isBetween(2L, 5L);
    assertThat(lines(Level.WARN, "409"))
        .singleElement()
        .asString()
        .contains("while a webhook is set")
        .contains("deleteWebhook");
    try (var delete =
        http.newCall(new Request.Builder().url(api + "/deleteWebhook").build()).execute()) {
      assertThat(delete.code()).isEqualTo(200);
    }
    JsonNode help = telegram.sendText(alice, "/help");
    Await.until("answered again", Duration.ofSeconds(20), () -> !answersTo(help).isEmpty());
    assertThat(lines(Level.INFO, "getUpdates works again")).hasSize(1);
    noStackTraces();
  }

  @Test
  void anAlbumWhoseItemsReachTwoInstancesBehindALoadBalancerRunsOnce() throws Exception {
    cores.on(Database.Dialect.POSTGRESQL);
    try (LoadBalancer lb = LoadBalancer.start()) {
      UnaryOperator<TelegramBot.Config> hook =
          c ->
              c.withWebhook(
                  new TelegramBot.Webhook(
                      URI.create(lb.url() + "/telegram"),
                      new InetSocketAddress("127.0.0.1", 0),
                      "/telegram",
                      Secret.of("hook_secret-16")));
      TelegramBot first = instance("127.0.0.1", hook);
      TelegramBot second = instance("127.0.0.1", hook);
      for (TelegramBot b : List.of(first, second)) {
        lb.addTarget(URI.create("http://127.0.0.1:" + b.webhookAddress().orElseThrow().getPort()));
      }
      byte[] a = TestImages.noisePng(64, 48, 1);
      byte[] b = TestImages.noisePng(48, 64, 2);
      byte[] c = TestImages.noisePng(56, 56, 3);

      List<JsonNode> album =
          telegram.sendPhotos(alice, "/imagine blend these --ar 1:1", 1, List.of(a, b, c));
      JsonNode captioned = album.get(1);
      Await.until("the album is answered", TAKEOVER, () -> answersTo(captioned).size() >= 2);
      Thread.sleep(1500);

      assertThat(lb.routed()).as("its items reached both instances").contains(0, 1);
      assertThat(answersTo(captioned))
          .extracting(call -> call.method().toLowerCase(java.util.Locale.ROOT))
          .containsExactly("sendmessage", "sendphoto");
      assertThat(bfl.submits()).as("one job").hasSize(1);
      JsonNode submit = bfl.submits().get(0).body();
      assertThat(Base64.getDecoder().decode(submit.path("input_image").asText())).isEqualTo(a);
      assertThat(Base64.getDecoder().decode(submit.path("input_image_2").asText())).isEqualTo(b);
      assertThat(Base64.getDecoder().decode(submit.path("input_image_3").asText())).isEqualTo(c);
      assertThat(telegram.calls("getUpdates")).isEmpty();

      JsonNode reply =
          telegram.replyText(
              alice, album.get(0).path("message_id").asLong(), "/imagine the same, at night");
      Await.until("the reply is answered", TAKEOVER, () -> answersTo(reply).size() >= 2);
      assertThat(bfl.submits()).hasSize(2);
      assertThat(bfl.submits().get(1).body().path("input_image_3").isMissingNode())
          .as("a reply to one item uses the whole album, whichever instance it reaches")
          .isFalse();
      noStackTraces();
    }
  }
}
