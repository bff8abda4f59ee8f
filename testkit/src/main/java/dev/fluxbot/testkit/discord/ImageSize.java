package dev.fluxbot.testkit.discord;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads an image's type, width and height from its header, as Discord reports them on attachments:
 * Discord looks at the file, not at the part's declared type (JDA always declares {@code
 * application/octet-stream}).
 */
final class ImageSize {
  record Size(int width, int height) {}

  private ImageSize() {}

  /** The media type of PNG, JPEG, GIF and WebP files. */
  static Optional<String> mediaType(byte[] b) {
    if (startsWith(b, 0, new byte[] {(byte) 0x89, 'P', 'N', 'G'})) return Optional.of("image/png");
    if (ascii(b, 0, 4).equals("GIF8")) return Optional.of("image/gif");
    if (ascii(b, 0, 4).equals("RIFF") && ascii(b, 8, 4).equals("WEBP"))
      return Optional.of("image/webp");
    if (b.length > 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8)
      return Optional.of("image/jpeg");
    return Optional.empty();
  }

  static Optional<Size> of(byte[] b) {
    if (startsWith(b, 0, new byte[] {(byte) 0x89, 'P', 'N', 'G'}) && b.length >= 24) {
      return Optional.of(new Size(int32(b, 16), int32(b, 20)));
    }
    if (ascii(b, 0, 4).equals("GIF8") && b.length >= 10) {
      return Optional.of(new Size(u16le(b, 6), u16le(b, 8)));
    }
    if (ascii(b, 0, 4).equals("RIFF") && ascii(b, 8, 4).equals("WEBP")) return webp(b);
    if (b.length > 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8) return jpeg(b);
    return Optional.empty();
  }

  private static Optional<Size> webp(byte[] b) {
    String chunk = ascii(b, 12, 4);
    if (chunk.equals("VP8X") && b.length >= 30) {
      return Optional.of(new Size(1 + u24le(b, 24), 1 + u24le(b, 27)));
    }
    if (chunk.equals("VP8L") && b.length >= 25) {
      int bits = (b[21] & 0xff) | (b[22] & 0xff) << 8 | (b[23] & 0xff) << 16 | (b[24] & 0xff) << 24;
      return Optional.of(new Size(1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff)));
    }
    if (chunk.equals("VP8 ") && b.length >= 30) {
      return Optional.of(new Size(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff));
    }
    return Optional.empty();
  }

  private static Optional<Size> jpeg(byte[] b) {
    int i = 2;
    while (i + 9 < b.length) {
      if ((b[i] & 0xff) != 0xff) return Optional.empty();
      int marker = b[i + 1] & 0xff;
      int length = (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
      boolean startOfFrame =
          marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
      if (startOfFrame) {
        int height = (b[i + 5] & 0xff) << 8 | (b[i + 6] & 0xff);
        int width = (b[i + 7] & 0xff) << 8 | (b[i + 8] & 0xff);
        return Optional.of(new Size(width, height));
      }
      i += 2 + length;
    }
    return Optional.empty();
  }

  private static boolean startsWith(byte[] b, int at, byte[] prefix) {
    if (b.length < at + prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) {
      if (b[at + i] != prefix[i]) return false;
    }
    return true;
  }

  private static String ascii(byte[] b, int at, int length) {
    return b.length < at + length ? "" : new String(b, at, length, StandardCharsets.ISO_8859_1);
  }

  private static int int32(byte[] b, int at) {
    return (b[at] & 0xff) << 24
        | (b[at + 1] & 0xff) << 16
        | (b[at + 2] & 0xff) << 8
        | (b[at + 3] & 0xff);
  }

  private static int u16le(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }

  private static int u24le(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16;
  }
}
