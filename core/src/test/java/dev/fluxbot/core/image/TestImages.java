package dev.fluxbot.core.image;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/**
 * Real image files made in the test: ImageIO for PNG, JPEG and GIF, by hand for WebP and oddities.
 */
final class TestImages {
  private TestImages() {}

  /** An opaque image: left half red, right half blue, so ratio and orientation can be checked. */
  static BufferedImage halves(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, width / 2, height);
    g.setColor(Color.BLUE);
    g.fillRect(width / 2, 0, width - width / 2, height);
    g.dispose();
    return image;
  }

  static byte[] png(int width, int height) {
    return write(halves(width, height), "png");
  }

  static byte[] jpeg(int width, int height) {
    return write(halves(width, height), "jpeg");
  }

  static byte[] gif(int width, int height) {
    return write(halves(width, height), "gif");
  }

  static byte[] write(BufferedImage image, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * A lossless WebP of one colour: VP8L header, no transform, no colour cache, no meta prefix
   * codes, then five "simple" prefix codes of one symbol each (green, red, blue, alpha, distance),
   * so every pixel takes zero bits and the image data is empty (a few zero bytes pad it).
   */
  static byte[] webpSolid(int width, int height, int argb) {
    int alpha = argb >>> 24;
    Bits bits = new Bits();
    bits.write(width - 1, 14).write(height - 1, 14).write(alpha == 0xff ? 0 : 1, 1).write(0, 3);
    bits.write(0, 1).write(0, 1).write(0, 1); // no transform, no colour cache, no meta prefix codes
    int[] literals = {
      (argb >>> 8) & 0xff, (argb >>> 16) & 0xff, argb & 0xff, alpha
    }; // green, red, blue, alpha
    for (int value : literals) {
      bits.write(1, 1).write(0, 1).write(1, 1).write(value, 8); // simple, one symbol, 8-bit symbol
    }
    bits.write(1, 1).write(0, 1).write(0, 1).write(0, 1); // distance: simple, one 1-bit symbol, 0
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.write(0x2f);
    data.writeBytes(bits.toBytes());
    data.writeBytes(
        new byte[8]); // zero padding: TwelveMonkeys' bit reader refills 8 bytes at a time
    return riff("VP8L", data.toByteArray());
  }

  /** The first bytes of a lossy WebP: just enough header for probing, not decodable. */
  static byte[] webpLossyHeader(int width, int height) {
    ByteBuffer data = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    data.put((byte) 0x30).put((byte) 0x01).put((byte) 0x00); // key frame, shown, partition size
    data.put((byte) 0x9d).put((byte) 0x01).put((byte) 0x2a);
    data.putShort((short) (width | 0x4000)).putShort((short) (height | 0x8000)); // with scale bits
    return riff("VP8 ", data.array());
  }

  /** The first bytes of an extended WebP: the VP8X chunk with its 24-bit canvas size. */
  static byte[] webpExtendedHeader(int width, int height) {
    ByteBuffer data = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    data.put((byte) 0x10).put(new byte[3]); // alpha flag, reserved
    putU24(data, width - 1);
    putU24(data, height - 1);
    return riff("VP8X", data.array());
  }

  private static void putU24(ByteBuffer b, int v) {
    b.put((byte) v).put((byte) (v >>> 8)).put((byte) (v >>> 16));
  }

  private static byte[] riff(String fourcc, byte[] chunk) {
    int padded = chunk.length + (chunk.length & 1);
    ByteBuffer b = ByteBuffer.allocate(20 + padded).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(US_ASCII)).putInt(12 + padded).put("WEBP".getBytes(US_ASCII));
    b.put(fourcc.getBytes(US_ASCII)).putInt(chunk.length).put(chunk);
    return b.array();
  }

  /** A small PNG whose IHDR claims {@code width}×{@code height}: a decompression bomb's header. */
  static byte[] pngClaiming(int width, int height, byte[] idatPayload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height);
    ihdr.put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0); // 8-bit RGB
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", idatPayload);
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /** zlib data for a few rows of zeros: real deflate, far too short for the claimed size. */
  static byte[] tinyDeflate() {
    Deflater deflater = new Deflater();
    deflater.setInput(new byte[1024]);
    deflater.finish();
    byte[] buffer = new byte[256];
    int n = deflater.deflate(buffer);
    deflater.end();
    return java.util.Arrays.copyOf(buffer, n);
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] typeBytes = type.getBytes(US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI. */
  static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    ByteBuffer tiff = ByteBuffer.allocate(26).order(ByteOrder.BIG_ENDIAN);
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8); // header, IFD0 at 8
    tiff.putShort((short) 1); // one entry
    tiff.putShort((short) 0x0112)
        .putShort((short) 3)
        .putInt(1)
        .putShort((short) orientation)
        .putShort((short) 0);
    tiff.putInt(0); // no next IFD
    byte[] exif = "Exif\0\0".getBytes(US_ASCII);
    int length = 2 + exif.length + tiff.capacity();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0xff);
    out.write(0xd8);
    out.write(0xff);
    out.write(0xe1);
    out.write(length >>> 8);
    out.write(length & 0xff);
    out.writeBytes(exif);
    out.writeBytes(tiff.array());
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  /** Writes bits least significant first, as VP8L reads them. */
  private static final class Bits {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int current;
    private int used;

    Bits write(int value, int count) {
      for (int i = 0; i < count; i++) {
        current |= ((value >>> i) & 1) << used;
        if (++used == 8) {
          out.write(current);
          current = 0;
          used = 0;
        }
      }
      return this;
    }

    byte[] toBytes() {
      if (used > 0) {
        out.write(current);
        current = 0;
        used = 0;
      }
      return out.toByteArray();
    }
  }
}
