package dev.fluxbot.core.image;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.fluxbot.core.model.ImageType;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageInfoTest {

  @Test
  void pngSizeComesFromIhdr() {
    assertThat(ImageInfo.probe(TestImages.png(37, 21)))
        .contains(new ImageInfo(ImageType.PNG, 37, 21));
  }

  @Test
  void pngHeaderIsReadWithoutDecodingTheClaimedPixels() {
    byte[] bomb = TestImages.pngClaiming(20000, 20000, TestImages.tinyDeflate());
    assertThat(ImageInfo.probe(bomb)).contains(new ImageInfo(ImageType.PNG, 20000, 20000));
  }

  @Test
  void jpegSizeComesFromTheStartOfFrame() {
    assertThat(ImageInfo.probe(TestImages.jpeg(300, 200)))
        .contains(new ImageInfo(ImageType.JPEG, 300, 200));
  }

  @Test
  void jpegProbeSkipsExifAndHuffmanTablesAndFillBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd8});
    // APP1 whose payload holds a fake SOF0 marker: it must be skipped by length, not scanned
    out.writeBytes(
        new byte[] {
          (byte) 0xff,
          (byte) 0xe1,
          0,
          14,
          'E',
          'x',
          'i',
          'f',
          0,
          0,
          (byte) 0xff,
          (byte) 0xc0,
          0,
          1,
          0,
          1
        });
    out.writeBytes(
        new byte[] {(byte) 0xff, (byte) 0xc4, 0, 4, 0, 0}); // DHT looks like SOF4: not a frame
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xcc, 0, 4, 0, 0}); // DAC
    out.writeBytes(
        new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}); // fill bytes before a marker
    out.writeBytes(
        new byte[] {(byte) 0xc2, 0, 11, 8, 0x03, (byte) 0xe8, 0x07, (byte) 0xd0, 1, 1, 0x11, 0});
    assertThat(ImageInfo.probe(out.toByteArray()))
        .contains(new ImageInfo(ImageType.JPEG, 2000, 1000));
  }

  @Test
  void jpegWithScanDataBeforeAnyFrameIsNotAnImage() {
    byte[] bytes = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0};
    assertThat(ImageInfo.probe(bytes)).isEmpty();
  }

  @Test
  void losslessWebpSizeComesFromVp8lHeader() throws Exception {
    byte[] webp = TestImages.webpSolid(70, 30, 0xff336699);
    assertThat(ImageInfo.probe(webp)).contains(new ImageInfo(ImageType.WEBP, 70, 30));
    BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(webp));
    assertThat(decoded).isNotNull();
    assertThat(decoded.getWidth()).isEqualTo(70);
    assertThat(decoded.getHeight()).isEqualTo(30);
    assertThat(decoded.getRGB(0, 0)).isEqualTo(0xff336699);
    assertThat(decoded.getRGB(69, 29)).isEqualTo(0xff336699);
  }

  @Test
  void translucentLosslessWebpDecodesWithItsAlpha() throws Exception {
    BufferedImage decoded =
        ImageIO.read(new ByteArrayInputStream(TestImages.webpSolid(5, 4, 0x80ff0000)));
    assertThat(decoded.getColorModel().hasAlpha()).isTrue();
    assertThat(decoded.getRGB(2, 2) >>> 24).isEqualTo(0x80);
  }

  @Test
  void lossyWebpSizeComesFromTheKeyFrameHeaderWithoutScaleBits() {
    assertThat(ImageInfo.probe(TestImages.webpLossyHeader(640, 480)))
        .contains(new ImageInfo(ImageType.WEBP, 640, 480));
  }

  @Test
  void extendedWebpSizeComesFromTheCanvas() {
    assertThat(ImageInfo.probe(TestImages.webpExtendedHeader(100000, 3)))
        .contains(new ImageInfo(ImageType.WEBP, 100000, 3));
  }

  @Test
  void otherTypesAreNotImages() {
    assertThat(ImageInfo.probe(TestImages.gif(4, 4))).isEmpty();
    assertThat(ImageInfo.probe("hello, this is text".getBytes(US_ASCII))).isEmpty();
    assertThat(ImageInfo.probe("<!DOCTYPE html><html>".getBytes(US_ASCII))).isEmpty();
    assertThat(ImageInfo.probe(new byte[0])).isEmpty();
    assertThat(ImageInfo.probe(null)).isEmpty();
  }

  @Test
  void zeroOrOversizedDimensionsAreNotImages() {
    assertThat(ImageInfo.probe(TestImages.pngClaiming(0, 10, new byte[0]))).isEmpty();
    assertThat(ImageInfo.probe(TestImages.pngClaiming(0x80000000, 10, new byte[0]))).isEmpty();
  }

  @Test
  void everyTruncatedHeaderIsEmptyOrRight() {
    List<byte[]> images =
        List.of(
            TestImages.png(9, 7),
            TestImages.jpeg(9, 7),
            TestImages.webpSolid(9, 7, 0xff000000),
            TestImages.webpLossyHeader(9, 7),
            TestImages.webpExtendedHeader(9, 7));
    for (byte[] image : images) {
      Optional<ImageInfo> full = ImageInfo.probe(image);
      assertThat(full).isPresent();
      for (int n = 0; n < image.length; n++) {
        Optional<ImageInfo> cut = ImageInfo.probe(Arrays.copyOf(image, n));
        assertThat(cut.isEmpty() || cut.equals(full))
            .as("prefix of %d bytes gave %s", n, cut)
            .isTrue();
      }
    }
  }

  @Test
  void randomAndMangledBytesNeverThrow() {
    Random random = new Random(20240611L);
    List<byte[]> seeds =
        List.of(
            TestImages.png(5, 5),
            TestImages.jpeg(5, 5),
            TestImages.webpSolid(5, 5, 0xff000000),
            TestImages.webpLossyHeader(5, 5),
            TestImages.webpExtendedHeader(5, 5));
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes;
      if (i % 2 == 0) {
        bytes = new byte[random.nextInt(64)];
        random.nextBytes(bytes);
      } else {
        byte[] seed = seeds.get(random.nextInt(seeds.size()));
        bytes = Arrays.copyOf(seed, random.nextInt(seed.length + 1));
        for (int flips = random.nextInt(4); flips > 0 && bytes.length > 0; flips--) {
          bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
      }
      byte[] input = bytes;
      assertThatCode(
              () -> {
                ImageInfo.probe(input).ifPresent(info -> assertThat(info.width()).isPositive());
                ImageInfo.describeMagic(input);
                ImageInfo.knownKind(input);
                ExifOrientation.read(input);
              })
          .doesNotThrowAnyException();
    }
  }

  @Test
  void describeMagicShowsPrintableTextOrHex() {
    assertThat(ImageInfo.describeMagic(TestImages.gif(2, 2))).isEqualTo("starts with \"GIF89a\"");
    assertThat(ImageInfo.describeMagic("hello, world".getBytes(US_ASCII)))
        .isEqualTo("starts with \"hello, w\"");
    assertThat(ImageInfo.describeMagic(new byte[] {0, 1, 2, (byte) 0xff, 4, 5, 6, 7, 8, 9}))
        .isEqualTo("starts with bytes 00 01 02 ff 04 05 06 07");
    assertThat(ImageInfo.describeMagic(new byte[] {'o', 'k'})).isEqualTo("starts with \"ok\"");
    assertThat(ImageInfo.describeMagic(new byte[0])).isEqualTo("is empty");
  }

  @Test
  void knownKindsAreNamed() {
    assertThat(ImageInfo.knownKind(TestImages.gif(2, 2))).contains("a GIF");
    assertThat(
            ImageInfo.knownKind(new byte[] {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'}))
        .contains("a HEIC/HEIF image");
    assertThat(ImageInfo.knownKind("<html>".getBytes(US_ASCII)))
        .contains("markup (a web page or an SVG)");
    assertThat(ImageInfo.knownKind("plain".getBytes(US_ASCII))).isEmpty();
  }
}
