"""Targets: descriptions (x86 host, later ARM boards and Cortex-M parts) looked up by name."""

from __future__ import annotations

from collections.abc import Callable

from edgecc.errors import EdgeccError
from edgecc.targets.base import Target

# name -> factory. A new target family registers its names here.
_TARGETS: dict[str, Callable[[], Target]] = {}


def _x86() -> Target:
    from edgecc.targets.x86 import detect_host

    return detect_host()


_TARGETS["x86"] = _x86
_TARGETS["host"] = _x86


def get_target(name: str) -> Target:
    """The target called `name` (`x86`: this machine); an unknown name lists the known ones."""
    try:
        factory = _TARGETS[name]
    except KeyError:
        raise EdgeccError(f"unknown target {name!r}; known targets: "
                          f"{', '.join(sorted(_TARGETS))} (ARM and Cortex-M come later)") from None
    return factory()


def list_targets() -> list[str]:
    return sorted(_TARGETS)


__all__ = ["Target", "get_target", "list_targets"]
