package dev.fluxbot.testkit.slack;

/** The app's answer to a request the fake sent to its Request URL (HTTP mode). */
public record HttpDelivery(int status, String body) {}
