"""The headline results with the assumptions drawn from the posterior, the prior, or fixed.

Three **sources** of parameter values for a calibration (the article's, for the paper):

- ``fixed``: the calibration as it is (every assumption at its value);
- ``prior``: each assumption drawn uniformly over its range (the inference's prior);
- ``posterior``: drawn from the fit's weighted population (resampled by weight).

Every world ``j`` of a source uses draw ``j`` and seed ``seeds[j]`` at every scenario and
grid point (common random numbers), so differences between points are not differences in
luck, and the three sources share their seeds. :func:`run_sources` runs sources x points x draws as
tasks of the batch engine (:class:`sim.engine.worlds.WorldsTask`) on an executor, every
source in one batch (:func:`run_sources`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from experiments.inference.assumptions import AssumptionSpace, assumed_range, entry_of
from experiments.inference.fit import Fit
from experiments.inference.predictive import resample
from sim.core.calibration import Calibration
from sim.core.scenario import Scenario
from sim.engine.worlds import WorldsTask, run_worlds
from sim.sweep.cluster import Executor, LocalExecutor

SOURCES = ("fixed", "prior", "posterior")


def source_draws(
    space: AssumptionSpace, fit: Fit, calibration: Calibration, n: int, seed: int
) -> dict[str, np.ndarray | None]:
    """Per source, ``n`` draws ``u`` (None: the calibration's own values)."""
    prior_rng, post_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    prior = np.empty((0, space.dim))
    while len(prior) < n:  # the prior, restricted to draws this calibration allows too
        u = space.sample_prior(prior_rng, n)
        prior = np.vstack([prior, u[space.valid(u, extra=[calibration])]])
    posterior = resample(fit.u, fit.weights, n, post_rng)
    if not space.valid(posterior, extra=[calibration]).all():
        raise ValueError(f"posterior draws break a constraint of calibration {calibration.name}")
    return {"fixed": None, "prior": prior[:n], "posterior": posterior}


def fixed_overrides(
    space: AssumptionSpace, calibration: Calibration, n: int
) -> dict[str, np.ndarray]:
    """The calibration's own values of its assumptions, as overrides for ``n`` worlds (the
    same numbers as no override: the ``fixed`` source can share a batch with the others)."""
    out = {}
    for name in space.names:
        if assumed_range(calibration, name) is not None:
            e = entry_of(calibration, name)
            assert e is not None
            out[name] = np.full(n, float(e.value))
    return out


def run_sources(
    calibration: Calibration,
    scenario: Scenario,
    rounds: int,
    space: AssumptionSpace,
    draws: Mapping[str, np.ndarray | None],
    seeds: np.ndarray,
    points: pd.DataFrame | None = None,
    executor: Executor | None = None,
    chunk_worlds: int = 4096,
) -> pd.DataFrame:
    """Outcomes of every source's draws at every point, one row per (source, point, draw).

    ``draws`` maps a source to its draws ``u`` ``(n, dim)`` (None: the calibration's values);
    ``points`` holds scenario levels (columns named as :func:`sim.core.params.build_params`
    overrides, e.g. ``escalation.us_tariff_level``), one row per point; None = one point,
    the scenario as it is. All of it is one batch of the engine (cut into tasks of at most
    ``chunk_worlds``): a world's result does not depend on the others in its batch.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    n = len(seeds)
    pts = points if points is not None else pd.DataFrame(index=[0])
    k = len(pts)
    parts: list[dict[str, np.ndarray]] = []
    for u in draws.values():
        ov = (
            fixed_overrides(space, calibration, n) if u is None else space.overrides(calibration, u)
        )
        block = {name: np.tile(v, k) for name, v in ov.items()}
        for col in pts.columns:
            block[col] = np.repeat(pts[col].to_numpy(np.float64), n)
        parts.append(block)
    names = set().union(*parts)
    if any(set(b) != names for b in parts):
        raise ValueError("every source must override the same entries")
    ov_all = {c: np.concatenate([b[c] for b in parts]) for c in sorted(names)}
    all_seeds = np.tile(seeds, k * len(parts))
    total = len(all_seeds)
    tasks = []
    for a in range(0, total, chunk_worlds):
        b = min(a + chunk_worlds, total)
        part: Mapping[str, np.ndarray] = {c: v[a:b] for c, v in ov_all.items()}
        tasks.append(WorldsTask(calibration, scenario, rounds, all_seeds[a:b], part))
    results = (executor or LocalExecutor()).map(run_worlds, tasks)
    out = pd.concat([r.outcomes for r in results], ignore_index=True)
    lead = pd.DataFrame(
        {
            "source": np.repeat(list(draws), n * k),
            "point": np.tile(np.repeat(np.arange(k), n), len(parts)),
            "draw": np.tile(np.arange(n), k * len(parts)),
            "seed": all_seeds,
        }
    )
    for col in pts.columns:
        lead[col] = np.tile(np.repeat(pts[col].to_numpy(), n), len(parts))
    return pd.concat([lead, out], axis=1)
