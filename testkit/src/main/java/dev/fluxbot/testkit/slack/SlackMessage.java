package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A message as the fake Slack holds it now (after any {@code chat.update}), or an ephemeral one
 * that only {@link #visibleTo()} saw.
 *
 * @param threadTs the thread it belongs to, or null
 * @param user the author's user id (the bot's for the bot's messages)
 * @param blocks the Block Kit blocks, or a missing node
 * @param visibleTo for an ephemeral message, the one user who sees it; else null
 * @param edits how many times {@code chat.update} changed it
 */
public record SlackMessage(
    String channel,
    String ts,
    String threadTs,
    String user,
    String text,
    JsonNode blocks,
    List<SlackFile> files,
    String visibleTo,
    int edits) {
  public SlackMessage {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(ts, "ts");
    text = text == null ? "" : text;
    blocks = blocks == null ? MissingNode.getInstance() : blocks.deepCopy();
    files = List.copyOf(files);
  }

  /** The {@code action_id}s of the buttons in its blocks, in order. */
  public List<String> actionIds() {
    List<String> ids = new ArrayList<>();
    for (JsonNode element : buttons()) {
      ids.add(element.path("action_id").asText());
    }
    return ids;
  }

  /** The button elements of its {@code actions} blocks, in order. */
  public List<JsonNode> buttons() {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode block : blocks) {
      if ("actions".equals(block.path("type").asText())) {
        for (JsonNode element : block.path("elements")) {
          if ("button".equals(element.path("type").asText())) {
            out.add(element);
          }
        }
      }
    }
    return out;
  }

  /** Its text and the text of its blocks, for assertions on what a reader sees. */
  public String allText() {
    StringBuilder b = new StringBuilder(text);
    blocks
        .findValues("text")
        .forEach(t -> b.append('\n').append(t.isTextual() ? t.asText() : t.path("text").asText()));
    return b.toString();
  }

  @Override
  public String toString() {
    return "SlackMessage["
        + channel
        + "/"
        + ts
        + (threadTs == null ? "" : " in thread " + threadTs)
        + " by "
        + user
        + (visibleTo == null ? "" : " to " + visibleTo)
        + ": "
        + text
        + (blocks.isMissingNode() ? "" : " blocks=" + blocks)
        + (files.isEmpty() ? "" : " files=" + files)
        + "]";
  }
}
