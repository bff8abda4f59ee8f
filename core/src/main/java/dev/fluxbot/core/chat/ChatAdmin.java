package dev.fluxbot.core.chat;

import dev.fluxbot.core.Text;
import dev.fluxbot.core.filter.FilterMatcher;
import dev.fluxbot.core.filter.FilterStore;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The admin commands every platform offers (quotas, bans, a scope's default model, safety cap and
 * prompt enhancement), with one set of rules and answers. A platform turns its own input (Discord's
 * options, words after a Slack or Telegram command) into these calls; the caller has checked the
 * admin's rights. A value that breaks a rule is refused with an {@link IllegalArgumentException}
 * naming the field, the rule and the value.
 */
public final class ChatAdmin {
  /**
   * Where a command applies.
   *
   * @param id the server, workspace or group; null for every chat (Telegram's private admin chat)
   * @param here how a sentence says where: "on this server", "in this workspace", "in every chat"
   */
  public record Scope(String platform, String id, String here) {}

  private final QuotaService quota;
  private final SettingsStore settings;
  private final ModelCatalog catalog;
  private final ChatTexts texts;
  private final InstantSource clock;
  private final FilterAdmin filters;

  public ChatAdmin(
      QuotaService quota,
      SettingsStore settings,
      ModelCatalog catalog,
      ChatTexts texts,
      InstantSource clock) {
    this.quota = quota;
    this.settings = settings;
    this.catalog = catalog;
    this.texts = texts;
    this.clock = clock;
    this.filters =
        new FilterAdmin(new FilterStore(settings.database(), clock), new FilterMatcher(), texts);
  }

  /** The scope's word filters: {@code filter add|remove|list}. */
  /** The language this admin's answers are written in. */
  public Locale locale() {
    return texts.locale();
  }

  public FilterAdmin filters() {
    return filters;
  }

  /** Credits per window for a user, or for everyone in the scope when {@code userId} is null. */
  public String setQuota(Scope scope, String userId, QuotaService.Period period, long milli) {
    QuotaService.Subject subject =
        userId == null
            ? QuotaService.Subject.scope(scope.platform(), scope.id())
            : QuotaService.Subject.user(scope.platform(), scope.id(), userId);
    String who = userId == null ? "everyone" : texts.markup().user(userId);
    return setRule(subject, who + " " + scope.here(), period, milli);
  }

  /** Credits per window for everyone holding a role; {@code role} is how the answer names it. */
  public String setRoleQuota(
      Scope scope, String roleId, String role, QuotaService.Period period, long milli) {
    QuotaService.Subject subject = QuotaService.Subject.role(scope.platform(), scope.id(), roleId);
    return setRule(subject, role + " " + scope.here(), period, milli);
  }

  private String setRule(
      QuotaService.Subject subject, String who, QuotaService.Period period, long milli) {
    quota.setRule(subject, period, milli);
    return "Set "
        + who
        + " to "
        + Credits.count(milli)
        + " per "
        + period.name().toLowerCase(Locale.ROOT)
        + ".";
  }

  public String grant(Scope scope, String userId, long milli) {
    quota.grant(scope.platform(), scope.id(), userId, milli);
    return "Granted "
        + Credits.count(milli)
        + " to "
        + texts.markup().user(userId)
        + ". "
        + show(scope, userId);
  }

  public String reset(Scope scope, String userId) {
    quota.reset(scope.platform(), scope.id(), userId);
    return "Reset "
        + texts.markup().user(userId)
        + "'s spending in this window. "
        + show(scope, userId);
  }

  /** A user's credits, where their limit comes from, a ban, and when the window resets. */
  public String show(Scope scope, String userId) {
    QuotaService.Status s = quota.show(scope.platform(), scope.id(), userId, Set.of());
    return texts.userStatus(userId, s, clock.instant());
  }

