package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import dev.fluxbot.core.JobIds;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ActionIdsTest {
  private final String jobId =
      new JobIds(InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z")), new Random(7)).next();

  @Test
  void formatsFollowUpAndJob() {
    assertThat(ActionIds.format(FollowUp.VARY, "01JD8Z")).isEqualTo("fx:vary:01JD8Z");
  }

  @Test
  void everyFollowUpRoundTripsWithARealJobId() {
    for (FollowUp f : FollowUp.values()) {
      assertThat(ActionIds.parse(ActionIds.format(f, jobId))).isEqualTo(new ActionRef(f, jobId));
    }
  }

  @Test
  void idsLongerThanSlackAllowsAreRefused() {
    assertThat(ActionIds.format(FollowUp.REROLL, "A".repeat(245))).hasSize(255);
    assertThatThrownBy(() -> ActionIds.format(FollowUp.REROLL, "A".repeat(246)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("action_id: at most 255 characters; got 256 for job id \"AAAA");
    assertThatThrownBy(() -> ActionIds.parse("fx:reroll:" + "A".repeat(246)))
        .hasMessage("action_id: at most 255 characters; got 256");
  }

  @Test
  void idsOfAnotherShapeAreRefused() {
    for (String junk :
        new String[] {
          "", "fx", "fx:ref", "fx:ref:", "fx::01JD", "xx:ref:01JD", "fx:ref:01JD:1", "fx:ref:01 JD"
        }) {
      assertThatThrownBy(() -> ActionIds.parse(junk))
          .as(junk)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> ActionIds.parse("imagine_button"))
        .hasMessage("action_id: expected fx:<followUpId>:<jobId>; got \"imagine_button\"");
    assertThatThrownBy(() -> ActionIds.parse("fx:REROLL:01JD"))
        .hasMessage(
            "action_id: unknown follow-up \"REROLL\" in \"fx:REROLL:01JD\"; known: reroll, vary, 2k, ref");
    assertThatThrownBy(() -> ActionIds.parse("fx:ref:01 JD"))
        .hasMessage("job id: must be 1 or more ASCII letters and digits; got \"01 JD\"");
  }
}
