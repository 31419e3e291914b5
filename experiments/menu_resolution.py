"""Does P(breakdown) move with the number of compliance cells? (ODD §9.4)

    python -m experiments.menu_resolution [--seeds 1000] [--calibration article]

Every named 2024 scenario with 5, 11, 21 (the default) and 41 compliance cells, under strategic
and reactive states, at the calibrated noise, seeds 0..N-1 (common random numbers). Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import sys

from experiments.compare_scenarios import DEFAULT_SCENARIOS
from sim.catalog import load_calibration
from sim.engine.runner import compare_scenarios

CELLS = (5, 11, 21, 41)
STATES = ("strategic", "reactive")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=1000)
    ap.add_argument("--calibration", default="article")
    args = ap.parse_args(argv)
    base = load_calibration(args.calibration)
    head = " | ".join(DEFAULT_SCENARIOS)
    print(f"| states | cells | {head} |")
    print("|---|---|" + "---|" * len(DEFAULT_SCENARIOS))
    for states in STATES:
        for cells in CELLS:
            cal = base.with_values({"compliance_options": cells})
            _, summary = compare_scenarios(
                DEFAULT_SCENARIOS, range(args.seeds), 40, cal, states=states
            )
            p = dict(zip(summary["scenario"], 1.0 - summary["balanced"], strict=True))
            row = " | ".join(f"{p[n]:.1%}" for n in DEFAULT_SCENARIOS)
            print(f"| {states} | {cells} | {row} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
