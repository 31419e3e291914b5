"""Sweep throughput: a 20,000-run x 40-round grid through ``python -m sim``, in runs per second.

    python -m experiments.bench_sweep [--launchers basic parallel] [--chunks 8] [--replicates 50]

The grid is breakdown_grid cut to 20 x 20 points x 50 seeds = 20,000 runs of 40 quarters. For
each launcher the whole command is timed (Python start-up, config composition, validation,
Hydra jobs, chunk files, merge) into a fresh temporary folder; then the same design is timed in
this process on the batch engine alone (no Hydra, no files). Not a unit test: it prints.
The target is the whole command under 10 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from experiments import REPO_ROOT

TARGET_S = 600.0


def grid_overrides(replicates: int, chunks: int, output_dir: Path) -> list[str]:
    """Overrides that turn breakdown_grid into the 20 x 20 x ``replicates`` benchmark grid."""
    return [
        "+experiment=breakdown_grid",
        "sweep.axes.tariff.step=null",
        "sweep.axes.tariff.num=20",
        "sweep.axes.pressure.step=null",
        "sweep.axes.pressure.num=20",
        f"sweep.replicates={replicates}",
        f"sweep.chunks={chunks}",
        f"sweep.output_dir={output_dir}",
    ]


def time_cli(launcher: str, replicates: int, chunks: int) -> tuple[float, int]:
    """Wall time (s) of the whole sweep command with ``launcher``, and the rows it wrote."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        cmd = [sys.executable, "-m", "sim", *grid_overrides(replicates, chunks, Path(tmp))]
        cmd.append(f"hydra/launcher={launcher}")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{launcher}: failed\n{proc.stderr}")
        (table,) = Path(tmp).glob("*/*/runs.parquet")
        return seconds, len(pd.read_parquet(table, columns=["run_id"]))


def time_in_process(replicates: int, chunks: int) -> tuple[float, int]:
    """Seconds to plan and compute every chunk of the same design in this process (no files)."""
    from hydra import compose, initialize_config_dir

    from experiments import CONFIG_DIR
    from sim.cli.main import sweep_plan
    from sim.sweep.execute import run_chunk

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose("config", grid_overrides(replicates, chunks, Path(tempfile.gettempdir())))
    t0 = time.perf_counter()
    plan = sweep_plan(cfg)
    rows = sum(len(run_chunk(plan, i)) for i in range(len(plan.chunks)))
    return time.perf_counter() - t0, rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print runs per second."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--launchers", nargs="*", default=["basic", "parallel"])
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--replicates", type=int, default=50)
    args = ap.parse_args(argv)
    runs = 400 * args.replicates
    print(
        f"grid: 20 x 20 points x {args.replicates} seeds = {runs:,} runs x 40 rounds, "
        f"{args.chunks} chunks"
    )
    for launcher in args.launchers:
        seconds, rows = time_cli(launcher, args.replicates, args.chunks)
        ok = "OK" if seconds < TARGET_S else "TOO SLOW"
        print(
            f"python -m sim ... hydra/launcher={launcher:<9} {rows:,} rows in {seconds:6.1f} s "
            f"= {rows / seconds:8,.0f} runs/s  (target < {TARGET_S:.0f} s: {ok})"
        )
    seconds, rows = time_in_process(args.replicates, args.chunks)
    print(
        f"in process, batch engine only (no Hydra, no files): {rows:,} runs in {seconds:6.2f} s "
        f"= {rows / seconds:8,.0f} runs/s = {seconds / rows / 40 * 1e6:.2f} us per world-round"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
