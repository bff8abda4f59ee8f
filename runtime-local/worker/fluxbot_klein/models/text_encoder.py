"""Qwen3 as FLUX.2 [klein]'s text encoder: hidden states 9, 18 and 27 stacked into width 3·H.

Hidden state 0 is the embedding output and hidden state k the output of decoder layer k (1-based),
before the final norm, so only the first 27 layers are built; later layers, ``model.norm`` and
``lm_head`` are never read. Attention is causal plus the padding mask on the keys. Layers take
their weights by Hugging Face's names (``self_attn.q_proj.weight``…); reading a checkpoint and
building the encoder: `fluxbot_klein.checkpoint.text_encoder`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

OUTPUT_LAYERS = (9, 18, 27)


@dataclass(frozen=True)
class Qwen3Config:
    """Shape of the Qwen3 encoder; num_layers is the number of layers kept (27 for klein)."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    rope_theta: float = 1e6
    rms_eps: float = 1e-6

    @classmethod
    def tiny(cls, vocab_size: int) -> Qwen3Config:
        """A tiny Qwen3 for tests: hidden 32, 2 heads of 16, 1 kv head, 27 layers kept."""
        return cls(vocab_size=vocab_size, hidden_size=32, num_layers=max(OUTPUT_LAYERS), num_heads=2,
                   num_kv_heads=1, head_dim=16, intermediate_size=64)

    @classmethod
    def qwen3_4b(cls) -> Qwen3Config:
        return cls(vocab_size=151936, hidden_size=2560, num_layers=max(OUTPUT_LAYERS), num_heads=32,
                   num_kv_heads=8, head_dim=128, intermediate_size=9728)

    @classmethod
    def qwen3_8b(cls) -> Qwen3Config:
        return cls(vocab_size=151936, hidden_size=4096, num_layers=max(OUTPUT_LAYERS), num_heads=32,
                   num_kv_heads=8, head_dim=128, intermediate_size=12288)

    @property
    def output_width(self) -> int:
        return len(OUTPUT_LAYERS) * self.hidden_size


class RMSNorm(nn.Module):
    """RMSNorm computed in float32, scaled by the weight in the input dtype (as Qwen3)."""

    def __init__(self, weight: Tensor, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class Linear(nn.Module):
    """A bias-free linear layer holding a given weight (no random initialisation)."""

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight)


def rope_cos_sin(length: int, head_dim: int, theta: float, device: torch.device,
                 dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """cos and sin [length, head_dim] of Qwen3's RoPE (half-split rotation), computed in float32."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim))
    pos = torch.arange(length, dtype=torch.float32, device=device)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """x [B, heads, L, D] rotated by positions: x·cos + rotate_half(x)·sin."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def attention(q: Tensor, k: Tensor, v: Tensor, allowed: Tensor) -> Tensor:
    """Softmax attention; q [B,H,L,D], k/v [B,Hkv,L,D] (grouped), allowed [B,1,L,L] bool."""
    groups = q.shape[1] // k.shape[1]
    if groups > 1:
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    if _HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    return torch.matmul(weights, v)


class Qwen3Attention(nn.Module):
    def __init__(self, w: dict[str, Tensor], config: Qwen3Config) -> None:
        super().__init__()
        self.config = config
        self.q_proj = Linear(w["self_attn.q_proj.weight"])
        self.k_proj = Linear(w["self_attn.k_proj.weight"])
        self.v_proj = Linear(w["self_attn.v_proj.weight"])
        self.o_proj = Linear(w["self_attn.o_proj.weight"])
        self.q_norm = RMSNorm(w["self_attn.q_norm.weight"], config.rms_eps)
        self.k_norm = RMSNorm(w["self_attn.k_norm.weight"], config.rms_eps)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, allowed: Tensor) -> Tensor:
        b, n, _ = x.shape
        d = self.config.head_dim
        q = self.q_norm(self.q_proj(x).view(b, n, -1, d)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(b, n, -1, d)).transpose(1, 2)
        v = self.v_proj(x).view(b, n, -1, d).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        out = attention(q, k, v, allowed)
        return self.o_proj(out.transpose(1, 2).reshape(b, n, -1))


class Qwen3Layer(nn.Module):
    def __init__(self, w: dict[str, Tensor], config: Qwen3Config) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(w["input_layernorm.weight"], config.rms_eps)
        self.self_attn = Qwen3Attention(w, config)
        self.post_attention_layernorm = RMSNorm(w["post_attention_layernorm.weight"], config.rms_eps)
        self.gate_proj = Linear(w["mlp.gate_proj.weight"])
        self.up_proj = Linear(w["mlp.up_proj.weight"])
        self.down_proj = Linear(w["mlp.down_proj.weight"])

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, allowed: Tensor) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, allowed)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


def attention_allowed(attention_mask: Tensor) -> Tensor:
    """[B,1,L,L] bool: key j visible to query i when j <= i and key j is a real token.

    A query that would see no key at all (left padding) sees itself, so no row is empty.
    """
    b, n = attention_mask.shape
    causal = torch.ones(n, n, dtype=torch.bool, device=attention_mask.device).tril()
    allowed = causal[None] & attention_mask.bool()[:, None, :]
    empty = ~allowed.any(dim=-1, keepdim=True)
    eye = torch.eye(n, dtype=torch.bool, device=attention_mask.device)[None]
    allowed = allowed | (empty & eye)
    return allowed[:, None]


class Qwen3Encoder(nn.Module):
    """Qwen3 decoder layers up to the last of OUTPUT_LAYERS; forward returns [B, L, 3·hidden]."""

    def __init__(self, embed: Tensor, layers: list[Qwen3Layer], config: Qwen3Config) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Parameter(embed, requires_grad=False)
        self.layers = nn.ModuleList(layers)

    def hidden_states(self, input_ids: Tensor, attention_mask: Tensor, upto: int | None = None) -> list[Tensor]:
        """Hidden states 0..upto (0 = embedding output, k = after layer k), as a list."""
        upto = len(self.layers) if upto is None else upto
        if input_ids.dim() != 2 or tuple(attention_mask.shape) != tuple(input_ids.shape):
            raise ValueError(f"input_ids {tuple(input_ids.shape)} and attention_mask "
                             f"{tuple(attention_mask.shape)} must both be [B, L]")
        x = F.embedding(input_ids.to(self.embed_tokens.device), self.embed_tokens)
        cos, sin = rope_cos_sin(input_ids.shape[1], self.config.head_dim, self.config.rope_theta,
                                x.device, x.dtype)
        allowed = attention_allowed(attention_mask.to(x.device))
        states = [x]
        for layer in self.layers[:upto]:
            x = layer(x, cos, sin, allowed)
            states.append(x)
        return states

    @torch.no_grad()
    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        top = max(OUTPUT_LAYERS)
        if len(self.layers) < top:
            raise ValueError(f"the encoder has {len(self.layers)} layers, hidden state {top} needs {top}")
        states = self.hidden_states(input_ids, attention_mask, upto=top)
        return torch.cat([states[k] for k in OUTPUT_LAYERS], dim=-1)
