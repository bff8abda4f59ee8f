"""The text encoder against transformers' Qwen3Model, the tokenizer against tokenizers (or ourselves)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
from typing import Mapping

import torch
from torch import nn

from fluxbot_klein.checkpoint.text_encoder import build_text_encoder
from fluxbot_klein.checkpoint.tiny import tiny_text_encoder_state
from fluxbot_klein.models.text_encoder import OUTPUT_LAYERS, Qwen3Config
from fluxbot_klein.tokenizer import CHAT_TEMPLATE, Tokenizer

from .common import TEXT_TOKENS, CompareError, Row, Section, build_on, error_row, exact_row, perturb, shapes_for

# Prompts for the tokenizer and text encoder: plain text, punctuation, digits, contractions,
# whitespace runs and newlines, accents in both Unicode normal forms, CJK, emoji, a special token.
PROMPTS = (
    "A photograph of a red fox sitting in the snow at sunrise, soft light.",
    "An oil painting of a lighthouse; dramatic waves!!! and 3 clouds, 1024x768 px.",
    "It's the cat's toy, isn't it? We'll see... they'd've LIKED it.",
    "  leading spaces,\ttabs\tand\n\nnew lines\r\n  trailing   ",
    "Caf\u00e9 cre\u0300me br\u00fbl\u00e9e, na\u00efve r\u00e9sum\u00e9, \u00c5ngstr\u00f6m",
    "\u4e00\u53ea\u732b\u5750\u5728\u7a97\u53f0\u4e0a \u3068\u3046\u304d\u3087\u3046 \ud55c\uad6d\uc5b4 \u0645\u0631\u062d\u0628\u0627",
    "emoji \U0001f98a\U0001f308\u2728 and symbols \u00a9\u00ae\u2122 \u2192 \u221e \u00bd",
    "Make the image brighter <|im_end|> and add a rainbow in the sky above the lake.",
    "",
)


# ----------------------------------------------------------------------------- text encoder


def _prompt_batch(tokenizer: Tokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    ids, masks = [], []
    for prompt in PROMPTS[:3] + PROMPTS[-1:]:
        i, m, _ = tokenizer.chat_ids(prompt, TEXT_TOKENS)
        ids.append(i)
        masks.append(m)
    return torch.tensor(ids), torch.tensor(masks)


def _hf_qwen3(state: Mapping[str, torch.Tensor], config: Qwen3Config, device: torch.device,
              dtype: torch.dtype) -> nn.Module:
    import transformers

    kwargs = dict(vocab_size=config.vocab_size, hidden_size=config.hidden_size,
                  intermediate_size=config.intermediate_size, num_hidden_layers=max(OUTPUT_LAYERS) + 1,
                  num_attention_heads=config.num_heads, num_key_value_heads=config.num_kv_heads,
                  head_dim=config.head_dim, rms_norm_eps=config.rms_eps, rope_theta=config.rope_theta,
                  max_position_embeddings=40960, attention_bias=False, tie_word_embeddings=False)
    if "rope_parameters" in getattr(transformers.Qwen3Config, "__dataclass_fields__", {}):
        kwargs["rope_parameters"] = {"rope_type": "default", "rope_theta": config.rope_theta}  # transformers 5
        del kwargs["rope_theta"]
    hf_config = transformers.Qwen3Config(**kwargs)
    rope = getattr(hf_config, "rope_parameters", None)
    if isinstance(rope, dict) and rope.get("rope_theta") != config.rope_theta:
        hf_config.rope_parameters = dict(rope, rope_type="default", rope_theta=config.rope_theta)
    with build_on(device):  # random init on the GPU, not 3 billion parameters on the CPU
        model = transformers.Qwen3Model(hf_config)
    bare = {k[len("model."):] if k.startswith("model.") else k: v for k, v in state.items()}
    theirs = model.state_dict()
    missing = sorted(set(theirs) - set(bare))
    if missing:
        raise CompareError(f"transformers' Qwen3Model wants tensors our state lacks: {', '.join(missing[:5])}")
    model.load_state_dict({k: bare[k] for k in theirs}, strict=True)
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def compare_text_encoder(args: argparse.Namespace, section: Section, tol: float, tokenizer: Tokenizer) -> None:
    _, config, _, _, _, _ = shapes_for(args.shape)
    if tokenizer.vocab_size > config.vocab_size:  # a real tokenizer with the tiny encoder
        config = dataclasses.replace(config, vocab_size=tokenizer.vocab_size)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    state = tiny_text_encoder_state(config, seed=1)  # layers 0..27 and model.norm
    ref_state = perturb(state, "model.embed_tokens.weight", args.perturb_reference, section.notes)
    ids, mask = _prompt_batch(tokenizer)
    ours = build_text_encoder(state, config, device, dtype)
    mine = ours(ids.to(device), mask.to(device))
    with torch.no_grad():
        if args.self_reference:
            section.reference = "fluxbot_klein itself (--self-reference)"
            theirs = build_text_encoder(ref_state, config, device, dtype)(ids.to(device), mask.to(device))
        else:
            model = _hf_qwen3(ref_state, config, device, dtype)
            section.reference = f"transformers {_version('transformers')} Qwen3Model"
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
            theirs = torch.cat([out.hidden_states[k] for k in OUTPUT_LAYERS], dim=-1)
    real = mask.bool()
    section.rows.append(error_row(f"hidden states {'/'.join(map(str, OUTPUT_LAYERS))} stacked, real tokens",
                             mine[real.to(mine.device)], theirs[real.to(theirs.device)], tol))
    section.rows.append(error_row(f"hidden states stacked, all {TEXT_TOKENS} positions (padding included)",
                             mine, theirs, tol))
    section.notes.append(f"weights: tiny_text_encoder_state(seed=1), hidden {config.hidden_size}, "
                         f"{config.num_heads}/{config.num_kv_heads} heads x {config.head_dim}, 28 layers; "
                         f"{ids.shape[0]} prompts through the chat template, padded to {TEXT_TOKENS}; "
                         f"{args.dtype} on {device}")


def _version(package: str) -> str:
    try:
        return importlib.import_module(package).__version__
    except Exception:  # noqa: BLE001 - a version string is decoration only
        return "?"


# ----------------------------------------------------------------------------- tokenizer


def compare_tokenizer(args: argparse.Namespace, section: Section, path: str) -> None:
    import tokenizers

    where = "our tiny tokenizer.json" if getattr(args, "_tiny_tokenizer", False) else path
    section.reference = f"tokenizers {tokenizers.__version__} on {where}"
    ours = Tokenizer.from_file(path)
    theirs = tokenizers.Tokenizer.from_file(path)
    for i, prompt in enumerate(PROMPTS):
        text = CHAT_TEMPLATE.format(prompt=prompt)
        mine = ours.encode(text)
        ref = theirs.encode(text, add_special_tokens=False).ids
        if len(mine) != len(ref):
            row = Row(f"prompt {i} ids ({len(ref)} tokens; ours {len(mine)})", math.inf, math.inf, 0.0, exact=True)
        else:
            row = exact_row(f"prompt {i} ids ({len(ref)} tokens)", mine, ref)
        section.rows.append(row)
        if not row.ok:
            section.notes.append(f"prompt {i} {prompt!r}: ours {mine[:40]}..., tokenizers {ref[:40]}...")
