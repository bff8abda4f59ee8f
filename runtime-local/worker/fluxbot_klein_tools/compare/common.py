"""What every comparison shares: tolerances, results and error measures, the environment, shapes."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import math
import os
import sys
import types
from typing import Any, Callable, ContextManager, Iterator, Mapping

import torch
import torch.nn.functional as F

from fluxbot_klein.models.text_encoder import Qwen3Config
from fluxbot_klein.models.transformer import TransformerConfig
from fluxbot_klein.models.vae import VaeConfig

TOLERANCES = {"float32": 1e-4, "bfloat16": 5e-2}
SHAPES = ("tiny", "4b")
SECTIONS = ("transformer", "vae", "text_encoder", "tokenizer")
STEPS = 4
TEXT_TOKENS = 512
FORWARD_T = 0.7
EXACT_T = 0.5
SEED = 1234


class CompareError(Exception):
    """A comparison that was asked for cannot run; the message says why and what to do."""


# ----------------------------------------------------------------------------- results


@dataclasses.dataclass
class Row:
    component: str
    max_abs: float
    max_rel: float
    tolerance: float
    exact: bool = False  # ids and token lists: any difference fails

    @property
    def ok(self) -> bool:
        if not (math.isfinite(self.max_abs) and math.isfinite(self.max_rel)):
            return False
        if self.exact:
            return self.max_abs == 0
        return self.max_rel <= self.tolerance

    def as_dict(self) -> dict[str, Any]:
        return {"component": self.component, "max_abs": _json_float(self.max_abs),
                "max_rel": _json_float(self.max_rel), "tolerance": self.tolerance,
                "exact": self.exact, "ok": self.ok}


@dataclasses.dataclass
class Section:
    name: str
    reference: str = ""
    status: str = "compared"  # compared | skipped | error
    reason: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)
    rows: list[Row] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "error" and all(r.ok for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "reference": self.reference, "status": self.status,
                "reason": self.reason, "notes": list(self.notes), "ok": self.ok,
                "rows": [r.as_dict() for r in self.rows]}


def _json_float(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def errors(ours: Any, ref: Any) -> tuple[float, float]:
    """(max abs error, max abs error / max |ref|) in float64; inf when shapes differ or values are not finite."""
    a = torch.as_tensor(ours).detach().to("cpu", torch.float64)
    b = torch.as_tensor(ref).detach().to("cpu", torch.float64)
    if a.shape != b.shape:
        raise CompareError(f"output shapes differ: ours {tuple(a.shape)}, reference {tuple(b.shape)}")
    if a.numel() == 0:
        return 0.0, 0.0
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return math.inf, math.inf
    max_abs = float((a - b).abs().max())
    scale = float(b.abs().max())
    return max_abs, (max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else math.inf))


def error_row(component: str, ours: Any, ref: Any, tol: float) -> Row:
    max_abs, max_rel = errors(ours, ref)
    return Row(component, max_abs, max_rel, tol)


def exact_row(component: str, ours: Any, ref: Any) -> Row:
    """A row for integer data (ids): max_abs is the largest difference, max_rel the fraction that differs."""
    a = torch.as_tensor(ours).detach().to("cpu", torch.int64)
    b = torch.as_tensor(ref).detach().to("cpu", torch.int64)
    if a.shape != b.shape:
        return Row(component, math.inf, math.inf, 0.0, exact=True)
    diff = (a - b).abs()
    max_abs = float(diff.max()) if diff.numel() else 0.0
    frac = float((diff != 0).double().mean()) if diff.numel() else 0.0
    return Row(component, max_abs, frac, 0.0, exact=True)


# ----------------------------------------------------------------------------- environment helpers


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


@contextlib.contextmanager
def sdpa_available(notes: list[str]) -> Iterator[None]:
    """Give torch.nn.functional a plain softmax attention while a reference runs on a torch without SDPA."""
    if hasattr(F, "scaled_dot_product_attention"):
        yield
        return

    def plain_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: torch.Tensor | None = None,
                        dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None) -> torch.Tensor:
        if dropout_p or is_causal:
            raise CompareError("the reference asked the SDPA stand-in for dropout or a causal mask; "
                               "run the comparison on PyTorch 2.x")
        s = (q.shape[-1] ** -0.5) if scale is None else scale
        scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * s
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                scores = scores.masked_fill(~attn_mask, float("-inf"))
            else:
                scores = scores + attn_mask.float()
        if note not in notes:
            notes.append(note)
        return torch.matmul(scores.softmax(dim=-1), v.float()).to(v.dtype)

    note = (f"torch {torch.__version__} has no scaled_dot_product_attention: the reference ran with a "
            f"plain softmax attention in float32 (as ours does on this torch)")
    F.scaled_dot_product_attention = plain_attention
    try:
        yield
    finally:
        del F.scaled_dot_product_attention


def build_on(device: torch.device | str) -> ContextManager[Any]:
    """A context that makes new modules on device (torch 2.x), or nothing (torch 1.x builds on CPU)."""
    d = torch.device(device)
    return d if hasattr(d, "__enter__") else contextlib.nullcontext()


def load_flux2(src: str | os.PathLike[str], notes: list[str]) -> dict[str, types.ModuleType]:
    """Import flux2.model, flux2.sampling and flux2.autoencoder from a checkout's src folder."""
    src = os.path.abspath(os.fspath(src))
    if not os.path.isfile(os.path.join(src, "flux2", "model.py")):
        raise CompareError(f"--flux2-src {src} has no flux2/model.py; pass the src folder of a "
                           f"black-forest-labs/flux2 checkout (the folder that holds flux2/)")
    if not installed("einops"):
        raise CompareError("BFL's flux2 code needs einops, which is not installed: install it "
                           "(pip install einops) or put it on PYTHONPATH")
    loaded = [n for n in sys.modules if n == "flux2" or n.startswith("flux2.")]
    for name in loaded:  # a flux2 imported from elsewhere would shadow the checkout
        if not os.path.abspath(getattr(sys.modules[name], "__file__", None) or src).startswith(src):
            del sys.modules[name]
    placeholder = None
    if not installed("torchvision"):
        # flux2.sampling imports torchvision at the top for image preprocessing only; nothing
        # compared here calls it, and any use of the placeholder raises.
        placeholder = types.ModuleType("torchvision")

        def _missing(name: str) -> Any:
            raise ImportError(f"torchvision is not installed; flux2 tried to use torchvision.{name}")

        placeholder.__getattr__ = _missing
        sys.modules["torchvision"] = placeholder
        notes.append("torchvision is not installed: flux2.sampling was imported with a placeholder "
                     "torchvision (used only by its image preprocessing, which is not compared)")
    sys.path.insert(0, src)
    try:
        modules = {}
        for name in ("model", "sampling", "autoencoder"):
            try:
                mod = importlib.import_module(f"flux2.{name}")
            except ImportError as e:
                raise CompareError(f"cannot import flux2.{name} from {src}: {e}; install what it needs "
                                   f"or pass another checkout") from None
            where = os.path.abspath(getattr(mod, "__file__", "") or "")
            if not where.startswith(src + os.sep):
                raise CompareError(f"flux2.{name} was imported from {where}, not from {src}; another "
                                   f"flux2 package is installed: uninstall it or run from a clean environment")
            modules[name] = mod
    finally:
        sys.path.remove(src)
        if placeholder is not None and sys.modules.get("torchvision") is placeholder:
            del sys.modules["torchvision"]
    return modules


