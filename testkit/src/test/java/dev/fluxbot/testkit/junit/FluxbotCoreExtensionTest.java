package dev.fluxbot.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The core extension's lifecycle, driven by hand as JUnit would drive it around a test. */
class FluxbotCoreExtensionTest {
  private final Requester alice =
      new Requester("telegram", "alice", "Alice", "chat9", Set.of(), false);

  @Test
  void theCoreStartsOnceRestartsOnTheSameDataAndIsGoneAfterTheTest() {
    FluxbotCoreExtension extension =
        new FluxbotCoreExtension(b -> b.quotaSettings(QuotaService.Settings.defaults()));
    FluxbotCore first = extension.get();
    Database before = extension.database();
    Path folder = extension.folder();
    assertThat(extension.get()).isSameAs(first);
    assertThat(before.dialect()).isEqualTo(Database.Dialect.SQLITE);
    assertThat(folder.resolve("fluxbot.db")).exists();
    first.quota().grant("telegram", "chat9", "alice", 5_000);

    FluxbotCore second =
        extension.start(b -> b.imagineSettings(ImagineService.Settings.defaults()));

    assertThat(second).isNotSameAs(first);
    assertThat(extension.get()).isSameAs(second);
    assertThat(extension.database()).as("opened again").isNotSameAs(before);
    assertThatThrownBy(() -> first.scheduler().submit("j", "u", "b", () -> {}, noListener()))
        .as("the first core was stopped")
        .isInstanceOf(IllegalStateException.class);
    assertThat(second.quota().status(alice).grantedMilli()).isEqualTo(5_000);

    extension.afterEach(null);
    assertThat(Files.exists(folder)).isFalse();
    assertThatThrownBy(() -> second.scheduler().submit("j", "u", "b", () -> {}, noListener()))
        .isInstanceOf(IllegalStateException.class);
    extension.preDestroyTestInstance(null); // after afterEach: nothing left to close
  }

  @Test
  void aCoreBesideTheRunningOneLeavesItRunning() {
    FluxbotCoreExtension extension = new FluxbotCoreExtension();
    FluxbotCore running = extension.get();

    FluxbotCore beside = extension.startBeside(b -> b);

    assertThat(extension.get()).isSameAs(running);
    assertThat(beside.database()).isSameAs(running.database());
    assertThat(running.scheduler().queued()).isZero();
    running.scheduler().submit("j", "u", "b", () -> {}, noListener());
    extension.afterEach(null);
    assertThatThrownBy(() -> beside.scheduler().submit("k", "u", "b", () -> {}, noListener()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void onPostgresqlEachTestGetsADatabaseOfItsOwn() {
    FluxbotCoreExtension extension = new FluxbotCoreExtension().on(Database.Dialect.POSTGRESQL);
    try {
      FluxbotCore core = extension.get();
      assertThat(core.database().dialect()).isEqualTo(Database.Dialect.POSTGRESQL);
      core.quota().grant("telegram", "chat9", "alice", 2_000);
      assertThat(extension.start(b -> b).quota().status(alice).grantedMilli()).isEqualTo(2_000);
      assertThatThrownBy(() -> extension.on(Database.Dialect.SQLITE))
          .isInstanceOf(IllegalStateException.class);
    } finally {
      extension.afterEach(null);
    }
  }

  private static JobScheduler.Listener noListener() {
    return JobScheduler.Listener.NONE;
  }
}
