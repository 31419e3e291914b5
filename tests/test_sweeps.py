"""Experiment sweeps: designs, chunked Hydra launches, resume, launcher independence, bad input."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_inprocess import assert_one_line, run_cli
from hydra import compose, initialize_config_dir
from SALib.sample import latin, sobol

from sim.catalog import CONF_DIR as CONFIG_DIR
from sim.cli.launch import sweep_plan
from sim.cli.schema import register_configs
from sim.core.errors import ConfigError
from sim.core.params import build_params
from sim.sweep.design import (
    ParamRange,
    assumption_names,
    axis_from_spec,
    chunk_bounds,
    design_from_spec,
    lhs_design,
    run_table,
    sobol_design,
)
from sim.sweep.execute import (
    merge_chunks,
    prepare_folder,
    run_chunk,
    run_sweep,
    tidy_runs,
    write_chunk,
)

REPO = Path(__file__).resolve().parents[1]
SMOKE = ["+experiment=smoke"]  # 5 x 3 points x 4 seeds = 60 runs of 20 quarters, 4 chunks
register_configs()


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m sim`` with ``args`` from the repository root."""
    cmd = [sys.executable, "-m", "sim", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def compose_cfg(overrides: list[str]):
    """The composed config, as ``python -m sim`` would see it."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name="config", overrides=overrides)


def sweep_folder(root: Path) -> Path:
    """The single sweep folder under an output dir."""
    (folder,) = [p.parent for p in root.glob("*/*/sweep.json")]
    return folder


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    """The smoke grid run once through the CLI with the serial (basic) launcher."""
    out = tmp_path_factory.mktemp("basic")
    proc = cli(*SMOKE, f"sweep.output_dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert "4 computed now, 0 already there" in proc.stdout
    return sweep_folder(out)


# --------------------------------------------------------------------------- designs


def test_grid_axes_from_values_num_and_step(article):
    a = axis_from_spec(
        "t", {"param": "us_tariff_slope", "start": 0.0, "stop": 1.0, "step": 0.05}, article
    )
    assert len(a.values) == 21 and a.values[3] == 0.15 and a.values[-1] == 1.0
    b = axis_from_spec("fiscal_stress", {"start": 0.0, "stop": 3.0, "num": 4}, article)
    assert b.param == "fiscal_stress" and b.values == (0.0, 1.0, 2.0, 3.0)
    c = axis_from_spec("calibration", {"values": ["article", "corrected"]}, article)
    assert c.categorical
    d = design_from_spec(
        {
            "design": "grid",
            "axes": {
                "x": {"param": "cn_coercion", "values": [0.1, 0.2]},
                "fiscal_stress": {"values": [0, 1, 2]},
            },
        },
        article,
    )
    assert len(d.points) == 6 and list(d.points.columns) == ["cn_coercion", "fiscal_stress"]
    assert d.points["cn_coercion"].tolist() == [0.1] * 3 + [0.2] * 3  # first axis slowest


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"param": "us_tarif_slope", "values": [0.1]}, "did you mean 'us_tariff_slope'"),
        ({"param": "us_tariff_slope", "values": []}, "empty"),
        ({"param": "us_tariff_slope", "start": 0.5, "stop": 0.1, "num": 3}, "empty range"),
        ({"param": "us_tariff_slope", "start": 0.0, "stop": 1.0, "num": 0}, "whole number >= 1"),
        ({"param": "us_tariff_slope", "start": 0.0, "stop": 1.0, "step": 0.0}, "empty range"),
        ({"param": "us_tariff_slope", "start": 0.0, "stop": 1.0}, "exactly one of num and step"),
        ({"param": "us_tariff_slope", "values": [0.1], "num": 3}, "either values or start/stop"),
        ({"param": "us_tariff_slope", "values": [0.1, 0.1]}, "repeated"),
    ],
)
def test_bad_axes_are_one_line_config_errors(article, spec, message):
    with pytest.raises(ConfigError, match=message) as err:
        axis_from_spec("ax", spec, article)
    assert "\n" not in str(err.value) and str(err.value).startswith("sweep.axes.ax")


def test_lhs_and_sobol_designs_are_salib_samples_over_assumption_ranges(article):
    names = assumption_names(article)
    assert "alliance_value" in names and "trade_cn" not in names  # article figures are not varied
    spec = {
        "design": "lhs",
        "parameters": [{"param": "us_tariff_slope", "low": 0.0, "high": 0.6}],
        "assumptions": True,
        "samples": 50,
        "design_seed": 3,
    }
    d = design_from_spec(spec, article)
    assert d.params[0] == "us_tariff_slope" and len(d.params) == 1 + len(names)
    raw = latin.sample(d.problem, 50, seed=3)
    whole = [i for i, r in enumerate(d.ranges) if r.integer]  # quarters: rounded
    assert {d.params[i] for i in whole} == {
        "diversification_lag",
        "planning_horizon",
        "breakdown_sustain_rounds",
    }
    assert "compliance_options" not in d.params  # a numerical resolution, not an assumption
    np.testing.assert_array_equal(
        np.delete(d.points.to_numpy(), whole, axis=1), np.delete(raw, whole, axis=1)
    )
    np.testing.assert_array_equal(d.points.iloc[:, whole].to_numpy(), np.round(raw[:, whole]))
    lo, hi = article.entries["alliance_value"].range
    assert d.points["alliance_value"].between(lo, hi).all()
    ranges = [ParamRange("cn_coercion", 0.0, 1.0), ParamRange("alliance_value", 20.0, 200.0)]
    s = sobol_design(ranges, 16, seed=1)
    assert len(s.points) == 16 * (2 + 2)
    np.testing.assert_array_equal(
        s.points.to_numpy(), sobol.sample(s.problem, 16, calc_second_order=False, seed=1)
    )
    assert len(lhs_design(ranges, 7, seed=0).points) == 7
    with pytest.raises(ConfigError, match="power of 2"):
        sobol_design(ranges, 12)


def test_run_table_and_chunks_partition_the_runs(article):
    d = design_from_spec({"axes": {"cn_coercion": {"values": [0.1, 0.2, 0.3]}}}, article)
    runs = run_table(d, replicates=4, base_seed=10)
    assert runs["run_id"].tolist() == list(range(12))
    assert runs.groupby("point")["seed"].apply(list).tolist() == [[10, 11, 12, 13]] * 3
    for n, k in [(12, 5), (12, 12), (3, 8), (1000, 7)]:
        b = chunk_bounds(n, k)
        assert (
            b[0][0] == 0 and b[-1][1] == n and all(x[1] == y[0] for x, y in itertools.pairwise(b))
        )
        assert len(b) == min(n, k) and max(e - s for s, e in b) - min(e - s for s, e in b) <= 1


def test_chunks_do_not_depend_on_chunking_and_match_the_engine(tmp_path):
    cfg = compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}"])
    plan = sweep_plan(cfg)
    whole = pd.concat([run_chunk(plan, i) for i in range(len(plan.chunks))], ignore_index=True)
    plan1 = sweep_plan(compose_cfg([*SMOKE, "sweep.chunks=1"]))
    pd.testing.assert_frame_equal(whole, run_chunk(plan1, 0), check_exact=True)
    assert plan1.config_hash == plan.config_hash  # the chunking is layout, not identity
    from sim.engine.runner import run_seeds

    row = whole[whole["point"] == 7]
    direct = run_seeds(
        plan.calibrations["article"],
        plan.scenarios["us_escalation"],
        20,
        row["seed"],
        "batch",
        {p: float(row[p].iloc[0]) for p in plan.design.params},
    )
    for col in ("outcome", "breakdown_round", "cum_jp_welfare_bn", "final_rare_earth_dependence"):
        assert row[col].tolist() == direct[col].tolist()


# --------------------------------------------------------------------------- end to end


def test_smoke_sweep_writes_one_tidy_row_per_run(smoke):
    names = {p.name for p in smoke.iterdir()}
    assert {
        "sweep.json",
        "config.yaml",
        "design.parquet",
        "chunks",
        "runs.parquet",
        "manifest.json",
        "launches",
    } <= names
    runs = pd.read_parquet(smoke / "runs.parquet")
    assert len(runs) == 60 and runs["run_id"].tolist() == list(range(60))
    assert not runs.duplicated(["point", "replicate"]).any()
    for col in (
        "us_tariff_end",  # escalation.us_tariff_slope, under its plain snake_case column
        "us_demand_end",  # escalation.us_security_pressure
        "seed",
        "outcome",
        "breakdown_round",
        "cum_jp_welfare_bn",
        "cum_us_payoff_bn",
        "cum_cn_payoff_bn",
        "cum_toyota_profit_bn",
        "final_rare_earth_dependence",
        "scenario",
        "calibration",
    ):
        assert col in runs, col
    assert sorted(runs["us_demand_end"].unique()) == [0.0, 0.6, 0.9]
    assert not any("." in c for c in runs.columns)
    assert isinstance(runs["outcome"].dtype, pd.CategoricalDtype)
    assert isinstance(runs["scenario"].dtype, pd.CategoricalDtype)
    assert len(runs.query("us_tariff_end > 0.5 and us_demand_end == 0.9")) == 8
    manifest = json.loads((smoke / "manifest.json").read_text())
    from sim.sweep.storage import file_sha256

    assert manifest["runs"] == 60 and len(manifest["chunks"]) == 4
    assert manifest["table"]["sha256"] == file_sha256(smoke / "runs.parquet")
    assert manifest["code_version"] and smoke.name == manifest["config_hash"]
    import pyarrow.parquet as pq

    meta = pq.read_schema(smoke / "runs.parquet").metadata
    assert b"unit:cum_jp_welfare_bn" in meta and b"unit:us_tariff_end" in meta
    assert manifest["columns"] == {
        "escalation.us_tariff_slope": "us_tariff_end",
        "escalation.us_security_pressure": "us_demand_end",
    }
    launch = next((smoke / "launches").iterdir())
    assert (launch / "multirun.yaml").exists()


def test_rerun_of_a_finished_sweep_changes_nothing(smoke):
    before = (smoke / "runs.parquet").stat().st_mtime_ns
    proc = cli(*SMOKE, f"sweep.output_dir={smoke.parents[1]}")
    assert proc.returncode == 0 and "already complete" in proc.stdout
    assert (smoke / "runs.parquet").stat().st_mtime_ns == before


def test_serial_and_joblib_launchers_give_identical_tables(smoke, tmp_path):
    proc = cli(*SMOKE, f"sweep.output_dir={tmp_path}", "hydra/launcher=parallel")
    assert proc.returncode == 0, proc.stderr
    other = sweep_folder(tmp_path)
    assert other.name == smoke.name  # same sweep, same id
    a, b = pd.read_parquet(smoke / "runs.parquet"), pd.read_parquet(other / "runs.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    ma, mb = (json.loads((f / "manifest.json").read_text()) for f in (smoke, other))
    if ma["code_version"] == mb["code_version"]:  # same code: the very same bytes
        assert ma["table"]["sha256"] == mb["table"]["sha256"]


def test_submitit_local_launcher_gives_the_identical_table(smoke, tmp_path):
    proc = cli(
        *SMOKE, f"sweep.output_dir={tmp_path}", "hydra/launcher=submitit_local", "sweep.chunks=2"
    )
    assert proc.returncode == 0, proc.stderr
    b = pd.read_parquet(sweep_folder(tmp_path) / "runs.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(smoke / "runs.parquet"), b, check_exact=True)


def test_interrupted_sweep_resumes_missing_chunks_only(tmp_path):
    # The Mesa engine (same numbers, ~1 ms a round) makes chunks slow enough to interrupt.
    args = [
        *SMOKE,
        f"sweep.output_dir={tmp_path}",
        "engine=mesa",
        "rounds=10",
        "sweep.chunks=6",
        "sweep.progress=false",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    chunks: list[Path] = []
    while time.monotonic() < deadline and len(chunks) < 2 and proc.poll() is None:
        chunks = list(tmp_path.glob("*/*/chunks/runs-*.parquet"))
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # a hard crash: no clean-up, no merge
    proc.wait()
    folder = sweep_folder(tmp_path)
    done = {p: p.stat().st_mtime_ns for p in (folder / "chunks").glob("runs-*.parquet")}
    assert 1 <= len(done) < 6 and not (folder / "runs.parquet").exists()
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert f"{6 - len(done)} computed now, {len(done)} already there" in again.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # nothing recomputed
    runs = pd.read_parquet(folder / "runs.parquet")
    assert runs["run_id"].tolist() == list(range(60))  # nothing lost, no duplicates
    batch = sweep_plan(compose_cfg([*SMOKE, "rounds=10"]))  # the batch engine: same numbers
    ref = pd.concat([run_chunk(batch, i) for i in range(len(batch.chunks))], ignore_index=True)
    ref = tidy_runs(batch, ref)  # the stored form: snake_case parameter columns
    pd.testing.assert_frame_equal(runs, ref, check_exact=True, check_categorical=False)


def test_a_different_sweep_never_overwrites_an_earlier_one(tmp_path):
    cfg = [*SMOKE, f"sweep.output_dir={tmp_path}", "sweep.id=mine", "sweep.progress=false"]
    assert cli(*cfg).returncode == 0
    table = tmp_path / "smoke" / "mine" / "runs.parquet"
    before = table.stat().st_mtime_ns
    proc = cli(*cfg, "sweep.replicates=2")
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "holds a different sweep" in proc.stderr
    assert table.stat().st_mtime_ns == before
    # without a fixed id, a different config lands in its own folder
    plan_a = sweep_plan(compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}"]))
    plan_b = sweep_plan(compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}", "rounds=21"]))
    assert plan_a.folder != plan_b.folder


def test_in_process_sweep_without_hydra_resumes(tmp_path):
    cfg = compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}"])
    plan = sweep_plan(cfg)
    prepare_folder(plan)
    assert write_chunk(plan, 1) and not write_chunk(plan, 1)  # the second call skips
    assert plan.missing_chunks() == [0, 2, 3]
    with pytest.raises(RuntimeError, match="missing"):
        merge_chunks(plan)
    computed, table = run_sweep(plan, progress=False)
    assert computed == 3 and len(pd.read_parquet(table)) == 60 and plan.is_complete()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([*SMOKE, "sweep.axes.tariff.param=escalation.us_tarif_slope"], "did you mean"),
        (
            [
                *SMOKE,
                "sweep.axes.tariff.values=null",
                "sweep.axes.tariff.start=0.5",
                "sweep.axes.tariff.stop=0.1",
                "sweep.axes.tariff.num=3",
            ],
            "empty range",
        ),
        ([*SMOKE, "hydra/launcher=nope"], "hydra/launcher: unknown option 'nope'"),
        (["+experiment=nope"], "experiment: unknown option 'nope'"),
    ],
)
def test_cli_bad_sweep_input_is_one_line_before_any_run(args, expected, tmp_path):
    res = run_cli([*args, f"++sweep.output_dir={tmp_path / 'out'}"], tmp_path)
    assert_one_line(res, expected)
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["sweep.axes.tariff.nun=3"], "sweep.axes.tariff.nun: unknown key (did you mean 'num'?)"),
        (["sweep.replicatez=3"], "sweep.replicatez: unknown key (did you mean 'replicates'?)"),
        (["+sweep.replicatez=3"], "sweep.replicatez: unknown key (did you mean 'replicates'?)"),
        (["+sweep.axes.tariff.nun=3"], "sweep.axes.tariff.nun: unknown key (did you mean 'num'?)"),
    ],
)
def test_schema_catches_typos_in_the_sweep_section(overrides, match):
    """Typos fail: through the schema (key=value) or, for keys added with '+', in planning."""
    from sim.cli.errors import one_line_error

    with pytest.raises(Exception) as err:  # noqa: B017 - Hydra's composition error
        sweep_plan(compose_cfg([*SMOKE, *overrides]))
    assert one_line_error(err.value) == match


def test_axes_without_effect_and_sobol_sizes_fail_in_planning():
    with pytest.raises(ConfigError, match="has no effect"):
        sweep_plan(compose_cfg([*SMOKE, "scenario=baseline"]))
    with pytest.raises(ConfigError, match="power of 2"):
        sweep_plan(compose_cfg(["+experiment=sobol_assumptions", "sweep.samples=100"]))


def test_single_runs_still_work_as_before(tmp_path):
    proc = cli("scenario=us_escalation", "seed=3", "rounds=8", f"output_dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    assert "us_escalation / article / seed 3" in proc.stdout
    (folder,) = tmp_path.iterdir()
    assert (folder / "outcome.json").exists()


# --------------------------------------------------------------------------- paths and locks


def test_quotes_in_paths_do_not_break_sweeps(tmp_path):
    """An apostrophe or a double quote in the checkout's, the output's or a config folder's
    path (they go into Hydra overrides) changes nothing."""
    odd = tmp_path / 'it\'s a "quoted" place'
    conf = odd / "conf's"
    (conf / "scenario").mkdir(parents=True)
    (conf / "scenario" / "mine.yaml").write_text(
        "defaults:\n  - us_escalation\n  - _self_\nname: mine\n"
    )
    res = run_cli(
        [*SMOKE, "sweep.progress=false", "sweep.output_dir=out", "scenario=mine", "rounds=4"],
        odd,
        {"BALANCING_SIM_CONFIG_PATH": str(conf)},
    )
    assert res.code == 0, res.err
    (folder,) = [p.parent for p in (odd / "out").glob("smoke/*/manifest.json")]
    assert next((folder / "launches").iterdir()).is_dir()
    assert set(pd.read_parquet(folder / "runs.parquet")["scenario"]) == {"mine"}


def test_sweep_size_bound_and_force(tmp_path, monkeypatch):
    from sim.engine import cost

    monkeypatch.setattr(cost, "MAX_BYTES", 1)  # every sweep is over this bound
    with pytest.raises(
        ConfigError,
        match=r"^sweep: 15 points x 4 replicates = 60 runs of 20 rounds would need .* add force=true",
    ):
        sweep_plan(compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}"]))
    plan = sweep_plan(compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}", "force=true"]))
    assert plan.n_runs == 60 and not tmp_path.joinpath("smoke").exists()


def test_a_chunk_locked_by_another_process_is_not_computed_twice(tmp_path):
    """write_chunk waits for the holder of a chunk's lock, then finds the chunk there."""
    import threading

    from sim.sweep.execute import chunk_lock

    plan = sweep_plan(compose_cfg([*SMOKE, f"sweep.output_dir={tmp_path}"]))
    prepare_folder(plan)
    holder = chunk_lock(plan.chunk_path(0))  # "another process": another open file
    assert holder.acquire(blocking=False)
    assert write_chunk(plan, 0, wait=False) is None  # busy: not computed here
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("r", write_chunk(plan, 0)))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()  # waiting for the lock
    written = run_chunk(plan, 0)
    from sim.sweep.storage import atomic_write_parquet

    atomic_write_parquet(plan.chunk_path(0), written)  # the holder finishes the chunk
    holder.release()
    waiter.join(10)
    assert result["r"] is False  # found it there: nothing computed twice


