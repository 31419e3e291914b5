"""The app's page (Solara): controls on the left, four views on the right.

The sidebar's **States** control sets both states' policy (strategic / reactive, or each
scenario's own) for every view, the saved scenario and its command line.

- **Ensemble** (the default): 200-1,000 seeds of the page's settings on the batch engine,
  recomputed on every control change: P(breakdown) by side with its interval at both noise
  levels, the survival curve, and fan charts of every panel of :mod:`sim.viz.charts`.
- **Compare**: the page's settings (A) against another scenario or calibration (B) on the same
  axes, with the difference in P(breakdown) and its interval.
- **Phase diagram**: the probability map over two registry levers, computed live at a coarse
  grid, refined on demand, or read from a sweep folder; a click on a cell shows its ensemble.
- **Single run**: one seed of the Mesa model with Step / Play / Reset.

Each browser session has its own state (every ``use_reactive`` lives in a component). What is
computed is in :mod:`sim.viz.ensemble` and :mod:`sim.viz.controls`; this module only lays it out.
"""

from __future__ import annotations

import hashlib
import html
import math
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import reacton.ipyvue as rvue
import solara
from solara.alias import rv

from sim.catalog import calibration_names, scenario_names
from sim.core.constraints import parse_seed
from sim.core.errors import ConfigError
from sim.core.registry import SCENARIO_PARAMETERS
from sim.engine.model import BalancingModel
from sim.viz import charts
from sim.viz.controls import (
    ACTORS,
    ODD_SECTION,
    Control,
    cli_command,
    controls_for,
    explanation,
    group_note,
    noise_note,
    odd_section,
    scenario_yaml,
    short_explanation,
    states_note,
    timeline,
)
from sim.viz.ensemble import (
    COARSE,
    EVENTS,
    FINE,
    NOISE_FACTORS,
    SEED_COUNTS,
    STATES,
    Ensemble,
    Settings,
    SweepPhase,
    calibration_named,
    default_levers,
    difference,
    headline,
    level_value,
    lever_names,
    load_inputs,
    load_sweep_phase,
    phase_chunks,
    phase_spec,
    policies_text,
    run_ensemble,
    scenario_of,
    states_text,
    sweep_cell_ensemble,
    wilson_interval,
)
from sim.viz.widget import Chart

TITLE = "Japan balancing between the US and China"
VIEWS = ("Ensemble", "Compare", "Phase diagram", "Single run")
ROUNDS = 40
PLAY_INTERVAL_S = 0.25
NOISES = tuple(NOISE_FACTORS)
#: The other noise level's numbers start this long after the charts' (the browser draws first).
OTHER_NOISE_DELAY_S = 0.15
NARROW = {"max-width": "260px", "min-width": "180px"}
#: The states control's choices (labels of :data:`sim.viz.ensemble.STATES`); B may follow A.
STATE_LABELS = tuple(STATES)
SAME_AS_A = "same as A"

CSS = """
.bsim-app { display: flex; height: 100vh; overflow: hidden; font-size: 13px; }
.bsim-side { width: 300px; min-width: 300px; overflow-y: auto; padding: 6px 10px;
             border-right: 1px solid #ddd; background: #fafafa; }
.bsim-main { flex: 1; overflow-y: auto; padding: 4px 12px 24px 12px; }
.bsim-title { font-size: 15px; font-weight: 600; margin: 2px 0 4px 0; }
.bsim-tabs { display: flex; gap: 2px; border-bottom: 1px solid #ddd; margin-bottom: 6px; align-items: center; }
.bsim-tabs .v-btn { text-transform: none; letter-spacing: 0; border-radius: 4px 4px 0 0; }
.bsim-tabs .bsim-active { border-bottom: 3px solid #1f5fbf; font-weight: 600; }
.bsim-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 6px; }
.bsim-pair { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
.bsim-card { border: 1px solid #e2e2e2; border-radius: 4px; padding: 2px 4px 0 4px; position: relative;
             background: white; min-width: 0; }
.bsim-card .bsim-csv { position: absolute; top: 0; right: 2px; z-index: 2; }
.bsim-card .bsim-csv .v-btn { min-width: 0; padding: 0 4px; height: 18px; font-size: 10px; }
.bsim-group { margin-top: 6px; padding-left: 6px; border-left: 4px solid #999; }
.bsim-group-title { font-weight: 600; font-size: 12px; }
.bsim-control { margin: 0; }
.bsim-control .bsim-label { font-size: 12px; line-height: 1.2; }
.bsim-control .bsim-value { font-weight: 600; }
.bsim-control .bsim-unit { color: #666; font-size: 11px; }
.bsim-control .v-input__slot { margin-bottom: 0; min-height: 22px; }
.bsim-control .v-input { margin-top: 0; padding-top: 0; }
.bsim-control .v-slider { margin: 0 4px; min-height: 22px; }
.bsim-control .v-label { display: none; }
.bsim-note { font-size: 11.5px; color: #444; line-height: 1.35; margin: 3px 0; }
.bsim-headline { font-size: 12.5px; border-collapse: collapse; margin: 2px 0 4px 0; }
.bsim-headline th, .bsim-headline td { padding: 1px 7px; text-align: right; border-bottom: 1px solid #eee; }
.bsim-headline th:first-child, .bsim-headline td:first-child { text-align: left; }
.bsim-headline .bsim-shown { background: #eef3fb; }
.bsim-explain { font-size: 11.5px; color: #333; line-height: 1.35; margin: 4px 0 6px 0;
                padding: 4px 8px; background: #f6f6f2; border-radius: 4px; }
.bsim-side .v-select__selections { font-size: 13px; }
.bsim-side .v-input { margin-top: 2px; }
.bsim-app .v-btn { text-transform: none; letter-spacing: 0; }
.bsim-card.bsim-csv-bottom .bsim-csv { top: auto; bottom: 2px; }
.bsim-side .v-btn-toggle .v-btn { text-transform: none; height: 26px !important; font-size: 12px; letter-spacing: 0; }
.bsim-status { font-weight: 600; margin: 2px 0; }
.bsim-explain .bsim-link { height: 18px !important; padding: 0 2px !important; color: #1f5fbf; font-size: 11.5px; }
.bsim-odd { margin-top: 4px; padding: 4px 8px; background: white; border: 1px solid #ddd; }
.bsim-odd h3 { font-size: 13px; }
.bsim-odd code, .bsim-note code { font-size: 10.5px; }
.bsim-cli { word-break: break-all; }
.bsim-side .v-text-field { margin-top: 8px; padding-top: 8px; }
.bsim-busy { color: #b35c00; font-size: 12px; }
"""


