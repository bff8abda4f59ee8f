package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeKleinWorker;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.KleinScenario;
import dev.fluxbot.testkit.junit.FakeKleinWorkerExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fluxbot run} (a child process) on the fake Telegram, with klein on a fake local worker and
 * no BFL key.
 */
class LocalRunProcessTest {
  @RegisterExtension final FakeKleinWorkerExtension workerFake = new FakeKleinWorkerExtension();

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(b -> b.awaitTimeout(Duration.ofSeconds(30)));

  private final FakeKleinWorker worker = workerFake.get();
  private final FakeTelegram telegram = telegramFake.get();
  private final TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
  private RunningApp app;

  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    if (app != null) {
      app.stop();
    }
  }

  private String log() {
    return RunningApp.read(dir.resolve("app.log"));
  }

  private TelegramCall answerTo(String method, JsonNode message) {
    long id = message.path("message_id").asLong();
    try {
      return telegram.awaitCall(
          method, c -> c.ok() && c.json("reply_parameters").path("message_id").asLong() == id);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nThe app's log:\n" + log(), e);
    }
  }

  @Test
  void kleinIsServedByTheLocalWorkerAndOtherModelsNeedBfl() throws Exception {
    Files.writeString(dir.resolve("fluxbot.yaml"), "local:\n  workers: [" + worker.url() + "]\n");
    worker.enqueue(KleinScenario.dropAfterStep(2));
    int before = telegram.calls("getMe").size();
    app =
        RunningApp.start(
            FluxbotProcess.builder(
                dir,
                Map.of(
                    "FLUXBOT_TELEGRAM_TOKEN",
                    telegram.token(),
                    "FLUXBOT_TELEGRAM_API_URL",
                    telegram.baseUrl()),
                "run",
                "--grace",
                "5"),
            dir,
            () -> telegram.calls("getMe").size() > before && telegram.heldPolls() > 0);

    JsonNode command = telegram.sendText(alice, "/imagine a red fox in snow --seed 7");
    TelegramCall photo = answerTo("sendPhoto", command);

    assertThat(photo.param("caption").orElseThrow())
        .startsWith("a red fox in snow\n")
        .contains("seed 7");
    assertThat(worker.generates())
        .as("the dropped stream was tried again")
        .extracting(FakeKleinWorker.RecordedGenerate::outcome)
        .containsExactly("drop", "succeed");
    assertThat(log())
        .contains(
            "backend local-klein: worker " + worker.url() + " healthy, klein-4b distilled on cpu")
        .contains("(attempt 1 of 3)")
        .as("no BFL key: said loudly at start")
        .contains("NO BFL API KEY: only klein is served, on the local worker(s)")
        .doesNotContain(telegram.token().substring(telegram.token().indexOf(':') + 1));
  }
}
