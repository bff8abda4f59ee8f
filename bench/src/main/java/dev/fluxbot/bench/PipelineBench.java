package dev.fluxbot.bench;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole imagine pipeline on SQLite, wired as {@code app}'s Wiring does (real parser, job store,
 * quota ledger, seed cache, disk image store, fair scheduler on virtual threads), with an {@link
 * InstantBackend}, so the time measured is what the pipeline adds to a job. Every command has
 * {@code --no-cache} and a fresh random seed, so every job really runs (and is then stored in the
 * seed cache, as any job is). Each submitting thread is its own user, so no per-user cap bites.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class PipelineBench {
  /** The service, wired as the app wires it, on a new SQLite database. */
  @State(Scope.Benchmark)
  public static class Pipeline {
    /**
     * {@code unique}: every job's image is new (a file per job, forced to disk); {@code shared}:
     * the same bytes every time.
     */
    @Param({"unique", "shared"})
    public String images;

    private Path dir;
    private Database database;
    private FluxbotCore core;
    private ExecutorService executor;
    ImagineService service;

    @Setup(Level.Trial)
    public void open() {
      dir = Fixtures.tempDir("pipeline");
      database = Fixtures.open("sqlite", dir);
      executor = Executors.newVirtualThreadPerTaskExecutor();
      core =
          FluxbotCore.builder(database)
              .imagesIn(dir.resolve("images"))
              .executor(executor)
              .backends(new InstantBackend(images.equals("unique")))
              .quotaSettings(
                  new QuotaService.Settings(
                      ZoneOffset.UTC, QuotaService.Period.DAY, Long.MAX_VALUE / 4, 2, null))
              .build();
      service = core.imagine();
    }

    @TearDown(Level.Trial)
    public void close() {
      core.close();
      executor.close();
      database.close();
      Fixtures.deleteTree(dir);
    }
  }

  /** The floor's own database. */
  @State(Scope.Benchmark)
  public static class Floor {
    private Path dir;
    Database database;

    @Setup(Level.Trial)
    public void open() {
      dir = Fixtures.tempDir("floor");
      database = Fixtures.open("sqlite", dir);
      Fixtures.createFloorTable(database);
    }

    @TearDown(Level.Trial)
    public void close() {
      database.close();
      Fixtures.deleteTree(dir);
    }
  }

  /** One submitting thread's user and command. */
  @State(Scope.Thread)
  public static class User {
    private static final AtomicInteger USERS = new AtomicInteger();

    ImagineCommand command;

    @Setup(Level.Trial)
    public void create() {
      String id = "user" + USERS.incrementAndGet();
      Requester who = new Requester("discord", id, id, "guild1", Set.of(), false);
      command = new ImagineCommand(who, "a red fox in the snow --no-cache", Map.of(), List.of());
    }
  }

  /** Latency of one job, start to image, with one submitting thread. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @Threads(1)
  public ImageReply imagineOne(Pipeline pipeline, User user) {
    return pipeline.service.imagine(user.command, ChatReply.silent(), "{\"kind\":\"bench\"}");
  }

  /**
   * The same job through the asynchronous {@code submit}, the queued path (in the app: a job that
   * had to wait, or one resumed after a restart): the job runs on a scheduler thread and this
   * thread waits for its future, so two thread hand-offs and one commit more than {@link
   * #imagineOne}, where the job runs on the calling thread.
   */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @Threads(1)
  public ImageReply submitOne(Pipeline pipeline, User user) {
    return pipeline.service.submit(user.command, ChatReply.silent(), "{\"kind\":\"bench\"}").join();
  }

  /** Jobs per second with four submitting threads (two per core here). */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(4)
  public ImageReply imagineFourThreads(Pipeline pipeline, User user) {
    return pipeline.service.imagine(user.command, ChatReply.silent(), "{\"kind\":\"bench\"}");
  }

  /**
   * The floor, single-threaded: one single-row write transaction, same settings, its own database.
   */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @Threads(1)
  public void insertOneRow(Floor floor) {
    Fixtures.insertOneRow(floor.database);
  }

  /** The floor's throughput with the same four threads. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(4)
  public void insertOneRowFourThreads(Floor floor) {
    Fixtures.insertOneRow(floor.database);
  }
}
