"""Browser view of one scenario: Japan balancing between the US and China, on Mesa's SolaraViz.

Start it with ``make viz`` (``solara run sim/viz/app.py``). Each browser session builds its own model
in :func:`Page`. The controls are SolaraViz ``model_params`` and take effect on Reset; choosing a
scenario or a calibration reloads the sliders with its levels.
"""

from __future__ import annotations

import math
import traceback
import warnings
from typing import Any

import mesa
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim.catalog import calibration_names, load_calibration, load_scenario, scenario_names
from sim.core.constraints import check_seed
from sim.core.errors import ConfigError
from sim.core.registry import SCENARIO_PARAMETERS, Parameter
from sim.core.scenario import Scenario
from sim.core.timeline import quarter_of_round
from sim.engine.model import BalancingModel


def silence_cookie_warning() -> None:
    """Drop Solara's per-connection warning that its session cookie falls back to samesite=lax.

    Solara gives only "localhost" samesite=none; on 127.0.0.1 it warns on every connection.
    The app is served locally and not embedded in an iframe, so the fallback is what it needs
    and the warning is noise.
    """
    warnings.filterwarnings(
        "ignore", message="Cookies with samesite=none require https", category=UserWarning
    )


silence_cookie_warning()

ROUNDS = 40  # quarters: ten years
PLAY_INTERVAL_MS = 250
FIGSIZE = (5, 3.4)  # inches at 90 dpi: fits one SolaraViz grid cell at 1400 px
POSTURES = {0: "balancing", 1: "tilting US", 2: "tilting China"}
SIDES = {"us": "toward the US", "china": "toward China"}

#: Level sliders: model keyword -> its declaration (label, range, unit, step) in the registry.
LEVELS: dict[str, Parameter] = {
    name: p for name, p in SCENARIO_PARAMETERS.items() if "." not in name and not p.log
}
#: Japan's logit temperature spans four decades, so its slider moves along log10.
_TEMPERATURE = SCENARIO_PARAMETERS["japan_temperature"]
TEMPERATURE = (
    f"{_TEMPERATURE.label} (log10)",
    math.log10(_TEMPERATURE.bounds[0]),
    math.log10(_TEMPERATURE.bounds[1]),
    _TEMPERATURE.step,
)
LEVELS_HELP = (
    " ".join(f"{p.label}: {p.description} ({p.unit})." for p in LEVELS.values())
    + f" {_TEMPERATURE.label}: logit noise of its choice, slider in log10 (low = near best "
    "response, high = near random). Compliance is Japan's alignment with US export controls "
    "(0-1); payoffs and profits are in $bn per quarter; one round is one quarter."
)


def temperature(log10: float) -> float:
    """Japan's logit temperature from its slider, to two significant digits (0.05, not 0.0501)."""
    return float(f"{10 ** float(log10):.2g}")


def parse_seed(text: str | int) -> int:
    """The seed typed in the page (a string once edited) as a whole number in 0..2**63-1."""
    raw = str(text).strip()
    try:
        value: object = int(raw) if len(raw) <= 40 else raw
    except ValueError:
        value = raw
    return check_seed("seed", value)


def scenario_levels(scenario: str, calibration: str) -> dict[str, float]:
    """The sliders' values for a scenario: its levels and its (or the calibration's) temperature."""
    try:
        s = load_scenario(scenario)
        t = s.japan_temperature or load_calibration(calibration).value("compliance_temperature")
    except ConfigError:  # the model cannot be built either: Reset shows the message
        s, t = Scenario(), 0.05
    levels = {key: float(getattr(s, key)) for key in LEVELS}
    return {**levels, "log10_temperature": round(math.log10(t), 2)}


def _plain(value):
    # The controls are bound to reactive variables of the page (see Page): SolaraViz's Reset
    # hands over the variable itself for a control that was not touched.
    return value.value if isinstance(value, solara.Reactive) else value


