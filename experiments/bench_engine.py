"""Benchmark: mesa.batch_run vs a plain Mesa loop vs the batch engine, side by side in one run.

    python -m experiments.bench_engine [--points-tariff 20 --points-pressure 10 --seeds 10]
                                       [--sizes 2000 10000 100000] [--million] [--threads 1]

One grid (US tariff level x US security pressure on the baseline, 200 points x 10 seeds x
40 rounds by default) runs through (a) ``mesa.batch_run`` on the Mesa model, (b) a plain
loop over Mesa model runs, (c) the batch engine at several batch sizes (the grid repeated
with more seeds). Prints runs per second, nanoseconds per world-round, peak memory
(tracemalloc, in a separate pass so it does not slow the timed pass) and ratios.
``--million`` adds a 100 x 100 grid x 100 seeds x 40 rounds sweep, streamed in chunks of
100,000 worlds, reduced to breakdown probabilities per cell. Outcomes of (a), (b) and (c)
are checked to be identical.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.core.calibration import Calibration
    from sim.core.scenario import Scenario
    from sim.engine.batch import BatchResult

ROUNDS = 40


def _grid(n_tariff: int, n_pressure: int, seeds: int) -> pd.DataFrame:
    t, p, s = np.meshgrid(
        np.linspace(0.0, 0.6, n_tariff),
        np.linspace(0.4, 1.0, n_pressure),
        np.arange(seeds),
        indexing="ij",
    )
    return pd.DataFrame(
        {"us_tariff_slope": t.ravel(), "us_security_pressure": p.ravel(), "seed": s.ravel()}
    )


def _peak_mb(fn: Callable[[], object]) -> float:
    """Peak traced memory of one call of ``fn`` (MB)."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _record(rows: list[dict], method: str, runs: int, seconds: float, peak: float) -> None:
    """Add a table row for ``method`` (time in s, peak memory in MB) and print its line."""
    rows.append(
        {
            "method": method,
            "runs": runs,
            "seconds": seconds,
            "runs_per_s": runs / seconds,
            "ns_per_world_round": seconds / (runs * ROUNDS) * 1e9,
            "peak_mb": peak,
        }
    )
    print(
        f"  {method:<34} {runs:>9,} runs {seconds:>8.2f} s {runs / seconds:>12,.0f} runs/s",
        flush=True,
    )


def _bench_mesa_batch_run(
    cal: Calibration, sc: Scenario, grid: pd.DataFrame, n_seeds: int, rows: list[dict]
) -> pd.DataFrame:
    """(a) ``mesa.batch_run`` over the grid; one row per run (``seed``, ``breakdown_side``)."""
    import mesa

    from sim.engine.model import BalancingModel

    params = {
        "scenario": sc,
        "calibration": cal,
        "rounds": ROUNDS,
        "us_tariff_slope": list(np.unique(grid["us_tariff_slope"])),
        "us_security_pressure": list(np.unique(grid["us_security_pressure"])),
    }

    def mesa_batch_run(seeds: Iterable[int] = range(n_seeds)) -> list[dict]:
        return mesa.batch_run(
            BalancingModel,
            params,
            rng=list(seeds),
            max_steps=ROUNDS,
            number_processes=1,
            data_collection_period=-1,
            display_progress=False,
        )

    t0 = time.perf_counter()
    br = pd.DataFrame(mesa_batch_run())
    seconds = time.perf_counter() - t0
    # batch_run returns one row per agent (the model has agent reporters): keep one per run
    br = br.drop_duplicates("RunId").rename(columns={"rng": "seed"})
    _record(rows, "(a) mesa.batch_run", len(br), seconds, _peak_mb(lambda: mesa_batch_run([0])))
    return br


def _mesa_loop(cal: Calibration, sc: Scenario, g: pd.DataFrame) -> np.ndarray:
    """Breakdown side code of each row of ``g``, one Mesa model run after another."""
    from sim.engine.model import BalancingModel

    sides = np.empty(len(g), dtype=np.int64)
    for i, r in enumerate(g.itertuples(index=False)):
        m = BalancingModel(
            sc,
            cal,
            ROUNDS,
            rng=int(r.seed),
            us_tariff_slope=r.us_tariff_slope,
            us_security_pressure=r.us_security_pressure,
        )
        m.run_for(ROUNDS)
        sides[i] = int(m.detector.side[0])
    return sides


def _bench_mesa_loop(
    cal: Calibration, sc: Scenario, grid: pd.DataFrame, rows: list[dict]
) -> np.ndarray:
    """(b) a plain loop over Mesa model runs; the breakdown side code of each grid row."""
    t0 = time.perf_counter()
    loop_sides = _mesa_loop(cal, sc, grid)
    _record(
        rows,
        "(b) plain Mesa loop",
        len(grid),
        time.perf_counter() - t0,
        _peak_mb(lambda: _mesa_loop(cal, sc, grid.iloc[:200])),
    )
    return loop_sides


def _repeated_grid(grid: pd.DataFrame, size: int, n_seeds: int) -> pd.DataFrame:
    """The first ``size`` rows of the grid repeated, seeds shifted by ``n_seeds`` per repeat."""
    reps = int(np.ceil(size / len(grid)))
    return pd.concat(
        [grid.assign(seed=grid["seed"] + k * n_seeds) for k in range(reps)],
        ignore_index=True,
    ).iloc[:size]


