package dev.fluxbot.telegram;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP client telegrambots polls {@code getUpdates} with. Stopping must cut the held poll short
 * (it waits up to 50 s), but telegrambots logs a cancelled poll at ERROR with a stack trace. So
 * each poll runs as an inner call that {@link #cutShort} cancels, and once {@link #closing} the
 * poll telegrambots sees ends as a quiet poll ends: with no updates.
 *
 * <p>A {@code 409 Conflict} from {@code getUpdates} (a webhook is set, or another program polls
 * with the same token) would make telegrambots log a stack trace and try again in a loop; here it
 * is one clear log line for as long as it lasts, and the poll is tried again every {@link
 * #CONFLICT_PAUSE} as an empty one.
 */
final class Polls {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final String NO_UPDATES = "{\"ok\":true,\"result\":[]}";
  private static final Duration PAUSE_WHILE_CLOSING = Duration.ofMillis(20);
  private static final Logger log = LoggerFactory.getLogger(TelegramBot.class);
  private static final ObjectMapper JSON_READER = new ObjectMapper();

  /** How long a poll that met a conflict waits before the next. */
  static final Duration CONFLICT_PAUSE = Duration.ofSeconds(5);

  private final OkHttpClient inner;
  private final OkHttpClient outer;
  private volatile boolean closing;
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile boolean inConflict;

  /**
   * Whether the last {@code getUpdates} was answered (true until one is not); see {@link
   * #answering}.
   */
  private volatile boolean answering = true;

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
      Response response = call.execute();
      if (!request.url().pathSegments().getLast().equalsIgnoreCase("getUpdates")) {
        return response;
      }
      if (closing) {
        // a poll that outlived the stop: its updates are not this poller's to handle any more (no
        // later offset confirms them, so Telegram gives them to the next poller)
        response.close();
        return noUpdates(request);
      }
      answering = response.isSuccessful();
      if (response.code() == 409) {
        conflict(description(response));
        return noUpdates(request);
      }
      if (response.isSuccessful() && inConflict) {
        inConflict = false;
        log.info("telegram: getUpdates works again; polling");
      }
      return response;
    } catch (IOException e) {
      if (closing) {
        return noUpdates(request);
      }
      answering = false;
      throw e;
    }
  }

  /** Says once what the conflict is and what to do, then waits before the next poll. */
  private void conflict(String description) throws InterruptedIOException {
    if (!inConflict) {
      inConflict = true;
      log.warn(
          description.contains("webhook")
              ? "telegram: Telegram refuses getUpdates while a webhook is set for this bot (409: {})."
                  + " Another program, or a fluxbot in webhook mode, set it: run every instance in"
                  + " one mode, or remove the webhook (deleteWebhook). Trying again every {} s;"
                  + " this is said once."
              : "telegram: Telegram ended this poll because another getUpdates came for this bot"
                  + " (409: {}): another program polls with this token (a fluxbot on another"
                  + " database, or another bot). Stop it or give this bot a token of its own."
                  + " Trying again every {} s; this is said once.",
          description,
          CONFLICT_PAUSE.toSeconds());
    }
    try {
      closed.await(CONFLICT_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting out a conflict");
    }
  }

  /** Telegram's {@code description} of a refused call; the body is consumed. */
  private static String description(Response response) {
    try (response) {
      ResponseBody body = response.body();
      String text = body == null ? "" : body.string();
      String d = JSON_READER.readTree(text).path("description").asText("");
      return d.isEmpty() ? "HTTP " + response.code() : d;
    } catch (IOException e) {
      return "HTTP " + response.code();
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

  /**
   * Whether Telegram answered the last {@code getUpdates} with success (a held poll counts as the
   * one before it): false after a refusal, a conflict, or a poll that could not reach Telegram,
   * until a poll succeeds again.
   */
  boolean answering() {
    return answering;
  }

  /** From now on every poll ends with no updates, at once. */
  void closing() {
    closing = true;
    closed.countDown();
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
