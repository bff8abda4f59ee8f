package dev.fluxbot.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The key that signs download links: {@code FLUXBOT_WEB_SECRET}, else {@code
 * <data_dir>/web-secret}, made once with owner-only permissions. Several bot instances behind one
 * public URL share the variable. The key itself is never printed; messages name only where it comes
 * from.
 */
final class WebSecret {
  static final String FILE = "web-secret";
  static final int MIN_LENGTH = 32;
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  /** The key's bytes and where they came from, for the log. */
  record Key(byte[] bytes, String source) {}

  private WebSecret() {}

  static Key load(Environment env, Path dataDir) {
    return load(env, dataDir, new SecureRandom());
  }

  static Key load(Environment env, Path dataDir, RandomGenerator random) {
    var fromEnv = env.get(Environment.WEB_SECRET);
    if (fromEnv.isPresent()) {
      String value = fromEnv.get();
      if (value.length() < MIN_LENGTH) {
        throw new FluxbotConfig.ConfigException(
            Environment.WEB_SECRET
                + ": must be at least "
                + MIN_LENGTH
                + " characters (it signs download links); it has "
                + value.length()
                + ". Make one with: openssl rand -hex 32");
      }
      return new Key(value.getBytes(StandardCharsets.UTF_8), Environment.WEB_SECRET);
    }
    Path file = dataDir.resolve(FILE);
    try {
      if (!Files.exists(file)) {
        create(file, random);
        return new Key(read(file), file + " (made now)");
      }
      checkOwnerOnly(file);
      return new Key(read(file), file.toString());
    } catch (IOException e) {
      throw new FluxbotConfig.ConfigException(
          file
              + ": cannot read or create the key that signs download links ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + "); check the folder's permissions, or set "
              + Environment.WEB_SECRET
              + ".");
    }
  }

  private static void create(Path file, RandomGenerator random) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    byte[] key = new byte[32];
    random.nextBytes(key);
    byte[] text = (HexFormat.of().formatHex(key) + "\n").getBytes(StandardCharsets.US_ASCII);
    boolean posix =
        Files.getFileStore(file.toAbsolutePath().getParent())
            .supportsFileAttributeView(PosixFileAttributeView.class);
    Path tmp = file.resolveSibling("." + FILE + "." + ProcessHandle.current().pid() + ".part");
    try {
      if (posix) {
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(OWNER_ONLY)); // owner-only before a byte is in it
      } else {
        Files.createFile(tmp);
      }
      Files.write(tmp, text);
      Files.move(
          tmp, file); // no replacing: if another process made the file first, its key is the one
    } catch (FileAlreadyExistsException e) {
      if (!Files.exists(file)) {
        throw e;
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void checkOwnerOnly(Path file) throws IOException {
    if (!Files.getFileStore(file).supportsFileAttributeView(PosixFileAttributeView.class)) {
      return;
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    if (!OWNER_ONLY.containsAll(perms)) {
      throw new FluxbotConfig.ConfigException(
          file
              + ": others may read it ("
              + PosixFilePermissions.toString(perms)
              + "), and it holds the key that signs download links. Run chmod 600 "
              + file
              + ", or delete it to make a new "
              + "key (links already sent stop working).");
    }
  }

  private static byte[] read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (text.length() < MIN_LENGTH) {
      throw new FluxbotConfig.ConfigException(
          file
              + ": the key in it is shorter than "
              + MIN_LENGTH
              + " characters; delete the file to make a new one, or set "
              + Environment.WEB_SECRET
              + ".");
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
