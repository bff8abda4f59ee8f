"""Text encoder checkpoints: Qwen3's Hugging Face key names, shapes, config inference, building.

Names are Qwen3ForCausalLM's (``model.embed_tokens``, ``model.layers.N.self_attn.q_proj``…) or a
bare Qwen3Model's (the same without ``model.``); only the embeddings and layers 0..26 are read.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import torch

from ..errors import CheckpointError
from ..models import Device
from ..models.text_encoder import OUTPUT_LAYERS, Qwen3Config, Qwen3Encoder, Qwen3Layer

PREFIX = "model."
_LAYER_RE = re.compile(r"^(?:model\.)?layers\.(\d+)\.")
LAYER_PARTS = (
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


def hf_prefix(names: Iterable[str]) -> str:
    """"model." when the names are Qwen3ForCausalLM's, "" when they are a bare Qwen3Model's."""
    for name in names:
        if name.startswith(PREFIX + "embed_tokens.") or name.startswith(PREFIX + "layers."):
            return PREFIX
    return ""


def _layer_names(i: int, prefix: str = PREFIX) -> list[str]:
    return [f"{prefix}layers.{i}.{part}" for part in LAYER_PARTS]


def required_names(config: Qwen3Config, prefix: str = PREFIX) -> list[str]:
    """The Hugging Face names the encoder reads: embeddings and layers 0..num_layers-1 only."""
    names = [f"{prefix}embed_tokens.weight"]
    for i in range(config.num_layers):
        names.extend(_layer_names(i, prefix))
    return names


def expected_shapes(config: Qwen3Config, total_layers: int, lm_head: bool = False,
                    prefix: str = PREFIX) -> dict[str, tuple[int, ...]]:
    """Shapes of a full Qwen3 checkpoint with total_layers layers (plus model.norm, optional lm_head)."""
    h, d = config.hidden_size, config.head_dim
    per_layer: dict[str, tuple[int, ...]] = {
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


def _shape(shapes: Mapping[str, tuple[int, ...]], name: str) -> tuple[int, ...]:
    if name not in shapes:
        raise CheckpointError(f"text encoder tensor {name} is missing; this is not a complete Qwen3 "
                              f"checkpoint ({len(shapes)} tensors found)")
    return tuple(shapes[name])


def infer_qwen3_config(shapes: Mapping[str, Any], config_json: Mapping[str, Any] | None = None) -> Qwen3Config:
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


def build_text_encoder(state: Mapping[str, torch.Tensor], config: Qwen3Config, device: Device = "cpu",
                       dtype: torch.dtype = torch.float32) -> Qwen3Encoder:
    """Builds the encoder from a state dict with HF names (with or without "model."); eval, no grad."""
    prefix = hf_prefix(state)
    expected = expected_shapes(config, config.num_layers, prefix=prefix)

    def take(name: str) -> torch.Tensor:
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
            w = {part: take(f"{prefix}layers.{i}.{part}") for part in LAYER_PARTS}
            layers.append(Qwen3Layer(w, config))
        model = Qwen3Encoder(embed, layers, config)
    model.eval()
    model.requires_grad_(False)
    return model
