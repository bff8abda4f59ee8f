package dev.fluxbot.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.slack.api.Slack;
import com.slack.api.SlackConfig;
import com.slack.api.bolt.App;
import com.slack.api.bolt.AppConfig;
import com.slack.api.bolt.socket_mode.SocketModeApp;
import com.slack.api.socket_mode.SocketModeClient;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.slack.SlackEnvelope;
import dev.fluxbot.testkit.telegram.Pace;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The extensions' lifecycle, driven by hand as JUnit would drive it around a test. */
class FakeExtensionTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void theFakeStartsOnceAndIsClosedAfterTheTest() throws Exception {
    FakeBflApiExtension extension = new FakeBflApiExtension(b -> b.key("k-1"));
    FakeBflApi early = extension.get(); // a field initializer's get() starts it
    extension.beforeEach(null);

    assertThat(extension.get()).isSameAs(early);
    assertThat(early.key()).isEqualTo("k-1");
    assertThat(get(early.baseUrl() + "/v1/credits", "k-1")).isEqualTo(200);

    extension.afterEach(null);
    assertThatThrownBy(() -> get(early.baseUrl() + "/v1/credits", "k-1"))
        .isInstanceOf(ConnectException.class);
    extension.preDestroyTestInstance(null); // after afterEach: nothing left to close
  }

  @Test
  void anInvalidRequestOrAKeySentToDeliveryFailsTheTest() throws Exception {
    FakeBflApiExtension extension = new FakeBflApiExtension();
    extension.beforeEach(null);
    FakeBflApi bfl = extension.get();
    post(bfl.baseUrl() + "/v1/flux-2-pro", bfl.key(), "{}");
    get(bfl.deliveryBaseUrl() + "/nothing", bfl.key());

    assertThatThrownBy(() -> extension.afterEach(null))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("FakeBflApi recorded protocol violations by the client:")
        .hasMessageContaining("invalid request: ValidationError[path=/v1/flux-2-pro")
        .hasMessageContaining("the x-key header went to the delivery host");
  }

  @Test
  void aTestThatSendsInvalidRequestsOnPurposeCanSaySo() throws Exception {
    FakeBflApiExtension extension = new FakeBflApiExtension().allowingInvalidRequests();
    FakeBflApi bfl = extension.get();
    post(bfl.baseUrl() + "/v1/flux-2-pro", bfl.key(), "{}");

    assertThat(bfl.validationErrors()).isNotEmpty();
    extension.afterEach(null);
  }

  @Test
  void aMessageSentTooSoonFailsTheTest() throws Exception {
    FakeTelegramExtension extension = new FakeTelegramExtension(b -> b.pace(Pace.TELEGRAM));
    FakeTelegram telegram = extension.get();
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "/start");
    String send =
        telegram.baseUrl()
            + "/bot"
            + telegram.token()
            + "/sendMessage?chat_id="
            + FakeTelegram.ALICE
            + "&text=hi";
    assertThat(get(send, null)).isEqualTo(200);
    assertThat(get(send, null)).isEqualTo(429);

    assertThatThrownBy(() -> extension.afterEach(null))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("FakeTelegram recorded protocol violations")
        .hasMessageContaining("too soon: ");
  }

  @Test
  void aLateAckFailsTheTestEvenWhenNoOneAwaitedIt() throws Exception {
    MutableClock clock = new MutableClock();
    FakeSlackExtension extension = new FakeSlackExtension(b -> b.clock(clock));
    FakeSlack slack = extension.get();
    SlackConfig config = new SlackConfig();
    config.setMethodsEndpointUrlPrefix(slack.apiUrl());
    App app =
        new App(
            AppConfig.builder()
                .singleTeamBotToken(slack.botToken())
                .slack(Slack.getInstance(config))
                .build());
    app.command(
        "/imagine",
        (req, ctx) -> {
          clock.advance(Duration.ofMillis(3100)); // a handler that waited before acking
          return ctx.ack();
        });
    SocketModeApp socket =
        new SocketModeApp(slack.appToken(), SocketModeClient.Backend.JavaWebSocket, app);
    SlackEnvelope sent;
    try {
      socket.startAsync();
      slack.awaitSocketConnections(1);
      sent = slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox");
      Await.present("the ack", Duration.ofSeconds(30), () -> slack.ackDelay(sent));
    } finally {
      socket.close();
    }

    assertThat(slack.lateAcks())
        .containsExactly(sent.envelopeId() + " acked 3100 ms after it was sent");
    assertThatThrownBy(() -> extension.afterEach(null))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("FakeSlack recorded protocol violations")
        .hasMessageContaining("acked 3100 ms after it was sent");
  }

  private static int get(String url, String key) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
    if (key != null) {
      request.header("x-key", key);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static void post(String url, String key, String json)
      throws IOException, InterruptedException {
    HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("x-key", key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.discarding());
  }
}
