"""Transformer checkpoints: BFL and diffusers key names, shapes, config inference, building the model.

`Flux2Transformer`'s parameters carry BFL's names. Hugging Face's `transformer/` folder (diffusers'
`Flux2Transformer2DModel`) names them differently, splits each double block's fused qkv into q, k
and v, stores the final adaLN's (shift, scale) as (scale, shift) and calls the Q/K norm scales
`weight`. `TABLE` holds both namings; `to_bfl_names` and `to_diffusers_names` read it.
"""

from __future__ import annotations

from typing import Any, Mapping, TypeVar

import torch
from torch import nn

from ..errors import CheckpointError
from ..models.transformer import ROPE_THETA, TIME_EMBED_DIM, Flux2Transformer, TransformerConfig
from .names import NameTable, Rule

PREFIXES = ("model.diffusion_model.",)
# Companion tensors of quantized (FP8) checkpoints; see dequantize_state.
QUANT_SUFFIXES = ("weight_scale", "scale_weight", "input_scale", "scale_input", "comfy_quant")
SWAP_HALVES = "swap_halves"  # the final adaLN: BFL's (shift, scale) is diffusers' (scale, shift)
_NORM = ("scale", "weight")  # RMSNorm scales: BFL's `scale`, diffusers' `weight`

V = TypeVar("V")  # a tensor, or a shape tuple


def _double(bfl: str, diffusers: str | tuple[str, ...], **kw: Any) -> Rule:
    return Rule(f"double_blocks.{{i}}.{bfl}.{{param}}",
                tuple(f"transformer_blocks.{{i}}.{d}.{{param}}" for d in diffusers) if isinstance(diffusers, tuple)
                else f"transformer_blocks.{{i}}.{diffusers}.{{param}}", **kw)


def _single(bfl: str, diffusers: str, **kw: Any) -> Rule:
    return Rule(f"single_blocks.{{i}}.{bfl}.{{param}}", f"single_transformer_blocks.{{i}}.{diffusers}.{{param}}", **kw)


def _top(bfl: str, diffusers: str, **kw: Any) -> Rule:
    return Rule(f"{bfl}.{{param}}", f"{diffusers}.{{param}}", **kw)


