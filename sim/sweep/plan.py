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

    config.yaml         the resolved config of the first launch
    design.parquet      the design points (one row per point)
    sweep.json          identity: the config hash and the hashed content (marks the folder
                        as this sweep's; written after the two files above)
    .lock               the folder's lock (chunks/.runs-*.lock: each chunk's, while it runs)
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
from sim.core.constraints import Integer, Name, check_seed
from sim.core.errors import ConfigError
from sim.core.params import ROUNDS, build_params
from sim.core.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.core.scenario import Scenario, scenario_from_dict, scenario_to_dict
from sim.engine import cost
from sim.engine.runner import BATCH_ENGINES, ENGINE
from sim.sweep.design import (
    Design,
    DesignTooLarge,
    auto_chunks,
    check_keys,
    chunk_bounds,
    design_from_spec,
    run_index,
    with_point_values,
)
from sim.sweep.storage import config_hash, inside

CATEGORICAL_KEYS = ("scenario", "calibration")
#: Bump when the folder layout or the table's columns change meaning.
FOLDER_FORMAT = 2
#: Keys of the sweep section that say how to run, not what: excluded from the identity hash.
LAYOUT_KEYS = frozenset({"chunk", "chunks", "id", "output_dir", "progress"})
_SAFE = Name("folder name")
KNOWN_FILES = {
    "sweep.json",
    "config.yaml",
    "design.parquet",
    "chunks",
    "launches",
    "runs.parquet",
    "rounds.parquet",
    "manifest.json",
    "analysis",
}
#: Keys of the sweep section (sim.cli.schema.SweepConfig's fields; a test keeps them in step).
SWEEP_KEYS = (
    "name",
    "design",
    "axes",
    "parameters",
    "assumptions",
    "uncertain",
    "samples",
    "second_order",
    "design_seed",
    "replicates",
    "base_seed",
    "chunks",
    "chunk",
    "id",
    "output_dir",
    "progress",
    "trajectories",
)

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
    #: Per-round variables kept for every run (``rounds.parquet``); empty: none.
    trajectories: tuple[str, ...] = ()

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
    def rounds_path(self) -> Path:
        """The merged per-round trajectories (when the sweep keeps them)."""
        return self.folder / "rounds.parquet"

    def rounds_chunk_path(self, i: int) -> Path:
        """Chunk ``i``'s per-round trajectories."""
        a, b = self.chunks[i]
        return self.folder / "chunks" / f"rounds-{a:07d}-{b:07d}.parquet"

    @property
    def manifest_path(self) -> Path:
        """The manifest (written last: its presence means the sweep is complete)."""
        return self.folder / "manifest.json"

    def is_complete(self) -> bool:
        """True if the table and the manifest of this sweep are both written."""
        if not (self.table_path.exists() and self.manifest_path.exists()):
            return False
        try:
            manifest = json.loads(self.manifest_path.read_text())
            return manifest.get("config_hash") == self.config_hash
        except (ValueError, AttributeError):  # a damaged manifest: merge again
            return False


def _int(key: str, v: Any, lo: int) -> int:
    return Integer(lo, None).check(key, v)


def _named(axis_key: str, names: tuple[str, ...], loader: Callable[[str], Any]) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = loader(name)
        except ConfigError as exc:  # keep the file or key it names, unless it is the group
            group = axis_key.rsplit(".", 1)[-1]
            problem = exc.problem if exc.key in CATEGORICAL_KEYS + (group,) else str(exc)
            raise ConfigError(f"{axis_key}.values", problem) from None
    return out


#: A standing US level and the instrument its timeline events set.
_STANDING = {"us_tariff_slope": "us_tariff_slope", "us_security_pressure": "us_demand"}


def _check_effect(design: Design, scenarios: Mapping[str, Scenario], where: dict[str, str]) -> None:
    """Refuse axes that cannot change anything (an escalation level without an escalation), or
    that change less than their name says (a standing level an escalation ramps away from)."""
    for param in design.params:
        for name, sc in scenarios.items():
            if param in _STANDING and sc.escalation is not None:
                raise ConfigError(
                    where.get(param, "sweep"),
                    f"on scenario {name!r} {param} only sets the level before its escalation "
                    f"ramp starts (round {sc.escalation.start_round}); vary "
                    f"escalation.{param} (the level it ramps to), escalation.start_round or "
                    "escalation.ramp_rounds, or use a scenario without an escalation",
                )
            if param in _STANDING:
                covering = [
                    e
                    for e, ev in sc.timeline.items()
                    if ev.instrument == _STANDING[param] and ev.start == 0 and ev.quarters is None
                ]
                if covering:
                    raise ConfigError(
                        where.get(param, "sweep"),
                        f"{param} has no effect: on scenario {name!r} the timeline event "
                        f"{covering[0]!r} sets it from round 0 on; vary "
                        f"timeline.{covering[0]}.level",
                    )
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


def _scenario_changes(sc0: Scenario, where: str) -> dict[str, Any]:
    """What the config changes over its named base scenario, for every scenario of an axis.

    A config that sets ``scenario.us_policy: reactive`` (say) over its base scenario means it
    for each scenario a ``scenario`` axis names. Changes to a nested block (an escalation or
    an embargo) belong to one scenario's file and are refused with a scenario axis.
    """
    try:
        named = load_scenario(sc0.name)
    except ConfigError:
        return {}
    ours, theirs = dataclasses.asdict(sc0), dataclasses.asdict(named)
    out = {}
    for key, value in ours.items():
        if key in ("name", "description") or value == theirs[key]:
            continue
        if isinstance(value, Mapping) or isinstance(theirs[key], Mapping):
            raise ConfigError(
                f"scenario.{key}",
                f"cannot be changed for every scenario of the axis {where}; "
                "set it in the scenario files instead",
            )
        out[key] = value
    return out


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
        changed = _scenario_changes(sc0, axis_key["scenario"])
        scenarios = _named(axis_key["scenario"], names, lambda n: load_scenario(n, **changed))
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


