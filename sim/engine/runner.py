"""Running scenarios: one run with full tables, or many seeds summarised (either engine).

This module knows the Mesa model and the batch engine but not Hydra; the Hydra entry point
(``python -m sim``) and the experiment scripts call it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.catalog import load_calibration, load_scenario
from sim.core import tables
from sim.core.calibration import Calibration
from sim.core.constraints import Options
from sim.core.outcomes import outcome_units
from sim.core.params import build_params
from sim.core.scenario import Scenario
from sim.core.timeline import quarter_of_round
from sim.engine.batch import run_batch
from sim.engine.batch import seed_array as seeds_checked
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
    res = run_batch(p, seeds_checked([seed]), record_rounds=True, compiled=engine == "numba")
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
    seed_array = seeds_checked(list(seeds))
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


#: The outcome shares a summary reports: label -> (outcome column, value).
SHARES = {
    "balanced": ("outcome", "balanced"),
    "toward_us": ("outcome", "us"),
    "toward_china": ("outcome", "china"),
    "rupture_by_us": ("rupture", "us"),
    "rupture_by_china": ("rupture", "china"),
}
#: Confidence level of the summaries' intervals (Wilson score, statsmodels).
CONFIDENCE = 0.95


def wilson(count: np.ndarray, nobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score 95% interval of ``count`` successes in ``nobs`` (statsmodels' proportion_confint)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(
        np.asarray(count), np.asarray(nobs), alpha=1 - CONFIDENCE, method="wilson"
    )
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


#: Units of a summary's columns (``<share>``, ``n_<share>``, ``<share>_ci_low/high``).
SUMMARY_TABLE_UNITS = {
    "runs": "runs (seeds) in the group",
    "n_broke": "runs that broke down (toward either side)",
    "median_breakdown_round": "median first round of breakdown over the runs that broke "
    "(quarter from 0; NaN if none broke)",
    **{f"n_{k}": f"runs: {col} = {v}" for k, (col, v) in SHARES.items()},
    **{k: f"share of runs, 0-1: {col} = {v}" for k, (col, v) in SHARES.items()},
    **{f"{k}_ci_low": f"Wilson {CONFIDENCE:.0%} interval of {k}, low" for k in SHARES},
    **{f"{k}_ci_high": f"Wilson {CONFIDENCE:.0%} interval of {k}, high" for k in SHARES},
}


def _counter(value: str):
    def count(column: pd.Series) -> int:
        return int((column == value).sum())

    return count


def summarize_outcomes(outcomes: pd.DataFrame, by: str | list[str] = "scenario") -> pd.DataFrame:
    """Per group: runs; per outcome (balanced, toward the US or China, a relation ruptured by
    the US or by China) the count, the share and its Wilson 95% interval; the runs that broke
    and the median breakdown round over them. Counts are integers; units in ``attrs``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    groups = outcomes.groupby(keys, sort=False, observed=True)
    table = groups.size().rename("runs").reset_index()
    runs = table["runs"].to_numpy(np.int64)
    for label, (col, value) in SHARES.items():
        count = groups[col].apply(_counter(value)).to_numpy(np.int64)
        low, high = wilson(count, runs)
        table[f"n_{label}"] = count
        table[label] = count / runs
        table[f"{label}_ci_low"] = low
        table[f"{label}_ci_high"] = high
    broke = outcomes["breakdown_round"] >= 0
    table["n_broke"] = (
        groups["breakdown_round"].apply(lambda c: int((c >= 0).sum())).to_numpy(np.int64)
    )
    medians = outcomes[broke].groupby(keys, sort=False, observed=True)["breakdown_round"].median()
    index = pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1 else pd.Index(table[keys[0]])
    table["median_breakdown_round"] = medians.reindex(index).to_numpy(np.float64)
    for col in ("runs", "n_broke", *(f"n_{k}" for k in SHARES)):
        table[col] = table[col].astype(np.int64)
    table.attrs["units"] = {k: v for k, v in SUMMARY_TABLE_UNITS.items() if k in table}
    return table


def breakdown_quarters(outcomes: pd.DataFrame, start: str) -> pd.Categorical:
    """The calendar quarter of each run's breakdown (missing where it stayed balanced)."""
    rounds = outcomes["breakdown_round"].to_numpy(np.int64)
    labels = [quarter_of_round(start, r) if r >= 0 else None for r in rounds]
    return pd.Categorical(labels, categories=sorted({q for q in labels if q is not None}))


