"""Running a planned sweep: the folder, its chunks, the merge and the progress bar.

:func:`prepare_folder` creates the sweep folder (or checks that it holds this very sweep);
:func:`write_chunk` computes one chunk on the batch engine and writes it atomically, or does
nothing if it is there; :func:`merge_chunks` joins the chunks into ``runs.parquet`` and
writes the manifest last. See :mod:`sim.sweep.plan` for the folder layout.

Several processes may work on one sweep folder at once (two identical commands, a rerun while
the first still runs, cluster tasks): each chunk is computed under its own lock
(``chunks/.runs-<first>-<stop>.lock``) and the folder's files under the folder's lock
(``.lock``), so no chunk is computed twice and no file is written twice. Locks are ``flock``
locks, released by the kernel when their holder dies. Temporary files a killed process left
are removed under the same locks by the next process that writes there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import threading
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.core.errors import ConfigError
from sim.core.outcomes import SUMMARY_UNITS
from sim.core.params import build_params
from sim.core.registry import SCENARIO_PARAMETERS
from sim.engine.batch import run_batch
from sim.sweep.cluster import Executor, LocalExecutor
from sim.sweep.plan import KNOWN_FILES, RUN_UNITS, SweepPlan
from sim.sweep.storage import (
    FileLock,
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    check_writable_folder,
    code_version,
    fault_point,
    file_sha256,
    remove_stale_tmp,
    tmp_target,
)

#: Files of the sweep folder written under the folder lock.
FOLDER_FILES = ["sweep.json", "config.yaml", "design.parquet", "runs.parquet", "manifest.json"]
#: ``<host>:<pid>`` of the command that launched the chunk jobs (set for its workers).
PARENT_ENV = "BALANCING_SIM_PARENT"


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


#: Disk space per run (bytes, generous: its row in a chunk file and in runs.parquet).
RUN_BYTES = 2048


def _needed_bytes(plan: SweepPlan) -> float:
    """Disk space the sweep's missing files need (nothing if the table is there)."""
    if plan.table_path.exists():
        return 0.0
    return float(1024**2 + RUN_BYTES * plan.n_runs)


def folder_lock(plan: SweepPlan) -> FileLock:
    """The lock under which the folder's own files are written (``<folder>/.lock``)."""
    return FileLock(plan.folder / ".lock")


def chunk_lock(path: Path) -> FileLock:
    """The lock under which the chunk file ``path`` is computed and written."""
    return FileLock(path.with_name(f".{path.stem}.lock"))


def _check_identity(plan: SweepPlan) -> bool:
    """True if the folder already holds this sweep; a one-line error if it holds another."""
    ident = plan.folder / "sweep.json"
    if ident.exists():
        try:
            stored = json.loads(ident.read_text()).get("config_hash")
        except (ValueError, AttributeError):
            stored = "unreadable"
        if stored != plan.config_hash:
            raise ConfigError(
                "sweep.id",
                f"{_display(plan.folder)} holds a different sweep (config hash {stored}, this one "
                f"{plan.config_hash}); choose another sweep.id or remove that folder",
            )
        return True
    if plan.folder.is_dir():
        stray = [p.name for p in plan.folder.iterdir() if not p.name.startswith(".")]
        stray = [n for n in stray if n not in KNOWN_FILES]
        if stray:
            raise ConfigError(
                "sweep.id", f"{_display(plan.folder)} exists and is not a sweep folder ({stray[0]})"
            )
    return False


def prepare_folder(plan: SweepPlan, config_yaml: str | None = None) -> None:
    """Create the sweep folder, or check that it holds this very sweep (else a one-line error).

    Nothing is written when the check fails: the folder must be writable (a file in the way,
    a read-only or missing file system are reported in one line) and hold no other sweep.
    """
    check_writable_folder(plan.folder, "sweep.output_dir", _needed_bytes(plan))
    if _check_identity(plan):
        return
    with folder_lock(plan):
        if _check_identity(plan):  # another process prepared it while we waited
            return
        remove_stale_tmp(plan.folder, FOLDER_FILES)
        _write_identity(plan, config_yaml)


