package dev.fluxbot.core.model;

import java.util.List;
import java.util.Objects;

/**
 * A request ready for a backend: its seed drawn, its size known, its references loaded.
 *
 * @param id the job's time-ordered id
 */
public record GenerationJob(String id, GenerationRequest request, List<ReferenceImage> references) {
  public GenerationJob {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(request, "request");
    references = List.copyOf(references);
    if (request.seed() == null) {
      throw new IllegalArgumentException("a job needs a seed");
    }
    if (request.size() == null) {
      throw new IllegalArgumentException("a job needs a size");
    }
    if (references.size() != request.referenceCount()) {
      throw new IllegalArgumentException(
          "expected " + request.referenceCount() + " references, got " + references.size());
    }
  }

  public long seed() {
    return request.seed();
  }
}
