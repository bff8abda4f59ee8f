package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * An interaction the fake sent, and what the bot has done with it so far; guarded by the world's
 * lock.
 */
final class Issued {
  final String id;
  final String token;
  final int type;
  final String channelId;
  final String guildId;
  final String userId;
  final Instant issuedAt;

  /** The message a component sits on (or a modal came from); null otherwise. */
  final String sourceMessageId;

  /**
   * What the bot's reply message is typed as: 20 for a slash command, 23 for a context menu, 0
   * otherwise.
   */
  final int replyMessageType;

  final ObjectNode payload;

  int callbackType;
  String originalMessageId;
  final Set<String> followupIds = new LinkedHashSet<>();

  Issued(
      String id,
      String token,
      int type,
      String channelId,
      String guildId,
      String userId,
      Instant issuedAt,
      String sourceMessageId,
      int replyMessageType,
      ObjectNode payload) {
    this.id = id;
    this.token = token;
    this.type = type;
    this.channelId = channelId;
    this.guildId = guildId;
    this.userId = userId;
    this.issuedAt = issuedAt;
    this.sourceMessageId = sourceMessageId;
    this.replyMessageType = replyMessageType;
    this.payload = payload;
  }

  boolean isAcknowledged() {
    return callbackType != 0;
  }
}
