package dev.fluxbot.core;

import dev.fluxbot.core.model.GenerationRequest;
import java.util.List;
import java.util.Objects;

/**
 * The answer to one command that made several images ({@code --n 2..4}): every image in order, each
 * delivered or, where its job failed, named with why. Delivered in one message (or an album and a
 * message) once every job has ended.
 *
 * @param groupId the group's id: its first job's
 */
public record GroupReply(String groupId, List<Member> members) {
  public GroupReply {
    Objects.requireNonNull(groupId, "groupId");
    members = List.copyOf(members);
    if (members.isEmpty()) {
      throw new IllegalArgumentException("a group has at least one image");
    }
  }

  /**
   * One image of the group.
   *
   * @param index its place, from 1 (the number on its U and V buttons)
   * @param image the image, or null where its job failed
   * @param error why it failed, or null
   */
  public record Member(
      int index, String jobId, GenerationRequest request, ImageReply image, UserError error) {
    public Member {
      Objects.requireNonNull(jobId, "jobId");
      Objects.requireNonNull(request, "request");
      if ((image == null) == (error == null)) {
        throw new IllegalArgumentException("a member has an image or an error, not both");
      }
    }

    public boolean delivered() {
      return image != null;
    }
  }

  /** The images made, in order. */
  public List<ImageReply> images() {
    return members.stream().filter(Member::delivered).map(Member::image).toList();
  }

  /** The members whose job failed. */
  public List<Member> failed() {
    return members.stream().filter(m -> !m.delivered()).toList();
  }

  /** Every member's job id, in order. */
  public List<String> jobIds() {
    return members.stream().map(Member::jobId).toList();
  }
}
