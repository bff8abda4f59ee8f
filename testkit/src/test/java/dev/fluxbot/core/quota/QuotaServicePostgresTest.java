package dev.fluxbot.core.quota;

import dev.fluxbot.testkit.PostgresServer;
import org.junit.jupiter.api.Assumptions;

/**
 * The quota ledger on a real PostgreSQL server; skipped where none is installed, unless CI requires
 * it.
 */
class QuotaServicePostgresTest extends QuotaServiceContract {
  @Override
  String newDatabaseUrl() {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    return PostgresServer.newDatabaseUrl();
  }
}
