package dev.fluxbot.core.quota;

import dev.fluxbot.core.quota.QuotaService.Period;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAdjusters;
import java.util.LinkedHashSet;
import java.util.Set;

/** One calendar window of a {@link Period}: the period arithmetic the ledger and admin share. */
record Window(Period period, ZonedDateTime start, ZonedDateTime end) {

  /** The window of {@code period} that holds {@code now} in {@code zone}. */
  static Window of(Period period, Instant now, ZoneId zone) {
    LocalDate first = firstDay(period, LocalDate.ofInstant(now, zone));
    return new Window(period, first.atStartOfDay(zone), next(period, first).atStartOfDay(zone));
  }

  // A grant or reset does not know the user's roles, so not their period either: it changes the
  // current window of every period (windows that start together share one row).
  static Set<Long> currentStarts(Instant now, ZoneId zone) {
    Set<Long> starts = new LinkedHashSet<>();
    for (Period p : Period.values()) {
      starts.add(of(p, now, zone).startMilli());
    }
    return starts;
  }

  long startMilli() {
    return start.toInstant().toEpochMilli();
  }

  private static LocalDate firstDay(Period period, LocalDate date) {
    return switch (period) {
      case DAY -> date;
      case WEEK -> date.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
      case MONTH -> date.withDayOfMonth(1);
    };
  }

  private static LocalDate next(Period period, LocalDate first) {
    return switch (period) {
      case DAY -> first.plusDays(1);
      case WEEK -> first.plusWeeks(1);
      case MONTH -> first.plusMonths(1);
    };
  }
}
