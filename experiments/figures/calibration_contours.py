"""Figure kind ``calibration_contours``: does the phase diagram depend on the calibration?

The phase grid (:mod:`.phase_diagram`) crossed with a ``calibration`` axis (the
``calibration_check`` experiment), at the calibrated noise, under one state model
(``states``, default strategic; the shipped config runs reactive states, since strategic
states do not apply the pressures the axes set). Drawn as each calibration's
``level`` contour of the breakdown probability (line style in the figure's order, the
reference first) over the difference of the probabilities; the table also counts ruptures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.figures import grids, labels, style
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import pct, signed, states_phrase
from sim.core.errors import ConfigError


def build(cfg: Mapping[str, Any]) -> FigureData:
    """The phase grid under each calibration (a calibration axis): one row per cell."""
    data = grids.grid_table(cfg, "paper_calibration_contours", one_state_model=True)
    if data.table["calibration"].nunique() < 2:
        raise ConfigError("sweep.axes", "calibration_contours needs a calibration axis")
    return data


def _calibrations(table: pd.DataFrame, cfg: Mapping[str, Any]) -> list[str]:
    """The reference calibration first, then the others in table order."""
    ref = cfg["reference_calibration"]
    return [ref, *[c for c in dict.fromkeys(table["calibration"]) if c != ref]]


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Both calibrations' 50% contours over the difference of their breakdown probabilities."""
    x, y = grids.grid_columns(table, cfg)
    level = float(cfg["level"])
    names = _calibrations(table, cfg)
    ref, other = names[0], names[1]
    grid = {
        c: grids.pivot(table[table["calibration"] == c], x, y, "breakdown_share") for c in names
    }
    xs, ys, p_ref = grid[ref]
    diff = grid[other][2] - p_ref
    lim = max(0.25, float(np.ceil(np.nanmax(np.abs(diff)) / 0.25) * 0.25))
    fig = Figure(figsize=(style.NARROW + 0.4, 4.3), layout="constrained")
    ax = fig.subplots()
    diff_label = f"difference in P(breakdown)\n({other} − {ref})"
    grids.heatmap(ax, xs, ys, diff, style.DIVERGING, -lim, lim, diff_label)
    handles = []
    for i, c in enumerate(names):
        ls = style.LINESTYLES[i % len(style.LINESTYLES)]
        if grids.contour(ax, xs, ys, grid[c][2], level, ls):
            label = labels.calibration_label(c)
            handles.append(Line2D([], [], color="black", ls=ls, lw=1.4, label=label))
    star = grids.mark_scenario(ax, table, cfg, xs, ys)
    if star is not None:
        handles.append(star)
    grids.label_axes(ax, table, cfg)
    states = states_phrase(str(table["states"].iloc[0]), short=True)
    ax.set_title(f"{level:.0%} contour of P(breakdown), both calibrations, {states}", loc="left")
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


def _first_crossing(s: pd.Series, y: float, level: float, name: str) -> str:
    """The lowest x at which the probability ``s`` (indexed by x, y) reaches ``level`` at y."""
    r = s[np.isclose(s.index.get_level_values(1), y)]
    hit = r[r >= level]
    return f"{pct(hit.index.get_level_values(0).min())} ({name})" if len(hit) else f"never ({name})"


def _star_text(
    t: pd.DataFrame, cfg: Mapping[str, Any], a: pd.Series, b: pd.Series, ref: str, other: str
) -> str:
    """The two calibrations at the scenario's own levels ('' if the grid misses them)."""
    level = float(cfg["level"])
    star = grids.scenario_point(t, cfg)
    if star is None:
        return ""
    ca = grids.cell_at(t[t["calibration"] == ref], cfg, *star)
    cb = grids.cell_at(t[t["calibration"] == other], cfg, *star)
    if ca is None or cb is None:
        return ""
    return (
        f" At the scenario's own escalation (tariff {pct(star[0], 0)}, demand "
        f"{star[1]:g}) the probability is {pct(ca['breakdown_share'])} under {ref} and "
        f"{pct(cb['breakdown_share'])} under {other}"
        f"; at demand {star[1]:g} it first reaches {pct(level, 0)} at a tariff of "
        + " versus ".join(_first_crossing(s, star[1], level, n) for n, s in ((ref, a), (other, b)))
        + "."
    )


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """How many cells each calibration classifies differently, and at the scenario's levels."""
    level = float(cfg["level"])
    keys = list(grids.grid_columns(t, cfg))
    ref, other = _calibrations(t, cfg)[:2]
    a = t[t["calibration"] == ref].set_index(keys)["breakdown_share"]
    b = t[t["calibration"] == other].set_index(keys)["breakdown_share"].reindex(a.index)
    total = len(a)
    na, nb = int((a >= level).sum()), int((b >= level).sum())
    only_a = int(((a >= level) & (b < level)).sum())
    only_b = int(((b >= level) & (a < level)).sum())
    diff = b - a
    text = (
        f"{states_phrase(t['states'].iloc[0], capital=True)}, breakdown is more likely than "
        f"not in {na:,} of {total:,} cells ({pct(na / total)}) "
        f"under {labels.calibration_phrase(ref)} and {nb:,} ({pct(nb / total)}) under "
        f"{labels.calibration_phrase(other)}; the two {pct(level, 0)} contours classify "
        f"{only_a + only_b:,} cells ({pct((only_a + only_b) / total)}) differently ({only_a:,} "
        f"break only under {ref}, {only_b:,} only under {other}). The mean difference in "
        f"probability over the grid is {signed(diff.mean(), 3)} ({other} − {ref}), ranging "
        f"from {signed(diff.min(), 2)} to {signed(diff.max(), 2)} per cell."
    )
    return text + _star_text(t, cfg, a, b, ref, other) + _rupture_text(t, ref, other)


def _rupture_text(t: pd.DataFrame, ref: str, other: str) -> str:
    """The share of runs over the grid with a rupture, under each calibration."""

    def shares(c: str) -> str:
        g = t[t["calibration"] == c]
        runs = g["runs"].sum()
        total = g["ruptures"].sum() / runs
        cn = (g["rupture_by_china_share"] * g["runs"]).sum() / runs
        return f"{pct(total)} of runs under {c} ({pct(cn)} by China)"

    return (
        " Ruptures (a relation collapsed by the other state's own actions; recorded, not "
        f"counted as breakdown) occur in {shares(ref)} and {shares(other)} over the grid."
    )


KIND = FigureKind(
    name="calibration_contours",
    required={"scenario", "sweep", "level", "reference_calibration"},
    optional={"calibration", "states"},
    build=build,
    draw=draw,
    describe=describe,
)
