"""The FLUX.2 autoencoder: encoder, decoder, 2x2 patchify and BatchNorm latent normalisation.

Modules carry BFL's key names (the `ae.safetensors` that BFL's `flux2` code loads with
`load_state_dict(strict=True)`): `encoder.down.N.block.M.conv1`, `encoder.mid.attn_1.q`
(1x1 convs), `encoder.quant_conv`, `decoder.post_quant_conv`, `decoder.up.N...`, `bn.running_mean`.
The Hugging Face `vae/` folder (diffusers `AutoencoderKLFlux2`) names the same tensors
`encoder.down_blocks.N.resnets.M`, `mid_block.attentions.0.to_q` (linear weights),
top-level `quant_conv`/`post_quant_conv`, and numbers the decoder's up blocks in reverse;
`to_bfl_vae_names` / `to_diffusers_vae_names` convert between the two.

Latents: `encode` takes the mean of the posterior (no sampling), patchifies 2x2 so that channel
`4*c + 2*pi + pj` holds `z[c, 2*i + pi, 2*j + pj]`, then normalises with the stored BatchNorm
running statistics, `(z - mean) / sqrt(var + 1e-4)`; `decode` inverts both.
"""

import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .errors import CheckpointError

GROUPS = 32
GROUP_NORM_EPS = 1e-6
BN_EPS = 1e-4
PATCH = 2

# Present in some files (diffusers' save_pretrained writes BatchNorm's counter), never needed.
OPTIONAL_KEYS = ("bn.num_batches_tracked",)


@dataclass(frozen=True)
class VaeConfig:
    """Shape of a FLUX.2 autoencoder."""

    in_channels: int = 3
    out_channels: int = 3
    ch: int = 128
    ch_mult: tuple = (1, 2, 4, 4)
    num_res_blocks: int = 2
    z_channels: int = 32
    quant_conv: bool = True

    @classmethod
    def klein(cls):
        """The FLUX.2 VAE shared by every klein model (and FLUX.2 [dev])."""
        return cls()

    @classmethod
    def tiny(cls):
        """A small VAE for tests: 8x down with three downsamplings, 32 latent channels."""
        return cls(ch=32, ch_mult=(1, 1, 1, 1), num_res_blocks=1, z_channels=32)

    @property
    def latent_channels(self):
        """Channels after the 2x2 patchify (128 for FLUX.2)."""
        return self.z_channels * PATCH * PATCH

    @property
    def downscale(self):
        """Pixels per latent position after patchify (16 for FLUX.2)."""
        return (2 ** (len(self.ch_mult) - 1)) * PATCH


# ----------------------------------------------------------------------------- layers


def _conv(cin, cout, k, stride=1, padding=0):
    return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=padding, device="meta")


