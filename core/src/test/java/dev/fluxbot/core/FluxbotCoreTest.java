package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one place the core's parts are wired: what the builder defaults, shares and closes. */
class FluxbotCoreTest {
  private static final InstantSource FIXED =
      InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));
  private final Requester alice =
      new Requester("discord", "alice", "Alice", "guild1", Set.of(), false);

  @TempDir Path dir;
  private Database db;

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void aCoreNeedsOnlyADatabaseAndWhereItsImagesGo() {
    assertThatThrownBy(() -> FluxbotCore.builder(db).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("imagesIn(folder) or images(store)");

    try (FluxbotCore core = FluxbotCore.builder(db).imagesIn(dir.resolve("images")).build()) {
      assertThat(core.database()).isSameAs(db);
      assertThat(core.catalog().names()).contains("klein-4b");
      assertThat(core.imagine().plan(command("a fox")).model().id()).isEqualTo("klein-4b");
      assertThat(core.quota().status(alice).limitMilli()).isPositive();
      assertThat(core.jobs().unfinished()).isEmpty();
      UserError none =
          catchThrowableOfType(
              UserError.class,
              () -> core.imagine().imagine(command("a fox"), ChatReply.silent(), null));
      assertThat(none.code())
          .as("no backend by default")
          .isEqualTo(UserError.Code.BACKEND_UNAVAILABLE);
    }
  }

  @Test
  void aBuilderIsNeverChangedSoItCanBuildTheSameCoreAgain() {
    FluxbotCore.Builder base = FluxbotCore.builder(db).imagesIn(dir.resolve("images"));
    FluxbotCore.Builder fixed = base.clock(FIXED);

    assertThat(fixed).isNotSameAs(base);
    try (FluxbotCore a = base.build();
        FluxbotCore b = fixed.build();
        FluxbotCore c = fixed.build()) {
      assertThat(a.clock()).isEqualTo(InstantSource.system());
      assertThat(b.clock()).isSameAs(FIXED);
      assertThat(c.clock()).isSameAs(FIXED);
      assertThat(c.imagine()).isNotSameAs(b.imagine());
    }
  }

  @Test
  void chatServicesAreTheCoresPartsOnThePlatformsClock() {
    try (FluxbotCore core =
        FluxbotCore.builder(db).imagesIn(dir.resolve("images")).clock(FIXED).build()) {
      ChatServices own = core.chatServices(Duration.ofHours(1), Sleeper.SYSTEM);
      assertThat(own.clock()).isSameAs(FIXED);
      assertThat(own.imagine()).isSameAs(core.imagine());
      assertThat(own.quota()).isSameAs(core.quota());
      assertThat(own.jobs()).isSameAs(core.jobs());
      assertThat(own.settings()).isSameAs(core.settings());
      assertThat(own.images()).isSameAs(core.images());
      assertThat(own.catalog()).isSameAs(core.catalog());
      assertThat(own.waiting().getAsInt()).isZero();
      assertThat(own.deliveries().first("event-1")).isTrue();
      assertThat(own.deliveries().first("event-1")).isFalse();

      InstantSource platform = InstantSource.fixed(Instant.parse("2030-01-01T00:00:00Z"));
      assertThat(core.chatServices(Duration.ofHours(1), platform, Sleeper.SYSTEM).clock())
          .isSameAs(platform);
    }
  }

  @Test
  void closingStopsTheSchedulerAndLeavesAGivenImageStoreOpen() {
    AtomicBoolean closed = new AtomicBoolean();
    ImageStore given =
        new ImageStore() {
          @Override
          public String put(byte[] bytes) {
            throw new UnsupportedOperationException();
          }

          @Override
          public Optional<byte[]> get(String hash) {
            return Optional.empty();
          }

          @Override
          public boolean delete(String hash) {
            return false;
          }

          @Override
          public boolean contains(String hash) {
            return false;
          }

          @Override
          public void close() {
            closed.set(true);
          }
        };
    FluxbotCore core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .images(given)
            .schedulerSettings(new JobScheduler.Settings(1, Map.of(), 10))
            .build();
    assertThat(core.images()).isSameAs(given);

    core.close();

    assertThat(closed).as("the caller's store").isFalse();
    assertThatThrownBy(
            () -> core.scheduler().submit("job", "u", "fake", () -> {}, JobScheduler.Listener.NONE))
        .isInstanceOf(IllegalStateException.class);
  }

  private ImagineCommand command(String text) {
    return new ImagineCommand(alice, text, Map.of(), List.of());
  }
}
