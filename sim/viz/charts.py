"""The app's charts: one colour per actor, the panels' series, and Vega-Lite specs (Altair).

A chart is a spec (built once per layout and cached: :func:`fan_spec`, :func:`events_spec`,
:func:`survival_spec`, :func:`phase_spec`) plus named datasets that change with every run
(:func:`fan_rows`, ...). The page draws them with :class:`sim.viz.widget.VegaChart`, which
swaps the datasets into the live chart instead of redrawing it.

Every series belongs to an actor and takes that actor's colour in every panel (the US blue,
China red, Japan dark grey, each firm its own); several series of one actor in a panel differ
by dash. Series are per-round columns of :data:`sim.core.records.ROUND_COLUMNS` (their units
are the tooltips); a panel skips a column the model no longer records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd

from sim.core.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.core.registry import SCENARIO_PARAMETERS

if TYPE_CHECKING:
    from sim.viz.ensemble import Ensemble

ACTOR_COLOURS = {
    "United States": "#1f5fbf",
    "China": "#c0392b",
    "Japan": "#3d3d3d",
}
#: Firms take these colours in calibration order.
FIRM_PALETTE = ("#2a9d8f", "#e08e0b", "#8e6bb8", "#6b8e23", "#d17ca6", "#17becf", "#8c564b")
DASHES = {"solid": [1, 0], "dashed": [6, 3], "dotted": [2, 2]}
#: Variants of the compare view: A solid and opaque, B dashed and lighter.
VARIANT_DASH = {"A": "solid", "B": "dashed"}
CHART_HEIGHT = 140
FONT = 11


def firm_colours(firms: tuple[str, ...]) -> dict[str, str]:
    return {f: FIRM_PALETTE[i % len(FIRM_PALETTE)] for i, f in enumerate(firms)}


def actor_colour(actor: str, firms: tuple[str, ...] = ()) -> str:
    if actor in ACTOR_COLOURS:
        return ACTOR_COLOURS[actor]
    return firm_colours(firms).get(actor, "#777777")


@dataclass(frozen=True)
class Series:
    """A per-round column drawn in a panel: its label, actor and dash."""

    column: str
    label: str
    actor: str
    dash: str = "solid"

    @property
    def unit(self) -> str:
        return ROUND_COLUMNS.get(self.column, "")


@dataclass(frozen=True)
class Panel:
    """A chart of per-round series: key, title, y-axis title, y range (None: from the data).

    ``line``: what the line draws over worlds, the median (``q50``) or the ``mean`` (for a
    choice among a few levels, whose median hides how often each is taken).
    """

    key: str
    title: str
    y_title: str
    series: tuple[Series, ...]
    domain: tuple[float, float] | None = None
    line: str = "q50"


def panels(firms: tuple[str, ...], firm_labels: dict[str, str] | None = None) -> list[Panel]:
    """The per-round panels of the ensemble, compare and single-run views."""
    labels = firm_labels or {}
    out = [
        Panel(
            "compliance",
            "Japan's compliance and the two asks",
            "compliance 0-1",
            (
                Series("jp_compliance", "Japan", "Japan"),
                Series("us_demand", "US demand", "United States", "dashed"),
                Series("cn_red_line", "China's line", "China", "dashed"),
            ),
            (0.0, 1.0),
        ),
        Panel(
            "alignment",
            "Alignment index (-1 China ... +1 US)",
            "alignment index",
            (Series("alignment", "alignment index", "Japan"),),
            (-1.0, 1.0),
        ),
        Panel(
            "instruments",
            "Instruments: tariff, restriction, access",
            "share 0-1",
            (
                Series("us_tariff", "US tariff", "United States"),
                Series("cn_restriction", "China's restriction", "China"),
                Series("cn_access", "China's access", "China", "dashed"),
            ),
            (0.0, 1.0),
        ),
        Panel(
            "deal",
            "Japan's deal with the US",
            "level 0-1 of the pledge",
            (Series("jp_deal", "Japan's deal: none, half or full", "Japan"),),
            (0.0, 1.0),
            line="mean",
        ),
        Panel(
            "payoffs",
            "Payoffs, $bn per quarter",
            "$bn per quarter",
            (
                Series("jp_welfare_bn_q", "Japan's welfare", "Japan"),
                Series("us_payoff_bn_q", "US payoff", "United States"),
                Series("cn_payoff_bn_q", "China's payoff", "China"),
            ),
        ),
        Panel(
            "relations",
            "Dependence on China's rare earths; trust",
            "share 0-1",
            (
                Series("rare_earth_dependence", "RE dependence", "China", "dotted"),
                Series("trust_us", "trust US", "United States"),
                Series("trust_cn", "trust China", "China"),
            ),
            (0.0, 1.0),
        ),
        Panel(
            "firms",
            "Firms' profits, $bn per quarter",
            "$bn per quarter",
            tuple(
                Series(f"{f}_profit_bn_q", labels.get(f, f.replace("_", " ").title()), f)
                for f in firms
            ),
        ),
    ]
    # A column the model no longer records is left out (the model changes; the page should not break).
    firm_cols = {f"{f}_{c}" for f in firms for c in FIRM_COLUMNS}
    known = set(ROUND_COLUMNS) | firm_cols
    return [replace(p, series=tuple(s for s in p.series if s.column in known)) for p in out]


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python (NaN -> None, numpy -> plain numbers)."""
    return json.loads(df.to_json(orient="records", double_precision=6))


