"""Find klein's components in a checkpoint, check them from their headers, build the model.

Two layouts:
- a Hugging Face folder: `transformer/` (diffusers names), `text_encoder/` (Qwen3, often sharded
  with an index.json), `vae/` (diffusers names), `tokenizer/tokenizer.json`, usually `model_index.json`;
- BFL's single file (`flux-2-klein-4b.safetensors`, BFL names) whose folder holds `text_encoder/`,
  `tokenizer/` and the VAE: BFL's `ae.safetensors` (or `flux2-vae.safetensors`) or a `vae/` folder.

Every shape is read from the headers and checked before any tensor data is read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import torch

from ..errors import CheckpointError
from ..models.text_encoder import Qwen3Config, Qwen3Encoder
from ..models.transformer import Flux2Transformer, TransformerConfig
from ..models.vae import Flux2Vae, VaeConfig
from ..tokenizer import Tokenizer
from . import safetensors_io, text_encoder as te, transformer as tr, vae as vae_mod

T = TypeVar("T")

HF_LAYOUT = ("transformer/", "text_encoder/", "vae/", "tokenizer/tokenizer.json")
BFL_VAE_FILES = ("ae.safetensors", "flux2-vae.safetensors", "flux2_vae.safetensors")
VARIANTS = ("distilled", "base")
_DTYPES = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float16": torch.float16,
           "fp16": torch.float16, "half": torch.float16, "float32": torch.float32, "fp32": torch.float32,
           "float": torch.float32}


@dataclass
class KleinModel:
    """A loaded klein model: its four parts, where they live and what they are."""
    name: str
    variant: str
    transformer: Flux2Transformer
    text_encoder: Qwen3Encoder
    tokenizer: Tokenizer
    vae: Flux2Vae
    device: torch.device
    dtype: torch.dtype


@dataclass
class Components:
    """Where each part of a checkpoint is (lists of .safetensors files, paths)."""
    layout: str  # "hf" or "bfl"
    transformer: list[str]
    text_encoder: list[str]
    text_encoder_config: dict[str, Any] | None  # from config.json
    vae: list[str]
    tokenizer: str


def resolve_device(device: torch.device | str | None) -> torch.device:
    """"auto" -> cuda when available, else cpu; returns a torch.device."""
    if device is None or device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise CheckpointError(f"--device {device!r} is not a device; use cuda, cuda:N, cpu or auto") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise CheckpointError(f"--device {device}: this PyTorch ({torch.__version__}) sees no CUDA GPU; "
                                  "use --device cpu or auto")
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
        elif dev.index >= torch.cuda.device_count():
            raise CheckpointError(f"--device {device}: there are only {torch.cuda.device_count()} CUDA devices")
    return dev


def resolve_dtype(dtype: torch.dtype | str | None, device: torch.device | str) -> torch.dtype:
    """None -> bfloat16 on CUDA, float32 elsewhere; accepts torch dtypes and names like "bf16"."""
    if dtype is None:
        return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    key = str(dtype).lower().replace("torch.", "")
    if key not in _DTYPES:
        raise CheckpointError(f"dtype {dtype!r} is not supported; use bfloat16, float16 or float32")
    return _DTYPES[key]


def resolve_variant(path: str | os.PathLike[str], variant: str | None = None) -> str:
    """The variant argument, else "base" when the file or folder name says base, else "distilled"."""
    if variant is not None:
        if variant not in VARIANTS:
            raise CheckpointError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}")
        return variant
    name = os.path.basename(os.path.normpath(os.fspath(path))).lower()
    return "base" if "base" in name else "distilled"


def _missing(path: str, component: str, expected: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: the {component} is missing: expected {expected}. A klein checkpoint is either a Hugging "
        f"Face folder ({', '.join(HF_LAYOUT)}) or BFL's single file flux-2-klein-*.safetensors beside "
        "text_encoder/, tokenizer/tokenizer.json and the VAE (ae.safetensors or vae/)")


def _component_files(folder: str, path: str, component: str, expected: str) -> list[str]:
    if not os.path.isdir(folder):
        raise _missing(path, component, expected)
    try:
        return safetensors_io.files_in(folder)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: the {component} ({expected}) is incomplete: {e}") from None


def _read_json(path: str, what: str) -> Any:
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: the {what} is unreadable ({type(e).__name__}: {e})") from None


def _tokenizer_path(root: str, path: str) -> str:
    for candidate in (os.path.join(root, "tokenizer", "tokenizer.json"), os.path.join(root, "tokenizer.json"),
                      os.path.join(root, "text_encoder", "tokenizer.json")):
        if os.path.isfile(candidate):
            return candidate
    raise _missing(path, "tokenizer", f"{os.path.join(root, 'tokenizer', 'tokenizer.json')}")


def _text_encoder(root: str, path: str) -> tuple[list[str], dict[str, Any] | None]:
    folder = os.path.join(root, "text_encoder")
    files = _component_files(folder, path, "text encoder",
                             f"a folder {folder}/ with Qwen3 *.safetensors (and config.json)")
    config_path = os.path.join(folder, "config.json")
    config = _read_json(config_path, "text encoder config") if os.path.isfile(config_path) else None
    return files, config


def find_components(path: str | os.PathLike[str]) -> Components:
    """Components of the checkpoint at path (a Hugging Face folder or a BFL single file)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        root = path
        tdir = os.path.join(root, "transformer")
        if not os.path.isdir(tdir):
            singles = sorted(f for f in os.listdir(root) if f.endswith(".safetensors")
                             and f not in BFL_VAE_FILES)
            if len(singles) == 1:
                return find_components(os.path.join(root, singles[0]))
            raise _missing(path, "transformer", f"a folder {tdir}/ with diffusion_pytorch_model*.safetensors "
                           f"(or one BFL single file in the folder; found {len(singles)})")
        transformer = _component_files(tdir, path, "transformer", f"{tdir}/ with *.safetensors")
        te_files, te_config = _text_encoder(root, path)
        vdir = os.path.join(root, "vae")
        vae = _component_files(vdir, path, "VAE", f"a folder {vdir}/ with diffusion_pytorch_model.safetensors")
        return Components("hf", transformer, te_files, te_config, vae, _tokenizer_path(root, path))
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file or folder; --checkpoint takes a Hugging Face klein "
                              "folder or BFL's flux-2-klein-*.safetensors")
    if not path.endswith(".safetensors"):
        raise CheckpointError(f"{path}: not a .safetensors file; --checkpoint takes a Hugging Face klein "
                              "folder or BFL's flux-2-klein-*.safetensors")
    root = os.path.dirname(os.path.abspath(path))
    te_files, te_config = _text_encoder(root, path)
    vae = None
    for name in BFL_VAE_FILES:
        candidate = os.path.join(root, name)
        if os.path.isfile(candidate) and os.path.abspath(candidate) != os.path.abspath(path):
            vae = [candidate]
            break
    if vae is None:
        vdir = os.path.join(root, "vae")
        vae = _component_files(vdir, path, "VAE", f"BFL's ae.safetensors in {root} or a folder {vdir}/")
    return Components("bfl", [path], te_files, te_config, vae, _tokenizer_path(root, path))


