package dev.fluxbot.core.image;

import static dev.fluxbot.core.UserError.Code.CANCELLED;
import static dev.fluxbot.core.UserError.Code.IMAGE_TOO_LARGE;
import static dev.fluxbot.core.UserError.Code.INVALID_REFERENCE;

import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.ImageType;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * Every message a reference can be refused with, in one place. Each names the source's label, the
 * rule and the value, and says what to do; none may take a URL, a query or a header value (they can
 * hold bot tokens), so nothing here accepts one.
 */
final class Refusals {
  private static final Set<String> KNOWN_SCHEMES =
      Set.of(
          "file",
          "ftp",
          "ftps",
          "sftp",
          "data",
          "blob",
          "javascript",
          "mailto",
          "jar",
          "gopher",
          "ws",
          "wss",
          "ssh",
          "smb",
          "content",
          "tg",
          "about");
  private static final String RETRY = "try again or attach the image directly";
  private static final String CHECK_LINK = "check the link or attach the image directly";

  private Refusals() {}

  static UserError notHttp(String label, String scheme) {
    String got = scheme == null ? "a URL without a scheme" : "a " + safeScheme(scheme) + " URL";
    return invalid(label, "only http(s) URLs can be used as references; got " + got);
  }

  static UserError badUrl(String label) {
    return invalid(label, "the link is not a valid http(s) URL; " + CHECK_LINK);
  }

  static UserError badHeader(String label) {
    return invalid(
        label,
        "the download could not be started because a request header is not valid; "
            + "report this to the bot's admin");
  }

  static UserError redirectNotHttp(String label, String scheme) {
    String to = scheme == null ? "an invalid URL" : "a " + safeScheme(scheme) + " URL";
    return invalid(
        label,
        "the link redirected to "
            + to
            + ", and only http(s) URLs can be used as references; "
            + "attach the image directly");
  }

  static UserError redirectWithoutTarget(String label, int status) {
    return invalid(
        label,
        "the link answered HTTP " + status + " without a valid redirect target; " + CHECK_LINK);
  }

  static UserError tooManyRedirects(String label, int max) {
    return invalid(
        label,
        "the link redirected more than "
            + max
            + (max == 1 ? " time" : " times")
            + "; attach the image directly");
  }

  static UserError httpStatus(String label, int status) {
    return invalid(label, "the download failed with HTTP " + status + "; " + CHECK_LINK);
  }

  static UserError timedOut(String label, Duration after) {
    return invalid(label, "the download timed out after " + duration(after) + "; " + RETRY);
  }

  /** The address itself is logged, not shown: it is part of the link. */
  static UserError refusedAddress(String label, String kind) {
    return invalid(
        label,
        "the link leads to "
            + kind
            + ", and references are fetched from public "
            + "addresses only (an admin can permit a host or network with references.permitted_hosts); attach the image "
            + "directly");
  }

  static UserError network(String label, String what) {
    return invalid(label, "the download failed (" + what + "); " + RETRY);
  }

  static UserError cancelled(String label) {
    return new UserError(CANCELLED, label + ": loading the image was cancelled");
  }

  static UserError unexpected(String label, Throwable t) {
    String name =
        t.getClass().getSimpleName().isEmpty()
            ? t.getClass().getName()
            : t.getClass().getSimpleName();
    return invalid(label, "the image could not be loaded (internal error: " + name + "); " + RETRY);
  }

  static UserError fileTooLarge(String label, long size, long max) {
    return tooLarge(
        label,
        "the file is "
            + moreThan(bytes(size), size, max, Refusals::bytes)
            + ", over the "
            + bytes(max)
            + " limit for references; send a smaller image");
  }

  static UserError downloadTooLarge(String label, long max) {
    return tooLarge(
        label,
        "the download is over the " + bytes(max) + " limit for references; send a smaller image");
  }

  static UserError empty(String label) {
    return invalid(label, "the file is empty; send a PNG, JPEG or WebP image");
  }

  static UserError notAnImage(String label, byte[] bytes) {
    String kind = ImageInfo.knownKind(bytes).map(k -> " (" + k + ")").orElse("");
    return invalid(
        label,
        "the file is not a PNG, JPEG or WebP image: it "
            + ImageInfo.describeMagic(bytes)
            + kind
            + "; convert it to PNG or JPEG and send it again");
  }

  static UserError unreadableHeader(String label, ImageType type) {
    return invalid(
        label,
        "the "
            + typeName(type)
            + " header could not be read (the file is cut off or damaged); "
            + "re-save or re-upload it");
  }

  static UserError tooManyPixels(String label, int width, int height, long maxPixels) {
    long pixels = (long) width * height;
    return tooLarge(
        label,
        width
            + "×"
            + height
            + " is "
            + moreThan(megapixels(pixels), pixels, maxPixels, Refusals::megapixels)
            + ", over the "
            + megapixels(maxPixels)
            + " limit for references; send a smaller image");
  }

  static UserError undecodable(String label, ImageType type, String why) {
    return invalid(
        label,
        "the " + typeName(type) + " could not be decoded (" + why + "); re-save or re-upload it");
  }

  /** A value over a limit must not read as equal to it ("20 MB, over the 20 MB limit"). */
  private static String moreThan(String shown, long value, long max, LongFunction<String> format) {
    return value > max && shown.equals(format.apply(max)) ? "more than " + shown : shown;
  }

  private static UserError invalid(String label, String text) {
    return new UserError(INVALID_REFERENCE, label + ": " + text);
  }

  private static UserError tooLarge(String label, String text) {
    return new UserError(IMAGE_TOO_LARGE, label + ": " + text);
  }

  static String typeName(ImageType type) {
    return switch (type) {
      case JPEG -> "JPEG";
      case PNG -> "PNG";
      case WEBP -> "WebP";
    };
  }

  /**
   * A well-known scheme by name; anything else stays unnamed, since a malformed link can put part
   * of a token where the scheme goes ({@code bot123:SECRET/...}).
   */
  private static String safeScheme(String scheme) {
    String s = scheme.toLowerCase(Locale.ROOT);
    return KNOWN_SCHEMES.contains(s) ? s + ":" : "non-http(s)";
  }

  /** 1 MB = 1024 × 1024 bytes, as the chat platforms count. */
  static String bytes(long n) {
    if (n < 1024) {
      return n + (n == 1 ? " byte" : " bytes");
    }
    if (n < 1024 * 1024) {
      return oneDecimal(n / 1024.0) + " KB";
    }
    return oneDecimal(n / (1024.0 * 1024.0)) + " MB";
  }

  /** 1 MP = 1024 × 1024 pixels, the unit BFL's 4 MP limit uses. */
  static String megapixels(long pixels) {
    double mp = pixels / (1024.0 * 1024.0);
    return mp < 0.1 ? pixels + " pixels" : oneDecimal(mp) + " MP";
  }

  static String duration(Duration d) {
    long ms = d.toMillis();
    return ms < 1000 ? ms + " ms" : oneDecimal(ms / 1000.0) + " s";
  }

  private static String oneDecimal(double v) {
    String s = String.format(Locale.ROOT, "%.1f", v);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }
}