def datasets_json(**frames: pd.DataFrame | list[dict]) -> str:
    """Named datasets for :class:`sim.viz.widget.VegaChart`, as one JSON object (NaN -> null).

    A string, not nested lists: the page's components pass it along without walking it.
    """
    parts = []
    for name, frame in frames.items():
        rows = (
            frame.to_json(orient="records", double_precision=6)
            if isinstance(frame, pd.DataFrame)
            else json.dumps(frame)
        )
        parts.append(f"{json.dumps(name)}:{rows}")
    return "{" + ",".join(parts) + "}"


# --- fan charts -----------------------------------------------------------------------------
def _title(text: str) -> alt.TitleParams:
    return alt.TitleParams(text, fontSize=FONT + 1, anchor="start")


def _base_config(chart: alt.TopLevelMixin) -> str:
    """The chart's Vega-Lite spec as JSON, with the page's fonts and legend placement."""
    spec = (
        chart.configure_axis(labelFontSize=FONT - 1, titleFontSize=FONT)
        .configure_legend(
            labelFontSize=FONT - 1,
            symbolSize=40,
            symbolStrokeWidth=2.5,
            symbolOpacity=1,
            orient="bottom",
            padding=0,
            rowPadding=2,
            columnPadding=8,
            labelLimit=120,
        )
        .configure_view(strokeWidth=0)
        .to_dict(validate=False)
    )
    spec.pop("$schema", None)
    return json.dumps(spec)


def _series_json(panel: Panel, firms: tuple[str, ...]) -> str:
    return json.dumps([[s.label, actor_colour(s.actor, firms), s.dash] for s in panel.series])


def fan_spec(
    panel: Panel,
    firms: tuple[str, ...],
    domain: tuple[float, float] | None = None,
    bands: bool = True,
    title: str | None = None,
    rounds: int = 40,
) -> str:
    """The spec (JSON) of a fan chart: 90% and 50% bands and the median (or the mean, as the
    panel says) of each series (dataset ``fan``)."""
    title = panel.title if title is None else title
    if bands and panel.line == "mean":  # many worlds: say what the line is
        title += " (line: mean)"
    return _fan_spec(
        title,
        panel.y_title,
        _series_json(panel, firms),
        domain or panel.domain,
        bands,
        rounds,
        panel.line,
    )


