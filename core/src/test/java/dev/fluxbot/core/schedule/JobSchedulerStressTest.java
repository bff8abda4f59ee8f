package dev.fluxbot.core.schedule;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.schedule.JobScheduler.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class JobSchedulerStressTest {
  private static final int USERS = 50;
  private static final int JOBS_PER_USER = 40;
  private static final int JOBS = USERS * JOBS_PER_USER;
  private static final int PER_USER_CAP = 2;
  private static final Map<String, Integer> CAPS = Map.of("bfl", 24, "local", 3);
  private static final List<String> BACKENDS = List.of("bfl", "local", "other");

  private final JobScheduler scheduler =
      new JobScheduler(
          command -> Thread.ofVirtual().start(command), new Settings(PER_USER_CAP, CAPS, 10_000));
  private final CountDownLatch go = new CountDownLatch(1);
  private final CountDownLatch allFinished = new CountDownLatch(JOBS);
  private final AtomicIntegerArray runningPerUser = new AtomicIntegerArray(USERS);
  private final AtomicIntegerArray maxPerUser = new AtomicIntegerArray(USERS);
  private final Map<String, AtomicInteger> runningPerBackend = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> maxPerBackend = new ConcurrentHashMap<>();
  private final AtomicIntegerArray runs = new AtomicIntegerArray(JOBS);
  private final AtomicInteger violations = new AtomicInteger();
  private final Map<String, RecordingListener> listeners = new ConcurrentHashMap<>();

  @Test
  void twoThousandJobsFromFiftyUsersOnVirtualThreadsNeverExceedAnyCap()
      throws InterruptedException {
    List<Thread> submitters = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      int user = u;
      submitters.add(Thread.ofVirtual().start(() -> submitAll(user)));
    }
    for (Thread submitter : submitters) {
      submitter.join();
    }
    // Every task is held at the gate, so the caps are full now.
    assertThat(scheduler.running("bfl")).isEqualTo(24);
    assertThat(scheduler.running("local")).isEqualTo(3);
    assertThat(scheduler.running()).isLessThanOrEqualTo(USERS * PER_USER_CAP);
    assertThat(scheduler.running() + scheduler.queued()).isEqualTo(JOBS);

    go.countDown();
    assertThat(allFinished.await(60, SECONDS)).isTrue();

    assertThat(violations).hasValue(0);
    for (int u = 0; u < USERS; u++) {
      assertThat(maxPerUser.get(u)).as("user %d", u).isBetween(1, PER_USER_CAP);
    }
    assertThat(maxPerBackend.get("bfl").get()).isBetween(1, 24);
    assertThat(maxPerBackend.get("local").get()).isBetween(1, 3);
    for (int j = 0; j < JOBS; j++) {
      assertThat(runs.get(j)).as("runs of job %d", j).isEqualTo(1);
    }
    assertThat(scheduler.running()).isZero();
    assertThat(scheduler.queued()).isZero();
    listeners.forEach(
        (id, listener) -> {
          assertThat(listener.positions())
              .as(id)
              .isSortedAccordingTo((x, y) -> Integer.compare(y, x));
          List<String> events = listener.events();
          assertThat(events.subList(0, events.size() - 2))
              .as(id)
              .allMatch(e -> e.startsWith("queued "));
          assertThat(events).as(id).endsWith("started", "finished");
        });
  }

  private void submitAll(int user) {
    for (int k = 0; k < JOBS_PER_USER; k++) {
      int job = user * JOBS_PER_USER + k;
      String id = "job" + job;
      String backend = BACKENDS.get(k % BACKENDS.size());
      RecordingListener listener = new RecordingListener(() -> {}, allFinished::countDown);
      listeners.put(id, listener);
      scheduler.submit(id, "user" + user, backend, () -> work(job, user, backend), listener);
    }
  }

  private void work(int job, int user, String backend) {
    awaitGate();
    runs.incrementAndGet(job);
    int forUser = runningPerUser.incrementAndGet(user);
    maxPerUser.accumulateAndGet(user, forUser, Math::max);
    AtomicInteger onBackend = runningPerBackend.computeIfAbsent(backend, b -> new AtomicInteger());
    int forBackend = onBackend.incrementAndGet();
    maxPerBackend
        .computeIfAbsent(backend, b -> new AtomicInteger())
        .accumulateAndGet(forBackend, Math::max);
    int cap = CAPS.getOrDefault(backend, Integer.MAX_VALUE);
    if (forUser > PER_USER_CAP || forBackend > cap || scheduler.running(backend) > cap) {
      violations.incrementAndGet();
    }
    Thread.yield();
    onBackend.decrementAndGet();
    runningPerUser.decrementAndGet(user);
  }

  private void awaitGate() {
    try {
      go.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException("nothing cancels jobs in this test", e);
    }
  }
}
