"""Drawing the paper figures from their tidy tables (:mod:`experiments.paper_data`).

One shared style (:func:`paper_style`: seaborn's ``paper`` context and ``whitegrid`` style,
print-size fonts, the colour-blind-safe ``colorblind`` palette, fixed colours per scenario,
calibration and firm) is applied around every figure, so all figures look alike and nothing
leaks into matplotlib's global state. Figures are built with the object-oriented API (no
pyplot) and saved as PNG (200 dpi) and PDF without timestamps (:func:`save_figure`).

Where :mod:`experiments.plots` already draws what a figure needs it is used
(:func:`experiments.plots.sobol_bars`, :func:`experiments.plots.save_png`); the other figures
need contours in data coordinates, bands around medians or faceted step curves, which it does
not draw.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator, PercentFormatter

from experiments import plots
from sim.catalog import load_scenario
from sim.core.breakdown import BreakdownRule
from sim.sweep.storage import atomic_write_bytes

#: The colour-blind-safe palette every figure uses (seaborn "colorblind", Wong 2011).
PALETTE = sns.color_palette("colorblind")
SCENARIO_STYLE: dict[str, tuple[Any, str]] = {
    "baseline": (PALETTE[0], "-"),
    "us_escalation": (PALETTE[3], "-"),
    "rare_earth_embargo": (PALETTE[2], "--"),
    "fiscal_stress": (PALETTE[1], "-."),
    "no_lobbying": (PALETTE[4], ":"),
}
SCENARIO_LABEL = {
    "baseline": "Baseline",
    "us_escalation": "US escalation",
    "rare_earth_embargo": "Rare-earth embargo",
    "fiscal_stress": "Fiscal stress",
    "no_lobbying": "No lobbying",
}
CALIBRATION_STYLE: dict[str, tuple[Any, str]] = {
    "article": ("black", "-"),
    "corrected": ("black", "--"),
}
CALIBRATION_LABEL = {"article": "Article figures", "corrected": "Corrected figures"}
FIRM_COLOR = {"toyota": PALETTE[0], "sony": PALETTE[1], "honda": PALETTE[2]}
FIRM_LABEL = {"toyota": "Toyota", "sony": "Sony", "honda": "Honda"}
VARIABLE_STYLE = {
    "jp_compliance": (PALETTE[0], "Japan's compliance"),
    "us_demand": (PALETTE[4], "US demanded compliance"),
    "us_tariff": (PALETTE[3], "US tariff"),
    "cn_restriction": (PALETTE[2], "Chinese restriction"),
}
AXIS_LABEL = {
    "us_tariff_end_share": "US tariff at end of escalation\n(ad valorem)",
    "us_demand_end_share": "US demanded compliance\nat end of escalation (0–1)",
    "lobbying_strength": "Firms' lobbying strength (× calibrated)",
    "fiscal_stress": "Fiscal stress (0 = calibrated, 1 = fiscal_stress scenario)",
}
TIPPING_TITLE = {"lobbying_strength": "Firms' lobbying", "fiscal_stress": "Fiscal stress"}
#: Sequential and diverging colour maps (perceptually uniform / colour-blind safe).
SEQUENTIAL = "rocket_r"
DIVERGING = "PuOr_r"
PNG_DPI = 200
#: Widths in inches: a full text width and a single column.
WIDE, NARROW = 7.2, 4.8


def _label(name: str, labels: Mapping[str, str]) -> str:
    return labels.get(name, name.replace("_", " "))


def style_rc() -> dict[str, Any]:
    """The rcParams of the paper style (seaborn theme, print fonts, colour-blind cycle)."""
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("paper"))
    rc.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"],
            "font.size": 9,
            "axes.labelsize": 9,
            "axes.titlesize": 9.5,
            "axes.titleweight": "bold",
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "legend.title_fontsize": 8,
            "legend.frameon": False,
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.edgecolor": "0.3",
            "grid.color": "0.88",
            "lines.linewidth": 1.5,
            "figure.dpi": 100,
            "savefig.dpi": PNG_DPI,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.hashsalt": "balancing-sim",
            "image.cmap": "rocket_r",
        }
    )
    return rc


@contextmanager
def paper_style() -> Iterator[None]:
    """The one style of every paper figure, applied only inside the ``with`` block."""
    with mpl.rc_context(style_rc()):
        yield


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png (200 dpi) and ``stem``.pdf atomically, without timestamps."""
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    plots.save_png(fig, png, dpi=PNG_DPI)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    atomic_write_bytes(pdf, buf.getvalue())
    return [png, pdf]


