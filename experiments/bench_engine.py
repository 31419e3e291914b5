"""Benchmark: mesa.batch_run, a plain Mesa loop, the numpy batch engine and numba, in one run.

    python -m experiments.bench_engine [--points-tariff 20 --points-pressure 10 --seeds 10]
                                       [--states own|strategic|reactive] [--mesa-runs 100]
                                       [--sizes 2000 10000] [--threads 1 2]
                                       [--million] [--million-chunks 10]

One grid (US tariff level x US security pressure on the baseline, 200 points x 10 seeds x
40 rounds by default) runs through (a) ``mesa.batch_run`` on the Mesa model and (b) a plain
loop over Mesa model runs (the first ``--mesa-runs`` runs of the grid: the Mesa model costs
milliseconds a round), then (c) the numpy batch engine and (d) the batch engine with
compiled kernels (``engine=numba``) at each ``--threads`` and batch size (the grid repeated
with more seeds). ``--states`` replaces both states' policies (``own``: the scenario's,
strategic for the baseline). Prints runs per second, nanoseconds per world-round, peak
memory (tracemalloc, in a separate 2-round pass: a batch's memory does not grow with its
rounds, and tracing slows the timed pass), each method's speed-up over ``mesa.batch_run`` and
numba's over numpy at the same size; the compile time of the kernels (from numba's cache,
and from scratch); and whether every method gave the same outcome in every run.
``--million`` adds a 100 x 100 grid x 100 seeds x 40 rounds sweep in chunks of 100,000
worlds on the fastest engine, reduced to breakdown probabilities per cell; with
``--million-chunks K`` only the first K of its 10 chunks run and the time is extrapolated
(said so in the output).
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
    cal: Calibration, sc: Scenario, grid: pd.DataFrame, rows: list[dict]
) -> pd.DataFrame:
    """(a) ``mesa.batch_run`` over the grid; one row per run (``seed``, ``breakdown_side``)."""
    import mesa

    from sim.engine.model import BalancingModel

    n_seeds = int(grid["seed"].max()) + 1
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
        _peak_mb(lambda: _mesa_loop(cal, sc, grid.iloc[:10])),
    )
    return loop_sides


def _repeated_grid(grid: pd.DataFrame, size: int, n_seeds: int) -> pd.DataFrame:
    """The first ``size`` rows of the grid repeated, seeds shifted by ``n_seeds`` per repeat."""
    reps = int(np.ceil(size / len(grid)))
    return pd.concat(
        [grid.assign(seed=grid["seed"] + k * n_seeds) for k in range(reps)],
        ignore_index=True,
    ).iloc[:size]


def _bench_batch_engines(
    cal: Calibration,
    sc: Scenario,
    grid: pd.DataFrame,
    n_seeds: int,
    sizes: list[int],
    threads: list[int],
    rows: list[dict],
) -> dict[str, np.ndarray]:
    """(c) numpy and (d) numba at each size and thread count; outcome codes at the grid's size."""
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    n = len(grid)
    sides: dict[str, np.ndarray] = {}
    for size in sorted(set([n, *sizes])):
        g = _repeated_grid(grid, size, n_seeds)
        ov = {
            "us_tariff_slope": g["us_tariff_slope"].to_numpy(),
            "us_security_pressure": g["us_security_pressure"].to_numpy(),
        }
        seeds = g["seed"].to_numpy()
        for label, compiled in (("(c) numpy batch", False), ("(d) numba", True)):
            for k in threads:

                def batch(
                    rounds: int = ROUNDS,
                    k: int = k,
                    compiled: bool = compiled,
                    size: int = size,
                    ov: dict[str, np.ndarray] = ov,
                    seeds: np.ndarray = seeds,
                ) -> BatchResult:
                    p = build_params(cal, sc, rounds, size, ov)
                    return run_batch(p, seeds, threads=k, compiled=compiled)

                t0 = time.perf_counter()
                res = batch()
                seconds = time.perf_counter() - t0
                method = f"{label}, {k} thread{'s' if k > 1 else ''}, {size:,} worlds"
                _record(rows, method, size, seconds, _peak_mb(lambda b=batch: b(2)))
                rows[-1].update(engine="numba" if compiled else "numpy", size=size, threads=k)
                if size == n:
                    sides[method] = res.outcomes["outcome"].cat.codes.to_numpy()
    return sides


def _compile_times(cal: Calibration, sc: Scenario) -> None:
    """Print the kernels' first-call time from numba's cache and from scratch (no cache)."""
    import numba

    from sim.core.params import build_params
    from sim.engine import compiled

    p = build_params(cal, sc, 2, 4)
    cached = compiled.warm_up(p)
    kernel = compiled._objective_kernel
    fresh = numba.njit(nogil=True, error_model="numpy")(kernel.py_func)
    compiled._objective_kernel = fresh
    try:
        scratch = compiled.warm_up(p)
    finally:
        compiled._objective_kernel = kernel
    print(
        f"numba kernels: first call {cached:.2f} s (from the cache), {scratch:.1f} s "
        f"compiling from scratch (cache=True keeps it for later processes)"
    )


def _print_identical(
    br: pd.DataFrame, loop_sides: np.ndarray, batch: dict[str, np.ndarray]
) -> None:
    """Print whether every method gave the same outcome in every run, and the breakdown count."""
    n_mesa = len(loop_sides)
    br = br.sort_values(["us_tariff_slope", "us_security_pressure", "seed"])
    br_sides = br["breakdown_side"].to_numpy().astype(np.int64)
    same = np.array_equal(br_sides, loop_sides)
    ref = next(iter(batch.values()))
    same = same and all(np.array_equal(v, ref) for v in batch.values())
    # the Mesa runs are the grid's first runs: the batch engines' outcomes there must match
    same = same and np.array_equal(ref[:n_mesa], loop_sides)
    print(
        f"identical outcomes across (a), (b), (c), (d): {same}  "
        f"(breakdowns: {int((ref > 0).sum())} of {len(ref)})"
    )


