package dev.fluxbot.core.seedcache;

/** The seed cache on the embedded default. */
class SqliteSeedCacheTest extends SeedCacheContract {
  @Override
  String newDatabaseUrl() {
    return "jdbc:sqlite:" + dir.resolve("fluxbot.db").toAbsolutePath();
  }
}
