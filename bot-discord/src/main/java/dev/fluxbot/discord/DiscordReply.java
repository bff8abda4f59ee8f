package dev.fluxbot.discord;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.GroupButtons;
import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.DeliveryException;
import dev.fluxbot.core.chat.ProgressThrottle;
import dev.fluxbot.core.image.GridImage;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.dv8tion.jda.api.JDA;
import net.dv8tion.jda.api.components.actionrow.ActionRow;
import net.dv8tion.jda.api.components.buttons.Button;
import net.dv8tion.jda.api.entities.Message;
import net.dv8tion.jda.api.entities.Message.MentionType;
import net.dv8tion.jda.api.entities.channel.middleman.MessageChannel;
import net.dv8tion.jda.api.exceptions.ErrorResponseException;
import net.dv8tion.jda.api.interactions.InteractionHook;
import net.dv8tion.jda.api.requests.ErrorResponse;
import net.dv8tion.jda.api.sharding.ShardManager;
import net.dv8tion.jda.api.utils.FileUpload;
import net.dv8tion.jda.api.utils.messages.MessageCreateBuilder;
import net.dv8tion.jda.api.utils.messages.MessageEditBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's answer on Discord: the deferred reply is edited with the queue position and progress,
 * then with the image and its buttons. Past the interaction token's 15 minutes the image goes to
 * the channel as a new message. An image over the upload limit goes as a JPEG preview, with a link
 * button to the original where the app serves one; a job that took over a minute pings its user in
 * a follow-up. Errors are ephemeral follow-ups.
 */
final class DiscordReply implements ChatReply {
  private static final Logger log = LoggerFactory.getLogger(DiscordReply.class);

  /** Interaction tokens live 15 minutes; past this, deliver as a channel message instead. */
  static final Duration TOKEN_LIFE = Duration.ofMinutes(14);

  /** A job that took longer than this pings its user when the image is there. */
  static final Duration PING_AFTER = Duration.ofMinutes(1);

  private final JDA jda;
  private final DiscordAddress address;
  private final InstantSource clock;
  private final java.util.function.LongSupplier uploadLimit;
  private final OriginalLinks originals;
  private final ProgressThrottle throttle;

  /**
   * @param uploadLimit read when the image is ready (the interaction's own limit arrives with its
   *     raw event)
   */
  DiscordReply(
      JDA jda,
      DiscordAddress address,
      InstantSource clock,
      java.util.function.LongSupplier uploadLimit,
      OriginalLinks originals) {
    this.jda = jda;
    this.address = address;
    this.clock = clock;
    this.throttle = new ProgressThrottle(clock, ProgressThrottle.EVERY);
    this.uploadLimit = uploadLimit;
    this.originals = originals;
  }

  DiscordAddress address() {
    return address;
  }

  /** The language of the user who asked, kept in the address across restarts. */
  private Locale locale() {
    return address.locale();
  }

  private boolean tokenAlive() {
    return clock.instant().isBefore(address.created().plus(TOKEN_LIFE));
  }

  private InteractionHook hook() {
    return InteractionHook.from(jda, address.token());
  }

  private void status(String text, boolean force) {
    if (!tokenAlive() || !throttle.admit(text, force)) {
      return;
    }
    hook()
        .editOriginal(text)
        .queue(ok -> {}, e -> log.debug("status edit failed: {}", e.toString()));
  }

  @Override
  public void accepted(String jobId, GenerationRequest request) {
    status(Texts.working(request, locale()), true);
  }

  @Override
  public void queued(int position) {
    status(Messages.format(locale(), "discord.queued", position), true);
  }

  @Override
  public void progress(Progress p) {
    status(Texts.progress(p, locale()), false);
  }