def _print_table(rows: list[dict]) -> None:
    """Print the results table: speed-up over ``mesa.batch_run``, numba's over numpy."""
    table = pd.DataFrame(rows)
    base = table.loc[0, "runs_per_s"]
    table["x_batch_run"] = table["runs_per_s"] / base
    numpy_rate = {
        (r.size, r.threads): r.runs_per_s for r in table.itertuples() if r.engine == "numpy"
    }
    table["numba_x_numpy"] = [
        r.runs_per_s / numpy_rate[(r.size, r.threads)] if r.engine == "numba" else np.nan
        for r in table.itertuples()
    ]
    table = table.drop(columns=["engine", "size", "threads"])
    with pd.option_context("display.width", 220, "display.float_format", lambda x: f"{x:,.2f}"):
        print()
        print(table.to_string(index=False))


def _million_sweep(
    cal: Calibration, sc: Scenario, threads: int, compiled: bool, chunks: int
) -> np.ndarray:
    """Breakdown probability per cell of a 100 x 100 grid x 100 seeds, 100,000 worlds a chunk
    (the first ``chunks`` of the 10 chunks)."""
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    tl, pr = np.meshgrid(np.linspace(0.0, 0.6, 100), np.linspace(0.4, 1.0, 100), indexing="ij")
    cells = pd.DataFrame({"us_tariff_slope": tl.ravel(), "us_security_pressure": pr.ravel()})
    per_chunk = 1000  # cells per chunk x 100 seeds = 100,000 worlds
    broke = np.full(len(cells), np.nan)
    for start in range(0, per_chunk * chunks, per_chunk):
        c = cells.iloc[start : start + per_chunk]
        ov = {k: np.repeat(c[k].to_numpy(), 100) for k in c.columns}
        p = build_params(cal, sc, ROUNDS, len(c) * 100, ov)
        seeds = np.tile(np.arange(100), len(c))
        out = run_batch(p, seeds, threads=threads, compiled=compiled).outcomes
        broke[start : start + len(c)] = (
            (out["breakdown_round"].to_numpy() >= 0).reshape(-1, 100).mean(axis=1)
        )
    return broke


def _bench_million(
    cal: Calibration, sc: Scenario, threads: int, compiled: bool, chunks: int
) -> None:
    """Time the million-run sweep (or its first ``chunks`` chunks) and print its line."""
    engine = "numba" if compiled else "numpy"
    print(
        f"\nmillion-run sweep: 100 x 100 grid x 100 seeds x 40 rounds, chunks of 100,000 worlds, "
        f"{engine}, {threads} thread{'s' if threads > 1 else ''}"
    )
    gc.collect()
    t0 = time.perf_counter()
    broke = _million_sweep(cal, sc, threads, compiled, chunks)
    seconds = time.perf_counter() - t0
    runs = chunks * 100_000
    total = seconds * 1_000_000 / runs
    what = (
        "" if chunks == 10 else f" (extrapolated from {chunks} of the 10 chunks, {seconds:.0f} s)"
    )
    done = broke[~np.isnan(broke)]
    print(
        f"  1,000,000 runs in {total:,.0f} s{what} ({1e6 / total:,.0f} runs/s, "
        f"{total / 4e7 * 1e9:,.0f} ns per world-round); process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:,.0f} MB; "
        f"cells with any breakdown: {(done > 0).sum()} of {len(done)}"
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: grid size, states, Mesa runs, batch sizes, threads, --million."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points-tariff", type=int, default=20)
    ap.add_argument("--points-pressure", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--states", choices=["own", "strategic", "reactive"], default="own")
    ap.add_argument("--mesa-runs", type=int, default=100, help="grid runs for (a) and (b)")
    ap.add_argument("--sizes", type=int, nargs="*", default=[2_000, 10_000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--million", action="store_true", help="also run the 1,000,000-run sweep")
    ap.add_argument("--million-chunks", type=int, default=10, choices=range(1, 11))
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmarks and print their lines and the results table."""
    args = _parse_args(argv)
    from sim.catalog import load_calibration, load_scenario

    cal = load_calibration("article")
    states = {} if args.states == "own" else {"us_policy": args.states, "china_policy": args.states}
    sc = load_scenario("baseline", **states)
    grid = _grid(args.points_tariff, args.points_pressure, args.seeds)
    mesa_grid = grid.iloc[: args.mesa_runs]
    rows: list[dict] = []
    print(
        f"grid: {args.points_tariff} x {args.points_pressure} points x {args.seeds} seeds x "
        f"{ROUNDS} rounds = {len(grid):,} runs (Mesa: the first {len(mesa_grid):,}); states: "
        f"US {sc.us_policy}, China {sc.china_policy}"
    )
    _compile_times(cal, sc)
    br = _bench_mesa_batch_run(cal, sc, mesa_grid, rows)
    loop_sides = _bench_mesa_loop(cal, sc, mesa_grid, rows)
    batch_sides = _bench_batch_engines(cal, sc, grid, args.seeds, args.sizes, args.threads, rows)
    _print_identical(br, loop_sides, batch_sides)
    _print_table(rows)
    if args.million:
        fastest = min(rows[2:], key=lambda r: r["ns_per_world_round"])
        _bench_million(
            cal, sc, fastest["threads"], fastest["engine"] == "numba", args.million_chunks
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
