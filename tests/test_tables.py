"""Tidy outputs: keyed per-round tables, categories as strings, units everywhere, xarray/netCDF,
and summaries with counts and Wilson intervals a reader can trust."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from sim.core.records import ROUND_COLUMNS
from sim.core.tables import to_dataset, write_netcdf
from sim.engine.runner import run_set, run_single, summarize_outcomes
from sim.sweep.storage import atomic_write_parquet, read_table, unit_metadata


@pytest.fixture(scope="module")
def mesa_run(article, scenarios):
    return run_single(article, scenarios["rare_earth_embargo"], 12, 5, "mesa")


def test_a_per_round_table_is_keyed_and_named(mesa_run):
    rounds = mesa_run.rounds
    assert list(rounds.columns[:5]) == ["scenario", "calibration", "seed", "round", "quarter"]
    assert set(rounds["scenario"]) == {"rare_earth_embargo"} and set(rounds["seed"]) == {5}
    assert rounds["quarter"].astype(str).tolist()[:5] == [
        "2025Q1",
        "2025Q2",
        "2025Q3",
        "2025Q4",
        "2026Q1",
    ]
    for col in ("posture", "breakdown_side", "breakdown_channel", "rupture_side"):
        assert isinstance(rounds[col].dtype, pd.CategoricalDtype), col
        assert rounds[col].dtype.categories.dtype == object
    assert set(rounds["posture"].cat.categories) == {"balancing", "us", "china"}
    assert rounds["jp_inertia"].dtype == bool and rounds["cn_red_line_known"].dtype == bool
    assert rounds["seed"].dtype == np.int64 and rounds["round"].dtype == np.int64
    units = rounds.attrs["units"]
    assert set(units) == set(rounds.columns)
    assert set(ROUND_COLUMNS) <= set(units)


def test_the_agents_table_names_each_action(mesa_run):
    agents = mesa_run.agents
    assert {"scenario", "seed", "round", "quarter", "agent", "action", "action_level"} <= set(
        agents.columns
    )
    actions = dict(zip(agents["agent"].astype(str), agents["action"].astype(str), strict=False))
    assert actions["United States"] == "us_tariff" and actions["China"] == "cn_restriction"
    assert actions["Japan"] == "jp_compliance" and actions["toyota"] == "lobbying_effort"
    assert set(agents.attrs["units"]) == set(agents.columns)


def test_units_survive_a_parquet_round_trip(mesa_run, tmp_path):
    path = tmp_path / "rounds.parquet"
    atomic_write_parquet(path, mesa_run.rounds, unit_metadata(mesa_run.rounds))
    back = read_table(path)
    assert back.attrs["units"] == mesa_run.rounds.attrs["units"]
    assert isinstance(back["posture"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(back, mesa_run.rounds)


def test_a_run_set_is_an_xarray_dataset_and_a_netcdf_file(article, tmp_path):
    import xarray as xr

    rs = run_set(["baseline", "examples/access_cut"], range(3), 10, article, record_rounds=True)
    assert {"scenario", "calibration", "seed", "breakdown_quarter"} <= set(rs.outcomes.columns)
    assert set(rs.outcomes.columns) == set(rs.outcomes.attrs["units"])
    assert set(rs.summary.columns) - {"scenario"} == set(rs.summary.attrs["units"])
    ds = rs.dataset(["jp_compliance", "us_tariff", "posture"])
    assert dict(ds.sizes) == {"world": 6, "round": 10}
    assert ds["quarter"].values[4] == "2026Q1"
    assert sorted(set(ds["scenario"].values)) == ["baseline", "examples/access_cut"]
    assert ds["jp_compliance"].attrs["units"].startswith("Japan's export-control compliance")
    assert set(np.unique(ds["posture"].values)) <= {"balancing", "us", "china"}
    back = xr.open_dataset(write_netcdf(ds, tmp_path / "runs.nc"), engine="scipy")
    np.testing.assert_array_equal(back["jp_compliance"].values, ds["jp_compliance"].values)
    assert list(back["posture"].values[0]) == list(ds["posture"].values[0])
    back.close()
    frame = to_dataset(rs.rounds).to_dataframe()
    assert len(frame) == 60


def test_a_summary_counts_runs_and_gives_wilson_intervals():
    # 1 breakdown in 200: not "100% balanced", and its median round says it is one run.
    outcomes = pd.DataFrame(
        {
            "scenario": ["x"] * 200,
            "outcome": ["us"] + ["balanced"] * 199,
            "rupture": ["none"] * 200,
            "breakdown_round": [7] + [-1] * 199,
        }
    )
    s = summarize_outcomes(outcomes).iloc[0]
    assert s["runs"] == 200 and s["n_balanced"] == 199 and s["n_toward_us"] == 1
    assert s["n_broke"] == 1 and s["median_breakdown_round"] == 7
    low, high = proportion_confint(199, 200, alpha=0.05, method="wilson")
    assert (s["balanced_ci_low"], s["balanced_ci_high"]) == (low, high)
    table = summarize_outcomes(outcomes)
    for col in ("runs", "n_balanced", "n_broke"):
        assert table[col].dtype == np.int64
    assert "200.0" not in table.to_csv(index=False)
    from experiments.text_tables import median_cell, share_of

    assert share_of(s, "balanced").split() == ["199", "99.5%", "[97.2-99.9]"]
    assert median_cell(s) == "7 (of 1)"


def test_a_sweep_keeps_trajectories_for_a_fan_chart(article, scenarios, tmp_path):
    from sim.sweep.execute import load_runs, load_trajectories, run_sweep, sweep_dataset
    from sim.sweep.plan import plan_sweep

    sweep = {
        "name": "fan",
        "design": "grid",
        "axes": {"t": {"param": "escalation.us_tariff_slope", "values": [0.2, 0.8]}},
        "replicates": 3,
        "chunks": 2,
        "trajectories": ["jp_compliance", "posture"],
        "output_dir": str(tmp_path),
    }
    base = {"calibration": article.to_dict(), "scenario": scenarios["us_escalation"], "rounds": 8}
    plan = plan_sweep(sweep, base)
    run_sweep(plan, progress=False)
    runs, traj = load_runs(plan.folder), load_trajectories(plan.folder)
    assert runs.attrs["sweep_columns"] == ["us_tariff_end"] and "us_tariff_end" in traj
    assert len(traj) == 6 * 8 and list(traj.columns[:4]) == ["run_id", "point", "replicate", "seed"]
    assert isinstance(traj["posture"].dtype, pd.CategoricalDtype)
    assert traj.attrs["units"]["us_tariff_end"] == "ad-valorem share at a full shortfall"
    ds = sweep_dataset(plan.folder, ["jp_compliance"])
    assert dict(ds.sizes) == {"world": 6, "round": 8}
    fan = ds["jp_compliance"].groupby("us_tariff_end").quantile([0.05, 0.5, 0.95], dim="world")
    assert fan.sizes["us_tariff_end"] == 2 and not np.isnan(fan.values).any()
    with pytest.raises(Exception, match="trajectories"):
        plan_sweep({**sweep, "trajectories": ["nope"]}, base)
