"""Figure kind ``firms``: what each scenario does to the calibration's firms.

A grid over the scenario axis (every scenario runs the same seeds), under each of the config's
state models (``states``: strategic, reactive); per state model, calibration, scenario and firm
the cumulative profit, its change against the reference scenario (same state model) paired by
seed, and the mean lobbying effort. The firms are the calibration's (or the config's ``firms``): their
colours follow the palette in calibration order and their names come from the calibration
(:meth:`sim.core.calibration.Calibration.firm_label`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.figures import labels, style, sweeps
from experiments.figures.kind import FigureData, FigureKind
from experiments.figures.text import listing, num, signed, states_phrase
from sim.core.errors import ConfigError

# --------------------------------------------------------------------------- data


def _summary(stem: str, unit: str, values: np.ndarray) -> dict[str, float]:
    """Mean, 5th and 95th percentile across seeds, as ``<stem>_{mean,q05,q95}_<unit>``."""
    return {
        f"{stem}_mean_{unit}": values.mean(),
        f"{stem}_q05_{unit}": np.quantile(values, 0.05),
        f"{stem}_q95_{unit}": np.quantile(values, 0.95),
    }


def _rows(
    runs: pd.DataFrame,
    states: str,
    cal_name: str,
    scen: Sequence[str],
    ref: str,
    firms: Sequence[str],
) -> Iterator[dict[str, Any]]:
    """The table rows of one state model and calibration: per scenario and firm, paired by seed
    with ``ref``."""
    sub = runs[(runs["states"] == states) & (runs["calibration"] == cal_name)]
    ref_runs = sub[sub["scenario"] == ref].set_index("seed")
    for sc_name in scen:
        g = sub[sub["scenario"] == sc_name].set_index("seed")
        for firm in firms:
            profit = g[f"cum_{firm}_profit_bn"].to_numpy(np.float64)
            base = ref_runs.loc[g.index, f"cum_{firm}_profit_bn"].to_numpy(np.float64)
            lobbying = g[f"mean_{firm}_lobbying"].to_numpy(np.float64)
            yield {
                "states": states,
                "calibration": cal_name,
                "scenario": sc_name,
                "firm": firm,
                "runs": len(g),
                "breakdowns": int((g["outcome"].astype(str) != "balanced").sum()),
                "ruptures": int((g["rupture"].astype(str) != "none").sum()),
                **_summary("cum_profit", "bn", profit),
                **_summary("profit_change", "pct", (profit - base) / base * 100.0),
                **_summary("lobbying_effort", "share", lobbying),
            }


def _units(ref: str) -> dict[str, str]:
    return {
        "states": sweeps.STATES_UNIT,
        "calibration": "calibration name (configs/calibration)",
        "scenario": "scenario name (configs/scenario)",
        "firm": "firm (calibration firm profile)",
        "runs": "runs (seeds) per scenario",
        "breakdowns": "runs of the scenario that broke down (outcome != balanced), the same for every firm",
        "ruptures": "runs of the scenario in which the US or China collapsed its relation with "
        "Japan by its own actions (a rupture, not a breakdown), the same for every firm",
        "cum_profit_mean_bn": "operating profit after lobbying costs summed over the run, $bn, mean across seeds",
        "cum_profit_q05_bn": "5th percentile across seeds of the cumulative profit, $bn",
        "cum_profit_q95_bn": "95th percentile across seeds of the cumulative profit, $bn",
        "profit_change_mean_pct": f"change of cumulative profit against {ref} with the same seed, %, mean across seeds",
        "profit_change_q05_pct": "5th percentile across seeds of the change, %",
        "profit_change_q95_pct": "95th percentile across seeds of the change, %",
        "lobbying_effort_mean_share": "lobbying effort averaged over the run's rounds, 0-1, mean across seeds",
        "lobbying_effort_q05_share": "5th percentile across seeds of the lobbying effort, 0-1",
        "lobbying_effort_q95_share": "95th percentile across seeds of the lobbying effort, 0-1",
    }


def build(cfg: Mapping[str, Any]) -> FigureData:
    """Per scenario and firm: cumulative profit, its change against the reference, lobbying.

    The change against the reference scenario is paired by seed (every scenario runs the same
    seeds): per seed ``(profit - reference profit) / reference profit``, then mean and 90% range.
    """
    runs, plans = sweeps.run_designs(cfg, cfg["sweep"], "paper_firms")
    plan = next(iter(plans.values()))
    ref = cfg["reference_scenario"]
    scen = sweeps.axis_values(cfg["sweep"], "scenario") or sorted(plan.scenarios)
    if ref not in scen:
        raise ConfigError("reference_scenario", f"{ref!r} is not on the scenario axis {scen}")
    cal_names = sorted(plan.calibrations)
    firms = list(cfg.get("firms") or plan.calibrations[cal_names[0]].firm_names)
    models = list(dict.fromkeys(st for st, _ in plans))
    table = pd.DataFrame(
        [row for st in models for c in cal_names for row in _rows(runs, st, c, scen, ref, firms)]
    )
    return FigureData(
        table,
        _units(ref),
        sum(p.n_runs for p in plans.values()),
        sweeps.plan_seeds(plan),
        sweeps.designs_record("grid", plans),
    )


# --------------------------------------------------------------------------- drawing


def _panels(ref: str) -> list[tuple[str, str, str, str]]:
    """Per column of the figure: column stem, unit suffix, x label, title."""
    return [
        ("cum_profit", "bn", "cumulative profit\nover the run ($bn)", "Profit"),
        (
            "profit_change",
            "pct",
            f"change of cumulative profit\nvs {labels.scenario_label(ref).lower()} (%)",
            "Profit change",
        ),
        ("lobbying_effort", "share", "mean lobbying effort\n(0–1)", "Lobbying"),
    ]


def _bars(
    ax: Axes, d: pd.DataFrame, stem: str, unit: str, firms: Sequence[str], colors: Mapping
) -> None:
    """Horizontal bars per scenario and firm (mean) with 90%-of-seeds whiskers."""
    cal = d["calibration"].iloc[0]
    scen = list(dict.fromkeys(d["scenario"]))
    mean, lo, hi = f"{stem}_mean_{unit}", f"{stem}_q05_{unit}", f"{stem}_q95_{unit}"
    firm_labels = {f: labels.firm_label(f, cal) for f in firms}
    sns.barplot(
        d.assign(
            scenario_label=d["scenario"].map(labels.scenario_label),
            firm_label=d["firm"].map(firm_labels),
        ),
        y="scenario_label",
        x=mean,
        hue="firm_label",
        order=[labels.scenario_label(s) for s in scen],
        hue_order=[firm_labels[f] for f in firms],
        palette={firm_labels[f]: colors[f] for f in firms},
        orient="h",
        errorbar=None,
        saturation=1,
        ax=ax,
        legend=False,
    )
    bar_groups = [b for b in ax.containers if isinstance(b, BarContainer)]
    for bars, f in zip(bar_groups, firms, strict=True):
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


def draw(table: pd.DataFrame, cfg: Mapping[str, Any]) -> Figure:
    """Per scenario and firm: cumulative profit, change against the reference, lobbying."""
    firms = list(dict.fromkeys(table["firm"]))
    cals = list(dict.fromkeys(table["calibration"]))
    groups = list(dict.fromkeys(zip(table["states"], table["calibration"], strict=True)))
    several = table["states"].nunique() > 1
    colors = style.firm_colors(firms, labels.calibration(cals[0]))
    panels = _panels(cfg["reference_scenario"])
    if (table["lobbying_effort_q95_share"] == 0).all():  # nobody lobbies: the table says so
        panels = [x for x in panels if x[0] != "lobbying_effort"]
    fig = Figure(figsize=(style.WIDE, 2.9 * len(groups) + 0.3), layout="constrained")
    axes = fig.subplots(len(groups), len(panels), sharey=True, sharex="col", squeeze=False)
    letters = iter(style.LETTERS)
    for r, (states, cal) in enumerate(groups):
        d = table[(table["states"] == states) & (table["calibration"] == cal)]
        tags = [states_phrase(states, short=True).capitalize()] if several else []
        tags += [labels.calibration_label(cal)] if len(cals) > 1 else []
        for c, (stem, unit, xlabel, title) in enumerate(panels):
            ax = axes[r, c]
            _bars(ax, d, stem, unit, firms, colors)
            if stem == "profit_change":
                ax.axvline(0, color="0.3", lw=0.8)
            ax.set_xlabel(xlabel if r == len(groups) - 1 else "")
            ax.set_ylabel("\n".join(tags) if c == 0 and tags else "")
            style.panel_title(ax, next(letters), title)
    handles: list[Any] = [
        mpl.patches.Patch(color=colors[f], label=labels.firm_label(f, cals[0])) for f in firms
    ]
    handles.append(Line2D([], [], color="0.15", lw=0.8, marker="|", label="90% of seeds"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


# --------------------------------------------------------------------------- text


def _changes_text(d: pd.DataFrame, cal: str, ref: str) -> list[str]:
    """Profit changes against the reference, scenario by scenario (flat ones grouped)."""
    parts, flat = [], []
    for sc in dict.fromkeys(d["scenario"]):
        if sc == ref:
            continue
        g = d[d["scenario"] == sc]
        if g["profit_change_mean_pct"].abs().max() < 0.5:
            flat.append(labels.scenario_phrase(sc))
            continue
        changes = ", ".join(
            f"{labels.firm_label(f, cal)} {signed(v)}% [{signed(lo)}, {signed(hi)}]"
            for f, v, lo, hi in zip(
                g["firm"],
                g["profit_change_mean_pct"],
                g["profit_change_q05_pct"],
                g["profit_change_q95_pct"],
                strict=True,
            )
        )
        parts.append(f"{labels.scenario_phrase(sc)} ({changes})")
    out = []
    if parts:
        out.append(
            "Against the same seed under "
            + f"{labels.scenario_phrase(ref)}, cumulative profits change under "
            + "; under ".join(parts)
            + " (mean, 90% of seeds)."
        )
    if flat:
        out.append(
            f"{labels.capitalized(listing(flat))} change no firm's profit by more "
            "than 0.5% on average."
        )
    return out


def _lobbying_text(d: pd.DataFrame, ref: str) -> list[str]:
    """Scenarios without lobbying, and the one with the weakest (non-zero) lobbying."""
    if (d["lobbying_effort_q95_share"] == 0).all():
        return ["No firm lobbies in any scenario (effort 0 in every run)."]
    out = []
    for sc in dict.fromkeys(d["scenario"]):
        g = d[d["scenario"] == sc]
        if sc != ref and (g["lobbying_effort_mean_share"] == 0).all():
            out.append(f"Lobbying effort is zero under {labels.scenario_phrase(sc)}.")
    lob = d[d["scenario"] != ref].groupby("scenario", sort=False)["lobbying_effort_mean_share"]
    means = lob.mean()
    if (means > 0).any():
        low = means[means > 0].idxmin()
        out.append(
            f"Lobbying is weakest under {labels.scenario_phrase(low)} ("
            + listing([num(v) for v in d[d["scenario"] == low]["lobbying_effort_mean_share"]])
            + ")."
        )
    return out


def _events_text(d: pd.DataFrame) -> list[str]:
    """Per scenario with any: how many runs broke down and how many saw a rupture."""
    first = d.drop_duplicates("scenario")
    parts = [
        f"{labels.scenario_phrase(r['scenario'])} ({int(r['breakdowns']):,} broke down, "
        f"{int(r['ruptures']):,} ruptured)"
        for _, r in first.iterrows()
        if r["breakdowns"] or r["ruptures"]
    ]
    if not parts:
        return ["No run broke down or saw a rupture in any scenario."]
    runs = int(first["runs"].iloc[0])
    return [
        f"Of {runs:,} runs per scenario, breakdowns and ruptures (a relation collapsed by the "
        "other state's own actions, recorded separately) occur under " + listing(parts) + "."
    ]


def describe(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    """Per state model and calibration: the reference's profits and lobbying, then each
    scenario's changes."""
    ref = cfg["reference_scenario"]
    paragraphs = []
    for states, cal in dict.fromkeys(zip(t["states"], t["calibration"], strict=True)):
        d = t[(t["states"] == states) & (t["calibration"] == cal)]
        r = d[d["scenario"] == ref]
        out = [
            f"{states_phrase(states, capital=True)}: under {labels.scenario_phrase(ref)} "
            f"({labels.calibration_phrase(cal)}) "
            + listing([labels.firm_label(f, cal) for f in r["firm"]])
            + " earn "
            + listing([f"${v:,.0f}bn" for v in r["cum_profit_mean_bn"]])
            + f" over {int(cfg['rounds'])} quarters"
            + (
                " and lobby with mean effort "
                + listing([num(v) for v in r["lobbying_effort_mean_share"]])
                if (d["lobbying_effort_q95_share"] > 0).any()
                else ""
            )
            + "."
        ]
        out += _changes_text(d, cal, ref)
        out += _lobbying_text(d, ref)
        out += _events_text(d)
        paragraphs.append(" ".join(out))
    return "\n\n".join(paragraphs)


KIND = FigureKind(
    name="firms",
    required={"sweep", "reference_scenario"},
    optional={"scenario", "calibration", "firms", "states"},
    build=build,
    draw=draw,
    describe=describe,
)
