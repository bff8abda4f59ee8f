package dev.fluxbot.discord;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.chat.ChatAdmin;
import dev.fluxbot.core.chat.ChatSettings;
import dev.fluxbot.core.filter.FilterRule;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.math.BigDecimal;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import net.dv8tion.jda.api.Permission;
import net.dv8tion.jda.api.events.interaction.command.SlashCommandInteractionEvent;
import net.dv8tion.jda.api.interactions.InteractionContextType;
import net.dv8tion.jda.api.interactions.commands.DefaultMemberPermissions;
import net.dv8tion.jda.api.interactions.commands.OptionMapping;
import net.dv8tion.jda.api.interactions.commands.OptionType;
import net.dv8tion.jda.api.interactions.commands.build.Commands;
import net.dv8tion.jda.api.interactions.commands.build.OptionData;
import net.dv8tion.jda.api.interactions.commands.build.SlashCommandData;
import net.dv8tion.jda.api.interactions.commands.build.SubcommandData;
import net.dv8tion.jda.api.interactions.commands.build.SubcommandGroupData;

/**
 * {@code /fluxbot-admin} (quotas, bans and this server's settings; Manage Server or an admin role
 * only) and {@code /settings} (a user's own defaults). Every answer is ephemeral.
 */
final class AdminCommands {
  static final String ADMIN = "fluxbot-admin";
  static final String SETTINGS = "settings";

  private final SettingsStore settings;
  private final ChatAdmin admin;
  private final ChatSettings userSettings;

  AdminCommands(QuotaService quota, SettingsStore settings, ModelCatalog catalog) {
    this.settings = settings;
    this.admin = new ChatAdmin(quota, settings, catalog, Texts.TEXTS, InstantSource.system());
    this.userSettings = new ChatSettings(settings, catalog, Texts.TEXTS);
  }

  static SlashCommandData adminCommand(ModelCatalog catalog) {
    OptionData period =
        new OptionData(OptionType.STRING, "period", "The window (default: day)")
            .addChoice("day", "day")
            .addChoice("week", "week")
            .addChoice("month", "month");
    OptionData credits =
        new OptionData(OptionType.NUMBER, "credits", "Credits (1 credit = $0.01)", true)
            .setMinValue(0);
    return Commands.slash(ADMIN, "Administer fluxbot on this server")
        .setDefaultPermissions(DefaultMemberPermissions.enabledFor(Permission.MANAGE_SERVER))
        .setContexts(InteractionContextType.GUILD)
        .addSubcommandGroups(
            new SubcommandGroupData("quota", "Credits and bans")
                .addSubcommands(
                    new SubcommandData(
                            "set",
                            "Credits per period for a user, a role, or (with neither) everyone here")
                        .addOptions(credits, period)
                        .addOption(OptionType.USER, "user", "A user")
                        .addOption(OptionType.ROLE, "role", "A role"),
                    new SubcommandData("grant", "Extra credits for a user in the current window")
                        .addOption(OptionType.USER, "user", "The user", true)
                        .addOptions(credits),
                    new SubcommandData("reset", "Clears a user's spending in the current window")
                        .addOption(OptionType.USER, "user", "The user", true),
                    new SubcommandData("show", "A user's credits and usage")
                        .addOption(OptionType.USER, "user", "The user", true),
                    new SubcommandData("ban", "Stops a user from making images here")
                        .addOption(OptionType.USER, "user", "The user", true)
                        .addOption(OptionType.STRING, "reason", "Kept with the ban"),
                    new SubcommandData("unban", "Lifts a ban")
                        .addOption(OptionType.USER, "user", "The user", true)),
            new SubcommandGroupData("server", "This server's settings")
                .addSubcommands(
                    new SubcommandData("default-model", "The model when a command names none")
                        .addOptions(modelOption(catalog, true)),
                    new SubcommandData(
                            "max-safety", "The highest --safety users may ask for (0 strict … 5)")
                        .addOptions(
                            new OptionData(OptionType.INTEGER, "value", "0 to 5", true)
                                .setRequiredRange(0, 5)),
                    defaultCountSubcommand(),
                    enhanceSubcommand(),
                    new SubcommandData("channels", "Where /imagine answers")
                        .addOptions(
                            new OptionData(
                                    OptionType.STRING,
                                    "mode",
                                    "allow a channel, remove one, or everywhere",
                                    true)
                                .addChoice("allow", "allow")
                                .addChoice("remove", "remove")
                                .addChoice("everywhere", "everywhere"))
                        .addOption(
                            OptionType.CHANNEL, "channel", "The channel (for allow and remove)")),
            filterGroup());
  }

