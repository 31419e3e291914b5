"""One ABC-SMC fit: the assumptions calibrated to some episodes' observed outcomes (pyabc).

:func:`fit` runs pyabc's ABC-SMC (Del Moral et al. 2012; Klinger et al. 2018) with

- the prior :class:`Prior` (uniform over each assumption's range, written as a standard
  normal per parameter, ``u = Φ(z)``, so the kernel never proposes outside a range);
- the model: the episodes' replays, one world per particle, simulated a wave at a time by
  :class:`~experiments.inference.sampler.BatchSampler` (world ``i`` of a fit, counting
  every simulation from the calibration sample on, is seeded ``base_seed + i``);
- the distance :class:`~experiments.inference.observations.StandardizedDistance`;
- pyabc's defaults otherwise: a multivariate normal kernel fitted to the last population
  (Silverman's bandwidth), the threshold each generation at the ``alpha`` quantile of the
  last population's distances (the first from the calibration sample), uniform acceptance;
- stopping after ``generations`` populations, or when a generation's acceptance rate falls
  below ``min_acceptance_rate``.

pyabc draws its proposals from numpy's global generator; :func:`fit` seeds it with
``seed`` and puts the previous state back afterwards, so a fit is a pure function of its
inputs (the same posterior locally and on a cluster).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyabc

from experiments.inference.assumptions import AssumptionSpace, to_place
from experiments.inference.observations import StandardizedDistance
from experiments.inference.sampler import BatchSampler, DeferredModel
from experiments.inference.simulate import EpisodeSimulator

_LOG_2PI = float(np.log(2.0 * np.pi))


class Prior(pyabc.Distribution):
    """The active parameters' prior: independent standard normals ``z`` (``u = Φ(z)``
    uniform over each range), restricted to draws the space allows
    (:meth:`AssumptionSpace.valid`, checked with the inactive parameters anywhere: the
    constraint joins active ones only, :data:`~experiments.inference.screen.ALWAYS_ACTIVE`).

    ``rvs`` and ``pdf`` are vectorized over the parameters (pyabc's generic ones call one
    scipy distribution per parameter); draws come from numpy's global generator, as pyabc's.
    """

    def __init__(self, space: AssumptionSpace, active: np.ndarray) -> None:
        self.space = space
        self.active = np.flatnonzero(active)
        self.order = [space.keys[j] for j in self.active]
        super().__init__(**{k: pyabc.RV("norm", 0.0, 1.0) for k in self.order})

    def _valid(self, z: np.ndarray) -> bool:
        u = np.full((1, self.space.dim), 0.5)
        u[0, self.active] = to_place(z)
        return bool(self.space.valid(u)[0])

    def rvs(self, *args, **kwargs) -> pyabc.Parameter:
        while True:
            # pyabc draws every proposal from numpy's global generator: so does its prior
            z = np.random.standard_normal(len(self.order))  # noqa: NPY002
            if self._valid(z):
                return pyabc.Parameter(dict(zip(self.order, z.tolist(), strict=True)))

    def pdf(self, x) -> float:
        z = np.array([float(x[k]) for k in self.order])
        if not self._valid(z):
            return 0.0
        return float(np.exp(-0.5 * (z @ z) - 0.5 * len(z) * _LOG_2PI))


@dataclass(frozen=True)
class Settings:
    """ABC-SMC's size and seeds."""

    population: int = 500
    generations: int = 5
    alpha: float = 0.5
    min_acceptance_rate: float = 0.01
    #: numpy's global generator (pyabc's proposals).
    seed: int = 0
    #: World seeds: base_seed, base_seed + 1, ... in simulation order.
    base_seed: int = 0
    #: Worlds per batch-engine task (what one cluster task computes).
    chunk_worlds: int = 256