def test_a_scenario_axis_carries_the_configs_changes_to_every_scenario():
    """``scenario.us_policy: reactive`` over the base scenario holds for every axis scenario."""
    from sim.catalog import load_calibration, load_scenario
    from sim.sweep.plan import plan_sweep

    spec = {
        "name": "t",
        "design": "grid",
        "axes": {"scenario": {"values": ["baseline", "us_escalation"]}},
        "replicates": 1,
    }
    cal = load_calibration("article").to_dict()
    reactive = load_scenario("baseline", us_policy="reactive", china_policy="reactive")
    plan = plan_sweep(spec, {"calibration": cal, "scenario": reactive, "rounds": 4})
    assert {(s.us_policy, s.china_policy) for s in plan.scenarios.values()} == {
        ("reactive", "reactive")
    }
    default = plan_sweep(
        spec, {"calibration": cal, "scenario": load_scenario("baseline"), "rounds": 4}
    )
    assert {s.us_policy for s in default.scenarios.values()} == {"strategic"}
    assert default.config_hash != plan.config_hash
    # a nested block changed over the base belongs to one scenario file: refused in one line
    esc = load_scenario("us_escalation")
    changed = dataclasses.replace(
        esc, escalation=dataclasses.replace(esc.escalation, ramp_rounds=2)
    )
    with pytest.raises(ConfigError, match="scenario.escalation"):
        plan_sweep(spec, {"calibration": cal, "scenario": changed, "rounds": 4})


