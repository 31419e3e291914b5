"""Analysis of sweep tables: Wilson intervals, tipping points, survival, Sobol indices, PRIM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from experiments import analysis as A
from sim.catalog import CONF_DIR as CONFIG_DIR
from sim.cli.launch import sweep_plan
from sim.cli.schema import register_configs
from sim.sweep.design import ParamRange, run_table, sobol_design
from sim.sweep.execute import run_sweep

REPO = Path(__file__).resolve().parents[1]
register_configs()


def synthetic_runs(p_of_x, xs, n: int, seed: int, extra: dict | None = None) -> pd.DataFrame:
    """Runs whose breakdown is Bernoulli(p(x)) at each grid value x, n runs per value."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.asarray(xs, dtype=float), n)
    broke = rng.random(len(x)) < p_of_x(x)
    out = pd.DataFrame(
        {
            "x": x,
            "outcome": np.where(broke, "us", "balanced"),
            "breakdown_round": np.where(broke, 5, -1),
            "rounds": 40,
        }
    )
    for k, v in (extra or {}).items():
        out[k] = v
    return out


def test_wilson_interval_matches_known_values():
    lo, hi = A.wilson_interval(np.array([0, 10, 20]), np.array([20, 20, 20]))
    np.testing.assert_allclose(lo, [0.0, 0.299298, 0.838875], atol=1e-5)
    np.testing.assert_allclose(hi, [0.161125, 0.700702, 1.0], atol=1e-5)


def test_tipping_point_recovers_a_known_threshold():
    threshold = 0.37
    xs = np.linspace(0.0, 1.0, 21)
    runs = synthetic_runs(lambda x: 1 / (1 + np.exp(-(x - threshold) / 0.05)), xs, n=400, seed=1)
    tip = A.tipping_points(runs, "x", n_boot=500, seed=0)
    (row,) = tip.itertuples()
    assert row.direction == "up" and row.support > 0.95
    assert row.ci_low <= threshold <= row.ci_high
    assert abs(row.tipping_point - threshold) < 0.02 and row.ci_high - row.ci_low < 0.05
    again = A.tipping_points(runs, "x", n_boot=500, seed=0)
    pd.testing.assert_frame_equal(tip, again)  # deterministic given the seed


def test_tipping_points_per_group_down_crossings_and_no_crossing():
    xs = np.linspace(0.0, 1.0, 11)
    up = synthetic_runs(lambda x: (x > 0.6).astype(float), xs, 50, 2, {"g": "up"})
    down = synthetic_runs(lambda x: (x < 0.25).astype(float), xs, 50, 3, {"g": "down"})
    flat = synthetic_runs(lambda x: np.full_like(x, 0.1), xs, 50, 4, {"g": "flat"})
    tip = A.tipping_points(pd.concat([up, down, flat], ignore_index=True), "x", by="g", n_boot=200)
    rows = {r.g: r for r in tip.itertuples()}
    assert rows["up"].direction == "up" and 0.5 < rows["up"].tipping_point < 0.7
    assert rows["down"].direction == "down" and 0.2 <= rows["down"].tipping_point <= 0.3
    assert rows["flat"].direction == "none" and np.isnan(rows["flat"].tipping_point)
    # an exact 0.5 at a grid value is one crossing, located at that value
    half = synthetic_runs(lambda x: np.clip(x, 0, 1), [0.0, 0.5, 1.0], 2, 0)
    half["breakdown_round"] = [-1, -1, 3, -1, 3, 3]
    (r,) = A.tipping_points(half, "x", n_boot=10).itertuples()
    assert r.direction == "up" and r.tipping_point == 0.5


def test_probability_and_side_split_tables_are_tidy():
    runs = synthetic_runs(lambda x: x, [0.2, 0.8], 100, 5)
    runs.loc[runs.index[::7], "outcome"] = "china"
    runs.loc[runs["outcome"] == "china", "breakdown_round"] = 2
    cells = A.breakdown_probability(runs, "x")
    assert list(cells.columns) == ["x", "runs", "events", "p_breakdown", "ci_low", "ci_high"]
    assert (cells["ci_low"] <= cells["p_breakdown"]).all() and (
        cells["p_breakdown"] <= cells["ci_high"]
    ).all()
    sides = A.side_split(runs, "x")
    assert set(sides["side"]) == {"balanced", "us", "china"} and len(sides) == 6
    np.testing.assert_allclose(sides.groupby("x")["share"].sum(), 1.0)
    overall = A.side_split(runs)
    assert overall["count"].sum() == len(runs) and list(overall["side"]) == [
        "balanced",
        "us",
        "china",
    ]


def test_kaplan_meier_is_censored_at_the_horizon():
    runs = pd.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 4,
            "outcome": [
                "us",
                "us",
                "balanced",
                "balanced",
                "china",
                "balanced",
                "balanced",
                "balanced",
            ],
            "breakdown_round": [5, 5, -1, -1, 10, -1, -1, -1],
            "rounds": 20,
        }
    )
    curves, medians = A.survival(runs, "g")
    a = curves[curves["g"] == "a"].set_index("time")["survival"]
    assert a.loc[4.0] == 1.0 and a.loc[5.0] == 0.5 and a.loc[20.0] == 0.5
    b = curves[curves["g"] == "b"].set_index("time")["survival"]
    assert b.loc[10.0] == pytest.approx(0.75)
    m = medians.set_index("g")
    assert m.loc["a", "events"] == 2 and m.loc["a", "median_quarters"] == 5.0
    assert np.isnan(m.loc["b", "median_quarters"])  # three in four never broke down


