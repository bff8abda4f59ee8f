package dev.fluxbot.core.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.ProgressListener;
import java.time.Duration;
import okhttp3.Request;

/** The state of one task's polls: the counters, the last progress, the wait for its call. */
final class PollState {
  final BflBackend.Submitted task;
  final Request request;
  final boolean guessedUrl;
  boolean canPoll = true;

  /** A call came for the task, here or (kept in the database) at another instance. */
  boolean heard;

  int failures;
  int notFound;
  int rateLimited;
  private Progress last;
  private Duration waitedWithoutCall = Duration.ZERO;
  private boolean toldMissing;

  PollState(BflBackend.Submitted task, Request request) {
    this.task = task;
    this.request = request;
    this.guessedUrl = task.guessedUrl();
  }

  static Duration min(Duration a, Duration b) {
    return a.compareTo(b) > 0 ? b : a;
  }

  /**
   * A guessed get_result URL whose host does not know the task (BFL's global host keeps none): stop
   * polling it and wait for the call alone.
   */
  boolean guessedUrlUnknown(JsonNode node) {
    if (guessedUrl && "Task not found".equals(node.path("status").asText())) {
      canPoll = false;
      return true;
    }
    return false;
  }

  /**
   * A webhook job whose task cannot be polled waited {@code waited} more without its call; past
   * {@link BflWebhooks#MISSING_AFTER} it counts as missed, once.
   */
  void waitedWithoutCall(BflWebhooks hooks, Duration waited) {
    waitedWithoutCall = waitedWithoutCall.plus(waited);
    if (!toldMissing && waitedWithoutCall.compareTo(BflWebhooks.MISSING_AFTER) >= 0) {
      toldMissing = true;
      hooks.missed(task.id());
    }
  }

  /** Reports an in-progress status, when it differs from the last one reported. */
  void report(ProgressListener listener, String status, JsonNode node) {
    Progress.Stage stage =
        switch (status) {
          case "Reasoning" -> Progress.Stage.REASONING;
          case "Generating" -> Progress.Stage.GENERATING;
          default -> Progress.Stage.QUEUED; // Pending, and any status newer than this client
        };
    double fraction = Double.NaN;
    JsonNode p = node.get("progress");
    if (p != null && p.isNumber()) {
      double v = p.asDouble();
      fraction = Math.max(0, Math.min(1, v > 1 ? v / 100 : v));
    }
    Progress now = new Progress(stage, fraction, status.isEmpty() ? "waiting" : status);
    if (!now.equals(last)) {
      listener.onProgress(now);
    }
    last = now;
  }
}
