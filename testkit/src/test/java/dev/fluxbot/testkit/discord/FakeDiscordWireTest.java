package dev.fluxbot.testkit.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake's wire protocol seen without JDA: a bare WebSocket client and plain HTTP. */
class FakeDiscordWireTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final MutableClock clock = new MutableClock(Instant.now());
  private FakeDiscord discord;
  private GatewayClient gateway;

  @BeforeEach
  void start() throws Exception {
    discord = FakeDiscord.builder().clock(clock).start();
    gateway = new GatewayClient(discord.gatewayUrl());
  }

  @AfterEach
  void stop() {
    gateway.close();
    discord.close();
  }

  @Test
  void theGatewaySaysHelloAcksHeartbeatsAndAnswersIdentifyWithReadyAndTheGuild() throws Exception {
    assertThat(gateway.nextOp(10).path("d").path("heartbeat_interval").asInt()).isEqualTo(41_250);
    gateway.send("{\"op\":1,\"d\":null}");
    assertThat(gateway.nextOp(11)).isNotNull();

    identify(discord.token());

    JsonNode ready = gateway.nextDispatch("READY");
    assertThat(ready.path("s").asInt()).isEqualTo(1);
    JsonNode d = ready.path("d");
    assertThat(d.path("v").asInt()).isEqualTo(10);
    assertThat(d.path("user").path("id").asText()).isEqualTo(discord.botUserId());
    assertThat(d.path("user").path("bot").asBoolean()).isTrue();
    assertThat(d.path("user").path("discriminator").asText()).isEqualTo("0000");
    assertThat(d.path("guilds").get(0).path("unavailable").asBoolean()).isTrue();
    assertThat(d.path("resume_gateway_url").asText()).isEqualTo(discord.gatewayUrl());
    assertThat(d.path("application").path("id").asText()).isEqualTo(discord.applicationId());
    JsonNode guild = gateway.nextDispatch("GUILD_CREATE");
    assertThat(guild.path("s").asInt()).isEqualTo(2);
    assertThat(guild.path("d").path("member_count").asInt())
        .isEqualTo(guild.path("d").path("members").size());
    assertThat(guild.path("d").path("members"))
        .extracting(m -> m.path("user").path("id").asText())
        .contains(discord.botUserId(), FakeDiscord.DEFAULT_OWNER_ID);
    assertThat(guild.path("d").path("roles"))
        .extracting(r -> r.path("permissions").isTextual())
        .containsOnly(true);
  }

  @Test
  void aWrongTokenOnIdentifyClosesTheGatewayWith4004() throws Exception {
    gateway.nextOp(10);
    identify("wrong");
    assertThat(gateway.awaitClose()).isEqualTo(4004);
  }

  @Test
  void aResumeReplaysTheDispatchesItMissedThenSaysResumed() throws Exception {
    gateway.nextOp(10);
    identify(discord.token());
    String sessionId = gateway.nextDispatch("READY").path("d").path("session_id").asText();
    gateway.nextDispatch("GUILD_CREATE");
    gateway.drop();
    discord.dispatch(
        "TYPING_START", JSON.createObjectNode().put("channel_id", FakeDiscord.DEFAULT_CHANNEL_ID));

    try (GatewayClient again = new GatewayClient(discord.gatewayUrl())) {
      again.nextOp(10);
      again.send(
          "{\"op\":6,\"d\":{\"token\":\""
              + discord.token()
              + "\",\"session_id\":\""
              + sessionId
              + "\",\"seq\":2}}");
      JsonNode missed = again.nextOp(0);
      assertThat(missed.path("t").asText()).isEqualTo("TYPING_START");
      assertThat(missed.path("s").asInt()).isEqualTo(3);
      assertThat(again.nextOp(0).path("t").asText()).isEqualTo("RESUMED");
    }
  }

  @Test
  void aSlashCommandPayloadCarriesWhatDiscordSends() throws Exception {
    login();
    DiscordAttachment file = discord.addAttachment(new byte[] {1, 2, 3}, "notes.txt", "text/plain");

    DiscordInteraction sent =
        discord.slashCommand(
            discord.inGuild(FakeDiscord.DEFAULT_MODERATOR_ID),
            "fluxbot-admin quota set",
            Map.of("credits", 50, "file", file));

    JsonNode d = gateway.nextDispatch("INTERACTION_CREATE").path("d");
    assertThat(d.path("id").asText()).isEqualTo(sent.id());
    long createdMillis = (Long.parseUnsignedLong(sent.id()) >>> 22) + 1_420_070_400_000L;
    assertThat(createdMillis)
        .as("a fresh snowflake")
        .isCloseTo(System.currentTimeMillis(), within(5_000L));
    assertThat(d.path("type").asInt()).isEqualTo(2);
    assertThat(d.path("version").asInt()).isEqualTo(1);
    assertThat(d.path("guild_id").asText()).isEqualTo(FakeDiscord.DEFAULT_GUILD_ID);
    assertThat(d.path("channel").path("id").asText()).isEqualTo(FakeDiscord.DEFAULT_CHANNEL_ID);
    assertThat(d.path("member").path("roles").get(0).asText())
        .isEqualTo(FakeDiscord.DEFAULT_MODERATOR_ROLE_ID);
    assertThat(Long.parseLong(d.path("member").path("permissions").asText()) & (1L << 5))
        .isNotZero();
    assertThat(d.path("authorizing_integration_owners").path("0").asText())
        .isEqualTo(FakeDiscord.DEFAULT_GUILD_ID);
    assertThat(d.path("attachment_size_limit").asLong())
        .isEqualTo(FakeDiscord.DEFAULT_ATTACHMENT_SIZE_LIMIT);
    JsonNode group = d.path("data").path("options").get(0);
    assertThat(group.path("name").asText()).isEqualTo("quota");
    assertThat(group.path("type").asInt()).isEqualTo(2);
    JsonNode sub = group.path("options").get(0);
    assertThat(sub.path("name").asText()).isEqualTo("set");
    assertThat(sub.path("options"))
        .extracting(o -> o.path("type").asInt())
        .containsExactlyInAnyOrder(4, 11);
    assertThat(
            d.path("data")
                .path("resolved")
                .path("attachments")
                .path(file.id())
                .path("url")
                .asText())
        .isEqualTo(file.url());
  }

  @Test
  void aSecondCallbackIsRefusedAndALateOneFindsNoInteraction() throws Exception {
    login();
    DiscordInteraction first =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    DiscordInteraction second =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());

    assertThat(post(callback(first), "{\"type\":5}").statusCode()).isEqualTo(204);
    HttpResponse<String> again = post(callback(first), "{\"type\":5}");
    clock.advance(Duration.ofSeconds(4));
    HttpResponse<String> late = post(callback(second), "{\"type\":5}");

    assertThat(again.statusCode()).isEqualTo(400);
    assertThat(json(again).path("code").asInt()).isEqualTo(40060);
    assertThat(late.statusCode()).isEqualTo(404);
    assertThat(json(late).path("code").asInt()).isEqualTo(10062);
  }

  @Test
  void theFirstFollowUpAfterADeferralReplacesTheThinkingMessage() throws Exception {
    login();
    DiscordInteraction sent =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    JsonNode deferred = json(post(callback(sent) + "?with_response=true", "{\"type\":5}"));
    String thinkingId = deferred.path("resource").path("message").path("id").asText();
    assertThat(deferred.path("interaction").path("response_message_loading").asBoolean()).isTrue();

    JsonNode first = json(post(webhook(sent), "{\"content\":\"queued: position 2\"}"));
    JsonNode second = json(post(webhook(sent), "{\"content\":\"another\"}"));

    assertThat(first.path("id").asText()).isEqualTo(thinkingId);
    assertThat(first.path("flags").asInt() & 128).as("no longer loading").isZero();
    assertThat(second.path("id").asText()).isNotEqualTo(thinkingId);
    assertThat(discord.awaitFollowup(sent.token(), m -> m.content().equals("another")).messageId())
        .isEqualTo(second.path("id").asText());
  }

  @Test
  void theFirstFollowUpAfterADeferralKeepsTheDeferralsVisibilityWhateverItAsks() throws Exception {
    login();
    DiscordInteraction loud =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    DiscordInteraction quiet =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    post(callback(loud), "{\"type\":5}");
    post(callback(quiet), "{\"type\":5,\"data\":{\"flags\":64}}");

    JsonNode secret =
        json(post(webhook(loud), "{\"content\":\"only you should see this\",\"flags\":64}"));
    JsonNode open = json(post(webhook(quiet), "{\"content\":\"everyone should see this\"}"));
    JsonNode second = json(post(webhook(loud), "{\"content\":\"now only you\",\"flags\":64}"));

    assertThat(secret.path("flags").asInt() & 64)
        .as("the public deferral's message, public")
        .isZero();
    assertThat(open.path("flags").asInt() & 64)
        .as("the ephemeral deferral's message, ephemeral")
        .isEqualTo(64);
    assertThat(second.path("flags").asInt() & 64)
        .as("a later follow-up is its own message")
        .isEqualTo(64);
  }

  @Test
  void aDelayedRequestTakesEffectAfterOneTheClientSentLater() throws Exception {
    login();
    DiscordInteraction sent =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    String thinkingId =
        json(post(callback(sent) + "?with_response=true", "{\"type\":5}"))
            .path("resource")
            .path("message")
            .path("id")
            .asText();
    String deleteOriginal = "DELETE /webhooks/{app}/{token}/messages/@original";
    discord.delayNext(deleteOriginal, Duration.ofMillis(300));

    CompletableFuture<HttpResponse<String>> delete =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return send(
                    "DELETE",
                    webhook(sent) + "/messages/@original",
                    "application/json",
                    new byte[0]);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    JsonNode error = json(post(webhook(sent), "{\"content\":\"that flag is wrong\",\"flags\":64}"));
    assertThat(delete.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);

    assertThat(error.path("id").asText())
        .as("the follow-up took the thinking message's place")
        .isEqualTo(thinkingId);
    assertThat(discord.requests())
        .extracting(r -> r.method() + " " + r.path())
        .filteredOn(r -> r.contains("/webhooks/"))
        .containsExactly(
            "POST /api/v10/webhooks/" + discord.applicationId() + "/" + sent.token(),
            "DELETE /api/v10/webhooks/"
                + discord.applicationId()
                + "/"
                + sent.token()
                + "/messages/@original");
    assertThat(discord.message(thinkingId)).as("the delete removed the error with it").isEmpty();
    assertThatThrownBy(() -> discord.delayNext(deleteOriginal, Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void withoutTheMessageContentIntentAUsersMessageReadOverRestIsEmptiedUnlessItMentionsTheBot()
      throws Exception {
    DiscordContext alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
    DiscordAttachment photo = discord.addAttachment(new byte[] {1, 2, 3}, "a.txt", "text/plain");
    DiscordMessage plain = discord.postMessageAsUser(alice, "look", photo);
    DiscordMessage mention =
        discord.postMessageAsUser(alice, "<@" + discord.botUserId() + "> look", photo);
    DiscordMessage dm =
        discord.postMessageAsUser(discord.inDm(FakeDiscord.DEFAULT_USER_ID), "look", photo);
    JsonNode own =
        json(
            post(
                discord.restBaseUrl() + "channels/" + alice.channelId() + "/messages",
                "{\"content\":\"mine\"}"));

    JsonNode readPlain = json(get(messageUrl(plain.channelId(), plain.messageId())));
    assertThat(readPlain.path("content").asText()).isEmpty();
    assertThat(readPlain.path("attachments")).isEmpty();
    assertThat(readPlain.path("embeds")).isEmpty();
    assertThat(readPlain.path("author").path("id").asText())
        .as("the rest stays")
        .isEqualTo(FakeDiscord.DEFAULT_USER_ID);
    assertThat(json(get(messageUrl(mention.channelId(), mention.messageId()))).path("attachments"))
        .hasSize(1);
    assertThat(json(get(messageUrl(dm.channelId(), dm.messageId()))).path("content").asText())
        .isEqualTo("look");
    assertThat(
            json(get(messageUrl(alice.channelId(), own.path("id").asText())))
                .path("content")
                .asText())
        .isEqualTo("mine");
    assertThat(discord.message(plain.messageId()).orElseThrow().path("content").asText())
        .as("the test sees it all")
        .isEqualTo("look");
    assertThat(json(get(discord.restBaseUrl() + "applications/@me")).path("flags").asInt())
        .isZero();

    try (FakeDiscord granted = FakeDiscord.builder().messageContentIntent(true).start()) {
      DiscordMessage posted =
          granted.postMessageAsUser(
              granted.inGuild(FakeDiscord.DEFAULT_USER_ID),
              "look",
              granted.addAttachment(new byte[] {1, 2, 3}, "a.txt", "text/plain"));
      JsonNode read =
          json(
              send(
                  "GET",
                  granted.restBaseUrl()
                      + "channels/"
                      + posted.channelId()
                      + "/messages/"
                      + posted.messageId(),
                  "application/json",
                  new byte[0]));
      assertThat(read.path("content").asText()).isEqualTo("look");
      assertThat(read.path("attachments")).hasSize(1);
    }
  }

  @Test
  void sixButtonsInARowAreAnInvalidFormBody() throws Exception {
    login();
    DiscordInteraction sent =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    post(callback(sent), "{\"type\":5}");
    StringBuilder buttons = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      buttons
          .append(i == 0 ? "" : ",")
          .append("{\"type\":2,\"style\":1,\"label\":\"b\",\"custom_id\":\"b")
          .append(i)
          .append("\"}");
    }

    HttpResponse<String> reply =
        patch(
            webhook(sent) + "/messages/@original",
            "{\"components\":[{\"type\":1,\"components\":[" + buttons + "]}]}");

    assertThat(reply.statusCode()).isEqualTo(400);
    JsonNode body = json(reply);
    assertThat(body.path("code").asInt()).isEqualTo(50035);
    assertThat(
            body.path("errors")
                .path("components")
                .path("0")
                .path("components")
                .path("_errors")
                .get(0)
                .path("code")
                .asText())
        .isEqualTo("BASE_TYPE_BAD_LENGTH");
  }

  @Test
  void aMultipartUploadOverTheLimitGets413AndOneWithinItLandsOnTheCdn() throws Exception {
    login();
    discord.setAttachmentSizeLimit(100);
    DiscordInteraction sent =
        discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of());
    post(callback(sent), "{\"type\":5}");
    String url = webhook(sent) + "/messages/@original";

    HttpResponse<String> big =
        multipart("PATCH", url, "{\"attachments\":[{\"id\":0}]}", "big.bin", new byte[101]);
    HttpResponse<String> small =
        multipart(
            "PATCH",
            url,
            "{\"content\":\"ok\",\"attachments\":[{\"id\":0}]}",
            "small file.bin",
            new byte[] {9, 8, 7});

    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(json(big).path("code").asInt()).isEqualTo(40005);
    assertThat(small.statusCode()).isEqualTo(200);
    JsonNode attachment = json(small).path("attachments").get(0);
    assertThat(attachment.path("filename").asText()).isEqualTo("small_file.bin");
    HttpResponse<byte[]> download =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(attachment.path("url").asText())).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(download.body()).containsExactly(9, 8, 7);
    DiscordMessage edit = discord.awaitOriginalEdit(sent.token(), m -> m.content().equals("ok"));
    assertThat(edit.file("small file.bin").orElseThrow().bytes()).containsExactly(9, 8, 7);
  }

  @Test
  void aWrongBotTokenGets401AndAnUnknownInteractionTokenGets50027() throws Exception {
    HttpResponse<String> self =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(discord.restBaseUrl() + "users/@me"))
                .header("Authorization", "Bot nope")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> webhook =
        patch(
            discord.restBaseUrl()
                + "webhooks/"
                + discord.applicationId()
                + "/no-such-token/messages/@original",
            "{\"content\":\"x\"}");

    assertThat(self.statusCode()).isEqualTo(401);
    assertThat(json(self).path("message").asText()).isEqualTo("401: Unauthorized");
    assertThat(json(self).path("code").asInt()).isZero();
    assertThat(webhook.statusCode()).isEqualTo(401);
    assertThat(json(webhook).path("code").asInt()).isEqualTo(50027);
    assertThat(json(webhook).path("message").asText()).isEqualTo("Invalid Webhook Token");
  }

  @Test
  void aScriptedRateLimitAnswersOnceWithDiscordsHeadersAndBody() throws Exception {
    discord.rateLimitNext("POST /channels/{channel}/messages", 1.5);
    String url = discord.restBaseUrl() + "channels/" + FakeDiscord.DEFAULT_CHANNEL_ID + "/messages";

    HttpResponse<String> limited = post(url, "{\"content\":\"hi\"}");
    HttpResponse<String> next = post(url, "{\"content\":\"hi\"}");

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).contains("2");
    assertThat(limited.headers().firstValue("X-RateLimit-Reset-After")).contains("1.500");
    assertThat(limited.headers().firstValue("X-RateLimit-Remaining")).contains("0");
    assertThat(limited.headers().firstValue("X-RateLimit-Scope")).contains("user");
    assertThat(json(limited).path("retry_after").asDouble()).isEqualTo(1.5);
    assertThat(json(limited).path("global").asBoolean()).isFalse();
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(discord.awaitChannelMessage(FakeDiscord.DEFAULT_CHANNEL_ID, m -> true).content())
        .isEqualTo("hi");
  }

  @Test
  void aScriptedFailureAnswersTheNextNRequestsOnTheRouteThenStops() throws Exception {
    discord.failNext("POST /channels/{channel}/messages", 503, 0, "503: Service Unavailable", 2);
    String url = discord.restBaseUrl() + "channels/" + FakeDiscord.DEFAULT_CHANNEL_ID + "/messages";

    HttpResponse<String> first = post(url, "{\"content\":\"one\"}");
    HttpResponse<String> second = post(url, "{\"content\":\"two\"}");
    HttpResponse<String> third = post(url, "{\"content\":\"three\"}");

    assertThat(first.statusCode()).isEqualTo(503);
    assertThat(json(first).path("message").asText()).isEqualTo("503: Service Unavailable");
    assertThat(second.statusCode()).isEqualTo(503);
    assertThat(third.statusCode()).isEqualTo(200);
    assertThat(discord.messages()).extracting(DiscordMessage::content).containsExactly("three");
    assertThatThrownBy(() -> discord.failNext("POST /channels/{channel}/messages", 500, 0, "x", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("times must be at least 1. Provided: 0");
  }

  @Test
  void aFailureScriptedForUploadsLetsOtherRequestsOnTheRoutePass() throws Exception {
    discord.failNextUpload("POST /channels/{channel}/messages", 502, 0, "502: Bad Gateway", 1);
    String url = discord.restBaseUrl() + "channels/" + FakeDiscord.DEFAULT_CHANNEL_ID + "/messages";
    byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);

    HttpResponse<String> plain = post(url, "{\"content\":\"no file\"}");
    HttpResponse<String> upload =
        multipart("POST", url, "{\"content\":\"with a file\"}", "a.txt", hello);
    HttpResponse<String> again =
        multipart("POST", url, "{\"content\":\"with a file\"}", "a.txt", hello);

    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(upload.statusCode()).isEqualTo(502);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(discord.messages())
        .extracting(DiscordMessage::content)
        .containsExactly("no file", "with a file");
  }

  @Test
  void aLinkButtonNeedsAWellFormedUrlOfAtMost512Characters() throws Exception {
    String url = discord.restBaseUrl() + "channels/" + FakeDiscord.DEFAULT_CHANNEL_ID + "/messages";
    String button =
        "{\"content\":\"x\",\"components\":[{\"type\":1,\"components\":[{\"type\":2,\"style\":5,"
            + "\"label\":\"Original\",\"url\":\"%s\"}]}]}";

    HttpResponse<String> tooLong =
        post(url, button.formatted("https://example.com/" + "a".repeat(500)));
    HttpResponse<String> notUrl = post(url, button.formatted("example.com/x"));
    HttpResponse<String> fine =
        post(url, button.formatted("https://example.com/originals/1?sig=x"));

    JsonNode at =
        json(tooLong)
            .path("errors")
            .path("components")
            .path("0")
            .path("components")
            .path("0")
            .path("url");
    assertThat(at.path("_errors").get(0).path("code").asText()).isEqualTo("BASE_TYPE_MAX_LENGTH");
    assertThat(
            json(notUrl)
                .path("errors")
                .path("components")
                .path("0")
                .path("components")
                .path("0")
                .path("url")
                .path("_errors")
                .get(0)
                .path("code")
                .asText())
        .isEqualTo("URL_TYPE_INVALID_URL");
    assertThat(fine.statusCode()).isEqualTo(200);
  }

  @Test
  void aCommandListWithARequiredOptionAfterAnOptionalOneIsRefused() throws Exception {
    String commands =
        "[{\"name\":\"imagine\",\"description\":\"d\",\"options\":["
            + "{\"type\":3,\"name\":\"style\",\"description\":\"d\"},"
            + "{\"type\":3,\"name\":\"prompt\",\"description\":\"d\",\"required\":true}]}]";

    HttpResponse<String> reply =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        discord.restBaseUrl()
                            + "applications/"
                            + discord.applicationId()
                            + "/commands"))
                .header("Authorization", "Bot " + discord.token())
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(commands))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(reply.statusCode()).isEqualTo(400);
    assertThat(
            json(reply)
                .path("errors")
                .path("0")
                .path("options")
                .path("1")
                .path("_errors")
                .get(0)
                .path("code")
                .asText())
        .isEqualTo("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID_ORDER");
    assertThat(discord.registeredCommands()).isEmpty();
  }

  @Test
  void anEditThatCanBeSeenIsAlreadyAmongTheRecordedRequests() throws Exception {
    String channel =
        discord.restBaseUrl() + "channels/" + FakeDiscord.DEFAULT_CHANNEL_ID + "/messages";
    String id = json(post(channel, "{\"content\":\"0\"}")).path("id").asText();
    String route = "PATCH /channels/{channel}/messages/{message}";
    int edits = 300;
    CompletableFuture<Void> editor =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 1; i <= edits; i++) {
                try {
                  assertThat(patch(channel + "/" + id, "{\"content\":\"" + i + "\"}").statusCode())
                      .isEqualTo(200);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            });
    int seen;
    do {
      seen = discord.message(id).orElseThrow().path("content").asInt();
      assertThat(discord.requests(route))
          .as("%s requests once edit %d is visible", route, seen)
          .hasSizeGreaterThanOrEqualTo(seen);
    } while (!editor.isDone());
    editor.get(30, TimeUnit.SECONDS);
    assertThat(discord.requests(route)).hasSize(edits);
  }

  @Test
  void theBotCannotEditAMessageSomeoneElsePosted() throws Exception {
    DiscordContext alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
    DiscordMessage posted = discord.postMessageAsUser(alice, "mine");

    HttpResponse<String> reply =
        patch(
            discord.restBaseUrl()
                + "channels/"
                + alice.channelId()
                + "/messages/"
                + posted.messageId(),
            "{\"content\":\"hijacked\"}");

    assertThat(reply.statusCode()).isEqualTo(403);
    assertThat(json(reply).path("code").asInt()).isEqualTo(50005);
  }

  @Test
  void anAwaitThatTimesOutSaysWhatWasRecordedInstead() throws Exception {
    try (FakeDiscord quick = FakeDiscord.builder().awaitTimeout(Duration.ofMillis(200)).start()) {
      quick.postMessageAsUser(quick.inGuild(FakeDiscord.DEFAULT_USER_ID), "hello there");

      assertThatThrownBy(() -> quick.awaitChannelMessage(FakeDiscord.DEFAULT_CHANNEL_ID, m -> true))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining(
              "No matching new message in channel "
                  + FakeDiscord.DEFAULT_CHANNEL_ID
                  + " within 200 ms")
          .hasMessageContaining("USER_MESSAGE")
          .hasMessageContaining("hello there");
      assertThatThrownBy(
              () ->
                  quick.slashCommand(
                      quick.inGuild(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of()))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("No client identified with the fake Discord gateway");
    }
  }

  private void login() throws InterruptedException {
    gateway.nextOp(10);
    identify(discord.token());
    gateway.nextDispatch("GUILD_CREATE");
  }

  private void identify(String token) {
    gateway.send("{\"op\":2,\"d\":{\"token\":\"" + token + "\",\"intents\":1,\"properties\":{}}}");
  }

  private String callback(DiscordInteraction interaction) {
    return discord.restBaseUrl()
        + "interactions/"
        + interaction.id()
        + "/"
        + interaction.token()
        + "/callback";
  }

  private String webhook(DiscordInteraction interaction) {
    return discord.restBaseUrl()
        + "webhooks/"
        + discord.applicationId()
        + "/"
        + interaction.token();
  }

  private HttpResponse<String> post(String url, String json) throws Exception {
    return send("POST", url, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> get(String url) throws Exception {
    return send("GET", url, "application/json", new byte[0]);
  }

  private String messageUrl(String channelId, String messageId) {
    return discord.restBaseUrl() + "channels/" + channelId + "/messages/" + messageId;
  }

  private HttpResponse<String> patch(String url, String json) throws Exception {
    return send("PATCH", url, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> multipart(
      String method, String url, String payload, String filename, byte[] file) throws Exception {
    String boundary = "fake-discord-boundary";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\""
                + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    body.writeBytes(file);
    body.writeBytes(
        ("\r\n--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n"
                + "Content-Type: application/json\r\n\r\n"
                + payload
                + "\r\n--"
                + boundary
                + "--\r\n")
            .getBytes(StandardCharsets.UTF_8));
    return send(method, url, "multipart/form-data; boundary=" + boundary, body.toByteArray());
  }

  private HttpResponse<String> send(String method, String url, String contentType, byte[] body)
      throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Authorization", "Bot " + discord.token())
            .header("Content-Type", contentType)
            .method(method, HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("Not JSON: " + response.body(), e);
    }
  }
}
