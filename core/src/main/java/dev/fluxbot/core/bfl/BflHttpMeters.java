package dev.fluxbot.core.bfl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Counts every HTTP call {@link BflBackend} makes, each try on its own, as {@code
 * fluxbot_bfl_http_requests_total{endpoint, outcome}}: the endpoint kind ({@code submit}, {@code
 * poll}, {@code download}) from the request's {@link Endpoint} tag, the outcome its status class
 * ({@code 2xx}, {@code 3xx}, {@code 4xx}, {@code 429} on its own, {@code 5xx}) or {@code io-error}
 * where no answer came. Counts nothing until {@link #bindTo} gave it a registry.
 */
final class BflHttpMeters implements Interceptor {
  static final String NAME = "fluxbot.bfl.http.requests";

  /** Which of BFL's endpoints a request is for, as the request's tag. */
  enum Endpoint {
    SUBMIT("submit"),
    POLL("poll"),
    DOWNLOAD("download");

    final String word;

    Endpoint(String word) {
      this.word = word;
    }
  }

  private volatile MeterRegistry registry;

  void bindTo(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request request = chain.request();
    try {
      Response response = chain.proceed(request);
      count(request, outcome(response.code()));
      return response;
    } catch (IOException e) {
      count(request, "io-error");
      throw e;
    }
  }

  static String outcome(int code) {
    return code == 429 ? "429" : (code / 100) + "xx";
  }

  private void count(Request request, String outcome) {
    MeterRegistry r = registry;
    if (r == null) {
      return;
    }
    Endpoint endpoint = request.tag(Endpoint.class);
    Counter.builder(NAME)
        .description("HTTP calls to BFL by endpoint (submit, poll, download) and outcome")
        .tag("endpoint", endpoint == null ? "other" : endpoint.word)
        .tag("outcome", outcome)
        .register(r)
        .increment();
  }
}
