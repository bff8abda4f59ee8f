package dev.fluxbot.core.chat;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import java.time.Instant;
import java.util.Locale;

/**
 * The words fluxbot shows on every chat platform, written through the platform's {@link Markup}.
 */
public final class ChatTexts {
  private final Markup markup;

  public ChatTexts(Markup markup) {
    this.markup = markup;
  }

  public Markup markup() {
    return markup;
  }

  /** A user-facing error: an icon by kind (input, outcome, backend), cut to the message limit. */
  public String error(UserError e) {
    return cut(icon(e) + " " + e.getMessage(), markup.maxText());
  }

  /** A mistake in an admin or settings command: the field, the rule, the value. */
  public String mistake(String message) {
    return cut("⚠️ " + message, markup.maxText());
  }

  private static String icon(UserError e) {
    return switch (e.code().kind()) {
      case INPUT -> "⚠️";
      case OUTCOME -> "🚫";
      case BACKEND -> "❌";
    };
  }

  /** A command that failed for no fault of the user's, with the failure's own words. */
  public static String failed(RuntimeException e) {
    return "❌ That did not work (" + e.getMessage() + ").";
  }

  /** An image's facts: "pro · 1024×768 · seed 42 · 3 credits" (or "cached (free)"). */
  public static String facts(ImageReply reply) {
    GenerationResult r = reply.result();
    return reply.request().model().id()
        + " · "
        + r.width()
        + "×"
        + r.height()
        + " · seed "
        + r.seed()
        + " · "
        + cost(reply);
  }

  /** What an image cost: "1.4 credits", "cached (free)", "cost not reported". */
  public static String cost(ImageReply reply) {
    GenerationResult r = reply.result();
    if (reply.cached()) {
      return "cached"
          + (r.cost() == null || r.cost().signum() == 0
              ? " (free)"
              : " (" + Credits.count(r.cost()) + ")");
    }
    return r.cost() == null ? "cost not reported" : Credits.count(r.cost());
  }

  /** A job's status line: "🎨 Generating 40%…". */
  public static String progress(Progress p) {
    String icon =
        switch (p.stage()) {
          case WAITING_FOR_SLOT, QUEUED -> "⏳";
          case SUBMITTED -> "📨";
          case REASONING -> "🧠";
          case GENERATING -> "🎨";
          case DOWNLOADING -> "📥";
          case RETRYING -> "🔁";
        };
    return icon + " " + p.text();
  }

  /** {@code /quota}: what is left, and when the window resets. */
  public String quota(QuotaService.Status s, Instant now) {
    if (s.banned()) {
      return "🚫 You are banned from making images here; ask an admin.";
    }
    return "You have " + s.summary() + ". Resets " + markup.time(s.resetsAt(), now) + ".";
  }

  /** An admin's view of one user: credits, where the limit comes from, a ban, the reset. */
  public String userStatus(String userId, QuotaService.Status s, Instant now) {
    String user = markup.user(userId);
    return Character.toUpperCase(user.charAt(0))
        + user.substring(1)
        + " has "
        + s.summary()
        + "; limit from "
        + s.source()
        + (s.banned() ? "; banned" : "")
        + "; resets "
        + markup.time(s.resetsAt(), now)
        + ".";
  }

  /** A size in megabytes (10⁶ bytes), one decimal: "12.3 MB". */
  public static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1_000_000.0);
  }

  /** The text cut to {@code max} characters with an ellipsis, never splitting a surrogate pair. */
  public static String cut(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int end = Math.max(0, max - 1);
    if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + "…";
  }
}