def _panel_title(ax: Axes, letter: str, text: str) -> None:
    ax.set_title(f"({letter}) {text}", loc="left")


# --------------------------------------------------------------------------- grids


def _pivot(table: pd.DataFrame, x: str, y: str, value: str) -> tuple[np.ndarray, ...]:
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="first")
    grid = grid.sort_index().sort_index(axis=1)
    return grid.columns.to_numpy(np.float64), grid.index.to_numpy(np.float64), grid.to_numpy()


def _to_index(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Data coordinates -> heatmap cell coordinates (cell i is centred at i + 0.5)."""
    return np.interp(values, grid, np.arange(len(grid))) + 0.5


def _heatmap(
    ax: Axes,
    xs: np.ndarray,
    ys: np.ndarray,
    z: np.ndarray,
    cmap: str,
    vmin: float,
    vmax: float,
    cbar_label: str,
    percent_x: bool = True,
) -> None:
    """A seaborn heatmap with y increasing upwards and a few round ticks in data units."""
    sns.heatmap(
        pd.DataFrame(z, index=ys, columns=xs),
        ax=ax,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        xticklabels=False,
        yticklabels=False,
        cbar_kws={"label": cbar_label, "shrink": 0.9},
        rasterized=True,
    )
    ax.invert_yaxis()
    xt = [v for v in np.round(np.arange(0, 1.0001, 0.2), 10) if xs[0] - 1e-9 <= v <= xs[-1] + 1e-9]
    yt = [v for v in np.round(np.arange(0, 1.0001, 0.2), 10) if ys[0] - 1e-9 <= v <= ys[-1] + 1e-9]
    ax.set_xticks(_to_index(np.array(xt), xs))
    ax.set_xticklabels([f"{v:.0%}" if percent_x else f"{v:g}" for v in xt], rotation=0)
    ax.set_yticks(_to_index(np.array(yt), ys))
    ax.set_yticklabels([f"{v:g}" for v in yt], rotation=0)
    ax.tick_params(length=3, bottom=True, left=True)
    for spine in ax.spines.values():
        spine.set_visible(True)


def _contour(
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


def _mark_scenario(ax: Axes, cfg: Mapping[str, Any], xs: np.ndarray, ys: np.ndarray) -> Any:
    esc = load_scenario(cfg["scenario"]).escalation if cfg.get("scenario") else None
    if esc is None:
        return None
    return ax.plot(
        _to_index(np.array([esc.us_tariff_level]), xs),
        _to_index(np.array([esc.us_security_pressure]), ys),
        marker="*",
        ms=11,
        color="white",
        mec="black",
        mew=0.9,
        ls="none",
        label=f"{SCENARIO_LABEL.get(cfg['scenario'], cfg['scenario'])} as specified",
    )[0]


def phase_diagram(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """(a) breakdown probability with its 50% contour; (b) the side of breakdown."""
    x, y, level = "us_tariff_end_share", "us_demand_end_share", float(cfg["level"])
    xs, ys, p = _pivot(table, x, y, "breakdown_share")
    table = table.assign(net_side=table["toward_us_share"] - table["toward_china_share"])
    _, _, side = _pivot(table, x, y, "net_side")
    fig = Figure(figsize=(WIDE, 3.3), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    _heatmap(ax1, xs, ys, p, SEQUENTIAL, 0, 1, f"P(breakdown within {cfg['rounds']} quarters)")
    _heatmap(ax2, xs, ys, side, DIVERGING, -1, 1, "P(toward US) − P(toward China)")
    handles = []
    for ax in (ax1, ax2):
        if _contour(ax, xs, ys, p, level):
            handles = [Line2D([], [], color="black", lw=1.4, label=f"P(breakdown) = {level:.0%}")]
        star = _mark_scenario(ax, cfg, xs, ys)
        ax.set_xlabel(AXIS_LABEL[x])
        ax.set_ylabel(AXIS_LABEL[y])
    if star is not None:
        handles.append(star)
    _panel_title(ax1, "a", "Probability of breakdown")
    _panel_title(ax2, "b", "Side of breakdown")
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    return fig


def calibration_contours(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Both calibrations' 50% contours over the difference of their breakdown probabilities."""
    x, y, level = "us_tariff_end_share", "us_demand_end_share", float(cfg["level"])
    ref = cfg["reference_calibration"]
    names = [ref, *[c for c in dict.fromkeys(table["calibration"]) if c != ref]]
    grids = {c: _pivot(table[table["calibration"] == c], x, y, "breakdown_share") for c in names}
    xs, ys, p_ref = grids[ref]
    other = names[1]
    diff = grids[other][2] - p_ref
    lim = max(0.25, float(np.ceil(np.nanmax(np.abs(diff)) / 0.25) * 0.25))
    fig = Figure(figsize=(NARROW + 0.4, 4.3), layout="constrained")
    ax = fig.subplots()
    _heatmap(
        ax,
        xs,
        ys,
        diff,
        DIVERGING,
        -lim,
        lim,
        f"difference in P(breakdown), {other} − {ref}",
    )
    handles = []
    for c in names:
        ls = CALIBRATION_STYLE.get(c, ("black", ":"))[1]
        if _contour(ax, xs, ys, grids[c][2], level, ls):
            handles.append(
                Line2D([], [], color="black", ls=ls, lw=1.4, label=_label(c, CALIBRATION_LABEL))
            )
    star = _mark_scenario(ax, cfg, xs, ys)
    if star is not None:
        handles.append(star)
    ax.set_xlabel(AXIS_LABEL[x])
    ax.set_ylabel(AXIS_LABEL[y])
    ax.set_title(f"{level:.0%} contour of P(breakdown) under both calibrations", loc="left")
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


# --------------------------------------------------------------------------- lines


def trajectories(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Rows: scenarios; columns: Japan's compliance, US pressure, Chinese restriction."""
    rule = BreakdownRule()
    scenarios = list(cfg["scenarios"])
    columns = [
        ("Japan's compliance", ["jp_compliance"], "compliance (0–1)"),
        ("US pressure", ["us_demand", "us_tariff"], "demand (0–1) / tariff (share)"),
        ("Chinese restriction", ["cn_restriction"], "share withheld (0–1)"),
    ]
    fig = Figure(figsize=(WIDE, 2.35 * len(scenarios) + 0.5), layout="constrained")
    axes = fig.subplots(len(scenarios), 3, sharex=True, squeeze=False)
    letters = iter("abcdefghijklmnop")
    for r, sc in enumerate(scenarios):
        esc = load_scenario(sc).escalation
        for c, (title, variables, ylabel) in enumerate(columns):
            ax = axes[r, c]
            if c == 0:
                ax.axhspan(rule.band_low, rule.band_high, color="0.9", zorder=0, lw=0)
            for var in variables:
                color, label = VARIABLE_STYLE[var]
                d = table[(table["scenario"] == sc) & (table["variable"] == var)]
                q = d["quarter"].to_numpy()
                ax.fill_between(
                    q, d["q05_share"], d["q95_share"], color=color, alpha=0.25, lw=0, step="mid"
                )
                sns.lineplot(
                    x=q,
                    y=d["median_share"].to_numpy(),
                    ax=ax,
                    color=color,
                    drawstyle="steps-mid",
                )
                if var == "jp_compliance":
                    ax.plot(q, d["mean_share"], color=color, ls=":", lw=1.2)
            if esc is not None:
                for t in (esc.start_round, esc.start_round + esc.ramp_rounds):
                    ax.axvline(t, color="0.45", lw=0.8, ls=(0, (2, 2)), zorder=1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(0, table["quarter"].max())
            ax.xaxis.set_major_locator(MultipleLocator(10 if table["quarter"].max() > 20 else 2))
            ax.set_ylabel(ylabel if c else f"{_label(sc, SCENARIO_LABEL)}\n{ylabel}")
            ax.set_xlabel("quarter" if r == len(scenarios) - 1 else "")
            _panel_title(ax, next(letters), title)
    handles = [
        Line2D([], [], color=VARIABLE_STYLE[v][0], lw=1.5, label=VARIABLE_STYLE[v][1])
        for _, variables, _ in columns
        for v in variables
    ]
    handles += [
        Line2D([], [], color="0.2", lw=1.5, label="median across seeds"),
        Line2D([], [], color="0.2", lw=1.2, ls=":", label="mean (compliance)"),
        mpl.patches.Patch(color="0.2", alpha=0.25, lw=0, label="90% of seeds"),
        mpl.patches.Patch(
            color="0.9", label=f"balancing band ({rule.band_low:g}–{rule.band_high:g})"
        ),
        Line2D([], [], color="0.45", lw=0.8, ls=(0, (2, 2)), label="escalation ramp start / end"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    return fig


def tipping_points(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Tipping tariff (bootstrap 95%) against lobbying strength and against fiscal stress."""
    tip = [c for c in table if c.startswith("tipping_") and not c.endswith(("_low", "_high"))][0]
    panels = list(dict.fromkeys(table["panel"]))
    fig = Figure(figsize=(WIDE, 3.1), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    base = load_scenario(cfg["scenario"])
    for i, (ax, key) in enumerate(zip(axes, panels, strict=True)):
        d = table[(table["panel"] == key) & (table["direction"] == "up")]
        factor = d["factor"].iloc[0] if len(d) else table[table["panel"] == key]["factor"].iloc[0]
        first = d.sort_values(["factor_value", tip], kind="mergesort").drop_duplicates(
            "factor_value"
        )
        color = PALETTE[0]
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
        if hasattr(base, factor):
            ax.axvline(
                getattr(base, factor),
                color="0.4",
                ls=(0, (2, 2)),
                lw=0.9,
                label=f"{_label(cfg['scenario'], SCENARIO_LABEL)} as specified",
            )
        ax.yaxis.set_major_locator(MultipleLocator(0.05))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(_label(factor, AXIS_LABEL))
        ax.set_ylabel(
            f"US tariff at which P(breakdown) = {float(cfg['level']):.0%}" if i == 0 else ""
        )
        _panel_title(ax, "abcd"[i], _label(factor, TIPPING_TITLE))
        ax.legend(loc="lower right")
    return fig


def survival(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Kaplan-Meier share still balancing per scenario, one panel per calibration."""
    cals = list(dict.fromkeys(table["calibration"]))
    scen = list(dict.fromkeys(table["scenario"]))
    fig = Figure(figsize=(WIDE, 3.2), layout="constrained")
    axes = fig.subplots(1, len(cals), sharey=True, squeeze=False)[0]
    low = max(0.0, float(table["still_balancing_share_ci_low"].min()) - 0.05)
    for i, (ax, cal) in enumerate(zip(axes, cals, strict=True)):
        for sc in scen:
            d = table[(table["calibration"] == cal) & (table["scenario"] == sc)]
            color, ls = SCENARIO_STYLE.get(sc, (PALETTE[7], "-"))
            label = (
                f"{_label(sc, SCENARIO_LABEL)} ({int(d['breakdowns'].iloc[0])}/"
                f"{int(d['runs'].iloc[0])} broke)"
            )
            ax.fill_between(
                d["quarter"],
                d["still_balancing_share_ci_low"],
                d["still_balancing_share_ci_high"],
                step="post",
                color=color,
                alpha=0.2,
                lw=0,
            )
            ax.step(
                d["quarter"],
                d["still_balancing_share"],
                where="post",
                color=color,
                ls=ls,
                label=label,
            )
        ax.set_ylim(low, 1.01)
        ax.set_xlim(0, table["quarter"].max())
        ax.set_xlabel("quarter")
        ax.set_ylabel("share still balancing (Kaplan–Meier)" if i == 0 else "")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _panel_title(ax, "abcd"[i], _label(cal, CALIBRATION_LABEL))
        ax.legend(loc="lower left", fontsize=7.5)
    return fig


def firms(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Per scenario and firm: cumulative profit, change against the reference, lobbying."""
    scen = list(dict.fromkeys(table["scenario"]))
    firm_order = list(dict.fromkeys(table["firm"]))
    ref = cfg["reference_scenario"]
    panels = [
        ("cum_profit", "bn", "cumulative profit\nover the run ($bn)", "Profit"),
        (
            "profit_change",
            "pct",
            f"change of cumulative profit\nvs {_label(ref, SCENARIO_LABEL).lower()} (%)",
            "Profit change",
        ),
        ("lobbying_effort", "share", "mean lobbying effort\n(0–1)", "Lobbying"),
    ]
    cals = list(dict.fromkeys(table["calibration"]))
    fig = Figure(figsize=(WIDE, 2.9 * len(cals) + 0.3), layout="constrained")
    axes = fig.subplots(len(cals), 3, sharey=True, squeeze=False)
    palette = {f: FIRM_COLOR.get(f, PALETTE[7]) for f in firm_order}
    letters = iter("abcdefghij")
    for r, cal in enumerate(cals):
        d = table[table["calibration"] == cal].copy()
        d["scenario_label"] = d["scenario"].map(lambda s: _label(s, SCENARIO_LABEL))
        d["firm_label"] = d["firm"].map(lambda f: _label(f, FIRM_LABEL))
        for c, (stem, unit, xlabel, title) in enumerate(panels):
            ax = axes[r, c]
            mean, lo, hi = f"{stem}_mean_{unit}", f"{stem}_q05_{unit}", f"{stem}_q95_{unit}"
            sns.barplot(
                d,
                y="scenario_label",
                x=mean,
                hue="firm_label",
                order=[_label(s, SCENARIO_LABEL) for s in scen],
                hue_order=[_label(f, FIRM_LABEL) for f in firm_order],
                palette={_label(f, FIRM_LABEL): palette[f] for f in firm_order},
                orient="h",
                errorbar=None,
                saturation=1,
                ax=ax,
                legend=False,
            )
            bar_groups = [b for b in ax.containers if isinstance(b, BarContainer)]
            for bars, f in zip(bar_groups, firm_order, strict=True):
                part = d[d["firm"] == f].set_index("scenario").loc[scen]
                ys = [b.get_y() + b.get_height() / 2 for b in bars]
                ax.errorbar(
                    part[mean],
                    ys,
                    xerr=[part[mean] - part[lo], part[hi] - part[mean]],
                    fmt="none",
                    ecolor="0.15",
                    elinewidth=0.8,
                    capsize=1.5,
                )
            if stem == "profit_change":
                ax.axvline(0, color="0.3", lw=0.8)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("")
            _panel_title(ax, next(letters), title + (f" ({cal})" if len(cals) > 1 else ""))
    handles = [mpl.patches.Patch(color=palette[f], label=_label(f, FIRM_LABEL)) for f in firm_order]
    handles.append(Line2D([], [], color="0.15", lw=0.8, marker="|", label="90% of seeds"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


def sobol(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Top parameters by total Sobol index (first-order and total, 95% intervals)."""
    idx = table.rename(
        columns={
            "S1_variance_share": "S1",
            "S1_ci95_halfwidth": "S1_conf",
            "ST_variance_share": "ST",
            "ST_ci95_halfwidth": "ST_conf",
        }
    )
    output = cfg["output"]
    fig = plots.sobol_bars(idx, output=output, top=int(cfg["top"]))
    fig.set_size_inches(WIDE * 0.85, 0.3 * int(cfg["top"]) + 1.2)
    ax = fig.axes[0]
    ax.set_xlabel("Sobol index of P(breakdown) (share of output variance, 95% interval)")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.legend(loc="lower right", title=None)
    ax.set_title(
        f"Sensitivity of P(breakdown) to the {len(table)} sampled parameters (top {cfg['top']})",
        loc="left",
    )
    return fig


DRAWERS = {
    "trajectories": trajectories,
    "phase_diagram": phase_diagram,
    "tipping_points": tipping_points,
    "survival": survival,
    "firms": firms,
    "calibration_contours": calibration_contours,
    "sobol": sobol,
}


def draw(kind: str, table: pd.DataFrame, cfg: Mapping[str, Any], stem: Path) -> list[Path]:
    """Draw figure ``kind`` from its table in the paper style and save it as PNG and PDF."""
    with paper_style():
        fig = DRAWERS[kind](table, cfg)
        return save_figure(fig, stem)
