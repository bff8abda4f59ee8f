package dev.fluxbot.core;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.slf4j.MDC;

/**
 * The fields every log line of a job carries (SLF4J's MDC): {@value #JOB_ID} and {@value
 * #PLATFORM}. The user is not one of them: a user's id appears only where a line names it. The
 * pipeline opens a job's context where the job's work runs ({@link #job}); work handed to another
 * thread takes its context along ({@link #inheriting}); the chat adapters set {@value #PLATFORM}
 * where they take an event ({@link #platform}).
 */
public final class LogContext {
  private LogContext() {}

  /** The job's id. */
  public static final String JOB_ID = "job_id";

  /** {@code discord}, {@code telegram}, {@code slack} or {@code cli}. */
  public static final String PLATFORM = "platform";

  /** An open context; closing it puts back what the thread had before. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  /** Sets {@code job_id} and {@code platform} on this thread until the scope is closed. */
  public static Scope job(String jobId, String platform) {
    String jobBefore = MDC.get(JOB_ID);
    String platformBefore = MDC.get(PLATFORM);
    put(JOB_ID, jobId);
    put(PLATFORM, platform);
    return () -> {
      put(JOB_ID, jobBefore);
      put(PLATFORM, platformBefore);
    };
  }

  /**
   * Marks this thread as handling an event of {@code platform}: for the adapters' event threads,
   * which handle that platform's events alone.
   */
  public static void platform(String platform) {
    put(PLATFORM, Objects.requireNonNull(platform, "platform"));
  }

  /** {@code task} run in the given job's context, on whatever thread runs it. */
  public static Runnable job(String jobId, String platform, Runnable task) {
    return () -> {
      try (Scope ignored = job(jobId, platform)) {
        task.run();
      }
    };
  }

  /** Runs {@code work} in the given job's context on this thread; returns its result. */
  public static <T> T inJob(String jobId, String platform, java.util.function.Supplier<T> work) {
    try (Scope ignored = job(jobId, platform)) {
      return work.get();
    }
  }

  /** {@code task} run in the context of the thread that calls this (a hand-off to another). */
  public static Runnable inheriting(Runnable task) {
    Map<String, String> context = MDC.getCopyOfContextMap();
    return () -> {
      Map<String, String> before = MDC.getCopyOfContextMap();
      set(context);
      try {
        task.run();
      } finally {
        set(before);
      }
    };
  }

  /** As {@link #inheriting(Runnable)}, for a task with a result. */
  public static <T> Callable<T> inheriting(Callable<T> task) {
    Map<String, String> context = MDC.getCopyOfContextMap();
    return () -> {
      Map<String, String> before = MDC.getCopyOfContextMap();
      set(context);
      try {
        return task.call();
      } finally {
        set(before);
      }
    };
  }

  /**
   * Logs a failure that ended {@code what}: an expected one (the network or a store that did not
   * answer, a refusal, bad input: an I/O error, a {@code StoreException}, a {@link UserError}, a
   * platform SDK's error response, anywhere among its causes) as one WARN line; anything else, a
   * defect of ours, at ERROR with its stack trace, for a developer.
   */
  public static void failed(org.slf4j.Logger log, String what, RuntimeException e) {
    if (expected(e)) {
      log.warn("{} failed: {}", what, e.toString());
    } else {
      log.error("{} failed unexpectedly", what, e);
    }
  }

  /** Whether {@code e} is an expected condition rather than a defect; see {@link #failed}. */
  public static boolean expected(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String name = t.getClass().getSimpleName();
      if (t instanceof java.io.IOException
          || t instanceof java.io.UncheckedIOException
          || t instanceof UserError
          || t instanceof dev.fluxbot.core.store.Database.StoreException
          || name.endsWith("ErrorResponseException") // JDA
          || name.endsWith("ApiException") // telegrambots, Slack's client
          || name.equals("RateLimitedException")) {
        return true;
      }
    }
    return false;
  }

  private static void set(Map<String, String> context) {
    if (context == null) {
      MDC.clear();
    } else {
      MDC.setContextMap(context);
    }
  }

  private static void put(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}
