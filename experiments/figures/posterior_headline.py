"""Figure kind ``posterior_headline``: the headline results under the calibrated assumptions.

The assumptions are calibrated to the historical episodes (the fit on every episode of
``configs/inference/<inference>.yaml`` at ``inference_scale``, :mod:`experiments.calibrate`)
and the headline results are recomputed with the calibration's assumptions drawn from that
posterior, side by side with the same results drawn from the prior (uniform over the
ranges) and with the assumptions fixed at their values (:mod:`experiments.inference.headline`):

- ``scenarios``: P(breakdown) of every named scenario, with its Wilson 95% interval;
- ``phase``: P(breakdown) over the US tariff and demand the US escalates to;
- ``tipping``: the tariff at which P(breakdown) crosses ``level``, against fiscal stress
  (bootstrap 95%, :func:`experiments.analysis.tipping_points`);
- ``posterior``: the assumptions the posterior moved most from their prior (median and 90%
  interval, as places in the prior range).

Each of ``states`` (strategic / reactive US and China) gets a row of panels. World ``j``
uses draw ``j`` and seed ``base_seed + j`` at every scenario and grid point and in every
source (common random numbers).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments import CONFIG_DIR, calibrate
from experiments import analysis as A
from experiments.figures import grids, labels, style
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import interval, listing, num, pct
from experiments.inference.headline import SOURCES, run_sources, source_draws
from sim.catalog import load_calibration, load_scenario
from sim.core import registry
from sim.core.errors import ConfigError
from sim.core.scenario import Scenario

#: Colour of each source of parameter values.
SOURCE_COLORS = {"fixed": "0.45", "prior": style.PALETTE[0], "posterior": style.PALETTE[3]}
SOURCE_WORDS = {
    "fixed": "assumptions fixed at their values",
    "prior": "drawn from the prior",
    "posterior": "drawn from the posterior",
}
TARIFF, DEMAND = "escalation.us_tariff_level", "escalation.us_security_pressure"
#: Table columns of the grid parameters (the paper's names: the phase diagram's).
COLUMNS = {
    TARIFF: "us_tariff_end_share",
    DEMAND: "us_demand_end_share",
    "fiscal_stress": "fiscal_stress_level",
}


# --------------------------------------------------------------------------- data


@functools.cache
def _scenario(name: str, states: str) -> Scenario:
    """The named scenario under ``states`` US and China (loaded once: loads compose configs)."""
    return load_scenario(name, us_policy=states, china_policy=states)


def _points(spec: Mapping[str, Any]) -> pd.DataFrame:
    """The grid of a ``phase`` / ``tipping`` section: every combination of its two axes."""
    (p1, v1), (p2, v2) = [(ax["param"], ax["values"]) for ax in spec["axes"].values()]
    g1, g2 = np.meshgrid(np.asarray(v1, float), np.asarray(v2, float), indexing="ij")
    return pd.DataFrame({p1: g1.ravel(), p2: g2.ravel()})


def _cells(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """P(breakdown) with Wilson 95% and the side shares per cell of ``keys``."""
    return grids.cells(runs, keys)[
        [
            *keys,
            "runs",
            "breakdowns",
            "breakdown_share",
            "breakdown_share_ci_low",
            "breakdown_share_ci_high",
            "toward_us_share",
            "toward_china_share",
        ]
    ]


def _posterior_rows(fit_summary: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` assumptions by KS distance from the prior, as places in the range."""
    s = fit_summary.sort_values("ks", ascending=False, kind="stable").head(top)
    span = s["prior_high"] - s["prior_low"]

    def place(col: str) -> np.ndarray:
        return ((s[col] - s["prior_low"]) / span).to_numpy(np.float64)

    return pd.DataFrame(
        {
            "panel": "posterior",
            "parameter": s["parameter"].to_numpy(),
            "prior_low": s["prior_low"].to_numpy(np.float64),
            "prior_high": s["prior_high"].to_numpy(np.float64),
            "fixed_value": s["fixed"].to_numpy(np.float64),
            "posterior_median": s["posterior_median"].to_numpy(np.float64),
            "posterior_q05": s["posterior_q05"].to_numpy(np.float64),
            "posterior_q95": s["posterior_q95"].to_numpy(np.float64),
            "fixed_place_share": place("fixed"),
            "median_place_share": place("posterior_median"),
            "q05_place_share": place("posterior_q05"),
            "q95_place_share": place("posterior_q95"),
            "ks": s["ks"].to_numpy(np.float64),
            "ks_noise": s["ks_noise"].to_numpy(np.float64),
        }
    )