def _norm(c):
    return nn.GroupNorm(GROUPS, c, eps=GROUP_NORM_EPS, affine=True, device="meta")


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = _norm(cin)
        self.conv1 = _conv(cin, cout, 3, padding=1)
        self.norm2 = _norm(cout)
        self.conv2 = _conv(cout, cout, 3, padding=1)
        self.nin_shortcut = _conv(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


def _attention(q, k, v):
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
    def __init__(self, c):
        super().__init__()
        self.norm = _norm(c)
        self.q = _conv(c, c, 1)
        self.k = _conv(c, c, 1)
        self.v = _conv(c, c, 1)
        self.proj_out = _conv(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        n = self.norm(x)
        q = self.q(n).reshape(b, c, h * w).transpose(1, 2)
        k = self.k(n).reshape(b, c, h * w).transpose(1, 2)
        v = self.v(n).reshape(b, c, h * w).transpose(1, 2)
        a = _attention(q.contiguous(), k.contiguous(), v.contiguous())
        a = a.transpose(1, 2).reshape(b, c, h, w)
        return x + self.proj_out(a)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = _conv(c, c, 3, stride=2)

    def forward(self, x):
        # asymmetric: one zero column on the right, one zero row at the bottom
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = _conv(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class _Mid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1 = ResnetBlock(c, c)
        self.attn_1 = AttnBlock(c)
        self.block_2 = ResnetBlock(c, c)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class _Level(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, config):
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

    def forward(self, x):
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
    def __init__(self, config):
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

    def forward(self, z):
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
    def __init__(self, c):
        super().__init__()
        self.register_buffer("running_mean", torch.empty(c, device="meta"))
        self.register_buffer("running_var", torch.empty(c, device="meta"))


# ----------------------------------------------------------------------------- latents


def patchify(z):
    """[B, C, 2h, 2w] -> [B, 4C, h, w]; output channel 4*c + 2*pi + pj = z[c, 2i+pi, 2j+pj]."""
    b, c, h, w = z.shape
    if h % PATCH or w % PATCH:
        raise ValueError(f"patchify needs even height and width, got {h}x{w}")
    z = z.reshape(b, c, h // PATCH, PATCH, w // PATCH, PATCH)
    return z.permute(0, 1, 3, 5, 2, 4).reshape(b, c * PATCH * PATCH, h // PATCH, w // PATCH)


def unpatchify(z):
    """Inverse of `patchify`: [B, 4C, h, w] -> [B, C, 2h, 2w]."""
    b, c4, h, w = z.shape
    if c4 % (PATCH * PATCH):
        raise ValueError(f"unpatchify needs channels divisible by 4, got {c4}")
    c = c4 // (PATCH * PATCH)
    z = z.reshape(b, c, PATCH, PATCH, h, w).permute(0, 1, 4, 2, 5, 3)
    return z.reshape(b, c, h * PATCH, w * PATCH)


class Flux2Vae(nn.Module):
    """FLUX.2 autoencoder with BFL key names; build it with `build_vae`."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.bn = _BatchNormStats(config.latent_channels)

    @property
    def dtype(self):
        return self.encoder.conv_in.weight.dtype

    @property
    def device(self):
        return self.encoder.conv_in.weight.device

    def _stats(self, device):
        mean = self.bn.running_mean.to(device=device, dtype=torch.float32).view(1, -1, 1, 1)
        var = self.bn.running_var.to(device=device, dtype=torch.float32).view(1, -1, 1, 1)
        return mean, torch.sqrt(var + BN_EPS)

    def normalize(self, z):
        """Patchified latents -> model latents, `(z - mean) / sqrt(var + eps)` in float32."""
        mean, std = self._stats(z.device)
        return (z.float() - mean) / std

    def denormalize(self, z):
        """Inverse of `normalize`, in float32."""
        mean, std = self._stats(z.device)
        return z.float() * std + mean

    @torch.no_grad()
    def encode(self, x):
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
    def decode(self, z):
        """Latents [B, 128, h, w] -> float32 images [B, 3, 16h, 16w] clamped to [-1, 1]."""
        if z.dim() != 4 or z.shape[1] != self.config.latent_channels:
            raise ValueError(f"decode expects [B, {self.config.latent_channels}, h, w], got {tuple(z.shape)}")
        z = unpatchify(self.denormalize(z.to(self.device)))
        x = self.decoder(z.to(self.dtype))
        return x.float().clamp_(-1.0, 1.0)


# ----------------------------------------------------------------------------- names and shapes


def expected_shapes(config, layout="bfl"):
    """Every tensor the VAE needs, name -> shape, in `layout` ("bfl" or "diffusers")."""
    shapes = {}

    def conv(name, cout, cin, k):
        shapes[name + ".weight"] = (cout, cin, k, k)
        shapes[name + ".bias"] = (cout,)

    def norm(name, c):
        shapes[name + ".weight"] = (c,)
        shapes[name + ".bias"] = (c,)

    def resnet(name, cin, cout):
        norm(name + ".norm1", cin)
        conv(name + ".conv1", cout, cin, 3)
        norm(name + ".norm2", cout)
        conv(name + ".conv2", cout, cout, 3)
        if cin != cout:
            conv(name + ".nin_shortcut", cout, cin, 1)

    def mid(name, c):
        resnet(name + ".block_1", c, c)
        norm(name + ".attn_1.norm", c)
        for p in ("q", "k", "v", "proj_out"):
            conv(f"{name}.attn_1.{p}", c, c, 1)
        resnet(name + ".block_2", c, c)

    ch, mult, z = config.ch, config.ch_mult, config.z_channels
    conv("encoder.conv_in", ch, config.in_channels, 3)
    cin = ch
    for i, m in enumerate(mult):
        for j in range(config.num_res_blocks):
            resnet(f"encoder.down.{i}.block.{j}", cin, ch * m)
            cin = ch * m
        if i != len(mult) - 1:
            conv(f"encoder.down.{i}.downsample.conv", cin, cin, 3)
    mid("encoder.mid", cin)
    norm("encoder.norm_out", cin)
    conv("encoder.conv_out", 2 * z, cin, 3)
    if config.quant_conv:
        conv("encoder.quant_conv", 2 * z, 2 * z, 1)
        conv("decoder.post_quant_conv", z, z, 1)
    cin = ch * mult[-1]
    conv("decoder.conv_in", cin, z, 3)
    mid("decoder.mid", cin)
    for i in reversed(range(len(mult))):
        for j in range(config.num_res_blocks + 1):
            resnet(f"decoder.up.{i}.block.{j}", cin, ch * mult[i])
            cin = ch * mult[i]
        if i != 0:
            conv(f"decoder.up.{i}.upsample.conv", cin, cin, 3)
    norm("decoder.norm_out", cin)
    conv("decoder.conv_out", config.out_channels, cin, 3)
    shapes["bn.running_mean"] = (config.latent_channels,)
    shapes["bn.running_var"] = (config.latent_channels,)
    if layout == "bfl":
        return shapes
    if layout == "diffusers":
        return to_diffusers_vae_names(shapes)
    raise ValueError(f"unknown VAE layout {layout!r}; use 'bfl' or 'diffusers'")


def detect_vae_layout(shapes):
    """"bfl" or "diffusers" from the tensor names; CheckpointError when neither."""
    names = list(shapes)
    if any(n.startswith(("encoder.down_blocks.", "encoder.mid_block.", "decoder.up_blocks.")) for n in names):
        return "diffusers"
    if any(n.startswith(("encoder.down.", "encoder.mid.", "decoder.up.")) for n in names):
        return "bfl"
    sample = ", ".join(sorted(names)[:5]) or "no tensors"
    raise CheckpointError(
        "not a FLUX.2 VAE: expected tensors named encoder.down.* (BFL ae.safetensors) or "
        f"encoder.down_blocks.* (diffusers vae/ folder), found {len(names)} tensors ({sample}...)"
    )


_ATTN_B2D = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}
_ATTN_D2B = {v: k for k, v in _ATTN_B2D.items()}
_TOP_B2D = {"encoder.norm_out": "encoder.conv_norm_out", "decoder.norm_out": "decoder.conv_norm_out",
            "encoder.quant_conv": "quant_conv", "decoder.post_quant_conv": "post_quant_conv"}
_TOP_D2B = {v: k for k, v in _TOP_B2D.items()}


def _levels(names, pattern):
    found = [int(m.group(1)) for m in (re.match(pattern, n) for n in names) if m]
    return max(found) + 1 if found else 0


def _squeeze(value):
    """A 1x1 conv weight -> a linear weight (tensor or shape tuple)."""
    if isinstance(value, torch.Tensor):
        return value.reshape(value.shape[0], value.shape[1]) if value.dim() == 4 else value
    value = tuple(value)
    return value[:2] if len(value) == 4 else value


def _unsqueeze(value):
    """A linear weight -> a 1x1 conv weight (tensor or shape tuple)."""
    if isinstance(value, torch.Tensor):
        return value.reshape(value.shape[0], value.shape[1], 1, 1) if value.dim() == 2 else value
    value = tuple(value)
    return value + (1, 1) if len(value) == 2 else value


def _resnet_part_b2d(rest):
    return rest.replace("nin_shortcut.", "conv_shortcut.", 1) if rest.startswith("nin_shortcut.") else rest


def _resnet_part_d2b(rest):
    return rest.replace("conv_shortcut.", "nin_shortcut.", 1) if rest.startswith("conv_shortcut.") else rest


def _bfl_to_diffusers_name(name, up_levels):
    """(diffusers name, whether the value becomes a linear weight)."""
    for old, new in _TOP_B2D.items():
        if name.startswith(old + "."):
            return new + name[len(old):], False
    m = re.match(r"encoder\.down\.(\d+)\.block\.(\d+)\.(.+)$", name)
    if m:
        return f"encoder.down_blocks.{m.group(1)}.resnets.{m.group(2)}.{_resnet_part_b2d(m.group(3))}", False
    m = re.match(r"encoder\.down\.(\d+)\.downsample\.(.+)$", name)
    if m:
        return f"encoder.down_blocks.{m.group(1)}.downsamplers.0.{m.group(2)}", False
    m = re.match(r"decoder\.up\.(\d+)\.block\.(\d+)\.(.+)$", name)
    if m:
        i = up_levels - 1 - int(m.group(1))
        return f"decoder.up_blocks.{i}.resnets.{m.group(2)}.{_resnet_part_b2d(m.group(3))}", False
    m = re.match(r"decoder\.up\.(\d+)\.upsample\.(.+)$", name)
    if m:
        return f"decoder.up_blocks.{up_levels - 1 - int(m.group(1))}.upsamplers.0.{m.group(2)}", False
    m = re.match(r"(encoder|decoder)\.mid\.block_([12])\.(.+)$", name)
    if m:
        idx = int(m.group(2)) - 1
        return f"{m.group(1)}.mid_block.resnets.{idx}.{_resnet_part_b2d(m.group(3))}", False
    m = re.match(r"(encoder|decoder)\.mid\.attn_1\.(norm|q|k|v|proj_out)\.(.+)$", name)
    if m:
        new = f"{m.group(1)}.mid_block.attentions.0.{_ATTN_B2D[m.group(2)]}.{m.group(3)}"
        return new, m.group(2) != "norm" and m.group(3) == "weight"
    return name, False


def _diffusers_to_bfl_name(name, up_levels):
    """(BFL name, whether the value becomes a 1x1 conv weight)."""
    for old, new in _TOP_D2B.items():
        if name.startswith(old + "."):
            return new + name[len(old):], False
    m = re.match(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$", name)
    if m:
        return f"encoder.down.{m.group(1)}.block.{m.group(2)}.{_resnet_part_d2b(m.group(3))}", False
    m = re.match(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.(.+)$", name)
    if m:
        return f"encoder.down.{m.group(1)}.downsample.{m.group(2)}", False
    m = re.match(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$", name)
    if m:
        i = up_levels - 1 - int(m.group(1))
        return f"decoder.up.{i}.block.{m.group(2)}.{_resnet_part_d2b(m.group(3))}", False
    m = re.match(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.(.+)$", name)
    if m:
        return f"decoder.up.{up_levels - 1 - int(m.group(1))}.upsample.{m.group(2)}", False
    m = re.match(r"(encoder|decoder)\.mid_block\.resnets\.([01])\.(.+)$", name)
    if m:
        idx = int(m.group(2)) + 1
        return f"{m.group(1)}.mid.block_{idx}.{_resnet_part_d2b(m.group(3))}", False
    m = re.match(r"(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(.+)$", name)
    if m:
        new = f"{m.group(1)}.mid.attn_1.{_ATTN_D2B[m.group(2)]}.{m.group(3)}"
        return new, m.group(2) != "group_norm" and m.group(3) == "weight"
    return name, False


def to_diffusers_vae_names(state):
    """BFL names -> diffusers names (values: tensors or shape tuples; attention weights squeezed)."""
    if detect_vae_layout(state) == "diffusers":
        return dict(state)
    up_levels = _levels(state, r"decoder\.up\.(\d+)\.")
    out = {}
    for name, value in state.items():
        new, linear = _bfl_to_diffusers_name(name, up_levels)
        out[new] = _squeeze(value) if linear else value
    return out


def to_bfl_vae_names(state):
    """Diffusers names -> BFL names (values: tensors or shape tuples; attention weights made 1x1 convs)."""
    if detect_vae_layout(state) == "bfl":
        return dict(state)
    up_levels = _levels(state, r"decoder\.up_blocks\.(\d+)\.")
    out = {}
    for name, value in state.items():
        new, conv = _diffusers_to_bfl_name(name, up_levels)
        out[new] = _unsqueeze(value) if conv else value
    return out


# ----------------------------------------------------------------------------- config and checks


def _shape(value):
    return tuple(value.shape) if isinstance(value, torch.Tensor) else tuple(value)


def _require(shapes, name, layout_hint):
    if name not in shapes:
        raise CheckpointError(
            f"FLUX.2 VAE tensor {name!r} is missing ({layout_hint}); the file is not a complete FLUX.2 "
            "autoencoder: use the ae.safetensors or vae/ folder that comes with the model"
        )
    return _shape(shapes[name])


def check_vae_shapes(shapes, config, what="VAE"):
    """CheckpointError naming the first missing or misshapen tensor, or unexpected extras (BFL names)."""
    expected = expected_shapes(config, "bfl")
    for name, shape in expected.items():
        if name not in shapes:
            raise CheckpointError(
                f"{what}: tensor {name!r} is missing; expected shape {list(shape)} for {config}. "
                "Use the complete FLUX.2 autoencoder file (ae.safetensors or the vae/ folder)"
            )
        found = _shape(shapes[name])
        if found != tuple(shape):
            raise CheckpointError(
                f"{what}: tensor {name!r} has shape {list(found)}, expected {list(shape)} for {config}; "
                "the file is another model or corrupted"
            )
    extra = sorted(n for n in shapes if n not in expected and n not in OPTIONAL_KEYS)
    if extra:
        raise CheckpointError(
            f"{what}: {len(extra)} tensors not in a FLUX.2 autoencoder of {config}: "
            f"{', '.join(extra[:5])}{'...' if len(extra) > 5 else ''}; the file is another model"
        )


def infer_vae_config(shapes, layout="bfl"):
    """VaeConfig from tensor shapes (name -> shape tuple or tensor); layout "bfl", "diffusers" or None (detect)."""
    if layout is None:
        layout = detect_vae_layout(shapes)
    if layout == "diffusers":
        shapes = to_bfl_vae_names(shapes)
    elif layout != "bfl":
        raise ValueError(f"unknown VAE layout {layout!r}; use 'bfl' or 'diffusers'")
    hint = "BFL names after mapping" if layout == "diffusers" else "BFL names"
    conv_in = _require(shapes, "encoder.conv_in.weight", hint)
    if len(conv_in) != 4:
        raise CheckpointError(f"FLUX.2 VAE tensor 'encoder.conv_in.weight' has shape {list(conv_in)}, expected 4 dims")
    ch, in_channels = conv_in[0], conv_in[1]
    levels = _levels(shapes, r"encoder\.down\.(\d+)\.")
    if levels == 0:
        raise CheckpointError("FLUX.2 VAE: no encoder.down.N tensors; the file is not a FLUX.2 autoencoder")
    num_res_blocks = _levels([n for n in shapes if n.startswith("encoder.down.0.")], r"encoder\.down\.0\.block\.(\d+)\.")
    if num_res_blocks == 0:
        raise CheckpointError("FLUX.2 VAE: no encoder.down.0.block.N tensors; the file is not a FLUX.2 autoencoder")
    mult = []
    for i in range(levels):
        cout = _require(shapes, f"encoder.down.{i}.block.0.conv1.weight", hint)[0]
        if cout % ch:
            raise CheckpointError(
                f"FLUX.2 VAE tensor 'encoder.down.{i}.block.0.conv1.weight' has {cout} output channels, "
                f"not a multiple of the base width {ch}"
            )
        mult.append(cout // ch)
    z2 = _require(shapes, "encoder.conv_out.weight", hint)[0]
    out_channels = _require(shapes, "decoder.conv_out.weight", hint)[0]
    config = VaeConfig(
        in_channels=in_channels,
        out_channels=out_channels,
        ch=ch,
        ch_mult=tuple(mult),
        num_res_blocks=num_res_blocks,
        z_channels=z2 // 2,
        quant_conv="encoder.quant_conv.weight" in shapes,
    )
    for c in sorted({ch * m for m in mult}):
        if c % GROUPS:
            raise CheckpointError(f"FLUX.2 VAE width {c} is not divisible by {GROUPS} (GroupNorm groups)")
    check_vae_shapes(shapes, config)
    return config


def build_vae(state, config, device="cpu", dtype=torch.float32):
    """Flux2Vae from a state dict with BFL names, on `device` in `dtype` (BatchNorm stats float32), eval mode."""
    check_vae_shapes(state, config)
    model = Flux2Vae(config)
    model.to_empty(device=device)
    model.to(dtype=dtype)
    model.bn.running_mean = torch.empty(config.latent_channels, device=device, dtype=torch.float32)
    model.bn.running_var = torch.empty(config.latent_channels, device=device, dtype=torch.float32)
    wanted = {k: v for k, v in state.items() if k not in OPTIONAL_KEYS}
    with torch.no_grad():
        model.load_state_dict(wanted, strict=True)
    if bool((model.bn.running_var < 0).any()):
        raise CheckpointError("FLUX.2 VAE tensor 'bn.running_var' has negative entries; the file is corrupted")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def tiny_vae_state(config, seed=0):
    """Random float32 weights with BFL names, scaled so activations stay near unit size."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in expected_shapes(config, "bfl").items():
        if name == "bn.running_mean":
            t = torch.randn(shape, generator=gen) * 0.5
        elif name == "bn.running_var":
            t = torch.rand(shape, generator=gen) * 1.5 + 0.5
        elif name.endswith(".weight") and len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            t = torch.randn(shape, generator=gen) / math.sqrt(fan_in)
        elif name.endswith(".weight"):  # GroupNorm scale
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:
            t = 0.02 * torch.randn(shape, generator=gen)
        state[name] = t
    return state
