package dev.fluxbot.telegram;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import dev.fluxbot.core.JobIds;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CallbackDataTest {
  private final String jobId =
      new JobIds(InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z")), new Random(7)).next();

  @Test
  void encodesFollowUpAndJob() {
    assertThat(CallbackData.encode(FollowUp.USE_AS_REFERENCE, "01JD8Z")).isEqualTo("fx:ref:01JD8Z");
  }

  @Test
  void everyFollowUpRoundTripsWithinSixtyFourBytes() {
    for (FollowUp f : FollowUp.values()) {
      String data = CallbackData.encode(f, jobId);
      assertThat(data.getBytes(UTF_8)).hasSizeLessThanOrEqualTo(64);
      assertThat(CallbackData.decode(data)).isEqualTo(new ActionRef(f, jobId));
    }
  }

  @Test
  void dataLongerThanTelegramAllowsIsRefused() {
    assertThat(CallbackData.encode(FollowUp.REROLL, "A".repeat(54))).hasSize(64);
    assertThatThrownBy(() -> CallbackData.encode(FollowUp.REROLL, "A".repeat(55)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "callback_data: at most 64 bytes (UTF-8); got 65 for job id \"AAAA");
  }

  @Test
  void lengthIsCountedInUtf8Bytes() {
    String data = "fx:reroll:" + "é".repeat(30); // 40 characters, 70 bytes
    assertThatThrownBy(() -> CallbackData.decode(data))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("callback_data: at most 64 bytes (UTF-8); got 70");
  }

  @Test
  void dataOfAnotherShapeIsRefused() {
    for (String junk :
        new String[] {
          "",
          "fx",
          "fx:vary",
          "fx::01JD",
          "fx:vary:",
          "ab:vary:01JD",
          "fx:vary:01JD:x",
          "fx:vary:01-JD",
          "fx:vary:é"
        }) {
      assertThatThrownBy(() -> CallbackData.decode(junk))
          .as(junk)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> CallbackData.decode("hello"))
        .hasMessage("callback_data: expected fx:<followUpId>:<jobId>; got \"hello\"");
    assertThatThrownBy(() -> CallbackData.decode("fx:zoom:01JD"))
        .hasMessage(
            "callback_data: unknown follow-up \"zoom\" in \"fx:zoom:01JD\"; known: reroll, vary, 2k, ref");
    assertThatThrownBy(() -> CallbackData.decode("fx:vary:01-JD"))
        .hasMessage("job id: must be 1 or more ASCII letters and digits; got \"01-JD\"");
  }

  @Test
  void originalAsFileCarriesOnlyTheJobIdAndOtherDataIsNotIt() {
    String data = CallbackData.encodeOriginal(jobId);
    assertThat(data).isEqualTo("fx:file:" + jobId);
    assertThat(data.getBytes(UTF_8)).hasSizeLessThanOrEqualTo(64);
    assertThat(CallbackData.originalJobId(data)).contains(jobId);
    for (String other :
        new String[] {
          "fx:reroll:" + jobId, "fx:file:", "fx:file:01-JD", "fx:file:" + "A".repeat(57), ""
        }) {
      assertThat(CallbackData.originalJobId(other)).as(other).isEmpty();
    }
    assertThatThrownBy(() -> CallbackData.encodeOriginal("A".repeat(57)))
        .hasMessageStartingWith("callback_data: at most 64 bytes (UTF-8); got 65");
  }
}
