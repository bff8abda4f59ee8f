package dev.fluxbot.telegram;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.chat.Markup;
import dev.fluxbot.core.model.GenerationRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The words fluxbot shows on Telegram, as plain text (no parse mode, so nothing needs escaping).
 */
final class Texts {
  static final int MAX_TEXT = 4096;
  static final int MAX_CAPTION = 1024;

  private Texts() {}

  static String working(GenerationRequest r) {
    return "🎨 Working on it: "
        + r.model().id()
        + ", "
        + (r.size() == null
            ? "the first reference's shape"
            : r.size().width() + "×" + r.size().height())
        + ", seed "
        + r.seed()
        + "…";
  }

  static String queued(int position) {
    return "⏳ Queued #" + position + ": waiting for a free slot.";
  }

  static String progress(Progress p) {
    return ChatTexts.progress(p);
  }

  /**
   * Prompt (cut to fit), what --enhance did (cut to fit), then model, size, seed and cost or
   * "cached"; a note when the photo is a preview.
   */
  static String caption(ImageReply reply, boolean preview) {
    String tail =
        "\n"
            + ChatTexts.facts(reply)
            + (preview
                ? "\nA compressed preview; the original ("
                    + mb(reply.result().image().length)
                    + ") follows as a file."
                : "");
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(reply, MAX_CAPTION - tail.length(), t -> t);
    return shown.prompt() + shown.line() + tail;
  }

  /** For errors, which show no time: the zone does not matter. */
  private static final ChatTexts PLAIN = texts(ZoneOffset.UTC);

  static String error(UserError e) {
    return PLAIN.error(e);
  }

  /** Core's texts in Telegram's plain text; times are shown in {@code zone}. */
  static ChatTexts texts(ZoneId zone) {
    return new ChatTexts(markup(zone));
  }

  /** Plain text: no emphasis, nothing to escape, users by id, times with the zone and a span. */
  static Markup markup(ZoneId zone) {
    DateTimeFormatter format =
        DateTimeFormatter.ofPattern("EEE d MMM HH:mm", Locale.ROOT).withZone(zone);
    return new Markup() {
      @Override
      public String bold(String safeText) {
        return safeText;
      }

      @Override
      public String escape(String userText) {
        return userText;
      }

      @Override
      public String user(String userId) {
        return "user " + userId;
      }

      @Override
      public String time(Instant at, Instant now) {
        return format.format(at)
            + " "
            + zoneName(zone)
            + " (in "
            + span(Duration.between(now, at))
            + ")";
      }

      @Override
      public String channel(String channelId) {
        return "chat " + channelId;
      }

      @Override
      public int maxText() {
        return MAX_TEXT;
      }
    };
  }

  static String zoneName(ZoneId zone) {
    return zone.normalized().equals(java.time.ZoneOffset.UTC) ? "UTC" : zone.getId();
  }

  static String span(Duration d) {
    long minutes = Math.max(0, (d.toSeconds() + 59) / 60);
    return minutes >= 60 ? minutes / 60 + " h " + minutes % 60 + " min" : minutes + " min";
  }

  static String cut(String text, int max) {
    return ChatTexts.cut(text, max);
  }

  static String mb(long bytes) {
    return ChatTexts.mb(bytes);
  }
}
