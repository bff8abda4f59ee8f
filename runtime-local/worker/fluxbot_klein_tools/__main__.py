"""`python -m fluxbot_klein_tools compare | bench`."""

from __future__ import annotations

import argparse
import sys

from . import bench, compare


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fluxbot_klein_tools",
                                     description="klein worker developer tools: compare with references, benchmark")
    sub = parser.add_subparsers(dest="command", required=True)
    compare.add_arguments(sub.add_parser(
        "compare", help="compare with reference implementations on the same random weights"))
    bench.add_arguments(sub.add_parser(
        "bench", help="benchmark at the real 4B shapes with random weights (GPU)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        return compare.main(args)
    return bench.run(args)


if __name__ == "__main__":
    sys.exit(main())
