"""Compare the named scenarios over many seeds and print a summary table.

    python -m experiments.compare_scenarios [--seeds 100] [--rounds 40] [--calibration article]
                                            [--engine batch|mesa] [--out results/runs/comparison]

Per scenario: share of runs that stayed balanced, that broke toward the US, toward China,
and the median round of breakdown. Writes the outcomes and the summary as parquet/CSV.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from experiments import REPO_ROOT
from sim.catalog import scenario_names
from sim.core.errors import ConfigError
from sim.engine.runner import compare_scenarios
from sim.sweep.storage import atomic_write_parquet, atomic_write_text, code_version, config_hash


def format_summary(summary) -> str:
    """The summary as a readable fixed-width table."""
    lines = [
        f"{'scenario':<20} {'runs':>5} {'balanced':>9} {'toward US':>10} {'toward China':>13} {'median round':>13}",
        "-" * 75,
    ]
    for _, r in summary.iterrows():
        med = (
            "-"
            if r["median_breakdown_round"] != r["median_breakdown_round"]
            else f"{r['median_breakdown_round']:.1f}"
        )
        lines.append(
            f"{r['scenario']:<20} {int(r['runs']):>5} {r['balanced']:>9.0%} {r['toward_us']:>10.0%} "
            f"{r['toward_china']:>13.0%} {med:>13}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100, help="seeds 0..N-1 per scenario")
    ap.add_argument("--rounds", type=int, default=40, help="quarters per run")
    ap.add_argument("--calibration", default="article")
    ap.add_argument("--engine", default="batch", choices=["batch", "mesa"])
    ap.add_argument("--scenarios", nargs="*", default=None, help="default: all in configs/scenario")
    ap.add_argument("--out", default="results/runs/comparison")
    args = ap.parse_args(argv)
    names = args.scenarios or ["baseline", *[n for n in scenario_names() if n != "baseline"]]
    t0 = time.perf_counter()
    try:
        if args.seeds < 1 or args.rounds < 1:
            raise ConfigError("--seeds/--rounds", "must be >= 1")
        outcomes, summary = compare_scenarios(
            names, range(args.seeds), args.rounds, args.calibration, engine=args.engine
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    out = Path(args.out)
    out = out if out.is_absolute() else REPO_ROOT / out
    tag = f"{args.calibration}-s{args.seeds}-r{args.rounds}-{args.engine}"
    csv = summary.to_csv(index=False)
    # Keyed by content: a rerun with the same result finds its file, a different one never overwrites.
    digest = config_hash(csv)[:8]
    summary_path = out / f"summary-{tag}-{digest}.csv"
    if not summary_path.exists():
        atomic_write_parquet(
            out / f"outcomes-{tag}-{digest}.parquet", outcomes, {"code_version": code_version()}
        )
        atomic_write_text(summary_path, csv)
    print(
        f"\nScenario comparison: calibration '{args.calibration}', {args.seeds} seeds x "
        f"{args.rounds} quarters, {args.engine} engine ({elapsed:.1f} s)\n"
    )
    print(format_summary(summary))
    print(f"\nsummary: {summary_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
