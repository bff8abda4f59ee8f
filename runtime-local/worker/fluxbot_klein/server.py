"""The worker's server (protocol 1): the bounded batching queue, the GPU thread, health and logs.

One GPU thread runs the pipeline; handler threads (`http_handler`: `/v1/health`, `/v1/generate`
as NDJSON) validate requests (`validation`), queue them here as jobs (`jobs`), wait on their
job's events and stream them. Failures become the protocol's errors in `errors`.

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

import json
import os
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Protocol, TextIO

from . import PROTOCOL
from .errors import RequestError, internal_error, is_oom, out_of_memory
from .http_handler import WorkerHandler, WorkerHttpServer
from .jobs import END, Job
from .pipeline import GeneratedImage, GenerateRequest

if TYPE_CHECKING:  # torch is imported where it is used
    import torch

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
        self.httpd = WorkerHttpServer((host, port), WorkerHandler)
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
            job.put(END)
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
            if is_oom(exc):
                r = batch[0].request
                error = out_of_memory(len(batch), r.width, r.height)
                self.log_text(f"batch of {len(batch)} at {r.width}x{r.height} ran out of memory: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            else:
                error = self._internal(exc)
        if error is not None:
            if error.code == "out_of_memory":
                self._free_memory()  # outside the except block: the traceback no longer holds tensors
            ms = int((time.monotonic() - started) * 1000)
            for job in batch:
                job.put(error.to_event())
                job.put(END)
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
        return internal_error(exc)

    def _finish(self, job: Job, finish: Callable[[], GeneratedImage], batch_size: int, started: float) -> None:
        try:
            image = finish()
        except Exception as exc:
            error = self._internal(exc)
            job.put(error.to_event())
            job.put(END)
            self._log(job, batch_size, error.code, int((time.monotonic() - started) * 1000))
            return
        job.put(image)
        job.put(END)
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
    def log_text(self, text: str) -> None:
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
        self.log_text(
            f"request id={json.dumps(job.id)} size={r.width}x{r.height} steps={r.steps} batch={batch} "
            f"ms={ms} result={outcome} refs={len(r.references)} prompt={json.dumps(r.prompt[:80])}")

    def log_rejected(self, req_id: str | None, error: RequestError) -> None:
        self.log_text(f"request id={json.dumps(req_id)} rejected code={error.code} "
                       f"field={error.field} message={json.dumps(error.message[:200])}")
