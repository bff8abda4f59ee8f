package dev.fluxbot.testkit.junit;

import dev.fluxbot.testkit.FakeSlack;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link FakeSlack} for each test, closed after it; the test fails if the app acked an envelope
 * later than Slack waits for it (Slack would have shown the user a timeout), awaited or not.
 */
public final class FakeSlackExtension extends FakeExtension<FakeSlack> {
  public FakeSlackExtension() {
    this(UnaryOperator.identity());
  }

  public FakeSlackExtension(UnaryOperator<FakeSlack.Builder> options) {
    super("FakeSlack", () -> options.apply(FakeSlack.builder()).start());
  }

  /** For tests that ack late on purpose. */
  public FakeSlackExtension allowingLateAcks() {
    violationsAllowed = true;
    return this;
  }

  @Override
  List<String> violations(FakeSlack slack) {
    return slack.lateAcks();
  }
}
