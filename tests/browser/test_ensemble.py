"""What the app computes, without a browser (sim/viz/ensemble.py, controls.py, charts.py).

Fast (no marker): the numbers behind the page are checked against the model's own entry points
(``compare_scenarios``, ``run_seeds``, the Mesa model, a sweep folder) so the browser tests only
need to check that the page shows them.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sim.catalog import load_calibration, load_scenario
from sim.core.constraints import parse_seed
from sim.core.errors import ConfigError
from sim.core.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.core.registry import SCENARIO_PARAMETERS
from sim.core.scenario import scenario_from_dict
from sim.engine.model import BalancingModel
from sim.engine.runner import compare_scenarios, run_seeds
from sim.viz import charts, controls, ensemble

SEEDS = 100


def summary_of(
    name: str,
    noise: str,
    seeds: int = SEEDS,
    overrides: dict | None = None,
    states: str | None = None,
):
    cal = load_calibration("article")
    if noise != "calibrated":
        cal = cal.near_best_response(ensemble.NOISE_FACTORS[noise])
    _, summary = compare_scenarios(
        [name], range(seeds), calibration=cal, overrides={name: overrides or {}}, states=states
    )
    return summary.iloc[0]


@pytest.mark.parametrize("noise", list(ensemble.NOISE_FACTORS))
@pytest.mark.parametrize("name", ["baseline", "us_escalation"])
def test_ensemble_matches_compare_scenarios(name, noise):
    s = ensemble.Settings(scenario=name, noise=noise, seeds=SEEDS)
    expected = summary_of(name, noise)
    got = ensemble.run_ensemble(s).summary()
    assert got.drop("scenario").equals(expected.drop("scenario"))
    assert ensemble.headline(s).drop("scenario").equals(expected.drop("scenario"))


@pytest.mark.parametrize(
    ("states", "noise"),
    [("reactive", "calibrated"), ("reactive", "near best response"), ("strategic", "calibrated")],
)
def test_states_control_is_compare_scenarios_states(states, noise):
    """The states control sets both policies as ``compare_scenarios(..., states=...)`` does."""
    s = ensemble.Settings(scenario="us_escalation", noise=noise, seeds=SEEDS, states=states)
    expected = summary_of("us_escalation", noise, states=states)
    assert ensemble.run_ensemble(s).summary().drop("scenario").equals(expected.drop("scenario"))
    assert ensemble.headline(s).drop("scenario").equals(expected.drop("scenario"))
    sc = ensemble.scenario_of(s)
    assert (sc.us_policy, sc.china_policy) == (states, states)
    if states == "strategic":  # the named scenarios' own: the same worlds as no setting
        own = ensemble.run_ensemble(replace(s, states=None)).summary()
        assert own.drop("scenario").equals(expected.drop("scenario"))


def test_reactive_states_carry_out_the_escalation_and_the_page_says_so():
    strategic = ensemble.Settings(scenario="us_escalation", seeds=SEEDS)
    reactive = replace(strategic, states="reactive")
    p_strategic = ensemble.run_ensemble(strategic).events().set_index("event")["share"]
    p_reactive = ensemble.run_ensemble(reactive).events().set_index("event")["share"]
    assert p_strategic["breakdown"] < 0.1 < 0.5 < p_reactive["toward_us"]  # ODD 9.3: ~1% / ~81%
    assert ensemble.states_text(strategic) == "strategic states (the scenario's own)"
    assert ensemble.states_text(reactive) == (
        "reactive states (the scenario's own: strategic states)"
    )
    assert reactive.label() == "us_escalation (article, calibrated noise, reactive states)"
    episode = ensemble.Settings(scenario="australia_2020")
    assert ensemble.states_text(episode) == "US strategic, China scripted (the scenario's own)"
    with pytest.raises(ConfigError, match="states: must be one of strategic, reactive"):
        ensemble.check_settings(ensemble.Settings(states="scripted"))


def test_the_single_run_and_the_phase_map_run_the_states_chosen():
    s = ensemble.Settings(scenario="us_escalation", seeds=5, states="reactive")
    ens = ensemble.run_ensemble(s)
    cal, sc, overrides = ensemble.load_inputs(s)  # what the single-run view builds its model from
    model = BalancingModel(sc, cal, 40, overrides=overrides, rng=0)
    model.run_for(40)
    np.testing.assert_array_equal(
        ens.rounds["us_tariff"][:, 0], model.rounds_table()["us_tariff"].to_numpy()
    )
    spec = ensemble.phase_spec(s, "cn_coercion", "us_security_pressure", (2, 10))
    table = ensemble.phase_grid(spec)
    row = table.iloc[3]
    cell = replace(s, seeds=10).with_levels({spec.x: row["x"], spec.y: row["y"]})
    _, summary = compare_scenarios(
        ["us_escalation"],
        range(10),
        overrides={"us_escalation": {spec.x: row["x"], spec.y: row["y"]}},
        states="reactive",
    )
    assert int(row["breakdowns"]) == broken(summary.iloc[0])
    assert ensemble.run_ensemble(cell).summary()["n_balanced"] == summary.iloc[0]["n_balanced"]


def broken(summary: pd.Series) -> int:
    """Runs that broke down in a summary row of compare_scenarios."""
    return int(summary["runs"]) - int(summary["n_balanced"])


def test_moved_levels_are_overrides_as_in_compare_scenarios():
    levels = {"escalation.us_tariff_slope": 1.0, "cn_coercion": 0.5}
    s = ensemble.Settings(scenario="us_escalation", seeds=SEEDS).with_levels(levels)
    expected = summary_of("us_escalation", "calibrated", overrides=levels)
    assert ensemble.run_ensemble(s).summary().drop("scenario").equals(expected.drop("scenario"))


def test_outcomes_are_run_seeds_and_world_k_is_the_mesa_model_seeded_k():
    s = ensemble.Settings(scenario="rare_earth_embargo", seeds=20, base_seed=7)
    ens = ensemble.run_ensemble(s)
    cal, sc, _ = ensemble.load_inputs(s)
    expected = run_seeds(cal, sc, 40, range(7, 27))
    pd.testing.assert_frame_equal(ens.outcomes, expected)
    model = BalancingModel(sc, cal, 40, rng=7)
    model.run_for(40)
    table = model.rounds_table()
    for col in ("jp_compliance", "alignment", "trust_cn"):
        np.testing.assert_array_equal(ens.rounds[col][:, 0], table[col].to_numpy())


def test_near_best_response_divides_a_moved_japan_temperature_too():
    s = ensemble.Settings(noise="near best response").with_levels({"japan_temperature": 0.2})
    cal, _, overrides = ensemble.load_inputs(s)
    assert overrides["japan_temperature"] == pytest.approx(0.02)
    assert cal.value("compliance_temperature") == pytest.approx(0.005)


def test_fan_is_numpys_quantiles_and_survival_counts_breakdowns():
    ens = ensemble.run_ensemble(ensemble.Settings(scenario="us_escalation", seeds=SEEDS))
    fan = ens.fan(["jp_compliance", "us_payoff_bn_q"])
    for col in ("jp_compliance", "us_payoff_bn_q"):
        q = np.quantile(ens.rounds[col], list(ensemble.QUANTILES.values()), axis=1)
        sub = fan[fan["column"] == col]
        for i, name in enumerate(ensemble.QUANTILES):
            np.testing.assert_allclose(sub[name].to_numpy(), q[i], rtol=0, atol=1e-12)
        np.testing.assert_allclose(sub["mean"].to_numpy(), ens.rounds[col].mean(axis=1))
    surv = ens.survival()
    br = ens.outcomes["breakdown_round"].to_numpy()
    assert surv["surviving"].iloc[-1] == int((br < 0).sum())
    assert surv["surviving"].is_monotonic_decreasing
    events = ens.events().set_index("event")
    assert events.loc["breakdown", "count"] == int((br >= 0).sum())
    assert (events["ci_low"] <= events["share"]).all()
    assert (events["share"] <= events["ci_high"]).all()


def test_wilson_and_newcombe_intervals():
    lo, hi = ensemble.wilson_interval(0, 50)
    assert lo == 0.0 and 0.05 < hi < 0.08
    lo, hi = ensemble.wilson_interval(50, 50)
    assert hi == 1.0
    # The closed form (Wilson 1927) at a few counts.
    k, n, z = np.array([1, 7, 30]), np.array([40, 40, 31]), ensemble.Z95
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    lo, hi = ensemble.wilson_interval(k, n)
    np.testing.assert_allclose(lo, centre - half, rtol=1e-12)
    np.testing.assert_allclose(hi, centre + half, rtol=1e-12)
    d = ensemble.difference(98, 200, 50, 200)
    assert d.diff == pytest.approx(0.24)
    assert d.low < 0.24 < d.high
    assert (
        ensemble.difference(10, 100, 10, 100).low < 0 < ensemble.difference(10, 100, 10, 100).high
    )


def test_bad_settings_are_one_line_errors():
    with pytest.raises(ConfigError, match="base seed: must be a whole number"):
        parse_seed("base seed", "abc")
    with pytest.raises(ConfigError, match="noise"):
        ensemble.check_settings(ensemble.Settings(noise="loud"))
    with pytest.raises(ConfigError, match="us_tariff_slope: must be in"):
        ensemble.run_ensemble(ensemble.Settings(seeds=5).with_levels({"us_tariff_slope": 1.5}))
    with pytest.raises(ConfigError, match="two different levers"):
        ensemble.phase_spec(ensemble.Settings(), "cn_coercion", "cn_coercion", ensemble.COARSE)
    with pytest.raises(ConfigError, match="not a lever"):
        ensemble.phase_spec(
            ensemble.Settings(), "escalation.us_tariff_slope", "cn_coercion", ensemble.COARSE
        )


def test_phase_grid_cells_are_ensembles_at_those_levels():
    s = ensemble.Settings(scenario="us_escalation")
    spec = ensemble.phase_spec(s, *ensemble.default_levers(load_scenario("us_escalation")), (3, 10))
    table = ensemble.phase_grid(spec)
    assert len(table) == 9 and (table["runs"] == 10).all()
    row = table.iloc[7]
    cell = ensemble.Settings(scenario="us_escalation", seeds=10).with_levels(
        {spec.x: row["x"], spec.y: row["y"]}
    )
    assert ensemble.run_ensemble(cell).events().set_index("event").loc["breakdown", "count"] == int(
        row["breakdowns"]
    )


def test_sweep_folder_map_and_cell_ensemble_agree(sweep_folder):
    phase = ensemble.load_sweep_phase(sweep_folder)
    assert (phase.x, phase.y) == ("escalation.us_tariff_slope", "escalation.us_security_pressure")
    assert len(phase.table) == 6 and phase.seeds == tuple(range(3, 13))
    for _, row in phase.table.iterrows():
        ens = ensemble.sweep_cell_ensemble(phase, row["x"], row["y"])
        s = ens.summary()
        assert s["n_toward_us"] == row["toward_us"] and s["runs"] == row["runs"]


def test_a_folder_that_is_not_a_finished_grid_sweep_is_a_one_line_error(tmp_path):
    with pytest.raises(ConfigError, match="not a sweep folder"):
        ensemble.load_sweep_phase(tmp_path)
    with pytest.raises(ConfigError, match="give the folder"):
        ensemble.load_sweep_phase("  ")


def test_escalation_controls_set_the_end_levels():
    cal = load_calibration("article")
    esc = {c.name: c for c in controls.controls_for(load_scenario("us_escalation"), cal, 40)}
    assert esc["escalation.us_tariff_slope"].default == 0.35
    assert esc["escalation.us_tariff_slope"].label == "US tariff slope at end of escalation"
    assert esc["us_tariff_slope"].label == "US tariff slope before the escalation"
    base = {c.name for c in controls.controls_for(load_scenario("baseline"), cal, 40)}
    assert base == {n for n in SCENARIO_PARAMETERS if "." not in n}
    assert esc["escalation.start_round"].high == 39 and esc["escalation.ramp_rounds"].high == 40


def test_timeline_in_words():
    reactive = load_scenario("us_escalation", us_policy="reactive", china_policy="reactive")
    lines = controls.timeline(reactive, {"escalation.us_tariff_slope": 1.0})
    assert (
        "From round 4 (quarter 5) the US ramps its tariff to 100% and its demand to 0.90 over "
        "12 quarters (tariff up from 5%, demand up from 0.60), reaching them in round 15 and "
        "holding them after."
    ) in lines
    assert any("China restricts rare earths by 0.30 of the room" in line for line in lines)
    # Strategic states (the scenario's own) scale the severity they are given.
    strategic = controls.timeline(load_scenario("us_escalation"), {}, load_calibration("article"))
    assert any("the US ramps the tariff severity it may scale to 35%" in x for x in strategic)
    assert any(
        "each quarter it scales its tariff threat (0-2x a tariff of 5%" in x for x in strategic
    )
    assert any("each quarter it scales its coercion (0-2x" in x for x in strategic)
    assert any(
        "a deal with the US (none, half or all of a $55bn-a-year pledge; a full deal removes 40%"
        in x
        for x in strategic
    )
    # A start above the end is a ramp down, and says so.
    down = controls.timeline(load_scenario("us_escalation"), {"us_tariff_slope": 0.5})
    assert any("(tariff down from 50%, demand up from 0.60)" in line for line in down)
    # A coercive embargo (the default) lifts on concession; a punitive one holds.
    embargo = controls.timeline(load_scenario("rare_earth_embargo"))
    assert any(
        "From round 8 (quarter 9) China withholds 50% of its rare-earth exports for 6 quarters "
        "(to round 13) unless Japan concedes: the embargo lifts in any quarter Japan's compliance "
        "is at or below China's demand of 0.25" in line
        for line in embargo
    )
    assert not any("red line of" in line for line in embargo)
    punitive = controls.timeline(load_scenario("japan_2010_halt"))
    assert any("for 1 quarter (to round 1) whatever Japan does" in line for line in punitive)


def test_slider_help_says_what_a_strategic_state_scales():
    cal = load_calibration("article")
    strategic = {c.name: c for c in controls.controls_for(load_scenario("us_escalation"), cal, 40)}
    reactive_sc = load_scenario("us_escalation", us_policy="reactive", china_policy="reactive")
    reactive = {c.name: c for c in controls.controls_for(reactive_sc, cal, 40)}
    for name, state in (("escalation.us_tariff_slope", "the US"), ("cn_coercion", "China")):
        assert f"Strategic states: the severity {state} may scale (0-2x" in (
            strategic[name].description
        )
        assert "Strategic states" not in reactive[name].description
    assert "Strategic states" not in strategic["escalation.us_security_pressure"].description
    assert controls.group_note("United States", load_scenario("us_escalation")) == (
        "Strategic: the US scales these tariff levels by 0-2x each quarter (the severity it may "
        "use, not what it sets)."
    )
    assert controls.group_note("China", reactive_sc).startswith("Reactive: China applies")
    assert "scripted" in controls.group_note("China", load_scenario("australia_2020")).lower()
    assert controls.group_note("Japan", reactive_sc) is None
    embargo = {
        c.name: c for c in controls.controls_for(load_scenario("rare_earth_embargo"), cal, 40)
    }
    assert embargo["embargo.red_line"].label == "Embargo's demand (lifts at or below)"


def test_explanation_has_the_rules_numbers():
    text = controls.explanation(load_calibration("article"))
    assert "for 4 quarters in a row" in text and "at least 25%" in text and "0.1 or below" in text


def test_saved_scenario_yaml_is_a_valid_self_contained_scenario():
    import yaml

    levels = {"escalation.us_tariff_slope": 0.6, "escalation.start_round": 2.0}
    text = controls.scenario_yaml(load_scenario("us_escalation"), levels, "mine")
    sc = scenario_from_dict(yaml.safe_load(text))
    assert sc.name == "mine" and sc.escalation.us_tariff_slope == 0.6
    assert sc.escalation.start_round == 2 and isinstance(sc.escalation.start_round, int)
    with pytest.raises(ConfigError, match="no spaces"):
        controls.scenario_yaml(load_scenario("baseline"), {}, "my scenario")


def test_a_timeline_scenario_in_words_and_saved_unchanged():
    """Dated events are listed with their dates and meanings, and a timeline scenario saved
    from the page reads back to the same scenario (events in rounds)."""
    import yaml

    sc = load_scenario("examples/combined")
    lines = controls.timeline(sc)
    assert (
        "halt: from 2027Q1 (round 8) for 4 quarters, cn_restriction is 0.5 "
        "[share of rare earths withheld] whatever Japan does." in lines
    )
    assert any(line.startswith("ask: from 2026Q1 (round 4), us_demand is 0.8") for line in lines)
    assert not any("whatever Japan does" in line for line in lines if line.startswith("ask:"))
    text = controls.scenario_yaml(sc, {"cn_coercion": 0.4}, "mine")
    saved = scenario_from_dict(yaml.safe_load(text))
    assert saved.timeline == sc.timeline and saved.cn_coercion == 0.4
    assert ensemble.scenario_with_levels(sc, {}).timeline == sc.timeline


def test_saved_scenario_yaml_carries_the_states():
    import yaml

    s = ensemble.Settings(scenario="us_escalation", states="reactive").with_levels(
        {"cn_coercion": 0.5}
    )
    text = controls.scenario_yaml(ensemble.scenario_of(s), s.level_dict(), "mine")
    assert "reactive states" in text.splitlines()[0]
    saved = scenario_from_dict(yaml.safe_load(text))
    shipped = load_scenario("us_escalation", us_policy="reactive", china_policy="reactive")
    want = ensemble.scenario_with_levels(shipped, {"cn_coercion": 0.5})
    assert replace(saved, name=want.name, description=want.description) == want


def test_every_panel_series_is_a_recorded_column():
    firms = load_calibration("article").firm_names
    known = set(ROUND_COLUMNS) | {f"{f}_{c}" for f in firms for c in FIRM_COLUMNS}
    pans = charts.panels(firms)
    assert all(s.column in known for p in pans for s in p.series)
    assert sum(len(p.series) for p in pans) >= 17
    deal = next(p for p in pans if p.key == "deal")
    assert [s.column for s in deal.series] == ["jp_deal"]  # Japan's deal with the US
    assert deal.line == "mean"  # a choice among three levels: its median hides how often
    spec = json.loads(charts.fan_spec(deal, firms))
    assert spec["layer"][-1]["encoding"]["y"]["field"] == "mean"


def test_one_colour_per_actor_in_every_panel():
    firms = load_calibration("article").firm_names
    colours: dict[str, set[str]] = {}
    for p in charts.panels(firms):
        spec = json.loads(charts.fan_spec(p, firms))
        scale = spec["layer"][-1]["encoding"]["stroke"]["scale"]
        for s, colour in zip(scale["domain"], scale["range"], strict=True):
            actor = next(x.actor for x in p.series if x.label == s)
            colours.setdefault(actor, set()).add(colour)
    assert all(len(c) == 1 for c in colours.values()), colours
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)


def test_chart_csvs_are_the_tables_drawn():
    ens = ensemble.run_ensemble(ensemble.Settings(seeds=SEEDS))
    items = {c.chart_id: c for c in charts.ensemble_charts(ens)}
    drawn = json.loads(items["compliance"].data)["fan"]
    table = pd.read_csv(pd.io.common.StringIO(items["compliance"].csv()))
    assert len(drawn) == len(table) == 3 * 40
    np.testing.assert_allclose(
        [r["q50"] for r in drawn], table["q50"].to_numpy(), rtol=0, atol=1e-6
    )
    events = pd.read_csv(pd.io.common.StringIO(items["breakdown"].csv()))
    assert (
        events.set_index("event").loc["breakdown", "count"]
        == ens.summary()["runs"] - ens.summary()["n_balanced"]
    )
