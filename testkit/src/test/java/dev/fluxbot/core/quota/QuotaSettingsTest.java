package dev.fluxbot.core.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.quota.QuotaService.Period;
import dev.fluxbot.core.quota.QuotaService.Settings;
import dev.fluxbot.core.quota.QuotaService.Subject;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The value types: no database needed. */
class QuotaSettingsTest {
  @Test
  void defaultsAreFiftyCreditsADayInUtcTwoJobsAtATimeAndNoBflCap() {
    assertThat(Settings.defaults())
        .isEqualTo(new Settings(ZoneOffset.UTC, Period.DAY, 50_000, 2, null));
  }

  @Test
  void settingsRefuseValuesThatCannotWork() {
    assertThatThrownBy(() -> new Settings(ZoneOffset.UTC, Period.DAY, 50_000, 0, null))
        .hasMessage("maxConcurrentJobsPerUser must be at least 1. Provided: 0");
    assertThatThrownBy(() -> new Settings(ZoneOffset.UTC, Period.DAY, -1, 2, null))
        .hasMessage("defaultCreditsMilli must not be negative. Provided: -1");
    assertThatThrownBy(() -> new Settings(ZoneOffset.UTC, Period.DAY, 1, 2, -5L))
        .hasMessage("monthlyBflSpendCapMilli must not be negative. Provided: -5");
  }

  @Test
  void subjectsDefaultAMissingScopeToEveryScope() {
    assertThat(Subject.scope("discord", null))
        .isEqualTo(new Subject("discord", "*", Subject.Kind.SCOPE, "*"));
    assertThat(Subject.user("slack", null, "U1"))
        .isEqualTo(new Subject("slack", "*", Subject.Kind.USER, "U1"));
    assertThat(Subject.role("discord", "g", "r").kind()).isEqualTo(Subject.Kind.ROLE);
  }

  @Test
  void subjectsRefuseRulesThatWouldNeverApply() {
    assertThatThrownBy(() -> Subject.role("discord", "g", "*"))
        .hasMessage("a role rule needs a role id, not \"*\"");
    assertThatThrownBy(() -> Subject.user("*", "*", "alice"))
        .hasMessage(
            "platform \"*\" is only for a scope rule in every scope; use the user's or role's own platform");
    assertThatThrownBy(() -> new Subject("discord", "g", Subject.Kind.SCOPE, "x"))
        .hasMessage("a scope rule's id must be \"*\". Provided: \"x\"");
  }
}
