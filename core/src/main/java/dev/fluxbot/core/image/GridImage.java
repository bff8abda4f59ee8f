package dev.fluxbot.core.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Up to four images in one 2×2 grid, as a JPEG (Java2D): for a chat whose upload limit does not
 * take the images one by one. Each cell is as large as the first image, at most {@code maxSide}
 * pixels a side; an image of another ratio is fitted into its cell on white. Image 1 is top left, 2
 * top right, 3 bottom left, 4 bottom right.
 */
public final class GridImage {
  private GridImage() {}

  /**
   * @param images 1 to 4 encoded images (JPEG or PNG, or WebP where a reader is installed)
   * @param maxSide the largest side of one cell, in pixels
   */
  public static byte[] compose(List<byte[]> images, int maxSide, float quality) {
    if (images.isEmpty() || images.size() > 4) {
      throw new IllegalArgumentException("a grid holds 1 to 4 images; got " + images.size());
    }
    try {
      BufferedImage first = decode(images.get(0));
      double scale =
          Math.min(1.0, (double) maxSide / Math.max(first.getWidth(), first.getHeight()));
      int cellW = Math.max(1, (int) Math.round(first.getWidth() * scale));
      int cellH = Math.max(1, (int) Math.round(first.getHeight() * scale));
      int cols = images.size() == 1 ? 1 : 2;
      int rows = images.size() <= 2 ? 1 : 2;
      BufferedImage grid =
          new BufferedImage(cols * cellW, rows * cellH, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = grid.createGraphics();
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      for (int i = 0; i < images.size(); i++) {
        BufferedImage img = i == 0 ? first : decode(images.get(i));
        double fit = Math.min((double) cellW / img.getWidth(), (double) cellH / img.getHeight());
        int w = (int) Math.round(img.getWidth() * fit);
        int h = (int) Math.round(img.getHeight() * fit);
        int x = (i % 2) * cellW + (cellW - w) / 2;
        int y = (i / 2) * cellH + (cellH - h) / 2;
        g.drawImage(img, x, y, w, h, Color.WHITE, null);
      }
      g.dispose();
      return Jpeg.encode(grid, quality);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static BufferedImage decode(byte[] bytes) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
    if (image == null) {
      throw new IOException("an image of the group could not be decoded for the grid");
    }
    return image;
  }
}
