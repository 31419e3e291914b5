"""The episode library: replays load and run alike in both engines; the observed data are tidy,
sourced and each compared quantity maps to a model column (docs/history.md).

Fast by design: a few seeds and rounds per engine comparison, one small batch per episode.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from sim.catalog import (
    MAPPED_COLUMNS,
    calibration_names,
    episode_names,
    load_calibration,
    load_episode,
    load_scenario,
    observed_table,
)
from sim.core.episodes import (
    KINDS,
    OBSERVED_COLUMNS,
    QUANTITIES,
    STATISTICS,
    model_statistic,
    round_of,
)
from sim.core.errors import ConfigError
from sim.core.params import build_params
from sim.engine.batch import run_batch
from tests.test_equivalence import _compare

EPISODES = episode_names()
#: Calibrations of other balancing states (no code names them: they are configs).
MIDDLE_POWERS = ("korea", "australia", "germany")


def test_the_library_has_the_three_episodes_and_the_three_calibrations():
    assert {"japan_2010", "korea_thaad_2016", "australia_2020"} <= set(EPISODES)
    assert set(MIDDLE_POWERS) <= set(calibration_names())


@pytest.mark.parametrize("name", EPISODES)
def test_every_episode_loads_with_its_calibration_and_both_scenarios(name):
    ep = load_episode(name)
    assert ep.round_months == 3 and isinstance(ep.start_date, dt.date)
    cal = load_calibration(ep.calibration)
    for sc in (load_scenario(ep.scenario), load_scenario(ep.counterfactual)):
        build_params(cal, sc, ep.rounds, 2)


@pytest.mark.parametrize("name", EPISODES)
@pytest.mark.parametrize("which", ["scenario", "counterfactual"])
def test_episode_replays_agree_between_mesa_and_batch(name, which):
    ep = load_episode(name)
    _compare(load_calibration(ep.calibration), load_scenario(getattr(ep, which)), 12, [0, 1, 2])


@pytest.mark.parametrize("calibration", MIDDLE_POWERS)
@pytest.mark.parametrize("scenario", ["baseline", "us_escalation"])
def test_other_middle_powers_run_alike_in_both_engines(calibration, scenario):
    _compare(load_calibration(calibration), load_scenario(scenario), 12, [0, 1])


@pytest.mark.parametrize("calibration", MIDDLE_POWERS)
def test_no_entry_of_another_country_is_the_articles_figure_about_japan(calibration):
    cal = load_calibration(calibration)
    article = [k for k, e in cal.entries.items() if e.source_kind == "article"]
    assert not article, article
    for firm in cal.firms.values():
        assert all(e.source_kind != "article" for e in firm.values())


def test_no_code_names_the_other_countries():
    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"korea|australia|germany|german", re.IGNORECASE)
    files = [*root.joinpath("sim").rglob("*.py"), root / "experiments" / "history.py"]
    named = [str(f) for f in files if pattern.search(f.read_text())]
    assert not named, named


# --- the observed data ------------------------------------------------------------------------
def test_the_observed_table_is_tidy_and_every_row_has_a_source():
    t = observed_table()
    assert tuple(t.columns) == (*OBSERVED_COLUMNS, *MAPPED_COLUMNS)
    assert set(t["episode"]) <= set(EPISODES)
    assert set(t["kind"]) <= set(KINDS)
    for key in ("quantity", "unit", "source", "date"):
        assert (t[key].str.strip() != "").all(), key
    assert t["source"].str.contains(r"https?://|\d{4}").all()
    assert np.isfinite(t["value"].astype(float)).all()
    assert (t["round"] <= t["round_end"]).all() and (t["round"] >= 0).all()


@pytest.mark.parametrize("name", EPISODES)
def test_every_episode_has_observed_outcomes_to_compare(name):
    t = observed_table(name)
    assert (t["kind"] == "outcome").sum() >= 2


@pytest.mark.parametrize("name", EPISODES)
def test_each_observed_quantity_maps_to_a_model_column(name):
    ep = load_episode(name)
    cal = load_calibration(ep.calibration)
    runs = []
    for sc_name in (ep.scenario, ep.counterfactual):
        p = build_params(cal, load_scenario(sc_name), ep.rounds, 3)
        runs.append(run_batch(p, np.arange(3), record_rounds=True).rounds)
    rows = observed_table(name)
    rows = rows[rows["kind"] != "context"]
    assert len(rows)
    for _, row in rows.iterrows():
        assert row["quantity"] in QUANTITIES and row["statistic"] in STATISTICS
        assert row["column"] in runs[0], row["column"]
        assert row["round_end"] < ep.rounds
        if row["divide_by"]:
            assert row["divide_by"] in cal.entries
        v = model_statistic(
            row["statistic"], row["column"], runs[0], runs[1], row["round"], row["round_end"]
        )
        assert v.shape == (3,) and np.isfinite(v).all(), (row["quantity"], v)


def test_context_rows_need_no_model_measure_but_compared_rows_do(tmp_path, monkeypatch):
    (tmp_path / "episode").mkdir()
    rows = [
        "japan_2010,no_such_channel,context,2011-01-01,,1,units,A citation 2011,",
        "japan_2010,no_such_channel,outcome,2011-01-01,,1,units,A citation 2011,",
    ]
    path = tmp_path / "episode" / "observed.csv"
    path.write_text(",".join(OBSERVED_COLUMNS) + "\n" + rows[0] + "\n")
    monkeypatch.setenv("BALANCING_SIM_CONFIG_PATH", str(tmp_path))
    assert "no_such_channel" in set(observed_table("japan_2010")["quantity"])
    path.write_text(",".join(OBSERVED_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(ConfigError, match=r"observed.csv, row 3.quantity.*kind 'context'"):
        observed_table()


def test_a_row_without_a_source_is_refused_by_name(tmp_path, monkeypatch):
    (tmp_path / "episode").mkdir()
    (tmp_path / "episode" / "observed.csv").write_text(
        ",".join(OBSERVED_COLUMNS) + "\njapan_2010,conceded,outcome,2011-01-01,,0,1 yes / 0 no,,\n"
    )
    monkeypatch.setenv("BALANCING_SIM_CONFIG_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=r"row 2.source: missing"):
        observed_table()


# --- dates, rounds and statistics by hand -----------------------------------------------------
def test_dates_map_to_quarters_from_the_start():
    start = dt.date(2010, 7, 1)
    assert round_of(start, dt.date(2010, 9, 30)) == 0
    assert round_of(start, dt.date(2010, 10, 1)) == 1
    assert round_of(start, dt.date(2012, 6, 30)) == 7
    assert round_of(start, dt.date(2008, 12, 31)) < 0


def test_statistics_by_hand():
    x = np.array([[0.5, 0.2], [0.3, 0.2], [0.1, 0.6]])  # 3 rounds, 2 worlds
    line = np.array([[0.25, 0.25], [0.25, 0.25], [0.25, 0.25]])
    known = np.array([[0, 0], [1, 1], [1, 1]])
    replay = {"c": x, "cn_red_line": line, "cn_red_line_known": known}
    quiet = {"c": np.ones_like(x)}
    np.testing.assert_allclose(model_statistic("mean", "c", replay, None, 1, 2), [0.2, 0.4])
    np.testing.assert_allclose(model_statistic("sum", "c", replay, None, 0, 2), [0.9, 1.0])
    np.testing.assert_allclose(
        model_statistic("loss_vs_counterfactual", "c", replay, quiet, 0, 1), [1.2, 1.6]
    )
    np.testing.assert_allclose(model_statistic("conceded", "c", replay, None, 0, 2), [0.5, 0.5])
    sides = {"s": np.array([[0, 0], [2, 1]])}
    np.testing.assert_allclose(
        model_statistic("sided_with_china", "s", sides, None, 0, 1), [1.0, 0.0]
    )
