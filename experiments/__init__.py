"""Experiments, analysis, benchmarks and paper figures: scripts over the ``sim`` library."""

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.catalog import CONF_DIR

#: The repository (experiments run from a source checkout) and its configs.
REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = CONF_DIR


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` merged in (mappings recursively; other values replaced): a
    config's ``small:`` sizes over its full ones."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