@lru_cache(maxsize=256)
def _fan_spec(
    title: str,
    y_title: str,
    series: str,
    domain: tuple[float, float] | None,
    bands: bool,
    rounds: int,
    line: str = "q50",
) -> str:
    items = json.loads(series)
    labels = [s[0] for s in items]
    colour_scale = alt.Scale(domain=labels, range=[s[1] for s in items])
    legend = alt.Legend(title=None, symbolType="stroke", columns=len(labels))
    colour = alt.Stroke(
        "series:N",
        scale=colour_scale,
        legend=legend,
        sort=labels,
    )
    # The bands are coloured by a copy of the series field, so their (absent) legend does not
    # merge with the lines' legend.
    band_colour = alt.Fill("band:N", scale=colour_scale, legend=legend, sort=labels)
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=labels, range=[DASHES[s[2]] for s in items]),
        legend=legend,
        sort=labels,
    )
    scale = alt.Scale(domain=list(domain), nice=False) if domain else alt.Scale(zero=False)
    x = alt.X(
        "round:Q", title="round (quarter)", scale=alt.Scale(domain=[0, rounds - 1], nice=False)
    )
    base = alt.Chart(alt.NamedData("fan"))
    tooltip = [
        alt.Tooltip("series:N"),
        alt.Tooltip("round:Q"),
        *([alt.Tooltip("mean:Q", format=".3f")] if line == "mean" else []),
        alt.Tooltip("q50:Q", title="median", format=".3f"),
        alt.Tooltip("q25:Q", title="25%", format=".3f"),
        alt.Tooltip("q75:Q", title="75%", format=".3f"),
        alt.Tooltip("q05:Q", title="5%", format=".3f"),
        alt.Tooltip("q95:Q", title="95%", format=".3f"),
    ]
    layers = []
    if bands:
        layers += [
            base.mark_area(opacity=0.12).encode(
                x=x, y=alt.Y("q05:Q", scale=scale, title=y_title), y2="q95:Q", fill=band_colour
            ),
            base.mark_area(opacity=0.25).encode(x=x, y="q25:Q", y2="q75:Q", fill=band_colour),
        ]
    layers.append(
        base.mark_line(strokeWidth=2).encode(
            x=x,
            y=alt.Y(f"{line}:Q", scale=scale, title=y_title),
            stroke=colour,
            strokeDash=dash,
            tooltip=tooltip,
        )
    )
    chart = alt.layer(*layers).properties(
        title=_title(title), width="container", height=CHART_HEIGHT
    )
    return _base_config(chart)


