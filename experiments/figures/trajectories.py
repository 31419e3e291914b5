"""Figure kind ``trajectories``: what Japan, the US and China do, quarter by quarter.

Not a sweep: each scenario's seeds are run once on the batch engine with per-round records
(:func:`sim.engine.batch.run_batch` with ``record_rounds=True``), under each of the config's
state models (``states``: strategic, reactive) and at each of its noise levels (calibrated
temperatures, near best response); per quarter the median, mean and 5-95% range across seeds
of each variable in :data:`VARIABLES`, and the share of seeds that had broken down (toward each
side) or seen a rupture by that quarter (:data:`EVENTS`). Drawn as one row per scenario, state
model and noise level and one column per :data:`COLUMNS`: Japan's
compliance against both asks (the US demand and China's line this round), the alignment index,
and the two states' coercion.
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
from experiments.figures.text import noise_phrase, num, pct, signed, states_phrase, variant_title
from sim.catalog import load_calibration, load_scenario
from sim.core.params import build_params
from sim.engine.batch import run_batch

#: Line styles: Japan's own variables solid, the two sides' asks dashed.
ASK = (0, (4, 2))


@dataclass(frozen=True)
class Variable:
    """A per-round variable of the figure: meaning, legend label, colour, line style."""

    meaning: str
    label: str
    color: Any
    ls: Any = "-"
    band: float = 0.25  # alpha of its 90%-of-seeds band (0: none)


#: US variables in the US colour, Chinese ones in China's, Japan's in its own.
US_COLOR, CN_COLOR, JP_COLOR, ALIGN_COLOR = (style.PALETTE[i] for i in (3, 2, 0, 4))
VARIABLES: dict[str, Variable] = {
    "jp_compliance": Variable(
        "Japan's export-control compliance, 0-1", "Japan's compliance", JP_COLOR
    ),
    "us_demand": Variable(
        "compliance demanded by the US this round, 0-1", "US demand", US_COLOR, ASK, 0.0
    ),
    "cn_red_line": Variable(
        "compliance China tolerates this round (its line, or an embargo's demand), 0-1",
        "China's line this round",
        CN_COLOR,
        ASK,
        0.12,
    ),
    "alignment": Variable(
        "alignment index: excess over China's line - shortfall from the US demand, "
        "-1 (China) to 1 (US)",
        "alignment index",
        ALIGN_COLOR,
    ),
    "us_tariff": Variable("US tariff on Japanese goods, ad-valorem share", "US tariff", US_COLOR),
    "cn_restriction": Variable(
        "Chinese rare-earth / critical-input restriction, share withheld",
        "Chinese restriction",
        CN_COLOR,
    ),
}
#: Per-quarter shares of seeds (from each run's final record; quoted in the README, not drawn).
EVENTS: dict[str, str] = {
    "broke_toward_us": "1 if the run's breakdown toward the US began by this quarter "
    "(0 <= breakdown_round <= quarter); its mean is the share of seeds",
    "broke_toward_china": "1 if the run's breakdown toward China began by this quarter",
    "ruptured_by_us": "1 if the US had ruptured the relation (collapsed it by its own "
    "actions; not a breakdown) by this quarter (0 <= rupture_round <= quarter)",
    "ruptured_by_china": "1 if China had ruptured the relation by this quarter",
}
#: The figure's columns: title, variables drawn, y label, y limits.
COLUMNS = [
    (
        "Compliance and both asks",
        ["cn_red_line", "us_demand", "jp_compliance"],
        "compliance (0–1)",
        (-0.02, 1.02),
    ),
    ("Alignment index", ["alignment"], "index (← China · US →)", (-1.04, 1.04)),
    ("Coercion", ["us_tariff", "cn_restriction"], "tariff / share withheld", (-0.02, 1.02)),
]

#: The coercion column: its y axis is cut at the next 0.2 above the largest 95th percentile.
COERCION = 2

# --------------------------------------------------------------------------- data


def _frame(a: np.ndarray, group: tuple[str, str, str, str], var: str, reps: int) -> pd.DataFrame:
    """Per quarter: median, mean and 5-95% of ``a`` (rounds, worlds) across seeds; ``group`` is
    (scenario, calibration, states, noise)."""
    lo, med, hi = np.quantile(a, [0.05, 0.5, 0.95], axis=1)
    sc, cal, states, noise = group
    return pd.DataFrame(
        {
            "scenario": sc,
            "calibration": cal,
            "states": states,
            "noise": noise,
            "variable": var,
            "quarter": np.arange(a.shape[0], dtype=np.int64),
            "runs": np.int64(reps),
            "median": med,
            "mean": a.mean(axis=1),
            "q05": lo,
            "q95": hi,
        }
    )


def _scenario_frames(
    cfg: Mapping[str, Any], sc_name: str, states: str, noise: str
) -> list[pd.DataFrame]:
    base = load_calibration(cfg["calibration"])
    factor = sweeps.NOISE[noise]
    cal = base if factor == 1.0 else base.near_best_response(factor)
    reps, base_seed, rounds = int(cfg["replicates"]), int(cfg["base_seed"]), int(cfg["rounds"])
    seeds = np.arange(base_seed, base_seed + reps, dtype=np.int64)
    scenario = load_scenario(sc_name, us_policy=states, china_policy=states)
    p = build_params(cal, scenario, rounds, reps)
    res = run_batch(p, seeds, record_rounds=True, compiled=True)
    group = (sc_name, base.name, states, noise)
    frames = [
        _frame(np.asarray(res.rounds[v], dtype=np.float64), group, v, reps) for v in VARIABLES
    ]
    q = np.arange(rounds)[:, None]
    out = res.outcomes
    for var, (col, side, when) in {
        "broke_toward_us": ("outcome", "us", "breakdown_round"),
        "broke_toward_china": ("outcome", "china", "breakdown_round"),
        "ruptured_by_us": ("rupture", "us", "rupture_round"),
        "ruptured_by_china": ("rupture", "china", "rupture_round"),
    }.items():
        is_side = (out[col].astype(str) == side).to_numpy()[None, :]
        r = out[when].to_numpy(np.int64)[None, :]
        flags = (is_side & (r >= 0) & (r <= q)).astype(np.float64)
        frames.append(_frame(flags, group, var, reps))
    return frames


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Per scenario, state model, noise level and quarter: median, mean, 90% band of each
    variable."""
    reps, base_seed = int(cfg["replicates"]), int(cfg["base_seed"])
    models, levels = sweeps.state_models(cfg), sweeps.noise_levels(cfg)
    frames = [
        f
        for sc in cfg["scenarios"]
        for st in models
        for n in levels
        for f in _scenario_frames(cfg, sc, st, n)
    ]
    table = pd.concat(frames, ignore_index=True)
    meanings = {**{k: v.meaning for k, v in VARIABLES.items()}, **EVENTS}
    units = {
        "scenario": "scenario name (configs/scenario)",
        "calibration": "calibration name (configs/calibration)",
        "states": sweeps.STATES_UNIT,
        "noise": sweeps.NOISE_UNIT,
        "variable": "per-round variable: " + "; ".join(f"{k} = {v}" for k, v in meanings.items()),
        "quarter": "round of the run, quarters from 0",
        "runs": "seeds (runs) per scenario, state model and noise level",
        "median": "median across seeds, in the variable's unit",
        "mean": "mean across seeds, in the variable's unit (for the 0/1 event variables: "
        "the share of seeds)",
        "q05": "5th percentile across seeds, in the variable's unit",
        "q95": "95th percentile across seeds, in the variable's unit",
    }
    n = reps * len(cfg["scenarios"]) * len(models) * len(levels)
    where = "in every scenario" + (", state model" if len(models) > 1 else "")
    where += " and noise level" if len(levels) > 1 else ""
    designs = {
        f"run_batch ({st}, {lv})": {
            "design": "seeds per scenario, run_batch(record_rounds=True)",
            "states": st,
            "us_policy": [st],
            "china_policy": [st],
            "noise": lv,
            "temperature_divisor": sweeps.NOISE[lv],
            "scenarios": list(cfg["scenarios"]),
            "runs": reps * len(cfg["scenarios"]),
            "rounds": int(cfg["rounds"]),
        }
        for st in models
        for lv in levels
    }
    return FigureData(table, units, n, sweeps.seed_info(reps, base_seed, where), designs)


