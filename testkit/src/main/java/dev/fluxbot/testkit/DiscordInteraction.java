package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * An {@code INTERACTION_CREATE} the fake Discord sent: its id and token, to await what the bot does
 * with it.
 *
 * @param type Discord's interaction type: 2 command, 3 component, 5 modal submit
 * @param guildId null in a DM
 * @param payload the event's {@code d}, as sent
 */
public record DiscordInteraction(
    String id,
    String token,
    int type,
    String channelId,
    String guildId,
    String userId,
    JsonNode payload) {
  public static final int APPLICATION_COMMAND = 2;
  public static final int MESSAGE_COMPONENT = 3;
  public static final int MODAL_SUBMIT = 5;

  public DiscordInteraction {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(channelId, "channelId");
    Objects.requireNonNull(userId, "userId");
    payload = payload.deepCopy();
  }

  @Override
  public JsonNode payload() {
    return payload.deepCopy();
  }
}
