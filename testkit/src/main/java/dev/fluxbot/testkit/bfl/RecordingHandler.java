package dev.fluxbot.testkit.bfl;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.fluxbot.testkit.FakeBflApi.Host;
import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import java.io.IOException;
import java.net.URI;

/** Records each request, asks a host's logic for the response, and sends it. */
final class RecordingHandler implements HttpHandler {
  /** A host's logic: a response for a recorded request. */
  interface Responder {
    Response respond(RecordedRequest request);
  }

  private final Host host;
  private final Recorder recorder;
  private final Responder responder;

  RecordingHandler(Host host, Recorder recorder, Responder responder) {
    this.host = host;
    this.recorder = recorder;
    this.responder = responder;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      RecordedRequest request =
          new RecordedRequest(
              host,
              exchange.getRequestMethod(),
              target(exchange.getRequestURI()),
              exchange.getRequestHeaders(),
              body);
      recorder.request(request);
      response(request).send(exchange, request.method().equals("HEAD"));
    }
  }

  private Response response(RecordedRequest request) {
    try {
      return responder.respond(request);
    } catch (RuntimeException e) {
      // A bug in the fake: answer like a crashed server, and leave the trace in the test output.
      System.err.println("FakeBflApi failed on " + request);
      e.printStackTrace();
      return Response.detail(500, "Internal Server Error");
    }
  }

  private static String target(URI uri) {
    return uri.getRawQuery() == null
        ? uri.getRawPath()
        : uri.getRawPath() + "?" + uri.getRawQuery();
  }
}
