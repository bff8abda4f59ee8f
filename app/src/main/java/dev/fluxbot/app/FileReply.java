package dev.fluxbot.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * The CLI's reply: progress on stderr, the image into a file. Its address (a file, or a folder for
 * the default name) is stored with the job, so {@code fluxbot jobs resume} can deliver it after a
 * crash.
 */
final class FileReply implements ChatReply {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Path dir;
  private final PrintWriter err;
  private final boolean chatty;
  private volatile Path written;

  private FileReply(Path file, Path dir, PrintWriter err, boolean chatty) {
    this.file = file;
    this.dir = dir;
    this.err = err;
    this.chatty = chatty;
  }

  /**
   * Into {@code file}, or {@code fluxbot-<job id>.<format>} in the working folder when it is null.
   */
  static FileReply to(Path file, PrintWriter err, boolean chatty) {
    return new FileReply(
        file == null ? null : file.toAbsolutePath(), Path.of("").toAbsolutePath(), err, chatty);
  }

  /**
   * Rebuilt from a stored address; null where the address is not a file's (another platform's job).
   */
  static FileReply fromAddress(String address, PrintWriter err) {
    if (address == null) {
      return null;
    }
    try {
      JsonNode a = JSON.readTree(address);
      if (!"file".equals(a.path("kind").asText())) {
        return null;
      }
      Path file = a.hasNonNull("path") ? Path.of(a.get("path").asText()) : null;
      return new FileReply(file, Path.of(a.path("dir").asText(".")), err, true);
    } catch (IOException e) {
      return null;
    }
  }

  String address() {
    var o = JSON.createObjectNode().put("kind", "file").put("dir", dir.toString());
    if (file != null) {
      o.put("path", file.toString());
    }
    return o.toString();
  }

  /** Where the image went, once it did. */
  Path written() {
    return written;
  }

  @Override
  public void accepted(String jobId, GenerationRequest request) {
    if (chatty) {
      err.println(
          "Job "
              + jobId
              + ": "
              + request.model().id()
              + ", "
              + (request.size() == null ? "size of the first reference" : request.size())
              + ", seed "
              + request.seed());
    }
  }

  @Override
  public void queued(int position) {
    if (chatty) {
      err.println("Queued #" + position);
    }
  }

  @Override
  public void progress(Progress p) {
    if (!chatty) {
      return;
    }
    String label =
        switch (p.stage()) {
          case ENHANCING -> "Enhancing the prompt";
          case WAITING_FOR_SLOT -> "Waiting for a free slot";
          case SUBMITTED -> "Submitted";
          case QUEUED -> "Queued";
          case REASONING -> "Reasoning";
          case GENERATING -> "Generating";
          case DOWNLOADING -> "Downloading";
          case RETRYING -> "Retrying";
        };
    String percent =
        Double.isNaN(p.fraction()) ? "" : String.format(Locale.ROOT, " %.0f%%", p.fraction() * 100);
    String detail =
        p.detail().isEmpty() || p.detail().equalsIgnoreCase(label) ? "" : " (" + p.detail() + ")";
    err.println(label + percent + detail);
  }

  @Override
  public void image(ImageReply reply) {
    Path target =
        file != null
            ? file
            : dir.resolve("fluxbot-" + reply.jobId() + "." + reply.result().type().extension());
    try {
      write(target, reply.result().image(), reply.jobId());
      written = target;
    } catch (IOException e) {
      err.println("fluxbot: cannot write " + target + ": " + e.getMessage());
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void failed(UserError error) {}

  /**
   * Writes {@code bytes} beside {@code target}, then moves them there: a reader never sees half an
   * image. The file gets the umask's mode.
   *
   * @param tag makes the temporary name unique, e.g. the job id
   */
  static void write(Path target, byte[] bytes, String tag) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = parent.resolve("." + target.getFileName() + "." + tag + ".part");
    try {
      Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
