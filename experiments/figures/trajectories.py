"""Figure kind ``trajectories``: what Japan, the US and China do, quarter by quarter.

Not a sweep: each scenario's seeds are run once on the batch engine with per-round records
(:func:`sim.engine.batch.run_batch` with ``record_rounds=True``); per quarter the median, mean
and 5-95% range across seeds of each variable in :data:`VARIABLES`. Drawn as one row per
scenario and one column per actor, with the balancing band of the breakdown rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from experiments.figures import labels, style, sweeps
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import num, pct
from sim.catalog import load_calibration, load_scenario
from sim.core.breakdown import BreakdownRule
from sim.core.params import build_params
from sim.engine.batch import run_batch


@dataclass(frozen=True)
class Variable:
    """A per-round variable of the figure (a share 0-1): meaning, legend label, colour."""

    meaning: str
    label: str
    color: Any


VARIABLES: dict[str, Variable] = {
    "jp_compliance": Variable(
        "Japan's export-control compliance", "Japan's compliance", style.PALETTE[0]
    ),
    "us_demand": Variable(
        "compliance demanded by the US", "US demanded compliance", style.PALETTE[4]
    ),
    "us_tariff": Variable(
        "US tariff on Japanese goods (ad-valorem)", "US tariff", style.PALETTE[3]
    ),
    "cn_restriction": Variable(
        "Chinese rare-earth / critical-input restriction (share withheld)",
        "Chinese restriction",
        style.PALETTE[2],
    ),
}
#: The figure's columns: title, variables drawn, y label.
COLUMNS = [
    ("Japan's compliance", ["jp_compliance"], "compliance (0–1)"),
    ("US pressure", ["us_demand", "us_tariff"], "demand (0–1) / tariff (share)"),
    ("Chinese restriction", ["cn_restriction"], "share withheld (0–1)"),
]

# --------------------------------------------------------------------------- data


def _scenario_frames(cfg: Mapping[str, Any], sc_name: str) -> list[pd.DataFrame]:
    cal = load_calibration(cfg["calibration"])
    reps, base_seed = int(cfg["replicates"]), int(cfg["base_seed"])
    seeds = np.arange(base_seed, base_seed + reps, dtype=np.int64)
    p = build_params(cal, load_scenario(sc_name), int(cfg["rounds"]), reps)
    res = run_batch(p, seeds, BreakdownRule(), record_rounds=True)
    frames = []
    for var in VARIABLES:
        a = np.asarray(res.rounds[var], dtype=np.float64)  # (rounds, worlds)
        lo, med, hi = np.quantile(a, [0.05, 0.5, 0.95], axis=1)
        frames.append(
            pd.DataFrame(
                {
                    "scenario": sc_name,
                    "calibration": cal.name,
                    "variable": var,
                    "quarter": np.arange(a.shape[0], dtype=np.int64),
                    "runs": np.int64(reps),
                    "median_share": med,
                    "mean_share": a.mean(axis=1),
                    "q05_share": lo,
                    "q95_share": hi,
                }
            )
        )
    return frames


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Per quarter: median, mean and 90% band across seeds of compliance, US and China moves."""
    reps, base_seed = int(cfg["replicates"]), int(cfg["base_seed"])
    frames = [f for sc in cfg["scenarios"] for f in _scenario_frames(cfg, sc)]
    table = pd.concat(frames, ignore_index=True)
    units = {
        "scenario": "scenario name (configs/scenario)",
        "calibration": "calibration name (configs/calibration)",
        "variable": "per-round variable: "
        + "; ".join(f"{k} = {v.meaning}" for k, v in VARIABLES.items()),
        "quarter": "round of the run, quarters from 0",
        "runs": "seeds (runs) per scenario",
        "median_share": "median across seeds, share 0-1",
        "mean_share": "mean across seeds, share 0-1",
        "q05_share": "5th percentile across seeds, share 0-1",
        "q95_share": "95th percentile across seeds, share 0-1",
    }
    n = reps * len(cfg["scenarios"])
    return FigureData(table, units, n, sweeps.seed_info(reps, base_seed, "in every scenario"))


# --------------------------------------------------------------------------- drawing


def _draw_variable(ax: Axes, d: pd.DataFrame, var: str) -> None:
    color = VARIABLES[var].color
    q = d["quarter"].to_numpy()
    ax.fill_between(q, d["q05_share"], d["q95_share"], color=color, alpha=0.25, lw=0, step="mid")
    sns.lineplot(x=q, y=d["median_share"].to_numpy(), ax=ax, color=color, drawstyle="steps-mid")
    if var == "jp_compliance":
        ax.plot(q, d["mean_share"], color=color, ls=":", lw=1.2)


