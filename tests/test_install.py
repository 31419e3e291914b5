"""The wheel, installed into a fresh virtual environment outside the repository, works alone.

The wheel is built from a copy of what it is made of (``pyproject.toml``, ``README.md``,
``sim/``): a build in place would write ``build/`` and ``*.egg-info`` into the repository. It is
built without build isolation and without an index (setuptools comes from the dev extras, so
nothing is downloaded), and installed with no dependencies into a new venv. The venv gets this
environment's installed packages, for the dependencies only, through a ``.pth`` file: a folder
named in a ``.pth`` file goes on ``sys.path`` after the venv's own site-packages, and the
``.pth`` files inside it are not run, so the project's editable install (an import hook mapping
``sim`` to a checkout) stays off and ``sim`` comes from the wheel (checked).

The venv sits in a git repository of its own (a venv inside some other project): the run folder
must record the package version alone, not that repository's commit. Every command runs from an
empty folder, with relative output folders, and nothing may be written into the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim
from sim.catalog import CONF_DIR, CONFIG_PATH_ENV

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: What the wheel is built from (anything else the build needs would make it fail here).
SOURCES = ("pyproject.toml", "README.md", "sim")
#: Written by setuptools-scm into a checkout at install; the build writes its own.
SKIP = ("__pycache__", "*.pyc", "_version.py")
#: Variables that would let the repository or another environment leak into the venv.
SCRUB = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", CONFIG_PATH_ENV)
TIMEOUT = 180


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` but ``.git``, with its size and modification time."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not (dirpath == str(root) and d == ".git")]
        for name in filenames:
            p = Path(dirpath, name)
            if p == root / ".git":
                continue
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def _run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@dataclass
class Installed:
    wheel: Path
    venv: Path
    python: Path
    command: Path
    work: Path
    env: dict[str, str]
    results: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    written_into_repo: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build, install and run everything once; the tests check the pieces."""
    before = _files(REPO)
    root = tmp_path_factory.mktemp("install")
    assert not root.resolve().is_relative_to(REPO)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    _run([*git, "init", "-q"], root)
    _run([*git, "commit", "-q", "--allow-empty", "-m", "someone else's project"], root)

    seconds = {}
    t0 = time.perf_counter()
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns(*SKIP))
        else:
            shutil.copy2(REPO / name, src / name)
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    # The copy has no git metadata for setuptools-scm: the build is told the version.
    build_env = {**os.environ, "SETUPTOOLS_SCM_PRETEND_VERSION": sim.__version__}
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src],
        root,
        build_env,
    )
    (wheel,) = dist.glob("balancing_sim-*.whl")
    seconds["build wheel"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], root)
    python = venv / "bin" / "python"
    purelib = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root
    ).stdout.strip()
    paths = sysconfig.get_paths()
    deps = dict.fromkeys([paths["purelib"], paths["platlib"]])  # this environment's packages
    Path(purelib, "_balancing_sim_test_dependencies.pth").write_text("\n".join(deps) + "\n")
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], root)
    seconds["venv + install"] = time.perf_counter() - t0

    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = root / "work"
    work.mkdir()
    inst = Installed(wheel, venv, python, venv / "bin" / "balancing-sim", work, env)
    where = [
        python,
        "-c",
        "import sim, sim.catalog, sim.cli.main; print(sim.__file__); print(sim.catalog.CONF_DIR)",
    ]
    inst.results["where"] = _run(where, work, env)
    runs = {
        "run": [inst.command, "scenario=baseline", "seed=1", "output_dir=out"],
        "sweep": [inst.command, "+experiment=smoke", "sweep.output_dir=sweeps"],
        "user config": [inst.command, "scenario=mine", "seed=1", "rounds=16", "output_dir=mine"],
    }
    myconf = root / "myconf"
    (myconf / "scenario").mkdir(parents=True)
    (myconf / "scenario" / "mine.yaml").write_text(
        "defaults:\n  - us_escalation\n  - _self_\n"
        "name: mine\ndescription: US escalation with stronger Chinese coercion.\ncn_coercion: 0.5\n"
    )
    for name, cmd in runs.items():
        run_env = {**env, CONFIG_PATH_ENV: str(myconf)} if name == "user config" else env
        t0 = time.perf_counter()
        inst.results[name] = _run(cmd, work, run_env)
        seconds[name] = time.perf_counter() - t0
    inst.seconds = seconds
    after = _files(REPO)
    inst.written_into_repo = sorted(
        k for k in after.keys() | before.keys() if after.get(k) != before.get(k)
    )
    print("timings:", ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return inst


def test_the_wheel_holds_the_package_and_its_configs_not_the_experiments(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    shipped = {
        f"sim/conf/{p.relative_to(CONF_DIR).as_posix()}"
        for p in CONF_DIR.rglob("*.yaml")
        if p.relative_to(CONF_DIR).parts[0] != "paper"
    }
    assert shipped and shipped <= names, sorted(shipped - names)
    assert "sim/conf/__init__.py" in names
    assert "sim/conf/calibration/firms/article.yaml" in names
    assert "sim/conf/episode/observed.csv" in names  # an episode ships with its observations
    for layer in ("core", "catalog.py", "engine", "sweep", "cli", "viz"):
        assert any(n.startswith(f"sim/{layer}") for n in names), layer
    assert not any(n.startswith(("experiments/", "tests/", "sim/conf/paper/")) for n in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert "balancing-sim = sim.cli.main:main" in text


def test_sim_is_imported_from_the_installed_wheel(installed):
    site = installed.venv.resolve()
    module, conf = installed.results["where"].stdout.split()
    assert Path(module).resolve().is_relative_to(site), module
    assert Path(conf).resolve().is_relative_to(site), conf
    assert "site-packages" in module
    assert installed.command.exists()
    no_experiments = subprocess.run(
        [installed.python, "-c", "import experiments"],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert no_experiments.returncode != 0 and "ModuleNotFoundError" in no_experiments.stderr


def test_the_episodes_and_their_observations_load_from_the_wheel(installed):
    code = (
        "from sim.catalog import episode_names, observed_table; "
        "t = observed_table(); print(len(episode_names()), int((t.kind == 'outcome').sum()))"
    )
    episodes, outcomes = _run(
        [installed.python, "-c", code], installed.work, installed.env
    ).stdout.split()
    assert int(episodes) >= 3 and int(outcomes) >= 6


def test_the_command_writes_a_run_folder_under_the_current_directory(installed):
    (folder,) = (installed.work / "out").iterdir()
    record = json.loads((folder / "outcome.json").read_text())
    assert record["scenario"] == "baseline" and record["seed"] == 1
    # the version alone: the git repository around the venv lends it no commit
    assert record["code_version"] == sim.__version__
    assert (folder / "rounds.parquet").exists() and (folder / "config.yaml").exists()


def test_an_experiment_writes_its_sweep_table(installed):
    (table,) = (installed.work / "sweeps" / "smoke").glob("*/runs.parquet")
    assert len(pd.read_parquet(table)) == 60  # 5 x 3 points x 4 seeds
    assert "runs" in installed.results["sweep"].stdout


def test_a_scenario_from_a_user_config_folder_extends_a_shipped_one(installed):
    (folder,) = (installed.work / "mine").iterdir()
    record = json.loads((folder / "outcome.json").read_text())
    assert record["scenario"] == "mine" and record["rounds"] == 16
    scenario = yaml.safe_load((folder / "config.yaml").read_text())["scenario"]
    assert scenario["cn_coercion"] == 0.5  # its own
    assert scenario["escalation"]["us_tariff_slope"] == 0.35  # from us_escalation


def test_nothing_was_written_into_the_repository(installed):
    assert installed.written_into_repo == []
