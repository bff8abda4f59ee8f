package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AdminCommandsTest {

  @Test
  void user_escapedMentionWithOrWithoutName() {
    assertThat(AdminCommands.user("<@U0ALICE|alice>", "x")).isEqualTo("U0ALICE");
    assertThat(AdminCommands.user("<@W0ENTERPRISE>", "x")).isEqualTo("W0ENTERPRISE");
    assertThat(AdminCommands.user("U0BOB", "x")).isEqualTo("U0BOB");
  }

  @Test
  void user_plainNameSaysHowToTurnOnEscaping() {
    assertThatThrownBy(() -> AdminCommands.user("@alice", "quota show @alice"))
        .hasMessage(
            "user: expected a mention like @alice that Slack sends as <@U…> (turn on \"Escape channels, users, "
                + "and links\" for /imagine-admin in the app's Slash Commands settings), or a user id; got \"@alice\". "
                + "Example: `/imagine-admin quota show @alice`.");
  }

  @Test
  void credits_decimalsToMilli() {
    assertThat(AdminCommands.credits("50", "x")).isEqualTo(50_000);
    assertThat(AdminCommands.credits("0.125", "x")).isEqualTo(125);
    assertThat(AdminCommands.credits("0", "x")).isZero();
  }

  @Test
  void credits_negativeOrTooPreciseOrText() {
    for (String bad : new String[] {"-1", "0.0001", "ten"}) {
      assertThatThrownBy(() -> AdminCommands.credits(bad, "quota grant @alice 10"))
          .hasMessage(
              "credits: must be a number from 0 to 1000000000 with at most 3 decimals"
                  + " (1 credit = $0.01); got \""
                  + bad
                  + "\". Example: `/imagine-admin quota grant @alice 10`.");
    }
  }
}
