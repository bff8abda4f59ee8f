package dev.fluxbot.testkit;

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
    String listen = "127.0.0.1:8188";
    String device = "cpu";
    String model = "klein-4b";
    String variant = "distilled";
    long stepDelayMs = 0;
    long loadMs = 0;
    int dieAfterStep = -1;
    java.nio.file.Path dieOnce = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "serve" -> {
          // the real worker's sub-command
        }
        case "--listen" -> listen = args[++i];
        case "--device" -> device = args[++i];
        case "--checkpoint" -> ++i;
        case "--model" -> model = args[++i];
        case "--variant" -> variant = args[++i];
        case "--step-delay-ms" -> stepDelayMs = Long.parseLong(args[++i]);
        case "--load-ms" -> loadMs = Long.parseLong(args[++i]);
        case "--die-after-step" -> dieAfterStep = Integer.parseInt(args[++i]);
        case "--die-once" -> dieOnce = java.nio.file.Path.of(args[++i]);
        default -> {
          System.err.println("fake klein worker: unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    java.nio.file.Path marker = dieOnce;
    int colon = listen.lastIndexOf(':');
    FakeKleinWorker worker =
        FakeKleinWorker.builder()
            .listen(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)))
            .model(model, variant)
            .device(device, "fake " + device, 0)
            .stepDelay(Duration.ofMillis(stepDelayMs))
            .status(loadMs > 0 ? "loading" : "ok")
            .onDie(
                () -> {
                  if (marker != null) {
                    try {
                      java.nio.file.Files.writeString(marker, "died");
                    } catch (java.io.IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  }
                  System.out.println("fake klein worker: dying as scripted");
                  System.out.flush();
                  Runtime.getRuntime().halt(137);
                })
            .start();
    if (dieAfterStep >= 0 && (marker == null || !java.nio.file.Files.exists(marker))) {
      worker.enqueue(KleinScenario.dieAfterStep(dieAfterStep));
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
    if (loadMs > 0) {
      Thread.sleep(loadMs); // the fake's stand-in for loading a model
      worker.setStatus("ok");
      System.out.println("fake klein worker: loaded");
    }
    stopped.await();
  }
}
