"""Knob spaces and configs (AutoTVM's vocabulary: split, reorder, annotate, choice).

A `ConfigSpace` is filled by a template's `define_space`; a `Config` is one point of it: a
frozen, ordered, hashable mapping of knob name to value.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any


class Config(Mapping[str, Any]):
    """A frozen, ordered mapping knob -> value; values are ints, strings, bools or tuples."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | Sequence[tuple[str, Any]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = tuple((str(k), _freeze(v)) for k, v in pairs)

    def __getitem__(self, key: str) -> Any:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self._items == other._items

    def __repr__(self) -> str:
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self._items) + ")"

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._items}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Config:
        return cls(data)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))


def _freeze(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    return v


def factorizations(extent: int, parts: int, max_inner: int | None = None) -> list[tuple[int, ...]]:
    """Every way to write `extent` as an ordered product of `parts` factors."""
    if parts == 1:
        return [(extent,)]
    out = []
    for d in range(1, extent + 1):
        if extent % d == 0:
            for rest in factorizations(extent // d, parts - 1, max_inner):
                cand = (d, *rest)
                if max_inner is None or cand[-1] <= max_inner:
                    out.append(cand)
    return out


class ConfigSpace:
    """The knobs of one template on one kernel: name -> the list of allowed values."""

    def __init__(self) -> None:
        self.knobs: dict[str, list[Any]] = {}

    def define_split(self, name: str, extent: int, parts: int = 2,
                     max_inner: int | None = None) -> None:
        """A loop of `extent` split into `parts` loops (outer to inner factors)."""
        self.knobs[name] = factorizations(extent, parts, max_inner)

    def define_choice(self, name: str, options: Sequence[Any]) -> None:
        self.knobs[name] = [_freeze(o) for o in options]

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.knobs.values()) if self.knobs else 1

    def __contains__(self, config: object) -> bool:
        return (isinstance(config, Config) and set(config) == set(self.knobs)
                and all(config[k] in v for k, v in self.knobs.items()))

    def configs(self) -> Iterator[Config]:
        """Every point of the space (grid order)."""
        names = list(self.knobs)
        for values in itertools.product(*(self.knobs[n] for n in names)):
            yield Config(list(zip(names, values)))
