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
from collections.abc import Callable

import numpy as np
import pandas as pd

ROUNDS = 40


def _grid(n_tariff: int, n_pressure: int, seeds: int) -> pd.DataFrame:
    t, p, s = np.meshgrid(
        np.linspace(0.0, 0.6, n_tariff),
        np.linspace(0.4, 1.0, n_pressure),
        np.arange(seeds),
        indexing="ij",
    )
    return pd.DataFrame(
        {"us_tariff_level": t.ravel(), "us_security_pressure": p.ravel(), "seed": s.ravel()}
    )


def _peak_mb(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points-tariff", type=int, default=20)
    ap.add_argument("--points-pressure", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sizes", type=int, nargs="*", default=[2_000, 10_000, 100_000])
    ap.add_argument("--threads", type=int, default=1, help="threads for the batch engine")
    ap.add_argument("--million", action="store_true", help="also run the 1,000,000-run sweep")
    args = ap.parse_args(argv)

    import mesa

    from sim.catalog import load_calibration, load_scenario
    from sim.core.params import build_params
    from sim.engine.batch import run_batch
    from sim.engine.model import BalancingModel

    cal = load_calibration("article")
    sc = load_scenario("baseline")
    grid = _grid(args.points_tariff, args.points_pressure, args.seeds)
    n = len(grid)
    rows = []

    def record(method: str, runs: int, seconds: float, peak: float) -> None:
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

    print(
        f"grid: {args.points_tariff} x {args.points_pressure} points x {args.seeds} seeds x {ROUNDS} rounds = {n:,} runs"
    )

    # (a) mesa.batch_run
    params = {
        "scenario": sc,
        "calibration": cal,
        "rounds": ROUNDS,
        "us_tariff_level": list(np.unique(grid["us_tariff_level"])),
        "us_security_pressure": list(np.unique(grid["us_security_pressure"])),
    }

    def mesa_batch_run(seeds=range(args.seeds)):
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
    record("(a) mesa.batch_run", len(br), seconds, _peak_mb(lambda: mesa_batch_run([0])))

    # (b) plain loop over Mesa runs
    def mesa_loop(g: pd.DataFrame) -> np.ndarray:
        sides = np.empty(len(g), dtype=np.int64)
        for i, r in enumerate(g.itertuples(index=False)):
            m = BalancingModel(
                sc,
                cal,
                ROUNDS,
                rng=int(r.seed),
                us_tariff_level=r.us_tariff_level,
                us_security_pressure=r.us_security_pressure,
            )
            m.run_for(ROUNDS)
            sides[i] = int(m.detector.side[0])
        return sides

    t0 = time.perf_counter()
    loop_sides = mesa_loop(grid)
    record(
        "(b) plain Mesa loop",
        n,
        time.perf_counter() - t0,
        _peak_mb(lambda: mesa_loop(grid.iloc[:200])),
    )

    # (c) batch engine at several sizes (the grid repeated with more seeds)
    batch_sides = None
    for size in sorted(set([n, *args.sizes])):
        reps = int(np.ceil(size / n))
        g = pd.concat(
            [grid.assign(seed=grid["seed"] + k * args.seeds) for k in range(reps)],
            ignore_index=True,
        ).iloc[:size]
        ov = {
            "us_tariff_level": g["us_tariff_level"].to_numpy(),
            "us_security_pressure": g["us_security_pressure"].to_numpy(),
        }

        def batch(g=g, ov=ov):
            p = build_params(cal, sc, ROUNDS, len(g), ov)
            return run_batch(p, g["seed"].to_numpy(), threads=args.threads)

        t0 = time.perf_counter()
        res = batch()
        seconds = time.perf_counter() - t0
        record(f"(c) batch engine, {size:,} worlds", size, seconds, _peak_mb(batch))
        if size == n:
            batch_sides = res.outcomes["outcome"].cat.codes.to_numpy()

    # identical outcomes across methods
    br = br.sort_values(["us_tariff_level", "us_security_pressure", "seed"]).reset_index(drop=True)
    br_sides = br["breakdown_side"].to_numpy().astype(np.int64)
    same = np.array_equal(br_sides, loop_sides) and np.array_equal(loop_sides, batch_sides)
    print(
        f"identical outcomes across (a), (b), (c): {same}  (breakdowns: {int((loop_sides > 0).sum())} of {n})"
    )

    table = pd.DataFrame(rows)
    base = table.loc[0, "runs_per_s"]
    table["speedup_vs_batch_run"] = table["runs_per_s"] / base
    with pd.option_context("display.width", 200, "display.float_format", lambda x: f"{x:,.2f}"):
        print()
        print(table.to_string(index=False))

    if args.million:
        print(
            "\nmillion-run sweep: 100 x 100 grid x 100 seeds x 40 rounds, streamed in chunks of 100,000"
        )
        tl, pr = np.meshgrid(np.linspace(0.0, 0.6, 100), np.linspace(0.4, 1.0, 100), indexing="ij")
        cells = pd.DataFrame({"us_tariff_level": tl.ravel(), "us_security_pressure": pr.ravel()})
        per_chunk = 1000  # cells per chunk x 100 seeds = 100,000 worlds

        def million():
            broke = np.zeros(len(cells))
            for start in range(0, len(cells), per_chunk):
                c = cells.iloc[start : start + per_chunk]
                ov = {k: np.repeat(c[k].to_numpy(), 100) for k in c.columns}
                p = build_params(cal, sc, ROUNDS, len(c) * 100, ov)
                out = run_batch(p, np.tile(np.arange(100), len(c)), threads=args.threads).outcomes
                broke[start : start + len(c)] = (
                    (out["breakdown_round"].to_numpy() >= 0).reshape(-1, 100).mean(axis=1)
                )
            return broke

        gc.collect()
        tracemalloc.start()
        t0 = time.perf_counter()
        broke = million()
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
