"""The two kinds of failure the worker names to its callers."""

from __future__ import annotations


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
