package dev.fluxbot.core.image;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.fluxbot.core.model.ImageType;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * What an image's first bytes say: its type and size, read from the header alone so that a huge or
 * hostile image can be refused before any pixel is decoded.
 */
public record ImageInfo(ImageType type, int width, int height) {
  public ImageInfo {
    Objects.requireNonNull(type, "type");
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException(
          "width and height must be positive: " + width + "x" + height);
    }
  }

  public long pixels() {
    return (long) width * height;
  }

  /**
   * Sniffs PNG, JPEG or WebP from the magic bytes and reads the size from the header. Empty for any
   * other type and for truncated or corrupt headers; never throws.
   */
  public static Optional<ImageInfo> probe(byte[] bytes) {
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      Header h = new Header(bytes);
      if (h.startsWith(PNG_MAGIC)) {
        return png(h);
      }
      if (h.startsWith(JPEG_MAGIC)) {
        return jpeg(h);
      }
      if (h.startsWith(RIFF) && h.matches(8, WEBP)) {
        return webp(h);
      }
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.empty(); // a bounds slip on hostile input must not escape; treat as corrupt
    }
  }

  /**
   * Says what bytes start with, for messages: {@code starts with "GIF89a"} when the first bytes are
   * printable ASCII, else the first 8 bytes in hex; {@code is empty} for no bytes.
   */
  public static String describeMagic(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return "is empty";
    }
    int n = Math.min(8, bytes.length);
    int printable = 0;
    while (printable < n && bytes[printable] >= 0x20 && bytes[printable] < 0x7f) {
      printable++;
    }
    if (printable >= Math.min(3, n)) {
      String text = new String(bytes, 0, printable, US_ASCII);
      return "starts with \"" + text + "\"";
    }
    return "starts with bytes " + HexFormat.ofDelimiter(" ").formatHex(bytes, 0, n);
  }

  /** The type the magic bytes claim, header unchecked: tells a damaged PNG from something else. */
  static Optional<ImageType> claimedType(byte[] bytes) {
    if (bytes == null) {
      return Optional.empty();
    }
    Header h = new Header(bytes);
    if (h.startsWith(PNG_MAGIC)) {
      return Optional.of(ImageType.PNG);
    }
    if (h.startsWith(JPEG_MAGIC)) {
      return Optional.of(ImageType.JPEG);
    }
    if (h.startsWith(RIFF) && h.matches(8, WEBP)) {
      return Optional.of(ImageType.WEBP);
    }
    return Optional.empty();
  }

  /**
   * Names a few common types that are not ours ("a GIF", "a HEIC/HEIF image"), so a refusal can say
   * what was sent; empty when the bytes are not recognised.
   */
  static Optional<String> knownKind(byte[] bytes) {
    if (bytes == null) {
      return Optional.empty();
    }
    Header h = new Header(bytes);
    if (h.startsWith(ascii("GIF87a")) || h.startsWith(ascii("GIF89a"))) {
      return Optional.of("a GIF");
    }
    if (h.startsWith(ascii("BM")) && h.has(0, 14)) {
      return Optional.of("a BMP image");
    }
    if (h.startsWith(new byte[] {'I', 'I', 42, 0}) || h.startsWith(new byte[] {'M', 'M', 0, 42})) {
      return Optional.of("a TIFF image");
    }
    if (h.matches(4, ascii("ftyp")) && h.has(8, 4)) {
      String brand = new String(bytes, 8, 4, US_ASCII);
      return Optional.of(
          switch (brand) {
            case "avif", "avis" -> "an AVIF image";
            case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1" ->
                "a HEIC/HEIF image";
            default -> "a video or other ISO media file";
          });
    }
    if (h.startsWith(ascii("%PDF"))) {
      return Optional.of("a PDF");
    }
    if (h.has(0, 1)
        && (bytes[0] == '<'
            || h.startsWith(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '<'}))) {
      return Optional.of("markup (a web page or an SVG)");
    }
    return Optional.empty();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }

  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final byte[] JPEG_MAGIC = {(byte) 0xff, (byte) 0xd8, (byte) 0xff};
  private static final byte[] RIFF = {'R', 'I', 'F', 'F'};
  private static final byte[] WEBP = {'W', 'E', 'B', 'P'};
  private static final byte[] IHDR = {'I', 'H', 'D', 'R'};
  private static final byte[] VP8 = {'V', 'P', '8', ' '};
  private static final byte[] VP8L = {'V', 'P', '8', 'L'};
  private static final byte[] VP8X = {'V', 'P', '8', 'X'};

  /** PNG: the signature, then IHDR must come first with 13 bytes of data. */
  private static Optional<ImageInfo> png(Header h) {
    if (!h.has(0, 24) || h.u32be(8) != 13 || !h.matches(12, IHDR)) {
      return Optional.empty();
    }
    return of(ImageType.PNG, h.u32be(16), h.u32be(20));
  }

  /** JPEG: walks the marker segments to the first start-of-frame, skipping others by length. */
  private static Optional<ImageInfo> jpeg(Header h) {
    int pos = 2;
    while (h.has(pos, 1)) {
      if (h.u8(pos) != 0xff) {
        pos++; // stray bytes between segments: decoders skip to the next marker, so do we
        continue;
      }
      while (h.has(pos, 1) && h.u8(pos) == 0xff) {
        pos++; // fill bytes
      }
      if (!h.has(pos, 1)) {
        return Optional.empty();
      }
      int marker = h.u8(pos++);
      if (marker == 0x01 || marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
        continue; // stand-alone markers carry no length
      }
      if (marker == 0xd9 || marker == 0xda || marker == 0x00 || !h.has(pos, 2)) {
        return Optional.empty(); // end of image or scan data before any frame header
      }
      int length = h.u16be(pos);
      if (length < 2) {
        return Optional.empty();
      }
      if (isStartOfFrame(marker)) {
        return h.has(pos, 7)
            ? of(ImageType.JPEG, h.u16be(pos + 5), h.u16be(pos + 3))
            : Optional.empty();
      }
      pos += length;
    }
    return Optional.empty();
  }

  private static boolean isStartOfFrame(int marker) {
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
  }

  /** WebP: RIFF/WEBP, then the first chunk is a lossy, lossless or extended header. */
  private static Optional<ImageInfo> webp(Header h) {
    int data = 20;
    if (h.matches(12, VP8)) {
      // frame tag (3 bytes, bit 0 clear on a key frame), start code 9d 01 2a, then 14-bit sizes
      if (!h.has(data, 10)
          || (h.u8(data) & 1) != 0
          || h.u8(data + 3) != 0x9d
          || h.u8(data + 4) != 0x01
          || h.u8(data + 5) != 0x2a) {
        return Optional.empty();
      }
      return of(ImageType.WEBP, h.u16le(data + 6) & 0x3fff, h.u16le(data + 8) & 0x3fff);
    }
    if (h.matches(12, VP8L)) {
      if (!h.has(data, 5) || h.u8(data) != 0x2f) {
        return Optional.empty();
      }
      long bits = h.u32le(data + 1);
      if ((bits >>> 29) != 0) {
        return Optional.empty(); // version must be 0
      }
      return of(ImageType.WEBP, (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    if (h.matches(12, VP8X)) {
      if (!h.has(data, 10)) {
        return Optional.empty();
      }
      return of(ImageType.WEBP, h.u24le(data + 4) + 1L, h.u24le(data + 7) + 1L);
    }
    return Optional.empty();
  }

  private static Optional<ImageInfo> of(ImageType type, long width, long height) {
    if (width <= 0 || height <= 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
      return Optional.empty();
    }
    return Optional.of(new ImageInfo(type, (int) width, (int) height));
  }

  /** Bounds-checked reads over the raw bytes. */
  private record Header(byte[] b) {
    boolean has(int pos, int n) {
      return pos >= 0 && n >= 0 && pos <= b.length - n;
    }

    boolean startsWith(byte[] magic) {
      return matches(0, magic);
    }

    boolean matches(int pos, byte[] expected) {
      if (!has(pos, expected.length)) {
        return false;
      }
      for (int i = 0; i < expected.length; i++) {
        if (b[pos + i] != expected[i]) {
          return false;
        }
      }
      return true;
    }

    int u8(int pos) {
      return b[pos] & 0xff;
    }

    int u16be(int pos) {
      return (u8(pos) << 8) | u8(pos + 1);
    }

    int u16le(int pos) {
      return u8(pos) | (u8(pos + 1) << 8);
    }

    int u24le(int pos) {
      return u8(pos) | (u8(pos + 1) << 8) | (u8(pos + 2) << 16);
    }

    long u32be(int pos) {
      return ((long) u16be(pos) << 16) | u16be(pos + 2);
    }

    long u32le(int pos) {
      return u16le(pos) | ((long) u16le(pos + 2) << 16);
    }
  }
}
