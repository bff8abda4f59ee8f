package dev.fluxbot.discord;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.chat.ButtonPress;
import dev.fluxbot.core.chat.ChatConnection;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.chat.ChatSettings;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.store.JobStore;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import net.dv8tion.jda.api.JDA;
import net.dv8tion.jda.api.Permission;
import net.dv8tion.jda.api.components.label.Label;
import net.dv8tion.jda.api.components.textinput.TextInput;
import net.dv8tion.jda.api.components.textinput.TextInputStyle;
import net.dv8tion.jda.api.entities.Member;
import net.dv8tion.jda.api.entities.Message;
import net.dv8tion.jda.api.entities.Role;
import net.dv8tion.jda.api.entities.User;
import net.dv8tion.jda.api.entities.channel.ChannelType;
import net.dv8tion.jda.api.events.interaction.GenericInteractionCreateEvent;
import net.dv8tion.jda.api.events.interaction.ModalInteractionEvent;
import net.dv8tion.jda.api.events.interaction.command.MessageContextInteractionEvent;
import net.dv8tion.jda.api.events.interaction.command.SlashCommandInteractionEvent;
import net.dv8tion.jda.api.events.interaction.component.ButtonInteractionEvent;
import net.dv8tion.jda.api.hooks.ListenerAdapter;
import net.dv8tion.jda.api.interactions.DiscordLocale;
import net.dv8tion.jda.api.interactions.Interaction;
import net.dv8tion.jda.api.interactions.callbacks.IReplyCallback;
import net.dv8tion.jda.api.interactions.commands.OptionMapping;
import net.dv8tion.jda.api.interactions.commands.build.CommandData;
import net.dv8tion.jda.api.interactions.commands.build.Commands;
import net.dv8tion.jda.api.modals.Modal;
import net.dv8tion.jda.api.utils.data.DataObject;
import org.jspecify.annotations.NonNull;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Discord adapter: {@code /imagine}, {@code /quota}, the buttons under each image and the
 * "Imagine with this image" message command, as a thin layer over the core. Every interaction is
 * acknowledged at once (deferred) and the work runs on a virtual thread.
 */
public final class DiscordBot implements AutoCloseable, ChatConnection {
  private static final Logger log = LoggerFactory.getLogger(DiscordBot.class);
  static final String CONTEXT_MENU = "Imagine with this image";
  static final long DEFAULT_UPLOAD_LIMIT = 10L * 1024 * 1024;
  private static final String MESSAGE_MODAL = "fxmsg:";

  /**
   * @param restBaseUrl Discord's REST base ({@code …/api/v10/}); null for Discord itself
   * @param gatewayUrl the gateway's WebSocket URL; null to ask Discord
   * @param adminRoleIds roles whose members may administer the bot, besides Manage Server
   * @param shards the gateway shards this instance runs
   */
  public record Config(
      Secret token,
      String restBaseUrl,
      String gatewayUrl,
      Set<String> adminRoleIds,
      boolean allowDms,
      Shards shards) {
    public Config {
      Objects.requireNonNull(token, "token");
      adminRoleIds = Set.copyOf(adminRoleIds);
      Objects.requireNonNull(shards, "shards");
    }

    /** One instance with as many shards as Discord recommends. */
    public Config(
        Secret token,
        String restBaseUrl,
        String gatewayUrl,
        Set<String> adminRoleIds,
        boolean allowDms) {
      this(token, restBaseUrl, gatewayUrl, adminRoleIds, allowDms, Shards.AUTOMATIC);
    }
  }

  private final Config config;
  private final ChatServices services;
  private final OriginalLinks originals;
  private final AdminCommands admin;
  private final ChatSettings channels;
  private final FormImages forms;
  private volatile ShardRunner shards;
  private volatile boolean closed;

  /** Without links to originals: a preview's message says how an admin gets the original. */
  public DiscordBot(Config config, ChatServices services) {
    this(config, services, OriginalLinks.NONE);
  }

  /**
   * @param originals links to the originals of images that only fit as a preview
   */
  public DiscordBot(Config config, ChatServices services, OriginalLinks originals) {
    this.config = Objects.requireNonNull(config, "config");
    this.services = Objects.requireNonNull(services, "services");
    this.originals = Objects.requireNonNull(originals, "originals");
    this.admin = new AdminCommands(services.quota(), services.settings(), services.catalog());
    this.channels = new ChatSettings(services.settings(), services.catalog(), Texts.TEXTS);
    this.forms = new FormImages(services.clock());
  }

