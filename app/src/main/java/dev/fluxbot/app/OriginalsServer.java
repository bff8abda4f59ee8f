package dev.fluxbot.app;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.core.bfl.BflWebhooks;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.store.JobStore;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bot's small web server: {@code GET <base>/originals/<job id>?exp=…&sig=…} answers a job's
 * stored original image when the link's signature holds and its time is not over. It reads the job
 * row and the image store and changes nothing. Every refusal is a short text that says what to do;
 * no request path (which holds a signature) reaches the log.
 *
 * <p>With BFL webhooks on, it also takes BFL's calls at {@code <base>/bfl/webhook} (POST) and hands
 * them to {@link BflWebhooks}, which checks their signature.
 */
final class OriginalsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OriginalsServer.class);
  private static final String JOB_ID = "[0-9A-HJKMNP-TV-Z]{26}";

  private final HttpServer http;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final SignedLinks links;
  private final JobStore jobs;
  private final ImageStore images;
  private final InstantSource clock;
  private volatile BflWebhooks hooks;

  private OriginalsServer(
      InetSocketAddress listen,
      SignedLinks links,
      JobStore jobs,
      ImageStore images,
      InstantSource clock)
      throws IOException {
    this.links = links;
    this.jobs = jobs;
    this.images = images;
    this.clock = clock;
    InetSocketAddress bind =
        listen.isUnresolved()
            ? new InetSocketAddress(listen.getHostString(), listen.getPort())
            : listen;
    if (bind.isUnresolved()) {
      throw new IOException("unknown host " + listen.getHostString());
    }
    this.http = HttpServer.create(bind, 64);
    http.createContext("/", this::handle);
    http.setExecutor(executor);
  }

  /**
   * Binds {@code listen} and starts serving.
   *
   * @throws FluxbotConfig.ConfigException when the address cannot be bound (in use, not this
   *     machine's)
   */
  static OriginalsServer start(
      InetSocketAddress listen,
      SignedLinks links,
      JobStore jobs,
      ImageStore images,
      InstantSource clock) {
    try {
      OriginalsServer server = new OriginalsServer(listen, links, jobs, images, clock);
      server.http.start();
      return server;
    } catch (IOException e) {
      throw new FluxbotConfig.ConfigException(
          "web.listen: cannot listen on "
              + listen.getHostString()
              + ":"
              + listen.getPort()
              + " ("
              + e.getMessage()
              + "); pick a free port, or an address of this machine.");
    }
  }

  /** Takes BFL's calls from now on. */
  void takeWebhooks(BflWebhooks hooks) {
    this.hooks = hooks;
  }

  /** Where it listens. */
  InetSocketAddress address() {
    return http.getAddress();
  }

  private void handle(HttpExchange exchange) {
    BflWebhooks h = hooks;
    if (h != null && h.url().getRawPath().equals(exchange.getRequestURI().getRawPath())) {
      webhook(exchange, h);
      return;
    }
    try (exchange) {
      Reply reply;
      try {
        reply =
            answer(
                exchange.getRequestMethod(),
                exchange.getRequestURI().getRawPath(),
                exchange.getRequestURI().getRawQuery());
      } catch (RuntimeException e) {
        log.warn("web: an original could not be served ({})", e.toString());
        reply =
            Reply.text(
                500, "The server could not read this image just now; try again in a minute.");
      }
      reply.send(exchange, "HEAD".equals(exchange.getRequestMethod()));
    } catch (IOException | UncheckedIOException e) {
      log.debug("web: the client went away ({})", e.toString());
    }
  }

  /** One call from BFL: 200 taken, 202 another instance's, 401 bad signature, 404 unknown. */
  private static void webhook(HttpExchange exchange, BflWebhooks hooks) {
    try (exchange) {
      Reply reply;
      if (!"POST".equals(exchange.getRequestMethod())) {
        reply = Reply.text(405, "Only POST works here.").withHeader("Allow", "POST");
      } else {
        byte[] body = exchange.getRequestBody().readNBytes(BflWebhooks.MAX_BODY_BYTES + 1);
        if (body.length > BflWebhooks.MAX_BODY_BYTES) {
          reply =
              Reply.text(413, "A BFL call is at most " + BflWebhooks.MAX_BODY_BYTES + " bytes.");
        } else {
          Map<String, String> headers = new HashMap<>();
          exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, String.join(",", v)));
          BflWebhooks.Receipt receipt = hooks.receive(body, headers);
          reply = Reply.text(receipt.status(), receiptText(receipt));
        }
      }
      reply.send(exchange, false);
    } catch (IOException | UncheckedIOException e) {
      log.debug("web: a BFL call went away ({})", e.toString());
    }
  }

  private static String receiptText(BflWebhooks.Receipt receipt) {
    return switch (receipt) {
      case TAKEN -> "ok";
      case LATE -> "ok (the job had finished already)";
      case ELSEWHERE -> "accepted (another instance's task)";
      case BAD_SIGNATURE -> "The signature does not match this installation's webhook secret.";
      case UNKNOWN_TASK -> "No job here waits for this task.";
      case REPLAYED -> "This task's call was taken already.";
    };
  }

  private Reply answer(String method, String rawPath, String rawQuery) {
    String base = links.basePath();
    String jobId =
        rawPath != null && rawPath.startsWith(base) ? rawPath.substring(base.length()) : null;
    if (jobId == null || !jobId.matches(JOB_ID)) {
      return Reply.text(
          404,
          "Not found. This server only serves originals of fluxbot images, at the links under them.");
    }
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      return Reply.text(405, "Only GET and HEAD work here.").withHeader("Allow", "GET, HEAD");
    }
    Map<String, String> query = query(rawQuery);
    String exp = query.get("exp");
    return switch (links.check(jobId, exp, query.get("sig"))) {
      case FORGED ->
          Reply.text(
              403,
              "This link is not valid: its signature does not match. Use the Original button "
                  + "under the image; a link that was changed or cut short does not work.");
      case EXPIRED ->
          Reply.text(
              403,
              "This link expired at "
                  + DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(Long.parseLong(exp)))
                  + "; links to originals work for "
                  + links.life().toDays()
                  + " days. Ask the bot's admin for the original of job "
                  + jobId
                  + " (fluxbot jobs show "
                  + jobId
                  + " -o FILE).");
      case VALID -> image(jobId, Long.parseLong(exp));
    };
  }

  private Reply image(String jobId, long exp) {
    Optional<JobStore.Job> job = jobs.find(jobId);
    if (job.isEmpty() || job.get().imageHash() == null) {
      return Reply.text(404, "Job " + jobId + " has no image on this server.");
    }
    JobStore.Job j = job.get();
    Optional<byte[]> bytes = images.get(j.imageHash());
    if (bytes.isEmpty()) {
      return Reply.text(
          404, "The original of job " + jobId + " is no longer stored on this server.");
    }
    long maxAge =
        Math.max(0, Duration.between(clock.instant(), Instant.ofEpochSecond(exp)).toSeconds());
    String file = "fluxbot-" + j.request().seed() + "." + j.imageType().extension();
    return new Reply(200, j.imageType().mediaType(), bytes.get(), Map.of())
        .withHeader("Content-Disposition", "attachment; filename=\"" + file + "\"")
        .withHeader("Cache-Control", "private, max-age=" + maxAge);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        try {
          out.putIfAbsent(
              URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          // a malformed escape: the parameter counts as absent, and the link as not valid
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }

  /** One answer: status, type, body and extra headers. */
  private record Reply(int status, String type, byte[] body, Map<String, String> headers) {
    Reply {
      headers = Map.copyOf(headers);
    }

    static Reply text(int status, String text) {
      return new Reply(
          status,
          "text/plain; charset=utf-8",
          (text + "\n").getBytes(StandardCharsets.UTF_8),
          Map.of());
    }

    Reply withHeader(String name, String value) {
      Map<String, String> more = new HashMap<>(headers);
      more.put(name, value);
      return new Reply(status, type, body, more);
    }

    void send(HttpExchange exchange, boolean headOnly) throws IOException {
      Headers h = exchange.getResponseHeaders();
      h.set("Content-Type", type);
      h.set("X-Content-Type-Options", "nosniff");
      h.set("Referrer-Policy", "no-referrer");
      if (status != 200) {
        h.set("Cache-Control", "no-store");
      }
      headers.forEach(h::set);
      if (headOnly) {
        h.set("Content-Length", Integer.toString(body.length));
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
