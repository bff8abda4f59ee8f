package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What {@link FakeBflApi} does with one submit: fail it, or create a task whose polls walk a list
 * of statuses. Immutable; the {@code with…} methods return changed copies.
 *
 * <p>Each submit takes the next queued scenario ({@link FakeBflApi#enqueue}); with none queued it
 * gets {@link #ready()}. A poll answers the next status of the walk; once the walk is used up,
 * every later poll answers its last status again.
 */
public final class Scenario {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> READY_WALK = List.of("Pending", "Generating", "Ready");

  private final List<String> statuses;
  private final Map<String, Object> details;
  private final Map<String, Object> errorResult;
  private final SubmitFailure submitFailure;
  private final Double cost;
  private final int pollFailureStatus;
  private final int pollFailureCount;
  private final Long seed;
  private final Image image;

  private Scenario(
      List<String> statuses,
      Map<String, Object> details,
      Map<String, Object> errorResult,
      SubmitFailure submitFailure,
      Double cost,
      int pollFailureStatus,
      int pollFailureCount,
      Long seed,
      Image image) {
    this.statuses = List.copyOf(statuses);
    this.details = copy(details);
    this.errorResult = copy(errorResult);
    this.submitFailure = submitFailure;
    this.cost = cost;
    this.pollFailureStatus = pollFailureStatus;
    this.pollFailureCount = pollFailureCount;
    this.seed = seed;
    this.image = image;
  }

  private static Scenario walk(List<String> statuses, Map<String, Object> details) {
    return new Scenario(statuses, details, Map.of(), null, null, 0, 0, null, null);
  }

  /** The default: polls answer {@code Pending}, {@code Generating}, then {@code Ready}. */
  public static Scenario ready() {
    return walk(READY_WALK, Map.of());
  }

  /**
   * Polls answer these statuses in turn, then the last one forever. Any text is allowed, so a test
   * can script an unknown status; in-progress statuses carry a {@code progress} number.
   */
  public static Scenario statuses(String... walk) {
    Objects.requireNonNull(walk, "walk");
    if (walk.length == 0) {
      throw new IllegalArgumentException(
          "A status walk needs at least one status, e.g. statuses(\"Pending\", \"Ready\")");
    }
    for (int i = 0; i < walk.length; i++) {
      if (walk[i] == null || walk[i].isBlank()) {
        throw new IllegalArgumentException(
            "Status " + i + " of the walk is blank. Provided: " + Arrays.toString(walk));
      }
    }
    return walk(List.of(walk), Map.of());
  }

  /**
   * The task ends moderated, with {@code details: {"Moderation Reasons": [reasons…]}}. {@code
   * Request Moderated} is the first poll's answer; {@code Content Moderated} comes after {@code
   * Pending} and {@code Generating}, as the output is checked after generation.
   */
  public static Scenario moderated(String status, String... reasons) {
    List<String> walk =
        switch (String.valueOf(status)) {
          case "Request Moderated" -> List.of("Request Moderated");
          case "Content Moderated" -> List.of("Pending", "Generating", "Content Moderated");
          default ->
              throw new IllegalArgumentException(
                  "status must be \"Request Moderated\" or \"Content Moderated\". Provided: \""
                      + status
                      + "\"");
        };
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("Moderation Reasons", List.of(reasons));
    return walk(walk, details);
  }

  /** The task ends with status {@code Error} and {@code details: {"error": message}}. */
  public static Scenario error(String message) {
    Objects.requireNonNull(message, "message");
    return walk(List.of("Pending", "Error"), Map.of("error", message));
  }

  /**
   * The older error shape: status {@code Error}, {@code details} null and the message in {@code
   * result: {"error": message}}.
   */
  public static Scenario legacyError(String message) {
    Objects.requireNonNull(message, "message");
    return new Scenario(
        List.of("Pending", "Error"),
        Map.of(),
        Map.of("error", message),
        null,
        null,
        0,
        0,
        null,
        null);
  }

  /** Every poll of the task answers {@code Task not found}. */
  public static Scenario taskNotFound() {
    return walk(List.of("Task not found"), Map.of());
  }

  /** Every poll of the task answers {@code Pending}: the task stays active for good. */
  public static Scenario neverFinishes() {
    return walk(List.of("Pending"), Map.of());
  }

  /** The submit answers {@code httpStatus} with {@code {"detail": detail}} and creates no task. */
  public static Scenario submitError(int httpStatus, String detail) {
    requireErrorStatus("httpStatus", httpStatus);
    Objects.requireNonNull(detail, "detail");
    ObjectNode body = JSON.createObjectNode().put("detail", detail);
    return failing(new SubmitFailure(httpStatus, body.toString(), Map.of()));
  }

  /**
   * The submit answers 422 with FastAPI's body for one problem at {@code ["body", field]}; it
   * creates no task and is not counted in {@link FakeBflApi#validationErrors()}.
   */
  public static Scenario validationError(String field, String message) {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(message, "message");
    ObjectNode body = JSON.createObjectNode();
    ArrayNode detail = body.putArray("detail");
    ObjectNode problem = detail.addObject();
    problem.put("type", "value_error");
    problem.putArray("loc").add("body").add(field);
    problem.put("msg", message);
    return failing(new SubmitFailure(422, body.toString(), Map.of()));
  }

  /** The submit answers 429 with {@code Retry-After: retryAfterSeconds}; it creates no task. */
  public static Scenario rateLimited(int retryAfterSeconds) {
    if (retryAfterSeconds < 0) {
      throw new IllegalArgumentException(
          "retryAfterSeconds must be 0 or more. Provided: " + retryAfterSeconds);
    }
    ObjectNode body =
        JSON.createObjectNode()
            .put("detail", "Rate limit exceeded. Retry after " + retryAfterSeconds + " seconds.");
    return failing(
        new SubmitFailure(
            429, body.toString(), Map.of("Retry-After", Integer.toString(retryAfterSeconds))));
  }

  private static Scenario failing(SubmitFailure failure) {
    return new Scenario(List.of(), Map.of(), Map.of(), failure, null, 0, 0, null, null);
  }

  /** The submit reports this {@code cost} instead of the one from the price table. */
  public Scenario withCost(double credits) {
    if (!Double.isFinite(credits) || credits < 0) {
      throw new IllegalArgumentException(
          "cost must be a finite number of credits, 0 or more. Provided: " + credits);
    }
    return new Scenario(
        statuses,
        details,
        errorResult,
        submitFailure,
        credits,
        pollFailureStatus,
        pollFailureCount,
        seed,
        image);
  }

  /** The first {@code count} polls answer {@code httpStatus}; the walk starts after them. */
  public Scenario withPollFailures(int httpStatus, int count) {
    requireErrorStatus("httpStatus", httpStatus);
    if (count < 0) {
      throw new IllegalArgumentException("count must be 0 or more. Provided: " + count);
    }
    return new Scenario(
        statuses, details, errorResult, submitFailure, cost, httpStatus, count, seed, image);
  }

  /** {@code result.seed} when the request sent no seed of its own. */
  public Scenario withSeed(long seed) {
    return new Scenario(
        statuses,
        details,
        errorResult,
        submitFailure,
        cost,
        pollFailureStatus,
        pollFailureCount,
        seed,
        image);
  }

  /**
   * The delivery host serves exactly these bytes, labelled as {@code format} ({@code jpeg}, {@code
   * png}, {@code webp} or anything else, served as {@code application/octet-stream}).
   */
  public Scenario withImage(byte[] bytes, String format) {
    return new Scenario(
        statuses,
        details,
        errorResult,
        submitFailure,
        cost,
        pollFailureStatus,
        pollFailureCount,
        seed,
        new Image(bytes, format));
  }

  /** Replaces the {@code details} object reported with the walk's terminal status. */
  public Scenario withDetails(Map<String, ?> details) {
    return new Scenario(
        statuses,
        copy(details),
        errorResult,
        submitFailure,
        cost,
        pollFailureStatus,
        pollFailureCount,
        seed,
        image);
  }

  /** The statuses that polls walk through; empty when the submit fails. */
  public List<String> statuses() {
    return statuses;
  }

  /** {@code details} reported with a terminal status other than {@code Ready}; empty means null. */
  public Map<String, Object> details() {
    return details;
  }

  /** {@code result} reported with a terminal status other than {@code Ready}; empty means null. */
  public Map<String, Object> errorResult() {
    return errorResult;
  }

  /** How the submit fails, when it does; then no task is created. */
  public Optional<SubmitFailure> submitFailure() {
    return Optional.ofNullable(submitFailure);
  }

  public OptionalDouble cost() {
    return cost == null ? OptionalDouble.empty() : OptionalDouble.of(cost);
  }

  /** The HTTP status of the first {@link #pollFailureCount()} polls. */
  public int pollFailureStatus() {
    return pollFailureStatus;
  }

  public int pollFailureCount() {
    return pollFailureCount;
  }

  public OptionalLong seed() {
    return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
  }

  public Optional<Image> image() {
    return Optional.ofNullable(image);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("Scenario[");
    if (submitFailure != null) {
      s.append("submit fails with ")
          .append(submitFailure.httpStatus())
          .append(' ')
          .append(submitFailure.body());
    } else {
      s.append("statuses=").append(statuses);
      if (!details.isEmpty()) s.append(", details=").append(details);
      if (!errorResult.isEmpty()) s.append(", result=").append(errorResult);
      if (cost != null) s.append(", cost=").append(cost);
      if (pollFailureCount > 0)
        s.append(", first ")
            .append(pollFailureCount)
            .append(" polls answer ")
            .append(pollFailureStatus);
      if (seed != null) s.append(", seed=").append(seed);
      if (image != null) s.append(", image=").append(image);
    }
    return s.append(']').toString();
  }

  private static void requireErrorStatus(String name, int status) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException(
          name + " must be an HTTP error status, 400 to 599. Provided: " + status);
    }
  }

  private static Map<String, Object> copy(Map<String, ?> map) {
    Objects.requireNonNull(map, "details");
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  /** A submit that fails: status, JSON body text and extra response headers. */
  public record SubmitFailure(int httpStatus, String body, Map<String, String> headers) {
    public SubmitFailure {
      Objects.requireNonNull(body, "body");
      headers = Map.copyOf(headers);
    }
  }

  /** Bytes to serve as the result image, and the format they are labelled with. */
  public record Image(byte[] bytes, String format) {
    public Image {
      Objects.requireNonNull(bytes, "bytes");
      Objects.requireNonNull(format, "format");
      if (bytes.length == 0) {
        throw new IllegalArgumentException("An image needs at least one byte");
      }
      format =
          format.toLowerCase(Locale.ROOT).equals("jpg") ? "jpeg" : format.toLowerCase(Locale.ROOT);
      if (!format.matches("[a-z0-9]+")) {
        throw new IllegalArgumentException(
            "format must be a file extension such as jpeg, png or webp. Provided: \""
                + format
                + "\"");
      }
      bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Image other
          && format.equals(other.format)
          && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
      return 31 * format.hashCode() + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "Image[" + bytes.length + " bytes of " + format + "]";
    }
  }
}
