package dev.fluxbot.testkit.slack;

/** How the fake Slack signs a request to an app's Request URL. */
public enum Signing {
  /** With the app's signing secret, as Slack does. */
  SIGNED,
  /** Without the signature headers. */
  UNSIGNED,
  /** With a secret that is not the app's. */
  WRONG_SECRET
}
