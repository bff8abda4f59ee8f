package dev.fluxbot.slack;

import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.chat.Markup;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.quota.QuotaService;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The words fluxbot shows on Slack: core's {@link ChatTexts} in Slack's mrkdwn. */
final class Texts {
  /** Slack shows up to 40,000 characters; a caption and a message stay far shorter. */
  static final int MAX_TEXT = 3000;

  private static final DateTimeFormatter FALLBACK_TIME =
      DateTimeFormatter.ofPattern("EEE d MMM HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** Slack's mrkdwn: {@code *bold*}, {@code <@U…>} mentions, {@code <!date^…>} times. */
  static final Markup MARKUP =
      new Markup() {
        @Override
        public String bold(String safeText) {
          return "*" + safeText + "*";
        }

        @Override
        public String escape(String userText) {
          return Texts.escape(userText);
        }

        @Override
        public String user(String userId) {
          return "<@" + userId + ">";
        }

        @Override
        public String time(Instant at, Instant now) {
          return date(at);
        }

        @Override
        public String channel(String channelId) {
          return "<#" + channelId + ">";
        }

        @Override
        public int maxText() {
          return MAX_TEXT;
        }
      };

  static final ChatTexts TEXTS = new ChatTexts(MARKUP);

  private Texts() {}

  /** Escapes the three characters Slack reads as markup. */
  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  static String shortPrompt(String prompt) {
    String p = prompt.strip().replace('\n', ' ');
    return escape(p.length() > 80 ? p.substring(0, 79) + "…" : p);
  }

  static String describe(GenerationRequest r) {
    return r.summary();
  }

  static String progress(Progress p) {
    return ChatTexts.progress(p);
  }

  static String progress(Progress p, Locale locale) {
    return ChatTexts.progress(p, locale);
  }

  static String caption(ImageReply reply, String userId) {
    return caption(reply, userId, Locale.ENGLISH);
  }

  /**
   * The image's comment: the prompt in bold, who asked, what --enhance did, model, size, seed, cost
   * or "cached".
   */
  static String caption(ImageReply reply, String userId, Locale locale) {
    String who = " — " + MARKUP.user(userId);
    String tail = "\n" + ChatTexts.facts(reply, locale);
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(
            reply,
            MAX_TEXT - who.length() - tail.length() - 2,
            t -> escape(t.replace("*", "").strip()),
            locale);
    return MARKUP.bold(shown.prompt()) + who + shown.line() + tail;
  }

  /** A group's caption: the prompt, who asked, the group's facts (every seed) and failures. */
  static String groupCaption(GroupReply group, String userId, Locale locale) {
    String tail = " — " + MARKUP.user(userId) + "\n" + ChatTexts.groupFacts(group, locale);
    String prompt = escape(group.images().get(0).request().prompt().replace("*", "").strip());
    return ChatTexts.cut(
        MARKUP.bold(ChatTexts.cut(prompt, Math.max(20, MAX_TEXT - tail.length() - 2))) + tail,
        MAX_TEXT);
  }

  static String error(UserError e) {
    return TEXTS.error(e);
  }

  static String error(UserError e, Locale locale) {
    return TEXTS.in(locale).error(e);
  }

  /**
   * {@code /imagine-quota}: core's summary (left, total, spent, held), and when the window resets
   * (in the reader's time zone).
   */
  static String quota(QuotaService.Status s) {
    return quota(s, Locale.ENGLISH);
  }

  static String quota(QuotaService.Status s, Locale locale) {
    return TEXTS.in(locale).quota(s, Instant.now());
  }

  /** A time Slack shows in the reader's zone, with a UTC fallback. */
  static String date(Instant at) {
    return "<!date^"
        + at.getEpochSecond()
        + "^{date_short_pretty} at {time}|"
        + FALLBACK_TIME.format(at)
        + ">";
  }
}
