package dev.fluxbot.testkit.junit;

import dev.fluxbot.testkit.FakeDiscord;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link FakeDiscord} for each test, closed after it. The fake answers a broken rule as Discord
 * does (an error the bot sees) and keeps no list of them, so there is nothing more to check.
 */
public final class FakeDiscordExtension extends FakeExtension<FakeDiscord> {
  public FakeDiscordExtension() {
    this(UnaryOperator.identity());
  }

  public FakeDiscordExtension(UnaryOperator<FakeDiscord.Builder> options) {
    super("FakeDiscord", () -> options.apply(FakeDiscord.builder()).start());
  }

  @Override
  List<String> violations(FakeDiscord discord) {
    return List.of();
  }
}
