package dev.fluxbot.core.imagestore;

import static dev.fluxbot.core.imagestore.PackRecord.HEADER_BYTES;
import static dev.fluxbot.core.imagestore.PackRecord.PACK_NAME;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;

/** One pack file: its records' sizes as counted, where reading stopped, a channel to read it. */
final class Pack {
  final String name;
  final Path file;
  final int writer;
  final long seq;
  final AtomicLong recordBytes = new AtomicLong();
  final AtomicLong liveBytes = new AtomicLong();

  /**
   * Where reading stopped: the end of the last whole record seen. Guarded by the scan lock (own
   * packs: append lock).
   */
  long scanned;

  long end; // own packs: where the next record goes; guarded by the append lock
  boolean own; // written by this store
  volatile boolean sealed;
  volatile boolean gone;
  volatile FileChannel channel; // for reading; opened on first use
  FileChannel writeChannel; // own, unsealed packs; guarded by the append lock

  Pack(String name, Path file, int writer) {
    this.name = name;
    this.file = file;
    this.writer = writer;
    Matcher m = PACK_NAME.matcher(name);
    this.seq = m.matches() ? Long.parseLong(m.group(2)) : -1;
    this.sealed = true;
  }

  /** Reads {@code length} bytes at {@code position}; fewer where the pack ends first. */
  byte[] read(long position, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    boolean interrupted = Thread.interrupted(); // an interrupt would close the shared channel
    try {
      for (int tries = 0; ; tries++) {
        FileChannel ch = channel();
        try {
          while (buffer.hasRemaining()) {
            int n = ch.read(buffer, position + buffer.position());
            if (n < 0) {
              break;
            }
          }
          return buffer.position() == length
              ? buffer.array()
              : Arrays.copyOf(buffer.array(), buffer.position());
        } catch (ClosedChannelException e) {
          if (gone || tries >= 2) {
            throw e;
          }
          synchronized (this) {
            if (channel == ch) {
              channel = null; // closed under us (an interrupt elsewhere): open it again
            }
          }
          buffer.clear();
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private FileChannel channel() throws IOException {
    FileChannel ch = channel;
    if (ch != null) {
      return ch;
    }
    synchronized (this) {
      if (gone) {
        throw new ClosedChannelException();
      }
      if (channel == null) {
        channel = FileChannel.open(file, StandardOpenOption.READ);
      }
      return channel;
    }
  }

  /**
   * Closes the reading channel (an own pack's is also its writing one: called once it is sealed).
   */
  synchronized void closeChannel() {
    if (channel != null) {
      closeQuietly(channel);
    }
    channel = null;
  }

  /** The records from {@code from} up to the first header that does not check out. */
  Scan records(long from, long limit) throws IOException {
    List<PackRecord> out = new ArrayList<>();
    long size = Files.size(file);
    long at = from;
    while (at + HEADER_BYTES <= size && out.size() < limit) {
      byte[] got = read(at, HEADER_BYTES);
      PackRecord r = got.length < HEADER_BYTES ? null : PackRecord.parse(at, got, size);
      if (r == null) {
        break;
      }
      out.add(r);
      at += HEADER_BYTES + (long) r.length();
    }
    return new Scan(out, at);
  }

  /** The records read, and where reading stopped. */
  record Scan(List<PackRecord> records, long end) {}

  static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // closing
    }
  }
}