# --- small pieces ---------------------------------------------------------------------------
def _stamp(*parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


@solara.component
def ChartCard(
    item: charts.ChartData,
    stamp: str,
    on_click: Callable[[dict], None] | None = None,
    csv_bottom: bool = False,
):
    """A chart with a CSV download of the table behind it."""
    with solara.Div(classes=["bsim-card", "bsim-csv-bottom" if csv_bottom else "bsim-csv-top"]):
        with solara.Div(classes=["bsim-csv"]):
            solara.FileDownload(
                item.csv,
                filename=f"{item.chart_id}.csv",
                label="CSV",
                icon_name="mdi-download",
                mime_type="text/csv",
            )
        Chart(item.spec, item.data, stamp, item.chart_id, on_click)


@solara.component
def ChartGrid(items: list[charts.ChartData], stamp: str, classes: tuple[str, ...] = ("bsim-grid",)):
    with solara.Div(classes=list(classes)):
        for item in items:
            ChartCard(item, stamp)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _event_cell(s: pd.Series, key: str) -> tuple[int, int]:
    runs = int(s["runs"])
    count = runs - int(s["n_balanced"]) if key == "breakdown" else int(s[f"n_{key}"])
    return count, runs


def headline_table(rows: dict[str, pd.Series | None], shown: str) -> str:
    """P(breakdown) by side and the ruptures, one row per noise level (HTML)."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in EVENTS.values())
    out = [
        '<table class="bsim-headline">',
        f"<tr><th>noise</th>{head}<th>median round</th></tr>",
    ]
    for noise, s in rows.items():
        cls = ' class="bsim-shown"' if noise == shown else ""
        cells = []
        if s is None:
            cells = ['<td colspan="6">computing...</td>']
        else:
            for key in EVENTS:
                k, n = _event_cell(s, key)
                lo, hi = (float(x) for x in wilson_interval(k, n))
                cells.append(
                    f'<td data-noise="{noise}" data-event="{key}" data-count="{k}" data-runs="{n}" '
                    f'title="{k} of {n} runs; 95% interval {lo:.1%}-{hi:.1%}">'
                    f"{k / n:.1%} <small>({k}; {lo:.0%}-{hi:.0%})</small></td>"
                )
            med = s["median_breakdown_round"]
            cells.append(
                f'<td data-noise="{noise}" data-event="median_round">'
                f"{'-' if med != med else f'{med:g}'}</td>"
            )
        out.append(f"<tr{cls}><td>{html.escape(noise)}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return "".join(out)


@solara.component
def Explain(settings: Settings):
    """What breakdown and the alignment index mean, with the rule's numbers and docs/ODD.md."""
    cal = calibration_named(settings.calibration)
    open_, set_open = solara.use_state(False)
    with solara.Div(classes=["bsim-explain"]):
        solara.HTML(
            tag="span",
            unsafe_innerHTML=f"{html.escape(explanation(cal))} Details: ",
        )
        solara.Button(
            f"docs/ODD.md §{ODD_SECTION}",
            on_click=lambda: set_open(not open_),
            text=True,
            small=True,
            classes=["bsim-link"],
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(noise_note(cal)),
            style="color: #666",
        )
        if open_:
            section = odd_section()
            solara.HTML(
                tag="div",
                unsafe_innerHTML=section
                or "docs/ODD.md is in the repository (not in an installed package).",
                classes=["bsim-odd"],
            )


@solara.component
def ErrorBox(message: str):
    solara.Error(message, dense=True)


# --- controls -------------------------------------------------------------------------------
def _round_to_step(value: float, step: float) -> float:
    decimals = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    return round(value, decimals + 2)


@solara.component
def TextInput(label: str, value: solara.Reactive[str], style: str = ""):
    """A text field that applies its text on Enter or when it loses focus.

    The text comes with Vuetify's ``change`` event itself, so it cannot be overtaken by the
    field's own synchronisation (reading the field's value at the event can see the old text).
    """
    text, set_text = solara.use_state(value.value)

    def follow() -> None:
        set_text(value.value)

    solara.use_effect(follow, [value.value])
    field = rv.TextField(v_model=text, on_v_model=set_text, label=label, dense=True, style_=style)
    rvue.use_event(field, "change", lambda *args: value.set(str(args[-1] or "")))


@solara.component
def LevelControl(control: Control, value: float, on_value: Callable[[str, float], None]):
    """A labelled slider showing its value and unit; the model runs when the slider is let go."""
    c = control
    shown, set_shown = solara.use_state(value, key=f"{c.name}-shown")

    def follow() -> None:
        set_shown(value)

    solara.use_effect(follow, [value])
    to_pos = (lambda x: math.log10(x)) if c.log else (lambda x: x)

    def from_pos(p: float) -> float:
        if c.log:
            return float(f"{10 ** float(p):.2g}")
        if c.integer:
            return float(round(float(p)))
        return _round_to_step(float(p), c.step)

    lo, hi = (to_pos(c.low), to_pos(c.high))
    step = c.step
    with solara.Div(classes=["bsim-control"], attributes={"title": c.description}):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<span class='bsim-label'>{html.escape(c.label)}</span>: "
                f"<span class='bsim-value' data-control='{c.name}'>{c.fmt(shown)}</span> "
                f"<span class='bsim-unit'>{html.escape(c.unit)}"
                f"{' (log scale)' if c.log else ''}</span>"
            ),
            classes=["bsim-label"],
        )
        slider = rv.Slider(
            v_model=to_pos(shown),
            on_v_model=lambda p: set_shown(from_pos(p)),
            label=c.label,
            min=lo,
            max=hi,
            step=step,
            thumb_label=False,
            hide_details=True,
            dense=True,
            color=charts.actor_colour(c.actor) if c.actor in charts.ACTOR_COLOURS else "grey",
        )
        rvue.use_event(slider, "change", lambda *args: on_value(c.name, from_pos(args[-1])))


