package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminCommandsTest {

  @Test
  void users_escapedMentionWithOrWithoutNameOrABareId() {
    assertThat(AdminCommands.USERS.parse("<@U0ALICE|alice>")).contains("U0ALICE");
    assertThat(AdminCommands.USERS.parse("<@W0ENTERPRISE>")).contains("W0ENTERPRISE");
    assertThat(AdminCommands.USERS.parse("U0BOB")).contains("U0BOB");
    assertThat(AdminCommands.USERS.parse("@alice")).isEqualTo(Optional.empty());
    assertThat(AdminCommands.USERS.parse("10")).isEmpty();
  }

  @Test
  void users_hintSaysHowToTurnOnEscaping() {
    assertThat(AdminCommands.USERS.hint())
        .isEqualTo(
            "a mention like @alice that Slack sends as <@U…> (turn on \"Escape channels, users, "
                + "and links\" for /imagine-admin in the app's Slash Commands settings), or a user id");
  }

  @Test
  void users_aReasonArrivesEscapedAndIsKeptAsTyped() {
    assertThat(AdminCommands.USERS.text("spam &amp; noise")).isEqualTo("spam & noise");
  }
}
