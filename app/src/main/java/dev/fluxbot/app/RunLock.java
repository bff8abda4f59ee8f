package dev.fluxbot.app;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One bot per SQLite database: {@code run} holds an OS lock on a file beside the database for as
 * long as it runs (the OS drops it when the process dies, however it dies). A second {@code run} on
 * the same file is refused; one-shot commands ({@code imagine}, {@code jobs}, {@code quota}) do not
 * take it and keep working beside the bot. Several instances need PostgreSQL.
 */
final class RunLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock for the SQLite database {@code database}.
   *
   * @throws FluxbotConfig.ConfigException when another bot holds it, or the file cannot be made
   */
  static RunLock take(Path database) {
    Path file = database.resolveSibling(database.getFileName() + ".run-lock");
    FileChannel channel = null;
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        channel.close();
        throw busy(database);
      }
      return new RunLock(channel, lock);
    } catch (OverlappingFileLockException e) {
      closeQuietly(channel);
      throw busy(database);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new FluxbotConfig.ConfigException(
          "cannot lock " + file + " (" + e.getMessage() + "); check the data folder's permissions");
    }
  }

  private static FluxbotConfig.ConfigException busy(Path database) {
    return new FluxbotConfig.ConfigException(
        "another bot is running on the database "
            + database.toAbsolutePath()
            + "; stop it first (one-shot commands such as 'jobs list' work beside it), give this"
            + " one its own data folder (storage.data_dir), or use PostgreSQL"
            + " (FLUXBOT_DATABASE_URL) for several instances");
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing to release
      }
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException ignored) {
      // the OS drops the lock with the process anyway
    }
  }
}
