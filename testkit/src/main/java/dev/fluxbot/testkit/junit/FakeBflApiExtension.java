package dev.fluxbot.testkit.junit;

import dev.fluxbot.testkit.FakeBflApi;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A {@link FakeBflApi} for each test: {@code @RegisterExtension final FakeBflApiExtension bfl = new
 * FakeBflApiExtension(b -> b.key(KEY));} and {@code bfl.get()} in the test. After the test it is
 * closed, and the test fails if the client sent a request the fake found invalid or sent its key to
 * the delivery host.
 */
public final class FakeBflApiExtension extends FakeExtension<FakeBflApi> {
  public FakeBflApiExtension() {
    this(UnaryOperator.identity());
  }

  public FakeBflApiExtension(UnaryOperator<FakeBflApi.Builder> options) {
    super("FakeBflApi", () -> options.apply(FakeBflApi.builder()).start());
  }

  /** For tests that send invalid requests on purpose: they do not fail the test. */
  public FakeBflApiExtension allowingInvalidRequests() {
    violationsAllowed = true;
    return this;
  }

  @Override
  List<String> violations(FakeBflApi bfl) {
    List<String> found = new ArrayList<>();
    bfl.validationErrors().forEach(e -> found.add("invalid request: " + e));
    if (bfl.keySentToDelivery()) {
      found.add("the x-key header went to the delivery host");
    }
    return found;
  }
}
