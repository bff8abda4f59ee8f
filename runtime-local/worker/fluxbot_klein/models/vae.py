"""The FLUX.2 autoencoder: encoder, decoder, 2x2 patchify and BatchNorm latent normalisation.

Modules carry BFL's key names (the `ae.safetensors` that BFL's `flux2` code loads with
`load_state_dict(strict=True)`): `encoder.down.N.block.M.conv1`, `encoder.mid.attn_1.q`
(1x1 convs), `encoder.quant_conv`, `decoder.post_quant_conv`, `decoder.up.N...`, `bn.running_mean`.
Diffusers' names, shapes and building from a state dict: `fluxbot_klein.checkpoint.vae`.

Latents: `encode` takes the mean of the posterior (no sampling), patchifies 2x2 so that channel
`4*c + 2*pi + pj` holds `z[c, 2*i + pi, 2*j + pj]`, then normalises with the stored BatchNorm
running statistics, `(z - mean) / sqrt(var + 1e-4)`; `decode` inverts both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GROUPS = 32
GROUP_NORM_EPS = 1e-6
BN_EPS = 1e-4
PATCH = 2


@dataclass(frozen=True)
class VaeConfig:
    """Shape of a FLUX.2 autoencoder."""

    in_channels: int = 3
    out_channels: int = 3
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    z_channels: int = 32
    quant_conv: bool = True

    @classmethod
    def klein(cls) -> VaeConfig:
        """The FLUX.2 VAE shared by every klein model (and FLUX.2 [dev])."""
        return cls()

    @classmethod
    def tiny(cls) -> VaeConfig:
        """A small VAE for tests: 8x down with three downsamplings, 32 latent channels."""
        return cls(ch=32, ch_mult=(1, 1, 1, 1), num_res_blocks=1, z_channels=32)

    @property
    def latent_channels(self) -> int:
        """Channels after the 2x2 patchify (128 for FLUX.2)."""
        return self.z_channels * PATCH * PATCH

    @property
    def downscale(self) -> int:
        """Pixels per latent position after patchify (16 for FLUX.2)."""
        return (2 ** (len(self.ch_mult) - 1)) * PATCH


# ----------------------------------------------------------------------------- layers


def _conv(cin: int, cout: int, k: int, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=padding, device="meta")


def _norm(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(GROUPS, c, eps=GROUP_NORM_EPS, affine=True, device="meta")


class ResnetBlock(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.norm1 = _norm(cin)
        self.conv1 = _conv(cin, cout, 3, padding=1)
        self.norm2 = _norm(cout)
        self.conv2 = _conv(cout, cout, 3, padding=1)
        self.nin_shortcut = _conv(cin, cout, 1) if cin != cout else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


def _attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Single-head attention over [B, N, C]; softmax(q k^T / sqrt(C)) v."""
    sdpa = getattr(F, "scaled_dot_product_attention", None)
    if sdpa is not None:  # 4-D [B, 1, N, C] lets PyTorch 2.x pick a fused kernel
        return sdpa(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)).squeeze(1)
    scale = 1.0 / math.sqrt(q.shape[-1])
    out = torch.empty_like(q)
    chunk = 1024  # queries per step: bounds the score matrix for large images
    for s in range(0, q.shape[1], chunk):
        scores = torch.matmul(q[:, s:s + chunk], k.transpose(1, 2)) * scale
        out[:, s:s + chunk] = torch.matmul(scores.softmax(dim=-1), v)
    return out


class AttnBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm = _norm(c)
        self.q = _conv(c, c, 1)
        self.k = _conv(c, c, 1)
        self.v = _conv(c, c, 1)
        self.proj_out = _conv(c, c, 1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        n = self.norm(x)
        q = self.q(n).reshape(b, c, h * w).transpose(1, 2)
        k = self.k(n).reshape(b, c, h * w).transpose(1, 2)
        v = self.v(n).reshape(b, c, h * w).transpose(1, 2)
        a = _attention(q.contiguous(), k.contiguous(), v.contiguous())
        a = a.transpose(1, 2).reshape(b, c, h, w)
        return x + self.proj_out(a)


class Downsample(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = _conv(c, c, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        # asymmetric: one zero column on the right, one zero row at the bottom
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = _conv(c, c, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class _Mid(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.block_1 = ResnetBlock(c, c)
        self.attn_1 = AttnBlock(c)
        self.block_2 = ResnetBlock(c, c)

    def forward(self, x: Tensor) -> Tensor:
        return self.block_2(self.attn_1(self.block_1(x)))


class _Level(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        ch, mult = config.ch, config.ch_mult
        self.conv_in = _conv(config.in_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(mult):
            level = _Level()
            level.block = nn.ModuleList()
            for _ in range(config.num_res_blocks):
                level.block.append(ResnetBlock(cin, ch * m))
                cin = ch * m
            if i != len(mult) - 1:
                level.downsample = Downsample(cin)
            self.down.append(level)
        self.mid = _Mid(cin)
        self.norm_out = _norm(cin)
        self.conv_out = _conv(cin, 2 * config.z_channels, 3, padding=1)
        z2 = 2 * config.z_channels
        self.quant_conv = _conv(z2, z2, 1) if config.quant_conv else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv_in(x)
        for level in self.down:
            for block in level.block:
                h = block(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        h = self.mid(h)
        h = self.conv_out(F.silu(self.norm_out(h)))
        if self.quant_conv is not None:
            h = self.quant_conv(h)
        return h


class Decoder(nn.Module):
    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        ch, mult, z = config.ch, config.ch_mult, config.z_channels
        self.post_quant_conv = _conv(z, z, 1) if config.quant_conv else None
        cin = ch * mult[-1]
        self.conv_in = _conv(z, cin, 3, padding=1)
        self.mid = _Mid(cin)
        levels = [None] * len(mult)
        for i in reversed(range(len(mult))):
            level = _Level()
            level.block = nn.ModuleList()
            for _ in range(config.num_res_blocks + 1):
                level.block.append(ResnetBlock(cin, ch * mult[i]))
                cin = ch * mult[i]
            if i != 0:
                level.upsample = Upsample(cin)
            levels[i] = level
        self.up = nn.ModuleList(levels)
        self.norm_out = _norm(cin)
        self.conv_out = _conv(cin, config.out_channels, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        if self.post_quant_conv is not None:
            z = self.post_quant_conv(z)
        h = self.mid(self.conv_in(z))
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            for block in level.block:
                h = block(h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class _BatchNormStats(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.register_buffer("running_mean", torch.empty(c, device="meta"))
        self.register_buffer("running_var", torch.empty(c, device="meta"))


# ----------------------------------------------------------------------------- latents


def patchify(z: Tensor) -> Tensor:
    """[B, C, 2h, 2w] -> [B, 4C, h, w]; output channel 4*c + 2*pi + pj = z[c, 2i+pi, 2j+pj]."""
    b, c, h, w = z.shape
    if h % PATCH or w % PATCH:
        raise ValueError(f"patchify needs even height and width, got {h}x{w}")
    z = z.reshape(b, c, h // PATCH, PATCH, w // PATCH, PATCH)
    return z.permute(0, 1, 3, 5, 2, 4).reshape(b, c * PATCH * PATCH, h // PATCH, w // PATCH)


def unpatchify(z: Tensor) -> Tensor:
    """Inverse of `patchify`: [B, 4C, h, w] -> [B, C, 2h, 2w]."""
    b, c4, h, w = z.shape
    if c4 % (PATCH * PATCH):
        raise ValueError(f"unpatchify needs channels divisible by 4, got {c4}")
    c = c4 // (PATCH * PATCH)
    z = z.reshape(b, c, PATCH, PATCH, h, w).permute(0, 1, 4, 2, 5, 3)
    return z.reshape(b, c, h * PATCH, w * PATCH)


class Flux2Vae(nn.Module):
    """FLUX.2 autoencoder with BFL key names; build it with `checkpoint.vae.build_vae`."""

    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.bn = _BatchNormStats(config.latent_channels)

    @property
    def dtype(self) -> torch.dtype:
        return self.encoder.conv_in.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.encoder.conv_in.weight.device

    def _stats(self, device: torch.device) -> tuple[Tensor, Tensor]:
        mean = self.bn.running_mean.to(device=device, dtype=torch.float32).view(1, -1, 1, 1)
        var = self.bn.running_var.to(device=device, dtype=torch.float32).view(1, -1, 1, 1)
        return mean, torch.sqrt(var + BN_EPS)

    def normalize(self, z: Tensor) -> Tensor:
        """Patchified latents -> model latents, `(z - mean) / sqrt(var + eps)` in float32."""
        mean, std = self._stats(z.device)
        return (z.float() - mean) / std

    def denormalize(self, z: Tensor) -> Tensor:
        """Inverse of `normalize`, in float32."""
        mean, std = self._stats(z.device)
        return z.float() * std + mean

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """Images [B, 3, H, W] in [-1, 1] (H, W multiples of 16) -> float32 latents [B, 128, H/16, W/16]."""
        if x.dim() != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"encode expects [B, {self.config.in_channels}, H, W], got {tuple(x.shape)}")
        step = self.config.downscale
        if x.shape[2] % step or x.shape[3] % step:
            raise ValueError(f"encode needs height and width multiples of {step}, got {x.shape[2]}x{x.shape[3]}")
        moments = self.encoder(x.to(device=self.device, dtype=self.dtype))
        mean = moments[:, : self.config.z_channels]  # latent mode: the posterior mean, no sampling
        return self.normalize(patchify(mean.float()))

    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        """Latents [B, 128, h, w] -> float32 images [B, 3, 16h, 16w] clamped to [-1, 1]."""
        if z.dim() != 4 or z.shape[1] != self.config.latent_channels:
            raise ValueError(f"decode expects [B, {self.config.latent_channels}, h, w], got {tuple(z.shape)}")
        z = unpatchify(self.denormalize(z.to(self.device)))
        x = self.decoder(z.to(self.dtype))
        return x.float().clamp_(-1.0, 1.0)
