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
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.core import tables
from sim.core.errors import ConfigError
from sim.core.outcomes import SUMMARY_UNITS
from sim.core.params import build_params
from sim.core.registry import scenario_parameter, table_column, timeline_parameter
from sim.core.timeline import quarters_of_rounds
from sim.engine.batch import run_batch
from sim.engine.runner import BATCH_ENGINES
from sim.sweep.cluster import Executor, LocalExecutor
from sim.sweep.design import is_integer_param
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
    read_table,
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


def _compute_chunk(
    plan: SweepPlan, i: int, trajectories: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Chunk ``i``'s rows (run plan columns under their parameter names, then outcomes) and,
    with ``trajectories``, the kept per-round variables of each run (``run_id``, ``round``)."""
    if not 0 <= i < len(plan.chunks):
        raise ConfigError("sweep.chunk", f"must be in 0..{len(plan.chunks) - 1}, got {i}")
    sub = plan.chunk_runs(i)
    parts, rounds = [], []
    for (sc_name, cal_name), group in sub.groupby(["scenario", "calibration"], sort=False):
        cal, sc = plan.calibrations[str(cal_name)], plan.scenarios[str(sc_name)]
        if plan.engine in BATCH_ENGINES:
            # Parameters are derived (and validated) once per point, then taken for each run.
            points, run_point = np.unique(group["point"].to_numpy(), return_inverse=True)
            values = plan.design.points.iloc[points]
            per_point = {p: values[p].to_numpy(np.float64) for p in plan.design.params}
            p = build_params(cal, sc, plan.rounds, len(points), per_point).take(run_point)
            world_seeds = group["seed"].to_numpy(np.int64)
            res = run_batch(
                p, world_seeds, record_rounds=trajectories, compiled=plan.engine == "numba"
            )
            out = res.outcomes
            out.index = group.index
            parts.append(out)
            if trajectories and res.rounds is not None:
                rounds.append(_trajectory_rows(plan, group, res.rounds, sc.start))
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
    table = pd.concat([sub, outcomes], axis=1).reset_index(drop=True)
    if not trajectories:
        return table, None
    traj = pd.concat(rounds, ignore_index=True).sort_values(["run_id", "round"], kind="stable")
    return table, traj.reset_index(drop=True)


def _trajectory_rows(
    plan: SweepPlan, group: pd.DataFrame, rounds: dict[str, np.ndarray], start: str
) -> pd.DataFrame:
    """Long per-round rows (run x round) of the kept variables for one batch of runs."""
    n_rounds, n = rounds[plan.trajectories[0]].shape
    run_id = np.repeat(group["run_id"].to_numpy(np.int64), n_rounds)
    cols: dict[str, object] = {
        "run_id": run_id,
        "round": np.tile(np.arange(n_rounds, dtype=np.int64), n),
        "quarter": np.tile(np.asarray(quarters_of_rounds(start, n_rounds), dtype=object), n),
    }
    for v in plan.trajectories:
        values = rounds[v].T.reshape(-1)
        cols[v] = values if v not in tables.CATEGORIES else values.astype(np.int64)
    return pd.DataFrame(cols)


def run_chunk(plan: SweepPlan, i: int) -> pd.DataFrame:
    """Chunk ``i``'s rows (run plan columns under their parameter names, then outcomes); pure,
    nothing written. :func:`tidy_runs` gives the stored form."""
    return _compute_chunk(plan, i, False)[0]


def param_columns(plan: SweepPlan) -> dict[str, str]:
    """Each varied parameter's plain snake_case table column (``escalation.us_tariff_slope``
    -> ``us_tariff_end``): usable in ``df.query`` and formulas."""
    return {p: table_column(p) for p in plan.design.params}


def tidy_runs(plan: SweepPlan, table: pd.DataFrame) -> pd.DataFrame:
    """A run table as stored: parameters under their snake_case columns (whole-number ones,
    rounds and quarters, as integers), names as categories."""
    out = table.rename(columns=param_columns(plan))
    for p, col in param_columns(plan).items():
        if is_integer_param(p):
            out[col] = out[col].round().astype(np.int64)
    for col in ("scenario", "calibration"):
        out[col] = pd.Categorical(
            out[col].astype(str),
            categories=sorted(plan.scenarios if col == "scenario" else plan.calibrations),
        )
    return out


def tidy_trajectories(plan: SweepPlan, traj: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The per-round rows with each run's keys (run_id, point, seed, scenario, calibration and
    the varied parameters) in front, categories as strings."""
    keys = ["run_id", "point", "replicate", "seed", "scenario", "calibration"]
    keys += list(param_columns(plan).values())
    out = table[keys].merge(traj, on="run_id", how="right", validate="one_to_many")
    for col, names in tables.CATEGORIES.items():
        if col in out:
            out[col] = tables.categorical(out[col], names)
    for col in tables.FLAGS:
        if col in out:
            out[col] = out[col].astype(bool)
    out["quarter"] = pd.Categorical(out["quarter"])
    return out


@cache
def _code_version() -> str:
    return code_version()


