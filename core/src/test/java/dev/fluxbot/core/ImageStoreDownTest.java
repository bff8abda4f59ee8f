package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.imagestore.S3Credentials;
import dev.fluxbot.core.imagestore.S3Location;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job whose image the store cannot take (S3 that does not answer) fails with a message that says
 * so, and its credits come back; the backend's work is not charged to the user.
 */
class ImageStoreDownTest {
  private static final QuotaService.Settings QUOTA =
      new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 2, null);

  private final Requester alice =
      new Requester("discord", "alice", "Alice", "guild1", Set.of(), false);
  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));
  private final ImagineServiceTest.RecordingReply reply = new ImagineServiceTest.RecordingReply();
  private final List<AutoCloseable> open = new ArrayList<>();

  @TempDir Path dir;

  private Database db;

  @BeforeEach
  void openDb() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
    db.close();
  }

  private ImagineService service(ImageStore images) {
    FluxbotCore core =
        FluxbotCore.builder(db)
            .images(images)
            .backends(new ImagineServiceTest.FakeBackend())
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .quotaSettings(QUOTA)
            .imagineSettings(new ImagineService.Settings(1000, 0, List.of()))
            .clock(clock)
            .random(new Random(7))
            .build();
    open.add(core);
    return core.imagine();
  }

  private static ImageStore deadS3() {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ImageStore.s3(
        new S3Location("images", "fluxbot", URI.create("http://127.0.0.1:" + port), null),
        S3Credentials.of("key", dev.fluxbot.core.Secret.of("secret"), null));
  }

  private ImageReply imagine(ImagineService s, String text) {
    return s.imagine(new ImagineCommand(alice, text, Map.of(), List.of()), reply, "{}");
  }

  private QuotaService.Status quota() {
    return new QuotaService(db, QUOTA, clock).status(alice);
  }

  private JobStore.Job onlyJob() {
    List<JobStore.Job> jobs = new JobStore(db, ModelCatalog.builtIn(), clock).list(null, null, 10);
    assertThat(jobs).hasSize(1);
    return jobs.get(0);
  }

  @Test
  void anImageTheS3StoreCannotTakeFailsTheJobAndRefundsItsCredits() {
    ImageStore s3 = deadS3();
    open.add(s3);
    ImagineService s = service(s3);

    UserError e = catchThrowableOfType(UserError.class, () -> imagine(s, "a fox --model pro"));

    assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_UNAVAILABLE);
    assertThat(e.getMessage())
        .isEqualTo(JobPipeline.IMAGE_NOT_STORED)
        .contains("could not be stored")
        .contains("credits were returned");
    assertThat(e).hasCauseInstanceOf(ImageStore.UnavailableException.class);
    assertThat(reply.events).last().isEqualTo("failed BACKEND_UNAVAILABLE");
    assertThat(quota().spentMilli()).as("nothing charged").isZero();
    assertThat(quota().reservedMilli()).as("nothing held").isZero();
    JobStore.Job job = onlyJob();
    assertThat(job.state()).isEqualTo(JobStore.State.FAILED);
    assertThat(job.imageHash()).isNull();
  }

  /** The local store, whose {@code contains} fails while {@code failing} is set. */
  private static final class FlakyStore implements ImageStore {
    final ImageStore inner;
    final AtomicBoolean failing = new AtomicBoolean();

    FlakyStore(ImageStore inner) {
      this.inner = inner;
    }

    private void maybeFail() {
      if (failing.get()) {
        throw new ImageStore.UnavailableException("image store: cannot look up (test)", null);
      }
    }

    @Override
    public String put(byte[] bytes) {
      return inner.put(bytes);
    }

    @Override
    public Optional<byte[]> get(String hash) {
      return inner.get(hash);
    }

    @Override
    public boolean delete(String hash) {
      return inner.delete(hash);
    }

    @Override
    public boolean contains(String hash) {
      maybeFail();
      return inner.contains(hash);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  @Test
  void aStoreThatFailsInsideTheJobsLastTransactionRollsItBackAndRefunds() {
    FlakyStore store = new FlakyStore(ImageStore.onDisk(dir.resolve("images")));
    open.add(store);
    store.failing.set(true); // the seed cache's check of the stored image, in the transaction
    ImagineService s = service(store);

    UserError e = catchThrowableOfType(UserError.class, () -> imagine(s, "a fox --model pro"));

    assertThat(e.getMessage()).isEqualTo(JobPipeline.IMAGE_NOT_STORED);
    assertThat(quota().spentMilli()).isZero();
    assertThat(quota().reservedMilli()).isZero();
    assertThat(onlyJob().state()).isEqualTo(JobStore.State.FAILED);
  }

  @Test
  void aFailedCheckAfterTheJobWasRecordedStillDeliversTheImage() {
    FlakyStore store = new FlakyStore(ImageStore.onDisk(dir.resolve("images")));
    open.add(store);
    store.failing.set(true); // a preview is not cached: contains() runs only after the commit
    ImagineService s = service(store);

    ImageReply r = imagine(s, "a fox --model pro-preview");

    assertThat(r.result().image()).isNotEmpty();
    assertThat(reply.events).last().isEqualTo("image false");
    JobStore.Job job = onlyJob();
    assertThat(job.state()).isEqualTo(JobStore.State.SUCCEEDED);
    assertThat(quota().spentMilli()).as("charged once, as recorded").isEqualTo(job.costMilli());
  }
}
