package dev.fluxbot.app;

import dev.fluxbot.core.store.Database;

/**
 * {@link PromptEnhancementPipelineTest} on PostgreSQL (V12's tables and the scope default's upsert
 * there); skipped where the machine has no PostgreSQL, as the other PostgreSQL tests are.
 */
class PromptEnhancementPostgresTest extends PromptEnhancementPipelineTest {
  @Override
  Database.Dialect dialect() {
    return Database.Dialect.POSTGRESQL;
  }
}