@solara.component
def LevelControls(
    controls: list[Control],
    values: dict[str, float],
    on_value: Callable[[str, float], None],
    notes: dict[str, str | None] | None = None,
):
    for actor in ACTORS:
        group = [c for c in controls if c.actor == actor]
        if not group:
            continue
        colour = charts.ACTOR_COLOURS.get(actor, charts.FIRM_PALETTE[0])
        with solara.Div(classes=["bsim-group"], style={"border-left-color": colour}):
            solara.HTML(
                tag="div", unsafe_innerHTML=html.escape(actor), classes=["bsim-group-title"]
            )
            if note := (notes or {}).get(actor):
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=html.escape(note),
                    classes=["bsim-note", "bsim-group-note"],
                    attributes={"data-actor": actor},
                )
            for c in group:
                LevelControl(c, values.get(c.name, c.default), on_value)


@solara.component
def SaveScenario(settings: Settings, values: dict[str, float]):
    """Download the page's scenario as YAML, with the command that runs it."""
    name = solara.use_reactive("my_scenario")
    try:
        sc = scenario_of(settings)
        text = scenario_yaml(sc, settings.level_dict(), name.value)
        command = cli_command(
            settings, name.value.strip(), calibration_named(settings.calibration, 1.0)
        )
        problem = None
    except ConfigError as e:
        text, command, problem = "", "", str(e)
    with solara.Div(classes=["bsim-group"], style={"border-left-color": "#888"}):
        solara.HTML(tag="div", unsafe_innerHTML="Save as scenario", classes=["bsim-group-title"])
        TextInput("Scenario name", name)
        if problem:
            ErrorBox(problem)
        else:
            solara.FileDownload(
                text,
                filename=f"{name.value.strip()}.yaml",
                label="Download scenario YAML",
                icon_name="mdi-download",
                mime_type="text/yaml",
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f"Put it in <code>myconf/scenario/</code> and run:<br><code class='bsim-cli'>"
                    f"{html.escape(command)}</code>"
                ),
                classes=["bsim-note"],
            )


# --- the ensemble view ----------------------------------------------------------------------
def _ensemble_or_error(settings: Settings) -> tuple[Ensemble | None, str | None]:
    try:
        return run_ensemble(settings), None
    except ConfigError as e:
        return None, str(e)
    except Exception as e:  # never a dead page
        traceback.print_exc()
        return None, f"{type(e).__name__}: {e}"


