package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.JobGroups;
import dev.fluxbot.core.store.JobStore;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After a restart: settles the holds of jobs that ended while nobody was looking, delivers what was
 * left undelivered, and resumes or requeues every unfinished job.
 */
final class JobRecovery {
  // the pipeline logs under one name, ImagineService's, as before it was split
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);

  private final ImagineService.Parts p;
  private final JobPipeline pipeline;
  private final JobDelivery delivery;
  private final GroupPipeline groups;

  JobRecovery(
      ImagineService.Parts parts,
      JobPipeline pipeline,
      JobDelivery delivery,
      GroupPipeline groups) {
    this.p = parts;
    this.pipeline = pipeline;
    this.delivery = delivery;
    this.groups = groups;
  }

  /**
   * See {@link ImagineService#leftovers()}: what this instance's previous run left, and what other
   * instances left with their leases run out.
   */
  ImagineService.Leftovers leftovers() {
    return new ImagineService.Leftovers(p.leases().takeable(true));
  }

  /**
   * Takes over and resumes jobs that have no live owner.
   *
   * @param leftovers at start, the jobs read by {@link #leftovers()} (this instance's own among
   *     them); null afterwards: then only jobs whose lease ran out, never this instance's own
   */
  List<CompletableFuture<ImageReply>> resume(
      ImagineService.Leftovers leftovers,
      Predicate<JobStore.Job> which,
      Function<JobStore.Job, ChatReply> replies) {
    if (leftovers != null) {
      settleOrphanedReservations();
    }
    List<CompletableFuture<ImageReply>> resumed = new ArrayList<>();
    List<JobStore.Job> taken =
        p.leases()
            .takeOver(which, leftovers != null, leftovers == null ? null : leftovers.jobIds());
    java.util.Map<String, List<JobStore.Job>> grouped = new java.util.LinkedHashMap<>();
    for (JobStore.Job job : taken) {
      Optional<JobGroups.Group> group = groups.groups().of(job.id());
      if (group.isPresent()) { // its group is finished and delivered as one, below
        grouped.computeIfAbsent(group.get().groupId(), g -> new ArrayList<>()).add(job);
        continue;
      }
      try (LogContext.Scope ignored = LogContext.job(job.id(), job.requester().platform())) {
        ChatReply reply = replies.apply(job);
        if (job.state() == JobStore.State.SUCCEEDED) {
          deliverLeftover(job, reply)
              .ifPresent(a -> resumed.add(CompletableFuture.completedFuture(a)));
        } else {
          resumed.add(resumeOne(job, Objects.requireNonNullElse(reply, ChatReply.silent())));
        }
      }
    }
    grouped.forEach(
        (groupId, jobs) -> {
          try (LogContext.Scope ignored =
              LogContext.job(groupId, jobs.get(0).requester().platform())) {
            resumed.addAll(resumeGroup(groupId, jobs, replies.apply(jobs.get(0))));
          }
        });
    return resumed;
  }

  /**
   * A group a previous run left: its unfinished images are resumed, its finished ones read back,
   * and the group is delivered once when the last has ended.
   *
   * @param taken the group's jobs this instance took over (the others ended, or another instance
   *     has them)
   */
  private List<CompletableFuture<ImageReply>> resumeGroup(
      String groupId, List<JobStore.Job> taken, ChatReply reply) {
    JobGroups.Group group = groups.groups().of(groupId).orElseThrow();
    java.util.Set<String> mine = new java.util.HashSet<>();
    taken.forEach(j -> mine.add(j.id()));
    ChatReply to = Objects.requireNonNullElse(reply, ChatReply.silent());
    List<JobStore.Job> jobs = new ArrayList<>();
    List<CompletableFuture<ImageReply>> images = new ArrayList<>();
    boolean speaker = true;
    for (String id : group.jobIds()) {
      JobStore.Job job = p.jobs().find(id).orElseThrow();
      jobs.add(job);
      if (job.state() == JobStore.State.SUCCEEDED) {
        images.add(
            storedAnswer(job)
                .map(CompletableFuture::completedFuture)
                .orElseGet(() -> CompletableFuture.failedFuture(gone(job))));
      } else if (!job.state().isTerminal() && mine.contains(id)) {
        images.add(resumeOne(job, GroupPipeline.memberReply(to, speaker, job)));
        speaker = false;
      } else {
        images.add(CompletableFuture.failedFuture(ended(job)));
      }
    }
    log.info("group {}: resuming its {} images", groupId, jobs.size());
    CompletableFuture<GroupReply> done = groups.deliverWhenDone(groupId, jobs, images, to);
    return List.of(done.thenApply(g -> g.images().get(0)));
  }

  private static UserError gone(JobStore.Job job) {
    return UserError.of(UserError.Code.BACKEND_FAILED, "error.recovery.image_gone", job.id());
  }

  private static UserError ended(JobStore.Job job) {
    return job.errorCode() == null
        ? UserError.of(
            UserError.Code.BACKEND_FAILED,
            "error.recovery.ended",
            job.state().name().toLowerCase(java.util.Locale.ROOT))
        : new UserError(job.errorCode(), job.errorMessage());
  }

  /**
   * Delivers a finished job's stored answer. An image store that does not answer now lets the job
   * go for a later try; an answer that can never be delivered (no address this instance can use,
   * the image gone from the store) is given up, so no instance tries it again and again.
   */
  private Optional<ImageReply> deliverLeftover(JobStore.Job job, ChatReply reply) {
    Optional<ImageReply> answer;
    try {
      answer = reply == null ? Optional.empty() : storedAnswer(job);
    } catch (RuntimeException e) {
      log.warn("job {}: its image cannot be read now ({}); trying later", job.id(), e.getMessage());
      p.leases().release(job.id());
      return Optional.empty();
    }
    if (answer.isEmpty()) {
      log.warn(
          "job {}: its answer cannot be delivered ({}); giving up on it",
          job.id(),
          reply == null ? "no reply address this bot can use" : "its image is no longer stored");
      p.leases().giveUp(job.id());
      return Optional.empty();
    }
    log.info("job {}: delivering the image left undelivered", job.id());
    delivery.deliver(answer.get(), reply, false);
    return answer;
  }

  /** A started backend task is polled, not started again; any other job is queued again. */
  private CompletableFuture<ImageReply> resumeOne(JobStore.Job job, ChatReply reply) {
    try {
      List<ReferenceImage> refs =
          p.references().fetchAll(StoredImages.of(p.images(), job.referenceHashes(), "reference"));
      ImageBackend backend = p.router().route(job.request());
      BackendTask task =
          job.state() == JobStore.State.RUNNING
                  && job.task() != null
                  && backend.canResume()
                  && backend.name().equals(job.task().backend())
              ? job.task()
              : null;
      if (job.state() == JobStore.State.RUNNING && job.task() == null && backend.canResume()) {
        log.warn(
            "job {}: taken over while RUNNING with no task recorded; its previous owner may have"
                + " submitted it before it died, so it may be billed twice",
            job.id());
      }
      log.info(
          "job {}: resuming ({}, {})",
          job.id(),
          job.state(),
          task == null ? "queued again" : "task " + task.taskId());
      return pipeline.enqueue(
          job, new GenerationJob(job.id(), job.request(), refs), backend, task, reply, false);
    } catch (RuntimeException e) {
      return pipeline.failed(job.id(), e, reply);
    }
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
                            : BigDecimal.valueOf(job.costMilli()).divide(JobPipeline.MILLI),
                        job.cached()
                            ? "cache"
                            : Objects.requireNonNullElse(job.backend(), "unknown"),
                        job.task() == null ? null : job.task().taskId(),
                        Duration.ZERO),
                    job.cached(),
                    List.of(ImageReply.FollowUp.values())));
  }
}
