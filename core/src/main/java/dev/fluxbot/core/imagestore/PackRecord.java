package dev.fluxbot.core.imagestore;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * One record's header as read back, and the format of a record: a 72-byte header (magic, kind,
 * payload length, the SHA-256, for a tombstone the record it deletes, and a CRC32C of the header)
 * and, for an image, its bytes. Packs are named {@code <writer>-<seq>.pack}.
 */
record PackRecord(
    long offset, byte kind, int length, String hash, String targetPack, long targetOffset) {
  static final int MAGIC = 0x46585031; // "FXP1"
  static final byte IMAGE = 1;
  static final byte TOMBSTONE = 2;
  static final int HEADER_BYTES = 72;

  static final Pattern PACK_NAME = Pattern.compile("(\\d{1,9})-(\\d{1,18})\\.pack");
  static final HexFormat HEX = HexFormat.of();

  static String packName(int writer, long seq) {
    return writer + "-" + seq + ".pack";
  }

  /** The header of a record; a tombstone's names the record it deletes. */
  static ByteBuffer header(byte kind, int length, byte[] hash, Loc target) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
    b.putInt(0, MAGIC);
    b.put(4, kind);
    b.putInt(8, length);
    if (target != null) {
      b.putLong(16, target.offset());
      b.putInt(56, target.pack().writer);
      b.putLong(60, target.pack().seq);
    }
    b.put(24, hash);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, 68);
    b.putInt(68, (int) crc.getValue());
    return b;
  }

  /**
   * The record whose header {@code got} was read at {@code at} of a pack of {@code size} bytes, or
   * null where the header does not check out or its payload runs past the end.
   */
  static PackRecord parse(long at, byte[] got, long size) {
    ByteBuffer h = ByteBuffer.wrap(got);
    CRC32C crc = new CRC32C();
    crc.update(got, 0, 68);
    byte kind = h.get(4);
    int length = h.getInt(8);
    if (h.getInt(0) != MAGIC
        || h.getInt(68) != (int) crc.getValue()
        || length < 0
        || (kind != IMAGE && kind != TOMBSTONE)
        || at + HEADER_BYTES + (long) length > size) {
      return null;
    }
    String hash = HEX.formatHex(got, 24, 56);
    String targetPack = kind == TOMBSTONE ? packName(h.getInt(56), h.getLong(60)) : null;
    return new PackRecord(
        at, kind, length, hash, targetPack, kind == TOMBSTONE ? h.getLong(16) : -1);
  }
}
