"""The FLUX.2 [klein] transformer: its config and modules, whose parameters carry BFL's key names.

Architecture (BFL's `Flux2`): image and text inputs projected to the hidden size; a sinusoidal
timestep embedding (t in 0..1 scaled by 1000, 256 channels) through a two-layer MLP gives `vec`;
three shared modulations (double-stream image, double-stream text, single-stream) from `vec`;
double-stream blocks (separate weights per stream, joint attention), then single-stream blocks
(QKV fused with the SwiGLU MLP input, attention output fused with the MLP output); a final
adaLN layer. Every linear is bias-free; Q and K get an RMSNorm per head; 4-axis RoPE (T, H, W, L).
Checkpoint names, shapes and building from a state dict: `fluxbot_klein.checkpoint.transformer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import Device

TIME_EMBED_DIM = 256
TIME_FACTOR = 1000.0
MAX_PERIOD = 10000
NORM_EPS = 1e-6
MLP_RATIO = 3.0
ROPE_THETA = 2000

_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclass(frozen=True)
class TransformerConfig:
    """Shapes of a FLUX.2 transformer."""

    in_channels: int
    hidden_size: int
    num_heads: int
    head_dim: int
    depth_double: int
    depth_single: int
    context_in_dim: int
    mlp_hidden_dim: int
    axes_dim: tuple[int, ...]
    theta: int
    guidance_embed: bool

    @classmethod
    def klein_4b(cls) -> TransformerConfig:
        return cls(in_channels=128, hidden_size=3072, num_heads=24, head_dim=128, depth_double=5,
                   depth_single=20, context_in_dim=7680, mlp_hidden_dim=9216, axes_dim=(32, 32, 32, 32),
                   theta=ROPE_THETA, guidance_embed=False)

    @classmethod
    def klein_9b(cls) -> TransformerConfig:
        return cls(in_channels=128, hidden_size=4096, num_heads=32, head_dim=128, depth_double=8,
                   depth_single=24, context_in_dim=12288, mlp_hidden_dim=12288, axes_dim=(32, 32, 32, 32),
                   theta=ROPE_THETA, guidance_embed=False)

    @classmethod
    def tiny(cls, context_in_dim: int) -> TransformerConfig:
        """A small random-weight model for tests: hidden 64, 2 heads x 32, 2 + 2 blocks."""
        return cls(in_channels=128, hidden_size=64, num_heads=2, head_dim=32, depth_double=2,
                   depth_single=2, context_in_dim=int(context_in_dim), mlp_hidden_dim=192,
                   axes_dim=(8, 8, 8, 8), theta=ROPE_THETA, guidance_embed=False)

    @property
    def model_name(self) -> str:
        if self == TransformerConfig.klein_4b():
            return "klein-4b"
        if self == TransformerConfig.klein_9b():
            return "klein-9b"
        return "custom"

    def parameter_count(self) -> int:
        # counted on the meta device: no memory, the model's own parameter list
        return sum(p.numel() for p in Flux2Transformer(self, device="meta").parameters())


# ---------------------------------------------------------------------------------------------
# Building blocks


def timestep_embedding(t: Tensor, dim: int = TIME_EMBED_DIM, max_period: float = MAX_PERIOD,
                       time_factor: float = TIME_FACTOR) -> Tensor:
    """Sinusoidal embedding of t (B,) in 0..1: [cos, sin] of 1000·t times geometric frequencies.

    1000·t is computed in t's own dtype, as BFL's reference does with the model's dtype (in bf16,
    t = 0.7 becomes 700, not 699.2); the sines and cosines in float32.
    """
    t = (t * time_factor).float()
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def rope_embedding(ids: Tensor, axes_dim: tuple[int, ...], theta: float) -> tuple[Tensor, Tensor]:
    """(cos, sin) for position ids [B, N, len(axes_dim)] -> each [B, 1, N, sum(axes_dim)/2], float32."""
    if ids.dim() == 2:
        ids = ids[None]
    pos = ids.to(torch.float64)
    angles = []
    for i, d in enumerate(axes_dim):
        omega = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64, device=ids.device) / d))
        angles.append(pos[..., i, None] * omega)
    angle = torch.cat(angles, dim=-1)[:, None]
    return torch.cos(angle).float(), torch.sin(angle).float()


def apply_rope(x: Tensor, pe: tuple[Tensor, Tensor]) -> Tensor:
    """Rotate adjacent pairs (x[2i], x[2i+1]) of x [B, H, N, D] by the angles in pe."""
    cos, sin = pe
    xf = x.float().reshape(*x.shape[:-1], -1, 2)
    x0, x1 = xf[..., 0], xf[..., 1]
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    return out.reshape(x.shape).type_as(x)


def attention(q: Tensor, k: Tensor, v: Tensor, pe: tuple[Tensor, Tensor]) -> Tensor:
    """RoPE then softmax attention; q, k, v [B, H, N, D] -> [B, N, H*D]."""
    q, k = apply_rope(q, pe), apply_rope(k, pe)
    if _HAS_SDPA:
        x = F.scaled_dot_product_attention(q, k, v)
    else:
        scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * (q.shape[-1] ** -0.5)
        x = torch.matmul(scores.softmax(dim=-1), v.float()).to(v.dtype)
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


def _split_heads(qkv: Tensor, num_heads: int) -> tuple[Tensor, Tensor, Tensor]:
    b, n, _ = qkv.shape
    qkv = qkv.reshape(b, n, 3, num_heads, -1).permute(2, 0, 3, 1, 4)
    return qkv[0], qkv[1], qkv[2]


def _linear(i: int, o: int, device: Device | None) -> nn.Linear:
    return nn.Linear(i, o, bias=False, device=device)


def _layer_norm(x: Tensor) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], eps=NORM_EPS)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, device: Device | None = None) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim, device=device))

    def forward(self, x: Tensor) -> Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + NORM_EPS)
        return xf.to(x.dtype) * self.scale


class QKNorm(nn.Module):
    def __init__(self, dim: int, device: Device | None = None) -> None:
        super().__init__()
        self.query_norm = RMSNorm(dim, device)
        self.key_norm = RMSNorm(dim, device)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return self.query_norm(q).to(v.dtype), self.key_norm(k).to(v.dtype)


class SelfAttention(nn.Module):
    def __init__(self, hidden: int, head_dim: int, device: Device | None = None) -> None:
        super().__init__()
        self.qkv = _linear(hidden, 3 * hidden, device)
        self.norm = QKNorm(head_dim, device)
        self.proj = _linear(hidden, hidden, device)


class SwiGLU(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=-1)
        return F.silu(a) * b


class MLPEmbedder(nn.Module):
    def __init__(self, in_dim: int, hidden: int, device: Device | None = None) -> None:
        super().__init__()
        self.in_layer = _linear(in_dim, hidden, device)
        self.out_layer = _linear(hidden, hidden, device)

    def forward(self, x: Tensor) -> Tensor:
        return self.out_layer(F.silu(self.in_layer(x)))


class Modulation(nn.Module):
    def __init__(self, hidden: int, double: bool, device: Device | None = None) -> None:
        super().__init__()
        self.count = 6 if double else 3
        self.lin = _linear(hidden, self.count * hidden, device)

    def forward(self, vec: Tensor) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...] | None]:
        out = self.lin(F.silu(vec))[:, None, :].chunk(self.count, dim=-1)
        return out[:3], (out[3:] if self.count == 6 else None)


class DoubleStreamBlock(nn.Module):
    def __init__(self, c: TransformerConfig, device: Device | None = None) -> None:
        super().__init__()
        self.num_heads = c.num_heads
        for stream in ("img", "txt"):
            setattr(self, f"{stream}_attn", SelfAttention(c.hidden_size, c.head_dim, device))
            setattr(self, f"{stream}_mlp", nn.Sequential(
                _linear(c.hidden_size, 2 * c.mlp_hidden_dim, device), SwiGLU(),
                _linear(c.mlp_hidden_dim, c.hidden_size, device)))

    def _qkv(self, attn: SelfAttention, x: Tensor, mod: tuple[Tensor, ...]) -> tuple[Tensor, Tensor, Tensor]:
        shift, scale, _ = mod
        q, k, v = _split_heads(attn.qkv((1 + scale) * _layer_norm(x) + shift), self.num_heads)
        q, k = attn.norm(q, k, v)
        return q, k, v

    def forward(self, img: Tensor, txt: Tensor, pe: tuple[Tensor, Tensor], mod_img: tuple, mod_txt: tuple
                ) -> tuple[Tensor, Tensor]:
        (img1, img2), (txt1, txt2) = mod_img, mod_txt
        iq, ik, iv = self._qkv(self.img_attn, img, img1)
        tq, tk, tv = self._qkv(self.txt_attn, txt, txt1)
        out = attention(torch.cat((tq, iq), 2), torch.cat((tk, ik), 2), torch.cat((tv, iv), 2), pe)
        txt_out, img_out = out[:, :txt.shape[1]], out[:, txt.shape[1]:]
        img = img + img1[2] * self.img_attn.proj(img_out)
        img = img + img2[2] * self.img_mlp((1 + img2[1]) * _layer_norm(img) + img2[0])
        txt = txt + txt1[2] * self.txt_attn.proj(txt_out)
        txt = txt + txt2[2] * self.txt_mlp((1 + txt2[1]) * _layer_norm(txt) + txt2[0])
        return img, txt


class SingleStreamBlock(nn.Module):
    def __init__(self, c: TransformerConfig, device: Device | None = None) -> None:
        super().__init__()
        self.num_heads = c.num_heads
        self.hidden = c.hidden_size
        self.linear1 = _linear(c.hidden_size, 3 * c.hidden_size + 2 * c.mlp_hidden_dim, device)
        self.linear2 = _linear(c.hidden_size + c.mlp_hidden_dim, c.hidden_size, device)
        self.norm = QKNorm(c.head_dim, device)
        self.mlp_act = SwiGLU()

    def forward(self, x: Tensor, pe: tuple[Tensor, Tensor], mod: tuple[Tensor, ...]) -> Tensor:
        shift, scale, gate = mod
        qkv, mlp = torch.split(self.linear1((1 + scale) * _layer_norm(x) + shift),
                               [3 * self.hidden, self.linear1.out_features - 3 * self.hidden], dim=-1)
        q, k, v = _split_heads(qkv, self.num_heads)
        q, k = self.norm(q, k, v)
        out = self.linear2(torch.cat((attention(q, k, v, pe), self.mlp_act(mlp)), dim=2))
        return x + gate * out


class LastLayer(nn.Module):
    def __init__(self, hidden: int, out_channels: int, device: Device | None = None) -> None:
        super().__init__()
        self.linear = _linear(hidden, out_channels, device)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), _linear(hidden, 2 * hidden, device))

    def forward(self, x: Tensor, vec: Tensor) -> Tensor:
        shift, scale = self.adaLN_modulation(vec)[:, None, :].chunk(2, dim=-1)
        return self.linear((1 + scale) * _layer_norm(x) + shift)


class Flux2Transformer(nn.Module):
    """FLUX.2 transformer; parameter names are BFL's checkpoint keys."""

    def __init__(self, config: TransformerConfig, device: Device | None = None) -> None:
        super().__init__()
        c = self.config = config
        if c.num_heads * c.head_dim != c.hidden_size or sum(c.axes_dim) != c.head_dim:
            raise ValueError(f"inconsistent config: {c.num_heads} heads x {c.head_dim} != hidden "
                             f"{c.hidden_size} or axes {c.axes_dim} do not sum to the head dim")
        self.img_in = _linear(c.in_channels, c.hidden_size, device)
        self.txt_in = _linear(c.context_in_dim, c.hidden_size, device)
        self.time_in = MLPEmbedder(TIME_EMBED_DIM, c.hidden_size, device)
        if c.guidance_embed:
            self.guidance_in = MLPEmbedder(TIME_EMBED_DIM, c.hidden_size, device)
        self.double_stream_modulation_img = Modulation(c.hidden_size, True, device)
        self.double_stream_modulation_txt = Modulation(c.hidden_size, True, device)
        self.single_stream_modulation = Modulation(c.hidden_size, False, device)
        self.double_blocks = nn.ModuleList([DoubleStreamBlock(c, device) for _ in range(c.depth_double)])
        self.single_blocks = nn.ModuleList([SingleStreamBlock(c, device) for _ in range(c.depth_single)])
        self.final_layer = LastLayer(c.hidden_size, c.in_channels, device)

    @property
    def dtype(self) -> torch.dtype:
        return self.img_in.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.img_in.weight.device

    def rope(self, ids: Tensor) -> tuple[Tensor, Tensor]:
        """Position embedding for ids [B, N, 4] (or [N, 4]); pass to forward's pe arguments to reuse it."""
        return rope_embedding(ids.to(self.device), self.config.axes_dim, self.config.theta)

    def forward(self, img: Tensor, img_ids: Tensor, txt: Tensor, txt_ids: Tensor, timesteps: Tensor | float,
                guidance: Tensor | float | None = None, img_pe: tuple[Tensor, Tensor] | None = None,
                txt_pe: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Velocity for img tokens [B, N, Cin] at timesteps [B] in 0..1; returns [B, N, Cin] in the model dtype."""
        with torch.no_grad():
            dtype, device = self.dtype, self.device
            b = img.shape[0]
            timesteps = torch.as_tensor(timesteps, device=device).reshape(-1).expand(b)
            vec = self.time_in(timestep_embedding(timesteps.to(dtype)).to(dtype))
            if self.config.guidance_embed:
                if guidance is None:
                    raise ValueError("this transformer has a guidance embedding; pass guidance [B]")
                g = torch.as_tensor(guidance, device=device).reshape(-1).expand(b)
                vec = vec + self.guidance_in(timestep_embedding(g.to(dtype)).to(dtype))
            mod_img = self.double_stream_modulation_img(vec)
            mod_txt = self.double_stream_modulation_txt(vec)
            mod_single, _ = self.single_stream_modulation(vec)

            x = self.img_in(img.to(device=device, dtype=dtype))
            t = self.txt_in(txt.to(device=device, dtype=dtype))
            img_pe = img_pe if img_pe is not None else self.rope(img_ids)
            txt_pe = txt_pe if txt_pe is not None else self.rope(txt_ids)
            pe = tuple(torch.cat((tp.expand(b, *tp.shape[1:]), ip.expand(b, *ip.shape[1:])), dim=2)
                       for tp, ip in zip(txt_pe, img_pe))
            for block in self.double_blocks:
                x, t = block(x, t, pe, mod_img, mod_txt)
            n_txt = t.shape[1]
            x = torch.cat((t, x), dim=1)
            for block in self.single_blocks:
                x = block(x, pe, mod_single)
            return self.final_layer(x[:, n_txt:], vec)
