package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendRouter;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.command.PromptVariants;
import dev.fluxbot.core.filter.PromptFilters;
import dev.fluxbot.core.image.ReferenceLoader;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.Sizes;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.seedcache.SeedHistory;
import dev.fluxbot.core.store.JobGroups;
import dev.fluxbot.core.store.JobLeases;
import dev.fluxbot.core.store.JobStore;
import java.time.Duration;
import java.time.InstantSource;
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

/**
 * The imagine pipeline every platform shares: parse, recall or draw the seed, load the references,
 * answer from the seed cache when it can, reserve credits, store the job, queue it fairly, run it
 * on the first backend that serves it, store the image, settle the credits, reply.
 *
 * <p>Nothing is lost on a crash: the job row is written before the job is queued, the backend's
 * task is written as soon as it exists, and {@link #resumeUnfinished} picks up both after a
 * restart. Credits are held before a job runs and settled exactly once when it ends (a settle is
 * idempotent), so a crash between the two is settled on the next start.
 *
 * <p>This class turns commands and button presses into requests and hands them on to
 * package-private helpers: JobPipeline (from request to reply), JobDelivery (handing the image
 * over, with retries) and JobRecovery (what a restart finds unfinished).
 */
public final class ImagineService {
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
      JobScheduler scheduler,
      JobLeases leases,
      PromptFilters filters) {
    /** Without word filters. */
    public Parts(
        CommandParser parser,
        ReferenceLoader references,
        BackendRouter router,
        SeedHistory seeds,
        JobStore jobs,
        QuotaService quota,
        SeedCache cache,
        ImageStore images,
        JobScheduler scheduler,
        JobLeases leases) {
      this(
          parser,
          references,
          router,
          seeds,
          jobs,
          quota,
          cache,
          images,
          scheduler,
          leases,
          PromptFilters.none());
    }

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
      Objects.requireNonNull(leases, "leases");
      Objects.requireNonNull(filters, "filters");
    }
  }

  private final Parts p;
  private final RandomGenerator random;
  private final JobIds jobIds;
  private final JobPipeline pipeline;
  private final JobRecovery recovery;
  private final GroupPipeline groups;
  private final PromptEnhancing enhancing;

  public ImagineService(
      Parts parts, Settings settings, InstantSource clock, RandomGenerator random) {
    this(
        parts,
        settings,
        clock,
        random,
        new io.micrometer.core.instrument.composite.CompositeMeterRegistry());
  }

  /**
   * @param meters where the jobs are counted and timed ({@code fluxbot_jobs_total} and the rest:
   *     docs/operations-metrics.md)
   */
  public ImagineService(
      Parts parts,
      Settings settings,
      InstantSource clock,
      RandomGenerator random,
      io.micrometer.core.instrument.MeterRegistry meters) {
    this(parts, settings, clock, random, meters, null);
  }

  /** With {@code --enhance} ({@link PromptEnhancing}; null: off). */
  ImagineService(
      Parts parts,
      Settings settings,
      InstantSource clock,
      RandomGenerator random,
      io.micrometer.core.instrument.MeterRegistry meters,
      PromptEnhancing enhancing) {
    this.enhancing = enhancing;
    this.p = Objects.requireNonNull(parts, "parts");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
    this.jobIds = new JobIds(clock, random);
    JobDelivery delivery = new JobDelivery(parts, settings.deliveryRetries());
    JobMeters jobMeters = new JobMeters(meters, clock, parts.router(), parts.jobs());
    this.pipeline = new JobPipeline(parts, settings, clock, delivery, jobMeters);
    this.groups = new GroupPipeline(parts, settings, clock, pipeline, delivery, jobMeters);
    this.recovery = new JobRecovery(parts, pipeline, delivery, groups);
  }

  /** Parses without running anything: for {@code --dry-run} and for checking a command early. */
  public GenerationRequest plan(ImagineCommand command) {
    GenerationRequest request =
        p.parser()
            .parse(
                command.text(), command.options(), command.attachments().size(), command.context());
    // --n, --repeat and the {…} variants are checked with the rest
    PromptVariants.expand(request.prompt(), repeat(command), count(command));
    return request;
  }

  /** {@code --repeat}: how many times each prompt variant runs (1 without it). */
  public int repeat(ImagineCommand command) {
    return p.parser().repeat(command.text(), command.options());
  }

  /** How many images the command makes in all: prompt variants × {@code --repeat} × {@code --n}. */
  public int images(ImagineCommand command) {
    GenerationRequest request =
        p.parser()
            .parse(
                command.text(), command.options(), command.attachments().size(), command.context());
    int n = count(command);
    int repeat = repeat(command);
    return PromptVariants.expand(request.prompt(), repeat, n).size() * n * repeat;
  }

  /**
   * How many images the command asks for ({@code --n}, else the user's or the scope's default, else
   * 1); without running anything.
   */
  public int count(ImagineCommand command) {
    return p.parser().count(command.text(), command.options(), command.context());
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
      GenerationRequest seeded = withSeed(plan(command), command.requester());
      List<GenerationRequest> requests = GroupRequests.of(seeded, count(command), repeat(command));
      if (requests.size() > 1) {
        if (Boolean.TRUE.equals(CommandParser.enhanceFlag(command.text(), command.options()))) {
          throw UserError.of(
              UserError.Code.INVALID_OPTION, "error.enhance.group", requests.size(), "{…}");
        }
        p.filters()
            .check(
                command.requester(),
                requests.stream().map(GenerationRequest::prompt).distinct().toList());
        return startGroup(
            jobId,
            command.requester(),
            command.text(),
            requests,
            command.attachments(),
            reply,
            replyAddress,
            null);
      }
      GenerationRequest planned = requests.get(0);
      PromptEnhancing.Result enhanced =
          enhancing == null
              ? new PromptEnhancing.Result(planned, reply, false)
              : LogContext.inJob(
                  jobId,
                  command.requester().platform(),
                  () -> enhancing.apply(jobId, command, planned, reply));
      GenerationRequest request = enhanced.request(); // the prompt actually sent
      try {
        return LogContext.inJob( // each line of the job carries its id and platform
            jobId,
            command.requester().platform(),
            () ->
                pipeline.start(
                    new JobPipeline.Origin(
                        jobId, command.requester(), command.text(), replyAddress, null, null),
                    request,
                    command.attachments(),
                    enhanced.reply(),
                    callerRuns));
      } catch (RuntimeException e) {
        if (enhanced.recorded() && p.jobs().find(jobId).isEmpty()) {
          enhancing.forget(jobId); // refused before its row was written
        }
        return LogContext.inJob(
            jobId,
            command.requester().platform(),
            () -> pipeline.failed(jobId, e, enhanced.reply()));
      }
    } catch (RuntimeException e) {
      return LogContext.inJob(
          jobId, command.requester().platform(), () -> pipeline.failed(jobId, e, reply));
    }
  }

  /**
   * Starts a group ({@code --n}): one job per request, the first with {@code firstJobId}, the
   * group's id. The future completes with the first image once the group is delivered.
   */
  private CompletableFuture<ImageReply> startGroup(
      String firstJobId,
      Requester who,
      String text,
      List<GenerationRequest> requests,
      List<ImageSource> sources,
      ChatReply reply,
      String replyAddress,
      String parentJobId) {
    List<JobPipeline.Origin> origins = new java.util.ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      origins.add(
          new JobPipeline.Origin(
              i == 0 ? firstJobId : jobIds.next(),
              who,
              text,
              replyAddress,
              parentJobId,
              parentJobId == null ? null : ImageReply.FollowUp.REROLL));
    }
    try {
      return LogContext.inJob(
              firstJobId, who.platform(), () -> groups.start(origins, requests, sources, reply))
          .thenApply(g -> g.images().get(0));
    } catch (RuntimeException e) {
      return LogContext.inJob(
          firstJobId, who.platform(), () -> pipeline.failed(firstJobId, e, reply));
    }
  }

  /** R under a group: every image of the group again, with new seeds s, s+1, … (same n). */
  private CompletableFuture<ImageReply> rerollGroup(
      String jobId,
      Requester who,
      JobStore.Job parent,
      JobGroups.Group group,
      ChatReply reply,
      String replyAddress) {
    long seed = drawSeed();
    List<GenerationRequest> requests = new java.util.ArrayList<>();
    for (int i = 0; i < group.size(); i++) {
      JobStore.Job member = p.jobs().find(group.jobIds().get(i)).orElse(parent);
      requests.add(member.request().withSeed(GroupRequests.seedAfter(seed, i)));
    }
    return startGroup(
        jobId,
        who,
        parent.commandText(),
        requests,
        StoredImages.of(p.images(), parent.referenceHashes(), "reference"),
        reply,
        replyAddress,
        parent.id());
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
      JobStore.Job parent = parent(parentJobId);
      if (action == ImageReply.FollowUp.REROLL) {
        Optional<JobGroups.Group> group = groups.groups().of(parentJobId);
        if (group.isPresent()) {
          return rerollGroup(jobId, who, parent, group.get(), reply, replyAddress);
        }
      }
      GenerationRequest base = parent.request();
      List<ImageSource> refs = StoredImages.of(p.images(), parent.referenceHashes(), "reference");
      GenerationRequest request =
          switch (action) {
            case REROLL -> base.withSeed(drawSeed());
            case VARY -> withSeed(p.parser().vary(base, promptFor(action, prompt)), who);
            case UPSCALE_2K -> base.hiRes() ? base : upscaled(base);
            case USE_AS_REFERENCE -> {
              if (parent.imageHash() == null) {
                throw UserError.of(
                    UserError.Code.INVALID_REFERENCE,
                    "error.job.no_image",
                    parent.state().name().toLowerCase(java.util.Locale.ROOT));
              }
              refs = StoredImages.of(p.images(), List.of(parent.imageHash()), "image");
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
      GenerationRequest asked = request;
      List<ImageSource> sources = refs;
      return LogContext.inJob(
          jobId,
          who.platform(),
          () ->
              pipeline.start(
                  new JobPipeline.Origin(
                      jobId, who, asked.prompt(), replyAddress, parentJobId, action),
                  asked,
                  sources,
                  reply,
                  true));
    } catch (RuntimeException e) {
      return LogContext.inJob(jobId, who.platform(), () -> pipeline.failed(jobId, e, reply));
    }
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
    return recovery.leftovers();
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
    return recovery.resume(leftovers, which, replies);
  }

  /**
   * Takes over the jobs of instances that died (their leases ran out) and resumes them here, each
   * answered through {@code replies}; never this instance's own jobs. A bot on a shared database
   * calls this every few seconds.
   *
   * @param which the jobs this instance can answer (its chat platforms)
   * @return one future per job taken over
   */
  public List<CompletableFuture<ImageReply>> takeOverOrphans(
      Predicate<JobStore.Job> which, Function<JobStore.Job, ChatReply> replies) {
    return recovery.resume(null, which, replies);
  }

  /**
   * Cancels a queued or running job; its credits come back. A running job's thread is interrupted
   * and the job ends as the backend stops; a queued one ends at once.
   *
   * @return false where the job is unknown or has already ended
   */
  public boolean cancel(String jobId) {
    return pipeline.cancel(jobId);
  }

  private JobStore.Job parent(String parentJobId) {
    return p.jobs()
        .find(parentJobId)
        .orElseThrow(() -> UserError.of(UserError.Code.INVALID_OPTION, "error.job.unknown"));
  }

  private static String promptFor(ImageReply.FollowUp action, String prompt) {
    if (prompt == null || prompt.isBlank()) {
      throw UserError.of(
          UserError.Code.EMPTY_PROMPT, "error.prompt.follow_up_empty", (Localized) action::label);
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
        throw UserError.of(UserError.Code.INVALID_OPTION, "error.seed.no_last");
      }
      return request.withSeed(last.getAsLong());
    }
    return request.seed() != null ? request : request.withSeed(drawSeed());
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