def units(plan: SweepPlan) -> dict[str, str]:
    """Parameter or column -> unit for the tidy table (stored in the parquet metadata as
    ``unit:<column>``, a varied parameter under both its name and its column)."""
    out = dict(RUN_UNITS)
    cal = next(iter(plan.calibrations.values()))
    for p in plan.design.params:
        declared = scenario_parameter(p)
        if declared is not None:
            instrument = None
            if p.startswith("timeline."):
                sc = next(iter(plan.scenarios.values()))
                event = sc.timeline.get(p.split(".")[1])
                instrument = event.instrument if event is not None else None
                declared = timeline_parameter(p, instrument) or declared
            out[p] = declared.unit
        elif p.startswith("firms."):
            _, firm, entry = p.split(".")
            out[p] = cal.firms[firm][entry].unit
        else:
            out[p] = cal.entries[p].unit
    for firm in cal.firm_names:
        out[f"cum_{firm}_profit_bn"] = SUMMARY_UNITS["cum_<firm>_profit_bn"]
        out[f"mean_{firm}_lobbying"] = SUMMARY_UNITS["mean_<firm>_lobbying"]
    out.update({k: v for k, v in SUMMARY_UNITS.items() if "<firm>" not in k})
    for p, col in param_columns(plan).items():
        out[col] = out[p]
    return {f"unit:{k}": v for k, v in out.items()}


def trajectory_units(plan: SweepPlan) -> dict[str, str]:
    """Column -> unit of the per-round trajectories (parquet metadata ``unit:<column>``)."""
    cal = next(iter(plan.calibrations.values()))
    out = {k[5:]: v for k, v in units(plan).items()}
    out.update(tables.round_units(cal.firm_names))
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
        _write_chunk_file(plan, i, _compute_chunk(plan, i, bool(plan.trajectories)))
    finally:
        lock.release()
    return True


def _write_chunk_file(
    plan: SweepPlan, i: int, computed: tuple[pd.DataFrame, pd.DataFrame | None]
) -> None:
    """Write chunk ``i`` (its rows and any trajectories, as :func:`_compute_chunk` gives them)
    atomically in its tidy form; its lock is held by the caller."""
    path = plan.chunk_path(i)
    remove_stale_tmp(path.parent, [path.name, plan.rounds_chunk_path(i).name])
    table, traj = computed
    runs = tidy_runs(plan, table)
    meta = {"config_hash": plan.config_hash, "code_version": _code_version()}
    if traj is not None:  # written first: the runs chunk marks the chunk done
        atomic_write_parquet(plan.rounds_chunk_path(i), tidy_trajectories(plan, traj, runs), meta)
    atomic_write_parquet(path, runs, meta)
    fault_point("after-chunk")


def run_chunk_task(task: tuple[SweepPlan, int]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Chunk ``i`` of ``(plan, i)`` with its trajectories: what an executor sends to a worker."""
    plan, i = task
    return _compute_chunk(plan, i, bool(plan.trajectories))


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
        for k, computed_chunk in cluster.as_completed(run_chunk_task, todo):
            i, lock = held[k]
            try:
                _write_chunk_file(plan, i, computed_chunk)
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
    meta["sweep_columns"] = json.dumps(param_columns(plan))
    atomic_write_parquet(plan.table_path, table, meta)
    if plan.trajectories:
        traj = pd.concat(
            [pd.read_parquet(plan.rounds_chunk_path(i)) for i in range(len(plan.chunks))],
            ignore_index=True,
        )
        for col in ("scenario", "calibration", "quarter", *tables.CATEGORIES):
            if col in traj and not isinstance(traj[col].dtype, pd.CategoricalDtype):
                traj[col] = pd.Categorical(traj[col])
        tmeta = {**trajectory_units(plan), "config_hash": plan.config_hash}
        tmeta["sweep_columns"] = meta["sweep_columns"]
        atomic_write_parquet(plan.rounds_path, traj, tmeta)
    kinds = {
        "experiment": plan.name,
        "id": plan.folder.name,
        "config_hash": plan.config_hash,
        "design": plan.design.kind,
        "parameters": list(plan.design.params),
        "columns": param_columns(plan),
        "trajectories": list(plan.trajectories),
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


def _read(path: Path) -> pd.DataFrame:
    df = read_table(path)
    meta = pq.read_schema(path).metadata or {}
    columns = json.loads(meta.get(b"sweep_columns", b"{}").decode())
    df.attrs["sweep_columns"] = list(columns.values())
    df.attrs["parameters"] = {v: k for k, v in columns.items()}
    return df


def load_runs(folder: str | Path) -> pd.DataFrame:
    """The tidy run table of a finished sweep folder (units in ``attrs["units"]``, the varied
    parameters' columns in ``attrs["sweep_columns"]``)."""
    return _read(Path(folder) / "runs.parquet")


def load_trajectories(folder: str | Path) -> pd.DataFrame:
    """The per-round trajectories of a finished sweep that kept them (``sweep.trajectories``)."""
    path = Path(folder) / "rounds.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{folder}: no rounds.parquet; run the sweep with sweep.trajectories=[...] "
            "(a list of per-round columns, or all)"
        )
    return _read(path)


def sweep_dataset(folder: str | Path, variables: Sequence[str] = ()):
    """A sweep's trajectories as an xarray Dataset over (world = run, round)."""
    return tables.to_dataset(load_trajectories(folder), variables=variables)
