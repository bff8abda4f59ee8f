"""Qwen3 as FLUX.2 [klein]'s text encoder: hidden states 9, 18 and 27 stacked into width 3·H.

Hugging Face key names (``model.embed_tokens``, ``model.layers.N.self_attn.q_proj``…). Hidden
state 0 is the embedding output and hidden state k the output of decoder layer k (1-based),
before the final norm, so only the first 27 layers are built; later layers, ``model.norm`` and
``lm_head`` are never read. Attention is causal plus the padding mask on the keys.
"""

import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .errors import CheckpointError

OUTPUT_LAYERS = (9, 18, 27)
PREFIX = "model."
_LAYER_RE = re.compile(r"^(?:model\.)?layers\.(\d+)\.")
_LAYER_PARTS = (
    "input_layernorm.weight",
    "self_attn.q_proj.weight",
    "self_attn.k_proj.weight",
    "self_attn.v_proj.weight",
    "self_attn.o_proj.weight",
    "self_attn.q_norm.weight",
    "self_attn.k_norm.weight",
    "post_attention_layernorm.weight",
    "mlp.gate_proj.weight",
    "mlp.up_proj.weight",
    "mlp.down_proj.weight",
)


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
    def tiny(cls, vocab_size):
        """A tiny Qwen3 for tests: hidden 32, 2 heads of 16, 1 kv head, 27 layers kept."""
        return cls(vocab_size=vocab_size, hidden_size=32, num_layers=max(OUTPUT_LAYERS), num_heads=2,
                   num_kv_heads=1, head_dim=16, intermediate_size=64)

    @classmethod
    def qwen3_4b(cls):
        return cls(vocab_size=151936, hidden_size=2560, num_layers=max(OUTPUT_LAYERS), num_heads=32,
                   num_kv_heads=8, head_dim=128, intermediate_size=9728)

    @classmethod
    def qwen3_8b(cls):
        return cls(vocab_size=151936, hidden_size=4096, num_layers=max(OUTPUT_LAYERS), num_heads=32,
                   num_kv_heads=8, head_dim=128, intermediate_size=12288)

    @property
    def output_width(self):
        return len(OUTPUT_LAYERS) * self.hidden_size


def hf_prefix(names):
    """"model." when the names are Qwen3ForCausalLM's, "" when they are a bare Qwen3Model's."""
    for name in names:
        if name.startswith(PREFIX + "embed_tokens.") or name.startswith(PREFIX + "layers."):
            return PREFIX
    return ""


def _layer_names(i, prefix=PREFIX):
    return [f"{prefix}layers.{i}.{part}" for part in _LAYER_PARTS]


def required_names(config, prefix=PREFIX):
    """The Hugging Face names the encoder reads: embeddings and layers 0..num_layers-1 only."""
    names = [f"{prefix}embed_tokens.weight"]
    for i in range(config.num_layers):
        names.extend(_layer_names(i, prefix))
    return names


def expected_shapes(config, total_layers, lm_head=False, prefix=PREFIX):
    """Shapes of a full Qwen3 checkpoint with total_layers layers (plus model.norm, optional lm_head)."""
    h, d = config.hidden_size, config.head_dim
    per_layer = {
        "input_layernorm.weight": (h,),
        "self_attn.q_proj.weight": (config.num_heads * d, h),
        "self_attn.k_proj.weight": (config.num_kv_heads * d, h),
        "self_attn.v_proj.weight": (config.num_kv_heads * d, h),
        "self_attn.o_proj.weight": (h, config.num_heads * d),
        "self_attn.q_norm.weight": (d,),
        "self_attn.k_norm.weight": (d,),
        "post_attention_layernorm.weight": (h,),
        "mlp.gate_proj.weight": (config.intermediate_size, h),
        "mlp.up_proj.weight": (config.intermediate_size, h),
        "mlp.down_proj.weight": (h, config.intermediate_size),
    }
    shapes = {f"{prefix}embed_tokens.weight": (config.vocab_size, h)}
    for i in range(total_layers):
        for part, shape in per_layer.items():
            shapes[f"{prefix}layers.{i}.{part}"] = shape
    shapes[f"{prefix}norm.weight"] = (h,)
    if lm_head:
        shapes["lm_head.weight"] = (config.vocab_size, h)
    return shapes


