package dev.fluxbot.core.imagestore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.S3Server;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * An S3 store that cannot answer never looks empty: no server, refused credentials, a missing
 * bucket or a damaged object is an {@link ImageStore.UnavailableException} with a one-line reason,
 * and the seed cache keeps the entries whose images it could not read.
 */
class S3ImageStoreFaultTest {
  private static final byte[] FOX = "a fox, as a PNG would be".getBytes(UTF_8);
  private static final String FOX_HASH = Hashes.sha256Hex(FOX);

  @TempDir Path dir;

  private final S3Server server = S3Server.shared();
  private final String bucket = server.newBucket();
  private final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : opened.reversed()) {
      c.close();
    }
  }

  private <T extends AutoCloseable> T track(T c) {
    opened.add(c);
    return c;
  }

  private ImageStore store(URI endpoint, String bucket, S3Credentials credentials) {
    return track(
        ImageStore.s3(new S3Location(bucket, "images", endpoint, S3Server.REGION), credentials));
  }

  private ImageStore working() {
    return store(server.endpoint(), bucket, S3ImageStoreContractTest.CREDENTIALS);
  }

  private ImageStore nobodyListening() {
    return store(
        URI.create("http://127.0.0.1:" + S3Server.freePort()),
        bucket,
        S3ImageStoreContractTest.CREDENTIALS);
  }

  /** Every operation throws, saying the store, the operation and {@code why}; none answers. */
  private static void everyOperationFails(ImageStore s, String why) {
    List<ThrowingCallable> operations =
        List.of(
            () -> s.get(FOX_HASH),
            () -> s.put(FOX),
            () -> s.contains(FOX_HASH),
            () -> s.delete(FOX_HASH),
            s::check);
    for (ThrowingCallable op : operations) {
      assertThatThrownBy(op)
          .isInstanceOf(ImageStore.UnavailableException.class)
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageStartingWith("image store s3://")
          .hasMessageContaining("cannot ")
          .hasMessageContaining(why)
          .hasMessageNotContaining("\n")
          .hasMessageNotContaining(S3Server.SECRET_KEY);
    }
  }

  @Test
  void aServerThatDoesNotAnswerIsAFailureNeverAnAbsence() {
    ImageStore s = nobodyListening();
    long started = System.nanoTime();

    everyOperationFails(s, "did not answer (connection refused");

    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("a refused connection is retried briefly, not for minutes")
        .isLessThan(Duration.ofSeconds(30));
  }

  @Test
  void wrongCredentialsAreAFailureThatSaysSo() {
    working().put(FOX);
    ImageStore wrongKey =
        store(
            server.endpoint(),
            bucket,
            S3Credentials.of("someone-else", Secret.of(S3Server.SECRET_KEY), null));
    ImageStore wrongSecret =
        store(
            server.endpoint(),
            bucket,
            S3Credentials.of(S3Server.ACCESS_KEY, Secret.of("not-the-secret"), null));

    for (ImageStore s : List.of(wrongKey, wrongSecret)) {
      assertThatThrownBy(() -> s.get(FOX_HASH))
          .isInstanceOf(ImageStore.UnavailableException.class)
          .hasMessageContaining("does not accept the credentials")
          .hasMessageContaining("AWS_ACCESS_KEY_ID")
          .hasMessageNotContaining("not-the-secret");
      // a HEAD's refusal has no body to say why: access denied, still not "absent"
      assertThatThrownBy(() -> s.contains(FOX_HASH))
          .isInstanceOf(ImageStore.UnavailableException.class)
          .hasMessageContaining("HTTP 403");
      assertThatThrownBy(() -> s.put(FOX)).isInstanceOf(ImageStore.UnavailableException.class);
      assertThatThrownBy(s::check)
          .isInstanceOf(ImageStore.UnavailableException.class)
          .hasMessageContaining("does not accept the credentials");
    }
  }

  @Test
  void aMissingBucketIsAFailureForEveryReadAndWrite() {
    ImageStore s =
        store(server.endpoint(), "no-such-bucket-here", S3ImageStoreContractTest.CREDENTIALS);

    assertThatThrownBy(() -> s.get(FOX_HASH))
        .isInstanceOf(ImageStore.UnavailableException.class)
        .hasMessageContaining("the bucket no-such-bucket-here does not exist");
    assertThatThrownBy(() -> s.put(FOX))
        .isInstanceOf(ImageStore.UnavailableException.class)
        .hasMessageContaining("does not exist");
    assertThatThrownBy(s::check)
        .isInstanceOf(ImageStore.UnavailableException.class)
        .hasMessageContaining("create it, or fix the bucket");
  }

  @Test
  void anObjectThatIsNotTheImageItsNameSaysIsAFailureNotAnAbsence() {
    try (S3Client client = server.client()) {
      client.putObject(
          r -> r.bucket(bucket).key("images/" + FOX_HASH),
          RequestBody.fromBytes("something else".getBytes(UTF_8)));
    }
    assertThatThrownBy(() -> working().get(FOX_HASH))
        .isInstanceOf(ImageStore.UnavailableException.class)
        .hasMessageContaining("not the image its name says");
  }

  @Test
  void theSeedCacheKeepsAnEntryWhoseImageItCouldNotReadAndDropsOneWhoseImageIsGone() {
    MutableClock clock = new MutableClock();
    Database db = track(Database.sqlite(dir.resolve("fluxbot.db")));
    SeedCache.Settings settings = SeedCache.Settings.defaults();
    String fingerprint = Hashes.sha256Hex("request a fox".getBytes(UTF_8));
    new SeedCache(db, working(), settings, clock)
        .put(fingerprint, null, ImageType.PNG, 64, 64, FOX);

    SeedCache down = new SeedCache(db, nobodyListening(), settings, clock);
    assertThatThrownBy(() -> down.lookup(fingerprint))
        .isInstanceOf(ImageStore.UnavailableException.class);
    assertThat(rows(db))
        .as("the entry stays: its image may well be there")
        .containsExactly(fingerprint);

    // another instance (a fresh memory layer) finds it once S3 answers again
    assertThat(new SeedCache(db, working(), settings, clock).lookup(fingerprint))
        .hasValueSatisfying(hit -> assertThat(hit.bytes()).isEqualTo(FOX));

    try (S3Client client = server.client()) {
      client.deleteObject(r -> r.bucket(bucket).key("images/" + FOX_HASH));
    }
    assertThat(new SeedCache(db, working(), settings, clock).lookup(fingerprint))
        .as("the image is really gone")
        .isEmpty();
    assertThat(rows(db)).as("so its entry goes").isEmpty();
  }

  private static List<String> rows(Database db) {
    return db.read(
        c -> {
          List<String> rows = new ArrayList<>();
          try (PreparedStatement st = c.prepareStatement("SELECT fingerprint FROM seed_cache");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              rows.add(rs.getString(1));
            }
          }
          return rows;
        });
  }
}