def _inference_overrides(cfg: Mapping[str, Any]) -> list[str]:
    """The figure's ``inference_overrides``: ``key=value`` items for the inference config."""
    items = cfg.get("inference_overrides") or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(
            "inference_overrides", f"expected a list of key=value strings, got {items!r}"
        )
    return list(items)


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Fit, draw, and run the scenarios, the phase grid and the tipping grid per source."""
    icfg = calibrate.load_config(
        CONFIG_DIR / "inference" / f"{cfg['inference']}.yaml",
        cfg["inference_scale"],
        _inference_overrides(cfg),
    )
    _, fit = calibrate.fit_all(icfg)
    cal = load_calibration(cfg["calibration"])
    n = int(cfg["draws"])
    draws = source_draws(fit.space, fit, cal, n, int(cfg["draw_seed"]))
    seeds = int(cfg["base_seed"]) + np.arange(n)
    rounds = int(cfg["rounds"])
    frames = [_posterior_rows(fit.summary(), int(cfg["top"]))]
    total = 0
    for states in cfg["states"]:
        for name in cfg["scenarios"]:
            runs = run_sources(cal, _scenario(name, states), rounds, fit.space, draws, seeds)
            cells = _cells(runs.assign(scenario=name), ["source", "scenario"])
            frames.append(cells.assign(panel="scenarios", states=states))
            total += len(runs)
        for panel in ("phase", "tipping"):
            spec = cfg[panel]
            k = int(spec["draws"])
            pts = _points(spec)
            sub = {s: (None if u is None else u[:k]) for s, u in draws.items()}
            sc = _scenario(spec["scenario"], states)
            runs = run_sources(cal, sc, rounds, fit.space, sub, seeds[:k], pts)
            total += len(runs)
            keys = list(pts.columns)
            if panel == "phase":
                cells = _cells(
                    runs.assign(scenario=spec["scenario"]), ["source", "scenario", *keys]
                )
                frames.append(cells.rename(columns=COLUMNS).assign(panel=panel, states=states))
            else:
                for source in SOURCES:
                    frames.append(_tipping(runs[runs["source"] == source], spec, states, source))
    table = pd.concat(frames, ignore_index=True)
    order = [
        "panel",
        "states",
        "source",
        "scenario",
        "us_tariff_end_share",
        "us_demand_end_share",
        "fiscal_stress_level",
        "runs",
        "breakdowns",
        "breakdown_share",
        "breakdown_share_ci_low",
        "breakdown_share_ci_high",
        "toward_us_share",
        "toward_china_share",
        "direction",
        "tipping_us_tariff_end_share",
        "tipping_us_tariff_end_share_ci_low",
        "tipping_us_tariff_end_share_ci_high",
        "parameter",
        "prior_low",
        "prior_high",
        "fixed_value",
        "posterior_median",
        "posterior_q05",
        "posterior_q95",
        "fixed_place_share",
        "median_place_share",
        "q05_place_share",
        "q95_place_share",
        "ks",
        "ks_noise",
    ]
    table = table.reindex(columns=order)
    seeds_info = {
        "worlds": {
            "base_seed": int(cfg["base_seed"]),
            "replicates": n,
            "seeds": f"{int(cfg['base_seed'])}..{int(cfg['base_seed']) + n - 1}, world j with "
            "parameter draw j, in every scenario, grid point and source",
        },
        "inference": {
            "seeds": f"configs/inference/{cfg['inference']}.yaml ({cfg['inference_scale']}"
            f"{''.join(', ' + o for o in _inference_overrides(cfg))}): "
            f"abc.seed {icfg['abc']['seed']}, abc.base_seed {icfg['abc']['base_seed']}, "
            f"pilot.seed {icfg['pilot']['seed']}",
        },
    }
    designs = {
        "inference": {
            "fit": "all episodes",
            "episodes": list(icfg["episodes"]),
            "population": int(icfg["abc"]["population"]),
            "generations_run": int(len(fit.populations)),
            "simulations": int(fit.simulations),
            "ess": round(fit.ess, 6),
            "active_parameters": [p for p, a in zip(fit.space.names, fit.active, strict=True) if a],
        }
    }
    return FigureData(table, UNITS, total, seeds_info, designs)


def _tipping(runs: pd.DataFrame, spec: Mapping[str, Any], states: str, source: str) -> pd.DataFrame:
    """Where P(breakdown) crosses the level along the tariff, per fiscal-stress level."""
    axis, factor = (ax["param"] for ax in spec["axes"].values())
    tips = A.tipping_points(
        runs,
        axis,
        by=factor,
        level=float(spec["level"]),
        n_boot=int(spec["n_boot"]),
        seed=int(spec["boot_seed"]),
    )
    col = COLUMNS[axis]
    return pd.DataFrame(
        {
            "panel": "tipping",
            "states": states,
            "source": source,
            "scenario": spec["scenario"],
            COLUMNS[factor]: tips[factor].to_numpy(np.float64),
            "runs": np.int64(int(spec["draws"])),
            "breakdown_share": tips["level"].to_numpy(np.float64),
            "direction": tips["direction"].to_numpy(),
            f"tipping_{col}": tips["tipping_point"].to_numpy(np.float64),
            f"tipping_{col}_ci_low": tips["ci_low"].to_numpy(np.float64),
            f"tipping_{col}_ci_high": tips["ci_high"].to_numpy(np.float64),
        }
    )


UNITS = {
    "panel": "scenarios: P(breakdown) per named scenario; phase: per cell of the escalation "
    "grid; tipping: the tariff where P(breakdown) crosses the level, per fiscal stress; "
    "posterior: the assumptions the posterior moved most",
    "states": "how the US and China act: strategic leaders or reactive rules",
    "source": "fixed: the calibration's values; prior: each assumption uniform over its range; "
    "posterior: drawn from the fit on every episode",
    "scenario": "scenario name (configs/scenario)",
    "us_tariff_end_share": "US tariff at the end of the escalation ramp, ad-valorem share",
    "us_demand_end_share": "export-control compliance the US demands at the end of the ramp, 0-1",
    "fiscal_stress_level": "fiscal stress level (0 = as calibrated, 1 = the fiscal_stress scenario)",
    "runs": "worlds (one parameter draw and one seed each)",
    "breakdowns": "worlds that broke down",
    "breakdown_share": "P(breakdown within the horizon), 0-1 (tipping: the level crossed)",
    "breakdown_share_ci_low": "Wilson 95% interval, lower end",
    "breakdown_share_ci_high": "Wilson 95% interval, upper end",
    "toward_us_share": "share of worlds that broke toward the US",
    "toward_china_share": "share of worlds that broke toward China",
    "direction": "up: P(breakdown) rises through the level along the tariff; down: falls; "
    "none: no crossing",
    "tipping_us_tariff_end_share": "tariff (share) at which P(breakdown) crosses the level",
    "tipping_us_tariff_end_share_ci_low": "bootstrap 95% interval, lower end",
    "tipping_us_tariff_end_share_ci_high": "bootstrap 95% interval, upper end",
    "parameter": "calibration entry (an assumption)",
    "prior_low": "low end of its range (the prior: uniform), in its own unit",
    "prior_high": "high end of its range, in its own unit",
    "fixed_value": "its value in the calibration",
    "posterior_median": "posterior median, in its own unit",
    "posterior_q05": "posterior 5th percentile",
    "posterior_q95": "posterior 95th percentile",
    "fixed_place_share": "the fixed value's place in the range, 0-1",
    "median_place_share": "the posterior median's place in the range, 0-1",
    "q05_place_share": "the 5th percentile's place in the range, 0-1",
    "q95_place_share": "the 95th percentile's place in the range, 0-1",
    "ks": "Kolmogorov-Smirnov distance of the posterior from the uniform prior, 0-1",
    "ks_noise": "KS distance a posterior equal to the prior reaches 5% of the time at this ESS",
}


# --------------------------------------------------------------------------- drawing


def _bars(ax, t: pd.DataFrame, scenarios: list[str]) -> None:
    width = 0.8 / len(SOURCES)
    x = np.arange(len(scenarios))
    for k, source in enumerate(SOURCES):
        d = t[t["source"] == source].set_index("scenario").reindex(scenarios)
        p = d["breakdown_share"].to_numpy(np.float64)
        err = [p - d["breakdown_share_ci_low"], d["breakdown_share_ci_high"] - p]
        ax.bar(x + (k - 1) * width, p, width, color=SOURCE_COLORS[source], label=source)
        ax.errorbar(x + (k - 1) * width, p, yerr=err, fmt="none", ecolor="black", lw=0.7)
    ax.set_xticks(x)
    ax.set_xticklabels(
        [labels.scenario_label(s) for s in scenarios], rotation=40, ha="right", fontsize=7
    )
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("P(breakdown)")


def _sparse_ticks(ax, xs: np.ndarray, ys: np.ndarray) -> None:
    """Ticks at the grid's ends only (the panels are small)."""
    ax.set_xticks(grids.to_index(np.array([xs[0], xs[-1]]), xs))
    ax.set_xticklabels([f"{xs[0]:.0%}", f"{xs[-1]:.0%}"])
    ax.set_yticks(grids.to_index(np.array([ys[0], ys[-1]]), ys))
    ax.set_yticklabels([f"{ys[0]:g}", f"{ys[-1]:g}"])


