package dev.fluxbot.testkit.bfl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebpLosslessTest {
  @ParameterizedTest
  @CsvSource({
    "1, 1, ff000000",
    "3, 5, ff336699",
    "1, 2, ff010000",
    "832, 1216, ff20c0e0",
    "2048, 2048, 80fe0102",
    "16384, 4, ff7f7f7f",
  })
  void decodesToTheSizeAndColourWritten(int width, int height, String hexArgb) throws IOException {
    int argb = Integer.parseUnsignedInt(hexArgb, 16);

    byte[] webp = WebpLossless.solid(width, height, argb);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(webp));

    assertThat(image).isNotNull();
    assertThat(image.getWidth()).isEqualTo(width);
    assertThat(image.getHeight()).isEqualTo(height);
    assertThat(Integer.toHexString(image.getRGB(0, 0))).isEqualTo(hexArgb);
    assertThat(Integer.toHexString(image.getRGB(width - 1, height - 1))).isEqualTo(hexArgb);
    assertThat(image.getColorModel().hasAlpha() || (argb >>> 24) == 0xff).isTrue();
  }

  @Test
  void isAWellFormedRiffFile() {
    byte[] webp = WebpLossless.solid(7, 9, 0xff102030);

    assertThat(new String(webp, 0, 4, java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("RIFF");
    int riffSize =
        (webp[4] & 0xff) | (webp[5] & 0xff) << 8 | (webp[6] & 0xff) << 16 | (webp[7] & 0xff) << 24;
    assertThat(riffSize).isEqualTo(webp.length - 8);
    assertThat(webp.length % 2).isZero();
    assertThat(ImageSniffer.formatOf(webp)).isEqualTo("webp");
    assertThat(ImageSniffer.pixels(webp)).isEqualTo(7 * 9);
  }

  @Test
  void rejectsSidesAVp8lHeaderCannotHold() {
    assertThatThrownBy(() -> WebpLossless.solid(16385, 1, 0)).hasMessageContaining("16385 × 1");
    assertThatThrownBy(() -> WebpLossless.solid(0, 1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
