package dev.fluxbot.runtime.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The Python worker package ({@code fluxbot_klein}) shipped as resources of this jar, extracted to
 * {@code <dataDir>/worker/<hash of its contents>/fluxbot_klein/}: a new fluxbot with a new worker
 * gets a new folder, and the same one is reused across starts.
 */
final class WorkerPackage {
  static final String NAME = "fluxbot_klein";

  private WorkerPackage() {}

  /**
   * Extracts the package (unless that version already is) and returns the folder to put on {@code
   * PYTHONPATH}, the one holding {@code fluxbot_klein/}.
   */
  static Path extract(Path dataDir) {
    Map<String, byte[]> files = read();
    Path root =
        dataDir
            .toAbsolutePath()
            .resolve("worker")
            .resolve(hash(files)); // PYTHONPATH must not depend on the cwd
    if (Files.isRegularFile(root.resolve(NAME).resolve("__init__.py"))) {
      return root;
    }
    try {
      Files.createDirectories(root.getParent());
      Path staging = Files.createTempDirectory(root.getParent(), ".extract-");
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Path target = staging.resolve(NAME).resolve(f.getKey());
        Files.createDirectories(target.getParent());
        Files.write(target, f.getValue());
      }
      try {
        Files.move(staging, root, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        if (!Files.isDirectory(
            root)) { // another process extracted the same version meanwhile: fine
          throw e;
        }
      }
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the worker package into " + root, e);
    }
  }

  /** The package's files (path below {@code fluxbot_klein/} → bytes), sorted by path. */
  static Map<String, byte[]> read() {
    URL marker = WorkerPackage.class.getClassLoader().getResource(NAME + "/__init__.py");
    if (marker == null) {
      throw new IllegalStateException(
          NAME + "/__init__.py is missing from the fluxbot-runtime-local jar");
    }
    try {
      URI uri = marker.toURI();
      if (uri.getScheme().equals("jar")) {
        try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
          return files(jar.getPath("/" + NAME));
        } catch (java.nio.file.FileSystemAlreadyExistsException e) {
          return files(
              FileSystems.getFileSystem(uri).getPath("/" + NAME)); // someone else's: left open
        }
      }
      return files(Path.of(uri).getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the worker package from " + marker, e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot read the worker package from " + marker, e);
    }
  }

  private static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        String rel = dir.relativize(p).toString().replace('\\', '/');
        if (rel.contains("__pycache__") || rel.endsWith(".pyc")) {
          continue;
        }
        try (InputStream in = Files.newInputStream(p)) {
          files.put(rel, in.readAllBytes());
        }
      }
    }
    return files;
  }

  static String hash(Map<String, byte[]> files) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      files.forEach(
          (path, bytes) -> {
            sha.update(path.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(
                Long.toString(bytes.length).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(bytes);
          });
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is in every JDK", e);
    }
  }
}
