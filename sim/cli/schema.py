"""Hydra structured configs: the schema that turns typos and wrong types into errors early.

The calibration and the scenario are mappings validated by :func:`sim.core.calibration.calibration_from_dict` and
:func:`sim.core.scenario.scenario_from_dict`, exactly as a named file is validated anywhere
else (one line per problem).
An experiment (``configs/experiment/*.yaml``) adds a ``sweep`` section (:class:`SweepConfig`);
its domain checks (known parameters, non-empty ranges) are in :mod:`sim.sweep.design`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class AxisConfig:
    """One grid axis: ``values``, or ``start``/``stop`` with ``num`` points or a ``step``."""

    #: Parameter the axis varies (a ``build_params`` override name, or ``scenario`` /
    #: ``calibration``); default: the axis' key in ``sweep.axes``.
    param: str | None = None
    values: list[Any] | None = None
    start: float | None = None
    stop: float | None = None
    num: int | None = None
    step: float | None = None


@dataclass
class ParamRangeConfig:
    """One sampled parameter of an LHS/Sobol design; bounds default to the calibration's range."""

    param: str = ""
    low: float | None = None
    high: float | None = None


@dataclass
class SweepConfig:
    """An experiment's design and how it is cut into Hydra jobs (``+experiment=...``)."""

    #: Experiment name: results go to ``<output_dir>/<name>/<id>/``.
    name: str = "sweep"
    #: ``grid`` (full factorial over ``axes``), ``lhs`` or ``sobol`` (over ``parameters``).
    design: str = "grid"
    axes: dict[str, AxisConfig] = field(default_factory=dict)
    parameters: list[ParamRangeConfig] = field(default_factory=list)
    #: lhs/sobol: also sample every calibration entry with provenance ``assumption``.
    assumptions: bool = False
    #: lhs/sobol: also sample every calibration entry with a range (article and external
    #: figures with their sensitivity ranges, assumptions, the detector's constants).
    uncertain: bool = False
    #: lhs: number of points; sobol: base sample size N (a power of 2).
    samples: int = 64
    #: sobol: also compute second-order indices (N * (2D + 2) points instead of N * (D + 2)).
    second_order: bool = False
    #: Seed of the LHS/Sobol sampler (not of the simulations).
    design_seed: Any = 0
    #: Replicate runs per design point, seeded base_seed, base_seed + 1, ...
    #: (common random numbers: every point gets the same seeds).
    replicates: int = 20
    base_seed: Any = 0
    #: Chunks the runs are cut into (contiguous; one Hydra job each on a parallel launcher);
    #: None sizes them from the design and the launcher's workers (about 20,000 runs each).
    chunks: int | None = None
    #: Set by ``python -m sim`` for each job; None = every chunk in this process.
    chunk: int | None = None
    #: Folder name under ``<output_dir>/<name>/``; None = the sweep's config hash.
    id: str | None = None
    output_dir: str = "results/sweeps"
    #: Show a progress bar (runs done, rate, time left).
    progress: bool = True
    #: Per-round columns to keep for every run (``rounds.parquet``, for fan charts), or
    #: ``[all]``; empty: none (the run table only).
    trajectories: list[str] = field(default_factory=list)


@dataclass
class ClusterConfig:
    """Where an experiment's chunks run: a Dask scheduler (``tcp://host:8786``), or here."""

    #: Scheduler address; None = in this process (or on the Hydra launcher).
    address: str | None = None
    #: Seconds to wait for the scheduler and its first worker.
    timeout: float = 30.0


@dataclass
class RunConfig:
    """``python -m sim``: one scenario, one seed (or, with a ``sweep`` section, an experiment)."""

    # Checked by sim.core.constraints.check_seed (the same range and message everywhere).
    seed: Any = 0
    rounds: int = 40
    engine: str = "mesa"
    output_dir: str = "results/runs"
    #: Run even if the estimated time or memory exceeds the bounds of sim.engine.cost.
    force: bool = False
    calibration: dict[str, Any] = field(default_factory=dict)
    # Validated by sim.core.scenario.scenario_from_dict, as every scenario file is (one message).
    scenario: dict[str, Any] = field(default_factory=dict)
    sweep: SweepConfig | None = None
    #: ``cluster.address=tcp://host:8786``: compute an experiment's chunks on a Dask cluster.
    cluster: ClusterConfig = field(default_factory=ClusterConfig)


def register_configs() -> None:
    """Register the schemas in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConfig)
