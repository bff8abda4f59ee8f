package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery log on SQLite and on a real PostgreSQL: a repeat within its life is caught, also by
 * a new process.
 */
class DeliveryLogTest {
  @TempDir Path dir;

  private static void remembersARepeatAcrossInstancesAndForgetsItAfterItsLife(Database db) {
    MutableClock clock = new MutableClock();
    DeliveryLog before = new DeliveryLog(db, clock, Duration.ofHours(1));
    assertThat(before.first("slack event Ev1")).isTrue();
    assertThat(before.first("slack event Ev1")).isFalse();

    DeliveryLog afterRestart = new DeliveryLog(db, clock, Duration.ofHours(1));
    clock.advance(Duration.ofMinutes(5)); // Slack's last retry
    assertThat(afterRestart.first("slack event Ev1")).as("a retry after a restart").isFalse();
    assertThat(afterRestart.first("slack event Ev2")).isTrue();
    clock.advance(Duration.ofHours(1));
    assertThat(afterRestart.first("slack event Ev1")).as("forgotten after its hour").isTrue();
    assertThat(afterRestart.first("slack event Ev1")).isFalse();
    for (int i = 0; i < 300; i++) { // past the prune interval: old ids go, new ones stay
      afterRestart.first("slack trigger " + i);
    }
    assertThat(afterRestart.first("slack trigger 7")).isFalse();
    assertThat(afterRestart.first("x".repeat(500))).isTrue();
    assertThat(afterRestart.first("x".repeat(500))).as("a long id is cut, not refused").isFalse();
  }

  @Test
  void sqlite() {
    try (Database db = Database.sqlite(dir.resolve("fluxbot.db"))) {
      remembersARepeatAcrossInstancesAndForgetsItAfterItsLife(db);
    }
  }

  @Test
  void postgres() {
    try (Database db = DatabaseTest.postgres()) {
      remembersARepeatAcrossInstancesAndForgetsItAfterItsLife(db);
    }
  }
}
