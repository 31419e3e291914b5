"""A batch of worlds as one self-contained task: what an executor sends to a worker.

A :class:`WorldsTask` carries everything one call of the batch engine needs (the calibration,
the scenario, the horizon, per-world overrides and seeds) and says what to bring back (the
outcome table, and per-round columns if asked for). :func:`run_worlds` is a pure function of
the task, importable from the installed package, so a worker of a cluster
(:mod:`sim.sweep.cluster`) can run it with nothing but ``balancing-sim`` installed. A world's
result depends only on its parameters and seed, never on the batch it runs in
(:mod:`sim.engine.batch`), so cutting a batch into tasks does not change any number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.core.calibration import Calibration
from sim.core.params import build_params
from sim.core.scenario import Scenario
from sim.engine.batch import run_batch


@dataclass(frozen=True)
class WorldsTask:
    """N worlds of one scenario under one calibration: overrides ``(N,)`` and seeds ``(N,)``."""

    calibration: Calibration
    scenario: Scenario
    rounds: int
    seeds: np.ndarray
    overrides: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: Per-round columns to bring back as ``(rounds, N)`` arrays (none: outcomes only).
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorldsResult:
    """The task's outcome table (one row per world) and the per-round columns it asked for."""

    outcomes: pd.DataFrame
    rounds: dict[str, np.ndarray]


def run_worlds(task: WorldsTask) -> WorldsResult:
    """Run the task's worlds on the batch engine (pure: nothing read or written)."""
    n = len(task.seeds)
    p = build_params(task.calibration, task.scenario, task.rounds, n, dict(task.overrides))
    res = run_batch(p, np.asarray(task.seeds), record_rounds=bool(task.columns))
    rounds = {c: res.rounds[c] for c in task.columns} if res.rounds is not None else {}
    return WorldsResult(res.outcomes, rounds)
