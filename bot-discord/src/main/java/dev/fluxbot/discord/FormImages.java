package dev.fluxbot.discord;

import dev.fluxbot.core.ImageSource;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The images of the messages that "Imagine with this image" opened a form on, kept until the form
 * is submitted. The submit does not carry them, and a message read again over REST has no
 * attachments without the privileged Message Content intent; the command's own interaction is the
 * one place Discord hands them over. Kept as long as a form is good for, at most {@link #MAX}, in
 * memory only (a restart forgets them).
 */
final class FormImages {
  static final Duration KEEP = Duration.ofMinutes(15);
  static final int MAX = 1000;

  private record Entry(List<ImageSource> images, Instant until) {}

  private final InstantSource clock;
  private final Map<String, Entry> entries = new LinkedHashMap<>(); // oldest first

  FormImages(InstantSource clock) {
    this.clock = clock;
  }

  /** Keeps {@code images} for the form {@code key}; the oldest go first past {@link #MAX}. */
  synchronized void put(String key, List<ImageSource> images) {
    prune();
    entries.put(key, new Entry(List.copyOf(images), clock.instant().plus(KEEP)));
    for (Iterator<String> it = entries.keySet().iterator(); entries.size() > MAX; ) {
      it.next();
      it.remove();
    }
  }

  /**
   * The form's images, once: empty when they expired, were pushed out, or were never kept by this
   * process.
   */
  synchronized Optional<List<ImageSource>> take(String key) {
    prune();
    return Optional.ofNullable(entries.remove(key)).map(Entry::images);
  }

  synchronized int size() {
    prune();
    return entries.size();
  }

  private void prune() {
    Instant now = clock.instant();
    entries.values().removeIf(e -> !now.isBefore(e.until()));
  }
}
