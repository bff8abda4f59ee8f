package dev.fluxbot.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class MutableClockTest {
  @Test
  void startsAtAFixedInstantAndMovesOnlyWhenAdvanced() {
    MutableClock clock = new MutableClock();

    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START);
    assertThat(clock.advance(Duration.ofMinutes(10)))
        .isEqualTo(MutableClock.DEFAULT_START.plusSeconds(600));
    assertThat(clock.millis())
        .isEqualTo(MutableClock.DEFAULT_START.plusSeconds(600).toEpochMilli());
  }

  @Test
  void advancingBackwardsIsRejected() {
    assertThatThrownBy(() -> new MutableClock().advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-1S");
  }

  @Test
  void setMovesEitherWay() {
    MutableClock clock = new MutableClock(Instant.EPOCH);
    clock.set(Instant.parse("2030-01-01T00:00:00Z"));
    clock.set(Instant.EPOCH);

    assertThat(clock.instant()).isEqualTo(Instant.EPOCH);
  }

  @Test
  void concurrentAdvancesAreNotLost() {
    MutableClock clock = new MutableClock(Instant.EPOCH);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 1000; i++) threads.submit(() -> clock.advance(Duration.ofMillis(1)));
    }

    assertThat(clock.instant()).isEqualTo(Instant.EPOCH.plusSeconds(1));
  }
}
