package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/**
 * An interaction response ({@code POST /interactions/{id}/{token}/callback}) that the fake Discord
 * accepted.
 *
 * @param type Discord's response type, e.g. {@link #DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE}
 * @param data the response's {@code data}; a missing node when it had none
 * @param files the uploaded files of a multipart response
 */
public record DiscordCallback(
    String interactionId,
    String token,
    int type,
    JsonNode data,
    List<DiscordPart> files,
    DiscordRequest request) {
  public static final int CHANNEL_MESSAGE_WITH_SOURCE = 4;
  public static final int DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5;
  public static final int DEFERRED_UPDATE_MESSAGE = 6;
  public static final int UPDATE_MESSAGE = 7;
  public static final int APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8;
  public static final int MODAL = 9;

  /** Discord's message flag for a reply only its user sees. */
  public static final int EPHEMERAL = 1 << 6;

  public DiscordCallback {
    Objects.requireNonNull(interactionId, "interactionId");
    Objects.requireNonNull(token, "token");
    data = data.deepCopy();
    files = List.copyOf(files);
    Objects.requireNonNull(request, "request");
  }

  @Override
  public JsonNode data() {
    return data.deepCopy();
  }

  /** Whether {@code data.flags} asks for an ephemeral message. */
  public boolean isEphemeral() {
    return (data.path("flags").asInt() & EPHEMERAL) != 0;
  }

  @Override
  public String toString() {
    return "DiscordCallback[interaction "
        + interactionId
        + ", type "
        + type
        + ", data "
        + data
        + (files.isEmpty() ? "" : ", files " + files)
        + "]";
  }
}
