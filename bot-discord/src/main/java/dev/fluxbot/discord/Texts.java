package dev.fluxbot.discord;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import java.math.BigDecimal;
import java.util.Locale;

/** The words fluxbot shows on Discord. Message content is at most 2000 characters. */
final class Texts {
  static final int MAX_CONTENT = 2000;

  private Texts() {}

  static String describe(GenerationRequest r) {
    return r.summary();
  }

  static String progress(Progress p) {
    return p.text();
  }

  /**
   * Prompt, who asked, model, size, seed, cost or "cached", and, when only a preview fits, a note
   * that says so and how the user gets the full image: the Original button when {@code hasLink},
   * else the same prompt and seed again in a format (or size) that fits.
   */
  static String caption(ImageReply reply, String userId, Previews.Fitted fitted, boolean hasLink) {
    GenerationResult r = reply.result();
    String cost =
        reply.cached()
            ? "cached"
                + (r.cost() == null || r.cost().signum() == 0
                    ? " (free)"
                    : " (" + credits(r.cost()) + " credits)")
            : r.cost() == null ? "cost not reported" : credits(r.cost()) + " credits";
    String line =
        reply.request().model().id()
            + " · "
            + r.width()
            + "×"
            + r.height()
            + " · seed "
            + r.seed()
            + " · "
            + cost;
    String note = fitted.preview() ? "\n-# " + previewNote(reply, hasLink) : "";
    String head = " — <@" + userId + ">\n" + line + note;
    String prompt = reply.request().prompt().replace("**", "");
    int room = MAX_CONTENT - head.length() - 4;
    if (prompt.length() > room) {
      prompt = prompt.substring(0, Math.max(0, room - 1)) + "…";
    }
    return "**" + prompt + "**" + head;
  }

  /**
   * Why the image shown is a preview, and what the user can do about it themselves. Without a link,
   * the same prompt and seed make the same picture, and a JPEG (or, already a JPEG, 1k) fits
   * Discord's limits; it is a new image, so it says that it is charged.
   */
  private static String previewNote(ImageReply reply, boolean hasLink) {
    GenerationResult r = reply.result();
    String head =
        "Preview: the original is "
            + mb(r.image().length)
            + " ("
            + r.type().name()
            + "), over this channel's "
            + "upload limit, so this is a smaller JPEG.";
    String flags =
        "--seed " + r.seed() + (r.type() == ImageType.JPEG ? " --res 1k" : " --format jpeg");
    return hasLink
        ? head + " The **Original** button downloads the full image."
        : head
            + " For the full image in a file that fits here, run /imagine again with the same prompt and `"
            + flags
            + "` (charged as a new image).";
  }

  static String error(UserError e) {
    String text =
        switch (e.code().kind()) {
          case INPUT -> "⚠️ " + e.getMessage();
          case OUTCOME -> "🚫 " + e.getMessage();
          case BACKEND -> "❌ " + e.getMessage();
        };
    return text.length() <= MAX_CONTENT ? text : text.substring(0, MAX_CONTENT - 1) + "…";
  }

  static String credits(BigDecimal c) {
    return c.stripTrailingZeros().toPlainString();
  }

  static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
  }
}
