package dev.fluxbot.core;

import dev.fluxbot.core.imagestore.ImageStore;
import java.util.ArrayList;
import java.util.List;

/** A job's stored images (its references, its own image) read back as sources for a new job. */
final class StoredImages {
  private StoredImages() {}

  /**
   * Stored images as sources, named {@code <what>1}, {@code <what>2}…
   *
   * @param what {@code "image"} (a job's own image) or {@code "reference"}
   */
  static List<ImageSource> of(ImageStore images, List<String> hashes, String what) {
    List<ImageSource> sources = new ArrayList<>();
    boolean itsImage = what.equals("image");
    for (int i = 0; i < hashes.size(); i++) {
      String hash = hashes.get(i);
      byte[] bytes =
          images
              .get(hash)
              .orElseThrow(
                  () ->
                      UserError.of(
                          UserError.Code.INVALID_REFERENCE,
                          itsImage ? "error.store.image_gone" : "error.store.references_gone"));
      sources.add(ImageSource.bytes(what + (i + 1), bytes));
    }
    return sources;
  }
}
