"""The breakdown grid over two design parameters: its table, lookups and heatmap drawing.

Shared by :mod:`.phase_diagram` and :mod:`.calibration_contours`: per state model, noise level
and cell of a grid design (optionally crossed with a calibration or scenario axis) the runs,
breakdowns, breakdown share with its Wilson 95% interval, the side shares, and the ruptures (a
relation the US or China collapsed by its own actions: recorded, not a breakdown)
(:func:`grid_table`); the cell at the scenario's own levels (:func:`scenario_point`, :func:`cell_at`); and the seaborn heatmap with
a contour and the scenario's star in data coordinates (:func:`heatmap`, :func:`contour`,
:func:`mark_scenario`). The grid's x and y are the first and second parameter of the
table's columns, i.e. in the design's axis order (:func:`grid_axes`; not the config's key order,
which a config read back from ``MANIFEST.json`` does not keep).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from experiments import analysis as A
from experiments.figures import labels, sweeps
from experiments.figures.kind import FigureData
from sim.catalog import load_scenario
from sim.core.scenario import get_level

CELL_UNITS = {
    "runs": "runs in the cell (seeds)",
    "breakdowns": "runs whose balancing broke down within the horizon (outcome != balanced: "
    "Japan sustainedly met one side's ask while breaching the other's, or collapsed a "
    "relation by its own moves)",
    "breakdown_share": "share of runs that broke down, 0-1",
    "breakdown_share_ci_low": "Wilson 95% interval of breakdown_share, lower end",
    "breakdown_share_ci_high": "Wilson 95% interval of breakdown_share, upper end",
    "toward_us_share": "share of runs that broke toward the US, 0-1",
    "toward_china_share": "share of runs that broke toward China, 0-1",
    "ruptures": "runs in which the US or China collapsed its relation with Japan by its own "
    "actions within the horizon (a rupture: recorded separately, not a breakdown)",
    "rupture_share": "share of runs with a rupture, 0-1",
    "rupture_by_us_share": "share of runs in which the US ruptured the relation, 0-1",
    "rupture_by_china_share": "share of runs in which China ruptured the relation, 0-1",
}

# --------------------------------------------------------------------------- data


def rupture_counts(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per cell: ruptures (by either state), and the shares of runs ruptured by each."""
    r = runs["rupture"].astype(str)
    frame = runs[keys].assign(
        ruptures=(r != "none").astype(np.int64),
        rupture_by_us_share=(r == "us").astype(np.float64),
        rupture_by_china_share=(r == "china").astype(np.float64),
    )
    g = frame.groupby(keys, sort=True, observed=True)
    out = g.agg(
        ruptures=("ruptures", "sum"),
        rupture_by_us_share=("rupture_by_us_share", "mean"),
        rupture_by_china_share=("rupture_by_china_share", "mean"),
    ).reset_index()
    out["rupture_share"] = out["rupture_by_us_share"] + out["rupture_by_china_share"]
    return out[
        [*keys, "ruptures", "rupture_share", "rupture_by_us_share", "rupture_by_china_share"]
    ]


