"""GPU benchmark at klein's real shapes with random weights (no checkpoint needed).

Builds the 4B (or 9B) transformer, the Qwen3 text encoder (27 layers) and the FLUX.2 VAE with
random bf16 weights on the GPU, then measures through KleinPipeline: end-to-end latency of one
image (new prompt each time), the transformer alone, text encoder, VAE decode and image encoding,
throughput at batch 1, 2, 4 (batches back to back, images encoded on CPU threads meanwhile, as
the server runs them) and peak GPU memory. Ratios compare with klein's compute limits (4B,
1024², 4 steps on H100/H200: ≥ 0.17 s transformer, ≥ 0.19 s per image, ≤ 5 images/s; see
docs/benchmarks.md). `--quick` runs tiny shapes on the CPU as a smoke test.

`python -m fluxbot_klein_tools bench [--quick] [--model 4b|9b] [--size N] [--batches 1,2,4]`
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

import torch

from fluxbot_klein.checkpoint import text_encoder as te_ckpt
from fluxbot_klein.checkpoint import transformer as tr_ckpt
from fluxbot_klein.checkpoint import vae as vae_ckpt
from fluxbot_klein.checkpoint.loader import KleinModel
from fluxbot_klein.checkpoint.tiny import write_tiny_tokenizer
from fluxbot_klein.images import encode_image
from fluxbot_klein.models import sampler
from fluxbot_klein.models import text_encoder as te
from fluxbot_klein.models import transformer as tr
from fluxbot_klein.models import vae as vae_mod
from fluxbot_klein.pipeline import GenerateRequest, KleinPipeline
from fluxbot_klein.tokenizer import Tokenizer

# compute limits: 4B at 1024², 4 steps, ~800 TFLOP/s bf16 dense
LIMITS_4B_1024 = {"image_s": 0.19, "transformer_s": 0.17, "images_per_s": 5.0}
LIMITS_9B_1024 = {"image_s": 0.40, "transformer_s": 0.38, "images_per_s": 2.5}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="tiny shapes on the CPU (a smoke test)")
    parser.add_argument("--model", choices=("4b", "9b"), default="4b")
    parser.add_argument("--device", default=None, help="default cuda (cpu with --quick)")
    parser.add_argument("--size", type=int, default=None, help="square image side (default 1024; 64 with --quick)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--iters", type=int, default=None, help="timed runs per measure (default 20; 1 with --quick)")
    parser.add_argument("--warmup-runs", type=int, default=None, help="untimed runs first (default 3; 0 with --quick)")
    parser.add_argument("--batches", default=None, help="batch sizes for throughput (default 1,2,4; 1,2 with --quick)")


def _random_state(shapes: Mapping[str, tuple[int, ...]], device: torch.device | str, dtype: torch.dtype,
                  gen_seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights for name -> shape: norms near 1, matrices scaled by 1/sqrt(fan_in)."""
    torch.manual_seed(gen_seed)
    state = {}
    for name, shape in shapes.items():
        if name in ("bn.running_mean",):
            t = torch.zeros(shape, device=device, dtype=torch.float32)
        elif name in ("bn.running_var",):
            t = torch.ones(shape, device=device, dtype=torch.float32)
        elif len(shape) == 1:
            is_bias = name.endswith(".bias")
            t = (torch.zeros(shape, device=device, dtype=dtype) if is_bias
                 else torch.ones(shape, device=device, dtype=dtype))
        else:
            fan_in = math.prod(shape[1:])
            t = torch.randn(shape, device=device, dtype=dtype)
            if not name.endswith("embed_tokens.weight"):
                t.mul_(1.0 / math.sqrt(fan_in))
        state[name] = t
    return state


