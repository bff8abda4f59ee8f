package dev.fluxbot.core.image;

import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.ImageType;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.concurrent.Semaphore;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Decodes an image that is over the output pixel cap, shrinks it with its ratio kept, and encodes
 * it again: JPEG stays JPEG, PNG stays PNG, WebP becomes PNG when it has alpha and JPEG when not
 * (ImageIO writes no WebP). Decoding a 64 MP image takes a few hundred MB, so only a few run at
 * once.
 */
final class Downscaler {
  static final float JPEG_QUALITY = 0.92f;
  private static final int CONCURRENT_DECODES = 2;

  /** A re-encoded image. */
  record Encoded(ImageType type, int width, int height, byte[] bytes) {}

  private final long maxSourcePixels;
  private final long maxOutputPixels;
  private final Semaphore decodes = new Semaphore(CONCURRENT_DECODES);

  Downscaler(long maxSourcePixels, long maxOutputPixels) {
    this.maxSourcePixels = maxSourcePixels;
    this.maxOutputPixels = maxOutputPixels;
  }

  Encoded downscale(String label, byte[] bytes, ImageInfo info) {
    return oneOfFewDecodes(
        label,
        () -> {
          BufferedImage decoded = decode(label, bytes, info.type());
          int orientation =
              info.type() == ImageType.JPEG ? ExifOrientation.read(bytes) : ExifOrientation.NORMAL;
          int[] size = targetSize(decoded.getWidth(), decoded.getHeight(), maxOutputPixels);
          BufferedImage scaled =
              ExifOrientation.apply(resize(decoded, size[0], size[1]), orientation);
          ImageType outType = outputType(info.type(), scaled);
          return new Encoded(
              outType, scaled.getWidth(), scaled.getHeight(), encode(scaled, outType));
        });
  }

  /**
   * Runs a decode once one of the few decode permits is free: a 64 MP image takes a few hundred MB.
   */
  private <T> T oneOfFewDecodes(String label, java.util.function.Supplier<T> work) {
    try {
      decodes.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Refusals.cancelled(label);
    }
    try {
      return work.get();
    } finally {
      decodes.release();
    }
  }

  /**
   * Decodes an image that passes through unchanged, to the last pixel, so that a file cut short or
   * damaged in its image data is refused here rather than sent on (headers alone pass such files).
   * Bounded like {@link #downscale}: the image is at most the output cap, and few decode at once.
   */
  void verify(String label, byte[] bytes, ImageType type) {
    oneOfFewDecodes(label, () -> decode(label, bytes, type));
  }

