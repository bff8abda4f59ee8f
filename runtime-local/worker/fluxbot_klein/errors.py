"""The two kinds of failure the worker names to its callers, and how other failures map to them."""

from __future__ import annotations

import json
from typing import Any


class CheckpointError(ValueError):
    """A checkpoint cannot be used: a file or tensor is missing, truncated, or of another model.

    The message says which file and which tensor, what was expected and what was found.
    """


class RequestError(ValueError):
    """A request the worker refuses; becomes one NDJSON error line.

    code is one of the protocol's error codes (invalid_request, too_many_references, bad_image,
    prompt_too_long, out_of_memory, busy, shutting_down, internal); field names the request field
    at fault where there is one.
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_event(self) -> dict[str, str]:
        event = {"event": "error", "code": self.code, "message": self.message}
        if self.field is not None:
            event["field"] = self.field
        return event


def show(value: Any, limit: int = 60) -> str:
    """A short, log- and message-safe rendering of a client value."""
    text = json.dumps(value) if not isinstance(value, (bytes, bytearray)) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def is_oom(exc: BaseException) -> bool:
    """Whether a failed batch ran out of accelerator (or host) memory."""
    import torch
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        "out of memory" in str(exc).lower() or isinstance(exc, MemoryError))


def out_of_memory(batch_size: int, width: int, height: int) -> RequestError:
    """The error of every request in a batch that ran out of memory: what to lower."""
    return RequestError(
        "out_of_memory",
        f"out of GPU memory for a batch of {batch_size} at {width}x{height}; lower the "
        f"size or the batch capacity (--batch-capacity), or send fewer references")


def internal_error(exc: BaseException) -> RequestError:
    """Any other failure of a generation, named by its type and message."""
    return RequestError("internal", f"generation failed: {type(exc).__name__}: {exc}")
