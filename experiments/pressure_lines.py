"""P(breakdown) along each pressure, the others at ``us_escalation``: is the response monotone?

    python -m experiments.pressure_lines [--seeds 300] [--calibration article] [--markdown]

For each pressure (the escalation's end tariff and end demand, China's coercion, fiscal
stress, lobbying strength) at evenly spaced points over its range, the share of runs that
broke down, under strategic and reactive states, at the calibrated noise and near best
response (every temperature / 10). Seeds 0..N-1 at every point (common random numbers).
ODD §7.10 quotes the result.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from sim.catalog import load_calibration, load_scenario
from sim.core.params import build_params
from sim.engine.batch import run_batch

SCENARIO = "us_escalation"
#: pressure -> the points it is measured at
PRESSURES: dict[str, np.ndarray] = {
    "escalation.us_tariff_slope": np.linspace(0.0, 1.0, 6),
    "escalation.us_security_pressure": np.linspace(0.0, 1.0, 6),
    "cn_coercion": np.linspace(0.0, 1.0, 6),
    "fiscal_stress": np.linspace(0.0, 3.0, 4),
    "lobbying_strength": np.linspace(0.0, 3.0, 4),
}
STATES = ("strategic", "reactive")
NOISE = {"calibrated": 1.0, "near-BR": 10.0}


def pressure_line(
    pressure: str, calibration: str, seeds: int, states: str, noise: str, rounds: int = 40
) -> pd.DataFrame:
    """P(breakdown) at each point of one pressure, one row per point."""
    points = PRESSURES[pressure]
    base = load_calibration(calibration)
    cal = base if NOISE[noise] == 1.0 else base.near_best_response(NOISE[noise])
    sc = load_scenario(SCENARIO, us_policy=states, china_policy=states)
    values = np.repeat(points, seeds)
    p = build_params(cal, sc, rounds, len(values), {pressure: values})
    out = run_batch(p, np.tile(np.arange(seeds), len(points))).outcomes
    broke = (out["outcome"] != "balanced").to_numpy(float).reshape(len(points), seeds)
    return pd.DataFrame(
        {
            "pressure": pressure,
            "value": points,
            "states": states,
            "noise": noise,
            "p_breakdown": broke.mean(axis=1),
            "seeds": seeds,
        }
    )


def lines(calibration: str = "article", seeds: int = 300) -> pd.DataFrame:
    """Every pressure line under both state models and both noise levels."""
    return pd.concat(
        [
            pressure_line(pr, calibration, seeds, st, nz)
            for pr in PRESSURES
            for st in STATES
            for nz in NOISE
        ],
        ignore_index=True,
    )


def markdown(table: pd.DataFrame) -> str:
    """One row per pressure and state model: the line at calibrated noise / near best response."""
    out = ["| pressure | states | points | P(breakdown), calibrated | near best response |"]
    out.append("|---|---|---|---|---|")
    for (pressure, states), g in table.groupby(["pressure", "states"], sort=False):
        by = {nz: g[g["noise"] == nz] for nz in NOISE}
        pts = " / ".join(f"{v:g}" for v in by["calibrated"]["value"])
        cols = [" / ".join(f"{x:.0%}" for x in by[nz]["p_breakdown"]) for nz in NOISE]
        out.append(f"| `{pressure}` | {states} | {pts} | {cols[0]} | {cols[1]} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=300)
    ap.add_argument("--calibration", default="article")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    table = lines(args.calibration, args.seeds)
    if args.markdown:
        print(markdown(table))
    else:
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
