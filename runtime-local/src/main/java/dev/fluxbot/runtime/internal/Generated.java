package dev.fluxbot.runtime.internal;

import java.util.Objects;

/** The {@code image} line of a {@code /v1/generate} stream, its data decoded. */
public record Generated(
    byte[] data, String format, int width, int height, long seed, long elapsedMs) {
  public Generated {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(format, "format");
  }
}
