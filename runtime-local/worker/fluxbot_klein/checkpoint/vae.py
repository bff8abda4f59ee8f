"""VAE checkpoints: BFL's `ae.safetensors` and diffusers' `vae/` names, shapes, config inference, building.

The Hugging Face `vae/` folder (diffusers `AutoencoderKLFlux2`) names `Flux2Vae`'s tensors
`encoder.down_blocks.N.resnets.M`, `mid_block.attentions.0.to_q` (linear weights where BFL has
1x1 convs), top-level `quant_conv`/`post_quant_conv`, and numbers the decoder's up blocks in
reverse. `TABLE` holds both namings; `to_bfl_vae_names` and `to_diffusers_vae_names` read it.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, TypeVar

import torch

from ..errors import CheckpointError
from ..models import Device
from ..models.vae import GROUPS, Flux2Vae, VaeConfig
from .names import NameTable, Rule

# Present in some files (diffusers' save_pretrained writes BatchNorm's counter), never needed.
OPTIONAL_KEYS = ("bn.num_batches_tracked",)
LINEAR = "linear"  # a BFL 1x1 conv weight that diffusers stores as a linear weight

V = TypeVar("V")  # a tensor, or a shape tuple


def _resnet(bfl: str, diffusers: str) -> list[Rule]:
    # BFL's nin_shortcut is diffusers' conv_shortcut
    return [Rule(f"{bfl}.nin_shortcut.{{rest}}", f"{diffusers}.conv_shortcut.{{rest}}"),
            Rule(f"{bfl}.{{rest}}", f"{diffusers}.{{rest}}")]


def _attention(bfl: str, diffusers: str, **kw: Any) -> Rule:
    return Rule(f"{{side}}.mid.attn_1.{bfl}.{{rest}}", f"{{side}}.mid_block.attentions.0.{diffusers}.{{rest}}", **kw)


TABLE = NameTable([
    Rule("encoder.norm_out.{rest}", "encoder.conv_norm_out.{rest}"),
    Rule("decoder.norm_out.{rest}", "decoder.conv_norm_out.{rest}"),
    Rule("encoder.quant_conv.{rest}", "quant_conv.{rest}"),
    Rule("decoder.post_quant_conv.{rest}", "post_quant_conv.{rest}"),
    *_resnet("encoder.down.{i}.block.{j}", "encoder.down_blocks.{i}.resnets.{j}"),
    Rule("encoder.down.{i}.downsample.{rest}", "encoder.down_blocks.{i}.downsamplers.0.{rest}"),
    *[Rule(r.bfl, r.other, reverse="u")
      for r in _resnet("decoder.up.{u}.block.{j}", "decoder.up_blocks.{u}.resnets.{j}")],
    Rule("decoder.up.{u}.upsample.{rest}", "decoder.up_blocks.{u}.upsamplers.0.{rest}", reverse="u"),
    *_resnet("{side}.mid.block_1", "{side}.mid_block.resnets.0"),
    *_resnet("{side}.mid.block_2", "{side}.mid_block.resnets.1"),
    _attention("norm", "group_norm"),
    _attention("q", "to_q", value=LINEAR),
    _attention("k", "to_k", value=LINEAR),
    _attention("v", "to_v", value=LINEAR),
    _attention("proj_out", "to_out.0", value=LINEAR),
])


# ----------------------------------------------------------------------------- names and shapes


def expected_shapes(config: VaeConfig, layout: str = "bfl") -> dict[str, tuple[int, ...]]:
    """Every tensor the VAE needs, name -> shape, in `layout` ("bfl" or "diffusers")."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(name: str, cout: int, cin: int, k: int) -> None:
        shapes[name + ".weight"] = (cout, cin, k, k)
        shapes[name + ".bias"] = (cout,)

    def norm(name: str, c: int) -> None:
        shapes[name + ".weight"] = (c,)
        shapes[name + ".bias"] = (c,)

    def resnet(name: str, cin: int, cout: int) -> None:
        norm(name + ".norm1", cin)
        conv(name + ".conv1", cout, cin, 3)
        norm(name + ".norm2", cout)
        conv(name + ".conv2", cout, cout, 3)
        if cin != cout:
            conv(name + ".nin_shortcut", cout, cin, 1)

    def mid(name: str, c: int) -> None:
        resnet(name + ".block_1", c, c)
        norm(name + ".attn_1.norm", c)
        for p in ("q", "k", "v", "proj_out"):
            conv(f"{name}.attn_1.{p}", c, c, 1)
        resnet(name + ".block_2", c, c)

    ch, mult, z = config.ch, config.ch_mult, config.z_channels
    conv("encoder.conv_in", ch, config.in_channels, 3)
    cin = ch
    for i, m in enumerate(mult):
        for j in range(config.num_res_blocks):
            resnet(f"encoder.down.{i}.block.{j}", cin, ch * m)
            cin = ch * m
        if i != len(mult) - 1:
            conv(f"encoder.down.{i}.downsample.conv", cin, cin, 3)
    mid("encoder.mid", cin)
    norm("encoder.norm_out", cin)
    conv("encoder.conv_out", 2 * z, cin, 3)
    if config.quant_conv:
        conv("encoder.quant_conv", 2 * z, 2 * z, 1)
        conv("decoder.post_quant_conv", z, z, 1)
    cin = ch * mult[-1]
    conv("decoder.conv_in", cin, z, 3)
    mid("decoder.mid", cin)
    for i in reversed(range(len(mult))):
        for j in range(config.num_res_blocks + 1):
            resnet(f"decoder.up.{i}.block.{j}", cin, ch * mult[i])
            cin = ch * mult[i]
        if i != 0:
            conv(f"decoder.up.{i}.upsample.conv", cin, cin, 3)
    norm("decoder.norm_out", cin)
    conv("decoder.conv_out", config.out_channels, cin, 3)
    shapes["bn.running_mean"] = (config.latent_channels,)
    shapes["bn.running_var"] = (config.latent_channels,)
    if layout == "bfl":
        return shapes
    if layout == "diffusers":
        return to_diffusers_vae_names(shapes)
    raise ValueError(f"unknown VAE layout {layout!r}; use 'bfl' or 'diffusers'")


