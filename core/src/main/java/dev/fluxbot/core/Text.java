package dev.fluxbot.core;

import java.math.BigDecimal;

/** Small text helpers for user-facing messages. */
public final class Text {
  public static final int MAX_QUOTED = 60;

  private Text() {}

  /** The value in double quotes, shortened and with control characters made visible. */
  public static String quote(String value) {
    if (value == null) {
      return "nothing";
    }
    StringBuilder sb = new StringBuilder("\"");
    int count = 0;
    for (int i = 0; i < value.length(); ) {
      int cp = value.codePointAt(i);
      i += Character.charCount(cp);
      if (count++ == MAX_QUOTED) {
        sb.append('…');
        break;
      }
      if (Character.isISOControl(cp)) {
        sb.append(String.format("\\u%04x", cp));
      } else {
        sb.appendCodePoint(cp);
      }
    }
    return sb.append('"').toString();
  }

  /** 1.5 → "1.5", 10.0 → "10". */
  public static String number(double value) {
    return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }
}
