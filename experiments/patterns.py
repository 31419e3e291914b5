"""Pattern-oriented validation: does the model reproduce the patterns it is expected to?

    python -m experiments.patterns [--seeds 200] [--calibration article]

Runs each case at the calibrated noise and near best response (every decision's temperature
divided by 10), prints per case the share of runs that broke toward each side or saw a
relation ruptured, the median breakdown round, compliance, diversification and dependence,
then each pattern with the numbers that decide it at both noise levels: a share with its
Wilson 95% interval, or a paired difference between cases (they share seeds) with its 95%
interval. A pattern is reproduced only where the interval says so. Nothing here is tuned: a
pattern that fails is reported.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from experiments.text_tables import median_cell, number, share_of
from sim.catalog import load_calibration, load_scenario
from sim.core.params import build_params
from sim.engine.batch import run_batch
from sim.engine.runner import summarize_outcomes

#: label -> (scenario, overrides)
CASES: dict[str, tuple[str, dict[str, float]]] = {
    "baseline": ("baseline", {}),
    "no_lobbying": ("no_lobbying", {}),
    "fiscal_stress": ("fiscal_stress", {}),
    "rare_earth_embargo": ("rare_earth_embargo", {}),
    "us_escalation": ("us_escalation", {}),
    "us_escalation, tariff 1.0": ("us_escalation", {"escalation.us_tariff_slope": 1.0}),
    "us_escalation, firms silent": ("us_escalation", {"lobbying_strength": 0.0}),
    "us_escalation, fiscal stress": ("us_escalation", {"fiscal_stress": 1.0}),
}
#: How the US and China act: strategic leaders (the scenarios' default) or reactive rules.
STATES = ("strategic", "reactive")
#: Noise levels: the calibrated temperatures, and all of them divided by 10.
NOISE = {"calibrated": 1.0, "near-BR": 10.0}
#: The smallest difference that counts as a pattern, per compared column (assumption): one
#: percentage point of breakdown, a fifth of a compliance menu step (0.05), one point of
#: rare-earth dependence. A paired interval that excludes 0 but sits below these (e.g. a
#: compliance change of 0.001 over 200 common-seed pairs) is a real but negligible effect.
MIN_EFFECT = {"broke": 0.01, "window_compliance": 0.01, "final_rare_earth_dependence": 0.01}


def _window(sc_name: str, rounds: int) -> np.ndarray:
    """The rare_earth_embargo scenario's embargo rounds (every case is compared on them)."""
    sc = load_scenario(sc_name)
    e = sc.embargo if sc.embargo is not None else load_scenario("rare_earth_embargo").embargo
    window = np.zeros(rounds, dtype=bool)
    window[e.start_round : e.start_round + e.rounds] = True
    return window


def case_runs(
    calibration: str = "article",
    seeds: int = 200,
    rounds: int = 40,
    noise: str = "calibrated",
    states: str = "strategic",
) -> pd.DataFrame:
    """Every run of every case (seeds 0..N-1 in each: common random numbers), one row per run.

    ``states``: how the US and China act in every case, ``strategic`` or ``reactive``.
    """
    base = load_calibration(calibration)
    cal = base if NOISE[noise] == 1.0 else base.near_best_response(NOISE[noise])
    frames = []
    for label, (scenario, overrides) in CASES.items():
        sc = load_scenario(scenario, us_policy=states, china_policy=states)
        p = build_params(cal, sc, rounds, seeds, overrides)
        res = run_batch(p, np.arange(seeds), record_rounds=True)
        out = res.outcomes
        out.insert(0, "seed", np.arange(seeds))
        out.insert(0, "case", label)
        out["window_compliance"] = res.rounds["jp_compliance"][_window(scenario, rounds)].mean(0)
        frames.append(out)
    runs = pd.concat(frames, ignore_index=True)
    runs.insert(1, "noise", noise)
    runs.insert(1, "states", states)
    runs["broke"] = (runs["outcome"] != "balanced").astype(float)
    return runs