def import_optional(package: str) -> types.ModuleType | str | None:
    """The module, None when it is not installed, or the error text when it is installed but fails to import."""
    if not installed(package):
        return None
    try:
        return importlib.import_module(package)
    except Exception as e:  # noqa: BLE001 - reported as the reason for skipping
        return f"{type(e).__name__}: {e}"


def call_with(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call fn with the keyword arguments its signature accepts; CompareError for a required one we lack."""
    params = inspect.signature(fn).parameters
    missing = [n for n, p in params.items()
               if p.default is inspect.Parameter.empty and n not in kwargs
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise CompareError(f"{getattr(fn, '__qualname__', fn)} needs {', '.join(missing)}, which this tool "
                           f"does not know how to supply; the flux2 checkout is newer than the tool: update it")
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn(**kwargs)
    return fn(**{k: v for k, v in kwargs.items() if k in params})


def perturb(state: Mapping[str, torch.Tensor], name: str, eps: float, notes: list[str]) -> Mapping[str, torch.Tensor]:
    if not eps:
        return state
    state = dict(state)
    state[name] = state[name] * (1.0 + eps)
    notes.append(f"reference weight {name} scaled by 1 + {eps:g} (--perturb-reference)")
    return state


# ----------------------------------------------------------------------------- shapes and inputs


def shapes_for(shape: str) -> tuple[TransformerConfig, Qwen3Config, VaeConfig, tuple[int, int], tuple[int, int], int]:
    """(transformer config, Qwen3 config, VAE config, image latent h×w, reference latent h×w, image px)."""
    if shape == "tiny":
        te = Qwen3Config.tiny(vocab_size=1024)
        return TransformerConfig.tiny(te.output_width), te, VaeConfig.tiny(), (8, 8), (4, 6), 64
    if shape == "4b":
        return TransformerConfig.klein_4b(), Qwen3Config.qwen3_4b(), VaeConfig.klein(), (32, 32), (16, 24), 256
    raise CompareError(f"--shape must be one of {', '.join(SHAPES)}, got {shape!r}")


def randn(shape: tuple[int, ...], seed: int, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g).to(device=device, dtype=dtype)
