package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.slack.api.Slack;
import com.slack.api.SlackConfig;
import com.slack.api.app_backend.events.payload.EventsApiPayload;
import com.slack.api.app_backend.interactive_components.payload.BlockActionPayload;
import com.slack.api.app_backend.interactive_components.payload.MessageShortcutPayload;
import com.slack.api.app_backend.slash_commands.payload.SlashCommandPayload;
import com.slack.api.app_backend.views.payload.ViewSubmissionPayload;
import com.slack.api.bolt.App;
import com.slack.api.bolt.AppConfig;
import com.slack.api.bolt.context.builtin.ActionContext;
import com.slack.api.bolt.context.builtin.EventContext;
import com.slack.api.bolt.context.builtin.MessageShortcutContext;
import com.slack.api.bolt.context.builtin.SlashCommandContext;
import com.slack.api.bolt.context.builtin.ViewSubmissionContext;
import com.slack.api.bolt.middleware.MiddlewareChain;
import com.slack.api.bolt.request.Request;
import com.slack.api.bolt.response.Response;
import com.slack.api.bolt.socket_mode.SocketModeApp;
import com.slack.api.methods.response.auth.AuthTestResponse;
import com.slack.api.model.User;
import com.slack.api.model.event.AppMentionEvent;
import com.slack.api.socket_mode.SocketModeClient;
import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ButtonPress;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.SettingsStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
public final class SlackBot implements AutoCloseable {
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
  private Slack slack;
  private SlackApi api;
  private SlackFiles files;
  private App app;
  private SocketModeApp socket;
  private RequestUrlServer server;

  /**
   * @param http downloads users' files and posts to response URLs
   */
  public SlackBot(Config config, ChatServices services, OkHttpClient http) {
    this.config = Objects.requireNonNull(config, "config");
    this.services = Objects.requireNonNull(services, "services");
    this.http = Objects.requireNonNull(http, "http");
    this.admin = new AdminCommands(services.quota(), services.settings(), services.catalog());
    this.shortcuts = new PendingShortcuts(services.clock());
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
    SlackConfig sc = new SlackConfig();
    // The SDK's call statistics look up the team with an auth.test of their own before each call
    // and log
    // its failure as an ERROR with a stack trace; the bot keeps no such statistics and says what
    // failed itself.
    sc.setStatsEnabled(false);
    if (config.apiBaseUrl() != null) {
      sc.setMethodsEndpointUrlPrefix(config.apiBaseUrl());
    }
    slack = Slack.getInstance(sc);
    api = new SlackApi(slack.methods(config.botToken().reveal()), services.sleeper());
    AuthTestResponse auth;
    try {
      auth = api.call("auth.test", () -> api.methods().authTest(r -> r));
    } catch (SlackApi.SlackCallException e) {
      if (e.getCause() instanceof java.io.IOException network) {
        throw new IllegalStateException(
            "Slack could not be reached for auth.test ("
                + network.getClass().getSimpleName()
                + "). Check this machine's network and DNS (slack.com, or slack.api_base_url, must be reachable), then run "
                + "again.",
            e);
      }
      throw new IllegalStateException(
          "Slack refused the bot token (FLUXBOT_SLACK_BOT_TOKEN): "
              + e.getMessage()
              + ". Copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions.",
          e);
    }
    files = new SlackFiles(http, config.botToken(), trustedHosts());
    AppConfig.AppConfigBuilder ac =
        AppConfig.builder().singleTeamBotToken(config.botToken().reveal()).slack(slack);
    if (config.mode() == Mode.HTTP) {
      ac.signingSecret(config.signingSecret().reveal());
    }
    app = new App(ac.build());
    register(app);
    if (config.mode() == Mode.SOCKET) {
      try {
        socket =
            new SocketModeApp(
                config.appToken().reveal(), SocketModeClient.Backend.JavaWebSocket, app);
        socket.startAsync();
      } catch (Exception e) {
        throw new IllegalStateException(
            "Slack refused Socket Mode with the app token (FLUXBOT_SLACK_APP_TOKEN): "
                + e.getMessage()
                + ". Make an app-level token with connections:write under Basic Information and turn "
                + "Socket Mode on.",
            e);
      }
    } else {
      app.start();
      server = new RequestUrlServer(app, config.httpListen());
    }
    log.info(
        "slack: connected to {} as {} ({})",
        auth.getTeam(),
        auth.getUser(),
        config.mode() == Mode.SOCKET ? "Socket Mode" : "HTTP mode at " + server.requestUrl());
  }