  /** {@code /fluxbot-admin server default-n}: how many images a command makes without --n. */
  private static SubcommandData defaultCountSubcommand() {
    return new SubcommandData("default-n", "How many images /imagine makes without --n (1 to 4)")
        .addOptions(new OptionData(OptionType.STRING, "value", "1 to 4, or reset", true));
  }

  /** {@code /fluxbot-admin filter add|remove|list}: word filters for prompts on this server. */
  private static SubcommandGroupData filterGroup() {
    OptionData pattern =
        new OptionData(OptionType.STRING, "pattern", "Words, or a regex with regex:True", true)
            .setMaxLength(FilterRule.MAX_LENGTH);
    return new SubcommandGroupData("filter", "Words and patterns prompts here must not match")
        .addSubcommands(
            new SubcommandData("add", "Refuse prompts that match words or a regex")
                .addOptions(pattern)
                .addOption(OptionType.BOOLEAN, "regex", "The pattern is a regex (default: words)"),
            new SubcommandData("remove", "Remove a filter")
                .addOptions(
                    new OptionData(OptionType.STRING, "pattern", "As the list shows it", true)
                        .setMaxLength(FilterRule.MAX_LENGTH)),
            new SubcommandData("list", "The filters set on this server"));
  }

  /** {@code server enhance on|off|default}: the server's default for {@code --enhance}. */
  private static SubcommandData enhanceSubcommand() {
    return new SubcommandData("enhance", "Whether prompts are enhanced when a command does not say")
        .addOptions(
            new OptionData(OptionType.STRING, "value", "on, off or default", true)
                .addChoice("on", "on")
                .addChoice("off", "off")
                .addChoice("default", "default"));
  }

  static SlashCommandData settingsCommand(ModelCatalog catalog) {
    OptionData aspect = new OptionData(OptionType.STRING, "aspect", "Your default aspect");
    for (AspectPreset p : AspectPreset.values()) {
      aspect.addChoice(p.ratio(), p.id());
    }
    OptionData format = new OptionData(OptionType.STRING, "format", "Your default file format");
    for (ImageType t : ImageType.values()) {
      format.addChoice(t.apiName(), t.apiName());
    }
    return Commands.slash(SETTINGS, "Your own defaults for /imagine (model, aspect, format)")
        .addOptions(
            modelOption(catalog, false),
            aspect,
            format,
            new OptionData(OptionType.BOOLEAN, "reset", "Forget your defaults"),
            new OptionData(OptionType.INTEGER, "n", "How many images /imagine makes (--n)")
                .setRequiredRange(1, 4));
  }

  private static OptionData modelOption(ModelCatalog catalog, boolean required) {
    OptionData model = new OptionData(OptionType.STRING, "model", "A FLUX.2 model", required);
    for (ModelSpec m : catalog.models()) {
      if (!m.preview()) {
        model.addChoice(m.id(), m.id());
      }
    }
    return model;
  }

  /** {@code /settings}: with no options it shows the user's defaults. */
  String settings(Requester who, SlashCommandInteractionEvent event) {
    ChatSettings.Change change =
        new ChatSettings.Change(
            option(event, "reset").map(OptionMapping::getAsBoolean).orElse(false),
            option(event, "model").map(OptionMapping::getAsString).orElse(null),
            option(event, "aspect").map(OptionMapping::getAsString).orElse(null),
            option(event, "format").map(OptionMapping::getAsString).orElse(null));
    try {
      String answer = userSettings.change(who.platform(), who.userId(), change, who.locale());
      Optional<OptionMapping> n = option(event, "n");
      return n.isEmpty()
          ? answer
          : answer
              + " "
              + userSettings.changeCount(
                  who.platform(), who.userId(), Long.toString(n.get().getAsLong()), who.locale());
    } catch (IllegalArgumentException e) {
      return Texts.TEXTS.mistake(e.getMessage() + ".");
    }
  }

