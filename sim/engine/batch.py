"""Batch engine: N worlds in lockstep, calling the same rules the Mesa agents call.

Each round is :func:`sim.core.round.play_round`, the function the Mesa model calls too.
World k of a batch, seeded s, sees exactly the draws the Mesa model seeded s sees
(:mod:`sim.core.draws`), and every rule is elementwise over worlds, so a world's trajectory
does not depend on the batch it runs in. ``tests/test_equivalence.py`` checks this
against :class:`sim.engine.model.BalancingModel`.

Worlds are processed in blocks (``block_size``) so that the working arrays stay in the CPU
cache; blocks are independent, so the result does not depend on the block size.

``compiled=True`` evaluates the objective menus of strategic states with the compiled kernel
(:mod:`sim.engine.compiled`, the same formulas, the same numbers); the ``numba`` engine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core import policies
from sim.core.constraints import SEED_MAX, check_seed
from sim.core.draws import unique_seed_draws
from sim.core.outcomes import OutcomeAccumulator
from sim.core.params import Params
from sim.core.round import initial_round_state, play_round
from sim.core.tables import concat, tidy_rounds

#: Worlds per block: about 2 MB of firm-by-option arrays, which stay in cache.
DEFAULT_BLOCK_SIZE = 8192


@dataclass
class BatchResult:
    """Outcomes (one row per world) and, if asked for, per-round records ``(rounds, N)``."""

    outcomes: pd.DataFrame
    rounds: dict[str, np.ndarray] | None = None
    seeds: np.ndarray | None = None
    params: Params | None = None

    def rounds_table(self, world: int) -> pd.DataFrame:
        """World ``world``'s tidy per-round table, the same as the Mesa model's."""
        if self.rounds is None or self.params is None or self.seeds is None:
            raise ValueError("run_batch(..., record_rounds=True) is needed for per-round tables")
        p = self.params
        return tidy_rounds(
            {k: v[:, world] for k, v in self.rounds.items()},
            scenario=p.scenario_name,
            calibration=p.calibration_name,
            seed=int(self.seeds[world]),
            start=p.start,
            firm_names=p.firm_names,
        )

    def rounds_frame(self) -> pd.DataFrame:
        """Every world's tidy per-round table, stacked (world after world)."""
        if self.seeds is None:
            raise ValueError("run_batch(..., record_rounds=True) is needed for per-round tables")
        return concat([self.rounds_table(k) for k in range(len(self.seeds))])


def _run_block(
    p: Params,
    uniforms: np.ndarray,
    normals: np.ndarray,
    setup: np.ndarray,
    inverse: np.ndarray,
    record_rounds: bool,
    objective: policies.ObjectiveMenu = policies.objective_menu,
) -> tuple[pd.DataFrame, dict[str, np.ndarray] | None]:
    """Run one block of worlds; ``uniforms[t, :, inverse]`` are world draws for round t."""
    state = initial_round_state(p, setup[:, inverse])
    acc = OutcomeAccumulator(p.firm_names, p.n_worlds)
    records: dict[str, list[np.ndarray]] = {}
    for t in range(p.rounds):
        u, z = uniforms[t][:, inverse], normals[t][inverse]
        state, played = play_round(state, t, u, z, p, objective)
        acc.add(played.record)
        if record_rounds:
            for k, v in played.record.items():
                records.setdefault(k, []).append(np.array(v))
    stacked = {k: np.stack(v) for k, v in records.items()} if record_rounds else None
    return acc.table(), stacked


def seed_array(seeds: object, key: str = "seed") -> np.ndarray:
    """Seeds as int64, each checked by :func:`check_seed` (0..2**63-1, the range every engine
    and the app accept); a one-line ConfigError names the first bad one."""
    raw = np.asarray(seeds)
    if raw.dtype.kind in "iu":
        bad: np.ndarray = np.flatnonzero((raw < 0) | (raw > SEED_MAX))
        if bad.size:
            check_seed(key, int(raw.flat[bad[0]]))
        return raw.astype(np.int64)
    return np.asarray([check_seed(key, s) for s in raw.ravel().tolist()], dtype=np.int64).reshape(
        raw.shape
    )


def run_batch(
    p: Params,
    seeds: np.ndarray,
    record_rounds: bool = False,
    block_size: int = DEFAULT_BLOCK_SIZE,
    threads: int = 1,
    compiled: bool = False,
) -> BatchResult:
    """Run ``p.n_worlds`` worlds for ``p.rounds`` rounds; world k uses seed ``seeds[k]``.

    ``compiled``: strategic states' objective menus by the compiled kernel (same numbers).
    """
    seeds = seed_array(seeds)
    if seeds.shape != (p.n_worlds,):
        raise ValueError(f"seeds: expected {p.n_worlds} seeds, got shape {seeds.shape}")
    if block_size < 1:
        raise ValueError(f"block_size: must be >= 1, got {block_size}")
    if threads < 1:
        raise ValueError(f"threads: must be >= 1, got {threads}")
    objective = policies.objective_menu
    strategic = (p.us_policy == policies.STRATEGIC).any() or (
        p.china_policy == policies.STRATEGIC
    ).any()
    if compiled and strategic:  # (the kernels evaluate strategic states' anticipation only)
        from sim.engine import compiled as kernels

        objective = kernels.objective_menu
    draws = unique_seed_draws(seeds, p.rounds, len(p.firm_names))
    bounds = [(a, min(a + block_size, p.n_worlds)) for a in range(0, p.n_worlds, block_size)]

    def one(bound: tuple[int, int]):
        start, stop = bound
        block = p if (start, stop) == (0, p.n_worlds) else p.worlds(start, stop)
        return _run_block(
            block,
            draws.uniforms,
            draws.normals,
            draws.setup,
            draws.inverse[start:stop],
            record_rounds,
            objective,
        )

    if threads == 1 or len(bounds) == 1:
        results = [one(b) for b in bounds]
    else:
        # numpy (and the compiled kernels) release the GIL; blocks are independent, and
        # results are gathered in block order, so the output does not depend on threads.
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(one, bounds))
    tables = [r[0] for r in results]
    recs = [r[1] for r in results]
    outcomes = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    rounds = None
    if record_rounds:
        rounds = {k: np.concatenate([r[k] for r in recs], axis=1) for k in recs[0]}
    return BatchResult(outcomes=outcomes, rounds=rounds, seeds=seeds, params=p)
