package dev.fluxbot.testkit.klein;

import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.bfl.WebpLossless;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** The fake's output: one colour drawn from the seed, so the same seed gives the same bytes. */
final class KleinImages {
  private KleinImages() {}

  static byte[] render(String format, int width, int height, long seed) {
    int rgb = (int) (new java.util.Random(seed).nextInt() & 0xFFFFFF);
    return switch (format) {
      case "webp" -> WebpLossless.solid(width, height, 0xff000000 | rgb);
      case "jpeg" -> jpeg(TestImages.solidPng(width, height, new Color(rgb)));
      default -> TestImages.solidPng(width, height, new Color(rgb));
    };
  }

  private static byte[] jpeg(byte[] png) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(image, "jpeg", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