def _shape(shapes, name):
    if name not in shapes:
        raise CheckpointError(f"text encoder tensor {name} is missing; this is not a complete Qwen3 "
                              f"checkpoint ({len(shapes)} tensors found)")
    return tuple(shapes[name])


def infer_qwen3_config(shapes, config_json=None):
    """Qwen3Config from tensor shapes (HF names); rope_theta and rms eps from config.json when given."""
    shapes = {k: tuple(v) for k, v in shapes.items()}
    prefix = hf_prefix(shapes)
    emb = _shape(shapes, f"{prefix}embed_tokens.weight")
    if len(emb) != 2:
        raise CheckpointError(f"text encoder tensor {prefix}embed_tokens.weight has shape {emb}, "
                              "expected [vocab, hidden]; this is not a Qwen3 checkpoint")
    vocab, hidden = emb
    layer_ids = {int(m.group(1)) for m in map(_LAYER_RE.match, shapes) if m}
    total = 0
    while total in layer_ids:
        total += 1
    keep = max(OUTPUT_LAYERS)
    if total < keep:
        raise CheckpointError(f"text encoder has {total} layers, klein needs at least {keep} (hidden state "
                              f"{keep}); tensor {prefix}layers.{total}.input_layernorm.weight is missing")
    p0 = f"{prefix}layers.0."
    head_dim = _shape(shapes, p0 + "self_attn.q_norm.weight")[0]
    q_rows = _shape(shapes, p0 + "self_attn.q_proj.weight")[0]
    k_rows = _shape(shapes, p0 + "self_attn.k_proj.weight")[0]
    inter = _shape(shapes, p0 + "mlp.gate_proj.weight")[0]
    if q_rows % head_dim or k_rows % head_dim:
        raise CheckpointError(f"text encoder q_proj rows {q_rows} / k_proj rows {k_rows} are not multiples "
                              f"of head_dim {head_dim} (from q_norm); this is not a Qwen3 checkpoint")
    heads, kv_heads = q_rows // head_dim, k_rows // head_dim
    if heads % kv_heads:
        raise CheckpointError(f"text encoder has {heads} query heads and {kv_heads} kv heads; grouped-"
                              "query attention needs the first to be a multiple of the second")
    cfg = config_json or {}
    rope = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
    theta = cfg.get("rope_theta", rope.get("rope_theta", 1e6))
    if rope.get("rope_type", rope.get("type", "default")) not in ("default", None):
        raise CheckpointError(f"text encoder config.json asks for rope type {rope.get('rope_type')!r}; "
                              "only the default RoPE of Qwen3 is supported")
    config = Qwen3Config(vocab_size=vocab, hidden_size=hidden, num_layers=keep, num_heads=heads,
                         num_kv_heads=kv_heads, head_dim=head_dim, intermediate_size=inter,
                         rope_theta=float(theta), rms_eps=float(cfg.get("rms_norm_eps", 1e-6)))
    for key, value in (("hidden_size", hidden), ("num_attention_heads", heads),
                       ("num_key_value_heads", kv_heads), ("head_dim", head_dim),
                       ("intermediate_size", inter)):
        if key in cfg and cfg[key] is not None and int(cfg[key]) != value:
            raise CheckpointError(f"text encoder config.json says {key}={cfg[key]} but the tensors give "
                                  f"{value}; config.json and the weights are of different models")
    expected = expected_shapes(config, keep, prefix=prefix)
    for name in required_names(config, prefix):
        got = _shape(shapes, name)
        if got != expected[name]:
            raise CheckpointError(f"text encoder tensor {name} has shape {list(got)}, expected "
                                  f"{list(expected[name])} for {config}")
    return config


# modules


