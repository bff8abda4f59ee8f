package dev.fluxbot.core.imagestore;

import java.util.Arrays;

/** Where one record is: its pack, its header's offset, its payload's length. */
record Loc(Pack pack, long offset, int length) {
  boolean sameRecord(Loc other) {
    return pack == other.pack && offset == other.offset;
  }

  /** The record's bytes in its pack, header included. */
  long size() {
    return PackRecord.HEADER_BYTES + (long) length;
  }

  static int indexOf(Loc[] locs, Loc loc) {
    for (int i = 0; i < locs.length; i++) {
      if (locs[i].sameRecord(loc)) {
        return i;
      }
    }
    return -1;
  }

  static Loc[] without(Loc[] locs, Loc loc) {
    int i = indexOf(locs, loc);
    if (i < 0) {
      return locs;
    }
    Loc[] rest = new Loc[locs.length - 1];
    System.arraycopy(locs, 0, rest, 0, i);
    System.arraycopy(locs, i + 1, rest, i, locs.length - i - 1);
    return rest;
  }

  static Loc[] concat(Loc[] a, Loc[] b) {
    Loc[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
