package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The envelopes Slack sends an app for what users do: slash commands, button clicks, message
 * shortcuts, modal submissions and mentions, each with its trigger id and response URL where Slack
 * gives one.
 */
final class Envelopes {
  private final SlackEngine engine;
  private final SlackState state;

  Envelopes(SlackEngine engine) {
    this.engine = engine;
    this.state = engine.state();
  }

  SlackEnvelope slashCommand(String userId, String channel, String command, String text) {
    engine.requireUser(userId);
    engine.requireChannel(channel);
    String trigger = trigger(userId);
    String responseUrl = responseUrl();
    ObjectNode p =
        WebApi.JSON
            .createObjectNode()
            .put("token", "verification-token-unused")
            .put("team_id", engine.config().teamId())
            .put("team_domain", engine.config().teamDomain())
            .put("channel_id", channel)
            .put("channel_name", "general")
            .put("user_id", userId)
            .put("user_name", engine.userName(userId))
            .put("command", command)
            .put("text", text)
            .put("api_app_id", engine.config().appId())
            .put("is_enterprise_install", "false")
            .put("response_url", responseUrl)
            .put("trigger_id", trigger);
    return new SlackEnvelope(envelopeId(), "slash_commands", p, trigger, responseUrl);
  }

  /** A click on the button with {@code actionId} in {@code message}, as it is now. */
  SlackEnvelope blockAction(String userId, SlackMessage message, String actionId) {
    engine.requireUser(userId);
    SlackMessage current =
        state.read(() -> state.messages.get(message.channel() + "/" + message.ts()));
    if (current == null) {
      throw new IllegalArgumentException(
          "FakeSlack: no message " + message.channel() + "/" + message.ts());
    }
    JsonNode button =
        current.buttons().stream()
            .filter(b -> actionId.equals(b.path("action_id").asText()))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "FakeSlack: message "
                            + current.ts()
                            + " has no button "
                            + actionId
                            + "; it has "
                            + current.actionIds()));
    String blockId = blockIdOf(current, actionId);
    String trigger = trigger(userId);
    String responseUrl = responseUrl();
    ObjectNode p = interactive("block_actions", userId, trigger);
    ObjectNode container =
        p.putObject("container")
            .put("type", "message")
            .put("message_ts", current.ts())
            .put("channel_id", current.channel())
            .put("is_ephemeral", false);
    if (current.threadTs() != null) {
      container.put("thread_ts", current.threadTs());
    }
    p.putObject("channel").put("id", current.channel()).put("name", "general");
    p.set("message", Payloads.message(current));
    p.put("response_url", responseUrl);
    ObjectNode action =
        p.putArray("actions")
            .addObject()
            .put("action_id", actionId)
            .put("block_id", blockId)
            .put("type", "button")
            .put("action_ts", engine.nextTs());
    action.set("text", button.path("text"));
    if (button.hasNonNull("value")) {
      action.put("value", button.get("value").asText());
    }
    return new SlackEnvelope(envelopeId(), "interactive", p, trigger, responseUrl);
  }

  /** A message shortcut ({@code callbackId}) run on {@code message}. */
  SlackEnvelope messageShortcut(String userId, SlackMessage message, String callbackId) {
    engine.requireUser(userId);
    String trigger = trigger(userId);
    String responseUrl = responseUrl();
    ObjectNode p =
        interactive("message_action", userId, trigger)
            .put("callback_id", callbackId)
            .put("action_ts", engine.nextTs())
            .put("message_ts", message.ts())
            .put("response_url", responseUrl);
    p.putObject("channel").put("id", message.channel()).put("name", "general");
    p.set("message", Payloads.message(message));
    return new SlackEnvelope(envelopeId(), "interactive", p, trigger, responseUrl);
  }

  /** Submits a modal the bot opened, with input values by {@code action_id}. */
  SlackEnvelope viewSubmission(String userId, SlackView view, Map<String, String> values) {
    engine.requireUser(userId);
    ObjectNode v = (ObjectNode) view.view();
    ObjectNode stateValues = v.putObject("state").putObject("values");
    for (JsonNode block : v.path("blocks")) {
      JsonNode element = block.path("element");
      String actionId = element.path("action_id").asText();
      if (values.containsKey(actionId)) {
        stateValues
            .putObject(block.path("block_id").asText())
            .putObject(actionId)
            .put("type", element.path("type").asText())
            .put("value", values.get(actionId));
      }
    }
    v.put("hash", "h" + state.next());
    String trigger = trigger(userId);
    ObjectNode p = interactive("view_submission", userId, trigger);
    p.set("view", v);
    p.putArray("response_urls");
    return new SlackEnvelope(envelopeId(), "interactive", p, trigger, null);
  }

  /** An {@code app_mention} event: the user mentioned the bot in {@code message}. */
  SlackEnvelope appMention(SlackMessage message) {
    ObjectNode event =
        Payloads.message(message)
            .put("type", "app_mention")
            .put("channel", message.channel())
            .put("event_ts", message.ts());
    ObjectNode p =
        WebApi.JSON
            .createObjectNode()
            .put("token", "verification-token-unused")
            .put("team_id", engine.config().teamId())
            .put("api_app_id", engine.config().appId())
            .put("type", "event_callback")
            .put("event_id", "Ev" + state.next())
            .put("event_time", engine.config().clock().instant().getEpochSecond());
    p.set("event", event);
    p.putArray("authorizations")
        .addObject()
        .put("team_id", engine.config().teamId())
        .put("user_id", engine.config().botUserId())
        .put("is_bot", true)
        .put("is_enterprise_install", false);
    return new SlackEnvelope(envelopeId(), "events_api", p, null, null);
  }

  private ObjectNode interactive(String type, String userId, String trigger) {
    ObjectNode p =
        WebApi.JSON
            .createObjectNode()
            .put("type", type)
            .put("token", "verification-token-unused")
            .put("api_app_id", engine.config().appId())
            .put("trigger_id", trigger)
            .put("is_enterprise_install", false);
    p.putObject("team")
        .put("id", engine.config().teamId())
        .put("domain", engine.config().teamDomain());
    p.putObject("user")
        .put("id", userId)
        .put("username", engine.userName(userId))
        .put("name", engine.userName(userId))
        .put("team_id", engine.config().teamId());
    return p;
  }

  private String trigger(String userId) {
    String t =
        state.next()
            + "."
            + engine.config().teamId().hashCode()
            + ".fake"
            + Long.toHexString(state.next());
    state.run(
        () -> {
          state.triggers.put(t, engine.config().clock().instant());
          state.triggerUsers.put(t, userId);
        });
    return t;
  }

  private String responseUrl() {
    String id =
        engine.config().teamId()
            + "/"
            + state.next()
            + "/fake"
            + Long.toHexString(System.identityHashCode(engine));
    state.run(
        () ->
            state.responseUrls.put(
                id, new SlackState.ResponseUrl(engine.config().clock().instant())));
    return engine.baseUrl() + "/response/" + id;
  }

  static String envelopeId() {
    return java.util.UUID.randomUUID().toString();
  }

  private static String blockIdOf(SlackMessage m, String actionId) {
    for (JsonNode block : m.blocks()) {
      for (JsonNode e : block.path("elements")) {
        if (actionId.equals(e.path("action_id").asText())) {
          return block.path("block_id").asText("b" + Math.abs(block.hashCode()));
        }
      }
    }
    return "";
  }
}
