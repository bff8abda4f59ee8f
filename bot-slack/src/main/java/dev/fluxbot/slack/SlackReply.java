package dev.fluxbot.slack;

import com.slack.api.methods.response.files.FilesCompleteUploadExternalResponse;
import com.slack.api.methods.response.files.FilesGetUploadURLExternalResponse;
import com.slack.api.model.block.Blocks;
import com.slack.api.model.block.LayoutBlock;
import com.slack.api.model.block.composition.BlockCompositions;
import com.slack.api.model.block.element.BlockElements;
import com.slack.api.model.block.element.ButtonElement;
import com.slack.api.util.json.GsonFactory;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.GroupButtons;
import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.DeliveryException;
import dev.fluxbot.core.chat.ProgressThrottle;
import dev.fluxbot.core.model.GenerationRequest;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's answer on Slack. The queue position goes to the command's ephemeral answer through its
 * {@code response_url} (which takes only five posts, so once); progress goes to one channel
 * message, posted on the first news and edited with {@code chat.update} at most once a second; the
 * image is uploaded into the channel or thread (getUploadURLExternal, the upload,
 * completeUploadExternal) as one message that carries the caption and the four buttons as blocks,
 * and the progress message is then deleted, so each image leaves one message however many run at
 * once. Errors go to the user alone ({@code chat.postEphemeral}).
 *
 * <p>Each step is done once: a delivery the core tries again (after Slack failed it) skips the
 * steps that already worked, so a retry never posts the image twice.
 */
final class SlackReply implements ChatReply {
  private static final Logger log = LoggerFactory.getLogger(SlackReply.class);
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  /** Slack's answers when the bot may not post in a channel. */
  private static final java.util.Set<String> NOT_MEMBER =
      java.util.Set.of("not_in_channel", "channel_not_found", "is_archived", "restricted_action");

  private final SlackApi api;
  private final Secret
      botToken; // files.completeUploadExternal is posted as a form, which names the token
  private final SlackAddress address;
  private final InstantSource clock;
  private final OkHttpClient http;
  private volatile String prompt = "";
  private volatile String progressTs;
  private final ProgressThrottle throttle;
  private volatile boolean positionSent;
  private volatile String uploadedFileId;
  private volatile boolean shared;
  private volatile boolean toldNotMember;
  private volatile boolean cannotPost;
  private volatile boolean ended;

  SlackReply(
      SlackApi api, Secret botToken, SlackAddress address, InstantSource clock, OkHttpClient http) {
    this.api = api;
    this.botToken = botToken;
    this.address = address;
    this.clock = clock;
    this.throttle = new ProgressThrottle(clock, ProgressThrottle.EVERY);
    this.http = http;
  }

  SlackAddress address() {
    return address;
  }

  @Override
  public void accepted(String jobId, GenerationRequest request) {
    prompt = request.prompt();
  }

  @Override
  public void queued(int position) {
    if (!positionSent && address.responseUrl() != null) {
      positionSent = true;
      respond(
          Messages.format(
              address.locale(), "slack.queued.private", position, Texts.shortPrompt(prompt)),
          true);
    }
    status(
        "⏳ "
            + Messages.format(address.locale(), "slack.queued", position, Texts.shortPrompt(prompt))
            + " — <@"
            + address.userId()
            + ">",
        true);
  }

  @Override
  public void progress(Progress p) {
    status(
        "🎨 "
            + Texts.progress(p, address.locale())
            + " "
            + Texts.shortPrompt(prompt)
            + " — <@"
            + address.userId()
            + ">",
        false);
  }

  @Override
  public void image(ImageReply reply) {
    try {
      if (!shared) {
        if (uploadedFileId == null) {
          uploadedFileId = upload(reply);
        }
        share(reply, uploadedFileId);
        shared = true;
      }
    } catch (SlackApi.SlackCallException e) {
      if (e.error != null && NOT_MEMBER.contains(e.error) && !toldNotMember) {
        toldNotMember = true;
        tellUser("⚠️ " + Messages.format(address.locale(), "slack.not_in_channel"));
      }
      throw undelivered(reply, e);
    } catch (RuntimeException e) {
      throw undelivered(reply, e);
    }
    removeProgress();
  }

