package dev.fluxbot.testkit;

import java.util.concurrent.CountDownLatch;

/**
 * Runs {@link FakeBflApi} on its own, for trying fluxbot without a BFL account: prints the base URL
 * and key to use, then serves until the process is stopped. Every submit gets the default walk
 * (Pending, Generating, Ready) and a rendered image of the requested size and format.
 */
public final class FakeBflApiMain {
  private FakeBflApiMain() {}

  public static void main(String[] args) throws InterruptedException {
    FakeBflApi fake =
        FakeBflApi.builder().key(args.length > 0 ? args[0] : FakeBflApi.DEFAULT_KEY).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  fake.close();
                  stopped.countDown();
                }));
    System.out.println("FLUXBOT_BFL_BASE_URL=" + fake.baseUrl());
    System.out.println("BFL_API_KEY=" + fake.key());
    System.out.flush();
    stopped.await();
  }
}
