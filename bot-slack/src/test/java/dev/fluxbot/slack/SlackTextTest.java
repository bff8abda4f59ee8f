package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SlackTextTest {

  @Test
  void escapedCharactersComeBackAsTyped() {
    assertThat(SlackText.unescape("cats &amp; dogs &lt;3 --ar 16:9 &gt; nothing"))
        .isEqualTo("cats & dogs <3 --ar 16:9 > nothing");
  }

  @Test
  void entitiesAreDecodedOnce() {
    // The user typed "&lt;" literally; Slack sent "&amp;lt;".
    assertThat(SlackText.unescape("&amp;lt; &amp;amp;")).isEqualTo("&lt; &amp;");
  }

  @Test
  void unknownEntitiesAndLoneAmpersandsStay() {
    assertThat(SlackText.unescape("R&D &quot;x&quot; &")).isEqualTo("R&D &quot;x&quot; &");
  }

  @Test
  void autoLinkedTextBecomesWhatWasTyped() {
    assertThat(SlackText.unescape("in the style of <http://example.com|example.com>"))
        .isEqualTo("in the style of example.com");
    assertThat(SlackText.unescape("mail <mailto:ada@example.com|ada@example.com>"))
        .isEqualTo("mail ada@example.com");
  }

  @Test
  void linkWithoutLabelBecomesItsUrl() {
    assertThat(SlackText.unescape("see <https://example.com/a.png?x=1&amp;y=2>"))
        .isEqualTo("see https://example.com/a.png?x=1&y=2");
    assertThat(SlackText.unescape("<https://example.com/|>")).isEqualTo("https://example.com/");
  }

  @Test
  void escapedLabelsAreDecoded() {
    assertThat(SlackText.unescape("<https://example.com|R&amp;D &lt;lab&gt;>"))
        .isEqualTo("R&D <lab>");
  }

  @Test
  void userMentionsBecomeAtNames() {
    assertThat(SlackText.unescape("a portrait of <@U0123ABC>"))
        .isEqualTo("a portrait of @U0123ABC");
    assertThat(SlackText.unescape("a portrait of <@U0123ABC|ada>")).isEqualTo("a portrait of @ada");
  }

  @Test
  void channelMentionsBecomeHashNames() {
    assertThat(SlackText.unescape("poster for <#C024BE7LR|general>"))
        .isEqualTo("poster for #general");
    assertThat(SlackText.unescape("poster for <#C024BE7LR|>")).isEqualTo("poster for #C024BE7LR");
    assertThat(SlackText.unescape("poster for <#C024BE7LR>")).isEqualTo("poster for #C024BE7LR");
  }

  @Test
  void specialMentionsBecomeReadable() {
    assertThat(SlackText.unescape("<!here> <!channel> <!everyone>"))
        .isEqualTo("@here @channel @everyone");
    assertThat(SlackText.unescape("<!subteam^SAZ94GDB8|@design> <!subteam^SAZ94GDB8>"))
        .isEqualTo("@design @SAZ94GDB8");
    assertThat(SlackText.unescape("<!date^1392734382^{date_short}|Feb 18, 2014>"))
        .isEqualTo("Feb 18, 2014");
  }

  @Test
  void unmatchedAngleBracketStaysLiteral() {
    assertThat(SlackText.unescape("a < b")).isEqualTo("a < b");
  }

  @Test
  void structuredJsonPromptSurvives() {
    assertThat(
            SlackText.unescape("{\"scene\": \"fox &amp; hound\", \"color\": \"#ff8800\"} --seed 4"))
        .isEqualTo("{\"scene\": \"fox & hound\", \"color\": \"#ff8800\"} --seed 4");
  }

  @Test
  void plainTextIsUnchanged() {
    assertThat(SlackText.unescape("")).isEmpty();
    assertThat(SlackText.unescape("a red fox in snow --ar 16:9"))
        .isEqualTo("a red fox in snow --ar 16:9");
  }
}
