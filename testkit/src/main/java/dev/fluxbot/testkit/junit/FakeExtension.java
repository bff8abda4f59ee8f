package dev.fluxbot.testkit.junit;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestInstancePreDestroyCallback;

/**
 * Runs one fake for one test: started before it (or on the first {@link #get()}, e.g. from a field
 * initializer), closed after it and its {@code @AfterEach} methods; then the test fails if the fake
 * recorded a protocol violation by the client, unless {@link #violationsAllowed} says otherwise.
 */
abstract class FakeExtension<F extends AutoCloseable>
    implements BeforeEachCallback, AfterEachCallback, TestInstancePreDestroyCallback {
  private final String name;
  private final Supplier<F> starter;
  private F fake;
  boolean violationsAllowed;

  FakeExtension(String name, Supplier<F> starter) {
    this.name = name;
    this.starter = starter;
  }

  /** The running fake, started now if it was not yet. */
  public final synchronized F get() {
    if (fake == null) {
      fake = starter.get();
    }
    return fake;
  }

  /** What the client did wrong, one line each; empty when nothing. */
  abstract List<String> violations(F fake);

  @Override
  public final void beforeEach(ExtensionContext context) {
    get();
  }

  @Override
  public final void afterEach(ExtensionContext context) throws Exception {
    F closed = close();
    List<String> found = closed == null || violationsAllowed ? List.of() : violations(closed);
    if (!found.isEmpty()) {
      throw new AssertionError(
          name + " recorded protocol violations by the client:\n  " + String.join("\n  ", found));
    }
  }

  /** Closes a fake the test never ran (e.g. a disabled one) but a field initializer started. */
  @Override
  public final void preDestroyTestInstance(ExtensionContext context) throws Exception {
    close();
  }

  private synchronized F close() throws Exception {
    F running = fake;
    fake = null;
    if (running != null) {
      running.close();
    }
    return running;
  }
}
