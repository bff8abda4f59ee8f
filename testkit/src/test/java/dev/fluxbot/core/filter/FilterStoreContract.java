package dev.fluxbot.core.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The word filters' store and the check on top of it, run once per database (the subclasses). */
abstract class FilterStoreContract {
  @TempDir Path dir;

  final MutableClock clock = new MutableClock(Instant.parse("2026-12-08T01:00:00Z"));
  private String url;
  Database db;
  FilterStore store;

  abstract String newDatabaseUrl();

  @BeforeEach
  void openDatabase() {
    url = newDatabaseUrl();
    db = Database.open(url, null, null);
    store = new FilterStore(db, clock);
  }

  @AfterEach
  void closeDatabase() {
    db.close();
  }

  private static Requester user(String platform, String scope, boolean admin) {
    return new Requester(platform, "u1", "Ann", scope, Set.of(), admin);
  }

  @Test
  void addListRemoveKeepsEachScopeApart() {
    assertThat(store.add("discord", "g1", new FilterRule("cat", false), "discord:9")).isTrue();
    assertThat(store.add("discord", "g1", new FilterRule("cat", false), "discord:9")).isFalse();
    assertThat(store.add("discord", "g1", new FilterRule("nud(e|ity)", true), "discord:9"))
        .isTrue();
    clock.advance(java.time.Duration.ofSeconds(1));
    assertThat(store.add("discord", "g2", new FilterRule("dog", false), "discord:9")).isTrue();
    assertThat(store.add("telegram", null, new FilterRule("owl", false), "telegram admin"))
        .isTrue();

    List<FilterStore.Entry> g1 = store.list("discord", "g1");
    assertThat(g1)
        .extracting(FilterStore.Entry::rule)
        .containsExactlyInAnyOrder(
            new FilterRule("cat", false), new FilterRule("nud(e|ity)", true));
    assertThat(g1.get(0).addedBy()).isEqualTo("discord:9");
    assertThat(g1.get(0).addedAt()).isEqualTo(Instant.parse("2026-12-08T01:00:00Z"));
    assertThat(store.list("telegram", null))
        .extracting(e -> e.rule().pattern())
        .containsExactly("owl");
    assertThat(store.list("telegram", null).get(0).scopeId()).isEqualTo(FilterStore.EVERY_CHAT);

    assertThat(store.remove("discord", "g1", "cat")).isEqualTo(1);
    assertThat(store.remove("discord", "g1", "cat")).isZero();
    assertThat(store.list("discord", "g1"))
        .extracting(e -> e.rule().pattern())
        .containsExactly("nud(e|ity)");
    assertThat(store.list("discord", "g2")).hasSize(1);
  }

  @Test
  void applyingHoldsTheScopesThePlatformsEveryChatAndTheInstallations() {
    store.add("telegram", "-100", new FilterRule("cat", false), "a");
    store.add("telegram", null, new FilterRule("owl", false), "a");
    store.add(FilterStore.INSTALLATION, null, new FilterRule("eel", false), "operator");
    store.add("telegram", "-200", new FilterRule("dog", false), "a");
    store.add("slack", null, new FilterRule("yak", false), "a");

    assertThat(store.applying("telegram", "-100"))
        .extracting(e -> e.rule().pattern())
        .containsExactlyInAnyOrder("cat", "owl", "eel");
    assertThat(store.applying("telegram", null))
        .extracting(e -> e.rule().pattern())
        .containsExactlyInAnyOrder("owl", "eel");
    assertThat(store.applying("discord", "g1"))
        .extracting(e -> e.rule().pattern())
        .containsExactly("eel");
    assertThat(store.all()).hasSize(5);
  }

  @Test
  void aScopeHoldsAtMost200Filters() {
    for (int i = 0; i < FilterStore.MAX_PER_SCOPE; i++) {
      store.add("slack", "T1", new FilterRule("w" + i, false), "a");
    }
    assertThatThrownBy(() -> store.add("slack", "T1", new FilterRule("one more", false), "a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("filter: at most 200 filters per scope");
    assertThat(store.add("slack", "T2", new FilterRule("one more", false), "a")).isTrue();
  }

  @Test
  void theCheckRefusesWhatAStoredFilterMatchesAndTellsOnlyAnAdminWhich() {
    store.add("discord", "g1", new FilterRule("cat", false), "discord:9");
    PromptFilters filters =
        new PromptFilters(store, List.of(new FilterRule("eel", false)), new FilterMatcher());

    filters.check(user("discord", "g1", false), "a concatenated fox");
    filters.check(user("discord", "g2", false), "a cat");
    assertThatThrownBy(() -> filters.check(user("discord", "g1", false), "a Cât!"))
        .isInstanceOf(UserError.class)
        .hasMessage(
            "prompt: must not match the word filters set for this bot; one of them matched."
                + " Nothing was made or charged. Rephrase the prompt and try again.")
        .extracting(e -> ((UserError) e).code())
        .isEqualTo(UserError.Code.FILTERED);
    assertThatThrownBy(() -> filters.check(user("discord", "g1", true), "a {dog, CAT}"))
        .hasMessageContaining("it matches the filter \"cat\" (word, discord g1) in \"a CAT\"");
    assertThatThrownBy(() -> filters.check(user("slack", null, true), "an EEL"))
        .hasMessageContaining("\"eel\" (word, installation-wide, in fluxbot.yaml)");

    store.remove("discord", "g1", "cat");
    filters.check(user("discord", "g1", false), "a cat"); // read afresh: a removal counts at once
  }

  @Test
  void theSchemaSurvivesAReopen() {
    store.add("discord", "g1", new FilterRule("cat", false), "a");
    db.close();
    db = Database.open(url, null, null);
    assertThat(new FilterStore(db, clock).list("discord", "g1")).hasSize(1);
  }
}
