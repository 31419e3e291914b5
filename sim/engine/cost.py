"""What a run or a sweep will cost, estimated before it starts, and the bounds it must stay in.

The estimates come from measurements of the engines on a 2-core development machine (model
v2, shared with other work, so on the slow side):

- batch engine: about 100 µs per world-round (60-140 measured); memory per process about
  300 MB, plus about 40 KB per world of a block (at most 8,192 worlds), 100 bytes per round and
  distinct seed (the pre-drawn randomness) and 2 KB per world (outcome tables);
- Mesa engine: about 4 ms per round (1.5-4 measured) and 50 ms per model built; about 200 MB
  plus 5 KB per round (its per-round and per-agent tables).

A single run or a sweep whose estimate exceeds :data:`MAX_SECONDS` of computing or
:data:`MAX_BYTES` of memory in one process is refused before anything starts, with the
estimate in the message; ``force=true`` on the command line (``force=True`` here) runs it
anyway. Sweep estimates are also checked *before* the design or the run table is built, so a
grid with a step of 1e-12 or 10**9 replicates is refused without first running out of memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.errors import ConfigError

#: Bound on the estimated computing time of one command (single core), in seconds.
MAX_SECONDS = 24 * 3600.0
#: Bound on the estimated memory of one process (a single run, a chunk, or the merge), bytes.
MAX_BYTES = 4 * 1024**3

BATCH_SECONDS_PER_WORLD_ROUND = 100e-6
BATCH_BASE_BYTES = 300 * 1024**2
BATCH_BYTES_PER_BLOCK_WORLD = 40 * 1024
BATCH_BYTES_PER_SEED_ROUND = 100
BATCH_BYTES_PER_WORLD = 2 * 1024
BATCH_BLOCK = 8192
MESA_SECONDS_PER_ROUND = 4e-3
MESA_SECONDS_PER_RUN = 0.05
MESA_BASE_BYTES = 200 * 1024**2
MESA_BYTES_PER_ROUND = 5 * 1024
#: Bytes per cell of a run table (8-byte values, counted three times: chunks, concat, write).
TABLE_BYTES_PER_CELL = 24
#: Columns of a run table besides the varied parameters (plan and outcome columns).
TABLE_BASE_COLUMNS = 40


@dataclass(frozen=True)
class Estimate:
    """Estimated computing time (s, one core) and peak memory of one process (bytes)."""

    seconds: float
    peak_bytes: float
    what: str  # "60 runs x 20 rounds", for the message

    def over(self) -> list[str]:
        """The bounds this estimate exceeds, as phrases (empty if it fits)."""
        out = []
        if self.seconds > MAX_SECONDS:
            out.append(
                f"about {_duration(self.seconds)} of computing (bound {_duration(MAX_SECONDS)})"
            )
        if self.peak_bytes > MAX_BYTES:
            out.append(
                f"about {_size(self.peak_bytes)} of memory in one process "
                f"(bound {_size(MAX_BYTES)})"
            )
        return out


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    h = s / 3600
    return f"{h:,.0f} h" if h < 1e7 else f"{h:.1e} h"


def _size(b: float) -> str:
    gb = b / 1024**3
    if gb < 1:
        return f"{b / 1024**2:.0f} MB"
    return f"{gb:,.1f} GB" if gb < 1e7 else f"{gb:.1e} GB"


def batch_peak_bytes(worlds: int, rounds: int, distinct_seeds: int) -> float:
    """Peak memory of one batch-engine call over ``worlds`` worlds."""
    return (
        BATCH_BASE_BYTES
        + BATCH_BYTES_PER_BLOCK_WORLD * min(worlds, BATCH_BLOCK)
        + BATCH_BYTES_PER_SEED_ROUND * rounds * min(distinct_seeds, worlds)
        + BATCH_BYTES_PER_WORLD * worlds
    )


def single_run(engine: str, rounds: int) -> Estimate:
    """A single run (``python -m sim``) of ``rounds`` rounds on ``engine``."""
    if engine == "mesa":
        seconds = MESA_SECONDS_PER_RUN + MESA_SECONDS_PER_ROUND * rounds
        peak = float(MESA_BASE_BYTES + MESA_BYTES_PER_ROUND * rounds)
    else:  # the batch engine records every round of its one world
        seconds = BATCH_SECONDS_PER_WORLD_ROUND * rounds
        peak = batch_peak_bytes(1, rounds, 1) + MESA_BYTES_PER_ROUND * rounds
    return Estimate(seconds, peak, f"1 run x {rounds:,} rounds on the {engine} engine")


def sweep(
    engine: str, runs: int, rounds: int, chunks: int, replicates: int, params: int
) -> Estimate:
    """A sweep of ``runs`` runs cut into ``chunks`` chunks (the largest chunk sets the memory)."""
    chunk_runs = -(-runs // max(1, min(chunks, runs))) if runs else 0
    if engine == "mesa":
        seconds = runs * (MESA_SECONDS_PER_RUN + MESA_SECONDS_PER_ROUND * rounds)
        chunk_peak = float(MESA_BASE_BYTES + MESA_BYTES_PER_ROUND * rounds)
    else:
        seconds = BATCH_SECONDS_PER_WORLD_ROUND * runs * rounds
        chunk_peak = batch_peak_bytes(chunk_runs, rounds, replicates)
    table = float(runs) * (TABLE_BASE_COLUMNS + params) * TABLE_BYTES_PER_CELL
    peak = max(chunk_peak, BATCH_BASE_BYTES + table)
    return Estimate(seconds, peak, f"{runs:,} runs x {rounds:,} rounds on the {engine} engine")


def max_sweep_runs(engine: str, rounds: int) -> int:
    """The most runs of ``rounds`` rounds a sweep can have within the bounds (an upper limit:
    the full estimate is checked once the design is known)."""
    per_run = (
        MESA_SECONDS_PER_RUN + MESA_SECONDS_PER_ROUND * rounds
        if engine == "mesa"
        else BATCH_SECONDS_PER_WORLD_ROUND * rounds
    )
    by_time = MAX_SECONDS / per_run
    by_memory = (MAX_BYTES - BATCH_BASE_BYTES) / (TABLE_BASE_COLUMNS * TABLE_BYTES_PER_CELL)
    return int(min(by_time, by_memory))


def check(estimate: Estimate, key: str, force: bool) -> None:
    """A one-line :class:`ConfigError` if ``estimate`` exceeds a bound and ``force`` is off."""
    over = estimate.over()
    if over and not force:
        raise ConfigError(
            key,
            f"{estimate.what} would need {' and '.join(over)}; make it smaller, or add "
            "force=true to run it anyway",
        )
