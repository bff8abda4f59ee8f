"""The worker's HTTP side (protocol 1): routes, request bodies, JSON answers and the NDJSON stream.

Standard library only (`http.server.ThreadingHTTPServer`); one handler thread per connection
validates a request, hands it to the WorkerServer's queue and streams its job's events.
"""

from __future__ import annotations

import base64
import json
import select
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Iterable

from .errors import RequestError, show
from .jobs import END, Job
from .pipeline import GeneratedImage
from .validation import MAX_ID_CHARS, parse_request

if TYPE_CHECKING:  # the server imports this module
    from .server import WorkerServer

MAX_BODY_BYTES = 96 * 1024 * 1024


class WorkerHttpServer(ThreadingHTTPServer):
    """The threading HTTP server; its `app` is the WorkerServer the handlers serve."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away is normal; anything else is logged (never sent to a client)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        app = getattr(self, "app", None)
        text = "".join(traceback.format_exc())
        if app is not None:
            app.log_text(f"connection from {client_address[0]} failed: {text.rstrip()}")
        else:
            sys.stderr.write(text)


def image_event(image: GeneratedImage) -> dict[str, Any]:
    return {"event": "image", "format": image.format, "width": image.width, "height": image.height,
            "seed": image.seed, "data": base64.b64encode(image.data).decode("ascii"),
            "elapsed_ms": int(image.elapsed_ms)}


class WorkerHandler(BaseHTTPRequestHandler):
    """One connection's requests: `GET /v1/health`, `POST /v1/generate` (streamed), refusals."""

    protocol_version = "HTTP/1.1"
    server_version = "fluxbot-klein/1"

    def log_message(self, format: str, *args: Any) -> None:  # the app logs one line per request itself
        pass

    # plumbing --------------------------------------------------------------------------------
    def _send_json(self, status: int, obj: dict[str, Any], extra_headers: Iterable[tuple[str, str]] = ()) -> None:
        data = (json.dumps(obj) + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/x-ndjson" if obj.get("event") == "error"
                         else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error_line(self, error: RequestError, status: int | None = None) -> None:
        if status is None:
            status = 503 if error.code in ("busy", "shutting_down") else 400
        extra = [("Retry-After", "1")] if status == 503 else []
        self._send_json(status, error.to_event(), extra)

    def _chunk(self, obj: dict[str, Any]) -> None:
        data = (json.dumps(obj) + "\n").encode("utf-8")
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    raise RequestError("invalid_request", "the request body's chunked encoding is broken")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True
                    raise RequestError("invalid_request",
                                       f"the body must be at most {MAX_BODY_BYTES:,} bytes; send smaller references")
                parts.append(self.rfile.read(size))
                self.rfile.readline(16)
            return b"".join(parts)
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise RequestError("invalid_request", "the request needs a Content-Length header (or chunked encoding)")
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            raise RequestError("invalid_request", f"Content-Length must be an integer (got {show(length)})")
        if n < 0 or n > MAX_BODY_BYTES:
            self.close_connection = True
            raise RequestError("invalid_request",
                               f"the body must be at most {MAX_BODY_BYTES:,} bytes (got {n:,}); send smaller references")
        return self.rfile.read(n)

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # routes ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        app = self.server.app
        if self.path.split("?")[0] == "/v1/health":
            body = app.health()
            self._send_json(200 if body["status"] == "ok" else 503, body)
        elif self.path.split("?")[0] == "/v1/generate":
            self._send_error_line(RequestError("invalid_request", "/v1/generate takes POST"), 405)
        else:
            self._send_error_line(RequestError("invalid_request", f"no such endpoint {show(self.path)}; "
                                               "use /v1/health or /v1/generate"), 404)

    def do_POST(self) -> None:
        app = self.server.app
        path = self.path.split("?")[0]
        if path != "/v1/generate":
            try:
                self._read_body()
            except RequestError:
                pass
            status = 405 if path == "/v1/health" else 404
            self._send_error_line(RequestError("invalid_request", f"no POST endpoint {show(self.path)}; "
                                               "use POST /v1/generate"), status)
            return
        req_id = None
        try:
            raw = self._read_body()
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise RequestError("invalid_request", f"the body is not UTF-8 JSON ({e})") from None
            if isinstance(body, dict) and isinstance(body.get("id"), str):
                req_id = body["id"][:MAX_ID_CHARS]
            pipeline = app.pipeline_or_refuse()
            request, given_id = parse_request(body, pipeline)
            req_id = given_id if given_id is not None else app.next_id()
            job = app.submit(request, req_id)
        except RequestError as error:
            app.log_rejected(req_id, error)
            self._send_error_line(error)
            return
        self._stream(app, job)

    def _stream(self, app: WorkerServer, job: Job) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.flush()
            while True:
                try:
                    event = job.get(timeout=0.25)
                except TimeoutError:
                    if self._client_gone():
                        app.cancel(job)
                        self.close_connection = True
                        return
                    continue
                if event is END:
                    break
                if not isinstance(event, dict):
                    event = image_event(event)
                self._chunk(event)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            app.done(job)
        except (OSError, ValueError):  # the client went away mid-stream
            app.cancel(job)
            self.close_connection = True
