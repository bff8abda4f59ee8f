package dev.fluxbot.core;

import dev.fluxbot.core.ImageReply.FollowUp;
import java.util.ArrayList;
import java.util.List;

/**
 * The buttons under a group's answer, the same on every platform: U1…U4 (that image at 2K, same
 * seed), R (every image again with new seeds), V1…V4 (vary that image), and "Ref 1"… (use that
 * image as a reference). Each carries its image's job in an {@link ActionRef}, as a single image's
 * buttons do, so presses work the same and survive restarts; R carries the group's first job.
 * Images that failed get none. At most 3 rows of at most 5: within every platform's limits.
 */
public final class GroupButtons {
  private GroupButtons() {}

  /**
   * One button.
   *
   * @param primary shown as the main action (R)
   */
  public record Button(String label, ActionRef ref, boolean primary) {}

  /** The rows of buttons for the group. */
  public static List<List<Button>> rows(GroupReply group) {
    return rows(group, java.util.Locale.ENGLISH);
  }

  /** The rows of buttons for the group, labelled in {@code locale}'s language. */
  public static List<List<Button>> rows(GroupReply group, java.util.Locale locale) {
    List<Button> upscale = new ArrayList<>();
    List<Button> vary = new ArrayList<>();
    List<Button> reference = new ArrayList<>();
    for (GroupReply.Member m : group.members()) {
      if (!m.delivered()) {
        continue;
      }
      upscale.add(button("U" + m.index(), FollowUp.UPSCALE_2K, m.jobId()));
      vary.add(button("V" + m.index(), FollowUp.VARY, m.jobId()));
      reference.add(
          button(
              Messages.format(locale, "button.group_ref", m.index()),
              FollowUp.USE_AS_REFERENCE,
              m.jobId()));
    }
    upscale.add(new Button("R", new ActionRef(FollowUp.REROLL, group.groupId()), true));
    List<List<Button>> rows = new ArrayList<>();
    rows.add(List.copyOf(upscale));
    if (!vary.isEmpty()) {
      rows.add(List.copyOf(vary));
      rows.add(List.copyOf(reference));
    }
    return List.copyOf(rows);
  }

  private static Button button(String label, FollowUp f, String jobId) {
    return new Button(label, new ActionRef(f, jobId), false);
  }
}