def _write_identity(plan: SweepPlan, config_yaml: str | None) -> None:
    """config.yaml and design.parquet, then sweep.json: its presence marks the folder prepared."""
    if config_yaml is not None:
        atomic_write_text(plan.folder / "config.yaml", config_yaml)
    points = plan.design.points.copy()
    points.insert(0, "point", np.arange(len(points), dtype=np.int64))
    atomic_write_parquet(
        plan.folder / "design.parquet", points, {"design": json.dumps(plan.design.describe())}
    )
    ident = plan.folder / "sweep.json"
    atomic_write_json(ident, {"config_hash": plan.config_hash, "identity": plan.identity})


def run_chunk(plan: SweepPlan, i: int) -> pd.DataFrame:
    """Chunk ``i``'s tidy rows (run plan columns, then outcomes); pure, nothing written."""
    if not 0 <= i < len(plan.chunks):
        raise ConfigError("sweep.chunk", f"must be in 0..{len(plan.chunks) - 1}, got {i}")
    a, b = plan.chunks[i]
    sub = plan.runs.iloc[a:b]
    parts = []
    for (sc_name, cal_name), group in sub.groupby(["scenario", "calibration"], sort=False):
        cal, sc = plan.calibrations[str(cal_name)], plan.scenarios[str(sc_name)]
        if plan.engine == "batch":
            per_world = {p: group[p].to_numpy(np.float64) for p in plan.design.params}
            p = build_params(cal, sc, plan.rounds, len(group), per_world)
            out = run_batch(p, group["seed"].to_numpy(np.int64)).outcomes
            out.index = group.index
            parts.append(out)
        else:
            from sim.engine.runner import run_seeds  # the Mesa engine: ~1 ms per round, for checks

            for _, pg in group.groupby("point", sort=False):
                first = pg.iloc[0]
                point = {p: float(first[p]) for p in plan.design.params}
                seeds = pg["seed"].tolist()
                out = run_seeds(cal, sc, plan.rounds, seeds, "mesa", point)
                out = out.drop(columns="seed")
                out.index = pg.index
                parts.append(out)
    outcomes = pd.concat(parts).sort_index()
    return pd.concat([sub, outcomes], axis=1).reset_index(drop=True)


@cache
def _code_version() -> str:
    return code_version()


def units(plan: SweepPlan) -> dict[str, str]:
    """Column -> unit for the tidy table (stored in the parquet metadata as ``unit:<column>``)."""
    out = dict(RUN_UNITS)
    cal = next(iter(plan.calibrations.values()))
    for p in plan.design.params:
        if p in SCENARIO_PARAMETERS:
            out[p] = SCENARIO_PARAMETERS[p].unit
        elif p.startswith("firms."):
            _, firm, entry = p.split(".")
            out[p] = cal.firms[firm][entry].unit
        else:
            out[p] = cal.entries[p].unit
    for firm in cal.firm_names:
        out[f"cum_{firm}_profit_bn"] = SUMMARY_UNITS["cum_<firm>_profit_bn"]
        out[f"mean_{firm}_lobbying"] = SUMMARY_UNITS["mean_<firm>_lobbying"]
    out.update({k: v for k, v in SUMMARY_UNITS.items() if "<firm>" not in k})
    return {f"unit:{k}": v for k, v in out.items()}


def write_chunk(plan: SweepPlan, i: int, wait: bool = True) -> bool | None:
    """Compute and atomically write chunk ``i``; False (nothing done) if it is already there.

    The chunk is computed under its lock: if another process is computing it, this waits
    for it and returns False once its file is there (or computes it if that process died
    without writing it). ``wait=False`` returns None at once instead of waiting.
    """
    path = plan.chunk_path(i)
    if path.exists():
        return False
    lock = chunk_lock(path)
    if not lock.acquire(blocking=wait):
        return None
    try:
        if path.exists():
            return False
        _write_chunk_file(plan, i, run_chunk(plan, i))
    finally:
        lock.release()
    return True


def _write_chunk_file(plan: SweepPlan, i: int, table: pd.DataFrame) -> None:
    """Write chunk ``i``'s table atomically (its lock held by the caller)."""
    path = plan.chunk_path(i)
    remove_stale_tmp(path.parent, [path.name])
    meta = {"config_hash": plan.config_hash, "code_version": _code_version()}
    atomic_write_parquet(path, table, meta)
    fault_point("after-chunk")


