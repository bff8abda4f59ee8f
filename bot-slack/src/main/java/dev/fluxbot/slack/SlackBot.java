package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.slack.api.app_backend.events.payload.EventsApiPayload;
import com.slack.api.app_backend.interactive_components.payload.BlockActionPayload;
import com.slack.api.app_backend.slash_commands.payload.SlashCommandPayload;
import com.slack.api.bolt.App;
import com.slack.api.bolt.context.builtin.ActionContext;
import com.slack.api.bolt.context.builtin.EventContext;
import com.slack.api.bolt.context.builtin.SlashCommandContext;
import com.slack.api.bolt.middleware.MiddlewareChain;
import com.slack.api.bolt.request.Request;
import com.slack.api.bolt.response.Response;
import com.slack.api.methods.response.auth.AuthTestResponse;
import com.slack.api.model.event.AppMentionEvent;
import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ButtonPress;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.store.JobStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Slack adapter on Bolt: {@code /imagine}, {@code /imagine-quota}, {@code /imagine-admin}, the
 * buttons under each image, the message shortcut "Imagine with these images" and mentions with
 * files, as a thin layer over the core. Socket Mode by default; HTTP mode (a Request URL, every
 * request's signature checked) as an option. Every request is acknowledged at once (Slack's 3
 * seconds); the work runs on a virtual thread.
 */
public final class SlackBot implements AutoCloseable, dev.fluxbot.core.chat.ChatConnection {
  /**
   * How long a delivery's id is remembered: past Slack's last retry, about five minutes after the
   * first.
   */
  public static final java.time.Duration DELIVERIES_KEPT = Deliveries.LIFE;

  private static final Logger log = LoggerFactory.getLogger(SlackBot.class);
  static final ObjectMapper JSON = new ObjectMapper();
  static final String IMAGINE = "/imagine";
  static final String QUOTA = "/imagine-quota";

  /** The message shortcut's callback id (set the same in the app's settings). */
  public static final String SHORTCUT = "imagine_with_images";

  static final String FOLLOW_UP_VIEW = "fx-followup";
  static final String MESSAGE_VIEW = "fx-message";

  /** How Slack reaches the bot. */
  public enum Mode {
    /** A WebSocket the bot opens: no public URL needed; needs the app-level token. */
    SOCKET,
    /** Slack posts to a Request URL the bot serves; needs the signing secret. */
    HTTP
  }

  /**
   * @param appToken the app-level token ({@code xapp-…}, connections:write), for Socket Mode
   * @param signingSecret the app's signing secret, for HTTP mode
   * @param apiBaseUrl the Web API's prefix ({@code https://slack.com/api/}); null for Slack itself
   * @param httpListen where HTTP mode listens (the Request URL's path is {@code /slack/events})
   * @param adminUserIds users who may administer the bot besides the workspace's admins and owners
   */
  public record Config(
      Mode mode,
      Secret botToken,
      Secret appToken,
      Secret signingSecret,
      String apiBaseUrl,
      InetSocketAddress httpListen,
      Set<String> adminUserIds) {
    public Config {
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(
          botToken,
          "botToken: FLUXBOT_SLACK_BOT_TOKEN is not set; copy the Bot User OAuth Token "
              + "(xoxb-…) from the app's OAuth & Permissions page");
      if (mode == Mode.SOCKET && appToken == null) {
        throw new IllegalArgumentException(
            "FLUXBOT_SLACK_APP_TOKEN: Socket Mode needs an app-level token (xapp-…) with "
                + "connections:write; none is set. Make one under Basic Information → App-Level Tokens, or use HTTP mode.");
      }
      if (mode == Mode.HTTP && signingSecret == null) {
        throw new IllegalArgumentException(
            "FLUXBOT_SLACK_SIGNING_SECRET: HTTP mode checks every request with the app's "
                + "signing secret; none is set. Copy it from Basic Information → App Credentials.");
      }
      if (mode == Mode.HTTP && httpListen == null) {
        throw new IllegalArgumentException(
            "slack http listen address: HTTP mode needs one (host and port); none is set.");
      }
      if (apiBaseUrl != null && !apiBaseUrl.endsWith("/")) {
        apiBaseUrl = apiBaseUrl + "/";
      }
      adminUserIds = Set.copyOf(adminUserIds);
    }
  }

  private final Config config;
  private final ChatServices services;
  private final OkHttpClient http;
  private final AdminCommands admin;
  private final PendingShortcuts shortcuts;
  private final Deliveries deliveries;
  private volatile SlackConnection connection;
  private SlackActions actions;
  private SlackForms forms;

  /**
   * @param http downloads users' files and posts to response URLs
   */
  public SlackBot(Config config, ChatServices services, OkHttpClient http) {
    this.config = Objects.requireNonNull(config, "config");
    this.services = Objects.requireNonNull(services, "services");
    this.http = Objects.requireNonNull(http, "http");
    this.admin = new AdminCommands(services.quota(), services.settings(), services.catalog());
    this.shortcuts = new PendingShortcuts(services.state().forms());
    this.deliveries = new Deliveries(services.clock(), services.deliveries());
  }

