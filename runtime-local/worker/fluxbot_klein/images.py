"""Reference images in, generated images out.

`decode_reference` follows BFL's reference preparation (`flux2.sampling.default_prep`): RGB,
downscaled with Lanczos to at most `max_pixels` keeping the ratio, then centre-cropped to
sides that are multiples of 16 (at most 15 pixels lost per side), values `2 * x/255 - 1`.
Before that it applies the EXIF orientation, composites transparency over white and, for
images with a side under 16 pixels after downscaling, scales them up so the short side is 16.

`encode_image` quantises like the diffusers pipelines (`(x/2 + 0.5).clamp(0, 1) * 255`,
rounded) and writes PNG (zlib level 1: at 1024² several times faster than Pillow's default
level 6, for a somewhat larger file; the image is on the critical path of a sub-second reply), JPEG (quality 95, no chroma
subsampling, as BFL's CLI saves) or WebP (lossy, quality 95).
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps, features

from .errors import RequestError

SIDE_MULTIPLE = 16
# Larger sources are refused before decoding (a decompression bomb costs memory, not bytes).
MAX_SOURCE_PIXELS = 64 * 1024 * 1024
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
PNG_COMPRESS_LEVEL = 1
JPEG_QUALITY = 95
WEBP_QUALITY = 95

_SEND_INSTEAD = "send a PNG, JPEG, WebP or GIF file (base64 of the file's bytes)"


def webp_supported() -> bool:
    """Whether this Pillow can write WebP."""
    return bool(features.check("webp"))


def _bad(field: str, what: str) -> RequestError:
    return RequestError("bad_image", f"{field}: {what}; {_SEND_INSTEAD}", field=field)


def _open(data: bytes | bytearray | memoryview, field: str) -> Image.Image:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise _bad(field, f"expected the image file's bytes, got {type(data).__name__}")
    if not data:
        raise _bad(field, "the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _bad(field, f"the image is too large to decode ({e}); downscale it first") from None
    except Exception as e:  # noqa: BLE001 - Pillow raises many kinds for bad input
        head = data[:8].hex()
        raise _bad(field, f"{len(data)} bytes (starting {head}) are not a decodable image ({type(e).__name__})") from None
    w, h = img.size
    if w <= 0 or h <= 0:
        raise _bad(field, f"the image has zero size ({w}x{h})")
    if w * h > MAX_SOURCE_PIXELS:
        raise _bad(
            field,
            f"the image is {w}x{h} = {w * h} pixels, too large: this worker decodes at most {MAX_SOURCE_PIXELS}; "
            "downscale it first (references are used at about 1 megapixel anyway)",
        )
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB with any transparency composited over white; 16-bit greyscale scaled to 8 bits."""
    if img.mode.startswith("I") and img.mode != "I;8" or img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if img.mode != "F":
            arr = arr * (255.0 / 65535.0)  # 16-bit greyscale PNGs decode to I / I;16
        elif arr.max(initial=0.0) <= 1.0:
            arr = arr * 255.0
        img = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _target_size(w: int, h: int, max_pixels: int) -> tuple[int, int]:
    if w * h <= max_pixels:
        return w, h
    s = math.sqrt(max_pixels / (w * h))
    return max(1, int(w * s)), max(1, int(h * s))


def decode_reference(data: bytes | bytearray | memoryview, field: str, max_pixels: int = 1024 * 1024) -> torch.Tensor:
    """Image file bytes -> float32 tensor [3, H, W] in [-1, 1], H*W <= max_pixels, sides multiples of 16.

    Raises RequestError("bad_image", ..., field) for anything that is not a usable PNG/JPEG/WebP/GIF
    (GIF: the first frame).
    """
    img = _open(data, field)
    raw_w, raw_h = img.size
    try:
        # JPEG: let the decoder downscale by a power of two while staying at or above the target
        img.draft(None, _target_size(raw_w, raw_h, max_pixels))
        img.load()
    except Exception as e:  # noqa: BLE001 - truncated or corrupt data
        raise _bad(field, f"the {img.format} data is truncated or corrupt ({type(e).__name__}: {e})") from None
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - malformed EXIF: keep the stored orientation
        pass
    img = _to_rgb(img)

    w, h = img.size
    nw, nh = _target_size(w, h, max_pixels)
    if min(nw, nh) < SIDE_MULTIPLE:
        s = SIDE_MULTIPLE / min(nw, nh)
        nw, nh = max(SIDE_MULTIPLE, math.ceil(nw * s)), max(SIDE_MULTIPLE, math.ceil(nh * s))
        if nw * nh > max_pixels:
            raise _bad(
                field,
                f"the image is {raw_w}x{raw_h}, too narrow: at most {max_pixels} pixels with both sides at "
                f"least {SIDE_MULTIPLE} is impossible at this aspect ratio; crop it closer to square",
            )
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=3.0)
    cw, ch = nw // SIDE_MULTIPLE * SIDE_MULTIPLE, nh // SIDE_MULTIPLE * SIDE_MULTIPLE
    if (cw, ch) != (nw, nh):
        left, top = (nw - cw) // 2, (nh - ch) // 2
        img = img.crop((left, top, left + cw, top + ch))
    return image_to_tensor(img)


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """An RGB PIL image -> float32 [3, H, W] in [-1, 1] (2 * x/255 - 1)."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(255.0)
    return 2.0 * x - 1.0


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """[3, H, W] in [-1, 1] -> uint8 array [H, W, 3]: clamp, then (x/2 + 0.5) * 255 rounded."""
    if x.dim() != 3 or x.shape[0] != 3:
        raise ValueError(f"expected an image tensor [3, H, W], got {tuple(x.shape)}")
    v = (x.detach().float() / 2 + 0.5).clamp(0, 1) * 255
    return v.round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def encode_image(x: torch.Tensor, fmt: str = "png") -> bytes:
    """[3, H, W] in [-1, 1] -> PNG, JPEG or WebP file bytes."""
    name = str(fmt).lower()
    if name == "jpg":
        name = "jpeg"
    if name not in OUTPUT_FORMATS:
        raise RequestError(
            "invalid_request", f"output_format must be one of png, jpeg, webp; got {fmt!r}", field="output_format"
        )
    if name == "webp" and not webp_supported():
        raise RequestError(
            "invalid_request",
            "output_format 'webp' is not available: this worker's Pillow was built without WebP; ask for png or jpeg",
            field="output_format",
        )
    img = Image.fromarray(tensor_to_uint8(x), "RGB")
    buf = io.BytesIO()
    if name == "png":
        img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif name == "jpeg":
        img.save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    else:
        img.save(buf, format="WEBP", quality=WEBP_QUALITY)
    return buf.getvalue()