  /** {@code /fluxbot-admin …}; the caller has checked the member's rights. */
  String admin(String guildId, SlashCommandInteractionEvent event) {
    String sub = event.getSubcommandGroup() + " " + event.getSubcommandName();
    ChatAdmin.Scope scope = new ChatAdmin.Scope("discord", guildId, "on this server");
    try {
      return switch (sub) {
        case "quota set" -> quotaSet(scope, event);
        case "quota grant" -> admin.grant(scope, user(event), credits(event));
        case "quota reset" -> admin.reset(scope, user(event));
        case "quota show" -> admin.show(scope, user(event));
        case "quota ban" ->
            admin.ban(
                scope,
                user(event),
                option(event, "reason").map(OptionMapping::getAsString).orElse(null));
        case "quota unban" -> admin.unban(scope, user(event));
        case "server default-model" ->
            admin.defaultModel(scope, event.getOption("model").getAsString());
        case "server max-safety" ->
            admin.maxSafety(scope, Long.toString(event.getOption("value").getAsLong()));
        case "server default-n" ->
            admin.defaultCount(scope, event.getOption("value").getAsString());
        case "server enhance" -> admin.enhance(scope, event.getOption("value").getAsString());
        case "server channels" -> channels(guildId, event);
        case "filter add" ->
            admin
                .filters()
                .add(
                    scope,
                    event.getOption("pattern").getAsString(),
                    option(event, "regex").map(OptionMapping::getAsBoolean).orElse(false),
                    "discord:" + event.getUser().getId());
        case "filter remove" ->
            admin.filters().remove(scope, event.getOption("pattern").getAsString());
        case "filter list" -> admin.filters().list(scope);
        default -> Texts.TEXTS.mistake("command: unknown admin command " + sub + ".");
      };
    } catch (IllegalArgumentException e) {
      return Texts.TEXTS.mistake(e.getMessage() + ".");
    }
  }

  private String quotaSet(ChatAdmin.Scope scope, SlashCommandInteractionEvent event) {
    long milli = credits(event);
    QuotaService.Period period =
        QuotaService.Period.valueOf(
            option(event, "period")
                .map(OptionMapping::getAsString)
                .orElse("day")
                .toUpperCase(Locale.ROOT));
    Optional<OptionMapping> user = option(event, "user");
    Optional<OptionMapping> role = option(event, "role");
    if (user.isPresent() && role.isPresent()) {
      return Texts.TEXTS.mistake("user and role: give one of them, not both.");
    }
    if (role.isPresent()) {
      String id = role.get().getAsRole().getId();
      return admin.setRoleQuota(scope, id, "role <@&" + id + ">", period, milli);
    }
    return admin.setQuota(scope, user.map(u -> u.getAsUser().getId()).orElse(null), period, milli);
  }

  private static String user(SlashCommandInteractionEvent event) {
    return event.getOption("user").getAsUser().getId();
  }

  /** Discord hands the credits over as a number; the one credit rule still applies. */
  private static long credits(SlashCommandInteractionEvent event) {
    return Credits.parse("credits", BigDecimal.valueOf(event.getOption("credits").getAsDouble()));
  }

  private String channels(String guildId, SlashCommandInteractionEvent event) {
    String mode = event.getOption("mode").getAsString();
    SettingsStore.ScopeSettings s = settings.scope("discord", guildId);
    Set<String> allowed =
        s.allowedChannels() == null ? new TreeSet<>() : new TreeSet<>(s.allowedChannels());
    Optional<String> channel =
        option(event, "channel").map(OptionMapping::getAsString); // the id, cached or not
    if (!mode.equals("everywhere") && channel.isEmpty()) {
      return "⚠️ channel: "
          + mode
          + " needs a channel; got nothing. Pick one in the channel option.";
    }
    switch (mode) {
      case "allow" -> allowed.add(channel.get());
      case "remove" -> allowed.remove(channel.get());
      default -> allowed = null;
    }
    Set<String> next = allowed == null || allowed.isEmpty() ? null : allowed;
    settings.setScope(
        "discord", guildId, new SettingsStore.ScopeSettings(s.defaultModel(), s.maxSafety(), next));
    return next == null
        ? "/imagine now answers in every channel here."
        : "/imagine now answers only in "
            + String.join(", ", next.stream().map(c -> "<#" + c + ">").toList())
            + ".";
  }

  private static Optional<OptionMapping> option(SlashCommandInteractionEvent event, String name) {
    return Optional.ofNullable(event.getOption(name));
  }
}