def sweep_root(value: Any) -> Path:
    """``sweep.output_dir`` as an absolute folder (relative to the current directory)."""
    if value is None:
        value = "results/sweeps"
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("sweep.output_dir", f"must be a folder path, got {value!r}")
    root = Path(value).expanduser()
    return root if root.is_absolute() else Path.cwd() / root


def _design(
    sweep: Mapping[str, Any],
    cal0: Calibration,
    sc0: Scenario,
    runs_per_point: tuple[int, int, str, int],
    force: bool,
) -> Design:
    """The design, refused before its points are built if the sweep would be too large."""
    replicates, rounds, engine, chunks = runs_per_point
    max_points = None if force else cost.max_sweep_runs(engine, rounds) // replicates
    try:
        return design_from_spec(sweep, cal0, max_points, sc0)
    except DesignTooLarge as exc:
        est = cost.sweep(engine, exc.points * replicates, rounds, chunks, replicates, 0)
        more = "at least " if exc.at_least else ""
        over = est.over() or ["more than the bounds allow"]
        raise ConfigError(
            "sweep",
            f"{more}{exc.points:,} points x {replicates:,} replicates = {more}"
            f"{exc.points * replicates:,} runs of {rounds:,} rounds would need "
            f"{' and '.join(over)} (from {exc.key}); make it smaller, or add force=true to "
            "run it anyway",
        ) from None


def plan_sweep(
    sweep: Mapping[str, Any], base: Mapping[str, Any], force: bool = False, workers: int = 1
) -> SweepPlan:
    """Validate a sweep and lay out its runs (nothing runs, nothing is written).

    ``sweep`` is the ``sweep`` section (:class:`sim.cli.schema.SweepConfig` as a mapping);
    ``base`` holds ``calibration`` (a mapping), ``scenario`` (a mapping or Scenario),
    ``rounds`` and ``engine``. Bad input raises a one-line
    :class:`ConfigError` naming the key. A sweep whose estimated time or memory exceeds the
    bounds of :mod:`sim.engine.cost` is refused unless ``force``. ``chunks`` None (the
    default) sizes the chunks from the number of runs and the launcher's ``workers``
    (:func:`sim.sweep.design.auto_chunks`).
    """
    if not isinstance(sweep, Mapping):
        raise ConfigError("sweep", f"expected a mapping, got {sweep!r}")
    check_keys("sweep", sweep, SWEEP_KEYS)
    name = str(sweep.get("name") or "")
    _SAFE.check("sweep.name", name)
    rounds = ROUNDS.check("rounds", base.get("rounds"))
    engine = base.get("engine", "batch")
    ENGINE.check("engine", engine)
    root = sweep_root(sweep.get("output_dir"))
    if sweep.get("id") is not None:
        _SAFE.check("sweep.id", sweep.get("id"))
    replicates = _int("sweep.replicates", sweep.get("replicates", 20), 1)
    base_seed = check_seed("sweep.base_seed", sweep.get("base_seed", 0))
    check_seed("sweep.design_seed", sweep.get("design_seed", 0))
    given_chunks = sweep.get("chunks")
    n_chunks = None if given_chunks is None else _int("sweep.chunks", given_chunks, 1)
    cal0 = calibration_from_dict(base["calibration"], where="calibration")
    sc_raw = base["scenario"]
    sc0 = sc_raw if isinstance(sc_raw, Scenario) else scenario_from_dict(sc_raw)

    design = _design(sweep, cal0, sc0, (replicates, rounds, engine, n_chunks or 1), force)
    n_runs = len(design.points) * replicates
    n_chunks = n_chunks or auto_chunks(n_runs, workers)
    estimate = cost.sweep(engine, n_runs, rounds, n_chunks, replicates, len(design.params))
    cost.check(estimate, "sweep", force)
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

    trajectories = _trajectories(sweep.get("trajectories"), cal0, engine)
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
        "scenarios": {k: scenario_to_dict(v) for k, v in scenarios.items()},
        "calibrations": {k: v.to_dict() for k, v in calibrations.items()},
    }
    if trajectories:
        identity["trajectories"] = list(trajectories)
    chash = config_hash(identity)
    sweep_id = sweep.get("id") or chash
    _SAFE.check("sweep.id", str(sweep_id))
    folder = inside(root, root / name / str(sweep_id), "sweep.output_dir")
    chunks = chunk_bounds(len(runs), n_chunks)
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
        folder=folder,
        trajectories=trajectories,
    )


def _trajectories(value: Any, calibration: Calibration, engine: str) -> tuple[str, ...]:
    """The per-round variables a sweep keeps: a list of round-table columns, or ``all``."""
    if value is None or value is False or (isinstance(value, list | tuple) and not value):
        return ()
    known = [*ROUND_COLUMNS]
    known += [f"{f}_{c}" for f in calibration.firm_names for c in FIRM_COLUMNS]
    if value is True or value == "all" or (isinstance(value, list | tuple) and "all" in value):
        names = known
    elif isinstance(value, list | tuple):
        names = [str(v) for v in value]
    else:
        raise ConfigError("sweep.trajectories", f"expected a list of columns or all, got {value!r}")
    for n in names:
        if n not in known:
            raise ConfigError(
                "sweep.trajectories", f"unknown per-round column {n!r} (see docs/sweeps.md)"
            )
    if engine != "batch":
        raise ConfigError("sweep.trajectories", "per-round trajectories need engine=batch")
    return tuple(dict.fromkeys(names))
