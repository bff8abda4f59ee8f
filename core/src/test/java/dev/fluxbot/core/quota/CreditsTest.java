package dev.fluxbot.core.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class CreditsTest {
  @Test
  void typedCreditsBecomeMillicredits() {
    assertThat(Credits.parse("credits", "50")).isEqualTo(50_000);
    assertThat(Credits.parse("credits", " 1.5 ")).isEqualTo(1_500);
    assertThat(Credits.parse("credits", "0.001")).isEqualTo(1);
    assertThat(Credits.parse("credits", "2.500000"))
        .as("zeros past the third decimal")
        .isEqualTo(2_500);
    assertThat(Credits.parse("credits", "1e3")).isEqualTo(1_000_000);
    assertThat(Credits.parse("credits", "1000000000")).isEqualTo(1_000_000_000_000L);
  }

  @Test
  void aFractionOfAMillicreditIsRefusedNotRounded() {
    assertThatThrownBy(() -> Credits.parse("credits", "0.0005"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "credits: must be a number from 0 to 1000000000 with at most 3 decimals"
                + " (1 credit = $0.01); got \"0.0005\"");
  }

  @Test
  void negativeHugeAndNonNumbersAreRefusedNamingTheField() {
    for (String bad : new String[] {"-1", "1000000000.001", "ten", "", "1e400", "NaN"}) {
      assertThatThrownBy(() -> Credits.parse("--credits", bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("--credits: must be a number from 0 to 1000000000");
    }
    assertThatThrownBy(() -> Credits.parse("credits", new BigDecimal("1e400")))
        .hasMessageEndingWith("got \"1E+400\"");
  }

  @Test
  void creditsReadWithTheirNoun() {
    assertThat(Credits.format(1_400)).isEqualTo("1.4");
    assertThat(Credits.count(1_000)).isEqualTo("1 credit");
    assertThat(Credits.count(500)).isEqualTo("0.5 credits");
    assertThat(Credits.count(new BigDecimal("3.00"))).isEqualTo("3 credits");
    assertThat(Credits.milli(new BigDecimal("1.4005")))
        .as("a reported cost rounds half-up")
        .isEqualTo(1_401);
  }
}
