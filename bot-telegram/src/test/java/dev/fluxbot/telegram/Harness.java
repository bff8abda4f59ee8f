package dev.fluxbot.telegram;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;

/**
 * One running bot as {@code fluxbot run} wires it: the core on the test's database with the BFL
 * backend pointed at the fake BFL API, and the Telegram adapter pointed at the fake Bot API.
 * Closing it and opening another on the same extension is a restart.
 */
final class Harness implements AutoCloseable {
  /** The fake serves its files on loopback, which a real bot refuses to fetch references from. */
  private static final AddressPolicy FAKES_ON_LOOPBACK =
      AddressPolicy.permitting("test", List.of("127.0.0.0/8"));

  static final Set<Long> ADMINS = Set.of(4242L);

  /**
   * The bot's time for Telegram's pace: records every wait the bot asks for (the pace, a 429's
   * retry_after) and, instead of sleeping, moves its clock to the wait's end (not past a later end
   * another wait already reached). Give the same clock to the fake Telegram, and its pace sees
   * exactly the gaps the bot kept.
   */
  static final class RecordingSleeper implements Sleeper, InstantSource {
    final List<Duration> waits = new CopyOnWriteArrayList<>();
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());

    @Override
    public void sleep(Duration duration) {
      waits.add(duration);
      Instant end = now.get().plus(duration);
      now.accumulateAndGet(end, (a, b) -> a.isAfter(b) ? a : b);
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  }

  private final FluxbotCoreExtension cores;
  final FluxbotCore core;
  final QuotaService quota;
  final JobStore jobs;
  final ImagineService imagine;
  final TelegramBot bot;

  Harness(
      FluxbotCoreExtension cores,
      FakeTelegram telegram,
      FakeBflApi bfl,
      RecordingSleeper sleeper,
      QuotaService.Settings quotaSettings) {
    this(cores, telegram, bfl, sleeper, quotaSettings, c -> c);
  }

  /**
   * @param cores where the core runs; a core running there is stopped first (a restart)
   */
  Harness(
      FluxbotCoreExtension cores,
      FakeTelegram telegram,
      FakeBflApi bfl,
      RecordingSleeper sleeper,
      QuotaService.Settings quotaSettings,
      java.util.function.UnaryOperator<TelegramBot.Config> tweak) {
    this.cores = cores;
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
    core =
        cores.start(
            b ->
                b.backends(backend)
                    .referenceHttp(http)
                    .referenceAddresses(FAKES_ON_LOOPBACK)
                    .quotaSettings(quotaSettings)
                    .schedulerSettings(new JobScheduler.Settings(4, Map.of(), 1_000))
                    .imagineSettings(
                        new ImagineService.Settings(1000, 0, List.of(Duration.ofMillis(50)))));
    quota = core.quota();
    jobs = core.jobs();
    imagine = core.imagine();
    bot =
        new TelegramBot(
            tweak.apply(
                TelegramBot.Config.of(Secret.of(telegram.token()))
                    .withApiBaseUrl(URI.create(telegram.baseUrl()))
                    .withAdmins(ADMINS)
                    .withAlbumQuiet(Duration.ofMillis(300))
                    .withPollTimeoutSeconds(1)),
            core.chatServices(Duration.ofHours(1), sleeper, sleeper));
    bot.start();
  }

  /** A user as the bot sees them in a private chat with it. */
  static dev.fluxbot.core.Requester requester(long userId) {
    return new dev.fluxbot.core.Requester(
        "telegram", Long.toString(userId), "user" + userId, null, Set.of(), false);
  }

  Harness(
      FluxbotCoreExtension cores, FakeTelegram telegram, FakeBflApi bfl, RecordingSleeper sleeper) {
    this(cores, telegram, bfl, sleeper, QuotaService.Settings.defaults());
  }

  /** The bot, then the core as the process stops: running jobs finish, the database closes. */
  @Override
  public void close() {
    bot.close();
    cores.stop();
  }
}
