"""Figure kind ``survival``: time to breakdown per scenario, calibration, state model and noise.

A grid over the categorical axes ``calibration`` x ``scenario``, run under each of the config's
state models (``states``: strategic, reactive) and at each of its noise levels (calibrated
temperatures, near best response); Kaplan-Meier share of runs still balancing per quarter
(:func:`experiments.analysis.survival`, censored at the horizon), with each group's breakdowns
and ruptures (a relation the US or China collapsed by its own actions: recorded, not a
breakdown, so it does not end a curve). One row of panels per state model and noise level,
one panel per calibration, one step curve per scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments import analysis as A
from experiments.figures import labels, style, sweeps
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import (
    interval,
    listing,
    noise_phrase,
    pct,
    states_phrase,
    variant_title,
)

UNITS = {
    "states": sweeps.STATES_UNIT,
    "noise": sweeps.NOISE_UNIT,
    "calibration": "calibration name (configs/calibration)",
    "scenario": "scenario name (configs/scenario)",
    "quarter": "quarters from the start of the run (0 = first round)",
    "still_balancing_share": "Kaplan-Meier share of runs not yet broken down, 0-1",
    "still_balancing_share_ci_low": "95% interval of the Kaplan-Meier estimate, lower end",
    "still_balancing_share_ci_high": "95% interval of the Kaplan-Meier estimate, upper end",
    "runs": "runs (seeds) in the group",
    "breakdowns": "runs of the group that broke down within the horizon (outcome != balanced)",
    "toward_us": "runs of the group that broke toward the US",
    "toward_china": "runs of the group that broke toward China",
    "ruptures_by_us": "runs of the group in which the US collapsed the relation by its own "
    "actions (a rupture, not a breakdown)",
    "ruptures_by_china": "runs of the group in which China collapsed the relation by its own "
    "actions (a rupture, not a breakdown)",
}
KEYS = ["states", "noise", "calibration", "scenario"]


def _counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Per state model, noise level, calibration and scenario: runs toward each side and
    ruptured by each."""
    o, r = runs["outcome"].astype(str), runs["rupture"].astype(str)
    frame = runs[KEYS].assign(
        toward_us=(o == "us").astype(np.int64),
        toward_china=(o == "china").astype(np.int64),
        ruptures_by_us=(r == "us").astype(np.int64),
        ruptures_by_china=(r == "china").astype(np.int64),
    )
    return frame.groupby(KEYS, sort=False, observed=True).sum().reset_index()


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Kaplan-Meier share still balancing per quarter, per state model, noise, calibration and
    scenario."""
    runs, plans = sweeps.run_designs(cfg, cfg["sweep"], "paper_survival")
    plan = next(iter(plans.values()))
    keys = KEYS
    curves, medians = A.survival(runs, keys)
    curves = (
        curves.merge(medians[[*keys, "runs", "events"]], on=keys, how="left", validate="m:1")
        .merge(_counts(runs), on=keys, how="left", validate="m:1")
        .rename(
            columns={
                "time": "quarter",
                "survival": "still_balancing_share",
                "ci_low": "still_balancing_share_ci_low",
                "ci_high": "still_balancing_share_ci_high",
                "events": "breakdowns",
            }
        )
    )
    curves["quarter"] = curves["quarter"].astype(np.int64)
    scen = sweeps.axis_values(cfg["sweep"], "scenario") or sorted(plan.scenarios)
    cals = sweeps.axis_values(cfg["sweep"], "calibration") or sorted(plan.calibrations)
    curves = (
        curves.assign(
            _m=sweeps.order(curves["states"], list(dict.fromkeys(st for st, _ in plans))),
            _n=sweeps.order(curves["noise"], list(dict.fromkeys(n for _, n in plans))),
            _c=sweeps.order(curves["calibration"], cals),
            _s=sweeps.order(curves["scenario"], scen),
        )
        .sort_values(["_m", "_n", "_c", "_s", "quarter"], kind="mergesort")
        .drop(columns=["_m", "_n", "_c", "_s"])
        .reset_index(drop=True)
    )
    return FigureData(
        curves,
        UNITS,
        sum(p.n_runs for p in plans.values()),
        sweeps.plan_seeds(plan),
        sweeps.designs_record("grid", plans),
    )


def _draw_curve(ax: Axes, d: pd.DataFrame, label: str, color: Any, ls: str) -> None:
    ax.fill_between(
        d["quarter"],
        d["still_balancing_share_ci_low"],
        d["still_balancing_share_ci_high"],
        step="post",
        color=color,
        alpha=0.2,
        lw=0,
    )
    ax.step(d["quarter"], d["still_balancing_share"], where="post", color=color, ls=ls, label=label)


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Kaplan-Meier share still balancing per scenario; panels: (state model, noise level) x
    calibration."""
    levels = list(dict.fromkeys(zip(table["states"], table["noise"], strict=True)))
    several = table["states"].nunique() > 1
    cals = list(dict.fromkeys(table["calibration"]))
    scen = list(dict.fromkeys(table["scenario"]))
    styles = style.scenario_styles(scen)
    height = (3.0 if len(levels) <= 2 else 2.5) * len(levels) + 0.2
    fig = Figure(figsize=(style.WIDE, height), layout="constrained")
    axes = fig.subplots(len(levels), len(cals), sharey=True, sharex=True, squeeze=False)
    low = max(0.0, float(table["still_balancing_share_ci_low"].min()) - 0.05)
    letters = iter(style.LETTERS)
    for r, (states, noise) in enumerate(levels):
        for c, cal in enumerate(cals):
            ax = axes[r, c]
            for sc in scen:
                d = table[
                    (table["states"] == states)
                    & (table["noise"] == noise)
                    & (table["calibration"] == cal)
                    & (table["scenario"] == sc)
                ]
                first = d.iloc[0]
                ruptured = int(first["ruptures_by_us"] + first["ruptures_by_china"])
                label = (
                    f"{labels.scenario_label(sc)} ({int(first['breakdowns'])} broke, "
                    f"{ruptured} rupt. / {int(first['runs'])})"
                )
                _draw_curve(ax, d, label, *styles[sc])
            ax.set_ylim(low, 1.01)
            ax.set_xlim(0, table["quarter"].max())
            ax.set_xlabel("quarter" if r == len(levels) - 1 else "")
            variant = variant_title(states, noise, several)
            variant = variant[:1].upper() + variant[1:]
            ax.set_ylabel(f"{variant}\nshare still balancing (KM)" if c == 0 else "")
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            style.panel_title(ax, next(letters), labels.calibration_label(cal))
            ax.legend(loc="lower left", fontsize=7)
    return fig


