"""sim/viz/app.py without a browser: what SolaraViz's Reset builds from the controls (fast, no marker).

Uses SolaraViz's own helpers, so a Mesa release that changes how Reset calls the model shows
here before it shows as a dead page.
"""

from __future__ import annotations

import pytest
import solara
from mesa.visualization.solara_viz import (
    _build_model_init_kwargs,
    _check_model_params,
    split_model_params,
)

from sim.engine.model import BalancingModel
from sim.viz import app


def reset_kwargs(model: app.AppModel, values: dict) -> dict:
    """The keywords SolaraViz's Reset passes to ``type(model)``."""
    return _build_model_init_kwargs(
        model, values, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )


def start_values() -> dict:
    return {
        "scenario_name": "baseline",
        "calibration": "article",
        "seed": "0",
        **app.scenario_levels("baseline", "article"),
    }


def test_controls_match_the_model_keywords():
    controls = {key: solara.reactive(value) for key, value in start_values().items()}
    params = app.model_params(controls)
    _check_model_params(app.AppModel(), params)  # raises on an unknown or missing keyword
    adjustable, fixed = split_model_params(params)
    assert set(adjustable) == set(start_values()) and not fixed


def test_reset_passes_our_scenario_not_mesas():
    model = app.AppModel()
    kwargs = reset_kwargs(model, {**start_values(), "scenario_name": "us_escalation"})
    assert "scenario" not in kwargs, "Mesa's Scenario object must not reach the model"
    rebuilt = type(model)(**kwargs)
    assert rebuilt.problem is None
    assert rebuilt.sim.scenario_config.name == "us_escalation"


def test_reset_unwraps_controls_bound_to_reactive_variables():
    values = {key: solara.reactive(value) for key, value in start_values().items()}
    values["scenario_name"] = solara.reactive("no_lobbying")
    values["seed"] = "12"  # a control the user edited arrives as a plain value
    model = app.AppModel(**reset_kwargs(app.AppModel(), values))
    assert model.problem is None
    assert (model.scenario_name, model.sim.scenario_config.name) == ("no_lobbying", "no_lobbying")
    assert "seed 12)" in app.status_line(model)


def test_default_run_is_the_baseline_run():
    model, reference = app.AppModel(), BalancingModel(rounds=app.ROUNDS, rng=0)
    for _ in range(5):
        model.step()
        reference.step()
    assert model.steps == 5 and model.time == 5.0
    assert model.sim.rounds_table().equals(reference.rounds_table())


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("abc", "seed: must be a whole number >= 0 and < 2**63, got 'abc'"),
        ("-3", "seed: must be a whole number >= 0 and < 2**63, got -3"),
        ("", "seed: must be a whole number >= 0 and < 2**63, got ''"),
    ],
)
def test_bad_seed_gives_a_model_with_the_message(seed, message):
    model = app.AppModel(seed=seed)
    assert model.sim is None and not model.running
    assert model.problem == f"Cannot build the model: {message}"
    model.step()  # SolaraViz's Step: a no-op that keeps the model stopped
    assert not model.running


@pytest.mark.parametrize("end", ["low", "high"])
def test_extreme_slider_values_run_to_the_end(end):
    levels = {key: p.bounds[0 if end == "low" else 1] for key, p in app.LEVELS.items()}
    _, lo, hi, _ = app.TEMPERATURE
    model = app.AppModel(**levels, log10_temperature=lo if end == "low" else hi)
    assert model.problem is None
    while model.running:
        model.step()
    assert model.problem is None and model.sim.rounds_played == app.ROUNDS


def test_out_of_range_level_gives_a_one_line_message():
    model = app.AppModel(us_tariff_slope=1.5)
    assert model.problem == "Cannot build the model: us_tariff_slope: must be in [0, 1], got 1.5"
