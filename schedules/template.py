"""Schedule templates: one class per (op, target family, variant), registered explicitly.

A template says which kernels it `matches`, declares its knobs (`define_space`), gives an
untuned choice computed from the kernel and the target (`default_config`), and drives TVM's
TIR schedule (`apply`). A target-specific template is tried before the generic ones.
"""

from __future__ import annotations

from typing import Any, ClassVar

from edgecc.codegen.kernel import Kernel
from edgecc.errors import EdgeccError
from edgecc.schedules.space import Config, ConfigSpace
from edgecc.targets.base import Target


class Template:
    """Base class of schedule templates."""

    name: ClassVar[str] = ""

    def matches(self, kernel: Kernel, target: Target) -> bool:
        raise NotImplementedError

    def define_space(self, space: ConfigSpace, kernel: Kernel, target: Target) -> None:
        """Declare the knobs (none by default)."""

    def default_config(self, kernel: Kernel, target: Target) -> Config:
        return Config()

    def apply(self, sch: Any, kernel: Kernel, target: Target, config: Config) -> None:
        raise NotImplementedError

    def space(self, kernel: Kernel, target: Target) -> ConfigSpace:
        space = ConfigSpace()
        self.define_space(space, kernel, target)
        return space


# family -> templates in priority order; "generic" is tried after the target's own family.
_TEMPLATES: dict[str, list[Template]] = {}


def register_template(family: str) -> Any:
    """Class decorator: register an instance of the template for a target family."""

    def wrap(cls: type[Template]) -> type[Template]:
        if not cls.name:
            raise ValueError(f"template {cls.__name__} needs a name")
        _TEMPLATES.setdefault(family, []).append(cls())
        return cls

    return wrap


_LOADED = False


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import importlib

        for mod in ("edgecc.schedules.generic", "edgecc.schedules.x86"):
            importlib.import_module(mod)


def select_template(kernel: Kernel, target: Target) -> Template:
    """The first matching template of the target's family, else of the generic family."""
    _ensure_loaded()
    for family in (target.family, "generic"):
        for template in _TEMPLATES.get(family, []):
            if template.matches(kernel, target):
                return template
    raise EdgeccError(f"no schedule template matches kernel {kernel.name} ({kernel.describe()})")


def get_template(name: str) -> Template:
    _ensure_loaded()
    for templates in _TEMPLATES.values():
        for t in templates:
            if t.name == name:
                return t
    raise EdgeccError(f"unknown schedule template {name!r}")
