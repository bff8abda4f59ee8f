"""Tiny random klein checkpoints in the official layouts, for tests and smoke runs.

"hf": a Hugging Face folder (model_index.json, transformer/ and vae/ in diffusers names with
config.json, text_encoder/ as two shards with an index, tokenizer/). "bfl": BFL's single file
`flux-2-klein-tiny.safetensors` (BFL names) beside text_encoder/, tokenizer/ and BFL's `ae.safetensors`.
Both hold the same weights, so both load to the same model. Deterministic: same bytes every time.
Also the random weights and the tiny tokenizer.json on their own (`tiny_*_state`, `write_tiny_tokenizer`).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Any

import regex
import torch

from ..models.text_encoder import OUTPUT_LAYERS, Qwen3Config
from ..models.transformer import TransformerConfig
from ..models.vae import VaeConfig
from ..tokenizer import QWEN_SPLIT_PATTERN, bytes_to_unicode
from . import safetensors_io, text_encoder, transformer, vae
from .transformer import to_diffusers_names
from .vae import to_diffusers_vae_names

BFL_FILE = "flux-2-klein-tiny.safetensors"
LAYOUTS = ("hf", "bfl")
TEXT_ENCODER_SHARDS = 2


def _write_json(path: str, obj: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def _write_tokenizer(folder: str) -> int:
    tok_dir = os.path.join(folder, "tokenizer")
    os.makedirs(tok_dir, exist_ok=True)
    vocab = write_tiny_tokenizer(os.path.join(tok_dir, "tokenizer.json"))
    _write_json(os.path.join(tok_dir, "tokenizer_config.json"), {
        "tokenizer_class": "Qwen2Tokenizer", "model_max_length": 131072, "pad_token": "<|endoftext|>",
        "eos_token": "<|im_end|>", "bos_token": None, "add_bos_token": False, "clean_up_tokenization_spaces": False,
        "errors": "replace", "split_special_tokens": False})
    return vocab


def _write_text_encoder(folder: str, config: Qwen3Config) -> None:
    te_dir = os.path.join(folder, "text_encoder")
    os.makedirs(te_dir, exist_ok=True)
    state = tiny_text_encoder_state(config, seed=1)
    names = sorted(state)
    per_shard = -(-len(names) // TEXT_ENCODER_SHARDS)
    weight_map, total = {}, 0
    for i in range(TEXT_ENCODER_SHARDS):
        shard = f"model-{i + 1:05d}-of-{TEXT_ENCODER_SHARDS:05d}.safetensors"
        part = {n: state[n] for n in names[i * per_shard:(i + 1) * per_shard]}
        safetensors_io.save(part, os.path.join(te_dir, shard), metadata={"format": "pt"})
        for n, t in part.items():
            weight_map[n] = shard
            total += t.numel() * t.element_size()
    _write_json(os.path.join(te_dir, "model.safetensors.index.json"),
                {"metadata": {"total_size": total}, "weight_map": weight_map})
    layers = len({n.split(".")[2] for n in names if n.startswith("model.layers.")})
    _write_json(os.path.join(te_dir, "config.json"), {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size, "num_hidden_layers": layers,
        "num_attention_heads": config.num_heads, "num_key_value_heads": config.num_kv_heads,
        "head_dim": config.head_dim, "intermediate_size": config.intermediate_size,
        "rope_theta": config.rope_theta, "rms_norm_eps": config.rms_eps, "hidden_act": "silu",
        "max_position_embeddings": 40960, "tie_word_embeddings": True, "torch_dtype": "float32"})


def transformer_config_json(c: TransformerConfig) -> dict[str, Any]:
    """diffusers' transformer/config.json for c."""
    return {"_class_name": "Flux2Transformer2DModel", "patch_size": 1, "in_channels": c.in_channels,
            "out_channels": None, "num_layers": c.depth_double, "num_single_layers": c.depth_single,
            "attention_head_dim": c.head_dim, "num_attention_heads": c.num_heads,
            "joint_attention_dim": c.context_in_dim, "timestep_guidance_channels": 256,
            "mlp_ratio": c.mlp_hidden_dim / c.hidden_size, "axes_dims_rope": list(c.axes_dim),
            "rope_theta": c.theta, "eps": 1e-6, "guidance_embeds": c.guidance_embed}


def vae_config_json(c: VaeConfig) -> dict[str, Any]:
    """diffusers' vae/config.json for c."""
    return {"_class_name": "AutoencoderKLFlux2", "in_channels": c.in_channels, "out_channels": c.out_channels,
            "block_out_channels": [c.ch * m for m in c.ch_mult], "layers_per_block": c.num_res_blocks,
            "latent_channels": c.z_channels, "norm_num_groups": 32, "patch_size": [2, 2],
            "batch_norm_eps": 1e-4, "use_quant_conv": c.quant_conv, "use_post_quant_conv": c.quant_conv}