@dataclass
class Fit:
    """A finished fit: the last population (places ``u`` and weights) and its record."""

    name: str
    episodes: list[str]
    space: AssumptionSpace
    u: np.ndarray
    weights: np.ndarray
    #: Per generation: t, epsilon, simulations, acceptance rate, ESS.
    populations: pd.DataFrame
    #: Per observed row of the fit: id, in the distance?, why not, sd (its scale), observed.
    statistics: pd.DataFrame
    simulations: int
    seconds: float
    settings: Settings
    #: Per parameter: moved by the kernel (True) or drawn from the prior each time.
    active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    waves: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def ess(self) -> float:
        """Effective sample size of the last population (1 / sum of squared weights)."""
        return float(1.0 / np.sum(self.weights**2))

    def summary(self) -> pd.DataFrame:
        """Per parameter: prior range and fixed value (reference units), posterior median and
        90% interval, and how far the posterior moved from the prior.

        ``ks`` is the Kolmogorov-Smirnov distance between the weighted posterior of the place
        ``u`` and the uniform prior; ``ks_noise`` what a posterior equal to the prior would
        reach 5% of the time with this effective sample size (1.36 / sqrt(ESS)); a parameter
        is ``informed`` when ``ks`` exceeds it.
        """
        values = self.space.reference_values(self.u)
        noise = 1.36 / np.sqrt(self.ess)
        rows = []
        for j, a in enumerate(self.space.assumptions):
            lo, hi = self.space.reference_range(a.name)
            q05, q50, q95 = weighted_quantiles(values[a.name].to_numpy(), self.weights)
            ks = ks_uniform(self.u[:, j], self.weights)
            rows.append(
                {
                    "parameter": a.name,
                    "reference": a.reference,
                    "prior_low": lo,
                    "prior_high": hi,
                    "fixed": self.space.reference_default(a.name),
                    "posterior_median": q50,
                    "posterior_q05": q05,
                    "posterior_q95": q95,
                    "interval_share_of_range": (q95 - q05) / (hi - lo) if hi > lo else np.nan,
                    "ks": ks,
                    "ks_noise": noise,
                    "informed": bool(ks > noise),
                    "active": bool(self.active[j]) if self.active.size else False,
                }
            )
        return pd.DataFrame(rows)

    def particles(self) -> pd.DataFrame:
        """One row per particle: weight, then each parameter in its reference units."""
        values = self.space.reference_values(self.u)
        values.insert(0, "weight", self.weights)
        return values


#: Salt of the generators that draw a world's inactive parameters from its seed.
INACTIVE_SALT = 1212
#: Prefix of the summary-statistic entries that carry a particle's places ``u``.
PLACE = "u:"


class _BatchSimulator:
    """pyabc's active parameters -> summary statistics, one world each.

    World ``i`` of the fit is seeded ``base_seed + i``; its inactive parameters are drawn
    from the prior by a generator seeded ``(INACTIVE_SALT, seed)``, so they depend on the
    world alone, not on the batch. Every parameter's place ``u`` travels with the
    statistics (entries ``u:<name>``), so the population holds the joint posterior.
    """

    def __init__(self, simulator: EpisodeSimulator, active: np.ndarray, base_seed: int) -> None:
        self.simulator, self.next_seed = simulator, int(base_seed)
        self.active = np.flatnonzero(active)
        self.inactive = np.flatnonzero(~np.asarray(active, dtype=bool))
        self.keys = [simulator.space.keys[j] for j in self.active]

    def places(self, parameters: Sequence[pyabc.Parameter], seeds: np.ndarray) -> np.ndarray:
        """``u`` ``(K, dim)``: the proposed active places and the drawn inactive ones."""
        u = np.empty((len(parameters), self.simulator.space.dim))
        z = np.array([[float(p[k]) for k in self.keys] for p in parameters]).reshape(
            len(parameters), len(self.keys)
        )
        u[:, self.active] = to_place(z)
        for k, seed in enumerate(seeds):
            rng = np.random.default_rng([INACTIVE_SALT, int(seed)])
            u[k, self.inactive] = rng.random(len(self.inactive))
        return u

    def __call__(self, parameters: Sequence[pyabc.Parameter]) -> list[dict]:
        seeds = np.arange(self.next_seed, self.next_seed + len(parameters), dtype=np.int64)
        self.next_seed += len(parameters)
        u = self.places(parameters, seeds)
        values = self.simulator.run(u, seeds)
        ids = self.simulator.ids + [PLACE + n for n in self.simulator.space.names]
        return [
            dict(zip(ids, [*row.tolist(), *uk.tolist()], strict=True))
            for row, uk in zip(values, u, strict=True)
        ]


