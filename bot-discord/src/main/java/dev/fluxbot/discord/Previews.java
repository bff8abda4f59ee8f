package dev.fluxbot.discord;

import dev.fluxbot.core.model.ImageType;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Makes an image fit an upload limit: the original when it fits, else a JPEG preview that does. */
final class Previews {
  private Previews() {}

  /** The bytes to upload; {@code preview} when they are not the original. */
  record Fitted(byte[] bytes, ImageType type, boolean preview) {}

  static Fitted fit(byte[] image, ImageType type, long limit) {
    if (image.length <= limit) {
      return new Fitted(image, type, false);
    }
    try {
      BufferedImage source = ImageIO.read(new ByteArrayInputStream(image));
      if (source == null) {
        throw new IOException("the image could not be decoded for a preview");
      }
      BufferedImage rgb =
          new BufferedImage(source.getWidth(), source.getHeight(), BufferedImage.TYPE_INT_RGB);
      var g = rgb.createGraphics();
      g.drawImage(source, 0, 0, java.awt.Color.WHITE, null);
      g.dispose();
      double scale = 1.0;
      for (int attempt = 0; attempt < 8; attempt++) {
        byte[] jpeg = jpeg(scale == 1.0 ? rgb : scaled(rgb, scale), 0.85f);
        if (jpeg.length <= limit) {
          return new Fitted(jpeg, ImageType.JPEG, true);
        }
        scale *= Math.max(0.5, Math.sqrt((double) limit / jpeg.length) * 0.9);
      }
      throw new IOException("no preview under " + limit + " bytes");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static BufferedImage scaled(BufferedImage src, double scale) {
    int w = Math.max(1, (int) (src.getWidth() * scale));
    int h = Math.max(1, (int) (src.getHeight() * scale));
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    var g = out.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(src, 0, 0, w, h, null);
    g.dispose();
    return out;
  }

  private static byte[] jpeg(BufferedImage image, float quality) throws IOException {
    return dev.fluxbot.core.image.Jpeg.encode(image, quality);
  }
}
