package dev.fluxbot.core.image;

import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Fetches a remote reference's bytes: http(s) only, redirects followed by hand (so each hop's
 * scheme is checked and the source's headers never leave its origin), the size capped while
 * reading, and one deadline over all hops. No URL, query or header value reaches a message.
 */
final class Downloader {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Downloader.class);
  private static final Pattern SCHEME = Pattern.compile("^\\s*([A-Za-z][A-Za-z0-9+.-]*):");

  private final OkHttpClient http;
  private final ReferenceLoader.Limits limits;
  private final AddressPolicy addresses;

  /**
   * {@code http} must not follow redirects itself and must enforce {@code addresses}; the loader
   * builds it so.
   */
  Downloader(OkHttpClient http, ReferenceLoader.Limits limits, AddressPolicy addresses) {
    this.http = http;
    this.limits = limits;
    this.addresses = addresses;
  }

  byte[] download(ImageSource.Remote source) {
    String label = source.label();
    HttpUrl url = startUrl(source);
    HttpUrl origin = url;
    Map<String, String> headers = source.headers();
    long deadline = System.nanoTime() + limits.callTimeout().toNanos();
    for (int redirects = 0; ; redirects++) {
      if (!sameOrigin(origin, url)) {
        headers =
            Map.of(); // like a browser's Authorization: never sent to another origin, nor after it
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw Refusals.timedOut(label, limits.callTimeout());
      }
      addresses
          .refusalOfLiteral(url.host())
          .ifPresent(
              r -> {
                throw refusedAddress(
                    label, r); // an IP literal, first hop or redirect: refused before connecting
              });
      Call call = http.newCall(request(label, url, headers));
      call.timeout().timeout(remaining, TimeUnit.NANOSECONDS);
      try (Response response = call.execute()) {
        if (!response.isRedirect()) {
          return body(label, response);
        }
        if (redirects >= limits.maxRedirects()) {
          throw Refusals.tooManyRedirects(label, limits.maxRedirects());
        }
        url = redirectTarget(label, url, response);
      } catch (IOException e) {
        throw failure(label, e);
      }
    }
  }

  private HttpUrl startUrl(ImageSource.Remote source) {
    String scheme = source.url().getScheme();
    if (scheme == null || !isHttp(scheme)) {
      throw Refusals.notHttp(source.label(), scheme);
    }
    long declared = source.declaredSize().orElse(-1);
    if (declared > limits.maxBytes()) {
      throw Refusals.fileTooLarge(source.label(), declared, limits.maxBytes());
    }
    HttpUrl url = HttpUrl.parse(source.url().toString());
    if (url == null) {
      throw Refusals.badUrl(source.label());
    }
    return url;
  }

  private static Request request(String label, HttpUrl url, Map<String, String> headers) {
    Request.Builder builder = new Request.Builder().url(url).get();
    try {
      headers.forEach(builder::header);
    } catch (IllegalArgumentException e) {
      throw Refusals.badHeader(label); // OkHttp's own message may quote the value
    }
    return builder.build();
  }

  private static HttpUrl redirectTarget(String label, HttpUrl from, Response response) {
    String location = response.header("Location");
    if (location == null || location.isBlank()) {
      throw Refusals.redirectWithoutTarget(label, response.code());
    }
    Matcher scheme = SCHEME.matcher(location);
    if (scheme.find() && !isHttp(scheme.group(1))) {
      throw Refusals.redirectNotHttp(label, scheme.group(1));
    }
    HttpUrl target = from.resolve(location);
    if (target == null) {
      throw Refusals.redirectNotHttp(label, null);
    }
    return target;
  }

  /** A 2xx body read with a running count: never more than the cap plus one byte is held. */
  private byte[] body(String label, Response response) throws IOException {
    if (!response.isSuccessful()) {
      throw Refusals.httpStatus(label, response.code());
    }
    ResponseBody body = response.body();
    long max = limits.maxBytes();
    long length = body.contentLength();
    if (length > max) {
      throw Refusals.fileTooLarge(label, length, max);
    }
    try (InputStream in = body.byteStream()) {
      byte[] bytes = in.readNBytes((int) (max + 1));
      if (bytes.length > max) {
        throw Refusals.downloadTooLarge(label, max);
      }
      return bytes;
    }
  }

  private UserError failure(String label, IOException e) {
    if (Thread.currentThread().isInterrupted()) {
      return Refusals.cancelled(label);
    }
    AddressPolicy.Refused refused = refused(e);
    if (refused != null) {
      return refusedAddress(label, refused);
    }
    if (e instanceof SocketTimeoutException) {
      String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      Duration which = message.contains("connect") ? limits.connectTimeout() : limits.readTimeout();
      return Refusals.timedOut(label, which);
    }
    if (e instanceof InterruptedIOException) {
      return Refusals.timedOut(label, limits.callTimeout()); // OkHttp's call timeout
    }
    return Refusals.network(label, what(e));
  }

  private static UserError refusedAddress(String label, AddressPolicy.Refused refused) {
    log.warn("reference {}: not fetched from {}, {}", label, refused.address(), refused.kind());
    return Refusals.refusedAddress(label, refused.kind());
  }

  /** The address refusal behind a failure, also where OkHttp kept it as a suppressed or a cause. */
  private static AddressPolicy.Refused refused(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AddressPolicy.Refused r) {
        return r;
      }
      for (Throwable s : t.getSuppressed()) {
        if (s instanceof AddressPolicy.Refused r) {
          return r;
        }
      }
    }
    return null;
  }

  /** Names the kind of failure only: exception messages can hold the host or the URL. */
  private static String what(IOException e) {
    if (e instanceof UnknownHostException) {
      return "the host could not be found";
    }
    if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
      return "the server could not be reached";
    }
    if (e instanceof SSLException) {
      return "the secure connection failed";
    }
    return "the connection broke off";
  }

  private static boolean isHttp(String scheme) {
    String s = scheme.toLowerCase(Locale.ROOT);
    return s.equals("http") || s.equals("https");
  }

  private static boolean sameOrigin(HttpUrl a, HttpUrl b) {
    return a.scheme().equals(b.scheme()) && a.host().equals(b.host()) && a.port() == b.port();
  }
}
