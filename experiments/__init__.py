"""Experiments, analysis, benchmarks and paper figures: scripts over the ``sim`` library."""

from pathlib import Path

from sim.catalog import CONF_DIR

#: The repository (experiments run from a source checkout) and its configs.
REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = CONF_DIR
