package dev.fluxbot.core.schedule;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Records what one job's submitter hears, in order. */
final class RecordingListener implements JobScheduler.Listener {
  final CountDownLatch finishedLatch = new CountDownLatch(1);
  private final List<String> events = new ArrayList<>();
  private final List<Integer> positions = new ArrayList<>();
  private final Runnable onStarted;
  private final Runnable onFinished;

  RecordingListener() {
    this(() -> {}, () -> {});
  }

  RecordingListener(Runnable onStarted, Runnable onFinished) {
    this.onStarted = onStarted;
    this.onFinished = onFinished;
  }

  @Override
  public synchronized void queued(int position) {
    events.add("queued " + position);
    positions.add(position);
  }

  @Override
  public void started() {
    synchronized (this) {
      events.add("started");
    }
    onStarted.run();
  }

  @Override
  public void finished() {
    synchronized (this) {
      events.add("finished");
    }
    finishedLatch.countDown();
    onFinished.run();
  }

  synchronized List<String> events() {
    return List.copyOf(events);
  }

  synchronized List<Integer> positions() {
    return List.copyOf(positions);
  }

  synchronized boolean hasStarted() {
    return events.contains("started");
  }

  synchronized boolean hasFinished() {
    return events.contains("finished");
  }
}
