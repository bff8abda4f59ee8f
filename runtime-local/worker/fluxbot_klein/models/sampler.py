"""klein's sampler: the shifted schedule, position ids, latent packing, seeded noise, the Euler loop.

Position ids are (T, H, W, L): text token l is (0, 0, 0, l); output image token (0, h, w, 0);
reference image i's tokens (10 + 10·i, h, w, 0). Reference tokens follow the image tokens in the
sequence and their predictions are dropped. Flow matching: x <- x + (t_next - t)·v from t = 1
(noise) to t = 0 (image).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from . import Device

REFERENCE_T_OFFSET = 10


def compute_empirical_mu(image_seq_len: int, num_steps: int) -> float:
    """The schedule shift μ fitted by BFL for an image of image_seq_len tokens and num_steps steps."""
    a1, b1 = 8.73809524e-05, 1.89833333
    a2, b2 = 0.00016927, 0.45666666
    if image_seq_len > 4300:
        return float(a2 * image_seq_len + b2)
    m_200 = a2 * image_seq_len + b2
    m_10 = a1 * image_seq_len + b1
    a = (m_200 - m_10) / 190.0
    b = m_200 - 200.0 * a
    return float(a * num_steps + b)


def time_shift(mu: float, t: Tensor) -> Tensor:
    """exp(μ) / (exp(μ) + (1/t - 1)) on a float32 tensor t (t = 0 gives 0)."""
    return math.exp(mu) / (math.exp(mu) + (1 / t - 1))


def get_schedule(num_steps: int, image_seq_len: int) -> list[float]:
    """num_steps + 1 timesteps from 1 down to 0, linspace shifted by the empirical μ."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    mu = compute_empirical_mu(image_seq_len, num_steps)
    return time_shift(mu, torch.linspace(1, 0, num_steps + 1)).tolist()


def image_ids(h: int, w: int, t: int = 0) -> Tensor:
    """Ids (t, y, x, 0) of an h×w token grid in row-major order: LongTensor [h*w, 4]."""
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    ids = torch.stack([torch.full_like(ys, t), ys, xs, torch.zeros_like(ys)], dim=-1)
    return ids.reshape(h * w, 4)


def reference_ids(index: int, h: int, w: int) -> Tensor:
    """Ids of reference image `index` (0-based): T = 10 + 10·index."""
    return image_ids(h, w, t=REFERENCE_T_OFFSET + REFERENCE_T_OFFSET * index)


def text_ids(length: int) -> Tensor:
    """Ids (0, 0, 0, l) of length text tokens: LongTensor [length, 4]."""
    ids = torch.zeros(length, 4, dtype=torch.long)
    ids[:, 3] = torch.arange(length)
    return ids


def pack(latents: Tensor) -> Tensor:
    """[B, C, h, w] -> tokens [B, h*w, C] (row-major over h, then w)."""
    b, c, h, w = latents.shape
    return latents.reshape(b, c, h * w).transpose(1, 2).contiguous()


def unpack(tokens: Tensor, h: int, w: int) -> Tensor:
    """tokens [B, h*w, C] -> [B, C, h, w]."""
    b, n, c = tokens.shape
    if n != h * w:
        raise ValueError(f"cannot unpack {n} tokens into {h}x{w}")
    return tokens.transpose(1, 2).reshape(b, c, h, w)