def _other_noise(settings: Settings) -> Settings:
    other = [n for n in NOISES if n != settings.noise][0]
    return replace(settings, noise=other)


@solara.component
def Downloads(ens: Ensemble):
    """The runs behind the charts: one row per world, and every world's rounds."""
    pans = charts.panels(ens.firm_names, ens.calibration.firm_labels)
    columns = [s.column for p in pans for s in p.series]
    s = ens.settings
    tag = f"{s.scenario}-{s.calibration}-{s.noise.replace(' ', '_')}-{s.states or 'own'}_states"
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.FileDownload(
            lambda: ens.outcomes.to_csv(index=False),
            filename=f"outcomes-{tag}.csv",
            label="Outcomes, one row per world (CSV)",
            icon_name="mdi-download",
            mime_type="text/csv",
        )
        solara.FileDownload(
            lambda: ens.world_rounds(columns).to_csv(index=False),
            filename=f"rounds-{tag}.csv",
            label="Every world's rounds (CSV)",
            icon_name="mdi-download",
            mime_type="text/csv",
        )


@solara.component
def Headline(settings: Settings, ens: Ensemble):
    """The numbers at both noise levels: the shown one now, the other from a thread."""
    other = _other_noise(settings)

    def other_noise(cancel: threading.Event):
        # Let the browser draw the charts first; a newer change in the meantime cancels this.
        if cancel.wait(OTHER_NOISE_DELAY_S):
            return None
        return other, headline(other)

    result = solara.use_thread(other_noise, dependencies=[other], intrusive_cancel=False)
    # The thread's last result may be for the previous settings until the new one is in.
    value = result.value
    done = value is not None and value[0] == other
    rows: dict[str, pd.Series | None] = {
        settings.noise: ens.summary(),
        other.noise: value[1] if done and value is not None else None,
    }
    seeds = settings.seed_array()
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>{html.escape(settings.scenario)}</b>, {html.escape(settings.calibration)} "
            f"calibration, <span class='bsim-states-shown'>{html.escape(states_text(settings))}"
            f"</span>, {len(seeds)} worlds (seeds {seeds[0]}-{seeds[-1]}), {settings.rounds} "
            f"quarters; charts at <b>{html.escape(settings.noise)}</b> noise."
            + headline_table({n: rows[n] for n in NOISES}, settings.noise)
            + f"<div class='bsim-note'>{html.escape(short_explanation(ens.calibration))} "
            "(The rule with its numbers is below the charts.)</div>"
        ),
        attributes={
            "data-stamp": _stamp("ensemble", settings),
            "data-complete": "1" if done else "0",
        },
        classes=["bsim-summary"],
    )


@solara.component
def EnsembleView(settings: Settings):
    ens, problem = _ensemble_or_error(settings)
    items = solara.use_memo(lambda: charts.ensemble_charts(ens) if ens is not None else [], [ens])
    if problem is not None or ens is None:
        ErrorBox(f"Cannot run the ensemble: {problem}")
        return
    Headline(settings, ens)
    ChartGrid(items, _stamp("ensemble", settings))
    Explain(settings)
    Downloads(ens)


# --- compare --------------------------------------------------------------------------------
@solara.component
def CompareView(settings: Settings):
    b_scenario = solara.use_reactive(settings.scenario)
    b_calibration = solara.use_reactive(
        "corrected" if settings.calibration == "article" else "article"
    )
    b_states = solara.use_reactive(SAME_AS_A)
    with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>A</b>: the controls ({html.escape(settings.scenario)}, "
            f"{html.escape(settings.calibration)}, {html.escape(states_text(settings, False))}, "
            "levels as set). <b>B</b>:",
        )
        solara.Select(
            "Scenario B", values=scenario_names(), value=b_scenario, dense=True, style=NARROW
        )
        solara.Select(
            "Calibration B",
            values=calibration_names(),
            value=b_calibration,
            dense=True,
            style=NARROW,
        )
        solara.Select(
            "States B",
            values=[SAME_AS_A, *STATE_LABELS],
            value=b_states,
            dense=True,
            style=NARROW,
        )
    b_settings = Settings(
        scenario=b_scenario.value,
        calibration=b_calibration.value,
        noise=settings.noise,
        seeds=settings.seeds,
        base_seed=settings.base_seed,
        rounds=settings.rounds,
        states=settings.states if b_states.value == SAME_AS_A else STATES[b_states.value],
    )
    a, pa = _ensemble_or_error(settings)
    b, pb = _ensemble_or_error(b_settings)
    if pa or pb or a is None or b is None:
        ErrorBox(f"Cannot run the comparison: {pa or pb}")
        return
    stamp = _stamp("compare", settings, b_settings)
    sa, sb = a.summary(), b.summary()
    lines = []
    for key in ("breakdown", "toward_us", "toward_china"):
        ka, na = _event_cell(sa, key)
        kb, nb = _event_cell(sb, key)
        d = difference(ka, na, kb, nb)
        label = EVENTS[key][0]
        lines.append(
            f"<tr><td>{label}</td><td data-variant='A' data-event='{key}' data-count='{ka}'>{d.p_a:.1%}</td>"
            f"<td data-variant='B' data-event='{key}' data-count='{kb}'>{d.p_b:.1%}</td>"
            f"<td data-event='{key}' data-diff='{d.diff:.6f}' data-low='{d.low:.6f}' data-high='{d.high:.6f}'>"
            f"{d.diff:+.1%} <small>(95% interval {d.low:+.1%} to {d.high:+.1%})</small></td></tr>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<table class='bsim-headline bsim-compare'><tr><th>P(event)</th>"
            f"<th>A: {html.escape(settings.label())}</th><th>B: {html.escape(b_settings.label())}</th>"
            f"<th>A - B</th></tr>{''.join(lines)}</table>"
        ),
        attributes={"data-stamp": stamp},
    )
    for row in charts.compare_charts(a, b):
        ChartGrid(row, stamp, classes=("bsim-pair",))


