package dev.fluxbot.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One part of a {@code multipart/form-data} request to the fake Discord.
 *
 * @param name the form field, e.g. {@code payload_json} or {@code files[0]}
 * @param filename null for a part that is not a file
 * @param contentType null when the part declared none
 */
public record DiscordPart(String name, String filename, String contentType, byte[] bytes) {
  public DiscordPart {
    Objects.requireNonNull(name, "name");
    bytes = bytes.clone();
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public int size() {
    return bytes.length;
  }

  public String text() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Whether this is a {@code files[n]} part. */
  public boolean isFile() {
    return filename != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DiscordPart p
        && name.equals(p.name)
        && Objects.equals(filename, p.filename)
        && Objects.equals(contentType, p.contentType)
        && Arrays.equals(bytes, p.bytes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, filename, contentType, Arrays.hashCode(bytes));
  }

  @Override
  public String toString() {
    return "DiscordPart["
        + name
        + (filename == null ? "" : ", " + filename)
        + ", "
        + contentType
        + ", "
        + bytes.length
        + " bytes]";
  }
}
