package dev.fluxbot.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.Random;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The retry rule alone: a fixed clock and a chosen random number, so nothing ever sleeps. */
class RetryPolicyTest {
  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final InstantSource CLOCK = InstantSource.fixed(NOW);

  /** Always draws the same fraction, and counts the draws. */
  private static final class Fixed implements RandomGenerator {
    private final double fraction;
    int draws;

    Fixed(double fraction) {
      this.fraction = fraction;
    }

    @Override
    public long nextLong() {
      throw new UnsupportedOperationException("the jitter draws a double");
    }

    @Override
    public double nextDouble() {
      draws++;
      return fraction;
    }
  }

  private static RetryPolicy policy(int maxRetries, Duration maxWait, double fraction) {
    return new RetryPolicy(maxRetries, maxWait, CLOCK, new Fixed(fraction));
  }

  @Test
  void theServersWaitIsKeptUpToTheMaximumWait() {
    RetryPolicy p = policy(5, Duration.ofMinutes(2), 0.5);
    assertThat(p.next(1, Optional.of(Duration.ofSeconds(7)))).contains(Duration.ofSeconds(7));
    assertThat(p.next(1, Optional.of(Duration.ofHours(1)))).contains(Duration.ofMinutes(2));
    assertThat(p.next(1, Optional.of(Duration.ofSeconds(-3)))).contains(Duration.ZERO);
  }

  @Test
  void withoutTheServersWaitItBacksOffWithFullJitterUpTo30Seconds() {
    RetryPolicy top = policy(20, Duration.ofMinutes(2), 0.999_999);
    assertThat(top.next(1, Optional.empty()).orElseThrow()).isLessThan(Duration.ofMillis(500));
    assertThat(top.next(2, Optional.empty()).orElseThrow())
        .isBetween(Duration.ofMillis(990), Duration.ofSeconds(1));
    assertThat(top.next(10, Optional.empty()).orElseThrow())
        .isBetween(Duration.ofMillis(29_990), Duration.ofSeconds(30));
    assertThat(policy(20, Duration.ofMinutes(2), 0.5).backoff(3)).isEqualTo(Duration.ofSeconds(1));
    assertThat(policy(20, Duration.ofMinutes(2), 0.0).backoff(6)).isEqualTo(Duration.ZERO);
  }

  @Test
  void noWaitIsLongerThanTheMaximumBackoffIncluded() {
    RetryPolicy p = policy(20, Duration.ofSeconds(5), 0.999_999);
    assertThat(p.backoff(10)).isEqualTo(Duration.ofSeconds(5));
    assertThat(p.delay(10, Optional.of(Duration.ofSeconds(9)))).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void itGivesUpAfterTheMaximumNumberOfRetries() {
    RetryPolicy p = policy(5, Duration.ofMinutes(2), 0.5);
    for (int tries = 1; tries <= 5; tries++) {
      assertThat(p.next(tries, Optional.of(Duration.ofSeconds(1)))).as("try " + tries).isPresent();
    }
    assertThat(p.next(6, Optional.of(Duration.ofSeconds(1)))).as("6 tries in all").isEmpty();
    assertThat(policy(0, Duration.ofMinutes(2), 0.5).next(1, Optional.empty())).isEmpty();
    assertThat(p.withMaxRetries(0).next(1, Optional.of(Duration.ofSeconds(1)))).isEmpty();
    assertThat(p.withMaxRetries(0).maxWait()).isEqualTo(p.maxWait());
    assertThat(p.delay(100, Optional.of(Duration.ofSeconds(3))))
        .as("a caller bounded by a deadline")
        .isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void giveUpDrawsNoRandomNumber() {
    Fixed counting = new Fixed(0.5);
    RetryPolicy p = new RetryPolicy(2, Duration.ofMinutes(2), CLOCK, counting);
    p.next(3, Optional.empty());
    p.next(1, Optional.of(Duration.ofSeconds(2)));
    assertThat(counting.draws).as("neither a give-up nor the server's wait draws").isZero();
    p.next(1, Optional.empty());
    assertThat(counting.draws).isEqualTo(1);
  }

  @Test
  void retryAfterIsSecondsOrAnHttpDate() {
    RetryPolicy p = RetryPolicy.standard();
    RetryPolicy fixed = new RetryPolicy(5, Duration.ofMinutes(2), CLOCK, new Random(1));
    assertThat(p.retryAfter("7")).contains(Duration.ofSeconds(7));
    assertThat(p.retryAfter(" 12 ")).contains(Duration.ofSeconds(12));
    assertThat(p.retryAfter("-4")).contains(Duration.ZERO);
    assertThat(fixed.retryAfter("Sat, 01 Mar 2025 12:00:30 GMT")).contains(Duration.ofSeconds(30));
    assertThat(fixed.retryAfter("Sat, 01 Mar 2025 11:00:00 GMT")).contains(Duration.ZERO);
    assertThat(p.retryAfter(null)).isEmpty();
    assertThat(p.retryAfter("soon")).isEmpty();
  }

  @Test
  void theStandardRuleIsFiveRetriesAndTwoMinutes() {
    RetryPolicy p = RetryPolicy.standard();
    assertThat(p.maxRetries()).isEqualTo(5);
    assertThat(p.maxWait()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void nonsenseLimitsAreRefused() {
    assertThatThrownBy(() -> new RetryPolicy(-1, Duration.ZERO, CLOCK, new Random()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRetries");
    assertThatThrownBy(() -> new RetryPolicy(1, Duration.ofSeconds(-1), CLOCK, new Random()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxWait");
  }
}