# --------------------------------------------------------------------------- cost of a sweep


def test_chunks_are_sized_from_the_runs_and_the_workers():
    from sim.sweep.design import CHUNK_RUNS, auto_chunks

    assert auto_chunks(8_820) == 1  # a small sweep: one chunk, no per-chunk cost
    assert auto_chunks(8_820, workers=2) == 2  # every worker busy
    assert auto_chunks(5 * CHUNK_RUNS, workers=2) == 6  # a multiple of the workers
    assert auto_chunks(3, workers=8) == 3  # never more chunks than runs
    plan = sweep_plan(compose_cfg(["+experiment=breakdown_grid"]))
    assert len(plan.chunks) == 1


def test_plan_keeps_values_per_point_and_joins_them_per_chunk():
    plan = sweep_plan(compose_cfg([*SMOKE, "sweep.chunks=3"]))
    assert not set(plan.design.params) & set(plan.runs.columns)  # no value per run
    full = run_table(plan.design, 4)
    for i in range(len(plan.chunks)):
        rows = plan.chunk_runs(i)
        a, b = plan.chunks[i]
        for p in plan.design.params:
            assert rows[p].tolist() == full[p].iloc[a:b].tolist()
        assert rows.index.tolist() == list(range(a, b))


def test_parameters_taken_per_run_equal_parameters_built_per_run(article, scenarios):
    from dataclasses import fields

    points = {"escalation.us_tariff_slope": np.array([0.1, 0.7, 0.4]), "alliance_value": 1.5}
    index = np.array([2, 0, 0, 1, 2, 1])
    per_run = {k: np.broadcast_to(v, (3,))[index] for k, v in points.items()}
    sc = scenarios["us_escalation"]
    taken = build_params(article, sc, 8, 3, points).take(index)
    build = build_params(article, sc, 8, len(index), per_run)
    for f in fields(build):
        np.testing.assert_array_equal(getattr(taken, f.name), getattr(build, f.name), f.name)