@dataclass
class RunSet:
    """Runs of several scenarios over the same seeds: outcomes, summary and (if recorded) the
    per-round trajectories; every table tidy, with units in ``attrs``."""

    outcomes: pd.DataFrame
    summary: pd.DataFrame
    rounds: pd.DataFrame | None = None

    def dataset(self, variables: Sequence[str] = ()):
        """The per-round trajectories as an xarray Dataset over (world, round)."""
        if self.rounds is None:
            raise ValueError("run_set(..., record_rounds=True) is needed for trajectories")
        return tables.to_dataset(self.rounds, variables=variables)


def run_set(
    names: Sequence[str | Scenario],
    seeds: Sequence[int],
    rounds: int = 40,
    calibration: str | Calibration = "article",
    engine: str = "batch",
    overrides: Mapping[str, Mapping[str, float]] | None = None,
    states: str | None = None,
    record_rounds: bool = False,
) -> RunSet:
    """Run each scenario (a name, ``examples/<name>``, or a Scenario) over ``seeds``.

    ``states`` (``strategic`` or ``reactive``) replaces the US's and China's policy of every
    scenario; None keeps each scenario's own. ``record_rounds`` keeps every run's per-round
    table (batch engine). The outcomes carry scenario, calibration, seed, and the breakdown's
    calendar quarter; the summary has counts, shares and Wilson intervals per scenario.
    """
    cal = load_calibration(calibration) if isinstance(calibration, str) else calibration
    policies: dict[str, Any] = {}
    if states is not None:
        policies = {"us_policy": states, "china_policy": states}
    frames, trajectories = [], []
    starts: dict[str, str] = {}
    for item in names:
        if isinstance(item, Scenario):
            sc = dataclasses.replace(item, **policies)
            label = item.name
        else:
            sc, label = load_scenario(item, **policies), item
        ov = (overrides or {}).get(label)
        if record_rounds:
            seed_array = np.asarray(list(seeds), dtype=np.int64)
            p = build_params(cal, sc, rounds, len(seed_array), ov)
            res = run_batch(p, seed_array, record_rounds=True)
            out = res.outcomes
            out.insert(0, "seed", seed_array)
            frame = res.rounds_frame()
            frame["scenario"] = pd.Categorical([label] * len(frame))
            trajectories.append(frame)
        else:
            out = run_seeds(cal, sc, rounds, seeds, engine, ov)
        out.insert(0, "calibration", cal.name)
        out.insert(0, "scenario", label)
        out["breakdown_quarter"] = breakdown_quarters(out, sc.start)
        starts[label] = sc.start
        frames.append(out)
    outcomes = tables.concat(frames)
    for col in ("scenario", "calibration"):
        outcomes[col] = pd.Categorical(outcomes[col], categories=list(dict.fromkeys(outcomes[col])))
    outcomes.attrs["units"] = {
        "scenario": tables.KEY_UNITS["scenario"],
        "calibration": tables.KEY_UNITS["calibration"],
        "seed": tables.KEY_UNITS["seed"],
        "breakdown_quarter": "calendar quarter of the breakdown (missing if balanced)",
        **outcome_units(cal.firm_names),
    }
    summary = with_median_quarter(summarize_outcomes(outcomes, "scenario"), starts)
    return RunSet(outcomes, summary, tables.concat(trajectories) if trajectories else None)


def with_median_quarter(summary: pd.DataFrame, starts: Mapping[str, str]) -> pd.DataFrame:
    """``summary`` (one row per scenario) with ``median_breakdown_quarter``: the calendar
    quarter of its median breakdown round, from each scenario's start quarter ``starts``."""
    median = summary["median_breakdown_round"].to_numpy(np.float64)
    summary["median_breakdown_quarter"] = pd.Categorical(
        [
            quarter_of_round(starts[str(name)], int(np.floor(m))) if m == m else None
            for name, m in zip(summary["scenario"], median, strict=True)
        ]
    )
    summary.attrs.setdefault("units", {})["median_breakdown_quarter"] = (
        "calendar quarter of the median breakdown round (its earlier quarter if between two)"
    )
    return summary


def compare_scenarios(
    names: Sequence[str],
    seeds: Sequence[int],
    rounds: int = 40,
    calibration: str | Calibration = "article",
    engine: str = "batch",
    overrides: dict[str, dict[str, float]] | None = None,
    states: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every named scenario over ``seeds``; return (outcomes, summary) (see :func:`run_set`)."""
    rs = run_set(names, seeds, rounds, calibration, engine, overrides, states)
    return rs.outcomes, rs.summary
