package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import dev.fluxbot.core.JobIds;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ButtonIdsTest {
  private final String jobId =
      new JobIds(InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z")), new Random(7)).next();

  @Test
  void formatsFollowUpAndJob() {
    assertThat(ButtonIds.format(FollowUp.REROLL, "01JD8Z")).isEqualTo("fx:reroll:01JD8Z");
    assertThat(ButtonIds.format(FollowUp.UPSCALE_2K, "01JD8Z")).isEqualTo("fx:2k:01JD8Z");
  }

  @Test
  void everyFollowUpRoundTripsWithARealJobId() {
    for (FollowUp f : FollowUp.values()) {
      String id = ButtonIds.format(f, jobId);
      assertThat(id).hasSizeLessThanOrEqualTo(100);
      assertThat(ButtonIds.parse(id)).isEqualTo(new ActionRef(f, jobId));
    }
  }

  @Test
  void idOfAnotherShapeIsRefused() {
    for (String junk :
        new String[] {
          "",
          "fx",
          "fx:reroll",
          "fx:reroll:",
          "xx:reroll:01JD",
          "fx:reroll:01JD:extra",
          "FX:reroll:01JD"
        }) {
      assertThatThrownBy(() -> ButtonIds.parse(junk))
          .as(junk)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> ButtonIds.parse("fx:reroll"))
        .hasMessage("custom_id: expected fx:<followUpId>:<jobId>; got \"fx:reroll\"");
  }

  @Test
  void unknownFollowUpIsRefusedNamingTheKnownOnes() {
    assertThatThrownBy(() -> ButtonIds.parse("fx:upscale:01JD"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "custom_id: unknown follow-up \"upscale\" in \"fx:upscale:01JD\"; known: reroll, vary, 2k, ref");
  }

  @Test
  void jobIdWithOtherThanLettersAndDigitsIsRefused() {
    assertThatThrownBy(() -> ButtonIds.parse("fx:vary:01JD 8Z"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("job id: must be 1 or more ASCII letters and digits; got \"01JD 8Z\"");
    assertThatThrownBy(() -> ButtonIds.format(FollowUp.VARY, "ÄBC"))
        .hasMessage("job id: must be 1 or more ASCII letters and digits; got \"ÄBC\"");
    assertThatThrownBy(() -> ButtonIds.parse("fx:vary:"))
        .hasMessage("job id: must be 1 or more ASCII letters and digits; got \"\"");
  }

  @Test
  void idsLongerThanDiscordAllowsAreRefused() {
    String longJob = "A".repeat(91); // "fx:reroll:" is 10 characters: 101 in all
    assertThatThrownBy(() -> ButtonIds.format(FollowUp.REROLL, longJob))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("custom_id: at most 100 characters; got 101 for job id \"AAAA");
    assertThat(ButtonIds.format(FollowUp.REROLL, "A".repeat(90))).hasSize(100);
    assertThatThrownBy(() -> ButtonIds.parse("fx:reroll:" + longJob))
        .hasMessage("custom_id: at most 100 characters; got 101");
  }
}