@dataclass
class Plan:
    """What a checkpoint holds, from its headers alone."""
    components: Components
    transformer_layout: str
    transformer_config: TransformerConfig
    text_encoder_config: Qwen3Config
    vae_layout: str
    vae_config: VaeConfig
    has_fp8: bool


def _in_part(what: str, files: list[str], fn: Callable[[], T]) -> T:
    try:
        return fn()
    except CheckpointError as e:
        raise CheckpointError(f"{what} ({', '.join(files[:3])}{' ...' if len(files) > 3 else ''}): {e}") from None


def plan(path: str | os.PathLike[str]) -> Plan:
    """Read every header of the checkpoint at path, infer configs and check that the parts fit."""
    c = find_components(path)
    tshapes = safetensors_io.shapes(c.transformer)
    has_fp8 = any(info.dtype.startswith("F8") for p in c.transformer
                  for info in safetensors_io.read_header(p)[0].values())
    tlayout = _in_part("transformer", c.transformer, lambda: tr.detect_layout(tshapes))
    tconfig = _in_part("transformer", c.transformer, lambda: tr.infer_transformer_config(tshapes, tlayout))
    teshapes = safetensors_io.shapes(c.text_encoder)
    teconfig = _in_part("text encoder", c.text_encoder,
                        lambda: te.infer_qwen3_config(teshapes, c.text_encoder_config))
    if teconfig.output_width != tconfig.context_in_dim:
        raise CheckpointError(
            f"{path}: the text encoder (hidden {teconfig.hidden_size}, output width {teconfig.output_width}) "
            f"does not fit the transformer (text input width {tconfig.context_in_dim}, {tconfig.model_name}); "
            "klein 4B needs Qwen3-4B, klein 9B Qwen3-8B")
    vshapes = safetensors_io.shapes(c.vae)
    vlayout = _in_part("VAE", c.vae, lambda: vae_mod.detect_vae_layout(vshapes))
    vconfig = _in_part("VAE", c.vae, lambda: vae_mod.infer_vae_config(vshapes, vlayout))
    if vconfig.latent_channels != tconfig.in_channels:
        raise CheckpointError(f"{path}: the VAE has {vconfig.latent_channels} latent channels but the "
                              f"transformer takes {tconfig.in_channels}; the VAE is of another model")
    return Plan(c, tlayout, tconfig, teconfig, vlayout, vconfig, has_fp8)


