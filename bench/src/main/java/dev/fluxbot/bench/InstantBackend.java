package dev.fluxbot.bench;

import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A backend that answers at once with a small pre-made image, so what a benchmark times is the
 * pipeline around it. {@code unique}: each job's image differs (its seed in the last 8 bytes), so
 * every job stores a new file, as real images would; otherwise every job returns the same bytes.
 */
final class InstantBackend implements ImageBackend {
  static final int IMAGE_BYTES = Fixtures.IMAGE_BYTES;

  private final byte[] image;
  private final boolean unique;

  InstantBackend(boolean unique) {
    this.image = new byte[IMAGE_BYTES];
    new SplittableRandom(42).nextBytes(image);
    this.unique = unique;
  }

  @Override
  public String name() {
    return "instant";
  }

  @Override
  public Optional<String> refusal(GenerationRequest request) {
    return Optional.empty();
  }

  @Override
  public GenerationResult generate(GenerationJob job, ProgressListener progress) {
    byte[] bytes = image;
    if (unique) {
      bytes = image.clone();
      ByteBuffer.wrap(bytes).putLong(bytes.length - Long.BYTES, job.seed());
    }
    return new GenerationResult(
        bytes,
        ImageType.JPEG,
        job.request().size().width(),
        job.request().size().height(),
        job.seed(),
        null,
        name(),
        null,
        Duration.ZERO);
  }
}