  /**
   * A group ({@code --n}): every image uploaded (the first two steps, once each, kept across the
   * core's retries), then shared in one completeUploadExternal as one message with the caption and
   * the group's buttons (a row each: U1…U4 and R, V1…V4, Ref 1…4) as blocks.
   */
  @Override
  public void group(GroupReply group) {
    List<ImageReply> images = group.images();
    try {
      if (!shared) {
        List<String> ids = new ArrayList<>();
        for (ImageReply i : images) {
          String id = groupFiles.get(i.jobId());
          if (id == null) {
            id = upload(i);
            groupFiles.put(i.jobId(), id);
          }
          ids.add(id);
        }
        shareAll(images, ids, groupBlocks(group, address.userId(), address.locale()));
        shared = true;
      }
    } catch (RuntimeException e) {
      throw new DeliveryException(
          "group "
              + group.groupId()
              + ": the images could not be sent to Slack ("
              + e.getMessage()
              + ")",
          e);
    }
    removeProgress();
  }

  /** The files a group's delivery uploaded already, by job: a retry shares them, not new ones. */
  private final java.util.Map<String, String> groupFiles =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** A group's blocks: the caption, then one actions block per row of {@link GroupButtons}. */
  static List<LayoutBlock> groupBlocks(GroupReply group, String userId, Locale locale) {
    List<LayoutBlock> blocks = new ArrayList<>();
    blocks.add(
        Blocks.section(
            s ->
                s.text(BlockCompositions.markdownText(Texts.groupCaption(group, userId, locale)))));
    for (List<GroupButtons.Button> row : GroupButtons.rows(group, locale)) {
      List<ButtonElement> buttons = new ArrayList<>();
      for (GroupButtons.Button b : row) {
        String id = ActionIds.format(b.ref().followUp(), b.ref().jobId());
        buttons.add(
            BlockElements.button(
                e -> {
                  e.actionId(id).value(id).text(BlockCompositions.plainText(b.label()));
                  return b.primary() ? e.style("primary") : e;
                }));
      }
      blocks.add(Blocks.actions(a -> a.elements(new ArrayList<>(buttons))));
    }
    return blocks;
  }

  /**
   * The first two steps of an upload: an upload URL, then the bytes to it; returns the file's id.
   */
  private String upload(ImageReply reply) {
    byte[] image = reply.result().image();
    String name = "fluxbot-" + reply.result().seed() + "." + reply.result().type().extension();
    FilesGetUploadURLExternalResponse url =
        api.call(
            "files.getUploadURLExternal",
            () ->
                api.methods()
                    .filesGetUploadURLExternal(r -> r.filename(name).length(image.length)));
    Request post =
        new Request.Builder()
            .url(url.getUploadUrl())
            .post(RequestBody.create(image, MediaType.get("application/octet-stream")))
            .build();
    try (Response r = http.newCall(post).execute()) {
      if (!r.isSuccessful()) {
        throw new SlackApi.SlackCallException(
            "Slack refused the upload with HTTP " + r.code(), null, null);
      }
    } catch (java.io.IOException e) {
      throw new SlackApi.SlackCallException(
          "could not reach Slack for the upload: " + e.getMessage(), null, e);
    }
    return url.getFileId();
  }

  /**
   * The last step: shares the file into the channel or thread as one message with the caption and
   * the buttons as blocks. The SDK's request has no blocks, so the form is made here; no {@code
   * initial_comment}, since Slack ignores blocks next to one.
   */
  private void share(ImageReply reply, String fileId) {
    shareAll(List.of(reply), List.of(fileId), blocks(reply, address.userId(), address.locale()));
  }

  /** Shares the uploaded files, in order, as one message with {@code blockList}. */
  private void shareAll(
      List<ImageReply> images, List<String> fileIds, List<LayoutBlock> blockList) {
    var list = SlackBot.JSON.createArrayNode();
    for (int i = 0; i < images.size(); i++) {
      String title = images.get(i).request().prompt().strip();
      list.add(
          SlackBot.JSON
              .createObjectNode()
              .put("id", fileIds.get(i))
              .put("title", title.length() > 200 ? title.substring(0, 199) + "…" : title));
    }
    String files = list.toString();
    String blocks = GsonFactory.createSnakeCase().toJson(blockList);
    api.call(
        "files.completeUploadExternal",
        () ->
            api.methods()
                .postFormWithTokenAndParseResponse(
                    form -> {
                      form.add("files", files)
                          .add("channel_id", address.channel())
                          .add("blocks", blocks);
                      return address.threadTs() == null
                          ? form
                          : form.add("thread_ts", address.threadTs());
                    },
                    "files.completeUploadExternal",
                    botToken.reveal(),
                    FilesCompleteUploadExternalResponse.class));
  }

