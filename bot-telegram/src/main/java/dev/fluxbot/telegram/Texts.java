package dev.fluxbot.telegram;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.quota.QuotaService;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
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
    return "🎨 Working on it: "
        + r.model().id()
        + ", "
        + (r.size() == null
            ? "the first reference's shape"
            : r.size().width() + "×" + r.size().height())
        + ", seed "
        + r.seed()
        + "…";
  }

  static String queued(int position) {
    return "⏳ Queued #" + position + ": waiting for a free slot.";
  }

  static String progress(Progress p) {
    String label =
        switch (p.stage()) {
          case WAITING_FOR_SLOT -> "⏳ Waiting for a free slot";
          case SUBMITTED -> "📨 Submitted";
          case QUEUED -> "⏳ Queued at the backend";
          case REASONING -> "🧠 Reasoning about the prompt";
          case GENERATING -> "🎨 Generating";
          case DOWNLOADING -> "📥 Almost there";
          case RETRYING ->
              "🔁 "
                  + (p.detail().isEmpty()
                      ? "Retrying"
                      : Character.toUpperCase(p.detail().charAt(0)) + p.detail().substring(1));
        };
    return label
        + (Double.isNaN(p.fraction())
            ? "…"
            : String.format(Locale.ROOT, " %.0f%%…", p.fraction() * 100));
  }

  /**
   * Prompt (cut to fit), then model, size, seed and cost or "cached"; a note when the photo is a
   * preview.
   */
  static String caption(ImageReply reply, boolean preview) {
    GenerationResult r = reply.result();
    String cost =
        reply.cached()
            ? "cached"
                + (r.cost() == null || r.cost().signum() == 0
                    ? " (free)"
                    : " (" + creditCount(r.cost()) + ")")
            : r.cost() == null ? "cost not reported" : creditCount(r.cost());
    String tail =
        "\n"
            + reply.request().model().id()
            + " · "
            + r.width()
            + "×"
            + r.height()
            + " · seed "
            + r.seed()
            + " · "
            + cost
            + (preview
                ? "\nA compressed preview; the original ("
                    + mb(r.image().length)
                    + ") follows as a file."
                : "");
    return cut(reply.request().prompt(), MAX_CAPTION - tail.length()) + tail;
  }

  static String error(UserError e) {
    String text =
        switch (e.code().kind()) {
          case INPUT -> "⚠️ " + e.getMessage();
          case OUTCOME -> "🚫 " + e.getMessage();
          case BACKEND -> "❌ " + e.getMessage();
        };
    return cut(text, MAX_TEXT);
  }

  static String quota(QuotaService.Status s, ZoneId zone, Instant now) {
    if (s.banned()) {
      return "🚫 You are banned from making images here.";
    }
    String when =
        DateTimeFormatter.ofPattern("EEE d MMM HH:mm", Locale.ROOT)
            .withZone(zone)
            .format(s.resetsAt());
    return "You have "
        + s.summary()
        + ". Resets "
        + when
        + " "
        + zoneName(zone)
        + " (in "
        + span(Duration.between(now, s.resetsAt()))
        + ").";
  }

  static String zoneName(ZoneId zone) {
    return zone.normalized().equals(java.time.ZoneOffset.UTC) ? "UTC" : zone.getId();
  }

  static String span(Duration d) {
    long minutes = Math.max(0, (d.toSeconds() + 59) / 60);
    return minutes >= 60 ? minutes / 60 + " h " + minutes % 60 + " min" : minutes + " min";
  }

  static String cut(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int end = Math.max(0, max - 1);
    if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + "…";
  }

  static String credits(BigDecimal c) {
    return c.stripTrailingZeros().toPlainString();
  }

  /** "1 credit", "0.5 credits", "2 credits". */
  static String creditCount(BigDecimal c) {
    return credits(c) + (c.compareTo(BigDecimal.ONE) == 0 ? " credit" : " credits");
  }

  static String creditCount(long milli) {
    return creditCount(BigDecimal.valueOf(milli).movePointLeft(3));
  }

  static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1_000_000.0);
  }
}