def test_the_numpy_and_compiled_engines_share_a_sweep():
    batch = sweep_plan(compose_cfg([*SMOKE, "engine=batch"]))
    numba = sweep_plan(compose_cfg([*SMOKE, "engine=numba"]))
    assert batch.config_hash == numba.config_hash and numba.engine == "numba"
    mesa = sweep_plan(compose_cfg([*SMOKE, "engine=mesa"]))
    assert mesa.config_hash != batch.config_hash


def test_a_basic_launch_composes_once_and_runs_in_process(monkeypatch, tmp_path):
    from sim.cli import launch

    calls = []
    real = launch.sweep_plan
    monkeypatch.setattr(launch, "sweep_plan", lambda cfg: calls.append(1) or real(cfg))
    ready = launch.prepare_launch([*SMOKE, f"sweep.output_dir={tmp_path}", "sweep.progress=false"])
    assert ready is not None and ready.in_process and ready.multirun

    def hydra_main():
        raise AssertionError("the basic launcher needs no Hydra job")

    launch.launch_sweep(ready, hydra_main)
    assert len(calls) == 1  # planned once, for every chunk
    assert ready.plan.is_complete()
    (record,) = (ready.plan.folder / "launches").glob("*/multirun.yaml")
    assert "sweep:" in record.read_text()
