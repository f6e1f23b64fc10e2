"""The pass manager: registered passes, pipeline strings, optimization levels, instruments."""

from edgecc.transform.context import PassContext, run_pipeline
from edgecc.transform.levels import LEVELS, level_pipeline
from edgecc.transform.pipeline import PassSpec, Pipeline, parse_pipeline
from edgecc.transform.registry import PassInfo, get_pass, list_passes, register_pass

__all__ = ["LEVELS", "PassContext", "PassInfo", "PassSpec", "Pipeline", "get_pass",
           "level_pipeline", "list_passes", "parse_pipeline", "register_pass", "run_pipeline"]