def detect_vae_layout(shapes: Mapping[str, Any]) -> str:
    """"bfl" or "diffusers" from the tensor names; CheckpointError when neither."""
    names = list(shapes)
    if any(n.startswith(("encoder.down_blocks.", "encoder.mid_block.", "decoder.up_blocks.")) for n in names):
        return "diffusers"
    if any(n.startswith(("encoder.down.", "encoder.mid.", "decoder.up.")) for n in names):
        return "bfl"
    sample = ", ".join(sorted(names)[:5]) or "no tensors"
    raise CheckpointError(
        "not a FLUX.2 VAE: expected tensors named encoder.down.* (BFL ae.safetensors) or "
        f"encoder.down_blocks.* (diffusers vae/ folder), found {len(names)} tensors ({sample}...)"
    )


def _levels(names: Iterable[str], pattern: str) -> int:
    found = [int(m.group(1)) for m in (re.match(pattern, n) for n in names) if m]
    return max(found) + 1 if found else 0


def _squeeze(value: Any) -> Any:
    """A 1x1 conv weight -> a linear weight (tensor or shape tuple)."""
    if isinstance(value, torch.Tensor):
        return value.reshape(value.shape[0], value.shape[1]) if value.dim() == 4 else value
    value = tuple(value)
    return value[:2] if len(value) == 4 else value


def _unsqueeze(value: Any) -> Any:
    """A linear weight -> a 1x1 conv weight (tensor or shape tuple)."""
    if isinstance(value, torch.Tensor):
        return value.reshape(value.shape[0], value.shape[1], 1, 1) if value.dim() == 2 else value
    value = tuple(value)
    return value + (1, 1) if len(value) == 2 else value


def _rename(state: Mapping[str, V], to_bfl: bool) -> dict[str, V]:
    levels = TABLE.levels(state, to_bfl)
    out: dict[str, Any] = {}
    for name, value in state.items():
        found = TABLE.rename(name, to_bfl, levels)
        if found is None:  # the same in both namings (conv_in, conv_out, bn.*)
            out[name] = value
        elif found.rule.value == LINEAR and found.fields["rest"] == "weight":
            out[found.target] = _unsqueeze(value) if to_bfl else _squeeze(value)
        else:
            out[found.target] = value
    return out


def to_diffusers_vae_names(state: Mapping[str, V]) -> dict[str, V]:
    """BFL names -> diffusers names (values: tensors or shape tuples; attention weights squeezed)."""
    if detect_vae_layout(state) == "diffusers":
        return dict(state)
    return _rename(state, to_bfl=False)


def to_bfl_vae_names(state: Mapping[str, V]) -> dict[str, V]:
    """Diffusers names -> BFL names (values: tensors or shape tuples; attention weights made 1x1 convs)."""
    if detect_vae_layout(state) == "bfl":
        return dict(state)
    return _rename(state, to_bfl=True)


# ----------------------------------------------------------------------------- config and checks


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else tuple(value)


def _require(shapes: Mapping[str, Any], name: str, layout_hint: str) -> tuple[int, ...]:
    if name not in shapes:
        raise CheckpointError(
            f"FLUX.2 VAE tensor {name!r} is missing ({layout_hint}); the file is not a complete FLUX.2 "
            "autoencoder: use the ae.safetensors or vae/ folder that comes with the model"
        )
    return _shape(shapes[name])


