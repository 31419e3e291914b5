"""Random draws: every run's randomness, derived from its seed through numpy's SeedSequence.

A run seeded ``s`` draws one table up front from ``np.random.default_rng(s)``: first
``setup`` uniforms (``(1,)``: China's true red line), then ``uniforms`` of shape
``(rounds, 5 + F)`` (US, China, inertia, compliance, diversification, then one per firm for
its lobbying), then ``normals`` of shape ``(rounds,)`` (the trade shock). The Mesa model
draws it from ``model.rng`` (which Mesa seeds with ``np.random.default_rng(s)``); the batch
engine draws the same numbers once per distinct seed, deriving the seeds' generator states all
at once (:func:`unique_seed_draws`). Both therefore see the same numbers, and a world's draws
never depend on which batch it runs in.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
    """Each distinct seed's table, drawn once; world k reads column ``inverse[k]``.

    The same numbers as :func:`draw_table` from :func:`seed_generator` (tested for every kind
    of seed), drawn faster: the seeds' PCG64 states are derived from their SeedSequences all at
    once (:func:`pcg64_states`), then one generator is set to each state in turn and fills that
    seed's rows in place; building a SeedSequence, a PCG64 and a Generator per seed cost about
    ten times as much as drawing the numbers.
    """
    seeds = np.asarray(seeds, dtype=np.uint64)
    unique, inverse = np.unique(seeds, return_inverse=True)
    n = len(unique)
    setup = np.empty((n, N_SETUP))
    u = np.empty((n, rounds, n_uniforms(n_firms)))
    z = np.empty((n, rounds))
    bits = np.random.PCG64(0)
    gen = np.random.Generator(bits)
    state: dict[str, Any] = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0}
    for i, (pcg_state, inc) in enumerate(pcg64_states(unique)):
        state["state"] = {"state": pcg_state, "inc": inc}
        bits.state = state  # type: ignore[assignment]
        gen.random(out=setup[i])
        gen.random(out=u[i])
        gen.standard_normal(out=z[i])
    return BatchDraws(
        np.ascontiguousarray(setup.T),
        np.ascontiguousarray(u.transpose(1, 2, 0)),
        np.ascontiguousarray(z.T),
        inverse.reshape(-1),
    )


# numpy's SeedSequence (pool of 4 words) and PCG64 seeding, for many seeds at once.
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
_MASK128 = (1 << 128) - 1


def _seed_sequence_words(seeds: np.ndarray) -> list[np.ndarray]:
    """``SeedSequence(s).generate_state(4, np.uint64)`` for every seed ``s < 2**64``: 4 arrays."""
    s = np.asarray(seeds, dtype=np.uint64)
    zero = np.zeros(len(s), dtype=np.uint32)
    entropy = [(s & np.uint64(_MASK32)).astype(np.uint32), (s >> np.uint64(32)).astype(np.uint32)]
    entropy += [zero, zero]  # a seed below 2**32 is one word; missing words mix in as 0
    hash_const = [_INIT_A]

    def hashmix(value: np.ndarray) -> np.ndarray:
        value = value ^ np.uint32(hash_const[0])
        hash_const[0] = (hash_const[0] * _MULT_A) & _MASK32
        value = value * np.uint32(hash_const[0])
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result: np.ndarray = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
        return result ^ (result >> np.uint32(16))

    with np.errstate(over="ignore"):
        pool = [hashmix(e) for e in entropy]
        for i_src in range(4):
            for i_dst in range(4):
                if i_src != i_dst:
                    pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
        words = []
        hash_b = _INIT_B
        for i in range(8):
            value = pool[i % 4] ^ np.uint32(hash_b)
            hash_b = (hash_b * _MULT_B) & _MASK32
            value = value * np.uint32(hash_b)
            words.append(value ^ (value >> np.uint32(16)))
    return [
        words[2 * k].astype(np.uint64) | (words[2 * k + 1].astype(np.uint64) << np.uint64(32))
        for k in range(4)
    ]


def pcg64_states(seeds: np.ndarray) -> list[tuple[int, int]]:
    """``(state, inc)`` of ``np.random.PCG64(np.random.SeedSequence(s))`` for every seed."""
    w0, w1, w2, w3 = (w.tolist() for w in _seed_sequence_words(seeds))
    out = []
    for a, b, c, d in zip(w0, w1, w2, w3, strict=True):
        inc = ((((c << 64) | d) << 1) | 1) & _MASK128
        state = (((inc + ((a << 64) | b)) & _MASK128) * _PCG_MULT + inc) & _MASK128
        out.append((state, inc))
    return out


def trade_shock(normal: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Multiplicative, mean-one lognormal shock to trade values from a standard normal."""
    return np.exp(sd * normal - 0.5 * sd * sd)
