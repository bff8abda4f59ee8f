package dev.fluxbot.testkit.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.slack.api.Slack;
import com.slack.api.SlackConfig;
import com.slack.api.bolt.App;
import com.slack.api.bolt.AppConfig;
import com.slack.api.bolt.request.RequestHeaders;
import com.slack.api.bolt.response.Response;
import com.slack.api.bolt.socket_mode.SocketModeApp;
import com.slack.api.bolt.util.SlackRequestParser;
import com.slack.api.methods.MethodsClient;
import com.slack.api.methods.SlackApiException;
import com.slack.api.methods.response.chat.ChatPostMessageResponse;
import com.slack.api.methods.response.files.FilesUploadV2Response;
import com.slack.api.methods.response.users.UsersInfoResponse;
import com.slack.api.methods.response.views.ViewsOpenResponse;
import com.slack.api.model.block.Blocks;
import com.slack.api.model.block.composition.BlockCompositions;
import com.slack.api.model.block.element.BlockElements;
import com.slack.api.model.event.AppMentionEvent;
import com.slack.api.model.view.Views;
import com.slack.api.socket_mode.SocketModeClient;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.testkit.FakeSlack;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The real Bolt and slack-api-client against the fake Slack, over real sockets. */
class FakeSlackBoltTest {
  private final FakeSlack slack = FakeSlack.start();
  private final Slack client = Slack.getInstance(config());
  private final List<AutoCloseable> open = new ArrayList<>();

  private SlackConfig config() {
    SlackConfig c = new SlackConfig();
    c.setMethodsEndpointUrlPrefix(slack.apiUrl());
    return c;
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    slack.close();
  }

  private MethodsClient methods() {
    return client.methods(slack.botToken());
  }

  private App app() {
    return new App(AppConfig.builder().singleTeamBotToken(slack.botToken()).slack(client).build());
  }

  private void socketMode(App app) throws Exception {
    SocketModeApp socket =
        new SocketModeApp(slack.appToken(), SocketModeClient.Backend.JavaWebSocket, app);
    open.add(socket::close);
    socket.startAsync();
    slack.awaitSocketConnections(1);
  }

  @Test
  void aSlashCommandOverSocketModeIsAckedWithItsResponsePayload() throws Exception {
    App app = app();
    List<String> texts = new CopyOnWriteArrayList<>();
    app.command(
        "/imagine",
        (req, ctx) -> {
          texts.add(req.getPayload().getText() + " by " + req.getPayload().getUserId());
          return ctx.ack(r -> r.responseType("ephemeral").text("Queued #1"));
        });
    socketMode(app);

    SlackEnvelope e =
        slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a red fox --ar 16:9");

    JsonNode ack = slack.awaitAck(e);
    assertThat(ack.path("text").asText()).isEqualTo("Queued #1");
    assertThat(ack.path("response_type").asText()).isEqualTo("ephemeral");
    assertThat(texts).containsExactly("a red fox --ar 16:9 by " + FakeSlack.ALICE);
    SlackCall open = slack.calls("apps.connections.open").get(0);
    assertThat(open.authorized()).isTrue();
    assertThat(open.params().has("token")).as("tokens are not recorded").isFalse();
  }

