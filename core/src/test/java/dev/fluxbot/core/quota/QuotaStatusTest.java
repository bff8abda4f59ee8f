package dev.fluxbot.core.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The one text of credits that /quota and an admin's quota show share on every platform. */
class QuotaStatusTest {
  private static QuotaService.Status status(
      QuotaService.Period period, long limit, long spent, long held, long granted) {
    return new QuotaService.Status(
        period,
        limit,
        spent,
        held,
        granted,
        Math.max(0, limit + granted - spent - held),
        Instant.EPOCH,
        Instant.EPOCH,
        "default",
        false);
  }

  @Test
  void summaryNamesLeftTotalSpentAndHeldCredits() {
    assertThat(status(QuotaService.Period.DAY, 10_000, 5_500, 1_000, 0).summary())
        .isEqualTo("3.5 of 10 credits left today (spent 5.5, 1 held by images in progress)");
    assertThat(status(QuotaService.Period.WEEK, 50_000, 0, 0, 5_000).summary())
        .isEqualTo("55 of 55 credits left this week (spent 0)");
    assertThat(status(QuotaService.Period.MONTH, 1_000, 250, 0, 0).summary())
        .isEqualTo("0.75 of 1 credit left this month (spent 0.25)");
  }
}
