"""Fault tests: kill sweeps, single runs and the figures check at chosen points, rerun, and
require byte-identical results and nothing left behind.

Processes are forked from the test process (:func:`cli_inprocess.forked`: no interpreter
start-up) and killed with SIGKILL, either from outside when a file appears or from inside at
a named fault point (``BALANCING_SIM_FAULT``, :func:`sim.sweep.storage.fault_point`): just
before a file is renamed into place (its temporary file is then left behind), after a chunk,
after a single run's first table, before a run folder is published. The joblib launcher is a
real subprocess whose launcher process alone is killed: its workers must exit too.

Byte-identical means: the same files, with the same bytes, as an uninterrupted run of the same
command in another directory (relative output folders, so the recorded configs agree). The
one exception is the manifest's ``merged_at`` timestamp. Hydra's launch records
(``launches/``) and the folder's lock file are not results and are not compared.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_inprocess import assert_one_line, forked, main_in_child, run_cli

from sim.sweep.storage import FAULT_ENV

# Forking after numpy and pyarrow started their (idle) native thread pools: both register
# fork handlers, and a hung child would end in forked()'s timeout, not hang the suite.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
)
REPO = Path(__file__).resolve().parents[1]
SWEEP = [
    "+experiment=smoke",
    "sweep.progress=false",
    "sweep.output_dir=out",
    "rounds=8",
    "hydra.mode=RUN",
]
#: Slow chunks (the Mesa engine, same numbers): for kills from outside and concurrent runs.
SLOW = ["+experiment=smoke", "sweep.progress=false", "sweep.output_dir=out", "engine=mesa"]
SLOW += ["rounds=10", "sweep.chunks=6"]
RUN = ["scenario=us_escalation", "seed=3", "rounds=30", "output_dir=out"]


def results(root: Path) -> dict[str, bytes]:
    """Every result file under ``root`` with its bytes (manifest without its timestamp)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or "launches" in rel.parts or p.name == ".lock":
            continue
        data = p.read_bytes()
        if p.name == "manifest.json":
            m = json.loads(data)
            m.pop("merged_at")
            data = json.dumps(m, sort_keys=True).encode()
        out[str(rel)] = data
    return out


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders, chunk locks: what a finished run must not leave."""
    bad = []
    for p in root.rglob("*"):
        name = p.name
        if name.endswith(".tmp") or ".tmp-" in name or name.startswith("paper-check-"):
            bad.append(str(p.relative_to(root)))
        elif name.endswith(".lock") and p.parent.name == "chunks":
            bad.append(str(p.relative_to(root)))
    return sorted(bad)


def _done(res) -> None:
    assert res.code == 0, res.err


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """Uninterrupted runs: the smoke sweep (batch and Mesa engines) and one single run."""
    refs = {}
    for name, args in (("sweep", SWEEP), ("slow", SLOW), ("run", RUN)):
        cwd = tmp_path_factory.mktemp(f"ref-{name}")
        _done(run_cli(args, cwd))
        refs[name] = results(cwd / "out")
        assert refs[name] and not leftovers(cwd)
    return refs


def _tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".tmp-" in p.name]


# --------------------------------------------------------------------------- sweeps

SWEEP_POINTS = [
    # (fault point, what the kill leaves: a glob under out/smoke/<id>/)
    ("before-replace:sweep.json", ".sweep.json.*.tmp"),
    ("after-chunk", "chunks/runs-*.parquet"),
    ("before-replace:runs-0000015-0000030.parquet", "chunks/.runs-0000015-0000030.parquet.*.tmp"),
    ("before-replace:runs.parquet", ".runs.parquet.*.tmp"),
    ("before-replace:manifest.json", ".manifest.json.*.tmp"),
]


@pytest.mark.parametrize(("point", "left"), SWEEP_POINTS, ids=[p[0] for p in SWEEP_POINTS])
def test_sweep_killed_at_a_fault_point_recovers(point, left, reference, tmp_path):
    code = forked(main_in_child(SWEEP, tmp_path, {FAULT_ENV: point}))
    assert code == -signal.SIGKILL
    (folder,) = (tmp_path / "out" / "smoke").iterdir()
    assert list(folder.glob(left)), f"the kill at {point} left nothing to recover from"
    assert not (folder / "manifest.json").exists()
    _done(run_cli(SWEEP, tmp_path))
    assert results(tmp_path / "out") == reference["sweep"]
    assert leftovers(tmp_path) == []


def test_sweep_killed_from_outside_after_its_first_chunk_recovers(reference, tmp_path):
    args = [a for a in SWEEP if a != "hydra.mode=RUN"]  # one Hydra job per chunk

    def first_chunk() -> bool:
        return any(tmp_path.glob("out/smoke/*/chunks/runs-*.parquet"))

    assert forked(main_in_child(args, tmp_path), kill_when=first_chunk) == -signal.SIGKILL
    chunks = list(tmp_path.glob("out/smoke/*/chunks/runs-*.parquet"))
    before = {p: p.stat().st_mtime_ns for p in chunks}
    assert 1 <= len(chunks) < 4
    res = run_cli(args, tmp_path)
    _done(res)
    assert f"{4 - len(chunks)} computed now, {len(chunks)} already there" in res.out
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # not recomputed
    assert results(tmp_path / "out") == reference["sweep"]
    assert leftovers(tmp_path) == []


def test_disk_full_during_a_sweep_is_one_line_and_recovers(reference, tmp_path, monkeypatch):
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 5:  # config, design, sweep.json, chunk 1, then chunk 2 fails
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    res = run_cli(SWEEP, tmp_path)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert_one_line(res, "runs-0000015-0000030.parquet: no space left on device")
    assert not _tmp_files(tmp_path)
    _done(run_cli(SWEEP, tmp_path))
    assert results(tmp_path / "out") == reference["sweep"]
    assert leftovers(tmp_path) == []


def test_two_identical_sweeps_at_once_share_the_work(reference, tmp_path):
    """Started together on one folder: every chunk is computed once, both finish, same table."""
    args = [*SLOW, "hydra.mode=RUN"]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    pids = []
    for log in logs:
        pid = os.fork()
        if pid == 0:  # each child forks the run and reports its status
            os._exit(forked(main_in_child(args, tmp_path), output=log) & 0xFF)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0], texts
    computed = [int(re.search(r"(\d+) computed now", t).group(1)) for t in texts]
    assert sum(computed) == 6, texts  # no chunk computed twice
    assert results(tmp_path / "out") == reference["slow"]
    assert leftovers(tmp_path) == []


def _workers_of(launcher: int) -> list[int]:
    """Processes started for the launcher ``launcher`` (they carry its id in the environment)."""
    marker = f"BALANCING_SIM_PARENT={socket.gethostname()}:{launcher}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != launcher:
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_joblib_workers_exit_when_their_launcher_is_killed(reference, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *SLOW, "hydra/launcher=parallel"],
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while not any(tmp_path.glob("out/smoke/*/chunks/runs-*.parquet")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        workers = _workers_of(proc.pid)
        assert workers, "no worker processes found"
        os.kill(proc.pid, signal.SIGKILL)  # the launcher alone, as a crash would
        proc.wait()
        deadline = time.monotonic() + 10
        while _workers_of(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _workers_of(proc.pid) == [], "workers outlived their launcher"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _done(run_cli([*SLOW, "hydra.mode=RUN"], tmp_path))
    assert results(tmp_path / "out") == reference["slow"]
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- single runs

RUN_POINTS = [
    ("before-replace:config.yaml", "out/.*.tmp-*/.config.yaml.*.tmp"),
    ("run:after-rounds", "out/.*.tmp-*/rounds.parquet"),
    ("before-replace:outcome.json", "out/.*.tmp-*/.outcome.json.*.tmp"),
    ("before-publish", "out/.*.tmp-*/outcome.json"),
]


@pytest.mark.parametrize(("point", "left"), RUN_POINTS, ids=[p[0] for p in RUN_POINTS])
def test_single_run_killed_at_a_fault_point_recovers(point, left, reference, tmp_path):
    assert forked(main_in_child(RUN, tmp_path, {FAULT_ENV: point})) == -signal.SIGKILL
    partial = list(tmp_path.glob(left))
    assert partial, f"the kill at {point} left nothing to recover from"
    assert [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")] == []
    if point == "before-publish":  # its lock was already given back: stale by its age
        old = time.time() - 3600
        os.utime(partial[0].parent, (old, old))
    _done(run_cli(RUN, tmp_path))
    assert results(tmp_path / "out") == reference["run"]
    assert leftovers(tmp_path) == []


def test_single_run_killed_while_computing_leaves_nothing(reference, tmp_path):
    code = forked(
        main_in_child([*RUN[:-2], "rounds=2000", "output_dir=out"], tmp_path),
        kill_when=lambda: time.sleep(1.0) is None,
    )
    assert code == -signal.SIGKILL
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    _done(run_cli(RUN, tmp_path))
    assert results(tmp_path / "out") == reference["run"]


def test_disk_full_during_a_single_run_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    res = run_cli(RUN, tmp_path)
    assert_one_line(res, "config.yaml: no space left on device")
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------- figures check


def _check_in_child(out: Path, tmp: Path, only: str):
    def fn() -> int:
        import tempfile

        from experiments import paper

        tempfile.tempdir = str(tmp)
        return paper.main(["--check", "--out", str(out), "--only", only])

    return fn


@pytest.fixture(scope="module")
def paper_out(tmp_path_factory) -> tuple[Path, str]:
    try:
        from experiments import paper
    except ImportError as exc:  # the pipeline is being ported to model v2 elsewhere
        pytest.skip(f"experiments.paper does not import: {exc}")
    figures = paper.load_figures(paper.PAPER_CONFIGS, "small", ["trajectories"])
    out = tmp_path_factory.mktemp("paper")
    paper.generate(figures, out, images=False, readme=False)
    return out, "trajectories"


@pytest.mark.parametrize("point", ["scratch-appears", "before-replace:trajectories.csv"])
def test_figures_check_killed_leaves_no_scratch_folder(point, paper_out, tmp_path):
    out, only = paper_out
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    fn = _check_in_child(out, scratch, only)
    if point == "scratch-appears":
        code = forked(fn, kill_when=lambda: any(scratch.glob("paper-check-*")))
    else:
        os.environ[FAULT_ENV] = point
        try:
            code = forked(fn)
        finally:
            del os.environ[FAULT_ENV]
    assert code == -signal.SIGKILL and list(scratch.glob("paper-check-*"))
    assert forked(fn) == 0  # the next check passes and removes the stale folder
    assert list(scratch.iterdir()) == []


def test_scratch_folder_of_a_killed_process_is_removed_by_the_next(tmp_path):
    """The mechanism the figures check relies on, without the figures pipeline."""
    from sim.sweep.storage import fault_point, scratch_folder

    def child() -> int:
        with scratch_folder(tmp_path, "paper-check-") as d:
            (d / "data.csv").write_text("x\n")
            fault_point("in-scratch")
        return 0

    os.environ[FAULT_ENV] = "in-scratch"
    try:
        assert forked(child) == -signal.SIGKILL
    finally:
        del os.environ[FAULT_ENV]
    (stale,) = tmp_path.glob("paper-check-*")
    assert (stale / "data.csv").exists()
    with scratch_folder(tmp_path, "paper-check-") as d:
        assert not stale.exists() and d.exists()  # a live one is kept while in use
    assert list(tmp_path.iterdir()) == []