def build_random_model(model: str = "4b", device: torch.device | str = "cuda", dtype: torch.dtype = torch.bfloat16,
                       tiny: bool = False) -> KleinModel:
    """A KleinModel with random weights at the real shapes (or tiny ones) and a tiny tokenizer."""
    folder = tempfile.mkdtemp(prefix="klein-bench-")
    vocab = write_tiny_tokenizer(os.path.join(folder, "tokenizer.json"))
    tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    if tiny:
        te_config = te.Qwen3Config.tiny(vocab)
        t_config = tr.TransformerConfig.tiny(te_config.output_width)
        v_config = vae_mod.VaeConfig.tiny()
    elif model == "9b":
        te_config, t_config, v_config = te.Qwen3Config.qwen3_8b(), tr.TransformerConfig.klein_9b(), vae_mod.VaeConfig.klein()
    else:
        te_config, t_config, v_config = te.Qwen3Config.qwen3_4b(), tr.TransformerConfig.klein_4b(), vae_mod.VaeConfig.klein()
    with torch.no_grad():
        state = _random_state(tr_ckpt.expected_shapes(t_config, "bfl"), device, dtype, 1)
        transformer = tr_ckpt.build_transformer(state, t_config, device=device, dtype=dtype)
        del state
        shapes = te_ckpt.expected_shapes(te_config, te_config.num_layers)
        needed = set(te_ckpt.required_names(te_config))
        state = _random_state({k: v for k, v in shapes.items() if k in needed}, device, dtype, 2)
        encoder = te_ckpt.build_text_encoder(state, te_config, device=device, dtype=dtype)
        del state
        state = _random_state(vae_ckpt.expected_shapes(v_config, "bfl"), device, dtype, 3)
        vae = vae_ckpt.build_vae(state, v_config, device=device, dtype=dtype)
        del state
    name = "tiny" if tiny else t_config.model_name
    return KleinModel(name=name, variant="distilled", transformer=transformer, text_encoder=encoder,
                      tokenizer=tokenizer, vae=vae, device=torch.device(device), dtype=dtype)


