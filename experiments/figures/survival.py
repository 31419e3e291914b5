"""Figure kind ``survival``: time to breakdown per scenario and calibration.

A grid over the categorical axes ``calibration`` x ``scenario``; Kaplan-Meier share of runs
still balancing per quarter (:func:`experiments.analysis.survival`, censored at the horizon).
One panel per calibration, one step curve per scenario.
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
from experiments.figures.text import interval, listing, pct

UNITS = {
    "calibration": "calibration name (configs/calibration)",
    "scenario": "scenario name (configs/scenario)",
    "quarter": "quarters from the start of the run (0 = first round)",
    "still_balancing_share": "Kaplan-Meier share of runs not yet broken down, 0-1",
    "still_balancing_share_ci_low": "95% interval of the Kaplan-Meier estimate, lower end",
    "still_balancing_share_ci_high": "95% interval of the Kaplan-Meier estimate, upper end",
    "runs": "runs (seeds) in the group",
    "breakdowns": "runs of the group that broke down within the horizon",
}


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Kaplan-Meier share still balancing per quarter, per calibration and scenario."""
    runs, plan = sweeps.run_design(cfg, cfg["sweep"], "paper_survival")
    keys = ["calibration", "scenario"]
    curves, medians = A.survival(runs, keys)
    curves = curves.merge(
        medians[[*keys, "runs", "events"]], on=keys, how="left", validate="m:1"
    ).rename(
        columns={
            "time": "quarter",
            "survival": "still_balancing_share",
            "ci_low": "still_balancing_share_ci_low",
            "ci_high": "still_balancing_share_ci_high",
            "events": "breakdowns",
        }
    )
    curves["quarter"] = curves["quarter"].astype(np.int64)
    scen = sweeps.axis_values(cfg["sweep"], "scenario") or sorted(plan.scenarios)
    cals = sweeps.axis_values(cfg["sweep"], "calibration") or sorted(plan.calibrations)
    curves = (
        curves.assign(
            _c=sweeps.order(curves["calibration"], cals), _s=sweeps.order(curves["scenario"], scen)
        )
        .sort_values(["_c", "_s", "quarter"], kind="mergesort")
        .drop(columns=["_c", "_s"])
        .reset_index(drop=True)
    )
    return FigureData(
        curves, UNITS, plan.n_runs, sweeps.plan_seeds(plan), {"grid": sweeps.design_info(plan)}
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
    """Kaplan-Meier share still balancing per scenario, one panel per calibration."""
    cals = list(dict.fromkeys(table["calibration"]))
    scen = list(dict.fromkeys(table["scenario"]))
    styles = style.scenario_styles(scen)
    fig = Figure(figsize=(style.WIDE, 3.2), layout="constrained")
    axes = fig.subplots(1, len(cals), sharey=True, squeeze=False)[0]
    low = max(0.0, float(table["still_balancing_share_ci_low"].min()) - 0.05)
    for i, (ax, cal) in enumerate(zip(axes, cals, strict=True)):
        for sc in scen:
            d = table[(table["calibration"] == cal) & (table["scenario"] == sc)]
            label = (
                f"{labels.scenario_label(sc)} ({int(d['breakdowns'].iloc[0])}/"
                f"{int(d['runs'].iloc[0])} broke)"
            )
            _draw_curve(ax, d, label, *styles[sc])
        ax.set_ylim(low, 1.01)
        ax.set_xlim(0, table["quarter"].max())
        ax.set_xlabel("quarter")
        ax.set_ylabel("share still balancing (Kaplan–Meier)" if i == 0 else "")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        style.panel_title(ax, style.LETTERS[i], labels.calibration_label(cal))
        ax.legend(loc="lower left", fontsize=7.5)
    return fig


def _scenario_text(g: pd.DataFrame, sc: str) -> str:
    """How one scenario's runs broke down (its curve ``g``, sorted by quarter)."""
    runs, k = int(g["runs"].iloc[0]), int(g["breakdowns"].iloc[0])
    end = g.iloc[-1]
    first = int(g[g["still_balancing_share"] < 1]["quarter"].iloc[0])
    tenth = g[g["still_balancing_share"] <= 0.9]["quarter"]
    return (
        f"{labels.scenario_phrase(sc)} broke down in {k:,} of {runs:,} runs (share still "
        f"balancing after quarter {int(end['quarter'])}: {pct(end['still_balancing_share'])} "
        f"{interval(end['still_balancing_share_ci_low'], end['still_balancing_share_ci_high'])}), "
        f"the first in quarter {first}"
        + (f", 10% by quarter {int(tenth.iloc[0])}" if len(tenth) else "")
    )


def _calibration_text(d: pd.DataFrame, cal: str) -> str:
    broke, calm = [], []
    for sc in dict.fromkeys(d["scenario"]):
        g = d[d["scenario"] == sc].sort_values("quarter")
        if int(g["breakdowns"].iloc[0]) == 0:
            calm.append((labels.scenario_phrase(sc), int(g["runs"].iloc[0])))
        else:
            broke.append(_scenario_text(g, sc))
    text = f"Under {labels.calibration_phrase(cal)}, " + (
        "; ".join(broke) if broke else "no scenario broke down"
    )
    if calm:
        counts = sorted({r for _, r in calm})
        each = f"0 of {counts[0]:,} runs each" if len(counts) == 1 else "0 runs"
        text += "; no run broke down under " + listing([n for n, _ in calm]) + f" ({each})"
    return text + "."


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per calibration: which scenarios broke down, how often and how early."""
    return " ".join(
        _calibration_text(t[t["calibration"] == cal], cal)
        for cal in dict.fromkeys(t["calibration"])
    )


KIND = FigureKind(
    name="survival",
    required={"sweep"},
    optional={"scenario", "calibration"},
    build=build,
    draw=draw,
    describe=describe,
)
