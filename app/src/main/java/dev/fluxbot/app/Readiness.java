package dev.fluxbot.app;

import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.chat.ChatConnection;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.runtime.LocalKleinBackend;
import dev.fluxbot.runtime.WorkerReport;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * What {@code /readyz} judges: the database answers a real query within {@link #TIMEOUT}, every
 * configured chat platform is connected, and at least one backend can serve (BFL with a key and
 * within its monthly budget, or a healthy local klein worker). Each check is {@code ok} or says in
 * a word or two what is wrong; no secret is ever in it.
 */
final class Readiness {
  /** The longest the database may take to answer a readiness check. */
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  static final String OK = "ok";

  private final Database db;
  private final QuotaService quota;
  private final BflBackend bfl;
  private final LocalKleinBackend local;
  private final Supplier<List<ChatConnection>> platforms;
  private volatile boolean stopping;
  private CompletableFuture<Void> query; // the database check in flight; guarded by this

  /**
   * @param bfl the BFL backend; null where there is none
   * @param local the local klein runtime; null where none is configured
   * @param platforms the chat platforms {@code run} started (or is starting)
   */
  Readiness(
      Database db,
      QuotaService quota,
      BflBackend bfl,
      LocalKleinBackend local,
      Supplier<List<ChatConnection>> platforms) {
    this.db = db;
    this.quota = quota;
    this.bfl = bfl;
    this.local = local;
    this.platforms = platforms;
  }

  /** Each check and its state, and whether all of them let the bot take work. */
  record Report(boolean ready, Map<String, String> checks, Map<String, String> details) {}

  /** From now on the bot is not ready: it is shutting down. */
  void stopping() {
    stopping = true;
  }

  Report check() {
    Map<String, String> checks = new LinkedHashMap<>();
    Map<String, String> details = new LinkedHashMap<>();
    String database = database();
    checks.put("database", database);
    boolean ready = database.equals(OK);
    for (ChatConnection platform : platforms.get()) {
      ChatConnection.Status status = platform.connection();
      checks.put(platform.platform(), status.connected() ? OK : status.state().word());
      if (!status.detail().isEmpty()) {
        details.put(platform.platform(), status.detail());
      }
      ready &= status.connected();
    }
    boolean served = false;
    if (bfl != null) {
      String state = bfl(database.equals(OK));
      checks.put("backend:" + bfl.name(), state);
      served = state.equals(OK);
    }
    if (local != null) {
      List<WorkerReport> workers = local.workers();
      long healthy = workers.stream().filter(WorkerReport::healthy).count();
      checks.put("backend:" + local.name(), healthy > 0 ? OK : "no healthy worker");
      details.put(
          "backend:" + local.name(), healthy + " of " + workers.size() + " worker(s) healthy");
      served |= healthy > 0;
    }
    if (stopping) {
      checks.put("process", "stopping");
    }
    return new Report(ready && served && !stopping, checks, details);
  }

  /** {@code ok}, {@code timeout}, or {@code error} with the kind of failure. */
  private String database() {
    CompletableFuture<Void> pending;
    synchronized (this) {
      if (query == null || query.isDone()) {
        query = CompletableFuture.runAsync(this::selectOne, r -> Thread.ofVirtual().start(r));
      }
      pending = query; // a check that still hangs is waited on again, not started twice
    }
    try {
      pending.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return OK;
    } catch (TimeoutException e) {
      return "timeout";
    } catch (ExecutionException e) {
      return "error";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private void selectOne() {
    db.read(
        c -> {
          try (Statement st = c.createStatement()) {
            st.setQueryTimeout((int) TIMEOUT.toSeconds());
            st.execute("SELECT 1");
          }
          return null;
        });
  }

  /** {@code ok}, {@code no key}, {@code over budget}, or {@code unknown} (the database failed). */
  private String bfl(boolean databaseAnswers) {
    if (bfl.config().apiKey() == null) {
      return "no key";
    }
    if (!databaseAnswers) {
      return "unknown";
    }
    try {
      return quota.bflSpendThisMonth().exhausted() ? "over budget" : OK;
    } catch (RuntimeException e) {
      return "unknown";
    }
  }
}