def _legend_handles(rule: BreakdownRule) -> list[Any]:
    handles: list[Any] = [
        Line2D([], [], color=VARIABLES[v].color, lw=1.5, label=VARIABLES[v].label)
        for _, variables, _ in COLUMNS
        for v in variables
    ]
    return handles + [
        Line2D([], [], color="0.2", lw=1.5, label="median across seeds"),
        Line2D([], [], color="0.2", lw=1.2, ls=":", label="mean (compliance)"),
        mpl.patches.Patch(color="0.2", alpha=0.25, lw=0, label="90% of seeds"),
        mpl.patches.Patch(
            color="0.9", label=f"balancing band ({rule.band_low:g}–{rule.band_high:g})"
        ),
        Line2D([], [], color="0.45", lw=0.8, ls=(0, (2, 2)), label="escalation ramp start / end"),
    ]


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Rows: scenarios; columns: Japan's compliance, US pressure, Chinese restriction."""
    rule = BreakdownRule()
    scenarios = list(cfg["scenarios"])
    last_quarter = table["quarter"].max()
    fig = Figure(figsize=(style.WIDE, 2.35 * len(scenarios) + 0.5), layout="constrained")
    axes = fig.subplots(len(scenarios), len(COLUMNS), sharex=True, squeeze=False)
    letters = iter(style.LETTERS)
    for r, sc in enumerate(scenarios):
        esc = load_scenario(sc).escalation
        for c, (title, variables, ylabel) in enumerate(COLUMNS):
            ax = axes[r, c]
            if c == 0:
                ax.axhspan(rule.band_low, rule.band_high, color="0.9", zorder=0, lw=0)
            for var in variables:
                d = table[(table["scenario"] == sc) & (table["variable"] == var)]
                _draw_variable(ax, d, var)
            if esc is not None:
                for t in (esc.start_round, esc.start_round + esc.ramp_rounds):
                    ax.axvline(t, color="0.45", lw=0.8, ls=(0, (2, 2)), zorder=1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(0, last_quarter)
            ax.xaxis.set_major_locator(MultipleLocator(10 if last_quarter > 20 else 2))
            ax.set_ylabel(ylabel if c else f"{labels.scenario_label(sc)}\n{ylabel}")
            ax.set_xlabel("quarter" if r == len(scenarios) - 1 else "")
            style.panel_title(ax, next(letters), title)
    fig.legend(handles=_legend_handles(rule), loc="outside lower center", ncols=3)
    return fig


# --------------------------------------------------------------------------- text


def _band_clause(c: pd.DataFrame, rule: BreakdownRule) -> str:
    """Where Japan's median compliance ``c`` stands against the balancing band."""
    med = c["median_share"].to_numpy()
    outside = int(((med > rule.band_high + 1e-9) | (med < rule.band_low - 1e-9)).sum())
    edge = c[np.isclose(med, rule.band_high) | np.isclose(med, rule.band_low)]
    band = f"({rule.band_low:g}–{rule.band_high:g})"
    return (
        f"stays inside the balancing band {band} in every quarter"
        if outside == 0
        else f"is outside the balancing band {band} in {outside} of {len(c)} quarters"
    ) + (
        f", at its edge in {len(edge)} of them (first in quarter {int(edge['quarter'].iloc[0])})."
        if len(edge)
        else "."
    )


def _scenario_text(d: pd.DataFrame, sc: str, rule: BreakdownRule) -> str:
    def var(v: str) -> pd.DataFrame:
        return d[d["variable"] == v].sort_values("quarter")

    c, dem, tar, res = (
        var(v) for v in ("jp_compliance", "us_demand", "us_tariff", "cn_restriction")
    )
    last = c.iloc[-1]
    peak = tar.loc[tar["median_share"].idxmax()]
    return (
        f"Under {labels.scenario_phrase(sc)} ({int(c['runs'].iloc[0]):,} seeds), Japan's median "
        f"compliance is {num(c['median_share'].iloc[0])} in quarter 0 and "
        f"{num(last['median_share'])} in quarter {int(last['quarter'])} (mean "
        f"{num(last['mean_share'])}, 90% of seeds {num(last['q05_share'])}–"
        f"{num(last['q95_share'])}); the median "
        + _band_clause(c, rule)
        + f" The US demands {num(dem['median_share'].iloc[0])} at first and "
        f"{num(dem['median_share'].iloc[-1])} at the end; the median US tariff peaks at "
        f"{pct(peak['median_share'])} (quarter {int(peak['quarter'])}) and China's median "
        f"restriction ends at {pct(res['median_share'].iloc[-1])} of supplies withheld "
        f"(95th percentile {pct(res['q95_share'].iloc[-1])})."
    )


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per scenario: Japan's compliance against the band, the US demand and tariff, China."""
    rule = BreakdownRule()
    return "\n\n".join(_scenario_text(t[t["scenario"] == sc], sc, rule) for sc in cfg["scenarios"])


KIND = FigureKind(
    name="trajectories",
    required={"calibration", "scenarios", "replicates", "base_seed"},
    optional=set(),
    build=build,
    draw=draw,
    describe=describe,
)
