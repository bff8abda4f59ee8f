"""The FLUX.2 [klein] transformer with BFL's key names, its config and the diffusers name mapping.

Architecture (BFL's `Flux2`): image and text inputs projected to the hidden size; a sinusoidal
timestep embedding (t in 0..1 scaled by 1000, 256 channels) through a two-layer MLP gives `vec`;
three shared modulations (double-stream image, double-stream text, single-stream) from `vec`;
double-stream blocks (separate weights per stream, joint attention), then single-stream blocks
(QKV fused with the SwiGLU MLP input, attention output fused with the MLP output); a final
adaLN layer. Every linear is bias-free; Q and K get an RMSNorm per head; 4-axis RoPE (T, H, W, L).
"""

import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .errors import CheckpointError

TIME_EMBED_DIM = 256
TIME_FACTOR = 1000.0
MAX_PERIOD = 10000
NORM_EPS = 1e-6
MLP_RATIO = 3.0
ROPE_THETA = 2000
PREFIXES = ("model.diffusion_model.",)
# Companion tensors of quantized (FP8) checkpoints; see dequantize_state.
QUANT_SUFFIXES = ("weight_scale", "scale_weight", "input_scale", "scale_input", "comfy_quant")

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
    axes_dim: tuple
    theta: int
    guidance_embed: bool

    @classmethod
    def klein_4b(cls):
        return cls(in_channels=128, hidden_size=3072, num_heads=24, head_dim=128, depth_double=5,
                   depth_single=20, context_in_dim=7680, mlp_hidden_dim=9216, axes_dim=(32, 32, 32, 32),
                   theta=ROPE_THETA, guidance_embed=False)

    @classmethod
    def klein_9b(cls):
        return cls(in_channels=128, hidden_size=4096, num_heads=32, head_dim=128, depth_double=8,
                   depth_single=24, context_in_dim=12288, mlp_hidden_dim=12288, axes_dim=(32, 32, 32, 32),
                   theta=ROPE_THETA, guidance_embed=False)

    @classmethod
    def tiny(cls, context_in_dim):
        """A small random-weight model for tests: hidden 64, 2 heads x 32, 2 + 2 blocks."""
        return cls(in_channels=128, hidden_size=64, num_heads=2, head_dim=32, depth_double=2,
                   depth_single=2, context_in_dim=int(context_in_dim), mlp_hidden_dim=192,
                   axes_dim=(8, 8, 8, 8), theta=ROPE_THETA, guidance_embed=False)

    @property
    def model_name(self):
        if self == TransformerConfig.klein_4b():
            return "klein-4b"
        if self == TransformerConfig.klein_9b():
            return "klein-9b"
        return "custom"

    def parameter_count(self):
        return sum(math.prod(s) for s in expected_shapes(self, "bfl").values())


# ---------------------------------------------------------------------------------------------
# Names and shapes


def expected_shapes(config, layout="bfl"):
    """name -> shape of every tensor a transformer with this config has, in "bfl" or "diffusers" names."""
    h, c = config.hidden_size, config
    m, d = c.mlp_hidden_dim, c.head_dim
    s = {
        "img_in.weight": (h, c.in_channels),
        "txt_in.weight": (h, c.context_in_dim),
        "time_in.in_layer.weight": (h, TIME_EMBED_DIM),
        "time_in.out_layer.weight": (h, h),
    }
    if c.guidance_embed:
        s["guidance_in.in_layer.weight"] = (h, TIME_EMBED_DIM)
        s["guidance_in.out_layer.weight"] = (h, h)
    s["double_stream_modulation_img.lin.weight"] = (6 * h, h)
    s["double_stream_modulation_txt.lin.weight"] = (6 * h, h)
    s["single_stream_modulation.lin.weight"] = (3 * h, h)
    for i in range(c.depth_double):
        p = f"double_blocks.{i}."
        for stream in ("img", "txt"):
            s[p + f"{stream}_attn.qkv.weight"] = (3 * h, h)
            s[p + f"{stream}_attn.norm.query_norm.scale"] = (d,)
            s[p + f"{stream}_attn.norm.key_norm.scale"] = (d,)
            s[p + f"{stream}_attn.proj.weight"] = (h, h)
            s[p + f"{stream}_mlp.0.weight"] = (2 * m, h)
            s[p + f"{stream}_mlp.2.weight"] = (h, m)
    for i in range(c.depth_single):
        p = f"single_blocks.{i}."
        s[p + "linear1.weight"] = (3 * h + 2 * m, h)
        s[p + "linear2.weight"] = (h, h + m)
        s[p + "norm.query_norm.scale"] = (d,)
        s[p + "norm.key_norm.scale"] = (d,)
    s["final_layer.adaLN_modulation.1.weight"] = (2 * h, h)
    s["final_layer.linear.weight"] = (c.in_channels, h)
    if layout == "bfl":
        return s
    if layout == "diffusers":
        return to_diffusers_names(s)
    raise ValueError(f"layout must be 'bfl' or 'diffusers', got {layout!r}")