  /**
   * Reads the first image, checking the decoder's own idea of the size against the cap first. A
   * decoder that warns of a premature end (the JPEG reader fills the missing rows with grey and
   * only warns) is a refusal like one that throws.
   */
  private BufferedImage decode(String label, byte[] bytes, ImageType type) {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(type.apiName());
    if (!readers.hasNext()) {
      throw Refusals.undecodable(label, type, "no decoder for this type is installed");
    }
    ImageReader reader = readers.next();
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      StringBuilder cutShort = new StringBuilder();
      reader.addIIOReadWarningListener(
          (source, warning) -> {
            if (cutShort.isEmpty()
                && warning != null
                && warning.toLowerCase(java.util.Locale.ROOT).contains("premature end")) {
              cutShort.append(warning);
            }
          });
      int w = reader.getWidth(0);
      int h = reader.getHeight(0);
      if ((long) w * h > maxSourcePixels) {
        throw Refusals.tooManyPixels(label, w, h, maxSourcePixels);
      }
      BufferedImage image = reader.read(0);
      if (image == null || image.getWidth() <= 0 || image.getHeight() <= 0) {
        throw Refusals.undecodable(label, type, "the decoder returned no image");
      }
      if (!cutShort.isEmpty()) {
        throw Refusals.undecodable(
            label,
            type,
            "the file ends before its image data does: " + cutShort.toString().strip());
      }
      return image;
    } catch (UserError e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw Refusals.undecodable(
          label, type, reason(e)); // decoders throw unchecked on corrupt data too
    } finally {
      reader.dispose();
    }
  }

  /**
   * The largest size with the same ratio and at most {@code maxPixels} pixels; each side at least
   * 1.
   */
  static int[] targetSize(int width, int height, long maxPixels) {
    long pixels = (long) width * height;
    if (pixels <= maxPixels) {
      return new int[] {width, height};
    }
    double scale = Math.sqrt((double) maxPixels / pixels);
    int w = Math.max(1, (int) Math.floor(width * scale));
    int h = Math.max(1, (int) Math.floor(height * scale));
    while ((long) w * h > maxPixels) { // only where a side was clamped to 1 or rounding went over
      if (w >= h) {
        w--;
      } else {
        h--;
      }
    }
    return new int[] {w, h};
  }

  /**
   * Halves with bilinear filtering while the image is at least twice the target (each halving
   * averages 2×2 blocks, so nothing aliases), then takes the last step bicubic.
   */
  static BufferedImage resize(BufferedImage source, int width, int height) {
    boolean alpha = source.getColorModel().hasAlpha();
    int workType = alpha ? BufferedImage.TYPE_INT_ARGB_PRE : BufferedImage.TYPE_INT_RGB;
    BufferedImage current = source;
    while (current.getWidth() / 2 >= width && current.getHeight() / 2 >= height) {
      current =
          draw(
              current,
              current.getWidth() / 2,
              current.getHeight() / 2,
              workType,
              RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    }
    if (current.getWidth() != width
        || current.getHeight() != height
        || current.getType() != workType) {
      current = draw(current, width, height, workType, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    }
    return current;
  }

  private static BufferedImage draw(
      BufferedImage source, int width, int height, int type, Object interpolation) {
    BufferedImage out = new BufferedImage(width, height, type);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.setRenderingHint(
          RenderingHints.KEY_ALPHA_INTERPOLATION, RenderingHints.VALUE_ALPHA_INTERPOLATION_QUALITY);
      g.drawImage(source, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  private static ImageType outputType(ImageType input, BufferedImage image) {
    return switch (input) {
      case JPEG -> ImageType.JPEG;
      case PNG -> ImageType.PNG;
      case WEBP -> hasTransparency(image) ? ImageType.PNG : ImageType.JPEG;
    };
  }

  /**
   * Whether any pixel is less than opaque (a lossless WebP may carry an alpha channel it never
   * uses).
   */
  static boolean hasTransparency(BufferedImage image) {
    if (!image.getColorModel().hasAlpha()) {
      return false;
    }
    int w = image.getWidth();
    int[] row = new int[w];
    for (int y = 0; y < image.getHeight(); y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int argb : row) {
        if ((argb >>> 24) != 0xff) {
          return true;
        }
      }
    }
    return false;
  }

  static byte[] encode(BufferedImage image, ImageType type) {
    boolean jpeg = type == ImageType.JPEG;
    BufferedImage ready =
        convert(
            image,
            jpeg
                ? BufferedImage.TYPE_INT_RGB
                : image.getColorModel().hasAlpha()
                    ? BufferedImage.TYPE_INT_ARGB
                    : BufferedImage.TYPE_INT_RGB);
    ImageWriter writer = ImageIO.getImageWritersByFormatName(type.apiName()).next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (jpeg) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(JPEG_QUALITY);
      }
      writer.write(null, new IIOImage(ready, null, null), param);
    } catch (IOException e) {
      throw new IllegalStateException("encoding to memory failed", e); // no real I/O happens here
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  private static BufferedImage convert(BufferedImage image, int type) {
    if (image.getType() == type) {
      return image;
    }
    return draw(
        image,
        image.getWidth(),
        image.getHeight(),
        type,
        RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
  }

  /** A decoder's complaint, short and printable; the bytes' origin is not in it. */
  private static String reason(Exception e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e.getClass().getSimpleName();
    }
    String clean = message.replaceAll("[^\\x20-\\x7e]", "?").strip();
    return clean.length() > 120 ? clean.substring(0, 120) + "…" : clean;
  }
}
