package dev.fluxbot.testkit.bfl;

import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/** A regional host: {@code GET /v1/get_result?id=} walks each task's scenario. */
final class PollingHost implements RecordingHandler.Responder {
  private final KeyCheck keys;
  private final TaskBook book;
  private final Recorder recorder;
  private final InstantSource clock;
  private final DeliveryLinks links;

  PollingHost(
      KeyCheck keys, TaskBook book, Recorder recorder, InstantSource clock, DeliveryLinks links) {
    this.keys = keys;
    this.book = book;
    this.recorder = recorder;
    this.clock = clock;
    this.links = links;
  }

  @Override
  public Response respond(RecordedRequest request) {
    if (!request.path().equals("/v1/get_result")) return Response.detail(404, "Not Found");
    return keys.only("GET", request, () -> poll(request));
  }

  private Response poll(RecordedRequest request) {
    Optional<String> id = request.queryParameter("id");
    if (id.isEmpty()) {
      List<Problem> problems =
          List.of(new Problem(List.of("query", "id"), "Field required", "missing", null));
      recorder.problems(request.path(), problems);
      return Response.json(422, Problem.body(problems));
    }
    Task task = book.task(id.get());
    if (task == null) return Response.json(200, Task.emptyResult(id.get(), "Task not found"));
    Task.Poll poll = task.poll(clock.instant(), links);
    if (poll.justFinished()) book.finished(task, poll.status());
    return poll.response();
  }
}