@contextlib.contextmanager
def global_numpy_seed(seed: int) -> Iterator[None]:
    """numpy's global generator seeded with ``seed`` inside, its old state back after."""
    state = np.random.get_state()  # noqa: NPY002 - the generator pyabc draws from
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@contextlib.contextmanager
def quiet_pyabc(verbose: bool) -> Iterator[None]:
    """pyabc's INFO logging (a line per generation) only if ``verbose``."""
    log = logging.getLogger("ABC")
    old = log.level
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(old)


def fit(
    name: str,
    simulator: EpisodeSimulator,
    settings: Settings,
    active: np.ndarray,
    db: str = "sqlite://",
    verbose: bool = False,
) -> Fit:
    """Calibrate ``simulator.space`` to the observed rows ``simulator.rows`` (ABC-SMC).

    ``active`` (per parameter) says which the kernel moves (:mod:`.screen`); the others
    are drawn from the prior for every simulation.
    """
    space = simulator.space
    rows = simulator.rows
    active = np.asarray(active, dtype=bool)
    distance = StandardizedDistance(list(rows.loc[rows["in_distance"], "id"]))
    batch = _BatchSimulator(simulator, active, settings.base_seed)
    sampler = BatchSampler(batch)
    abc = pyabc.ABCSMC(
        DeferredModel(),
        Prior(space, active),
        distance,
        population_size=settings.population,
        sampler=sampler,
        transitions=pyabc.MultivariateNormalTransition(),
        eps=pyabc.QuantileEpsilon(alpha=settings.alpha),
    )
    observed = dict(zip(simulator.ids, rows["value"].astype(float).tolist(), strict=True))
    t0 = time.perf_counter()
    with global_numpy_seed(settings.seed), quiet_pyabc(verbose):
        history = abc.new(db, observed)
        history = abc.run(
            max_nr_populations=settings.generations,
            min_acceptance_rate=settings.min_acceptance_rate,
        )
    seconds = time.perf_counter() - t0
    w, sum_stats = history.get_weighted_sum_stats_for_model(m=0, t=history.max_t)
    u = np.array([[float(s[PLACE + n]) for n in space.names] for s in sum_stats])
    weights = np.asarray(w, dtype=np.float64)
    weights = weights / weights.sum()
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    populations = pd.DataFrame(
        {
            "generation": pops["t"].astype(int),
            "epsilon": pops["epsilon"].astype(float),
            "simulations": pops["samples"].astype(int),
            "acceptance_rate": settings.population / pops["samples"].astype(float),
            "ess": [_ess(history.get_weighted_distances(t=int(t))["w"]) for t in pops["t"]],
        }
    )
    stats = rows[["id", "episode", "quantity", "value", "unit", "in_distance", "reason"]].copy()
    stats["sd"] = stats["id"].map(lambda i: distance.sd.get(i, np.nan))
    no_info = stats["in_distance"] & (stats["sd"] == 0)
    stats.loc[no_info, "in_distance"] = False
    stats.loc[no_info, "reason"] = "no variation over the prior-predictive sample"
    return Fit(
        name=name,
        episodes=list(dict.fromkeys(rows["episode"])),
        space=space,
        u=u,
        weights=weights,
        populations=populations,
        statistics=stats,
        simulations=int(history.total_nr_simulations),
        seconds=seconds,
        settings=settings,
        active=active,
        waves=list(sampler.waves),
    )


def _ess(w: pd.Series) -> float:
    w = np.asarray(w, dtype=np.float64)
    w = w / w.sum()
    return float(1.0 / np.sum(w**2))


def weighted_quantiles(
    x: np.ndarray, w: np.ndarray, q: tuple[float, ...] = (0.05, 0.5, 0.95)
) -> tuple[float, ...]:
    """Quantiles of ``x`` under weights ``w`` (inverted CDF: actual values)."""
    order = np.argsort(x, kind="stable")
    xs, cw = np.asarray(x)[order], np.cumsum(np.asarray(w)[order])
    cw = cw / cw[-1]
    return tuple(float(xs[min(np.searchsorted(cw, p), len(xs) - 1)]) for p in q)


def ks_uniform(u: np.ndarray, w: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance of the weighted sample ``u`` (0-1) from the uniform."""
    order = np.argsort(u, kind="stable")
    us, cw = np.asarray(u)[order], np.cumsum(np.asarray(w)[order])
    cw = cw / cw[-1]
    before = np.concatenate([[0.0], cw[:-1]])
    return float(max(np.max(np.abs(cw - us)), np.max(np.abs(before - us))))
