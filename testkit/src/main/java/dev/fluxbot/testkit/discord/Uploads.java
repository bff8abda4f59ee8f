package dev.fluxbot.testkit.discord;

import dev.fluxbot.testkit.DiscordPart;
import java.util.List;
import java.util.Optional;

/**
 * Discord's upload limits: each file within {@code attachment_size_limit}, the request within 25
 * MiB or it.
 */
final class Uploads {
  static final long REQUEST_LIMIT = 25L * 1024 * 1024;

  private Uploads() {}

  static Optional<Reply> check(List<DiscordPart> files, long perFileLimit) {
    long total = 0;
    for (DiscordPart file : files) {
      if (file.size() > perFileLimit) return Optional.of(tooLarge());
      total += file.size();
    }
    return total > Math.max(REQUEST_LIMIT, perFileLimit)
        ? Optional.of(tooLarge())
        : Optional.empty();
  }

  private static Reply tooLarge() {
    return Reply.error(413, "Request entity too large", 40005);
  }
}
