package dev.fluxbot.testkit.bfl;

import dev.fluxbot.testkit.Scenario;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fake's account: queued scenarios, tasks, the credit balance and the count of active tasks.
 * Admission (capacity check, scenario, charge, count) happens under one lock, so the counts stay
 * exact however many clients submit at once; polls run under each task's own lock and report here
 * only when a task first reaches a terminal status.
 */
final class TaskBook {
  private final Map<String, Task> tasks = new ConcurrentHashMap<>();
  private final Deque<Scenario> scenarios = new ArrayDeque<>(); // guarded by this
  private BigDecimal credits; // guarded by this
  private int activeLimit; // guarded by this
  private int active; // guarded by this
  private int maxActive; // guarded by this
  private java.time.Duration workTime; // guarded by this

  TaskBook(double credits, int activeLimit) {
    setCredits(credits);
    setActiveLimit(activeLimit);
  }

  /** A submit's outcome: a task, or the response that refuses it. */
  sealed interface Admission {
    record Accepted(Task task) implements Admission {}

    record Refused(Response response) implements Admission {}
  }

  synchronized Admission admit(Order order, Instant now) {
    if (active >= activeLimit) {
      return new Admission.Refused(
          Response.detail(
                  429,
                  "You have "
                      + active
                      + " active tasks, the most allowed is "
                      + activeLimit
                      + ". Wait for a task to finish before submitting another.")
              .withHeader("Retry-After", "1"));
    }
    Scenario scenario = scenarios.isEmpty() ? Scenario.ready() : scenarios.poll();
    if (scenario.submitFailure().isPresent()) {
      Scenario.SubmitFailure failure = scenario.submitFailure().get();
      Response response = Response.json(failure.httpStatus(), failure.body());
      for (Map.Entry<String, String> header : failure.headers().entrySet()) {
        response = response.withHeader(header.getKey(), header.getValue());
      }
      return new Admission.Refused(response);
    }
    BigDecimal cost =
        scenario.cost().isPresent()
            ? BigDecimal.valueOf(scenario.cost().getAsDouble())
            : order.tableCost();
    if (credits.compareTo(cost) < 0) {
      return new Admission.Refused(
          Response.detail(
              402,
              "Insufficient credits: this request costs "
                  + plain(cost)
                  + " credits and the balance is "
                  + plain(credits)
                  + ". Add credits at https://dashboard.bfl.ai."));
    }
    credits = credits.subtract(cost);
    Task task = new Task(UUID.randomUUID().toString(), order, scenario, cost, now, workTime);
    tasks.put(task.id(), task);
    active++;
    maxActive = Math.max(maxActive, active);
    return new Admission.Accepted(task);
  }

  private static String plain(BigDecimal credits) {
    return credits.stripTrailingZeros().toPlainString();
  }

  /** A poll reported the task's first terminal status; moderated tasks are not charged. */
  synchronized void finished(Task task, String status) {
    active--;
    if (status.endsWith("Moderated")) credits = credits.add(task.cost());
  }

  Task task(String id) {
    return tasks.get(id);
  }

  synchronized void enqueue(Scenario scenario) {
    scenarios.add(Objects.requireNonNull(scenario, "scenario"));
  }

  synchronized int queued() {
    return scenarios.size();
  }

  synchronized double credits() {
    return credits.doubleValue();
  }

  synchronized void setCredits(double credits) {
    if (!Double.isFinite(credits))
      throw new IllegalArgumentException("credits must be a finite number. Provided: " + credits);
    this.credits = BigDecimal.valueOf(credits);
  }

  synchronized void setActiveLimit(int limit) {
    if (limit < 1)
      throw new IllegalArgumentException(
          "The active task limit must be 1 or more. Provided: " + limit);
    this.activeLimit = limit;
  }

  /** From now on, tasks take {@code time} to end (null: each poll walks one status). */
  synchronized void setWorkTime(java.time.Duration time) {
    this.workTime = time;
  }

  synchronized java.time.Duration workTime() {
    return workTime;
  }

  synchronized int active() {
    return active;
  }

  synchronized int maxActive() {
    return maxActive;
  }
}
