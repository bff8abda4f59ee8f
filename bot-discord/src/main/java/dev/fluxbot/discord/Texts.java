package dev.fluxbot.discord;

import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.chat.Markup;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The words fluxbot shows on Discord: core's {@link ChatTexts} in Discord's markdown. */
final class Texts {
  static final int MAX_CONTENT = 2000;

  /** Beside Discord's relative time, for clients that show the raw text. */
  private static final DateTimeFormatter UTC_TIME =
      DateTimeFormatter.ofPattern("EEE d MMM HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** Discord's markdown: {@code **bold**}, {@code <@id>} mentions, {@code <t:…:R>} times. */
  static final Markup MARKUP =
      new Markup() {
        @Override
        public String bold(String safeText) {
          return "**" + safeText + "**";
        }

        @Override
        public String escape(String userText) {
          return userText.replace("**", "");
        }

        @Override
        public String user(String userId) {
          return "<@" + userId + ">";
        }

        @Override
        public String time(Instant at, Instant now) {
          return "<t:" + at.getEpochSecond() + ":R> (" + UTC_TIME.format(at) + ")";
        }

        @Override
        public String channel(String channelId) {
          return "<#" + channelId + ">";
        }

        @Override
        public int maxText() {
          return MAX_CONTENT;
        }
      };

  static final ChatTexts TEXTS = new ChatTexts(MARKUP);

  private Texts() {}

  static String describe(GenerationRequest r) {
    return r.summary();
  }

  /** "Working on it: klein-4b, 1024×1024, seed 7" in {@code locale}. */
  static String working(GenerationRequest r, Locale locale) {
    return Messages.format(locale, "discord.working", r.summary(locale));
  }

  static String progress(Progress p) {
    return ChatTexts.progress(p);
  }

  static String progress(Progress p, Locale locale) {
    return ChatTexts.progress(p, locale);
  }

  static String caption(ImageReply reply, String userId, Previews.Fitted fitted, boolean hasLink) {
    return caption(reply, userId, fitted, hasLink, Locale.ENGLISH);
  }

  /**
   * Prompt, who asked, what --enhance did (the enhanced prompt, or why it failed), model, size,
   * seed, cost or "cached", and, when only a preview fits, a note that says so and how the user
   * gets the full image: the Original button when {@code hasLink}, else the same prompt and seed
   * again in a format (or size) that fits.
   */
  static String caption(
      ImageReply reply, String userId, Previews.Fitted fitted, boolean hasLink, Locale locale) {
    String note = fitted.preview() ? "\n-# " + previewNote(reply, hasLink, locale) : "";
    String who = " — " + MARKUP.user(userId);
    String tail = "\n" + ChatTexts.facts(reply, locale) + note;
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(
            reply,
            MAX_CONTENT - who.length() - tail.length() - 4,
            t -> t.replace("**", ""),
            locale);
    return MARKUP.bold(shown.prompt()) + who + shown.line() + tail;
  }

  /**
   * A group's caption: the prompt, who asked, the group's facts (every seed, by image number), the
   * images that failed, and, when the images came as one grid, how to get one at full size.
   */
  static String groupCaption(GroupReply group, String userId, boolean grid, Locale locale) {
    String note = grid ? "\n-# " + ChatTexts.gridNote(locale) : "";
    String head = " — " + MARKUP.user(userId) + "\n" + ChatTexts.groupFacts(group, locale) + note;
    String prompt = group.images().get(0).request().prompt().replace("**", "");
    return ChatTexts.cut(
        MARKUP.bold(ChatTexts.cut(prompt, Math.max(20, MAX_CONTENT - head.length() - 4))) + head,
        MAX_CONTENT);
  }

  /**
   * Why the image shown is a preview, and what the user can do about it themselves. Without a link,
   * the same prompt and seed make the same picture, and a JPEG (or, already a JPEG, 1k) fits
   * Discord's limits; it is a new image, so it says that it is charged.
   */
  private static String previewNote(ImageReply reply, boolean hasLink, Locale locale) {
    GenerationResult r = reply.result();
    String flags =
        "--seed " + r.seed() + (r.type() == ImageType.JPEG ? " --res 1k" : " --format jpeg");
    return Messages.format(
        locale,
        hasLink ? "discord.preview.link" : "discord.preview.again",
        ChatTexts.mb(r.image().length),
        r.type().name(),
        flags);
  }

  static String error(UserError e) {
    return TEXTS.error(e);
  }

  static String error(UserError e, Locale locale) {
    return TEXTS.in(locale).error(e);
  }
}
