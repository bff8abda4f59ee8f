package dev.fluxbot.discord;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.GenerationRequest;
import dev.fluxbot.core.GenerationResult;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import net.dv8tion.jda.api.JDA;
import net.dv8tion.jda.api.components.actionrow.ActionRow;
import net.dv8tion.jda.api.components.buttons.Button;
import net.dv8tion.jda.api.entities.channel.middleman.MessageChannel;
import net.dv8tion.jda.api.interactions.InteractionHook;
import net.dv8tion.jda.api.utils.FileUpload;
import net.dv8tion.jda.api.utils.messages.MessageCreateBuilder;
import net.dv8tion.jda.api.utils.messages.MessageEditBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's answer on Discord: the deferred reply is edited with the queue position and progress,
 * then with the image and its buttons. Past the interaction token's 15 minutes the image goes to
 * the channel as a new message. Errors are ephemeral follow-ups.
 */
final class DiscordReply implements ChatReply {
  private static final Logger log = LoggerFactory.getLogger(DiscordReply.class);
  /** Interaction tokens live 15 minutes; past this, deliver as a channel message instead. */
  static final Duration TOKEN_LIFE = Duration.ofMinutes(14);
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

  private final JDA jda;
  private final DiscordAddress address;
  private final InstantSource clock;
  private final long uploadLimit;
  private volatile Instant lastEdit = Instant.EPOCH;
  private volatile String lastText = "";

  DiscordReply(JDA jda, DiscordAddress address, InstantSource clock, long uploadLimit) {
    this.jda = jda;
    this.address = address;
    this.clock = clock;
    this.uploadLimit = uploadLimit;
  }

  DiscordAddress address() {
    return address;
  }

  private boolean tokenAlive() {
    return clock.instant().isBefore(address.created().plus(TOKEN_LIFE));
  }

  private InteractionHook hook() {
    return InteractionHook.from(jda, address.token());
  }

  private void status(String text, boolean force) {
    Instant now = clock.instant();
    if (!tokenAlive() || text.equals(lastText) || (!force && now.isBefore(lastEdit.plus(PROGRESS_EVERY)))) {
      return;
    }
    lastEdit = now;
    lastText = text;
    hook().editOriginal(text).queue(ok -> {}, e -> log.debug("status edit failed: {}", e.toString()));
  }

  @Override
  public void accepted(String jobId, GenerationRequest request) {
    status("Working on it: " + Texts.describe(request), true);
  }

  @Override
  public void queued(int position) {
    status("Queued #" + position + " — waiting for a free slot.", true);
  }

  @Override
  public void progress(Progress p) {
    status(Texts.progress(p), false);
  }

  @Override
  public void image(ImageReply reply) {
    GenerationResult r = reply.result();
    Previews.Fitted fitted = Previews.fit(r.image(), r.type(), uploadLimit);
    String caption = Texts.caption(reply, address.userId(), fitted);
    String file = "fluxbot-" + r.seed() + "." + fitted.type().extension();
    List<Button> buttons = new ArrayList<>();
    for (ImageReply.FollowUp f : reply.actions()) {
      String id = ButtonIds.format(f, reply.jobId());
      buttons.add(f == ImageReply.FollowUp.REROLL ? Button.primary(id, f.label()) : Button.secondary(id, f.label()));
    }
    try {
      if (tokenAlive()) {
        hook().editOriginal(new MessageEditBuilder().setContent(caption)
                .setFiles(FileUpload.fromData(fitted.bytes(), file)).setComponents(ActionRow.of(buttons)).build())
            .complete();
      } else {
        channel().sendMessage(new MessageCreateBuilder().setContent(caption)
                .addFiles(FileUpload.fromData(fitted.bytes(), file)).setComponents(ActionRow.of(buttons)).build())
            .complete();
      }
    } catch (RuntimeException e) {
      throw new DeliveryException("job " + reply.jobId() + ": Discord refused the image (" + e.getMessage() + ")", e);
    }
  }

  @Override
  public void failed(UserError error) {
    String text = Texts.error(error);
    if (tokenAlive()) {
      hook().deleteOriginal().queue(ok -> {}, e -> {});
      hook().sendMessage(text).setEphemeral(true).queue(ok -> {}, e -> log.debug("error reply failed: {}", e.toString()));
    } else {
      channel().sendMessage("<@" + address.userId() + "> " + text).queue(ok -> {}, e -> {});
    }
  }

  private MessageChannel channel() {
    MessageChannel channel = jda.getChannelById(MessageChannel.class, address.channelId());
    if (channel == null) {
      channel = jda.getPrivateChannelById(address.channelId());
    }
    if (channel == null) {
      throw new DeliveryException("channel " + address.channelId() + " is not visible to the bot", null);
    }
    return channel;
  }

  /** Delivery to Discord failed: the job keeps its image and is delivered again later. */
  static final class DeliveryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeliveryException(String message, Throwable cause) {
      super(message, cause);
    }
  }


}
