package dev.fluxbot.core.chat;

import dev.fluxbot.core.Enhancement;
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
          case ENHANCING -> "✨";
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

  /**
   * What an image's caption shows of its prompt: the prompt (as typed, where {@code --enhance}
   * rewrote it) and, for {@code --enhance}, a line of its own ("\n✨ Enhanced by …: …", or the note
   * saying why it failed), both already escaped and cut so that together they take at most {@code
   * budget} characters; the prompt as typed keeps at least a third of them.
   *
   * @param escape the platform's escaping of user text, applied before cutting
   */
  public static CaptionPrompts captionPrompts(
      ImageReply reply, int budget, java.util.function.UnaryOperator<String> escape) {
    Enhancement e = reply.enhancement();
    if (e == null) {
      return new CaptionPrompts(cut(escape.apply(reply.request().prompt()), budget), "");
    }
    String prompt = escape.apply(e.original());
    if (!e.worked()) {
      String note = "\n⚠️ " + enhanceFailedNote(escape.apply(e.note()));
      String shownNote = cut(note, Math.max(0, budget - Math.min(prompt.length(), budget / 3)));
      return new CaptionPrompts(cut(prompt, budget - shownNote.length()), shownNote);
    }
    String head = "\n✨ Enhanced by " + escape.apply(e.enhancer()) + ": ";
    String enhanced = escape.apply(e.enhanced());
    int forPrompt =
        Math.min(prompt.length(), Math.max(budget / 3, budget - head.length() - enhanced.length()));
    String line = cut(head + enhanced, Math.max(0, budget - forPrompt));
    return new CaptionPrompts(cut(prompt, budget - line.length()), line);
  }

  /**
   * The prompt part of a caption: {@code prompt} for the platform to emphasise, {@code line} to
   * follow after the requester (empty without {@code --enhance}).
   */
  public record CaptionPrompts(String prompt, String line) {}

  /** The note under an image whose enhancement failed. */
  public static String enhanceFailedNote(String why) {
    return "Prompt not enhanced (" + why + "); this image is from your prompt as typed.";
  }

  /** {@code --enhance} where the installation has no enhancer: the field, the rule, what to do. */
  public static String enhanceOff() {
    return "--enhance: this bot has no prompt enhancer (enhance.base_url is not set in its"
        + " fluxbot.yaml); got --enhance. Drop --enhance, or ask the bot's operator to set"
        + " enhance.base_url (see docs/configuration.md, section enhance).";
  }

  /** Both flags in one command. */
  public static String enhanceTwice() {
    return "--enhance and --no-enhance: give at most one of them; got both. Keep one.";
  }

  /** Why a JSON prompt was sent as typed. */
  public static String enhanceJson() {
    return "a JSON prompt is sent as written, never enhanced";
  }

  /** The enhancer could not be reached at all. */
  public static String enhanceUnreachable(String endpoint) {
    return "the enhancer at " + endpoint + " cannot be reached";
  }

  /** The enhancer did not answer in time. */
  public static String enhanceTimeout(java.time.Duration timeout) {
    return "the enhancer did not answer within " + timeout.toMillis() / 1000.0 + " s";
  }

  /** The enhancer refused the key. */
  public static String enhanceKeyRefused(int status) {
    return "the enhancer refused the API key (HTTP "
        + status
        + "); the operator should check FLUXBOT_ENHANCE_API_KEY";
  }

  /** The enhancer answered with an HTTP error. */
  public static String enhanceHttpError(int status) {
    return "the enhancer answered HTTP " + status;
  }

  /** The enhancer answered something that is not a chat completion. */
  public static String enhanceGarbled() {
    return "the enhancer's answer was not a chat completion";
  }

  /** The enhancer answered with no text. */
  public static String enhanceEmpty() {
    return "the enhancer answered with an empty prompt";
  }

  /** The enhancer answered with too long a prompt. */
  public static String enhanceTooLong(int length, int max) {
    return "the enhanced prompt has " + length + " characters, over the limit of " + max;
  }

  /** The enhanced prompt matched a filter. */
  public static String enhanceFiltered() {
    return "the enhanced prompt did not pass this chat's filters";
  }

  /** An admin set a scope's {@code --enhance} default. */
  public String enhanceDefault(String here, Boolean on) {
    return on == null
        ? "Prompt enhancement " + here + " now follows the bot's default (enhance.on_by_default)."
        : "Prompt enhancement is now "
            + markup.bold(on ? "on" : "off")
            + " by default "
            + here
            + "; users can still type "
            + (on ? "--no-enhance" : "--enhance")
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
