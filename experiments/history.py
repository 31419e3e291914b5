"""Replays of historical episodes against what history observed.

    python -m experiments.history [--seeds 200] [--episodes japan_2010 ...] [--markdown]

Every episode of the catalog (``sim/conf/episode/*.yaml``): its replay and its quiet
counterfactual, with its calibration, seeds 0..N-1 in both (common random numbers), under
strategic and reactive states (the US always; China too unless the episode scripts it, as
for market-access cuts) and at the calibrated noise and near best response (temperatures
divided by 10). For each observed outcome and instrument (``observed.csv``, read by
:func:`sim.catalog.observed_table`) the model's statistic over the row's rounds: the mean
over worlds and the 5-95% range. Nothing is fitted to the history (docs/history.md).

:func:`episode_runs` and :func:`model_values` are the pieces a distance to history is built
from: per world, one value of each observed quantity.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.catalog import episode_names, load_calibration, load_episode, load_scenario, observed_table
from sim.core.calibration import Calibration
from sim.core.episodes import Episode, model_statistic
from sim.core.params import build_params
from sim.core.scenario import Scenario
from sim.engine.batch import run_batch

STATES = ("strategic", "reactive")
NOISE = {"calibrated": 1.0, "near-BR": 10.0}


@dataclass(frozen=True)
class EpisodeRuns:
    """One episode's replay and counterfactual over the same seeds: per-round arrays (R, N)."""

    episode: Episode
    calibration: Calibration
    replay: dict[str, np.ndarray]
    counterfactual: dict[str, np.ndarray]


def with_states(scenario: Scenario, states: str) -> Scenario:
    """The scenario with the US (and China, unless scripted) under ``states`` policies."""
    changes = {"us_policy": states}
    if scenario.china_policy != "scripted":
        changes["china_policy"] = states
    return load_scenario(scenario.name, **changes)


def episode_runs(
    name: str,
    seeds: int | np.ndarray = 200,
    states: str = "strategic",
    noise: str = "calibrated",
    calibration: Calibration | None = None,
) -> EpisodeRuns:
    """Run an episode's replay and counterfactual on the batch engine, same seeds."""
    ep = load_episode(name)
    base = calibration if calibration is not None else load_calibration(ep.calibration)
    cal = base if NOISE[noise] == 1.0 else base.near_best_response(NOISE[noise])
    seed_array = np.arange(seeds) if np.isscalar(seeds) else np.asarray(seeds)
    out = []
    for sc_name in (ep.scenario, ep.counterfactual):
        sc = with_states(load_scenario(sc_name), states)
        p = build_params(cal, sc, ep.rounds, len(seed_array), {})
        out.append(run_batch(p, seed_array, record_rounds=True).rounds)
    return EpisodeRuns(ep, cal, out[0], out[1])


def model_values(runs: EpisodeRuns, rows: pd.DataFrame) -> list[np.ndarray]:
    """Per world, the model's value of each row of ``rows`` (outcome and instrument rows)."""
    values = []
    for _, row in rows.iterrows():
        v = model_statistic(
            row["statistic"],
            row["column"],
            runs.replay,
            runs.counterfactual,
            int(row["round"]),
            int(row["round_end"]),
        )
        if row["divide_by"]:
            v = v / runs.calibration.value(row["divide_by"])
        values.append(v)
    return values


def replay_table(seeds: int = 200, episodes: list[str] | None = None) -> pd.DataFrame:
    """Observed vs model, one row per observed outcome/instrument, state model and noise."""
    observed = observed_table()
    observed = observed[observed["kind"] != "context"]
    out = []
    for name in episodes or episode_names():
        rows = observed[observed["episode"] == name]
        for states in STATES:
            for noise in NOISE:
                runs = episode_runs(name, seeds, states, noise)
                quiet = EpisodeRuns(runs.episode, runs.calibration, runs.counterfactual, {})
                quiet_rows = rows[rows["statistic"] != "loss_vs_counterfactual"]
                quiet_values = dict(
                    zip(quiet_rows.index, model_values(quiet, quiet_rows), strict=True)
                )
                for (i, row), v in zip(rows.iterrows(), model_values(runs, rows), strict=True):
                    ok = v[np.isfinite(v)]
                    q = quiet_values.get(i)
                    q_ok = q[np.isfinite(q)] if q is not None else np.zeros(0)
                    out.append(
                        {
                            "episode": name,
                            "quantity": row["quantity"],
                            "kind": row["kind"],
                            "date": row["date"],
                            "rounds": f"{row['round']}-{row['round_end']}",
                            "unit": row["unit"],
                            "observed": row["value"],
                            "states": states,
                            "noise": noise,
                            "model_mean": float(ok.mean()) if ok.size else np.nan,
                            "model_p05": float(np.quantile(ok, 0.05)) if ok.size else np.nan,
                            "model_p95": float(np.quantile(ok, 0.95)) if ok.size else np.nan,
                            "counterfactual_mean": float(q_ok.mean()) if q_ok.size else np.nan,
                        }
                    )
    return pd.DataFrame(out)


def markdown(table: pd.DataFrame) -> str:
    """One line per observed quantity: history, then the model under each state model/noise.

    A cell is the replay's mean over worlds [5%, 95%] / the counterfactual's mean ("-" for a
    loss against the counterfactual, or a demand the counterfactual does not make).
    """
    cases = [(s, n) for s in STATES for n in NOISE]
    head = " | ".join(f"{s}, {n}" for s, n in cases)
    lines = [
        f"| episode | quantity | rounds | observed | {head} |",
        "|---|---|---|---|" + "---|" * len(cases),
    ]
    keys = ["episode", "quantity", "kind", "rounds", "observed"]
    for key, group in table.groupby(keys, sort=False):
        episode, quantity, kind, rounds, observed = key
        cells = []
        for s, n in cases:
            r = group[(group["states"] == s) & (group["noise"] == n)].iloc[0]
            quiet = "-" if np.isnan(r["counterfactual_mean"]) else f"{r['counterfactual_mean']:.3g}"
            cells.append(
                f"{r['model_mean']:.3g} [{r['model_p05']:.3g}, {r['model_p95']:.3g}] / {quiet}"
            )
        label = quantity if kind == "outcome" else f"{quantity} (instrument)"
        lines.append(
            f"| {episode} | {label} | {rounds} | {observed:g} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--episodes", nargs="*", default=None, help="default: every episode")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    table = replay_table(args.seeds, args.episodes)
    if args.markdown:
        print(markdown(table))
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
