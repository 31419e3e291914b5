"""A real Dask cluster on this machine: a ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1 (free ports), started for this module and stopped after it, even on failure.

A small sweep (the smoke experiment through ``python -m sim``'s entry point) and a small
calibration (``python -m experiments.calibrate``) run on the cluster with
``cluster.address=tcp://127.0.0.1:PORT`` and give the same numbers as the same commands run
in this process with the same seeds (docs/inference.md, "Running on a cluster").
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from cli_inprocess import run_cli

from experiments import calibrate

REPO = Path(__file__).resolve().parents[1]
SMOKE = ["+experiment=smoke"]  # 5 x 3 points x 4 seeds = 60 runs of 20 quarters, 4 chunks
#: The calibration at a tiny size: one fit, one generation.
TINY = [
    "--scale",
    "small",
    "leave_one_out=false",
    "pilot.draws=40",
    "abc.population=12",
    "abc.generations=1",
    "abc.chunk_worlds=16",
    "predictive.draws=20",
]
WORKERS = 2
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask() -> list[str]:
    """The ``dask`` command of this interpreter's environment."""
    exe = Path(sys.executable).parent / "dask"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop the processes we started (each is the leader of its own process group, so a
    worker's nanny and its worker process go together); kill what does not stop."""
    for p in reversed(procs):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 15
    for p in reversed(procs):
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory) -> Iterator[str]:
    """The address of a running scheduler with two workers (stopped after the module)."""
    pytest.importorskip("distributed")
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []

    def start(args: list[str], name: str) -> None:
        log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(
                [*_dask(), *args],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        log.close()

    try:
        start(
            ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            "scheduler",
        )
        for w in range(WORKERS):
            start(
                [
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--memory-limit",
                    "0",
                    "--local-directory",
                    str(logs / f"worker-{w}"),
                ],
                f"worker-{w}",
            )
        client = Client(address, timeout=START_TIMEOUT, set_as_default=False)
        try:
            client.wait_for_workers(WORKERS, timeout=START_TIMEOUT)
        finally:
            client.close()
        yield address
    except Exception:
        for f in sorted(logs.glob("*.log")):
            sys.stderr.write(f"--- {f.name}\n{f.read_text()[-3000:]}\n")
        raise
    finally:
        _stop(procs)
        assert all(p.poll() is not None for p in procs)
        shutil.rmtree(logs, ignore_errors=True)


def _table(root: Path) -> tuple[str, pd.DataFrame]:
    """The one sweep under ``root``: (its folder id, its table of runs)."""
    (path,) = root.glob("*/*/runs.parquet")
    return path.parent.name, pd.read_parquet(path)


def test_sweep_on_the_cluster_gives_the_local_table(scheduler, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "cluster"
    res = run_cli([*SMOKE, f"sweep.output_dir={local}"], REPO)
    assert res.code == 0, res.err
    res = run_cli([*SMOKE, f"sweep.output_dir={remote}", f"cluster.address={scheduler}"], REPO)
    assert res.code == 0, res.err
    assert "4 computed now" in res.out
    (id_a, a), (id_b, b) = _table(local), _table(remote)
    assert id_a == id_b and len(a) == 60
    pd.testing.assert_frame_equal(a, b)
    (m,) = remote.glob("*/*/config.yaml")
    assert "tcp://" not in m.read_text()  # where it ran does not change the folder


def test_calibration_on_the_cluster_gives_the_local_results(scheduler, tmp_path, capsys):
    local, remote = tmp_path / "local", tmp_path / "cluster"
    assert calibrate.main([*TINY, "--out", str(local)]) == 0
    assert calibrate.main([*TINY, "--out", str(remote), f"cluster.address={scheduler}"]) == 0
    out = capsys.readouterr().out
    assert f"calibrating on {scheduler}" in out
    (a,) = [p for p in local.iterdir() if not p.name.startswith(".")]
    (b,) = [p for p in remote.iterdir() if not p.name.startswith(".")]
    assert a.name == b.name  # the same id: the address is not part of it
    assert json.loads((b / "manifest.json").read_text())["where"] == scheduler
    pa, pb = pd.read_parquet(a / "posterior.parquet"), pd.read_parquet(b / "posterior.parquet")
    assert len(pa) > 0
    pd.testing.assert_frame_equal(pa, pb)
    for name in ("predictive.csv", "populations.csv", "statistics.csv", "screen.csv"):
        assert (a / name).read_text() == (b / name).read_text(), name
