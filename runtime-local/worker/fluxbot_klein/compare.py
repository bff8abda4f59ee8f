"""Compare our klein implementation with reference implementations on the same random weights.

`python -m fluxbot_klein compare [--flux2-src PATH] [--shape tiny|4b] [--device cpu|cuda]
[--dtype float32|bfloat16] [--tokenizer PATH] [--json]`

Sections (each reports the max absolute and the max relative error per component; relative is
the max absolute error divided by the largest absolute value of the reference's output):

- transformer: our `Flux2Transformer` + sampler against BFL's `flux2.model.Flux2` and
  `flux2.sampling`, imported at run time from `--flux2-src` (a checkout's `src` folder; nothing
  of theirs is copied into ours). Their model is built with klein's shapes and loaded with our
  random state dict (the key names are the same). Compared: the schedule, token packing and
  position ids, one forward pass with reference tokens, and a full 4-step denoise from the same
  noise with the same schedule. Older checkouts always build a guidance embedding (klein has
  none): its output layer is zeroed so that it adds exactly 0, and the output says so.
- vae: our `Flux2Vae` against BFL's `flux2.autoencoder.AutoEncoder` (with `--flux2-src`) and
  against diffusers' `AutoencoderKLFlux2` when diffusers has it (encoder latents and decoder
  output before our final clamp).
- text_encoder: our Qwen3 encoder against `transformers`' `Qwen3Model` (hidden states 9/18/27
  stacked) on prompts tokenized with the chat template and padded to 512.
- tokenizer: our BPE against `tokenizers` on a `tokenizer.json` (our tiny one, or `--tokenizer`)
  over a fixed list of prompts; the ids must be identical.

A section whose library is missing prints "skipped: <package> not installed". Exit code: 0 when
every compared error is within the tolerance, 1 when one exceeds it, 2 when a comparison that
was asked for could not run (a bad `--flux2-src`, a reference that fails to build).

Tolerances (relative): float32 1e-4; bfloat16 5e-2. bf16 carries 8 bits of mantissa (a rounding
step of 0.4 % relative), the two implementations round at different places (BFL adds the Euler
update in bf16, we in float32; RoPE angles are computed in float32 there and float64 here), and
the differences grow through 25 blocks and 4 steps, so a bf16 bound is necessarily loose; it
still catches a wrong layout or a missing term, which give errors of order 1.

`--self-reference` uses our own implementation as the reference through the same code path
(every error should be 0) and `--perturb-reference EPS` scales one reference weight by
(1 + EPS): together they check that the tool itself catches a difference.
"""

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import json
import math
import os
import sys
import tempfile
import types

import torch
import torch.nn.functional as F

from .checkpoint.text_encoder import build_text_encoder
from .checkpoint.tiny import (tiny_text_encoder_state, tiny_transformer_state, tiny_vae_state, vae_config_json,
                              write_tiny_tokenizer)
from .checkpoint.transformer import build_transformer
from .checkpoint.vae import build_vae, to_diffusers_vae_names
from .models import sampler as sm
from .models.text_encoder import OUTPUT_LAYERS, Qwen3Config
from .models.transformer import TransformerConfig
from .models.vae import VaeConfig, patchify, unpatchify
from .tokenizer import CHAT_TEMPLATE, Tokenizer

TOLERANCES = {"float32": 1e-4, "bfloat16": 5e-2}
SHAPES = ("tiny", "4b")
SECTIONS = ("transformer", "vae", "text_encoder", "tokenizer")
STEPS = 4
TEXT_TOKENS = 512
FORWARD_T = 0.7
EXACT_T = 0.5
SEED = 1234

# Prompts for the tokenizer and text encoder: plain text, punctuation, digits, contractions,
# whitespace runs and newlines, accents in both Unicode normal forms, CJK, emoji, a special token.
PROMPTS = (
    "A photograph of a red fox sitting in the snow at sunrise, soft light.",
    "An oil painting of a lighthouse; dramatic waves!!! and 3 clouds, 1024x768 px.",
    "It's the cat's toy, isn't it? We'll see... they'd've LIKED it.",
    "  leading spaces,\ttabs\tand\n\nnew lines\r\n  trailing   ",
    "Caf\u00e9 cre\u0300me br\u00fbl\u00e9e, na\u00efve r\u00e9sum\u00e9, \u00c5ngstr\u00f6m",
    "\u4e00\u53ea\u732b\u5750\u5728\u7a97\u53f0\u4e0a \u3068\u3046\u304d\u3087\u3046 \ud55c\uad6d\uc5b4 \u0645\u0631\u062d\u0628\u0627",
    "emoji \U0001f98a\U0001f308\u2728 and symbols \u00a9\u00ae\u2122 \u2192 \u221e \u00bd",
    "Make the image brighter <|im_end|> and add a rainbow in the sky above the lake.",
    "",
)


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
    def ok(self):
        if not (math.isfinite(self.max_abs) and math.isfinite(self.max_rel)):
            return False
        if self.exact:
            return self.max_abs == 0
        return self.max_rel <= self.tolerance

    def as_dict(self):
        return {"component": self.component, "max_abs": _json_float(self.max_abs),
                "max_rel": _json_float(self.max_rel), "tolerance": self.tolerance,
                "exact": self.exact, "ok": self.ok}