  /**
   * Closes the Socket Mode client itself, then the app. Bolt's {@code SocketModeApp.close} alone
   * disconnects only if a ping is answered within 3 s, and never stops the client's threads: on a
   * loaded machine the connection stayed open, and Slack went on sending events to a closed bot.
   */
  private static void closeSocketMode(SocketModeApp socket) throws Exception {
    SocketModeClient client = socket.getClient();
    if (client != null) {
      client.close(); // no more reconnects; disconnects; stops the session monitor and the message
      // threads
      Optional<ScheduledExecutorService> monitor = client.getSessionMonitorExecutor();
      if (monitor.isPresent() && !monitor.get().awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("slack: the Socket Mode session monitor did not stop within 5 s");
      }
      client.disconnect(); // a reconnection the monitor had begun before it stopped
    }
    socket.close();
  }

  /** HTTP mode's Request URL on this machine; empty in Socket Mode. */
  public Optional<URI> requestUrl() {
    return Optional.ofNullable(server).map(RequestUrlServer::requestUrl);
  }

  /** Rebuilds a stored job's reply, for delivery after a restart; empty if it is not Slack's. */
  public Optional<ChatReply> replyFor(JobStore.Job job) {
    return SlackAddress.parse(job.replyAddress()).map(this::reply);
  }

  /** Disconnects (Socket Mode) or stops serving the Request URL; running jobs go on in the core. */
  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    try {
      if (socket != null) {
        closeSocketMode(socket);
      }
      if (app != null && config.mode() == Mode.HTTP) {
        app.stop();
      }
      if (slack != null) {
        slack.close();
      }
    } catch (Exception e) {
      log.warn("slack: did not close cleanly: {}", e.toString());
    }
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

  private SlackReply reply(SlackAddress address) {
    return new SlackReply(api, config.botToken(), address, services.clock(), http);
  }

  private Requester requester(String userId, String name, String teamId) {
    return new Requester(
        "slack",
        userId,
        name == null ? userId : name,
        teamId,
        Set.of(),
        config.adminUserIds().contains(userId));
  }

  /** A configured admin, or a workspace admin or owner as {@code users.info} says (blocking). */
  private boolean retrieveIsAdmin(String userId) {
    if (config.adminUserIds().contains(userId)) {
      return true;
    }
    User u = api.call("users.info", () -> api.methods().usersInfo(r -> r.user(userId))).getUser();
    return u != null && (u.isAdmin() || u.isOwner() || u.isPrimaryOwner());
  }

  private void run(String what, Runnable work) {
    Thread.ofVirtual()
        .name("slack-" + what)
        .start(
            () -> {
              try {
                work.run();
              } catch (RuntimeException e) {
                log.warn("slack: {} failed: {}", what, e.toString());
              }
            });
  }

  private void submit(
      Requester who, String text, Supplier<List<ImageSource>> refs, SlackAddress address) {
    SlackReply reply = reply(address);
    List<ImageSource> sources;
    try {
      sources = refs.get();
    } catch (UserError e) {
      reply.failed(e);
      return;
    }
    services
        .imagine()
        .runOrSubmit(
            new ImagineCommand(who, text, Map.of(), sources, services.settings().contextFor(who)),
            reply,
            address.toJson());
  }

  /** Where /imagine may answer in this workspace; null when here is fine, else the refusal. */
  private String channelRefusal(String teamId, String channel) {
    SettingsStore.ScopeSettings s = services.settings().scope("slack", teamId);
    return s.allows(channel)
        ? null
        : "⚠️ /imagine is not on in this channel; use "
            + String.join(
                ", ", s.allowedChannels().stream().sorted().map(c -> "<#" + c + ">").toList())
            + ".";
  }

