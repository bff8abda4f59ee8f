"""Validation of a `/v1/generate` body (protocol 1): every rule broken is a RequestError naming the field."""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from typing import TYPE_CHECKING, Any

from .errors import RequestError, show
from .pipeline import GenerateRequest

if TYPE_CHECKING:  # the server imports this module
    from .server import Pipeline

MAX_PROMPT_CHARS = 10_000
MAX_PIXELS = 4_194_304
MAX_SEED = 4_294_967_295
MAX_ID_CHARS = 200
OUTPUT_FORMATS = ("png", "jpeg", "webp")


def _invalid(field: str, rule: str, value: Any) -> RequestError:
    return RequestError("invalid_request", f"{field} must be {rule} (got {show(value)})", field=field)


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
