package dev.fluxbot.bench;

import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.bfl.BflWebhooks;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.FakeBflApi;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;

/**
 * A latency probe, not a JMH benchmark: how long after BFL's task is {@code Ready} the image
 * reaches the chat platform's reply ({@link ChatReply#image}), with the real BFL client, a real
 * core on SQLite and the fake BFL over loopback. Three ways of learning that a task is ready are
 * measured in the same run, each on the same task durations (spread evenly over {@code min..max}
 * ms, like klein's on BFL):
 *
 * <ul>
 *   <li>{@code fixed}: as before issue 18, the first poll after 0.5 s, then every 0.5 s growing by
 *       half to 1 s;
 *   <li>{@code adaptive}: the first poll at the model's typical time, then 0.25 s growing to 1 s;
 *   <li>{@code webhook}: BFL's call to the web server (safety polls every 5 s).
 * </ul>
 *
 * <p>{@code java -cp bench/target/benchmarks.jar dev.fluxbot.bench.ReadyToChatProbe [jobs] [min ms]
 * [max ms] [model]}
 */
public final class ReadyToChatProbe {
  private ReadyToChatProbe() {}

  public static void main(String[] args) throws Exception {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    int min = args.length > 1 ? Integer.parseInt(args[1]) : 1800;
    int max = args.length > 2 ? Integer.parseInt(args[2]) : 2600;
    String model = args.length > 3 ? args[3] : "klein-4b";
    System.out.printf(
        "%d jobs per mode, %s, BFL tasks take %d..%d ms; delay from Ready to ChatReply.image%n",
        jobs, model, min, max);
    try (FakeBflApi bfl = FakeBflApi.start()) {
      for (String mode : List.of("fixed", "adaptive", "webhook")) {
        int polls = bfl.polls().size() + getResults(bfl);
        List<Long> delays = run(bfl, mode, jobs, min, max, model);
        print(mode, delays, (bfl.polls().size() + getResults(bfl) - polls) / (double) jobs);
      }
    }
  }

  private static List<Long> run(
      FakeBflApi bfl, String mode, int jobs, int min, int max, String model) throws Exception {
    Path dir = Fixtures.tempDir("ready-" + mode);
    BflConfig config =
        BflConfig.defaults(Secret.of(bfl.key())).withBaseUrl(URI.create(bfl.baseUrl()));
    if (mode.equals("fixed")) {
      config = config.withPolling(Duration.ofMillis(500), Duration.ofSeconds(1));
    }
    BflBackend backend =
        new BflBackend(
            config, new OkHttpClient(), InstantSource.system(), Sleeper.SYSTEM, new SecureRandom());
    HttpServer receiver = mode.equals("webhook") ? receiver(backend) : null;
    Database database = Fixtures.open("sqlite", dir);
    List<Long> delays = new ArrayList<>();
    try (FluxbotCore core =
        FluxbotCore.builder(database)
            .imagesIn(dir.resolve("images"))
            .backends(backend)
            .quotaSettings(
                new QuotaService.Settings(
                    ZoneOffset.UTC, QuotaService.Period.DAY, Long.MAX_VALUE / 4, 2, null))
            .build()) {
      ImagineService service = core.imagine();
      Requester who = new Requester("discord", "u1", "u1", "guild1", Set.of(), false);
      for (int i = 0; i < jobs; i++) {
        int work = jobs == 1 ? min : min + (max - min) * i / (jobs - 1);
        bfl.setWorkTime(Duration.ofMillis(work));
        Arrival arrival = new Arrival();
        service.imagine(
            new ImagineCommand(
                who, "a red fox in the snow --no-cache --model " + model, Map.of(), List.of()),
            arrival,
            "{}");
        ImageReply reply = arrival.image.get(60, TimeUnit.SECONDS);
        Instant ready = bfl.readyTime(reply.result().taskId()).orElseThrow();
        delays.add(Duration.between(ready, arrival.at).toMillis());
      }
    } finally {
      if (receiver != null) {
        receiver.stop(0);
      }
    }
    return delays;
  }

  /** Polls of guessed URLs on the API host (webhook mode's safety polls). */
  private static int getResults(FakeBflApi bfl) {
    return (int)
        bfl.requests(FakeBflApi.Host.API).stream()
            .filter(r -> r.path().equals("/v1/get_result"))
            .count();
  }

  /** A web server that takes the fake BFL's calls for {@code backend}. */
  private static HttpServer receiver(BflBackend backend) throws java.io.IOException {
    HttpServer receiver =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    BflWebhooks hooks =
        new BflWebhooks(
            URI.create("http://127.0.0.1:" + receiver.getAddress().getPort()),
            Secret.of("probe-secret-0123456789abcdef0123456789"),
            Duration.ofSeconds(5),
            InstantSource.system());
    receiver.createContext(
        BflWebhooks.PATH,
        exchange -> {
          try (exchange) {
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, v.get(0)));
            byte[] body = exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(hooks.receive(body, headers).status(), -1);
          }
        });
    receiver.start();
    backend.useWebhooks(hooks);
    return receiver;
  }

  private static void print(String mode, List<Long> delays, double pollsPerJob) {
    List<Long> sorted = new ArrayList<>(delays);
    sorted.sort(null);
    long p50 = sorted.get(sorted.size() / 2);
    long p90 = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.9) - 1));
    System.out.printf(
        "%-8s median %5d ms  p90 %5d ms  min %5d ms  max %5d ms  polls/job %.1f  (n=%d)%n",
        mode, p50, p90, sorted.get(0), sorted.get(sorted.size() - 1), pollsPerJob, sorted.size());
  }

  /** The moment the image reached the reply. */
  private static final class Arrival implements ChatReply {
    final CompletableFuture<ImageReply> image = new CompletableFuture<>();
    volatile Instant at;

    @Override
    public void accepted(String jobId, GenerationRequest request) {}

    @Override
    public void queued(int position) {}

    @Override
    public void progress(Progress progress) {}

    @Override
    public void image(ImageReply reply) {
      at = Instant.now();
      image.complete(reply);
    }

    @Override
    public void failed(UserError error) {
      image.completeExceptionally(error);
    }
  }
}