  /**
   * Logs in, waits until every shard this instance runs is ready and registers the commands
   * (blocking). The commands are global, so only the instance that runs shard 0 registers them: one
   * writer, however many instances start at once (an instance of another version that starts
   * without shard 0 changes nothing).
   *
   * @throws IllegalStateException with a clear message when Discord refuses the token or a shard
   */
  public void start() throws InterruptedException {
    shards = ShardRunner.start(config, new Listener());
    shards.awaitReady();
    JDA first = shards.any();
    if (shards.runsShardZero()) {
      shards
          .manager()
          .getShardById(0)
          .updateCommands()
          .addCommands(commands(services.catalog()))
          .complete();
    }
    log.info(
        "discord: logged in as {}; this instance runs shard(s) {} of {}{} ({} guild(s)){}",
        first.getSelfUser().getName(),
        Shards.describe(shards.running()),
        shards.total(),
        config.shards().automatic() ? ", as Discord recommends" : "",
        shards.manager().getGuilds().size(),
        shards.runsShardZero() ? "" : "; the instance with shard 0 registers the commands");
  }

  /**
   * Rebuilds a stored job's reply, for delivery after a restart; empty if it is not Discord's. Any
   * shard delivers it: the interaction's webhook and a channel's REST route need none.
   */
  public Optional<ChatReply> replyFor(JobStore.Job job) {
    return DiscordAddress.parse(job.replyAddress())
        .map(
            a ->
                new DiscordReply(
                    shards.any(), a, services.clock(), () -> DEFAULT_UPLOAD_LIMIT, originals));
  }

  /**
   * Every command this bot registers, descriptions localized ({@link CommandTexts}): {@code
   * /imagine}, {@code /quota}, {@code /settings}, {@code /fluxbot-admin} and the message command.
   */
  static List<CommandData> commands(ModelCatalog catalog) {
    return List.of(
        CommandTexts.localized(ImagineCommandDefinition.create(catalog)),
        CommandTexts.localized(Commands.slash("quota", "Your credits, usage and when they reset")),
        CommandTexts.localized(AdminCommands.settingsCommand(catalog)),
        CommandTexts.localized(AdminCommands.adminCommand(catalog)),
        Commands.message(CONTEXT_MENU));
  }

  @Override
  public String platform() {
    return "discord";
  }

  /** Every shard this instance runs connected (JDA's status of each); no I/O. */
  @Override
  public Status connection() {
    ShardRunner running = shards;
    if (closed) {
      return Status.disconnected("closed");
    }
    return running == null ? Status.connecting("not started") : running.connection();
  }

  @Override
  public void close() {
    closed = true;
    if (shards != null) {
      shards.close();
    }
  }

  private Requester requester(Interaction event, String guildId) {
    User user = event.getUser();
    Member member = event.getMember();
    Set<String> roles = new TreeSet<>();
    boolean admin = false;
    if (member != null) {
      for (Role r : member.getRoles()) {
        roles.add(r.getId());
      }
      admin =
          member.hasPermission(Permission.MANAGE_SERVER)
              || roles.stream().anyMatch(config.adminRoleIds()::contains);
    }
    String name = member != null ? member.getEffectiveName() : user.getEffectiveName();
    return new Requester("discord", user.getId(), name, guildId, roles, admin, locale(event));
  }

  private DiscordReply reply(GenericInteractionCreateEvent event) {
    DiscordAddress address =
        new DiscordAddress(
            event.getToken(),
            event.getChannelId(),
            event.getUser().getId(),
            event.getTimeCreated().toInstant(),
            event.getChannelType() == ChannelType.PRIVATE,
            locale(event));
    long limit = uploadLimit(event.getRawData());
    return new DiscordReply(event.getJDA(), address, services.clock(), () -> limit, originals);
  }

  /**
   * The interaction's {@code attachment_size_limit} (raw data, which JDA does not expose
   * otherwise).
   */
  static long uploadLimit(DataObject raw) {
    if (raw != null) {
      DataObject d = raw.optObject("d").orElse(raw);
      if (d.hasKey("attachment_size_limit") && !d.isNull("attachment_size_limit")) {
        return d.getLong("attachment_size_limit");
      }
    }
    return DEFAULT_UPLOAD_LIMIT;
  }

  /**
   * The language of the user's Discord client (the interaction's {@code locale}); English for a
   * language fluxbot does not ship (the bundles fall back to it).
   */
  static Locale locale(Interaction event) {
    DiscordLocale l = event.getUserLocale();
    return l == DiscordLocale.UNKNOWN ? Locale.ENGLISH : Messages.locale(l.getLocale());
  }

  private static String guildId(IReplyCallback event) {
    return event.getGuild() == null ? null : event.getGuild().getId();
  }

