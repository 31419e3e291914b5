"""A pyabc sampler that simulates a whole wave of particles in one vectorized batch.

pyabc's samplers call ``simulate_one()`` once per particle: it proposes a parameter,
simulates, computes the distance and accepts or rejects. The batch engine is fast only when
it runs many worlds at once, so :class:`BatchSampler` splits that call in two, using pyabc's
own machinery for delayed evaluation (the look-ahead samplers' "preliminary" particles):

1. propose a *wave* of parameters in this process, one after another from numpy's global
   generator, as pyabc would (``simulate_one`` with ``evaluate=False``; the model returns
   nothing yet: :class:`DeferredModel`);
2. simulate the wave in one call of ``simulate_batch`` (one world per particle; the batch may
   be cut into tasks and run on a cluster, results placed by order);
3. evaluate each particle in proposal order (``evaluate_preliminary_particle``: distance,
   acceptance, importance weight) and stop at the n-th acceptance.

The accepted particles are the first n accepted in proposal order, as with pyabc's
single-core sampler; particles of the last wave after the n-th acceptance are simulated
but not used, and not counted as evaluations. Wave sizes follow the acceptance rate seen so
far, deterministically, so the same seed gives the same population locally and on a
cluster. The calibration sample from the prior (all accepted) is one wave of n.

This relies on ``simulate_one`` being the ``functools.partial`` pyabc 0.13 builds
(``pyabc.inference_util.create_simulate_function``); another version fails loudly here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyabc
from pyabc.inference_util import evaluate_preliminary_particle
from pyabc.model import ModelResult
from pyabc.sampler import Sampler

#: ``simulate_batch(parameters) -> summary statistics``, one dict per parameter, in order.
BatchSimulator = Callable[[Sequence[pyabc.Parameter]], list[dict]]


class DeferredModel(pyabc.Model):
    """A model whose statistics are filled in later, for a whole wave (by the sampler)."""

    def summary_statistics(self, t, pars, sum_stat_calculator) -> ModelResult:
        return ModelResult(sum_stat={})


def _deferred(simulate_one: Callable) -> tuple[Callable, bool]:
    """``simulate_one`` without evaluation, and whether its particles are preliminary."""
    if not isinstance(simulate_one, functools.partial):
        raise TypeError("BatchSampler needs pyabc 0.13's simulate_one (a functools.partial)")
    name = simulate_one.func.__name__
    if name == "_simulate_one_from_prior":  # the calibration sample: all accepted
        return simulate_one, False
    if name == "_simulate_one" and "evaluate" in simulate_one.keywords:
        return functools.partial(simulate_one, evaluate=False), True
    raise TypeError(f"BatchSampler does not know pyabc's {name}; pin pyabc 0.13")


class BatchSampler(Sampler):
    """Propose a wave, simulate it in one batch, evaluate in order (see the module doc)."""

    def __init__(
        self,
        simulate_batch: BatchSimulator,
        min_wave: int = 16,
        max_wave: int = 20_000,
        margin: float = 1.2,
    ) -> None:
        super().__init__()
        self.simulate_batch = simulate_batch
        self.min_wave, self.max_wave, self.margin = int(min_wave), int(max_wave), float(margin)
        #: Acceptance rate of the last generation (sizes the first wave of the next).
        self.rate = 1.0
        #: Every wave run: (generation, particles simulated, of which evaluated).
        self.waves: list[tuple[int, int, int]] = []

    def _wave(self, missing: int, rate: float) -> int:
        want = math.ceil(missing / max(rate, 1e-3) * self.margin)
        return int(min(max(want, self.min_wave, missing), self.max_wave))

    def sample_until_n_accepted(
        self,
        n,
        simulate_one,
        t,
        *,
        max_eval=np.inf,
        all_accepted=False,
        ana_vars=None,
    ):
        propose, preliminary = _deferred(simulate_one)
        if preliminary and ana_vars is None:
            raise ValueError("BatchSampler needs pyabc's analysis variables (ana_vars)")
        sample = self._create_empty_sample()
        evaluated = 0
        rate = 1.0 if all_accepted or not preliminary else self.rate
        while sample.n_accepted < n and evaluated < max_eval:
            size = (
                n - sample.n_accepted
                if not preliminary
                else self._wave(n - sample.n_accepted, rate)
            )
            particles = [propose() for _ in range(size)]
            stats = self.simulate_batch([p.parameter for p in particles])
            used = 0
            before = sample.n_accepted
            for particle, stat in zip(particles, stats, strict=True):
                particle.sum_stat = stat
                if preliminary:
                    particle = evaluate_preliminary_particle(particle, t, ana_vars)
                sample.append(particle)
                used += 1
                if sample.n_accepted >= n or evaluated + used >= max_eval:
                    break
            evaluated += used
            self.waves.append((int(t), size, used))
            rate = max(sample.n_accepted - before, 1) / used
        self.nr_evaluations_ = evaluated
        if preliminary:
            self.rate = sample.n_accepted / max(evaluated, 1)
        if sample.n_accepted < n:
            sample.ok = False
        return sample
