package dev.fluxbot.core.chat;

import dev.fluxbot.core.Enhancement;
import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Msg;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

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

  /**
   * {@code --n} above what is left: "--n 4: these 4 images need 4 credits together; you have 2
   * left. Ask for fewer (--n 2), or see /quota for when your credits come back." Nothing is held.
   */
  public static String groupCredits(int n, long neededMilli, long leftMilli) {
    long each = Math.max(1, neededMilli / n);
    long fits = Math.min(n - 1, leftMilli / each);
    return "--n "
        + n
        + ": these "
        + n
        + " images need "
        + Credits.count(neededMilli)
        + " together; you have "
        + Credits.format(leftMilli)
        + " left. "
        + (fits >= 1 ? "Ask for fewer (--n " + fits + "), or see" : "See")
        + " /quota for when your credits come back.";
  }

  /**
   * A group's facts: "4 images · klein-4b · 1024×1024 · seeds 42, 43, 44, 45 · 4 credits"; the
   * images that failed are named after it: "Image 3 (seed 44) failed: …".
   */
  public static String groupFacts(GroupReply group) {
    List<ImageReply> images = group.images();
    ImageReply first = images.get(0);
    BigDecimal cost = BigDecimal.ZERO;
    boolean allCached = true;
    for (ImageReply i : images) {
      cost = i.result().cost() == null ? cost : cost.add(i.result().cost());
      allCached &= i.cached();
    }
    StringBuilder sb =
        new StringBuilder()
            .append(group.members().size())
            .append(" images · ")
            .append(first.request().model().id())
            .append(" · ")
            .append(first.result().width())
            .append("×")
            .append(first.result().height())
            .append(" · seeds ")
            .append(
                group.members().stream()
                    .map(m -> m.index() + ": " + m.request().seed())
                    .collect(Collectors.joining(", ")))
            .append(" · ")
            .append(
                allCached && cost.signum() == 0
                    ? "cached (free)"
                    : Credits.count(cost) + (allCached ? " (cached)" : ""));
    for (GroupReply.Member m : group.failed()) {
      sb.append("\nImage ")
          .append(m.index())
          .append(" (seed ")
          .append(m.request().seed())
          .append(") failed: ")
          .append(m.error().getMessage());
    }
    return sb.toString();
  }

  /**
   * A default for {@code --n} set or forgotten: "Your default --n is now **4**: each /imagine makes
   * 4 images unless it says --n." / "… is forgotten: …".
   *
   * @param whose "Your", or "The … on this server" (the sentence's start)
   * @param shownN the number as the platform shows it in bold; null: forgotten
   */
  public static String countDefault(String whose, String shownN) {
    String head =
        whose.startsWith("The ") ? "The default --n " + whose.substring(4) : whose + " default --n";
    return shownN == null
        ? head
            + " is forgotten: /imagine makes 1 image (or the default set here) unless it says --n"
            + " (1 to 4)."
        : head
            + " is now "
            + shownN
            + ": each /imagine makes that many images unless it says --n (1 to 4).";
  }

  /** One image of a group, where it is shown alone (a photo of an album): "1 · seed 42". */
  public static String groupItem(int index, long seed) {
    return index + " · seed " + seed;
  }

  /** Under a group sent as one grid image: where the images are and how to get one whole. */
  public static String gridNote() {
    return "The images did not fit this chat's upload limit one by one, so they come as one grid"
        + " (1 top left, 2 top right, 3 bottom left, 4 bottom right). U1 to U4 make that image"
        + " again at 2K with its seed (charged as a new image).";
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
          case ENHANCING -> "✨";
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
