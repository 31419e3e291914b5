"""Sweeps: a design run in chunks on the batch engine, written to a sweep folder (no Hydra).

A sweep is planned from two plain mappings, the ``sweep`` section of an experiment config and
the rest of the resolved config (calibration, scenario, rounds, engine):
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
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.catalog import load_calibration, load_scenario
from sim.core.calibration import Calibration, calibration_from_dict
from sim.core.constraints import Integer, Name
from sim.core.errors import ConfigError
from sim.core.params import build_params
from sim.core.scenario import Scenario, scenario_from_dict
from sim.engine.runner import BATCH_ENGINES, ENGINE
from sim.sweep.design import (
    Design,
    auto_chunks,
    chunk_bounds,
    design_from_spec,
    run_index,
    with_point_values,
)
from sim.sweep.storage import (
    config_hash,
)

#: Bump when the folder layout or the table's columns change meaning.
FOLDER_FORMAT = 1
#: Keys of the sweep section that say how to run, not what: excluded from the identity hash.
LAYOUT_KEYS = frozenset({"chunk", "chunks", "id", "output_dir", "progress"})
_SAFE = Name("folder name")
KNOWN_FILES = {"sweep.json", "config.yaml", "design.parquet", "chunks", "launches", "runs.parquet"}

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


@dataclass
class SweepPlan:
    """A validated sweep: its runs, chunks, inputs and folder; nothing has run yet."""

    name: str
    design: Design
    #: One row per run: run_id, point, replicate, seed, scenario, calibration, rounds; the
    #: parameter values stay per point in ``design.points`` (:meth:`chunk_runs` joins them).
    runs: pd.DataFrame
    chunks: list[tuple[int, int]]
    rounds: int
    engine: str
    calibrations: dict[str, Calibration]
    scenarios: dict[str, Scenario]
    identity: dict
    config_hash: str
    folder: Path

    @property
    def n_runs(self) -> int:
        """Number of runs (design points x replicates)."""
        return len(self.runs)

    def chunk_runs(self, i: int) -> pd.DataFrame:
        """Chunk ``i``'s runs with their points' parameter values (index: run positions)."""
        a, b = self.chunks[i]
        return with_point_values(self.runs.iloc[a:b], self.design, self.design.params)

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
    return Integer(lo, None).check(key, v)


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


def _inputs(
    design: Design, axis_key: dict[str, str], cal0: Calibration, sc0: Scenario
) -> tuple[dict[str, Calibration], dict[str, Scenario]]:
    """The calibrations and scenarios a design runs: those its axes name, else the config's."""
    if "calibration" in axis_key:
        names = tuple(design.points["calibration"].unique())
        calibrations = _named(axis_key["calibration"], names, load_calibration)
    else:
        calibrations = {cal0.name: cal0}
    if "scenario" in axis_key:
        names = tuple(design.points["scenario"].unique())
        scenarios = _named(axis_key["scenario"], names, load_scenario)
    else:
        scenarios = {sc0.name: sc0}
    return calibrations, scenarios


#: Design points checked at once by :func:`_check_points`.
_CHECK_POINTS = 8192


def _check_points(
    design: Design,
    axis_key: dict[str, str],
    calibrations: dict[str, Calibration],
    scenarios: dict[str, Scenario],
    cal_name: str,
    sc_name: str,
    rounds: int,
) -> None:
    """Every value of every point through build_params: bad names or out-of-range values fail
    here, before any run starts."""
    pts = design.points
    sc_col = pts["scenario"] if "scenario" in pts else pd.Series(sc_name, index=pts.index)
    cal_col = pts["calibration"] if "calibration" in pts else pd.Series(cal_name, index=pts.index)
    groups = pts.groupby([sc_col, cal_col], sort=False).indices
    for key, rows in groups.items():
        sc, cal = str(key[0]), str(key[1])  # type: ignore[index]
        # In slices: the parameters of a large design at once would hold per-round schedules
        # for every point (a Sobol design's 150,000 points x 40 rounds: over 0.5 GB).
        for start in range(0, len(rows), _CHECK_POINTS):
            part = rows[start : start + _CHECK_POINTS]
            overrides = {p: pts[p].to_numpy(np.float64)[part] for p in design.params}
            try:
                build_params(
                    calibrations[str(cal)], scenarios[str(sc)], rounds, len(part), overrides
                )
            except ConfigError as exc:
                where = axis_key.get(exc.key, "sweep.parameters")
                raise ConfigError(where, str(exc)) from None


