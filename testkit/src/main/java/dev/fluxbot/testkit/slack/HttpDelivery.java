package dev.fluxbot.testkit.slack;

import java.time.Duration;

/**
 * The app's answer to a request the fake sent to its Request URL (HTTP mode).
 *
 * @param elapsed how long the app took to answer, on the fake's clock
 */
public record HttpDelivery(int status, String body, Duration elapsed) {
  /**
   * Over Slack's 3 seconds: Slack took it as a timeout (the user saw an error; an event is sent
   * again).
   */
  public boolean timedOut() {
    return elapsed.compareTo(SlackEnvelope.ACK_WITHIN) > 0;
  }
}