def check_vae_shapes(shapes: Mapping[str, Any], config: VaeConfig, what: str = "VAE") -> None:
    """CheckpointError naming the first missing or misshapen tensor, or unexpected extras (BFL names)."""
    expected = expected_shapes(config, "bfl")
    for name, shape in expected.items():
        if name not in shapes:
            raise CheckpointError(
                f"{what}: tensor {name!r} is missing; expected shape {list(shape)} for {config}. "
                "Use the complete FLUX.2 autoencoder file (ae.safetensors or the vae/ folder)"
            )
        found = _shape(shapes[name])
        if found != tuple(shape):
            raise CheckpointError(
                f"{what}: tensor {name!r} has shape {list(found)}, expected {list(shape)} for {config}; "
                "the file is another model or corrupted"
            )
    extra = sorted(n for n in shapes if n not in expected and n not in OPTIONAL_KEYS)
    if extra:
        raise CheckpointError(
            f"{what}: {len(extra)} tensors not in a FLUX.2 autoencoder of {config}: "
            f"{', '.join(extra[:5])}{'...' if len(extra) > 5 else ''}; the file is another model"
        )


def infer_vae_config(shapes: Mapping[str, Any], layout: str | None = "bfl") -> VaeConfig:
    """VaeConfig from tensor shapes (name -> shape tuple or tensor); layout "bfl", "diffusers" or None (detect)."""
    if layout is None:
        layout = detect_vae_layout(shapes)
    if layout == "diffusers":
        shapes = to_bfl_vae_names(shapes)
    elif layout != "bfl":
        raise ValueError(f"unknown VAE layout {layout!r}; use 'bfl' or 'diffusers'")
    hint = "BFL names after mapping" if layout == "diffusers" else "BFL names"
    conv_in = _require(shapes, "encoder.conv_in.weight", hint)
    if len(conv_in) != 4:
        raise CheckpointError(f"FLUX.2 VAE tensor 'encoder.conv_in.weight' has shape {list(conv_in)}, expected 4 dims")
    ch, in_channels = conv_in[0], conv_in[1]
    levels = _levels(shapes, r"encoder\.down\.(\d+)\.")
    if levels == 0:
        raise CheckpointError("FLUX.2 VAE: no encoder.down.N tensors; the file is not a FLUX.2 autoencoder")
    num_res_blocks = _levels([n for n in shapes if n.startswith("encoder.down.0.")], r"encoder\.down\.0\.block\.(\d+)\.")
    if num_res_blocks == 0:
        raise CheckpointError("FLUX.2 VAE: no encoder.down.0.block.N tensors; the file is not a FLUX.2 autoencoder")
    mult = []
    for i in range(levels):
        cout = _require(shapes, f"encoder.down.{i}.block.0.conv1.weight", hint)[0]
        if cout % ch:
            raise CheckpointError(
                f"FLUX.2 VAE tensor 'encoder.down.{i}.block.0.conv1.weight' has {cout} output channels, "
                f"not a multiple of the base width {ch}"
            )
        mult.append(cout // ch)
    z2 = _require(shapes, "encoder.conv_out.weight", hint)[0]
    out_channels = _require(shapes, "decoder.conv_out.weight", hint)[0]
    config = VaeConfig(
        in_channels=in_channels,
        out_channels=out_channels,
        ch=ch,
        ch_mult=tuple(mult),
        num_res_blocks=num_res_blocks,
        z_channels=z2 // 2,
        quant_conv="encoder.quant_conv.weight" in shapes,
    )
    for c in sorted({ch * m for m in mult}):
        if c % GROUPS:
            raise CheckpointError(f"FLUX.2 VAE width {c} is not divisible by {GROUPS} (GroupNorm groups)")
    check_vae_shapes(shapes, config)
    return config


def build_vae(state: Mapping[str, torch.Tensor], config: VaeConfig, device: Device = "cpu",
              dtype: torch.dtype = torch.float32) -> Flux2Vae:
    """Flux2Vae from a state dict with BFL names, on `device` in `dtype` (BatchNorm stats float32), eval mode."""
    check_vae_shapes(state, config)
    model = Flux2Vae(config)
    model.to_empty(device=device)
    model.to(dtype=dtype)
    model.bn.running_mean = torch.empty(config.latent_channels, device=device, dtype=torch.float32)
    model.bn.running_var = torch.empty(config.latent_channels, device=device, dtype=torch.float32)
    wanted = {k: v for k, v in state.items() if k not in OPTIONAL_KEYS}
    with torch.no_grad():
        model.load_state_dict(wanted, strict=True)
    if bool((model.bn.running_var < 0).any()):
        raise CheckpointError("FLUX.2 VAE tensor 'bn.running_var' has negative entries; the file is corrupted")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
