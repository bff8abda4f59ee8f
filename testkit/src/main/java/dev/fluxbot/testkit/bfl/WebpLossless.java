package dev.fluxbot.testkit.bfl;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes a lossless WebP (RIFF, {@code WEBP}, one {@code VP8L} chunk) of a single colour, as
 * ImageIO cannot write WebP. The bitstream: signature 0x2f; width−1 and height−1 in 14 bits each;
 * alpha hint; version 0; no transform; no colour cache; no meta prefix codes; then the five prefix
 * codes (green, red, blue, alpha, distance), each a "simple" code with one symbol. A one-symbol
 * code takes 0 bits, so every pixel is that literal colour and the pixel data is empty, whatever
 * the size. Eight zero bytes follow the bitstream inside the chunk: decoders ignore them, and
 * readers that prefetch 64 bits (TwelveMonkeys') need them.
 */
public final class WebpLossless {
  static final int MAX_SIDE = 1 << 14;

  private WebpLossless() {}

  public static byte[] solid(int width, int height, int argb) {
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
      throw new IllegalArgumentException(
          "A lossless WebP is 1 to "
              + MAX_SIDE
              + " pixels a side. Provided: "
              + width
              + " × "
              + height);
    }
    int alpha = argb >>> 24;
    BitWriter bits = new BitWriter();
    bits.write(0x2f, 8);
    bits.write(width - 1, 14);
    bits.write(height - 1, 14);
    bits.write(alpha == 0xff ? 0 : 1, 1);
    bits.write(0, 3);
    bits.write(0, 1); // no transform
    bits.write(0, 1); // no colour cache
    bits.write(0, 1); // no meta prefix codes: one group for the whole image
    oneSymbolCode(bits, (argb >>> 8) & 0xff);
    oneSymbolCode(bits, (argb >>> 16) & 0xff);
    oneSymbolCode(bits, argb & 0xff);
    oneSymbolCode(bits, alpha);
    oneSymbolCode(bits, 0); // distance: never used, as no symbol is a back-reference
    return riff(bits.toBytes());
  }

  private static void oneSymbolCode(BitWriter bits, int symbol) {
    bits.write(1, 1); // simple code
    bits.write(0, 1); // one symbol
    if (symbol < 2) {
      bits.write(0, 1);
      bits.write(symbol, 1);
    } else {
      bits.write(1, 1); // the symbol takes 8 bits
      bits.write(symbol, 8);
    }
  }

  private static byte[] riff(byte[] bitstream) {
    byte[] vp8l = Arrays.copyOf(bitstream, bitstream.length + 8);
    int padding = vp8l.length % 2;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("RIFF".getBytes(StandardCharsets.US_ASCII));
    writeLe32(out, 4 + 8 + vp8l.length + padding);
    out.writeBytes("WEBPVP8L".getBytes(StandardCharsets.US_ASCII));
    writeLe32(out, vp8l.length);
    out.writeBytes(vp8l);
    if (padding == 1) out.write(0);
    return out.toByteArray();
  }

  private static void writeLe32(ByteArrayOutputStream out, int value) {
    for (int i = 0; i < 4; i++) out.write(value >>> (8 * i));
  }

  /** Packs values least significant bit first, as VP8L reads them. */
  private static final class BitWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private long pending;
    private int count;

    void write(int value, int width) {
      pending |= (value & ((1L << width) - 1)) << count;
      count += width;
      while (count >= 8) {
        out.write((int) (pending & 0xff));
        pending >>>= 8;
        count -= 8;
      }
    }

    byte[] toBytes() {
      if (count > 0) out.write((int) (pending & 0xff));
      pending = 0;
      count = 0;
      return out.toByteArray();
    }
  }
}
