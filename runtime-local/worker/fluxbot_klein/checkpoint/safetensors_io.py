"""Read and write `.safetensors` files without the `safetensors` package.

Format: 8-byte little-endian header length N, N bytes of JSON (name -> {"dtype", "shape",
"data_offsets": [start, end]}, optional "__metadata__" of strings), then the data section;
offsets are relative to the start of the data section.
"""

from __future__ import annotations

import glob
import io
import json
import math
import os
import struct
import sys
from collections import namedtuple
from typing import Collection, Iterable, Mapping, Union

import torch

from ..errors import CheckpointError
from ..models import Device

Paths = Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]  # one file or several

TensorInfo = namedtuple("TensorInfo", ["dtype", "shape", "start", "end"])
TensorInfo.__doc__ = "One tensor's header entry: dtype name, shape tuple, byte range in the data section."

# safetensors dtype name -> (bytes per element, torch dtype attribute name)
_DTYPES = {
    "F64": (8, "float64"),
    "F32": (4, "float32"),
    "F16": (2, "float16"),
    "BF16": (2, "bfloat16"),
    "I64": (8, "int64"),
    "I32": (4, "int32"),
    "I16": (2, "int16"),
    "I8": (1, "int8"),
    "U8": (1, "uint8"),
    "BOOL": (1, "bool"),
    "F8_E4M3": (1, "float8_e4m3fn"),
    "F8_E5M2": (1, "float8_e5m2"),
}

_MAX_HEADER = 100 * 1024 * 1024
_INDEX_SUFFIX = ".safetensors.index.json"
_PREFERRED_INDEXES = ("model.safetensors.index.json", "diffusion_pytorch_model.safetensors.index.json")

if sys.byteorder != "little":  # pragma: no cover - every supported machine is little-endian
    raise ImportError("fluxbot_klein.safetensors_io needs a little-endian machine")


def torch_dtype(name: str, path: str = "?", tensor: str = "?") -> torch.dtype:
    """The torch dtype for a safetensors dtype name; CheckpointError when torch lacks it."""
    if name not in _DTYPES:
        raise CheckpointError(
            f"{path}: tensor {tensor!r} has dtype {name!r}, which this reader does not support "
            f"(supported: {', '.join(sorted(_DTYPES))})")
    attr = _DTYPES[name][1]
    dtype = getattr(torch, attr, None)
    if dtype is None:
        raise CheckpointError(
            f"{path}: tensor {tensor!r} is stored as {name} (FP8); FP8 checkpoints need "
            f"PyTorch >= 2.1 (this is {torch.__version__}). Upgrade PyTorch or use a bf16 checkpoint.")
    return dtype


def _dtype_name(dtype: torch.dtype) -> str:
    for name, (_, attr) in _DTYPES.items():
        if getattr(torch, attr, None) == dtype:
            return name
    raise ValueError(f"cannot save a tensor of dtype {dtype} in safetensors (supported: "
                     f"{', '.join(sorted(_DTYPES))})")