DECLARED_MODEL_KEY = "fluxbot.model"
CATALOG_MODELS = ("klein-4b", "klein-9b")


def model_name(p: Plan) -> str:
    """The catalog model the checkpoint serves: klein-4b or klein-9b by the transformer's shapes.

    A transformer of other shapes (a test's tiny random checkpoint, a pruned model) is "custom",
    unless its file declares in its safetensors metadata (key "fluxbot.model") which catalog model
    it stands in for.
    """
    name = p.transformer_config.model_name
    if name != "custom":
        return name
    declared = safetensors_io.read_header(p.components.transformer[0])[1].get(DECLARED_MODEL_KEY)
    if declared is None:
        return name
    if declared not in CATALOG_MODELS:
        raise CheckpointError(f"{p.components.transformer[0]}: metadata {DECLARED_MODEL_KEY} must be one of "
                              f"{', '.join(CATALOG_MODELS)}; got {declared!r}")
    return declared


def load_klein(path: str | os.PathLike[str], device: torch.device | str | None = "cpu",
               dtype: torch.dtype | str | None = None, variant: str | None = None) -> KleinModel:
    """Load a klein checkpoint (Hugging Face folder or BFL single file) onto device in dtype."""
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device)
    variant = resolve_variant(path, variant)
    p = plan(path)
    c = p.components
    tokenizer = Tokenizer.from_file(c.tokenizer)
    if tokenizer.vocab_size > p.text_encoder_config.vocab_size:
        raise CheckpointError(f"{c.tokenizer}: the tokenizer has {tokenizer.vocab_size} tokens but the text "
                              f"encoder embeds only {p.text_encoder_config.vocab_size}; they are of different models")

    # transformer: FP8 weights are loaded as stored, then their scales folded in
    state = safetensors_io.load(c.transformer, device=device, dtype=None if p.has_fp8 else dtype)
    state = tr.to_bfl_names(state)
    if p.has_fp8:
        state = tr.dequantize_state(state, dtype)
    transformer = tr.build_transformer(state, p.transformer_config, device=device, dtype=dtype)
    del state

    prefix = te.hf_prefix(safetensors_io.shapes(c.text_encoder))
    names = te.required_names(p.text_encoder_config, prefix)
    state = safetensors_io.load(c.text_encoder, names=names, device=device, dtype=dtype)
    text_encoder = te.build_text_encoder(state, p.text_encoder_config, device=device, dtype=dtype)
    del state

    # VAE: loaded as stored (BatchNorm statistics stay float32), converted by build_vae
    state = safetensors_io.load(c.vae, device=device)
    if p.vae_layout == "diffusers":
        state = vae_mod.to_bfl_vae_names(state)
    vae = vae_mod.build_vae(state, p.vae_config, device=device, dtype=dtype)
    del state
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return KleinModel(name=model_name(p), variant=variant, transformer=transformer,
                      text_encoder=text_encoder, tokenizer=tokenizer, vae=vae, device=device, dtype=dtype)
