package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.slack.api.app_backend.interactive_components.payload.MessageShortcutPayload;
import com.slack.api.app_backend.views.payload.ViewSubmissionPayload;
import com.slack.api.bolt.context.builtin.MessageShortcutContext;
import com.slack.api.bolt.context.builtin.ViewSubmissionContext;
import com.slack.api.bolt.response.Response;
import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.chat.ButtonPress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompt forms: Vary and Use as reference under an image, and the message shortcut "Imagine
 * with these images"; each opened after the acknowledgement and run when submitted.
 */
final class SlackForms {
  // logs under SlackBot's name, as before the split
  private static final Logger log = LoggerFactory.getLogger(SlackBot.class);

  private final SlackActions actions;
  private final PendingShortcuts shortcuts;

  SlackForms(SlackActions actions, PendingShortcuts shortcuts) {
    this.actions = actions;
    this.shortcuts = shortcuts;
  }

  /**
   * Vary or Use as reference pressed: the prompt form opens on a thread of its own, so that nothing
   * it waits for (the job's prompt) delays the acknowledgement.
   */
  void askForPrompt(
      String trigger,
      ButtonPress.AskForPrompt ask,
      SlackAddress address,
      String channel,
      String thread) {
    ActionRef ref = ask.ref();
    String metadata =
        SlackBot.JSON
            .createObjectNode()
            .put("ref", ActionIds.format(ref.followUp(), ref.jobId()))
            .put("channel", channel)
            .put("thread", thread)
            .toString();
    actions.run(
        "form",
        () -> {
          String prefill = ask.prefill(actions.services().jobs());
          openModal(
              trigger,
              Modals.prompt(SlackBot.FOLLOW_UP_VIEW, ref.followUp().label(), prefill, metadata),
              address,
              ref.followUp().label());
        });
  }

  /** The prompt form of Vary or Use as reference, submitted. */
  Response followUpForm(ViewSubmissionPayload p, ViewSubmissionContext ctx) {
    String prompt = Modals.value(p.getView());
    JsonNode meta = Modals.metadata(p.getView());
    ActionRef ref;
    try {
      ref = ActionIds.parse(meta.path("ref").asText());
    } catch (IllegalArgumentException e) {
      return ctx.ack(
          r ->
              r.responseAction("errors")
                  .errors(Map.of(Modals.PROMPT, "This form is not fluxbot's.")));
    }
    SlackAddress address =
        new SlackAddress(
            p.getTeam().getId(),
            meta.path("channel").asText(),
            meta.hasNonNull("thread") ? meta.path("thread").asText() : null,
            p.getUser().getId(),
            null);
    Requester who =
        actions.requester(p.getUser().getId(), p.getUser().getUsername(), p.getTeam().getId());
    actions.run(
        "follow-up",
        () ->
            actions
                .services()
                .imagine()
                .followUp(
                    who,
                    ref.jobId(),
                    ref.followUp(),
                    prompt,
                    actions.reply(address.withLocale(who.locale())),
                    address.withLocale(who.locale()).toJson()));
    return ctx.ack();
  }

  /**
   * "Imagine with these images" on a message: its image files wait in the database while the prompt
   * form is open, for whichever bot instance gets the form's submission.
   */
  Response shortcut(MessageShortcutPayload p, MessageShortcutContext ctx) {
    var message = p.getMessage();
    String thread = message.getThreadTs();
    SlackAddress address =
        new SlackAddress(
            p.getTeam().getId(),
            p.getChannel().getId(),
            thread,
            p.getUser().getId(),
            p.getResponseUrl());
    List<SlackFiles.FileRef> images = SlackFiles.images(message.getFiles());
    if (images.isEmpty()) {
      actions.run(
          "shortcut",
          () ->
              actions.ephemeral(
                  address,
                  "⚠️ That message has no image files to use as references. Run "
                      + "\"Imagine with these images\" on a message with images attached."));
      return ctx.ack();
    }
    String token;
    try {
      token = shortcuts.put(new PendingShortcuts.Pending(images, p.getChannel().getId(), thread));
    } catch (RuntimeException e) {
      log.warn("slack: could not keep a shortcut's files for its form: {}", e.getMessage());
      actions.run("shortcut", () -> actions.ephemeral(address, NOT_KEPT));
      return ctx.ack();
    }
    String metadata = SlackBot.JSON.createObjectNode().put("refs", token).toString();
    String trigger = p.getTriggerId();
    actions.run(
        "form",
        () ->
            openModal(
                trigger,
                Modals.prompt(SlackBot.MESSAGE_VIEW, "Imagine with images", "", metadata),
                address,
                "Imagine with these images"));
    return ctx.ack();
  }

