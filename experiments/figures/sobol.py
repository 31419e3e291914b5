"""Figure kind ``sobol``: which inputs the breakdown probability is sensitive to.

A Saltelli design (the ``sobol_uncertain`` or ``sobol_assumptions`` experiment), run under one
state model (``states``, default strategic); the per-point breakdown probability is decomposed
by :func:`experiments.analysis.sobol_indices` into first-order (S1) and total (ST) indices
with bootstrap intervals. Drawn with :func:`experiments.plots.sobol_bars`, the
parameters labelled from the parameter registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments import analysis as A
from experiments import plots
from experiments.figures import labels, style, sweeps
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import num, pct, states_phrase
from sim.core import registry

UNITS = {
    "states": sweeps.STATES_UNIT,
    "output": "model output decomposed: p_breakdown = share of a point's seeds that broke down",
    "parameter": "sampled parameter (calibration entry, firm entry or scenario level)",
    "low": "lower end of the sampled range (the parameter's own unit, see docs/ODD.md)",
    "high": "upper end of the sampled range (the parameter's own unit)",
    "S1_variance_share": "first-order Sobol index: share of the output variance, 0-1",
    "S1_ci95_halfwidth": "half-width of the bootstrap 95% interval of S1",
    "ST_variance_share": "total Sobol index (with interactions): share of the output variance",
    "ST_ci95_halfwidth": "half-width of the bootstrap 95% interval of ST",
    "rank_by_ST": "rank of the parameter by total index (1 = largest)",
}
#: Table columns -> the column names :func:`experiments.plots.sobol_bars` reads.
INDEX_COLUMNS = {
    "S1_variance_share": "S1",
    "S1_ci95_halfwidth": "S1_conf",
    "ST_variance_share": "ST",
    "ST_ci95_halfwidth": "ST_conf",
}


def _keep(part: pd.DataFrame) -> pd.DataFrame:
    return part[["point", "replicate", "rounds", "outcome", "breakdown_round"]]


def build(cfg: Mapping[str, Any]) -> FigureData:
    """First-order and total Sobol indices (95% intervals) of the breakdown probability."""
    states = sweeps.state_models(cfg, one=True)[0]
    runs, plan = sweeps.run_design(cfg, cfg["sweep"], "paper_sobol", _keep, states=states)
    # sobol_indices averages each point's runs; the point's parameter values come from the
    # design (one row per point), never copied onto every run (1.6 million runs x 65 values
    # would be 0.9 GB).
    idx = A.sobol_indices(
        runs,
        plan.design.problem,
        outputs=(cfg["output"],),
        second_order=bool(cfg["sweep"].get("second_order", False)),
        seed=int(cfg["analysis_seed"]),
        points=plan.design.points,
    )
    ranges = {r.param: r for r in plan.design.ranges}
    # Parameters under the names the config gives them (an old name stays as written).
    written = {
        registry.canonical(str(p.get("param"))): str(p.get("param"))
        for p in cfg["sweep"].get("parameters") or []
    }
    table = pd.DataFrame(
        {
            "states": states,
            "output": idx["output"],
            "parameter": [written.get(p, p) for p in idx["parameter"]],
            "low": [ranges[p].low for p in idx["parameter"]],
            "high": [ranges[p].high for p in idx["parameter"]],
            **{col: idx[src] for col, src in INDEX_COLUMNS.items()},
        }
    )
    order = table["ST_variance_share"].rank(ascending=False, method="first")
    table["rank_by_ST"] = order.astype(np.int64)
    return FigureData(
        table,
        UNITS,
        plan.n_runs,
        sweeps.plan_seeds(plan),
        {"sobol": sweeps.design_info(plan, states=states)},
    )


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Top parameters by total Sobol index (first-order and total, 95% intervals)."""
    idx = table.rename(columns=INDEX_COLUMNS)
    names = {p: labels.param_label(p) for p in idx["parameter"]}
    if len(set(names.values())) == len(names):  # readable labels unless two would coincide
        idx = idx.assign(parameter=idx["parameter"].map(names))
    top = int(cfg["top"])
    fig = plots.sobol_bars(idx, output=cfg["output"], top=top)
    fig.set_size_inches(style.WIDE * 0.85, 0.3 * top + 1.2)
    ax = fig.axes[0]
    ax.set_xlabel("Sobol index of P(breakdown) (share of output variance, 95% interval)")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.legend(loc="lower right", title=None)
    ax.set_title(
        f"Sensitivity of P(breakdown) to the {len(table)} sampled parameters (top {cfg['top']}), "
        f"{states_phrase(str(table['states'].iloc[0]), short=True)}",
        loc="left",
    )
    return fig


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """The three most influential parameters, and how much comes from interactions."""
    top = t.sort_values("rank_by_ST").head(3)
    s1 = float(t["S1_variance_share"].sum())
    small = int((t["ST_variance_share"] < 0.01).sum())
    items = [
        f"`{r['parameter']}` (ST {num(r['ST_variance_share'])} ± {num(r['ST_ci95_halfwidth'])}, "
        f"S1 {num(r['S1_variance_share'])} ± {num(r['S1_ci95_halfwidth'])})"
        for _, r in top.iterrows()
    ]
    return (
        f"{states_phrase(t['states'].iloc[0], capital=True)}, of the {len(t)} sampled "
        "parameters the breakdown probability is most sensitive to "
        + ", ".join(items[:-1])
        + f" and {items[-1]}. The first-order indices sum to {num(s1)}, so about "
        f"{pct(max(0.0, 1 - s1), 0)} of the variance comes from interactions (breakdown needs "
        f"several conditions at once); {small} parameters have a total index below 0.01."
    )


KIND = FigureKind(
    name="sobol",
    required={"scenario", "calibration", "sweep", "output", "top", "analysis_seed"},
    optional={"states"},
    build=build,
    draw=draw,
    describe=describe,
)