def plan_sweep(sweep: Mapping[str, Any], base: Mapping[str, Any], workers: int = 1) -> SweepPlan:
    """Validate a sweep and lay out its runs (nothing runs, nothing is written).

    ``sweep`` is the ``sweep`` section (:class:`sim.cli.schema.SweepConfig` as a mapping);
    ``base`` holds ``calibration`` (a mapping), ``scenario`` (a mapping or Scenario),
    ``rounds`` and ``engine``. Bad input raises a one-line
    :class:`ConfigError` naming the key. ``chunks`` None (the default) sizes the chunks from
    the number of runs and the launcher's ``workers`` (:func:`sim.sweep.design.auto_chunks`).
    """
    name = str(sweep.get("name") or "")
    _SAFE.check("sweep.name", name)
    rounds = _int("rounds", base.get("rounds"), 1)
    engine = base.get("engine", "batch")
    ENGINE.check("engine", engine)
    cal0 = calibration_from_dict(base["calibration"], where="calibration")
    sc_raw = base["scenario"]
    sc0 = sc_raw if isinstance(sc_raw, Scenario) else scenario_from_dict(sc_raw)

    design = design_from_spec(sweep, cal0)
    replicates = _int("sweep.replicates", sweep.get("replicates", 20), 1)
    base_seed = _int("sweep.base_seed", sweep.get("base_seed", 0), 0)
    runs = run_index(design, replicates, base_seed)
    axis_key = {a.param: f"sweep.axes.{a.label}" for a in design.axes}
    calibrations, scenarios = _inputs(design, axis_key, cal0, sc0)
    for col, single in (("calibration", cal0.name), ("scenario", sc0.name)):
        if col in axis_key:
            runs[col] = design.points[col].to_numpy()[runs["point"].to_numpy()]
        else:
            runs[col] = single
    runs["rounds"] = np.int64(rounds)
    runs = runs[["run_id", "point", "replicate", "seed", "scenario", "calibration", "rounds"]]
    _check_effect(design, scenarios, axis_key)
    _check_points(design, axis_key, calibrations, scenarios, cal0.name, sc0.name, rounds)

    identity = {
        "format": FOLDER_FORMAT,
        "experiment": name,
        "design": design.describe(),
        "replicates": replicates,
        "base_seed": base_seed,
        "rounds": rounds,
        # The batch engine and its compiled kernels give the same numbers to the bit
        # (tests/test_equivalence.py): one sweep, whichever of the two computes a chunk.
        "engine": "batch" if engine in BATCH_ENGINES else engine,
        "scenarios": {k: dataclasses.asdict(v) for k, v in scenarios.items()},
        "calibrations": {k: v.to_dict() for k, v in calibrations.items()},
    }
    chash = config_hash(identity)
    sweep_id = sweep.get("id") or chash
    _SAFE.check("sweep.id", str(sweep_id))
    root = Path(str(sweep.get("output_dir") or "results/sweeps"))
    root = root if root.is_absolute() else Path.cwd() / root
    n_chunks = sweep.get("chunks")
    if n_chunks is None:
        n_chunks = auto_chunks(len(runs), workers)
    chunks = chunk_bounds(len(runs), _int("sweep.chunks", n_chunks, 1))
    return SweepPlan(
        name=name,
        design=design,
        runs=runs,
        chunks=chunks,
        rounds=rounds,
        engine=engine,
        calibrations=calibrations,
        scenarios=scenarios,
        identity=identity,
        config_hash=chash,
        folder=root / name / str(sweep_id),
    )
