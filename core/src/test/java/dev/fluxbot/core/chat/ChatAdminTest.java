package dev.fluxbot.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.SettingsStore;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin commands and texts every platform shares, through a markup that shows its seams. */
class ChatAdminTest {
  /** Markup that makes each seam visible: [b:…], {user:…}, <time>, escape as ~. */
  static final Markup SEEN =
      new Markup() {
        @Override
        public String bold(String safeText) {
          return "[b:" + safeText + "]";
        }

        @Override
        public String escape(String userText) {
          return userText.replace("<", "~");
        }

        @Override
        public String user(String userId) {
          return "{user:" + userId + "}";
        }

        @Override
        public String time(Instant at, Instant now) {
          return "<" + at + ">";
        }

        @Override
        public String channel(String channelId) {
          return "#" + channelId;
        }

        @Override
        public int maxText() {
          return 40;
        }
      };

  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));
  private final ChatAdmin.Scope here = new ChatAdmin.Scope("test", "g1", "in this group");
  @TempDir Path dir;
  private Database db;
  private ChatAdmin admin;
  private SettingsStore settings;

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    settings = new SettingsStore(db, clock);
    QuotaService quota = new QuotaService(db, QuotaService.Settings.defaults(), clock);
    admin = new ChatAdmin(quota, settings, ModelCatalog.builtIn(), new ChatTexts(SEEN), clock);
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void quotaAnswersAreTheSameSentencesOnEveryPlatform() {
    assertThat(admin.setQuota(here, "u1", QuotaService.Period.WEEK, 3_000))
        .isEqualTo("Set {user:u1} in this group to 3 credits per week.");
    assertThat(admin.setQuota(here, null, QuotaService.Period.DAY, 1_000))
        .isEqualTo("Set everyone in this group to 1 credit per day.");
    assertThat(admin.grant(here, "u1", 2_500))
        .isEqualTo(
            "Granted 2.5 credits to {user:u1}. {user:u1} has 5.5 of 5.5 credits left this week"
                + " (spent 0); limit from user; resets <2026-11-23T00:00:00Z>.");
    assertThat(admin.ban(here, "u1", "spam <here>"))
        .isEqualTo("Banned {user:u1} from making images in this group (spam ~here>).");
    assertThat(admin.show(here, "u1")).contains("; banned;");
    assertThat(admin.unban(here, "u1")).isEqualTo("Unbanned {user:u1} in this group.");
    assertThat(admin.reset(here, "u1")).startsWith("Reset {user:u1}'s spending in this window. ");
  }

  @Test
  void scopeSettingsAreCheckedAndKept() {
    assertThat(admin.defaultModel(here, "pro"))
        .isEqualTo("The default model in this group is now [b:pro].");
    assertThat(admin.maxSafety(here, "2"))
        .isEqualTo("Users in this group may now ask for --safety up to [b:2].");
    assertThat(settings.scope("test", "g1"))
        .isEqualTo(new SettingsStore.ScopeSettings("pro", 2, null));
    assertThatThrownBy(() -> admin.defaultModel(here, "dalle"))
        .hasMessageStartingWith("model: must be one of ")
        .hasMessageEndingWith("; got \"dalle\"");
    assertThatThrownBy(() -> admin.maxSafety(here, "6"))
        .hasMessage("max-safety: must be a whole number from 0 (strict) to 5; got \"6\"");
    ChatAdmin.Scope everywhere = new ChatAdmin.Scope("test", null, "in every chat");
    assertThatThrownBy(() -> admin.maxSafety(everywhere, "1"))
        .hasMessageContaining("send it in that group; got it in a private chat");
  }

  @Test
  void creditsFollowTheOneRule() {
    assertThat(Credits.parse("credits", "0.005")).isEqualTo(5);
    assertThatThrownBy(() -> Credits.parse("credits", "0.0005"))
        .hasMessageStartingWith("credits: must be a number from 0 to 1000000000");
  }

  @Test
  void errorsAreCutToThePlatformsLimitAndProgressHasItsIcon() {
    ChatTexts texts = new ChatTexts(SEEN);
    String long_ = texts.error(new UserError(UserError.Code.INVALID_OPTION, "x".repeat(100)));
    assertThat(long_).hasSize(40).startsWith("⚠️ x").endsWith("…");
    assertThat(texts.error(new UserError(UserError.Code.MODERATED, "no"))).isEqualTo("🚫 no");
    assertThat(ChatTexts.progress(new Progress(Progress.Stage.GENERATING, 0.4, "")))
        .isEqualTo("🎨 Generating 40%…");
    assertThat(ChatTexts.mb(12_600_000)).isEqualTo("12.6 MB");
    assertThat(ChatTexts.cut("a\uD83E\uDD8Ab", 3)).as("no half emoji").isEqualTo("a…");
  }

  /** Users named by numbers, as on Telegram, with a replied-to author standing in. */
  private static AdminWords.Users numbers(String replied) {
    return new AdminWords.Users() {
      @Override
      public java.util.Optional<String> parse(String word) {
        return word.matches("\\d+") ? java.util.Optional.of(word) : java.util.Optional.empty();
      }

      @Override
      public String implied() {
        return replied;
      }

      @Override
      public String hint() {
        return "a number";
      }

      @Override
      public String example() {
        return "42";
      }
    };
  }

  @Test
  void adminWordsReadTheSameGrammarWhereverTheyAreTyped() {
    AdminWords words = new AdminWords(admin);
    assertThat(words.run(here, AdminWords.words("quota set 5 week 7"), numbers(null)))
        .isEqualTo("Set {user:7} in this group to 5 credits per week.");
    assertThat(words.run(here, AdminWords.words("quota set 2"), numbers(null)))
        .as("no user and none replied to: everyone")
        .isEqualTo("Set everyone in this group to 2 credits per day.");
    assertThat(words.run(here, AdminWords.words("quota grant 10"), numbers("8")))
        .as("the first number is the credits; the replied-to author is the user")
        .startsWith("Granted 10 credits to {user:8}.");
    assertThat(words.run(here, AdminWords.words("quota ban 7 too many dragons"), numbers(null)))
        .isEqualTo("Banned {user:7} from making images in this group (too many dragons).");
    assertThat(words.run(here, AdminWords.words("model pro"), numbers(null)))
        .isEqualTo("The default model in this group is now [b:pro].");

    assertThatThrownBy(() -> words.run(here, AdminWords.words("quota grant lots 7"), numbers(null)))
        .isInstanceOfSatisfying(
            AdminWords.Mistake.class, m -> assertThat(m.example()).isEqualTo("quota grant 10 42"))
        .hasMessageStartingWith("credits: must be a number from 0");
    assertThatThrownBy(() -> words.run(here, AdminWords.words("quota show"), numbers(null)))
        .hasMessage("which user? Give a number");
    assertThatThrownBy(() -> words.run(here, AdminWords.words("quota show bob"), numbers(null)))
        .hasMessage("user: expected a number; got \"bob\"");
    assertThatThrownBy(() -> words.run(here, AdminWords.words("quota fly"), numbers(null)))
        .hasMessage("quota command: expected set, grant, reset, show, ban or unban; got \"fly\"");
  }

  @Test
  void aUsersDefaultsAreCheckedKeptAndShown() {
    ChatSettings own = new ChatSettings(settings, ModelCatalog.builtIn(), new ChatTexts(SEEN));
    assertThat(own.change("test", "u1", new ChatSettings.Change(false, null, "16:9", "PNG")))
        .isEqualTo(
            "Your defaults: model (the default here), aspect [b:widescreen_16_9], format [b:png]."
                + " What you type in /imagine wins over them.");
    assertThat(settings.user("test", "u1"))
        .isEqualTo(new SettingsStore.UserDefaults(null, "widescreen_16_9", "png"));
    assertThatThrownBy(
            () -> own.change("test", "u1", new ChatSettings.Change(false, null, "7:3", null)))
        .hasMessageStartingWith("--ar: must be one of the presets ")
        .hasMessageEndingWith("; got \"7:3\"");
    assertThat(settings.user("test", "u1").aspect())
        .as("nothing kept from a refused change")
        .isEqualTo("widescreen_16_9");
    assertThat(own.change("test", "u1", new ChatSettings.Change(true, "pro", null, null)))
        .startsWith("Your defaults: model [b:pro], aspect (the default here), format (the default");
  }

  @Test
  void aChannelOutsideTheAllowedOnesIsRefusedNamingThem() {
    ChatSettings own = new ChatSettings(settings, ModelCatalog.builtIn(), new ChatTexts(SEEN));
    assertThat(own.channelRefusal("test", "g1", "c9")).isEmpty();
    settings.setScope(
        "test", "g1", new SettingsStore.ScopeSettings(null, null, java.util.Set.of("c2", "c1")));
    assertThat(own.channelRefusal("test", "g1", "c1")).isEmpty();
    assertThat(own.channelRefusal("test", "g1", "c9"))
        .contains("⚠️ /imagine is not on in this channel; use #c1, #c2.");
  }
}
