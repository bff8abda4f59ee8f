package dev.fluxbot.testkit.bfl;

import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import dev.fluxbot.testkit.FakeBflApi.RecordedSubmit;
import dev.fluxbot.testkit.FakeBflApi.ValidationError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Everything the fake received, for tests to read; each record lands before its response leaves.
 */
final class Recorder {
  private final List<RecordedRequest> requests = new ArrayList<>(); // guarded by this
  private final List<RecordedSubmit> submits = new ArrayList<>(); // guarded by this
  private final List<ValidationError> validationErrors = new ArrayList<>(); // guarded by this
  private final BlockingQueue<RecordedSubmit> untaken = new LinkedBlockingQueue<>();

  synchronized void request(RecordedRequest request) {
    requests.add(request);
  }

  synchronized void submit(RecordedSubmit submit) {
    submits.add(submit);
    untaken.add(submit);
  }

  synchronized void problems(String path, List<Problem> problems) {
    for (Problem p : problems)
      validationErrors.add(new ValidationError(path, p.loc(), p.msg(), p.type()));
  }

  synchronized List<RecordedRequest> requests() {
    return List.copyOf(requests);
  }

  synchronized List<RecordedSubmit> submits() {
    return List.copyOf(submits);
  }

  synchronized List<ValidationError> validationErrors() {
    return List.copyOf(validationErrors);
  }

  RecordedSubmit take(Duration wait) {
    try {
      RecordedSubmit submit = untaken.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
      if (submit == null) {
        throw new IllegalStateException(
            "No submit arrived within "
                + wait.toSeconds()
                + " s; "
                + submits().size()
                + " were received in all, every one already taken");
      }
      return submit;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a submit", e);
    }
  }
}