# diffusers module -> BFL module (outside blocks)
_TOP = {
    "x_embedder": "img_in",
    "context_embedder": "txt_in",
    "time_guidance_embed.timestep_embedder.linear_1": "time_in.in_layer",
    "time_guidance_embed.timestep_embedder.linear_2": "time_in.out_layer",
    "time_guidance_embed.guidance_embedder.linear_1": "guidance_in.in_layer",
    "time_guidance_embed.guidance_embedder.linear_2": "guidance_in.out_layer",
    "double_stream_modulation_img.linear": "double_stream_modulation_img.lin",
    "double_stream_modulation_txt.linear": "double_stream_modulation_txt.lin",
    "single_stream_modulation.linear": "single_stream_modulation.lin",
    "proj_out": "final_layer.linear",
    "norm_out.linear": "final_layer.adaLN_modulation.1",  # (scale, shift) <-> (shift, scale)
}
_DOUBLE = {
    "attn.norm_q": "img_attn.norm.query_norm",
    "attn.norm_k": "img_attn.norm.key_norm",
    "attn.norm_added_q": "txt_attn.norm.query_norm",
    "attn.norm_added_k": "txt_attn.norm.key_norm",
    "attn.to_out.0": "img_attn.proj",
    "attn.to_add_out": "txt_attn.proj",
    "ff.linear_in": "img_mlp.0",
    "ff.linear_out": "img_mlp.2",
    "ff_context.linear_in": "txt_mlp.0",
    "ff_context.linear_out": "txt_mlp.2",
    "attn.to_qkv": "img_attn.qkv",  # diffusers after fuse_qkv_projections()
    "attn.to_added_qkv": "txt_attn.qkv",
}
_DOUBLE_SPLIT = {  # BFL fused module -> diffusers q, k, v modules
    "img_attn.qkv": ("attn.to_q", "attn.to_k", "attn.to_v"),
    "txt_attn.qkv": ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"),
}
_SINGLE = {
    "attn.to_qkv_mlp_proj": "linear1",
    "attn.to_out": "linear2",
    "attn.norm_q": "norm.query_norm",
    "attn.norm_k": "norm.key_norm",
}
_SWAPPED = "final_layer.adaLN_modulation.1"
_BLOCK_RE = re.compile(r"^(transformer_blocks|single_transformer_blocks|double_blocks|single_blocks)\.(\d+)\.(.+)$")


def _strip(name):
    for p in PREFIXES:
        if name.startswith(p):
            return name[len(p):]
    return name


def _is_quant(name):
    return name.rsplit(".", 1)[-1] in QUANT_SUFFIXES


def _split_param(name):
    module, _, param = name.rpartition(".")
    return module, param


def _is_tensor(v):
    return isinstance(v, torch.Tensor)


def _cat3(name, values):
    """Fuse q, k, v along dim 0 (tensors or shape tuples); equal scalars (quant scales) stay one."""
    if _is_tensor(values[0]):
        if values[0].dim() == 0:
            if not all(torch.equal(values[0], v) for v in values[1:]):
                raise CheckpointError(f"{name}: q, k and v carry different scalars ({[float(v) for v in values]}); "
                                      f"dequantize the checkpoint (dequantize_state) before fusing them")
            return values[0]
        return torch.cat(values, dim=0)
    shapes = [tuple(v) for v in values]
    if len(shapes[0]) == 0:
        return shapes[0]
    if any(s[1:] != shapes[0][1:] for s in shapes):
        raise CheckpointError(f"{name}: q, k, v shapes {shapes} cannot be fused")
    return (sum(s[0] for s in shapes),) + shapes[0][1:]


