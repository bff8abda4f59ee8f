package dev.fluxbot.testkit.bfl;

import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeBflApi.Host;
import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import dev.fluxbot.testkit.FakeBflApi.RecordedSubmit;
import dev.fluxbot.testkit.FakeBflApi.ValidationError;
import dev.fluxbot.testkit.Scenario;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The machinery behind {@link FakeBflApi}; internal, use that class. Three JDK HTTP servers on
 * loopback share one virtual-thread executor, a {@link TaskBook} and a {@link Recorder}.
 */
public final class BflEngine implements AutoCloseable {
  private static final InetAddress LOOPBACK = loopback();

  private final String key;
  private final TaskBook book;
  private final Recorder recorder = new Recorder();
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer api;
  private final HttpServer polling;
  private final HttpServer delivery;
  private final DeliveryLinks links;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final WebhookSender webhooks;

  private BflEngine(
      String key, InstantSource clock, Duration deliveryTtl, int activeTaskLimit, double credits)
      throws IOException {
    this.key = key;
    this.book = new TaskBook(credits, activeTaskLimit);
    this.api = bind();
    this.polling = bind();
    this.delivery = bind();
    this.links = new DeliveryLinks(deliveryBaseUrl(), deliveryTtl);
    KeyCheck keys = new KeyCheck(key);
    this.webhooks = new WebhookSender(book, links, clock);
    serve(api, Host.API, new ApiHost(keys, book, recorder, clock, pollingBaseUrl(), webhooks));
    serve(polling, Host.POLLING, new PollingHost(keys, book, recorder, clock, links));
    serve(delivery, Host.DELIVERY, new DeliveryHost(book, clock, links));
  }

  public static BflEngine start(
      String key, InstantSource clock, Duration deliveryTtl, int activeTaskLimit, double credits) {
    try {
      return new BflEngine(key, clock, deliveryTtl, activeTaskLimit, credits);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not bind the fake BFL servers on loopback", e);
    }
  }

  private static HttpServer bind() throws IOException {
    return HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 256);
  }

  private void serve(HttpServer server, Host host, RecordingHandler.Responder responder) {
    server.createContext("/", new RecordingHandler(host, recorder, responder));
    server.setExecutor(executor);
    server.start();
  }

  // The API host is named localhost (bound to 127.0.0.1); the others use the address, so the
  // polling host differs from it in name and port, as api.eu2.bfl.ai differs from api.bfl.ai.
  public String apiBaseUrl() {
    return "http://localhost:" + api.getAddress().getPort();
  }

  public String pollingBaseUrl() {
    return "http://127.0.0.1:" + polling.getAddress().getPort();
  }

  public String deliveryBaseUrl() {
    return "http://127.0.0.1:" + delivery.getAddress().getPort();
  }

  public String key() {
    return key;
  }

  public void enqueue(Scenario scenario) {
    book.enqueue(scenario);
  }

  public int queuedScenarios() {
    return book.queued();
  }

  public double credits() {
    return book.credits();
  }

  public void setCredits(double credits) {
    book.setCredits(credits);
  }

  public void setDeliveryTtl(Duration ttl) {
    links.setTtl(ttl);
  }

  public void setActiveTaskLimit(int limit) {
    book.setActiveLimit(limit);
  }

  public List<RecordedRequest> requests() {
    return recorder.requests();
  }

  public List<RecordedSubmit> submits() {
    return recorder.submits();
  }

  public RecordedSubmit takeSubmit(Duration wait) {
    return recorder.take(wait);
  }

  public List<ValidationError> validationErrors() {
    return recorder.validationErrors();
  }

  public void setWorkTime(Duration time) {
    book.setWorkTime(time);
  }

  public java.util.Optional<java.time.Instant> readyTime(String id) {
    Task task = book.task(id);
    return task == null || book.workTime() == null
        ? java.util.Optional.empty()
        : java.util.Optional.of(task.readyTime());
  }

  public void setWebhookSigning(FakeBflApi.WebhookSigning signing) {
    webhooks.setSigning(signing);
  }

  public List<FakeBflApi.RecordedWebhook> webhooks() {
    return webhooks.sent();
  }

  public int activeTasks() {
    return book.active();
  }

  public int maxActiveTasks() {
    return book.maxActive();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    api.stop(0);
    polling.stop(0);
    delivery.stop(0);
    webhooks.close();
    executor.shutdownNow();
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
