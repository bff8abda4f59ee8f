package dev.fluxbot.core.image;

import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.ReferenceImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the images a user attached into references BFL accepts: fetched (http(s) only, capped in
 * size, time and redirects, from public addresses unless permitted), sniffed from the bytes (PNG,
 * JPEG, WebP), refused when the header claims too many pixels, decoded in full (a file cut short is
 * refused), and shrunk to at most 4 MP. The result goes to BFL as base64, never as the platform's
 * URL: a Telegram file URL holds the bot token.
 */
public final class ReferenceLoader {
  private static final Logger log = LoggerFactory.getLogger(ReferenceLoader.class);

  /**
   * The caps on one reference.
   *
   * @param maxBytes the largest file, downloaded or inline
   * @param maxSourcePixels the most pixels an image's header may claim; checked before decoding
   * @param maxOutputPixels the most pixels sent on; larger images are downscaled to fit
   * @param maxRedirects how many redirects one download may follow
   * @param callTimeout the whole download, over all redirects
   */
  public record Limits(
      long maxBytes,
      long maxSourcePixels,
      long maxOutputPixels,
      int maxRedirects,
      Duration connectTimeout,
      Duration readTimeout,
      Duration callTimeout) {
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 16;

    public Limits {
      if (maxBytes <= 0 || maxBytes > MAX_ARRAY) {
        throw new IllegalArgumentException("maxBytes must be 1.." + MAX_ARRAY + ": " + maxBytes);
      }
      if (maxOutputPixels <= 0 || maxSourcePixels < maxOutputPixels) {
        throw new IllegalArgumentException(
            "need 0 < maxOutputPixels <= maxSourcePixels: "
                + maxOutputPixels
                + ", "
                + maxSourcePixels);
      }
      if (maxRedirects < 0) {
        throw new IllegalArgumentException("maxRedirects must not be negative: " + maxRedirects);
      }
      requirePositive(connectTimeout, "connectTimeout");
      requirePositive(readTimeout, "readTimeout");
      requirePositive(callTimeout, "callTimeout");
    }

    /** 20 MB, 64 MP in, 4 MP out, 5 redirects, 10 s to connect, 20 s per read, 60 s in all. */
    public static Limits defaults() {
      return new Limits(
          20L * 1024 * 1024,
          64L * 1024 * 1024,
          4L * 1024 * 1024,
          5,
          Duration.ofSeconds(10),
          Duration.ofSeconds(20),
          Duration.ofSeconds(60));
    }

    private static void requirePositive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + d);
      }
    }
  }

  private final Limits limits;
  private final Downloader downloader;
  private final Downscaler downscaler;

  /**
   * Fetches from public addresses only; see {@link #ReferenceLoader(OkHttpClient, Limits,
   * AddressPolicy)}.
   */
  public ReferenceLoader(OkHttpClient http, Limits limits) {
    this(http, limits, AddressPolicy.publicOnly());
  }

  /**
   * Derives its own client from {@code http}: no automatic redirects, the limits' timeouts, and
   * {@code addresses} enforced on every lookup, connection and hop.
   */
  public ReferenceLoader(OkHttpClient http, Limits limits, AddressPolicy addresses) {
    this.limits = Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(addresses, "addresses");
    OkHttpClient client =
        Objects.requireNonNull(http, "http")
            .newBuilder()
            .dns(addresses.dns(http.dns()))
            .addNetworkInterceptor(addresses.interceptor())
            .followRedirects(false)
            .followSslRedirects(false)
            .connectTimeout(limits.connectTimeout())
            .readTimeout(limits.readTimeout())
            .callTimeout(limits.callTimeout())
            .build();
    this.downloader = new Downloader(client, limits, addresses);
    this.downscaler = new Downscaler(limits.maxSourcePixels(), limits.maxOutputPixels());
  }

  /**
   * Fetches and checks one reference, downscaling it when it is over the output cap. Blocks on
   * network I/O: call it from a virtual thread.
   *
   * @throws UserError INVALID_REFERENCE or IMAGE_TOO_LARGE, naming the source's label
   */
  public ReferenceImage fetch(ImageSource source) {
    Objects.requireNonNull(source, "source");
    byte[] bytes =
        switch (source) {
          case ImageSource.Remote remote -> downloader.download(remote);
          case ImageSource.Inline inline -> inline(inline);
        };
    return prepare(source.label(), bytes);
  }

  /**
   * Fetches every reference in parallel, one virtual thread each, and returns them in order.
   *
   * @throws UserError the first failure in list order; the other downloads are cancelled
   */
  public List<ReferenceImage> fetchAll(List<ImageSource> sources) {
    List<ImageSource> list = List.copyOf(sources);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<ReferenceImage>> futures = new ArrayList<>(list.size());
      for (ImageSource source : list) {
        futures.add(threads.submit(dev.fluxbot.core.LogContext.inheriting(() -> fetch(source))));
      }
      try {
        List<ReferenceImage> images = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
          images.add(result(list.get(i), futures.get(i)));
        }
        return List.copyOf(images);
      } finally {
        futures.forEach(
            f -> f.cancel(true)); // no-op for finished ones; stops the rest after a failure
      }
    }
  }

  private static ReferenceImage result(ImageSource source, Future<ReferenceImage> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Refusals.cancelled(source.label());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UserError error) {
        throw error;
      }
      log.warn(
          "reference {} failed unexpectedly: {}",
          source.label(),
          e.getCause().getClass().getName());
      throw Refusals.unexpected(source.label(), e.getCause());
    }
  }

  private byte[] inline(ImageSource.Inline source) {
    if (source.bytes().length > limits.maxBytes()) {
      throw Refusals.fileTooLarge(source.label(), source.bytes().length, limits.maxBytes());
    }
    return source.bytes();
  }

  /** Sniff, check the claimed pixels before any decoding, then pass through or downscale. */
  private ReferenceImage prepare(String label, byte[] bytes) {
    if (bytes.length == 0) {
      throw Refusals.empty(label);
    }
    ImageInfo info =
        ImageInfo.probe(bytes)
            .orElseThrow(
                () ->
                    ImageInfo.claimedType(bytes)
                        .map(type -> Refusals.unreadableHeader(label, type))
                        .orElseGet(() -> Refusals.notAnImage(label, bytes)));
    if (info.pixels() > limits.maxSourcePixels()) {
      throw Refusals.tooManyPixels(label, info.width(), info.height(), limits.maxSourcePixels());
    }
    if (info.pixels() <= limits.maxOutputPixels()) {
      downscaler.verify(label, bytes, info.type()); // a damaged file must not reach the backend
      return ReferenceImage.of(label, info.type(), info.width(), info.height(), bytes);
    }
    Downscaler.Encoded out = downscaler.downscale(label, bytes, info);
    log.debug(
        "{}: downscaled {} {}x{} to {} {}x{}",
        label,
        info.type(),
        info.width(),
        info.height(),
        out.type(),
        out.width(),
        out.height());
    return ReferenceImage.of(label, out.type(), out.width(), out.height(), out.bytes());
  }
}
