package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.JobStore;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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

  /** How many deliveries a finished job gets across restarts before it is left alone. */
  static final int MAX_DELIVERY_ATTEMPTS = 20;

  private final ImagineService.Parts p;
  private final JobPipeline pipeline;
  private final JobDelivery delivery;

  JobRecovery(ImagineService.Parts parts, JobPipeline pipeline, JobDelivery delivery) {
    this.p = parts;
    this.pipeline = pipeline;
    this.delivery = delivery;
  }

  /** See {@link ImagineService#leftovers()}. */
  ImagineService.Leftovers leftovers() {
    Set<String> ids = new HashSet<>();
    p.jobs().undelivered(MAX_DELIVERY_ATTEMPTS).forEach(j -> ids.add(j.id()));
    p.jobs().unfinished().forEach(j -> ids.add(j.id()));
    return new ImagineService.Leftovers(ids);
  }

  /** See {@link ImagineService#resumeUnfinished(ImagineService.Leftovers, Predicate, Function)}. */
  List<CompletableFuture<ImageReply>> resume(
      ImagineService.Leftovers leftovers,
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
        delivery.deliver(answer.get(), reply, false);
        resumed.add(CompletableFuture.completedFuture(answer.get()));
      }
    }
    for (JobStore.Job job : p.jobs().unfinished()) {
      if (mine.test(job)) {
        resumed.add(
            resumeOne(job, Objects.requireNonNullElse(replies.apply(job), ChatReply.silent())));
      }
    }
    return resumed;
  }

  /** A started backend task is polled, not started again; any other job is queued again. */
  private CompletableFuture<ImageReply> resumeOne(JobStore.Job job, ChatReply reply) {
    try {
      List<ReferenceImage> refs =
          p.references().fetchAll(pipeline.storedImages(job.referenceHashes(), "reference"));
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