@dataclasses.dataclass
class Section:
    name: str
    reference: str = ""
    status: str = "compared"  # compared | skipped | error
    reason: str = ""
    notes: list = dataclasses.field(default_factory=list)
    rows: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return self.status != "error" and all(r.ok for r in self.rows)

    def as_dict(self):
        return {"name": self.name, "reference": self.reference, "status": self.status,
                "reason": self.reason, "notes": list(self.notes), "ok": self.ok,
                "rows": [r.as_dict() for r in self.rows]}


def _json_float(x):
    return x if math.isfinite(x) else str(x)


def errors(ours, ref):
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


def _row(component, ours, ref, tol):
    max_abs, max_rel = errors(ours, ref)
    return Row(component, max_abs, max_rel, tol)


def _exact_row(component, ours, ref):
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


def _installed(package):
    return importlib.util.find_spec(package) is not None


@contextlib.contextmanager
def _sdpa_available(notes):
    """Give torch.nn.functional a plain softmax attention while a reference runs on a torch without SDPA."""
    if hasattr(F, "scaled_dot_product_attention"):
        yield
        return

    def plain_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
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


def _build_on(device):
    """A context that makes new modules on device (torch 2.x), or nothing (torch 1.x builds on CPU)."""
    d = torch.device(device)
    return d if hasattr(d, "__enter__") else contextlib.nullcontext()


def load_flux2(src, notes):
    """Import flux2.model, flux2.sampling and flux2.autoencoder from a checkout's src folder."""
    src = os.path.abspath(os.fspath(src))
    if not os.path.isfile(os.path.join(src, "flux2", "model.py")):
        raise CompareError(f"--flux2-src {src} has no flux2/model.py; pass the src folder of a "
                           f"black-forest-labs/flux2 checkout (the folder that holds flux2/)")
    if not _installed("einops"):
        raise CompareError("BFL's flux2 code needs einops, which is not installed: install it "
                           "(pip install einops) or put it on PYTHONPATH")
    loaded = [n for n in sys.modules if n == "flux2" or n.startswith("flux2.")]
    for name in loaded:  # a flux2 imported from elsewhere would shadow the checkout
        if not os.path.abspath(getattr(sys.modules[name], "__file__", None) or src).startswith(src):
            del sys.modules[name]
    placeholder = None
    if not _installed("torchvision"):
        # flux2.sampling imports torchvision at the top for image preprocessing only; nothing
        # compared here calls it, and any use of the placeholder raises.
        placeholder = types.ModuleType("torchvision")

        def _missing(name):
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


def _import_optional(package):
    """The module, None when it is not installed, or the error text when it is installed but fails to import."""
    if not _installed(package):
        return None
    try:
        return importlib.import_module(package)
    except Exception as e:  # noqa: BLE001 - reported as the reason for skipping
        return f"{type(e).__name__}: {e}"


def _call(fn, **kwargs):
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


def _perturb(state, name, eps, notes):
    if not eps:
        return state
    state = dict(state)
    state[name] = state[name] * (1.0 + eps)
    notes.append(f"reference weight {name} scaled by 1 + {eps:g} (--perturb-reference)")
    return state


# ----------------------------------------------------------------------------- shapes and inputs


def _shapes(shape):
    """(transformer config, Qwen3 config, VAE config, image latent h×w, reference latent h×w, image px)."""
    if shape == "tiny":
        te = Qwen3Config.tiny(vocab_size=1024)
        return TransformerConfig.tiny(te.output_width), te, VaeConfig.tiny(), (8, 8), (4, 6), 64
    if shape == "4b":
        return TransformerConfig.klein_4b(), Qwen3Config.qwen3_4b(), VaeConfig.klein(), (32, 32), (16, 24), 256
    raise CompareError(f"--shape must be one of {', '.join(SHAPES)}, got {shape!r}")