def fan_rows(fan: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """A panel's rows of :meth:`sim.viz.ensemble.Ensemble.fan` (``series`` is the label)."""
    labels = {s.column: s.label for s in panel.series}
    column = fan["column"].to_numpy()
    keep = np.isin(column, list(labels))
    series = np.asarray([labels[c] for c in column[keep]], dtype=object)
    out: dict[str, Any] = {"round": fan["round"].to_numpy()[keep], "series": series, "band": series}
    out.update({q: fan[q].to_numpy()[keep] for q in ("q05", "q25", "q50", "q75", "q95", "mean")})
    return pd.DataFrame(out)


def single_rows(table: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """One run's rounds table as a fan with no bands (every quantile the run's value)."""
    series = [s for s in panel.series if s.column in table]
    n = len(table)
    labels = np.repeat(np.asarray([s.label for s in series], dtype=object), n)
    values = (
        np.concatenate([table[s.column].to_numpy(dtype=np.float64) for s in series])
        if series
        else np.zeros(0)
    )
    out: dict[str, Any] = {
        "round": np.tile(table["round"].to_numpy(), len(series)),
        "series": labels,
        "band": labels,
    }
    out.update({q: values for q in ("q05", "q25", "q50", "q75", "q95", "mean")})
    return pd.DataFrame(out)


def fan_domain(*fans: pd.DataFrame, panel: Panel) -> tuple[float, float] | None:
    """A shared y range for several fans of a panel (the compare view's same axes)."""
    if panel.domain is not None:
        return panel.domain
    cols = [s.column for s in panel.series]
    parts = [f[f["column"].isin(cols)] for f in fans]
    lo = min(float(p["q05"].min()) for p in parts if len(p))
    hi = max(float(p["q95"].max()) for p in parts if len(p))
    pad = 0.05 * (hi - lo or 1.0)
    return (round(lo - pad, 3), round(hi + pad, 3))


# --- P(breakdown) and survival ---------------------------------------------------------------
EVENT_ACTORS = {
    "breakdown": "Japan",
    "toward_us": "United States",
    "toward_china": "China",
    "rupture_by_us": "United States",
    "rupture_by_china": "China",
}


@lru_cache(maxsize=8)
def events_spec(title: str = "P(breakdown) by side (95% interval)", compare: bool = False) -> str:
    """Bars of each event's probability with its Wilson interval (dataset ``events``)."""
    base = alt.Chart(alt.NamedData("events"))
    y = alt.Y("label:N", title=None, sort=None)
    x = alt.X(
        "share:Q", title="share of runs", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
    )
    colour = alt.Color("colour:N", scale=None, legend=None)
    tooltip = [
        alt.Tooltip("label:N", title="event"),
        alt.Tooltip("count:Q"),
        alt.Tooltip("runs:Q"),
        alt.Tooltip("share:Q", format=".1%"),
        alt.Tooltip("ci_low:Q", title="95% low", format=".1%"),
        alt.Tooltip("ci_high:Q", title="95% high", format=".1%"),
    ]
    enc: dict[str, Any] = {"y": y}
    opacity: Any
    if compare:
        enc["yOffset"] = alt.YOffset("variant:N", sort=["A", "B"])
        opacity = alt.Opacity(
            "variant:N",
            sort=["A", "B"],
            scale=alt.Scale(domain=["A", "B"], range=[0.9, 0.45]),
            legend=None,
        )
    else:
        opacity = alt.value(0.85)
    bars = base.mark_bar(height={"band": 0.8} if compare else 14).encode(
        x=x, color=colour, opacity=opacity, tooltip=tooltip, **enc
    )
    rules = base.mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q", **enc)
    text = base.mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        x="ci_high:Q", text=alt.Text("text:N"), **enc
    )
    chart = alt.layer(bars, rules, text).properties(
        title=_title(title), width="container", height=CHART_HEIGHT
    )
    return _base_config(chart)


def events_rows(events: pd.DataFrame, variant: str | None = None) -> pd.DataFrame:
    df = events.copy()
    df["colour"] = df["event"].map(lambda e: ACTOR_COLOURS[EVENT_ACTORS.get(e, "Japan")])
    df["text"] = [f"{s:.1%}" if variant is None else f"{variant}: {s:.1%}" for s in df["share"]]
    if variant is not None:
        df["variant"] = variant
    return df


@lru_cache(maxsize=8)
def survival_spec(
    title: str = "Still balancing (95% interval)", compare: bool = False, rounds: int = 40
) -> str:
    """Share of runs with no breakdown by each round (dataset ``survival``, field ``variant``)."""
    base = alt.Chart(alt.NamedData("survival"))
    x = alt.X(
        "round:Q", title="round (quarter)", scale=alt.Scale(domain=[0, rounds - 1], nice=False)
    )
    y_scale = alt.Scale(domain=[0, 1])
    y_axis = alt.Axis(format="%", title="share of runs")
    dash = alt.StrokeDash(
        "variant:N",
        scale=alt.Scale(domain=["A", "B"], range=[DASHES["solid"], DASHES["dashed"]]),
        legend=alt.Legend(title=None, symbolType="stroke") if compare else None,
    )
    colour = alt.value(ACTOR_COLOURS["Japan"])
    band = base.mark_area(opacity=0.18, interpolate="step-after").encode(
        x=x,
        y=alt.Y("ci_low:Q", scale=y_scale, axis=y_axis),
        y2="ci_high:Q",
        color=colour,
        detail="variant:N",
    )
    line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=x,
        y=alt.Y("share:Q", scale=y_scale, axis=y_axis),
        color=colour,
        strokeDash=dash,
        tooltip=[
            alt.Tooltip("variant:N"),
            alt.Tooltip("round:Q"),
            alt.Tooltip("share:Q", format=".1%"),
            alt.Tooltip("surviving:Q"),
        ],
    )
    chart = alt.layer(band, line).properties(
        title=_title(title), width="container", height=CHART_HEIGHT
    )
    return _base_config(chart)


def survival_rows(survival: pd.DataFrame, variant: str = "A") -> pd.DataFrame:
    return survival.assign(variant=variant)


# --- phase diagram --------------------------------------------------------------------------
PHASE_METRICS = {
    "p_breakdown": "P(breakdown)",
    "side": "toward the US - toward China",
}


def axis_title(name: str) -> str:
    p = SCENARIO_PARAMETERS[name]
    return f"{p.label} ({p.unit})"


