package dev.fluxbot.bench;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.seedcache.SeedHistory;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The steps one {@code imagine} runs on SQLite, each on its own, to say where the pipeline's time
 * goes (PipelineBench times them together). In pipeline order: the ban check, the credits (see
 * QuotaBench), the job row's three writes, the image file, the seed-cache entry, the last seed, and
 * the scheduler's hand-off to a virtual thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class PipelineStepsBench {
  private final Requester alice =
      new Requester("discord", "alice", "Alice", "guild1", Set.of(), false);
  private final AtomicLong seeds = new AtomicLong();
  private final JobScheduler.Listener quiet = JobScheduler.Listener.NONE;

  private Path dir;
  private Database database;
  private QuotaService quota;
  private JobStore jobs;
  private ImageStore store;
  private SeedCache cache;
  private SeedHistory history;
  private ExecutorService executor;
  private JobScheduler scheduler;
  private GenerationRequest request;
  private byte[] image;

  @Setup(Level.Trial)
  public void open() {
    dir = Fixtures.tempDir("steps");
    database = Fixtures.open("sqlite", dir);
    InstantSource clock = InstantSource.system();
    ModelCatalog catalog = ModelCatalog.builtIn();
    quota = new QuotaService(database, QuotaService.Settings.defaults(), clock);
    jobs = new JobStore(database, catalog, clock);
    store = ImageStore.onDisk(dir.resolve("images"));
    cache = new SeedCache(database, store, SeedCache.Settings.defaults(), clock);
    history = SeedHistory.inDatabase(database, clock);
    executor = Executors.newVirtualThreadPerTaskExecutor();
    scheduler = new JobScheduler(executor, JobScheduler.Settings.defaults());
    request =
        new CommandParser(catalog, CommandParser.Settings.defaults())
            .parse("a red fox in the snow --no-cache", Map.of(), 0)
            .withSeed(7)
            .withSize(new ImageSize(1024, 1024));
    image = new byte[InstantBackend.IMAGE_BYTES];
    new SplittableRandom(42).nextBytes(image);
  }

  @TearDown(Level.Trial)
  public void close() {
    scheduler.close();
    executor.close();
    database.close();
    Fixtures.deleteTree(dir);
  }

  private byte[] newImage() {
    byte[] bytes = image.clone();
    ByteBuffer.wrap(bytes).putLong(bytes.length - Long.BYTES, seeds.incrementAndGet());
    return bytes;
  }

  /** {@code reserve(…, 0)}: the early ban check, one read. */
  @Benchmark
  public boolean banCheck() {
    return quota.isBanned(alice);
  }

  /** The job row: insert (QUEUED), mark RUNNING, mark SUCCEEDED; three write transactions. */
  @Benchmark
  public void jobRow() {
    String id = Fixtures.jobId();
    jobs.create(
        JobStore.Job.queued(
            id,
            alice,
            request.prompt(),
            request,
            List.of(),
            "{}",
            null,
            1_000,
            null,
            null,
            Instant.now()));
    jobs.markRunning(id, "instant");
    jobs.succeed(id, 1_000, "0".repeat(64), ImageType.JPEG, 1024, 1024, false);
  }

  /** A new 16 KB image into the store: written to a temporary file, forced to disk, renamed. */
  @Benchmark
  public String storeNewImage() {
    return store.put(newImage());
  }

  /** The same image again: its SHA-256 and a stat, nothing written. */
  @Benchmark
  public String storeKnownImage() {
    return store.put(image);
  }

  /** A new seed-cache entry for an image already stored, as the pipeline puts every job's image. */
  @Benchmark
  public SeedCache.CachedImage cachePut() {
    String fingerprint =
        SeedCache.fingerprint(request.withSeed(seeds.incrementAndGet()), List.of());
    return cache.put(fingerprint, null, ImageType.JPEG, 1024, 1024, image);
  }

  /** {@code --seed last}'s row. */
  @Benchmark
  public void rememberSeed() {
    history.remember(alice, seeds.incrementAndGet());
  }

  /** The scheduler hands a no-op job to a virtual thread; the caller waits for it to end. */
  @Benchmark
  public void schedulerHandOff() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    scheduler.submit(
        Fixtures.jobId(), "discord:alice", "instant", () -> done.complete(null), quiet);
    done.join();
  }
}
