package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.image.ReferenceLoader;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class ImagineServiceTest {
  private final Requester alice = Requester.cli("alice");
  private final RecordingBackend backend = new RecordingBackend();
  private final RecordingReply reply = new RecordingReply();
  private final ImagineService service = service(List.of(backend));

  private static ImagineService service(List<ImageBackend> backends) {
    return new ImagineService(new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults()),
        new ReferenceLoader(new OkHttpClient(), ReferenceLoader.Limits.defaults()), new BackendRouter(backends),
        SeedHistory.inMemory(), InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z")), new Random(7));
  }

  private ImagineCommand command(String text, ImageSource... refs) {
    return new ImagineCommand(alice, text, Map.of(), List.of(refs));
  }

  @Test
  void aSeedIsDrawnRememberedAndReusedBySeedLast() {
    ImageReply first = service.imagine(command("a fox"), reply);
    long seed = first.request().seed();
    assertThat(seed).isBetween(0L, GenerationRequest.MAX_SEED);
    assertThat(first.result().seed()).isEqualTo(seed);
    ImageReply again = service.imagine(command("a fox in snow --seed last"), reply);
    assertThat(again.request().seed()).isEqualTo(seed);
    assertThat(backend.jobs).hasSize(2);
    assertThat(backend.jobs.get(1).seed()).isEqualTo(seed);
  }

  @Test
  void seedLastWithoutHistoryIsAClearError() {
    UserError e = catchThrowableOfType(UserError.class, () -> service.imagine(command("fox --seed last"), reply));
    assertThat(e.getMessage()).startsWith("--seed last: you have no earlier image");
    assertThat(reply.events).containsExactly("failed INVALID_OPTION");
    assertThat(backend.jobs).isEmpty();
  }

  @Test
  void repliesArriveInOrder() {
    ImageReply done = service.imagine(command("a fox --seed 5 --ar 16:9"), reply);
    assertThat(reply.events).containsExactly("accepted " + done.jobId(), "progress GENERATING", "image " + done.jobId());
    assertThat(done.actions()).containsExactly(ImageReply.FollowUp.values());
    assertThat(done.request().size()).isEqualTo(new ImageSize(1344, 768));
    assertThat(done.jobId()).hasSize(26);
  }

  @Test
  void withoutASizeTheOutputTakesTheFirstReferencesRatio() throws IOException {
    service.imagine(command("the same fox", ImageSource.bytes("a.png", png(1600, 900)), ImageSource.bytes("b.png", png(10, 30))), reply);
    GenerationJob job = backend.jobs.get(0);
    assertThat(job.request().size()).isEqualTo(new ImageSize(1344, 768));
    assertThat(job.references()).extracting(ReferenceImage::label).containsExactly("a.png", "b.png");

    service.imagine(command("tall fox --res 2k", ImageSource.bytes("t.png", png(300, 400))), reply);
    assertThat(backend.jobs.get(1).request().size()).isEqualTo(new ImageSize(1536, 2048));

    service.imagine(command("a ratio past 1:4 is clamped", ImageSource.bytes("s.png", png(100, 1000))), reply);
    assertThat(backend.jobs.get(2).request().size()).isEqualTo(new ImageSize(512, 2048));
  }

  @Test
  void noBackendMeansAnErrorListingWhatWasTried() {
    ImageBackend off = new RecordingBackend() {
      @Override
      public String name() {
        return "local-klein";
      }

      @Override
      public Optional<String> refusal(GenerationRequest request) {
        return Optional.of("no healthy worker");
      }
    };
    ImagineService none = service(List.of(off));
    UserError e = catchThrowableOfType(UserError.class, () -> none.imagine(command("fox"), reply));
    assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_UNAVAILABLE);
    assertThat(e.getMessage()).isEqualTo("No image backend can run klein-4b right now. Tried: local-klein: no healthy worker.");
    UserError empty = catchThrowableOfType(UserError.class, () -> service(List.of()).imagine(command("fox"), reply));
    assertThat(empty.getMessage()).endsWith("Tried: none are configured.");
  }

  @Test
  void theFirstBackendThatServesWins() {
    RecordingBackend second = new RecordingBackend();
    ImageBackend declines = new RecordingBackend() {
      @Override
      public Optional<String> refusal(GenerationRequest request) {
        return request.model().local() ? Optional.of("busy") : Optional.empty();
      }
    };
    ImagineService s = service(List.of(declines, second));
    s.imagine(command("fox --model klein"), reply);
    assertThat(second.jobs).hasSize(1);
  }

  @Test
  void anUnexpectedCrashBecomesAPoliteErrorWithTheJobId() {
    ImageBackend broken = new RecordingBackend() {
      @Override
      public GenerationResult generate(GenerationJob job, ProgressListener progress) {
        throw new IllegalStateException("boom");
      }
    };
    UserError e = catchThrowableOfType(UserError.class, () -> service(List.of(broken)).imagine(command("fox"), reply));
    assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_FAILED);
    assertThat(e.getMessage()).startsWith("Something went wrong on our side (job ").doesNotContain("boom");
    assertThat(reply.events).last().isEqualTo("failed BACKEND_FAILED");
  }

  @Test
  void jobIdsSortByTime() {
    Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
    JobIds ids = new JobIds(() -> now[0], new Random(1));
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      made.add(ids.next());
      now[0] = now[0].plus(Duration.ofMillis(1 + i % 3));
    }
    assertThat(made).isSorted().doesNotHaveDuplicates().allMatch(id -> id.matches("[0-9A-HJKMNP-TV-Z]{26}"));
  }

  static byte[] png(int w, int h) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
    return out.toByteArray();
  }

  static class RecordingBackend implements ImageBackend {
    final List<GenerationJob> jobs = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "test";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      jobs.add(job);
      progress.onProgress(new Progress(Progress.Stage.GENERATING, 0.5, "Generating"));
      try {
        byte[] image = png(job.request().size().width(), job.request().size().height());
        return new GenerationResult(image, ImageType.PNG, job.request().size().width(), job.request().size().height(),
            job.seed(), BigDecimal.ONE, name(), "t-" + jobs.size(), Duration.ofMillis(5));
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
  }

  static final class RecordingReply implements ChatReply {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void accepted(String jobId, GenerationRequest request) {
      events.add("accepted " + jobId);
    }

    @Override
    public void queued(int position) {
      events.add("queued " + position);
    }

    @Override
    public void progress(Progress progress) {
      events.add("progress " + progress.stage());
    }

    @Override
    public void image(ImageReply r) {
      events.add("image " + r.jobId());
    }

    @Override
    public void failed(UserError error) {
      events.add("failed " + error.code());
    }
  }
}
