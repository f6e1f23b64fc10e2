"""Pass registration: a pass is a plain function `fn(graph, ctx, *, options...) -> bool`.

    @register_pass("fold-constants")
    def fold_constants(graph: Graph, ctx: PassContext, *, max_bytes: int = 1 << 20) -> bool:

It edits the graph in place and returns whether it changed anything. Its keyword-only
parameters are its declared options (kebab-case in pipeline strings: `max-bytes=4096`),
typed by their defaults.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgecc.errors import PassError

PassFn = Callable[..., bool]


@dataclass(frozen=True)
class PassOption:
    name: str  # kebab-case, as in pipeline strings
    param: str  # the Python keyword
    type: type
    default: Any


@dataclass(frozen=True)
class PassInfo:
    name: str
    fn: PassFn
    options: dict[str, PassOption]
    summary: str

    def parse_option(self, key: str, text: str) -> tuple[str, Any]:
        """Turn `key=text` from a pipeline string into (python keyword, typed value)."""
        if key not in self.options:
            known = ", ".join(self.options) or "none"
            raise PassError(f"pass {self.name} has no option {key!r} (its options: {known})")
        opt = self.options[key]
        try:
            if opt.type is bool:
                low = text.lower()
                if low not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                return opt.param, low in ("true", "1")
            return opt.param, opt.type(text)
        except ValueError:
            raise PassError(f"pass {self.name} option {key}: {text!r} is not a "
                            f"{opt.type.__name__}") from None


_PASSES: dict[str, PassInfo] = {}


def register_pass(name: str) -> Callable[[PassFn], PassFn]:
    """Register a pass under a kebab-case name; its keyword-only params become options."""

    def wrap(fn: PassFn) -> PassFn:
        if name in _PASSES:
            raise ValueError(f"pass {name!r} registered twice")
        options = {}
        for p in inspect.signature(fn).parameters.values():
            if p.kind == p.KEYWORD_ONLY:
                if p.default is p.empty:
                    raise ValueError(f"pass {name}: option {p.name} needs a default")
                kebab = p.name.replace("_", "-")
                options[kebab] = PassOption(kebab, p.name, type(p.default), p.default)
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        _PASSES[name] = PassInfo(name, fn, options, summary)
        return fn

    return wrap


_LOADED = False


def _ensure_loaded() -> None:
    # NOTE: [pass discovery] every module in the `edgecc.passes` package registers its pass on
    # import; one file per pass, so discovery is a package walk.
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import edgecc.passes as pkg

        for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            importlib.import_module(f"edgecc.passes.{mod.name}")


def get_pass(name: str) -> PassInfo:
    _ensure_loaded()
    try:
        return _PASSES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_PASSES), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        known = ", ".join(sorted(_PASSES))
        raise PassError(f"unknown pass {name!r}{hint} (known: {known})") from None


def list_passes() -> list[PassInfo]:
    _ensure_loaded()
    return [_PASSES[k] for k in sorted(_PASSES)]
