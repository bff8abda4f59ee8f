package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobLeases;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.Owner;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several instances on one database (two cores with their own ids): job leases, take-over, and the
 * caps and fairness that hold for the whole installation. On SQLite and on a real PostgreSQL.
 */
class JobLeasesTest {
  private static final Duration LEASE = Duration.ofSeconds(5);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final QuotaService.Settings QUOTA =
      new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 1_000, null);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T12:00:00Z"));
  private final Requester alice = user("alice");
  private final Requester bob = user("bob");
  private final Requester carol = user("carol");

  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(b -> b.clock(clock).quotaSettings(QUOTA));

  private static Requester user(String id) {
    return new Requester("telegram", id, id, "chat1", Set.of(), false);
  }

  private UnaryOperator<FluxbotCore.Builder> instance(
      String id, GateBackend backend, JobScheduler.Settings caps) {
    return b ->
        b.owner(new Owner(id, LEASE))
            .backends(backend)
            .schedulerSettings(caps)
            .random(new Random(id.hashCode()));
  }

  private static JobScheduler.Settings caps(int perUser, Integer backendCap) {
    return new JobScheduler.Settings(
        perUser, backendCap == null ? Map.of() : Map.of("gate", backendCap), 10_000);
  }

  private static CompletableFuture<ImageReply> submit(
      FluxbotCore core, Requester who, long seed, ChatReply reply) {
    return core.imagine()
        .submit(new ImagineCommand(who, "a fox --seed " + seed, Map.of(), List.of()), reply, "{}");
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void aDeadInstancesJobIsTakenOverOnlyOnceItsLeaseRanOutAndChargedOnce(Database.Dialect dialect)
      throws Exception {
    cores.on(dialect);
    GateBackend a = new GateBackend();
    GateBackend b = new GateBackend();
    FluxbotCore first = cores.start(instance("a", a, caps(2, null)));
    RecordingReply firstReply = new RecordingReply();
    CompletableFuture<ImageReply> lost = submit(first, alice, 7, firstReply);
    String jobId = a.awaitStarted(1).get(0);

    FluxbotCore second = cores.startBeside(instance("b", b, caps(2, null)));
    RecordingReply secondReply = new RecordingReply();
    assertThat(second.imagine().takeOverOrphans(j -> true, j -> secondReply))
        .as("a live lease keeps the job its owner's")
        .isEmpty();

    first.close(); // its heartbeat stops; its job's thread hangs on, like a long pause
    clock.advance(LEASE.plusSeconds(1));
    List<CompletableFuture<ImageReply>> taken =
        second.imagine().takeOverOrphans(j -> true, j -> secondReply);
    assertThat(taken).hasSize(1);
    ImageReply done = taken.get(0).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(done.jobId()).isEqualTo(jobId);
    assertThat(b.resumed.get()).as("the started task is polled, not started again").isEqualTo(1);
    assertThat(b.runs.get()).isZero();
    assertThat(secondReply.images).containsExactly(jobId);

    a.release(jobId); // the first instance wakes up and finishes late
    assertThatThrownBy(() -> lost.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasMessageContaining("taken over by another bot instance");
    QuotaService quota = new QuotaService(cores.database(), QUOTA, clock);
    assertThat(quota.status(alice).spentMilli()).as("charged once").isEqualTo(1_000);
    assertThat(quota.held()).isEmpty();
    assertThat(firstReply.images).as("the late instance delivers nothing").isEmpty();
    assertThat(firstReply.failures).as("nor tells the user of a failure").isEmpty();
    JobStore.Job row = second.jobs().find(jobId).orElseThrow();
    assertThat(row.state()).isEqualTo(JobStore.State.SUCCEEDED);
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void thePerUserCapHoldsAcrossInstances(Database.Dialect dialect) throws Exception {
    cores.on(dialect);
    GateBackend a = new GateBackend();
    GateBackend b = new GateBackend();
    FluxbotCore first = cores.start(instance("a", a, caps(1, null)));
    FluxbotCore second = cores.startBeside(instance("b", b, caps(1, null)));
    CompletableFuture<ImageReply> one = submit(first, alice, 1, ChatReply.silent());
    String running = a.awaitStarted(1).get(0);
    CompletableFuture<ImageReply> two = submit(second, alice, 2, ChatReply.silent());
    CompletableFuture<ImageReply> other = submit(second, bob, 3, ChatReply.silent());
    String bobs = b.awaitStarted(1).get(0);
    assertThat(second.jobs().find(bobs).orElseThrow().requester()).isEqualTo(bob);
    Thread.sleep(300); // time enough for a wrong start
    assertThat(b.started)
        .as("alice's second job waits for her first, on another instance")
        .containsExactly(bobs);

    a.release(running);
    one.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    List<String> started = b.awaitStarted(2);
    b.release(started.get(1));
    b.release(bobs);
    assertThat(two.get(WAIT.toSeconds(), TimeUnit.SECONDS).request().seed()).isEqualTo(2);
    other.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(a.maxRunning.get() + b.maxRunning.get()).isLessThanOrEqualTo(3);
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void aBackendsCapHoldsAcrossInstancesAndWaitersAreServedFairly(Database.Dialect dialect)
      throws Exception {
    cores.on(dialect);
    GateBackend a = new GateBackend();
    GateBackend b = new GateBackend();
    GateBackend c = new GateBackend();
    FluxbotCore first = cores.start(instance("a", a, caps(4, 1)));
    FluxbotCore second = cores.startBeside(instance("b", b, caps(4, 1)));
    FluxbotCore third = cores.startBeside(instance("c", c, caps(4, 1)));
    submit(first, bob, 1, ChatReply.silent());
    String bobs = a.awaitStarted(1).get(0);
    // alice asks twice on one instance (her second waits behind her first in that instance's own
    // queue), then carol once on another: all wait for the installation's one slot
    submit(second, alice, 2, ChatReply.silent());
    Await.until("alice's first job waits", WAIT, () -> waiting(second) == 1);
    clock.advance(Duration.ofMillis(10));
    submit(second, alice, 3, ChatReply.silent());
    clock.advance(Duration.ofMillis(10));
    submit(third, carol, 4, ChatReply.silent());
    Await.until("carol's job waits", WAIT, () -> waiting(second) == 2);
    Thread.sleep(300);
    List<GateBackend> all = List.of(a, b, c);
    assertThat(startedIn(all)).as("one slot in all").isEqualTo(1);

    a.release(bobs);
    String next = awaitOneMoreStarted(all, 2);
    assertThat(seedOf(second, next)).as("alice waited longest").isEqualTo(2);
    clock.advance(Duration.ofMillis(10)); // alice's second job asks for room only from now on
    release(all, next);
    String then = awaitOneMoreStarted(all, 3);
    assertThat(seedOf(second, then))
        .as("carol and alice run nothing now; carol waited longer than alice's second")
        .isEqualTo(4);
    release(all, then);
    String last = awaitOneMoreStarted(all, 4);
    assertThat(seedOf(second, last)).isEqualTo(3);
    release(all, last);
    assertThat(all).allMatch(g -> g.maxRunning.get() <= 1);
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void aSecondLiveProcessWithTheSameInstanceIdIsRefused(Database.Dialect dialect) {
    cores.on(dialect);
    FluxbotCore core = cores.start(instance("same", new GateBackend(), caps(2, null)));
    JobLeases leases = core.leases();
    leases.register();
    leases.register(); // this process again: a restart of a dead one is not refused
    core.database()
        .transaction(
            c -> {
              try (var st =
                  c.prepareStatement("UPDATE instances SET host = 'elsewhere' WHERE id = 'same'")) {
                return st.executeUpdate();
              }
            });
    assertThatThrownBy(leases::register)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("another bot instance with the id 'same' is running (host elsewhere")
        .hasMessageContaining("FLUXBOT_INSTANCE_ID");
    assertThat(leases.instances())
        .extracting(JobLeases.Instance::host)
        .containsExactly("elsewhere");
    clock.advance(LEASE.plusSeconds(1)); // its heartbeat is old now: it is dead
    leases.register();
    assertThat(leases.instances())
        .extracting(JobLeases.Instance::host)
        .containsExactly(Owner.host());
  }

  private static long waiting(FluxbotCore core) {
    return core.database()
        .read(
            c -> {
              try (var st =
                      c.prepareStatement(
                          "SELECT count(*) FROM jobs WHERE state = 'QUEUED' AND wait_since IS NOT NULL");
                  var rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1);
              }
            });
  }

  private static long seedOf(FluxbotCore core, String jobId) {
    return core.jobs().find(jobId).orElseThrow().request().seed();
  }

  private static int startedIn(List<GateBackend> gates) {
    return gates.stream().mapToInt(g -> g.started.size()).sum();
  }

  /** The one job among the gates that has started and not been released, once {@code total} did. */
  private static String awaitOneMoreStarted(List<GateBackend> gates, int total) {
    Await.until(total + " jobs started", WAIT, () -> startedIn(gates) >= total);
    List<String> open = new java.util.ArrayList<>();
    gates.forEach(g -> open.addAll(g.started));
    gates.forEach(g -> open.removeAll(List.copyOf(g.released)));
    assertThat(open).hasSize(1);
    return open.get(0);
  }

  private static void release(List<GateBackend> gates, String jobId) {
    gates.forEach(g -> g.release(jobId));
  }

  /** A reply that records what reached the user. */
  static final class RecordingReply implements ChatReply {
    final List<String> images = new CopyOnWriteArrayList<>();
    final List<UserError> failures = new CopyOnWriteArrayList<>();

    @Override
    public void accepted(String jobId, GenerationRequest request) {}

    @Override
    public void queued(int position) {}

    @Override
    public void progress(Progress progress) {}

    @Override
    public void image(ImageReply reply) {
      images.add(reply.jobId());
    }

    @Override
    public void failed(UserError error) {
      failures.add(error);
    }
  }

  /** A backend whose every job runs until the test releases it; it records the order of starts. */
  static final class GateBackend implements ImageBackend {
    final Set<String> released = ConcurrentHashMap.newKeySet();
    final List<String> started = new CopyOnWriteArrayList<>();
    final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    final AtomicInteger runs = new AtomicInteger();
    final AtomicInteger resumed = new AtomicInteger();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();

    @Override
    public String name() {
      return "gate";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public boolean canResume() {
      return true;
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      runs.incrementAndGet();
      progress.onTask(new BackendTask(name(), "t-" + job.id(), null));
      int now = running.incrementAndGet();
      maxRunning.accumulateAndGet(now, Math::max);
      try {
        CountDownLatch gate = gates.computeIfAbsent(job.id(), k -> new CountDownLatch(1));
        started.add(job.id());
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UserError(UserError.Code.CANCELLED, "interrupted");
      } finally {
        running.decrementAndGet();
      }
      return result(job);
    }

    @Override
    public GenerationResult resume(GenerationJob job, BackendTask task, ProgressListener progress) {
      resumed.incrementAndGet();
      return result(job);
    }

    List<String> awaitStarted(int n) {
      Await.until(n + " job(s) started on the gate", WAIT, () -> started.size() >= n);
      return List.copyOf(started);
    }

    void release(String jobId) {
      released.add(jobId);
      gates.computeIfAbsent(jobId, k -> new CountDownLatch(1)).countDown();
    }

    private static GenerationResult result(GenerationJob job) {
      return new GenerationResult(
          PipelineOnBothDatabasesTest.png(32, 32),
          ImageType.PNG,
          32,
          32,
          job.seed(),
          BigDecimal.ZERO,
          "gate",
          null,
          Duration.ZERO);
    }
  }
}