class AppModel(mesa.Model):
    """What SolaraViz steps and rebuilds on Reset: a :class:`BalancingModel` from the controls.

    It never raises (a raise in Reset would leave a dead page): with bad controls ``sim`` is None
    and ``problem`` says why in one line. The scenario keyword is ``scenario_name`` because
    SolaraViz's Reset fills a keyword named ``scenario`` with Mesa's own ``Scenario`` object.
    Levels left at None take the scenario's values.
    """

    def __init__(
        self,
        scenario_name: str = "baseline",
        calibration: str = "article",
        seed: str | int = "0",
        us_tariff_slope: float | None = None,
        us_security_pressure: float | None = None,
        cn_coercion: float | None = None,
        lobbying_strength: float | None = None,
        fiscal_stress: float | None = None,
        log10_temperature: float | None = None,
    ) -> None:
        super().__init__()
        self.scenario_name, self.calibration = _plain(scenario_name), _plain(calibration)
        self.seed_text = str(_plain(seed))
        given = {
            "us_tariff_slope": us_tariff_slope,
            "us_security_pressure": us_security_pressure,
            "cn_coercion": cn_coercion,
            "lobbying_strength": lobbying_strength,
            "fiscal_stress": fiscal_stress,
            "log10_temperature": log10_temperature,
        }
        defaults = scenario_levels(self.scenario_name, self.calibration)
        self.levels = {k: defaults[k] if v is None else _plain(v) for k, v in given.items()}
        self.sim: BalancingModel | None = None
        self.problem: str | None = None
        try:
            self.sim = BalancingModel(
                scenario=self.scenario_name,
                calibration=self.calibration,
                rounds=ROUNDS,
                rng=parse_seed(self.seed_text),
                us_tariff_slope=self.levels["us_tariff_slope"],
                us_security_pressure=self.levels["us_security_pressure"],
                cn_coercion=self.levels["cn_coercion"],
                lobbying_strength=self.levels["lobbying_strength"],
                fiscal_stress=self.levels["fiscal_stress"],
                japan_temperature=temperature(self.levels["log10_temperature"]),
            )
        except ConfigError as e:
            self.problem = f"Cannot build the model: {e}"
        except Exception as e:  # never a dead page: show what went wrong
            traceback.print_exc()
            self.problem = f"Cannot build the model: {type(e).__name__}: {e}"
        self.running = self.problem is None

    def step(self) -> None:
        sim = self.sim
        if self.problem is None and sim is not None:
            try:
                sim.step()
            except Exception as e:  # never a dead page
                traceback.print_exc()
                self.problem = f"Error in round {sim.rounds_played}: {type(e).__name__}: {e}"
        self.running = self.problem is None and sim is not None and bool(sim.running)


def status_line(model: AppModel) -> str:
    """The run's scenario, rounds run, Japan's current posture and any breakdown, in one line."""
    sim = model.sim
    assert sim is not None, "status_line needs a built model"
    seed = parse_seed(model.seed_text)
    parts = [
        f"{model.scenario_name} ({model.calibration} calibration, seed {seed})",
        f"Rounds run: {sim.rounds_played} of {sim.rounds}",
    ]
    if sim.rounds_played:
        parts.append(f"posture: {POSTURES[int(sim.record['posture'][0])]}")
        side, start = sim.breakdown
        parts.append(
            f"breakdown {SIDES[side]} from round {start}" if side in SIDES else "no breakdown"
        )
    else:
        parts.append("press Step or ▶")
    return " · ".join(parts)


def levels_line(model: AppModel) -> str:
    """The levels the run uses, as the sliders were at the last Reset."""
    parts = [f"{LEVELS[k].label} {v:.2f}" for k, v in model.levels.items() if k in LEVELS]
    parts.append(f"Japan's temperature {temperature(model.levels['log10_temperature']):g}")
    return "Levels: " + " · ".join(parts)


