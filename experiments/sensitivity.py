"""One-at-a-time sensitivity of the headline to every uncertain input.

    python -m experiments.sensitivity [--seeds 200] [--calibration article]
                                      [--states reactive strategic] [--markdown]

The headline is the probability that Japan's balancing breaks down under ``us_escalation``.
For every calibration entry with a range (the article's figures and external figures with
their sensitivity ranges, every assumption, the detector's constants) and the escalation's
two levels, the headline is computed with that input at the low and at the high end of its
range, everything else at its value, on common seeds. An input *moves* the headline when
the difference between its ends exceeds twice its standard error (paired runs). The
variance-based (Sobol) companion is the ``sobol_uncertain`` experiment and paper figure 7.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import REPO_ROOT
from sim.catalog import load_calibration, load_scenario
from sim.core.params import build_params
from sim.core.registry import SCENARIO_PARAMETERS
from sim.engine.batch import run_batch
from sim.sweep.design import is_integer_param, uncertain_names
from sim.sweep.storage import atomic_write_text

SCENARIO = "us_escalation"
LEVELS = ("escalation.us_tariff_slope", "escalation.us_security_pressure")


def inputs(calibration: str) -> pd.DataFrame:
    """Every uncertain input: name, source (article, external, assumption, scenario), range."""
    cal = load_calibration(calibration)
    entries = {k: e for k, _, e in cal.items()}
    rows = []
    for name in uncertain_names(cal):
        e = entries[name]
        rows.append((name, e.source_kind, e.value, *e.range))
    sc = load_scenario(SCENARIO)
    for name in LEVELS:
        lo, hi = SCENARIO_PARAMETERS[name].bounds
        value = getattr(sc.escalation, name.split(".")[1])
        rows.append((name, "scenario", float(value), lo, hi))
    return pd.DataFrame(rows, columns=["input", "source", "value", "low", "high"])


def one_at_a_time(
    calibration: str = "article", seeds: int = 200, states: str = "reactive", rounds: int = 40
) -> pd.DataFrame:
    """The headline at each end of each input's range (and at the defaults), one row per input."""
    table = inputs(calibration)
    cal = load_calibration(calibration)
    sc = load_scenario(SCENARIO, us_policy=states, china_policy=states)
    n_in = len(table)
    worlds = (2 * n_in + 1) * seeds
    overrides: dict[str, np.ndarray] = {}
    for i, r in table.iterrows():
        default = np.full(worlds, r["value"])
        lo, hi = r["low"], r["high"]
        if is_integer_param(r["input"]):
            lo, hi = float(np.ceil(lo)), float(np.floor(hi))
        default[(2 * i) * seeds : (2 * i + 1) * seeds] = lo
        default[(2 * i + 1) * seeds : (2 * i + 2) * seeds] = hi
        overrides[r["input"]] = default
    p = build_params(cal, sc, rounds, worlds, overrides)
    out = run_batch(p, np.tile(np.arange(seeds), 2 * n_in + 1)).outcomes
    broke = (out["outcome"] != "balanced").to_numpy(float).reshape(2 * n_in + 1, seeds)
    base = broke[-1]
    low, high = broke[0:-1:2], broke[1:-1:2]
    diff = high - low
    se = diff.std(axis=1, ddof=1) / np.sqrt(seeds)
    table["p_low"] = low.mean(axis=1)
    table["p_high"] = high.mean(axis=1)
    table["p_default"] = base.mean()
    table["effect"] = table["p_high"] - table["p_low"]
    table["effect_se"] = se
    table["moves"] = np.abs(table["effect"]) > 2.0 * np.maximum(se, 1e-12)
    table["states"] = states
    table["seeds"] = seeds
    return table.sort_values("effect", key=np.abs, ascending=False, kind="stable").reset_index(
        drop=True
    )


def markdown(table: pd.DataFrame, top: int = 20) -> str:
    """The most influential inputs, and what the article's figures do, as Markdown."""
    lines = [
        f"Headline: P(breakdown) under {SCENARIO}, {table['states'].iloc[0]} states, "
        f"{int(table['seeds'].iloc[0])} seeds; default {table['p_default'].iloc[0]:.1%}.",
        "",
        "| input | source | range | P at low | P at high | effect (±2 SE) |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in table.head(top).iterrows():
        lines.append(
            f"| `{r['input']}` | {r['source']} | {r['low']:g}–{r['high']:g} | {r['p_low']:.1%} "
            f"| {r['p_high']:.1%} | {r['effect']:+.1%} ±{2 * r['effect_se']:.1%} |"
        )
    art = table[table["source"] == "article"]
    moved = ", ".join(f"`{x}`" for x in art.loc[art["moves"], "input"]) or "none"
    still = ", ".join(f"`{x}`" for x in art.loc[~art["moves"], "input"]) or "none"
    lines += [
        "",
        f"Article figures that move the headline: {moved}.",
        "",
        f"Article figures that do not: {still}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--calibration", default="article")
    ap.add_argument("--states", nargs="*", default=["reactive", "strategic"])
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--out", default="results/runs/sensitivity")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out = out if out.is_absolute() else REPO_ROOT / out
    for states in args.states:
        table = one_at_a_time(args.calibration, args.seeds, states)
        path = out / f"oat-{args.calibration}-{states}-s{args.seeds}.csv"
        atomic_write_text(path, table.to_csv(index=False, float_format="%.6g"))
        if args.markdown:
            print(markdown(table))
        else:
            with pd.option_context("display.width", 200, "display.max_rows", 200):
                print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"\ntable: {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
