package dev.fluxbot.testkit;

import java.util.Objects;

/**
 * What {@link FakeKleinWorker} does with one {@code /v1/generate} that passed validation.
 *
 * @param kind what happens
 * @param atStep the step after which it happens (0: right after {@code started})
 * @param code the error code for {@link Kind#ERROR} and {@link Kind#REFUSE}
 * @param message the error message
 */
public record KleinScenario(Kind kind, int atStep, String code, String message) {
  public enum Kind {
    /** Queued, started, every step, the image. */
    SUCCEED,
    /**
     * An {@code error} line after step {@code atStep}, ending the stream; the worker keeps serving.
     */
    ERROR,
    /**
     * A refusal before the stream: one error line with 400 ({@code 503} for busy and
     * shutting_down).
     */
    REFUSE,
    /** The connection is cut after step {@code atStep}; the worker keeps serving. */
    DROP,
    /**
     * The connection is cut after step {@code atStep} and the worker stops answering, as if it
     * died.
     */
    DIE
  }

  public KleinScenario {
    Objects.requireNonNull(kind, "kind");
    if (atStep < 0) {
      throw new IllegalArgumentException("atStep must be >= 0. Provided: " + atStep);
    }
    if ((kind == Kind.ERROR || kind == Kind.REFUSE) && (code == null || message == null)) {
      throw new IllegalArgumentException(kind + " needs a code and a message");
    }
  }

  public static KleinScenario succeed() {
    return new KleinScenario(Kind.SUCCEED, 0, null, null);
  }

  /** An error line after step {@code step}: {@code out_of_memory}, {@code internal}, … */
  public static KleinScenario error(int step, String code, String message) {
    return new KleinScenario(Kind.ERROR, step, code, message);
  }

  /** Refused at once with this code ({@code busy}, {@code shutting_down}, or any other). */
  public static KleinScenario refuse(String code, String message) {
    return new KleinScenario(Kind.REFUSE, 0, code, message);
  }

  public static KleinScenario dropAfterStep(int step) {
    return new KleinScenario(Kind.DROP, step, null, null);
  }

  public static KleinScenario dieAfterStep(int step) {
    return new KleinScenario(Kind.DIE, step, null, null);
  }

  /** The HTTP status of a refusal: 503 for busy and shutting_down, 400 otherwise. */
  public int refusalStatus() {
    return "busy".equals(code) || "shutting_down".equals(code) ? 503 : 400;
  }
}
