package dev.fluxbot.slack;

import com.slack.api.model.User;
import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.chat.ChatSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the handlers of a connected {@link SlackBot} share: who acts, work on a thread of its own, a
 * job submitted, a message only the user sees, and where /imagine may answer.
 */
final class SlackActions {
  // logs under SlackBot's name, as before the split
  private static final Logger log = LoggerFactory.getLogger(SlackBot.class);

  private final SlackBot.Config config;
  private final ChatServices services;
  private final OkHttpClient http;
  private final SlackApi api;
  private final SlackFiles files;
  private final ChatSettings channels;
  private final SlackLocales locales;

  SlackActions(
      SlackBot.Config config,
      ChatServices services,
      OkHttpClient http,
      SlackApi api,
      SlackFiles files) {
    this.config = config;
    this.services = services;
    this.http = http;
    this.api = api;
    this.files = files;
    this.channels = new ChatSettings(services.settings(), services.catalog(), Texts.TEXTS);
    this.locales = new SlackLocales(api);
  }

  ChatServices services() {
    return services;
  }

  SlackApi api() {
    return api;
  }

  SlackFiles files() {
    return files;
  }

  SlackReply reply(SlackAddress address) {
    return new SlackReply(api, config.botToken(), address, services.clock(), http);
  }

  Requester requester(String userId, String name, String teamId) {
    return new Requester(
        "slack",
        userId,
        name == null ? userId : name,
        teamId,
        Set.of(),
        config.adminUserIds().contains(userId),
        locales.of(userId));
  }

  /** A configured admin, or a workspace admin or owner as {@code users.info} says (blocking). */
  boolean retrieveIsAdmin(String userId) {
    if (config.adminUserIds().contains(userId)) {
      return true;
    }
    User u = api.call("users.info", () -> api.methods().usersInfo(r -> r.user(userId))).getUser();
    return u != null && (u.isAdmin() || u.isOwner() || u.isPrimaryOwner());
  }

  void run(String what, Runnable work) {
    Thread.ofVirtual()
        .name("slack-" + what)
        .start(
            () -> {
              dev.fluxbot.core.LogContext.platform("slack"); // this thread does this work alone
              try {
                work.run();
              } catch (RuntimeException e) {
                log.warn("slack: {} failed: {}", what, e.toString());
              }
            });
  }

  void submit(Requester who, String text, Supplier<List<ImageSource>> refs, SlackAddress to) {
    SlackAddress address = to.withLocale(who.locale());
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
  String channelRefusal(String teamId, String channel, String userId) {
    return channels.channelRefusal("slack", teamId, channel, locales.of(userId)).orElse(null);
  }

  /** A message only the user sees: {@code chat.postEphemeral}, else the response_url. */
  void ephemeral(SlackAddress address, String text) {
    reply(address).tellUser(text);
  }
}
