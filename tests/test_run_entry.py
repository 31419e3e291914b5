"""`python -m sim`: compose + run is pure; the run folder holds config, rounds and outcome."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir

from sim.catalog import CONF_DIR as CONFIG_DIR
from sim.cli.schema import register_configs
from sim.engine.model import BalancingModel

REPO = Path(__file__).resolve().parents[1]
register_configs()


def _compose(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name="config", overrides=overrides)


def test_compose_and_run_is_pure_and_engines_agree():
    from sim.cli.inputs import run

    cfg = _compose(["scenario=us_escalation", "seed=3", "rounds=30", "calibration=corrected"])
    a = run(cfg)
    b = run(
        _compose(
            [
                "scenario=us_escalation",
                "seed=3",
                "rounds=30",
                "calibration=corrected",
                "engine=batch",
            ]
        )
    )
    assert len(a.rounds) == 30 and a.agents is not None
    pd.testing.assert_frame_equal(a.rounds, b.rounds, check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(a.outcome, b.outcome, check_exact=True)


def test_cli_writes_a_run_folder_and_never_overwrites(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "scenario=rare_earth_embargo",
        "seed=2",
        "rounds=20",
        f"output_dir={tmp_path}",
    ]
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    (folder,) = list(tmp_path.iterdir())
    assert {p.name for p in folder.iterdir()} >= {
        "config.yaml",
        "rounds.parquet",
        "agents.parquet",
        "outcome.json",
    }
    record = json.loads((folder / "outcome.json").read_text())
    assert (
        record["seed"] == 2
        and record["scenario"] == "rare_earth_embargo"
        and record["code_version"]
    )
    rounds = pd.read_parquet(folder / "rounds.parquet")
    assert len(rounds) == 20 and "jp_compliance" in rounds
    before = (folder / "rounds.parquet").stat().st_mtime_ns
    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "left as it was" in second.stdout
    assert (folder / "rounds.parquet").stat().st_mtime_ns == before
    # a different config goes to a different folder
    subprocess.run(
        [*cmd[:-1], "seed=5", f"output_dir={tmp_path}"],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert len(list(tmp_path.iterdir())) == 2


def test_mesa_runs_clean_under_deprecation_and_future_warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", FutureWarning)
        m = BalancingModel("us_escalation", "article", 12, rng=4)
        m.run_for(12)
        m.rounds_table()
        m.agents_table()
    assert m.steps == 12 and not m.running


def test_run_writes_only_inside_output_dir_and_honours_the_umask(tmp_path):
    """A run writes into its folder only (nothing in the working directory, nothing beside
    the output folder) and its files get 0o666 minus the umask, like any file the user makes."""
    import os

    from cli_inprocess import run_cli, tree

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    old = os.umask(0o002)  # a group-shared folder on a cluster
    try:
        res = run_cli(["rounds=3", f"output_dir={tmp_path / 'out'}"], cwd)
    finally:
        os.umask(old)
    assert res.code == 0, res.err
    assert tree(cwd) == set()
    assert {p.split("/")[0] for p in tree(tmp_path)} == {"cwd", "out"}
    (folder,) = (tmp_path / "out").iterdir()
    assert oct(folder.stat().st_mode & 0o777) == oct(0o775)
    for f in folder.iterdir():
        assert oct(f.stat().st_mode & 0o777) == oct(0o664), f.name
    assert not [p for p in tree(tmp_path / "out") if ".tmp" in p]


def test_size_bound_refuses_up_front_and_force_overrides(tmp_path, monkeypatch):
    from cli_inprocess import assert_one_line, run_cli

    from sim.engine import cost

    monkeypatch.setattr(cost, "MAX_SECONDS", 1e-3)  # a bound this tiny run exceeds
    res = run_cli(["rounds=3", "output_dir=out"], tmp_path)
    assert_one_line(res, "rounds: 1 run x 3 rounds on the mesa engine would need about")
    assert not (tmp_path / "out").exists()
    res = run_cli(["rounds=3", "output_dir=out", "force=true"], tmp_path)
    assert res.code == 0, res.err
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_hydra_multirun_of_single_runs_writes_inside_output_dir(tmp_path):
    """``-m seed=1,2``: the run folders and Hydra's launch record, all inside output_dir."""
    from cli_inprocess import run_cli, tree

    res = run_cli(["-m", "seed=1,2", "rounds=2", "output_dir=out"], tmp_path)
    assert res.code == 0, res.err
    assert {p.split("/")[0] for p in tree(tmp_path)} == {"out"}
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert "launches" in names and len(names) == 3
