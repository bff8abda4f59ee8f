package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.http.RetryPolicy;
import dev.fluxbot.testkit.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SlackPartsTest {

  @Test
  void address_roundTripsWithoutTheResponseUrl() {
    SlackAddress a =
        new SlackAddress(
            "T1", "C1", "1700000000.000100", "U1", "https://hooks.slack.com/commands/x");
    SlackAddress back = SlackAddress.parse(a.toJson()).orElseThrow();
    assertThat(back).isEqualTo(new SlackAddress("T1", "C1", "1700000000.000100", "U1", null));
    assertThat(a.toJson()).doesNotContain("hooks.slack.com");
  }

  @Test
  void address_otherPlatformsAndJunkAreNotSlacks() {
    assertThat(SlackAddress.parse("{\"kind\":\"discord\",\"channel\":\"1\",\"user\":\"2\"}"))
        .isEmpty();
    assertThat(SlackAddress.parse("not json")).isEmpty();
    assertThat(SlackAddress.parse(null)).isEmpty();
  }

  @Test
  void retryAfter_secondsAsSlackSaysWithinBounds() {
    RetryPolicy rule = SlackApi.RATE_LIMITS;
    assertThat(rule.next(1, rule.retryAfter("7"))).contains(Duration.ofSeconds(7));
    assertThat(rule.next(1, rule.retryAfter("0"))).contains(Duration.ZERO);
    assertThat(rule.next(1, rule.retryAfter(null)).orElseThrow())
        .as("no Retry-After: the backoff")
        .isLessThanOrEqualTo(Duration.ofMillis(500));
    assertThat(rule.next(1, rule.retryAfter("soon")).orElseThrow())
        .isLessThanOrEqualTo(Duration.ofMillis(500));
    assertThat(rule.next(1, rule.retryAfter("3600"))).contains(Duration.ofMinutes(2));
    assertThat(rule.next(5, rule.retryAfter("7"))).isPresent();
    assertThat(rule.next(6, rule.retryAfter("7"))).as("6 tries in all").isEmpty();
  }

  @Test
  void texts_escapeSlackMarkupInUserText() {
    assertThat(Texts.escape("<!channel> & <@U1>")).isEqualTo("&lt;!channel&gt; &amp; &lt;@U1&gt;");
    assertThat(Texts.shortPrompt("x".repeat(100))).hasSize(80).endsWith("…");
  }

  @Test
  void deliveries_aRepeatWithinTheHourIsNotFirstAndTheOldestGoFirst() {
    MutableClock clock = new MutableClock();
    Deliveries d =
        new Deliveries(
            clock, null); // this process's memory alone; DeliveryLogTest covers the database's

    assertThat(d.firstHere("event Ev1")).isTrue();
    assertThat(d.firstHere("event Ev1")).as("Slack's retry").isFalse();
    assertThat(d.firstHere("trigger 1.2.abc")).isTrue();
    clock.advance(Deliveries.LIFE.plusSeconds(1));
    assertThat(d.firstHere("event Ev1")).as("forgotten after its hour").isTrue();
  }

  @Test
  void deliveries_atMostMaxAreKept() {
    Deliveries d = new Deliveries(new MutableClock(), null);
    for (int i = 0; i <= Deliveries.MAX; i++) {
      assertThat(d.firstHere("event Ev" + i)).isTrue();
    }
    assertThat(d.firstHere("event Ev" + Deliveries.MAX)).isFalse();
    assertThat(d.firstHere("event Ev0")).as("the oldest made room").isTrue();
  }

  @Test
  void formRefusal_aBusyOrExpiredTriggerAsksToPressAgainWithoutSlacksCode() {
    for (String error :
        new String[] {SlackApi.RATE_LIMITED, "expired_trigger_id", "invalid_trigger_id"}) {
      assertThat(SlackForms.formRefusal(error, "Vary"))
          .startsWith("⏳")
          .contains("within 3 seconds")
          .contains("Press *Vary* again")
          .doesNotContain(error);
    }
    assertThat(SlackForms.formRefusal("not_allowed", "Use as reference"))
        .startsWith("❌")
        .contains("Slack said: not_allowed")
        .contains("Press *Use as reference* again");
  }
}