  @Override
  public void image(ImageReply reply) {
    long limit = uploadLimit.getAsLong();
    for (int attempt = 0; ; attempt++) {
      Previews.Fitted fitted = Previews.fit(reply.result().image(), reply.result().type(), limit);
      try {
        send(reply, fitted);
        return;
      } catch (ErrorResponseException e) {
        if (e.getErrorResponse() != ErrorResponse.REQUEST_ENTITY_TOO_LARGE || attempt >= 3) {
          throw new DeliveryException(
              "job " + reply.jobId() + ": Discord refused the image (" + e.getMeaning() + ")", e);
        }
        limit =
            Math.min(limit, fitted.bytes().length) / 2; // the real limit is lower than we were told
      } catch (RuntimeException e) {
        throw new DeliveryException(
            "job " + reply.jobId() + ": the image could not be sent (" + e.getMessage() + ")", e);
      }
    }
  }

  /**
   * A group ({@code --n}): one message with every image as an attachment and the group's buttons;
   * where the files would not fit this channel's upload limit (each file, and the request within
   * the larger of 25 MiB and that limit), one 2×2 grid image instead (a JPEG that fits).
   */
  @Override
  public void group(GroupReply group) {
    long limit = uploadLimit.getAsLong();
    List<ImageReply> images = group.images();
    long total = images.stream().mapToLong(i -> i.result().image().length).sum();
    boolean fits =
        images.size() <= MAX_FILES
            && images.stream().allMatch(i -> i.result().image().length <= limit)
            && total <= Math.max(REQUEST_LIMIT, limit);
    List<FileUpload> files = new ArrayList<>();
    if (fits) {
      for (ImageReply i : images) {
        files.add(
            FileUpload.fromData(
                i.result().image(),
                "fluxbot-" + i.result().seed() + "." + i.result().type().extension()));
      }
    } else {
      byte[] grid =
          GridImage.compose(images.stream().map(i -> i.result().image()).toList(), 1024, 0.85f);
      Previews.Fitted fitted = Previews.fit(grid, ImageType.JPEG, limit);
      files.add(FileUpload.fromData(fitted.bytes(), "fluxbot-grid-" + group.groupId() + ".jpg"));
    }
    List<ActionRow> rows = new ArrayList<>();
    for (List<GroupButtons.Button> row : GroupButtons.rows(group, locale())) {
      rows.add(
          ActionRow.of(
              row.stream()
                  .map(
                      b -> {
                        String id = ButtonIds.format(b.ref().followUp(), b.ref().jobId());
                        return b.primary()
                            ? Button.primary(id, b.label())
                            : Button.secondary(id, b.label());
                      })
                  .toList()));
    }
    try {
      post(Texts.groupCaption(group, address.userId(), !fits, locale()), files, rows);
    } catch (RuntimeException e) {
      throw new DeliveryException(
          "group " + group.groupId() + ": the images could not be sent (" + e.getMessage() + ")",
          e);
    }
  }

  /** Discord's limits on one message: 10 attachments, a request of 25 MiB (or the file limit). */
  static final int MAX_FILES = 10;

  static final long REQUEST_LIMIT = 25L * 1024 * 1024;

  /** The answer: the deferred reply edited while its token lives, else a new channel message. */
  private void post(String caption, List<FileUpload> files, List<ActionRow> rows) {
    if (tokenAlive()) {
      Message message =
          hook()
              .editOriginal(
                  new MessageEditBuilder()
                      .setContent(caption)
                      .setFiles(files)
                      .setComponents(rows)
                      .build())
              .complete();
      pingIfLong(message);
    } else {
      channel()
          .sendMessage(
              new MessageCreateBuilder()
                  .setContent(caption)
                  .addFiles(files)
                  .setComponents(rows)
                  .setAllowedMentions(EnumSet.noneOf(MentionType.class))
                  .mentionUsers(address.userId())
                  .build())
          .complete();
    }
  }

