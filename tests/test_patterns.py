"""Pattern checks over 200 seeds each, at the calibrated noise and near best response.

Patterns the model does not reproduce are ``xfail(strict=True)`` with their numbers: they
document a disagreement (nothing was tuned to make them pass), and the strict flag makes a
change that fixes one visible. A pattern counts as reproduced only where its 95% interval says
so (experiments/patterns.py).
"""

import pytest

from experiments.patterns import case_runs, pattern_verdicts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["calibrated", "near-BR"])
def verdicts(request):
    runs = case_runs("article", seeds=200, noise=request.param)
    return request.param, pattern_verdicts(runs).set_index("pattern")


def _check(verdicts, pattern, disagrees_at=()):
    noise, table = verdicts
    row = table.loc[pattern]
    if noise in disagrees_at:
        pytest.xfail(f"model disagrees ({noise}): {row['evidence']}")
    assert row["reproduced"], f"{pattern} ({noise}): {row['evidence']}"


def test_baseline_keeps_balancing(verdicts):
    _check(verdicts, "baseline keeps balancing")


@pytest.mark.xfail(
    strict=True,
    reason="model disagrees: us_escalation breaks toward the US in 46% of runs [39%, 53%] at "
    "calibrated noise and 24% near best response; most runs stay balanced",
)
def test_us_escalation_mostly_breaks_toward_the_us(verdicts):
    _check(verdicts, "US escalation mostly breaks toward the US")


def test_enough_us_pressure_tips_japan_toward_the_us(verdicts):
    _check(verdicts, "enough US pressure (tariff 1.0) tips Japan toward the US")


def test_silencing_firms_makes_breakdown_under_escalation_more_frequent(verdicts):
    _check(verdicts, "silencing firms makes breakdown under escalation more frequent")


@pytest.mark.xfail(
    strict=True,
    reason="model disagrees: fiscal stress 1 changes breakdown under escalation by +1.0 points "
    "[-0.4, +2.4] at calibrated noise and -3.5 [-7.0, 0.0] near best response: the fiscal "
    "multiplier weighs every loss alike (tariffs and China's retaliation), so it tilts no side",
)
def test_fiscal_stress_makes_breakdown_under_escalation_more_frequent(verdicts):
    _check(verdicts, "fiscal stress makes breakdown under escalation more frequent")


def test_rare_earth_coercion_drives_diversification(verdicts):
    _check(verdicts, "rare-earth coercion drives diversification (lower final dependence)")


def test_rare_earth_coercion_buys_short_term_concessions(verdicts):
    # Calibrated: compliance in the embargo window falls by 0.012 [0.009, 0.015]; near best
    # response it rises by 0.016: the embargo's restriction does not depend on Japan's
    # choice, so it punishes without coercing, and it mutes Toyota's lobbying for access.
    _check(
        verdicts,
        "rare-earth coercion buys short-term concessions (lower compliance in the window)",
        disagrees_at=("near-BR",),
    )


def test_us_escalation_breaks_toward_the_us_not_china():
    runs = case_runs("article", seeds=200)
    esc = runs[runs["case"] == "us_escalation"]
    assert (esc["outcome"] == "us").mean() > 0.2
    assert (esc["outcome"] == "china").mean() == 0.0
