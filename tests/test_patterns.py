"""Pattern checks over 200 seeds each (batch engine; identical to the Mesa model).

Patterns the model does not reproduce are marked ``xfail(strict=True)`` with the numbers:
they document a disagreement (nothing was tuned to make them pass), and the strict flag
makes a future change that fixes them visible.
"""

import pytest

from experiments.patterns import pattern_table, pattern_verdicts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def verdicts():
    return pattern_verdicts(pattern_table("article", seeds=200)).set_index("pattern")


def _check(verdicts, pattern):
    row = verdicts.loc[pattern]
    assert row["reproduced"], f"{pattern}: {row['evidence']}"


def test_baseline_mostly_stays_balanced(verdicts):
    _check(verdicts, "baseline keeps balancing")


@pytest.mark.xfail(
    strict=True,
    reason="model disagrees: us_escalation breaks toward the US in 32% of runs (article), 7% (corrected)",
)
def test_us_escalation_mostly_breaks_toward_the_us(verdicts):
    _check(verdicts, "US escalation mostly breaks toward the US")


def test_us_escalation_breaks_toward_the_us_not_china():
    t = pattern_table("article", seeds=200).set_index("case")
    assert t.loc["us_escalation", "toward_us"] > 0.2
    assert t.loc["us_escalation", "toward_china"] == 0.0


def test_silencing_firms_makes_breakdown_under_escalation_earlier_or_more_often(verdicts):
    _check(verdicts, "silencing firms makes breakdown under escalation earlier or more often")


@pytest.mark.xfail(
    strict=True,
    reason="model disagrees: fiscal stress under escalation breaks 28% vs 32% without it (losses on both sides are amplified, and so is the cost of changing policy)",
)
def test_fiscal_stress_makes_breakdown_under_escalation_earlier_or_more_often(verdicts):
    _check(verdicts, "fiscal stress makes breakdown under escalation earlier or more often")


def test_rare_earth_coercion_drives_diversification(verdicts):
    _check(verdicts, "rare-earth coercion drives diversification")


@pytest.mark.xfail(
    strict=True,
    reason="model disagrees: the embargo scenario leaves mean compliance at 0.501 vs 0.502 (no concessions)",
)
def test_rare_earth_coercion_buys_concessions(verdicts):
    _check(verdicts, "rare-earth coercion buys concessions (lower mean compliance)")
