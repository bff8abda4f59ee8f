"""The driver: which sections run against which reference, the text and JSON reports, the arguments."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any, Callable

import torch

from fluxbot_klein.checkpoint.tiny import write_tiny_tokenizer
from fluxbot_klein.tokenizer import Tokenizer

from . import common
from .common import SECTIONS, SHAPES, TOLERANCES, CompareError, Section, import_optional, shapes_for
from .text import compare_text_encoder, compare_tokenizer
from .transformer import compare_transformer
from .vae import compare_vae


def run(args: argparse.Namespace) -> tuple[list[Section], int]:
    """All sections; returns (sections, exit code)."""
    tol = TOLERANCES[args.dtype]
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise CompareError(f"--device {args.device} but torch {torch.__version__} sees no CUDA device; use --device cpu")
    shapes_for(args.shape)
    wanted = args.sections or list(SECTIONS)
    sections = []

    def attempt(name: str, fn: Callable[[Section], None]) -> Section:
        section = Section(name)
        sections.append(section)
        try:
            fn(section)
        except CompareError as e:
            section.status, section.reason = "error", str(e)
        except Exception as e:  # a reference that fails to build or run is reported, not a crash
            section.status, section.reason = "error", f"{type(e).__name__}: {e}"
        return section

    def skip(name: str, reason: str) -> None:
        sections.append(Section(name, status="skipped", reason=reason))

    flux2 = bool(args.flux2_src) or args.self_reference
    if "transformer" in wanted:
        if flux2:
            attempt("transformer", lambda s: compare_transformer(args, s, tol))
        else:
            skip("transformer", "no reference: pass --flux2-src PATH (the src folder of a "
                                "black-forest-labs/flux2 checkout)")
    if "vae" in wanted:
        if args.self_reference:
            attempt("vae", lambda s: compare_vae(args, s, tol, "self"))
        else:
            if args.flux2_src:
                attempt("vae (flux2)", lambda s: compare_vae(args, s, tol, "flux2"))
            else:
                skip("vae (flux2)", "no reference: pass --flux2-src PATH")
            diffusers = import_optional("diffusers")
            if diffusers is None:
                skip("vae (diffusers)", "skipped: diffusers not installed")
            elif isinstance(diffusers, str):
                skip("vae (diffusers)", f"skipped: diffusers is installed but does not import ({diffusers})")
            else:
                if not hasattr(diffusers, "AutoencoderKLFlux2"):
                    skip("vae (diffusers)", f"skipped: diffusers {diffusers.__version__} has no AutoencoderKLFlux2")
                else:
                    attempt("vae (diffusers)", lambda s: compare_vae(args, s, tol, "diffusers"))

    tmp = None
    try:
        path = args.tokenizer
        if path is None:
            tmp = tempfile.TemporaryDirectory(prefix="fluxbot-compare-")
            path = os.path.join(tmp.name, "tokenizer.json")
            write_tiny_tokenizer(path)
            args._tiny_tokenizer = True
        elif os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        if "text_encoder" in wanted:
            transformers = None if args.self_reference else import_optional("transformers")
            if args.self_reference:
                attempt("text_encoder", lambda s: compare_text_encoder(args, s, tol, Tokenizer.from_file(path)))
            elif transformers is None:
                skip("text_encoder", "skipped: transformers not installed")
            elif isinstance(transformers, str):
                skip("text_encoder", f"skipped: transformers is installed but does not import ({transformers})")
            elif not transformers.utils.is_torch_available():
                skip("text_encoder", f"skipped: transformers {transformers.__version__} cannot use torch "
                                     f"{torch.__version__} (it needs a newer PyTorch)")
            else:
                attempt("text_encoder", lambda s: compare_text_encoder(args, s, tol, Tokenizer.from_file(path)))
        if "tokenizer" in wanted:
            if not common.installed("tokenizers"):
                skip("tokenizer", "skipped: tokenizers not installed")
            else:
                attempt("tokenizer", lambda s: compare_tokenizer(args, s, path))
    finally:
        if tmp is not None:
            tmp.cleanup()

    if any(s.status == "error" for s in sections):
        code = 2
    elif all(s.ok for s in sections):
        code = 0
    else:
        code = 1
    return sections, code


def report(args: argparse.Namespace, sections: list[Section], code: int) -> dict[str, Any]:
    """The machine-readable result."""
    return {"shape": args.shape, "device": args.device, "dtype": args.dtype, "torch": torch.__version__,
            "tolerance_rel": TOLERANCES[args.dtype], "self_reference": bool(args.self_reference),
            "perturb_reference": args.perturb_reference, "sections": [s.as_dict() for s in sections],
            "ok": code == 0, "exit_code": code}


def format_text(args: argparse.Namespace, sections: list[Section], code: int) -> str:
    lines = [f"compare: shape {args.shape}, {args.dtype} on {args.device}, torch {torch.__version__}, "
             f"relative tolerance {TOLERANCES[args.dtype]:g} (relative = max |ours - ref| / max |ref|)"]
    for s in sections:
        lines.append("")
        head = f"[{s.name}]"
        if s.status == "skipped":
            reason = s.reason if s.reason.startswith("skipped") else f"skipped: {s.reason}"
            lines.append(f"{head} {reason}")
            continue
        if s.reference:
            head += f" vs {s.reference}"
        lines.append(head)
        for n in s.notes:
            lines.append(f"  note: {n}")
        for r in s.rows:
            verdict = "ok" if r.ok else "FAIL"
            if r.exact:
                lines.append(f"  {verdict:4} {r.component}: max diff {r.max_abs:g}, "
                             f"{r.max_rel:.3g} of entries differ (must be identical)")
            else:
                lines.append(f"  {verdict:4} {r.component}: max abs {r.max_abs:.3e}, max rel {r.max_rel:.3e}")
        if s.status == "error":
            lines.append(f"  ERROR: {s.reason}")
    lines.append("")
    lines.append({0: "result: all compared errors within tolerance",
                  1: "result: FAIL, an error exceeds the tolerance",
                  2: "result: ERROR, a comparison could not run (see above)"}[code])
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flux2-src", default=None, metavar="PATH",
                        help="the src folder of a black-forest-labs/flux2 checkout (imported at run time)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtype", choices=tuple(TOLERANCES), default="float32")
    parser.add_argument("--shape", choices=SHAPES, default="tiny",
                        help="tiny (our test dims, CPU) or 4b (klein 4B's real dims, for a GPU)")
    parser.add_argument("--tokenizer", default=None, metavar="PATH",
                        help="tokenizer.json (or its folder) for the tokenizer and text encoder sections "
                             "(default: our tiny one)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=None,
                        help="compare only these (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--self-reference", action="store_true",
                        help="use our own implementation as the reference (checks the tool: errors are 0)")
    parser.add_argument("--perturb-reference", type=float, default=0.0, metavar="EPS",
                        help="scale one reference weight per section by 1 + EPS (checks that a difference is caught)")


def main(args: argparse.Namespace) -> int:
    """Run the comparison for parsed args; prints text or JSON, returns the exit code."""
    try:
        sections, code = run(args)
    except CompareError as e:
        sections, code = [Section("setup", status="error", reason=str(e))], 2
    if args.json:
        print(json.dumps(report(args, sections, code), indent=2))
    else:
        print(format_text(args, sections, code))
    return code
