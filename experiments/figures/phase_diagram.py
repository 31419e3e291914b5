"""Figure kind ``phase_diagram``: where balancing breaks over two escalation levels.

A grid over two design parameters (the ``breakdown_grid`` axes: the US tariff and demanded
compliance the US escalates to), run under each of the config's state models (``states``:
strategic, reactive) and at each of its noise levels (calibrated temperatures, near best
response); per cell the breakdown probability with its Wilson 95% interval, the shares that
broke toward each side and the ruptures (:func:`experiments.figures.grids.grid_table`). Drawn
with one column per state model and noise level and three rows: the probability with its ``level`` contour, the net side of breakdown, and the
probability of a rupture (a relation collapsed by the other state's own actions, not a
breakdown), each with the breakdown contour.
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
from experiments.figures.text import (
    grid_step,
    interval,
    noise_phrase,
    pct,
    ranges,
    states_phrase,
    variant_title,
)


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Breakdown probability (Wilson 95%), side and ruptures per state model, noise level and
    grid cell."""
    return grids.grid_table(cfg, "paper_phase_diagram")


#: The figure's rows: table column (derived for the side), colour map, limits, bar, title.
ROWS = [
    (
        "breakdown_share",
        style.SEQUENTIAL,
        (0, 1),
        "P(breakdown within {rounds} quarters)",
        "Breakdown",
    ),
    ("net_side", style.DIVERGING, (-1, 1), "P(toward US) − P(toward China)", "Breakdown side"),
    ("rupture_share", style.SEQUENTIAL, (0, 1), "P(rupture by the US or China)", "Rupture"),
]


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Columns: state models x noise levels; rows: P(breakdown) with its contour, its side,
    P(rupture)."""
    x, y = grids.grid_columns(table, cfg)
    level = float(cfg["level"])
    levels = list(dict.fromkeys(zip(table["states"], table["noise"], strict=True)))
    several = table["states"].nunique() > 1
    table = table.assign(net_side=table["toward_us_share"] - table["toward_china_share"])
    fig = Figure(figsize=(style.WIDE, 2.75 * len(ROWS) + 0.4), layout="constrained")
    axes = fig.subplots(len(ROWS), len(levels), squeeze=False, sharex=True, sharey=True)
    handles: list[Any] = []
    star = None
    for c, (states, noise) in enumerate(levels):
        t = table[(table["states"] == states) & (table["noise"] == noise)]
        xs, ys, p = grids.pivot(t, x, y, "breakdown_share")
        for r, (col, cmap, (lo, hi), bar, title) in enumerate(ROWS):
            ax = axes[r, c]
            _, _, z = grids.pivot(t, x, y, col)
            grids.heatmap(ax, xs, ys, z, cmap, lo, hi, bar, cbar=False)
            if grids.contour(ax, xs, ys, p, level):
                handles = [
                    Line2D([], [], color="black", lw=1.4, label=f"P(breakdown) = {level:.0%}")
                ]
            star = grids.mark_scenario(ax, t, cfg, xs, ys)
            grids.label_axes(ax, t, cfg)
            if r < len(ROWS) - 1:
                ax.set_xlabel("")
            if c:
                ax.set_ylabel("")
            letter = style.LETTERS[r * len(levels) + c]
            style.panel_title(ax, letter, f"{title}, {variant_title(states, noise, several)}")
    for r, (_, _, _, bar, _) in enumerate(ROWS):
        grids.colorbar(list(axes[r]), bar.format(rounds=cfg["rounds"]))
    if star is not None:
        handles.append(star)
    if not several:  # the one state model, said on the figure (several: in the titles)
        states = levels[0][0]
        text = states_phrase(states).removeprefix("under ")
        handles.append(Line2D([], [], ls="none", label=text[:1].upper() + text[1:]))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


def _variant_text(t: pd.DataFrame, cfg: Mapping[str, Any], states: str, noise: str) -> str:
    """Where breakdown is likely under one state model and noise level, toward which side,
    and the ruptures."""
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
        f"{states_phrase(states, capital=True)} {noise_phrase(noise)}, breakdown within "
        f"{int(cfg['rounds'])} quarters "
    )
    if n:
        text += (
            f"is more likely than not in {n:,} of the {total:,} cells ({pct(n / total)}), at "
            f"demanded compliance {ranges(hi[y], step)}; of the runs in those cells {pct(us)} "
            f"broke toward the US and {pct(cn)} toward China."
        )
    else:
        text += (
            f"is more likely than not in none of the {total:,} cells (highest cell "
            f"{pct(t['breakdown_share'].max())})."
        )
    if len(china_cells):
        text += (
            f" Breakdown toward China dominates in {len(china_cells):,} of them: at demands "
            f"{ranges(china_cells[y], step)} (tariffs "
            f"{pct(china_cells[x].min(), 0)}–{pct(china_cells[x].max(), 0)})."
        )
    all_runs = int(t["runs"].sum())
    ruptured = int(t["ruptures"].sum())
    by_cn = float((t["rupture_by_china_share"] * t["runs"]).sum() / all_runs)
    by_us = float((t["rupture_by_us_share"] * t["runs"]).sum() / all_runs)
    rup_hi = t[t["rupture_share"] >= level]
    text += (
        f" A rupture (a relation collapsed by the other state's own actions, not counted as "
        f"breakdown) occurs in {pct(ruptured / all_runs)} of all runs over the grid ("
        f"{pct(by_cn)} by China, {pct(by_us)} by the US) and is more likely than not in "
        f"{len(rup_hi):,} cells."
    )
    star = grids.scenario_point(t, cfg)
    cell = grids.cell_at(t, cfg, *star) if star else None
    if cell is not None:
        text += (
            f" At the scenario's own escalation (tariff {pct(star[0], 0)}, demand {star[1]:g}) "
            f"the probability of breakdown is {pct(cell['breakdown_share'])} "
            f"{interval(cell['breakdown_share_ci_low'], cell['breakdown_share_ci_high'])} "
            f"(Wilson 95%, {int(cell['runs'])} runs) and of a rupture "
            f"{pct(cell['rupture_share'])}."
        )
    return text


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per state model and noise level: where breakdown is likely, its side, ruptures, the
    scenario's cell."""
    variants = dict.fromkeys(zip(t["states"], t["noise"], strict=True))
    return "\n\n".join(
        _variant_text(t[(t["states"] == st) & (t["noise"] == n)], cfg, st, n) for st, n in variants
    )


KIND = FigureKind(
    name="phase_diagram",
    required={"scenario", "calibration", "sweep", "level"},
    optional={"noise", "states"},
    build=build,
    draw=draw,
    describe=describe,
)
