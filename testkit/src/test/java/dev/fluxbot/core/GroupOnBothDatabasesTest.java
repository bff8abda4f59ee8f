package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobGroups;
import dev.fluxbot.core.store.JobStore;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code --n 4} on SQLite and on a real PostgreSQL: the group's rows, its images running together
 * where a user may run (and hold credits for) one job at a time, and the all-or-none hold.
 */
class GroupOnBothDatabasesTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T12:00:00Z"));
  private final Requester alice =
      new Requester("telegram", "alice", "Alice", "chat9", Set.of(), false);

  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(
          b ->
              b.clock(clock)
                  .quotaSettings(
                      new QuotaService.Settings(
                          ZoneOffset.UTC, QuotaService.Period.DAY, 5_000, 1, null))
                  .schedulerSettings(new JobScheduler.Settings(1, Map.of(), 100)));

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void fourImagesRunTogetherAsOneUnitAndAreDeliveredOnce(Database.Dialect dialect) {
    Database db = cores.on(dialect).database();
    TogetherBackend backend = new TogetherBackend(4);
    ImagineService s = cores.start(b -> b.backends(backend).random(new Random(5))).imagine();
    List<GroupReply> delivered = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    ChatReply reply =
        new ChatReply() {
          @Override
          public void accepted(String jobId, GenerationRequest request) {}

          @Override
          public void queued(int position) {}

          @Override
          public void progress(Progress progress) {}

          @Override
          public void image(ImageReply r) {
            throw new AssertionError("a group is delivered whole");
          }

          @Override
          public void failed(UserError error) {
            failures.add(error.getMessage());
          }

          @Override
          public void group(GroupReply group) {
            delivered.add(group);
          }
        };

    s.imagine(new ImagineCommand(alice, "a fox --n 4 --seed 40", Map.of(), List.of()), reply, "{}");

    assertThat(delivered).hasSize(1);
    assertThat(failures).isEmpty();
    GroupReply group = delivered.get(0);
    assertThat(group.images())
        .extracting(i -> i.result().seed())
        .containsExactly(40L, 41L, 42L, 43L);
    JobStore jobs = cores.get().jobs();
    assertThat(new JobGroups(jobs).of(group.jobIds().get(3)).orElseThrow().jobIds())
        .isEqualTo(group.jobIds());
    assertThat(jobs.undelivered(20)).isEmpty();
    QuotaService quota = cores.get().quota();
    assertThat(quota.status(alice).spentMilli()).isEqualTo(4_000);
    assertThat(quota.held()).isEmpty();

    UserError refused =
        catchThrowableOfType(
            UserError.class,
            () ->
                s.imagine(
                    new ImagineCommand(alice, "a fox --n 2", Map.of(), List.of()), reply, "{}"));
    assertThat(refused.getMessage()).startsWith("--n 2: these 2 images need 2 credits together");
    assertThat(failures).containsExactly(refused.getMessage());
    assertThat(quota.held()).isEmpty();
    assertThat(backend.runs()).isEqualTo(4);
    assertThat(db.dialect()).isEqualTo(dialect);
  }

  /** Answers only once {@code together} images are being made at the same time. */
  static final class TogetherBackend implements ImageBackend {
    private final CountDownLatch all;
    private final java.util.concurrent.atomic.AtomicInteger runs =
        new java.util.concurrent.atomic.AtomicInteger();

    TogetherBackend(int together) {
      this.all = new CountDownLatch(together);
    }

    int runs() {
      return runs.get();
    }

    @Override
    public String name() {
      return "together";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      runs.incrementAndGet();
      all.countDown();
      try {
        if (!all.await(20, TimeUnit.SECONDS)) {
          throw new UserError(
              UserError.Code.BACKEND_FAILED, "the group's images did not run together");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UserError(UserError.Code.CANCELLED, "interrupted");
      }
      return new GenerationResult(
          PipelineOnBothDatabasesTest.png(32, 32),
          ImageType.PNG,
          32,
          32,
          job.seed(),
          BigDecimal.ZERO,
          name(),
          null,
          Duration.ZERO);
    }
  }
}