def run_chunk_task(task: tuple[SweepPlan, int]) -> pd.DataFrame:
    """:func:`run_chunk` of ``(plan, i)``: what an executor sends to a cluster worker."""
    plan, i = task
    return run_chunk(plan, i)


def _write_chunks_on(cluster: Executor, plan: SweepPlan, bar: Progress) -> int:
    """Compute the missing chunks on ``cluster`` and write each here as it arrives.

    The chunks are computed on the workers and written by this process (the workers need
    not see the sweep folder); each chunk is locked while it is out, as
    :func:`write_chunk` locks it, and chunks another process holds are left to it and
    waited for. A chunk file's bytes do not depend on where or in what order it was
    computed.
    """
    held: list[tuple[int, FileLock]] = []
    busy: list[int] = []
    for i in plan.missing_chunks():
        lock = chunk_lock(plan.chunk_path(i))
        if not lock.acquire(blocking=False):
            busy.append(i)
        elif plan.chunk_path(i).exists():
            lock.release()
        else:
            held.append((i, lock))
    computed = 0
    try:
        todo = [(plan, i) for i, _ in held]
        for k, table in cluster.as_completed(run_chunk_task, todo):
            i, lock = held[k]
            try:
                _write_chunk_file(plan, i, table)
            finally:
                lock.release()
            computed += 1
            bar.poll()
    finally:
        for _, lock in held:
            lock.release()
    for i in busy:
        computed += bool(write_chunk(plan, i))
        bar.poll()
    return computed


def _remove_free_chunk_files(plan: SweepPlan) -> None:
    """After the merge: temporary chunk files and chunk locks no live process holds."""
    chunks = plan.folder / "chunks"
    for tmp in sorted(chunks.glob(".*.tmp")):
        lock = chunk_lock(chunks / tmp_target(tmp))
        if lock.acquire(blocking=False):
            tmp.unlink(missing_ok=True)
            lock.release()
    for path in sorted(chunks.glob(".*.lock")):
        lock = FileLock(path)
        if lock.acquire(blocking=False):
            path.unlink(missing_ok=True)  # a process that opens it later finds its chunk there
            lock.release()


def _chunk_meta(path: Path, key: str) -> str:
    meta = pq.read_schema(path).metadata or {}
    return meta.get(key.encode(), b"").decode()


def merge_chunks(plan: SweepPlan) -> Path:
    """Join every chunk into ``runs.parquet`` (checked: each run once, in order); manifest last.

    Under the folder lock; if another process merged meanwhile, nothing is written again.
    """
    missing = plan.missing_chunks()
    if missing:
        raise RuntimeError(f"cannot merge: {len(missing)} chunk(s) missing, first {missing[0]}")
    with folder_lock(plan):
        if plan.is_complete():
            return plan.table_path
        remove_stale_tmp(plan.folder, FOLDER_FILES)
        _merge(plan)
    _remove_free_chunk_files(plan)
    return plan.table_path


