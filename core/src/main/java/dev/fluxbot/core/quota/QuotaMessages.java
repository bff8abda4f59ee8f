package dev.fluxbot.core.quota;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The words a refused user reads; credits themselves are written by {@link Credits}. */
final class QuotaMessages {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm", Locale.ENGLISH);
  private static final DateTimeFormatter WEEKDAY =
      DateTimeFormatter.ofPattern("EEEE", Locale.ENGLISH);
  private static final DateTimeFormatter DAY_MONTH =
      DateTimeFormatter.ofPattern("d MMMM", Locale.ENGLISH);

  private QuotaMessages() {}

  /**
   * "You have 3 of 50 credits left today; this image needs 7 (pro). Resets at 00:00 UTC (in 5 h 12
   * min)."
   */
  static String creditsRefusal(
      long left, long total, long needs, String modelId, Window window, Instant now, ZoneId zone) {
    return "You have "
        + Credits.format(left)
        + " of "
        + Credits.count(total)
        + " left "
        + window.period().phrase()
        + "; this image needs "
        + Credits.format(needs)
        + " ("
        + modelId
        + "). "
        + resets(window, now, zone)
        + ".";
  }

  /** "You have 2 images in progress; the limit is 2 at a time. Wait for one to finish." */
  static String concurrencyRefusal(long running, int cap) {
    return "You have "
        + running
        + (running == 1 ? " image" : " images")
        + " in progress; the limit is "
        + cap
        + " at a time. Wait for "
        + (running == 1 ? "it" : "one")
        + " to finish.";
  }

  /** "This bot's monthly BFL budget ($50) is used up until 1 July; ask an admin." */
  static String bflBudgetRefusal(long capMilli, Window month) {
    return "This bot's monthly BFL budget ($"
        + dollars(capMilli)
        + ") is used up until "
        + month.end().format(DAY_MONTH)
        + "; ask an admin.";
  }

  /** A banned user's refusal; a ban in scope {@code "*"} is "with this bot", else "here". */
  static String banned(String scopeId, String reason) {
    String where = scopeId.equals(QuotaService.EVERY) ? "with this bot" : "here";
    String why = reason == null || reason.isBlank() ? "" : " (reason: " + reason.strip() + ")";
    return "You are banned from making images "
        + where
        + why
        + ". Ask an admin if you think this is a mistake.";
  }

  private static String resets(Window window, Instant now, ZoneId zone) {
    ZonedDateTime end = window.end();
    String when =
        switch (window.period()) {
          case DAY -> "";
          case WEEK -> end.format(WEEKDAY) + " ";
          case MONTH -> "on " + end.format(DAY_MONTH) + " ";
        };
    return "Resets "
        + when
        + "at "
        + end.format(TIME)
        + " "
        + zoneName(zone)
        + " (in "
        + span(Duration.between(now, end.toInstant()))
        + ")";
  }

  private static String zoneName(ZoneId zone) {
    return zone.normalized().equals(ZoneOffset.UTC) ? "UTC" : zone.getId();
  }

  /** Rounded up to the minute: "5 h 12 min", "45 min", "3 d 4 h". */
  static String span(Duration d) {
    long minutes = Math.max(1, (d.toMillis() + 59_999) / 60_000);
    long days = minutes / (24 * 60);
    long hours = minutes % (24 * 60) / 60;
    long mins = minutes % 60;
    if (days > 0) {
      return days + " d" + (hours > 0 ? " " + hours + " h" : "");
    }
    if (hours > 0) {
      return hours + " h" + (mins > 0 ? " " + mins + " min" : "");
    }
    return mins + " min";
  }

  /** Millicredits as dollars: "50", "12.50". */
  static String dollars(long milli) {
    BigDecimal d = BigDecimal.valueOf(milli, 5).stripTrailingZeros();
    return d.scale() <= 0 ? d.toPlainString() : d.setScale(2, RoundingMode.HALF_UP).toPlainString();
  }
}
