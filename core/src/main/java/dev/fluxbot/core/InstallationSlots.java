package dev.fluxbot.core;

import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.JobLeases;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.LeaseLostException;

/**
 * A running slot for a job in the whole installation: the scheduler's caps (per user, per backend)
 * counted in the database across every instance, by {@link JobLeases#start}.
 */
final class InstallationSlots {
  private final ImagineService.Parts p;

  InstallationSlots(ImagineService.Parts parts) {
    this.p = parts;
  }

  /** Starts the job now if the installation has room (inside the caller's transaction, if any). */
  boolean startNow(JobStore.Job job, ImageBackend backend) {
    return start(job, backend, false) == JobLeases.Start.STARTED;
  }

  private JobLeases.Start start(JobStore.Job job, ImageBackend backend, boolean waitsHere) {
    JobScheduler.Settings caps = p.scheduler().settings();
    return p.leases()
        .start(
            job.id(),
            backend.name(),
            job.requester(),
            caps.perUserCap(),
            caps.backendCaps().get(backend.name()),
            waitsHere);
  }

  /**
   * Waits until the installation has room for the job (other instances may run the user's or the
   * backend's other jobs), then marks it running.
   *
   * @throws UserError CANCELLED when the job was cancelled meanwhile, or this thread interrupted
   * @throws LeaseLostException when another instance took the job over
   */
  void startWhenThereIsRoom(JobStore.Job job, ImageBackend backend) {
    long pause = 20;
    while (true) {
      switch (start(job, backend, true)) {
        case STARTED -> {
          return;
        }
        case GONE -> {
          if (!p.jobs().isMine(job.id())) {
            throw new LeaseLostException(job.id());
          }
          throw UserError.of(UserError.Code.CANCELLED, "error.job.cancelled");
        }
        case WAIT -> {
          try {
            Thread.sleep(pause);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw UserError.of(UserError.Code.CANCELLED, "error.job.cancelled");
          }
          pause = Math.min(500, pause * 2);
        }
      }
    }
  }
}
