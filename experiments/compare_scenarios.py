"""Compare the named scenarios over many seeds and print a summary table.

    python -m experiments.compare_scenarios [--seeds 100] [--rounds 40] [--calibration article]
                                            [--engine batch|numba|mesa] [--out results/runs/comparison]
                                            [--scenarios baseline examples/tariff_deal_2025 ...]

Per scenario, at the calibrated noise and near best response (every temperature / 10): the
runs that stayed balanced, broke toward the US or toward China, or saw a relation ruptured by
the US or by China, each as a count, a share and its Wilson 95% interval; the median round of
breakdown over the runs that broke (with its calendar quarter and how many broke). Writes the
outcomes (parquet, units in its metadata) and the summary (CSV with a ``.units.csv`` sidecar).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from experiments import REPO_ROOT
from experiments.text_tables import median_cell, share_of
from sim.catalog import load_calibration
from sim.core.errors import ConfigError
from sim.core.tables import concat, units_of, write_units_csv
from sim.engine.runner import compare_scenarios
from sim.sweep.storage import (
    atomic_write_parquet,
    atomic_write_text,
    code_version,
    config_hash,
    unit_metadata,
)


def format_summary(summary) -> str:
    """The summary as fixed-width text: per outcome the runs, the share and its Wilson 95%
    interval; the median breakdown round (and quarter) over the runs that broke."""
    cells = {
        "balanced": "balanced",
        "toward_us": "toward US",
        "toward_china": "toward China",
        "rupture_by_us": "rupture by US",
        "rupture_by_china": "rupture by China",
    }
    width = 24
    name = max([28, *(len(str(n)) + 1 for n in summary["scenario"])])
    lead = f"{'scenario':<{name}} {'states':<10} {'noise':<10} {'runs':>5}"
    blocks = []
    for title, keys in (
        ("Outcomes (runs, share, Wilson 95% interval)", ["balanced", "toward_us", "toward_china"]),
        (
            "Ruptures: a relation the state collapsed by its own actions",
            ["rupture_by_us", "rupture_by_china"],
        ),
    ):
        head = lead + "".join(f" {cells[k]:>{width}}" for k in keys)
        if keys[0] == "balanced":
            head += f" {'median breakdown round':>28}"
        lines = [title, head, "-" * len(head)]
        for _, r in summary.iterrows():
            line = f"{r['scenario']:<{name}} {r['states']:<10} {r['noise']:<10} {int(r['runs']):>5}"
            for k in keys:
                line += f" {share_of(r, k):>{width}}"
            if keys[0] == "balanced":
                line += f" {median_cell(r):>28}"
            lines.append(line)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


#: The noise levels a comparison reports: the calibrated temperatures, and all of them / 10.
NOISE = {"calibrated": 1.0, "near-BR": 10.0}
STATE_UNITS = {
    "states": "how the US and China act: strategic | reactive",
    "noise": "calibrated (the calibration's temperatures) | near-BR (every temperature / 10)",
}


def compare(
    names: list[str],
    seeds: int,
    rounds: int,
    calibration: str,
    engine: str,
    noise: list[str],
    states: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcomes and summary of every scenario for each state model and noise level."""
    base = load_calibration(calibration)
    outs, sums = [], []
    for model in states:
        for label in noise:
            factor = NOISE[label]
            cal = base if factor == 1.0 else base.near_best_response(factor)
            outcomes, summary = compare_scenarios(
                names, range(seeds), rounds, cal, engine=engine, states=model
            )
            for df in (outcomes, summary):
                df.insert(1, "noise", label)
                df.insert(1, "states", model)
            summary.attrs["units"].update(STATE_UNITS)
            outcomes.attrs["units"].update(STATE_UNITS)
            outs.append(outcomes)
            sums.append(summary)
    summary = concat(sums)
    order = {
        "scenario": {n: i for i, n in enumerate(names)},
        "states": {m: i for i, m in enumerate(states)},
        "noise": {n: i for i, n in enumerate(noise)},
    }
    summary = summary.sort_values(
        ["scenario", "states", "noise"], key=lambda c: c.map(order[str(c.name)]), kind="stable"
    )
    units = summary.attrs["units"]
    summary = summary.reset_index(drop=True)
    summary.attrs["units"] = units
    return concat(outs), summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100, help="seeds 0..N-1 per scenario")
    ap.add_argument("--rounds", type=int, default=40, help="quarters per run")
    ap.add_argument("--calibration", default="article")
    ap.add_argument("--engine", default="batch", choices=["batch", "numba", "mesa"])
    ap.add_argument("--scenarios", nargs="*", default=None, help="default: the named scenarios")
    ap.add_argument(
        "--noise", nargs="*", default=list(NOISE), choices=list(NOISE), help="noise levels"
    )
    ap.add_argument(
        "--states",
        nargs="*",
        default=["strategic", "reactive"],
        choices=["strategic", "reactive"],
        help="how the US and China act: strategic leaders (the default) or reactive rules",
    )
    ap.add_argument("--out", default="results/runs/comparison")
    args = ap.parse_args(argv)
    names = args.scenarios or DEFAULT_SCENARIOS
    t0 = time.perf_counter()
    try:
        if args.seeds < 1 or args.rounds < 1:
            raise ConfigError("--seeds/--rounds", "must be >= 1")
        outcomes, summary = compare(
            names, args.seeds, args.rounds, args.calibration, args.engine, args.noise, args.states
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
        meta = {"code_version": code_version(), **unit_metadata(outcomes)}
        atomic_write_parquet(out / f"outcomes-{tag}-{digest}.parquet", outcomes, meta)
        atomic_write_text(summary_path, csv)
        write_units_csv(units_of(summary), summary_path.with_suffix(".units.csv"))
    print(
        f"\nScenario comparison: calibration '{args.calibration}', {args.seeds} seeds x "
        f"{args.rounds} quarters, {args.engine} engine ({elapsed:.1f} s); near-BR = every "
        "decision's temperature / 10\n"
    )
    print(format_summary(summary))
    print(f"\nsummary: {summary_path}")
    return 0


#: The scenarios a comparison runs by default (the 2024 what-ifs, not the history replays).
DEFAULT_SCENARIOS = [
    "baseline",
    "us_escalation",
    "rare_earth_embargo",
    "fiscal_stress",
    "no_lobbying",
]


if __name__ == "__main__":
    sys.exit(main())