def _merge(plan: SweepPlan) -> None:
    paths = [plan.chunk_path(i) for i in range(len(plan.chunks))]
    table = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    if not np.array_equal(table["run_id"].to_numpy(), np.arange(plan.n_runs)):
        raise RuntimeError(
            "chunk files do not hold each run exactly once; remove chunks/ and rerun"
        )
    hashes = {_chunk_meta(p, "config_hash") for p in paths}
    if hashes != {plan.config_hash}:
        raise RuntimeError(f"chunk files from another sweep in {plan.folder}/chunks")
    versions = sorted({_chunk_meta(p, "code_version") for p in paths})
    meta = {**units(plan), "config_hash": plan.config_hash, "code_version": ";".join(versions)}
    atomic_write_parquet(plan.table_path, table, meta)
    kinds = {
        "experiment": plan.name,
        "id": plan.folder.name,
        "config_hash": plan.config_hash,
        "design": plan.design.kind,
        "parameters": list(plan.design.params),
        "axes": [a.param for a in plan.design.axes],
        "scenarios": sorted(plan.scenarios),
        "calibrations": sorted(plan.calibrations),
        "points": len(plan.design.points),
        "replicates": int(plan.runs["replicate"].max()) + 1,
        "runs": plan.n_runs,
        "rounds": plan.rounds,
        "engine": plan.engine,
        "table": {
            "file": plan.table_path.name,
            "rows": len(table),
            "columns": list(table.columns),
            "sha256": file_sha256(plan.table_path),
        },
        "chunks": [
            {"file": f"chunks/{p.name}", "runs": list(plan.chunks[i]), "sha256": file_sha256(p)}
            for i, p in enumerate(paths)
        ],
        "code_version": _code_version(),
        "chunk_code_versions": versions,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "merged_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if len(versions) > 1:
        print(f"warning: chunks were computed by different code versions: {', '.join(versions)}")
    atomic_write_json(plan.manifest_path, kinds)


class Progress:
    """A tqdm bar of runs done (rate, time left), fed by the chunk files in the sweep folder.

    Works for any launcher: it only watches files, so jobs in other processes (joblib,
    submitit) count as soon as their chunk is written. Use as a context manager; with
    ``watch=True`` a background thread polls every ``interval`` seconds.
    """

    def __init__(
        self, plan: SweepPlan, enabled: bool = True, watch: bool = False, interval: float = 0.25
    ):
        self.plan = plan
        self.enabled = enabled
        self.watch = watch
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bar = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from tqdm import tqdm

            done = self.plan.runs_done()
            self.bar = tqdm(
                total=self.plan.n_runs,
                initial=done,
                unit="run",
                desc=self.plan.name,
                dynamic_ncols=True,
                mininterval=0.2,
                smoothing=0.3,
            )
            if self.watch:
                self._thread = threading.Thread(target=self._loop, daemon=True)
                self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        """Move the bar to the runs whose chunk files exist."""
        if self.bar is not None:
            done = self.plan.runs_done()
            if done > self.bar.n:
                self.bar.update(done - self.bar.n)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        if self.bar is not None:
            self.bar.close()


def run_sweep(
    plan: SweepPlan,
    progress: bool = True,
    config_yaml: str | None = None,
    cluster: Executor | None = None,
) -> tuple[int, Path]:
    """Every missing chunk, then the merge; returns (chunks computed, table).

    The chunks are computed in this process, or on ``cluster`` (a Dask cluster,
    :mod:`sim.sweep.cluster`) and written here; the table is the same either way.
    """
    prepare_folder(plan, config_yaml)
    computed = 0
    if cluster is not None and not isinstance(cluster, LocalExecutor):
        with Progress(plan, enabled=progress) as bar:
            computed = _write_chunks_on(cluster, plan, bar)
        if not plan.is_complete():
            merge_chunks(plan)
        return computed, plan.table_path
    with Progress(plan, enabled=progress) as bar:
        busy = []
        for i in plan.missing_chunks():  # first the chunks no other process is computing
            done = write_chunk(plan, i, wait=False)
            if done is None:
                busy.append(i)
            computed += bool(done)
            bar.poll()
        for i in busy:  # then wait for the others (or compute them if their process died)
            computed += bool(write_chunk(plan, i))
            bar.poll()
    if not plan.is_complete():
        merge_chunks(plan)
    return computed, plan.table_path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


_WATCHING = threading.Event()


def launcher_id() -> str:
    """``<host>:<pid>`` of this process, handed to chunk workers in :data:`PARENT_ENV`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def exit_with_parent(interval: float = 0.5) -> None:
    """In a chunk worker on the launcher's machine: exit as soon as the launcher is gone.

    Worker processes (joblib's loky, submitit) outlive a killed launcher otherwise. The chunk
    being computed is lost (its temporary file is removed by the next run); the rerun
    computes it again. No effect in the launcher itself, or on another machine (a cluster).
    """
    parent = os.environ.get(PARENT_ENV, "")
    host, _, pid_text = parent.rpartition(":")
    if not pid_text.isdigit() or host != socket.gethostname() or int(pid_text) == os.getpid():
        return
    if _WATCHING.is_set():
        return
    _WATCHING.set()
    pid = int(pid_text)

    def watch() -> None:
        while _alive(pid):
            threading.Event().wait(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def load_runs(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a finished sweep folder."""
    return pd.read_parquet(Path(folder) / "runs.parquet")
