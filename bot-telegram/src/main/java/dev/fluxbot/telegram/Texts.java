package dev.fluxbot.telegram;

import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
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
    return working(r, Locale.ENGLISH);
  }

  /** "🎨 Working on it: klein-4b, 1024×1024, seed 7…" in {@code locale}. */
  static String working(GenerationRequest r, Locale locale) {
    return "🎨 " + Messages.format(locale, "telegram.working", r.summary(locale));
  }

  static String queued(int position) {
    return queued(position, Locale.ENGLISH);
  }

  static String queued(int position, Locale locale) {
    return "⏳ " + Messages.format(locale, "telegram.queued", position);
  }

  static String progress(Progress p) {
    return ChatTexts.progress(p);
  }

  static String progress(Progress p, Locale locale) {
    return ChatTexts.progress(p, locale);
  }

  static String caption(ImageReply reply, boolean preview) {
    return caption(reply, preview, Locale.ENGLISH);
  }

  /**
   * Prompt (cut to fit), what --enhance did (cut to fit), then model, size, seed and cost or
   * "cached"; a note when the photo is a preview.
   */
  static String caption(ImageReply reply, boolean preview, Locale locale) {
    String tail =
        "\n"
            + ChatTexts.facts(reply, locale)
            + (preview
                ? "\n"
                    + Messages.format(locale, "telegram.preview", mb(reply.result().image().length))
                : "");
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(reply, MAX_CAPTION - tail.length(), t -> t, locale);
    return shown.prompt() + shown.line() + tail;
  }

  /** A group's text under its album: the prompt, then the group's facts and failures. */
  static String groupCaption(GroupReply group, Locale locale) {
    String tail = "\n" + ChatTexts.groupFacts(group, locale);
    String prompt = group.images().get(0).request().prompt();
    return cut(cut(prompt, Math.max(20, MAX_CAPTION - tail.length())) + tail, MAX_CAPTION);
  }

  /** One photo of an album: "1 · seed 42". */
  static String albumItem(int index, long seed, Locale locale) {
    return ChatTexts.groupItem(index, seed, locale);
  }

  /** The caption of the original sent as a file: "The original, 2048×2048, 12.3 MB." */
  static String original(int width, int height, long bytes, Locale locale) {
    return Messages.format(locale, "telegram.original", width + "×" + height, mb(bytes));
  }

  /** For errors, which show no time: the zone does not matter. */
  private static final ChatTexts PLAIN = texts(ZoneOffset.UTC);

  static String error(UserError e) {
    return PLAIN.error(e);
  }

  static String error(UserError e, Locale locale) {
    return PLAIN.in(locale).error(e);
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