TABLE = NameTable([
    _top("img_in", "x_embedder"),
    _top("txt_in", "context_embedder"),
    _top("time_in.in_layer", "time_guidance_embed.timestep_embedder.linear_1"),
    _top("time_in.out_layer", "time_guidance_embed.timestep_embedder.linear_2"),
    _top("guidance_in.in_layer", "time_guidance_embed.guidance_embedder.linear_1"),
    _top("guidance_in.out_layer", "time_guidance_embed.guidance_embedder.linear_2"),
    _top("double_stream_modulation_img.lin", "double_stream_modulation_img.linear"),
    _top("double_stream_modulation_txt.lin", "double_stream_modulation_txt.linear"),
    _top("single_stream_modulation.lin", "single_stream_modulation.linear"),
    _top("final_layer.linear", "proj_out"),
    _top("final_layer.adaLN_modulation.1", "norm_out.linear", value=SWAP_HALVES),
    _double("img_attn.qkv", ("attn.to_q", "attn.to_k", "attn.to_v")),
    _double("txt_attn.qkv", ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj")),
    _double("img_attn.qkv", "attn.to_qkv", read_only=True),  # diffusers after fuse_qkv_projections()
    _double("txt_attn.qkv", "attn.to_added_qkv", read_only=True),
    _double("img_attn.norm.query_norm", "attn.norm_q", param=_NORM),
    _double("img_attn.norm.key_norm", "attn.norm_k", param=_NORM),
    _double("txt_attn.norm.query_norm", "attn.norm_added_q", param=_NORM),
    _double("txt_attn.norm.key_norm", "attn.norm_added_k", param=_NORM),
    _double("img_attn.proj", "attn.to_out.0"),
    _double("txt_attn.proj", "attn.to_add_out"),
    _double("img_mlp.0", "ff.linear_in"),
    _double("img_mlp.2", "ff.linear_out"),
    _double("txt_mlp.0", "ff_context.linear_in"),
    _double("txt_mlp.2", "ff_context.linear_out"),
    _single("linear1", "attn.to_qkv_mlp_proj"),
    _single("linear2", "attn.to_out"),
    _single("norm.query_norm", "attn.norm_q", param=_NORM),
    _single("norm.key_norm", "attn.norm_k", param=_NORM),
])


def _strip(name: str) -> str:
    for p in PREFIXES:
        if name.startswith(p):
            return name[len(p):]
    return name


def _is_quant(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in QUANT_SUFFIXES


def _split_param(name: str) -> tuple[str, str]:
    module, _, param = name.rpartition(".")
    return module, param


def _is_tensor(v: object) -> bool:
    return isinstance(v, torch.Tensor)


def _cat3(name: str, values: list[Any]) -> Any:
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


def _split3(name: str, value: Any) -> tuple[Any, Any, Any]:
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


def _swap_halves(value: Any) -> Any:
    """(a, b) -> (b, a) along dim 0: the final adaLN's (shift, scale) vs diffusers' (scale, shift)."""
    if _is_tensor(value):
        if value.dim() == 0:
            return value
        a, b = value.chunk(2, dim=0)
        return torch.cat([b, a], dim=0)
    return tuple(value)


def detect_layout(shapes: Mapping[str, Any]) -> str:
    """"bfl" or "diffusers" from the tensor names (values are ignored)."""
    names = [_strip(n) for n in shapes]
    if any(n.startswith(("img_in.", "double_blocks.", "single_blocks.")) for n in names):
        return "bfl"
    if any(n.startswith(("x_embedder.", "transformer_blocks.", "single_transformer_blocks.")) for n in names):
        return "diffusers"
    sample = ", ".join(sorted(names)[:5]) or "(no tensors)"
    raise CheckpointError(f"not a FLUX.2 transformer: no img_in/double_blocks (BFL) or x_embedder/"
                          f"transformer_blocks (diffusers) tensors; found e.g. {sample}")


def to_bfl_names(state: Mapping[str, V]) -> dict[str, V]:
    """Map a state (tensors or shape tuples) in diffusers or BFL names to BFL names.

    Split q/k/v become one fused qkv, the final adaLN halves are swapped, norm `weight` becomes
    `scale`. A BFL state comes back with only the `model.diffusion_model.` prefix removed.
    """
    stripped = {_strip(k): v for k, v in state.items()}
    if detect_layout(stripped) == "bfl":
        return stripped
    out: dict[str, Any] = {}
    pending: dict[str, tuple[Rule, dict[str, str], dict[int, Any]]] = {}  # fused target -> its parts
    for name, value in stripped.items():
        found = TABLE.rename(name, to_bfl=True)
        if found is None:
            raise CheckpointError(f"tensor {name!r} is not part of a diffusers Flux2Transformer2DModel; "
                                  f"is this the transformer folder of a FLUX.2 checkpoint?")
        if len(found.rule.others) > 1:
            pending.setdefault(found.target, (found.rule, found.fields, {}))[2][found.part] = value
        else:
            out[found.target] = _swap_halves(value) if found.rule.value == SWAP_HALVES else value
    for target, (rule, fields, parts) in pending.items():
        if len(parts) != len(rule.others):
            missing = [p.format(**fields) for i, p in enumerate(rule.others) if i not in parts]
            raise CheckpointError(f"cannot build {target}: missing {', '.join(missing)}")
        out[target] = _cat3(target, [parts[i] for i in range(len(rule.others))])
    return out


def to_diffusers_names(state: Mapping[str, V]) -> dict[str, V]:
    """Map a state (tensors or shape tuples) in BFL names to diffusers' Flux2Transformer2DModel names."""
    out: dict[str, Any] = {}
    for name, value in state.items():
        name = _strip(name)
        found = TABLE.rename(name, to_bfl=False)
        if found is None:
            raise CheckpointError(f"tensor {name!r} is not part of a BFL FLUX.2 transformer")
        if isinstance(found.target, tuple):
            for target, part in zip(found.target, _split3(name, value)):
                out[target] = part
        else:
            out[found.target] = _swap_halves(value) if found.rule.value == SWAP_HALVES else value
    return out


def dequantize_state(state: Mapping[str, torch.Tensor], dtype: torch.dtype = torch.bfloat16) -> dict[str, torch.Tensor]:
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


# ---------------------------------------------------------------------------------------------
# Shapes


def expected_shapes(config: TransformerConfig, layout: str = "bfl") -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor a transformer with this config has, in "bfl" or "diffusers" names."""
    h, c = config.hidden_size, config
    m, d = c.mlp_hidden_dim, c.head_dim
    s: dict[str, tuple[int, ...]] = {
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


def _block_indices(names: Mapping[str, Any], prefix: str) -> int:
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


def _need(shapes: Mapping[str, tuple[int, ...]], name: str, ndim: int) -> tuple[int, ...]:
    if name not in shapes:
        raise CheckpointError(f"transformer checkpoint lacks {name}; not a FLUX.2 [klein] transformer "
                              f"(or the file is incomplete)")
    shape = tuple(shapes[name])
    if len(shape) != ndim:
        raise CheckpointError(f"transformer tensor {name} has shape {shape}, expected {ndim} dimensions")
    return shape


def check_shapes(shapes: Mapping[str, Any], config: TransformerConfig, what: str = "transformer checkpoint") -> None:
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


def infer_transformer_config(shapes: Mapping[str, Any], layout: str = "bfl") -> TransformerConfig:
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
# Building


def _set_param(model: nn.Module, name: str, tensor: torch.Tensor) -> None:
    module_name, _, leaf = name.rpartition(".")
    module = model.get_submodule(module_name) if module_name else model
    setattr(module, leaf, nn.Parameter(tensor, requires_grad=False))


def build_transformer(state: Mapping[str, torch.Tensor], config: TransformerConfig,
                      device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> Flux2Transformer:
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
