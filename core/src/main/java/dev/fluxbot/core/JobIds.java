package dev.fluxbot.core;

import java.time.InstantSource;
import java.util.random.RandomGenerator;

/**
 * Time-ordered job ids: 48 bits of milliseconds then 80 random bits, in Crockford base32 (26
 * characters, as ULIDs are), so ids sort by creation time and fit in button data.
 */
public final class JobIds {
  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

  private final InstantSource clock;
  private final RandomGenerator random;

  public JobIds(InstantSource clock, RandomGenerator random) {
    this.clock = clock;
    this.random = random;
  }

  public String next() {
    long millis = clock.millis();
    long hi = random.nextLong() & 0xFFFF; // 16 random bits after the time
    long lo = random.nextLong(); // 64 more
    char[] out = new char[26];
    // 128 bits = time(48) | hi(16) | lo(64); written 5 bits at a time from the top (2 pad bits
    // first).
    long top = (millis << 16) | hi; // 64 bits: time and the first random bits
    for (int i = 25; i >= 0; i--) {
      int shift = (25 - i) * 5;
      out[i] = ALPHABET[(int) (shiftRight128(top, lo, shift) & 31)];
    }
    return new String(out);
  }

  private static long shiftRight128(long hi, long lo, int shift) {
    if (shift == 0) {
      return lo;
    }
    if (shift < 64) {
      return (lo >>> shift) | (hi << (64 - shift));
    }
    return hi >>> (shift - 64);
  }
}
