package dev.fluxbot.telegram;

import dev.fluxbot.core.model.GenerationResult;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Optional;
import javax.imageio.ImageIO;

/**
 * Telegram's rules for {@code sendPhoto}, and a JPEG that keeps to them when the original does not.
 */
final class Photos {
  static final long MAX_PHOTO_BYTES = 10L * 1000 * 1000; // "10 MB": kept under both readings
  static final long MAX_DOCUMENT_BYTES = 50L * 1000 * 1000;
  static final int MAX_SIDES = 10_000;
  static final int MAX_RATIO = 20;

  private Photos() {}

  /** Whether Telegram takes the image as a photo as it is. */
  static boolean fits(long bytes, int width, int height) {
    return bytes <= MAX_PHOTO_BYTES && dimensionsFit(width, height);
  }

  static boolean dimensionsFit(long width, long height) {
    return width > 0
        && height > 0
        && width + height <= MAX_SIDES
        && Math.max(width, height) <= (long) MAX_RATIO * Math.min(width, height);
  }

  static boolean fits(GenerationResult r) {
    return fits(r.image().length, r.width(), r.height());
  }

  /**
   * A JPEG of the image within the photo rules (smaller, or padded to a 20:1 ratio); empty when the
   * image does not decode here (then only the document can carry it).
   */
  static Optional<byte[]> preview(byte[] image) {
    try {
      BufferedImage source = ImageIO.read(new ByteArrayInputStream(image));
      if (source == null) {
        return Optional.empty();
      }
      double scale = Math.min(1.0, (MAX_SIDES - 16.0) / (source.getWidth() + source.getHeight()));
      for (int attempt = 0; attempt < 8; attempt++) {
        byte[] jpeg = jpeg(render(source, scale), 0.87f);
        if (jpeg.length <= MAX_PHOTO_BYTES) {
          return Optional.of(jpeg);
        }
        scale *= Math.max(0.5, Math.sqrt((double) MAX_PHOTO_BYTES / jpeg.length) * 0.9);
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Scaled, on white, and padded where one side is over 20 times the other. */
  private static BufferedImage render(BufferedImage source, double scale) {
    int w = Math.max(1, (int) Math.round(source.getWidth() * scale));
    int h = Math.max(1, (int) Math.round(source.getHeight() * scale));
    int canvasW = Math.max(w, (h + MAX_RATIO - 1) / MAX_RATIO);
    int canvasH = Math.max(h, (w + MAX_RATIO - 1) / MAX_RATIO);
    BufferedImage out = new BufferedImage(canvasW, canvasH, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, canvasW, canvasH);
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(source, (canvasW - w) / 2, (canvasH - h) / 2, w, h, null);
    g.dispose();
    return out;
  }

  private static byte[] jpeg(BufferedImage image, float quality) throws IOException {
    return dev.fluxbot.core.image.Jpeg.encode(image, quality);
  }
}
