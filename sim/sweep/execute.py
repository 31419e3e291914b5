"""Running a planned sweep: the folder, its chunks, the merge and the progress bar.

:func:`prepare_folder` creates the sweep folder (or checks that it holds this very sweep);
:func:`write_chunk` computes one chunk on the batch engine and writes it atomically, or does
nothing if it is there; :func:`merge_chunks` joins the chunks into ``runs.parquet`` and
writes the manifest last. See :mod:`sim.sweep.plan` for the folder layout.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
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
from sim.engine.runner import BATCH_ENGINES
from sim.sweep.plan import KNOWN_FILES, RUN_UNITS, SweepPlan
from sim.sweep.storage import (
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    code_version,
    file_sha256,
)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def prepare_folder(plan: SweepPlan, config_yaml: str | None = None) -> None:
    """Create the sweep folder, or check that it holds this very sweep (else a one-line error)."""
    ident = plan.folder / "sweep.json"
    if ident.exists():
        stored = json.loads(ident.read_text()).get("config_hash")
        if stored != plan.config_hash:
            raise ConfigError(
                "sweep.id",
                f"{_display(plan.folder)} holds a different sweep (config hash {stored}, this one "
                f"{plan.config_hash}); choose another sweep.id or remove that folder",
            )
        return
    if plan.folder.exists():
        stray = [p.name for p in plan.folder.iterdir() if not p.name.startswith(".")]
        stray = [n for n in stray if n not in KNOWN_FILES]
        if stray:
            raise ConfigError(
                "sweep.id", f"{_display(plan.folder)} exists and is not a sweep folder ({stray[0]})"
            )
    atomic_write_json(ident, {"config_hash": plan.config_hash, "identity": plan.identity})
    if config_yaml is not None:
        atomic_write_text(plan.folder / "config.yaml", config_yaml)
    points = plan.design.points.copy()
    points.insert(0, "point", np.arange(len(points), dtype=np.int64))
    atomic_write_parquet(
        plan.folder / "design.parquet", points, {"design": json.dumps(plan.design.describe())}
    )


def run_chunk(plan: SweepPlan, i: int) -> pd.DataFrame:
    """Chunk ``i``'s tidy rows (run plan columns, then outcomes); pure, nothing written."""
    if not 0 <= i < len(plan.chunks):
        raise ConfigError("sweep.chunk", f"must be in 0..{len(plan.chunks) - 1}, got {i}")
    sub = plan.chunk_runs(i)
    parts = []
    for (sc_name, cal_name), group in sub.groupby(["scenario", "calibration"], sort=False):
        cal, sc = plan.calibrations[str(cal_name)], plan.scenarios[str(sc_name)]
        if plan.engine in BATCH_ENGINES:
            # Parameters are derived (and validated) once per point, then taken for each run.
            points, run_point = np.unique(group["point"].to_numpy(), return_inverse=True)
            values = plan.design.points.iloc[points]
            per_point = {p: values[p].to_numpy(np.float64) for p in plan.design.params}
            p = build_params(cal, sc, plan.rounds, len(points), per_point).take(run_point)
            world_seeds = group["seed"].to_numpy(np.int64)
            out = run_batch(p, world_seeds, compiled=plan.engine == "numba").outcomes
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


def write_chunk(plan: SweepPlan, i: int) -> bool:
    """Compute and atomically write chunk ``i``; False (nothing done) if it is already there."""
    path = plan.chunk_path(i)
    if path.exists():
        return False
    table = run_chunk(plan, i)
    meta = {"config_hash": plan.config_hash, "code_version": _code_version()}
    atomic_write_parquet(path, table, meta)
    return True


def _chunk_meta(path: Path, key: str) -> str:
    meta = pq.read_schema(path).metadata or {}
    return meta.get(key.encode(), b"").decode()


def merge_chunks(plan: SweepPlan) -> Path:
    """Join every chunk into ``runs.parquet`` (checked: each run once, in order); manifest last."""
    missing = plan.missing_chunks()
    if missing:
        raise RuntimeError(f"cannot merge: {len(missing)} chunk(s) missing, first {missing[0]}")
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
    return plan.table_path


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
    plan: SweepPlan, progress: bool = True, config_yaml: str | None = None
) -> tuple[int, Path]:
    """Every missing chunk in this process, then the merge; returns (chunks computed, table)."""
    prepare_folder(plan, config_yaml)
    computed = 0
    with Progress(plan, enabled=progress) as bar:
        for i in plan.missing_chunks():
            computed += write_chunk(plan, i)
            bar.poll()
    if computed or not plan.is_complete():
        merge_chunks(plan)
    return computed, plan.table_path


def load_runs(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a finished sweep folder."""
    return pd.read_parquet(Path(folder) / "runs.parquet")
