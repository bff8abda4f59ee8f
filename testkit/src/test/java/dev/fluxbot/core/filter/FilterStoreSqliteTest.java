package dev.fluxbot.core.filter;

/** The filter store on the embedded default: a SQLite file (WAL). */
class FilterStoreSqliteTest extends FilterStoreContract {
  @Override
  String newDatabaseUrl() {
    return "jdbc:sqlite:" + dir.resolve("fluxbot.db").toAbsolutePath();
  }
}
