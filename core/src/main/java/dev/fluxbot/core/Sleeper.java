package dev.fluxbot.core;

import java.time.Duration;

/** Waits. The seam that lets tests move a fake clock instead of sleeping. */
@FunctionalInterface
public interface Sleeper {
  Sleeper SYSTEM = d -> Thread.sleep(d);

  void sleep(Duration duration) throws InterruptedException;
}
