"""Running scenarios: one run with full tables, or many seeds summarised (either engine).

This module knows the Mesa model and the batch engine but not Hydra; the Hydra entry point
(``python -m sim``) and the experiment scripts call it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.catalog import load_calibration, load_scenario
from sim.core.calibration import Calibration
from sim.core.constraints import Options
from sim.core.params import build_params
from sim.core.scenario import Scenario
from sim.engine.batch import run_batch
from sim.engine.model import BalancingModel

#: The engines a run or a sweep may use (the same numbers from each): the Mesa model, the
#: numpy batch engine, and the batch engine with compiled kernels (numba).
ENGINES = ("mesa", "batch", "numba")
ENGINE = Options(ENGINES, what="engine")
#: The engines that run many worlds at once (run_batch; numba with compiled kernels).
BATCH_ENGINES = ("batch", "numba")


@dataclass
class RunResult:
    """One run: per-round table, per-agent table (Mesa only) and the outcome row."""

    rounds: pd.DataFrame
    outcome: pd.DataFrame
    agents: pd.DataFrame | None = None


def _check_engine(engine: str) -> None:
    ENGINE.check("engine", engine)


def run_single(
    calibration: Calibration,
    scenario: Scenario,
    rounds: int,
    seed: int,
    engine: str = "mesa",
) -> RunResult:
    """Run one world; both engines give the same tables (the batch engine has no agent table)."""
    _check_engine(engine)
    if engine == "mesa":
        model = BalancingModel(scenario, calibration, rounds, rng=int(seed))
        model.run_for(rounds)
        return RunResult(model.rounds_table(), model.outcome_table(), model.agents_table())
    p = build_params(calibration, scenario, rounds, 1)
    res = run_batch(p, np.array([seed]), record_rounds=True, compiled=engine == "numba")
    return RunResult(res.rounds_table(0), res.outcomes)


def run_seeds(
    calibration: Calibration,
    scenario: Scenario,
    rounds: int,
    seeds: Sequence[int],
    engine: str = "batch",
    overrides: Mapping[str, float | np.ndarray] | None = None,
) -> pd.DataFrame:
    """Outcome rows for many seeds of one scenario (column ``seed`` first)."""
    _check_engine(engine)
    seed_array = np.asarray(list(seeds), dtype=np.int64)
    if engine in BATCH_ENGINES:
        p = build_params(calibration, scenario, rounds, len(seed_array), overrides)
        out = run_batch(p, seed_array, compiled=engine == "numba").outcomes
    else:
        rows = []
        for s in seed_array:
            m = BalancingModel(
                scenario, calibration, rounds, overrides=dict(overrides or {}), rng=int(s)
            )
            m.run_for(rounds)
            rows.append(m.outcome_table())
        out = pd.concat(rows, ignore_index=True)
    out.insert(0, "seed", seed_array)
    return out


def summarize_outcomes(outcomes: pd.DataFrame, by: str | list[str] = "scenario") -> pd.DataFrame:
    """Per group: runs, and the count and share that stayed balanced, broke toward the US or
    toward China, or saw a relation ruptured by the US or by China; the median breakdown round.
    """

    def agg(g: pd.DataFrame) -> pd.Series:
        broke = g["breakdown_round"] >= 0
        row: dict[str, float | int] = {"runs": len(g)}
        for label, mask in (
            ("balanced", g["outcome"] == "balanced"),
            ("toward_us", g["outcome"] == "us"),
            ("toward_china", g["outcome"] == "china"),
            ("rupture_by_us", g["rupture"] == "us"),
            ("rupture_by_china", g["rupture"] == "china"),
        ):
            row[f"n_{label}"] = int(mask.sum())
            row[label] = float(mask.mean())
        row["median_breakdown_round"] = (
            float(g.loc[broke, "breakdown_round"].median()) if broke.any() else np.nan
        )
        return pd.Series(row, dtype=object)

    table = (
        outcomes.groupby(by, sort=False, observed=True)[list(outcomes.columns)]
        .apply(agg)
        .reset_index()
    )
    for col in table.columns:
        if col == "runs" or col.startswith("n_"):
            table[col] = table[col].astype(np.int64)
        elif col not in ([by] if isinstance(by, str) else by):
            table[col] = table[col].astype(float)
    return table


def compare_scenarios(
    names: Sequence[str],
    seeds: Sequence[int],
    rounds: int = 40,
    calibration: str | Calibration = "article",
    engine: str = "batch",
    overrides: dict[str, dict[str, float]] | None = None,
    states: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every named scenario over ``seeds``; return (outcomes, summary).

    ``states`` (``strategic`` or ``reactive``) replaces the US's and China's policy of every
    scenario; None keeps each scenario's own.
    """
    cal = load_calibration(calibration) if isinstance(calibration, str) else calibration
    frames = []
    for name in names:
        policies = {} if states is None else {"us_policy": states, "china_policy": states}
        sc = load_scenario(name, **policies)
        out = run_seeds(cal, sc, rounds, seeds, engine, (overrides or {}).get(name))
        out.insert(0, "scenario", name)
        frames.append(out)
    outcomes = pd.concat(frames, ignore_index=True)
    return outcomes, summarize_outcomes(outcomes, "scenario")