  /**
   * Checks the bot token ({@code auth.test}), then connects (Socket Mode) or starts serving the
   * Request URL (HTTP mode); blocking.
   *
   * @throws IllegalStateException with a clear message when Slack refuses a token
   * @throws java.io.UncheckedIOException when HTTP mode cannot listen where configured
   */
  public void start() {
    connection = new SlackConnection(config);
    AuthTestResponse auth = connection.open(services.sleeper());
    SlackFiles files = new SlackFiles(http, config.botToken(), trustedHosts());
    actions = new SlackActions(config, services, http, connection.api(), files);
    forms = new SlackForms(actions, shortcuts);
    App app = connection.app();
    register(app);
    connection.serve(auth);
  }

  /** HTTP mode's Request URL on this machine; empty in Socket Mode. */
  public Optional<URI> requestUrl() {
    return connection == null ? Optional.empty() : connection.requestUrl();
  }

  @Override
  public String platform() {
    return "slack";
  }

  /**
   * Socket Mode: connected from the start until the WebSocket closes, and again with Slack's next
   * message; HTTP mode: connected while the Request URL is served. No I/O.
   */
  @Override
  public Status connection() {
    SlackConnection c = connection;
    return c == null ? Status.connecting("not started") : c.connection();
  }

  /** Rebuilds a stored job's reply, for delivery after a restart; empty if it is not Slack's. */
  public Optional<ChatReply> replyFor(JobStore.Job job) {
    return SlackAddress.parse(job.replyAddress())
        .map(a -> new SlackReply(api(), config.botToken(), a, services.clock(), http));
  }

  /** Disconnects (Socket Mode) or stops serving the Request URL; running jobs go on in the core. */
  @Override
  public void close() {
    if (connection != null) {
      connection.close();
    }
  }

  /** The Web API client once {@link #start} made it; null before. */
  private SlackApi api() {
    return connection == null ? null : connection.api();
  }

  private Set<String> trustedHosts() {
    if (config.apiBaseUrl() == null) {
      return Set.of();
    }
    URI u = URI.create(config.apiBaseUrl());
    return Set.of(
        u.getScheme()
            + "://"
            + u.getHost().toLowerCase(java.util.Locale.ROOT)
            + ":"
            + SlackFiles.port(u));
  }

  private void register(App app) {
    app.use( // Bolt's handler threads handle Slack's events alone
        (req, resp, chain) -> {
          dev.fluxbot.core.LogContext.platform("slack");
          return chain.next(req);
        });
    app.use(this::once);
    app.command(IMAGINE, (req, ctx) -> imagine(req.getPayload(), ctx));
    app.command(QUOTA, (req, ctx) -> quota(req.getPayload(), ctx));
    app.command(AdminCommands.COMMAND, (req, ctx) -> administer(req.getPayload(), ctx));
    app.blockAction(Pattern.compile("^fx:.*"), (req, ctx) -> button(req.getPayload(), ctx));
    app.viewSubmission(FOLLOW_UP_VIEW, (req, ctx) -> forms.followUpForm(req.getPayload(), ctx));
    app.messageShortcut(SHORTCUT, (req, ctx) -> forms.shortcut(req.getPayload(), ctx));
    app.viewSubmission(MESSAGE_VIEW, (req, ctx) -> forms.shortcutForm(req.getPayload(), ctx));
    app.event(AppMentionEvent.class, (req, ctx) -> mention(req, ctx));
  }

  /**
   * Runs each delivery once: a resent event (its ack was lost or late) or an interaction that comes
   * twice is acknowledged, so Slack stops sending it, and not run again: no second job, no second
   * charge.
   */
  private Response once(Request<?> req, Response resp, MiddlewareChain chain) throws Exception {
    String key = Deliveries.key(req);
    if (key != null && !deliveries.first(key)) {
      log.info(
          "slack: {} came again (retry {}, {}); acknowledged, not run twice",
          key,
          req.getHeaders().getFirstValue("X-Slack-Retry-Num"),
          req.getHeaders().getFirstValue("X-Slack-Retry-Reason"));
      return Response.ok();
    }
    return chain.next(req);
  }