def _tips(ax, t: pd.DataFrame) -> None:
    for k, source in enumerate(SOURCES):
        d = t[(t["source"] == source) & (t["direction"] == "up")]
        d = d.sort_values(["fiscal_stress_level", "tipping_us_tariff_end_share"]).drop_duplicates(
            "fiscal_stress_level"
        )
        tip = d["tipping_us_tariff_end_share"]
        ax.errorbar(
            d["fiscal_stress_level"] + (k - 1) * 0.06,
            tip,
            yerr=[
                tip - d["tipping_us_tariff_end_share_ci_low"],
                d["tipping_us_tariff_end_share_ci_high"] - tip,
            ],
            fmt="o-",
            ms=3,
            lw=1,
            color=SOURCE_COLORS[source],
        )
    stress = t["fiscal_stress_level"].dropna()
    if len(stress):
        ax.set_xlim(stress.min() - 0.3, stress.max() + 0.3)
    if not (t["direction"] == "up").any():
        ax.text(
            0.5,
            0.5,
            "P(breakdown) never\ncrosses 50%",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=7.5,
            color="0.3",
        )
    ax.set_ylim(0, 1)
    ax.set_xlabel(labels.axis_label("fiscal_stress"))
    ax.set_ylabel("Tariff at P(breakdown) = 50%")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")