def _randn(shape, seed, device, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g).to(device=device, dtype=dtype)


# ----------------------------------------------------------------------------- transformer


class _OurTransformerReference:
    """Our own transformer and sampler behind the reference interface (for --self-reference)."""

    def __init__(self, state, config, device, dtype):
        self.model = build_transformer(state, config, device, dtype)
        self.description = "fluxbot_klein itself (--self-reference)"

    def schedule(self, steps, seq_len):
        return sm.get_schedule(steps, seq_len)

    def pack(self, img_latents, txt, ref_latent):
        b, _, h, w = img_latents.shape
        ref_tokens, ref_ids = sm.pack_references([ref_latent])
        return (sm.pack(img_latents), sm.image_ids(h, w)[None].expand(b, -1, -1),
                sm.text_ids(txt.shape[1])[None].expand(b, -1, -1),
                ref_tokens.expand(b, -1, -1), ref_ids[None].expand(b, -1, -1))

    def forward(self, x, x_ids, t, ctx, ctx_ids):
        return self.model(x, x_ids, ctx, ctx_ids, t)

    def denoise(self, img, img_ids, txt, txt_ids, schedule, ref, ref_ids):
        return sm.denoise(self.model, img, img_ids, txt, txt_ids, schedule, ref=ref, ref_ids=ref_ids)


class _Flux2TransformerReference:
    """BFL's Flux2 and sampling functions, built with klein's shapes and loaded with our weights."""

    def __init__(self, modules, state, config, device, dtype, notes):
        self.model_mod, self.sampling = modules["model"], modules["sampling"]
        params_cls = self.model_mod.Flux2Params
        fields = {f.name for f in dataclasses.fields(params_cls)}
        kwargs = {"in_channels": config.in_channels, "context_in_dim": config.context_in_dim,
                  "hidden_size": config.hidden_size, "num_heads": config.num_heads,
                  "depth": config.depth_double, "depth_single_blocks": config.depth_single,
                  "axes_dim": list(config.axes_dim), "theta": config.theta,
                  "mlp_ratio": config.mlp_hidden_dim / config.hidden_size}
        unknown = [k for k in kwargs if k not in fields]
        if unknown:
            raise CompareError(f"flux2's Flux2Params has no {', '.join(unknown)} (fields: {', '.join(sorted(fields))}); "
                               f"this checkout is not one the tool understands")
        guidance_fields = [f for f in ("use_guidance_embed", "guidance_embed") if f in fields]
        if guidance_fields:
            kwargs[guidance_fields[0]] = bool(config.guidance_embed)
            notes.append(f"Flux2Params.{guidance_fields[0]}={bool(config.guidance_embed)} (klein has no "
                         f"guidance embedding)")
        params = params_cls(**kwargs)
        try:  # no random init of 4B parameters where torch can build on the meta device
            with _build_on("meta"):
                model = self.model_mod.Flux2(params)
        except (RuntimeError, NotImplementedError):
            model = self.model_mod.Flux2(params)
        theirs = model.state_dict()
        extra = sorted(set(theirs) - set(state))
        missing = sorted(set(state) - set(theirs))
        if missing:
            raise CompareError(f"flux2's Flux2 has no tensors named {', '.join(missing[:5])}: the key names "
                               f"differ from ours; this checkout is not one the tool understands")
        full = dict(state)
        guidance_zeroed = []
        for name in extra:
            if name.startswith("guidance_in.") and not config.guidance_embed:
                # guidance_in is out_layer(silu(in_layer(g))) without biases: zero weights add exactly 0.
                full[name] = torch.zeros(tuple(theirs[name].shape))
                guidance_zeroed.append(name)
            else:
                raise CompareError(f"flux2's Flux2 has tensors ours lacks: {', '.join(extra[:5])}; "
                                   f"this checkout builds a different model")
        if guidance_zeroed:
            notes.append("this flux2 checkout always builds a guidance embedding (Flux2Params has no switch): "
                         "its weights were set to zero, so it adds exactly 0 as klein has none")
        if any(p.is_meta for p in model.parameters()):
            model = model.to_empty(device=device)
        model = model.to(device=device, dtype=dtype)
        model.load_state_dict(full, strict=True)  # copies round float32 to dtype as our build does
        self.model = model.eval().requires_grad_(False)
        self.takes_guidance = "guidance" in inspect.signature(self.model.forward).parameters
        self.description = (f"BFL flux2 ({os.path.dirname(os.path.dirname(self.model_mod.__file__))}): "
                            f"flux2.model.Flux2, flux2.sampling.get_schedule / denoise")

    def schedule(self, steps, seq_len):
        return list(self.sampling.get_schedule(steps, seq_len))

    def pack(self, img_latents, txt, ref_latent):
        s = self.sampling
        img, img_ids = s.batched_prc_img(img_latents)
        _, txt_ids = s.batched_prc_txt(txt)
        ref_tokens, ref_ids = s.listed_prc_img([ref_latent], t_coord=[torch.tensor([sm.REFERENCE_T_OFFSET])])
        b = img.shape[0]
        ref = torch.cat(ref_tokens, dim=0)[None].expand(b, -1, -1)
        ref_ids = torch.cat(ref_ids, dim=0)[None].expand(b, -1, -1)
        return img, img_ids, txt_ids, ref, ref_ids

    def _guidance(self, x):
        return torch.ones((x.shape[0],), device=x.device, dtype=x.dtype)

    @torch.no_grad()
    def forward(self, x, x_ids, t, ctx, ctx_ids):
        kwargs = {"x": x, "x_ids": x_ids, "timesteps": t, "ctx": ctx, "ctx_ids": ctx_ids}
        if self.takes_guidance:
            kwargs["guidance"] = self._guidance(x)
        return self.model(**kwargs)

    @torch.no_grad()
    def denoise(self, img, img_ids, txt, txt_ids, schedule, ref, ref_ids):
        return _call(self.sampling.denoise, model=self.model, img=img, img_ids=img_ids, txt=txt, txt_ids=txt_ids,
                     timesteps=schedule, guidance=1.0, img_cond_seq=ref, img_cond_seq_ids=ref_ids)


