"""Pattern-oriented validation: does the model reproduce the patterns DESIGN.md expects?

    python -m experiments.patterns [--seeds 200] [--calibration article]

Prints, per case, the share of runs that broke toward each side, the median breakdown round,
mean compliance, diversification spend and final rare-earth dependence; then each pattern
with the numbers that decide it. Nothing here is tuned: a pattern that fails is reported.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from sim.catalog import load_calibration, load_scenario
from sim.engine.runner import run_seeds, summarize_outcomes

#: label -> (scenario, overrides)
CASES: dict[str, tuple[str, dict[str, float]]] = {
    "baseline": ("baseline", {}),
    "no_lobbying": ("no_lobbying", {}),
    "fiscal_stress": ("fiscal_stress", {}),
    "rare_earth_embargo": ("rare_earth_embargo", {}),
    "us_escalation": ("us_escalation", {}),
    "us_escalation, firms silent": ("us_escalation", {"lobbying_strength": 0.0}),
    "us_escalation, fiscal stress": ("us_escalation", {"fiscal_stress": 1.0}),
}


def pattern_table(calibration: str = "article", seeds: int = 200, rounds: int = 40) -> pd.DataFrame:
    """One row per case: outcome shares, median breakdown round, mean compliance, diversification."""
    cal = load_calibration(calibration)
    frames = []
    for label, (scenario, overrides) in CASES.items():
        out = run_seeds(cal, load_scenario(scenario), rounds, range(seeds), overrides=overrides)
        out.insert(0, "case", label)
        frames.append(out)
    df = pd.concat(frames, ignore_index=True)
    summary = summarize_outcomes(df, "case")
    extra = df.groupby("case", sort=False).agg(
        mean_compliance=("mean_compliance", "mean"),
        diversification_bn=("cum_diversification_cost_bn", "mean"),
        final_dependence=("final_rare_earth_dependence", "mean"),
    )
    return summary.merge(extra, left_on="case", right_index=True)


def pattern_verdicts(t: pd.DataFrame) -> pd.DataFrame:
    """Each expected pattern, the numbers that decide it, and whether the model shows it."""
    r = t.set_index("case")
    broke = 1.0 - r["balanced"]

    def earlier_or_more(a: str, b: str) -> bool:
        more = broke[a] > broke[b]
        earlier = (
            broke[a] >= broke[b]
            and r.loc[a, "median_breakdown_round"] < r.loc[b, "median_breakdown_round"]
        )
        return bool(more or earlier)

    rows = [
        (
            "baseline keeps balancing",
            f"balanced {r.loc['baseline', 'balanced']:.0%}",
            r.loc["baseline", "balanced"] > 0.5,
        ),
        (
            "US escalation mostly breaks toward the US",
            f"toward US {r.loc['us_escalation', 'toward_us']:.0%}",
            r.loc["us_escalation", "toward_us"] > 0.5,
        ),
        (
            "silencing firms makes breakdown under escalation earlier or more often",
            f"broke {broke['us_escalation, firms silent']:.0%} vs {broke['us_escalation']:.0%}",
            earlier_or_more("us_escalation, firms silent", "us_escalation"),
        ),
        (
            "fiscal stress makes breakdown under escalation earlier or more often",
            f"broke {broke['us_escalation, fiscal stress']:.0%} vs {broke['us_escalation']:.0%}",
            earlier_or_more("us_escalation, fiscal stress", "us_escalation"),
        ),
        (
            "fiscal stress alone breaks the baseline more often",
            f"broke {broke['fiscal_stress']:.0%} vs {broke['baseline']:.0%}",
            earlier_or_more("fiscal_stress", "baseline"),
        ),
        (
            "rare-earth coercion drives diversification",
            f"final dependence {r.loc['rare_earth_embargo', 'final_dependence']:.3f} vs {r.loc['baseline', 'final_dependence']:.3f}",
            r.loc["rare_earth_embargo", "final_dependence"] < r.loc["baseline", "final_dependence"],
        ),
        (
            "rare-earth coercion buys concessions (lower mean compliance)",
            f"mean compliance {r.loc['rare_earth_embargo', 'mean_compliance']:.3f} vs {r.loc['baseline', 'mean_compliance']:.3f}",
            r.loc["rare_earth_embargo", "mean_compliance"]
            < r.loc["baseline", "mean_compliance"] - 0.01,
        ),
    ]
    return pd.DataFrame(rows, columns=["pattern", "evidence", "reproduced"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--calibration", default="article")
    args = ap.parse_args(argv)
    t = pattern_table(args.calibration, args.seeds, args.rounds)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(t.to_string(index=False))
        print()
        print(pattern_verdicts(t).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