# --------------------------------------------------------------------------- drawing


def _draw_variable(ax: Axes, d: pd.DataFrame, var: str) -> None:
    v = VARIABLES[var]
    q = d["quarter"].to_numpy()
    if v.band:
        ax.fill_between(q, d["q05"], d["q95"], color=v.color, alpha=v.band, lw=0, step="mid")
    sns.lineplot(
        x=q, y=d["median"].to_numpy(), ax=ax, color=v.color, ls=v.ls, drawstyle="steps-mid"
    )
    if var in ("jp_compliance", "alignment"):
        ax.plot(q, d["mean"], color=v.color, ls=":", lw=1.2)


def _legend_handles() -> list[Any]:
    handles: list[Any] = [
        Line2D([], [], color=v.color, ls=v.ls, lw=1.5, label=v.label) for v in VARIABLES.values()
    ]
    return handles + [
        Line2D([], [], color="0.2", lw=1.5, label="median across seeds"),
        Line2D([], [], color="0.2", lw=1.2, ls=":", label="mean (compliance, alignment)"),
        mpl.patches.Patch(color="0.2", alpha=0.25, lw=0, label="90% of seeds"),
        Line2D([], [], color="0.45", lw=0.8, ls=(0, (2, 2)), label="escalation ramp start / end"),
    ]


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Rows: scenario x state model x noise level; columns: compliance and both asks,
    alignment, coercion."""
    keys = ["scenario", "states", "noise"]
    rows = list(dict.fromkeys(zip(*(table[k] for k in keys), strict=True)))
    several = table["states"].nunique() > 1
    last_quarter = table["quarter"].max()
    height = (2.0 if len(rows) <= 4 else 1.65) * len(rows) + 0.75
    fig = Figure(figsize=(style.WIDE, height), layout="constrained")
    axes = fig.subplots(len(rows), len(COLUMNS), sharex=True, squeeze=False)
    letters = iter(style.LETTERS)
    coercion = table[table["variable"].isin(COLUMNS[COERCION][1])]["q95"].max()
    coercion_ylim = (-0.02, min(1.0, np.ceil(coercion / 0.2 - 1e-9) * 0.2 or 0.2) + 0.02)
    for r, (sc, states, noise) in enumerate(rows):
        esc = load_scenario(sc).escalation
        g = table[
            (table["scenario"] == sc) & (table["states"] == states) & (table["noise"] == noise)
        ]
        for c, (title, variables, ylabel, ylim) in enumerate(COLUMNS):
            ax = axes[r, c]
            if c == 1:
                ax.axhline(0, color="0.3", lw=0.8, zorder=1)
            for var in variables:
                _draw_variable(ax, g[g["variable"] == var], var)
            if esc is not None:
                for t in (esc.start_round, esc.start_round + esc.ramp_rounds):
                    ax.axvline(t, color="0.45", lw=0.8, ls=(0, (2, 2)), zorder=1)
            ax.set_ylim(*(ylim if c != COERCION else coercion_ylim))
            ax.set_xlim(0, last_quarter)
            ax.xaxis.set_major_locator(MultipleLocator(10 if last_quarter > 20 else 2))
            if c == 1:
                ax.yaxis.set_major_locator(MultipleLocator(0.5))
            variant = variant_title(states, noise, several).replace(", ", ",\n")
            row_label = f"{labels.scenario_label(sc)}\n{variant}"
            ax.set_ylabel(ylabel if c else f"{row_label}\n{ylabel}")
            ax.set_xlabel("quarter" if r == len(rows) - 1 else "")
            style.panel_title(ax, next(letters), title)
    fig.legend(handles=_legend_handles(), loc="outside lower center", ncols=4)
    return fig


# --------------------------------------------------------------------------- text


def _events_text(d: pd.DataFrame) -> str:
    """By the last quarter: the share of seeds broken down (per side) and ruptured."""

    def end(v: str) -> float:
        return float(d[d["variable"] == v].sort_values("quarter")["mean"].iloc[-1])

    us, cn = end("broke_toward_us"), end("broke_toward_china")
    rus, rcn = end("ruptured_by_us"), end("ruptured_by_china")
    return (
        f"By the last quarter {pct(us + cn)} of seeds have broken down ({pct(us)} toward the "
        f"US, {pct(cn)} toward China) and {pct(rus + rcn)} have seen a rupture, a relation "
        f"collapsed by the other state's own actions ({pct(rcn)} by China, {pct(rus)} by the US)."
    )


def _group_text(d: pd.DataFrame, sc: str, states: str, noise: str) -> str:
    def var(v: str) -> pd.DataFrame:
        return d[d["variable"] == v].sort_values("quarter")

    c, dem, line, al, tar, res = (
        var(v)
        for v in (
            "jp_compliance",
            "us_demand",
            "cn_red_line",
            "alignment",
            "us_tariff",
            "cn_restriction",
        )
    )
    last = c.iloc[-1]
    peak = tar.loc[tar["median"].idxmax()]
    us_side = int((al["median"] > 1e-9).sum())
    cn_side = int((al["median"] < -1e-9).sum())
    return (
        f"Under {labels.scenario_phrase(sc)}, {states_phrase(states)} {noise_phrase(noise)} "
        f"({int(c['runs'].iloc[0]):,} seeds), Japan's median compliance is "
        f"{num(c['median'].iloc[0])} in quarter 0 and {num(last['median'])} in quarter "
        f"{int(last['quarter'])} (mean {num(last['mean'])}, 90% of seeds {num(last['q05'])}–"
        f"{num(last['q95'])}), against a median US demand of {num(dem['median'].iloc[-1])} and "
        f"a median Chinese line of {num(line['median'].iloc[-1])} (90% of seeds "
        f"{num(line['q05'].iloc[-1])}–{num(line['q95'].iloc[-1])}). The median alignment index "
        f"ends at {signed(al['median'].iloc[-1], 2)} (mean {signed(al['mean'].iloc[-1], 2)}) and "
        f"leans to the US in {us_side} and to China in {cn_side} of {len(al)} quarters. The "
        f"median US tariff peaks at {pct(peak['median'])} (quarter {int(peak['quarter'])}) and "
        f"China's median restriction ends at {pct(res['median'].iloc[-1])} of supplies withheld "
        f"(95th percentile {pct(res['q95'].iloc[-1])}). " + _events_text(d)
    )


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per scenario, state model and noise level: compliance against both asks, alignment,
    coercion, events."""
    rows = dict.fromkeys(zip(t["scenario"], t["states"], t["noise"], strict=True))
    return "\n\n".join(
        _group_text(t[(t["scenario"] == sc) & (t["states"] == st) & (t["noise"] == n)], sc, st, n)
        for sc, st, n in rows
    )


KIND = FigureKind(
    name="trajectories",
    required={"calibration", "scenarios", "replicates", "base_seed"},
    optional={"noise", "states"},
    build=build,
    draw=draw,
    describe=describe,
)
