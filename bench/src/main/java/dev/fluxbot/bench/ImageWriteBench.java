package dev.fluxbot.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the image store's write costs with each way of making it durable: a new 16 KB file written
 * to a temporary name in a two-level folder and renamed into place, as DiskImageStore does it,
 * forced with {@code force(true)} (fsync: what it does today), {@code force(false)} (fdatasync), or
 * not at all (the page cache only: the floor).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ImageWriteBench {
  @Param({"fsync", "fdatasync", "none"})
  public String force;

  private Path dir;
  private byte[] image;
  private long next;

  @Setup(Level.Trial)
  public void open() {
    dir = Fixtures.tempDir("image-write");
    image = new byte[InstantBackend.IMAGE_BYTES];
    new SplittableRandom(42).nextBytes(image);
  }

  @TearDown(Level.Trial)
  public void close() {
    Fixtures.deleteTree(dir);
  }

  @Benchmark
  public Path writeNewImage() throws IOException {
    String name = String.format("%016x", ++next);
    Path folder = dir.resolve(name.substring(14));
    Files.createDirectories(folder);
    Path temp = Files.createTempFile(folder, ".tmp-", ".part");
    try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(image);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      switch (force) {
        case "fsync" -> out.force(true);
        case "fdatasync" -> out.force(false);
        default -> {}
      }
    }
    return Files.move(temp, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }
}