def scenario_notes(scenario: Scenario) -> list[str]:
    """What the scenario does beyond the slider levels (escalation ramps, embargoes)."""
    notes = [scenario.description]
    if (e := scenario.escalation) is not None:
        notes.append(
            f"From round {e.start_round} the US ramps its tariff slope to {e.us_tariff_slope:g} "
            f"and its pressure to {e.us_security_pressure:g} over {e.ramp_rounds} rounds; "
            "the US sliders set the starting levels."
        )
    if (b := scenario.embargo) is not None:
        notes.append(
            f"From round {b.start_round} China withholds {b.restriction:.0%} of rare earths for "
            f"{b.rounds} rounds and lowers its red line to {b.red_line:g}."
        )
    for name, event in scenario.timeline.items():
        when = quarter_of_round(scenario.start, event.start)
        length = f" for {event.quarters} quarters" if event.quarters else ""
        demand = "" if event.demand is None else f" unless compliance is at most {event.demand:g}"
        notes.append(
            f"{name}: from {when} (round {event.start}){length}, "
            f"{event.instrument} is {event.level:g}{demand}."
        )
    return notes


@solara.component
def RunStatus(model: AppModel) -> None:
    """Rounds run, Japan's posture, any breakdown; the settings of the run; or why there is none."""
    update_counter.get()  # re-render after every step
    small = {"font-size": "0.85em", "display": "block", "margin-top": "6px"}
    with solara.Card("Run", margin=0):
        if model.sim is not None:
            solara.Text(status_line(model), style={"font-size": "1.1em", "font-weight": "bold"})
        if model.problem:
            solara.Error(model.problem)
            solara.Text("Correct the controls and press Reset.", style=small)
            return
        solara.Text(levels_line(model), style=small)
        assert model.sim is not None  # no problem means the model was built
        for note in scenario_notes(model.sim.scenario_config):
            solara.Text(note, style=small)
        solara.Text(LEVELS_HELP, style={**small, "color": "gray"})


# --- plots: each draws one figure from the rounds table ---------------------------------
def _axes(fig: Figure, table: pd.DataFrame, ylabel: str, ylim=None, ax=None):
    ax = ax or fig.subplots()
    ax.set_xlim(-0.5, ROUNDS - 0.5)
    ax.set_xlabel("round (quarter)")
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    if table.empty:
        ax.text(0.5, 0.5, "press Step or ▶", ha="center", va="center", transform=ax.transAxes)
    return ax


def _legend(ax, ncols: int = 2) -> None:
    ax.legend(
        fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=ncols, frameon=False
    )


def _lines(ax, table: pd.DataFrame, columns: dict[str, str], ncols: int = 2) -> None:
    for column, label in columns.items():
        ax.plot(table["round"], table[column], marker="o", ms=2.5, label=label)
    _legend(ax, ncols)


def draw_compliance(fig: Figure, table: pd.DataFrame, model: BalancingModel) -> None:
    ax = _axes(fig, table, "compliance, 0-1", (-0.02, 1.02))
    ax.plot(
        table["round"],
        table["jp_compliance"],
        "-o",
        ms=3,
        lw=2,
        color="black",
        label="Japan's compliance",
    )
    # Dashed lines on top, so a demand or red line equal to Japan's compliance stays visible.
    ax.plot(table["round"], table["us_demand"], "--", color="tab:blue", label="US demand")
    ax.plot(table["round"], table["cn_red_line"], "--", color="tab:red", label="China's red line")
    side, start = model.breakdown
    if side in SIDES:
        ax.axvline(start, color="tab:purple", lw=2, label=f"breakdown {SIDES[side]}, round {start}")
    _legend(ax)


def draw_pressures(fig: Figure, table: pd.DataFrame, model: BalancingModel) -> None:
    ax = _axes(fig, table, "share, 0-1", (-0.02, 1.02))
    _lines(
        ax,
        table,
        {
            "us_tariff": "US tariff (ad-valorem share)",
            "us_demand": "US demand (compliance)",
            "cn_restriction": "China's restriction (share withheld)",
            "cn_access": "China's market access",
        },
    )


def draw_payoffs(fig: Figure, table: pd.DataFrame, model: BalancingModel) -> None:
    ax = _axes(fig, table, "$bn per quarter")
    _lines(
        ax,
        table,
        {
            "jp_welfare_bn_q": "Japan's welfare",
            "us_payoff_bn_q": "US payoff",
            "cn_payoff_bn_q": "China's payoff",
        },
    )


