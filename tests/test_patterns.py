"""Pattern checks over 200 seeds each: strategic and reactive states, calibrated noise and near
best response.

Patterns the model does not reproduce are ``xfail(strict=True)`` with their numbers: they
document a disagreement (nothing was tuned to make them pass), and the strict flag makes a
change that fixes one visible. A pattern counts as reproduced only where its 95% interval says
so and the effect is at least the smallest one that counts (experiments/patterns.py).
"""

import pytest

from experiments.patterns import case_runs, pattern_verdicts

pytestmark = pytest.mark.slow

CALIBRATED, NEAR_BR = ("strategic", "calibrated"), ("strategic", "near-BR")
REACTIVE = (("reactive", "calibrated"), ("reactive", "near-BR"))
STRATEGIC = (CALIBRATED, NEAR_BR)
EVERYWHERE = STRATEGIC + REACTIVE


@pytest.fixture(scope="module", params=EVERYWHERE, ids=lambda c: "-".join(c))
def verdicts(request):
    states, noise = request.param
    runs = case_runs("article", seeds=200, noise=noise, states=states)
    return request.param, pattern_verdicts(runs).set_index("pattern")


def _check(verdicts, pattern, disagrees_at=()):
    case, table = verdicts
    row = table.loc[pattern]
    if case in disagrees_at:
        if row["reproduced"]:
            pytest.fail(f"XPASS(strict): {pattern} now holds ({case}): {row['evidence']}")
        pytest.xfail(f"model disagrees ({'/'.join(case)}): {row['evidence']}")
    assert row["reproduced"], f"{pattern} ({'/'.join(case)}): {row['evidence']}"


def test_baseline_keeps_balancing(verdicts):
    _check(verdicts, "baseline keeps balancing")


def test_us_escalation_mostly_breaks_toward_the_us(verdicts):
    # Strategic: 0% of runs break (200 seeds, both noise levels). A US that weighs its buyers'
    # costs and lost trade against Japan's alignment sets the tariff severity near 0 (mean
    # tariff ~0.02); the escalation the article describes is the reactive rule's.
    _check(verdicts, "US escalation mostly breaks toward the US", disagrees_at=STRATEGIC)


def test_enough_us_pressure_tips_japan_toward_the_us(verdicts):
    # Strategic: 0% (calibrated) and 6.5% (near-BR) even with the scenario's tariff at 1.0,
    # for the same reason: the strategic US does not use the severity it is given.
    _check(
        verdicts,
        "enough US pressure (tariff 1.0) tips Japan toward the US",
        disagrees_at=STRATEGIC,
    )


def test_silencing_firms_makes_breakdown_under_escalation_more_frequent(verdicts):
    # Everywhere: difference +0.000. With the government weighing welfare 70 times
    # contributions (Goldberg & Maggi 1999), what firms can pay moves no decision.
    _check(
        verdicts,
        "silencing firms makes breakdown under escalation more frequent",
        disagrees_at=EVERYWHERE,
    )


def test_fiscal_stress_makes_breakdown_under_escalation_more_frequent(verdicts):
    # Reactive: +6.5 points [+3.1, +9.9] calibrated, +8.5 [+4.6, +12.4] near-BR (the marginal
    # cost of public funds on outlays and on replacing US protection). Strategic: nothing
    # breaks, with or without stress.
    _check(
        verdicts,
        "fiscal stress makes breakdown under escalation more frequent",
        disagrees_at=STRATEGIC,
    )


def test_rare_earth_coercion_drives_diversification(verdicts):
    # Strategic near-BR: final dependence 0.587 vs 0.590, below the one-point minimum effect
    # (calibrated: -0.026 strategic, -0.048 reactive; near-BR reactive -0.061).
    _check(
        verdicts,
        "rare-earth coercion drives diversification (lower final dependence)",
        disagrees_at=(NEAR_BR,),
    )


def test_rare_earth_coercion_buys_short_term_concessions(verdicts):
    # Everywhere: in-window compliance moves by at most 0.001. The embargo now lifts when
    # Japan's compliance falls to its line, but conceding (to 0.25 from ~0.6) costs Japan more
    # in lost US alignment and tariffs than the expected embargo, so Japan waits it out.
    _check(
        verdicts,
        "rare-earth coercion buys short-term concessions (lower compliance in the window)",
        disagrees_at=EVERYWHERE,
    )


def test_us_escalation_breaks_toward_the_us_not_china():
    runs = case_runs("article", seeds=200, states="reactive")
    esc = runs[runs["case"] == "us_escalation"]
    assert (esc["outcome"] == "us").mean() > 0.2
    assert (esc["outcome"] == "china").mean() == 0.0
