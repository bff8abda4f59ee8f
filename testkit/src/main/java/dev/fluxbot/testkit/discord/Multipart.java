package dev.fluxbot.testkit.discord;

import dev.fluxbot.testkit.DiscordPart;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code multipart/form-data} parser (RFC 7578), enough for what OkHttp's MultipartBody writes.
 */
final class Multipart {
  private static final Pattern BOUNDARY =
      Pattern.compile("boundary=(\"?)([^\";]+)\\1", Pattern.CASE_INSENSITIVE);
  private static final Pattern NAME =
      Pattern.compile("(?:^|;)\\s*name=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private static final Pattern FILENAME =
      Pattern.compile(";\\s*filename=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};

  private Multipart() {}

  /** The boundary of a multipart content type, if it is one. */
  static Optional<String> boundary(String contentType) {
    if (contentType == null
        || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      return Optional.empty();
    }
    Matcher m = BOUNDARY.matcher(contentType);
    return m.find() ? Optional.of(m.group(2)) : Optional.empty();
  }

  /** The parts of a body; a malformed body throws {@link IllegalArgumentException}. */
  static List<DiscordPart> parse(byte[] body, String boundary) {
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    List<DiscordPart> parts = new ArrayList<>();
    int at = indexOf(body, delimiter, 0);
    if (at < 0) throw new IllegalArgumentException("no boundary " + boundary + " in the body");
    while (true) {
      int lineEnd = at + delimiter.length;
      if (lineEnd + 1 < body.length && body[lineEnd] == '-' && body[lineEnd + 1] == '-')
        return parts;
      int headersStart = lineEnd + 2;
      int headersEnd = indexOf(body, HEADER_END, headersStart);
      if (headersEnd < 0) throw new IllegalArgumentException("a part has no end of headers");
      int next =
          indexOf(
              body, ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1), headersEnd + 4);
      if (next < 0) throw new IllegalArgumentException("a part has no closing boundary");
      String headers =
          new String(body, headersStart, headersEnd - headersStart, StandardCharsets.UTF_8);
      parts.add(part(headers, Arrays.copyOfRange(body, headersEnd + 4, next)));
      at = next + 2;
    }
  }

  private static DiscordPart part(String headerBlock, byte[] content) {
    String disposition = null;
    String type = null;
    for (String line : headerBlock.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) continue;
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      if (name.equals("content-disposition")) disposition = value;
      if (name.equals("content-type")) type = value;
    }
    if (disposition == null)
      throw new IllegalArgumentException("a part has no Content-Disposition");
    Matcher name = NAME.matcher(disposition);
    if (!name.find()) throw new IllegalArgumentException("a part has no name: " + disposition);
    Matcher filename = FILENAME.matcher(disposition);
    return new DiscordPart(
        name.group(1), filename.find() ? decode(filename.group(1)) : null, type, content);
  }

  /** OkHttp writes a quote in a filename as %22 and a line break as %0A/%0D. */
  private static String decode(String filename) {
    return filename.replace("%22", "\"").replace("%0A", "\n").replace("%0D", "\r");
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }
}
