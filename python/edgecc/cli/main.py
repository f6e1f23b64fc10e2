"""`edgecc`: the command line. Each subcommand lives in its own module under `edgecc.cli`."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from edgecc import __version__, config
from edgecc.errors import EdgeccError

COMMANDS = ("compile", "run", "bench", "dump", "info", "demo", "knobs")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="edgecc",
        description="edgecc: a graph-level deep-learning compiler for edge devices, built on "
                    "Apache TVM.",
        epilog="Set EDGECC_DEBUG=1 to see Python tracebacks; `edgecc knobs` lists every "
               "environment knob.")
    parser.add_argument("--version", action="version", version=f"edgecc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"edgecc.cli.cmd_{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EdgeccError as exc:
        if _debug() >= 1:
            traceback.print_exc()
        print(f"edgecc {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("edgecc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _debug() -> int:
    try:
        return config.DEBUG.get()
    except EdgeccError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