def _sobol_runs(n: int = 256) -> tuple[pd.DataFrame, dict]:
    ranges = [ParamRange("a", 0.0, 1.0), ParamRange("b", 0.0, 1.0), ParamRange("c", 0.0, 1.0)]
    design = sobol_design(ranges, n, seed=2)
    runs = run_table(design, replicates=1)
    broke = (runs["a"] > 0.5) | ((runs["a"] > 0.3) & (runs["b"] > 0.8))
    runs["breakdown_round"] = np.where(broke, 3, -1)
    runs["outcome"] = np.where(broke, "us", "balanced")
    return runs, design.problem


def test_sobol_indices_rank_the_driving_parameter_first():
    runs, problem = _sobol_runs()
    table = A.sobol_indices(runs, problem, seed=0)
    pd.testing.assert_frame_equal(table, A.sobol_indices(runs, problem, seed=0))  # deterministic
    idx = table.set_index("parameter")
    assert idx.loc["a", "ST"] > 0.7 and idx.loc["a", "S1"] > 0.5
    assert idx.loc["c", "ST"] < 0.05 and idx.loc["b", "ST"] < idx.loc["a", "ST"]
    with pytest.raises(ValueError, match="multiple"):
        A.sobol_indices(runs.iloc[:-1], problem)


def test_sobol_indices_take_the_values_from_the_design_points():
    runs, problem = _sobol_runs()
    ranges = [ParamRange(n, 0.0, 1.0) for n in problem["names"]]
    points = sobol_design(ranges, 256, seed=2).points
    lean = runs.drop(columns=problem["names"])  # one value per point, not per run
    pd.testing.assert_frame_equal(
        A.sobol_indices(lean, problem, seed=0, points=points),
        A.sobol_indices(runs, problem, seed=0),
        check_exact=True,
    )


def test_prim_box_finds_the_breakdown_region():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((1500, 3)), columns=["a", "b", "c"]).astype("float32")
    broke = (x["a"] > 0.6) & (x["b"] < 0.5)
    runs = x.assign(
        point=np.arange(len(x)),
        breakdown_round=np.where(broke, 4, -1),
        outcome=np.where(broke, "us", "balanced"),
    )
    limits, traj = A.prim_box(runs, ["a", "b", "c"])  # most coverage at density >= 0.8
    lim = limits.set_index("parameter")
    assert (
        lim.loc["a", "restricted"] and lim.loc["b", "restricted"] and not lim.loc["c", "restricted"]
    )
    assert lim["density"].iloc[0] >= 0.8 and lim["coverage"].iloc[0] > 0.9 and len(traj) > 1
    tight = A.prim_box(runs, ["a", "b", "c"], min_density=0.97)[0].set_index("parameter")
    assert abs(tight.loc["a", "low"] - 0.6) < 0.05 and abs(tight.loc["b", "high"] - 0.5) < 0.05


def _compose(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name="config", overrides=overrides)


def test_analyze_cli_on_a_grid_sweep(tmp_path):
    plan = sweep_plan(_compose(["+experiment=smoke", f"sweep.output_dir={tmp_path}"]))
    run_sweep(plan, progress=False)
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.analyze", str(plan.folder), "--boot", "200"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Tipping points" in proc.stdout and "Kaplan-Meier" in proc.stdout
    out = plan.folder / "analysis"
    for name in (
        "cells.csv",
        "sides.csv",
        "tipping_points.csv",
        "survival.csv",
        "survival_medians.csv",
        "summary.txt",
        "phase_diagram.png",
        "side_us.png",
    ):
        assert (out / name).exists(), name
    cells = pd.read_csv(out / "cells.csv")
    assert len(cells) == 15 and cells["runs"].eq(4).all()
    bad = subprocess.run(
        [sys.executable, "-m", "experiments.analyze", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0


def test_analyze_lhs_and_sobol_sweeps_in_process(tmp_path):
    from experiments.analyze import analyze

    params = [
        "sweep.parameters=[{param: escalation.us_security_pressure, low: 0.5, high: 1.0},"
        "{param: alliance_value}, {param: china_red_line}]"
    ]
    lhs = sweep_plan(
        _compose(
            [
                "+experiment=lhs_assumptions",
                f"sweep.output_dir={tmp_path}",
                "sweep.assumptions=false",
                "sweep.samples=60",
                "sweep.replicates=2",
                "rounds=20",
                *params,
            ]
        )
    )
    run_sweep(lhs, progress=False)
    text = analyze(lhs.folder, figures=False)
    assert "PRIM box" in text and (lhs.folder / "analysis" / "prim_box.csv").exists()
    sob = sweep_plan(
        _compose(
            [
                "+experiment=sobol_assumptions",
                f"sweep.output_dir={tmp_path}",
                "sweep.assumptions=false",
                "sweep.samples=16",
                "sweep.replicates=2",
                "rounds=20",
                *params,
            ]
        )
    )
    run_sweep(sob, progress=False)
    text = analyze(sob.folder, figures=True)
    idx = pd.read_csv(sob.folder / "analysis" / "sobol_indices.csv")
    assert set(idx["parameter"]) == {
        "us_demand_end",  # escalation.us_security_pressure, as its run-table column
        "alliance_value",
        "china_red_line",
    }
    assert set(idx["output"]) == {"p_breakdown", "cum_jp_welfare_bn"} and "Sobol indices" in text
    assert (sob.folder / "analysis" / "sobol_p_breakdown.png").exists()
