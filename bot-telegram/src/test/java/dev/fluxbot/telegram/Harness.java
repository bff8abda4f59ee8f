package dev.fluxbot.telegram;

import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.backend.BackendRouter;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.image.ReferenceLoader;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.seedcache.SeedHistory;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.DeliveryLog;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.SettingsStore;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;

/**
 * One running bot as {@code fluxbot run} wires it: the core on SQLite in {@code dir} with the BFL
 * backend pointed at the fake BFL API, and the Telegram adapter pointed at the fake Bot API.
 * Closing it and opening another on the same folder is a restart.
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

  final Database db;
  final JobScheduler scheduler;
  final QuotaService quota;
  final JobStore jobs;
  final ImagineService imagine;
  final TelegramBot bot;

  Harness(
      Path dir,
      FakeTelegram telegram,
      FakeBflApi bfl,
      RecordingSleeper sleeper,
      QuotaService.Settings quotaSettings) {
    this(dir, telegram, bfl, sleeper, quotaSettings, c -> c);
  }

  Harness(
      Path dir,
      FakeTelegram telegram,
      FakeBflApi bfl,
      RecordingSleeper sleeper,
      QuotaService.Settings quotaSettings,
      java.util.function.UnaryOperator<TelegramBot.Config> tweak) {
    InstantSource clock = InstantSource.system();
    ModelCatalog catalog = ModelCatalog.builtIn();
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    OkHttpClient http = new OkHttpClient();
    BflBackend backend =
        new BflBackend(
            BflConfig.defaults(Secret.of(bfl.key()))
                .withBaseUrl(URI.create(bfl.baseUrl()))
                .withPolling(Duration.ofMillis(20), Duration.ofMillis(100)),
            http,
            clock,
            Sleeper.SYSTEM,
            new SecureRandom());
    scheduler =
        new JobScheduler(
            Executors.newVirtualThreadPerTaskExecutor(),
            new JobScheduler.Settings(4, Map.of(), 1_000));
    ImageStore images = ImageStore.onDisk(dir.resolve("images"));
    jobs = new JobStore(db, catalog, clock);
    quota = new QuotaService(db, quotaSettings, clock);
    SettingsStore settings = new SettingsStore(db, clock);
    imagine =
        new ImagineService(
            new ImagineService.Parts(
                new CommandParser(catalog, CommandParser.Settings.defaults()),
                new ReferenceLoader(http, ReferenceLoader.Limits.defaults(), FAKES_ON_LOOPBACK),
                new BackendRouter(List.of(backend)),
                SeedHistory.inDatabase(db, clock),
                jobs,
                quota,
                new SeedCache(db, images, SeedCache.Settings.defaults(), clock),
                images,
                scheduler),
            new ImagineService.Settings(1000, 0, List.of(Duration.ofMillis(50))),
            clock,
            new SecureRandom());
    bot =
        new TelegramBot(
            tweak.apply(
                TelegramBot.Config.of(Secret.of(telegram.token()))
                    .withApiBaseUrl(URI.create(telegram.baseUrl()))
                    .withAdmins(ADMINS)
                    .withAlbumQuiet(Duration.ofMillis(300))
                    .withPollTimeoutSeconds(1)),
            new ChatServices(
                imagine,
                quota,
                jobs,
                settings,
                images,
                catalog,
                new DeliveryLog(db, sleeper, Duration.ofHours(1)),
                scheduler::queued,
                sleeper,
                sleeper));
    bot.start();
  }

  /** A user as the bot sees them in a private chat with it. */
  static dev.fluxbot.core.Requester requester(long userId) {
    return new dev.fluxbot.core.Requester(
        "telegram", Long.toString(userId), "user" + userId, null, Set.of(), false);
  }

  Harness(Path dir, FakeTelegram telegram, FakeBflApi bfl, RecordingSleeper sleeper) {
    this(dir, telegram, bfl, sleeper, QuotaService.Settings.defaults());
  }

  @Override
  public void close() throws InterruptedException {
    bot.close();
    scheduler.shutdown(Duration.ofSeconds(10));
    db.close();
  }
}
