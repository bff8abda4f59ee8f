package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendRouter;
import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.image.ReferenceLoader;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.core.model.Sizes;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.seedcache.SeedHistory;
import dev.fluxbot.core.store.JobStore;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The imagine pipeline every platform shares: parse, recall or draw the seed, load the references,
 * answer from the seed cache when it can, reserve credits, store the job, queue it fairly, run it
 * on the first backend that serves it, store the image, settle the credits, reply.
 *
 * <p>Nothing is lost on a crash: the job row is written before the job is queued, the backend's
 * task is written as soon as it exists, and {@link #resumeUnfinished} picks up both after a
 * restart. Credits are held before a job runs and settled exactly once when it ends (a settle is
 * idempotent), so a crash between the two is settled on the next start.
 */
public final class ImagineService {
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);
  private static final BigDecimal MILLI = BigDecimal.valueOf(1000);

  /**
   * Prices that are not BFL's.
   *
   * @param localImageMilli what an image from a local backend costs the user (default 1 credit)
   * @param cacheHitMilli what an answer from the seed cache costs (default 0: free)
   */
  public record Settings(long localImageMilli, long cacheHitMilli, List<Duration> deliveryRetries) {
    /**
     * Waits before each new try of a failed delivery; after the last, the next start tries again.
     */
    public static final List<Duration> DEFAULT_DELIVERY_RETRIES =
        List.of(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(60));

    public Settings {
      deliveryRetries = List.copyOf(deliveryRetries);
    }

    public Settings(long localImageMilli, long cacheHitMilli) {
      this(localImageMilli, cacheHitMilli, DEFAULT_DELIVERY_RETRIES);
    }

    public static Settings defaults() {
      return new Settings(1000, 0);
    }
  }

  /** How many deliveries a finished job gets across restarts before it is left alone. */
  static final int MAX_DELIVERY_ATTEMPTS = 20;

  /** Everything the pipeline uses; one seam each. */
  public record Parts(
      CommandParser parser,
      ReferenceLoader references,
      BackendRouter router,
      SeedHistory seeds,
      JobStore jobs,
      QuotaService quota,
      SeedCache cache,
      ImageStore images,
      JobScheduler scheduler) {
    public Parts {
      Objects.requireNonNull(parser, "parser");
      Objects.requireNonNull(references, "references");
      Objects.requireNonNull(router, "router");
      Objects.requireNonNull(seeds, "seeds");
      Objects.requireNonNull(jobs, "jobs");
      Objects.requireNonNull(quota, "quota");
      Objects.requireNonNull(cache, "cache");
      Objects.requireNonNull(images, "images");
      Objects.requireNonNull(scheduler, "scheduler");
    }
  }

  /** A queued or running job's listeners, so a cancel can answer them. */
  private record Pending(ChatReply reply, CompletableFuture<ImageReply> done) {}

  private final java.util.concurrent.ConcurrentMap<String, Pending> pending =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Parts p;
  private final Settings settings;
  private final InstantSource clock;
  private final RandomGenerator random;
  private final JobIds jobIds;

  public ImagineService(
      Parts parts, Settings settings, InstantSource clock, RandomGenerator random) {
    this.p = Objects.requireNonNull(parts, "parts");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
    this.jobIds = new JobIds(clock, random);
  }

  /** Parses without running anything: for {@code --dry-run} and for checking a command early. */
  public GenerationRequest plan(ImagineCommand command) {
    return p.parser()
        .parse(command.text(), command.options(), command.attachments().size(), command.context());
  }

  /**
   * Runs one command to the end, blocking: for the CLI. A job that can start at once runs on the
   * calling thread (see {@link #runOrSubmit}); one that must wait is queued fairly and waited for.
   *
   * @throws UserError after {@link ChatReply#failed} was told
   */
  public ImageReply imagine(ImagineCommand command, ChatReply reply, String replyAddress) {
    return join(runOrSubmit(command, reply, replyAddress));
  }

  /**
   * {@link #submit} for a caller that has a thread of its own for this command (each platform gives
   * every command one): a job that can start at once runs on the calling thread, and the future is
   * complete when this returns; a job that must wait is queued fairly and this returns at once.
   * Saves a queue-free job the two thread hand-offs of {@link #submit}.
   */
  public CompletableFuture<ImageReply> runOrSubmit(
      ImagineCommand command, ChatReply reply, String replyAddress) {
    return submit(command, reply, replyAddress, true);
  }

  /**
   * Starts one command. Every outcome goes to {@code reply}; the future completes with the image,
   * or exceptionally with the {@link UserError} the reply was told.
   *
   * @param replyAddress the adapter's own JSON saying where the answer goes, kept with the job so
   *     it can be delivered after a restart
   */
  public CompletableFuture<ImageReply> submit(
      ImagineCommand command, ChatReply reply, String replyAddress) {
    return submit(command, reply, replyAddress, false);
  }

  private CompletableFuture<ImageReply> submit(
      ImagineCommand command, ChatReply reply, String replyAddress, boolean callerRuns) {
    String jobId = jobIds.next();
    try {
      GenerationRequest request = withSeed(plan(command), command.requester());
      return start(
          jobId,
          command.requester(),
          command.text(),
          request,
          command.attachments(),
          reply,
          replyAddress,
          null,
          null,
          callerRuns);
    } catch (RuntimeException e) {
      return failed(jobId, e, reply);
    }
  }

  /**
   * A button under an image: derives a new job from a stored one (the presser pays for it). Like
   * {@link #runOrSubmit}, for a caller with a thread of its own for this press (each platform gives
   * every interaction one): a job that can start at once runs on the calling thread, and the future
   * is complete when this returns; one that must wait is queued fairly and this returns at once.
   *
   * @param prompt the new prompt for {@code VARY} and {@code USE_AS_REFERENCE}; ignored otherwise
   */
  public CompletableFuture<ImageReply> followUp(
      Requester who,
      String parentJobId,
      ImageReply.FollowUp action,
      String prompt,
      ChatReply reply,
      String replyAddress) {
    String jobId = jobIds.next();
    try {
      JobStore.Job parent =
          p.jobs()
              .find(parentJobId)
              .orElseThrow(
                  () ->
                      new UserError(
                          UserError.Code.INVALID_OPTION,
                          "That image's job is not known here any more (it may have been removed). Start a new /imagine."));
      GenerationRequest base = parent.request();
      List<ImageSource> refs = storedImages(parent.referenceHashes(), "reference");
      GenerationRequest request =
          switch (action) {
            case REROLL -> base.withSeed(drawSeed());
            case VARY -> withSeed(p.parser().vary(base, promptFor(action, prompt)), who);
            case UPSCALE_2K -> base.hiRes() ? base : upscaled(base);
            case USE_AS_REFERENCE -> {
              if (parent.imageHash() == null) {
                throw new UserError(
                    UserError.Code.INVALID_REFERENCE,
                    "Use as reference: that job made no image (it ended "
                        + parent.state().name().toLowerCase(java.util.Locale.ROOT)
                        + "). Attach an image to a new /imagine.");
              }
              refs = storedImages(List.of(parent.imageHash()), "image");
              GenerationRequest asked =
                  p.parser()
                      .parse(
                          promptFor(action, prompt),
                          java.util.Map.of(),
                          1,
                          new CommandParser.Context(
                              java.util.Map.of("model", base.model().id()), null, null));
              yield withSeed(asked, who);
            }
          };
      return start(
          jobId,
          who,
          request.prompt(),
          request,
          refs,
          reply,
          replyAddress,
          parentJobId,
          action,
          true);
    } catch (RuntimeException e) {
      return failed(jobId, e, reply);
    }
  }

  private CompletableFuture<ImageReply> start(
      String jobId,
      Requester who,
      String text,
      GenerationRequest planned,
      List<ImageSource> sources,
      ChatReply reply,
      String replyAddress,
      String parentJobId,
      ImageReply.FollowUp followUp,
      boolean callerRuns) {
    if (!who.isOperator()) {
      p.quota()
          .reserve(
              who,
              jobId,
              planned.model().id(),
              0,
              false); // holds nothing; refuses a banned user early
    }
    reply.accepted(jobId, planned);
    List<ReferenceImage> refs = p.references().fetchAll(sources);
    GenerationRequest request = withSize(planned, refs);
    List<String> refHashes = refs.stream().map(ReferenceImage::sha256).toList();
    String fingerprint =
        request.model().preview() ? null : SeedCache.fingerprint(request, refHashes);
    if (fingerprint != null && !request.noCache()) {
      Optional<SeedCache.CachedImage> hit = p.cache().lookup(fingerprint);
      if (hit.isPresent()) {
        return CompletableFuture.completedFuture(
            deliverCached(
                jobId,
                who,
                text,
                request,
                refHashes,
                replyAddress,
                parentJobId,
                followUp,
                hit.get(),
                reply));
      }
    }
    ImageBackend backend = p.router().route(request);
    long estimate = estimateMilli(request, refs, backend);
    refs.forEach(r -> p.images().put(r.bytes()));
    JobStore.Job job =
        JobStore.Job.queued(
            jobId,
            who,
            text,
            request,
            refHashes,
            replyAddress,
            fingerprint,
            estimate,
            parentJobId,
            followUp,
            clock.instant());
    // A caller that waits for the job anyway runs it here if it can start now; then the job row is
    // created already RUNNING, one commit fewer than QUEUED and then RUNNING.
    JobScheduler.Slot here = callerRuns ? startHere(jobId, who, backend) : null;
    try {
      p.jobs()
          .atomically(
              () -> { // the hold and the job row: both or neither
                if (!who.isOperator()) {
                  p.quota()
                      .reserve(
                          who, jobId, request.model().id(), estimate, backend.spendsBflCredits());
                }
                p.jobs().create(job);
                if (here != null) {
                  p.jobs().markRunning(jobId, backend.name());
                }
                return null;
              });
    } catch (RuntimeException e) {
      if (here != null) {
        here.release();
      }
      throw e;
    }
    GenerationJob work = new GenerationJob(jobId, request, refs);
    if (here == null) {
      return enqueue(job, work, backend, null, reply, callerRuns);
    }
    CompletableFuture<ImageReply> done = track(job, reply);
    here.run(() -> run(job, work, backend, null, reply, done, true));
    return done;
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

  private CompletableFuture<ImageReply> enqueue(
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
      Runnable task = () -> run(job, work, backend, resumeTask, reply, done, false);
      if (callerRuns) {
        p.scheduler().runOrSubmit(job.id(), job.requester().key(), backend.name(), task, listener);
      } else {
        p.scheduler().submit(job.id(), job.requester().key(), backend.name(), task, listener);
      }
    } catch (IllegalStateException e) {
      log.warn("job {}: the scheduler refused it: {}", job.id(), e.getMessage());
      UserError error =
          new UserError(
              UserError.Code.BACKEND_UNAVAILABLE,
              "The bot cannot take new images right now; try again in a minute.",
              e);
      settleFailure(job.id(), error);
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
    try {
      if (!markedRunning && !p.jobs().markRunning(id, backend.name())) {
        throw new UserError(UserError.Code.CANCELLED, "The job was cancelled before it started.");
      }
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
      GenerationResult result =
          resumeTask == null
              ? backend.generate(work, listener)
              : backend.resume(work, resumeTask, listener);
      String hash = p.images().put(result.image()); // hashed once; the cache reuses it
      BigDecimal reported =
          result.cost() != null ? result.cost() : resumeTask == null ? null : resumeTask.cost();
      long cost = reported == null ? job.estimateMilli() : Credits.milli(reported);
      if (!backend.spendsBflCredits()) {
        cost = job.estimateMilli();
      }
      long charged = cost;
      p.jobs()
          .atomically(
              () -> { // the cache entry, the charge, the image's row and the last seed: all or none
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
      if (!p.images().contains(hash)) {
        p.images().put(result.image()); // a cache eviction removed it before the row above existed
      }
      ImageReply image =
          new ImageReply(
              id,
              work.request(),
              result.withCost(BigDecimal.valueOf(charged, 3)),
              false,
              List.of(ImageReply.FollowUp.values()));
      deliver(image, reply, true); // the caption shows what was charged
      done.complete(image);
    } catch (RuntimeException e) {
      UserError error = asUserError(id, e);
      settleFailure(id, error);
      reply.failed(error);
      done.completeExceptionally(error);
    }
  }

  private ImageReply deliverCached(
      String jobId,
      Requester who,
      String text,
      GenerationRequest request,
      List<String> refHashes,
      String replyAddress,
      String parentJobId,
      ImageReply.FollowUp followUp,
      SeedCache.CachedImage hit,
      ChatReply reply) {
    long price = who.isOperator() ? 0 : settings.cacheHitMilli();
    if (price > 0) {
      p.quota().reserve(who, jobId, request.model().id(), price, false);
    }
    JobStore.Job job =
        JobStore.Job.queued(
            jobId,
            who,
            text,
            request,
            refHashes,
            replyAddress,
            hit.fingerprint(),
            price,
            parentJobId,
            followUp,
            clock.instant());
    p.jobs()
        .atomically(
            () -> {
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
    deliver(image, reply, false);
    return image;
  }

  /**
   * Hands a finished job's image to its reply. A failure there (a platform's error or rate limit)
   * loses nothing: the job keeps its image, the delivery is tried again a few times on its own
   * thread, and after a restart {@link #resumeUnfinished} tries once more.
   *
   * @return whether this first try reached the user
   */
  private boolean deliver(ImageReply image, ChatReply reply, boolean retryLater) {
    if (deliverOnce(image, reply)) {
      return true;
    }
    if (retryLater && !settings.deliveryRetries().isEmpty()) {
      Thread.ofVirtual()
          .name("deliver-" + image.jobId())
          .start(
              () -> {
                for (Duration wait : settings.deliveryRetries()) {
                  try {
                    Thread.sleep(wait);
                  } catch (InterruptedException e) {
                    return;
                  }
                  if (deliverOnce(image, reply)) {
                    return;
                  }
                }
              });
    }
    return false;
  }

  private boolean deliverOnce(ImageReply image, ChatReply reply) {
    try {
      reply.image(image);
      p.jobs().markDelivered(image.jobId());
      return true;
    } catch (RuntimeException e) {
      p.jobs().deliveryFailed(image.jobId());
      log.warn(
          "job {}: delivery failed ({}); the image is kept and delivery will be retried",
          image.jobId(),
          e.toString());
      return false;
    }
  }

  /** Rebuilds a stored, finished job's answer from its row and the image store. */
  private Optional<ImageReply> storedAnswer(JobStore.Job job) {
    if (job.imageHash() == null) {
      return Optional.empty();
    }
    return p.images()
        .get(job.imageHash())
        .map(
            bytes ->
                new ImageReply(
                    job.id(),
                    job.request(),
                    new GenerationResult(
                        bytes,
                        job.imageType(),
                        job.width(),
                        job.height(),
                        job.request().seed(),
                        job.costMilli() == null
                            ? null
                            : BigDecimal.valueOf(job.costMilli()).divide(MILLI),
                        job.cached()
                            ? "cache"
                            : Objects.requireNonNullElse(job.backend(), "unknown"),
                        job.task() == null ? null : job.task().taskId(),
                        Duration.ZERO),
                    job.cached(),
                    List.of(ImageReply.FollowUp.values())));
  }

  /**
   * After a restart: settles the credits of jobs that ended while nobody was looking, then picks up
   * every unfinished job: a backend task that was started is resumed (polled, not started again), a
   * queued job is queued again.
   *
   * @param which the jobs this process should take (the CLI takes its own; the bot takes all)
   * @param replies rebuilds each job's reply from its stored address (null: deliver nowhere)
   * @return one future per resumed job
   */
  public List<CompletableFuture<ImageReply>> resumeUnfinished(
      Predicate<JobStore.Job> which, Function<JobStore.Job, ChatReply> replies) {
    return resumeUnfinished(leftovers(), which, replies);
  }

  /**
   * The jobs a previous run left unfinished or undelivered. A bot reads them before it takes new
   * work and resumes them once its platforms can answer: a job made in between (a button pressed
   * right after a restart) is this process's own and is never taken for one of them.
   */
  public Leftovers leftovers() {
    Set<String> ids = new HashSet<>();
    p.jobs().undelivered(MAX_DELIVERY_ATTEMPTS).forEach(j -> ids.add(j.id()));
    p.jobs().unfinished().forEach(j -> ids.add(j.id()));
    return new Leftovers(ids);
  }

  /**
   * Job ids found unfinished or undelivered when this process started; see {@link #leftovers()}.
   */
  public record Leftovers(Set<String> jobIds) {
    public Leftovers {
      jobIds = Set.copyOf(jobIds);
    }
  }

  /**
   * {@link #resumeUnfinished(Predicate, Function)} for the jobs read earlier by {@link
   * #leftovers()}.
   */
  public List<CompletableFuture<ImageReply>> resumeUnfinished(
      Leftovers leftovers,
      Predicate<JobStore.Job> which,
      Function<JobStore.Job, ChatReply> replies) {
    Predicate<JobStore.Job> mine = j -> leftovers.jobIds().contains(j.id()) && which.test(j);
    settleOrphanedReservations();
    List<CompletableFuture<ImageReply>> resumed = new ArrayList<>();
    for (JobStore.Job job : p.jobs().undelivered(MAX_DELIVERY_ATTEMPTS)) {
      ChatReply reply = mine.test(job) ? replies.apply(job) : null;
      Optional<ImageReply> answer = reply == null ? Optional.empty() : storedAnswer(job);
      if (answer.isPresent()) {
        log.info("job {}: delivering the image a restart left undelivered", job.id());
        deliver(answer.get(), reply, false);
        resumed.add(CompletableFuture.completedFuture(answer.get()));
      }
    }
    for (JobStore.Job job : p.jobs().unfinished()) {
      if (!mine.test(job)) {
        continue;
      }
      ChatReply reply = Objects.requireNonNullElse(replies.apply(job), ChatReply.silent());
      try {
        List<ReferenceImage> refs =
            p.references().fetchAll(storedImages(job.referenceHashes(), "reference"));
        ImageBackend backend = p.router().route(job.request());
        BackendTask task =
            job.state() == JobStore.State.RUNNING
                    && job.task() != null
                    && backend.canResume()
                    && backend.name().equals(job.task().backend())
                ? job.task()
                : null;
        log.info(
            "job {}: resuming ({}, {})",
            job.id(),
            job.state(),
            task == null ? "queued again" : "task " + task.taskId());
        resumed.add(
            enqueue(
                job,
                new GenerationJob(job.id(), job.request(), refs),
                backend,
                task,
                reply,
                false));
      } catch (RuntimeException e) {
        resumed.add(failed(job.id(), e, reply));
      }
    }
    return resumed;
  }

  private void settleOrphanedReservations() {
    for (QuotaService.Reservation r : p.quota().held()) {
      Optional<JobStore.Job> job = p.jobs().find(r.jobId());
      if (job.isEmpty()) {
        p.quota().refund(r.jobId());
      } else if (job.get().state() == JobStore.State.SUCCEEDED) {
        p.quota()
            .commit(
                r.jobId(), job.get().costMilli() == null ? r.amountMilli() : job.get().costMilli());
      } else if (job.get().state().isTerminal()) {
        p.quota().refund(r.jobId());
      }
    }
  }

  /**
   * Cancels a queued or running job; its credits come back. A running job's thread is interrupted
   * and the job ends as the backend stops; a queued one ends at once.
   *
   * @return false where the job is unknown or has already ended
   */
  public boolean cancel(String jobId) {
    Optional<JobStore.Job> job = p.jobs().find(jobId);
    if (job.isEmpty() || job.get().state().isTerminal()) {
      return false;
    }
    boolean wasScheduled = p.scheduler().cancel(jobId);
    if (job.get().state() == JobStore.State.QUEUED) {
      UserError error =
          new UserError(
              UserError.Code.CANCELLED,
              "The job was cancelled before it started; " + "its credits were returned.");
      settleFailure(jobId, error);
      Pending waiting = pending.remove(jobId);
      if (waiting != null) {
        waiting.reply().failed(error);
        waiting.done().completeExceptionally(error);
      }
      return true;
    }
    return wasScheduled;
  }

  private CompletableFuture<ImageReply> failed(String jobId, RuntimeException e, ChatReply reply) {
    UserError error = asUserError(jobId, e);
    log.info("job {}: {} {}", jobId, error.code(), error.getMessage());
    p.quota().refund(jobId);
    p.jobs().fail(jobId, error);
    reply.failed(error);
    return CompletableFuture.failedFuture(error);
  }

  private void settleFailure(String jobId, UserError error) {
    p.quota().refund(jobId);
    p.jobs().fail(jobId, error);
  }

  private static UserError asUserError(String jobId, RuntimeException e) {
    if (e instanceof UserError u) {
      return u;
    }
    log.error("job {} failed unexpectedly", jobId, e);
    return new UserError(
        UserError.Code.BACKEND_FAILED,
        "Something went wrong on our side (job "
            + jobId
            + "); try again, and tell the admin if it repeats.",
        e);
  }

  private long estimateMilli(
      GenerationRequest request, List<ReferenceImage> refs, ImageBackend backend) {
    if (!backend.spendsBflCredits()) {
      return settings.localImageMilli();
    }
    return Credits.milli(request.estimatedCost(refs));
  }

  private List<ImageSource> storedImages(List<String> hashes, String what) {
    List<ImageSource> sources = new ArrayList<>();
    boolean itsImage = what.equals("image");
    for (int i = 0; i < hashes.size(); i++) {
      String hash = hashes.get(i);
      byte[] bytes =
          p.images()
              .get(hash)
              .orElseThrow(
                  () ->
                      new UserError(
                          UserError.Code.INVALID_REFERENCE,
                          (itsImage ? "That job's image is" : "That job's reference images are")
                              + " no longer stored (the image "
                              + "store keeps within its size limit by removing what was used least recently). Attach the "
                              + (itsImage ? "image" : "images")
                              + " to a new /imagine instead."));
      sources.add(ImageSource.bytes(what + (i + 1), bytes));
    }
    return sources;
  }

  private static String promptFor(ImageReply.FollowUp action, String prompt) {
    if (prompt == null || prompt.isBlank()) {
      throw new UserError(
          UserError.Code.EMPTY_PROMPT,
          "prompt: "
              + action.label()
              + " needs a prompt; got nothing. "
              + "Type what should change.");
    }
    return prompt.strip();
  }

  private static GenerationRequest upscaled(GenerationRequest base) {
    ImageSize size = base.size() == null ? null : Sizes.twoK(base.size(), base.model().sizeRules());
    return new GenerationRequest(
        base.model(),
        base.prompt(),
        size,
        true,
        base.seed(),
        false,
        base.steps(),
        base.guidance(),
        base.safetyTolerance(),
        base.format(),
        base.referenceCount(),
        base.noCache());
  }

  private long drawSeed() {
    return random.nextLong(GenerationRequest.MAX_SEED + 1);
  }

  private GenerationRequest withSeed(GenerationRequest request, Requester requester) {
    if (request.seedFromLast()) {
      OptionalLong last = p.seeds().lastSeed(requester);
      if (last.isEmpty()) {
        throw new UserError(
            UserError.Code.INVALID_OPTION,
            "--seed last: you have no earlier image to take the seed from; got last. Give a number, e.g. --seed 42.");
      }
      return request.withSeed(last.getAsLong());
    }
    return request.seed() != null ? request : request.withSeed(drawSeed());
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

  private static ImageReply join(CompletableFuture<ImageReply> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof UserError u) {
        throw u;
      }
      throw e;
    }
  }
}