def _split3(name, value):
    if _is_tensor(value):
        if value.dim() == 0:
            return value, value, value
        if value.shape[0] % 3:
            raise CheckpointError(f"{name}: fused qkv has {value.shape[0]} rows, not a multiple of 3")
        return tuple(t.contiguous() for t in value.chunk(3, dim=0))
    shape = tuple(value)
    if len(shape) == 0:
        return shape, shape, shape
    if shape[0] % 3:
        raise CheckpointError(f"{name}: fused qkv shape {shape} has a first dimension not divisible by 3")
    part = (shape[0] // 3,) + shape[1:]
    return part, part, part


def _swap_halves(value):
    """(a, b) -> (b, a) along dim 0: the final adaLN's (shift, scale) vs diffusers' (scale, shift)."""
    if _is_tensor(value):
        if value.dim() == 0:
            return value
        a, b = value.chunk(2, dim=0)
        return torch.cat([b, a], dim=0)
    return tuple(value)


def detect_layout(shapes):
    """"bfl" or "diffusers" from the tensor names (values are ignored)."""
    names = [_strip(n) for n in shapes]
    if any(n.startswith(("img_in.", "double_blocks.", "single_blocks.")) for n in names):
        return "bfl"
    if any(n.startswith(("x_embedder.", "transformer_blocks.", "single_transformer_blocks.")) for n in names):
        return "diffusers"
    sample = ", ".join(sorted(names)[:5]) or "(no tensors)"
    raise CheckpointError(f"not a FLUX.2 transformer: no img_in/double_blocks (BFL) or x_embedder/"
                          f"transformer_blocks (diffusers) tensors; found e.g. {sample}")


def to_bfl_names(state):
    """Map a state (tensors or shape tuples) in diffusers or BFL names to BFL names.

    Split q/k/v become one fused qkv, the final adaLN halves are swapped, norm `weight` becomes
    `scale`. A BFL state comes back with only the `model.diffusion_model.` prefix removed.
    """
    stripped = {_strip(k): v for k, v in state.items()}
    if detect_layout(stripped) == "bfl":
        return stripped
    out = {}
    pending = {}  # (block, bfl module, param) -> {index: value}
    fused = {m: bfl for bfl, ms in _DOUBLE_SPLIT.items() for m in ms}
    for name, value in stripped.items():
        module, param = _split_param(name)
        m = _BLOCK_RE.match(module)
        if module in _TOP:
            bfl = _TOP[module]
            out[f"{bfl}.{param}"] = _swap_halves(value) if bfl == _SWAPPED else value
            continue
        if m and m.group(1) == "transformer_blocks":
            idx, sub = m.group(2), m.group(3)
            if sub in fused:
                bfl = fused[sub]
                pending.setdefault((idx, bfl, param), {})[_DOUBLE_SPLIT[bfl].index(sub)] = value
                continue
            if sub in _DOUBLE:
                bfl = _DOUBLE[sub]
                out[f"double_blocks.{idx}.{bfl}.{_bfl_param(bfl, param)}"] = value
                continue
        if m and m.group(1) == "single_transformer_blocks" and m.group(3) in _SINGLE:
            bfl = _SINGLE[m.group(3)]
            out[f"single_blocks.{m.group(2)}.{bfl}.{_bfl_param(bfl, param)}"] = value
            continue
        raise CheckpointError(f"tensor {name!r} is not part of a diffusers Flux2Transformer2DModel; "
                              f"is this the transformer folder of a FLUX.2 checkpoint?")
    for (idx, bfl, param), parts in pending.items():
        target = f"double_blocks.{idx}.{bfl}.{param}"
        if len(parts) != 3:
            names = _DOUBLE_SPLIT[bfl]
            missing = [f"transformer_blocks.{idx}.{names[i]}.{param}" for i in range(3) if i not in parts]
            raise CheckpointError(f"cannot build {target}: missing {', '.join(missing)}")
        out[target] = _cat3(target, [parts[0], parts[1], parts[2]])
    return out


def _bfl_param(bfl_module, param):
    return "scale" if param == "weight" and bfl_module.endswith("_norm") else param


def _diffusers_param(bfl_module, param):
    return "weight" if param == "scale" and bfl_module.endswith("_norm") else param


def to_diffusers_names(state):
    """Map a state (tensors or shape tuples) in BFL names to diffusers' Flux2Transformer2DModel names."""
    top = {bfl: d for d, bfl in _TOP.items()}
    double = {bfl: d for d, bfl in _DOUBLE.items() if bfl not in _DOUBLE_SPLIT}
    single = {bfl: d for d, bfl in _SINGLE.items()}
    out = {}
    for name, value in state.items():
        name = _strip(name)
        module, param = _split_param(name)
        if module in top:
            out[f"{top[module]}.{param}"] = _swap_halves(value) if module == _SWAPPED else value
            continue
        m = _BLOCK_RE.match(module)
        if m and m.group(1) == "double_blocks":
            idx, sub = m.group(2), m.group(3)
            if sub in _DOUBLE_SPLIT:
                for dname, part in zip(_DOUBLE_SPLIT[sub], _split3(name, value)):
                    out[f"transformer_blocks.{idx}.{dname}.{param}"] = part
                continue
            if sub in double:
                out[f"transformer_blocks.{idx}.{double[sub]}.{_diffusers_param(sub, param)}"] = value
                continue
        if m and m.group(1) == "single_blocks" and m.group(3) in single:
            sub = m.group(3)
            out[f"single_transformer_blocks.{m.group(2)}.{single[sub]}.{_diffusers_param(sub, param)}"] = value
            continue
        raise CheckpointError(f"tensor {name!r} is not part of a BFL FLUX.2 transformer")
    return out


def dequantize_state(state, dtype=torch.bfloat16):
    """Fold FP8 per-tensor scales into their weights (`X.weight * X.weight_scale`) in dtype.

    Drops activation scales and other quantization companions; other tensors pass unchanged.
    """
    out = {}
    for name, value in state.items():
        if _is_quant(name):
            continue
        module, param = _split_param(name)
        scale = state.get(f"{module}.weight_scale", state.get(f"{module}.scale_weight"))
        if param == "weight" and scale is not None:
            value = value.to(dtype) * scale.to(device=value.device, dtype=torch.float32).to(dtype)
        elif str(value.dtype).startswith("torch.float8"):
            value = value.to(dtype)
        out[name] = value
    return out


def _block_indices(names, prefix):
    found = set()
    for n in names:
        if n.startswith(prefix):
            idx = n[len(prefix):].split(".", 1)[0]
            if idx.isdigit():
                found.add(int(idx))
    if not found:
        return 0
    depth = max(found) + 1
    gaps = [i for i in range(depth) if i not in found]
    if gaps:
        raise CheckpointError(f"transformer checkpoint has {prefix}{max(found)} but no "
                              f"{', '.join(prefix + str(i) for i in gaps[:5])}"
                              f"{' ...' if len(gaps) > 5 else ''} ({len(gaps)} blocks missing); "
                              f"the file is incomplete or from another model")
    return depth


def _need(shapes, name, ndim):
    if name not in shapes:
        raise CheckpointError(f"transformer checkpoint lacks {name}; not a FLUX.2 [klein] transformer "
                              f"(or the file is incomplete)")
    shape = tuple(shapes[name])
    if len(shape) != ndim:
        raise CheckpointError(f"transformer tensor {name} has shape {shape}, expected {ndim} dimensions")
    return shape


def check_shapes(shapes, config, what="transformer checkpoint"):
    """CheckpointError unless shapes (BFL names) are exactly those of config (quant companions ignored)."""
    expected = expected_shapes(config, "bfl")
    have = {k: tuple(v) for k, v in shapes.items() if not _is_quant(k)}
    missing = [n for n in expected if n not in have]
    if missing:
        raise CheckpointError(f"{what} lacks {len(missing)} of {len(expected)} tensors of a "
                              f"{config.model_name} transformer: {', '.join(missing[:5])}"
                              f"{' ...' if len(missing) > 5 else ''}")
    for n, shape in expected.items():
        if have[n] != shape:
            raise CheckpointError(f"{what}: tensor {n} has shape {list(have[n])}, expected {list(shape)} "
                                  f"for {config.model_name} (hidden {config.hidden_size}, "
                                  f"head dim {config.head_dim}, mlp {config.mlp_hidden_dim})")
    unexpected = [n for n in have if n not in expected]
    if unexpected:
        raise CheckpointError(f"{what} has {len(unexpected)} tensors a {config.model_name} transformer "
                              f"does not: {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}")


def infer_transformer_config(shapes, layout="bfl"):
    """The TransformerConfig of a checkpoint from its tensor shapes (name -> tuple)."""
    if layout == "diffusers":
        shapes = to_bfl_names({k: tuple(v) for k, v in shapes.items() if not _is_quant(k)})
    elif layout == "bfl":
        shapes = {_strip(k): tuple(v) for k, v in shapes.items()}
    else:
        raise ValueError(f"layout must be 'bfl' or 'diffusers', got {layout!r}")
    hidden, in_channels = _need(shapes, "img_in.weight", 2)
    h2, context = _need(shapes, "txt_in.weight", 2)
    if h2 != hidden:
        raise CheckpointError(f"txt_in.weight has {h2} rows but img_in.weight {hidden}; not one model")
    depth_double = _block_indices(shapes, "double_blocks.")
    depth_single = _block_indices(shapes, "single_blocks.")
    if depth_double == 0 or depth_single == 0:
        raise CheckpointError(f"transformer checkpoint has {depth_double} double and {depth_single} single "
                              f"blocks; a FLUX.2 transformer has both")
    (head_dim,) = _need(shapes, "double_blocks.0.img_attn.norm.query_norm.scale", 1)
    if head_dim <= 0 or hidden % head_dim or head_dim % 8:
        raise CheckpointError(f"head dim {head_dim} (query_norm scale size) does not fit hidden size "
                              f"{hidden} and a 4-axis RoPE; not a FLUX.2 transformer")
    rows, mlp = _need(shapes, "double_blocks.0.img_mlp.2.weight", 2)
    config = TransformerConfig(
        in_channels=in_channels, hidden_size=hidden, num_heads=hidden // head_dim, head_dim=head_dim,
        depth_double=depth_double, depth_single=depth_single, context_in_dim=context, mlp_hidden_dim=mlp,
        axes_dim=(head_dim // 4,) * 4, theta=ROPE_THETA,
        guidance_embed="guidance_in.in_layer.weight" in shapes)
    check_shapes(shapes, config)
    return config


# ---------------------------------------------------------------------------------------------
# Building blocks


def timestep_embedding(t, dim=TIME_EMBED_DIM, max_period=MAX_PERIOD, time_factor=TIME_FACTOR):
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


def rope_embedding(ids, axes_dim, theta):
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


def apply_rope(x, pe):
    """Rotate adjacent pairs (x[2i], x[2i+1]) of x [B, H, N, D] by the angles in pe."""
    cos, sin = pe
    xf = x.float().reshape(*x.shape[:-1], -1, 2)
    x0, x1 = xf[..., 0], xf[..., 1]
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    return out.reshape(x.shape).type_as(x)


def attention(q, k, v, pe):
    """RoPE then softmax attention; q, k, v [B, H, N, D] -> [B, N, H*D]."""
    q, k = apply_rope(q, pe), apply_rope(k, pe)
    if _HAS_SDPA:
        x = F.scaled_dot_product_attention(q, k, v)
    else:
        scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * (q.shape[-1] ** -0.5)
        x = torch.matmul(scores.softmax(dim=-1), v.float()).to(v.dtype)
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


def _split_heads(qkv, num_heads):
    b, n, _ = qkv.shape
    qkv = qkv.reshape(b, n, 3, num_heads, -1).permute(2, 0, 3, 1, 4)
    return qkv[0], qkv[1], qkv[2]


def _linear(i, o, device):
    return nn.Linear(i, o, bias=False, device=device)


def _layer_norm(x):
    return F.layer_norm(x, x.shape[-1:], eps=NORM_EPS)


class RMSNorm(nn.Module):
    def __init__(self, dim, device=None):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim, device=device))

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + NORM_EPS)
        return xf.to(x.dtype) * self.scale


