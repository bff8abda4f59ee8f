package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressTest {
  @Test
  void aStageReadsAsItsLabelWithThePercentWhereKnown() {
    assertThat(new Progress(Progress.Stage.GENERATING, 0.4, "Pending").text())
        .isEqualTo("Generating 40%…");
    assertThat(Progress.of(Progress.Stage.SUBMITTED, "task 123").text())
        .as("a technical detail stays out")
        .isEqualTo("Submitted…");
  }

  @Test
  void aRetryReadsAsItsReason() {
    assertThat(Progress.of(Progress.Stage.RETRYING, "worker restarted, retrying").text())
        .isEqualTo("Worker restarted, retrying…");
    assertThat(Progress.of(Progress.Stage.RETRYING, "").text()).isEqualTo("Retrying…");
  }
}
