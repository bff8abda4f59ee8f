package dev.fluxbot.telegram;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.chat.Unreachable;
import dev.fluxbot.core.http.RetryPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.GetFile;
import org.telegram.telegrambots.meta.api.objects.File;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;

/**
 * The Bot API as the adapter uses it: every call through {@link #call}, which waits out a 429 for
 * the {@code retry_after} Telegram names and tries again, as {@link RetryPolicy#standard()} rules;
 * file downloads from the configured base. The token is in every URL, so no URL and no OkHttp
 * message is ever logged or shown.
 */
final class BotApi {
  private static final Logger log = LoggerFactory.getLogger(BotApi.class);
  static final URI DEFAULT_BASE = URI.create("https://api.telegram.org");

  /** The 429 rule every chat platform follows: 5 retries, no wait over 2 minutes. */
  private static final RetryPolicy RATE_LIMITS = RetryPolicy.standard();

  /** Bots may download files up to 20 MB. */
  static final long MAX_DOWNLOAD = 20L * 1024 * 1024;

  /** One Bot API call, built afresh for each try (an upload's stream is read once). */
  @FunctionalInterface
  interface Call<T> {
    T run() throws TelegramApiException;
  }

  /** A call Telegram refused (not a 429, or too many of them), or one that did not get through. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errorCode;
    private final transient IOException network;

    Failure(String what, int errorCode, String description) {
      this(what, errorCode, description, null);
    }

    Failure(String what, int errorCode, String description, IOException network) {
      super(what + ": " + (errorCode > 0 ? errorCode + " " : "") + description, null, false, false);
      this.errorCode = errorCode;
      this.network = network;
    }

    /** The network failure when the call did not get through to Telegram at all. */
    java.util.Optional<IOException> network() {
      return java.util.Optional.ofNullable(network);
    }

    int errorCode() {
      return errorCode;
    }

    boolean messageGone() {
      return errorCode == 400
          && (getMessage().contains("not found") || getMessage().contains("not modified"));
    }
  }

  private final Secret token;
  private final URI base;
  private final OkHttpClient http;
  private final OkHttpTelegramClient client;
  private final Sleeper sleeper;

  BotApi(Secret token, URI base, OkHttpClient http, Sleeper sleeper) {
    this.token = token;
    this.base = base == null ? DEFAULT_BASE : base;
    this.http = http;
    this.sleeper = sleeper;
    this.client = new OkHttpTelegramClient(http, token.reveal(), telegramUrl(this.base));
  }

  /** The base as telegrambots takes it: scheme, host and port (a path is not supported). */
  static TelegramUrl telegramUrl(URI base) {
    if (base.getScheme() == null
        || base.getHost() == null
        || (base.getPath() != null && !base.getPath().isEmpty() && !base.getPath().equals("/"))) {
      throw new IllegalArgumentException(
          "telegram.api_base_url: must be scheme://host[:port] with no path; got \""
              + base
              + "\". Use https://api.telegram.org or your Bot API server's address.");
    }
    int port = base.getPort() > 0 ? base.getPort() : base.getScheme().equals("https") ? 443 : 80;
    return new TelegramUrl(base.getScheme(), base.getHost(), port, false);
  }

  OkHttpTelegramClient client() {
    return client;
  }

  /** Runs a call, waiting out 429s for their {@code retry_after}. */
  <T> T call(String what, Call<T> call) {
    for (int tries = 1; ; tries++) {
      try {
        return call.run();
      } catch (TelegramApiRequestException e) {
        int code = e.getErrorCode() == null ? 0 : e.getErrorCode();
        Integer after = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
        Optional<Duration> wait =
            code == 429
                ? RATE_LIMITS.next(tries, Optional.ofNullable(after).map(Duration::ofSeconds))
                : Optional.empty();
        if (wait.isEmpty()) {
          throw new Failure(what, code, description(e));
        }
        log.info(
            "telegram: {} rate-limited; waiting {} ms (try {} of {})",
            what,
            wait.get().toMillis(),
            tries,
            RATE_LIMITS.maxRetries() + 1);
        sleep(wait.get());
      } catch (TelegramApiException e) {
        IOException network = Unreachable.cause(e).orElse(null);
        throw new Failure(
            what,
            0,
            "did not get through ("
                + (network != null ? Unreachable.reason(network) : e.getClass().getSimpleName())
                + ")",
            network);
      }
    }
  }

  void sleep(Duration wait) {
    if (wait.isZero() || wait.isNegative()) {
      return;
    }
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("wait", 0, "interrupted");
    }
  }

  private static String description(TelegramApiRequestException e) {
    String response = e.getApiResponse();
    return response == null ? e.getClass().getSimpleName() : response;
  }

  /**
   * Downloads a file by id: {@code getFile}, then the bytes from {@code
   * <base>/file/bot<token>/<file_path>} (telegrambots' own download ignores a custom base).
   *
   * @throws Failure when Telegram refuses or the file is over {@code maxBytes}
   */
  byte[] download(String fileId, long maxBytes) {
    File file = call("getFile", () -> client.execute(new GetFile(fileId)));
    if (file.getFileSize() != null && file.getFileSize() > maxBytes) {
      throw new Failure(
          "download", 0, "the file is " + file.getFileSize() + " bytes, over " + maxBytes);
    }
    HttpUrl url =
        HttpUrl.get(base.toString())
            .newBuilder()
            .addPathSegment("file")
            .addPathSegment("bot" + token.reveal())
            .addPathSegments(file.getFilePath())
            .build();
    try (Response response = http.newCall(new Request.Builder().url(url).build()).execute()) {
      ResponseBody body = response.body();
      if (!response.isSuccessful()) {
        throw new Failure(
            "download", response.code(), "the file server answered " + response.code());
      }
      long declared = body.contentLength();
      if (declared > maxBytes) {
        throw new Failure("download", 0, "the file is " + declared + " bytes, over " + maxBytes);
      }
      byte[] bytes =
          body.byteStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (bytes.length > maxBytes) {
        throw new Failure("download", 0, "the file is over " + maxBytes + " bytes");
      }
      return bytes;
    } catch (InterruptedIOException e) {
      throw new Failure("download", 0, "timed out");
    } catch (IOException e) {
      throw new Failure(
          "download",
          0,
          "failed (" + e.getClass().getSimpleName() + ")"); // the message may hold the URL
    }
  }
}