class QKNorm(nn.Module):
    def __init__(self, dim, device=None):
        super().__init__()
        self.query_norm = RMSNorm(dim, device)
        self.key_norm = RMSNorm(dim, device)

    def forward(self, q, k, v):
        return self.query_norm(q).to(v.dtype), self.key_norm(k).to(v.dtype)


class SelfAttention(nn.Module):
    def __init__(self, hidden, head_dim, device=None):
        super().__init__()
        self.qkv = _linear(hidden, 3 * hidden, device)
        self.norm = QKNorm(head_dim, device)
        self.proj = _linear(hidden, hidden, device)


class SwiGLU(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2, dim=-1)
        return F.silu(a) * b


class MLPEmbedder(nn.Module):
    def __init__(self, in_dim, hidden, device=None):
        super().__init__()
        self.in_layer = _linear(in_dim, hidden, device)
        self.out_layer = _linear(hidden, hidden, device)

    def forward(self, x):
        return self.out_layer(F.silu(self.in_layer(x)))


class Modulation(nn.Module):
    def __init__(self, hidden, double, device=None):
        super().__init__()
        self.count = 6 if double else 3
        self.lin = _linear(hidden, self.count * hidden, device)

    def forward(self, vec):
        out = self.lin(F.silu(vec))[:, None, :].chunk(self.count, dim=-1)
        return out[:3], (out[3:] if self.count == 6 else None)


