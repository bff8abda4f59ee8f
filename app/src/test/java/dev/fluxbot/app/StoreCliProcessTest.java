package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quotas, the seed cache, jobs and a crash, through the real CLI as child processes on one data
 * folder.
 */
class StoreCliProcessTest {
  private static final String KEY = "sk-store-test-0000";

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(KEY));
  private final FakeBflApi fake = bflFake.get();

  @TempDir Path dir;

  record Run(int exit, String out, String err) {
    String all() {
      return out + err;
    }
  }

  private ProcessBuilder builder(String... args) {
    return FluxbotProcess.builder(
        dir, Map.of("BFL_API_KEY", KEY, "FLUXBOT_BFL_BASE_URL", fake.baseUrl()), args);
  }

  private Run fluxbot(String... args) throws Exception {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("fluxbot finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void theSameSeedTwiceIsAnsweredFromTheCacheAndSaysSo() throws Exception {
    Run first =
        fluxbot("imagine", "a red fox --seed 42 --model pro", "--user", "alice", "-o", "a.jpg");
    assertThat(first.exit()).as(first.all()).isZero();
    assertThat(first.out()).contains("3 credits");
    Run second =
        fluxbot("imagine", "a red fox --seed 42 --model pro", "--user", "alice", "-o", "b.jpg");
    assertThat(second.exit()).as(second.all()).isZero();
    assertThat(second.out()).contains("cached (free)");
    assertThat(Files.readAllBytes(dir.resolve("b.jpg")))
        .isEqualTo(Files.readAllBytes(dir.resolve("a.jpg")));
    assertThat(fake.submits()).hasSize(1);

    Run json = fluxbot("imagine", "a red fox --seed 42 --model pro", "--json");
    assertThat(json.out()).contains("\"cached\":true");
    assertThat(fake.submits()).hasSize(1);

    Run fresh = fluxbot("imagine", "a red fox --seed 42 --model pro --no-cache", "-o", "c.jpg");
    assertThat(fresh.exit()).isZero();
    assertThat(fake.submits()).hasSize(2);
  }

  @Test
  void quotasAreSetShownEnforcedGrantedAndReported() throws Exception {
    Run set = fluxbot("quota", "set", "--user", "alice", "--credits", "5", "--period", "day");
    assertThat(set.exit()).as(set.all()).isZero();
    assertThat(set.out()).contains("Set user cli:alice in every scope to 5 credits per day.");

    assertThat(fluxbot("imagine", "a fox --model pro", "--user", "alice", "-o", "1.jpg").exit())
        .isZero();
    Run over = fluxbot("imagine", "a fox --model pro --seed 1", "--user", "alice", "-o", "2.jpg");
    assertThat(over.exit()).isEqualTo(2);
    assertThat(over.err())
        .contains(
            "You have 2 of 5 credits left today; this image needs 3 (pro). Resets at 00:00 UTC");
    assertThat(fake.submits()).hasSize(1);

    Run show = fluxbot("quota", "show", "--user", "alice");
    assertThat(show.out()).contains("cli:alice: 2 of 5 credits left today (spent 3");

    assertThat(fluxbot("quota", "grant", "--user", "alice", "--credits", "10").exit()).isZero();
    assertThat(
            fluxbot("imagine", "a fox --model pro --seed 1", "--user", "alice", "-o", "2.jpg")
                .exit())
        .isZero();

    assertThat(fluxbot("imagine", "a fox --model pro --seed 9", "-o", "3.jpg").exit()).isZero();

    Run usage = fluxbot("quota", "usage");
    assertThat(usage.out())
        .containsPattern("cli:alice\\s+pro\\s+2\\s+6")
        .as("the operator's images are listed, and were never debited")
        .containsPattern("operator \\(not debited\\)\\s+pro\\s+1\\s+3");

    assertThat(fluxbot("quota", "reset", "--user", "alice").out())
        .contains("Reset cli:alice.")
        .contains("5 of 5");
  }

  @Test
  void aBannedUserIsRefusedUntilUnbanned() throws Exception {
    assertThat(fluxbot("quota", "ban", "--user", "mallory", "--reason", "spam").out())
        .contains("Banned cli:mallory (spam).");
    Run refused = fluxbot("imagine", "a fox", "--user", "mallory");
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("banned").contains("spam");
    assertThat(fake.submits()).isEmpty();
    fluxbot("quota", "unban", "--user", "mallory");
    assertThat(fluxbot("imagine", "a fox", "--user", "mallory", "-o", "m.jpg").exit()).isZero();
  }

  @Test
  void jobsAreListedAndShown() throws Exception {
    Run made =
        fluxbot("imagine", "a lighthouse --seed 3", "--user", "alice", "--json", "-o", "l.jpg");
    String id = made.out().replaceAll("(?s).*\"job_id\":\"([0-9A-Z]{26})\".*", "$1").trim();
    Run list = fluxbot("jobs", "list");
    assertThat(list.out())
        .contains(id)
        .contains("SUCCEEDED")
        .contains("cli:alice")
        .contains("a lighthouse");
    Run show = fluxbot("jobs", "show", id);
    assertThat(show.out())
        .contains("state:       SUCCEEDED")
        .contains("seed:        3")
        .contains("klein-4b");
    assertThat(fluxbot("jobs", "show", "NOPE").exit()).isEqualTo(2);
    assertThat(fluxbot("jobs", "cancel", id).err()).contains("has already ended (SUCCEEDED)");
  }

  @Test
  void jobsShowWritesTheStoredImageWithDashO() throws Exception {
    Run made = fluxbot("imagine", "a lighthouse --seed 3 --format png", "--json", "-o", "l.png");
    String id = made.out().replaceAll("(?s).*\"job_id\":\"([0-9A-Z]{26})\".*", "$1").trim();
    Run show = fluxbot("jobs", "show", id, "-o", "copies/again.png");
    assertThat(show.exit()).as(show.all()).isZero();
    byte[] original = Files.readAllBytes(dir.resolve("l.png"));
    assertThat(show.out())
        .contains("state:       SUCCEEDED")
        .contains("Wrote copies/again.png (png, " + original.length + " bytes).");
    assertThat(Files.readAllBytes(dir.resolve("copies/again.png"))).isEqualTo(original);

    fake.enqueue(Scenario.moderated("Content Moderated", "Derivative Works Filter"));
    assertThat(fluxbot("imagine", "a blocked thing --seed 4", "-o", "b.jpg").exit()).isEqualTo(1);
    String blocked =
        fluxbot("jobs", "list")
            .out()
            .lines()
            .filter(l -> l.contains("MODERATED"))
            .findFirst()
            .orElseThrow()
            .substring(0, 26);
    Run none = fluxbot("jobs", "show", blocked, "-o", "none.jpg");
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err())
        .contains(
            "fluxbot: job "
                + blocked
                + " has no image (it is MODERATED); only a job that "
                + "succeeded has one.");
    assertThat(dir.resolve("none.jpg")).doesNotExist();
  }

  @Test
  void aProcessKilledMidJobIsFinishedByResumeWithoutASecondSubmitOrCharge() throws Exception {
    List<String> walk = new ArrayList<>(Collections.nCopies(10, "Pending"));
    walk.addAll(List.of("Generating", "Ready"));
    fake.enqueue(Scenario.statuses(walk.toArray(String[]::new)));
    Process doomed =
        builder("imagine", "a fox in snow --seed 9 --model pro", "--user", "alice", "-o", "fox.png")
            .redirectOutput(dir.resolve("doomed.out").toFile())
            .redirectError(dir.resolve("doomed.err").toFile())
            .start();
    Await.until(
        "two polls, or the process gone",
        Duration.ofSeconds(60),
        () -> fake.polls().size() >= 2 || !doomed.isAlive());
    assertThat(fake.polls())
        .as(Files.readString(dir.resolve("doomed.err")))
        .hasSizeGreaterThanOrEqualTo(2);
    doomed.destroyForcibly();
    assertThat(doomed.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(dir.resolve("fox.png")).doesNotExist();
    assertThat(fluxbot("jobs", "list").out()).contains("RUNNING");

    Run resume = fluxbot("jobs", "resume");
    assertThat(resume.exit()).as(resume.all()).isZero();
    assertThat(resume.out())
        .contains("Finished")
        .contains("seed 9")
        .contains("Resumed 1 job(s), 0 failed.");
    BufferedImage image = ImageIO.read(dir.resolve("fox.png").toFile());
    assertThat(image.getWidth()).isEqualTo(1024);
    assertThat(fake.submits()).as("the task was polled again, not submitted again").hasSize(1);
    assertThat(fluxbot("jobs", "list").out()).contains("SUCCEEDED").doesNotContain("RUNNING");
    assertThat(fluxbot("quota", "show", "--user", "alice").out())
        .contains("spent 3,")
        .contains("held by running jobs 0,");
    assertThat(fluxbot("jobs", "resume").out()).contains("Nothing to resume.");
  }

  @Test
  void resumeBesideARunningImagineLeavesItsJobToIt() throws Exception {
    List<String> walk = new ArrayList<>(Collections.nCopies(20, "Pending"));
    walk.add("Ready");
    fake.enqueue(Scenario.statuses(walk.toArray(String[]::new)));
    Process running =
        builder("imagine", "a slow fox --seed 5 --model pro", "--user", "bob", "-o", "slow.png")
            .redirectOutput(dir.resolve("running.out").toFile())
            .redirectError(dir.resolve("running.err").toFile())
            .start();
    Await.until(
        "a poll, or the process gone",
        Duration.ofSeconds(60),
        () -> !fake.polls().isEmpty() || !running.isAlive());
    Run resume = fluxbot("jobs", "resume");
    boolean overlapped = running.isAlive();
    assertThat(resume.exit()).as(resume.all()).isZero();
    assertThat(resume.out()).contains("Nothing to resume.");
    assertThat(running.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(running.exitValue()).as(Files.readString(dir.resolve("running.err"))).isZero();
    assertThat(overlapped).as("the resume ran while the imagine was polling").isTrue();
    assertThat(fake.submits()).as("one submit: the resume took nothing").hasSize(1);
    assertThat(fluxbot("quota", "show", "--user", "bob").out()).contains("spent 3,");
  }
}
