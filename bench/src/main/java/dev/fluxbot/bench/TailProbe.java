package dev.fluxbot.bench;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

/**
 * A diagnostic, not a benchmark: where the slowest jobs spend their time. Runs the pipeline as
 * {@link PipelineBench} wires it, one job at a time, on one platform job thread (so its stack can
 * be sampled), samples the job thread's and the submitting thread's stacks every 0.2 ms, and prints
 * the percentiles and, for the jobs over 2 ms, the most frequent pairs of top frames with the first
 * fluxbot frame that is not plumbing. With {@code virtual}, jobs run on virtual threads as in the
 * app (then only the submitting thread is sampled).
 *
 * <p>{@code java -cp bench/target/benchmarks.jar dev.fluxbot.bench.TailProbe [shared|unique] [jobs]
 * [platform|virtual]}
 */
public final class TailProbe {
  public static void main(String[] args) throws Exception {
    boolean unique = args.length > 0 && args[0].equals("unique");
    int jobs = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
    Path dir = Fixtures.tempDir("probe");
    Database database = Fixtures.open("sqlite", dir);
    boolean virtual = args.length > 2 && args[2].equals("virtual");
    ExecutorService executor =
        virtual
            ? Executors.newVirtualThreadPerTaskExecutor()
            : Executors.newSingleThreadExecutor(r -> new Thread(r, "job"));
    Thread[] jobThread = new Thread[1];
    executor.submit(() -> jobThread[0] = Thread.currentThread()).get();
    FluxbotCore core =
        FluxbotCore.builder(database)
            .imagesIn(dir.resolve("images"))
            .executor(executor)
            .backends(new InstantBackend(unique))
            .quotaSettings(
                new QuotaService.Settings(
                    ZoneOffset.UTC, QuotaService.Period.DAY, Long.MAX_VALUE / 4, 2, null))
            .build();
    ImagineService service = core.imagine();
    Requester who = new Requester("discord", "u1", "u1", "guild1", Set.of(), false);
    ImagineCommand command =
        new ImagineCommand(who, "a red fox in the snow --no-cache", Map.of(), List.of());
    ConcurrentLinkedQueue<Object[]> samples = new ConcurrentLinkedQueue<>();
    Thread sampler = sampler(samples, virtual, jobThread, Thread.currentThread());
    long[] start = new long[jobs];
    long[] end = new long[jobs];
    for (int i = 0; i < 3000; i++) service.imagine(command, ChatReply.silent(), "{}");
    sampler.start();
    for (int i = 0; i < jobs; i++) {
      start[i] = System.nanoTime();
      service.imagine(command, ChatReply.silent(), "{}");
      end[i] = System.nanoTime();
    }
    sampler.interrupt();
    long[] d = new long[jobs];
    for (int i = 0; i < jobs; i++) d[i] = end[i] - start[i];
    printPercentiles(d);
    printFrames(samples, start, end, d);
    System.out.println(
        "WAL bytes at the end: " + java.nio.file.Files.size(dir.resolve("fluxbot.db-wal")));
    core.close();
    executor.shutdownNow();
    database.close();
    Fixtures.deleteTree(dir);
    System.exit(0);
  }

  /**
   * A daemon thread (not started) that adds {time, job thread's stack, main's stack} to {@code
   * samples} every 0.2 ms; the job thread's stack is empty with {@code virtual}.
   */
  private static Thread sampler(
      ConcurrentLinkedQueue<Object[]> samples, boolean virtual, Thread[] jobThread, Thread main) {
    Thread sampler =
        new Thread(
            () -> {
              while (!Thread.interrupted()) {
                long t = System.nanoTime();
                StackTraceElement[] js =
                    virtual ? new StackTraceElement[0] : jobThread[0].getStackTrace();
                StackTraceElement[] ms = main.getStackTrace();
                samples.add(new Object[] {t, js, ms});
                LockSupport.parkNanos(200_000);
              }
            });
    sampler.setDaemon(true);
    return sampler;
  }

  private static void printPercentiles(long[] d) {
    int jobs = d.length;
    long[] sorted = d.clone();
    Arrays.sort(sorted);
    System.out.printf(
        "p50 %d us, p90 %d, p99 %d, p99.9 %d%n",
        sorted[jobs / 2] / 1000,
        sorted[jobs * 9 / 10] / 1000,
        sorted[jobs * 99 / 100] / 1000,
        sorted[jobs * 999 / 1000] / 1000);
  }

  /**
   * Counts the samples taken during each job by their top frames, and prints the most frequent in
   * the jobs over 2 ms and in all.
   */
  private static void printFrames(
      ConcurrentLinkedQueue<Object[]> samples, long[] start, long[] end, long[] d) {
    int jobs = d.length;
    long threshold = 2_000_000;
    Map<String, Integer> slowFrames = new HashMap<>();
    Map<String, Integer> allFrames = new HashMap<>();
    List<Object[]> list = new ArrayList<>(samples);
    int slowSamples = 0;
    int idx = 0;
    for (Object[] s : list) {
      long t = (long) s[0];
      while (idx < jobs && end[idx] < t) idx++;
      if (idx >= jobs || start[idx] > t) continue;
      String key =
          describe((StackTraceElement[]) s[1]) + " | main: " + describe((StackTraceElement[]) s[2]);
      allFrames.merge(key, 1, Integer::sum);
      if (d[idx] > threshold) {
        slowFrames.merge(key, 1, Integer::sum);
        slowSamples++;
      }
    }
    System.out.println("samples in slow jobs: " + slowSamples + " of " + list.size());
    slowFrames.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(25)
        .forEach(e -> System.out.println(e.getValue() + "  " + e.getKey()));
    System.out.println("--- all");
    allFrames.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(15)
        .forEach(e -> System.out.println(e.getValue() + "  " + e.getKey()));
  }

  private static String describe(StackTraceElement[] st) {
    StringBuilder b = new StringBuilder();
    int n = 0;
    String firstFlux = null;
    for (StackTraceElement e : st) {
      if (n < 2) {
        b.append(e.getClassName().replaceAll(".*\\.", ""))
            .append('.')
            .append(e.getMethodName())
            .append(' ');
        n++;
      }
      if (firstFlux == null
          && e.getClassName().startsWith("dev.fluxbot")
          && !e.getClassName().endsWith("StatementCache")
          && !e.getClassName().endsWith("Database")
          && !e.getMethodName().startsWith("lambda")
          && !e.getMethodName().equals("update")
          && !e.getMethodName().equals("reservations")
          && !e.getMethodName().equals("query")) {
        firstFlux =
            e.getClassName().replaceAll(".*\\.", "")
                + "."
                + e.getMethodName()
                + ":"
                + e.getLineNumber();
      }
    }
    return b + "@" + firstFlux;
  }
}
