package dev.fluxbot.slack;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.quota.QuotaService;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The words fluxbot shows on Slack, in Slack's mrkdwn (user text escaped: {@code & < >}). */
final class Texts {
  /** Slack shows up to 40,000 characters; a caption and a message stay far shorter. */
  static final int MAX_TEXT = 3000;

  private static final DateTimeFormatter FALLBACK_TIME =
      DateTimeFormatter.ofPattern("EEE d MMM HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

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
    return p.text();
  }

  /** The image's comment: the prompt in bold, who asked, model, size, seed, cost or "cached". */
  static String caption(ImageReply reply, String userId) {
    GenerationResult r = reply.result();
    String cost =
        reply.cached()
            ? "cached"
                + (r.cost() == null || r.cost().signum() == 0
                    ? " (free)"
                    : " (" + credits(r.cost()) + " credits)")
            : r.cost() == null ? "cost not reported" : credits(r.cost()) + " credits";
    String tail =
        " — <@"
            + userId
            + ">\n"
            + reply.request().model().id()
            + " · "
            + r.width()
            + "×"
            + r.height()
            + " · seed "
            + r.seed()
            + " · "
            + cost;
    String prompt = escape(reply.request().prompt().replace("*", "").strip());
    int room = MAX_TEXT - tail.length() - 2;
    if (prompt.length() > room) {
      prompt = prompt.substring(0, Math.max(0, room - 1)) + "…";
    }
    return "*" + prompt + "*" + tail;
  }

  static String error(UserError e) {
    String text =
        switch (e.code().kind()) {
          case INPUT -> "⚠️ " + e.getMessage();
          case OUTCOME -> "🚫 " + e.getMessage();
          case BACKEND -> "❌ " + e.getMessage();
        };
    return text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT - 1) + "…";
  }

  /**
   * {@code /imagine-quota}: core's summary (left, total, spent, held), and when the window resets
   * (in the reader's time zone).
   */
  static String quota(QuotaService.Status s) {
    if (s.banned()) {
      return "🚫 You are banned from making images in this workspace; ask an admin.";
    }
    return "You have " + s.summary() + ". Resets " + date(s.resetsAt()) + ".";
  }

  /** A time Slack shows in the reader's zone, with a UTC fallback. */
  static String date(Instant at) {
    return "<!date^"
        + at.getEpochSecond()
        + "^{date_short_pretty} at {time}|"
        + FALLBACK_TIME.format(at)
        + ">";
  }

  static String credits(BigDecimal c) {
    return c.stripTrailingZeros().toPlainString();
  }

  static String milli(long milli) {
    return BigDecimal.valueOf(milli).movePointLeft(3).stripTrailingZeros().toPlainString();
  }
}
