package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivered marks are written behind the delivering thread, in groups, and none is lost. */
class JobStoreDeliveredMarksTest {
  private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));
  private final Requester alice = new Requester("discord", "alice", "Alice", "guild1", java.util.Set.of(), false);
  private final Queue<Runnable> writes = new ArrayDeque<>();

  @TempDir
  Path dir;

  private Database db;

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
  }

  @AfterEach
  void close() {
    db.close();
  }

  private List<String> finishedJobs(JobStore jobs, int count) {
    GenerationRequest request = new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults())
        .parse("a fox --seed 7", Map.of(), 0);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = String.format("01JOB%021d", i);
      jobs.create(JobStore.Job.queued(id, alice, "a fox", request, List.of(), "{\"kind\":\"test\"}", null, 1000, null,
          null, CLOCK.instant()));
      jobs.succeed(id, 1000, "ab".repeat(32), ImageType.PNG, 64, 64, false);
      ids.add(id);
    }
    return ids;
  }

  private List<String> undelivered(JobStore jobs) {
    return jobs.undelivered(20).stream().map(JobStore.Job::id).toList();
  }

  @Test
  void aMarkIsWrittenByTheWriterNotTheDeliveringThread() {
    JobStore jobs = new JobStore(db, ModelCatalog.builtIn(), CLOCK, writes::add);
    List<String> ids = finishedJobs(jobs, 3);
    jobs.markDelivered(ids.get(0));
    jobs.markDelivered(ids.get(1));
    assertThat(writes).as("one write scheduled for both marks").hasSize(1);
    assertThat(new JobStore(db, ModelCatalog.builtIn(), CLOCK).undelivered(20)).as("not written yet").hasSize(3);

    writes.poll().run();
    assertThat(undelivered(jobs)).containsExactly(ids.get(2));

    jobs.markDelivered(ids.get(2));
    assertThat(writes).as("a new group, a new write").hasSize(1);
  }

  @Test
  void undeliveredAndFlushSeeEveryMarkMadeBeforeThem() {
    JobStore jobs = new JobStore(db, ModelCatalog.builtIn(), CLOCK, writes::add);
    List<String> ids = finishedJobs(jobs, 2);
    jobs.markDelivered(ids.get(0));
    assertThat(undelivered(jobs)).containsExactly(ids.get(1));
    jobs.markDelivered(ids.get(1));
    jobs.flushDeliveries();
    assertThat(new JobStore(db, ModelCatalog.builtIn(), CLOCK).undelivered(20)).isEmpty();
    writes.forEach(Runnable::run); // the scheduled writes find nothing left to do
    assertThat(undelivered(jobs)).isEmpty();
  }

  @Test
  void marksFromManyThreadsAllLand() throws Exception {
    JobStore jobs = new JobStore(db, ModelCatalog.builtIn(), CLOCK);
    List<String> ids = finishedJobs(jobs, 200);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int first = t * 25;
        done.add(threads.submit(() -> ids.subList(first, first + 25).forEach(jobs::markDelivered)));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    assertThat(undelivered(jobs)).isEmpty();
  }

  @Test
  void closingTheDatabaseWritesTheMarksStillPending() {
    JobStore jobs = new JobStore(db, ModelCatalog.builtIn(), CLOCK, writes::add);
    List<String> ids = finishedJobs(jobs, 2);
    jobs.markDelivered(ids.get(0));
    jobs.markDelivered(ids.get(1));
    db.close();

    db = Database.sqlite(dir.resolve("fluxbot.db"));
    assertThat(undelivered(new JobStore(db, ModelCatalog.builtIn(), CLOCK))).as("nothing delivered twice after a restart")
        .isEmpty();
  }
}
