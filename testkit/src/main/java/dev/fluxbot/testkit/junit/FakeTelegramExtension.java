package dev.fluxbot.testkit.junit;

import dev.fluxbot.testkit.FakeTelegram;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link FakeTelegram} for each test, closed after it; the test fails if the bot broke the fake's
 * {@code Pace} (a message or edit too soon after the chat's previous one).
 */
public final class FakeTelegramExtension extends FakeExtension<FakeTelegram> {
  public FakeTelegramExtension() {
    this(UnaryOperator.identity());
  }

  public FakeTelegramExtension(UnaryOperator<FakeTelegram.Builder> options) {
    super("FakeTelegram", () -> options.apply(FakeTelegram.builder()).start());
  }

  /** For tests that break the pace on purpose. */
  public FakeTelegramExtension allowingPaceViolations() {
    violationsAllowed = true;
    return this;
  }

  @Override
  List<String> violations(FakeTelegram telegram) {
    return telegram.paceViolations().stream().map(v -> "too soon: " + v).toList();
  }
}
