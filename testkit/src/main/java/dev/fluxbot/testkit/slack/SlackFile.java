package dev.fluxbot.testkit.slack;

import java.util.Objects;

/**
 * A file in the fake workspace: one a user shared (served at {@link #urlPrivate()} to requests with
 * the bot token in the Authorization header) or one the bot uploaded.
 *
 * @param channel where it was shared; null until it was
 * @param threadTs the thread it was shared into, or null
 * @param initialComment the message text shared with it, or null
 */
public record SlackFile(
    String id,
    String name,
    String title,
    String mimetype,
    byte[] bytes,
    String urlPrivate,
    String user,
    String channel,
    String threadTs,
    String initialComment) {
  public SlackFile {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(bytes, "bytes");
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public int size() {
    return bytes.length;
  }

  @Override
  public String toString() {
    return "SlackFile["
        + id
        + " "
        + name
        + " "
        + mimetype
        + " "
        + bytes.length
        + " bytes"
        + (channel == null ? "" : " in " + channel + (threadTs == null ? "" : "/" + threadTs))
        + "]";
  }
}