# --- phase diagram --------------------------------------------------------------------------
@dataclass(eq=False)  # compared by identity (a new table is a new map)
class PhaseTable:
    table: pd.DataFrame
    x: str
    y: str


def _lever_label(name: str) -> str:
    return SCENARIO_PARAMETERS[name].label


@solara.component
def PhaseView(settings: Settings):
    sc = scenario_of(settings)
    levers = lever_names(sc)
    dx, dy = default_levers(sc)
    chosen_x = solara.use_reactive(dx)
    chosen_y = solara.use_reactive(dy)
    # A lever the scenario does not have (after a scenario change) falls back to the default.
    x_name = chosen_x.value if chosen_x.value in levers else dx
    y_name = chosen_y.value if chosen_y.value in levers else dy
    metric = solara.use_reactive("p_breakdown")
    source = solara.use_reactive("live")
    folder = solara.use_reactive("")
    # The map refined for these settings and levers (any change goes back to the coarse grid).
    refined_for = solara.use_reactive(None)
    selected = solara.use_reactive(None)  # (x, y) of the clicked cell

    labels = {_lever_label(n): n for n in levers}

    def choose(lever: solara.Reactive[str], label: str) -> None:
        lever.set(labels[label])
        selected.set(None)

    with solara.Row(gap="10px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.ToggleButtonsSingle(
            value=source, values=["live", "sweep folder"], dense=True, classes=["bsim-source"]
        )
        if source.value == "live":
            solara.Select(
                "x lever",
                values=list(labels),
                value=_lever_label(x_name),
                on_value=lambda lab: choose(chosen_x, lab),
                dense=True,
                style=NARROW,
            )
            solara.Select(
                "y lever",
                values=list(labels),
                value=_lever_label(y_name),
                on_value=lambda lab: choose(chosen_y, lab),
                dense=True,
                style=NARROW,
            )
        else:
            TextInput("Sweep folder (results/sweeps/<name>/<id>)", folder, style="min-width: 380px")
        metric_keys = {label: key for key, label in charts.PHASE_METRICS.items()}
        solara.ToggleButtonsSingle(
            value=charts.PHASE_METRICS[metric.value],
            values=list(metric_keys),
            on_value=lambda label: metric.set(metric_keys[label]),
            dense=True,
            classes=["bsim-metric"],
        )

    if source.value == "live":
        LivePhase(settings, x_name, y_name, metric.value, refined_for, selected)
    else:
        SweepPhaseView(folder.value, metric.value, selected)


@solara.component
def LivePhase(
    settings: Settings,
    x: str,
    y: str,
    metric: str,
    refined_for: solara.Reactive[Any],
    selected: solara.Reactive[Any],
):
    fine = refined_for.value == (settings, x, y)
    try:
        spec = phase_spec(settings, x, y, FINE if fine else COARSE)
        problem = None
    except ConfigError as e:
        spec, problem = None, str(e)

    def compute(cancel: threading.Event):
        if spec is None:
            return
        for done, table in phase_chunks(spec):
            if cancel.is_set():
                return
            yield spec, done, table

    result = solara.use_thread(compute, dependencies=[spec], intrusive_cancel=False)
    if problem:
        ErrorBox(problem)
        return
    assert spec is not None
    # The thread's last value may belong to the previous map until the new one yields.
    done, table = 0, None
    if result.value is not None and result.value[0] == spec:
        _, done, table = result.value
    total = len(spec.x_values)
    running = result.state in (
        solara.ResultState.STARTING,
        solara.ResultState.RUNNING,
        solara.ResultState.WAITING,
    )
    with solara.Row(gap="10px", style={"align-items": "center"}):
        grid = f"{len(spec.x_values)} x {len(spec.y_values)} cells x {spec.seeds_per_cell} seeds"
        solara.HTML(
            tag="span",
            unsafe_innerHTML=(
                f"{'Refined' if fine else 'Coarse'} grid: {grid} "
                f"({spec.cells * spec.seeds_per_cell:,} runs, {settings.noise} noise, "
                f"{states_text(settings, False)})"
                + (
                    f" <span class='bsim-busy'>computing... {done}/{total} columns</span>"
                    if running
                    else ""
                )
            ),
            attributes={"data-phase-done": f"{done}/{total}" if not running else ""},
        )
        if not fine:
            solara.Button(
                "Refine",
                on_click=lambda: refined_for.set((settings, x, y)),
                dense=True,
                outlined=True,
            )
        else:
            solara.Button("Coarse", on_click=lambda: refined_for.set(None), dense=True, text=True)
    if table is None or (running and fine and done == 0):
        solara.HTML(tag="div", unsafe_innerHTML="computing the map...", classes=["bsim-busy"])
        return
    stamp = _stamp("phase", spec, done)
    PhaseMap(PhaseTable(table, x, y), metric, stamp, selected, marker=_marker(settings, x, y))
    if selected.value is not None:
        xv, yv = selected.value
        cell = settings.with_levels({**settings.level_dict(), x: xv, y: yv})
        CellEnsemble(
            cell,
            lambda: run_ensemble(cell),
            f"{_lever_label(x)} = {xv:g}, {_lever_label(y)} = {yv:g}",
        )