def _read_raw_header(f: io.BufferedReader, path: str) -> tuple[dict, int, int]:
    size = os.fstat(f.fileno()).st_size
    if size < 8:
        raise CheckpointError(f"{path}: file is {size} bytes, too short for a safetensors header "
                              f"(needs at least 8); the file is truncated or not a safetensors file")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER or 8 + n > size:
        raise CheckpointError(f"{path}: header length {n} does not fit in the file of {size} bytes; "
                              f"the file is truncated or not a safetensors file")
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"{path}: header is not valid JSON ({e}); the file is damaged or "
                              f"not a safetensors file") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: header is not a JSON object; not a safetensors file")
    return header, 8 + n, size


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    """Return (name -> TensorInfo, metadata dict) of one file, checking every tensor fits in it."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            header, data_start, size = _read_raw_header(f, path)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    data_len = size - data_start
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: __metadata__ is not a JSON object")
    infos = {}
    for name, entry in header.items():
        try:
            dtype = entry["dtype"]
            shape = tuple(int(d) for d in entry["shape"])
            start, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{path}: tensor {name!r} has a malformed header entry {entry!r} "
                                  f"(needs dtype, shape and data_offsets)") from None
        if dtype not in _DTYPES:
            raise CheckpointError(f"{path}: tensor {name!r} has dtype {dtype!r}, which this reader "
                                  f"does not support (supported: {', '.join(sorted(_DTYPES))})")
        expected = math.prod(shape) * _DTYPES[dtype][0]
        if start < 0 or end - start != expected:
            raise CheckpointError(f"{path}: tensor {name!r} ({dtype}, shape {list(shape)}) needs "
                                  f"{expected} bytes but its offsets [{start}, {end}] span {end - start}")
        if end > data_len:
            raise CheckpointError(f"{path}: tensor {name!r} ends at byte {data_start + end} but the "
                                  f"file has only {size} bytes (expected at least {data_start + end}, "
                                  f"found {size}); the file is truncated, download it again")
        infos[name] = TensorInfo(dtype, shape, start, end)
    return infos, {str(k): str(v) for k, v in metadata.items()}


def _choose_index(folder: str, indexes: list[str]) -> str:
    if len(indexes) == 1:
        return indexes[0]
    for preferred in _PREFERRED_INDEXES:
        for ix in indexes:
            if os.path.basename(ix) == preferred:
                return ix
    raise CheckpointError(f"{folder}: several index files ({', '.join(os.path.basename(i) for i in indexes)}); "
                          f"keep only the one for the weights to use")


def files_in(folder: str | os.PathLike[str]) -> list[str]:
    """The `*.safetensors` files of a component folder (through its index.json when there is one)."""
    folder = os.fspath(folder)
    if os.path.isfile(folder):
        if folder.endswith(_INDEX_SUFFIX):
            return _files_from_index(folder)
        return [folder]
    if not os.path.isdir(folder):
        raise CheckpointError(f"{folder}: no such folder or file")
    indexes = sorted(glob.glob(os.path.join(glob.escape(folder), "*" + _INDEX_SUFFIX)))
    if indexes:
        return _files_from_index(_choose_index(folder, indexes))
    files = sorted(glob.glob(os.path.join(glob.escape(folder), "*.safetensors")))
    if not files:
        raise CheckpointError(f"{folder}: no *.safetensors file and no *{_INDEX_SUFFIX} in this folder")
    return files


def _files_from_index(index_path: str) -> list[str]:
    try:
        with open(index_path, "r", encoding="utf-8") as f:
            index = json.load(f)
        weight_map = index["weight_map"]
        if not isinstance(weight_map, dict):
            raise TypeError("weight_map is not an object")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{index_path}: unreadable shard index ({type(e).__name__}: {e}); "
                              f"it needs a \"weight_map\" of tensor name -> shard file") from None
    folder = os.path.dirname(index_path)
    files, first_tensor = [], {}
    for tensor, shard in weight_map.items():
        if shard not in first_tensor:
            first_tensor[shard] = tensor
            files.append(shard)
    paths = []
    for shard in sorted(files):
        p = os.path.join(folder, shard)
        if not os.path.isfile(p):
            count = sum(1 for s in weight_map.values() if s == shard)
            raise CheckpointError(f"{p}: shard listed in {os.path.basename(index_path)} is missing "
                                  f"(it holds {count} tensors, e.g. {first_tensor[shard]!r}); "
                                  f"download the missing file")
        paths.append(p)
    return paths


def _as_list(paths: Paths) -> list[str]:
    if isinstance(paths, (str, bytes, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def _headers(paths: Paths) -> list[tuple[str, dict[str, TensorInfo]]]:
    seen = {}
    out = []
    for p in _as_list(paths):
        infos, _ = read_header(p)
        for name in infos:
            if name in seen:
                raise CheckpointError(f"tensor {name!r} is in both {seen[name]} and {p}; "
                                      f"mixing two checkpoints in one folder?")
            seen[name] = p
        out.append((p, infos))
    return out


def shapes(paths: Paths) -> dict[str, tuple[int, ...]]:
    """name -> shape tuple over one path or a list of paths; reads headers only."""
    result = {}
    for _, infos in _headers(paths):
        for name, info in infos.items():
            result[name] = info.shape
    return result


def load(paths: Paths, names: Collection[str] | None = None, device: Device = "cpu",
         dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """Load tensors (all, or only `names`) onto device; dtype converts floating-point tensors."""
    headers = _headers(paths)
    wanted = None
    if names is not None:
        wanted = set(names)
        available = set()
        for _, infos in headers:
            available.update(infos)
        missing = [n for n in names if n not in available]
        if missing:
            where = ", ".join(p for p, _ in headers) or "(no files)"
            raise CheckpointError(f"{len(missing)} requested tensors are not in {where}: "
                                  f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    out = {}
    for path, infos in headers:
        todo = [(n, i) for n, i in infos.items() if wanted is None or n in wanted]
        if not todo:
            continue
        todo.sort(key=lambda item: item[1].start)
        with open(path, "rb") as f:
            f.seek(0)
            (n,) = struct.unpack("<Q", f.read(8))
            data_start = 8 + n
            for name, info in todo:
                out[name] = _read_tensor(f, path, name, info, data_start, device, dtype)
    return out


def _read_tensor(f: io.BufferedReader, path: str, name: str, info: TensorInfo, data_start: int, device: Device,
                 dtype: torch.dtype | None) -> torch.Tensor:
    tdtype = torch_dtype(info.dtype, path, name)
    nbytes = info.end - info.start
    if nbytes == 0:
        t = torch.empty(info.shape, dtype=tdtype)
    else:
        buf = bytearray(nbytes)
        f.seek(data_start + info.start)
        got = f.readinto(buf)
        if got != nbytes:
            raise CheckpointError(f"{path}: tensor {name!r} is truncated (expected {nbytes} bytes, "
                                  f"read {got}); download the file again")
        # frombuffer shares the bytearray, which the tensor then owns; nothing refers to the file.
        # Read as bytes and reinterpret: works for every dtype, float8 included.
        t = torch.frombuffer(buf, dtype=torch.uint8).view(tdtype).reshape(info.shape)
    if dtype is not None and t.is_floating_point() and t.dtype != dtype:
        if str(t.dtype).startswith("torch.float8") and torch.device(device).type != "cpu":
            t = t.to(device).to(dtype)
        else:
            t = t.to(dtype)
    return t.to(device)


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.view(torch.uint8).numpy().tobytes()


def save(tensors: Mapping[str, torch.Tensor], path: str | os.PathLike[str],
         metadata: Mapping[str, str] | None = None) -> None:
    """Write tensors (name -> tensor) to a `.safetensors` file other tools can read."""
    path = os.fspath(path)
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError(f"safetensors metadata must map strings to strings, got {k!r}: {v!r}")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved and cannot be a tensor name")
        t = tensors[name]
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name!r} is a {type(t).__name__}, not a torch.Tensor")
        data = _tensor_bytes(t)
        header[name] = {"dtype": _dtype_name(t.dtype), "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-(8 + len(raw)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)
