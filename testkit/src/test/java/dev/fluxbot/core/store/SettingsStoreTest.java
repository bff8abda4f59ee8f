package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.testkit.MutableClock;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SettingsStoreTest {
  @TempDir Path dir;

  private Database db(Database.Dialect dialect) {
    return dialect == Database.Dialect.SQLITE
        ? Database.sqlite(dir.resolve("s.db"))
        : DatabaseTest.postgres();
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void scopeAndUserSettingsAreKeptAndBecomeTheParsersContext(Database.Dialect dialect) {
    try (Database db = db(dialect)) {
      SettingsStore store = new SettingsStore(db, new MutableClock());
      Requester alice = new Requester("discord", "42", "Alice", "guild1", Set.of(), false);
      assertThat(store.scope("discord", "guild1")).isEqualTo(SettingsStore.ScopeSettings.NONE);
      assertThat(store.contextFor(alice)).isEqualTo(CommandParser.Context.NONE);

      store.setScope(
          "discord", "guild1", new SettingsStore.ScopeSettings("pro", 1, Set.of("c2", "c1")));
      store.setUser("discord", "42", new SettingsStore.UserDefaults(null, "16:9", "png"));
      assertThat(store.scope("discord", "guild1").allowedChannels())
          .containsExactlyInAnyOrder("c1", "c2");
      assertThat(store.scope("discord", "guild1").allows("c3")).isFalse();
      assertThat(store.contextFor(alice))
          .isEqualTo(
              new CommandParser.Context(Map.of("aspect", "16:9", "format", "png"), "pro", 1));

      store.setScope("discord", "guild1", new SettingsStore.ScopeSettings(null, null, null));
      assertThat(store.scope("discord", "guild1").allows("c3")).isTrue();
      assertThat(
              store
                  .contextFor(new Requester("discord", "42", "Alice", null, Set.of(), false))
                  .defaultModel())
          .isNull();
    }
  }
}