def pattern_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per case: outcome counts and shares, compliance, diversification, dependence."""
    summary = summarize_outcomes(runs.drop(columns=["noise", "states"]), "case")
    extra = runs.groupby("case", sort=False).agg(
        mean_compliance=("mean_compliance", "mean"),
        window_compliance=("window_compliance", "mean"),
        mean_alignment=("mean_alignment", "mean"),
        diversification_bn=("cum_diversification_outlay_bn", "mean"),
        final_dependence=("final_rare_earth_dependence", "mean"),
    )
    table = summary.merge(extra, left_on="case", right_index=True)
    table.insert(1, "noise", runs["noise"].iloc[0])
    table.insert(1, "states", runs["states"].iloc[0])
    return table


def _majority(k: int, n: int) -> tuple[bool, str]:
    """Most runs (Wilson 95% interval above one half)?"""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    verdict = lo > 0.5
    return verdict, f"{k / n:.1%} [{lo:.1%}, {hi:.1%}]"


def _paired(runs: pd.DataFrame, a: str, b: str, col: str, sign: float) -> tuple[bool, str]:
    """Is ``col`` in case ``a`` different from case ``b`` in direction ``sign``, seed by seed?

    A paired comparison (the cases share seeds): reproduced when the 95% interval of the mean
    difference excludes 0 on the expected side and the mean difference is at least
    ``MIN_EFFECT[col]`` in size.
    """
    x = runs[runs["case"] == a].set_index("seed")[col]
    y = runs[runs["case"] == b].set_index("seed")[col]
    d = (x - y).to_numpy(float)
    mean, se = d.mean(), d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
    lo, hi = mean - 1.96 * se, mean + 1.96 * se
    verdict = (bool(lo > 0) if sign > 0 else bool(hi < 0)) and abs(mean) >= MIN_EFFECT[col]
    return (
        verdict,
        f"{x.mean():.3f} vs {y.mean():.3f} (difference {mean:+.3f} [{lo:+.3f}, {hi:+.3f}])",
    )


def pattern_verdicts(runs: pd.DataFrame) -> pd.DataFrame:
    """Each expected pattern, the numbers that decide it (95% intervals), and whether it holds."""
    r = runs.groupby("case", sort=False)
    n = r.size()
    toward_us = r["outcome"].apply(lambda s: int((s == "us").sum()))
    base = runs[runs["case"] == "baseline"]
    balanced, base_text = _majority(int((base["outcome"] == "balanced").sum()), len(base))
    partial = 0.25 < base["mean_compliance"].mean() < 0.75
    checks = [
        (
            "baseline keeps balancing",
            (
                balanced and partial,
                f"balanced {base_text}, compliance {base['mean_compliance'].mean():.2f}",
            ),
        ),
        (
            "US escalation mostly breaks toward the US",
            _majority(toward_us["us_escalation"], n["us_escalation"]),
        ),
        (
            "enough US pressure (tariff 1.0) tips Japan toward the US",
            _majority(toward_us["us_escalation, tariff 1.0"], n["us_escalation, tariff 1.0"]),
        ),
        (
            "silencing firms makes breakdown under escalation more frequent",
            _paired(runs, "us_escalation, firms silent", "us_escalation", "broke", +1),
        ),
        (
            "fiscal stress makes breakdown under escalation more frequent",
            _paired(runs, "us_escalation, fiscal stress", "us_escalation", "broke", +1),
        ),
        (
            "rare-earth coercion drives diversification (lower final dependence)",
            _paired(runs, "rare_earth_embargo", "baseline", "final_rare_earth_dependence", -1),
        ),
        (
            "rare-earth coercion buys short-term concessions (lower compliance in the window)",
            _paired(runs, "rare_earth_embargo", "baseline", "window_compliance", -1),
        ),
    ]
    out = pd.DataFrame(
        [(name, text, verdict) for name, (verdict, text) in checks],
        columns=["pattern", "evidence", "reproduced"],
    )
    out.insert(1, "noise", runs["noise"].iloc[0])
    out.insert(1, "states", runs["states"].iloc[0])
    return out


def markdown(table: pd.DataFrame, verdicts: pd.DataFrame) -> str:
    """The case table and the verdicts as Markdown (shares in %, intervals as printed)."""
    lines = [
        "| case | states | noise | balanced | toward US | toward China | rupture by US "
        "| rupture by China | median round | compliance | in embargo window | final dependence |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        med = median_cell(r)
        shares = " | ".join(
            " ".join(share_of(r, k).split())
            for k in ("balanced", "toward_us", "toward_china", "rupture_by_us", "rupture_by_china")
        )
        lines.append(
            f"| {r['case']} | {r['states']} | {r['noise']} | {shares} | "
            f"{med} | {r['mean_compliance']:.3f} | {r['window_compliance']:.3f} | "
            f"{r['final_dependence']:.3f} |"
        )
    lines += [
        "",
        "| expected pattern | states | noise | evidence (95% interval) | reproduced |",
        "|---|---|---|---|---|",
    ]
    for _, v in verdicts.sort_values("pattern", kind="stable").iterrows():
        lines.append(
            f"| {v['pattern']} | {v['states']} | {v['noise']} | {v['evidence']} | {'yes' if v['reproduced'] else '**no**'} |"
        )
    return "\n".join(lines)


#: The counts and intervals the case table prints with each share.
COUNT_COLUMNS = [
    "n_broke",
    *(
        f"{p}{k}{q}"
        for k in ("balanced", "toward_us", "toward_china", "rupture_by_us", "rupture_by_china")
        for p, q in (("n_", ""), ("", "_ci_low"), ("", "_ci_high"))
    ),
]


def format_cases(table: pd.DataFrame) -> str:
    """The case table as fixed-width text: counts, shares, Wilson intervals; ``-`` if missing."""
    keys = ["balanced", "toward_us", "toward_china", "rupture_by_us", "rupture_by_china"]
    head = f"{'case':<30} {'states':<10} {'noise':<10} {'runs':>5}" + "".join(
        f" {k:>22}" for k in keys
    )
    head += f" {'median round':>14} {'compliance':>10} {'in window':>9} {'dependence':>10}"
    lines = [head, "-" * len(head)]
    for _, r in table.iterrows():
        line = f"{r['case']:<30} {r['states']:<10} {r['noise']:<10} {int(r['runs']):>5}"
        line += "".join(f" {share_of(r, k):>22}" for k in keys)
        line += f" {median_cell(r):>14} {number(r['mean_compliance']):>10}"
        line += f" {number(r['window_compliance']):>9} {number(r['final_dependence']):>10}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--calibration", default="article")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables (for the ODD)")
    args = ap.parse_args(argv)
    runs = [
        case_runs(args.calibration, args.seeds, args.rounds, n, states)
        for states in STATES
        for n in NOISE
    ]
    tables = [pattern_table(r) for r in runs]
    verdicts = pd.concat([pattern_verdicts(r) for r in runs], ignore_index=True)
    cols = [
        "case",
        "states",
        "noise",
        "runs",
        "balanced",
        "toward_us",
        "toward_china",
        "rupture_by_us",
        "rupture_by_china",
        "median_breakdown_round",
        "mean_compliance",
        "window_compliance",
        "final_dependence",
    ]
    if args.markdown:
        print(markdown(pd.concat(tables, ignore_index=True), verdicts))
        return 0
    table = pd.concat(tables, ignore_index=True)[[*cols, *COUNT_COLUMNS]]
    print("Cases (runs, share, Wilson 95% interval; median breakdown round of the runs that broke)")
    print(format_cases(table))
    print()
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.precision", 3):
        print(verdicts.sort_values("pattern", kind="stable").to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
