package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendRouter;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.chat.ChatState;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.filter.FilterMatcher;
import dev.fluxbot.core.filter.FilterRule;
import dev.fluxbot.core.filter.FilterStore;
import dev.fluxbot.core.filter.PromptFilters;
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
import dev.fluxbot.core.store.JobLeases;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.Owner;
import dev.fluxbot.core.store.SettingsStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import okhttp3.OkHttpClient;

/**
 * The core's parts on one database, wired in one place: the imagine pipeline and the stores,
 * quotas, seed cache, image store and scheduler it runs on. {@code
 * FluxbotCore.builder(db).imagesIn(dir).backends(bfl).build()} gives a working core; every other
 * part has a default.
 *
 * <p>{@link #close} closes what the core opened: its scheduler, and the image store where the
 * builder opened it ({@link Builder#imagesIn}). The database, a store given with {@link
 * Builder#images} and the executors stay the caller's; the default executors start a virtual thread
 * per task and hold no thread while idle, so they need no closing.
 */
public final class FluxbotCore implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FluxbotCore.class);
  private final Database database;
  private final ModelCatalog catalog;
  private final InstantSource clock;
  private final JobStore jobs;
  private final QuotaService quota;
  private final SettingsStore settings;
  private final ImageStore images;
  private final boolean ownsImages;
  private final SeedCache seedCache;
  private final JobScheduler scheduler;
  private final JobLeases leases;
  private final ImagineService imagine;
  private final java.util.concurrent.ScheduledExecutorService heartbeat;
  private final MeterRegistry meters;
  private final CoreMeters coreMeters;
  private final PromptFilters filters;

  private FluxbotCore(Builder b, ImageStore images, boolean ownsImages) {
    this.database = b.database;
    this.catalog = b.catalog;
    this.clock = b.clock;
    this.images = images;
    this.ownsImages = ownsImages;
    this.jobs = new JobStore(database, catalog, clock, b.owner);
    this.leases = new JobLeases(jobs, database, clock);
    this.quota = new QuotaService(database, b.quotaSettings, clock);
    this.settings = new SettingsStore(database, clock);
    this.seedCache =
        new SeedCache(database, images, b.seedCacheSettings, clock, b.seedCacheHitWriter);
    this.filters =
        new PromptFilters(new FilterStore(database, clock), b.filters, new FilterMatcher());
    this.scheduler =
        new JobScheduler(
            b.executor != null ? b.executor : Executors.newVirtualThreadPerTaskExecutor(),
            b.schedulerSettings);
    this.imagine =
        new ImagineService(
            new ImagineService.Parts(
                new CommandParser(catalog, b.parserSettings),
                new ReferenceLoader(
                    b.referenceHttp != null ? b.referenceHttp : new OkHttpClient(),
                    b.referenceLimits,
                    b.referenceAddresses),
                new BackendRouter(b.backends),
                SeedHistory.inDatabase(database, clock),
                jobs,
                quota,
                seedCache,
                images,
                scheduler,
                leases,
                filters),
            b.imagineSettings,
            clock,
            b.random != null ? b.random : new SecureRandom(),
            b.meters,
            new PromptEnhancing(
                b.enhance.check() == dev.fluxbot.core.enhance.PromptCheck.NONE
                    ? b.enhance.withCheck(filters::check) // the word filters, before and after
                    : b.enhance,
                new dev.fluxbot.core.store.EnhanceStore(database, clock),
                settings,
                b.parserSettings.maxPromptLength()));
    this.meters = b.meters;
    this.coreMeters =
        new CoreMeters(meters, scheduler, seedCache, quota, b.quotaSettings, b.backends);
    this.heartbeat = startHeartbeat(leases);
  }

  /**
   * Renews the leases of this instance's jobs a few times per lease, on a daemon thread, so that
   * they stay this instance's while it lives and another instance takes them over soon after it
   * dies.
   */
  private static java.util.concurrent.ScheduledExecutorService startHeartbeat(JobLeases leases) {
    var timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("fluxbot-heartbeat").unstarted(r));
    long every = Math.max(1, leases.owner().lease().toMillis() / 3);
    java.util.concurrent.atomic.AtomicBoolean failing =
        new java.util.concurrent.atomic.AtomicBoolean();
    timer.scheduleWithFixedDelay(
        () -> {
          try {
            leases.heartbeat();
            if (failing.getAndSet(false)) {
              log.info("heartbeat: the database answers again; this instance's leases are renewed");
            }
          } catch (RuntimeException e) {
            if (!failing.getAndSet(true)) {
              log.warn(
                  "heartbeat: cannot renew this instance's job leases ({}); another instance takes"
                      + " its jobs over if this lasts past the lease",
                  e.getMessage());
            }
          }
        },
        every,
        every,
        java.util.concurrent.TimeUnit.MILLISECONDS);
    return timer;
  }

  /**
   * A builder for a core on {@code database}; it needs only where images go ({@link
   * Builder#imagesIn} or {@link Builder#images}).
   */
  public static Builder builder(Database database) {
    return new Builder(Objects.requireNonNull(database, "database"));
  }

  public Database database() {
    return database;
  }

  public ModelCatalog catalog() {
    return catalog;
  }

  /** The clock every part was given. */
  public InstantSource clock() {
    return clock;
  }

  public ImagineService imagine() {
    return imagine;
  }

  public QuotaService quota() {
    return quota;
  }

  public JobStore jobs() {
    return jobs;
  }

  public SettingsStore settings() {
    return settings;
  }

  public ImageStore images() {
    return images;
  }

  public SeedCache seedCache() {
    return seedCache;
  }

  public JobScheduler scheduler() {
    return scheduler;
  }

  /**
   * Where the core's meters are (docs/operations-metrics.md); a no-op registry unless the builder
   * was given one ({@link Builder#meters}).
   */
  public MeterRegistry meters() {
    return meters;
  }

  /** The word filters every prompt passes before any credit is held. */
  public PromptFilters filters() {
    return filters;
  }

  /** The leases of this instance's jobs; see {@link JobLeases}. */
  public JobLeases leases() {
    return leases;
  }

  /**
   * The parts as every chat platform takes them, on this core's clock.
   *
   * @param deliveriesKept how long a delivery is remembered, so an event the platform resends
   *     within it runs once
   * @param sleeper what the platform waits out its pace and its 429s with
   */
  public ChatServices chatServices(Duration deliveriesKept, Sleeper sleeper) {
    return chatServices(deliveriesKept, clock, sleeper);
  }

  /**
   * The parts as every chat platform takes them, with the platform's own clock (a test's, shared
   * with a fake platform) for its deliveries, interactions and forms.
   */
  public ChatServices chatServices(Duration deliveriesKept, InstantSource clock, Sleeper sleeper) {
    return new ChatServices(
        imagine,
        quota,
        jobs,
        settings,
        images,
        catalog,
        new DeliveryLog(database, clock, deliveriesKept),
        scheduler::queued,
        clock,
        sleeper,
        new ChatState(database, clock));
  }

  /**
   * Takes no new jobs and lets the running ones finish, up to {@code grace}; queued ones stay
   * QUEUED in the database for the next start.
   *
   * @return the ids of the jobs that never started
   */
  public List<String> shutdown(Duration grace) throws InterruptedException {
    List<String> neverStarted = scheduler.shutdown(grace);
    for (String id : neverStarted) {
      try {
        leases.release(id); // another instance may start it at once
      } catch (RuntimeException e) {
        log.warn(
            "job {}: could not hand it back ({}); it is taken over when its lease ends",
            id,
            e.getMessage());
      }
    }
    return neverStarted;
  }

  /**
   * Stops the scheduler without waiting (see {@link #shutdown} for a grace period) and closes the
   * image store if the builder opened it.
   */
  @Override
  public void close() {
    heartbeat.shutdownNow();
    coreMeters.close();
    scheduler.close();
    if (ownsImages) {
      images.close();
    }
  }

  @Override
  public String toString() {
    return "FluxbotCore[" + database + ", " + images + "]";
  }

  /**
   * Says how to build a core. Immutable: each setter returns a new builder and leaves this one as
   * it was, so one builder can build the same core again (a restart).
   */
  public static final class Builder implements Cloneable {
    private final Database database;
    private ModelCatalog catalog = ModelCatalog.builtIn();
    private CommandParser.Settings parserSettings = CommandParser.Settings.defaults();
    private List<ImageBackend> backends = List.of();
    private ImageStore images;
    private Path imagesFolder;
    private QuotaService.Settings quotaSettings = QuotaService.Settings.defaults();
    private JobScheduler.Settings schedulerSettings = JobScheduler.Settings.defaults();
    private SeedCache.Settings seedCacheSettings = SeedCache.Settings.defaults();
    private ImagineService.Settings imagineSettings = ImagineService.Settings.defaults();
    private InstantSource clock = InstantSource.system();
    private Owner owner = Owner.local();
    private RandomGenerator random;
    private Executor executor;
    private Executor seedCacheHitWriter = Runnable::run;
    private OkHttpClient referenceHttp;
    private ReferenceLoader.Limits referenceLimits = ReferenceLoader.Limits.defaults();
    private AddressPolicy referenceAddresses = AddressPolicy.publicOnly();
    private MeterRegistry meters = new CompositeMeterRegistry(); // records nothing
    private List<FilterRule> filters = List.of();
    private dev.fluxbot.core.enhance.EnhanceOptions enhance =
        dev.fluxbot.core.enhance.EnhanceOptions.OFF;

    private Builder(Database database) {
      this.database = database;
    }

    /** The models and their prices; default {@link ModelCatalog#builtIn()}. */
    public Builder catalog(ModelCatalog catalog) {
      Objects.requireNonNull(catalog, "catalog");
      return with(b -> b.catalog = catalog);
    }

    /** The grammar's defaults and limits; default {@link CommandParser.Settings#defaults()}. */
    public Builder parserSettings(CommandParser.Settings settings) {
      Objects.requireNonNull(settings, "settings");
      return with(b -> b.parserSettings = settings);
    }

    /** Where jobs run, the first that serves a request taking it; default none. */
    public Builder backends(List<? extends ImageBackend> backends) {
      List<ImageBackend> copy = List.copyOf(backends);
      return with(b -> b.backends = copy);
    }

    /** Where jobs run, the first that serves a request taking it; default none. */
    public Builder backends(ImageBackend... backends) {
      return backends(List.of(backends));
    }

    /**
     * The production image store in {@code folder}, opened by {@link #build} and closed by {@link
     * FluxbotCore#close}. Replaces {@link #images}.
     */
    public Builder imagesIn(Path folder) {
      Objects.requireNonNull(folder, "folder");
      return with(
          b -> {
            b.imagesFolder = folder;
            b.images = null;
          });
    }

    /** An image store the caller opened and closes. Replaces {@link #imagesIn}. */
    public Builder images(ImageStore images) {
      Objects.requireNonNull(images, "images");
      return with(
          b -> {
            b.images = images;
            b.imagesFolder = null;
          });
    }

    /** Credits, periods and caps; default {@link QuotaService.Settings#defaults()}. */
    public Builder quotaSettings(QuotaService.Settings settings) {
      Objects.requireNonNull(settings, "settings");
      return with(b -> b.quotaSettings = settings);
    }

    /** The per-user and per-backend caps; default {@link JobScheduler.Settings#defaults()}. */
    public Builder schedulerSettings(JobScheduler.Settings settings) {
      Objects.requireNonNull(settings, "settings");
      return with(b -> b.schedulerSettings = settings);
    }

    /** The seed cache's bounds; default {@link SeedCache.Settings#defaults()}. */
    public Builder seedCacheSettings(SeedCache.Settings settings) {
      Objects.requireNonNull(settings, "settings");
      return with(b -> b.seedCacheSettings = settings);
    }

    /** Prices that are not BFL's, delivery retries; default {@link ImagineService.Settings}'s. */
    public Builder imagineSettings(ImagineService.Settings settings) {
      Objects.requireNonNull(settings, "settings");
      return with(b -> b.imagineSettings = settings);
    }

    /**
     * The instance this core acts for: it owns the jobs it creates, under a lease its heartbeat
     * renews; default {@link Owner#local()}. Each bot instance on a shared database needs its own.
     */
    public Builder owner(Owner owner) {
      Objects.requireNonNull(owner, "owner");
      return with(b -> b.owner = owner);
    }

    /** The time every part reads; default {@link InstantSource#system()}. */
    public Builder clock(InstantSource clock) {
      Objects.requireNonNull(clock, "clock");
      return with(b -> b.clock = clock);
    }

    /**
     * Draws seeds and job ids; default a new {@link SecureRandom} for each core. A seeded one makes
     * a test's ids repeatable.
     */
    public Builder random(RandomGenerator random) {
      Objects.requireNonNull(random, "random");
      return with(b -> b.random = random);
    }

    /** Runs the jobs; default a new virtual thread for each. */
    public Builder executor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      return with(b -> b.executor = executor);
    }

    /**
     * Writes the seed cache's hits to its index off the caller's thread; default {@code
     * Runnable::run}, which writes each hit before the lookup returns.
     */
    public Builder seedCacheHitWriter(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      return with(b -> b.seedCacheHitWriter = executor);
    }

    /**
     * The client reference images are fetched with (the loader derives its own from it); default a
     * new {@link OkHttpClient} for each core.
     */
    public Builder referenceHttp(OkHttpClient http) {
      Objects.requireNonNull(http, "http");
      return with(b -> b.referenceHttp = http);
    }

    /** Sizes, redirects and timeouts of references; default {@link ReferenceLoader.Limits}'s. */
    public Builder referenceLimits(ReferenceLoader.Limits limits) {
      Objects.requireNonNull(limits, "limits");
      return with(b -> b.referenceLimits = limits);
    }

    /** Where references may come from; default {@link AddressPolicy#publicOnly()}. */
    public Builder referenceAddresses(AddressPolicy addresses) {
      Objects.requireNonNull(addresses, "addresses");
      return with(b -> b.referenceAddresses = addresses);
    }

    /** {@code --enhance}: the enhancer, its defaults and the prompt check; default off. */
    public Builder enhance(dev.fluxbot.core.enhance.EnhanceOptions options) {
      Objects.requireNonNull(options, "options");
      return with(b -> b.enhance = options);
    }

    /**
     * Where the core counts and times its jobs, its queue, its seed cache, its BFL spending and
     * (each backend that is a {@code MeterBinder}) its backends' calls; default a registry that
     * records nothing. The app gives its Prometheus registry.
     */
    public Builder meters(MeterRegistry meters) {
      Objects.requireNonNull(meters, "meters");
      return with(b -> b.meters = meters);
    }

    /**
     * Makes the parts; opens the image store where {@link #imagesIn} names its folder.
     *
     * @throws IllegalStateException when neither {@link #imagesIn} nor {@link #images} was set
     */
    /**
     * The installation's word filters from the config ({@code filters:}), checked with {@link
     * dev.fluxbot.core.filter.FilterMatcher#compile}; the admins' are in the database.
     */
    public Builder filters(List<FilterRule> filters) {
      List<FilterRule> copy = List.copyOf(filters);
      return with(b -> b.filters = copy);
    }

    public FluxbotCore build() {
      if (images != null) {
        return new FluxbotCore(this, images, false);
      }
      if (imagesFolder == null) {
        throw new IllegalStateException(
            "no image store: set imagesIn(folder) or images(store) before build()");
      }
      ImageStore opened = ImageStore.onDisk(imagesFolder);
      try {
        return new FluxbotCore(this, opened, true);
      } catch (RuntimeException e) {
        opened.close();
        throw e;
      }
    }

    private Builder with(Consumer<Builder> change) {
      try {
        Builder copy = (Builder) clone();
        change.accept(copy);
        return copy;
      } catch (CloneNotSupportedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