  /** What the user reads when the shortcut's files could not be kept for its form. */
  static final String NOT_KEPT =
      "❌ I could not open the form: my database did not answer. Run \"Imagine with these images\""
          + " again in a moment; if it keeps failing, ask an admin to look at the bot's log.";

  /** What the form says when its files could not be read back. */
  static final String NOT_READ =
      "My database did not answer, so I could not find this form's images. Submit again in a"
          + " moment; if it keeps failing, close the form and run the shortcut again.";

  /** The shortcut's prompt form, submitted: the files are downloaded and the job starts. */
  Response shortcutForm(ViewSubmissionPayload p, ViewSubmissionContext ctx) {
    String prompt = Modals.value(p.getView());
    Optional<PendingShortcuts.Pending> pending;
    try {
      pending = shortcuts.take(Modals.metadata(p.getView()).path("refs").asText());
    } catch (RuntimeException e) {
      log.warn("slack: could not read a shortcut form's files: {}", e.getMessage());
      return ctx.ack(r -> r.responseAction("errors").errors(Map.of(Modals.PROMPT, NOT_READ)));
    }
    if (pending.isEmpty()) {
      return ctx.ack(
          r ->
              r.responseAction("errors")
                  .errors(
                      Map.of(
                          Modals.PROMPT,
                          "This form expired (it was open over "
                              + PendingShortcuts.LIFE.toMinutes()
                              + " minutes, or it was submitted already). Close it and run "
                              + "the shortcut again.")));
    }
    PendingShortcuts.Pending s = pending.get();
    SlackAddress address =
        new SlackAddress(p.getTeam().getId(), s.channel(), s.threadTs(), p.getUser().getId(), null);
    Requester who =
        actions.requester(p.getUser().getId(), p.getUser().getUsername(), p.getTeam().getId());
    actions.run(
        "shortcut",
        () -> actions.submit(who, prompt, () -> actions.files().download(s.files()), address));
    return ctx.ack();
  }

  /**
   * Opens a form; called on a thread of its own, after the acknowledgement. A trigger id is good
   * once and for 3 seconds, so a 429 is not waited out: the user is asked to press {@code what}
   * again.
   */
  private void openModal(
      String triggerId, com.slack.api.model.view.View view, SlackAddress address, String what) {
    SlackApi api = actions.api();
    try {
      api.callOnce(
          "views.open", () -> api.methods().viewsOpen(r -> r.triggerId(triggerId).view(view)));
    } catch (SlackApi.SlackCallException e) {
      log.warn("slack: could not open a form: {}", e.getMessage());
      actions.ephemeral(address, formRefusal(e.error, what));
    }
  }

  /** What the user reads when Slack did not open a form; {@code error} is Slack's code, or null. */
  static String formRefusal(String error, String what) {
    if (SlackApi.RATE_LIMITED.equals(error)
        || "expired_trigger_id".equals(error)
        || "invalid_trigger_id".equals(error)) {
      return "⏳ Slack did not open the *"
          + what
          + "* form: it must open within 3 seconds of your press, and Slack "
          + "was busy. Press *"
          + what
          + "* again in a few seconds.";
    }
    return "❌ Slack did not open the *"
        + what
        + "* form (Slack said: "
        + (error == null ? "no answer" : error)
        + "). Press *"
        + what
        + "* again; if it keeps failing, ask an admin to look at the bot's log.";
  }
}
