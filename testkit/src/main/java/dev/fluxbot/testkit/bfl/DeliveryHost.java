package dev.fluxbot.testkit.bfl;

import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The delivery host: result images behind signed, expiring URLs; it takes no {@code x-key}. */
final class DeliveryHost implements RecordingHandler.Responder {
  private static final Pattern SAMPLE = Pattern.compile("/results/([^/]+)/sample\\.([a-z0-9]+)");

  private final TaskBook book;
  private final InstantSource clock;
  private final DeliveryLinks links;

  DeliveryHost(TaskBook book, InstantSource clock, DeliveryLinks links) {
    this.book = book;
    this.clock = clock;
    this.links = links;
  }

  @Override
  public Response respond(RecordedRequest request) {
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return Response.text(405, "Method Not Allowed").withHeader("Allow", "GET, HEAD");
    }
    Matcher sample = SAMPLE.matcher(request.path());
    if (!sample.matches()) return Response.text(404, "Not Found");
    Optional<Long> expires = request.queryParameter("exp").flatMap(DeliveryHost::parseLong);
    Optional<String> signature = request.queryParameter("sig");
    if (expires.isEmpty()
        || signature.isEmpty()
        || !links.verify(request.path(), expires.get(), signature.get())) {
      return Response.text(403, "Signature does not match");
    }
    if (clock.millis() > expires.get()) {
      return Response.text(403, "This URL expired at " + Instant.ofEpochMilli(expires.get()));
    }
    Task task = book.task(sample.group(1));
    if (task == null || !task.format().equals(sample.group(2)))
      return Response.text(404, "Not Found");
    return Response.bytes(ResultImages.contentType(task.format()), task.image());
  }

  private static Optional<Long> parseLong(String text) {
    try {
      return Optional.of(Long.parseLong(text));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
