package dev.fluxbot.core;

import dev.fluxbot.core.model.GenerationRequest;

/**
 * One image's reply inside a group ({@code --n}): it forwards the first image's queue position and
 * progress to the group's reply and nothing else. The image or the failure is not delivered here:
 * {@link GroupPipeline} delivers the whole group in one answer once every image has ended, and
 * {@link JobDelivery} leaves a member's image to it.
 */
final class GroupMemberReply implements ChatReply {
  private final ChatReply group;
  private final boolean speaks;
  private final String schedulerKey;

  /**
   * @param speaks whether this image's queue position and progress are shown (one per group)
   * @param schedulerKey the key the scheduler queues the image under: its own, so the images of a
   *     group run together (the installation still counts the group as one of its user's jobs)
   */
  GroupMemberReply(ChatReply group, boolean speaks, String schedulerKey) {
    this.group = group;
    this.speaks = speaks;
    this.schedulerKey = schedulerKey;
  }

  String schedulerKey() {
    return schedulerKey;
  }

  @Override
  public void accepted(String jobId, GenerationRequest request) {}

  @Override
  public void queued(int position) {
    if (speaks) {
      group.queued(position);
    }
  }

  @Override
  public void progress(Progress progress) {
    if (speaks) {
      group.progress(progress);
    }
  }

  @Override
  public void image(ImageReply reply) {}

  @Override
  public void failed(UserError error) {}
}
