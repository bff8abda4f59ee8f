package dev.fluxbot.slack;

import com.slack.api.methods.MethodsClient;
import com.slack.api.methods.SlackApiException;
import com.slack.api.methods.SlackApiTextResponse;
import com.slack.api.methods.SlackFilesUploadV2Exception;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.http.RetryPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Web API as the adapter calls it: a 429 waits the {@code Retry-After} Slack asked for and
 * tries again, as {@link RetryPolicy#standard()} rules; an answer with {@code ok: false} becomes a
 * {@link SlackCallException} that names the method and Slack's error code. Tokens never appear in
 * messages.
 */
final class SlackApi {
  private static final Logger log = LoggerFactory.getLogger(SlackApi.class);

  /** The 429 rule every chat platform follows: 5 retries, no wait over 2 minutes. */
  static final RetryPolicy RATE_LIMITS = RetryPolicy.standard();

  /** No retry: for calls not worth waiting for. */
  private static final RetryPolicy ONCE = RATE_LIMITS.withMaxRetries(0);

  /** Slack's error code for a 429, where the answer named none. */
  static final String RATE_LIMITED = "ratelimited";

  /** A call to Slack that did not work; {@link #error} is Slack's code where it gave one. */
  static final class SlackCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String error;

    SlackCallException(String message, String error, Throwable cause) {
      super(message, cause);
      this.error = error;
    }
  }

  private final MethodsClient methods;
  private final Sleeper sleeper;

  SlackApi(MethodsClient methods, Sleeper sleeper) {
    this.methods = methods;
    this.sleeper = sleeper;
  }

  MethodsClient methods() {
    return methods;
  }

  /** Runs one Web API call, waiting out rate limits; blocking. */
  <T extends SlackApiTextResponse> T call(String method, Callable<T> call) {
    return call(method, call, RATE_LIMITS);
  }

  /**
   * Runs one Web API call once: a 429 is a {@link SlackCallException} with error {@link
   * #RATE_LIMITED} at once. For calls not worth waiting for, such as {@code views.open} on a
   * trigger id that lives 3 s.
   */
  <T extends SlackApiTextResponse> T callOnce(String method, Callable<T> call) {
    return call(method, call, ONCE);
  }

  private <T extends SlackApiTextResponse> T call(
      String method, Callable<T> call, RetryPolicy retry) {
    for (int attempt = 1; ; attempt++) {
      try {
        T response = call.call();
        if (!response.isOk()) {
          throw new SlackCallException(
              "Slack answered " + method + " with " + response.getError(),
              response.getError(),
              null);
        }
        return response;
      } catch (SlackApiException e) {
        int status = e.getResponse().code();
        Optional<Duration> wait =
            status == 429
                ? retry.next(attempt, retry.retryAfter(e.getResponse().header("Retry-After")))
                : Optional.empty();
        if (wait.isEmpty()) {
          throw new SlackCallException(
              "Slack answered "
                  + method
                  + " with HTTP "
                  + status
                  + (e.getError() == null ? "" : " (" + e.getError().getError() + ")"),
              status == 429 ? RATE_LIMITED : null,
              e);
        }
        log.info(
            "slack: {} rate limited; waiting {} ms as Slack asked (try {} of {})",
            method,
            wait.get().toMillis(),
            attempt,
            retry.maxRetries() + 1);
        sleep(wait.get());
      } catch (SlackFilesUploadV2Exception e) {
        String error = uploadError(e);
        throw new SlackCallException("Slack answered " + method + " with " + error, error, e);
      } catch (IOException e) {
        throw new SlackCallException(
            "could not reach Slack for " + method + ": " + e.getMessage(), null, e);
      } catch (SlackCallException | IllegalArgumentException e) {
        throw e;
      } catch (Exception e) {
        throw new SlackCallException(method + " failed: " + e, null, e);
      }
    }
  }

  /**
   * The step of a file upload that Slack refused, as its error code (or the upload's HTTP status).
   */
  static String uploadError(SlackFilesUploadV2Exception e) {
    if (e.getCompleteResponse() != null && e.getCompleteResponse().getError() != null) {
      return e.getCompleteResponse().getError();
    }
    for (var r : e.getGetURLResponses()) {
      if (!r.isOk()) {
        return r.getError();
      }
    }
    for (var r : e.getUploadResponses().values()) {
      if (r.getCode() != 200) {
        return "upload HTTP " + r.getCode();
      }
    }
    return "an upload error";
  }

  private void sleep(Duration d) {
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SlackCallException("interrupted while waiting out Slack's rate limit", null, e);
    }
  }
}