  private void send(ImageReply reply, Previews.Fitted fitted) {
    GenerationResult r = reply.result();
    Optional<URI> original = fitted.preview() ? originals.linkFor(reply.jobId()) : Optional.empty();
    String caption = Texts.caption(reply, address.userId(), fitted, original.isPresent(), locale());
    String file = "fluxbot-" + r.seed() + "." + fitted.type().extension();
    List<Button> buttons = new ArrayList<>();
    for (ImageReply.FollowUp f : reply.actions()) {
      String id = ButtonIds.format(f, reply.jobId());
      buttons.add(
          f == ImageReply.FollowUp.REROLL
              ? Button.primary(id, f.label(locale()))
              : Button.secondary(id, f.label(locale())));
    }
    original.ifPresent(
        link ->
            buttons.add(
                Button.link(link.toString(), Messages.format(locale(), "button.original"))));
    post(
        caption,
        List.of(FileUpload.fromData(fitted.bytes(), file)),
        List.of(ActionRow.of(buttons)));
  }

  /**
   * An edit notifies nobody, so past {@link #PING_AFTER} the user, who may have looked away, gets a
   * short new message that pings only them and links to the image. Best effort: the image is
   * delivered either way, and sending it again for a lost ping would duplicate it.
   */
  private void pingIfLong(Message image) {
    if (clock.instant().isBefore(address.created().plus(PING_AFTER))) {
      return;
    }
    try {
      hook()
          .sendMessage(
              "<@"
                  + address.userId()
                  + "> "
                  + Messages.format(locale(), "discord.ready", image.getJumpUrl()))
          .setAllowedMentions(EnumSet.noneOf(MentionType.class))
          .mentionUsers(address.userId())
          .complete();
    } catch (RuntimeException e) {
      log.debug("ping for a finished image failed: {}", e.toString());
    }
  }

  /**
   * The error, for its user only. The deferred reply is public, and while it is deferred Discord
   * makes the first follow-up into it, public too; JDA sends a delete and a follow-up in parallel,
   * so a follow-up that landed first would be shown to all and then deleted. So the follow-up waits
   * for Discord's answer to the delete: then it is a message of its own, ephemeral. If the delete
   * fails for any other reason than the message being gone, the error replaces the deferred reply
   * instead (public, but seen).
   */
  @Override
  public void failed(UserError error) {
    String text = Texts.error(error, locale());
    if (!tokenAlive()) {
      channel()
          .sendMessage("<@" + address.userId() + "> " + text)
          .setAllowedMentions(EnumSet.noneOf(MentionType.class))
          .mentionUsers(address.userId())
          .queue(ok -> {}, e -> log.debug("error message failed: {}", e.toString()));
      return;
    }
    InteractionHook hook = hook();
    hook.deleteOriginal()
        .queue(
            ok -> privately(hook, text),
            e -> {
              if (e instanceof ErrorResponseException r
                  && r.getErrorResponse() == ErrorResponse.UNKNOWN_MESSAGE) {
                privately(hook, text);
              } else {
                hook.editOriginal(text)
                    .queue(
                        ok -> {}, again -> log.debug("error reply failed: {}", again.toString()));
              }
            });
  }

  private static void privately(InteractionHook hook, String text) {
    hook.sendMessage(text)
        .setEphemeral(true)
        .queue(ok -> {}, e -> log.debug("error reply failed: {}", e.toString()));
  }

  /**
   * The interaction's channel, from the cache of whichever of this instance's shards holds its
   * guild; a DM this session has not seen (after a restart) is reopened through its user, blocking.
   */
  private MessageChannel channel() {
    ShardManager shards = jda.getShardManager();
    MessageChannel channel =
        shards != null
            ? shards.getChannelById(MessageChannel.class, address.channelId())
            : jda.getChannelById(MessageChannel.class, address.channelId());
    if (channel == null) {
      channel =
          shards != null
              ? shards.getPrivateChannelById(address.channelId())
              : jda.getPrivateChannelById(address.channelId());
    }
    if (channel == null && address.dm()) {
      channel = jda.openPrivateChannelById(address.userId()).complete();
    }
    if (channel == null) {
      throw new DeliveryException(
          "channel "
              + address.channelId()
              + " is not visible to the bot here (the bot left it, or its server is on a shard "
              + "another instance runs)",
          null);
    }
    return channel;
  }
}
