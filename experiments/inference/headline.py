"""The headline results with the assumptions drawn from the posterior, the prior, or fixed.

Three **sources** of parameter values for a calibration (the article's, for the paper):

- ``fixed``: the calibration as it is (every assumption at its value);
- ``prior``: each assumption drawn uniformly over its range (the inference's prior);
- ``posterior``: drawn from the fit's weighted population (resampled by weight).

Every world ``j`` of a source uses draw ``j`` and seed ``seeds[j]`` at every scenario and
grid point (common random numbers), so differences between points are not differences in
luck, and the three sources share their seeds. :func:`run_draws` runs draws x points as
tasks of the batch engine (:class:`sim.engine.worlds.WorldsTask`) on an executor.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from experiments.inference.assumptions import AssumptionSpace
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


def run_draws(
    calibration: Calibration,
    scenario: Scenario,
    rounds: int,
    space: AssumptionSpace,
    draws: np.ndarray | None,
    seeds: np.ndarray,
    points: pd.DataFrame | None = None,
    executor: Executor | None = None,
    chunk_worlds: int = 2048,
) -> pd.DataFrame:
    """Outcomes of every draw at every point: one row per (point, draw), in that order.

    ``points`` holds scenario levels (columns named as :func:`sim.core.params.build_params`
    overrides, e.g. ``escalation.us_tariff_level``), one row per point; None = one point,
    the scenario as it is.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    n = len(seeds)
    pts = points if points is not None else pd.DataFrame(index=[0])
    k = len(pts)
    ov: dict[str, np.ndarray] = {}
    if draws is not None:
        ov = {name: np.tile(v, k) for name, v in space.overrides(calibration, draws).items()}
    for col in pts.columns:
        ov[col] = np.repeat(pts[col].to_numpy(np.float64), n)
    all_seeds = np.tile(seeds, k)
    tasks = []
    for a in range(0, n * k, chunk_worlds):
        b = min(a + chunk_worlds, n * k)
        part: Mapping[str, np.ndarray] = {c: v[a:b] for c, v in ov.items()}
        tasks.append(WorldsTask(calibration, scenario, rounds, all_seeds[a:b], part))
    results = (executor or LocalExecutor()).map(run_worlds, tasks)
    out = pd.concat([r.outcomes for r in results], ignore_index=True)
    lead = pd.DataFrame(
        {"point": np.repeat(np.arange(k), n), "draw": np.tile(np.arange(n), k), "seed": all_seeds}
    )
    for col in pts.columns:
        lead[col] = np.repeat(pts[col].to_numpy(), n)
    return pd.concat([lead, out], axis=1)
