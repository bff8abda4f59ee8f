package dev.fluxbot.core.quota;

/** The quota ledger on the embedded default: a SQLite file (WAL). */
class QuotaServiceSqliteTest extends QuotaServiceContract {
  @Override
  String newDatabaseUrl() {
    return "jdbc:sqlite:" + dir.resolve("fluxbot.db").toAbsolutePath();
  }
}
