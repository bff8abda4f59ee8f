package dev.fluxbot.runtime;

import java.util.Objects;

/**
 * What a worker's {@code /v1/health} said.
 *
 * @param status {@code ok} once the model is loaded and warm, {@code loading} before
 * @param model {@code klein-4b} or {@code klein-9b}
 * @param variant {@code distilled} or {@code base}
 */
public record WorkerHealth(
    String status,
    int protocol,
    String model,
    String variant,
    String device,
    String deviceName,
    String dtype,
    Memory memory,
    int waiting,
    int running,
    int batchCapacity,
    int maxReferences,
    int maxPromptTokens,
    int defaultSteps) {

  /** Bytes of accelerator memory (the process's resident set on the CPU, as allocated). */
  public record Memory(long allocatedBytes, long reservedBytes, long totalBytes) {}

  public WorkerHealth {
    Objects.requireNonNull(status, "status");
    model = model == null ? "" : model;
    variant = variant == null ? "" : variant;
    device = device == null ? "" : device;
    deviceName = deviceName == null ? "" : deviceName;
    dtype = dtype == null ? "" : dtype;
    memory = memory == null ? new Memory(0, 0, 0) : memory;
    batchCapacity = Math.max(1, batchCapacity);
  }

  public boolean ok() {
    return status.equals("ok");
  }

  /** Jobs at the worker per batch slot: (waiting + running) / batch capacity. */
  public double load() {
    return (double) (waiting + running) / batchCapacity;
  }

  /** "klein-4b distilled on cuda:0 (NVIDIA H100 80GB HBM3)". */
  public String describe() {
    return model
        + " "
        + variant
        + " on "
        + device
        + (deviceName.isEmpty() ? "" : " (" + deviceName + ")");
  }
}