  @Test
  void anEditThatCanBeSeenIsAlreadyAmongTheRecordedCalls() throws Exception {
    String ts = methods().chatPostMessage(r -> r.channel(FakeSlack.CHANNEL).text("0")).getTs();
    int edits = 300;
    CompletableFuture<Void> editor =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 1; i <= edits; i++) {
                String text = String.valueOf(i);
                try {
                  assertThat(
                          methods()
                              .chatUpdate(r -> r.channel(FakeSlack.CHANNEL).ts(ts).text(text))
                              .isOk())
                      .isTrue();
                } catch (IOException | SlackApiException e) {
                  throw new IllegalStateException(e);
                }
              }
            });
    int seen;
    do {
      seen =
          slack.messages().stream()
              .filter(m -> m.ts().equals(ts))
              .findFirst()
              .orElseThrow()
              .edits();
      assertThat(slack.calls("chat.update"))
          .as("chat.update calls once %d edits are visible", seen)
          .hasSizeGreaterThanOrEqualTo(seen);
    } while (!editor.isDone());
    editor.get(30, TimeUnit.SECONDS);
    assertThat(slack.calls("chat.update")).hasSize(edits);
  }

  @Test
  void messagesArePostedUpdatedAndEphemeralAsTheClientSendsThem() throws Exception {
    ChatPostMessageResponse posted =
        methods()
            .chatPostMessage(
                r ->
                    r.channel(FakeSlack.CHANNEL)
                        .text("Queued #2")
                        .blocks(
                            Blocks.asBlocks(
                                Blocks.actions(
                                    a ->
                                        a.blockId("fx")
                                            .elements(
                                                List.of(
                                                    BlockElements.button(
                                                        b ->
                                                            b.actionId("fx:reroll:01AB")
                                                                .value("fx:reroll:01AB")
                                                                .text(
                                                                    BlockCompositions.plainText(
                                                                        "Reroll")))))))));
    assertThat(posted.isOk()).isTrue();
    assertThat(
            methods()
                .chatUpdate(
                    r -> r.channel(FakeSlack.CHANNEL).ts(posted.getTs()).text("Generating 50%…"))
                .isOk())
        .isTrue();
    assertThat(
            methods()
                .chatPostEphemeral(
                    r -> r.channel(FakeSlack.CHANNEL).user(FakeSlack.ALICE).text("only you"))
                .isOk())
        .isTrue();

    SlackMessage m = slack.awaitMessage(x -> x.ts().equals(posted.getTs()));
    assertThat(m.text()).isEqualTo("Generating 50%…");
    assertThat(m.edits()).isEqualTo(1);
    assertThat(m.actionIds())
        .as("an update without blocks keeps them")
        .containsExactly("fx:reroll:01AB");
    assertThat(slack.ephemerals())
        .singleElement()
        .satisfies(x -> assertThat(x.visibleTo()).isEqualTo(FakeSlack.ALICE));
    assertThat(
            methods()
                .chatUpdate(r -> r.channel(FakeSlack.CHANNEL).ts("1.000001").text("x"))
                .getError())
        .isEqualTo("message_not_found");
    assertThat(methods().chatPostMessage(r -> r.channel("C0NOWHERE").text("x")).getError())
        .isEqualTo("channel_not_found");
    slack.setBotInChannel(FakeSlack.CHANNEL, false);
    assertThat(methods().chatPostMessage(r -> r.channel(FakeSlack.CHANNEL).text("x")).getError())
        .isEqualTo("not_in_channel");
  }

  @Test
  void usersInfoTellsAdminsAndOwners() throws Exception {
    UsersInfoResponse ada = methods().usersInfo(r -> r.user(FakeSlack.ADMIN));
    UsersInfoResponse alice = methods().usersInfo(r -> r.user(FakeSlack.ALICE));
    assertThat(ada.getUser().isAdmin()).isTrue();
    assertThat(alice.getUser().isAdmin()).isFalse();
    assertThat(methods().usersInfo(r -> r.user(FakeSlack.OWNER)).getUser().isOwner()).isTrue();
    assertThat(client.methods("xoxb-wrong").usersInfo(r -> r.user(FakeSlack.ALICE)).getError())
        .isEqualTo("invalid_auth");
  }

  @Test
  void filesUploadV2GoesThroughTheUploadUrlAndSharesTheFileInTheThread() throws Exception {
    String thread =
        methods().chatPostMessage(r -> r.channel(FakeSlack.CHANNEL).text("progress")).getTs();
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3};

    FilesUploadV2Response up =
        methods()
            .filesUploadV2(
                r ->
                    r.channel(FakeSlack.CHANNEL)
                        .threadTs(thread)
                        .fileData(png)
                        .filename("fluxbot-7.png")
                        .title("a fox")
                        .initialComment("*a fox* · seed 7"));

    assertThat(up.isOk()).isTrue();
    assertThat(
            slack.calls().stream()
                .map(SlackCall::method)
                .filter(m -> !m.equals("auth.test"))
                .toList())
        .containsSubsequence(
            "files.getUploadURLExternal", SlackCall.UPLOAD, "files.completeUploadExternal");
    SlackMessage shared = slack.awaitMessage(m -> !m.files().isEmpty());
    assertThat(shared.threadTs()).isEqualTo(thread);
    assertThat(shared.text()).isEqualTo("*a fox* · seed 7");
    SlackFile file = shared.files().get(0);
    assertThat(file.bytes()).isEqualTo(png);
    assertThat(file.mimetype()).isEqualTo("image/png");
    assertThat(file.name()).isEqualTo("fluxbot-7.png");
  }

  @Test
  void aPrivateFileNeedsTheBotTokenInTheAuthorizationHeader() throws Exception {
    SlackFile f =
        slack.addUserFile(
            FakeSlack.ALICE, new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 1}, "cat.jpg");
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<byte[]> with =
        http.send(
            HttpRequest.newBuilder(URI.create(f.urlPrivate()))
                .header("Authorization", "Bearer " + slack.botToken())
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    HttpResponse<byte[]> without =
        http.send(
            HttpRequest.newBuilder(URI.create(f.urlPrivate())).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(with.statusCode()).isEqualTo(200);
    assertThat(with.body()).isEqualTo(f.bytes());
    assertThat(without.statusCode()).isEqualTo(403);
    assertThat(slack.calls(SlackCall.DOWNLOAD))
        .extracting(SlackCall::authorized)
        .containsExactly(true, false);
  }

  @Test
  void aScriptedRateLimitAnswers429WithRetryAfterThenPasses() throws Exception {
    slack.rateLimitNext("chat.postMessage", 1, 3);
    assertThatThrownBy(() -> methods().chatPostMessage(r -> r.channel(FakeSlack.CHANNEL).text("x")))
        .isInstanceOfSatisfying(
            SlackApiException.class,
            e -> {
              assertThat(e.getResponse().code()).isEqualTo(429);
              assertThat(e.getResponse().header("Retry-After")).isEqualTo("3");
            });
    assertThat(methods().chatPostMessage(r -> r.channel(FakeSlack.CHANNEL).text("x")).isOk())
        .isTrue();
    assertThat(slack.calls("chat.postMessage"))
        .extracting(SlackCall::status)
        .containsExactly(429, 200);
  }

  @Test
  void aResponseUrlTakesFivePosts() throws Exception {
    App app = app();
    app.command("/imagine", (req, ctx) -> ctx.ack());
    socketMode(app);
    SlackEnvelope e = slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "x");
    slack.awaitAck(e);
    HttpClient http = HttpClient.newHttpClient();
    List<Integer> statuses = new ArrayList<>();
    for (int i = 1; i <= 6; i++) {
      statuses.add(
          http.send(
                  HttpRequest.newBuilder(URI.create(e.responseUrl()))
                      .header("Content-Type", "application/json")
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"text\":\"Queued #" + i + "\",\"replace_original\":true}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
    }
    assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 404);
    assertThat(slack.responsePosts(e)).hasSize(5);
    assertThat(slack.calls(SlackCall.RESPONSE_URL).get(5).error()).isEqualTo("used_url");
  }

  @Test
  void buttonsModalsShortcutsAndMentionsReachBoltHandlers() throws Exception {
    App app = app();
    Map<String, String> seen = new HashMap<>();
    app.blockAction(
        java.util.regex.Pattern.compile("^fx:.*"),
        (req, ctx) -> {
          seen.put("button", req.getPayload().getActions().get(0).getValue());
          ViewsOpenResponse v =
              ctx.client()
                  .viewsOpen(
                      r ->
                          r.triggerId(req.getPayload().getTriggerId())
                              .view(
                                  Views.view(
                                      view ->
                                          view.type("modal")
                                              .callbackId("vary")
                                              .privateMetadata("fx:vary:01AB")
                                              .title(
                                                  Views.viewTitle(
                                                      t -> t.type("plain_text").text("Vary")))
                                              .submit(
                                                  Views.viewSubmit(
                                                      t -> t.type("plain_text").text("Imagine")))
                                              .blocks(
                                                  Blocks.asBlocks(
                                                      Blocks.input(
                                                          i ->
                                                              i.blockId("prompt")
                                                                  .label(
                                                                      BlockCompositions.plainText(
                                                                          "Prompt"))
                                                                  .element(
                                                                      BlockElements.plainTextInput(
                                                                          p ->
                                                                              p.actionId("prompt")
                                                                                  .initialValue(
                                                                                      "a fox")))))))));
          seen.put("view", v.isOk() ? v.getView().getId() : v.getError());
          return ctx.ack();
        });
    app.viewSubmission(
        "vary",
        (req, ctx) -> {
          seen.put(
              "submitted",
              req.getPayload()
                      .getView()
                      .getState()
                      .getValues()
                      .get("prompt")
                      .get("prompt")
                      .getValue()
                  + " / "
                  + req.getPayload().getView().getPrivateMetadata());
          return ctx.ack();
        });
    app.messageShortcut(
        "imagine_with_images",
        (req, ctx) -> {
          seen.put("shortcut", req.getPayload().getMessage().getFiles().size() + " files");
          return ctx.ack();
        });
    app.event(
        AppMentionEvent.class,
        (req, ctx) -> {
          seen.put(
              "mention", req.getEvent().getText() + " with " + req.getEvent().getFiles().size());
          return ctx.ack();
        });
    socketMode(app);
    String posted =
        methods()
            .chatPostMessage(
                r ->
                    r.channel(FakeSlack.CHANNEL)
                        .text("image")
                        .blocks(
                            Blocks.asBlocks(
                                Blocks.actions(
                                    a ->
                                        a.blockId("fx")
                                            .elements(
                                                List.of(
                                                    BlockElements.button(
                                                        b ->
                                                            b.actionId("fx:vary:01AB")
                                                                .value("fx:vary:01AB")
                                                                .text(
                                                                    BlockCompositions.plainText(
                                                                        "Vary")))))))))
            .getTs();
    SlackMessage image = slack.awaitMessage(m -> m.ts().equals(posted));

    SlackEnvelope click = slack.clickButton(FakeSlack.ALICE, image, "fx:vary:01AB");
    slack.awaitAck(click);
    SlackView view = slack.awaitView(v -> v.callbackId().equals("vary"));
    assertThat(view.initialValue("prompt")).isEqualTo("a fox");
    assertThat(view.user()).isEqualTo(FakeSlack.ALICE);
    slack.awaitAck(slack.submitView(FakeSlack.ALICE, view, Map.of("prompt", "a fox in snow")));
    SlackFile a =
        slack.addUserFile(
            FakeSlack.BOB, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4}, "a.png");
    SlackFile b =
        slack.addUserFile(
            FakeSlack.BOB, new byte[] {(byte) 0x89, 'P', 'N', 'G', 5, 6, 7, 8}, "b.png");
    SlackMessage withFiles =
        slack.postAsUser(FakeSlack.BOB, FakeSlack.CHANNEL, null, "two", List.of(a, b));
    slack.awaitAck(slack.messageShortcut(FakeSlack.ALICE, withFiles, "imagine_with_images"));
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            null,
            "<@" + FakeSlack.BOT_USER_ID + "> a cat",
            List.of(
                slack.addUserFile(
                    FakeSlack.ALICE,
                    new byte[] {(byte) 0x89, 'P', 'N', 'G', 9, 9, 9, 9},
                    "c.png")));
    slack.awaitAck(slack.appMention(mention));

    assertThat(seen)
        .containsEntry("button", "fx:vary:01AB")
        .containsEntry("view", view.id())
        .containsEntry("submitted", "a fox in snow / fx:vary:01AB")
        .containsEntry("shortcut", "2 files")
        .containsEntry("mention", "<@" + FakeSlack.BOT_USER_ID + "> a cat with 1");
    assertThat(
            methods()
                .viewsOpen(r -> r.triggerId(click.triggerId()).viewAsString(view.view().toString()))
                .getError())
        .as("a trigger id is good once")
        .isEqualTo("invalid_trigger_id");
  }

  @Test
  void requestsToTheRequestUrlAreSignedAsSlackSignsThem() throws Exception {
    App app =
        new App(
            AppConfig.builder()
                .singleTeamBotToken(slack.botToken())
                .signingSecret(slack.signingSecret())
                .slack(client)
                .build());
    app.command("/imagine", (req, ctx) -> ctx.ack("Queued #1"));
    app.start();
    SlackRequestParser parser = new SlackRequestParser(app.config());
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.createContext(
        "/slack/events",
        x -> {
          try (x) {
            String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Response r =
                app.run(
                    parser.parse(
                        SlackRequestParser.HttpRequest.builder()
                            .requestUri("/slack/events")
                            .requestBody(body)
                            .headers(new RequestHeaders(new HashMap<>(x.getRequestHeaders())))
                            .remoteAddress("127.0.0.1")
                            .build()));
            byte[] out =
                r.getBody() == null ? new byte[0] : r.getBody().getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(r.getStatusCode(), out.length == 0 ? -1 : out.length);
            try (OutputStream o = x.getResponseBody()) {
              o.write(out);
            }
          } catch (Exception e) {
            throw new IOException(e);
          }
        });
    server.start();
    open.add(() -> server.stop(0));
    open.add(app::stop);
    URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/slack/events");
    SlackEnvelope e =
        slack.slashCommandEnvelope(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox & a hen");

    HttpDelivery signed = slack.sendOverHttp(url, e, Signing.SIGNED);
    HttpDelivery unsigned = slack.sendOverHttp(url, e, Signing.UNSIGNED);
    HttpDelivery wrong = slack.sendOverHttp(url, e, Signing.WRONG_SECRET);

    assertThat(signed.status()).isEqualTo(200);
    assertThat(signed.body()).contains("Queued #1");
    assertThat(unsigned.status()).isEqualTo(401);
    assertThat(wrong.status()).isEqualTo(401);
  }

  @Test
  void aResentEventCarriesTheSameEventIdWithItsRetryAttemptOverSocketModeAndHttp()
      throws Exception {
    App app = app();
    List<String> seen = new CopyOnWriteArrayList<>();
    app.event(
        AppMentionEvent.class,
        (req, ctx) -> {
          seen.add(req.getEventId() + " retry " + ctx.getRetryNum() + " " + ctx.getRetryReason());
          return ctx.ack();
        });
    socketMode(app);
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            null,
            "<@" + FakeSlack.BOT_USER_ID + "> a cat",
            List.of());
    SlackEnvelope first = slack.appMention(mention);
    slack.awaitAck(first);

    SlackEnvelope again = slack.resend(first);
    slack.awaitAck(again);

    String eventId = first.payload().path("event_id").asText();
    assertThat(again.envelopeId()).isNotEqualTo(first.envelopeId());
    assertThat(again.payload().path("event_id").asText()).isEqualTo(eventId);
    assertThat(seen).containsExactly(eventId + " retry null null", eventId + " retry 1 timeout");
    assertThat(slack.resentEnvelope(again).retryAttempt()).isEqualTo(2);
  }

  @Test
  void anAckOverThreeSecondsIsATimeoutAndATriggerExpiresThreeSecondsAfterItsEnvelopeWasSent()
      throws Exception {
    dev.fluxbot.testkit.MutableClock clock = new dev.fluxbot.testkit.MutableClock();
    try (FakeSlack slow = FakeSlack.builder().clock(clock).start()) {
      SlackConfig c = new SlackConfig();
      c.setMethodsEndpointUrlPrefix(slow.apiUrl());
      Slack own = Slack.getInstance(c);
      App app = new App(AppConfig.builder().singleTeamBotToken(slow.botToken()).slack(own).build());
      List<String> opened = new CopyOnWriteArrayList<>();
      app.command(
          "/imagine",
          (req, ctx) -> {
            clock.advance(java.time.Duration.ofMillis(3100)); // a handler that waited before acking
            opened.add(
                own.methods(slow.botToken())
                    .viewsOpen(
                        r ->
                            r.triggerId(req.getPayload().getTriggerId())
                                .view(
                                    Views.view(
                                        v ->
                                            v.type("modal")
                                                .callbackId("x")
                                                .title(
                                                    Views.viewTitle(
                                                        t -> t.type("plain_text").text("Late"))))))
                    .getError());
            return ctx.ack("Queued #1");
          });
      SocketModeApp socket =
          new SocketModeApp(slow.appToken(), SocketModeClient.Backend.JavaWebSocket, app);
      open.add(socket::close);
      socket.startAsync();
      slow.awaitSocketConnections(1);
      SlackEnvelope e =
          slow.slashCommandEnvelope(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox");
      clock.advance(
          java.time.Duration.ofSeconds(
              10)); // made long before it is sent: the 3 s start at sending

      SlackEnvelope sent = slow.sendOverSocket(e);

      assertThatThrownBy(() -> slow.awaitAck(sent))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("was acked 3100 ms after it was sent");
      assertThat(slow.ackDelay(sent)).contains(java.time.Duration.ofMillis(3100));
      assertThat(opened).containsExactly("expired_trigger_id");
    }
  }

  @Test
  void completeUploadExternalSharesTheFileWithBlocksCheckedAsSlackChecksThem() throws Exception {
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3};
    String button =
        "{\"type\":\"button\",\"action_id\":\"fx:reroll:1\",\"value\":\"fx:reroll:1\","
            + "\"text\":{\"type\":\"plain_text\",\"text\":\"Reroll\"}}";
    String section = "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"*a fox*\"}}";
    String buttons =
        "["
            + section
            + ",{\"type\":\"actions\",\"block_id\":\"fx\",\"elements\":["
            + button
            + "]}]";
    String twice =
        "[" + section + ",{\"type\":\"actions\",\"elements\":[" + button + "," + button + "]}]";

    assertThat(complete(upload(png), buttons, null).isOk()).isTrue();
    assertThat(complete(upload(png), twice, null).getError())
        .as("action ids repeat")
        .isEqualTo("invalid_blocks");
    assertThat(
            complete(upload(png), buttons.replace("\"actions\"", "\"buttons\""), null).getError())
        .as("no such block type")
        .isEqualTo("invalid_blocks");
    assertThat(complete(upload(png), buttons.replace("*a fox*", "x".repeat(3001)), null).getError())
        .as("a section's text over 3,000 characters")
        .isEqualTo("invalid_blocks");
    assertThat(complete(upload(png), buttons, "a comment").isOk()).isTrue();

    List<SlackMessage> shared =
        slack.messages().stream().filter(m -> !m.files().isEmpty()).toList();
    assertThat(shared).hasSize(2);
    assertThat(shared.get(0).actionIds()).containsExactly("fx:reroll:1");
    assertThat(shared.get(0).allText()).contains("*a fox*");
    assertThat(shared.get(1).text()).isEqualTo("a comment");
    assertThat(shared.get(1).actionIds())
        .as("Slack ignores blocks next to an initial comment")
        .isEmpty();
    assertThat(slack.calls("files.completeUploadExternal").get(0).param("blocks"))
        .contains("fx:reroll:1");
  }

  @Test
  void chatDeleteRemovesTheBotsOwnMessagesOnly() throws Exception {
    String ts =
        methods().chatPostMessage(r -> r.channel(FakeSlack.CHANNEL).text("Generating…")).getTs();
    SlackMessage users =
        slack.postAsUser(FakeSlack.ALICE, FakeSlack.CHANNEL, null, "mine", List.of());

    assertThat(methods().chatDelete(r -> r.channel(FakeSlack.CHANNEL).ts(ts)).isOk()).isTrue();
    assertThat(methods().chatDelete(r -> r.channel(FakeSlack.CHANNEL).ts(ts)).getError())
        .isEqualTo("message_not_found");
    assertThat(methods().chatDelete(r -> r.channel(FakeSlack.CHANNEL).ts(users.ts())).getError())
        .isEqualTo("cant_delete_message");
    assertThat(slack.messages()).extracting(SlackMessage::ts).containsExactly(users.ts());
  }

  private String upload(byte[] bytes) throws Exception {
    var url = methods().filesGetUploadURLExternal(r -> r.filename("f.png").length(bytes.length));
    HttpResponse<String> up =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url.getUploadUrl()))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(up.statusCode()).isEqualTo(200);
    return url.getFileId();
  }

  private com.slack.api.methods.response.files.FilesCompleteUploadExternalResponse complete(
      String fileId, String blocks, String comment) throws Exception {
    return methods()
        .postFormWithTokenAndParseResponse(
            f -> {
              f.add("files", "[{\"id\":\"" + fileId + "\",\"title\":\"a fox\"}]")
                  .add("channel_id", FakeSlack.CHANNEL)
                  .add("blocks", blocks);
              return comment == null ? f : f.add("initial_comment", comment);
            },
            "files.completeUploadExternal",
            slack.botToken(),
            com.slack.api.methods.response.files.FilesCompleteUploadExternalResponse.class);
  }
}