def _posterior(ax, t: pd.DataFrame) -> None:
    t = t.reset_index(drop=True)
    y = np.arange(len(t))[::-1]
    ax.barh(y, 1.0, left=0.0, height=0.6, color=SOURCE_COLORS["prior"], alpha=0.25)
    ax.hlines(y, t["q05_place_share"], t["q95_place_share"], color=SOURCE_COLORS["posterior"], lw=3)
    ax.plot(t["median_place_share"], y, "o", color=SOURCE_COLORS["posterior"], ms=4)
    ax.plot(t["fixed_place_share"], y, "|", color="black", ms=9, mew=1.5)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{registry.label(p)} ({lo:g}–{hi:g})"
            for p, lo, hi in zip(t["parameter"], t["prior_low"], t["prior_high"], strict=True)
        ]
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("Place in the prior range (0 = low end, 1 = high end)")


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Top: the posterior of the most-moved assumptions; a row per state model below."""
    states = list(dict.fromkeys(table["states"].dropna()))
    fig = Figure(figsize=(style.WIDE, 2.0 + 2.5 * len(states)), layout="constrained")
    sub = fig.subfigures(1 + len(states), 1, height_ratios=[2.0] + [2.5] * len(states))
    ax = sub[0].subplots()
    _posterior(ax, table[table["panel"] == "posterior"])
    style.panel_title(ax, "a", "Posterior of the assumptions the episodes moved most")
    ax.legend(
        handles=[
            Line2D([], [], color=SOURCE_COLORS["prior"], lw=6, alpha=0.35, label="prior (uniform)"),
            Line2D(
                [],
                [],
                color=SOURCE_COLORS["posterior"],
                lw=3,
                marker="o",
                ms=4,
                label="posterior median, 90%",
            ),
            Line2D([], [], color="black", marker="|", ls="none", ms=9, label="fixed value"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
    )
    letters = iter(style.LETTERS[1:])
    scenarios = list(cfg["scenarios"])
    for r, st in enumerate(states):
        axes = sub[r + 1].subplots(1, 5, gridspec_kw={"width_ratios": [1.6, 1, 1, 1, 1.2]})
        t = table[table["states"] == st]
        _bars(axes[0], t[t["panel"] == "scenarios"], scenarios)
        style.panel_title(axes[0], next(letters), f"{st.capitalize()} states")
        phase = t[t["panel"] == "phase"]
        for k, source in enumerate(SOURCES):
            d = phase[phase["source"] == source]
            xs, ys, z = grids.pivot(
                d, "us_tariff_end_share", "us_demand_end_share", "breakdown_share"
            )
            grids.heatmap(axes[1 + k], xs, ys, z, style.SEQUENTIAL, 0, 1, "", cbar=False)
            grids.contour(axes[1 + k], xs, ys, z, 0.5)
            _sparse_ticks(axes[1 + k], xs, ys)
            axes[1 + k].set_xlabel("US end tariff")
            axes[1 + k].set_ylabel("US end demand" if k == 0 else "")
            style.panel_title(axes[1 + k], next(letters), source.capitalize())
        grids.colorbar(list(axes[1:4]), "P(breakdown)")
        _tips(axes[4], t[t["panel"] == "tipping"])
        style.panel_title(axes[4], next(letters), "Tipping tariff")
    handles = [
        Line2D([], [], color=SOURCE_COLORS[s], marker="s", ls="none", ms=6, label=SOURCE_WORDS[s])
        for s in SOURCES
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    return fig


# --------------------------------------------------------------------------- README


def describe(table: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """The headline numbers under each source, and the assumptions the posterior moved."""
    post = table[table["panel"] == "posterior"]
    moved = post[post["ks"] > post["ks_noise"]]
    lines = []
    if len(moved):
        items = [
            f"{labels.param_phrase(r['parameter'])} (median {num(r['posterior_median'], 3)}, 90% "
            f"{interval(r['posterior_q05'], r['posterior_q95'], lambda v: num(v, 3))}, prior "
            f"{r['prior_low']:g}–{r['prior_high']:g}, fixed {r['fixed_value']:g})"
            for _, r in moved.iterrows()
        ]
        lines.append(f"The episodes moved {listing(items)}.")
    else:
        lines.append("At this size no assumption's posterior is distinguishable from its prior.")
    sc = table[table["panel"] == "scenarios"]
    for st in dict.fromkeys(sc["states"]):
        parts = []
        for name in cfg["scenarios"]:
            d = sc[(sc["states"] == st) & (sc["scenario"] == name)].set_index("source")
            vals = ", ".join(
                f"{pct(d.loc[s, 'breakdown_share'])} {s}" for s in SOURCES if s in d.index
            )
            parts.append(f"{labels.scenario_phrase(name)} {vals}")
        lines.append(f"P(breakdown) under {st} states: {'; '.join(parts)}.")
    tip = table[(table["panel"] == "tipping") & (table["direction"] == "up")]
    for st in dict.fromkeys(table.loc[table["panel"] == "tipping", "states"]):
        parts = []
        for s in SOURCES:
            d = tip[
                (tip["states"] == st) & (tip["source"] == s) & (tip["fiscal_stress_level"] == 0)
            ]
            parts.append(
                f"{pct(d['tipping_us_tariff_end_share'].min(), 0)} {s}" if len(d) else f"none {s}"
            )
        lines.append(
            f"Under {st} states the tariff at which breakdown becomes more likely than not "
            f"(no fiscal stress): {', '.join(parts)}."
        )
    return " ".join(lines)


KIND = FigureKind(
    name="posterior_headline",
    required={
        "calibration",
        "inference",
        "inference_scale",
        "states",
        "draws",
        "draw_seed",
        "base_seed",
        "scenarios",
        "phase",
        "tipping",
        "top",
    },
    optional={"inference_overrides"},
    build=build,
    draw=draw,
    describe=describe,
)