def _sides(first: pd.Series) -> str:
    """'(k toward the US, m toward China)' of a group that broke down."""
    us, cn = int(first["toward_us"]), int(first["toward_china"])
    if not cn:
        return "all toward the US"
    if not us:
        return "all toward China"
    return f"{us:,} toward the US, {cn:,} toward China"


def _scenario_text(g: pd.DataFrame, sc: str) -> str:
    """How one scenario's runs broke down (its curve ``g``, sorted by quarter)."""
    first_row = g.iloc[0]
    runs, k = int(first_row["runs"]), int(first_row["breakdowns"])
    end = g.iloc[-1]
    first = int(g[g["still_balancing_share"] < 1]["quarter"].iloc[0])
    tenth = g[g["still_balancing_share"] <= 0.9]["quarter"]
    return (
        f"{labels.scenario_phrase(sc)} broke down in {k:,} of {runs:,} runs ({_sides(first_row)}; "
        f"share still balancing after quarter {int(end['quarter'])}: "
        f"{pct(end['still_balancing_share'])} "
        f"{interval(end['still_balancing_share_ci_low'], end['still_balancing_share_ci_high'])}), "
        f"the first in quarter {first}"
        + (f", 10% by quarter {int(tenth.iloc[0])}" if len(tenth) else "")
    )


def _rupture_text(d: pd.DataFrame) -> str:
    """Which scenarios saw ruptures, by which state (one row per group in ``d``)."""
    firsts = d.drop_duplicates("scenario")
    parts = []
    for _, f in firsts.iterrows():
        us, cn = int(f["ruptures_by_us"]), int(f["ruptures_by_china"])
        if us or cn:
            by = [f"{cn:,} by China"] if cn else []
            by += [f"{us:,} by the US"] if us else []
            parts.append(f"{labels.scenario_phrase(f['scenario'])} ({' and '.join(by)})")
    if not parts:
        return " No relation was ruptured (collapsed by the other state's own actions)."
    return (
        " Ruptures (a relation collapsed by the other state's own actions; recorded, not "
        "counted as breakdown): " + "; ".join(parts) + f" of {int(firsts['runs'].iloc[0]):,} runs."
    )


def _group_text(d: pd.DataFrame, cal: str, states: str, noise: str) -> str:
    broke, calm = [], []
    for sc in dict.fromkeys(d["scenario"]):
        g = d[d["scenario"] == sc].sort_values("quarter")
        if int(g["breakdowns"].iloc[0]) == 0:
            calm.append((labels.scenario_phrase(sc), int(g["runs"].iloc[0])))
        else:
            broke.append(_scenario_text(g, sc))
    text = (
        f"{states_phrase(states, capital=True)}, with {labels.calibration_phrase(cal)} "
        f"{noise_phrase(noise)}, "
    ) + ("; ".join(broke) if broke else "no scenario broke down")
    if calm:
        counts = sorted({r for _, r in calm})
        each = f"0 of {counts[0]:,} runs each" if len(counts) == 1 else "0 runs"
        text += "; no run broke down under " + listing([n for n, _ in calm]) + f" ({each})"
    return text + "." + _rupture_text(d)


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per state model, noise level and calibration: which scenarios broke down, how often and
    how early."""
    return "\n\n".join(
        _group_text(
            t[(t["states"] == st) & (t["noise"] == n) & (t["calibration"] == cal)], cal, st, n
        )
        for st, n in dict.fromkeys(zip(t["states"], t["noise"], strict=True))
        for cal in dict.fromkeys(t["calibration"])
    )


KIND = FigureKind(
    name="survival",
    required={"sweep"},
    optional={"scenario", "calibration", "noise", "states"},
    build=build,
    draw=draw,
    describe=describe,
)
