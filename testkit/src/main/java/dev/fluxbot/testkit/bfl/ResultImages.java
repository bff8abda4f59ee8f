package dev.fluxbot.testkit.bfl;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Renders the solid-colour result images the delivery host serves. */
final class ResultImages {
  private ResultImages() {}

  static byte[] render(int width, int height, String format, int rgb) {
    if (format.equals("webp")) return WebpLossless.solid(width, height, 0xff000000 | rgb);
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setColor(new Color(rgb));
      g.fillRect(0, 0, width, height);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, format, out))
        throw new IllegalArgumentException("ImageIO cannot write " + format);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A colour that depends on the seed, so different seeds give different images. */
  static int colourFor(long seed) {
    return (int) ((seed * 0x9E3779B97F4A7C15L) >>> 40) & 0xffffff;
  }

  static String contentType(String format) {
    return switch (format) {
      case "jpeg" -> "image/jpeg";
      case "png" -> "image/png";
      case "webp" -> "image/webp";
      default -> "application/octet-stream";
    };
  }
}
