package dev.fluxbot.core.chat;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Msg;
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
  private final Locale locale;

  /** The texts in English. */
  public ChatTexts(Markup markup) {
    this(markup, Locale.ENGLISH);
  }

  /** The texts in {@code locale}'s language (English where fluxbot ships none). */
  public ChatTexts(Markup markup, Locale locale) {
    this.markup = markup;
    this.locale = locale == null ? Locale.ENGLISH : locale;
  }

  /** The same markup, in another language. */
  public ChatTexts in(Locale language) {
    return new ChatTexts(markup, language);
  }

  public Markup markup() {
    return markup;
  }

  public Locale locale() {
    return locale;
  }

  /** The sentence {@code key} in this language. */
  public String say(String key, Object... args) {
    return Messages.format(locale, key, args);
  }

  /** A user-facing error: an icon by kind (input, outcome, backend), cut to the message limit. */
  public String error(UserError e) {
    return cut(icon(e) + " " + e.message(locale), markup.maxText());
  }

  /** A mistake in an admin or settings command: the field, the rule, the value. */
  public String mistake(String message) {
    return cut("⚠️ " + message, markup.maxText());
  }

  /** A mistake in an admin or settings command, in this language. */
  public String mistake(Msg message) {
    return mistake(message.render(locale));
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
    return failed(e, Locale.ENGLISH);
  }

  public static String failed(RuntimeException e, Locale locale) {
    return "❌ " + Messages.format(locale, "chat.failed", e.getMessage());
  }

  /** An image's facts: "pro · 1024×768 · seed 42 · 3 credits" (or "cached (free)"). */
  public static String facts(ImageReply reply) {
    return facts(reply, Locale.ENGLISH);
  }

  public static String facts(ImageReply reply, Locale locale) {
    GenerationResult r = reply.result();
    return Messages.format(
        locale,
        "chat.facts",
        reply.request().model().id(),
        r.width() + "×" + r.height(),
        r.seed(),
        cost(reply, locale));
  }

  /** What an image cost: "1.4 credits", "cached (free)", "cost not reported". */
  public static String cost(ImageReply reply) {
    return cost(reply, Locale.ENGLISH);
  }

  public static String cost(ImageReply reply, Locale locale) {
    GenerationResult r = reply.result();
    if (reply.cached()) {
      return r.cost() == null || r.cost().signum() == 0
          ? Messages.format(locale, "chat.cost.cached_free")
          : Messages.format(locale, "chat.cost.cached", credits(Credits.milli(r.cost()), locale));
    }
    return r.cost() == null
        ? Messages.format(locale, "chat.cost.unreported")
        : credits(Credits.milli(r.cost()), locale);
  }

  /** "1 credit", "2.5 credits", in {@code locale}. */
  public static String credits(long milli, Locale locale) {
    return Messages.format(
        locale, milli == 1000 ? "credits.one" : "credits.many", Credits.format(milli));
  }

  /** A job's status line: "🎨 Generating 40%…". */
  public static String progress(Progress p) {
    return progress(p, Locale.ENGLISH);
  }

  public static String progress(Progress p, Locale locale) {
    String icon =
        switch (p.stage()) {
          case WAITING_FOR_SLOT, QUEUED -> "⏳";
          case SUBMITTED -> "📨";
          case REASONING -> "🧠";
          case GENERATING -> "🎨";
          case DOWNLOADING -> "📥";
          case RETRYING -> "🔁";
        };
    return icon + " " + p.text(locale);
  }

  /** {@code /quota}: what is left, and when the window resets. */
  public String quota(QuotaService.Status s, Instant now) {
    if (s.banned()) {
      return "🚫 " + say("chat.quota.banned");
    }
    return say("chat.quota", s.summary(locale), markup.time(s.resetsAt(), now));
  }

  /** An admin's view of one user: credits, where the limit comes from, a ban, the reset. */
  public String userStatus(String userId, QuotaService.Status s, Instant now) {
    String text =
        say(
            s.banned() ? "chat.user_status.banned" : "chat.user_status",
            markup.user(userId),
            s.summary(locale),
            s.source(),
            markup.time(s.resetsAt(), now));
    return Character.toUpperCase(text.charAt(0)) + text.substring(1);
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
