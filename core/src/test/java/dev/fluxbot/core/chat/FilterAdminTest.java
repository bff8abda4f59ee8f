package dev.fluxbot.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.SettingsStore;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code filter add|remove|list} as words after Slack's and Telegram's admin commands. */
class FilterAdminTest {
  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-12-08T01:00:00Z"));
  private final ChatAdmin.Scope here = new ChatAdmin.Scope("slack", "T1", "in this workspace");
  @TempDir Path dir;
  private Database db;
  private AdminWords words;

  /** Slack sends &lt; &gt; &amp; escaped; the admin's words are unescaped before they are kept. */
  private static final AdminWords.Users SLACK =
      new AdminWords.Users() {
        @Override
        public Optional<String> parse(String word) {
          return Optional.empty();
        }

        @Override
        public String implied() {
          return null;
        }

        @Override
        public String hint() {
          return "a mention";
        }

        @Override
        public String example() {
          return "@alice";
        }

        @Override
        public String text(String typed) {
          return typed.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        }
      };

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    SettingsStore settings = new SettingsStore(db, clock);
    QuotaService quota = new QuotaService(db, QuotaService.Settings.defaults(), clock);
    words =
        new AdminWords(
            new ChatAdmin(
                quota, settings, ModelCatalog.builtIn(), new ChatTexts(ChatAdminTest.SEEN), clock));
  }

  @AfterEach
  void close() {
    db.close();
  }

  private String run(String text) {
    return words.run(here, AdminWords.words(text), SLACK);
  }

  @Test
  void addListRemoveWithTheRegexFlagFirstOrLast() {
    assertThat(run("filter add red   fox")).startsWith("Added the word filter \"red fox\" in this");
    assertThat(run("filter add --regex a&lt;b")).startsWith("Added the regex filter \"a~b\"");
    assertThat(run("filter add c[a@]t --regex")).startsWith("Added the regex filter \"c[a@]t\"");
    assertThat(run("filter list"))
        .as("oldest first; added in the same millisecond: by pattern")
        .isEqualTo(
            "Word filters in this workspace (3):\n• regex \"a~b\"\n• regex \"c[a@]t\"\n"
                + "• word \"red fox\"");
    assertThat(run("filter remove a&lt;b"))
        .isEqualTo("Removed the filter \"a~b\" in this workspace.");
    assertThat(run("filter list")).contains("(2)");
  }

  @Test
  void mistakesNameTheFieldAndShowAnExample() {
    assertThatThrownBy(() -> run("filter add --regex nud(e|ity"))
        .isInstanceOfSatisfying(
            AdminWords.Mistake.class,
            m -> assertThat(m.example()).isEqualTo("filter add some words"))
        .hasMessageStartingWith("pattern: must be a valid regular expression");
    assertThatThrownBy(() -> run("filter add"))
        .hasMessageStartingWith("pattern: must be 1 to 200 characters; got 0");
    assertThatThrownBy(() -> run("filter zap x"))
        .hasMessage(
            "filter: expected add PATTERN [--regex], remove PATTERN or list; got \"zap x\"");
    assertThatThrownBy(() -> run("filter remove owl"))
        .hasMessageStartingWith("filter remove: no filter \"owl\" is set in this workspace");
    assertThatThrownBy(() -> run("nonsense"))
        .hasMessage(
            "command: expected quota, default-model, max-safety, default-n, filter or enhance; got \"nonsense\"");
  }
}