class DoubleStreamBlock(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        self.num_heads = c.num_heads
        for stream in ("img", "txt"):
            setattr(self, f"{stream}_attn", SelfAttention(c.hidden_size, c.head_dim, device))
            setattr(self, f"{stream}_mlp", nn.Sequential(
                _linear(c.hidden_size, 2 * c.mlp_hidden_dim, device), SwiGLU(),
                _linear(c.mlp_hidden_dim, c.hidden_size, device)))

    def _qkv(self, attn, x, mod):
        shift, scale, _ = mod
        q, k, v = _split_heads(attn.qkv((1 + scale) * _layer_norm(x) + shift), self.num_heads)
        q, k = attn.norm(q, k, v)
        return q, k, v

    def forward(self, img, txt, pe, mod_img, mod_txt):
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
    def __init__(self, c, device=None):
        super().__init__()
        self.num_heads = c.num_heads
        self.hidden = c.hidden_size
        self.linear1 = _linear(c.hidden_size, 3 * c.hidden_size + 2 * c.mlp_hidden_dim, device)
        self.linear2 = _linear(c.hidden_size + c.mlp_hidden_dim, c.hidden_size, device)
        self.norm = QKNorm(c.head_dim, device)
        self.mlp_act = SwiGLU()

    def forward(self, x, pe, mod):
        shift, scale, gate = mod
        qkv, mlp = torch.split(self.linear1((1 + scale) * _layer_norm(x) + shift),
                               [3 * self.hidden, self.linear1.out_features - 3 * self.hidden], dim=-1)
        q, k, v = _split_heads(qkv, self.num_heads)
        q, k = self.norm(q, k, v)
        out = self.linear2(torch.cat((attention(q, k, v, pe), self.mlp_act(mlp)), dim=2))
        return x + gate * out


class LastLayer(nn.Module):
    def __init__(self, hidden, out_channels, device=None):
        super().__init__()
        self.linear = _linear(hidden, out_channels, device)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), _linear(hidden, 2 * hidden, device))

    def forward(self, x, vec):
        shift, scale = self.adaLN_modulation(vec)[:, None, :].chunk(2, dim=-1)
        return self.linear((1 + scale) * _layer_norm(x) + shift)