  private void register(App app) {
    app.use(this::once);
    app.command(IMAGINE, (req, ctx) -> imagine(req.getPayload(), ctx));
    app.command(QUOTA, (req, ctx) -> quota(req.getPayload(), ctx));
    app.command(AdminCommands.COMMAND, (req, ctx) -> administer(req.getPayload(), ctx));
    app.blockAction(Pattern.compile("^fx:.*"), (req, ctx) -> button(req.getPayload(), ctx));
    app.viewSubmission(FOLLOW_UP_VIEW, (req, ctx) -> followUpForm(req.getPayload(), ctx));
    app.messageShortcut(SHORTCUT, (req, ctx) -> shortcut(req.getPayload(), ctx));
    app.viewSubmission(MESSAGE_VIEW, (req, ctx) -> shortcutForm(req.getPayload(), ctx));
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
    String refusal = channelRefusal(p.getTeamId(), p.getChannelId());
    if (refusal != null) {
      return ctx.ack(r -> r.responseType("ephemeral").text(refusal));
    }
    String text = SlackText.unescape(p.getText() == null ? "" : p.getText());
    if (text.isBlank()) {
      return ctx.ack(
          r ->
              r.responseType("ephemeral")
                  .text(
                      "⚠️ prompt: missing. Type what to make after the command, "
                          + "e.g. `/imagine a red fox in snow --ar 16:9`."));
    }
    Requester who = requester(p.getUserId(), p.getUserName(), p.getTeamId());
    try {
      services
          .imagine()
          .plan(
              new ImagineCommand(
                  who, text, Map.of(), List.of(), services.settings().contextFor(who)));
    } catch (UserError e) {
      return ctx.ack(r -> r.responseType("ephemeral").text(Texts.error(e)));
    }
    SlackAddress address =
        new SlackAddress(p.getTeamId(), p.getChannelId(), null, p.getUserId(), p.getResponseUrl());
    int position = services.waiting().getAsInt() + 1;
    run("imagine", () -> submit(who, text, List::of, address));
    return ctx.ack(
        r ->
            r.responseType("ephemeral")
                .text(
                    "Queued #"
                        + position
                        + ": "
                        + Texts.shortPrompt(text)
                        + ". Progress shows in the channel."));
  }

  /** /imagine-quota: the user's credits, answered in the acknowledgement. */
  private Response quota(SlashCommandPayload p, SlashCommandContext ctx) {
    String text =
        Texts.quota(
            services.quota().status(requester(p.getUserId(), p.getUserName(), p.getTeamId())));
    return ctx.ack(r -> r.responseType("ephemeral").text(text));
  }

