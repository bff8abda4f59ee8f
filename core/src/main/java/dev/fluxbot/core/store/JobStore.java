package dev.fluxbot.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.Credits;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every job as a row: what was asked, by whom, where the answer goes, how far it got. A restart
 * reads the unfinished ones back from here.
 */
public final class JobStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A job's life: {@code QUEUED → RUNNING → SUCCEEDED | FAILED | MODERATED | CANCELLED}. */
  public enum State {
    QUEUED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    MODERATED,
    CANCELLED;

    public boolean isTerminal() {
      return this != QUEUED && this != RUNNING;
    }
  }

  /**
   * One job row.
   *
   * @param replyAddress the adapter's own JSON for where the answer goes (a channel and message, a
   *     file)
   * @param task the backend task it started, once there is one
   */
  public record Job(
      String id,
      Requester requester,
      String commandText,
      GenerationRequest request,
      List<String> referenceHashes,
      String replyAddress,
      State state,
      String fingerprint,
      String backend,
      BackendTask task,
      long estimateMilli,
      Long costMilli,
      boolean cached,
      String imageHash,
      ImageType imageType,
      Integer width,
      Integer height,
      String parentJobId,
      ImageReply.FollowUp followUp,
      Instant createdAt,
      Instant startedAt,
      Instant finishedAt,
      UserError.Code errorCode,
      String errorMessage) {
    public Job {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(requester, "requester");
      Objects.requireNonNull(request, "request");
      referenceHashes = List.copyOf(referenceHashes);
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(createdAt, "createdAt");
    }

    /** A new job, not yet run. */
    public static Job queued(
        String id,
        Requester requester,
        String commandText,
        GenerationRequest request,
        List<String> referenceHashes,
        String replyAddress,
        String fingerprint,
        long estimateMilli,
        String parentJobId,
        ImageReply.FollowUp followUp,
        Instant now) {
      return new Job(
          id,
          requester,
          commandText,
          request,
          referenceHashes,
          replyAddress,
          State.QUEUED,
          fingerprint,
          null,
          null,
          estimateMilli,
          null,
          false,
          null,
          null,
          null,
          null,
          parentJobId,
          followUp,
          now,
          null,
          null,
          null,
          null);
    }
  }

  private final Database db;
  private final ModelCatalog catalog;
  private final InstantSource clock;
  private final Owner owner;

  /** A store whose jobs belong to {@link Owner#local()}, the single-instance default. */
  public JobStore(Database db, ModelCatalog catalog, InstantSource clock) {
    this(db, catalog, clock, Owner.local());
  }

  /**
   * @param owner the instance this store creates and changes jobs for: every change to a running
   *     job is made only while the row still names it (see {@link LeaseLostException})
   */
  public JobStore(Database db, ModelCatalog catalog, InstantSource clock, Owner owner) {
    this.db = Objects.requireNonNull(db, "db");
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.owner = Objects.requireNonNull(owner, "owner");
  }

  /** The instance this store acts for. */
  /** The database, for the stores that keep rows beside the jobs' ({@link JobGroups}). */
  Database database() {
    return db;
  }

  public Owner owner() {
    return owner;
  }

  /**
   * Runs {@code work} in one transaction of this store's database: the job store's calls in it, and
   * those of the quota ledger and the seed history where they share the database, commit together
   * or not at all. What {@code work} throws rolls all of it back and is thrown here.
   */
  public <T> T atomically(java.util.function.Supplier<T> work) {
    Objects.requireNonNull(work, "work");
    return db.transaction(c -> work.get());
  }

  public void create(Job job) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  """
          INSERT INTO jobs (id, platform, user_id, scope_id, requester, command_text, request, reference_hashes,
            reply_address, state, model, seed, fingerprint, backend, task_id, polling_url, estimate_milli,
            cost_milli, cached, image_hash, image_type, width, height, parent_job_id, follow_up, created_at,
            started_at, finished_at, error_code, error_message, owner, lease_until)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
            Requester r = job.requester();
            int i = 0;
            st.setString(++i, job.id());
            st.setString(++i, r.platform());
            st.setString(++i, r.userId());
            st.setString(++i, scopeOf(r));
            st.setString(++i, requesterJson(r));
            st.setString(++i, job.commandText());
            st.setString(++i, requestJson(job.request()));
            st.setString(++i, JSON.writeValueAsString(job.referenceHashes()));
            st.setString(++i, job.replyAddress());
            st.setString(++i, job.state().name());
            st.setString(++i, job.request().model().id());
            st.setLong(++i, job.request().seed());
            st.setString(++i, job.fingerprint());
            st.setString(++i, job.backend());
            st.setString(++i, job.task() == null ? null : job.task().taskId());
            st.setString(++i, job.task() == null ? null : job.task().resumeUrl());
            st.setLong(++i, job.estimateMilli());
            setLong(st, ++i, job.costMilli());
            st.setInt(++i, job.cached() ? 1 : 0);
            st.setString(++i, job.imageHash());
            st.setString(++i, job.imageType() == null ? null : job.imageType().apiName());
            setInt(st, ++i, job.width());
            setInt(st, ++i, job.height());
            st.setString(++i, job.parentJobId());
            st.setString(++i, job.followUp() == null ? null : job.followUp().id());
            st.setLong(++i, job.createdAt().toEpochMilli());
            setLong(st, ++i, job.startedAt() == null ? null : job.startedAt().toEpochMilli());
            setLong(st, ++i, job.finishedAt() == null ? null : job.finishedAt().toEpochMilli());
            st.setString(++i, job.errorCode() == null ? null : job.errorCode().name());
            st.setString(++i, job.errorMessage());
            st.setString(++i, owner.id());
            st.setLong(++i, leaseEnd());
            st.executeUpdate();
          } catch (JsonProcessingException e) {
            throw new IllegalStateException("job " + job.id() + " cannot be written as JSON", e);
          }
          return null;
        });
  }

  /**
   * QUEUED → RUNNING on a backend, without checking any cap (see {@link JobLeases#start} for the
   * installation's caps); false if the job is no longer queued (cancelled meanwhile) or no longer
   * this instance's.
   */
  public boolean markRunning(String id, String backend) {
    return update(
            "UPDATE jobs SET state = 'RUNNING', backend = ?, started_at = ?, lease_until = ?, wait_since = NULL"
                + " WHERE id = ? AND owner = ? AND state IN ('QUEUED', 'RUNNING')",
            backend,
            clock.millis(),
            leaseEnd(),
            id,
            owner.id())
        == 1;
  }

  /**
   * Stores the backend's task, so a restart polls it instead of starting it again.
   *
   * @throws LeaseLostException when another instance has taken the job over
   */
  public void recordTask(String id, BackendTask task) {
    Long costMilli = task.cost() == null ? null : Credits.milli(task.cost());
    int changed =
        update(
            "UPDATE jobs SET task_id = ?, polling_url = ?, task_cost_milli = ? WHERE id = ? AND owner = ?",
            task.taskId(),
            task.resumeUrl(),
            costMilli,
            id,
            owner.id());
    if (changed == 0) {
      throw new LeaseLostException(id);
    }
  }

  /**
   * The job made its image. It stays this instance's until its answer is delivered (a job with no
   * reply address has nothing to deliver and is let go at once).
   *
   * @throws LeaseLostException when the job has ended or is another instance's now: inside {@link
   *     #atomically}, that rolls back the charge that goes with it
   */
  public void succeed(
      String id,
      long costMilli,
      String imageHash,
      ImageType type,
      int width,
      int height,
      boolean cached) {
    int changed =
        update(
            "UPDATE jobs SET state = 'SUCCEEDED', cost_milli = ?, image_hash = ?, image_type = ?, width = ?, height = ?,"
                + " cached = ?, finished_at = ?, error_code = NULL, error_message = NULL, wait_since = NULL,"
                + " lease_until = CASE WHEN reply_address IS NULL THEN NULL ELSE ? END"
                + " WHERE id = ? AND owner = ? AND state IN ('QUEUED', 'RUNNING')",
            costMilli,
            imageHash,
            type.apiName(),
            width,
            height,
            cached ? 1 : 0,
            clock.millis(),
            leaseEnd(),
            id,
            owner.id());
    if (changed == 0) {
      throw new LeaseLostException(id);
    }
  }

  /**
   * Ends a job without an image; the state follows from the error (moderated, cancelled, failed).
   * Its user is told at once, so its reply address (a possible credential) is dropped.
   *
   * @return false where the job had already ended or is another instance's (nothing changed)
   */
  public boolean fail(String id, UserError error) {
    return end(id, error, "owner = ? AND state IN ('QUEUED', 'RUNNING')", owner.id());
  }

  /**
   * Ends a job that has not started yet, whichever instance owns it (a user's cancel can reach any
   * instance); its owner finds it ended when it comes to start it.
   *
   * @return false where the job is not queued (any more)
   */
  public boolean failQueued(String id, UserError error) {
    return end(id, error, "state = 'QUEUED'");
  }

  private boolean end(String id, UserError error, String condition, Object... args) {
    State state =
        switch (error.code()) {
          case MODERATED -> State.MODERATED;
          case CANCELLED -> State.CANCELLED;
          default -> State.FAILED;
        };
    Object[] all = new Object[5 + args.length];
    all[0] = state.name();
    all[1] = clock.millis();
    all[2] = error.code().name();
    all[3] = error.getMessage();
    all[4] = id;
    System.arraycopy(args, 0, all, 5, args.length);
    return update(
            "UPDATE jobs SET state = ?, finished_at = ?, error_code = ?, error_message = ?, reply_address = NULL,"
                + " lease_until = NULL, wait_since = NULL WHERE id = ? AND "
                + condition,
            all)
        == 1;
  }

  public Optional<Job> find(String id) {
    List<Job> jobs = query("SELECT * FROM jobs WHERE id = ?", id);
    return jobs.isEmpty() ? Optional.empty() : Optional.of(jobs.get(0));
  }

  /**
   * The newest jobs, optionally of one user ({@code platform} and {@code userId} both null for
   * all).
   */
  public List<Job> list(String platform, String userId, int limit) {
    if (platform == null) {
      return query("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", limit);
    }
    return query(
        "SELECT * FROM jobs WHERE platform = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
        platform,
        userId,
        limit);
  }

  /**
   * The answer reached the user. The reply address goes with it: it can hold a credential (a
   * Discord interaction token acts for the bot for 15 minutes) and nothing reads it once delivered.
   */
  public void markDelivered(String id) {
    update(
        "UPDATE jobs SET delivered_at = ?, reply_address = NULL, lease_until = NULL WHERE id = ?",
        clock.millis(),
        id);
  }

  /** How many deliveries a finished job gets, across restarts and instances, before it is left. */
  public static final int MAX_DELIVERY_ATTEMPTS = 20;

  /**
   * One more failed attempt to deliver a finished job's answer; after {@link
   * #MAX_DELIVERY_ATTEMPTS} nobody owns it any more (no instance tries again).
   */
  public void deliveryFailed(String id) {
    update(
        "UPDATE jobs SET delivery_attempts = delivery_attempts + 1,"
            + " lease_until = CASE WHEN delivery_attempts + 1 >= ? THEN NULL ELSE lease_until END WHERE id = ?",
        MAX_DELIVERY_ATTEMPTS,
        id);
  }

  /** Whether the job's row names this instance as its owner. */
  public boolean isMine(String id) {
    return db.read(
        c -> {
          try (PreparedStatement st = c.prepareStatement("SELECT owner FROM jobs WHERE id = ?")) {
            st.setString(1, id);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() && owner.id().equals(rs.getString(1));
            }
          }
        });
  }

  /**
   * Finished jobs whose image never reached the user, oldest first (at most {@code maxAttempts}
   * tries each).
   */
  public List<Job> undelivered(int maxAttempts) {
    return query(
        "SELECT * FROM jobs WHERE state = 'SUCCEEDED' AND delivered_at IS NULL AND reply_address IS NOT NULL"
            + " AND delivery_attempts < ? ORDER BY id",
        maxAttempts);
  }

  /** QUEUED and RUNNING jobs, oldest first: what a restart picks up. */
  public List<Job> unfinished() {
    return query("SELECT * FROM jobs WHERE state IN ('QUEUED', 'RUNNING') ORDER BY id");
  }

  /** When a lease taken or renewed now runs out. */
  long leaseEnd() {
    return clock.millis() + owner.leaseMillis();
  }

  int update(String sql, Object... args) {
    return db.transaction(
        c -> {
          try (PreparedStatement st = c.prepareStatement(sql)) {
            bind(st, args);
            return st.executeUpdate();
          }
        });
  }

  List<Job> query(String sql, Object... args) {
    return db.read(
        c -> {
          try (PreparedStatement st = c.prepareStatement(sql)) {
            bind(st, args);
            try (ResultSet rs = st.executeQuery()) {
              List<Job> jobs = new ArrayList<>();
              while (rs.next()) {
                jobs.add(read(rs));
              }
              return jobs;
            }
          }
        });
  }

  static void bind(PreparedStatement st, Object[] args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      st.setObject(i + 1, args[i]);
    }
  }

  private static BackendTask task(
      String backend, String taskId, String pollingUrl, Long costMilli) {
    return new BackendTask(
        backend == null ? "unknown" : backend,
        taskId,
        pollingUrl,
        costMilli == null ? null : java.math.BigDecimal.valueOf(costMilli, 3));
  }

  private Job read(ResultSet rs) throws SQLException {
    try {
      String taskId = rs.getString("task_id");
      String backend = rs.getString("backend");
      String type = rs.getString("image_type");
      String followUp = rs.getString("follow_up");
      String error = rs.getString("error_code");
      List<String> hashes = new ArrayList<>();
      JSON.readTree(rs.getString("reference_hashes")).forEach(h -> hashes.add(h.asText()));
      return new Job(
          rs.getString("id"),
          requester(JSON.readTree(rs.getString("requester"))),
          rs.getString("command_text"),
          request(JSON.readTree(rs.getString("request"))),
          hashes,
          rs.getString("reply_address"),
          State.valueOf(rs.getString("state")),
          rs.getString("fingerprint"),
          backend,
          taskId == null
              ? null
              : task(backend, taskId, rs.getString("polling_url"), getLong(rs, "task_cost_milli")),
          rs.getLong("estimate_milli"),
          getLong(rs, "cost_milli"),
          rs.getInt("cached") == 1,
          rs.getString("image_hash"),
          type == null ? null : ImageType.fromName(type).orElse(null),
          getInt(rs, "width"),
          getInt(rs, "height"),
          rs.getString("parent_job_id"),
          followUp == null ? null : ImageReply.FollowUp.byId(followUp).orElse(null),
          Instant.ofEpochMilli(rs.getLong("created_at")),
          instant(rs, "started_at"),
          instant(rs, "finished_at"),
          error == null ? null : UserError.Code.valueOf(error),
          rs.getString("error_message"));
    } catch (JsonProcessingException e) {
      throw new SQLException(
          "job row " + rs.getString("id") + " holds broken JSON: " + e.getOriginalMessage(), e);
    }
  }

  static String scopeOf(Requester r) {
    return r.scopeId() == null ? "*" : r.scopeId();
  }

  static String requesterJson(Requester r) throws JsonProcessingException {
    ObjectNode o = JSON.createObjectNode();
    o.put("platform", r.platform());
    o.put("user_id", r.userId());
    o.put("display_name", r.displayName());
    o.put("scope_id", r.scopeId());
    o.set("roles", JSON.valueToTree(new TreeSet<>(r.roles())));
    o.put("admin", r.admin());
    o.put("locale", r.locale().toLanguageTag());
    return JSON.writeValueAsString(o);
  }

  static Requester requester(JsonNode o) {
    Set<String> roles = new TreeSet<>();
    o.path("roles").forEach(n -> roles.add(n.asText()));
    return new Requester(
        o.path("platform").asText(),
        o.path("user_id").asText(),
        o.path("display_name").asText(),
        o.hasNonNull("scope_id") ? o.get("scope_id").asText() : null,
        roles,
        o.path("admin").asBoolean(),
        dev.fluxbot.core.Messages.locale(o.path("locale").asText(null)));
  }

  static String requestJson(GenerationRequest r) throws JsonProcessingException {
    ObjectNode o = JSON.createObjectNode();
    o.put("model", r.model().id());
    o.put("prompt", r.prompt());
    o.put("width", r.size() == null ? null : r.size().width());
    o.put("height", r.size() == null ? null : r.size().height());
    o.put("hi_res", r.hiRes());
    o.put("seed", r.seed());
    o.put("steps", r.steps());
    o.put("guidance", r.guidance());
    o.put("safety_tolerance", r.safetyTolerance());
    o.put("output_format", r.format().apiName());
    o.put("references", r.referenceCount());
    o.put("no_cache", r.noCache());
    return JSON.writeValueAsString(o);
  }

  GenerationRequest request(JsonNode o) {
    ImageSize size =
        o.hasNonNull("width")
            ? new ImageSize(o.get("width").asInt(), o.get("height").asInt())
            : null;
    return new GenerationRequest(
        catalog.require(o.path("model").asText()),
        o.path("prompt").asText(),
        size,
        o.path("hi_res").asBoolean(),
        o.hasNonNull("seed") ? o.get("seed").asLong() : null,
        false,
        o.hasNonNull("steps") ? o.get("steps").asInt() : null,
        o.hasNonNull("guidance") ? o.get("guidance").asDouble() : null,
        o.path("safety_tolerance").asInt(2),
        ImageType.fromName(o.path("output_format").asText("jpeg")).orElse(ImageType.JPEG),
        o.path("references").asInt(0),
        o.path("no_cache").asBoolean());
  }

  private static void setLong(PreparedStatement st, int i, Long v) throws SQLException {
    if (v == null) {
      st.setNull(i, Types.BIGINT);
    } else {
      st.setLong(i, v);
    }
  }

  private static void setInt(PreparedStatement st, int i, Integer v) throws SQLException {
    if (v == null) {
      st.setNull(i, Types.INTEGER);
    } else {
      st.setInt(i, v);
    }
  }

  private static Long getLong(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  private static Integer getInt(ResultSet rs, String column) throws SQLException {
    int v = rs.getInt(column);
    return rs.wasNull() ? null : v;
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    Long v = getLong(rs, column);
    return v == null ? null : Instant.ofEpochMilli(v);
  }
}