def compare_transformer(args, section, tol):
    config, _, _, (h, w), (rh, rw), _ = _shapes(args.shape)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    state = tiny_transformer_state(config, seed=2)
    ref_state = _perturb(state, "img_in.weight", args.perturb_reference, section.notes)
    with _sdpa_available(section.notes):
        if args.self_reference:
            reference = _OurTransformerReference(ref_state, config, device, dtype)
        else:
            modules = load_flux2(args.flux2_src, section.notes)
            reference = _Flux2TransformerReference(modules, ref_state, config, device, dtype, section.notes)
        section.reference = reference.description
        ours = build_transformer(state, config, device, dtype)
        del state, ref_state

        b = 2
        noise = sm.initial_noise([SEED, SEED + 1], config.in_channels, h, w)
        ref_latent = _randn((config.in_channels, rh, rw), SEED + 2, "cpu", torch.float32)
        txt = _randn((b, TEXT_TOKENS, config.context_in_dim), SEED + 3, "cpu", torch.float32)

        # schedule, packing and position ids
        ours_sched = sm.get_schedule(STEPS, h * w)
        ref_sched = reference.schedule(STEPS, h * w)
        section.rows.append(_row(f"schedule ({STEPS} steps, {h * w} tokens)", ours_sched, ref_sched, tol))
        img_tok, img_ids, txt_ids, ref_tok, ref_ids = reference.pack(noise, txt, ref_latent)
        o_ref_tok, o_ref_ids = sm.pack_references([ref_latent])
        section.rows.append(_row("packed image tokens", sm.pack(noise), img_tok, 0.0))
        section.rows.append(_row("packed reference tokens", o_ref_tok, ref_tok[:1], 0.0))
        section.rows.append(_exact_row("image position ids", sm.image_ids(h, w)[None].expand(b, -1, -1), img_ids))
        section.rows.append(_exact_row("text position ids", sm.text_ids(TEXT_TOKENS)[None].expand(b, -1, -1),
                                       txt_ids))
        section.rows.append(_exact_row("reference position ids", o_ref_ids[None].expand(b, -1, -1), ref_ids))

        def dev(x):
            return x.to(device)

        # one forward pass: image + reference tokens, each side with its own packing and ids; at
        # FORWARD_T, and at EXACT_T, where 1000·t is exact in bf16 (BFL scales t by 1000 in the model
        # dtype, we in float32: in bf16 that alone changes the time embedding at t = 0.7)
        x_in = dev(torch.cat((img_tok, ref_tok), dim=1)).to(dtype)
        x_ids = dev(torch.cat((img_ids, ref_ids), dim=1))
        o_x = dev(torch.cat((sm.pack(noise), o_ref_tok.expand(b, -1, -1)), dim=1)).to(dtype)
        o_ids = dev(torch.cat((sm.image_ids(h, w), o_ref_ids), dim=0))
        for t_value in (FORWARD_T, EXACT_T):
            t = torch.full((b,), t_value, device=device, dtype=dtype)
            theirs = reference.forward(x_in, x_ids, t, dev(txt).to(dtype), dev(txt_ids))
            mine = ours(o_x, o_ids, dev(txt).to(dtype), dev(sm.text_ids(TEXT_TOKENS)), t)
            section.rows.append(_row(f"forward (t={t_value}, {h * w} image + {rh * rw} reference + "
                                     f"{TEXT_TOKENS} text tokens, batch {b})", mine, theirs, tol))
            del theirs, mine

        # a full denoise from the same noise with the same (reference) schedule
        theirs = reference.denoise(dev(img_tok).to(dtype), dev(img_ids), dev(txt).to(dtype), dev(txt_ids),
                                   ref_sched, dev(ref_tok).to(dtype), dev(ref_ids))
        mine = sm.denoise(ours, dev(sm.pack(noise)).to(dtype), dev(sm.image_ids(h, w)), dev(txt).to(dtype),
                          dev(sm.text_ids(TEXT_TOKENS)), ref_sched, ref=dev(o_ref_tok).to(dtype),
                          ref_ids=dev(o_ref_ids))
        section.rows.append(_row(f"denoise ({STEPS} Euler steps with the reference's schedule)", mine, theirs, tol))
    section.notes.append(f"weights: tiny_transformer_state(seed=2) at {_describe(config)}, {args.dtype} on {device}")