def cells(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per cell: runs, breakdowns, breakdown share with Wilson 95%, side shares, ruptures."""
    out = A.breakdown_probability(runs, keys)
    sides = A.side_split(runs, keys)
    wide = sides.pivot_table(index=keys, columns="side", values="share", observed=True)
    wide = wide.reindex(columns=list(A.SIDES)).reset_index()
    out = out.merge(wide[[*keys, "us", "china"]], on=keys, how="left", validate="1:1")
    out = out.merge(rupture_counts(runs, keys), on=keys, how="left", validate="1:1")
    return out.rename(
        columns={
            "events": "breakdowns",
            "p_breakdown": "breakdown_share",
            "ci_low": "breakdown_share_ci_low",
            "ci_high": "breakdown_share_ci_high",
            "us": "toward_us_share",
            "china": "toward_china_share",
        }
    )


def grid_table(cfg: Mapping[str, Any], name: str, one_state_model: bool = False) -> FigureData:
    """Run the config's ``sweep`` grid under each state model and at each noise level; one row
    per state model, noise level and cell (``one_state_model``: the figure draws one)."""
    runs, plans = sweeps.run_designs(cfg, cfg["sweep"], name, one_state_model=one_state_model)
    variants = list(plans)
    plan = plans[variants[0]]
    params = list(plan.design.params)
    cats = [c for c in ("calibration", "scenario") if c in plan.design.points]
    pos = {v: i for i, v in enumerate(variants)}
    variant = [pos[v] for v in zip(runs["states"], runs["noise"], strict=True)]
    table = cells(runs.assign(_v=np.asarray(variant, dtype=np.int64)), ["_v", *cats, *params])
    picked = [variants[i] for i in table.pop("_v")]
    table.insert(0, "noise", [n for _, n in picked])
    table.insert(0, "states", [st for st, _ in picked])
    if "calibration" not in table:
        table.insert(0, "calibration", next(iter(plan.calibrations)))
    if "scenario" not in table:
        table.insert(0, "scenario", next(iter(plan.scenarios)))
    table = table.rename(columns={p: sweeps.param_column(p) for p in params})
    lead = [
        "scenario",
        "calibration",
        "states",
        "noise",
        *[sweeps.param_column(p) for p in params],
    ]
    table = table[lead + [c for c in table if c not in lead]]
    units = {
        "scenario": "scenario name (configs/scenario)",
        "calibration": "calibration name (configs/calibration)",
        "states": sweeps.STATES_UNIT,
        "noise": sweeps.NOISE_UNIT,
        **{sweeps.param_column(p): sweeps.param_unit(p, plan) for p in params},
        **CELL_UNITS,
    }
    return FigureData(
        table,
        units,
        sum(p.n_runs for p in plans.values()),
        sweeps.plan_seeds(plan),
        sweeps.designs_record("grid", plans),
    )


def grid_axes(table: pd.DataFrame, cfg: Mapping[str, Any]) -> tuple[str, str]:
    """The grid's (x, y) parameters, in the order of the table's columns (the design's)."""
    by_column = {sweeps.param_column(p): p for p in sweeps.grid_params(cfg["sweep"])}
    params = [by_column[c] for c in table.columns if c in by_column]
    if len(params) != 2:
        raise ValueError(f"a breakdown grid needs two parameter axes, got {params}")
    return params[0], params[1]


def grid_columns(table: pd.DataFrame, cfg: Mapping[str, Any]) -> tuple[str, str]:
    """The table columns of the grid's (x, y) parameters."""
    x, y = grid_axes(table, cfg)
    return sweeps.param_column(x), sweeps.param_column(y)


def scenario_point(table: pd.DataFrame, cfg: Mapping[str, Any]) -> tuple[float, float] | None:
    """The config scenario's own levels of the grid's (x, y) parameters, if it sets both."""
    if not cfg.get("scenario"):
        return None
    scenario = load_scenario(cfg["scenario"])
    x, y = (get_level(scenario, p) for p in grid_axes(table, cfg))
    return None if x is None or y is None else (float(x), float(y))


def cell_at(t: pd.DataFrame, cfg: Mapping[str, Any], x: float, y: float) -> pd.Series | None:
    """The table row at grid point (x, y) (None if the grid does not contain it)."""
    xc, yc = grid_columns(t, cfg)
    m = np.isclose(t[xc], x) & np.isclose(t[yc], y)
    return t[m].iloc[0] if m.any() else None


# --------------------------------------------------------------------------- drawing


def pivot(table: pd.DataFrame, x: str, y: str, value: str) -> tuple[np.ndarray, ...]:
    """(x values, y values, value[y, x]) of a long table, both axes ascending."""
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="first")
    grid = grid.sort_index().sort_index(axis=1)
    return grid.columns.to_numpy(np.float64), grid.index.to_numpy(np.float64), grid.to_numpy()


def to_index(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Data coordinates -> heatmap cell coordinates (cell i is centred at i + 0.5)."""
    return np.interp(values, grid, np.arange(len(grid))) + 0.5


def heatmap(
    ax: Axes,
    xs: np.ndarray,
    ys: np.ndarray,
    z: np.ndarray,
    cmap: str,
    vmin: float,
    vmax: float,
    cbar_label: str,
    percent_x: bool = True,
    cbar: bool = True,
) -> None:
    """A seaborn heatmap with y increasing upwards and a few round ticks in data units.

    ``cbar=False`` leaves the colour bar out (to draw one for several panels: :func:`colorbar`).
    """
    sns.heatmap(
        pd.DataFrame(z, index=ys, columns=xs),
        ax=ax,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        xticklabels=False,
        yticklabels=False,
        cbar=cbar,
        cbar_kws={"label": cbar_label, "shrink": 0.9} if cbar else None,
        rasterized=True,
    )
    ax.invert_yaxis()
    xt = [v for v in np.round(np.arange(0, 1.0001, 0.2), 10) if xs[0] - 1e-9 <= v <= xs[-1] + 1e-9]
    yt = [v for v in np.round(np.arange(0, 1.0001, 0.2), 10) if ys[0] - 1e-9 <= v <= ys[-1] + 1e-9]
    ax.set_xticks(to_index(np.array(xt), xs))
    ax.set_xticklabels([f"{v:.0%}" if percent_x else f"{v:g}" for v in xt], rotation=0)
    ax.set_yticks(to_index(np.array(yt), ys))
    ax.set_yticklabels([f"{v:g}" for v in yt], rotation=0)
    ax.tick_params(length=3, bottom=True, left=True)
    for spine in ax.spines.values():
        spine.set_visible(True)


def colorbar(axes: list[Axes], label: str) -> None:
    """One colour bar for several heatmap panels drawn with the same scale (``cbar=False``)."""
    fig = axes[0].get_figure()
    fig.colorbar(axes[0].collections[0], ax=axes, label=label, shrink=0.9)


def contour(
    ax: Axes, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, level: float, ls: str = "-"
) -> bool:
    """The ``level`` contour of ``z`` in heatmap cell coordinates; False if there is none."""
    if not (np.nanmin(z) < level < np.nanmax(z)):
        return False
    cs = ax.contour(
        np.arange(len(xs)) + 0.5,
        np.arange(len(ys)) + 0.5,
        z,
        levels=[level],
        colors="black",
        linewidths=1.4,
        linestyles=ls,
    )
    cs.set(path_effects=[pe.withStroke(linewidth=3.2, foreground="white")])
    return True


def mark_scenario(
    ax: Axes, table: pd.DataFrame, cfg: Mapping[str, Any], xs: np.ndarray, ys: np.ndarray
) -> Any:
    """A star at the scenario's own levels (its legend handle), or None if it has none."""
    point = scenario_point(table, cfg)
    if point is None:
        return None
    return ax.plot(
        to_index(np.array([point[0]]), xs),
        to_index(np.array([point[1]]), ys),
        marker="*",
        ms=11,
        color="white",
        mec="black",
        mew=0.9,
        ls="none",
        label=f"{labels.scenario_label(cfg['scenario'])} as specified",
    )[0]


def label_axes(ax: Axes, table: pd.DataFrame, cfg: Mapping[str, Any]) -> None:
    """Axis titles of the grid's parameters, from the parameter registry."""
    x, y = grid_axes(table, cfg)
    ax.set_xlabel(labels.axis_label(x))
    ax.set_ylabel(labels.axis_label(y))