def pack_references(latents: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """Reference latents (each [C, h, w] or [1, C, h, w]) -> (tokens [1, R, C], ids [R, 4]), in order."""
    tokens, ids = [], []
    for i, lat in enumerate(latents):
        if lat.dim() == 3:
            lat = lat[None]
        tokens.append(pack(lat))
        ids.append(reference_ids(i, lat.shape[2], lat.shape[3]))
    return torch.cat(tokens, dim=1), torch.cat(ids, dim=0)


def initial_noise(seeds: Sequence[int], channels: int, h: int, w: int, device: Device = "cpu",
                  dtype: torch.dtype = torch.float32) -> Tensor:
    """Gaussian noise [B, C, h, w]; item i comes from seeds[i] alone on a CPU generator."""
    items = []
    for seed in seeds:
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        items.append(torch.randn((channels, h, w), generator=g, dtype=torch.float32))
    return torch.stack(items).to(device=device, dtype=dtype)


def _batched(x: Tensor | None, b: int, what: str) -> Tensor | None:
    if x is None:
        return None
    if x.dim() == 2:
        x = x[None]
    if x.shape[0] == b:
        return x
    if x.shape[0] == 1:
        return x.expand(b, *x.shape[1:])
    raise ValueError(f"{what} has batch {x.shape[0]}, expected 1 or {b}")


def denoise(model: nn.Module | Callable[..., Tensor], img: Tensor, img_ids: Tensor, txt: Tensor, txt_ids: Tensor,
            schedule: Sequence[float], ref: Tensor | None = None, ref_ids: Tensor | None = None,
            guidance_scale: float | None = None, uncond_txt: Tensor | None = None,
            uncond_txt_ids: Tensor | None = None, on_step: Callable[[int, int], None] | None = None) -> Tensor:
    """Euler steps over schedule; returns the denoised image tokens [B, N, C] in img's dtype.

    ref / ref_ids: reference tokens appended after the image tokens (batch 1 or B), predictions
    dropped. CFG (pred_u + s·(pred_c - pred_u)) when guidance_scale and uncond_txt are given; a
    model with a guidance embedding gets guidance_scale there instead. on_step(step, steps) after
    each step, 1-based. The update is computed in float32.
    """
    b, n, _ = img.shape
    device = img.device
    steps = len(schedule) - 1
    img_ids = _batched(img_ids, b, "img_ids").to(device)
    txt = _batched(txt, b, "txt")
    txt_ids = _batched(txt_ids, b, "txt_ids").to(device)
    if (ref is None) != (ref_ids is None):
        raise ValueError("pass both ref and ref_ids, or neither")
    if ref is not None:
        ref = _batched(ref, b, "ref").to(device)
        ref_ids = _batched(ref_ids, b, "ref_ids").to(device)
        all_ids = torch.cat((img_ids, ref_ids), dim=1)
    else:
        all_ids = img_ids
    config = getattr(model, "config", None)
    embedded_guidance = bool(getattr(config, "guidance_embed", False))
    cfg = guidance_scale is not None and uncond_txt is not None and not embedded_guidance
    if cfg:
        uncond_txt = _batched(uncond_txt, b, "uncond_txt")
        uncond_txt_ids = _batched(uncond_txt_ids if uncond_txt_ids is not None else txt_ids, b,
                                  "uncond_txt_ids").to(device)
    guidance = None
    if embedded_guidance:
        guidance = torch.full((b,), 1.0 if guidance_scale is None else float(guidance_scale), device=device)

    # Position embeddings do not change between steps: compute them once when the model can.
    rope = getattr(model, "rope", None)
    pe, pe_u = {}, {}
    if rope is not None:
        pe = {"img_pe": rope(all_ids), "txt_pe": rope(txt_ids)}
        pe_u = {"img_pe": pe["img_pe"], "txt_pe": rope(uncond_txt_ids)} if cfg else {}

    def predict(x_in: Tensor, t_vec: Tensor) -> Tensor:
        if ref is not None:
            x_in = torch.cat((x_in, ref.to(x_in.dtype)), dim=1)
        if not cfg:
            return model(x_in, all_ids, txt, txt_ids, t_vec, guidance=guidance, **pe)[:, :n]
        if uncond_txt.shape[1:] == txt.shape[1:]:
            both = {k: tuple(torch.cat((pe_u[k][i].expand(b, *pe_u[k][i].shape[1:]),
                                        pe[k][i].expand(b, *pe[k][i].shape[1:]))) for i in range(2))
                    for k in pe}
            out = model(torch.cat((x_in, x_in)), torch.cat((all_ids, all_ids)),
                        torch.cat((uncond_txt, txt)), torch.cat((uncond_txt_ids, txt_ids)),
                        torch.cat((t_vec, t_vec)), **both)[:, :n]
            pred_u, pred_c = out.chunk(2)
        else:
            pred_u = model(x_in, all_ids, uncond_txt, uncond_txt_ids, t_vec, **pe_u)[:, :n]
            pred_c = model(x_in, all_ids, txt, txt_ids, t_vec, **pe)[:, :n]
        pred_u, pred_c = pred_u.float(), pred_c.float()
        return pred_u + float(guidance_scale) * (pred_c - pred_u)

    x = img.float()
    for step, (t_curr, t_next) in enumerate(zip(schedule[:-1], schedule[1:]), start=1):
        t_vec = torch.full((b,), float(t_curr), device=device, dtype=torch.float32)
        pred = predict(x.to(img.dtype), t_vec)
        x = x + (float(t_next) - float(t_curr)) * pred.float().to(device)
        if on_step is not None:
            on_step(step, steps)
    return x.to(img.dtype)
