package dev.fluxbot.core;

import java.net.URI;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A reference image as a chat platform hands it over: not yet fetched. {@link #label()} is what
 * error messages show ("image2", a file name); the URL itself may hold a token (Telegram puts the
 * bot token in file URLs, Slack needs one in a header) and so is never shown, logged or sent on.
 */
public sealed interface ImageSource {

  /** A short name for messages: an option name or a file name, never a URL. */
  String label();

  /** The size the platform declared, if it did; checked against the cap before fetching. */
  OptionalLong declaredSize();

  /** An image at an http(s) URL, fetched with the given headers (which may hold secrets). */
  record Remote(String label, URI url, Map<String, String> headers, OptionalLong declaredSize)
      implements ImageSource {
    public Remote {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(url, "url");
      headers = Map.copyOf(headers);
      Objects.requireNonNull(declaredSize, "declaredSize");
    }

    @Override
    public String toString() {
      return "Remote[" + label + "]";
    }
  }

  /** An image already in memory (an upload, a local file read by the CLI). */
  record Inline(String label, byte[] bytes) implements ImageSource {
    public Inline {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(bytes, "bytes");
    }

    @Override
    public OptionalLong declaredSize() {
      return OptionalLong.of(bytes.length);
    }

    @Override
    public String toString() {
      return "Inline[" + label + ", " + bytes.length + " bytes]";
    }
  }

  static ImageSource url(String label, URI url) {
    return new Remote(label, url, Map.of(), OptionalLong.empty());
  }

  static ImageSource bytes(String label, byte[] bytes) {
    return new Inline(label, bytes);
  }
}
