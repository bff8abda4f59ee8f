package dev.fluxbot.core.quota;

import dev.fluxbot.core.Localized;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Msg;
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
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT);

  private QuotaMessages() {}

  /**
   * "You have 3 of 50 credits left today; this image needs 7 (pro). Resets at 00:00 UTC (in 5 h 12
   * min)."
   */
  static Msg creditsRefusal(
      long left, long total, long needs, String modelId, Window window, Instant now, ZoneId zone) {
    return Msg.of(
        "quota.refused.credits",
        Credits.format(left),
        credits(total),
        period(window.period()),
        Credits.format(needs),
        modelId,
        resets(window, now, zone));
  }

  /** "You have 2 images in progress; the limit is 2 at a time. Wait for one to finish." */
  static Msg concurrencyRefusal(long running, int cap) {
    return Msg.of(
        running == 1 ? "quota.refused.running.one" : "quota.refused.running.many", running, cap);
  }

  /** "This bot's monthly BFL budget ($50) is used up until 1 July; ask an admin." */
  static Msg bflBudgetRefusal(long capMilli, Window month) {
    ZonedDateTime end = month.end();
    return Msg.of("quota.refused.bfl_budget", dollars(capMilli), dayMonth(end));
  }

  /** A banned user's refusal; a ban in scope {@code "*"} is "with this bot", else "here". */
  static Msg banned(String scopeId, String reason) {
    boolean everywhere = scopeId.equals(QuotaService.EVERY);
    boolean why = reason != null && !reason.isBlank();
    return Msg.of(
        "quota.banned." + (everywhere ? "everywhere" : "here") + (why ? ".reason" : ""),
        why ? reason.strip() : "");
  }

  static Localized credits(long milli) {
    return l -> dev.fluxbot.core.chat.ChatTexts.credits(milli, l);
  }

  static Localized period(QuotaService.Period p) {
    return l -> Messages.format(l, "period." + p.name().toLowerCase(Locale.ROOT));
  }

  private static Localized dayMonth(ZonedDateTime at) {
    return l -> at.format(DateTimeFormatter.ofPattern(Messages.format(l, "format.day_month"), l));
  }

  private static Msg resets(Window window, Instant now, ZoneId zone) {
    ZonedDateTime end = window.end();
    String at = end.format(TIME) + " " + zoneName(zone);
    String in = span(Duration.between(now, end.toInstant()));
    return switch (window.period()) {
      case DAY -> Msg.of("quota.resets.day", at, in);
      case WEEK ->
          Msg.of(
              "quota.resets.week",
              (Localized) l -> end.format(DateTimeFormatter.ofPattern("EEEE", l)),
              at,
              in);
      case MONTH -> Msg.of("quota.resets.month", dayMonth(end), at, in);
    };
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