class Flux2Transformer(nn.Module):
    """FLUX.2 transformer; parameter names are BFL's checkpoint keys."""

    def __init__(self, config, device=None):
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
    def dtype(self):
        return self.img_in.weight.dtype

    @property
    def device(self):
        return self.img_in.weight.device

    def rope(self, ids):
        """Position embedding for ids [B, N, 4] (or [N, 4]); pass to forward's pe arguments to reuse it."""
        return rope_embedding(ids.to(self.device), self.config.axes_dim, self.config.theta)

    def forward(self, img, img_ids, txt, txt_ids, timesteps, guidance=None, img_pe=None, txt_pe=None):
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


def _set_param(model, name, tensor):
    module_name, _, leaf = name.rpartition(".")
    module = model.get_submodule(module_name) if module_name else model
    setattr(module, leaf, nn.Parameter(tensor, requires_grad=False))


def build_transformer(state, config, device="cpu", dtype=torch.float32):
    """A Flux2Transformer in eval mode on device/dtype from a state in BFL names (checked against config)."""
    state = {_strip(k): v for k, v in state.items()}
    check_shapes({k: tuple(v.shape) for k, v in state.items()}, config, "transformer state")
    model = Flux2Transformer(config, device="meta")
    for name in expected_shapes(config, "bfl"):
        t = state[name]
        if str(t.dtype).startswith("torch.float8"):
            raise CheckpointError(f"transformer tensor {name} is FP8; dequantize it first (dequantize_state)")
        _set_param(model, name, t.to(device=device, dtype=dtype))
    model.eval()
    model.requires_grad_(False)
    return model


def tiny_transformer_state(config, seed=0):
    """Random float32 weights (BFL names) for config, scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in expected_shapes(config, "bfl").items():
        if name.endswith(".scale"):
            state[name] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        else:
            state[name] = torch.randn(shape, generator=g) / math.sqrt(shape[1])
    return state
