package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.core.model.Sizes;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.LeaseLostException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job from its request to its reply: the seed cache, the credit hold and the job row, the queue,
 * the backend, the stored image and the charge. {@link ImagineService} decides what to ask for.
 */
final class JobPipeline {
  // the pipeline logs under one name, ImagineService's, as before it was split
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);
  static final BigDecimal MILLI = BigDecimal.valueOf(1000);

  /** What a user hears when the image store cannot take a finished job's image. */
  static final String IMAGE_NOT_STORED = Msg.of("error.store.image").english();

  /** Who asked for a new job and where its answer goes: what its row keeps besides the request. */
  record Origin(
      String jobId,
      Requester who,
      String text,
      String replyAddress,
      String parentJobId,
      ImageReply.FollowUp followUp) {
    JobStore.Job queued(
        GenerationRequest request,
        List<String> refHashes,
        String fingerprint,
        long estimateMilli,
        Instant now) {
      return JobStore.Job.queued(
          jobId,
          who,
          text,
          request,
          refHashes,
          replyAddress,
          fingerprint,
          estimateMilli,
          parentJobId,
          followUp,
          now);
    }
  }

  /** A queued or running job's listeners, so a cancel can answer them. */
  private record Pending(ChatReply reply, CompletableFuture<ImageReply> done) {}

  private final ConcurrentMap<String, Pending> pending = new ConcurrentHashMap<>();
  private final ImagineService.Parts p;
  private final ImagineService.Settings settings;
  private final InstantSource clock;
  private final JobDelivery delivery;
  private final InstallationSlots slots;
  private final JobMeters meters;

  JobPipeline(
      ImagineService.Parts parts,
      ImagineService.Settings settings,
      InstantSource clock,
      JobDelivery delivery,
      JobMeters meters) {
    this.p = parts;
    this.meters = meters;
    this.settings = settings;
    this.clock = clock;
    this.delivery = delivery;
    this.slots = new InstallationSlots(parts);
  }

  /**
   * Refuses a prompt a word filter matches; then answers from the seed cache, or holds the credits,
   * stores the job and runs or queues it ({@code callerRuns}: the caller waits anyway, may run it).
   */
  CompletableFuture<ImageReply> start(
      Origin origin,
      GenerationRequest planned,
      List<ImageSource> sources,
      ChatReply reply,
      boolean callerRuns) {
    p.filters().check(origin.who(), planned.prompt()); // before any credit is held or cache read
    if (!origin.who().isOperator()) {
      p.quota()
          .reserve(
              origin.who(),
              origin.jobId(),
              planned.model().id(),
              0,
              false); // holds nothing; refuses a banned user early
    }
    reply.accepted(origin.jobId(), planned);
    List<ReferenceImage> refs = p.references().fetchAll(sources);
    GenerationRequest request = withSize(planned, refs);
    List<String> refHashes = refs.stream().map(ReferenceImage::sha256).toList();
    String fingerprint =
        request.model().preview() ? null : SeedCache.fingerprint(request, refHashes);
    if (fingerprint != null && !request.noCache()) {
      Optional<SeedCache.CachedImage> hit = p.cache().lookup(fingerprint);
      if (hit.isPresent()) {
        return CompletableFuture.completedFuture(
            deliverCached(origin, request, refHashes, hit.get(), reply));
      }
    }
    ImageBackend backend = p.router().route(request);
    long estimate = estimateMilli(request, refs, backend);
    try {
      refs.forEach(r -> p.images().put(r.bytes()));
    } catch (UncheckedIOException e) {
      throw notStored(Msg.of("error.store.references"), e);
    }
    JobStore.Job job = origin.queued(request, refHashes, fingerprint, estimate, clock.instant());
    // A caller that waits for the job anyway runs it here if it can start now; then the job row is
    // created already RUNNING, one commit fewer than QUEUED and then RUNNING.
    JobScheduler.Slot here = callerRuns ? startHere(job.id(), origin.who(), backend) : null;
    if (!create(job, backend, estimate, here)) {
      here = null; // the installation has no room now (other instances' jobs): it waits its turn
    }
    GenerationJob work = new GenerationJob(job.id(), request, refs);
    if (here == null) {
      return enqueue(job, work, backend, null, reply, callerRuns);
    }
    CompletableFuture<ImageReply> done = track(job, reply);
    here.run(() -> run(job, work, backend, null, reply, done, true));
    return done;
  }

  /**
   * Holds the job's credits and writes its row, both or neither; a failure frees the slot. With a
   * slot {@code here}, the row is written RUNNING if the installation has room for it.
   *
   * @return whether the job runs now (false: it is queued, and the slot was given back)
   */
  private boolean create(
      JobStore.Job job, ImageBackend backend, long estimate, JobScheduler.Slot here) {
    Requester who = job.requester();
    boolean started;
    try {
      started =
          p.jobs()
              .atomically(
                  () -> { // the hold and the job row: both or neither
                    if (!who.isOperator()) {
                      p.quota()
                          .reserve(
                              who,
                              job.id(),
                              job.request().model().id(),
                              estimate,
                              backend.spendsBflCredits());
                    }
                    p.jobs().create(job);
                    return here != null && slots.startNow(job, backend);
                  });
    } catch (RuntimeException e) {
      if (here != null) {
        here.release();
      }
      throw e;
    }
    meters.submitted(job, backend.name());
    if (here != null && !started) {
      here.release();
    }
    return started;
  }

  /**
   * A slot for the job on this thread if it can start at once; null if it must queue (or the
   * scheduler refuses it: then queueing reports why).
   */
  private JobScheduler.Slot startHere(String jobId, Requester who, ImageBackend backend) {
    try {
      return p.scheduler()
          .tryStart(jobId, who.key(), backend.name(), JobScheduler.Listener.NONE)
          .orElse(null);
    } catch (IllegalStateException e) {
      return null;
    }
  }

  /** Registers a job's reply and future, so that cancelling it while queued can tell its user. */
  private CompletableFuture<ImageReply> track(JobStore.Job job, ChatReply reply) {
    CompletableFuture<ImageReply> done = new CompletableFuture<>();
    pending.put(job.id(), new Pending(reply, done));
    done.whenComplete((r, e) -> pending.remove(job.id()));
    return done;
  }

  /** Queues the job fairly; {@code resumeTask}: the backend's task a previous run started. */
  CompletableFuture<ImageReply> enqueue(
      JobStore.Job job,
      GenerationJob work,
      ImageBackend backend,
      BackendTask resumeTask,
      ChatReply reply,
      boolean callerRuns) {
    CompletableFuture<ImageReply> done = track(job, reply);
    JobScheduler.Listener listener =
        new JobScheduler.Listener() {
          @Override
          public void queued(int position) {
            reply.queued(position);
          }

          @Override
          public void started() {}

          @Override
          public void finished() {}
        };
    try {
      String platform = job.requester().platform();
      String key = reply instanceof GroupMemberReply m ? m.schedulerKey() : job.requester().key();
      Runnable task =
          LogContext.job(
              job.id(), platform, () -> run(job, work, backend, resumeTask, reply, done, false));
      if (callerRuns) {
        p.scheduler().runOrSubmit(job.id(), key, backend.name(), task, listener);
      } else {
        p.scheduler().submit(job.id(), key, backend.name(), task, listener);
      }
    } catch (IllegalStateException e) {
      log.warn("job {}: the scheduler refused it: {}", job.id(), e.getMessage());
      UserError error =
          new UserError(UserError.Code.BACKEND_UNAVAILABLE, Msg.of("error.job.refused"), e);
      settleFailure(job.id(), error);
      meters.refused(job, backend.name());
      reply.failed(error);
      done.completeExceptionally(error);
    }
    return done;
  }

  /**
   * @param markedRunning whether the job's row already says RUNNING (created so, by a job started
   *     at once)
   */
  private void run(
      JobStore.Job job,
      GenerationJob work,
      ImageBackend backend,
      BackendTask resumeTask,
      ChatReply reply,
      CompletableFuture<ImageReply> done,
      boolean markedRunning) {
    String id = job.id();
    JobMeters.Run metered = meters.run(job, backend.name());
    try {
      if (!markedRunning) {
        slots.startWhenThereIsRoom(job, backend);
      }
      metered.started();
      GenerationResult result = generate(job, work, backend, resumeTask, reply);
      ImageReply image = finish(job, work, backend, resumeTask, result);
      metered.succeeded(image.result().cost());
      delivery.deliver(image, reply, true); // the caption shows what was charged
      done.complete(image);
    } catch (LeaseLostException e) {
      done.completeExceptionally(leftToAnother(id));
    } catch (RuntimeException e) {
      UserError error = asUserError(id, e);
      if (settleFailure(id, error) || p.jobs().isMine(id)) {
        metered.ended(error);
        reply.failed(error);
        done.completeExceptionally(error);
      } else { // the failure came from a job another instance had taken over meanwhile
        done.completeExceptionally(leftToAnother(id));
      }
    }
  }

  /**
   * This instance lost the job to another (its lease ran out during a pause): that one answers it;
   * this one says nothing to the user and charges nothing.
   */
  private static UserError leftToAnother(String id) {
    log.warn("job {}: another instance took it over (this one's lease ran out); leaving it", id);
    return UserError.of(UserError.Code.BACKEND_UNAVAILABLE, "error.job.taken_over", id);
  }

  /** Runs the job on its backend, or polls the backend's task when resuming one. */
  private GenerationResult generate(
      JobStore.Job job,
      GenerationJob work,
      ImageBackend backend,
      BackendTask resumeTask,
      ChatReply reply) {
    String id = job.id();
    ProgressListener listener =
        new ProgressListener() {
          @Override
          public void onProgress(Progress progress) {
            reply.progress(progress);
          }

          @Override
          public void onTask(BackendTask task) {
            p.jobs().recordTask(id, task);
          }
        };
    log.info(
        "job {}: {} {} {} seed {} on {}{}",
        id,
        job.requester().key(),
        work.request().model().id(),
        work.request().size(),
        work.seed(),
        backend.name(),
        resumeTask == null ? "" : " (resumed)");
    return resumeTask == null
        ? backend.generate(work, listener)
        : backend.resume(work, resumeTask, listener);
  }

  /** Stores the image and charges what the backend reported (else the estimate). */
  private ImageReply finish(
      JobStore.Job job,
      GenerationJob work,
      ImageBackend backend,
      BackendTask resumeTask,
      GenerationResult result) {
    String id = job.id();
    String hash;
    try {
      hash = p.images().put(result.image()); // hashed once; the cache reuses it
    } catch (UncheckedIOException e) {
      throw notStored(Msg.of("error.store.image"), e); // run() refunds the job's credits
    }
    BigDecimal reported =
        result.cost() != null ? result.cost() : resumeTask == null ? null : resumeTask.cost();
    long cost = reported == null ? job.estimateMilli() : Credits.milli(reported);
    if (!backend.spendsBflCredits()) {
      cost = job.estimateMilli();
    }
    long charged = cost;
    try {
      store(job, result, hash, charged);
    } catch (UncheckedIOException e) {
      throw notStored(Msg.of("error.store.image"), e); // rolled back; run() refunds the credits
    }
    try {
      if (!p.images().contains(hash)) {
        p.images().put(result.image()); // a cache eviction removed it before the row above existed
      }
    } catch (UncheckedIOException e) {
      // charged and recorded already: the user gets the image; a later read says if it is gone
      log.warn("job {}: cannot check that its image is still stored: {}", id, e.getMessage());
    }
    return new ImageReply(
        id,
        work.request(),
        result.withCost(BigDecimal.valueOf(charged, 3)),
        false,
        List.of(ImageReply.FollowUp.values()));
  }

  /** The cache entry, the charge, the image's row and the last seed: all or none. */
  private void store(JobStore.Job job, GenerationResult result, String hash, long charged) {
    String id = job.id();
    p.jobs()
        .atomically(
            () -> {
              if (job.fingerprint() != null) {
                p.cache()
                    .putStored(
                        job.fingerprint(),
                        id,
                        result.type(),
                        result.width(),
                        result.height(),
                        result.image(),
                        hash);
              }
              p.quota().commit(id, charged);
              p.jobs()
                  .succeed(
                      id, charged, hash, result.type(), result.width(), result.height(), false);
              p.seeds().remember(job.requester(), result.seed());
              return null;
            });
  }

  /**
   * A store that could not take an image (its disk, or an S3 server that does not answer): the job
   * fails with a message that says so, and its credits come back.
   */
  private static UserError notStored(Msg message, UncheckedIOException e) {
    log.warn("{}", e.getMessage());
    return new UserError(UserError.Code.BACKEND_UNAVAILABLE, message, e);
  }

  private ImageReply deliverCached(
      Origin origin,
      GenerationRequest request,
      List<String> refHashes,
      SeedCache.CachedImage hit,
      ChatReply reply) {
    String jobId = origin.jobId();
    Requester who = origin.who();
    long price = who.isOperator() ? 0 : settings.cacheHitMilli();
    JobStore.Job job = origin.queued(request, refHashes, hit.fingerprint(), price, clock.instant());
    p.jobs()
        .atomically(
            () -> { // the hold, the row and the charge: all or none
              if (price > 0) {
                p.quota().reserve(who, jobId, request.model().id(), price, false);
              }
              p.jobs().create(job);
              p.jobs()
                  .succeed(
                      jobId, price, hit.imageHash(), hit.type(), hit.width(), hit.height(), true);
              if (price > 0) {
                p.quota().commit(jobId, price);
              }
              p.seeds().remember(who, request.seed());
              return null;
            });
    meters.cacheHit(job, price);
    GenerationResult result =
        new GenerationResult(
            hit.bytes(),
            hit.type(),
            hit.width(),
            hit.height(),
            request.seed(),
            BigDecimal.valueOf(price).divide(MILLI),
            "cache",
            null,
            Duration.ZERO);
    ImageReply image =
        new ImageReply(jobId, request, result, true, List.of(ImageReply.FollowUp.values()));
    log.info("job {}: {} answered from the seed cache", jobId, who.key());
    delivery.deliver(image, reply, false);
    return image;
  }

  /** See {@link ImagineService#cancel}. */
  boolean cancel(String jobId) {
    Optional<JobStore.Job> job = p.jobs().find(jobId);
    if (job.isEmpty() || job.get().state().isTerminal()) {
      return false;
    }
    boolean wasScheduled = p.scheduler().cancel(jobId);
    if (job.get().state() == JobStore.State.QUEUED) {
      UserError error = UserError.of(UserError.Code.CANCELLED, "error.job.cancelled_refunded");
      // any instance may cancel a queued job: its owner finds it ended
      if (!refundIfEnded(jobId, () -> p.jobs().failQueued(jobId, error))) {
        return wasScheduled;
      }
      meters.cancelled(job.get());
      Pending waiting = pending.remove(jobId);
      if (waiting != null) {
        waiting.reply().failed(error);
        waiting.done().completeExceptionally(error);
      }
      return true;
    }
    return wasScheduled;
  }

  /** Ends a job that could not start: its credits come back and its reply is told why. */
  CompletableFuture<ImageReply> failed(String jobId, RuntimeException e, ChatReply reply) {
    UserError error = asUserError(jobId, e);
    log.info("job {}: {} {}", jobId, error.code(), error.getMessage());
    p.quota().refund(jobId);
    if (p.jobs().fail(jobId, error)) {
      meters.failed(jobId);
    }
    reply.failed(error);
    return CompletableFuture.failedFuture(error);
  }

  /**
   * Ends this instance's job as failed and returns its credits, both or neither.
   *
   * @return false where the job had already ended or is another instance's (nothing changed)
   */
  private boolean settleFailure(String jobId, UserError error) {
    return refundIfEnded(jobId, () -> p.jobs().fail(jobId, error));
  }

  /**
   * Ends a job by {@code end} and, if that changed its row, returns its credits: both or neither.
   */
  private boolean refundIfEnded(String jobId, java.util.function.BooleanSupplier end) {
    return p.jobs()
        .atomically(
            () -> {
              boolean ended = end.getAsBoolean();
              if (ended) {
                p.quota().refund(jobId);
              }
              return ended;
            });
  }

  private static UserError asUserError(String jobId, RuntimeException e) {
    if (e instanceof UserError u) {
      return u;
    }
    log.error("job {} failed unexpectedly", jobId, e);
    return new UserError(UserError.Code.BACKEND_FAILED, Msg.of("error.job.unexpected", jobId), e);
  }

  private long estimateMilli(
      GenerationRequest request, List<ReferenceImage> refs, ImageBackend backend) {
    if (!backend.spendsBflCredits()) {
      return settings.localImageMilli();
    }
    return Credits.milli(request.estimatedCost(refs));
  }

  /** Without --ar or --size, the output takes the first reference's ratio at about 1 MP. */
  static GenerationRequest withSize(GenerationRequest request, List<ReferenceImage> refs) {
    if (request.size() != null) {
      return request;
    }
    ModelSpec.SizeRules rules = request.model().sizeRules();
    ImageSize size = AspectPreset.SQUARE_1_1.size();
    if (!refs.isEmpty()) {
      long w = refs.get(0).width();
      long h = refs.get(0).height();
      w = Math.min(w, h * Sizes.MAX_RATIO);
      h = Math.min(h, w * Sizes.MAX_RATIO);
      size = Sizes.ofRatio(w, h, rules);
    }
    return request.withSize(request.hiRes() ? Sizes.twoK(size, rules) : size);
  }
}