class RMSNorm(nn.Module):
    """RMSNorm computed in float32, scaled by the weight in the input dtype (as Qwen3)."""

    def __init__(self, weight, eps):
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class Linear(nn.Module):
    """A bias-free linear layer holding a given weight (no random initialisation)."""

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)

    def forward(self, x):
        return F.linear(x, self.weight)


def rope_cos_sin(length, head_dim, theta, device, dtype):
    """cos and sin [length, head_dim] of Qwen3's RoPE (half-split rotation), computed in float32."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim))
    pos = torch.arange(length, dtype=torch.float32, device=device)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x, cos, sin):
    """x [B, heads, L, D] rotated by positions: x·cos + rotate_half(x)·sin."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def attention(q, k, v, allowed):
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
    def __init__(self, w, config):
        super().__init__()
        self.config = config
        self.q_proj = Linear(w["self_attn.q_proj.weight"])
        self.k_proj = Linear(w["self_attn.k_proj.weight"])
        self.v_proj = Linear(w["self_attn.v_proj.weight"])
        self.o_proj = Linear(w["self_attn.o_proj.weight"])
        self.q_norm = RMSNorm(w["self_attn.q_norm.weight"], config.rms_eps)
        self.k_norm = RMSNorm(w["self_attn.k_norm.weight"], config.rms_eps)

    def forward(self, x, cos, sin, allowed):
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
    def __init__(self, w, config):
        super().__init__()
        self.input_layernorm = RMSNorm(w["input_layernorm.weight"], config.rms_eps)
        self.self_attn = Qwen3Attention(w, config)
        self.post_attention_layernorm = RMSNorm(w["post_attention_layernorm.weight"], config.rms_eps)
        self.gate_proj = Linear(w["mlp.gate_proj.weight"])
        self.up_proj = Linear(w["mlp.up_proj.weight"])
        self.down_proj = Linear(w["mlp.down_proj.weight"])

    def forward(self, x, cos, sin, allowed):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, allowed)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


def attention_allowed(attention_mask):
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

    def __init__(self, embed, layers, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Parameter(embed, requires_grad=False)
        self.layers = nn.ModuleList(layers)

    def hidden_states(self, input_ids, attention_mask, upto=None):
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
    def forward(self, input_ids, attention_mask):
        top = max(OUTPUT_LAYERS)
        if len(self.layers) < top:
            raise ValueError(f"the encoder has {len(self.layers)} layers, hidden state {top} needs {top}")
        states = self.hidden_states(input_ids, attention_mask, upto=top)
        return torch.cat([states[k] for k in OUTPUT_LAYERS], dim=-1)


def build_text_encoder(state, config, device="cpu", dtype=torch.float32):
    """Builds the encoder from a state dict with HF names (with or without "model."); eval, no grad."""
    prefix = hf_prefix(state)
    expected = expected_shapes(config, config.num_layers, prefix=prefix)

    def take(name):
        if name not in state:
            raise CheckpointError(f"text encoder tensor {name} is missing; the checkpoint has "
                                  f"{len(state)} tensors and klein needs layers 0..{config.num_layers - 1}")
        t = state[name]
        if tuple(t.shape) != expected[name]:
            raise CheckpointError(f"text encoder tensor {name} has shape {list(t.shape)}, expected "
                                  f"{list(expected[name])} for {config}")
        return t.to(device=device, dtype=dtype)

    with torch.no_grad():
        embed = take(f"{prefix}embed_tokens.weight")
        layers = []
        for i in range(config.num_layers):
            w = {part: take(f"{prefix}layers.{i}.{part}") for part in _LAYER_PARTS}
            layers.append(Qwen3Layer(w, config))
        model = Qwen3Encoder(embed, layers, config)
    model.eval()
    model.requires_grad_(False)
    return model


def tiny_text_encoder_state(config, seed=0, total_layers=None):
    """A random float32 state dict (HF names) with total_layers layers (default 28) and model.norm."""
    total = max(OUTPUT_LAYERS) + 1 if total_layers is None else total_layers
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in expected_shapes(config, total).items():
        if len(shape) == 1:
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith("embed_tokens.weight"):
            t = torch.randn(shape, generator=gen)
        else:
            t = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
        state[name] = t
    return state
