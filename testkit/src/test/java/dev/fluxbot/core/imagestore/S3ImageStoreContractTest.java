package dev.fluxbot.core.imagestore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.Secret;
import dev.fluxbot.testkit.S3Server;
import dev.fluxbot.testkit.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The contract on S3 (S3Proxy on loopback, a bucket per test), and what only S3 shows: the object
 * any S3 tool sees under {@code PREFIX/<hash>} is exactly the image.
 */
class S3ImageStoreContractTest extends ImageStoreContract {
  static final S3Credentials CREDENTIALS =
      S3Credentials.of(S3Server.ACCESS_KEY, Secret.of(S3Server.SECRET_KEY), null);

  private final S3Server server = S3Server.shared();
  private final String bucket = server.newBucket();

  static S3Location at(S3Server server, String bucket, String prefix) {
    return new S3Location(bucket, prefix, server.endpoint(), S3Server.REGION);
  }

  @Override
  ImageStore newStore() {
    return ImageStore.s3(at(server, bucket, "fluxbot/images"), CREDENTIALS);
  }

  @Override
  ImageStore sameImages() {
    return ImageStore.s3(at(server, bucket, "fluxbot/images"), CREDENTIALS);
  }

  private ResponseBytes<GetObjectResponse> object(S3Client client, String key) {
    return client.getObjectAsBytes(r -> r.bucket(bucket).key(key));
  }

  private List<String> keys(S3Client client) {
    return client.listObjectsV2(r -> r.bucket(bucket)).contents().stream()
        .map(S3Object::key)
        .toList();
  }

  @Test
  void theObjectUnderPrefixSlashHashHoldsExactlyTheImageWithItsMediaType() throws Exception {
    byte[] png = TestImages.noisePng(32, 16, 1);
    byte[] jpeg = jpeg(16, 8);
    String pngHash = store.put(png);
    String jpegHash = store.put(jpeg);
    String other = store.put(FOX);

    try (S3Client client = server.client()) {
      assertThat(keys(client))
          .containsExactlyInAnyOrder(
              "fluxbot/images/" + pngHash, "fluxbot/images/" + jpegHash, "fluxbot/images/" + other);
      ResponseBytes<GetObjectResponse> p = object(client, "fluxbot/images/" + pngHash);
      assertThat(p.asByteArray()).isEqualTo(png);
      assertThat(p.response().contentType()).isEqualTo("image/png");
      assertThat(object(client, "fluxbot/images/" + jpegHash).response().contentType())
          .isEqualTo("image/jpeg");
      assertThat(object(client, "fluxbot/images/" + other).asByteArray()).isEqualTo(FOX);
    }
  }

  private static byte[] jpeg(int w, int h) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "jpg", out);
    return out.toByteArray();
  }

  @Test
  void anImagePutThereByAnyS3ToolIsReadAndOneWithoutAPrefixLivesAtTheBucketsRoot() {
    String hash = Hashes.sha256Hex(HEN);
    try (S3Client client = server.client()) {
      client.putObject(
          r -> r.bucket(bucket).key("fluxbot/images/" + hash),
          software.amazon.awssdk.core.sync.RequestBody.fromBytes(HEN));
      assertThat(store.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(HEN));

      ImageStore root = track(ImageStore.s3(at(server, bucket, ""), CREDENTIALS));
      String fox = root.put(FOX);
      assertThat(keys(client)).contains(fox).contains("fluxbot/images/" + hash);
      assertThat(store.contains(fox)).as("another prefix, other images").isFalse();
    }
  }

  @Test
  void aDeleteByOneInstanceIsSeenByAnotherAtOnce() {
    String fox = store.put(FOX);
    ImageStore other = sameImagesStore();
    assertThat(other.contains(fox)).isTrue();

    assertThat(store.delete(fox)).isTrue();

    assertThat(other.contains(fox)).isFalse();
    assertThat(other.get(fox)).isEmpty();
    assertThat(other.delete(fox)).isFalse();
  }

  @Test
  void checkLeavesNothingInTheBucket() {
    store.check();
    try (S3Client client = server.client()) {
      assertThat(keys(client)).isEmpty();
    }
  }

  @Test
  void itDescribesItselfByItsLocationNeverItsKey() {
    assertThat(store.toString())
        .contains("s3://" + bucket + "/fluxbot/images")
        .contains(server.endpoint().toString())
        .doesNotContain(S3Server.SECRET_KEY);
  }
}
