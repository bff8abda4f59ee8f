package dev.fluxbot.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.Wire.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class FakeBflApiConcurrencyTest {
  /** Submits {@code count} requests at once, from as many threads. */
  private static List<Reply> submitAtOnce(FakeBflApi fake, int count) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Reply>> replies = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < count; i++) {
        replies.add(
            threads.submit(
                () -> {
                  go.await();
                  return Wire.post(
                      fake.baseUrl() + "/v1/flux-2-klein-4b", fake.key(), "{\"prompt\": \"a\"}");
                }));
      }
      go.countDown();
      List<Reply> done = new ArrayList<>();
      for (Future<Reply> reply : replies) done.add(reply.get());
      return done;
    }
  }

  @Test
  void concurrentSubmitsAreCountedAndCappedAt24() throws Exception {
    try (FakeBflApi fake = FakeBflApi.start()) {
      List<Reply> replies = submitAtOnce(fake, 30);

      assertThat(replies).filteredOn(r -> r.status() == 200).hasSize(24);
      assertThat(replies)
          .filteredOn(r -> r.status() == 429)
          .hasSize(6)
          .allSatisfy(r -> assertThat(r.header("Retry-After")).isPresent());
      assertThat(fake.activeTasks()).isEqualTo(24);
      assertThat(fake.maxConcurrentActiveTasks()).isEqualTo(24);
      assertThat(fake.submits()).hasSize(30);
    }
  }

  @Test
  void tasksStopCountingWhenAPollSeesThemFinish() throws Exception {
    try (FakeBflApi fake = FakeBflApi.builder().activeTaskLimit(100).start()) {
      List<Reply> replies = submitAtOnce(fake, 40);
      assertThat(fake.maxConcurrentActiveTasks()).isEqualTo(40);

      String url = replies.get(0).json().get("polling_url").asText();
      for (int i = 0; i < 4; i++) Wire.get(url, fake.key());

      assertThat(fake.activeTasks()).isEqualTo(39);
      assertThat(fake.maxConcurrentActiveTasks()).isEqualTo(40);
      Reply more =
          Wire.post(fake.baseUrl() + "/v1/flux-2-klein-4b", fake.key(), "{\"prompt\": \"a\"}");
      assertThat(more.status()).isEqualTo(200);
      assertThat(fake.maxConcurrentActiveTasks()).isEqualTo(40);
    }
  }

  @Test
  void concurrentPollsOfOneTaskFinishItOnce() throws Exception {
    try (FakeBflApi fake = FakeBflApi.start()) {
      fake.enqueue(Scenario.statuses("Ready"));
      String url =
          Wire.post(fake.baseUrl() + "/v1/flux-2-pro", fake.key(), "{\"prompt\": \"a\"}")
              .json()
              .get("polling_url")
              .asText();
      List<Future<Reply>> polls = new ArrayList<>();
      try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < 20; i++) polls.add(threads.submit(() -> Wire.get(url, fake.key())));
      }
      for (Future<Reply> poll : polls)
        assertThat(poll.get().json().get("status").asText()).isEqualTo("Ready");

      assertThat(fake.activeTasks()).isZero();
    }
  }
}
