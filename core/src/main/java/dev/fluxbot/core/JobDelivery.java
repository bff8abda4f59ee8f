package dev.fluxbot.core;

import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a finished job's image to its reply. A failure there (a platform's error or rate limit)
 * loses nothing: the job keeps its image, the delivery is tried again a few times on its own
 * thread, and after a restart {@link JobRecovery} tries once more.
 */
final class JobDelivery {
  // the pipeline logs under one name, ImagineService's, as before it was split
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);

  private final ImagineService.Parts p;
  private final List<Duration> retries;

  JobDelivery(ImagineService.Parts parts, List<Duration> retries) {
    this.p = parts;
    this.retries = retries;
  }

  /**
   * @param retryLater whether a failed first try is tried again after each of the waits
   * @return whether this first try reached the user
   */
  boolean deliver(ImageReply image, ChatReply reply, boolean retryLater) {
    if (reply instanceof GroupMemberReply) {
      return true; // its group delivers it, with the group's other images: deliverGroup
    }
    if (deliverOnce(image, reply)) {
      return true;
    }
    if (retryLater && !retries.isEmpty()) {
      Thread.ofVirtual()
          .name("deliver-" + image.jobId())
          .start(LogContext.inheriting(() -> retry(image, reply)));
    } else {
      p.leases().release(image.jobId());
    }
    return false;
  }

  /**
   * Tries again after each wait while the job is still this instance's, then lets it go: another
   * instance, or this one's next start, tries once more.
   */
  private void retry(ImageReply image, ChatReply reply) {
    for (Duration wait : retries) {
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        return;
      }
      if (!p.leases().renew(image.jobId())) {
        return; // another instance took it over, or it needs no delivery any more
      }
      if (deliverOnce(image, reply)) {
        return;
      }
    }
    p.leases().release(image.jobId());
  }

  /**
   * A group's answer, once: every image in one reply; then every member is marked delivered in one
   * transaction, so a restart never delivers part of a group again. Retried like one image.
   *
   * @return whether this first try reached the user
   */
  boolean deliverGroup(GroupReply group, ChatReply reply, boolean retryLater) {
    if (deliverGroupOnce(group, reply)) {
      return true;
    }
    if (retryLater && !retries.isEmpty()) {
      Thread.ofVirtual()
          .name("deliver-" + group.groupId())
          .start(LogContext.inheriting(() -> retryGroup(group, reply)));
    } else {
      group.jobIds().forEach(p.leases()::release);
    }
    return false;
  }

  private void retryGroup(GroupReply group, ChatReply reply) {
    for (Duration wait : retries) {
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        return;
      }
      List<String> made = group.images().stream().map(ImageReply::jobId).toList();
      if (!made.stream().allMatch(p.leases()::renew)) {
        return; // another instance took it over, or it needs no delivery any more
      }
      if (deliverGroupOnce(group, reply)) {
        return;
      }
    }
    group.jobIds().forEach(p.leases()::release);
  }

  private boolean deliverGroupOnce(GroupReply group, ChatReply reply) {
    try {
      reply.group(group);
      p.jobs()
          .atomically(
              () -> {
                group.jobIds().forEach(p.jobs()::markDelivered);
                return null;
              });
      return true;
    } catch (RuntimeException e) {
      group.images().forEach(i -> p.jobs().deliveryFailed(i.jobId()));
      log.warn(
          "group {}: delivery failed ({}); the images are kept and delivery will be retried",
          group.groupId(),
          e.toString());
      return false;
    }
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
}
