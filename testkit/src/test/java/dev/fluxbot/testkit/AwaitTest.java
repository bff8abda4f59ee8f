package dev.fluxbot.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AwaitTest {
  private static final Duration SHORT = Duration.ofMillis(100);
  private final AtomicInteger counter = new AtomicInteger();

  @Test
  void untilReturnsOnceTheConditionHolds() {
    Await.until("three looks", Duration.ofSeconds(10), () -> counter.incrementAndGet() >= 3);

    assertThat(counter).hasValue(3);
  }

  @Test
  void untilFailsNamingWhatItAwaited() {
    assertThatThrownBy(() -> Await.until("the moon", SHORT, () -> false))
        .isInstanceOf(AssertionError.class)
        .hasMessage("Not within 100 ms: the moon");
  }

  @Test
  void theValueVariantReturnsTheValueAndFailsWithTheLastOneSeen() {
    assertThat(Await.until("7", Duration.ofSeconds(10), counter::incrementAndGet, n -> n == 7))
        .isEqualTo(7);

    assertThatThrownBy(() -> Await.until("a negative", SHORT, () -> 42, n -> n < 0))
        .isInstanceOf(AssertionError.class)
        .hasMessage("Not within 100 ms: a negative; last seen: 42");
  }

  @Test
  void aProbeThatThrowsEndsTheWait() {
    assertThatThrownBy(
            () ->
                Await.until(
                    "x",
                    Duration.ofSeconds(10),
                    () -> {
                      throw new java.io.IOException("gone");
                    },
                    v -> true))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("gone");
  }

  @Test
  void presentReturnsWhatTheProbeFoundOrFailsWithTheGivenMessage() {
    assertThat(
            Await.present(
                "a 2",
                Duration.ofSeconds(10),
                () -> counter.incrementAndGet() == 2 ? Optional.of("two") : Optional.empty()))
        .isEqualTo("two");

    assertThatThrownBy(() -> Await.present(SHORT, Optional::empty, () -> "nothing, saw: []"))
        .isInstanceOf(AssertionError.class)
        .hasMessage("nothing, saw: []");
  }

  @Test
  void duringChecksForTheWholePeriodAndFailsAtTheFirstBadValue() {
    long start = System.nanoTime();
    Await.during("stays small", SHORT, counter::incrementAndGet, n -> n < 1_000);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(SHORT);

    assertThatThrownBy(
            () -> Await.during("stays small", SHORT, () -> counter.addAndGet(1000), n -> n < 1000))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("Not for 100 ms: stays small; saw: ");
  }
}
