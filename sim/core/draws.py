"""Random draws: every run's randomness, derived from its seed through numpy's SeedSequence.

A run seeded ``s`` draws one table up front from ``np.random.default_rng(s)``: first
``setup`` uniforms (``(1,)``: China's true red line), then ``uniforms`` of shape
``(rounds, 5 + F)`` (US, China, inertia, compliance, diversification, then one per firm for
its lobbying), then ``normals`` of shape ``(rounds,)`` (the trade shock). The Mesa model
draws it from ``model.rng`` (which Mesa seeds with ``np.random.default_rng(s)``); the batch
engine draws it once per distinct seed. Both therefore see the same numbers, and a world's
draws never depend on which batch it runs in.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Columns of the per-round uniform table (firms' lobbying follows, one column per firm).
U_US, U_CN, U_INERTIA, U_COMPLIANCE, U_DIVERSIFICATION = range(5)
U_FIRMS = 5
#: Setup uniforms: China's true red line.
S_RED_LINE = 0
N_SETUP = 1


def n_uniforms(n_firms: int) -> int:
    """Uniforms per round for a calibration with ``n_firms`` firms."""
    return U_FIRMS + n_firms


class DrawTable(NamedTuple):
    """Setup uniforms ``(1,)``, uniforms ``(rounds, 5 + F)`` in [0, 1), normals ``(rounds,)``."""

    setup: np.ndarray
    uniforms: np.ndarray
    normals: np.ndarray


def draw_table(rng: np.random.Generator, rounds: int, n_firms: int) -> DrawTable:
    """Draw one run's table from ``rng`` (setup, then per-round uniforms, then normals)."""
    setup = rng.random(N_SETUP)
    uniforms = rng.random((rounds, n_uniforms(n_firms)))
    normals = rng.standard_normal(rounds)
    return DrawTable(setup, uniforms, normals)


def seed_generator(seed: int) -> np.random.Generator:
    """The generator a run seeded ``seed`` uses (what Mesa's ``Model(rng=seed)`` builds)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed)))


class BatchDraws(NamedTuple):
    """Tables of the distinct seeds and each world's index into them."""

    setup: np.ndarray  # (1, S)
    uniforms: np.ndarray  # (rounds, 5 + F, S)
    normals: np.ndarray  # (rounds, S)
    inverse: np.ndarray  # (N,) world -> distinct seed


def unique_seed_draws(seeds: np.ndarray, rounds: int, n_firms: int) -> BatchDraws:
    """Each distinct seed's table, drawn once; world k reads column ``inverse[k]``."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    unique, inverse = np.unique(seeds, return_inverse=True)
    setup = np.empty((N_SETUP, len(unique)))
    u = np.empty((rounds, n_uniforms(n_firms), len(unique)))
    z = np.empty((rounds, len(unique)))
    for i, s in enumerate(unique):
        table = draw_table(seed_generator(int(s)), rounds, n_firms)
        setup[:, i] = table.setup
        u[:, :, i] = table.uniforms
        z[:, i] = table.normals
    return BatchDraws(setup, u, z, inverse.reshape(-1))


def trade_shock(normal: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Multiplicative, mean-one lognormal shock to trade values from a standard normal."""
    return np.exp(sd * normal - 0.5 * sd * sd)
