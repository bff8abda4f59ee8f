"""The worker's HTTP server (protocol 1): `/v1/health`, `/v1/generate` (NDJSON), the batching queue.

Standard library only for HTTP (`http.server.ThreadingHTTPServer`). One GPU thread runs the
pipeline; handler threads validate requests, wait on their job's events and stream them.

The pipeline object must provide:
- `model` with `name`, `variant`, `device`, `dtype`;
- `default_steps` (int), `default_guidance` (float, or None when guidance is ignored),
  `max_references` (int), `max_prompt_tokens` (int);
- `check_prompt(prompt)` raising `RequestError("prompt_too_long", ...)`;
- `decode_reference(data: bytes, field: str)` -> [3,H,W] tensor, raising `RequestError("bad_image", ...)`;
- `generate(requests, on_progress)` -> list of `GeneratedImage`, `on_progress(step, steps)`.
`Pipeline` spells this out for type checkers.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import math
import os
import secrets
import select
import socket
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, TextIO

from . import PROTOCOL
from .errors import RequestError
from .pipeline import GeneratedImage, GenerateRequest

if TYPE_CHECKING:  # torch is imported where it is used
    import torch

MAX_BODY_BYTES = 96 * 1024 * 1024
MAX_PROMPT_CHARS = 10_000
MAX_PIXELS = 4_194_304
MAX_SEED = 4_294_967_295
MAX_ID_CHARS = 200
OUTPUT_FORMATS = ("png", "jpeg", "webp")
_END = object()


class Pipeline(Protocol):
    """What the server needs of a pipeline (see the module docstring); KleinPipeline is one."""

    model: Any
    default_steps: int
    default_guidance: float | None
    max_references: int
    max_prompt_tokens: int

    def check_prompt(self, prompt: str) -> None: ...

    def decode_reference(self, data: bytes, field: str) -> torch.Tensor: ...

    def generate(self, requests: list[GenerateRequest],
                 on_progress: Callable[[int, int], None]) -> list[GeneratedImage]: ...


def _show(value: Any, limit: int = 60) -> str:
    """A short, log- and message-safe rendering of a client value."""
    text = json.dumps(value) if not isinstance(value, (bytes, bytearray)) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _invalid(field: str, rule: str, value: Any) -> RequestError:
    return RequestError("invalid_request", f"{field} must be {rule} (got {_show(value)})", field=field)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _side(body: dict[str, Any], field: str) -> int:
    rule = "an integer multiple of 16 in 64..2048"
    if field not in body or body[field] is None:
        return 1024
    value = body[field]
    if not _is_int(value) or value % 16 or not 64 <= value <= 2048:
        raise _invalid(field, rule, value)
    return value


def _decode_base64(text: str, field: str) -> bytes:
    if "," in text[:100] and text.startswith("data:"):
        text = text.split(",", 1)[1]
    text = "".join(text.split())
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise RequestError("bad_image", f"{field}.data is not valid base64 ({e}); send the image file's "
                           "bytes base64-encoded", field=field) from None
    if not data:
        raise RequestError("bad_image", f"{field}.data is empty; send a PNG, JPEG or WebP file", field=field)
    return data


def parse_request(body: Any, pipeline: Pipeline) -> tuple[GenerateRequest, str | None]:
    """Validate one /v1/generate body; returns (GenerateRequest, id). Raises RequestError."""
    if not isinstance(body, dict):
        raise RequestError("invalid_request",
                           f"the body must be a JSON object (got {type(body).__name__})")
    req_id = body.get("id")
    if req_id is not None and (not isinstance(req_id, str) or len(req_id) > MAX_ID_CHARS):
        raise _invalid("id", f"a string of at most {MAX_ID_CHARS} characters", req_id)

    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT_CHARS:
        raise _invalid("prompt", f"a non-empty string of at most {MAX_PROMPT_CHARS:,} characters",
                       prompt)
    width = _side(body, "width")
    height = _side(body, "height")
    if width * height > MAX_PIXELS:
        raise RequestError(
            "invalid_request",
            f"width × height must be at most {MAX_PIXELS:,} pixels (got {width}×{height} = "
            f"{width * height:,}); lower the size", field="width")

    seed = body.get("seed")
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    elif not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise _invalid("seed", f"an integer in 0..{MAX_SEED}", seed)

    steps = body.get("steps")
    if steps is None:
        steps = pipeline.default_steps
    elif not _is_int(steps) or not 1 <= steps <= 100:
        raise _invalid("steps", "null or an integer in 1..100", steps)

    guidance = body.get("guidance")
    if guidance is not None and (not _is_number(guidance) or not 1 <= guidance <= 20):
        raise _invalid("guidance", "null or a number in 1..20", guidance)
    if pipeline.default_guidance is None:
        guidance = None  # the distilled variant ignores guidance
    elif guidance is None:
        guidance = float(pipeline.default_guidance)
    else:
        guidance = float(guidance)

    output_format = body.get("output_format")
    if output_format is None:
        output_format = "png"
    elif output_format not in OUTPUT_FORMATS:
        raise _invalid("output_format", "one of png, jpeg, webp", output_format)

    refs = body.get("references")
    if refs is None:
        refs = []
    if not isinstance(refs, list):
        raise _invalid("references", "null or a list of {\"data\": base64} objects", refs)
    if len(refs) > pipeline.max_references:
        raise RequestError(
            "too_many_references",
            f"references has {len(refs)} images; at most {pipeline.max_references} are allowed",
            field="references")
    # prompt length in tokens before the (slower) image decoding
    pipeline.check_prompt(prompt)
    references = []
    for i, ref in enumerate(refs):
        field = f"references[{i}]"
        if not isinstance(ref, dict) or not isinstance(ref.get("data"), str):
            raise _invalid(field, "an object {\"data\": \"<base64 image file>\"}", ref)
        references.append(pipeline.decode_reference(_decode_base64(ref["data"], field), field))

    request = GenerateRequest(prompt=prompt, width=width, height=height, seed=seed, steps=steps,
                              guidance=guidance, references=references, output_format=output_format)
    return request, req_id


class Job:
    """One accepted request: its events go from the GPU thread to the handler thread."""

    def __init__(self, request: GenerateRequest, req_id: str | None) -> None:
        self.request = request
        self.id = req_id
        self.key = (request.width, request.height, request.steps, request.guidance)
        self.events = collections.deque()
        self.ready = threading.Event()
        self.cancelled = False
        self.position = None
        self.finished = threading.Event()
        self.submitted = time.monotonic()

    def put(self, event: Any) -> None:
        self.events.append(event)
        self.ready.set()

    def get(self, timeout: float) -> Any:
        while True:
            try:
                return self.events.popleft()
            except IndexError:
                pass
            if not self.ready.wait(timeout):
                raise TimeoutError
            self.ready.clear()


def _is_oom(exc: BaseException) -> bool:
    import torch
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        "out of memory" in str(exc).lower() or isinstance(exc, MemoryError))


def _device_info(device: torch.device | str | None) -> tuple[str, dict[str, int]]:
    """(device_name, memory dict) for the health answer."""
    dev = str(device) if device is not None else "cpu"
    try:
        import torch
        if dev.startswith("cuda") and torch.cuda.is_available():
            d = torch.device(dev)
            index = d.index if d.index is not None else torch.cuda.current_device()
            return torch.cuda.get_device_name(index), {
                "allocated_bytes": int(torch.cuda.memory_allocated(index)),
                "reserved_bytes": int(torch.cuda.memory_reserved(index)),
                "total_bytes": int(torch.cuda.get_device_properties(index).total_memory)}
    except Exception:  # health must answer even when the driver misbehaves
        pass
    rss = 0
    try:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    import platform
    name = platform.processor() or platform.machine() or "cpu"
    return name, {"allocated_bytes": rss, "reserved_bytes": 0, "total_bytes": 0}


def _dtype_name(dtype: torch.dtype | None) -> str | None:
    return str(dtype).replace("torch.", "") if dtype is not None else None


class WorkerServer:
    """The HTTP server, its bounded queue and the GPU thread.

    pipeline may be None at first (health says loading); call set_pipeline when loaded.
    """

    def __init__(self, pipeline: Pipeline | None = None, host: str = "127.0.0.1", port: int = 8188,
                 batch_capacity: int = 4, queue_size: int = 64, log: TextIO | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        if batch_capacity < 1 or queue_size < 1:
            raise ValueError(f"batch_capacity and queue_size must be >= 1 "
                             f"(got {batch_capacity}, {queue_size})")
        self.batch_capacity = batch_capacity
        self.queue_size = queue_size
        self.log_stream = log if log is not None else sys.stderr
        self._device = device
        self._dtype = dtype
        self._pipeline = None
        self._cond = threading.Condition()
        self._waiting = []
        self._running = 0
        self._active = set()
        self._stopping = False
        self._counter = 0
        self._log_lock = threading.Lock()
        self.httpd = _HttpServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.app = self
        self._http_thread = None
        self._gpu_thread = None
        self._encoders = ThreadPoolExecutor(max_workers=max(2, min(8, batch_capacity)),
                                            thread_name_prefix="klein-encode")
        if pipeline is not None:
            self.set_pipeline(pipeline)

    # lifecycle -----------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return host, port

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def set_pipeline(self, pipeline: Pipeline) -> None:
        """The model is loaded and warm: /v1/health says ok and /v1/generate accepts work."""
        with self._cond:
            self._pipeline = pipeline
            self._device = pipeline.model.device
            self._dtype = pipeline.model.dtype
            self._cond.notify_all()

    def start(self) -> WorkerServer:
        """Serve HTTP and run the GPU thread in the background."""
        self._gpu_thread = threading.Thread(target=self._gpu_loop, name="klein-gpu", daemon=True)
        self._gpu_thread.start()
        self._http_thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                             name="klein-http", daemon=True)
        self._http_thread.start()
        return self

    def close(self, timeout: float = 600.0) -> None:
        """Graceful stop: no new connections, queued requests answered shutting_down, the running
        batch finishes and its images are sent."""
        if self._http_thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()
        with self._cond:
            self._stopping = True
            dropped, self._waiting = self._waiting, []
            self._cond.notify_all()
        for job in dropped:
            job.put(RequestError("shutting_down", "the worker is shutting down; send the request to "
                                 "another worker or retry when it is back").to_event())
            job.put(_END)
            self._log(job, 0, "shutting_down")
        deadline = time.monotonic() + timeout
        if self._gpu_thread is not None:
            self._gpu_thread.join(max(0.0, deadline - time.monotonic()))
        self._encoders.shutdown(wait=True)
        with self._cond:
            active = list(self._active)
        for job in active:
            job.finished.wait(max(0.0, min(5.0, deadline - time.monotonic())))

    # queue -----------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        with self._cond:
            pipeline = self._pipeline
            waiting, running = len(self._waiting), self._running
        device_name, memory = _device_info(self._device)
        model = pipeline.model if pipeline is not None else None
        return {
            "status": "ok" if pipeline is not None else "loading",
            "protocol": PROTOCOL,
            "model": model.name if model else None,
            "variant": model.variant if model else None,
            "device": str(self._device) if self._device is not None else None,
            "device_name": device_name,
            "dtype": _dtype_name(self._dtype),
            "memory": memory,
            "queue": {"waiting": waiting, "running": running},
            "batch_capacity": self.batch_capacity,
            "max_references": pipeline.max_references if pipeline else None,
            "max_prompt_tokens": pipeline.max_prompt_tokens if pipeline else None,
            "default_steps": pipeline.default_steps if pipeline else None,
        }

    def pipeline_or_refuse(self) -> Pipeline:
        with self._cond:
            if self._stopping:
                raise RequestError("shutting_down", "the worker is shutting down; retry on another worker")
            if self._pipeline is None:
                raise RequestError("busy", "the model is still loading; retry when /v1/health says ok")
            return self._pipeline

    def next_id(self) -> str:
        with self._cond:
            self._counter += 1
            return f"r{self._counter}"

    def submit(self, request: GenerateRequest, req_id: str | None) -> Job:
        """Queue a validated request; RequestError busy / shutting_down when it cannot wait."""
        job = Job(request, req_id)
        with self._cond:
            if self._stopping:
                raise RequestError("shutting_down", "the worker is shutting down; retry on another worker")
            if len(self._waiting) >= self.queue_size:
                raise RequestError("busy", f"the queue is full ({self.queue_size} requests waiting); "
                                   "retry in a moment or send it to another worker")
            job.position = len(self._waiting)
            self._waiting.append(job)
            self._active.add(job)
            job.put({"event": "queued", "position": job.position})
            self._cond.notify_all()
        return job

    def cancel(self, job: Job) -> None:
        """The client went away: drop the job if it still waits."""
        with self._cond:
            job.cancelled = True
            if job in self._waiting:
                self._waiting.remove(job)
                self._renumber()
                self._log(job, 0, "disconnected")
            self._active.discard(job)
        job.finished.set()

    def done(self, job: Job) -> None:
        with self._cond:
            self._active.discard(job)
        job.finished.set()

    def _renumber(self) -> None:
        for index, job in enumerate(self._waiting):
            if job.position != index:
                job.position = index
                job.put({"event": "queued", "position": index})

    def _take_batch(self) -> list[Job]:
        head = self._waiting[0]
        batch = [j for j in self._waiting if j.key == head.key][:self.batch_capacity]
        taken = set(map(id, batch))
        self._waiting = [j for j in self._waiting if id(j) not in taken]
        self._renumber()
        return batch

    def _gpu_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._waiting or self._pipeline is None):
                    self._cond.wait()
                if self._stopping:
                    return
                batch = self._take_batch()
                self._running = len(batch)
                pipeline = self._pipeline
            try:
                self._run_batch(pipeline, batch)
            finally:
                with self._cond:
                    self._running = 0

    def _run_batch(self, pipeline: Pipeline, batch: list[Job]) -> None:
        started = time.monotonic()
        for job in batch:
            job.put({"event": "started", "batch": len(batch)})

        def on_progress(step: int, steps: int) -> None:
            event = {"event": "progress", "step": int(step), "steps": int(steps)}
            for job in batch:
                job.put(event)

        error = None
        try:
            if hasattr(pipeline, "render"):
                finishers = pipeline.render([job.request for job in batch], on_progress)
            else:
                finishers = [(lambda image=image: image)
                             for image in pipeline.generate([job.request for job in batch], on_progress)]
            if len(finishers) != len(batch):
                raise RuntimeError(f"the pipeline returned {len(finishers)} images for {len(batch)} requests")
        except Exception as exc:  # one failed batch never stops the worker
            if _is_oom(exc):
                r = batch[0].request
                error = RequestError(
                    "out_of_memory",
                    f"out of GPU memory for a batch of {len(batch)} at {r.width}x{r.height}; lower the "
                    f"size or the batch capacity (--batch-capacity), or send fewer references")
                self._log_text(f"batch of {len(batch)} at {r.width}x{r.height} ran out of memory: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            else:
                error = self._internal(exc)
        if error is not None:
            if error.code == "out_of_memory":
                self._free_memory()  # outside the except block: the traceback no longer holds tensors
            ms = int((time.monotonic() - started) * 1000)
            for job in batch:
                job.put(error.to_event())
                job.put(_END)
                self._log(job, len(batch), error.code, ms)
            return
        # images are encoded on CPU threads while the next batch runs
        for job, finish in zip(batch, finishers):
            try:
                self._encoders.submit(self._finish, job, finish, len(batch), started)
            except RuntimeError:  # closing: the encoder threads are gone, finish here
                self._finish(job, finish, len(batch), started)

    def _internal(self, exc: BaseException) -> RequestError:
        with self._log_lock:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=self.log_stream)
            self.log_stream.flush()
        return RequestError("internal", f"generation failed: {type(exc).__name__}: {exc}")

    def _finish(self, job: Job, finish: Callable[[], GeneratedImage], batch_size: int, started: float) -> None:
        try:
            image = finish()
        except Exception as exc:
            error = self._internal(exc)
            job.put(error.to_event())
            job.put(_END)
            self._log(job, batch_size, error.code, int((time.monotonic() - started) * 1000))
            return
        job.put(image)
        job.put(_END)
        self._log(job, batch_size, "ok", int((time.monotonic() - started) * 1000))

    @staticmethod
    def _free_memory() -> None:
        try:
            import torch
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:
            pass

    # logs ------------------------------------------------------------------------------------
    def _log_text(self, text: str) -> None:
        with self._log_lock:
            try:
                self.log_stream.write(text + "\n")
                self.log_stream.flush()
            except (OSError, ValueError):
                pass

    def _log(self, job: Job, batch: int, outcome: str, ms: int | None = None) -> None:
        r = job.request
        if ms is None:
            ms = int((time.monotonic() - job.submitted) * 1000)
        self._log_text(
            f"request id={json.dumps(job.id)} size={r.width}x{r.height} steps={r.steps} batch={batch} "
            f"ms={ms} result={outcome} refs={len(r.references)} prompt={json.dumps(r.prompt[:80])}")

    def log_rejected(self, req_id: str | None, error: RequestError) -> None:
        self._log_text(f"request id={json.dumps(req_id)} rejected code={error.code} "
                       f"field={error.field} message={json.dumps(error.message[:200])}")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away is normal; anything else is logged (never sent to a client)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        app = getattr(self, "app", None)
        text = "".join(traceback.format_exc())
        if app is not None:
            app._log_text(f"connection from {client_address[0]} failed: {text.rstrip()}")
        else:
            sys.stderr.write(text)


def _image_event(image: GeneratedImage) -> dict[str, Any]:
    return {"event": "image", "format": image.format, "width": image.width, "height": image.height,
            "seed": image.seed, "data": base64.b64encode(image.data).decode("ascii"),
            "elapsed_ms": int(image.elapsed_ms)}


class _Handler(BaseHTTPRequestHandler):
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
            raise RequestError("invalid_request", f"Content-Length must be an integer (got {_show(length)})")
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
            self._send_error_line(RequestError("invalid_request", f"no such endpoint {_show(self.path)}; "
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
            self._send_error_line(RequestError("invalid_request", f"no POST endpoint {_show(self.path)}; "
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
                if event is _END:
                    break
                if not isinstance(event, dict):
                    event = _image_event(event)
                self._chunk(event)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            app.done(job)
        except (OSError, ValueError):  # the client went away mid-stream
            app.cancel(job)
            self.close_connection = True
