package dev.fluxbot.telegram;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The HTTP client telegrambots polls {@code getUpdates} with. Stopping must cut the held poll short
 * (it waits up to 50 s), but telegrambots logs a cancelled poll at ERROR with a stack trace. So
 * each poll runs as an inner call that {@link #cutShort} cancels, and once {@link #closing} the
 * poll telegrambots sees ends as a quiet poll ends: with no updates.
 */
final class Polls {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final String NO_UPDATES = "{\"ok\":true,\"result\":[]}";
  private static final Duration PAUSE_WHILE_CLOSING = Duration.ofMillis(20);

  private final OkHttpClient inner;
  private final OkHttpClient outer;
  private volatile boolean closing;

  /**
   * @param readTimeout how long a held poll may stay silent: longer than the poll's own timeout
   */
  Polls(Duration readTimeout) {
    inner =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(readTimeout)
            .build();
    outer =
        new OkHttpClient.Builder()
            .addInterceptor(this::poll)
            .build(); // its own dispatcher: never cancelled
  }

  /** The client to give telegrambots. */
  OkHttpClient client() {
    return outer;
  }

  private Response poll(Interceptor.Chain chain) throws IOException {
    Request request = chain.request();
    if (closing) {
      pause(); // telegrambots polls again at once until it has stopped: not in a tight loop
      return noUpdates(request);
    }
    Call call = inner.newCall(request);
    try {
      return call.execute();
    } catch (IOException e) {
      if (closing) {
        return noUpdates(request);
      }
      throw e;
    }
  }

  private static void pause() throws InterruptedIOException {
    try {
      Thread.sleep(PAUSE_WHILE_CLOSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while stopping");
    }
  }

  private static Response noUpdates(Request request) {
    return new Response.Builder()
        .request(request)
        .protocol(Protocol.HTTP_1_1)
        .code(200)
        .message("OK")
        .body(ResponseBody.create(NO_UPDATES, JSON))
        .build();
  }

  /** From now on every poll ends with no updates, at once. */
  void closing() {
    closing = true;
  }

  /** Ends the held poll now (with no updates, once {@link #closing}). */
  void cutShort() {
    inner.dispatcher().cancelAll();
  }

  void shutdown() {
    for (OkHttpClient c : new OkHttpClient[] {inner, outer}) {
      c.dispatcher().executorService().shutdown();
      c.connectionPool().evictAll();
    }
  }
}
