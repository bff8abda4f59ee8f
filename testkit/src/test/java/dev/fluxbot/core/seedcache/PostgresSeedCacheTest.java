package dev.fluxbot.core.seedcache;

import dev.fluxbot.testkit.PostgresServer;
import org.junit.jupiter.api.Assumptions;

/**
 * The seed cache on a real PostgreSQL (skipped where its binaries are missing, unless CI requires
 * it).
 */
class PostgresSeedCacheTest extends SeedCacheContract {
  @Override
  String newDatabaseUrl() {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    return PostgresServer.newDatabaseUrl();
  }
}