  /** /imagine-admin: acknowledged at once; the rights check (users.info) and the answer follow. */
  private Response administer(SlashCommandPayload p, SlashCommandContext ctx) {
    String text = p.getText() == null ? "" : p.getText();
    run(
        "admin",
        () -> {
          String answer;
          try {
            answer =
                retrieveIsAdmin(p.getUserId())
                    ? admin.run(p.getTeamId(), text)
                    : "⛔ "
                        + AdminCommands.COMMAND
                        + " is for workspace admins and owners and the bot's admins; you are none of these.";
          } catch (RuntimeException e) {
            log.warn("slack: admin command failed: {}", e.toString());
            answer = "❌ That did not work (" + e.getMessage() + ").";
          }
          ephemeral(
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
      run("button", () -> ephemeral(address, ButtonPress.NOT_OURS));
      return ctx.ack();
    }
    ActionRef ref =
        press instanceof ButtonPress.Run run ? run.ref() : ((ButtonPress.AskForPrompt) press).ref();
    if (press instanceof ButtonPress.AskForPrompt ask) {
      String metadata =
          JSON.createObjectNode()
              .put("ref", ActionIds.format(ref.followUp(), ref.jobId()))
              .put("channel", channel)
              .put("thread", thread)
              .toString();
      String trigger = p.getTriggerId();
      run(
          "form",
          () -> {
            String prefill = ask.prefill(services.jobs());
            openModal(
                trigger,
                Modals.prompt(FOLLOW_UP_VIEW, ref.followUp().label(), prefill, metadata),
                address,
                ref.followUp().label());
          });
      return ctx.ack();
    }
    Requester who = requester(p.getUser().getId(), p.getUser().getUsername(), p.getTeam().getId());
    run(
        "follow-up",
        () ->
            services
                .imagine()
                .followUp(
                    who, ref.jobId(), ref.followUp(), null, reply(address), address.toJson()));
    return ctx.ack();
  }

  /** The prompt form of Vary or Use as reference, submitted. */
  private Response followUpForm(ViewSubmissionPayload p, ViewSubmissionContext ctx) {
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
    Requester who = requester(p.getUser().getId(), p.getUser().getUsername(), p.getTeam().getId());
    run(
        "follow-up",
        () ->
            services
                .imagine()
                .followUp(
                    who, ref.jobId(), ref.followUp(), prompt, reply(address), address.toJson()));
    return ctx.ack();
  }

  /**
   * "Imagine with these images" on a message: its image files wait in memory while the prompt form
   * is open.
   */
  private Response shortcut(MessageShortcutPayload p, MessageShortcutContext ctx) {
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
      run(
          "shortcut",
          () ->
              ephemeral(
                  address,
                  "⚠️ That message has no image files to use as references. Run "
                      + "\"Imagine with these images\" on a message with images attached."));
      return ctx.ack();
    }
    String token =
        shortcuts.put(new PendingShortcuts.Pending(images, p.getChannel().getId(), thread));
    String metadata = JSON.createObjectNode().put("refs", token).toString();
    String trigger = p.getTriggerId();
    run(
        "form",
        () ->
            openModal(
                trigger,
                Modals.prompt(MESSAGE_VIEW, "Imagine with images", "", metadata),
                address,
                "Imagine with these images"));
    return ctx.ack();
  }

  /** The shortcut's prompt form, submitted: the files are downloaded and the job starts. */
  private Response shortcutForm(ViewSubmissionPayload p, ViewSubmissionContext ctx) {
    String prompt = Modals.value(p.getView());
    Optional<PendingShortcuts.Pending> pending =
        shortcuts.take(Modals.metadata(p.getView()).path("refs").asText());
    if (pending.isEmpty()) {
      return ctx.ack(
          r ->
              r.responseAction("errors")
                  .errors(
                      Map.of(
                          Modals.PROMPT,
                          "This form expired (the bot "
                              + "restarted, or it was open over "
                              + PendingShortcuts.LIFE.toMinutes()
                              + " minutes). Close it and run "
                              + "the shortcut again.")));
    }
    PendingShortcuts.Pending s = pending.get();
    SlackAddress address =
        new SlackAddress(p.getTeam().getId(), s.channel(), s.threadTs(), p.getUser().getId(), null);
    Requester who = requester(p.getUser().getId(), p.getUser().getUsername(), p.getTeam().getId());
    run("shortcut", () -> submit(who, prompt, () -> files.download(s.files()), address));
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
    String refusal = channelRefusal(teamId, e.getChannel());
    List<SlackFiles.FileRef> images = SlackFiles.images(e.getFiles());
    Requester who = requester(e.getUser(), null, teamId);
    run(
        "mention",
        () -> {
          if (refusal != null) {
            ephemeral(address, refusal);
          } else {
            submit(who, text, () -> files.download(images), address);
          }
        });
    return ctx.ack();
  }

  /**
   * Opens a form; called on a thread of its own, after the acknowledgement. A trigger id is good
   * once and for 3 seconds, so a 429 is not waited out: the user is asked to press {@code what}
   * again.
   */
  private void openModal(
      String triggerId, com.slack.api.model.view.View view, SlackAddress address, String what) {
    try {
      api.callOnce(
          "views.open", () -> api.methods().viewsOpen(r -> r.triggerId(triggerId).view(view)));
    } catch (SlackApi.SlackCallException e) {
      log.warn("slack: could not open a form: {}", e.getMessage());
      ephemeral(address, formRefusal(e.error, what));
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

  /** A message only the user sees: {@code chat.postEphemeral}, else the response_url. */
  private void ephemeral(SlackAddress address, String text) {
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
      if (address.responseUrl() == null) {
        log.warn("slack: could not answer {}: {}", address, e.getMessage());
        return;
      }
      try {
        okhttp3.Request post =
            new okhttp3.Request.Builder()
                .url(address.responseUrl()) // needs no token
                .post(
                    okhttp3.RequestBody.create(
                        JSON.createObjectNode()
                            .put("response_type", "ephemeral")
                            .put("text", text)
                            .toString(),
                        okhttp3.MediaType.get("application/json")))
                .build();
        http.newCall(post).execute().close();
      } catch (java.io.IOException io) {
        log.warn("slack: could not answer {}: {}", address, io.getMessage());
      }
    }
  }
}