  private boolean refuseChannel(IReplyCallback event) {
    if (event.getGuild() == null) {
      return false;
    }
    Optional<String> refusal =
        channels.channelRefusal(
            "discord", event.getGuild().getId(), event.getChannelId(), locale(event));
    refusal.ifPresent(text -> event.reply(text).setEphemeral(true).queue());
    return refusal.isPresent();
  }

  private boolean refuseDm(IReplyCallback event) {
    if (event.getGuild() == null && !config.allowDms()) {
      event
          .reply("⚠️ " + Messages.format(locale(event), "discord.dms_off"))
          .setEphemeral(true)
          .queue();
      return true;
    }
    return false;
  }

  /**
   * Defers the reply (Discord's 3 seconds), then runs the work once Discord has taken the
   * acknowledgement: an interaction that cannot be acknowledged (expired, or already answered)
   * starts nothing.
   */
  private void acknowledged(IReplyCallback event, String what, Runnable work) {
    event
        .deferReply()
        .queue(
            ok -> run(what, work),
            e ->
                log.warn(
                    "discord: could not acknowledge {} interaction {}: {}",
                    what,
                    event.getId(),
                    e.toString()));
  }

  private void run(String what, Runnable work) {
    Thread.ofVirtual()
        .name("discord-" + what)
        .start(
            () -> {
              dev.fluxbot.core.LogContext.platform("discord"); // this thread does this work alone
              try {
                work.run();
              } catch (RuntimeException e) {
                dev.fluxbot.core.LogContext.failed(log, "discord: " + what, e);
              }
            });
  }

  private final class Listener extends ListenerAdapter {
    @Override
    public void onSlashCommandInteraction(@NonNull SlashCommandInteractionEvent event) {
      switch (event.getName()) {
        case ImagineCommandDefinition.NAME -> imagine(event);
        case "quota" -> quota(event);
        case AdminCommands.SETTINGS ->
            event
                .reply(admin.settings(requester(event, guildId(event)), event))
                .setEphemeral(true)
                .queue();
        case AdminCommands.ADMIN -> administer(event);
        default ->
            event
                .reply(
                    "⚠️ " + Messages.format(locale(event), "chat.unknown_command", event.getName()))
                .setEphemeral(true)
                .queue();
      }
    }

    private void administer(SlashCommandInteractionEvent event) {
      Requester who = requester(event, guildId(event));
      if (event.getGuild() == null || !who.admin()) {
        event
            .reply("⛔ " + Messages.format(who.locale(), "discord.admin_only"))
            .setEphemeral(true)
            .queue();
        return;
      }
      event.deferReply(true).queue();
      run(
          "admin",
          () -> {
            String answer;
            try {
              answer = admin.admin(event.getGuild().getId(), event);
            } catch (RuntimeException e) {
              dev.fluxbot.core.LogContext.failed(log, "discord: admin command", e);
              answer = ChatTexts.failed(e, who.locale());
            }
            event.getHook().sendMessage(answer).setEphemeral(true).queue();
          });
    }

    private void imagine(SlashCommandInteractionEvent event) {
      if (refuseDm(event) || refuseChannel(event)) {
        return;
      }
      Requester who = requester(event, guildId(event));
      String text =
          Optional.ofNullable(event.getOption(ImagineCommandDefinition.PROMPT))
              .map(OptionMapping::getAsString)
              .orElse("");
      Map<String, String> options = new LinkedHashMap<>();
      for (String name : List.of("model", "aspect", "resolution", "seed", "format")) {
        OptionMapping o = event.getOption(name);
        if (o != null) {
          options.put(name, o.getAsString());
        }
      }
      List<ImageSource> refs = new ArrayList<>();
      for (int n = 1; n <= 8; n++) {
        OptionMapping o = event.getOption(ImagineCommandDefinition.IMAGE_PREFIX + n);
        if (o != null) {
          Message.Attachment a = o.getAsAttachment();
          refs.add(
              new ImageSource.Remote(
                  "image" + n + " (" + a.getFileName() + ")",
                  URI.create(a.getUrl()),
                  Map.of(),
                  OptionalLong.of(a.getSize())));
        }
      }
      DiscordReply reply = reply(event);
      String address = reply.address().toJson();
      acknowledged(
          event,
          "imagine",
          () ->
              services
                  .imagine()
                  .runOrSubmit(
                      new ImagineCommand(
                          who, text, options, refs, services.settings().contextFor(who)),
                      reply,
                      address));
    }

    private void quota(SlashCommandInteractionEvent event) {
      Requester who = requester(event, event.getGuild() == null ? null : event.getGuild().getId());
      String text =
          Texts.TEXTS
              .in(who.locale())
              .quota(services.quota().status(who), services.clock().instant());
      event.reply(text).setEphemeral(true).queue();
    }

