package dev.fluxbot.core.schedule;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.schedule.JobScheduler.Settings;
import dev.fluxbot.core.schedule.JobScheduler.Ticket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class JobSchedulerTest {
  private final ManualExecutor executor = new ManualExecutor();
  private final List<String> startOrder = new CopyOnWriteArrayList<>();
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private final Map<String, RecordingListener> listeners = new HashMap<>();
  private JobScheduler scheduler =
      new JobScheduler(executor, new Settings(1, Map.of("bfl", 1), 100));

  private Ticket submit(String id, String user, String backend) {
    return submit(id, user, backend, () -> ran.add(id));
  }

  private Ticket submit(String id, String user, String backend, Runnable task) {
    RecordingListener listener = new RecordingListener(() -> startOrder.add(id), () -> {});
    listeners.put(id, listener);
    return scheduler.submit(id, user, backend, task, listener);
  }

  private RecordingListener listener(String id) {
    return listeners.get(id);
  }

  @Test
  void roundRobinStartsOneJobPerUserInTurnAcrossUnevenQueues() {
    for (String id : List.of("a1", "a2", "a3", "a4", "b1", "b2", "c1")) {
      submit(id, id.substring(0, 1), "bfl");
    }
    assertThat(startOrder).containsExactly("a1");
    executor.runAll();
    assertThat(startOrder).containsExactly("a1", "a2", "b1", "c1", "a3", "b2", "a4");
    assertThat(ran).isEqualTo(startOrder);
    assertThat(scheduler.running()).isZero();
    assertThat(scheduler.queued()).isZero();
  }

  @Test
  void aUserNeverRunsMoreThanThePerUserCap() {
    scheduler = new JobScheduler(executor, new Settings(2, Map.of(), 100));
    for (int i = 1; i <= 5; i++) {
      submit("a" + i, "alice", "local");
    }
    assertThat(startOrder).containsExactly("a1", "a2");
    assertThat(scheduler.queued()).isEqualTo(3);

    Ticket bob = submit("b1", "bob", "local");
    assertThat(bob.initialPosition()).isZero();
    assertThat(scheduler.running()).isEqualTo(3);

    executor.runNext(); // a1 ends
    assertThat(startOrder).containsExactly("a1", "a2", "b1", "a3");
    assertThat(scheduler.running("local")).isEqualTo(3);
    assertThat(scheduler.queued()).isEqualTo(2);
  }

  @Test
  void aBackendCapOf24LetsTheRestWaitAndEachCompletionStartsOne() {
    scheduler = new JobScheduler(executor, Settings.defaults());
    for (int u = 1; u <= 30; u++) {
      submit("job" + u, "user" + u, "bfl");
    }
    assertThat(scheduler.running("bfl")).isEqualTo(24);
    assertThat(scheduler.queued()).isEqualTo(6);
    assertThat(scheduler.position("job25")).hasValue(1);
    assertThat(scheduler.position("job30")).hasValue(6);

    for (int done = 1; done <= 6; done++) {
      executor.runNext();
      assertThat(scheduler.running("bfl")).isEqualTo(24);
      assertThat(scheduler.queued()).isEqualTo(6 - done);
      assertThat(startOrder).hasSize(24 + done).last().isEqualTo("job" + (24 + done));
    }
    executor.runAll();
    assertThat(scheduler.running()).isZero();
    assertThat(ran).hasSize(30);
  }

  @Test
  void aBackendWithoutACapIsUnlimited() {
    scheduler = new JobScheduler(executor, Settings.defaults());
    for (int u = 1; u <= 40; u++) {
      submit("job" + u, "user" + u, "local-klein");
    }
    assertThat(scheduler.running("local-klein")).isEqualTo(40);
    assertThat(scheduler.running("bfl")).isZero();
  }

  @Test
  void aBlockedBackendDoesNotHoldBackAnotherUsersJobOnAFreeBackend() {
    submit("a1", "alice", "bfl");
    submit("b1", "bob", "bfl");
    Ticket carol = submit("c1", "carol", "local");
    assertThat(carol.initialPosition()).isZero();
    assertThat(startOrder).containsExactly("a1", "c1");
  }

  @Test
  void positionsAreReportedOnSubmitAndOnlyEverFall() {
    submit("a1", "alice", "bfl");
    assertThat(submit("a2", "alice", "bfl").initialPosition()).isEqualTo(1);
    assertThat(submit("a3", "alice", "bfl").initialPosition()).isEqualTo(2);
    assertThat(submit("a4", "alice", "bfl").initialPosition()).isEqualTo(3);

    // Bob joins the rotation ahead of alice's second round: a3 and a4 would move back, but a
    // position already promised is kept.
    assertThat(submit("b1", "bob", "bfl").initialPosition()).isEqualTo(2);
    assertThat(scheduler.position("a3")).hasValue(2);
    assertThat(scheduler.position("a4")).hasValue(3);

    executor.runAll();
    assertThat(startOrder).containsExactly("a1", "a2", "b1", "a3", "a4");
    assertThat(listener("a1").events()).containsExactly("started", "finished");
    assertThat(listener("a2").events()).containsExactly("queued 1", "started", "finished");
    assertThat(listener("a3").events())
        .containsExactly("queued 2", "queued 1", "started", "finished");
    assertThat(listener("a4").events())
        .containsExactly("queued 3", "queued 2", "queued 1", "started", "finished");
    assertThat(listener("b1").events())
        .containsExactly("queued 2", "queued 1", "started", "finished");
    assertThat(scheduler.position("a4")).isEmpty();
  }

  @Test
  void positionsNeverRiseWhileManyUsersComeAndGo() {
    for (int i = 0; i < 60; i++) {
      submit("j" + i, "user" + (i * 7 % 11), "bfl");
      if (i % 3 == 0) {
        executor.runNext();
      }
    }
    executor.runAll();
    assertThat(ran).hasSize(60);
    listeners.forEach(
        (id, l) -> {
          assertThat(l.positions()).as(id).isSortedAccordingTo((x, y) -> Integer.compare(y, x));
          assertThat(l.events()).as(id).endsWith("started", "finished");
          if (!l.positions().isEmpty()) {
            assertThat(l.positions()).as(id).last().isEqualTo(1);
          }
        });
  }

  @Test
  void aLoneUsersSingleJobWaitsForAtMostOneOfAHeavyUsersFifty() {
    scheduler = new JobScheduler(executor, new Settings(2, Map.of("bfl", 2), 100));
    for (int i = 1; i <= 50; i++) {
      submit("heavy" + i, "heavy", "bfl");
    }
    assertThat(scheduler.queued()).isEqualTo(48);

    Ticket lone = submit("lone", "lone", "bfl");
    assertThat(lone.initialPosition()).isEqualTo(2);
    executor.runNext();
    assertThat(scheduler.position("lone")).hasValue(1);
    executor.runNext();
    assertThat(startOrder).containsExactly("heavy1", "heavy2", "heavy3", "lone");
  }

  @Test
  void cancellingAQueuedJobRemovesItAndMovesTheOthersUp() {
    submit("a1", "alice", "bfl");
    submit("a2", "alice", "bfl");
    submit("a3", "alice", "bfl");
    submit("a4", "alice", "bfl");

    assertThat(scheduler.cancel("a2")).isTrue();
    assertThat(scheduler.position("a2")).isEmpty();
    assertThat(scheduler.position("a3")).hasValue(1);
    assertThat(scheduler.position("a4")).hasValue(2);
    assertThat(scheduler.queued()).isEqualTo(2);
    assertThat(listener("a3").events()).containsExactly("queued 2", "queued 1");

    executor.runAll();
    assertThat(ran).containsExactly("a1", "a3", "a4");
    assertThat(listener("a2").events()).containsExactly("queued 1");
    assertThat(scheduler.cancel("a2")).isFalse();
  }

  @Test
  void cancellingAnUnknownJobReturnsFalse() {
    assertThat(scheduler.cancel("nope")).isFalse();
    assertThat(scheduler.position("nope")).isEqualTo(OptionalInt.empty());
  }

  @Test
  void cancellingARunningJobInterruptsItsThreadAndFreesItsSlot() throws InterruptedException {
    scheduler = new JobScheduler(virtualThreads(), new Settings(1, Map.of("bfl", 1), 100));
    CountDownLatch inTask = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    submit(
        "a1",
        "alice",
        "bfl",
        () -> {
          inTask.countDown();
          try {
            new CountDownLatch(1).await();
          } catch (InterruptedException e) {
            interrupted.set(true);
          }
        });
    submit("a2", "alice", "bfl");
    assertThat(inTask.await(10, SECONDS)).isTrue();

    assertThat(scheduler.cancel("a1")).isTrue();
    assertThat(listener("a2").finishedLatch.await(10, SECONDS)).isTrue();
    assertThat(interrupted).isTrue();
    assertThat(listener("a1").events()).containsExactly("started", "finished");
    assertThat(ran).containsExactly("a2");
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void cancellingAJobWhoseThreadHasNotBegunSkipsItsTask() {
    submit("a1", "alice", "bfl");
    assertThat(scheduler.cancel("a1")).isTrue();
    assertThat(scheduler.running()).isEqualTo(1);
    executor.runAll();
    assertThat(ran).isEmpty();
    assertThat(listener("a1").events()).containsExactly("started", "finished");
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void aTaskThatThrowsStillFreesItsSlots() {
    submit(
        "a1",
        "alice",
        "bfl",
        () -> {
          throw new IllegalStateException("backend exploded");
        });
    submit("a2", "alice", "bfl");
    executor.runNext();
    assertThat(listener("a1").events()).containsExactly("started", "finished");
    assertThat(startOrder).containsExactly("a1", "a2");
    executor.runAll();
    assertThat(ran).containsExactly("a2");
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void aListenerThatThrowsDoesNotStopOtherJobsHearingAnything() {
    scheduler.submit(
        "a1",
        "alice",
        "bfl",
        () -> {},
        new RecordingListener(
            () -> {
              throw new IllegalStateException("chat platform down");
            },
            () -> {}));
    submit("b1", "bob", "bfl");
    executor.runAll();
    assertThat(listener("b1").events()).containsExactly("queued 1", "started", "finished");
  }

  @Test
  void shutdownReturnsTheNeverStartedIdsInQueueOrderAndWaitsForRunningJobs()
      throws InterruptedException {
    scheduler = new JobScheduler(virtualThreads(), new Settings(1, Map.of(), 100));
    CountDownLatch release = new CountDownLatch(1);
    List<String> finishedTasks = new CopyOnWriteArrayList<>();
    for (String id : List.of("a1", "a2", "a3", "b1", "b2")) {
      submit(
          id,
          id.substring(0, 1),
          "local",
          () -> {
            awaitUninterruptibly(release);
            finishedTasks.add(id);
          });
    }
    assertThat(scheduler.running()).isEqualTo(2);
    Thread.ofVirtual()
        .start(
            () -> {
              while (scheduler.queued()
                  > 0) { // nothing can start before shutdown: a and b are at their cap
                Thread.yield();
              }
              release.countDown();
            });

    List<String> neverStarted = scheduler.shutdown(Duration.ofSeconds(30));

    assertThat(neverStarted).containsExactly("a2", "b2", "a3");
    assertThat(finishedTasks).containsExactlyInAnyOrder("a1", "b1");
    assertThat(scheduler.running()).isZero();
    assertThat(scheduler.queued()).isZero();
    assertThat(scheduler.position("a2")).isEmpty();
    assertThat(listener("a2").events()).containsExactly("queued 1");
  }

  @Test
  void shutdownGivesUpWaitingWhenTheGracePeriodEnds() throws InterruptedException {
    scheduler = new JobScheduler(virtualThreads(), new Settings(1, Map.of(), 100));
    CountDownLatch release = new CountDownLatch(1);
    submit("a1", "alice", "local", () -> awaitUninterruptibly(release));

    long start = System.nanoTime();
    assertThat(scheduler.shutdown(Duration.ofMillis(200))).isEmpty();
    Duration waited = Duration.ofNanos(System.nanoTime() - start);

    assertThat(waited).isBetween(Duration.ofMillis(200), Duration.ofSeconds(10));
    assertThat(scheduler.running()).isEqualTo(1);
    assertThat(listener("a1").hasFinished()).isFalse();
    release.countDown();
    assertThat(listener("a1").finishedLatch.await(10, SECONDS)).isTrue();
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void closeReturnsAtOnceLeavingRunningJobsToFinish() {
    submit("a1", "alice", "bfl");
    submit("a2", "alice", "bfl");
    scheduler.close();
    assertThat(scheduler.queued()).isZero();
    executor.runAll();
    assertThat(ran).containsExactly("a1");
    assertThat(listener("a1").events()).containsExactly("started", "finished");
  }

  @Test
  void submitAfterShutdownIsRefused() {
    scheduler.close();
    assertThatThrownBy(() -> submit("a1", "alice", "bfl"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("The job scheduler is shut down; job a1 was not accepted.");
  }

  @Test
  void aDuplicateJobIdIsRefusedWhileItIsQueuedOrRunning() {
    submit("a1", "alice", "bfl");
    submit("a2", "alice", "bfl");
    for (String id : List.of("a1", "a2")) {
      assertThatThrownBy(() -> submit(id, "bob", "bfl"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Job id " + id + " is already queued or running; job ids must be unique.");
    }
    assertThat(scheduler.queued()).isEqualTo(1);
    executor.runAll();
    assertThat(submit("a1", "alice", "bfl").initialPosition()).isZero();
  }

  @Test
  void submitIsRefusedWhenMaxQueuedJobsWait() {
    scheduler = new JobScheduler(executor, new Settings(1, Map.of("bfl", 1), 3));
    IntStream.rangeClosed(1, 4).forEach(i -> submit("j" + i, "user" + i, "bfl"));
    assertThat(scheduler.queued()).isEqualTo(3);

    assertThatThrownBy(() -> submit("j5", "user5", "local"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "The job queue is full: 3 jobs wait (maxQueued 3); job j5 was not accepted."
                + " Try again when some have finished.");
    executor.runNext();
    assertThat(submit("j5", "user5", "local").initialPosition()).isZero();
  }

  @Test
  void runOrSubmitRunsAJobThatCanStartOnTheCallingThreadAndReturnsWhenItEnded() {
    Thread caller = Thread.currentThread();
    List<Thread> ranOn = new CopyOnWriteArrayList<>();
    RecordingListener listener = new RecordingListener(() -> startOrder.add("a1"), () -> {});
    Ticket ticket =
        scheduler.runOrSubmit(
            "a1", "alice", "bfl", () -> ranOn.add(Thread.currentThread()), listener);

    assertThat(ticket.initialPosition()).isZero();
    assertThat(ranOn).containsExactly(caller);
    assertThat(listener.events()).containsExactly("started", "finished");
    assertThat(executor.pending()).isZero();
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void runOrSubmitQueuesAJobThatMustWaitAndReturnsAtOnce() {
    submit("a1", "alice", "bfl"); // holds alice's one slot and the backend's
    RecordingListener listener = new RecordingListener(() -> startOrder.add("a2"), () -> {});
    Ticket ticket = scheduler.runOrSubmit("a2", "alice", "bfl", () -> ran.add("a2"), listener);

    assertThat(ticket.initialPosition()).isEqualTo(1);
    assertThat(ran).isEmpty();
    executor.runAll(); // a1 ends; a2 starts on the executor, not on the thread that submitted it
    assertThat(ran).containsExactly("a1", "a2");
    assertThat(listener.events()).containsExactly("queued 1", "started", "finished");
  }

  @Test
  void jobsStartedWhileARunOrSubmitJobRunsGoToTheExecutor() {
    scheduler = new JobScheduler(executor, new Settings(1, Map.of(), 100));
    submit("a1", "alice", "local");
    submit("a2", "alice", "local"); // waits for a1
    scheduler.runOrSubmit(
        "b1",
        "bob",
        "local",
        () -> {
          ran.add("b1");
          executor.runNext(); // a1 ends while b1 runs here; a2 goes to the executor
        },
        new RecordingListener(() -> {}, () -> {}));

    assertThat(ran).containsExactly("b1", "a1");
    executor.runAll();
    assertThat(ran).containsExactly("b1", "a1", "a2");
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void cancellingAJobRunningOnTheCallingThreadInterruptsItOnceAndClearsTheFlag()
      throws InterruptedException {
    CountDownLatch inTask = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicBoolean flagAfter = new AtomicBoolean(true);
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  scheduler.runOrSubmit(
                      "a1",
                      "alice",
                      "bfl",
                      () -> {
                        inTask.countDown();
                        try {
                          new CountDownLatch(1).await();
                        } catch (InterruptedException e) {
                          interrupted.set(true);
                        }
                      },
                      new RecordingListener(() -> {}, () -> {}));
                  flagAfter.set(Thread.currentThread().isInterrupted());
                });
    assertThat(inTask.await(10, SECONDS)).isTrue();

    assertThat(scheduler.cancel("a1")).isTrue();
    caller.join(SECONDS.toMillis(10));
    assertThat(interrupted).isTrue();
    assertThat(flagAfter).isFalse();
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void shutdownWaitsForAJobRunningOnTheCallingThread() throws InterruptedException {
    CountDownLatch inTask = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread caller =
        Thread.ofVirtual()
            .start(
                () ->
                    scheduler.runOrSubmit(
                        "a1",
                        "alice",
                        "bfl",
                        () -> {
                          inTask.countDown();
                          awaitUninterruptibly(release);
                        },
                        new RecordingListener(() -> {}, () -> {})));
    assertThat(inTask.await(10, SECONDS)).isTrue();

    assertThat(scheduler.shutdown(Duration.ofMillis(50))).isEmpty();
    assertThat(scheduler.running()).isEqualTo(1); // the grace ran out; the job is still running
    release.countDown();
    caller.join(SECONDS.toMillis(10));
    assertThat(scheduler.shutdown(Duration.ofSeconds(10))).isEmpty();
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void tryStartHoldsTheSlotsUntilTheTaskRanAndPassesNoWaitingJob() {
    RecordingListener listener = new RecordingListener(() -> startOrder.add("a1"), () -> {});
    JobScheduler.Slot slot = scheduler.tryStart("a1", "alice", "bfl", listener).orElseThrow();
    assertThat(listener.events()).containsExactly("started");
    assertThat(scheduler.running("bfl")).isOne();

    submit("b1", "bob", "bfl"); // the backend's one slot is a1's: b1 waits
    assertThat(scheduler.queued()).isOne();
    assertThat(scheduler.tryStart("c1", "carol", "bfl", listener)).as("backend full").isEmpty();
    assertThat(scheduler.tryStart("a2", "alice", "local", listener))
        .as("alice at her cap")
        .isEmpty();
    assertThatThrownBy(() -> scheduler.tryStart("a1", "alice", "local", listener))
        .hasMessageContaining("a1 is already queued or running");

    Thread caller = Thread.currentThread();
    List<Thread> ranOn = new CopyOnWriteArrayList<>();
    slot.run(() -> ranOn.add(Thread.currentThread()));
    assertThat(ranOn).containsExactly(caller);
    assertThat(listener.events()).containsExactly("started", "finished");
    assertThat(startOrder).containsExactly("a1", "b1"); // a1's end started the waiting b1
    slot.run(() -> ranOn.add(Thread.currentThread()));
    slot.release();
    assertThat(ranOn).as("a slot runs once").hasSize(1);

    executor.runAll();
    assertThat(scheduler.running()).isZero();
    submit(
        "d1", "dave",
        "bfl"); // starts at once and runs below; then bfl is free for a tryStart again
    executor.runAll();
    assertThat(scheduler.tryStart("e1", "erin", "bfl", listener)).isPresent();
  }

  @Test
  void aUserWithAJobWaitingCannotJumpTheQueueWithTryStart() {
    scheduler = new JobScheduler(executor, new Settings(1, Map.of(), 100));
    submit("a1", "alice", "local");
    submit("a2", "alice", "local"); // waits for a1
    executor.runNext(); // a1 ends, a2 starts (on the executor, still pending there)
    assertThat(
            scheduler.tryStart("a3", "alice", "local", new RecordingListener(() -> {}, () -> {})))
        .isEmpty();
    assertThat(scheduler.tryStart("b1", "bob", "local", new RecordingListener(() -> {}, () -> {})))
        .isPresent();
  }

  @Test
  void aReleasedSlotFreesItsPlaceAndACancelledOneSkipsItsTask() {
    RecordingListener listener = new RecordingListener(() -> {}, () -> {});
    JobScheduler.Slot slot = scheduler.tryStart("a1", "alice", "bfl", listener).orElseThrow();
    submit("b1", "bob", "bfl");
    slot.release();
    assertThat(listener.events()).containsExactly("started", "finished");
    assertThat(startOrder).containsExactly("b1");
    executor.runAll();

    JobScheduler.Slot cancelled = scheduler.tryStart("a2", "alice", "bfl", listener).orElseThrow();
    assertThat(scheduler.cancel("a2")).isTrue();
    assertThat(Thread.interrupted())
        .as("cancel interrupts the thread that holds the slot")
        .isTrue();
    cancelled.run(() -> ran.add("a2"));
    assertThat(ran).doesNotContain("a2");
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void tryStartIsRefusedAfterShutdownAndShutdownWaitsForAStartedSlot() throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  JobScheduler.Slot slot =
                      scheduler
                          .tryStart("a1", "alice", "bfl", new RecordingListener(() -> {}, () -> {}))
                          .orElseThrow();
                  started.countDown();
                  slot.run(() -> awaitUninterruptibly(release));
                });
    assertThat(started.await(10, SECONDS)).isTrue();
    assertThat(scheduler.shutdown(Duration.ofMillis(50))).isEmpty();
    assertThat(scheduler.running()).isOne();
    assertThatThrownBy(
            () ->
                scheduler.tryStart("b1", "bob", "local", new RecordingListener(() -> {}, () -> {})))
        .hasMessageContaining("shut down");
    release.countDown();
    caller.join(SECONDS.toMillis(10));
    assertThat(scheduler.running()).isZero();
  }

  @Test
  void settingsNameTheFieldAndValueTheyRefuse() {
    assertThatThrownBy(() -> new Settings(0, Map.of(), 1))
        .hasMessage("perUserCap must be at least 1. Provided: 0");
    assertThatThrownBy(() -> new Settings(1, Map.of("bfl", 0), 1))
        .hasMessage("backendCaps[bfl] must be at least 1. Provided: 0");
    assertThatThrownBy(() -> new Settings(1, Map.of(), 0))
        .hasMessage("maxQueued must be at least 1. Provided: 0");
    assertThat(Settings.defaults()).isEqualTo(new Settings(2, Map.of("bfl", 24), 10_000));
  }

  private static Executor virtualThreads() {
    return command -> Thread.ofVirtual().start(command);
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
