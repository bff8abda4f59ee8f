package dev.fluxbot.testkit.discord;

import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeDiscord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import net.dv8tion.jda.api.JDA;
import net.dv8tion.jda.api.JDABuilder;
import net.dv8tion.jda.api.events.GenericEvent;
import net.dv8tion.jda.api.hooks.EventListener;
import net.dv8tion.jda.api.requests.GatewayIntent;
import net.dv8tion.jda.api.requests.RestConfig;
import net.dv8tion.jda.api.utils.Compression;
import net.dv8tion.jda.api.utils.SessionControllerAdapter;

/**
 * The real JDA, logged into a {@link FakeDiscord}, with every event it fires kept for the test to
 * await.
 */
final class Bot implements AutoCloseable, EventListener {
  static final Duration WAIT = Duration.ofSeconds(10);

  final JDA jda;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<GenericEvent> events = new ArrayList<>(); // guarded by lock

  private Bot(JDABuilder builder) throws InterruptedException {
    this.jda = builder.addEventListeners(this).build().awaitReady();
  }

  static Bot login(FakeDiscord discord) throws InterruptedException {
    return login(discord, UnaryOperator.identity());
  }

  static Bot login(FakeDiscord discord, UnaryOperator<JDABuilder> customize)
      throws InterruptedException {
    return new Bot(customize.apply(builder(discord, discord.token())));
  }

  /** JDA pointed at the fake, as an adapter would configure it. */
  static JDABuilder builder(FakeDiscord discord, String token) {
    return JDABuilder.createLight(token, EnumSet.noneOf(GatewayIntent.class))
        .setRestConfig(new RestConfig().setBaseUrl(discord.restBaseUrl()))
        .setSessionController(
            new SessionControllerAdapter() {
              @Override
              public String getGateway() {
                return discord.gatewayUrl();
              }
            })
        .setCompression(Compression.NONE)
        .setEnableShutdownHook(false);
  }

  @Override
  public void onEvent(GenericEvent event) {
    lock.lock();
    try {
      events.add(event);
    } finally {
      lock.unlock();
    }
  }

  /** The first event of that type matching {@code predicate}, waiting up to {@link #WAIT}. */
  <T extends GenericEvent> T await(Class<T> type, Predicate<? super T> predicate) {
    return Await.present(
        WAIT,
        () ->
            events().stream()
                .filter(type::isInstance)
                .map(type::cast)
                .filter(predicate)
                .findFirst(),
        () ->
            "No "
                + type.getSimpleName()
                + " within "
                + WAIT
                + "; events: "
                + events().stream().map(e -> e.getClass().getSimpleName()).toList());
  }

  private List<GenericEvent> events() {
    lock.lock();
    try {
      return List.copyOf(events);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    jda.shutdown();
    try {
      if (!jda.awaitShutdown(WAIT)) jda.shutdownNow();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      jda.shutdownNow();
    }
  }
}