  /**
   * /imagine: the text is parsed first, so a mistake is the acknowledgement itself (only the user
   * sees it); else acknowledged with the queue number and the job starts on its own thread.
   */
  private Response imagine(SlashCommandPayload p, SlashCommandContext ctx) {
    String refusal = actions.channelRefusal(p.getTeamId(), p.getChannelId(), p.getUserId());
    if (refusal != null) {
      return ctx.ack(r -> r.responseType("ephemeral").text(refusal));
    }
    String text = SlackText.unescape(p.getText() == null ? "" : p.getText());
    Requester who = actions.requester(p.getUserId(), p.getUserName(), p.getTeamId());
    if (text.isBlank()) {
      return ctx.ack(
          r ->
              r.responseType("ephemeral")
                  .text("⚠️ " + Messages.format(who.locale(), "slack.prompt.missing")));
    }
    try {
      services
          .imagine()
          .plan(
              new ImagineCommand(
                  who, text, Map.of(), List.of(), services.settings().contextFor(who)));
    } catch (UserError e) {
      return ctx.ack(r -> r.responseType("ephemeral").text(Texts.error(e, who.locale())));
    }
    SlackAddress address =
        new SlackAddress(p.getTeamId(), p.getChannelId(), null, p.getUserId(), p.getResponseUrl());
    int position = services.waiting().getAsInt() + 1;
    actions.run("imagine", () -> actions.submit(who, text, List::of, address));
    return ctx.ack(
        r ->
            r.responseType("ephemeral")
                .text(
                    Messages.format(
                        who.locale(), "slack.queued.private", position, Texts.shortPrompt(text))));
  }

  /** /imagine-quota: the user's credits, answered in the acknowledgement. */
  private Response quota(SlashCommandPayload p, SlashCommandContext ctx) {
    Requester who = actions.requester(p.getUserId(), p.getUserName(), p.getTeamId());
    String text = Texts.quota(services.quota().status(who), who.locale());
    return ctx.ack(r -> r.responseType("ephemeral").text(text));
  }

  /** /imagine-admin: acknowledged at once; the rights check (users.info) and the answer follow. */
  private Response administer(SlashCommandPayload p, SlashCommandContext ctx) {
    String text = p.getText() == null ? "" : p.getText();
    actions.run(
        "admin",
        () -> {
          String answer;
          try {
            answer =
                actions.retrieveIsAdmin(p.getUserId())
                    ? admin.run(p.getTeamId(), text)
                    : "⛔ "
                        + AdminCommands.COMMAND
                        + " is for workspace admins and owners and the bot's admins; you are none of these.";
          } catch (RuntimeException e) {
            log.warn("slack: admin command failed: {}", e.toString());
            answer = ChatTexts.failed(e);
          }
          actions.ephemeral(
              new SlackAddress(
                  p.getTeamId(), p.getChannelId(), null, p.getUserId(), p.getResponseUrl()),
              answer);
        });
    return ctx.ack();
  }

  /**
   * A button under an image: Reroll and 2K start at once; Vary and Use as reference open a prompt
   * form, after the acknowledgement, so that nothing the form waits for can delay it.
   */
  private Response button(BlockActionPayload p, ActionContext ctx) {
    var action = p.getActions().get(0);
    String channel =
        p.getContainer() != null && p.getContainer().getChannelId() != null
            ? p.getContainer().getChannelId()
            : p.getChannel().getId();
    String thread = p.getContainer() == null ? null : p.getContainer().getThreadTs();
    SlackAddress address =
        new SlackAddress(
            p.getTeam().getId(), channel, thread, p.getUser().getId(), p.getResponseUrl());
    ButtonPress press = ButtonPress.of(ActionIds.CARRIER, action.getActionId());
    if (press instanceof ButtonPress.NotOurs) {
      actions.run("button", () -> actions.ephemeral(address, ButtonPress.NOT_OURS));
      return ctx.ack();
    }
    if (press instanceof ButtonPress.AskForPrompt ask) {
      forms.askForPrompt(p.getTriggerId(), ask, address, channel, thread);
      return ctx.ack();
    }
    ActionRef ref = ((ButtonPress.Run) press).ref();
    Requester who =
        actions.requester(p.getUser().getId(), p.getUser().getUsername(), p.getTeam().getId());
    actions.run(
        "follow-up",
        () ->
            services
                .imagine()
                .followUp(
                    who,
                    ref.jobId(),
                    ref.followUp(),
                    null,
                    actions.reply(address.withLocale(who.locale())),
                    address.withLocale(who.locale()).toJson()));
    return ctx.ack();
  }

  /**
   * A mention of the bot: the text (without the mention) is the prompt, image files are references.
   */
  private Response mention(EventsApiPayload<AppMentionEvent> req, EventContext ctx) {
    AppMentionEvent e = req.getEvent();
    String teamId = req.getTeamId();
    String text =
        SlackText.unescape(
                e.getText() == null
                    ? ""
                    : e.getText()
                        .replaceAll(
                            "<@"
                                + Pattern.quote(
                                    ctx.getBotUserId() == null ? "" : ctx.getBotUserId())
                                + "(\\|[^>]*)?>",
                            ""))
            .strip();
    SlackAddress address =
        new SlackAddress(teamId, e.getChannel(), e.getThreadTs(), e.getUser(), null);
    String refusal = actions.channelRefusal(teamId, e.getChannel(), e.getUser());
    List<SlackFiles.FileRef> images = SlackFiles.images(e.getFiles());
    Requester who = actions.requester(e.getUser(), null, teamId);
    actions.run(
        "mention",
        () -> {
          if (refusal != null) {
            actions.ephemeral(address, refusal);
          } else {
            actions.submit(who, text, () -> actions.files().download(images), address);
          }
        });
    return ctx.ack();
  }
}
