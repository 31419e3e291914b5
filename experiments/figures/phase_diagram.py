"""Figure kind ``phase_diagram``: where balancing breaks over two escalation levels.

A grid over two design parameters (the ``breakdown_grid`` axes: the US tariff and demanded
compliance the US escalates to); per cell the breakdown probability with its Wilson 95%
interval and the shares that broke toward each side (:func:`experiments.figures.grids.grid_table`).
Drawn as (a) the probability with its ``level`` contour and (b) the net side of breakdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.figures import grids, style
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import grid_step, interval, pct, ranges


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Breakdown probability (Wilson 95%) and side per cell of a two-axis grid."""
    return grids.grid_table(cfg, "paper_phase_diagram")


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """(a) breakdown probability with its 50% contour; (b) the side of breakdown."""
    x, y = grids.grid_columns(table, cfg)
    level = float(cfg["level"])
    xs, ys, p = grids.pivot(table, x, y, "breakdown_share")
    table = table.assign(net_side=table["toward_us_share"] - table["toward_china_share"])
    _, _, side = grids.pivot(table, x, y, "net_side")
    fig = Figure(figsize=(style.WIDE, 3.3), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    p_label = f"P(breakdown within {cfg['rounds']} quarters)"
    grids.heatmap(ax1, xs, ys, p, style.SEQUENTIAL, 0, 1, p_label)
    grids.heatmap(ax2, xs, ys, side, style.DIVERGING, -1, 1, "P(toward US) − P(toward China)")
    handles = []
    for ax in (ax1, ax2):
        if grids.contour(ax, xs, ys, p, level):
            handles = [Line2D([], [], color="black", lw=1.4, label=f"P(breakdown) = {level:.0%}")]
        star = grids.mark_scenario(ax, table, cfg, xs, ys)
        grids.label_axes(ax, table, cfg)
    if star is not None:
        handles.append(star)
    style.panel_title(ax1, "a", "Probability of breakdown")
    style.panel_title(ax2, "b", "Side of breakdown")
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    return fig


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Where breakdown is likely, toward which side, and at the scenario's own levels."""
    x, y = grids.grid_columns(t, cfg)
    level = float(cfg["level"])
    hi = t[t["breakdown_share"] >= level]
    n, total = len(hi), len(t)
    step = grid_step(t[y])
    runs = int(hi["runs"].sum())
    us = float((hi["toward_us_share"] * hi["runs"]).sum() / runs) if runs else np.nan
    cn = float((hi["toward_china_share"] * hi["runs"]).sum() / runs) if runs else np.nan
    china_cells = hi[hi["toward_china_share"] > hi["toward_us_share"]]
    text = (
        f"Breakdown within {int(cfg['rounds'])} quarters is more likely than not in {n:,} of the "
        f"{total:,} cells ({pct(n / total)}), at demanded compliance "
        f"{ranges(hi[y], step)}; of the runs in those cells {pct(us)} broke "
        f"toward the US and {pct(cn)} toward China."
    )
    if len(china_cells):
        text += (
            f" Breakdown toward China dominates in {len(china_cells):,} of them: at demands "
            f"{ranges(china_cells[y], step)} (tariffs "
            f"{pct(china_cells[x].min(), 0)}–{pct(china_cells[x].max(), 0)})."
        )
    star = grids.scenario_point(t, cfg)
    cell = grids.cell_at(t, cfg, *star) if star else None
    if cell is not None:
        text += (
            f" At the scenario's own escalation (tariff {pct(star[0], 0)}, demand {star[1]:g}) "
            f"the probability is {pct(cell['breakdown_share'])} "
            f"{interval(cell['breakdown_share_ci_low'], cell['breakdown_share_ci_high'])} "
            f"(Wilson 95%, {int(cell['runs'])} runs)."
        )
    return text


KIND = FigureKind(
    name="phase_diagram",
    required={"scenario", "calibration", "sweep", "level"},
    optional=set(),
    build=build,
    draw=draw,
    describe=describe,
)
