"""Browser view of one scenario: Japan balancing between the US and China.

Start it with ``make viz`` (``solara run sim/app.py``). Each browser session builds its own
:class:`~sim.model.BalancingModel` inside :func:`Page`; the controls take effect on Reset, as in
Mesa's SolaraViz. Mesa's stock ``SolaraViz`` cannot drive this model: Mesa 3.5 reserves
``Model.scenario`` for ``mesa.experimental.scenarios.Scenario`` and its Reset rejects ours, so
the page uses the same layout (Reset / ▶ / Step, parameter card, plots) built from solara parts.
"""

from __future__ import annotations

import math
import time
import traceback

import pandas as pd
import solara
from matplotlib.figure import Figure

from sim.calibration import load_calibration
from sim.errors import ConfigError
from sim.model import BalancingModel
from sim.paths import CONFIG_DIR
from sim.scenario import load_scenario, scenario_names

ROUNDS = 40  # quarters: ten years
PLAY_INTERVAL_S = 0.25
POSTURES = {0: "balancing", 1: "tilting US", 2: "tilting China"}
SIDES = {"us": "toward the US", "china": "toward China"}
CALIBRATIONS = sorted(p.stem for p in (CONFIG_DIR / "calibration").glob("*.yaml"))

#: Level sliders: model keyword -> (label, min, max, step); their meaning is in SLIDER_HELP.
LEVELS: dict[str, tuple[str, float, float, float]] = {
    "us_tariff_level": ("US tariff", 0.0, 1.0, 0.01),
    "us_security_pressure": ("US security pressure", 0.0, 1.0, 0.01),
    "cn_coercion": ("China's coercion", 0.0, 1.0, 0.01),
    "lobbying_strength": ("Firm lobbying", 0.0, 3.0, 0.05),
    "fiscal_stress": ("Fiscal stress", 0.0, 3.0, 0.05),
}
#: Japan's logit temperature spans four decades, so its slider moves along log10.
TEMPERATURE_LOG10 = (-3.0, 1.0, 0.05)
SLIDER_HELP = (
    "US tariff: ad-valorem share at zero compliance. US security pressure: export-control "
    "compliance the US demands (0-1). China's coercion: restriction per unit of compliance "
    "above its red line (0-1). Firm lobbying: 0 silent, 1 as calibrated, up to 3. Fiscal "
    "stress: 0 as calibrated, 1 recession-level, up to 3. Japan's temperature: logit noise of "
    "its choice (0.001 near best response, 10 near random)."
)


def scenario_settings(scenario: str, calibration: str, seed: str = "0") -> dict:
    """Control values for a scenario: its own levels and the calibration's temperature."""
    s = load_scenario(scenario)
    temperature = s.japan_temperature
    if temperature is None:
        temperature = load_calibration(calibration).value("temperature")
    levels = {key: float(getattr(s, key)) for key in LEVELS}
    return {
        "scenario": scenario,
        "calibration": calibration,
        "seed": seed,
        **levels,
        "japan_temperature": float(temperature),
    }