def _describe(config):
    return (f"hidden {config.hidden_size}, {config.num_heads} heads x {config.head_dim}, "
            f"{config.depth_double} double + {config.depth_single} single blocks, text width {config.context_in_dim}")


# ----------------------------------------------------------------------------- VAE


def _bfl_vae(modules, state, config, device, dtype):
    ae_mod = modules["autoencoder"]
    fields = {f.name for f in dataclasses.fields(ae_mod.AutoEncoderParams)}
    kwargs = {"in_channels": config.in_channels, "out_ch": config.out_channels, "ch": config.ch,
              "ch_mult": list(config.ch_mult), "num_res_blocks": config.num_res_blocks,
              "z_channels": config.z_channels}
    unknown = [k for k in kwargs if k not in fields]
    if unknown:
        raise CompareError(f"flux2's AutoEncoderParams has no {', '.join(unknown)}; this checkout is not one "
                           f"the tool understands")
    model = ae_mod.AutoEncoder(ae_mod.AutoEncoderParams(**kwargs))
    theirs = model.state_dict()
    full = {k: v for k, v in state.items() if k in theirs}
    for name in theirs:
        if name not in full and name.endswith("num_batches_tracked"):
            full[name] = theirs[name]
    model.load_state_dict(full, strict=True)
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def _diffusers_vae(state, config, device, dtype):
    from diffusers import AutoencoderKLFlux2

    cfg = {k: v for k, v in vae_config_json(config).items() if not k.startswith("_")}
    model = AutoencoderKLFlux2.from_config(cfg)
    theirs = model.state_dict()
    full = to_diffusers_vae_names(state)
    for name in theirs:
        if name not in full and name.endswith("num_batches_tracked"):
            full[name] = theirs[name]
    model.load_state_dict(full, strict=True)
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def _our_vae_outputs(vae, image, latents):
    with torch.no_grad():
        moments = vae.encoder(image.to(vae.dtype))
        z = moments[:, :vae.config.z_channels]
        enc = vae.encode(image)
        dec = vae.decoder(unpatchify(vae.denormalize(latents)).to(vae.dtype))
    return z, enc, dec


