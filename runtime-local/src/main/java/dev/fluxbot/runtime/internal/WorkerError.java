package dev.fluxbot.runtime.internal;

import java.util.Objects;

/**
 * An {@code error} line: the worker refused or failed this request and keeps serving.
 *
 * @param field the request field at fault, where the worker named one
 * @param httpStatus 400 or 503 for a refusal before the stream began, 200 for an error inside it
 */
public final class WorkerError extends Exception {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final String field;
  private final int httpStatus;

  public WorkerError(String code, String message, String field, int httpStatus) {
    super(message, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.field = field;
    this.httpStatus = httpStatus;
  }

  /**
   * One of the protocol's codes ({@code invalid_request}, {@code out_of_memory}, …), or a newer
   * one.
   */
  public String code() {
    return code;
  }

  public String field() {
    return field;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /**
   * Whether another worker (or this one, restarted) could take the same request: busy or shutting
   * down.
   */
  public boolean elsewhere() {
    return code.equals("busy") || code.equals("shutting_down");
  }
}