def _marker(settings: Settings, x: str, y: str) -> tuple[float, float] | None:
    """The page's own levels as a point on the map."""
    cal = calibration_named(settings.calibration, 1.0)
    sc = scenario_of(settings)
    levels = settings.level_dict()
    xv = levels.get(x, level_value(sc, cal, x))
    yv = levels.get(y, level_value(sc, cal, y))
    return None if xv is None or yv is None else (float(xv), float(yv))


@solara.component
def PhaseMap(
    phase: PhaseTable,
    metric: str,
    stamp: str,
    selected: solara.Reactive[Any],
    marker: tuple[float, float] | None = None,
):
    """The clickable map; a click selects the nearest cell of the grid."""
    table, x, y = phase.table, phase.x, phase.y
    item = solara.use_memo(
        lambda: charts.phase_chart(table, x, y, metric, selected.value, marker),
        [phase, metric, selected.value, marker],
    )

    def click(datum: dict | None) -> None:
        if datum and "x" in datum and "y" in datum:
            xs, ys = table["x"].to_numpy(), table["y"].to_numpy()
            xv = float(xs[np.argmin(np.abs(xs - float(datum["x"])))])
            yv = float(ys[np.argmin(np.abs(ys - float(datum["y"])))])
            selected.set((xv, yv))

    ChartCard(item, _stamp(stamp, selected.value), on_click=click, csv_bottom=True)


@solara.component
def CellEnsemble(settings: Settings, compute: Callable[[], Ensemble], where: str):
    """The ensemble of a clicked cell: its numbers and four charts."""

    def run() -> tuple[Ensemble | None, str | None]:
        try:
            return compute(), None
        except ConfigError as e:
            return None, str(e)

    ens, problem = solara.use_memo(run, [settings, where])
    items = solara.use_memo(
        lambda: charts.ensemble_charts(ens, "cell-", ("compliance", "alignment")) if ens else [],
        [ens],
    )
    if problem is not None or ens is None:
        ErrorBox(f"Cannot run this cell: {problem}")
        return
    stamp = _stamp("cell", settings, where)
    s = ens.summary()
    k, n = _event_cell(s, "breakdown")
    ku, _ = _event_cell(s, "toward_us")
    kc, _ = _event_cell(s, "toward_china")
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>Cell {html.escape(where)}</b>: {n} worlds (seeds {int(ens.outcomes['seed'].iloc[0])}-"
            f"{int(ens.outcomes['seed'].iloc[-1])}), P(breakdown) "
            f"<span data-cell-event='breakdown' data-count='{k}' data-runs='{n}'>{k / n:.1%}</span>"
            f" (toward the US {ku / n:.1%}, toward China {kc / n:.1%})"
        ),
        attributes={"data-stamp": stamp},
        classes=["bsim-cell"],
    )
    ChartGrid(items, stamp)


