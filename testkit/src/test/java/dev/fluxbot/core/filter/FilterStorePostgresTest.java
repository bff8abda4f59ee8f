package dev.fluxbot.core.filter;

import dev.fluxbot.testkit.PostgresServer;
import org.junit.jupiter.api.Assumptions;

/**
 * The filter store on a real PostgreSQL server; skipped where none is installed, unless CI requires
 * it.
 */
class FilterStorePostgresTest extends FilterStoreContract {
  @Override
  String newDatabaseUrl() {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    return PostgresServer.newDatabaseUrl();
  }
}
