"""Figures from the analysis tables (:mod:`experiments.analysis`); drawing only, no computing.

Each function takes tidy tables and returns a matplotlib ``Figure`` built with the
object-oriented API (no pyplot state, works headless); :func:`save_png` writes it atomically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from sim.sweep.storage import atomic_write_bytes

sns.set_theme(style="whitegrid", context="paper")


def save_png(fig: Figure, path: Path, dpi: int = 130) -> None:
    """Write ``fig`` as PNG atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(Path(path), buf.getvalue())


def _facets(table: pd.DataFrame, facet: str | None) -> list[tuple[str, pd.DataFrame]]:
    if facet is None or facet not in table:
        return [("", table)]
    return [(str(k), g) for k, g in table.groupby(facet, sort=True, observed=True)]


def _short(name: str) -> str:
    return name.split(".")[-1].replace("_", " ")


def heatmaps(
    table: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    facet: str | None = None,
    title: str = "",
    cmap: str = "rocket_r",
    label: str = "",
) -> Figure:
    """Heatmaps of ``value`` (0-1) over ``x`` and ``y``, one panel per ``facet`` value."""
    panels = _facets(table, facet)
    fig = Figure(figsize=(5.2 * len(panels), 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, g) in zip(axes, panels, strict=True):
        grid = g.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index(
            ascending=False
        )
        sns.heatmap(
            grid,
            ax=ax,
            vmin=0,
            vmax=1,
            cmap=cmap,
            cbar_kws={"label": label or value},
            xticklabels=[f"{v:g}" for v in grid.columns],
            yticklabels=[f"{v:g}" for v in grid.index],
        )
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{facet} = {name}" if name else title)
    if title and len(panels) > 1:
        fig.suptitle(title)
    return fig


def probability_curves(
    cells: pd.DataFrame,
    axis: str,
    hue: str | None = None,
    value: str = "p_breakdown",
    tips: pd.DataFrame | None = None,
    level: float = 0.5,
    max_lines: int = 6,
) -> Figure:
    """Breakdown probability along ``axis`` with its 95% band, one line per (some) ``hue`` value."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    groups: list[tuple[object, pd.DataFrame]]
    if hue is None or hue not in cells:
        groups = [(None, cells)]
    else:
        levels = np.sort(cells[hue].unique())
        keep = levels[
            np.unique(
                np.linspace(0, len(levels) - 1, min(max_lines, len(levels))).round().astype(int)
            )
        ]
        groups = [(v, cells[cells[hue] == v]) for v in keep]
    palette = sns.color_palette("viridis", len(groups))
    for color, (v, g) in zip(palette, groups, strict=True):
        g = g.groupby(axis, sort=True).agg(
            p=(value, "mean"), lo=("ci_low", "mean"), hi=("ci_high", "mean")
        )
        label = None if v is None else f"{_short(hue)} = {v:g}" if isinstance(v, float) else str(v)
        ax.plot(g.index, g["p"], color=color, label=label, marker="o", ms=2.5)
        ax.fill_between(g.index, g["lo"], g["hi"], color=color, alpha=0.15, lw=0)
        if tips is not None and v is not None and hue in tips:
            for _, t in tips[(tips[hue] == v) & tips["tipping_point"].notna()].iterrows():
                ax.errorbar(
                    t["tipping_point"],
                    level,
                    xerr=[[t["tipping_point"] - t["ci_low"]], [t["ci_high"] - t["tipping_point"]]],
                    color=color,
                    fmt="D",
                    ms=4,
                    capsize=2,
                )
    ax.axhline(level, color="grey", ls="--", lw=0.8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(axis)
    ax.set_ylabel("breakdown probability (95% Wilson band)")
    if hue is not None and len(groups) > 1:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def survival_curves(curves: pd.DataFrame, group: str | None = None, title: str = "") -> Figure:
    """Kaplan-Meier survival of balancing (time to breakdown), one step curve per group."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    panels = _facets(curves, group)
    palette = sns.color_palette("colorblind", len(panels))
    for color, (name, g) in zip(palette, panels, strict=True):
        ax.step(g["time"], g["survival"], where="post", color=color, label=name or "all runs")
        ax.fill_between(
            g["time"], g["ci_low"], g["ci_high"], step="post", color=color, alpha=0.15, lw=0
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("quarter")
    ax.set_ylabel("share still balancing (Kaplan-Meier)")
    ax.set_title(title)
    ax.legend(fontsize=7, frameon=False)
    return fig


def sobol_bars(indices: pd.DataFrame, output: str = "p_breakdown", top: int = 15) -> Figure:
    """First-order and total Sobol indices of ``output``, ``top`` parameters by total index."""
    d = indices[indices["output"] == output].sort_values("ST", ascending=False).head(top)
    long = pd.concat(
        [
            d.assign(kind="first order (S1)", value=d["S1"], conf=d["S1_conf"]),
            d.assign(kind="total (ST)", value=d["ST"], conf=d["ST_conf"]),
        ]
    )
    fig = Figure(figsize=(6.8, 0.32 * len(d) + 1.4), layout="constrained")
    ax = fig.subplots()
    sns.barplot(long, y="parameter", x="value", hue="kind", ax=ax, orient="h", errorbar=None)
    for bars, (_, part) in zip(ax.containers, long.groupby("kind", sort=False), strict=False):
        ys = [b.get_y() + b.get_height() / 2 for b in bars]
        ax.errorbar(part["value"], ys, xerr=part["conf"], fmt="none", ecolor="black", lw=0.7)
    ax.set_xlabel(f"Sobol index of {output}")
    ax.set_ylabel("")
    ax.legend(fontsize=7, frameon=False)
    return fig


def prim_trajectory(traj: pd.DataFrame, chosen: Sequence[float] | None = None) -> Figure:
    """PRIM's peeling trajectory (coverage against density); the chosen box highlighted."""
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    ax = fig.subplots()
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"], cmap="viridis", s=14)
    fig.colorbar(sc, ax=ax, label="restricted dimensions")
    if chosen is not None:
        ax.scatter([chosen[0]], [chosen[1]], s=90, facecolors="none", edgecolors="red")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    return fig