@solara.component
def SweepPhaseView(folder: str, metric: str, selected: solara.Reactive[Any]):
    def load() -> tuple[SweepPhase | None, str | None]:
        if not folder.strip():
            return None, None
        try:
            return load_sweep_phase(folder), None
        except ConfigError as e:
            return None, str(e)
        except Exception as e:  # a damaged parquet file, permissions...
            return None, f"Cannot read {folder}: {type(e).__name__}: {e}"

    phase, problem = solara.use_memo(load, [folder])
    if not folder.strip():
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "Give the folder of a finished grid sweep over two scenario levers, e.g. "
                "<code>python -m sim +experiment=breakdown_grid</code> writes "
                "<code>results/sweeps/breakdown_grid/&lt;id&gt;</code>."
            ),
            classes=["bsim-note"],
        )
        return
    if problem is not None or phase is None:
        ErrorBox(problem or "no sweep")
        return
    runs = int(phase.table["runs"].sum())
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"Sweep <code>{html.escape(str(phase.folder))}</code>: scenario {html.escape(phase.scenario.name)}, "
            f"calibration {html.escape(phase.calibration.name)}, {len(phase.table)} cells, {runs:,} runs "
            f"({len(phase.seeds)} seeds per cell), {phase.rounds} quarters, "
            f"{html.escape(policies_text(phase.scenario))} as the sweep ran them (the States "
            "control does not apply to a sweep's map)."
        ),
        classes=["bsim-note"],
    )
    stamp = _stamp("sweep", str(phase.folder), metric)
    PhaseMap(PhaseTable(phase.table, phase.x, phase.y), metric, stamp, selected)
    if selected.value is not None:
        xv, yv = selected.value
        where = f"{_lever_label(phase.x)} = {xv:g}, {_lever_label(phase.y)} = {yv:g}"
        settings = Settings(scenario=phase.scenario.name, calibration=phase.calibration.name)
        CellEnsemble(settings, lambda: sweep_cell_ensemble(phase, xv, yv), where)


# --- single run -----------------------------------------------------------------------------
POSTURES = {0: "balancing", 1: "siding with the US", 2: "siding with China"}
SIDES = {"us": "toward the US", "china": "toward China"}


def _build_model(settings: Settings) -> tuple[BalancingModel | None, str | None]:
    try:
        cal, sc, overrides = load_inputs(settings)
        return BalancingModel(
            sc, cal, settings.rounds, overrides=overrides, rng=settings.base_seed
        ), None
    except ConfigError as e:
        return None, f"Cannot build the model: {e}"
    except Exception as e:  # never a dead page
        traceback.print_exc()
        return None, f"Cannot build the model: {type(e).__name__}: {e}"


def status_line(model: BalancingModel, seed: int) -> str:
    parts = [f"seed {seed}", f"Rounds run: {model.rounds_played} of {model.rounds}"]
    if model.rounds_played:
        parts.append(f"posture: {POSTURES[int(model.record['posture'][0])]}")
        side, start = model.breakdown
        parts.append(
            f"breakdown {SIDES[side]} from round {start}" if side in SIDES else "no breakdown yet"
        )
        who, when = model.rupture
        if who in SIDES:
            parts.append(f"rupture by {'the US' if who == 'us' else 'China'} from round {when}")
    else:
        parts.append("press Step or Play")
    return " · ".join(parts)


@solara.component
def SingleRunView(settings: Settings):
    version = solara.use_reactive(0)  # bumped by Reset: a new model with the same settings
    built = solara.use_memo(lambda: _build_model(settings), [settings, version.value])
    model, problem = built
    steps = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    lock = solara.use_memo(threading.Lock, [])

    def reset_steps():
        steps.set(0)
        playing.set(False)

    solara.use_effect(reset_steps, [built])

    def do_step() -> None:
        if model is None:
            return
        with lock:
            model.step()
        steps.set(model.rounds_played)

    def play(cancel: threading.Event):
        if not playing.value or model is None:
            return
        while not cancel.is_set() and model.running:
            with lock:
                model.step()
            steps.set(model.rounds_played)
            cancel.wait(PLAY_INTERVAL_S)
        if not cancel.is_set():
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, built], intrusive_cancel=False)

    with solara.Row(gap="6px", style={"align-items": "center"}):
        solara.Button(
            "Step",
            on_click=do_step,
            disabled=model is None or playing.value or not model.running,
            dense=True,
            outlined=True,
        )
        if playing.value:
            solara.Button("Pause", on_click=lambda: playing.set(False), dense=True, outlined=True)
        else:
            solara.Button(
                "Play",
                on_click=lambda: playing.set(True),
                disabled=model is None or not model.running,
                dense=True,
                outlined=True,
            )
        solara.Button(
            "Reset", on_click=lambda: version.set(version.value + 1), dense=True, outlined=True
        )
        if model is not None:
            solara.HTML(
                tag="span",
                unsafe_innerHTML=html.escape(status_line(model, settings.base_seed)),
                classes=["bsim-status"],
            )
    if problem is not None or model is None:
        ErrorBox(problem or "no model")
        return
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"One world of the Mesa model ({html.escape(settings.label())}), seed = the base seed; "
            "the same world as the ensemble's first seed."
        ),
        classes=["bsim-note"],
    )
    table = model.rounds_table() if model.rounds_played else pd.DataFrame({"round": np.arange(0)})
    stamp = _stamp("single", settings, version.value, steps.value)
    items = charts.single_charts(table, model.params.firm_names, model.calibration.firm_labels)
    ChartGrid(items, stamp)
    Explain(settings)