def _sync(device: torch.device | str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _median_time(fn: Callable[[int], Any], iters: int, warmup: int, device: torch.device) -> float:
    for i in range(warmup):
        fn(-1 - i)
    _sync(device)
    times = []
    for i in range(iters):
        _sync(device)
        t = time.perf_counter()
        fn(i)
        _sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(pipe: KleinPipeline, size: int, steps: int, iters: int, warmup: int,
            batches: list[int]) -> dict[str, float]:
    """Median timings (seconds) and peak memory (bytes, CUDA only) through the pipeline."""
    m = pipe.model
    dev = m.device
    cuda = dev.type == "cuda"
    out = {}
    counter = [0]

    def request(i: int, j: int = 0) -> GenerateRequest:
        counter[0] += 1
        return GenerateRequest(prompt=f"benchmark prompt {counter[0]}: a red fox in snow, photo {i} {j}",
                               width=size, height=size, seed=counter[0], steps=steps)

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    out["end_to_end_s"] = _median_time(lambda i: pipe.generate([request(i)]), iters, warmup, dev)
    if cuda:
        out["peak_bytes_1"] = torch.cuda.max_memory_allocated()

    h = w = size // pipe.downscale
    with torch.inference_mode():
        txt = pipe.encode_prompts(["a red fox in snow"])
        txt_ids = sampler.text_ids(txt.shape[1])[None]
        img_ids = sampler.image_ids(h, w)[None]
        schedule = sampler.get_schedule(steps, h * w)
        noise = sampler.pack(sampler.initial_noise([0], pipe.latent_channels, h, w, dev, m.dtype))

        def transformer_only(i: int) -> None:
            sampler.denoise(m.transformer, noise, img_ids, txt, txt_ids, schedule)

        def text_only(i: int) -> None:
            ids, mask, _ = m.tokenizer.chat_ids(f"a new prompt {i} {time.perf_counter()}")
            m.text_encoder(torch.tensor([ids], device=dev), torch.tensor([mask], device=dev))

        lat = torch.randn(1, pipe.latent_channels, h, w, device=dev, dtype=m.dtype)

        def decode_only(i: int) -> None:
            m.vae.decode(lat)

        pixels = torch.rand(3, size, size) * 2 - 1

        def encode_only(i: int) -> None:
            encode_image(pixels, "png")

        out["transformer_s"] = _median_time(transformer_only, iters, warmup, dev)
        out["text_encoder_s"] = _median_time(text_only, iters, warmup, dev)
        out["vae_decode_s"] = _median_time(decode_only, iters, warmup, dev)
        out["png_encode_s"] = _median_time(encode_only, max(1, iters // 4), min(1, warmup), dev)

    # throughput as the server runs it: batches back to back, images encoded on CPU threads meanwhile
    pool = ThreadPoolExecutor(max_workers=max(batches + [2]))
    try:
        for b in batches:
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            for i in range(warmup):
                pipe.generate([request(-1 - i, j) for j in range(b)])
            runs = max(1, iters // 2)
            _sync(dev)
            t = time.perf_counter()
            futures = []
            for i in range(runs):
                futures += [pool.submit(f) for f in pipe.render([request(i, j) for j in range(b)])]
            for f in futures:
                f.result()
            _sync(dev)
            elapsed = time.perf_counter() - t
            out[f"batch_{b}_s"] = elapsed / runs
            out[f"batch_{b}_images_per_s"] = b * runs / elapsed
            if cuda:
                out[f"peak_bytes_{b}"] = torch.cuda.max_memory_allocated()
    finally:
        pool.shutdown(wait=True)
    return out


def table(results: Mapping[str, float], limits: Mapping[str, float] | None, title: str) -> str:
    """A markdown table of the results, with ratios to the compute limits where they apply."""
    def ratio_time(value: float, limit: float | None) -> str:
        return f"{value / limit:.2f}× the limit" if limit else "n/a"

    def fmt(s: float) -> str:
        return f"{s * 1000:.1f} ms"

    rows = [
        ("end-to-end, 1 image (new prompt)", fmt(results["end_to_end_s"]),
         f"{limits['image_s'] * 1000:.0f} ms" if limits else "n/a",
         ratio_time(results["end_to_end_s"], limits and limits["image_s"])),
        ("transformer only (all steps)", fmt(results["transformer_s"]),
         f"{limits['transformer_s'] * 1000:.0f} ms" if limits else "n/a",
         ratio_time(results["transformer_s"], limits and limits["transformer_s"])),
        ("text encoder (512 tokens)", fmt(results["text_encoder_s"]), "", ""),
        ("VAE decode", fmt(results["vae_decode_s"]), "", ""),
        ("PNG encode (CPU)", fmt(results["png_encode_s"]), "", ""),
    ]
    for key in sorted(k for k in results if k.endswith("_images_per_s")):
        b = int(key.split("_")[1])
        ips = results[key]
        rows.append((f"throughput, batch {b}", f"{ips:.2f} images/s",
                     f"{limits['images_per_s']:.0f} images/s" if limits else "n/a",
                     f"{ips / limits['images_per_s']:.2f} of the limit" if limits else "n/a"))
    for key in sorted(k for k in results if k.startswith("peak_bytes_")):
        rows.append((f"peak GPU memory, batch {key.rsplit('_', 1)[1]}",
                     f"{results[key] / 2 ** 30:.2f} GiB", "", ""))
    lines = [f"### {title}", "", "| measure | value | compute limit | ratio |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    quick = args.quick
    device = torch.device(args.device or ("cpu" if quick else "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.stderr.write("error: the benchmark needs a CUDA GPU (this PyTorch sees none); "
                         "use --quick for a CPU smoke run\n")
        return 2
    size = args.size or (64 if quick else 1024)
    iters = args.iters or (1 if quick else 20)
    warmup = args.warmup_runs if args.warmup_runs is not None else (0 if quick else 3)
    batches = [int(b) for b in (args.batches or ("1,2" if quick else "1,2,4")).split(",")]
    dtype = torch.float32 if device.type == "cpu" else torch.bfloat16
    started = time.perf_counter()
    model = build_random_model(args.model, device=device, dtype=dtype, tiny=quick)
    build_s = time.perf_counter() - started
    pipe = KleinPipeline(model)
    results = measure(pipe, size, args.steps, iters, warmup, batches)
    limits = None
    if not quick and size == 1024 and args.steps == 4:
        limits = LIMITS_4B_1024 if args.model == "4b" else LIMITS_9B_1024
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    title = (f"klein {model.name}, {size}x{size}, {args.steps} steps, {str(dtype).replace('torch.', '')}, "
             f"random weights, {name}, PyTorch {torch.__version__} (median of {iters}; build {build_s:.1f} s)")
    print(table(results, limits, title), flush=True)
    return 0
