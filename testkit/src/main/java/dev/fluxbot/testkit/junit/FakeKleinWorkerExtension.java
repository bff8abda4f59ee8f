package dev.fluxbot.testkit.junit;

import dev.fluxbot.testkit.FakeKleinWorker;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link FakeKleinWorker} for each test, closed after it. The fake answers an invalid generate
 * with 400, as the worker does, and records it among {@code generates()}; whether that was the
 * client's mistake or the test's intent is the test's to say, so nothing more is checked here.
 */
public final class FakeKleinWorkerExtension extends FakeExtension<FakeKleinWorker> {
  public FakeKleinWorkerExtension() {
    this(UnaryOperator.identity());
  }

  public FakeKleinWorkerExtension(UnaryOperator<FakeKleinWorker.Builder> options) {
    super("FakeKleinWorker", () -> options.apply(FakeKleinWorker.builder()).start());
  }

  @Override
  List<String> violations(FakeKleinWorker worker) {
    return List.of();
  }
}