def draw_firms(fig: Figure, table: pd.DataFrame, model: BalancingModel) -> None:
    profit, effort = fig.subplots(1, 2)
    firms = model.params.firm_names
    _axes(fig, table, "profit, $bn per quarter", ax=profit)
    _axes(fig, table, "lobbying effort, 0-1", (-0.02, 1.02), ax=effort)
    _lines(profit, table, {f"{f}_profit_bn_q": f.title() for f in firms}, ncols=3)
    _lines(effort, table, {f"{f}_lobbying_effort": f.title() for f in firms}, ncols=3)


def draw_relations(fig: Figure, table: pd.DataFrame, model: BalancingModel) -> None:
    ax = _axes(fig, table, "share, 0-1", (-0.02, 1.02))
    _lines(
        ax,
        table,
        {
            "rare_earth_dependence": "rare-earth dependence on China",
            "trust_us": "trust Japan-US",
            "trust_cn": "trust Japan-China",
        },
    )


def make_plot(title: str, draw):
    """A SolaraViz component showing one matplotlib figure, redrawn after every step."""

    @solara.component
    def Plot(model: AppModel) -> None:
        update_counter.get()  # re-render after every step

        def figure() -> Figure | str | None:
            if model.sim is None:
                return None
            fig = Figure(figsize=FIGSIZE, layout="constrained")
            try:
                draw(fig, model.sim.rounds_table(), model.sim)
            except Exception as e:  # never a dead page
                traceback.print_exc()
                return f"Cannot draw this plot: {type(e).__name__}: {e}"
            return fig

        key = [model, model.steps]
        fig = solara.use_memo(figure, key)
        if fig is None:
            return
        with solara.Card(title, margin=0):
            if isinstance(fig, str):
                solara.Error(fig)
            else:
                solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=90)

    return Plot


COMPONENTS = [
    RunStatus,
    make_plot("Japan's export-control compliance", draw_compliance),
    make_plot("US and Chinese levers", draw_pressures),
    make_plot("Payoffs of the states", draw_payoffs),
    make_plot("Firms: profit and lobbying", draw_firms),
    make_plot("Rare-earth dependence and trust", draw_relations),
]


def model_params(controls: dict[str, solara.Reactive]) -> dict:
    """SolaraViz's controls, each bound to one of the page's reactive variables (see Page)."""
    params: dict[str, Any] = {
        "scenario_name": {"type": "Select", "values": scenario_names(), "label": "Scenario"},
        "calibration": {"type": "Select", "values": calibration_names(), "label": "Calibration"},
        "seed": {"type": "InputText", "label": "Seed (whole number >= 0)"},
    }
    sliders = {k: (p.label, *p.bounds, p.step) for k, p in LEVELS.items()}
    for key, (label, lo, hi, step) in {**sliders, "log10_temperature": TEMPERATURE}.items():
        params[key] = Slider(label, controls[key], lo, hi, step, dtype=float)
    for key in ("scenario_name", "calibration", "seed"):
        params[key]["value"] = controls[key]
    return params


@solara.component
def Page() -> None:
    """One model per browser session, rebuilt by SolaraViz's Reset from the controls."""
    start: dict[str, Any] = solara.use_memo(
        lambda: {
            "scenario_name": "baseline",
            "calibration": "article",
            "seed": "0",
            **scenario_levels("baseline", "article"),
        },
        [],
    )
    model: solara.Reactive[AppModel] = solara.use_reactive(
        solara.use_memo(lambda: AppModel(**start), [])
    )
    # Each control writes into its reactive variable and SolaraViz's Reset parameters alike; a
    # value set here reaches both too, so a newly chosen scenario or calibration can put its
    # levels on the sliders.
    controls = {key: solara.use_reactive(value) for key, value in start.items()}  # noqa: SH103
    scenario, calibration = controls["scenario_name"].value, controls["calibration"].value

    def load_levels() -> None:
        for key, value in scenario_levels(scenario, calibration).items():
            controls[key].set(value)

    solara.use_effect(load_levels, [scenario, calibration])
    params = solara.use_memo(lambda: model_params(controls), [])
    return SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name="Japan balancing between the US and China",
        play_interval=PLAY_INTERVAL_MS,
    )
