package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fluxbot.testkit.KleinPython;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The klein worker's own tests (Python's unittest, on the CPU, tiny random checkpoints), run as
 * part of {@code mvn verify} so that CI runs them with everything else.
 */
class WorkerPythonTestsTest {
  @Test
  void theWorkersUnitTestsPass() {
    assumeTrue(
        KleinPython.isAvailable() || KleinPython.isRequired(),
        "no Python with torch here (install python3-torch, or set FLUXBOT_REQUIRE_TORCH=1 to fail instead)");
    assertThat(KleinPython.isAvailable())
        .as(
            "%s imports torch, numpy, PIL and regex (apt-get install -y python3-torch"
                + " python3-numpy python3-pil python3-regex)",
            KleinPython.interpreter())
        .isTrue();

    KleinPython.Result r =
        KleinPython.run(
            KleinPython.workerDir(), 900, "-m", "unittest", "discover", "-s", "tests", "-t", ".");
    System.out.println(r.output());

    assertThat(r.exitCode()).as("unittest's exit code; its output:\n%s", r.output()).isZero();
    Matcher ran = Pattern.compile("Ran (\\d+) tests?").matcher(r.output());
    assertThat(ran.find()).as("unittest says how many tests ran").isTrue();
    assertThat(Integer.parseInt(ran.group(1))).as("tests found").isGreaterThan(100);
  }
}
