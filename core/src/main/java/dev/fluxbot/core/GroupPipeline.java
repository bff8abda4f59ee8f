package dev.fluxbot.core;

import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.store.JobGroups;
import dev.fluxbot.core.store.JobStore;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several images from one command ({@code --n 2..4}): each image is a job of its own (its row, its
 * credits, its seed cache entry, its history), but the group's credits are held together (all or
 * none), its images run together (a local worker batches them, BFL runs them side by side), and its
 * answer is delivered once, when the last image has ended. {@link JobGroups} keeps the group, so a
 * restart finishes and delivers it ({@link JobRecovery}).
 */
final class GroupPipeline {
  // the pipeline logs under one name, ImagineService's, as before it was split
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);

  private final ImagineService.Parts p;
  private final ImagineService.Settings settings;
  private final InstantSource clock;
  private final JobPipeline pipeline;
  private final JobDelivery delivery;
  private final JobMeters meters;
  private final JobGroups groups;

  GroupPipeline(
      ImagineService.Parts parts,
      ImagineService.Settings settings,
      InstantSource clock,
      JobPipeline pipeline,
      JobDelivery delivery,
      JobMeters meters) {
    this.p = parts;
    this.settings = settings;
    this.clock = clock;
    this.pipeline = pipeline;
    this.delivery = delivery;
    this.meters = meters;
    this.groups = new JobGroups(parts.jobs());
  }

  JobGroups groups() {
    return groups;
  }

  /** One image's plan: its job row, and its cached answer or the backend that makes it. */
  private record Planned(
      JobStore.Job job,
      List<ReferenceImage> refs,
      SeedCache.CachedImage hit,
      ImageBackend backend) {}

  /**
   * Holds every image's credits and writes every row (all or none), answers the images the seed
   * cache has, queues the others, and delivers the group once they have all ended.
   *
   * @param origins one per image, in order; the first job's id is the group's
   * @return completes with the group as delivered
   */
  CompletableFuture<GroupReply> start(
      List<JobPipeline.Origin> origins,
      List<GenerationRequest> planned,
      List<ImageSource> sources,
      ChatReply reply) {
    JobPipeline.Origin first = origins.get(0);
    Requester who = first.who();
    if (!who.isOperator()) { // holds nothing; refuses a banned user early
      p.quota().reserve(who, first.jobId(), planned.get(0).model().id(), 0, false);
    }
    reply.accepted(first.jobId(), planned.get(0));
    List<ReferenceImage> refs = p.references().fetchAll(sources);
    List<String> refHashes = refs.stream().map(ReferenceImage::sha256).toList();
    List<Planned> plans = new ArrayList<>();
    for (int i = 0; i < origins.size(); i++) {
      plans.add(plan(origins.get(i), JobPipeline.withSize(planned.get(i), refs), refs, refHashes));
    }
    try {
      refs.forEach(r -> p.images().put(r.bytes()));
    } catch (UncheckedIOException e) {
      throw new UserError(UserError.Code.BACKEND_UNAVAILABLE, Msg.of("error.store.references"), e);
    }
    create(who, plans);
    List<CompletableFuture<ImageReply>> images = new ArrayList<>();
    boolean speaker = true;
    for (Planned plan : plans) {
      if (plan.hit() != null) {
        meters.cacheHit(plan.job(), plan.job().estimateMilli());
        images.add(CompletableFuture.completedFuture(cachedAnswer(plan)));
        continue;
      }
      meters.submitted(plan.job(), plan.backend().name());
      ChatReply member = memberReply(reply, speaker, plan.job());
      speaker = false;
      images.add(
          pipeline.enqueue(
              plan.job(),
              new GenerationJob(plan.job().id(), plan.job().request(), plan.refs()),
              plan.backend(),
              null,
              member,
              false));
    }
    log.info("group {}: {} images for {}", first.jobId(), plans.size(), who.key());
    return deliverWhenDone(first.jobId(), plans.stream().map(Planned::job).toList(), images, reply);
  }

  /** The reply of one image of a group: only the first image not from the cache speaks. */
  static ChatReply memberReply(ChatReply group, boolean speaks, JobStore.Job job) {
    return new GroupMemberReply(group, speaks, job.requester().key() + "#" + job.id());
  }

  private Planned plan(
      JobPipeline.Origin origin,
      GenerationRequest request,
      List<ReferenceImage> refs,
      List<String> refHashes) {
    String fingerprint =
        request.model().preview() ? null : SeedCache.fingerprint(request, refHashes);
    if (fingerprint != null && !request.noCache()) {
      Optional<SeedCache.CachedImage> hit = p.cache().lookup(fingerprint);
      if (hit.isPresent()) {
        long price = origin.who().isOperator() ? 0 : settings.cacheHitMilli();
        return new Planned(
            origin.queued(request, refHashes, fingerprint, price, clock.instant()),
            refs,
            hit.get(),
            null);
      }
    }
    ImageBackend backend = p.router().route(request);
    long estimate =
        backend.spendsBflCredits()
            ? Credits.milli(request.estimatedCost(refs))
            : settings.localImageMilli();
    return new Planned(
        origin.queued(request, refHashes, fingerprint, estimate, clock.instant()),
        refs,
        null,
        backend);
  }

  /**
   * The group, every hold and every row in one transaction: a refusal holds nothing. A cache hit is
   * charged and succeeds in it too.
   */
  private void create(Requester who, List<Planned> plans) {
    try {
      p.jobs()
          .atomically(
              () -> {
                for (Planned plan : plans) {
                  p.jobs().create(plan.job());
                }
                groups.create(plans.stream().map(pl -> pl.job().id()).toList());
                for (Planned plan : plans) {
                  hold(who, plan);
                }
                return null;
              });
    } catch (UserError e) {
      if (e.code() != UserError.Code.QUOTA_EXCEEDED || who.isOperator()) {
        throw e;
      }
      long needed = plans.stream().mapToLong(pl -> pl.job().estimateMilli()).sum();
      long left = p.quota().status(who).leftMilli();
      if (left >= needed) {
        throw e; // not the credits: the number of images in progress, or the BFL budget
      }
      throw new UserError(
          UserError.Code.QUOTA_EXCEEDED, ChatTexts.groupCreditsMsg(plans.size(), needed, left), e);
    }
  }

  private void hold(Requester who, Planned plan) {
    JobStore.Job job = plan.job();
    String id = job.id();
    long amount = job.estimateMilli();
    boolean bfl = plan.backend() != null && plan.backend().spendsBflCredits();
    if (!who.isOperator() && amount > 0) {
      p.quota().reserve(who, id, job.request().model().id(), amount, bfl);
    }
    if (plan.hit() != null) {
      SeedCache.CachedImage hit = plan.hit();
      p.jobs().succeed(id, amount, hit.imageHash(), hit.type(), hit.width(), hit.height(), true);
      if (!who.isOperator() && amount > 0) {
        p.quota().commit(id, amount);
      }
      p.seeds().remember(who, job.request().seed());
    }
  }

  private static ImageReply cachedAnswer(Planned plan) {
    SeedCache.CachedImage hit = plan.hit();
    GenerationRequest request = plan.job().request();
    GenerationResult result =
        new GenerationResult(
            hit.bytes(),
            hit.type(),
            hit.width(),
            hit.height(),
            request.seed(),
            BigDecimal.valueOf(plan.job().estimateMilli()).divide(JobPipeline.MILLI),
            "cache",
            null,
            Duration.ZERO);
    return new ImageReply(
        plan.job().id(), request, result, true, List.of(ImageReply.FollowUp.values()));
  }

  /**
   * Waits for every image of the group, then delivers the group once: the images made, and the
   * failed ones named with why. Every image failed: the first failure is the answer.
   *
   * @param jobs the group's jobs in order
   * @param images one future per job, in the same order
   */
  CompletableFuture<GroupReply> deliverWhenDone(
      String groupId,
      List<JobStore.Job> jobs,
      List<CompletableFuture<ImageReply>> images,
      ChatReply reply) {
    CompletableFuture<?>[] all = images.toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all)
        .handle((ok, e) -> null)
        .thenApply(
            ignored -> {
              List<GroupReply.Member> members = new ArrayList<>();
              for (int i = 0; i < jobs.size(); i++) {
                members.add(member(i, jobs.get(i), images.get(i)));
              }
              GroupReply group = new GroupReply(groupId, members);
              if (group.images().isEmpty()) {
                UserError first = group.failed().get(0).error();
                reply.failed(first);
                throw new CompletionException(first);
              }
              try (LogContext.Scope s =
                  LogContext.job(groupId, jobs.get(0).requester().platform())) {
                delivery.deliverGroup(group, reply, true);
              }
              return group;
            });
  }

  private static GroupReply.Member member(
      int i, JobStore.Job job, CompletableFuture<ImageReply> future) {
    try {
      return new GroupReply.Member(i + 1, job.id(), job.request(), future.join(), null);
    } catch (CompletionException | java.util.concurrent.CancellationException e) {
      UserError error =
          e.getCause() instanceof UserError u
              ? u
              : UserError.of(UserError.Code.BACKEND_FAILED, "error.job.unexpected", job.id());
      return new GroupReply.Member(i + 1, job.id(), job.request(), null, error);
    }
  }
}
