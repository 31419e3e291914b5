"""Figure kind ``tipping_points``: the pressure at which balancing breaks, against factors.

Each entry of the config's ``sweeps`` is a grid over ``axis`` (e.g. the US tariff the US
escalates to) and one factor (lobbying strength, fiscal stress); per factor level
:func:`experiments.analysis.tipping_points` finds where the breakdown probability crosses
``level`` along the axis, with a bootstrap interval. One panel per entry of ``sweeps``. Run
under one state model (``states``, default strategic; the shipped config runs reactive states,
since strategic states do not apply the tariff the axis sets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator, PercentFormatter

from experiments import analysis as A
from experiments.figures import labels, style, sweeps
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import interval, pct, states_phrase
from sim.catalog import load_scenario
from sim.core import registry
from sim.core.errors import ConfigError
from sim.core.scenario import get_level
from sim.sweep.plan import SweepPlan

#: What the design brief expects raising a factor to do to the tipping point (README text).
EXPECTED = {"lobbying_strength": "raises", "fiscal_stress": "lowers"}

# --------------------------------------------------------------------------- data


def _panel(
    cfg: Mapping[str, Any], key: str, spec: Mapping[str, Any]
) -> tuple[pd.DataFrame, SweepPlan]:
    """One entry of ``sweeps``: run its grid, find the crossings per factor level; (rows, plan)."""
    written = cfg["axis"]  # as the config names it (the table's axis column keeps that name)
    axis = registry.canonical(written)
    states = sweeps.state_models(cfg, one=True)[0]
    runs, plan = sweeps.run_design(cfg, spec, f"paper_tipping_{key}", states=states)
    others = [p for p in plan.design.params if p != axis]
    if axis not in plan.design.params or len(others) != 1:
        raise ConfigError(f"sweeps.{key}.axes", f"needs exactly two axes, {axis} and one factor")
    factor = others[0]
    tips = A.tipping_points(
        runs,
        axis,
        by=factor,
        level=float(cfg["level"]),
        n_boot=int(cfg["n_boot"]),
        seed=int(cfg["boot_seed"]),
    )
    col = sweeps.param_column(axis)
    rows = pd.DataFrame(
        {
            "states": states,
            "panel": key,
            "factor": factor,
            "factor_value": tips[factor].to_numpy(np.float64),
            "axis": written,
            "level_share": tips["level"].to_numpy(np.float64),
            "direction": tips["direction"].to_numpy(),
            f"tipping_{col}": tips["tipping_point"].to_numpy(np.float64),
            f"tipping_{col}_ci_low": tips["ci_low"].to_numpy(np.float64),
            f"tipping_{col}_ci_high": tips["ci_high"].to_numpy(np.float64),
            "bootstrap_support_share": tips["support"].to_numpy(np.float64),
            "breakdown_share_min": tips["p_min"].to_numpy(np.float64),
            "breakdown_share_max": tips["p_max"].to_numpy(np.float64),
            "runs_per_value": np.int64(sweeps.replicates(plan)[0]),
        }
    )
    return rows.merge(_ruptures(runs, axis, factor), on="factor_value", how="left"), plan


def _ruptures(runs: pd.DataFrame, axis: str, factor: str) -> pd.DataFrame:
    """Per factor level: the lowest, highest and mean share of runs with a rupture along axis."""
    frame = runs[[factor, axis]].astype(np.float64)
    frame["ruptured"] = (runs["rupture"].astype(str) != "none").astype(np.float64)
    along = frame.groupby([factor, axis], sort=True)["ruptured"].mean().groupby(level=0)
    out = pd.DataFrame(
        {
            "rupture_share_min": along.min(),
            "rupture_share_max": along.max(),
            "rupture_share_mean": along.mean(),
        }
    )
    return out.rename_axis("factor_value").reset_index()


def _units(col: str, axis_unit: str, factor_units: Mapping[str, str]) -> dict[str, str]:
    factors = "; ".join(f"{p}: {u}" for p, u in factor_units.items())
    return {
        "states": sweeps.STATES_UNIT,
        "panel": "panel of the figure (key of sweeps in the config)",
        "factor": "the parameter varied across the panel's x axis",
        "factor_value": f"value of the factor ({factors})",
        "axis": "the pressure axis along which breakdown probability is tracked",
        "level_share": "breakdown probability that defines the tipping point, 0-1",
        "direction": "up: probability rises through the level; down: falls through it; none: no crossing",
        f"tipping_{col}": f"tipping point on the axis: {axis_unit}",
        f"tipping_{col}_ci_low": "bootstrap 95% interval of the tipping point, lower end (same unit)",
        f"tipping_{col}_ci_high": "bootstrap 95% interval of the tipping point, upper end (same unit)",
        "bootstrap_support_share": "share of bootstrap replicates with a matching crossing, 0-1",
        "breakdown_share_min": "lowest breakdown probability along the axis at this factor value",
        "breakdown_share_max": "highest breakdown probability along the axis at this factor value",
        "runs_per_value": "runs (seeds) at each axis value",
        "rupture_share_min": "lowest share of runs with a rupture (a relation the US or China "
        "collapsed by its own actions; not a breakdown) along the axis at this factor value",
        "rupture_share_max": "highest share of runs with a rupture along the axis at this factor value",
        "rupture_share_mean": "share of runs with a rupture over the whole axis at this factor value",
    }


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Where breakdown becomes more likely than not along ``axis``, per level of a factor."""
    frames, designs, seeds, factor_units, total = [], {}, {}, {}, 0
    for key, spec in cfg["sweeps"].items():
        rows, plan = _panel(cfg, key, spec)
        frames.append(rows)
        factor = rows["factor"].iloc[0] if len(rows) else None
        if factor is not None:
            factor_units.setdefault(factor, sweeps.param_unit(factor, plan))
        designs[key] = sweeps.design_info(plan, states=str(rows["states"].iloc[0]))
        seeds[key] = sweeps.plan_seeds(plan)
        total += plan.n_runs
    table = pd.concat(frames, ignore_index=True)
    axis = cfg["axis"]
    units = _units(sweeps.param_column(axis), sweeps.param_unit(axis, plan), factor_units)
    return FigureData(table, units, total, seeds, designs)