def compare_vae(args, section, tol, reference_kind):
    _, _, config, _, _, px = _shapes(args.shape)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    state = tiny_vae_state(config, seed=3)
    ref_state = _perturb(state, "encoder.conv_in.weight", args.perturb_reference, section.notes)
    image = _randn((1, config.in_channels, px, px + 16), SEED + 4, "cpu", torch.float32).clamp(-1, 1).to(device)
    latents = _randn((1, config.latent_channels, px // 16, px // 16 + 1), SEED + 5, "cpu",
                     torch.float32).to(device)
    ours = build_vae(state, config, device, dtype)
    o_z, o_enc, o_dec = _our_vae_outputs(ours, image, latents)
    with _sdpa_available(section.notes), torch.no_grad():
        if reference_kind == "self":
            ref = build_vae(ref_state, config, device, dtype)
            section.reference = "fluxbot_klein itself (--self-reference)"
            r_z, r_enc, r_dec = _our_vae_outputs(ref, image, latents)
        elif reference_kind == "flux2":
            ref = _bfl_vae(load_flux2(args.flux2_src, section.notes), ref_state, config, device, dtype)
            section.reference = "BFL flux2.autoencoder.AutoEncoder"
            r_z = ref.encoder(image.to(dtype))[:, :config.z_channels]
            r_enc = ref.encode(image.to(dtype))
            # their decode = decoder(unpatchify(denormalize(z))); ours clamps after it, so compare before
            r_dec = ref.decode(latents.to(dtype))
        else:
            ref = _diffusers_vae(ref_state, config, device, dtype)
            section.reference = "diffusers AutoencoderKLFlux2"
            r_z = ref.encode(image.to(dtype)).latent_dist.mode()
            z32 = unpatchify(ours.denormalize(latents)).to(dtype)
            r_dec = ref.decode(z32).sample
            r_enc = None
            section.notes.append("diffusers: raw encoder mode and decoder; the patchify and BatchNorm "
                                 "normalisation live in its pipeline, so 'encode' is not compared")
    section.rows.append(_row(f"encoder mean ({px}x{px + 16} image)", o_z, r_z, tol))
    if r_enc is not None:
        section.rows.append(_row("encode (patchified, normalised latents)", o_enc, r_enc, tol))
    section.rows.append(_row(f"decode ({px // 16}x{px // 16 + 1} latents, before our final clamp)", o_dec,
                             r_dec, tol))
    section.notes.append(f"weights: tiny_vae_state(seed=3) at ch {config.ch}, mult {list(config.ch_mult)}, "
                         f"{args.dtype} on {device}")


# ----------------------------------------------------------------------------- text encoder


def _prompt_batch(tokenizer):
    ids, masks = [], []
    for prompt in PROMPTS[:3] + PROMPTS[-1:]:
        i, m, _ = tokenizer.chat_ids(prompt, TEXT_TOKENS)
        ids.append(i)
        masks.append(m)
    return torch.tensor(ids), torch.tensor(masks)


def _hf_qwen3(state, config, device, dtype):
    import transformers

    kwargs = dict(vocab_size=config.vocab_size, hidden_size=config.hidden_size,
                  intermediate_size=config.intermediate_size, num_hidden_layers=max(OUTPUT_LAYERS) + 1,
                  num_attention_heads=config.num_heads, num_key_value_heads=config.num_kv_heads,
                  head_dim=config.head_dim, rms_norm_eps=config.rms_eps, rope_theta=config.rope_theta,
                  max_position_embeddings=40960, attention_bias=False, tie_word_embeddings=False)
    if "rope_parameters" in getattr(transformers.Qwen3Config, "__dataclass_fields__", {}):
        kwargs["rope_parameters"] = {"rope_type": "default", "rope_theta": config.rope_theta}  # transformers 5
        del kwargs["rope_theta"]
    hf_config = transformers.Qwen3Config(**kwargs)
    rope = getattr(hf_config, "rope_parameters", None)
    if isinstance(rope, dict) and rope.get("rope_theta") != config.rope_theta:
        hf_config.rope_parameters = dict(rope, rope_type="default", rope_theta=config.rope_theta)
    with _build_on(device):  # random init on the GPU, not 3 billion parameters on the CPU
        model = transformers.Qwen3Model(hf_config)
    bare = {k[len("model."):] if k.startswith("model.") else k: v for k, v in state.items()}
    theirs = model.state_dict()
    missing = sorted(set(theirs) - set(bare))
    if missing:
        raise CompareError(f"transformers' Qwen3Model wants tensors our state lacks: {', '.join(missing[:5])}")
    model.load_state_dict({k: bare[k] for k in theirs}, strict=True)
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def compare_text_encoder(args, section, tol, tokenizer):
    _, config, _, _, _, _ = _shapes(args.shape)
    if tokenizer.vocab_size > config.vocab_size:  # a real tokenizer with the tiny encoder
        config = dataclasses.replace(config, vocab_size=tokenizer.vocab_size)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    state = tiny_text_encoder_state(config, seed=1)  # layers 0..27 and model.norm
    ref_state = _perturb(state, "model.embed_tokens.weight", args.perturb_reference, section.notes)
    ids, mask = _prompt_batch(tokenizer)
    ours = build_text_encoder(state, config, device, dtype)
    mine = ours(ids.to(device), mask.to(device))
    with torch.no_grad():
        if args.self_reference:
            section.reference = "fluxbot_klein itself (--self-reference)"
            theirs = build_text_encoder(ref_state, config, device, dtype)(ids.to(device), mask.to(device))
        else:
            model = _hf_qwen3(ref_state, config, device, dtype)
            section.reference = f"transformers {_version('transformers')} Qwen3Model"
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
            theirs = torch.cat([out.hidden_states[k] for k in OUTPUT_LAYERS], dim=-1)
    real = mask.bool()
    section.rows.append(_row(f"hidden states {'/'.join(map(str, OUTPUT_LAYERS))} stacked, real tokens",
                             mine[real.to(mine.device)], theirs[real.to(theirs.device)], tol))
    section.rows.append(_row(f"hidden states stacked, all {TEXT_TOKENS} positions (padding included)",
                             mine, theirs, tol))
    section.notes.append(f"weights: tiny_text_encoder_state(seed=1), hidden {config.hidden_size}, "
                         f"{config.num_heads}/{config.num_kv_heads} heads x {config.head_dim}, 28 layers; "
                         f"{ids.shape[0]} prompts through the chat template, padded to {TEXT_TOKENS}; "
                         f"{args.dtype} on {device}")


def _version(package):
    try:
        return importlib.import_module(package).__version__
    except Exception:  # noqa: BLE001 - a version string is decoration only
        return "?"


# ----------------------------------------------------------------------------- tokenizer


def compare_tokenizer(args, section, path):
    import tokenizers

    where = "our tiny tokenizer.json" if getattr(args, "_tiny_tokenizer", False) else path
    section.reference = f"tokenizers {tokenizers.__version__} on {where}"
    ours = Tokenizer.from_file(path)
    theirs = tokenizers.Tokenizer.from_file(path)
    for i, prompt in enumerate(PROMPTS):
        text = CHAT_TEMPLATE.format(prompt=prompt)
        mine = ours.encode(text)
        ref = theirs.encode(text, add_special_tokens=False).ids
        if len(mine) != len(ref):
            row = Row(f"prompt {i} ids ({len(ref)} tokens; ours {len(mine)})", math.inf, math.inf, 0.0, exact=True)
        else:
            row = _exact_row(f"prompt {i} ids ({len(ref)} tokens)", mine, ref)
        section.rows.append(row)
        if not row.ok:
            section.notes.append(f"prompt {i} {prompt!r}: ours {mine[:40]}..., tokenizers {ref[:40]}...")


# ----------------------------------------------------------------------------- driver


def run(args):
    """All sections; returns (sections, exit code)."""
    tol = TOLERANCES[args.dtype]
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise CompareError(f"--device {args.device} but torch {torch.__version__} sees no CUDA device; use --device cpu")
    _shapes(args.shape)
    wanted = args.sections or list(SECTIONS)
    sections = []

    def attempt(name, fn):
        section = Section(name)
        sections.append(section)
        try:
            fn(section)
        except CompareError as e:
            section.status, section.reason = "error", str(e)
        except Exception as e:  # a reference that fails to build or run is reported, not a crash
            section.status, section.reason = "error", f"{type(e).__name__}: {e}"
        return section

    def skip(name, reason):
        sections.append(Section(name, status="skipped", reason=reason))

    flux2 = bool(args.flux2_src) or args.self_reference
    if "transformer" in wanted:
        if flux2:
            attempt("transformer", lambda s: compare_transformer(args, s, tol))
        else:
            skip("transformer", "no reference: pass --flux2-src PATH (the src folder of a "
                                "black-forest-labs/flux2 checkout)")
    if "vae" in wanted:
        if args.self_reference:
            attempt("vae", lambda s: compare_vae(args, s, tol, "self"))
        else:
            if args.flux2_src:
                attempt("vae (flux2)", lambda s: compare_vae(args, s, tol, "flux2"))
            else:
                skip("vae (flux2)", "no reference: pass --flux2-src PATH")
            diffusers = _import_optional("diffusers")
            if diffusers is None:
                skip("vae (diffusers)", "skipped: diffusers not installed")
            elif isinstance(diffusers, str):
                skip("vae (diffusers)", f"skipped: diffusers is installed but does not import ({diffusers})")
            else:
                if not hasattr(diffusers, "AutoencoderKLFlux2"):
                    skip("vae (diffusers)", f"skipped: diffusers {diffusers.__version__} has no AutoencoderKLFlux2")
                else:
                    attempt("vae (diffusers)", lambda s: compare_vae(args, s, tol, "diffusers"))

    tmp = None
    try:
        path = args.tokenizer
        if path is None:
            tmp = tempfile.TemporaryDirectory(prefix="fluxbot-compare-")
            path = os.path.join(tmp.name, "tokenizer.json")
            write_tiny_tokenizer(path)
            args._tiny_tokenizer = True
        elif os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        if "text_encoder" in wanted:
            transformers = None if args.self_reference else _import_optional("transformers")
            if args.self_reference:
                attempt("text_encoder", lambda s: compare_text_encoder(args, s, tol, Tokenizer.from_file(path)))
            elif transformers is None:
                skip("text_encoder", "skipped: transformers not installed")
            elif isinstance(transformers, str):
                skip("text_encoder", f"skipped: transformers is installed but does not import ({transformers})")
            elif not transformers.utils.is_torch_available():
                skip("text_encoder", f"skipped: transformers {transformers.__version__} cannot use torch "
                                     f"{torch.__version__} (it needs a newer PyTorch)")
            else:
                attempt("text_encoder", lambda s: compare_text_encoder(args, s, tol, Tokenizer.from_file(path)))
        if "tokenizer" in wanted:
            if not _installed("tokenizers"):
                skip("tokenizer", "skipped: tokenizers not installed")
            else:
                attempt("tokenizer", lambda s: compare_tokenizer(args, s, path))
    finally:
        if tmp is not None:
            tmp.cleanup()

    if any(s.status == "error" for s in sections):
        code = 2
    elif all(s.ok for s in sections):
        code = 0
    else:
        code = 1
    return sections, code


def report(args, sections, code):
    """The machine-readable result."""
    return {"shape": args.shape, "device": args.device, "dtype": args.dtype, "torch": torch.__version__,
            "tolerance_rel": TOLERANCES[args.dtype], "self_reference": bool(args.self_reference),
            "perturb_reference": args.perturb_reference, "sections": [s.as_dict() for s in sections],
            "ok": code == 0, "exit_code": code}


def format_text(args, sections, code):
    lines = [f"compare: shape {args.shape}, {args.dtype} on {args.device}, torch {torch.__version__}, "
             f"relative tolerance {TOLERANCES[args.dtype]:g} (relative = max |ours - ref| / max |ref|)"]
    for s in sections:
        lines.append("")
        head = f"[{s.name}]"
        if s.status == "skipped":
            reason = s.reason if s.reason.startswith("skipped") else f"skipped: {s.reason}"
            lines.append(f"{head} {reason}")
            continue
        if s.reference:
            head += f" vs {s.reference}"
        lines.append(head)
        for n in s.notes:
            lines.append(f"  note: {n}")
        for r in s.rows:
            verdict = "ok" if r.ok else "FAIL"
            if r.exact:
                lines.append(f"  {verdict:4} {r.component}: max diff {r.max_abs:g}, "
                             f"{r.max_rel:.3g} of entries differ (must be identical)")
            else:
                lines.append(f"  {verdict:4} {r.component}: max abs {r.max_abs:.3e}, max rel {r.max_rel:.3e}")
        if s.status == "error":
            lines.append(f"  ERROR: {s.reason}")
    lines.append("")
    lines.append({0: "result: all compared errors within tolerance",
                  1: "result: FAIL, an error exceeds the tolerance",
                  2: "result: ERROR, a comparison could not run (see above)"}[code])
    return "\n".join(lines)


def add_arguments(parser):
    parser.add_argument("--flux2-src", default=None, metavar="PATH",
                        help="the src folder of a black-forest-labs/flux2 checkout (imported at run time)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtype", choices=tuple(TOLERANCES), default="float32")
    parser.add_argument("--shape", choices=SHAPES, default="tiny",
                        help="tiny (our test dims, CPU) or 4b (klein 4B's real dims, for a GPU)")
    parser.add_argument("--tokenizer", default=None, metavar="PATH",
                        help="tokenizer.json (or its folder) for the tokenizer and text encoder sections "
                             "(default: our tiny one)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=None,
                        help="compare only these (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--self-reference", action="store_true",
                        help="use our own implementation as the reference (checks the tool: errors are 0)")
    parser.add_argument("--perturb-reference", type=float, default=0.0, metavar="EPS",
                        help="scale one reference weight per section by 1 + EPS (checks that a difference is caught)")


def main(args):
    """Run the comparison for parsed args; prints text or JSON, returns the exit code."""
    try:
        sections, code = run(args)
    except CompareError as e:
        sections, code = [Section("setup", status="error", reason=str(e))], 2
    if args.json:
        print(json.dumps(report(args, sections, code), indent=2))
    else:
        print(format_text(args, sections, code))
    return code
