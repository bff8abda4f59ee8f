package dev.fluxbot.testkit.bfl;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/** Tells an image's format from its magic bytes, and its size from its header. */
final class ImageSniffer {
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ImageSniffer() {}

  /** {@code png}, {@code jpeg}, {@code webp}, or null for anything else. */
  static String formatOf(byte[] b) {
    if (startsWith(b, PNG)) return "png";
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff)
      return "jpeg";
    if (b.length >= 12 && ascii(b, 0, 4).equals("RIFF") && ascii(b, 8, 4).equals("WEBP"))
      return "webp";
    return null;
  }

  /** Width × height, or -1 when the header cannot be read. */
  static long pixels(byte[] b) {
    long viaImageIo = pixelsViaImageIo(b);
    if (viaImageIo > 0) return viaImageIo;
    return "webp".equals(formatOf(b)) ? webpPixels(b) : -1;
  }

  static String hexPrefix(byte[] b) {
    return HexFormat.ofDelimiter(" ").formatHex(b, 0, Math.min(8, b.length));
  }

  private static long pixelsViaImageIo(byte[] b) {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(b))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) return -1;
      ImageReader reader = readers.next();
      try {
        reader.setInput(in);
        return (long) reader.getWidth(0) * reader.getHeight(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The canvas size of a WebP file: lossy (VP8), lossless (VP8L) or extended (VP8X). */
  private static long webpPixels(byte[] b) {
    if (b.length < 30) return -1;
    return switch (ascii(b, 12, 4)) {
      case "VP8 " -> (long) (le16(b, 26) & 0x3fff) * (le16(b, 28) & 0x3fff);
      case "VP8L" -> {
        long bits = le16(b, 21) | (long) le16(b, 23) << 16;
        yield ((bits & 0x3fff) + 1) * (((bits >>> 14) & 0x3fff) + 1);
      }
      case "VP8X" -> (le24(b, 24) + 1L) * (le24(b, 27) + 1L);
      default -> -1;
    };
  }

  private static int le16(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }

  private static int le24(byte[] b, int at) {
    return le16(b, at) | (b[at + 2] & 0xff) << 16;
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    if (b.length < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) {
      if (b[i] != prefix[i]) return false;
    }
    return true;
  }

  private static String ascii(byte[] b, int at, int length) {
    return new String(b, at, length, StandardCharsets.ISO_8859_1);
  }
}