# --------------------------------------------------------------------------- drawing


def _tip_column(table: pd.DataFrame) -> str:
    return [c for c in table if c.startswith("tipping_") and not c.endswith(("_low", "_high"))][0]


def _draw_panel(ax: Axes, table: pd.DataFrame, key: str, cfg: Mapping[str, Any]) -> str:
    """One panel's tipping points (bootstrap 95%) and the scenario's own level; its factor."""
    tip = _tip_column(table)
    d = table[(table["panel"] == key) & (table["direction"] == "up")]
    factor = table[table["panel"] == key]["factor"].iloc[0]
    first = d.sort_values(["factor_value", tip], kind="mergesort").drop_duplicates("factor_value")
    color = style.PALETTE[0]
    ax.errorbar(
        d["factor_value"],
        d[tip],
        yerr=[d[tip] - d[f"{tip}_ci_low"], d[f"{tip}_ci_high"] - d[tip]],
        fmt="o",
        ms=3.5,
        color=color,
        ecolor=color,
        elinewidth=0.9,
        capsize=2,
        label="tipping point (bootstrap 95%)",
    )
    sns.lineplot(x=first["factor_value"], y=first[tip], ax=ax, color=color, lw=1)
    own = get_level(load_scenario(cfg["scenario"]), factor)
    if own is not None:
        ax.axvline(
            own,
            color="0.4",
            ls=(0, (2, 2)),
            lw=0.9,
            label=f"{labels.scenario_label(cfg['scenario'])} as specified",
        )
    return factor


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Tipping point (bootstrap 95%) against each panel's factor (lobbying, fiscal stress)."""
    panels = list(dict.fromkeys(table["panel"]))
    fig = Figure(figsize=(style.WIDE, 3.1), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    ylabel = f"{labels.param_label(cfg['axis'])}\nat which P(breakdown) = {float(cfg['level']):.0%}"
    for i, (ax, key) in enumerate(zip(axes, panels, strict=True)):
        factor = _draw_panel(ax, table, key, cfg)
        ax.yaxis.set_major_locator(MultipleLocator(0.05))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(labels.axis_label(factor))
        ax.set_ylabel(ylabel if i == 0 else "")
        style.panel_title(ax, style.LETTERS[i], labels.param_label(factor))
        ax.legend(loc="lower right")
    text = states_phrase(str(table["states"].iloc[0])).removeprefix("under ")
    note = Line2D([], [], ls="none", label=text[:1].upper() + text[1:])
    fig.legend(handles=[note], loc="outside lower center")
    return fig


# --------------------------------------------------------------------------- text


def _picks(first: pd.DataFrame, own: float | None) -> list[pd.Series]:
    """The factor levels quoted: the lowest, the scenario's own, 1 (as calibrated), the highest."""
    picks = [first.iloc[0]]
    mid = first[np.isclose(first["factor_value"], own)] if own is not None else first.iloc[:0]
    if len(mid) and not np.isclose(own, picks[0]["factor_value"]):
        picks.append(mid.iloc[0])
    one = first[np.isclose(first["factor_value"], 1.0)]
    if len(one) and all(not np.isclose(1.0, p["factor_value"]) for p in picks):
        picks.append(one.iloc[0])
    picks.append(first.iloc[-1])
    return picks


def _expectation(factor: str, verb: str) -> str:
    expected = EXPECTED.get(factor)
    if expected is None:
        return ""
    if expected == verb:
        return " — as the design brief expects."
    return (
        f" — the design brief expects {labels.param_phrase(factor)} to "
        f"{expected[:-1]} it; docs/ODD.md §7.10 discusses why the model disagrees."
    )


def _panel_text(t: pd.DataFrame, panel: str, cfg: Mapping[str, Any]) -> str:
    tip = _tip_column(t)
    rows = t[t["panel"] == panel]
    d = rows[rows["direction"] == "up"].sort_values(["factor_value", tip], kind="mergesort")
    factor = rows["factor"].iloc[0]
    name = labels.param_phrase(factor)
    first = d.drop_duplicates("factor_value")
    if first.empty:
        return f"Along {name} the probability never crosses {pct(float(cfg['level']), 0)}."
    picks = _picks(first, get_level(load_scenario(cfg["scenario"]), factor))

    def at(r: pd.Series) -> str:
        return (
            f"{pct(r[tip])} {interval(r[f'{tip}_ci_low'], r[f'{tip}_ci_high'])} at "
            f"{r['factor_value']:g}"
        )

    change = first[tip].iloc[-1] - first[tip].iloc[0]
    verb = "raises" if change > 5e-4 else "lowers" if change < -5e-4 else "does not move"
    by = f" by {abs(change) * 100:.1f} percentage points" if verb != "does not move" else ""
    sentence = (
        f"Raising {name} from {first['factor_value'].iloc[0]:g} to "
        f"{first['factor_value'].iloc[-1]:g} {verb} the US tariff at which breakdown becomes "
        f"more likely than not{by}: "
        + ", ".join(at(p) for p in picks)
        + " (bootstrap 95%)"
        + _expectation(factor, verb)
    )
    lo_end, hi_end = first.iloc[0], first.iloc[-1]
    overlap = max(lo_end[f"{tip}_ci_low"], hi_end[f"{tip}_ci_low"]) <= min(
        lo_end[f"{tip}_ci_high"], hi_end[f"{tip}_ci_high"]
    )
    if overlap:
        sentence = sentence.rstrip(".") + " (the 95% intervals at the two ends overlap)"
    if not sentence.endswith("."):
        sentence += "."
    multi = int(d.groupby("factor_value").size().gt(1).sum())
    missing = len(rows["factor_value"].unique()) - len(first)
    if multi or missing:
        sentence += (
            f" ({multi} factor level(s) cross more than once; {missing} never cross upward.)"
        )
    return sentence


def _rupture_text(t: pd.DataFrame) -> str:
    """Per panel: the share of runs with a rupture at the lowest and highest factor level."""
    parts = []
    for panel in dict.fromkeys(t["panel"]):
        rows = t[t["panel"] == panel].drop_duplicates("factor_value").sort_values("factor_value")
        lo, hi = rows.iloc[0], rows.iloc[-1]
        parts.append(
            f"{pct(lo['rupture_share_mean'])} of runs at {labels.param_phrase(lo['factor'])} "
            f"{lo['factor_value']:g} and {pct(hi['rupture_share_mean'])} at {hi['factor_value']:g}"
        )
    return (
        "Over the tariff axis a rupture (a relation collapsed by the other state's own actions; "
        "recorded, not counted as breakdown) occurs in " + "; in ".join(parts) + "."
    )


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per panel: how far the factor moves the tipping point; then the seeds behind it."""
    out = [f"The runs are {states_phrase(t['states'].iloc[0])}."]
    out += [_panel_text(t, panel, cfg) for panel in dict.fromkeys(t["panel"])]
    out.append(_rupture_text(t))
    up = t[t["direction"] == "up"]
    out.append(
        f"Each point rests on {int(up['runs_per_value'].iloc[0]) if len(up) else 0} seeds per "
        f"tariff value; the intervals reflect seed noise, not the grid step."
    )
    return " ".join(out)


KIND = FigureKind(
    name="tipping_points",
    required={"scenario", "calibration", "sweeps", "axis", "level", "n_boot", "boot_seed"},
    optional={"states"},
    build=build,
    draw=draw,
    describe=describe,
)
