"""Pipeline strings: `"fold-constants,convert-layout{layout=NHWC},fuse-ops{max-depth=8}"`.

Passes are separated by commas; options sit in braces after a pass, separated by spaces (as
MLIR writes them). `str(parse_pipeline(s))` is canonical: options not equal to their default
are kept, in the pass's declaration order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edgecc.errors import PassError
from edgecc.transform.registry import PassInfo, get_pass

_ITEM = re.compile(r"\s*([a-z0-9][a-z0-9\-]*)\s*(?:\{([^{}]*)\})?\s*$")


@dataclass(frozen=True)
class PassSpec:
    """One pass of a pipeline with its options (Python keyword -> value)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def info(self) -> PassInfo:
        return get_pass(self.name)

    def __str__(self) -> str:
        info = self.info
        parts = []
        for opt in info.options.values():
            if opt.param in self.options and self.options[opt.param] != opt.default:
                value = self.options[opt.param]
                text = str(value).lower() if isinstance(value, bool) else str(value)
                parts.append(f"{opt.name}={text}")
        return self.name + ("{" + " ".join(parts) + "}" if parts else "")


@dataclass(frozen=True)
class Pipeline:
    passes: tuple[PassSpec, ...]

    def __str__(self) -> str:
        return ",".join(str(p) for p in self.passes)

    def __len__(self) -> int:
        return len(self.passes)


def _split_top(text: str) -> list[str]:
    items, depth, cur = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise PassError(f"pipeline {text!r}: unbalanced '}}'")
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise PassError(f"pipeline {text!r}: unbalanced '{{'")
    items.append("".join(cur))
    return items


def parse_pipeline(text: str) -> Pipeline:
    """Parse a pipeline string; an empty string is the empty pipeline."""
    if not text.strip():
        return Pipeline(())
    specs = []
    for item in _split_top(text):
        m = _ITEM.match(item)
        if not m:
            raise PassError(f"pipeline {text!r}: cannot read {item.strip()!r} "
                            "(expected name or name{key=value ...})")
        info = get_pass(m.group(1))
        options: dict[str, Any] = {}
        for pair in (m.group(2) or "").split():
            if "=" not in pair:
                raise PassError(f"pass {info.name}: option {pair!r} needs key=value")
            key, value = pair.split("=", 1)
            param, typed = info.parse_option(key, value)
            options[param] = typed
        specs.append(PassSpec(info.name, options))
    return Pipeline(tuple(specs))
