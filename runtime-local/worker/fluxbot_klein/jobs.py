"""One accepted request on its way from the handler thread to the GPU thread and back."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

from .pipeline import GenerateRequest

END = object()  # the last event of every job


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
