package dev.fluxbot.slack;

import com.slack.api.model.File;
import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Fetches the image files of a Slack message: {@code url_private} with the bot token in the
 * Authorization header, only from Slack's own hosts (or the configured API host), so the token
 * never goes elsewhere. The bytes go to the core as inline images; the URLs never leave this class.
 */
final class SlackFiles {
  /** The most one file may be; the core's own reference limits apply after. */
  static final long MAX_BYTES = 20L * 1024 * 1024;

  /** What is needed of a shared file; {@code toString} leaves the URL out. */
  record FileRef(String name, String mimetype, URI urlPrivate, long size) {
    @Override
    public String toString() {
      return "FileRef[" + name + ", " + mimetype + ", " + size + " bytes]";
    }
  }

  private final OkHttpClient http;
  private final Secret botToken;
  private final Set<String> trustedHosts;

  SlackFiles(OkHttpClient http, Secret botToken, Set<String> trustedHosts) {
    this.http = http;
    this.botToken = botToken;
    this.trustedHosts = Set.copyOf(trustedHosts);
  }

  /** The image files among {@code files}, in order. */
  static List<FileRef> images(List<File> files) {
    List<FileRef> out = new ArrayList<>();
    if (files == null) {
      return out;
    }
    for (File f : files) {
      String type = f.getMimetype() == null ? "" : f.getMimetype().toLowerCase(Locale.ROOT);
      if (type.startsWith("image/") && f.getUrlPrivate() != null) {
        out.add(
            new FileRef(
                f.getName() == null ? f.getId() : f.getName(),
                type,
                URI.create(f.getUrlPrivate()),
                f.getSize() == null ? -1 : f.getSize()));
      }
    }
    return out;
  }

  /**
   * Downloads every file, blocking; the labels are {@code image1 (name)}, … as the core shows them.
   */
  List<ImageSource> download(List<FileRef> files) {
    List<ImageSource> out = new ArrayList<>();
    for (FileRef f : files) {
      String label = "image" + (out.size() + 1) + " (" + f.name() + ")";
      out.add(ImageSource.bytes(label, fetch(label, f)));
    }
    return out;
  }

  private byte[] fetch(String label, FileRef f) {
    if (!trusted(f.urlPrivate())) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          label
              + ": the file is not on a Slack host, so the bot "
              + "does not fetch it with its token. Upload the image to Slack and try again.");
    }
    if (f.size() > MAX_BYTES) {
      throw tooLarge(label, f.size());
    }
    Request request =
        new Request.Builder()
            .url(f.urlPrivate().toString())
            .header("Authorization", "Bearer " + botToken.reveal())
            .build();
    try (Response r = http.newCall(request).execute()) {
      if (!r.isSuccessful()) {
        throw new UserError(
            UserError.Code.INVALID_REFERENCE,
            label
                + ": Slack would not hand over the file (HTTP "
                + r.code()
                + "). The app needs the files:read scope; reinstall it after adding the scope.");
      }
      try (InputStream in = r.body().byteStream()) {
        byte[] bytes = in.readNBytes((int) MAX_BYTES + 1);
        if (bytes.length > MAX_BYTES) {
          throw tooLarge(label, bytes.length);
        }
        return bytes;
      }
    } catch (IOException e) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          label
              + ": the download from Slack failed ("
              + e.getClass().getSimpleName()
              + "). Try again in a moment.");
    }
  }

  private boolean trusted(URI url) {
    String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
    boolean slack =
        "https".equals(url.getScheme())
            && (host.equals("slack.com")
                || host.endsWith(".slack.com")
                || host.endsWith(".slack-edge.com"));
    return slack || trustedHosts.contains(url.getScheme() + "://" + host + ":" + port(url));
  }

  static int port(URI url) {
    return url.getPort() >= 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
  }

  private static UserError tooLarge(String label, long size) {
    return new UserError(
        UserError.Code.IMAGE_TOO_LARGE,
        label
            + ": at most "
            + MAX_BYTES / (1024 * 1024)
            + " MB a reference; this one is "
            + String.format(Locale.ROOT, "%.1f", size / (1024.0 * 1024.0))
            + " MB. Share a smaller image.");
  }
}
