"""The scenario language: dated events mean what they say, the guide's examples run as shown.

Every worked example of docs/scenarios.md is a file in configs/scenario/examples/ that runs
here, on both engines for one, and whose instruments take exactly the values its events
state; the guide shows each file verbatim and the table its first example prints.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.compare_scenarios import compare, format_summary
from sim.catalog import example_names, load_scenario
from sim.core.errors import ConfigError
from sim.core.params import build_params
from sim.core.scenario import scenario_from_dict
from sim.core.timeline import quarter_of_round
from sim.engine.batch import run_batch
from sim.engine.model import BalancingModel
from sim.sweep.execute import run_chunk, tidy_runs
from sim.sweep.plan import plan_sweep

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "scenarios.md"
EXAMPLES = example_names()


def _scenario(**timeline) -> dict:
    return {"name": "t", "start": "2025Q1", "timeline": timeline}


def test_the_guide_has_six_worked_examples_each_shown_verbatim():
    text = GUIDE.read_text()
    assert len(EXAMPLES) >= 6
    for name in EXAMPLES:
        marker = f"<!-- example: {name} -->"
        assert marker in text, name
        block = text.split(marker, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
        assert block == (REPO / "configs" / "scenario" / f"{name}.yaml").read_text(), name


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_runs(article, name):
    sc = load_scenario(name)
    res = run_batch(build_params(article, sc, 40, 8), np.arange(8), record_rounds=True)
    assert len(res.outcomes) == 8
    assert set(res.outcomes["outcome"]) <= {"balanced", "us", "china"}
    table = res.rounds_table(0)
    assert table["quarter"].iloc[0] == sc.start and table["scenario"].iloc[0] == sc.name


def _rounds(article, name, seeds=6, rounds=24):
    res = run_batch(
        build_params(article, load_scenario(name), rounds, seeds), np.arange(seeds), True
    )
    return res.rounds


def test_a_tariff_event_is_the_tariff_applied(article):
    r = _rounds(article, "examples/tariff_deal_2025")
    assert (r["us_tariff"][:2] == 0.24).all() and (r["us_tariff"][2:] == 0.15).all()
    assert (r["us_demand"] == 0.8).all()


def test_china_events_are_the_restriction_and_access_applied(article):
    r = _rounds(article, "examples/combined")
    in_2027 = np.zeros(24, dtype=bool)
    in_2027[8:12] = True
    assert (r["cn_restriction"][in_2027] == 0.5).all()
    assert (r["cn_access"][in_2027] == 0.8).all()
    assert (r["us_demand"][:4] == 0.6).all() and (r["us_demand"][4:] == 0.8).all()
    cut = _rounds(article, "examples/access_cut")
    assert (cut["cn_access"][5:11] == 0.7).all()


def test_an_embargo_event_is_coercive_with_its_demand(article):
    r = _rounds(article, "examples/embargo_year2")
    assert (r["cn_embargo"][4:8] == 0.5).all() and (r["cn_embargo_demand"][4:8] == 0.4).all()
    assert (r["cn_embargo"][:4] == 0).all() and (r["cn_embargo"][8:] == 0).all()
    assert np.isnan(r["cn_embargo_demand"][8:]).all()


def test_an_escalation_ramps_up_and_a_later_event_ramps_back(article):
    p = build_params(article, load_scenario("examples/us_escalation_deescalation"), 24, 1)
    slope, demand = p.tariff_level[:, 0], p.security_pressure[:, 0]
    assert slope[3] == 0.05 and slope[4] == pytest.approx(0.05 + 0.3 / 4)
    assert slope[7] == 0.35 and slope[11] == 0.35
    assert slope[12] == pytest.approx(0.35 - 0.25 / 4) and slope[15] == 0.1 and slope[23] == 0.1
    assert demand[7] == 0.9 and demand[15] == 0.6


def test_dates_quarters_years_and_rounds():
    sc = scenario_from_dict(
        _scenario(
            a={"set": "us_tariff", "level": 0.2, "from": "2026Q3"},
            b={"set": "cn_restriction", "level": 0.5, "during": 2027},
            c={"set": "cn_access", "level": 0.9, "from": 2026, "until": "2026Q2"},
            d={"set": "us_demand", "level": 0.7, "from": 3, "quarters": 5},
            e={"set": "cn_coercion", "level": 0.5, "during": "2028Q2"},
        )
    )
    t = sc.timeline
    assert (t["a"].start, t["a"].quarters) == (6, None)
    assert (t["b"].start, t["b"].quarters) == (8, 4)
    assert (t["c"].start, t["c"].quarters) == (4, 2)
    assert (t["d"].start, t["d"].quarters) == (3, 5)
    assert (t["e"].start, t["e"].quarters) == (13, 1)
    assert quarter_of_round("2025Q1", 0) == "2025Q1" and quarter_of_round("2010Q3", 6) == "2012Q1"


def test_events_on_one_instrument_apply_in_time_order_and_end(article):
    sc = scenario_from_dict(
        _scenario(
            base={"set": "us_tariff", "level": 0.24, "from": 0},
            spike={"set": "us_tariff", "level": 0.5, "from": 4, "quarters": 2},
        )
    )
    fixed = build_params(article, sc, 10, 1).fixed_us_tariff[:, 0]
    assert fixed.tolist() == [0.24] * 4 + [0.5] * 2 + [0.24] * 4


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_scenario(x={"set": "us_tarrif", "level": 0.2, "from": 0}), "timeline.x.set: unknown"),
        (_scenario(x={"set": "us_tariff", "from": 0}), "timeline.x.level: required"),
        (_scenario(x={"set": "us_tariff", "level": 1.5, "from": 0}), "timeline.x.level"),
        (_scenario(x={"set": "us_tariff", "level": 0.2}), "timeline.x.from: required"),
        (_scenario(x={"set": "us_tariff", "level": 0.2, "from": "2024Q4"}), "before the scenario"),
        (_scenario(x={"set": "us_tariff", "level": 0.2, "from": "spring"}), "expected a quarter"),
        (_scenario(x={"set": "us_tariff", "level": 0.2, "from": 4, "until": 2}), "before"),
        (
            _scenario(x={"set": "us_tariff", "level": 0.2, "from": 0, "until": 3, "quarters": 2}),
            "not both",
        ),
        (_scenario(x={"set": "cn_embargo", "level": 0.5, "from": 0}), "timeline.x.demand"),
        (
            _scenario(x={"set": "us_tariff", "level": 0.2, "from": 0, "demand": 0.3}),
            "only a cn_embargo",
        ),
        (_scenario(x={"set": "us_tariff", "level": 0.2, "from": 0, "when": 3}), "unknown event"),
        (
            {**_scenario(x={"set": "us_tariff", "level": 0.2, "from": 0}), "us_policy": "scripted"},
            "scripted",
        ),
        ({"name": "t", "start": "2025"}, "scenario.start: expected a quarter"),
        ({"name": "t", "us_tariff": 0.24}, "timeline event"),
        ({"name": "t", "embargo": {"start_round": 1, "rounds": 2}}, "embargo.red_line: required"),
        ({"name": "t", "us_tariff_level": 0.2, "us_tariff_slope": 0.3}, "not both"),
    ],
)
def test_bad_timelines_fail_in_one_line_naming_the_key(raw, message):
    with pytest.raises(ConfigError, match=message) as err:
        scenario_from_dict(raw)
    assert "\n" not in str(err.value)


def test_old_names_are_read_under_the_new_ones(article):
    old = scenario_from_dict(
        {"name": "o", "us_tariff_level": 0.2, "escalation": {"us_tariff_level": 0.4}}
    )
    assert old.us_tariff_slope == 0.2 and old.escalation.us_tariff_slope == 0.4
    sc = load_scenario("us_escalation")
    a = build_params(article, sc, 20, 2, {"escalation.us_tariff_level": [0.5, 0.7]})
    b = build_params(article, sc, 20, 2, {"escalation.us_tariff_slope": [0.5, 0.7]})
    np.testing.assert_array_equal(a.tariff_level, b.tariff_level)


def test_every_field_of_an_event_can_vary_per_world(article):
    sc = load_scenario("examples/tariff_deal_2025")
    ov = {"timeline.deal.from": [2, 4, 6], "timeline.deal.level": [0.05, 0.1, 0.2]}
    fixed = build_params(article, sc, 8, 3, ov).fixed_us_tariff
    assert fixed[:, 0].tolist() == [0.24] * 2 + [0.05] * 6
    assert fixed[:, 1].tolist() == [0.24] * 4 + [0.1] * 4
    assert fixed[:, 2].tolist() == [0.24] * 6 + [0.2] * 2
    with pytest.raises(ConfigError, match="time order"):
        build_params(article, sc, 8, 1, {"timeline.tariff.from": 3})
    with pytest.raises(ConfigError, match="no timeline event 'nope'"):
        build_params(article, sc, 8, 1, {"timeline.nope.level": 0.1})


def _plan(article, scenario, axes):
    sweep = {"name": "t", "design": "grid", "axes": axes, "replicates": 2, "chunks": 1}
    base = {"calibration": article.to_dict(), "scenario": scenario, "rounds": 12}
    return plan_sweep(sweep, base)


def test_a_sweep_varies_an_event_under_plain_column_names(article, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sc = load_scenario("examples/tariff_deal_2025")
    axes = {
        "when": {"param": "timeline.deal.from", "values": [2, 6]},
        "level": {"param": "timeline.deal.level", "values": [0.05, 0.2]},
    }
    plan = _plan(article, sc, axes)
    table = tidy_runs(plan, run_chunk(plan, 0))
    assert {"deal_from_round", "deal_level"} <= set(table.columns)
    assert len(table.query("deal_level == 0.2 and deal_from_round == 6")) == 2
    with pytest.raises(ConfigError, match="its events: tariff, deal, ask"):
        _plan(article, sc, {"x": {"param": "timeline.dael.level", "values": [0.1]}})


def test_a_sweep_refuses_a_level_that_would_only_move_a_start(article):
    with pytest.raises(ConfigError, match="only sets the level before its escalation"):
        _plan(
            article,
            load_scenario("us_escalation"),
            {"p": {"param": "us_security_pressure", "values": [0.5, 0.9]}},
        )
    with pytest.raises(ConfigError, match="vary timeline.ask.level"):
        _plan(
            article,
            load_scenario("examples/tariff_deal_2025"),
            {"p": {"param": "us_security_pressure", "values": [0.5, 0.9]}},
        )


def test_mesa_and_batch_agree_on_a_timeline(article):
    sc = dataclasses.replace(
        load_scenario("examples/combined"), us_policy="reactive", china_policy="reactive"
    )
    seeds = [0, 1, 2]
    batch = run_batch(build_params(article, sc, 16, 3), np.array(seeds), record_rounds=True)
    for k, s in enumerate(seeds):
        m = BalancingModel(sc, article, 16, rng=s)
        m.run_for(16)
        pd.testing.assert_frame_equal(
            m.rounds_table(), batch.rounds_table(k), check_exact=True, check_dtype=False
        )


def test_the_guide_shows_the_table_its_first_example_prints():
    _, summary = compare(
        ["examples/tariff_deal_2025"],
        100,
        40,
        "article",
        "batch",
        ["calibrated"],
        ["strategic", "reactive"],
    )
    assert format_summary(summary) in GUIDE.read_text()


def test_the_guide_tables_are_the_registry():
    from experiments.odd_tables import render_scenarios

    text = GUIDE.read_text()
    assert render_scenarios(text) == text
