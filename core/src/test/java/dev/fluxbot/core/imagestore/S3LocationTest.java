package dev.fluxbot.core.imagestore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The S3 store's location: what {@code s3://BUCKET/PREFIX} and an endpoint may be. */
class S3LocationTest {
  private static final String HASH = "ab".repeat(32);

  @Test
  void aUrlGivesTheBucketAndThePrefixAndEachImageIsPrefixSlashHash() {
    S3Location at = S3Location.parse("s3://my-bucket/fluxbot/images/", null, null);

    assertThat(at.bucket()).isEqualTo("my-bucket");
    assertThat(at.prefix()).isEqualTo("fluxbot/images");
    assertThat(at.key(HASH)).isEqualTo("fluxbot/images/" + HASH);
    assertThat(at.url()).isEqualTo("s3://my-bucket/fluxbot/images");
    assertThat(at.region()).isEqualTo(S3Location.DEFAULT_REGION);
    assertThat(at.describe()).isEqualTo("s3://my-bucket/fluxbot/images at AWS (us-east-1)");

    S3Location root =
        S3Location.parse("s3://my.bucket", URI.create("http://127.0.0.1:9000/"), "auto");
    assertThat(root.key(HASH)).isEqualTo(HASH);
    assertThat(root.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(root.describe()).isEqualTo("s3://my.bucket at http://127.0.0.1:9000 (auto)");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://bucket/x",
        "bucket/x",
        "s3://",
        "s3://ab/x",
        "s3://My_Bucket/x",
        "s3://-bucket/x",
        "s3://bucket//x",
        "s3://bucket/a/../b",
        "s3://bucket/./b",
        "s3://bucket/x?versionId=1",
        "s3://bucket/x#y",
        "s3://bucket/with space",
        "s3://bucket/ümlaut"
      })
  void aUrlThatIsNotAnS3LocationIsRefusedSayingWhy(String url) {
    assertThatThrownBy(() -> S3Location.parse(url, null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(url.length() > 5 ? url.substring(5) : url);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ftp://127.0.0.1:9000",
        "127.0.0.1:9000",
        "http://",
        "http://127.0.0.1:9000/path",
        "http://user:pass@127.0.0.1:9000",
        "https://host?x=1"
      })
  void anEndpointMustBeHttpOrHttpsHostAndPortAlone(String endpoint) {
    assertThatThrownBy(() -> S3Location.endpoint(endpoint))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("must be the S3 server's http(s)://HOST[:PORT]")
        .hasMessageContaining("got \"" + endpoint + "\"");
  }

  @Test
  void aRegionIsAName() {
    assertThatThrownBy(() -> new S3Location("bucket", "", null, "EU Central"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("region name");
  }

  @Test
  void theMediaTypeComesFromTheImagesFirstBytes() {
    assertThat(S3ImageStore.contentType(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0}))
        .isEqualTo("image/jpeg");
    assertThat(
            S3ImageStore.contentType(
                new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0}))
        .isEqualTo("image/png");
    assertThat(
            S3ImageStore.contentType(
                new byte[] {'R', 'I', 'F', 'F', 1, 2, 3, 4, 'W', 'E', 'B', 'P', 0}))
        .isEqualTo("image/webp");
    assertThat(S3ImageStore.contentType(new byte[] {'G', 'I', 'F'}))
        .isEqualTo("application/octet-stream");
  }

  @Test
  void credentialsNeverShowTheirSecret() {
    S3Credentials key =
        S3Credentials.of("AKIAEXAMPLE", dev.fluxbot.core.Secret.of("very-secret"), null);
    assertThat(key.toString()).doesNotContain("very-secret").doesNotContain("AKIAEXAMPLE");
    assertThat(S3Credentials.defaultChain().isDefaultChain()).isTrue();
    assertThatThrownBy(() -> new S3Credentials("AKIAEXAMPLE", null, null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