@lru_cache(maxsize=64)
def phase_spec(x: str, y: str, metric: str) -> str:
    """The map of a metric over two levers (dataset ``cells``; the clicked cell: ``selected``)."""
    px, py = SCENARIO_PARAMETERS[x], SCENARIO_PARAMETERS[y]
    sx = alt.Scale(type="log") if px.log else alt.Scale(nice=False, zero=False)
    sy = alt.Scale(type="log") if py.log else alt.Scale(nice=False, zero=False)
    if metric == "side":
        colour_scale = alt.Scale(scheme="redblue", domain=[-1, 1])
    else:
        colour_scale = alt.Scale(scheme="viridis", domain=[0, 1])
    cells = (
        alt.Chart(alt.NamedData("cells"))
        .mark_rect(stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X("x0:Q", title=axis_title(x), scale=sx),
            x2="x1:Q",
            y=alt.Y("y0:Q", title=axis_title(y), scale=sy),
            y2="y1:Q",
            color=alt.Color(
                f"{metric}:Q",
                scale=colour_scale,
                title=PHASE_METRICS[metric],
                legend=alt.Legend(
                    orient="right", format=".0%" if metric == "p_breakdown" else ".1f"
                ),
            ),
            tooltip=[
                alt.Tooltip("x:Q", title=px.label),
                alt.Tooltip("y:Q", title=py.label),
                alt.Tooltip("p_breakdown:Q", title="P(breakdown)", format=".1%"),
                alt.Tooltip("ci_low:Q", title="95% low", format=".1%"),
                alt.Tooltip("ci_high:Q", title="95% high", format=".1%"),
                alt.Tooltip("p_us:Q", title="toward the US", format=".1%"),
                alt.Tooltip("p_china:Q", title="toward China", format=".1%"),
                alt.Tooltip("runs:Q"),
            ],
        )
    )
    selected = (
        alt.Chart(alt.NamedData("selected"))
        .mark_rect(fill=None, stroke="#ff00ff", strokeWidth=2.5)
        .encode(x="x0:Q", x2="x1:Q", y="y0:Q", y2="y1:Q")
    )
    marker = (
        alt.Chart(alt.NamedData("marker"))
        .mark_point(shape="diamond", size=90, filled=True, color="white", stroke="black")
        .encode(x="x:Q", y="y:Q")
    )
    chart = alt.layer(cells, selected, marker).properties(
        title=_title("Click a cell for its ensemble"), width="container", height=330
    )
    return _base_config(chart)


def _edges(values: list[float], log: bool, integer: bool) -> tuple[list[float], list[float]]:
    """Cell edges around sorted grid values (halfway between neighbours; geometric on log)."""
    import math

    v = sorted(values)
    if len(v) == 1:
        w = 0.5 if integer else 0.05
        return [v[0] - w], [v[0] + w]
    if log:
        mids = [math.sqrt(a * b) for a, b in zip(v[:-1], v[1:], strict=True)]
        first, last = v[0] ** 2 / mids[0], v[-1] ** 2 / mids[-1]
    else:
        mids = [(a + b) / 2 for a, b in zip(v[:-1], v[1:], strict=True)]
        first, last = 2 * v[0] - mids[0], 2 * v[-1] - mids[-1]
    return [first, *mids], [*mids, last]


