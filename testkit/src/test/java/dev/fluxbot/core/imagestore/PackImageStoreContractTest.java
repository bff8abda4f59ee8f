package dev.fluxbot.core.imagestore;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The contract on the local store: pack files in a folder. */
class PackImageStoreContractTest extends ImageStoreContract {
  @TempDir Path dir;

  @Override
  ImageStore newStore() {
    return ImageStore.onDisk(dir.resolve("images"));
  }

  @Override
  ImageStore sameImages() {
    return ImageStore.onDisk(dir.resolve("images"));
  }
}
