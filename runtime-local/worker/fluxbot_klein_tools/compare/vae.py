"""The VAE against BFL's flux2.autoencoder and diffusers' AutoencoderKLFlux2 (or ourselves)."""

from __future__ import annotations

import argparse
import dataclasses
from types import ModuleType
from typing import Mapping

import torch
from torch import nn

from fluxbot_klein.checkpoint.tiny import tiny_vae_state, vae_config_json
from fluxbot_klein.checkpoint.vae import build_vae, to_diffusers_vae_names
from fluxbot_klein.models.vae import Flux2Vae, VaeConfig, unpatchify

from .common import SEED, CompareError, Section, error_row, load_flux2, perturb, randn, sdpa_available, shapes_for


def _bfl_vae(modules: dict[str, ModuleType], state: Mapping[str, torch.Tensor], config: VaeConfig,
             device: torch.device, dtype: torch.dtype) -> nn.Module:
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


def _diffusers_vae(state: Mapping[str, torch.Tensor], config: VaeConfig, device: torch.device,
                   dtype: torch.dtype) -> nn.Module:
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


def _our_vae_outputs(vae: Flux2Vae, image: torch.Tensor,
                     latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        moments = vae.encoder(image.to(vae.dtype))
        z = moments[:, :vae.config.z_channels]
        enc = vae.encode(image)
        dec = vae.decoder(unpatchify(vae.denormalize(latents)).to(vae.dtype))
    return z, enc, dec


def compare_vae(args: argparse.Namespace, section: Section, tol: float, reference_kind: str) -> None:
    _, _, config, _, _, px = shapes_for(args.shape)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    state = tiny_vae_state(config, seed=3)
    ref_state = perturb(state, "encoder.conv_in.weight", args.perturb_reference, section.notes)
    image = randn((1, config.in_channels, px, px + 16), SEED + 4, "cpu", torch.float32).clamp(-1, 1).to(device)
    latents = randn((1, config.latent_channels, px // 16, px // 16 + 1), SEED + 5, "cpu",
                     torch.float32).to(device)
    ours = build_vae(state, config, device, dtype)
    o_z, o_enc, o_dec = _our_vae_outputs(ours, image, latents)
    with sdpa_available(section.notes), torch.no_grad():
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
    section.rows.append(error_row(f"encoder mean ({px}x{px + 16} image)", o_z, r_z, tol))
    if r_enc is not None:
        section.rows.append(error_row("encode (patchified, normalised latents)", o_enc, r_enc, tol))
    section.rows.append(error_row(f"decode ({px // 16}x{px // 16 + 1} latents, before our final clamp)", o_dec,
                             r_dec, tol))
    section.notes.append(f"weights: tiny_vae_state(seed=3) at ch {config.ch}, mult {list(config.ch_mult)}, "
                         f"{args.dtype} on {device}")