def _bench_batch_engine(
    cal: Calibration,
    sc: Scenario,
    grid: pd.DataFrame,
    n_seeds: int,
    sizes: list[int],
    threads: int,
    rows: list[dict],
) -> np.ndarray | None:
    """(c) the batch engine at each size (and the grid's); outcome codes of the grid's size."""
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    n = len(grid)
    batch_sides = None
    for size in sorted(set([n, *sizes])):
        g = _repeated_grid(grid, size, n_seeds)
        ov = {
            "us_tariff_slope": g["us_tariff_slope"].to_numpy(),
            "us_security_pressure": g["us_security_pressure"].to_numpy(),
        }

        def batch(g: pd.DataFrame = g, ov: dict[str, np.ndarray] = ov) -> BatchResult:
            p = build_params(cal, sc, ROUNDS, len(g), ov)
            return run_batch(p, g["seed"].to_numpy(), threads=threads)

        t0 = time.perf_counter()
        res = batch()
        seconds = time.perf_counter() - t0
        _record(rows, f"(c) batch engine, {size:,} worlds", size, seconds, _peak_mb(batch))
        if size == n:
            batch_sides = res.outcomes["outcome"].cat.codes.to_numpy()
    return batch_sides


def _print_identical(
    br: pd.DataFrame, loop_sides: np.ndarray, batch_sides: np.ndarray | None
) -> None:
    """Print whether (a), (b) and (c) gave the same outcome per run, and the breakdown count."""
    n = len(loop_sides)
    br = br.sort_values(["us_tariff_slope", "us_security_pressure", "seed"]).reset_index(drop=True)
    br_sides = br["breakdown_side"].to_numpy().astype(np.int64)
    same = np.array_equal(br_sides, loop_sides) and np.array_equal(loop_sides, batch_sides)
    print(
        f"identical outcomes across (a), (b), (c): {same}  (breakdowns: {int((loop_sides > 0).sum())} of {n})"
    )


def _print_table(rows: list[dict]) -> None:
    """Print the results table, with each method's speedup over ``mesa.batch_run``."""
    table = pd.DataFrame(rows)
    base = table.loc[0, "runs_per_s"]
    table["speedup_vs_batch_run"] = table["runs_per_s"] / base
    with pd.option_context("display.width", 200, "display.float_format", lambda x: f"{x:,.2f}"):
        print()
        print(table.to_string(index=False))


def _million_sweep(cal: Calibration, sc: Scenario, threads: int) -> np.ndarray:
    """Breakdown probability per cell of a 100 x 100 grid x 100 seeds, 100,000 worlds a chunk."""
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    tl, pr = np.meshgrid(np.linspace(0.0, 0.6, 100), np.linspace(0.4, 1.0, 100), indexing="ij")
    cells = pd.DataFrame({"us_tariff_slope": tl.ravel(), "us_security_pressure": pr.ravel()})
    per_chunk = 1000  # cells per chunk x 100 seeds = 100,000 worlds
    broke = np.zeros(len(cells))
    for start in range(0, len(cells), per_chunk):
        c = cells.iloc[start : start + per_chunk]
        ov = {k: np.repeat(c[k].to_numpy(), 100) for k in c.columns}
        p = build_params(cal, sc, ROUNDS, len(c) * 100, ov)
        out = run_batch(p, np.tile(np.arange(100), len(c)), threads=threads).outcomes
        broke[start : start + len(c)] = (
            (out["breakdown_round"].to_numpy() >= 0).reshape(-1, 100).mean(axis=1)
        )
    return broke


def _bench_million(cal: Calibration, sc: Scenario, threads: int) -> None:
    """Time the million-run sweep (with tracemalloc on) and print its line."""
    print(
        "\nmillion-run sweep: 100 x 100 grid x 100 seeds x 40 rounds, streamed in chunks of 100,000"
    )
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    broke = _million_sweep(cal, sc, threads)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  1,000,000 runs in {seconds:.1f} s ({1e6 / seconds:,.0f} runs/s, "
        f"{seconds / 4e7 * 1e9:.0f} ns per world-round, timed with tracemalloc on); "
        f"peak traced memory {peak / 2**20:,.0f} MB; process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:,.0f} MB; "
        f"cells with any breakdown: {(broke > 0).sum()} of {len(broke)}"
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: grid size, batch sizes, threads, --million."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points-tariff", type=int, default=20)
    ap.add_argument("--points-pressure", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sizes", type=int, nargs="*", default=[2_000, 10_000, 100_000])
    ap.add_argument("--threads", type=int, default=1, help="threads for the batch engine")
    ap.add_argument("--million", action="store_true", help="also run the 1,000,000-run sweep")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmarks and print their lines and the results table."""
    args = _parse_args(argv)
    from sim.catalog import load_calibration, load_scenario

    cal = load_calibration("article")
    sc = load_scenario("baseline")
    grid = _grid(args.points_tariff, args.points_pressure, args.seeds)
    rows: list[dict] = []
    print(
        f"grid: {args.points_tariff} x {args.points_pressure} points x {args.seeds} seeds x {ROUNDS} rounds = {len(grid):,} runs"
    )
    br = _bench_mesa_batch_run(cal, sc, grid, args.seeds, rows)
    loop_sides = _bench_mesa_loop(cal, sc, grid, rows)
    batch_sides = _bench_batch_engine(cal, sc, grid, args.seeds, args.sizes, args.threads, rows)
    _print_identical(br, loop_sides, batch_sides)
    _print_table(rows)
    if args.million:
        _bench_million(cal, sc, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
