package dev.fluxbot.testkit.junit;

import dev.fluxbot.testkit.FakeChatCompletions;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link FakeChatCompletions} for each test: {@code @RegisterExtension final
 * FakeChatCompletionsExtension llm = new FakeChatCompletionsExtension(b -> b.key(KEY));} and {@code
 * llm.get()} in the test. After the test it is closed, and the test fails if the client sent a chat
 * completion the wire format does not allow (a wrong key is the test's to check).
 */
public final class FakeChatCompletionsExtension extends FakeExtension<FakeChatCompletions> {
  public FakeChatCompletionsExtension() {
    this(UnaryOperator.identity());
  }

  public FakeChatCompletionsExtension(UnaryOperator<FakeChatCompletions.Builder> options) {
    super("FakeChatCompletions", () -> options.apply(FakeChatCompletions.builder()).start());
  }

  @Override
  List<String> violations(FakeChatCompletions fake) {
    return fake.violations();
  }
}
