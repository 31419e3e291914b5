"""Sweeps: a design run in chunks on the batch engine, written to a sweep folder (no Hydra).

A sweep is planned from two plain mappings, the ``sweep`` section of an experiment config and
the rest of the resolved config (calibration, scenario, rounds, engine, breakdown rule):
:func:`plan_sweep` validates everything and lays out the runs without running any. The runs
are cut into contiguous chunks; :func:`write_chunk` computes one chunk (all its runs in one
vectorized batch per scenario/calibration) and writes it atomically, or does nothing if its
file is already there. :func:`merge_chunks` joins the chunks into ``runs.parquet`` and writes
the manifest last. The folder is keyed by a hash of everything that determines the results,
so a different sweep never lands in (or overwrites) an earlier sweep's folder.

Folder layout (``<output_dir>/<experiment>/<id>/``)::

    sweep.json          identity: the config hash and the hashed content (written first)
    config.yaml         the resolved config of the first launch
    design.parquet      the design points (one row per point)
    chunks/runs-<start>-<stop>.parquet   one per chunk, atomic; skipped if present
    runs.parquet        the tidy table, one row per run (written when every chunk is in)
    manifest.json       written last: counts, checksums, code version(s)
    launches/<time>/    Hydra's record of each launch (launcher, overrides, job logs)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import platform
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.batch import run_batch
from sim.breakdown import BreakdownRule
from sim.calibration import Calibration, calibration_from_dict, load_calibration
from sim.design import Design, chunk_bounds, design_from_spec, run_table
from sim.errors import ConfigError
from sim.outcomes import SUMMARY_UNITS
from sim.params import build_params
from sim.paths import REPO_ROOT
from sim.scenario import Scenario, load_scenario, scenario_from_dict
from sim.storage import (
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    code_version,
    config_hash,
    file_sha256,
)

#: Bump when the folder layout or the table's columns change meaning.
FOLDER_FORMAT = 1
ENGINES = ("batch", "mesa")
#: Keys of the sweep section that say how to run, not what: excluded from the identity hash.
LAYOUT_KEYS = frozenset({"chunk", "chunks", "id", "output_dir", "progress"})
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_KNOWN_FILES = {"sweep.json", "config.yaml", "design.parquet", "chunks", "launches", "runs.parquet"}

#: Units of the run-plan columns and of the parameters that are not calibration entries.
RUN_UNITS = {
    "run_id": "index of the run in the sweep (0..runs-1)",
    "point": "index of the design point",
    "replicate": "replicate number at the point (0..replicates-1)",
    "seed": "simulation seed (base_seed + replicate)",
    "scenario": "scenario name (configs/scenario)",
    "calibration": "calibration name (configs/calibration)",
    "rounds": "horizon in quarters (censoring time for time-to-breakdown)",
}
SCENARIO_AXIS_UNITS = {
    "us_tariff_level": "US punitive tariff at zero compliance, ad-valorem share",
    "us_security_pressure": "compliance the US demands, 0-1",
    "cn_coercion": "China's restriction per unit of compliance above its red line, 0-1",
    "lobbying_strength": "multiplier on firms' lobbying effort, 0-3",
    "fiscal_stress": "fiscal stress level, 0-3",
    "japan_temperature": "Japan's logit temperature",
    "escalation.us_tariff_level": "US tariff at the end of the escalation ramp, ad-valorem share",
    "escalation.us_security_pressure": "US compliance demand at the end of the ramp, 0-1",
    "embargo.restriction": "share of rare earths China withholds during the embargo, 0-1",
    "embargo.red_line": "China's red line on compliance during the embargo, 0-1",
}


@dataclass
class SweepPlan:
    """A validated sweep: its runs, chunks, inputs and folder; nothing has run yet."""

    name: str
    design: Design
    runs: pd.DataFrame
    chunks: list[tuple[int, int]]
    rounds: int
    engine: str
    rule: BreakdownRule
    calibrations: dict[str, Calibration]
    scenarios: dict[str, Scenario]
    identity: dict
    config_hash: str
    folder: Path

    @property
    def n_runs(self) -> int:
        """Number of runs (design points x replicates)."""
        return len(self.runs)

    def chunk_path(self, i: int) -> Path:
        """File of chunk ``i`` (named by its run range, so a different chunking never clashes)."""
        a, b = self.chunks[i]
        return self.folder / "chunks" / f"runs-{a:07d}-{b:07d}.parquet"

    def missing_chunks(self) -> list[int]:
        """Indices of chunks whose file is not there yet."""
        return [i for i in range(len(self.chunks)) if not self.chunk_path(i).exists()]

    def runs_done(self) -> int:
        """Runs whose chunk file is there."""
        return sum(b - a for i, (a, b) in enumerate(self.chunks) if self.chunk_path(i).exists())

    @property
    def table_path(self) -> Path:
        """The merged tidy table."""
        return self.folder / "runs.parquet"

    @property
    def manifest_path(self) -> Path:
        """The manifest (written last: its presence means the sweep is complete)."""
        return self.folder / "manifest.json"

    def is_complete(self) -> bool:
        """True if the table and the manifest of this sweep are both written."""
        if not (self.table_path.exists() and self.manifest_path.exists()):
            return False
        manifest = json.loads(self.manifest_path.read_text())
        return manifest.get("config_hash") == self.config_hash


def _int(key: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
        raise ConfigError(key, f"must be a whole number >= {lo}, got {v!r}")
    return int(v)


def _named(axis_key: str, names: tuple[str, ...], loader: Callable[[str], Any]) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = loader(name)
        except ConfigError as exc:
            raise ConfigError(f"{axis_key}.values", exc.problem) from None
    return out


def _check_effect(design: Design, scenarios: Mapping[str, Scenario], where: dict[str, str]) -> None:
    """Refuse axes that cannot change anything (an escalation level without an escalation)."""
    for param in design.params:
        part = param.split(".")[0]
        if part not in ("escalation", "embargo"):
            continue
        for name, sc in scenarios.items():
            if getattr(sc, part) is None:
                raise ConfigError(
                    where.get(param, "sweep"),
                    f"{param} has no effect: scenario {name!r} has no {part} "
                    f"(use a scenario with one, e.g. "
                    f"{'us_escalation' if part == 'escalation' else 'rare_earth_embargo'})",
                )


def plan_sweep(sweep: Mapping[str, Any], base: Mapping[str, Any]) -> SweepPlan:
    """Validate a sweep and lay out its runs (nothing runs, nothing is written).

    ``sweep`` is the ``sweep`` section (:class:`sim.config_schema.SweepConfig` as a mapping);
    ``base`` holds ``calibration`` (a mapping), ``scenario`` (a mapping or Scenario),
    ``rounds``, ``engine`` and ``breakdown`` (a mapping). Bad input raises a one-line
    :class:`ConfigError` naming the key.
    """
    name = str(sweep.get("name") or "")
    if not _SAFE.match(name):
        raise ConfigError("sweep.name", f"must be a simple folder name, got {name!r}")
    rounds = _int("rounds", base.get("rounds"), 1)
    engine = base.get("engine", "batch")
    if engine not in ENGINES:
        raise ConfigError("engine", f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    rule = BreakdownRule(**dict(base.get("breakdown") or {}))
    cal0 = calibration_from_dict(base["calibration"], where="calibration")
    sc_raw = base["scenario"]
    sc0 = sc_raw if isinstance(sc_raw, Scenario) else scenario_from_dict(sc_raw)

    design = design_from_spec(sweep, cal0)
    replicates = _int("sweep.replicates", sweep.get("replicates", 20), 1)
    base_seed = _int("sweep.base_seed", sweep.get("base_seed", 0), 0)
    runs = run_table(design, replicates, base_seed)
    axis_key = {a.param: f"sweep.axes.{a.label}" for a in design.axes}
    if "calibration" in axis_key:
        names = tuple(design.points["calibration"].unique())
        calibrations = _named(axis_key["calibration"], names, load_calibration)
    else:
        calibrations = {cal0.name: cal0}
        runs["calibration"] = cal0.name
    if "scenario" in axis_key:
        names = tuple(design.points["scenario"].unique())
        scenarios = _named(axis_key["scenario"], names, load_scenario)
    else:
        scenarios = {sc0.name: sc0}
        runs["scenario"] = sc0.name
    runs["rounds"] = np.int64(rounds)
    lead = ["run_id", "point", "replicate", "seed", "scenario", "calibration", "rounds"]
    runs = runs[lead + list(design.params)]
    _check_effect(design, scenarios, axis_key)
    # Every value of every point through build_params: bad names or out-of-range values fail
    # here, before any run starts.
    pts = design.points
    if "scenario" not in pts:
        pts = pts.assign(scenario=sc0.name)
    if "calibration" not in pts:
        pts = pts.assign(calibration=cal0.name)
    for (sc_name, cal_name), group in pts.groupby(["scenario", "calibration"], sort=False):
        overrides = {p: group[p].to_numpy(np.float64) for p in design.params}
        try:
            build_params(calibrations[cal_name], scenarios[sc_name], rounds, len(group), overrides)
        except ConfigError as exc:
            where = axis_key.get(exc.key, "sweep.parameters")
            raise ConfigError(where, str(exc)) from None

    identity = {
        "format": FOLDER_FORMAT,
        "experiment": name,
        "design": design.describe(),
        "replicates": replicates,
        "base_seed": base_seed,
        "rounds": rounds,
        "engine": engine,
        "breakdown": dataclasses.asdict(rule),
        "scenarios": {k: dataclasses.asdict(v) for k, v in scenarios.items()},
        "calibrations": {k: v.to_dict() for k, v in calibrations.items()},
    }
    chash = config_hash(identity)
    sweep_id = sweep.get("id") or chash
    if not _SAFE.match(str(sweep_id)):
        raise ConfigError("sweep.id", f"must be a simple folder name, got {sweep_id!r}")
    root = Path(str(sweep.get("output_dir") or "results/sweeps"))
    root = root if root.is_absolute() else REPO_ROOT / root
    chunks = chunk_bounds(len(runs), _int("sweep.chunks", sweep.get("chunks", 8), 1))
    return SweepPlan(
        name=name,
        design=design,
        runs=runs,
        chunks=chunks,
        rounds=rounds,
        engine=engine,
        rule=rule,
        calibrations=calibrations,
        scenarios=scenarios,
        identity=identity,
        config_hash=chash,
        folder=root / name / str(sweep_id),
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
        stray = [n for n in stray if n not in _KNOWN_FILES]
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
    a, b = plan.chunks[i]
    sub = plan.runs.iloc[a:b]
    parts = []
    for (sc_name, cal_name), group in sub.groupby(["scenario", "calibration"], sort=False):
        cal, sc = plan.calibrations[cal_name], plan.scenarios[sc_name]
        if plan.engine == "batch":
            overrides = {p: group[p].to_numpy(np.float64) for p in plan.design.params}
            p = build_params(cal, sc, plan.rounds, len(group), overrides)
            out = run_batch(p, group["seed"].to_numpy(np.int64), plan.rule).outcomes
            out.index = group.index
            parts.append(out)
        else:
            from sim.runner import run_seeds  # the Mesa engine: ~1 ms per round, for checks

            for _, pg in group.groupby("point", sort=False):
                first = pg.iloc[0]
                overrides = {p: float(first[p]) for p in plan.design.params}
                seeds = pg["seed"].to_numpy(np.int64)
                out = run_seeds(cal, sc, plan.rounds, seeds, plan.rule, "mesa", overrides)
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
        if p in SCENARIO_AXIS_UNITS:
            out[p] = SCENARIO_AXIS_UNITS[p]
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
