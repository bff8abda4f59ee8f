"""The transformer and sampler against BFL's flux2.model.Flux2 and flux2.sampling (or ourselves)."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
from types import ModuleType
from typing import Mapping

import torch

from fluxbot_klein.checkpoint.tiny import tiny_transformer_state
from fluxbot_klein.checkpoint.transformer import build_transformer
from fluxbot_klein.models import sampler as sm
from fluxbot_klein.models.transformer import TransformerConfig

from .common import (EXACT_T, FORWARD_T, SEED, STEPS, TEXT_TOKENS, CompareError, Section, build_on, call_with,
                     error_row, exact_row, load_flux2, perturb, randn, sdpa_available, shapes_for)


class _OurTransformerReference:
    """Our own transformer and sampler behind the reference interface (for --self-reference)."""

    def __init__(self, state: Mapping[str, torch.Tensor], config: TransformerConfig, device: torch.device,
                 dtype: torch.dtype) -> None:
        self.model = build_transformer(state, config, device, dtype)
        self.description = "fluxbot_klein itself (--self-reference)"

    def schedule(self, steps: int, seq_len: int) -> list[float]:
        return sm.get_schedule(steps, seq_len)

    def pack(self, img_latents: torch.Tensor, txt: torch.Tensor, ref_latent: torch.Tensor) -> tuple[torch.Tensor, ...]:
        b, _, h, w = img_latents.shape
        ref_tokens, ref_ids = sm.pack_references([ref_latent])
        return (sm.pack(img_latents), sm.image_ids(h, w)[None].expand(b, -1, -1),
                sm.text_ids(txt.shape[1])[None].expand(b, -1, -1),
                ref_tokens.expand(b, -1, -1), ref_ids[None].expand(b, -1, -1))

    def forward(self, x: torch.Tensor, x_ids: torch.Tensor, t: torch.Tensor, ctx: torch.Tensor,
                ctx_ids: torch.Tensor) -> torch.Tensor:
        return self.model(x, x_ids, ctx, ctx_ids, t)

    def denoise(self, img: torch.Tensor, img_ids: torch.Tensor, txt: torch.Tensor, txt_ids: torch.Tensor,
                schedule: list[float], ref: torch.Tensor, ref_ids: torch.Tensor) -> torch.Tensor:
        return sm.denoise(self.model, img, img_ids, txt, txt_ids, schedule, ref=ref, ref_ids=ref_ids)


class _Flux2TransformerReference:
    """BFL's Flux2 and sampling functions, built with klein's shapes and loaded with our weights."""

    def __init__(self, modules: dict[str, ModuleType], state: Mapping[str, torch.Tensor], config: TransformerConfig,
                 device: torch.device, dtype: torch.dtype, notes: list[str]) -> None:
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
            with build_on("meta"):
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

    def schedule(self, steps: int, seq_len: int) -> list[float]:
        return list(self.sampling.get_schedule(steps, seq_len))

    def pack(self, img_latents: torch.Tensor, txt: torch.Tensor, ref_latent: torch.Tensor) -> tuple[torch.Tensor, ...]:
        s = self.sampling
        img, img_ids = s.batched_prc_img(img_latents)
        _, txt_ids = s.batched_prc_txt(txt)
        ref_tokens, ref_ids = s.listed_prc_img([ref_latent], t_coord=[torch.tensor([sm.REFERENCE_T_OFFSET])])
        b = img.shape[0]
        ref = torch.cat(ref_tokens, dim=0)[None].expand(b, -1, -1)
        ref_ids = torch.cat(ref_ids, dim=0)[None].expand(b, -1, -1)
        return img, img_ids, txt_ids, ref, ref_ids

    def _guidance(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones((x.shape[0],), device=x.device, dtype=x.dtype)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, x_ids: torch.Tensor, t: torch.Tensor, ctx: torch.Tensor,
                ctx_ids: torch.Tensor) -> torch.Tensor:
        kwargs = {"x": x, "x_ids": x_ids, "timesteps": t, "ctx": ctx, "ctx_ids": ctx_ids}
        if self.takes_guidance:
            kwargs["guidance"] = self._guidance(x)
        return self.model(**kwargs)

    @torch.no_grad()
    def denoise(self, img: torch.Tensor, img_ids: torch.Tensor, txt: torch.Tensor, txt_ids: torch.Tensor,
                schedule: list[float], ref: torch.Tensor, ref_ids: torch.Tensor) -> torch.Tensor:
        return call_with(self.sampling.denoise, model=self.model, img=img, img_ids=img_ids, txt=txt, txt_ids=txt_ids,
                     timesteps=schedule, guidance=1.0, img_cond_seq=ref, img_cond_seq_ids=ref_ids)


def compare_transformer(args: argparse.Namespace, section: Section, tol: float) -> None:
    config, _, _, (h, w), (rh, rw), _ = shapes_for(args.shape)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    state = tiny_transformer_state(config, seed=2)
    ref_state = perturb(state, "img_in.weight", args.perturb_reference, section.notes)
    with sdpa_available(section.notes):
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
        ref_latent = randn((config.in_channels, rh, rw), SEED + 2, "cpu", torch.float32)
        txt = randn((b, TEXT_TOKENS, config.context_in_dim), SEED + 3, "cpu", torch.float32)

        # schedule, packing and position ids
        ours_sched = sm.get_schedule(STEPS, h * w)
        ref_sched = reference.schedule(STEPS, h * w)
        section.rows.append(error_row(f"schedule ({STEPS} steps, {h * w} tokens)", ours_sched, ref_sched, tol))
        img_tok, img_ids, txt_ids, ref_tok, ref_ids = reference.pack(noise, txt, ref_latent)
        o_ref_tok, o_ref_ids = sm.pack_references([ref_latent])
        section.rows.append(error_row("packed image tokens", sm.pack(noise), img_tok, 0.0))
        section.rows.append(error_row("packed reference tokens", o_ref_tok, ref_tok[:1], 0.0))
        section.rows.append(exact_row("image position ids", sm.image_ids(h, w)[None].expand(b, -1, -1), img_ids))
        section.rows.append(exact_row("text position ids", sm.text_ids(TEXT_TOKENS)[None].expand(b, -1, -1),
                                       txt_ids))
        section.rows.append(exact_row("reference position ids", o_ref_ids[None].expand(b, -1, -1), ref_ids))

        def dev(x: torch.Tensor) -> torch.Tensor:
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
            section.rows.append(error_row(f"forward (t={t_value}, {h * w} image + {rh * rw} reference + "
                                     f"{TEXT_TOKENS} text tokens, batch {b})", mine, theirs, tol))
            del theirs, mine

        # a full denoise from the same noise with the same (reference) schedule
        theirs = reference.denoise(dev(img_tok).to(dtype), dev(img_ids), dev(txt).to(dtype), dev(txt_ids),
                                   ref_sched, dev(ref_tok).to(dtype), dev(ref_ids))
        mine = sm.denoise(ours, dev(sm.pack(noise)).to(dtype), dev(sm.image_ids(h, w)), dev(txt).to(dtype),
                          dev(sm.text_ids(TEXT_TOKENS)), ref_sched, ref=dev(o_ref_tok).to(dtype),
                          ref_ids=dev(o_ref_ids))
        section.rows.append(error_row(f"denoise ({STEPS} Euler steps with the reference's schedule)", mine, theirs, tol))
    section.notes.append(f"weights: tiny_transformer_state(seed=2) at {_describe(config)}, {args.dtype} on {device}")


def _describe(config: TransformerConfig) -> str:
    return (f"hidden {config.hidden_size}, {config.num_heads} heads x {config.head_dim}, "
            f"{config.depth_double} double + {config.depth_single} single blocks, text width {config.context_in_dim}")
