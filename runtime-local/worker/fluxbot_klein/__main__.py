"""`python -m fluxbot_klein serve | tiny` (the developer tools are in fluxbot_klein_tools, outside the jar)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType

from .errors import CheckpointError


def parse_listen(text: str) -> tuple[str, int]:
    """"HOST:PORT" (or "[v6]:PORT") -> (host, port); port 0 picks a free one."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"--listen must be HOST:PORT, e.g. 127.0.0.1:8188 (got {text!r})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"--listen port must be 0..65535 (got {port!r})")
    return host, number


def parse_size(text: str) -> tuple[int, int]:
    """"WxH" -> (width, height), both multiples of 16 in 64..2048."""
    parts = text.lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--warmup sizes are WxH, e.g. 1024x1024 (got {text!r})") from None
    for v in (w, h):
        if v % 16 or not 64 <= v <= 2048:
            raise argparse.ArgumentTypeError(f"--warmup {text}: sides must be multiples of 16 in 64..2048")
    return w, h


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fluxbot_klein",
                                     description="FLUX.2 [klein] worker: serve, write a tiny checkpoint")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="load a checkpoint and serve /v1/health and /v1/generate")
    serve.add_argument("--checkpoint", required=True,
                       help="a Hugging Face klein folder or BFL's flux-2-klein-*.safetensors")
    serve.add_argument("--device", default="auto", help="cuda, cuda:N, cpu or auto (default)")
    serve.add_argument("--dtype", default=None, help="bfloat16 (default on CUDA), float16 or float32 (default on CPU)")
    serve.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 8188),
                       help="HOST:PORT (default 127.0.0.1:8188; port 0 picks a free port)")
    serve.add_argument("--batch-capacity", type=_positive, default=4, help="most requests per batch (default 4)")
    serve.add_argument("--queue", type=_positive, default=64, help="most waiting requests (default 64)")
    serve.add_argument("--variant", choices=("distilled", "base"), default=None,
                       help="default: base when the checkpoint's name says base, else distilled")
    serve.add_argument("--warmup", type=parse_size, nargs="*", default=[], metavar="WxH",
                       help="sizes to run once before saying ready (e.g. 1024x1024)")
    serve.add_argument("--prompt-cache", type=int, default=256, help="prompt embeddings kept (default 256)")
    serve.add_argument("--reference-cache", type=int, default=64, help="reference latents kept (default 64)")

    tiny = sub.add_parser("tiny", help="write a tiny random checkpoint (for tests)")
    tiny.add_argument("folder")
    tiny.add_argument("--layout", choices=("hf", "bfl"), default="hf")
    return parser


def _log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def serve(args: argparse.Namespace) -> int:
    from .checkpoint.loader import load_klein, resolve_device, resolve_dtype
    from .pipeline import KleinPipeline
    from .server import WorkerServer

    host, port = args.listen
    try:
        device = resolve_device(args.device)
        dtype = resolve_dtype(args.dtype, device)
    except CheckpointError as e:
        _log(f"error: {e}")
        return 2
    if device.type == "cuda":
        import torch
        torch.cuda.set_device(device)
    try:
        server = WorkerServer(None, host=host, port=port, batch_capacity=args.batch_capacity,
                              queue_size=args.queue, device=device, dtype=dtype)
    except OSError as e:
        _log(f"error: cannot listen on {host}:{port} ({e.strerror or e}); pick another --listen")
        return 2
    server.start()
    stop = threading.Event()
    ready = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not ready.is_set():
            raise SystemExit(128 + signum)  # still loading: nothing to finish
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        started = time.monotonic()
        _log(f"loading {args.checkpoint} on {device} ({str(dtype).replace('torch.', '')})")
        model = load_klein(args.checkpoint, device=device, dtype=dtype, variant=args.variant)
        pipeline = KleinPipeline(model, prompt_cache_size=args.prompt_cache,
                                 reference_cache_size=args.reference_cache)
        _log(f"loaded {model.name} ({model.variant}) in {time.monotonic() - started:.1f} s")
        for w, h in args.warmup:
            t = time.monotonic()
            pipeline.warmup([(w, h)])
            _log(f"warm-up {w}x{h}: {time.monotonic() - t:.2f} s")
    except CheckpointError as e:
        _log(f"error: {e}")
        server.close(timeout=1)
        return 2
    except SystemExit:
        server.close(timeout=1)
        raise
    server.set_pipeline(pipeline)
    ready.set()
    shown_host, shown_port = server.address
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    print(f"listening on http://{shown_host}:{shown_port}", flush=True)
    while not stop.wait(0.5):
        pass
    _log("shutting down: finishing the running batch")
    server.close()
    _log("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    from .checkpoint.tiny import write_tiny_checkpoint
    print(write_tiny_checkpoint(args.folder, args.layout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
