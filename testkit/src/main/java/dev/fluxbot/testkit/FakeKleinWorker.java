package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.klein.KleinEngine;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A loopback fake of the local klein worker's HTTP protocol v1 ({@code runtime-local/README.md}),
 * for tests that drive the real client over real sockets.
 *
 * <p>{@code /v1/health} reports a scriptable status, model, variant, device, queue and batch
 * capacity. {@code /v1/generate} validates the request as the worker does (sizes, pixels, seed,
 * steps, guidance, references, prompt length) and answers a broken rule with 400 and one error
 * line; a valid request streams {@code queued}, {@code started}, one {@code progress} per step and
 * an {@code image} line with a real image of the requested size and format, unless a queued {@link
 * KleinScenario} says otherwise (an error line, a refusal, a cut connection, death). Every generate
 * is recorded.
 *
 * <pre>{@code
 * try (FakeKleinWorker worker = FakeKleinWorker.start()) {
 *   worker.enqueue(KleinScenario.error(2, "out_of_memory", "CUDA out of memory …"));
 *   // point the backend under test at worker.url()
 *   assertThat(worker.takeGenerate().body().get("width").asInt()).isEqualTo(1024);
 * }
 * }</pre>
 */
public final class FakeKleinWorker implements AutoCloseable {
  private final KleinEngine engine;

  private FakeKleinWorker(KleinEngine engine) {
    this.engine = engine;
  }

  /**
   * A request to {@code /v1/generate}: its JSON (null if unreadable), raw text, and what the fake
   * did.
   */
  public record RecordedGenerate(JsonNode body, String raw, String outcome) {}

  /**
   * A fake with the defaults on a free loopback port: ok, klein-4b distilled on the CPU, 4 steps.
   */
  public static FakeKleinWorker start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code http://127.0.0.1:<port>} (the host it was told to listen on). */
  public URI url() {
    String host = engine.host().contains(":") ? "[" + engine.host() + "]" : engine.host();
    return URI.create("http://" + host + ":" + engine.port());
  }

  public String baseUrl() {
    return url().toString();
  }

  public int port() {
    return engine.port();
  }

  /** {@code ok} (health 200) or {@code loading} (health 503, generates refused as busy). */
  public FakeKleinWorker setStatus(String status) {
    engine.state().status = Objects.requireNonNull(status, "status");
    return this;
  }

  /**
   * The queue {@code /v1/health} reports; the fake's own running generates are added to {@code
   * running}.
   */
  public FakeKleinWorker setQueue(int waiting, int running) {
    engine.state().waiting = waiting;
    engine.state().running = running;
    return this;
  }

  public FakeKleinWorker setModel(String model, String variant) {
    engine.state().model = model;
    engine.state().variant = variant;
    return this;
  }

  public FakeKleinWorker setStepDelay(Duration delay) {
    engine.state().stepDelay = Objects.requireNonNull(delay, "delay");
    return this;
  }

  /**
   * Queues scenarios; each valid generate takes the oldest (FIFO); with none queued, it succeeds.
   */
  public FakeKleinWorker enqueue(KleinScenario... scenarios) {
    for (KleinScenario s : scenarios) {
      engine.enqueue(Objects.requireNonNull(s, "scenario"));
    }
    return this;
  }

  /** Closes the listening socket: connections are refused, as when no worker runs. */
  public void refuseConnections() {
    engine.refuse();
  }

  /** Listens again on the same port. */
  public void acceptConnections() {
    engine.accept();
  }

  /** Every {@code /v1/generate}, in arrival order. */
  public List<RecordedGenerate> generates() {
    return engine.generates();
  }

  /** The oldest generate not yet taken, waiting up to 10 s for one. */
  public RecordedGenerate takeGenerate() {
    return engine.take(Duration.ofSeconds(10));
  }

  public int healthRequests() {
    return engine.healthRequests();
  }

  /** Generates being streamed now. */
  public int activeGenerates() {
    return engine.active();
  }

  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return "FakeKleinWorker[" + url() + "]";
  }

  /** Options; {@link #start()} binds the port. */
  public static final class Builder {
    private final KleinEngine.State state = new KleinEngine.State();
    private String host = InetAddress.getLoopbackAddress().getHostAddress();
    private int port;

    private Builder() {}

    /** Where to listen; port 0 (the default) takes a free one. */
    public Builder listen(String host, int port) {
      this.host = Objects.requireNonNull(host, "host");
      this.port = port;
      return this;
    }

    public Builder status(String status) {
      state.status = Objects.requireNonNull(status, "status");
      return this;
    }

    /**
     * {@code klein-4b} or {@code klein-9b}; {@code distilled} (4 steps) or {@code base} (50 steps).
     */
    public Builder model(String model, String variant) {
      state.model = Objects.requireNonNull(model, "model");
      state.variant = Objects.requireNonNull(variant, "variant");
      state.defaultSteps = variant.equals("base") ? 50 : 4;
      return this;
    }

    public Builder device(String device, String deviceName, long totalBytes) {
      state.device = Objects.requireNonNull(device, "device");
      state.deviceName = Objects.requireNonNull(deviceName, "deviceName");
      state.totalBytes = totalBytes;
      return this;
    }

    public Builder queue(int waiting, int running) {
      state.waiting = waiting;
      state.running = running;
      return this;
    }

    public Builder batchCapacity(int capacity) {
      state.batchCapacity = capacity;
      return this;
    }

    public Builder maxReferences(int max) {
      state.maxReferences = max;
      return this;
    }

    public Builder maxPromptTokens(int max) {
      state.maxPromptTokens = max;
      return this;
    }

    public Builder defaultSteps(int steps) {
      state.defaultSteps = steps;
      return this;
    }

    /** How long each denoising step takes (default none). */
    public Builder stepDelay(Duration delay) {
      state.stepDelay = Objects.requireNonNull(delay, "delay");
      return this;
    }

    /**
     * What a {@code DIE} scenario does besides cutting the connection (default: refuse
     * connections).
     */
    public Builder onDie(Runnable hook) {
      state.onDie = hook;
      return this;
    }

    public FakeKleinWorker start() {
      return new FakeKleinWorker(new KleinEngine(state, host, port));
    }
  }
}