  /**
   * The image message's blocks: the caption, then the four buttons, each carrying its job as {@code
   * fx:<id>:<jobId>} in both action_id and value (read back after a restart too).
   */
  static List<LayoutBlock> blocks(ImageReply reply, String userId) {
    return blocks(reply, userId, Locale.ENGLISH);
  }

  /** The caption and the buttons under an image, in {@code locale}'s language. */
  static List<LayoutBlock> blocks(ImageReply reply, String userId, Locale locale) {
    List<ButtonElement> buttons = new ArrayList<>();
    for (ImageReply.FollowUp f : reply.actions()) {
      String id = ActionIds.format(f, reply.jobId());
      buttons.add(
          BlockElements.button(
              b -> {
                b.actionId(id).value(id).text(BlockCompositions.plainText(f.label(locale)));
                return f == ImageReply.FollowUp.REROLL ? b.style("primary") : b;
              }));
    }
    return List.of(
        Blocks.section(
            s -> s.text(BlockCompositions.markdownText(Texts.caption(reply, userId, locale)))),
        Blocks.actions(a -> a.elements(new ArrayList<>(buttons))));
  }

  @Override
  public void failed(UserError error) {
    tellUser(Texts.error(error, address.locale()));
    removeProgress();
  }

  private static DeliveryException undelivered(ImageReply reply, RuntimeException e) {
    return new DeliveryException(
        "job " + reply.jobId() + ": the image could not be sent to Slack (" + e.getMessage() + ")",
        e);
  }

  /**
   * A message only the user sees: {@code chat.postEphemeral}, else (the bot not in the channel) the
   * response_url.
   */
  void tellUser(String text) {
    try {
      api.call(
          "chat.postEphemeral",
          () ->
              api.methods()
                  .chatPostEphemeral(
                      r ->
                          r.channel(address.channel())
                              .user(address.userId())
                              .threadTs(address.threadTs())
                              .text(text)));
    } catch (RuntimeException e) {
      if (address.responseUrl() == null || !respond(text, false)) {
        log.warn("slack: could not tell {}: {}", address, e.getMessage());
      }
    }
  }

  /**
   * Posts or edits the progress message; edits wait {@link ProgressThrottle#EVERY} unless forced.
   * Never fails the job.
   */
  private void status(String text, boolean force) {
    if (!throttle.admit(text, force || progressTs == null)) {
      return;
    }
    if (cannotPost || ended) {
      return;
    }
    try {
      if (progressTs == null) {
        progressTs =
            api.call(
                    "chat.postMessage",
                    () ->
                        api.methods()
                            .chatPostMessage(
                                r ->
                                    r.channel(address.channel())
                                        .threadTs(address.threadTs())
                                        .text(text)))
                .getTs();
      } else {
        String ts = progressTs;
        api.call(
            "chat.update",
            () -> api.methods().chatUpdate(r -> r.channel(address.channel()).ts(ts).text(text)));
      }
    } catch (SlackApi.SlackCallException e) {
      cannotPost =
          e.error != null
              && NOT_MEMBER.contains(e.error); // the image's delivery tells the user why
      log.debug("slack: progress not shown: {}", e.getMessage());
    } catch (RuntimeException e) {
      log.debug("slack: progress not shown: {}", e.getMessage());
    }
  }

  /**
   * Deletes the progress message, where there is one: the image's own message (or the user's
   * private answer) says it all, and parallel jobs would otherwise leave a pile of them.
   */
  private void removeProgress() {
    ended = true; // no status after the end
    String ts = progressTs;
    if (ts == null) {
      return;
    }
    progressTs = null;
    try {
      api.call(
          "chat.delete", () -> api.methods().chatDelete(r -> r.channel(address.channel()).ts(ts)));
    } catch (RuntimeException e) {
      log.debug("slack: progress message not deleted: {}", e.getMessage());
    }
  }

  /**
   * Answers through the command's response_url (replacing its first answer, or not); false where
   * Slack refused.
   */
  private boolean respond(String text, boolean replace) {
    String body =
        SlackBot.JSON
            .createObjectNode()
            .put("response_type", "ephemeral")
            .put("replace_original", replace)
            .put("text", text)
            .toString();
    try (Response r =
        http.newCall(
                new Request.Builder()
                    .url(address.responseUrl())
                    .post(RequestBody.create(body, JSON))
                    .build())
            .execute()) {
      return r.isSuccessful();
    } catch (java.io.IOException | RuntimeException e) {
      log.debug("slack: response_url post failed: {}", e.getMessage());
      return false;
    }
  }
}
