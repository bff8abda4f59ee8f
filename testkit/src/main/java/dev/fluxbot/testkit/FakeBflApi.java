package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.bfl.BflEngine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A scriptable loopback fake of the Black Forest Labs FLUX.2 HTTP API, for tests that drive a real
 * client over real sockets.
 *
 * <p>Three servers, like BFL's: the API host ({@link #baseUrl()}, {@code http://localhost:…}) takes
 * submits and answers {@code /v1/credits}; tasks are polled on a regional host ({@code
 * http://127.0.0.1:…}, another name and port), whose URL comes back as {@code polling_url}; result
 * images come from a delivery host behind signed URLs that expire. Submits are validated against
 * the request schemas of BFL's published OpenAPI document plus the documented rules it does not
 * express. Every request on every host is recorded.
 *
 * <pre>{@code
 * try (FakeBflApi bfl = FakeBflApi.start()) {
 *   bfl.enqueue(Scenario.moderated("Content Moderated", "Derivative Works Filter"));
 *   // point the client under test at bfl.baseUrl() with bfl.key(), and run it
 *   assertThat(bfl.validationErrors()).isEmpty();
 *   assertThat(bfl.keySentToDelivery()).isFalse();
 * }
 * }</pre>
 */
public final class FakeBflApi implements AutoCloseable {
  public static final String DEFAULT_KEY = "test-key";

  /** BFL answers 429 once a key has this many tasks active. */
  public static final int DEFAULT_ACTIVE_TASK_LIMIT = 24;

  public static final Duration DEFAULT_DELIVERY_TTL = Duration.ofMinutes(10);
  public static final double DEFAULT_CREDITS = 100_000;

  private final BflEngine engine;

  private FakeBflApi(BflEngine engine) {
    this.engine = engine;
  }

  /** Starts a fake with the defaults: key {@value #DEFAULT_KEY}, the system clock. */
  public static FakeBflApi start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The API host, {@code http://localhost:<port>}, without a trailing slash. */
  public String baseUrl() {
    return engine.apiBaseUrl();
  }

  /** The regional host that {@code polling_url} points at, {@code http://127.0.0.1:<port>}. */
  public String pollingBaseUrl() {
    return engine.pollingBaseUrl();
  }

  /** The host that serves result images, {@code http://127.0.0.1:<port>}. */
  public String deliveryBaseUrl() {
    return engine.deliveryBaseUrl();
  }

  /** The {@code x-key} this fake accepts. */
  public String key() {
    return engine.key();
  }

  /** Queues scenarios; each later submit takes the oldest one (FIFO). */
  public FakeBflApi enqueue(Scenario... scenarios) {
    for (Scenario scenario : scenarios) {
      engine.enqueue(Objects.requireNonNull(scenario, "scenario"));
    }
    return this;
  }

  /** How many queued scenarios no submit has taken yet. */
  public int queuedScenarios() {
    return engine.queuedScenarios();
  }

  /** The balance {@code /v1/credits} reports; submits spend it, moderated tasks are refunded. */
  public double credits() {
    return engine.credits();
  }

  public void setCredits(double credits) {
    engine.setCredits(credits);
  }

  /** How long a delivery URL stays valid after the task is seen {@code Ready}. */
  public void setDeliveryTtl(Duration ttl) {
    engine.setDeliveryTtl(ttl);
  }

  /**
   * Submits answer 429 while this many tasks are active; {@link Integer#MAX_VALUE} turns it off.
   */
  public void setActiveTaskLimit(int limit) {
    engine.setActiveTaskLimit(limit);
  }

  /** Every request on every host, in arrival order. */
  public List<RecordedRequest> requests() {
    return engine.requests();
  }

  public List<RecordedRequest> requests(Host host) {
    return engine.requests().stream().filter(r -> r.host() == host).toList();
  }

  /** Every POST to a model endpoint, valid or not, in arrival order. */
  public List<RecordedSubmit> submits() {
    return engine.submits();
  }

  /**
   * The oldest submit not yet taken, waiting up to 10 seconds for one to arrive; like {@code
   * MockWebServer.takeRequest()}.
   *
   * @throws IllegalStateException when none arrives in time
   */
  public RecordedSubmit takeSubmit() {
    return engine.takeSubmit(Duration.ofSeconds(10));
  }

  /** Every request on the regional polling host. */
  public List<RecordedRequest> polls() {
    return requests(Host.POLLING);
  }

  /** Every request on the delivery host. */
  public List<RecordedRequest> deliveries() {
    return requests(Host.DELIVERY);
  }

  /**
   * Every validation problem the fake found in a request (one entry per problem), so a test can
   * assert that a client never sent an invalid one. Scripted 422s are not included.
   */
  public List<ValidationError> validationErrors() {
    return engine.validationErrors();
  }

  /** Whether any request to the delivery host carried an {@code x-key} header (it must not). */
  public boolean keySentToDelivery() {
    return deliveries().stream().anyMatch(r -> r.header("x-key").isPresent());
  }

  /**
   * From now on each task takes {@code time} from its submit to its end: polls before then answer
   * an in-progress status, polls after it the scenario's last status, and a task with a {@code
   * webhook_url} is called back at that moment. Null (the default) walks one status per poll, and
   * calls webhooks back after 50 ms.
   */
  public void setWorkTime(Duration time) {
    engine.setWorkTime(time);
  }

  /** How webhook calls prove the secret from now on (the default: {@code X-BFL-Signature}). */
  public void setWebhookSigning(WebhookSigning signing) {
    engine.setWebhookSigning(signing);
  }

  /**
   * When task {@code id} ended or ends, with a work time set ({@link #setWorkTime}): its submit
   * plus that time; empty for an unknown task or without a work time.
   */
  public Optional<Instant> readyTime(String id) {
    return engine.readyTime(id);
  }

  /** Every webhook call made, in order. */
  public List<RecordedWebhook> webhookCalls() {
    return engine.webhooks();
  }

  /** How the fake signs its webhook calls. */
  public enum WebhookSigning {
    /** {@code X-BFL-Signature: sha256=<hex HMAC-SHA256 of the raw body under the secret>}. */
    HMAC_SIGNATURE,
    /** {@code X-Webhook-Secret: <the secret>}, as BFL's API reference describes it. */
    SECRET_HEADER,
    /** An HMAC under the wrong key: a forged call. */
    WRONG_SIGNATURE,
    /** No proof at all. */
    NONE
  }

  /**
   * One webhook call.
   *
   * @param status the task's status in the call
   * @param httpStatus what the receiver answered (-1: no answer)
   * @param readyAt when the task ended and the call left
   */
  public record RecordedWebhook(
      String taskId, String status, int httpStatus, Instant readyAt, WebhookSigning signing) {}

  /** Tasks submitted whose terminal status no poll has reported yet. */
  public int activeTasks() {
    return engine.activeTasks();
  }

  /** The most tasks that were ever active at once. */
  public int maxConcurrentActiveTasks() {
    return engine.maxActiveTasks();
  }

  /** Stops the three servers. */
  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return "FakeBflApi["
        + baseUrl()
        + ", polling "
        + pollingBaseUrl()
        + ", delivery "
        + deliveryBaseUrl()
        + "]";
  }

  /** Options for a fake; {@link #start()} binds the ports. */
  public static final class Builder {
    private String key = DEFAULT_KEY;
    private InstantSource clock = InstantSource.system();
    private Duration deliveryTtl = DEFAULT_DELIVERY_TTL;
    private int activeTaskLimit = DEFAULT_ACTIVE_TASK_LIMIT;
    private double credits = DEFAULT_CREDITS;

    private Builder() {}

    public Builder key(String key) {
      this.key = Objects.requireNonNull(key, "key");
      return this;
    }

    /**
     * The clock for delivery URL expiry and the result's times; a {@link MutableClock} in tests.
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder deliveryTtl(Duration ttl) {
      this.deliveryTtl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    public Builder activeTaskLimit(int limit) {
      this.activeTaskLimit = limit;
      return this;
    }

    public Builder credits(double credits) {
      this.credits = credits;
      return this;
    }

    public FakeBflApi start() {
      return new FakeBflApi(BflEngine.start(key, clock, deliveryTtl, activeTaskLimit, credits));
    }
  }

  /** The three servers of the fake. */
  public enum Host {
    /** {@code api.bfl.ai}: submits and credits. */
    API,
    /** A regional host such as {@code api.eu2.bfl.ai}: {@code get_result}. */
    POLLING,
    /** The host that serves the signed result URLs. */
    DELIVERY
  }

  /**
   * One HTTP request as the fake received it.
   *
   * @param target the path and query, as sent
   * @param headers header names compare case-insensitively
   */
  public record RecordedRequest(
      Host host, String method, String target, Map<String, List<String>> headers, byte[] body) {
    public RecordedRequest {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(target, "target");
      headers = caseInsensitive(headers);
      body = body.clone();
    }

    @Override
    public byte[] body() {
      return body.clone();
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The path, without the query. */
    public String path() {
      return RequestTargets.path(target);
    }

    /** The first value of a query parameter, decoded. */
    public Optional<String> queryParameter(String name) {
      return RequestTargets.queryParameter(target, name);
    }

    /** The first value of a header. */
    public Optional<String> header(String name) {
      return firstHeader(headers, name);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof RecordedRequest r
          && host == r.host
          && method.equals(r.method)
          && target.equals(r.target)
          && headers.equals(r.headers)
          && Arrays.equals(body, r.body);
    }

    @Override
    public int hashCode() {
      return Objects.hash(host, method, target, headers, Arrays.hashCode(body));
    }

    @Override
    public String toString() {
      return host + " " + method + " " + target + " (" + body.length + " bytes)";
    }
  }

  /**
   * A POST to a model endpoint.
   *
   * @param endpoint the model's endpoint name, e.g. {@code flux-2-pro}
   * @param body the parsed JSON body; a missing node when it was empty or not JSON
   */
  public record RecordedSubmit(String endpoint, JsonNode body, Map<String, List<String>> headers) {
    public RecordedSubmit {
      Objects.requireNonNull(endpoint, "endpoint");
      body = body.deepCopy();
      headers = caseInsensitive(headers);
    }

    @Override
    public JsonNode body() {
      return body.deepCopy();
    }

    public Optional<String> header(String name) {
      return firstHeader(headers, name);
    }
  }

  /**
   * One problem in one request, as its 422 body reported it.
   *
   * @param path the request's path, e.g. {@code /v1/flux-2-klein-4b}
   * @param loc where, e.g. {@code ["body", "width"]}
   */
  public record ValidationError(String path, List<Object> loc, String msg, String type) {
    public ValidationError {
      loc = List.copyOf(loc);
    }
  }

  private static Map<String, List<String>> caseInsensitive(Map<String, List<String>> headers) {
    TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach(
        (name, values) ->
            copy.merge(
                name,
                List.copyOf(values),
                (a, b) -> Stream.concat(a.stream(), b.stream()).toList()));
    return Collections.unmodifiableMap(copy);
  }

  private static Optional<String> firstHeader(Map<String, List<String>> headers, String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }
}
