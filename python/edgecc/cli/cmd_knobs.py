"""`edgecc knobs`: every environment knob with its current value and meaning."""

from __future__ import annotations

import argparse
import os

from edgecc import config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("knobs", help="list the EDGECC_* environment knobs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for knob in config.ALL_KNOBS:
        current = os.environ.get(knob.env)
        shown = f"{current!r} (set)" if current is not None else f"{knob.default!s} (default)"
        print(f"{knob.env} = {shown}\n    {knob.doc}")
    return 0
