package dev.fluxbot.core.image;

import java.awt.image.BufferedImage;

/**
 * The EXIF orientation of a JPEG (phones store photos sideways and say so here). ImageIO drops EXIF
 * when it writes, so a re-encoded photo gets the rotation applied to its pixels instead.
 */
final class ExifOrientation {
  static final int NORMAL = 1;

  private ExifOrientation() {}

  /**
   * The orientation tag (1..8) of a JPEG's EXIF block; 1 when absent, unreadable or out of range.
   */
  static int read(byte[] jpeg) {
    try {
      int pos = 2;
      while (pos + 4 <= jpeg.length && (jpeg[pos] & 0xff) == 0xff) {
        int marker = jpeg[pos + 1] & 0xff;
        if (marker == 0xff) {
          pos++; // fill byte
          continue;
        }
        int length = u16(jpeg, pos + 2, false);
        if (marker == 0xda || marker == 0xd9 || length < 2) {
          return NORMAL; // scan data: EXIF comes before it or not at all
        }
        if (marker == 0xe1 && length >= 8 && isExif(jpeg, pos + 4)) {
          return fromTiff(jpeg, pos + 10, pos + 2 + length);
        }
        pos += 2 + length;
      }
      return NORMAL;
    } catch (IndexOutOfBoundsException e) {
      return NORMAL; // a truncated EXIF block means no usable orientation
    }
  }

  private static boolean isExif(byte[] b, int pos) {
    return b[pos] == 'E'
        && b[pos + 1] == 'x'
        && b[pos + 2] == 'i'
        && b[pos + 3] == 'f'
        && b[pos + 4] == 0;
  }

  /** Reads tag 0x0112 from IFD0 of the TIFF structure at {@code tiff}, bounded by {@code end}. */
  private static int fromTiff(byte[] b, int tiff, int end) {
    boolean little;
    if (b[tiff] == 'I' && b[tiff + 1] == 'I') {
      little = true;
    } else if (b[tiff] == 'M' && b[tiff + 1] == 'M') {
      little = false;
    } else {
      return NORMAL;
    }
    long ifd = u32(b, tiff + 4, little);
    if (ifd < 8 || tiff + ifd + 2 > end) {
      return NORMAL;
    }
    int entries = tiff + (int) ifd;
    int count = u16(b, entries, little);
    for (int i = 0; i < count; i++) {
      int entry = entries + 2 + i * 12;
      if (entry + 12 > end) {
        return NORMAL;
      }
      if (u16(b, entry, little) == 0x0112 && u16(b, entry + 2, little) == 3) {
        int value = u16(b, entry + 8, little);
        return value >= 1 && value <= 8 ? value : NORMAL;
      }
    }
    return NORMAL;
  }

  /** Whether an orientation swaps width and height. */
  static boolean swapsSides(int orientation) {
    return orientation >= 5 && orientation <= 8;
  }

  /**
   * Turns stored pixels into display pixels; {@code image} must be TYPE_INT_RGB or
   * TYPE_INT_ARGB(_PRE).
   */
  static BufferedImage apply(BufferedImage image, int orientation) {
    if (orientation == NORMAL || orientation < 1 || orientation > 8) {
      return image;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    boolean swap = swapsSides(orientation);
    BufferedImage out = new BufferedImage(swap ? h : w, swap ? w : h, image.getType());
    int[] src = image.getRGB(0, 0, w, h, null, 0, w);
    int ow = out.getWidth();
    int oh = out.getHeight();
    int[] dst = new int[ow * oh];
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> {
            sx = w - 1 - x;
            sy = y;
          }
          case 3 -> {
            sx = w - 1 - x;
            sy = h - 1 - y;
          }
          case 4 -> {
            sx = x;
            sy = h - 1 - y;
          }
          case 5 -> {
            sx = y;
            sy = x;
          }
          case 6 -> {
            sx = y;
            sy = h - 1 - x;
          }
          case 7 -> {
            sx = w - 1 - y;
            sy = h - 1 - x;
          }
          default -> {
            sx = w - 1 - y;
            sy = x;
          } // 8
        }
        dst[y * ow + x] = src[sy * w + sx];
      }
    }
    out.setRGB(0, 0, ow, oh, dst, 0, ow);
    return out;
  }

  private static int u16(byte[] b, int pos, boolean little) {
    int b0 = b[pos] & 0xff;
    int b1 = b[pos + 1] & 0xff;
    return little ? b0 | (b1 << 8) : (b0 << 8) | b1;
  }

  private static long u32(byte[] b, int pos, boolean little) {
    long lo = u16(b, pos, little);
    long hi = u16(b, pos + 2, little);
    return little ? lo | (hi << 16) : (lo << 16) | hi;
  }
}