    @Override
    public void onButtonInteraction(@NonNull ButtonInteractionEvent event) {
      switch (ButtonPress.of(ButtonIds.CARRIER, event.getComponentId())) {
        case ButtonPress.NotOurs n ->
            event.reply(ButtonPress.notOurs(locale(event))).setEphemeral(true).queue();
        case ButtonPress.AskForPrompt ask ->
            event
                .replyModal(
                    promptModal(
                        ButtonIds.format(ask.ref().followUp(), ask.ref().jobId()),
                        Messages.format(
                            locale(event),
                            ask.vary() ? "discord.form.vary" : "discord.form.reference"),
                        ask.prefill(services.jobs()),
                        locale(event)))
                .queue();
        case ButtonPress.Run run -> followUp(event, run.ref(), null);
      }
    }

    @Override
    public void onModalInteraction(@NonNull ModalInteractionEvent event) {
      String prompt =
          Optional.ofNullable(event.getValue("prompt")).map(m -> m.getAsString()).orElse("");
      if (event.getModalId().startsWith(MESSAGE_MODAL)) {
        imagineWithMessage(event, prompt);
        return;
      }
      ActionRef ref;
      try {
        ref = ButtonIds.parse(event.getModalId());
      } catch (IllegalArgumentException e) {
        event
            .reply("⚠️ " + Messages.format(locale(event), "discord.form.not_ours"))
            .setEphemeral(true)
            .queue();
        return;
      }
      followUp(event, ref, prompt);
    }

    private <E extends GenericInteractionCreateEvent & IReplyCallback> void followUp(
        E event, ActionRef ref, String prompt) {
      Requester who = requester(event, event.getGuild() == null ? null : event.getGuild().getId());
      DiscordReply reply = reply(event);
      String address = reply.address().toJson();
      acknowledged(
          event,
          "follow-up",
          () ->
              services
                  .imagine()
                  .followUp(who, ref.jobId(), ref.followUp(), prompt, reply, address));
    }

    @Override
    public void onMessageContextInteraction(@NonNull MessageContextInteractionEvent event) {
      if (!CONTEXT_MENU.equals(event.getName()) || refuseDm(event)) {
        return;
      }
      // The target as this interaction carries it is complete; read again later it may not be (see
      // FormImages).
      List<ImageSource> refs = new ArrayList<>();
      for (Message.Attachment a : event.getTarget().getAttachments()) {
        if (a.isImage()) {
          refs.add(
              new ImageSource.Remote(
                  "image" + (refs.size() + 1) + " (" + a.getFileName() + ")",
                  URI.create(a.getUrl()),
                  Map.of(),
                  OptionalLong.of(a.getSize())));
        }
      }
      if (refs.isEmpty()) {
        event
            .reply("⚠️ " + Messages.format(locale(event), "discord.message.no_images"))
            .setEphemeral(true)
            .queue();
        return;
      }
      forms.put(event.getId(), refs);
      event
          .replyModal(
              promptModal(
                  MESSAGE_MODAL + event.getId(),
                  Messages.format(locale(event), "discord.form.with_image"),
                  "",
                  locale(event)))
          .queue();
    }

    private void imagineWithMessage(ModalInteractionEvent event, String prompt) {
      Optional<List<ImageSource>> refs =
          forms.take(event.getModalId().substring(MESSAGE_MODAL.length()));
      if (refs.isEmpty()) {
        event
            .reply(
                "⚠️ "
                    + Messages.format(
                        locale(event),
                        "discord.form.expired",
                        FormImages.KEEP.toMinutes(),
                        CONTEXT_MENU))
            .setEphemeral(true)
            .queue();
        return;
      }
      Requester who = requester(event, event.getGuild() == null ? null : event.getGuild().getId());
      DiscordReply reply = reply(event);
      String address = reply.address().toJson();
      acknowledged(
          event,
          "imagine-with-message",
          () ->
              services
                  .imagine()
                  .runOrSubmit(
                      new ImagineCommand(
                          who, prompt, Map.of(), refs.get(), services.settings().contextFor(who)),
                      reply,
                      address));
    }
  }

  private static Modal promptModal(String id, String title, String prefill, Locale locale) {
    TextInput.Builder input =
        TextInput.create("prompt", TextInputStyle.PARAGRAPH)
            .setRequired(true)
            .setMaxLength(4000)
            .setPlaceholder(Messages.format(locale, "discord.form.placeholder"));
    if (!prefill.isEmpty()) {
      input.setValue(prefill.length() > 4000 ? prefill.substring(0, 4000) : prefill);
    }
    return Modal.create(id, title)
        .addComponents(Label.of(Messages.format(locale, "discord.form.prompt"), input.build()))
        .build();
  }
}
