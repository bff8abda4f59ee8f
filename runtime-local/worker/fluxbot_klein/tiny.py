"""A tiny random klein checkpoint in the official layouts, for tests and smoke runs.

"hf": a Hugging Face folder (model_index.json, transformer/ and vae/ in diffusers names with
config.json, text_encoder/ as two shards with an index, tokenizer/). "bfl": BFL's single file
`flux-2-klein-tiny.safetensors` (BFL names) beside text_encoder/, tokenizer/ and BFL's `ae.safetensors`.
Both hold the same weights, so both load to the same model. Deterministic: same bytes every time.
"""

import json
import os

from . import safetensors_io
from .text_encoder import OUTPUT_LAYERS, Qwen3Config, tiny_text_encoder_state
from .tokenizer import write_tiny_tokenizer
from .transformer import TransformerConfig, tiny_transformer_state, to_diffusers_names
from .vae import VaeConfig, tiny_vae_state, to_diffusers_vae_names

BFL_FILE = "flux-2-klein-tiny.safetensors"
LAYOUTS = ("hf", "bfl")
TEXT_ENCODER_SHARDS = 2


def _write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def _write_tokenizer(folder):
    tok_dir = os.path.join(folder, "tokenizer")
    os.makedirs(tok_dir, exist_ok=True)
    vocab = write_tiny_tokenizer(os.path.join(tok_dir, "tokenizer.json"))
    _write_json(os.path.join(tok_dir, "tokenizer_config.json"), {
        "tokenizer_class": "Qwen2Tokenizer", "model_max_length": 131072, "pad_token": "<|endoftext|>",
        "eos_token": "<|im_end|>", "bos_token": None, "add_bos_token": False, "clean_up_tokenization_spaces": False,
        "errors": "replace", "split_special_tokens": False})
    return vocab


def _write_text_encoder(folder, config):
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


def _transformer_config_json(c):
    return {"_class_name": "Flux2Transformer2DModel", "patch_size": 1, "in_channels": c.in_channels,
            "out_channels": None, "num_layers": c.depth_double, "num_single_layers": c.depth_single,
            "attention_head_dim": c.head_dim, "num_attention_heads": c.num_heads,
            "joint_attention_dim": c.context_in_dim, "timestep_guidance_channels": 256,
            "mlp_ratio": c.mlp_hidden_dim / c.hidden_size, "axes_dims_rope": list(c.axes_dim),
            "rope_theta": c.theta, "eps": 1e-6, "guidance_embeds": c.guidance_embed}


def _vae_config_json(c):
    return {"_class_name": "AutoencoderKLFlux2", "in_channels": c.in_channels, "out_channels": c.out_channels,
            "block_out_channels": [c.ch * m for m in c.ch_mult], "layers_per_block": c.num_res_blocks,
            "latent_channels": c.z_channels, "norm_num_groups": 32, "patch_size": [2, 2],
            "batch_norm_eps": 1e-4, "use_quant_conv": c.quant_conv, "use_post_quant_conv": c.quant_conv}


def write_tiny_checkpoint(folder, layout="hf"):
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
    _write_json(os.path.join(tdir, "config.json"), _transformer_config_json(t_config))
    vdir = os.path.join(folder, "vae")
    os.makedirs(vdir, exist_ok=True)
    safetensors_io.save(to_diffusers_vae_names(v_state), os.path.join(vdir, "diffusion_pytorch_model.safetensors"),
                        metadata=meta)
    _write_json(os.path.join(vdir, "config.json"), _vae_config_json(v_config))
    _write_json(os.path.join(folder, "model_index.json"), {
        "_class_name": "Flux2KleinPipeline", "is_distilled": True,
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "Qwen3ForCausalLM"], "tokenizer": ["transformers", "Qwen2TokenizerFast"],
        "transformer": ["diffusers", "Flux2Transformer2DModel"], "vae": ["diffusers", "AutoencoderKLFlux2"]})
    return folder
