"""Running a figure's design as a sweep would, in-process; seeds, design records, columns.

Nothing here is new simulation code. Designs are planned and run by the sweep library exactly
as ``python -m sim +experiment=...`` runs them (:func:`sim.sweep.plan_sweep`, then
:func:`sim.sweep.run_chunk` for each chunk, in-process, nothing written). The plan's
``config_hash`` goes into the manifest (:func:`design_info`): the same design run with
``python -m sim`` lands in a sweep folder with that id.

Noise levels (:data:`NOISE`, the same as :mod:`experiments.compare_scenarios`): a figure's
optional ``noise`` list runs its design at the calibrated temperatures (``calibrated``) and/or
with every decision's temperature divided by 10 (``near-BR``,
:meth:`sim.core.calibration.Calibration.near_best_response`); its table gets a ``noise``
column (:func:`noise_levels`, :func:`run_designs`).

State models (:data:`STATES`): a figure's optional ``states`` list runs its design with the US
and China ``strategic`` (each scales its schedule's severity by a logit on its own expected
payoff, anticipating Japan's quantal response: the named scenarios' default) and/or
``reactive`` (the fixed reactive rules apply the pressure the scenario, or the design's axes,
set). Every scenario of the plan gets ``us_policy`` and ``china_policy`` set accordingly, so
the plan's identity and ``config_hash`` say which (:func:`at_states`); every table has a
``states`` column (:func:`state_models`, :func:`run_designs`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from experiments.compare_scenarios import NOISE
from sim.catalog import load_calibration, load_scenario
from sim.core import registry
from sim.core.errors import ConfigError
from sim.core.scenario import Scenario
from sim.sweep.design import chunk_bounds
from sim.sweep.execute import run_chunk, units
from sim.sweep.plan import LAYOUT_KEYS as PLAN_LAYOUT_KEYS
from sim.sweep.plan import SWEEP_KEYS as PLAN_SWEEP_KEYS
from sim.sweep.plan import SweepPlan, plan_sweep
from sim.sweep.storage import config_hash

#: Keys of a figure config's ``sweep`` section (the ``sweep`` schema of an experiment config,
#: less the layout keys, which the pipeline sets itself).
SWEEP_KEYS = frozenset(PLAN_SWEEP_KEYS) - {"name", "trajectories", *PLAN_LAYOUT_KEYS}
#: Axes of a grid that list names rather than vary a parameter.
CATEGORICAL = ("calibration", "scenario")
#: State models a figure's ``states`` list may name (the first is the scenarios' default).
STATES = ("strategic", "reactive")
STATES_UNIT = (
    "state model: strategic = the US and China each scale the severity of their schedule "
    "(a multiplier 0-2 of the scenario's tariff slope / coercion) by a logit on their own "
    "expected payoff, anticipating Japan's quantal response (the named scenarios' default); "
    "reactive = the fixed reactive rules apply the scenario's pressure as set"
)
#: Runs per chunk: bounds the memory of one batch (its per-round schedules are about 4 kB a
#: run); the table does not depend on it.
CHUNK_RUNS = 20_000

#: The one local mapping kept so that the committed paper tables keep their column names and
#: manifest units: design parameter -> (unit suffix added to the registry's table column, unit
#: text in MANIFEST.json). Labels and units for axes come from the registry
#: (:func:`experiments.figures.labels.axis_label`); other parameters get the registry's column
#: and the sweep's unit. (Used by the grid tables and the tipping points.)
PAPER_COLUMNS: dict[str, tuple[str, str]] = {
    "escalation.us_tariff_slope": (
        "_share",
        "US tariff at the end of the escalation ramp, ad-valorem share (0.35 = 35%)",
    ),
    "escalation.us_security_pressure": (
        "_share",
        "export-control compliance the US demands at the end of the ramp, share 0-1 of full "
        "alignment",
    ),
    "lobbying_strength": (
        "_x",
        "multiplier on firms' lobbying effort (0 = silent, 1 = as calibrated)",
    ),
    "fiscal_stress": (
        "_level",
        "fiscal stress level (0 = as calibrated, 1 = the fiscal_stress scenario)",
    ),
}


def param_column(param: str) -> str:
    """The table column of a design parameter (registry column, unit suffix if it has one)."""
    param = registry.canonical(param)
    suffix = PAPER_COLUMNS[param][0] if param in PAPER_COLUMNS else ""
    return registry.table_column(param) + suffix


def param_unit(param: str, plan: SweepPlan) -> str:
    """The unit of a design parameter (the sweep table's unit if it has no paper column)."""
    param = registry.canonical(param)
    if param in PAPER_COLUMNS:
        return PAPER_COLUMNS[param][1]
    return units(plan).get(f"unit:{param}", param)


def seed_info(replicates: int, base_seed: int, where: str = "at every design point") -> dict:
    """The manifest's record of the seeds: base, count and the range in words."""
    return {
        "base_seed": int(base_seed),
        "replicates": int(replicates),
        "seeds": f"{base_seed}..{base_seed + replicates - 1} {where}",
    }


def replicates(plan: SweepPlan) -> tuple[int, int]:
    """(replicates per point, first seed) of a planned design."""
    return int(plan.runs["replicate"].max()) + 1, int(plan.runs["seed"].min())


def plan_seeds(plan: SweepPlan) -> dict:
    """:func:`seed_info` of a planned design."""
    return seed_info(*replicates(plan))


def design_info(
    plan: SweepPlan, noise: str = "calibrated", states: str = STATES[0]
) -> dict[str, Any]:
    """The manifest's record of a design run (kind, size, names, states, noise, hash, seeds)."""
    return {
        "design": plan.design.kind,
        "states": states,
        "us_policy": sorted({s.us_policy for s in plan.scenarios.values()}),
        "china_policy": sorted({s.china_policy for s in plan.scenarios.values()}),
        "noise": noise,
        "temperature_divisor": NOISE[noise],
        "points": len(plan.design.points),
        "runs": plan.n_runs,
        "rounds": plan.rounds,
        "scenarios": sorted(plan.scenarios),
        "calibrations": sorted(plan.calibrations),
        "config_hash": plan.config_hash,
        **plan_seeds(plan),
    }


def axis_values(spec: Mapping[str, Any], param: str) -> list[Any] | None:
    """The listed ``values`` of the grid axis that varies ``param`` (None if it has none)."""
    for label, ax in (spec.get("axes") or {}).items():
        if (ax.get("param") or label) == param:
            return list(ax["values"]) if "values" in ax else None
    return None


def grid_params(spec: Mapping[str, Any]) -> list[str]:
    """The parameters a grid section varies, in its axes' order (names axes left out)."""
    params = [ax.get("param") or label for label, ax in (spec.get("axes") or {}).items()]
    return [registry.canonical(p) for p in params if p not in CATEGORICAL]


def order(values: pd.Series, names: Sequence[str]) -> pd.Series:
    """Position of each value in ``names`` (for sorting names in config order)."""
    pos = {v: i for i, v in enumerate(names)}
    return values.map(pos)


def _listed(cfg: Mapping[str, Any], key: str, allowed: Sequence[str], default: str) -> list[str]:
    """The config's list ``key`` (default ``[default]``), each value one of ``allowed``, once."""
    values = cfg.get(key) or [default]
    what = {"noise": "noise level", "states": "state model"}.get(key, "value")
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ConfigError(key, f"expected a list of {what}s ({', '.join(allowed)})")
    for v in values:
        if v not in allowed:
            raise ConfigError(key, f"unknown {what} {v!r} (choose from {', '.join(allowed)})")
    if len(set(values)) != len(values):
        raise ConfigError(key, f"a {what} is listed twice: {list(values)}")
    return list(values)


def noise_levels(cfg: Mapping[str, Any]) -> list[str]:
    """The config's ``noise`` list (default: the calibrated temperatures only), checked."""
    return _listed(cfg, "noise", list(NOISE), "calibrated")


def state_models(cfg: Mapping[str, Any], one: bool = False) -> list[str]:
    """The config's ``states`` list (default: strategic, the scenarios' own), checked.

    ``one``: the figure draws a single state model, so the list must have one entry.
    """
    models = _listed(cfg, "states", STATES, STATES[0])
    if one and len(models) != 1:
        raise ConfigError("states", f"this figure draws one state model, got {models}")
    return models


def with_states(scenario: Scenario, states: str) -> Scenario:
    """``scenario`` with the US and China acting under state model ``states``."""
    return dataclasses.replace(scenario, us_policy=states, china_policy=states)


def at_states(plan: SweepPlan, states: str) -> SweepPlan:
    """``plan`` with every scenario's US and China under ``states`` (identity and hash updated).

    This covers a ``scenario`` axis too: :func:`sim.sweep.plan_sweep` loads the scenarios an
    axis names by name, without the base scenario's overrides.
    """
    scenarios = {k: with_states(s, states) for k, s in plan.scenarios.items()}
    if scenarios == plan.scenarios:
        return plan
    identity = {
        **plan.identity,
        "scenarios": {k: dataclasses.asdict(s) for k, s in scenarios.items()},
    }
    return dataclasses.replace(
        plan, scenarios=scenarios, identity=identity, config_hash=config_hash(identity)
    )


NOISE_UNIT = (
    "decision noise: calibrated = the calibration's temperatures; near-BR = near best "
    "response, every decision's temperature divided by 10"
)


def at_noise(plan: SweepPlan, noise: str) -> SweepPlan:
    """``plan`` with every calibration at noise level ``noise`` (identity and hash updated).

    The calibrations keep their names in the run table; their temperatures are divided by
    ``NOISE[noise]`` (:meth:`~sim.core.calibration.Calibration.near_best_response`).
    """
    factor = NOISE[noise]
    if factor == 1.0:
        return plan
    cals = {k: c.near_best_response(factor) for k, c in plan.calibrations.items()}
    identity = {**plan.identity, "calibrations": {k: c.to_dict() for k, c in cals.items()}}
    return dataclasses.replace(
        plan, calibrations=cals, identity=identity, config_hash=config_hash(identity)
    )


def run_design(
    cfg: Mapping[str, Any],
    spec: Mapping[str, Any],
    name: str,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    noise: str = "calibrated",
    states: str = STATES[0],
) -> tuple[pd.DataFrame, SweepPlan]:
    """Run a design on the batch engine (compiled kernels) in-process, as a sweep would; (run table, plan).

    ``spec`` is a sweep section (grid/lhs/sobol, replicates, base_seed); ``cfg`` gives the
    rounds and the base calibration and scenario (a ``calibration`` or ``scenario`` axis
    overrides them); ``noise`` a level of :data:`NOISE` (:func:`at_noise`); ``states`` a state
    model of :data:`STATES`, set on the base scenario (as an experiment config's
    ``scenario: {us_policy: ..., china_policy: ...}`` does) and on every scenario of a
    ``scenario`` axis (:func:`at_states`). The runs are cut into chunks of at most
    :data:`CHUNK_RUNS` and each is computed by :func:`sim.sweep.run_chunk` (nothing is
    written); ``keep`` may reduce each chunk's rows to the columns needed, to save memory on
    large designs.
    """
    bad = sorted(set(spec) - SWEEP_KEYS)
    if bad:
        raise ConfigError(
            f"sweep.{bad[0]}", f"unknown key (allowed: {', '.join(sorted(SWEEP_KEYS))})"
        )
    cal_name = cfg.get("calibration") or (axis_values(spec, "calibration") or ["article"])[0]
    sc_name = cfg.get("scenario") or (axis_values(spec, "scenario") or ["baseline"])[0]
    base = {
        "calibration": load_calibration(cal_name).to_dict(),
        "scenario": load_scenario(sc_name, us_policy=states, china_policy=states),
        "rounds": cfg["rounds"],
        "engine": "numba",
    }
    plan = plan_sweep({**spec, "name": name, "chunks": 1}, base)
    plan = at_noise(at_states(plan, states), noise)
    n_chunks = max(1, math.ceil(plan.n_runs / CHUNK_RUNS))
    plan = dataclasses.replace(plan, chunks=chunk_bounds(plan.n_runs, n_chunks))
    parts = []
    for i in range(len(plan.chunks)):
        part = run_chunk(plan, i)
        parts.append(keep(part) if keep is not None else part)
    return pd.concat(parts, ignore_index=True), plan


#: A design run under one state model and one noise level: (states, noise).
Variant = tuple[str, str]


def run_designs(
    cfg: Mapping[str, Any],
    spec: Mapping[str, Any],
    name: str,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    one_state_model: bool = False,
) -> tuple[pd.DataFrame, dict[Variant, SweepPlan]]:
    """:func:`run_design` under each of the config's state models and at each noise level.

    Every variant runs the same design and seeds; the run table's leading ``states`` and
    ``noise`` columns say which. Returns (runs, plans by (states, noise)), in config order:
    state models first, then noise levels. ``one_state_model``: the figure draws one.
    """
    frames, plans = [], {}
    models = state_models(cfg, one=one_state_model)
    for states in models:
        for level in noise_levels(cfg):
            runs, plans[states, level] = run_design(cfg, spec, name, keep, level, states)
            runs.insert(0, "noise", level)
            runs.insert(0, "states", states)
            frames.append(runs)
    return pd.concat(frames, ignore_index=True), plans


def designs_record(kind: str, plans: Mapping[Variant, SweepPlan]) -> dict[str, dict[str, Any]]:
    """The manifest's ``designs`` of :func:`run_designs`: ``<kind> (<states>, <noise>)`` each."""
    return {f"{kind} ({st}, {n})": design_info(p, n, st) for (st, n), p in plans.items()}
