"""The named optimization levels O0..O3, as pipeline strings (the one place they live)."""

from __future__ import annotations

from edgecc.errors import PassError
from edgecc.transform.pipeline import Pipeline, parse_pipeline

LEVELS: dict[int, str] = {
    0: "",
    1: "simplify,dce",
    2: "simplify,fold-constants,fold-batchnorm,simplify,dce",
    3: "simplify,fold-constants,fold-batchnorm,fold-constants,simplify,dce",
}


def level_pipeline(level: int) -> Pipeline:
    if level not in LEVELS:
        raise PassError(f"no optimization level O{level}; levels are O0..O{max(LEVELS)}")
    return parse_pipeline(LEVELS[level])