  /** Stops a user from making images; {@code reason} (the admin's words, may be null) is kept. */
  public String ban(Scope scope, String userId, String reason) {
    quota.ban(scope.platform(), scope.id(), userId, reason);
    return "Banned "
        + texts.markup().user(userId)
        + " from making images "
        + scope.here()
        + (reason == null || reason.isBlank()
            ? ""
            : " (" + texts.markup().escape(reason.strip()) + ")")
        + ".";
  }

  public String unban(Scope scope, String userId) {
    quota.unban(scope.platform(), scope.id(), userId);
    return "Unbanned " + texts.markup().user(userId) + " " + scope.here() + ".";
  }

  /** The model used when a command names none; one of the catalog's (not a preview). */
  public String defaultModel(Scope scope, String model) {
    ModelSpec spec =
        catalog
            .find(model)
            .filter(m -> !m.preview())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "model: must be one of "
                            + catalog.models().stream()
                                .filter(m -> !m.preview())
                                .map(ModelSpec::id)
                                .collect(Collectors.joining(", "))
                            + "; got "
                            + Text.quote(model)));
    SettingsStore.ScopeSettings s = scopeSettings(scope);
    settings.setScope(
        scope.platform(),
        requireScope(scope, "default-model"),
        new SettingsStore.ScopeSettings(spec.id(), s.maxSafety(), s.allowedChannels()));
    return "The default model " + scope.here() + " is now " + texts.markup().bold(spec.id()) + ".";
  }

  /** The highest {@code --safety} users may ask for: a whole number from 0 (strict) to 5. */
  public String maxSafety(Scope scope, String value) {
    int v = value != null && value.strip().matches("[0-5]") ? Integer.parseInt(value.strip()) : -1;
    if (v < 0) {
      throw new IllegalArgumentException(
          "max-safety: must be a whole number from 0 (strict) to 5; got " + Text.quote(value));
    }
    SettingsStore.ScopeSettings s = scopeSettings(scope);
    settings.setScope(
        scope.platform(),
        requireScope(scope, "max-safety"),
        new SettingsStore.ScopeSettings(s.defaultModel(), v, s.allowedChannels()));
    return "Users "
        + scope.here()
        + " may now ask for --safety up to "
        + texts.markup().bold(Integer.toString(v))
        + ".";
  }

  /** How many images a command makes here when it types no {@code --n}: 1 to 4, or reset. */
  public String defaultCount(Scope scope, String value) {
    Integer n = ChatSettings.count("default-n", value, texts.locale());
    settings.counts().setScope(scope.platform(), requireScope(scope, "default-n"), n);
    return ChatTexts.countDefault(
        false,
        scope.here(),
        n == null ? null : texts.markup().bold(Integer.toString(n)),
        texts.locale());
  }

  /**
   * Whether prompts are enhanced here when a command says neither {@code --enhance} nor {@code
   * --no-enhance}: {@code on}, {@code off}, or {@code default} (the bot's {@code
   * enhance.on_by_default}).
   */
  public String enhance(Scope scope, String value) {
    String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    Boolean on =
        switch (v) {
          case "on", "true", "yes" -> Boolean.TRUE;
          case "off", "false", "no" -> Boolean.FALSE;
          case "default" -> null;
          default ->
              throw new IllegalArgumentException(
                  texts.say("error.enhance.bad_value", Text.quote(value)));
        };
    settings.setScopeEnhance(scope.platform(), requireScope(scope, "enhance"), on);
    return texts.enhanceDefault(scope.here(), on);
  }

  private SettingsStore.ScopeSettings scopeSettings(Scope scope) {
    return scope.id() == null
        ? SettingsStore.ScopeSettings.NONE
        : settings.scope(scope.platform(), scope.id());
  }

  private static String requireScope(Scope scope, String command) {
    if (scope.id() == null) {
      throw new IllegalArgumentException(
          command + ": sets one group's value, so send it in that group; got it in a private chat");
    }
    return scope.id();
  }
}
