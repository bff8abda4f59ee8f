package dev.fluxbot.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@link FakeKleinWorker} as a child process with the real worker's command line, so the runtime's
 * supervisor can start it in place of Python: {@code FakeKleinWorkerMain [fake options] serve
 * --checkpoint P --device D --listen HOST:PORT}.
 *
 * <p>Fake options: {@code --model M}, {@code --variant V}, {@code --step-delay-ms N}, {@code
 * --load-ms N} (health says loading that long after the start), {@code --die-after-step K} (the
 * first generate halts the whole process after step K), {@code --die-once FILE} (only when FILE
 * does not exist yet; dying creates it, so a restarted process serves). It prints one line when it
 * listens, serves until stopped, and exits on SIGTERM.
 */
public final class FakeKleinWorkerMain {
  private FakeKleinWorkerMain() {}

  public static void main(String[] args) throws InterruptedException {
    Options o = Options.parse(args);
    FakeKleinWorker worker = start(o);
    if (o.dieAfterStep >= 0 && (o.dieOnce == null || !Files.exists(o.dieOnce))) {
      worker.enqueue(KleinScenario.dieAfterStep(o.dieAfterStep));
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  worker.close();
                  stopped.countDown();
                }));
    System.out.println(
        "fake klein worker: listening on "
            + worker.url()
            + " (pid "
            + ProcessHandle.current().pid()
            + ")");
    System.out.flush();
    if (o.loadMs > 0) {
      Thread.sleep(o.loadMs); // the fake's stand-in for loading a model
      worker.setStatus("ok");
      System.out.println("fake klein worker: loaded");
    }
    stopped.await();
  }

  private static FakeKleinWorker start(Options o) {
    int colon = o.listen.lastIndexOf(':');
    return FakeKleinWorker.builder()
        .listen(o.listen.substring(0, colon), Integer.parseInt(o.listen.substring(colon + 1)))
        .model(o.model, o.variant)
        .device(o.device, "fake " + o.device, 0)
        .stepDelay(Duration.ofMillis(o.stepDelayMs))
        .status(o.loadMs > 0 ? "loading" : "ok")
        .onDie(() -> die(o.dieOnce))
        .start();
  }

  /** A scripted death: the marker written (when there is one), then the whole process halts. */
  private static void die(Path marker) {
    if (marker != null) {
      try {
        Files.writeString(marker, "died");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    System.out.println("fake klein worker: dying as scripted");
    System.out.flush();
    Runtime.getRuntime().halt(137);
  }

  /** The command line: the real worker's, and the fake's own options. */
  private static final class Options {
    String listen = "127.0.0.1:8188";
    String device = "cpu";
    String model = "klein-4b";
    String variant = "distilled";
    long stepDelayMs;
    long loadMs;
    int dieAfterStep = -1;
    Path dieOnce;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "serve" -> {
            // the real worker's sub-command
          }
          case "--listen" -> o.listen = args[++i];
          case "--device" -> o.device = args[++i];
          case "--checkpoint" -> ++i;
          case "--model" -> o.model = args[++i];
          case "--variant" -> o.variant = args[++i];
          case "--step-delay-ms" -> o.stepDelayMs = Long.parseLong(args[++i]);
          case "--load-ms" -> o.loadMs = Long.parseLong(args[++i]);
          case "--die-after-step" -> o.dieAfterStep = Integer.parseInt(args[++i]);
          case "--die-once" -> o.dieOnce = Path.of(args[++i]);
          default -> {
            System.err.println("fake klein worker: unknown argument " + args[i]);
            System.exit(2);
          }
        }
      }
      return o;
    }
  }
}
