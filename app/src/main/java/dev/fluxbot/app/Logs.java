package dev.fluxbot.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import java.io.PrintWriter;
import java.io.Writer;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.slf4j.LoggerFactory;

/**
 * The log on stderr: how much of it shows ({@code -v}) and how it looks ({@code log.format}).
 *
 * <p>Levels: fluxbot's own lines ({@code dev.fluxbot.*}) show from INFO for {@code run} and from
 * WARN for one-shot commands; the libraries' (HikariCP, Flyway, JDA, Bolt, telegrambots, the AWS
 * SDK, OkHttp) from WARN, so their start-up chatter stays out. {@code -v} shows everyone's INFO,
 * {@code -vv} fluxbot's DEBUG too.
 *
 * <p>Formats: {@code text} is {@code logback.xml}'s pattern, each line starting with its time in
 * ISO-8601 (UTC); {@code json} swaps its encoder for logstash-logback-encoder's, one object per
 * line with {@code timestamp}, {@code level}, {@code logger}, {@code thread}, {@code message},
 * {@code exception} (the stack trace as one string, when there is one) and the MDC's fields ({@code
 * job_id}, {@code platform}; see {@code dev.fluxbot.core.LogContext}). In json, what a command
 * writes to stderr for its user becomes such an object too ({@link #console}).
 */
final class Logs {
  private Logs() {}

  /** The logger every fluxbot class logs under. */
  static final String FLUXBOT = "dev.fluxbot";

  /** The name the lines a command writes to stderr carry in json. */
  static final String CONSOLE = "fluxbot";

  private static final String APPENDER = "STDERR";

  /**
   * Sets the levels for {@code -v} given {@code verbosity} times: 0 shows fluxbot's and the
   * libraries' warnings, 1 everyone's INFO, 2 or more fluxbot's DEBUG as well.
   */
  static void verbosity(int verbosity) {
    LoggerContext ctx = context();
    if (ctx == null) {
      return;
    }
    ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(verbosity > 0 ? Level.INFO : Level.WARN);
    ctx.getLogger(FLUXBOT)
        .setLevel(verbosity > 1 ? Level.DEBUG : verbosity > 0 ? Level.INFO : Level.WARN);
  }

  /** {@code run} logs what it does: fluxbot's INFO lines, whatever {@code -v} says otherwise. */
  static void fluxbotAtLeastInfo() {
    LoggerContext ctx = context();
    if (ctx == null) {
      return;
    }
    Logger fluxbot = ctx.getLogger(FLUXBOT);
    if (fluxbot.getLevel() == null || fluxbot.getLevel().isGreaterOrEqual(Level.WARN)) {
      fluxbot.setLevel(Level.INFO);
    }
  }

  /** Switches the stderr appender to {@code format}; text is what {@code logback.xml} sets up. */
  static void format(LogSettings.Format format) {
    LoggerContext ctx = context();
    if (ctx == null || format != LogSettings.Format.JSON || json(ctx) != null) {
      return;
    }
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(ctx);
    encoder.setTimeZone("UTC");
    encoder.setTimestampPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    LogstashFieldNames names = encoder.getFieldNames();
    names.setTimestamp("timestamp");
    names.setVersion("[ignore]");
    names.setLevelValue("[ignore]");
    names.setLogger("logger");
    names.setThread("thread");
    names.setStackTrace("exception");
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(ctx);
    appender.setName(APPENDER);
    appender.setTarget("System.err");
    appender.setEncoder(encoder);
    appender.start();
    Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    Appender<ILoggingEvent> text = root.getAppender(APPENDER);
    root.addAppender(appender);
    if (text != null) {
      root.detachAppender(text);
      text.stop();
    }
  }

  /** The json appender, once {@link #format} installed it; else null. */
  private static ConsoleAppender<ILoggingEvent> json(LoggerContext ctx) {
    Appender<ILoggingEvent> a = ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
    return a instanceof ConsoleAppender<ILoggingEvent> c
            && c.getEncoder() instanceof LogstashEncoder
        ? c
        : null;
  }

  private static LoggerContext context() {
    return LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx ? ctx : null;
  }

  /**
   * stderr for the commands' own messages ({@code fluxbot: running (discord)…}, a config error):
   * {@code err} itself while the log is text; in json each line becomes an INFO object of logger
   * {@value #CONSOLE}, whatever the levels (it is the command's answer, not a log line), so that
   * every line on stderr is JSON.
   */
  static PrintWriter console(PrintWriter err) {
    return new PrintWriter(new ConsoleWriter(err), true);
  }

  /**
   * In json, says that the command ended with a non-zero exit code, as an ERROR object: the lines
   * that explained why were INFO objects (see {@link #console}).
   */
  static void exited(int code) {
    LoggerContext ctx = context();
    ConsoleAppender<ILoggingEvent> json = ctx == null ? null : json(ctx);
    if (json != null && code != 0) {
      emit(json, Level.ERROR, "fluxbot exited with code " + code);
    }
  }

  private static void emit(ConsoleAppender<ILoggingEvent> json, Level level, String message) {
    LoggingEvent event = new LoggingEvent();
    event.setLoggerContext(json.getContext() instanceof LoggerContext c ? c : null);
    event.setLoggerName(CONSOLE);
    event.setLevel(level);
    event.setMessage(message);
    event.setThreadName(Thread.currentThread().getName());
    event.setTimeStamp(System.currentTimeMillis());
    event.setMDCPropertyMap(java.util.Map.of());
    json.doAppend(event);
  }

  /** Passes text through, or (in json) turns each complete line into one object. */
  private static final class ConsoleWriter extends Writer {
    private final PrintWriter err;
    private final StringBuilder line = new StringBuilder();

    ConsoleWriter(PrintWriter err) {
      this.err = err;
    }

    @Override
    public synchronized void write(char[] buf, int off, int len) {
      LoggerContext ctx = context();
      ConsoleAppender<ILoggingEvent> json = ctx == null ? null : json(ctx);
      if (json == null && line.isEmpty()) {
        err.write(buf, off, len);
        return;
      }
      for (int i = off; i < off + len; i++) {
        char c = buf[i];
        if (c == '\n') {
          String text = line.toString().stripTrailing();
          line.setLength(0);
          if (json != null) {
            emit(json, Level.INFO, text);
          } else {
            err.println(text);
          }
        } else {
          line.append(c);
        }
      }
    }

    @Override
    public synchronized void flush() {
      err.flush();
    }

    @Override
    public synchronized void close() {
      flush();
    }
  }
}