# --- the page -------------------------------------------------------------------------------
@solara.component
def Sidebar(
    scenario: solara.Reactive[str],
    calibration: solara.Reactive[str],
    noise: solara.Reactive[str],
    states: solara.Reactive[str],
    seeds: solara.Reactive[str],
    base_seed: solara.Reactive[str],
    controls: list[Control],
    values: dict[str, float],
    set_level: Callable[[str, float], None],
    reset_levels: Callable[[], None],
    settings: Settings | None,
):
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(TITLE), classes=["bsim-title"])
    solara.Select("Scenario", values=scenario_names(), value=scenario, dense=True)
    solara.Select("Calibration", values=calibration_names(), value=calibration, dense=True)
    solara.HTML(tag="div", unsafe_innerHTML="Noise", classes=["bsim-group-title"])
    solara.ToggleButtonsSingle(value=noise, values=list(NOISES), dense=True, classes=["bsim-noise"])
    solara.HTML(
        tag="div", unsafe_innerHTML="States (the US and China)", classes=["bsim-group-title"]
    )
    solara.ToggleButtonsSingle(
        value=states, values=list(STATE_LABELS), dense=True, classes=["bsim-states"]
    )
    try:
        own: str | None = policies_text(scenario_of(Settings(scenario=scenario.value)))
    except ConfigError:
        own = None
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html.escape(
            states_note() + (f" This scenario's own: {own}." if own is not None else "")
        ),
        classes=["bsim-note", "bsim-states-note"],
    )
    with solara.Row(gap="6px", style={"align-items": "center"}):
        solara.ToggleButtonsSingle(
            value=seeds, values=[str(n) for n in SEED_COUNTS], dense=True, classes=["bsim-seeds"]
        )
        solara.HTML(tag="span", unsafe_innerHTML="seeds", classes=["bsim-note"])
    TextInput("Base seed (whole number >= 0)", base_seed)
    notes: dict[str, str | None] = {}
    if settings is not None:
        sc = scenario_of(settings)
        lines = timeline(sc, settings.level_dict(), calibration_named(settings.calibration))
        solara.HTML(
            tag="div",
            unsafe_innerHTML="<b>What happens when</b><br>"
            + "<br>".join(html.escape(line) for line in lines),
            classes=["bsim-note", "bsim-timeline"],
        )
        notes = {actor: group_note(actor, sc) for actor in ACTORS}
    LevelControls(controls, values, set_level, notes)
    solara.Button("Scenario's own levels", on_click=reset_levels, dense=True, text=True, small=True)
    if settings is not None:
        SaveScenario(settings, values)


@solara.component
def Page():
    """The app: one state per browser session."""
    scenario = solara.use_reactive("baseline")
    calibration = solara.use_reactive("article")
    noise = solara.use_reactive(NOISES[0])
    states = solara.use_reactive(STATE_LABELS[0])
    seeds = solara.use_reactive("500")
    base_seed = solara.use_reactive("0")
    view = solara.use_reactive(VIEWS[0])
    # The moved levels, with the scenario and calibration they belong to: a new scenario
    # brings its own levels (no effect needed, so no run with stale levels).
    levels = solara.use_reactive({"key": ("baseline", "article"), "values": {}})

    key = (scenario.value, calibration.value)
    problem = None
    controls: list[Control] = []
    try:
        sc = scenario_of(Settings(scenario=scenario.value, states=STATES[states.value]))
        controls = controls_for(sc, calibration_named(calibration.value, 1.0), ROUNDS)
    except ConfigError as e:
        problem = str(e)
    defaults = {c.name: c.default for c in controls}
    moved = levels.value["values"] if levels.value["key"] == key else {}
    values = {**defaults, **moved}

    def set_level(name: str, value: float) -> None:
        current = levels.value["values"] if levels.value["key"] == key else {}
        levels.set({"key": key, "values": {**current, name: value}})

    def reset_levels() -> None:
        levels.set({"key": key, "values": {}})

    settings: Settings | None = None
    if problem is None:
        try:
            settings = Settings(
                scenario=scenario.value,
                calibration=calibration.value,
                noise=noise.value,
                seeds=int(seeds.value),
                base_seed=parse_seed("base seed", base_seed.value),
                rounds=ROUNDS,
                states=STATES[states.value],
            ).with_levels({k: v for k, v in values.items() if v != defaults.get(k)})
        except ConfigError as e:
            problem = str(e)

    solara.Style(CSS)
    with solara.Div(classes=["bsim-app"]):
        with solara.Div(classes=["bsim-side"]):
            Sidebar(
                scenario,
                calibration,
                noise,
                states,
                seeds,
                base_seed,
                controls,
                values,
                set_level,
                reset_levels,
                settings,
            )
        with solara.Div(classes=["bsim-main"]):
            with solara.Div(classes=["bsim-tabs"]):
                for name in VIEWS:
                    solara.Button(
                        name,
                        on_click=lambda name=name: view.set(name),
                        text=True,
                        classes=[
                            "bsim-tab",
                            "bsim-active" if view.value == name else "bsim-inactive",
                        ],
                    )
            if problem is not None or settings is None:
                ErrorBox(problem or "no settings")
                return
            if view.value == "Ensemble":
                EnsembleView(settings)
            elif view.value == "Compare":
                CompareView(settings)
            elif view.value == "Phase diagram":
                PhaseView(settings)
            else:
                SingleRunView(settings)