def phase_rows(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The map's cells with their edges (x0..x1, y0..y1)."""
    df = table.copy()
    for axis, name in (("x", x), ("y", y)):
        p = SCENARIO_PARAMETERS[name]
        values = sorted(df[axis].unique().tolist())
        lo, hi = _edges(values, p.log, p.integer)
        df[f"{axis}0"] = df[axis].map(dict(zip(values, lo, strict=True)))
        df[f"{axis}1"] = df[axis].map(dict(zip(values, hi, strict=True)))
    return df


# --- what a chart card shows ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ChartData:
    """A chart as the page draws it: its id, spec and datasets (JSON), and the table behind it."""

    chart_id: str
    spec: str
    data: str
    table: Callable[[], pd.DataFrame]  # the CSV download: what the chart draws

    def csv(self) -> str:
        return self.table().to_csv(index=False)


def fan_csv(fan: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """A panel's quantiles: round, column, label and the five quantiles."""
    labels = {s.column: s.label for s in panel.series}
    sub = fan[fan["column"].isin(labels)].reset_index(drop=True)
    sub.insert(2, "label", sub["column"].map(labels))
    return sub


def ensemble_charts(
    ens: Ensemble, prefix: str = "", keys: tuple[str, ...] | None = None
) -> list[ChartData]:
    """P(breakdown), survival and the fan panels of an ensemble (``keys``: a subset of panels)."""
    pans = [
        p
        for p in panels(ens.firm_names, ens.calibration.firm_labels)
        if keys is None or p.key in keys
    ]
    fan = ens.fan([s.column for p in pans for s in p.series])
    events, survival = ens.events(), ens.survival()
    out = [
        ChartData(
            f"{prefix}breakdown",
            events_spec(),
            datasets_json(events=events_rows(events)),
            lambda: events,
        ),
        ChartData(
            f"{prefix}survival",
            survival_spec(),
            datasets_json(survival=survival_rows(survival)),
            lambda: survival,
        ),
    ]
    for p in pans:
        out.append(
            ChartData(
                f"{prefix}{p.key}",
                fan_spec(p, ens.firm_names),
                datasets_json(fan=fan_rows(fan, p)),
                partial(fan_csv, fan, p),
            )
        )
    return out


def compare_charts(a: Ensemble, b: Ensemble) -> list[list[ChartData]]:
    """Rows of two charts: P(breakdown) and survival of A and B, then each panel for A and B."""
    ev = pd.concat([events_rows(a.events(), "A"), events_rows(b.events(), "B")], ignore_index=True)
    sv = pd.concat(
        [survival_rows(a.survival(), "A"), survival_rows(b.survival(), "B")], ignore_index=True
    )
    rows = [
        [
            ChartData(
                "compare-breakdown",
                events_spec("P(breakdown) by side: A and B", compare=True),
                datasets_json(events=ev),
                lambda: ev.drop(columns=["colour", "text"]),
            ),
            ChartData(
                "compare-survival",
                survival_spec("Still balancing: A solid, B dashed", compare=True),
                datasets_json(survival=sv),
                lambda: sv,
            ),
        ]
    ]
    pans = [p for p in panels(a.firm_names) if p.key != "firms"]
    cols = [s.column for p in pans for s in p.series]
    fans = {"A": a.fan(cols), "B": b.fan(cols)}
    for p in pans:
        dom = fan_domain(fans["A"], fans["B"], panel=p)
        rows.append(
            [
                ChartData(
                    f"compare-{p.key}-{tag}",
                    fan_spec(p, a.firm_names, domain=dom, title=f"{tag}: {p.title}"),
                    datasets_json(fan=fan_rows(f, p)),
                    partial(fan_csv, f, p),
                )
                for tag, f in fans.items()
            ]
        )
    return rows


def _columns(table: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return table[cols] if len(table) else pd.DataFrame(columns=cols)


def single_charts(
    table: pd.DataFrame, firms: tuple[str, ...], firm_labels: dict[str, str]
) -> list[ChartData]:
    """One run's panels (lines, no bands) from its rounds table."""
    out = []
    for p in panels(firms, firm_labels):
        cols = ["round", *[s.column for s in p.series if s.column in table]]
        rows = single_rows(table, p) if len(table) else pd.DataFrame()
        out.append(
            ChartData(
                f"single-{p.key}",
                fan_spec(p, firms, bands=False),
                datasets_json(fan=rows),
                partial(_columns, table, cols),
            )
        )
    return out


def phase_chart(
    table: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    selected: tuple[float, float] | None = None,
    marker: tuple[float, float] | None = None,
) -> ChartData:
    """The map of ``metric`` over levers ``x`` and ``y``, the clicked cell outlined."""
    rows = phase_rows(table, x, y)
    chosen = rows.iloc[0:0]
    if selected is not None:
        chosen = rows[(rows["x"] == selected[0]) & (rows["y"] == selected[1])]
    points = [] if marker is None else [{"x": marker[0], "y": marker[1]}]
    return ChartData(
        "phase",
        phase_spec(x, y, metric),
        datasets_json(cells=rows, selected=chosen, marker=points),
        lambda: table.rename(columns={"x": x, "y": y}),
    )
