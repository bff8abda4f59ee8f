package dev.fluxbot.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.Wire.Reply;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FakeBflApiDeliveryTest {
  private final MutableClock clock = new MutableClock();
  private FakeBflApi fake;

  @BeforeEach
  void start() {
    fake = FakeBflApi.builder().clock(clock).start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  /** Submits with a one-step walk and returns the sample URL of the Ready poll. */
  private String sampleUrl(String endpoint, String json) {
    fake.enqueue(Scenario.statuses("Ready"));
    Reply submitted = Wire.post(fake.baseUrl() + "/v1/" + endpoint, fake.key(), json);
    assertThat(submitted.status()).as(submitted.text()).isEqualTo(200);
    return Wire.get(submitted.json().get("polling_url").asText(), fake.key())
        .json()
        .get("result")
        .get("sample")
        .asText();
  }

  private static BufferedImage decode(byte[] bytes) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
    assertThat(image).as("no ImageIO reader decoded the bytes").isNotNull();
    return image;
  }

  @ParameterizedTest
  @CsvSource({"png, image/png", "jpeg, image/jpeg", "webp, image/webp"})
  void everyOutputFormatDecodesToTheRequestedSize(String format, String contentType)
      throws IOException {
    String url =
        sampleUrl(
            "flux-2-pro",
            "{\"prompt\": \"a\", \"width\": 832, \"height\": 1216, \"output_format\": \"%s\"}"
                .formatted(format));

    Reply image = Wire.get(url, null);

    assertThat(url).contains("/sample." + format + "?");
    assertThat(image.status()).isEqualTo(200);
    assertThat(image.header("Content-Type")).contains(contentType);
    BufferedImage decoded = decode(image.body());
    assertThat(decoded.getWidth()).isEqualTo(832);
    assertThat(decoded.getHeight()).isEqualTo(1216);
  }

  @Test
  void defaultImageIsA1024SquareJpeg() throws IOException {
    Reply image = Wire.get(sampleUrl("flux-2-klein-4b", "{\"prompt\": \"a\"}"), null);

    assertThat(image.header("Content-Type")).contains("image/jpeg");
    BufferedImage decoded = decode(image.body());
    assertThat(decoded.getWidth()).isEqualTo(1024);
    assertThat(decoded.getHeight()).isEqualTo(1024);
  }

  @Test
  void largestAllowedImageRenders() throws IOException {
    String url =
        sampleUrl(
            "flux-2-max",
            "{\"prompt\": \"a\", \"width\": 2048, \"height\": 2048, \"output_format\": \"png\"}");

    BufferedImage decoded = decode(Wire.get(url, null).body());

    assertThat(decoded.getWidth() * decoded.getHeight()).isEqualTo(4 * 1024 * 1024);
  }

  @Test
  void scriptedImageIsServedAsIs() {
    byte[] bytes = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
    fake.enqueue(Scenario.statuses("Ready").withImage(bytes, "png"));
    String polling =
        Wire.post(fake.baseUrl() + "/v1/flux-2-pro", fake.key(), "{\"prompt\": \"a\"}")
            .json()
            .get("polling_url")
            .asText();
    String url = Wire.get(polling, fake.key()).json().get("result").get("sample").asText();

    Reply image = Wire.get(url, null);

    assertThat(url).contains("/sample.png?");
    assertThat(image.body()).isEqualTo(bytes);
    assertThat(image.header("Content-Type")).contains("image/png");
  }

  @Test
  void deliveryUrlExpiresWhenTheClockPassesIt() {
    String url = sampleUrl("flux-2-pro", "{\"prompt\": \"a\"}");

    clock.advance(Duration.ofMinutes(10));
    assertThat(Wire.get(url, null).status()).isEqualTo(200);
    clock.advance(Duration.ofMillis(1));
    Reply expired = Wire.get(url, null);

    assertThat(expired.status()).isEqualTo(403);
    assertThat(expired.text()).contains("expired");
  }

  @Test
  void shorterTtlExpiresSooner() {
    fake.setDeliveryTtl(Duration.ofSeconds(30));
    String url = sampleUrl("flux-2-pro", "{\"prompt\": \"a\"}");

    clock.advance(Duration.ofSeconds(31));

    assertThat(Wire.get(url, null).status()).isEqualTo(403);
  }

  @Test
  void deliveryUrlWithATamperedSignatureOrExpiryIs403() {
    String url = sampleUrl("flux-2-pro", "{\"prompt\": \"a\"}");
    String exp = url.replaceAll(".*[?&]exp=(\\d+).*", "$1");
    String sig = url.replaceAll(".*[?&]sig=([0-9a-f]+).*", "$1");
    char flipped = sig.charAt(0) == '0' ? '1' : '0';

    assertThat(Wire.get(url.replace(sig, flipped + sig.substring(1)), null).status())
        .isEqualTo(403);
    assertThat(
            Wire.get(url.replace("exp=" + exp, "exp=" + (Long.parseLong(exp) + 60_000)), null)
                .status())
        .isEqualTo(403);
    assertThat(Wire.get(url.substring(0, url.indexOf('?')), null).status()).isEqualTo(403);
  }

  @Test
  void deliveryNeedsNoKeyAndRecordsOneSentAnyway() {
    String url = sampleUrl("flux-2-pro", "{\"prompt\": \"a\"}");

    assertThat(Wire.get(url, null).status()).isEqualTo(200);
    assertThat(fake.keySentToDelivery()).isFalse();

    assertThat(Wire.get(url, fake.key()).status()).isEqualTo(200);
    assertThat(fake.keySentToDelivery()).isTrue();
    assertThat(fake.deliveries().get(1).header("x-key")).contains(fake.key());
  }

  @Test
  void headOnDeliveryAnswersTheLengthWithoutABody() {
    String url = sampleUrl("flux-2-pro", "{\"prompt\": \"a\", \"output_format\": \"png\"}");
    int length = Wire.get(url, null).body().length;

    Reply head = Wire.head(url);

    assertThat(head.status()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.header("Content-Length")).contains(Integer.toString(length));
  }

  @Test
  void unknownDeliveryPathIs404() {
    assertThat(Wire.get(fake.deliveryBaseUrl() + "/nothing", null).status()).isEqualTo(404);
  }
}
