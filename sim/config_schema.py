"""Hydra structured configs: the schema that turns typos and wrong types into errors early.

The scenario and breakdown schemas are the library's own dataclasses; the calibration is a
mapping validated by :func:`sim.calibration.calibration_from_dict` (one line per problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from sim.breakdown import BreakdownRule
from sim.scenario import Scenario


@dataclass
class RunConfig:
    """``python -m sim``: one scenario, one seed."""

    seed: int = 0
    rounds: int = 40
    engine: str = "mesa"
    output_dir: str = "results/runs"
    calibration: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario = field(default_factory=Scenario)
    breakdown: BreakdownRule = field(default_factory=BreakdownRule)


def register_configs() -> None:
    """Register the schemas in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConfig)
