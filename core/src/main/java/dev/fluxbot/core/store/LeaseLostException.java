package dev.fluxbot.core.store;

/**
 * Another instance has taken a job over (this one's lease ran out: a long pause, a lost database):
 * this one must leave the job alone, neither charging, failing nor delivering it.
 */
public final class LeaseLostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LeaseLostException(String jobId) {
    super("job " + jobId + " is no longer this instance's: another instance took it over");
  }
}
