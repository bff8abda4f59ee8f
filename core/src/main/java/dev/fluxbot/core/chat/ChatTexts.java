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
    return groupCredits(n, neededMilli, leftMilli, Locale.ENGLISH);
  }

  public static String groupCredits(int n, long neededMilli, long leftMilli, Locale locale) {
    return groupCreditsMsg(n, neededMilli, leftMilli).render(locale);
  }

  /** {@link #groupCredits(int, long, long)}, to be written in the reader's language when shown. */
  public static Msg groupCreditsMsg(int n, long neededMilli, long leftMilli) {
    long each = Math.max(1, neededMilli / n);
    long fits = Math.min(n - 1, leftMilli / each);
    return Msg.of(
        "group.credits",
        n,
        Msg.of(neededMilli == 1000 ? "credits.one" : "credits.many", Credits.format(neededMilli)),
        Credits.format(leftMilli),
        fits >= 1 ? Msg.of("group.credits.fewer", fits) : Msg.of("group.credits.see"));
  }

  /**
   * A group's facts: "4 images · klein-4b · 1024×1024 · seeds 42, 43, 44, 45 · 4 credits"; the
   * images that failed are named after it: "Image 3 (seed 44) failed: …".
   */
  public static String groupFacts(GroupReply group) {
    return groupFacts(group, Locale.ENGLISH);
  }

  public static String groupFacts(GroupReply group, Locale locale) {
    List<ImageReply> images = group.images();
    ImageReply first = images.get(0);
    BigDecimal cost = BigDecimal.ZERO;
    boolean allCached = true;
    for (ImageReply i : images) {
      cost = i.result().cost() == null ? cost : cost.add(i.result().cost());
      allCached &= i.cached();
    }
    String seeds =
        group.members().stream()
            .map(m -> m.index() + ": " + m.request().seed())
            .collect(Collectors.joining(", "));
    String shownCost =
        allCached && cost.signum() == 0
            ? Messages.format(locale, "chat.cost.cached_free")
            : allCached
                ? Messages.format(locale, "group.cost.cached", credits(Credits.milli(cost), locale))
                : credits(Credits.milli(cost), locale);
    StringBuilder sb =
        new StringBuilder(
            Messages.format(
                locale,
                "group.facts",
                group.members().size(),
                first.request().model().id(),
                first.result().width() + "×" + first.result().height(),
                seeds,
                shownCost));
    for (GroupReply.Member m : group.failed()) {
      sb.append('\n')
          .append(
              Messages.format(
                  locale,
                  "group.failed",
                  m.index(),
                  m.request().seed(),
                  m.error().message(locale)));
    }
    return sb.toString();
  }

  /**
   * A default for {@code --n} set or forgotten: "Your default --n is now **4**: each /imagine makes
   * 4 images unless it says --n." / "… is forgotten: …".
   *
   * @param mine true: the user's own default; false: the one for {@code here} (a scope, "on this
   *     server")
   * @param shownN the number as the platform shows it in bold; null: forgotten
   */
  public static String countDefault(boolean mine, String here, String shownN, Locale locale) {
    Msg head = mine ? Msg.of("count_default.mine") : Msg.of("count_default.here", here);
    return shownN == null
        ? Messages.format(locale, "count_default.forgotten", head)
        : Messages.format(locale, "count_default.set", head, shownN);
  }

  /** One image of a group, where it is shown alone (a photo of an album): "1 · seed 42". */
  public static String groupItem(int index, long seed) {
    return groupItem(index, seed, Locale.ENGLISH);
  }

  public static String groupItem(int index, long seed, Locale locale) {
    return Messages.format(locale, "group.item", index, seed);
  }

  /** Under a group sent as one grid image: where the images are and how to get one whole. */
  public static String gridNote() {
    return gridNote(Locale.ENGLISH);
  }

  public static String gridNote(Locale locale) {
    return Messages.format(locale, "group.grid_note");
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
    return captionPrompts(reply, budget, escape, Locale.ENGLISH);
  }

  public static CaptionPrompts captionPrompts(
      ImageReply reply,
      int budget,
      java.util.function.UnaryOperator<String> escape,
      Locale locale) {
    Enhancement e = reply.enhancement();
    if (e == null) {
      return new CaptionPrompts(cut(escape.apply(reply.request().prompt()), budget), "");
    }
    String prompt = escape.apply(e.original());
    if (!e.worked()) {
      String note = "\n⚠️ " + enhanceFailedNote(escape.apply(e.note()), locale);
      String shownNote = cut(note, Math.max(0, budget - Math.min(prompt.length(), budget / 3)));
      return new CaptionPrompts(cut(prompt, budget - shownNote.length()), shownNote);
    }
    String head =
        "\n✨ " + Messages.format(locale, "enhance.enhanced_by", escape.apply(e.enhancer())) + " ";
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
    return enhanceFailedNote(why, Locale.ENGLISH);
  }

  public static String enhanceFailedNote(String why, Locale locale) {
    return Messages.format(locale, "enhance.failed_note", why);
  }

  /** {@code --enhance} where the installation has no enhancer: the field, the rule, what to do. */
  public static String enhanceOff() {
    return english("enhance.off");
  }

  /** Both flags in one command. */
  public static String enhanceTwice() {
    return english("enhance.twice");
  }

  /** Why a JSON prompt was sent as typed. */
  public static String enhanceJson() {
    return english("enhance.json");
  }

  /** The enhancer could not be reached at all. */
  public static String enhanceUnreachable(String endpoint) {
    return english("enhance.unreachable", endpoint);
  }

  /** The enhancer did not answer in time. */
  public static String enhanceTimeout(java.time.Duration timeout) {
    return english("enhance.timeout", timeout.toMillis() / 1000.0);
  }

  /** The enhancer refused the key. */
  public static String enhanceKeyRefused(int status) {
    return english("enhance.key_refused", status);
  }

  /** The enhancer answered with an HTTP error. */
  public static String enhanceHttpError(int status) {
    return english("enhance.http_error", status);
  }

  /** The enhancer answered something that is not a chat completion. */
  public static String enhanceGarbled() {
    return english("enhance.garbled");
  }

  /** The enhancer answered with no text. */
  public static String enhanceEmpty() {
    return english("enhance.empty");
  }

  /** The enhancer answered with too long a prompt. */
  public static String enhanceTooLong(int length, int max) {
    return english("enhance.too_long", length, max);
  }

  /** The enhanced prompt matched a filter. */
  public static String enhanceFiltered() {
    return english("enhance.filtered");
  }

  /**
   * The English text of {@code key}: the enhancement notes are stored with the job as they are
   * written, so they are kept in English (the caption's own words around them are translated).
   */
  private static String english(String key, Object... args) {
    return Messages.format(Locale.ENGLISH, key, args);
  }

  /** An admin set a scope's {@code --enhance} default. */
  public String enhanceDefault(String here, Boolean on) {
    return on == null
        ? say("enhance.default.bot", here)
        : say(
            "enhance.default.set",
            markup.bold(on ? "on" : "off"),
            here,
            on ? "--no-enhance" : "--enhance");
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
