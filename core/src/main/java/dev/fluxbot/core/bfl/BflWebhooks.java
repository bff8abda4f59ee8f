package dev.fluxbot.core.bfl;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.Secret;
import java.io.IOException;
import java.net.URI;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * BFL's callbacks: where a submit asks BFL to call ({@code webhook_url}, {@code webhook_secret}),
 * and the check of each call that comes back.
 *
 * <p>A call is taken only when it proves it knows the installation's secret: an {@code
 * X-BFL-Signature: sha256=<hex>} header that is the HMAC-SHA256 of the raw body under the secret
 * (BFL's integration notes), or an {@code X-Webhook-Secret} header equal to the secret (how BFL's
 * API reference describes the secret coming back). Both are compared in constant time. Anything
 * else is refused with 401 and changes nothing. A valid call for a task nobody here waits for is
 * 404 (kept a minute, in case the submit's answer is still on its way); a second call for the same
 * task is 404 too.
 *
 * <p>The waiting job treats the call's body like a poll's answer (status {@code Ready} with {@code
 * result.sample}, or a failure); a body it cannot read only wakes it to poll at once.
 */
public final class BflWebhooks {
  private static final Logger log = LoggerFactory.getLogger(BflWebhooks.class);

  /** Where the web server takes BFL's calls, below {@code web.public_url}. */
  public static final String PATH = "/bfl/webhook";

  /** The most a call's body may hold; BFL's are a few hundred bytes. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  /** How long a job that cannot poll its task waits for the call before it counts as missed. */
  static final Duration MISSING_AFTER = Duration.ofMinutes(2);

  /** Missed calls in a row after which submits stop asking for calls (until a restart). */
  static final int MISSES_TO_STOP = 3;

  private static final Duration EARLY_KEEP = Duration.ofMinutes(1);
  private static final int DONE_KEEP = 4096;
  private static final String MAC = "HmacSHA256";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final java.util.Set<String> TERMINAL =
      java.util.Set.of("Ready", "Error", "Request Moderated", "Content Moderated");

  private final URI url;
  private final Secret secret;
  private final Duration safetyPoll;
  private final InstantSource clock;
  private final Map<String, Waiter> waiting = new ConcurrentHashMap<>();
  private final Map<String, Early> early = new ConcurrentHashMap<>();
  private final Map<String, Boolean> done = lru(DONE_KEEP);
  private volatile Elsewhere elsewhere = Elsewhere.NONE;
  private final java.util.concurrent.atomic.AtomicInteger missesInARow =
      new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean stopped;

  /**
   * @param publicUrl the web server's public base ({@code web.public_url})
   * @param secret the installation's webhook secret, sent with each submit
   * @param safetyPoll how often a job still polls while it waits for the call
   */
  public BflWebhooks(URI publicUrl, Secret secret, Duration safetyPoll, InstantSource clock) {
    Objects.requireNonNull(publicUrl, "publicUrl");
    String base = publicUrl.toString();
    this.url =
        URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + PATH);
    this.secret = Objects.requireNonNull(secret, "secret");
    this.safetyPoll = Objects.requireNonNull(safetyPoll, "safetyPoll");
    if (safetyPoll.isNegative() || safetyPoll.isZero()) {
      throw new IllegalArgumentException("safetyPoll must be positive: " + safetyPoll);
    }
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The secret for one installation, derived from a longer key (the web server's link key). */
  public static Secret deriveSecret(byte[] key) {
    return Secret.of(HexFormat.of().formatHex(hmac(key, "fluxbot bfl webhook".getBytes(UTF_8))));
  }

  /** The {@code webhook_url} a submit carries. */
  public URI url() {
    return url;
  }

  /** The {@code webhook_secret} a submit carries. */
  Secret secret() {
    return secret;
  }

  /** Whether submits still ask for calls: false after {@value #MISSES_TO_STOP} missed in a row. */
  public boolean active() {
    return !stopped;
  }

  /**
   * Task {@code id} ended (or waited {@link #MISSING_AFTER}) without its call: BFL cannot reach
   * {@link #url()}, or drops calls. After {@value #MISSES_TO_STOP} in a row, submits poll only.
   */
  void missed(String id) {
    if (missesInARow.incrementAndGet() >= MISSES_TO_STOP && !stopped) {
      stopped = true;
      log.warn(
          "BFL webhooks: no call reached {} for the last {} tasks (last: {}); new tasks are "
              + "polled instead until fluxbot restarts. Check that web.public_url is reachable "
              + "from the internet and passes POST {} to fluxbot's web server.",
          url,
          MISSES_TO_STOP,
          id,
          PATH);
    } else {
      log.info("BFL webhooks: task {} ended without its call to {}", id, url);
    }
  }

  /** How often a waiting job polls anyway. */
  public Duration safetyPoll() {
    return safetyPoll;
  }

  /**
   * Where calls for other instances' tasks go: instances that share a database hand each other the
   * calls through it ({@code jobs.webhook_call}), since BFL calls whichever instance the public URL
   * reaches.
   */
  public interface Elsewhere {
    Elsewhere NONE =
        new Elsewhere() {
          @Override
          public boolean handOver(String taskId, String body) {
            return false;
          }

          @Override
          public Optional<String> handedOver(String taskId) {
            return Optional.empty();
          }
        };

    /** Keeps the call for the instance whose queued or running job waits for it; false: none. */
    boolean handOver(String taskId, String body);

    /** A call another instance kept for this task, if any. */
    Optional<String> handedOver(String taskId);
  }

  /** Sets where calls for tasks this instance does not wait for go. */
  public void elsewhere(Elsewhere elsewhere) {
    this.elsewhere = Objects.requireNonNull(elsewhere, "elsewhere");
  }

  /** A call for {@code id} that another instance took and kept, if any. */
  Optional<JsonNode> handedOver(String id) {
    return elsewhere
        .handedOver(id)
        .map(
            text -> {
              try {
                return MAPPER.readTree(text);
              } catch (IOException e) {
                return MAPPER.createObjectNode();
              }
            });
  }

  /** What a call got. */
  public enum Receipt {
    /** A waiting job has it. */
    TAKEN(200),
    /** Another instance's task: kept in the database for it. */
    ELSEWHERE(202),
    /** Its job had already finished by polling; nothing changes. */
    LATE(200),
    /** No valid proof of the secret. */
    BAD_SIGNATURE(401),
    /** No job waits for this task here (or no task id in the body). */
    UNKNOWN_TASK(404),
    /** This task's call was taken already. */
    REPLAYED(404);

    private final int status;

    Receipt(int status) {
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /**
   * Checks and hands over one call.
   *
   * @param headers the request's headers, names in any case
   */
  public Receipt receive(byte[] body, Map<String, String> headers) {
    Map<String, String> h = new java.util.HashMap<>();
    headers.forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v));
    if (!proves(body, h.get("x-bfl-signature"), h.get("x-webhook-secret"))) {
      log.warn(
          "BFL webhook refused: {} (401)",
          h.containsKey("x-bfl-signature") || h.containsKey("x-webhook-secret")
              ? "the signature does not match this installation's secret"
              : "no X-BFL-Signature or X-Webhook-Secret header");
      return Receipt.BAD_SIGNATURE;
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (IOException e) {
      node = null;
    }
    String id = node == null ? "" : node.path("id").asText(node.path("task_id").asText(""));
    if (id.isEmpty()) {
      log.warn("BFL webhook refused: its body names no task id (404)");
      return Receipt.UNKNOWN_TASK;
    }
    Boolean called;
    synchronized (done) {
      called = done.get(id);
    }
    if (Boolean.TRUE.equals(called)) {
      log.warn("BFL webhook for task {} refused: its call was taken already (404)", id);
      return Receipt.REPLAYED;
    }
    if (called != null) {
      log.debug("BFL webhook for task {}: its job had finished by polling already", id);
      return Receipt.LATE;
    }
    Waiter waiter = waiting.get(id);
    if (waiter != null) {
      if (!waiter.offer(node)) {
        log.warn("BFL webhook for task {} refused: its call was taken already (404)", id);
        return Receipt.REPLAYED;
      }
      missesInARow.set(0);
      return Receipt.TAKEN;
    }
    if (elsewhere.handOver(id, new String(body, UTF_8))) {
      log.debug("BFL webhook for task {}: kept for the instance that waits for it (202)", id);
      return Receipt.ELSEWHERE;
    }
    prune();
    if (early.putIfAbsent(id, new Early(node, clock.instant())) != null) {
      log.warn("BFL webhook for task {} refused: its call was taken already (404)", id);
      return Receipt.REPLAYED;
    }
    log.warn("BFL webhook for task {} refused: no job here waits for it (404)", id);
    return Receipt.UNKNOWN_TASK;
  }

  private boolean proves(byte[] body, String signature, String sharedSecret) {
    byte[] mine = secret.reveal().getBytes(UTF_8);
    if (signature != null) {
      String s = signature.strip();
      String hex = s.regionMatches(true, 0, "sha256=", 0, 7) ? s.substring(7) : s;
      byte[] given;
      try {
        given = HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        return false;
      }
      return MessageDigest.isEqual(hmac(mine, body), given);
    }
    return sharedSecret != null && MessageDigest.isEqual(mine, sharedSecret.getBytes(UTF_8));
  }

  /** The HMAC-SHA256 of {@code body} under {@code key}: what BFL sends as the signature. */
  public static byte[] hmac(byte[] key, byte[] body) {
    try {
      Mac mac = Mac.getInstance(MAC);
      mac.init(new SecretKeySpec(key, MAC));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(MAC + " is part of every JDK", e);
    }
  }

  /** Starts waiting for task {@code id}'s call; close the waiter when the task is over. */
  Waiter expect(String id) {
    Waiter waiter = new Waiter(id);
    waiting.put(id, waiter);
    Early e = early.remove(id);
    if (e != null) {
      waiter.offer(e.node());
    }
    return waiter;
  }

  private void prune() {
    Instant cutoff = clock.instant().minus(EARLY_KEEP);
    early.values().removeIf(e -> e.at().isBefore(cutoff));
  }

  private record Early(JsonNode node, Instant at) {}

  /** One job's wait for its task's calls. */
  final class Waiter implements AutoCloseable {
    private final String id;
    private final java.util.concurrent.BlockingQueue<JsonNode> calls =
        new java.util.concurrent.LinkedBlockingQueue<>();
    private volatile boolean arrived;
    private volatile boolean ended;

    private Waiter(String id) {
      this.id = id;
    }

    /** Takes a call; false once a call that ended the task was taken (a replay). */
    private synchronized boolean offer(JsonNode node) {
      if (ended) {
        return false;
      }
      JsonNode n = node == null ? MAPPER.createObjectNode() : node;
      ended = TERMINAL.contains(n.path("status").asText(""));
      arrived = true;
      calls.add(n);
      return true;
    }

    /** Whether a call came. */
    boolean arrived() {
      return arrived;
    }

    /**
     * Waits up to {@code limit} for the next call.
     *
     * @return empty when none came in time; the body (an empty node when unreadable) when one did
     */
    Optional<JsonNode> await(Duration limit) throws InterruptedException {
      return Optional.ofNullable(calls.poll(Math.max(0, limit.toMillis()), TimeUnit.MILLISECONDS));
    }

    @Override
    public void close() {
      waiting.remove(id, this);
      synchronized (done) {
        done.put(id, arrived);
      }
    }
  }

  private static <K, V> Map<K, V> lru(int max) {
    return new LinkedHashMap<>(16, 0.75f, false) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > max;
      }
    };
  }

  @Override
  public String toString() {
    return "BflWebhooks[" + url + "]";
  }
}
