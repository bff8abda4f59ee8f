package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.GroupImagineTest.GroupRecorder;
import dev.fluxbot.core.ImagineServiceTest.FakeBackend;
import dev.fluxbot.core.filter.FilterRule;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prompt variants and {@code --repeat} run as one group, with {@code --n}, on a real SQLite. */
class VariantGroupTest {
  private final Requester alice = new Requester("discord", "alice", "Alice", "g1", Set.of(), false);
  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));

  @TempDir Path dir;

  private Database db;
  private FluxbotCore core;

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
  }

  @AfterEach
  void close() {
    if (core != null) {
      core.close();
    }
    db.close();
  }

  private ImagineService service(FakeBackend backend, List<FilterRule> filters) {
    core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .backends(backend)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .schedulerSettings(new JobScheduler.Settings(2, Map.of(), 100))
            .quotaSettings(
                new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 2, null))
            .imagineSettings(new ImagineService.Settings(1000, 0, List.of()))
            .filters(filters)
            .clock(clock)
            .random(new Random(7))
            .build();
    return core.imagine();
  }

  private ImagineCommand command(String text) {
    return new ImagineCommand(alice, text, Map.of(), List.of());
  }

  @Test
  void twoVariantsTimesNTwoAreFourImagesEachVariantWithSeedsSAndSPlus1() {
    FakeBackend backend = new FakeBackend();
    GroupRecorder reply = new GroupRecorder();

    service(backend, List.of()).imagine(command("a {red, blue} fox --n 2 --seed 30"), reply, "{}");

    GroupReply group = reply.groups.get(0);
    assertThat(group.images())
        .extracting(i -> i.request().prompt() + " " + i.result().seed())
        .containsExactly("a red fox 30", "a red fox 31", "a blue fox 30", "a blue fox 31");
    assertThat(backend.generated).hasSize(4);
  }

  @Test
  void repeatRunsThePromptAgainWithTheNextSeedsAndOneAlternativeIsOneImage() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend, List.of());
    GroupRecorder reply = new GroupRecorder();

    s.imagine(command("a fox --repeat 3 --seed 5"), reply, "{}");
    assertThat(reply.groups.get(0).images())
        .extracting(i -> i.result().seed())
        .containsExactly(5L, 6L, 7L);

    GroupRecorder single = new GroupRecorder();
    ImageReply one = s.imagine(command("a {lone} fox --seed 9"), single, "{}");
    assertThat(single.groups).isEmpty();
    assertThat(one.request().prompt()).isEqualTo("a lone fox");
  }

  @Test
  void moreThanFourImagesOrABrokenGroupIsRefusedBeforeAnythingRuns() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend, List.of());

    UserError tooMany =
        catchThrowableOfType(
            UserError.class, () -> s.plan(command("a {red, blue, green} fox --n 2")));
    assertThat(tooMany.getMessage()).contains("at most 4 images", "6");
    UserError broken =
        catchThrowableOfType(
            UserError.class,
            () -> s.imagine(command("a {red, blue fox"), new GroupRecorder(), "{}"));
    assertThat(broken).hasMessageContaining("never closed");
    assertThat(backend.generated).isEmpty();
  }

  @Test
  void aFilterThatMatchesOneVariantRefusesTheWholeGroupBeforeCreditsAreHeld() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend, List.of(new FilterRule("blue", false)));
    GroupRecorder reply = new GroupRecorder();

    Throwable refused =
        catchThrowableOfType(
            RuntimeException.class,
            () -> s.imagine(command("a {red, blue} fox --n 2"), reply, "{}"));

    Throwable cause = refused instanceof CompletionException ? refused.getCause() : refused;
    assertThat(cause).isInstanceOf(UserError.class);
    assertThat(((UserError) cause).code()).isEqualTo(UserError.Code.FILTERED);
    assertThat(backend.generated).isEmpty();
    assertThat(new QuotaService(db, QuotaService.Settings.defaults(), clock).held()).isEmpty();
  }
}
