package dev.fluxbot.core.quota;

import dev.fluxbot.core.Text;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Credits as people type and read them (1 credit = $0.01), stored as millicredits. One rule for
 * every platform: a number, 0 or more, with at most 3 decimals.
 */
public final class Credits {
  /** The most credits one number may say: a billion ($10 million). */
  public static final BigDecimal MAX = BigDecimal.valueOf(1_000_000_000);

  private Credits() {}

  /**
   * Typed credits as millicredits.
   *
   * @param field what the user filled in, for the error ("credits", "--limit")
   * @throws IllegalArgumentException naming the field, the rule and the value
   */
  public static long parse(String field, String text) {
    try {
      BigDecimal c = new BigDecimal(text.strip());
      if (c.signum() >= 0 && c.compareTo(MAX) <= 0 && c.stripTrailingZeros().scale() <= 3) {
        return c.movePointRight(3).setScale(0, RoundingMode.UNNECESSARY).longValueExact();
      }
    } catch (NumberFormatException | ArithmeticException e) {
      // refused below
    }
    throw new IllegalArgumentException(
        field
            + ": must be a number from 0 to "
            + MAX.toPlainString()
            + " with at most 3 decimals (1 credit = $0.01); got "
            + Text.quote(text.strip()));
  }

  /** {@link #parse(String, String)} for a number a platform or a command line already read. */
  public static long parse(String field, BigDecimal credits) {
    String plain = credits.abs().compareTo(MAX) > 0 ? credits.toString() : credits.toPlainString();
    return parse(field, plain);
  }

  /** Millicredits as credits: 1400 → "1.4", 50000 → "50". */
  public static String format(long milli) {
    return BigDecimal.valueOf(milli, 3).stripTrailingZeros().toPlainString();
  }

  /** Credits with their noun: "1 credit", "0.5 credits", "2 credits". */
  public static String count(long milli) {
    return format(milli) + (milli == 1000 ? " credit" : " credits");
  }

  /** A cost as credits with their noun: "1 credit", "1.4 credits". */
  public static String count(BigDecimal credits) {
    return count(milli(credits));
  }

  /** Credits as millicredits, rounded half-up (a backend's reported cost may have more digits). */
  public static long milli(BigDecimal credits) {
    return credits.movePointRight(3).setScale(0, RoundingMode.HALF_UP).longValueExact();
  }
}