def parse_seed(text: str | int) -> int:
    """The seed typed in the page (a string once edited) as a whole number >= 0."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ConfigError("seed", f"must be a whole number >= 0, got {text!r}") from None
    if seed < 0:
        raise ConfigError("seed", f"must be a whole number >= 0, got {seed}")
    return seed


def build_model(settings: dict) -> tuple[BalancingModel | None, str | None]:
    """A new model from the controls, or the one-line reason it cannot be built."""
    levels = {key: settings[key] for key in [*LEVELS, "japan_temperature"]}
    try:
        model = BalancingModel(
            scenario=settings["scenario"],
            calibration=settings["calibration"],
            rounds=ROUNDS,
            rng=parse_seed(settings["seed"]),
            **levels,
        )
    except ConfigError as e:
        return None, str(e)
    except Exception as e:  # never a dead page: show what went wrong
        traceback.print_exc()
        return None, f"{type(e).__name__}: {e}"
    return model, None


def status_line(model: BalancingModel, settings: dict, table: pd.DataFrame) -> str:
    """The run's settings, rounds run, Japan's current posture and any breakdown, in one line."""
    seed = parse_seed(settings["seed"])
    parts = [
        f"{settings['scenario']} ({settings['calibration']} calibration, seed {seed})",
        f"Rounds run: {len(table)} of {model.rounds}",
    ]
    if len(table):
        parts.append(f"posture: {POSTURES[int(table['posture'].iloc[-1])]}")
        side, start = model.breakdown
        parts.append(
            f"breakdown {SIDES[side]} from round {start}" if side in SIDES else "no breakdown"
        )
    else:
        parts.append("press Step or ▶")
    return " · ".join(parts)


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


def _legend(ax) -> None:
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, frameon=False)


def _lines(ax, table: pd.DataFrame, columns: dict[str, str], **style) -> None:
    for column, label in columns.items():
        ax.plot(table["round"], table[column], marker="o", ms=2.5, label=label, **style)
    _legend(ax)


def draw_compliance(fig: Figure, table: pd.DataFrame, model: BalancingModel) -> None:
    ax = _axes(fig, table, "compliance, 0-1", (-0.02, 1.02))
    lo, hi = model.rule.band_low, model.rule.band_high
    ax.axhspan(lo, hi, color="tab:green", alpha=0.15, label=f"balancing band {lo:g}-{hi:g}")
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
    _lines(profit, table, {f"{f}_profit_bn_q": f.title() for f in firms})
    _lines(effort, table, {f"{f}_lobbying_effort": f.title() for f in firms})


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


PLOTS = {
    "Japan's export-control compliance": draw_compliance,
    "US and Chinese levers": draw_pressures,
    "Payoffs of the states": draw_payoffs,
    "Firms: profit and lobbying": draw_firms,
    "Rare-earth dependence and trust": draw_relations,
}


@solara.component
def Plot(title: str, model: BalancingModel, table: pd.DataFrame, key: tuple) -> None:
    """One plot, redrawn only when ``key`` (Resets, steps) changes."""

    def draw() -> Figure | str:
        fig = Figure(figsize=(7.5 if title.startswith("Firms") else 6, 3.4), layout="constrained")
        try:
            PLOTS[title](fig, table, model)
        except Exception as e:  # never a dead page
            traceback.print_exc()
            return f"Cannot draw this plot: {type(e).__name__}: {e}"
        return fig

    fig = solara.use_memo(draw, [key])
    with solara.Card(title, margin=0):
        if isinstance(fig, str):
            solara.Error(fig)
        else:
            solara.FigureMatplotlib(fig, dependencies=[key], format="png", dpi=90)


# --- the page -----------------------------------------------------------------------------
@solara.component
def Page() -> None:
    """One model per browser session, rebuilt by Reset from the controls."""
    defaults = solara.use_memo(lambda: scenario_settings("baseline", "article"), [])
    settings = solara.use_reactive(defaults)  # what the controls show
    # What the current model was built from, and how many Resets made it: one reactive value,
    # so a render never sees new settings with the old model.
    applied = solara.use_reactive((defaults, 0))
    version = solara.use_reactive(0)  # counts steps
    playing = solara.use_reactive(False)
    problem = solara.use_reactive(None)  # the last error, shown until Reset
    used, run = applied.value
    model, build_error = solara.use_memo(lambda: build_model(used), [run])
    key = (run, version.value)  # reading both re-renders the page after a Reset or step
    table = model.rounds_table() if model is not None else pd.DataFrame()
    can_step = model is not None and model.running and problem.value is None

    def do_step() -> None:
        try:
            model.step()
        except Exception as e:  # never a dead page
            traceback.print_exc()
            problem.set(f"Error in step: {type(e).__name__}: {e}")
            playing.set(False)
        version.set(version.value + 1)

    def play() -> None:
        while playing.value and model is not None and model.running and task.is_current():
            time.sleep(PLAY_INTERVAL_S)
            if playing.value and task.is_current():
                do_step()
        if task.is_current():
            playing.set(False)

    task = solara.lab.use_task(play, dependencies=[playing.value, run])

    def do_reset() -> None:
        playing.set(False)
        problem.set(None)
        applied.set((settings.value, run + 1))

    def update(**changes) -> None:
        settings.set({**settings.value, **changes})

    def choose(scenario: str | None = None, calibration: str | None = None) -> None:
        try:
            new = scenario_settings(
                scenario or settings.value["scenario"],
                calibration or settings.value["calibration"],
                settings.value["seed"],
            )
        except ConfigError as e:
            problem.set(str(e))
            return
        settings.set(new)

    s = settings.value
    seed_problem = None
    try:
        parse_seed(s["seed"])
    except ConfigError as e:
        seed_problem = str(e)

    solara.Title("Balancing sim")
    with solara.AppBar():
        solara.AppBarTitle("Japan balancing between the US and China")

    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            with solara.Row(justify="space-between"):
                solara.Button("Reset", color="primary", on_click=do_reset)
                solara.Button(
                    "❚❚" if playing.value else "▶",
                    color="primary",
                    on_click=lambda: playing.set(not playing.value),
                    disabled=not can_step,
                )
                solara.Button(
                    "Step",
                    color="primary",
                    on_click=do_step,
                    disabled=playing.value or not can_step,
                )
            if s != used:
                solara.Info("Settings changed: press Reset to apply them.", dense=True)
        with solara.Card("Model parameters"):
            solara.Select(
                "Scenario",
                value=s["scenario"],
                values=scenario_names(),
                on_value=lambda v: choose(scenario=v),
            )
            solara.Select(
                "Calibration",
                value=s["calibration"],
                values=CALIBRATIONS,
                on_value=lambda v: choose(calibration=v),
            )
            solara.InputText(
                "Seed",
                value=s["seed"],
                on_value=lambda v: update(seed=v),
                continuous_update=True,
                error=seed_problem or False,
            )
            for name, (label, lo, hi, step) in LEVELS.items():
                solara.SliderFloat(
                    f"{label}: {s[name]:.2f}",
                    value=s[name],
                    min=lo,
                    max=hi,
                    step=step,
                    on_value=lambda v, name=name: update(**{name: float(v)}),
                )
            lo, hi, step = TEMPERATURE_LOG10
            solara.SliderFloat(
                f"Japan's temperature: {s['japan_temperature']:.3g} (log10 scale)",
                value=round(math.log10(s["japan_temperature"]), 2),
                min=lo,
                max=hi,
                step=step,
                on_value=lambda v: update(japan_temperature=float(f"{10**v:.3g}")),
            )
            solara.Text(SLIDER_HELP, style={"font-size": "0.8em", "color": "gray"})
            ScenarioNotes(s["scenario"])

    with solara.Column():
        if build_error:
            solara.Error(f"Cannot build the model: {build_error}")
            return
        solara.Text(
            status_line(model, used, table),
            style={"font-size": "1.1em", "font-weight": "bold"},
        )
        if problem.value:
            solara.Error(problem.value)
        with solara.ColumnsResponsive(12, large=6):
            for title in PLOTS:
                Plot(title, model, table, key)


@solara.component
def ScenarioNotes(name: str) -> None:
    """What the scenario does beyond the slider levels (escalation ramps, embargoes)."""
    scenario = solara.use_memo(lambda: load_scenario(name), [name])
    notes = [scenario.description]
    if (e := scenario.escalation) is not None:
        notes.append(
            f"From round {e.start_round} the US ramps its tariff level to {e.us_tariff_level:g} "
            f"and its pressure to {e.us_security_pressure:g} over {e.ramp_rounds} rounds; "
            "the US sliders set the starting levels."
        )
    if (b := scenario.embargo) is not None:
        notes.append(
            f"From round {b.start_round} China withholds {b.restriction:.0%} of rare earths for "
            f"{b.rounds} rounds and lowers its red line to {b.red_line:g}."
        )
    for note in notes:
        solara.Text(note, style={"font-size": "0.85em", "display": "block", "margin-top": "6px"})
