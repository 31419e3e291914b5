"""Random draws: every run's randomness, derived from its seed through numpy's SeedSequence.

A run seeded ``s`` draws one table up front: ``uniforms`` of shape ``(rounds, 5)`` and
``normals`` of shape ``(rounds,)``. The Mesa model draws it from ``model.rng`` (which Mesa
seeds with ``np.random.default_rng(s)``); the batch engine draws it from
``np.random.default_rng(s)`` once per distinct seed. Both therefore see the same numbers,
and a world's draws never depend on which batch it runs in.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Columns of the uniform table.
U_US, U_CN, U_INERTIA, U_COMPLIANCE, U_DIVERSIFICATION = range(5)
N_UNIFORMS = 5


class DrawTable(NamedTuple):
    """Uniforms ``(rounds, 5)`` in [0, 1) and standard normals ``(rounds,)`` of one run."""

    uniforms: np.ndarray
    normals: np.ndarray


def draw_table(rng: np.random.Generator, rounds: int) -> DrawTable:
    """Draw one run's table from ``rng`` (uniforms first, then normals)."""
    uniforms = rng.random((rounds, N_UNIFORMS))
    normals = rng.standard_normal(rounds)
    return DrawTable(uniforms, normals)


def seed_generator(seed: int) -> np.random.Generator:
    """The generator a run seeded ``seed`` uses (what Mesa's ``Model(rng=seed)`` builds)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed)))


def unique_seed_draws(seeds: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables of the distinct seeds, ``(rounds, 5, S)`` and ``(rounds, S)``, and each world's index into them.

    Each distinct seed is drawn once; world k's draws for round t are
    ``uniforms[t, :, inverse[k]]`` and ``normals[t, inverse[k]]``.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    unique, inverse = np.unique(seeds, return_inverse=True)
    u = np.empty((rounds, N_UNIFORMS, len(unique)))
    z = np.empty((rounds, len(unique)))
    for i, s in enumerate(unique):
        table = draw_table(seed_generator(int(s)), rounds)
        u[:, :, i] = table.uniforms
        z[:, i] = table.normals
    return u, z, inverse.reshape(-1)


def trade_shock(normal: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Multiplicative, mean-one lognormal shock to trade values from a standard normal."""
    return np.exp(sd * normal - 0.5 * sd * sd)
