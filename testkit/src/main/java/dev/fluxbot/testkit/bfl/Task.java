package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.Scenario;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/** One submitted task: its order, its scenario, and how far its polls have walked. */
final class Task {
  static final Set<String> TERMINAL =
      Set.of("Ready", "Error", "Request Moderated", "Content Moderated", "Task not found");

  private final String id;
  private final Order order;
  private final Scenario scenario;
  private final BigDecimal cost;
  private final long seed;
  private final Instant submittedAt;
  private final String format;
  private final Duration workTime;

  private int polls; // guarded by this
  private boolean finished; // guarded by this
  private Instant readyAt; // guarded by this
  private String sampleUrl; // guarded by this

  private final Object imageLock = new Object();
  private byte[] image; // guarded by imageLock

  Task(
      String id,
      Order order,
      Scenario scenario,
      BigDecimal cost,
      Instant submittedAt,
      Duration workTime) {
    this.id = id;
    this.workTime = workTime;
    this.order = order;
    this.scenario = scenario;
    this.cost = cost;
    this.submittedAt = submittedAt;
    this.seed =
        order.seed() != null ? order.seed() : scenario.seed().orElse(id.hashCode() & 0x7fffffffL);
    this.format = scenario.image().map(Scenario.Image::format).orElse(order.format());
  }

  String id() {
    return id;
  }

  Order order() {
    return order;
  }

  BigDecimal cost() {
    return cost;
  }

  /** The format the result is served in: the request's, or the scripted image's. */
  String format() {
    return format;
  }

  /**
   * One poll's answer.
   *
   * @param justFinished whether this poll is the first to report a terminal status
   */
  record Poll(Response response, String status, boolean justFinished) {}

  synchronized Poll poll(Instant now, DeliveryLinks links) {
    polls++;
    if (polls <= scenario.pollFailureCount()) {
      int status = scenario.pollFailureStatus();
      return new Poll(Response.detail(status, Response.reason(status)), "", false);
    }
    List<String> walk = scenario.statuses();
    int step = Math.min(polls - scenario.pollFailureCount() - 1, walk.size() - 1);
    if (workTime != null) { // timed: in progress until the work time is over, then the end
      step =
          now.isBefore(readyTime())
              ? Math.min(step, Math.max(0, walk.size() - 2))
              : walk.size() - 1;
    }
    String status = walk.get(step);
    ObjectNode body = emptyResult(id, status);
    if (!TERMINAL.contains(status)) {
      body.put("progress", Math.round(100.0 * step / Math.max(1, walk.size() - 1)) / 100.0);
    } else if (status.equals("Ready")) {
      body.set("result", readyResult(now, links));
    } else if (!status.equals("Task not found")) {
      if (!scenario.details().isEmpty())
        body.set("details", Json.MAPPER.valueToTree(scenario.details()));
      if (!scenario.errorResult().isEmpty())
        body.set("result", Json.MAPPER.valueToTree(scenario.errorResult()));
    }
    boolean justFinished = TERMINAL.contains(status) && !finished;
    finished |= justFinished;
    return new Poll(Response.json(200, body), status, justFinished);
  }

  /** When a timed task ends: its submit plus the fake's work time (or at once without one). */
  Instant readyTime() {
    return workTime == null ? submittedAt : submittedAt.plus(workTime);
  }

  /**
   * The answer for the end of the walk, as a webhook call carries it (it moves the task to its
   * terminal status like a poll would).
   */
  synchronized Poll end(Instant now, DeliveryLinks links) {
    polls = Math.max(polls, scenario.pollFailureCount() + scenario.statuses().size());
    Instant end = readyTime();
    return poll(now.isBefore(end) ? end : now, links);
  }

  /** The first Ready poll fixes the end time and signs the sample URL; later polls repeat them. */
  private ObjectNode readyResult(Instant now, DeliveryLinks links) {
    if (readyAt == null) {
      readyAt = now;
      sampleUrl = links.create(id, format, now);
    }
    return Json.object()
        .put("sample", sampleUrl)
        .put("seed", seed)
        .put("prompt", order.prompt())
        .put("start_time", seconds(submittedAt))
        .put("end_time", seconds(readyAt))
        .put("duration", Duration.between(submittedAt, readyAt).toMillis() / 1000.0);
  }

  static ObjectNode emptyResult(String id, String status) {
    ObjectNode body = Json.object().put("id", id).put("status", status);
    body.putNull("result");
    body.putNull("progress");
    body.putNull("details");
    body.putNull("preview");
    return body;
  }

  /** The result image, rendered on first use and kept. */
  byte[] image() {
    synchronized (imageLock) {
      if (image == null) {
        image =
            scenario
                .image()
                .map(Scenario.Image::bytes)
                .orElseGet(
                    () ->
                        ResultImages.render(
                            order.width(), order.height(), format, ResultImages.colourFor(seed)));
      }
      return image;
    }
  }

  private static double seconds(Instant t) {
    return t.toEpochMilli() / 1000.0;
  }
}