def write_tiny_checkpoint(folder: str | os.PathLike[str], layout: str = "hf") -> str:
    """Write a tiny random klein checkpoint into folder; returns the path to pass to --checkpoint."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    folder = os.path.abspath(os.fspath(folder))
    os.makedirs(folder, exist_ok=True)
    vocab = _write_tokenizer(folder)
    te_config = Qwen3Config.tiny(vocab)
    _write_text_encoder(folder, te_config)
    t_config = TransformerConfig.tiny(len(OUTPUT_LAYERS) * te_config.hidden_size)
    t_state = tiny_transformer_state(t_config, seed=2)
    v_config = VaeConfig.tiny()
    v_state = tiny_vae_state(v_config, seed=3)
    meta = {"format": "pt"}
    # the tiny transformer stands in for klein-4b: workers on it serve klein-4b requests
    t_meta = {"format": "pt", "fluxbot.model": "klein-4b"}
    if layout == "bfl":
        path = os.path.join(folder, BFL_FILE)
        safetensors_io.save(t_state, path, metadata=t_meta)
        safetensors_io.save(v_state, os.path.join(folder, "ae.safetensors"), metadata=meta)
        return path
    tdir = os.path.join(folder, "transformer")
    os.makedirs(tdir, exist_ok=True)
    safetensors_io.save(to_diffusers_names(t_state), os.path.join(tdir, "diffusion_pytorch_model.safetensors"),
                        metadata=t_meta)
    _write_json(os.path.join(tdir, "config.json"), transformer_config_json(t_config))
    vdir = os.path.join(folder, "vae")
    os.makedirs(vdir, exist_ok=True)
    safetensors_io.save(to_diffusers_vae_names(v_state), os.path.join(vdir, "diffusion_pytorch_model.safetensors"),
                        metadata=meta)
    _write_json(os.path.join(vdir, "config.json"), vae_config_json(v_config))
    _write_json(os.path.join(folder, "model_index.json"), {
        "_class_name": "Flux2KleinPipeline", "is_distilled": True,
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "Qwen3ForCausalLM"], "tokenizer": ["transformers", "Qwen2TokenizerFast"],
        "transformer": ["diffusers", "Flux2Transformer2DModel"], "vae": ["diffusers", "AutoencoderKLFlux2"]})
    return folder


# Random weights


def tiny_transformer_state(config: TransformerConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random float32 weights (BFL names) for config, scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in transformer.expected_shapes(config, "bfl").items():
        if name.endswith(".scale"):
            state[name] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        else:
            state[name] = torch.randn(shape, generator=g) / math.sqrt(shape[1])
    return state


def tiny_vae_state(config: VaeConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random float32 weights with BFL names, scaled so activations stay near unit size."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in vae.expected_shapes(config, "bfl").items():
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


def tiny_text_encoder_state(config: Qwen3Config, seed: int = 0,
                             total_layers: int | None = None) -> dict[str, torch.Tensor]:
    """A random float32 state dict (HF names) with total_layers layers (default 28) and model.norm."""
    total = max(OUTPUT_LAYERS) + 1 if total_layers is None else total_layers
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in text_encoder.expected_shapes(config, total).items():
        if len(shape) == 1:
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith("embed_tokens.weight"):
            t = torch.randn(shape, generator=gen)
        else:
            t = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
        state[name] = t
    return state


# The tiny tokenizer: Qwen3's added tokens, merges learned from this text.

_BYTE_TO_CHAR = bytes_to_unicode()

QWEN3_ADDED_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True), ("<|box_start|>", True),
    ("<|box_end|>", True), ("<|quad_start|>", True), ("<|quad_end|>", True),
    ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False),
    ("</tool_call>", False), ("<|fim_prefix|>", True), ("<|fim_middle|>", True),
    ("<|fim_suffix|>", True), ("<|fim_pad|>", True), ("<|repo_name|>", True),
    ("<|file_sep|>", True), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False),
]

_TRAINING_TEXT = """\
A photograph of a red fox sitting in the snow at sunrise, soft light, shallow depth of field.
An oil painting of a lighthouse on a rocky coast during a storm, dramatic waves and clouds.
A watercolor illustration of a small village with colorful houses along a quiet river.
The cat is sleeping on the window sill while the rain is falling on the garden outside.
A portrait of an old sailor with a white beard and a blue hat, looking at the sea.
A futuristic city at night with neon lights, flying cars and tall glass towers.
A bowl of fresh fruit on a wooden table: apples, oranges, grapes and a banana.
The mountains are covered with green forests and the sky is clear and bright.
A child is reading a book under a large tree in the park on a sunny afternoon.
Make the image brighter and add a rainbow in the sky above the lake.
user assistant think the and of in on with a an is are at to for this that there
"""


def _learn_merges(text: str, count: int) -> list[tuple[str, str]]:
    """Learns up to count merges from text with the standard pair-frequency BPE procedure."""
    split = regex.compile(QWEN_SPLIT_PATTERN)
    words = Counter("".join(_BYTE_TO_CHAR[b] for b in w.encode("utf-8")) for w in split.findall(text))
    seqs = {w: list(w) for w in words}
    merges = []
    while len(merges) < count:
        pairs = Counter()
        for w, n in words.items():
            s = seqs[w]
            for p in zip(s, s[1:]):
                pairs[p] += n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], -len(kv[0][0] + kv[0][1]), kv[0]))[0]
        merges.append(best)
        a, b = best
        for w in seqs:
            s = seqs[w]
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


def tiny_tokenizer_json(merge_count: int = 300) -> dict[str, Any]:
    """A small tokenizer.json (as a dict) in Qwen3's exact structure."""
    vocab = {}
    for ch in sorted(_BYTE_TO_CHAR.values()):
        vocab[ch] = len(vocab)
    merges = []
    for a, b in _learn_merges(_TRAINING_TEXT, merge_count):
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
        merges.append([a, b])
    added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": special}
             for i, (c, special) in enumerate(QWEN3_ADDED_TOKENS)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN_SPLIT_PATTERN}, "behavior": "Isolated",
             "invert": False},
            dict(byte_level),
        ]},
        "post_processor": dict(byte_level),
        "decoder": dict(byte_level),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }


def write_tiny_tokenizer(path: str | os.PathLike[str]) -> int:
    """Writes a tiny Qwen3-structured tokenizer.json to path (a file, or a folder) and returns its vocab size."""
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    data = tiny_tokenizer_json()
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
    return max(t["id"] for t in data["added_tokens"]) + 1
