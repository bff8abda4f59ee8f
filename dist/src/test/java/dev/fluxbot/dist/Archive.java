package dev.fluxbot.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/** The release archive {@code verify} built, and a fresh copy of it unpacked. */
final class Archive {
  private Archive() {}

  static String version() {
    return System.getProperty("fluxbot.version");
  }

  static Path file() {
    return Path.of(System.getProperty("fluxbot.archive"));
  }

  /** The archive's top folder, {@code fluxbot-VERSION}. */
  static String base() {
    return "fluxbot-" + version();
  }

  /**
   * Unpacks the archive under {@code parent} (made readable by everyone, so a program run as nobody
   * can use it) and returns its top folder.
   */
  static Path unpack(Path parent) throws Exception {
    Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
    Processes.Result r =
        Processes.run(
            parent,
            Map.of("PATH", "/usr/bin:/bin"),
            List.of("tar", "-xzf", file().toString(), "-C", parent.toString()));
    if (r.code() != 0) {
      throw new IOException("tar could not unpack " + file() + ": " + r);
    }
    Path home = parent.resolve(base());
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
    return home;
  }
}
