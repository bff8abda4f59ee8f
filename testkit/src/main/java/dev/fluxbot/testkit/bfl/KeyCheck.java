package dev.fluxbot.testkit.bfl;

import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import java.util.Optional;
import java.util.function.Supplier;

/** Routing helpers shared by the API and polling hosts: the method, then the {@code x-key}. */
record KeyCheck(String key) {
  /** The handler's response when the method matches and the key is right; else the refusal. */
  Response only(String method, RecordedRequest request, Supplier<Response> handler) {
    if (!request.method().equals(method)) {
      return Response.detail(405, "Method Not Allowed").withHeader("Allow", method);
    }
    Optional<String> sent = request.header("x-key");
    if (sent.isEmpty()) return Response.detail(403, "Not authenticated");
    if (!sent.get().equals(key)) return Response.detail(403, "Invalid API key");
    return handler.get();
  }
}
