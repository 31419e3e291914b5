"""The review's findings against the first model, each shown gone (or reported) in model v2.

Each test names the finding it answers (docs/ODD.md section 9 has the numbers).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.catalog import load_calibration, load_scenario
from sim.core.params import build_params
from sim.core.scenario import Embargo, Scenario
from sim.engine.batch import run_batch

pytestmark = pytest.mark.slow


#: The first version's state rules: the escalation a scenario describes is carried out. Tests of
#: what an escalation does use them (strategic states scale it to about nothing, ODD 9.3).
REACTIVE = {"us_policy": "reactive", "china_policy": "reactive"}


def _outcomes(cal, scenario, seeds=200, rounds=40, overrides=None, record=False):
    p = build_params(cal, scenario, rounds, seeds, overrides)
    return run_batch(p, np.arange(seeds), record_rounds=record)


def _z(a: np.ndarray, b: np.ndarray) -> float:
    """Two-proportion z statistic of the breakdown shares of two independent run sets."""
    pa, pb = a.mean(), b.mean()
    pooled = (a.sum() + b.sum()) / (len(a) + len(b))
    se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / len(a) + 1 / len(b)))
    return abs(pa - pb) / se


# --- a demand nobody makes, coercion against a Japan that stays put ---------------------------
@pytest.mark.parametrize("calibration", ["article", "corrected"])
def test_us_demand_zero_gives_no_breakdown(calibration):
    """Finding 2: with US demand 0, 74% of runs 'broke toward China' although nobody asked."""
    cal = load_calibration(calibration)
    nobody_asks = load_scenario("baseline", us_security_pressure=0.0)
    out = _outcomes(cal, nobody_asks, seeds=300).outcomes
    assert (out["outcome"] == "balanced").all(), out["outcome"].value_counts()
    assert out["mean_compliance"].mean() < 0.5  # Japan does drop compliance nobody asks for


def test_embargo_against_a_japan_that_stays_put_is_not_scored_toward_the_us(article):
    """Finding 2: a 10-quarter embargo gave 99.9% 'toward the US' with compliance 0.498."""
    stays_put = Scenario(
        name="stays_put",
        japan_policy="scripted",
        japan_compliance_path=[0.5],
        embargo=Embargo(start_round=8, rounds=10, restriction=0.5, red_line=0.25),
    )
    out = _outcomes(article, stays_put).outcomes
    assert (out["outcome"] == "balanced").all()
    # The relation may still collapse: that is China's doing, recorded as its rupture.
    assert set(out["rupture"]) <= {"none", "china"}
    adaptive = load_scenario("rare_earth_embargo")
    longer = Embargo(start_round=8, rounds=10, restriction=0.5, red_line=0.25)
    six = _outcomes(article, adaptive).outcomes
    ten = _outcomes(article, Scenario(**{**vars(adaptive), "embargo": longer})).outcomes
    assert (ten["outcome"] == "us").mean() < 0.2 and (six["outcome"] == "us").mean() < 0.2


def test_us_tariffs_that_collapse_the_relation_are_a_us_rupture_not_japan_turning(article):
    """Finding 2: at a 100% tariff and demand 0.9 the US's own tariffs were scored as Japan turning."""
    stays_put = Scenario(
        name="tariff_wall",
        japan_policy="scripted",
        japan_compliance_path=[0.5],
        us_tariff_slope=1.0,
        us_security_pressure=0.9,
        **REACTIVE,
    )
    out = _outcomes(article, stays_put).outcomes
    assert (out["outcome"] == "balanced").all()
    assert (out["rupture"] == "us").mean() > 0.9  # the relation does collapse: by the US


# --- no knife-edge ------------------------------------------------------------------------------
NAMED = ["baseline", "us_escalation", "rare_earth_embargo", "fiscal_stress", "no_lobbying"]


def _broke_with_menu(options: int, name: str, seeds: int) -> np.ndarray:
    """Breakdown per run with ``options`` cells, reactive states (where breakdowns happen)."""
    cal = load_calibration("article").with_values({"compliance_options": options})
    out = _outcomes(cal, load_scenario(name, **REACTIVE), seeds=seeds).outcomes
    return (out["outcome"] != "balanced").to_numpy(float)


@pytest.mark.parametrize("name", NAMED)
def test_breakdown_does_not_move_with_the_compliance_grid(name):
    """Finding 4: the breakdown peak sat on a point of the 5-level compliance menu.

    Compliance is continuous (a level drawn inside the chosen cell); with 11, 21 and 41 cells
    the breakdown probability agrees within seed noise (|z| < 3.5 pairwise, 600 seeds), under
    reactive states, where breakdowns are common (under strategic states every menu gives
    1-2%, docs/ODD.md section 9.4).
    """
    shares = {m: _broke_with_menu(m, name, 600) for m in (11, 21, 41)}
    for a, b in ((11, 21), (21, 41), (11, 41)):
        assert _z(shares[a], shares[b]) < 3.5, (name, a, b, shares[a].mean(), shares[b].mean())


@pytest.mark.xfail(
    strict=True,
    reason="5 cells are too coarse: each cell is 0.2 wide, so the choice inside it spreads "
    "compliance by +-0.1 whatever the noise; under reactive states the baseline breaks in 27% "
    "of runs with 5 cells against 9% with 21 (docs/ODD.md section 9.4)",
)
def test_five_compliance_options_agree_with_twenty_one():
    a, b = _broke_with_menu(5, "baseline", 600), _broke_with_menu(21, "baseline", 600)
    assert _z(a, b) < 3.5, (a.mean(), b.mean())


def test_the_red_line_is_a_distribution_not_a_point(article):
    """Finding 3: the baseline had zero variance across 500 seeds, P(compliance 0.5) = 0.992."""
    res = _outcomes(article, load_scenario("baseline"), seeds=300, record=True)
    lines = res.outcomes["cn_true_red_line"]
    assert lines.min() >= 0.5 and lines.nunique() >= 4  # drawn, cut at the tolerated status quo
    compliance = res.rounds["jp_compliance"]
    assert np.isclose(compliance, 0.5).mean() < 0.1  # nobody sits on a point
    mean = article.value("china_red_line")
    sweep = {
        red: _outcomes(
            article.with_values({"china_red_line": red}), load_scenario("us_escalation", **REACTIVE)
        )
        .outcomes["outcome"]
        .ne("balanced")
        .mean()
        for red in (mean - 0.1, mean, mean + 0.1)
    }
    # The old model went from 100% to 0% over the red line's range; now it moves gradually.
    assert max(sweep.values()) - min(sweep.values()) < 0.6, sweep


# --- beliefs that learn: the 2010 halt --------------------------------------------------------
def _replay(cal, name, seeds=400):
    return _outcomes(cal, load_scenario(name), seeds=seeds, record=True)


def test_the_2010_halt_leaves_a_durable_lesson_and_lowers_dependence():
    """Finding 5: one quarter of a near-total halt changed dependence after 40 quarters by 0.006.

    Replay (docs/ODD.md section 9): calibration japan_2010 (dependence 0.9), China halts about
    60% of a quarter's supply in round 1. Japan's probability that China coerces unprovoked
    jumps from 0.10 to about 0.5 and is still about 0.16 ten years on (0.02 without the
    halt); dependence after 40 quarters is lower than without the halt on average and higher
    in at most 1% of worlds (0.5% of 400 with model v2 part 2: where the paths diverge, China's
    later retaliation differs, and a quiet world that meets more of it may diversify more).
    """
    cal = load_calibration("japan_2010")
    halt, quiet = _replay(cal, "japan_2010_halt"), _replay(cal, "japan_2010_quiet")
    q_halt, q_quiet = halt.rounds["belief_coercive"], quiet.rounds["belief_coercive"]
    assert q_halt[1].mean() > 0.45 and q_quiet[1].mean() < 0.1
    assert q_halt[-1].mean() > 5 * q_quiet[-1].mean()
    gap = (
        quiet.outcomes["final_rare_earth_dependence"] - halt.outcomes["final_rare_earth_dependence"]
    )
    assert (gap < -1e-12).mean() <= 0.01, (gap < -1e-12).mean()
    assert gap.mean() > 0.01, gap.mean()


@pytest.mark.xfail(
    strict=True,
    reason="model disagrees with history: after the 2010 halt Japan's China share fell from "
    "about 0.90 to 0.58 by 2020 (Ministry of Finance); the replay ends at about 0.87, because "
    "the assumed diversification cost ($20bn per unit of dependence) is about five times what "
    "the 2010-13 response cost (docs/ODD.md section 9)",
)
def test_the_2010_halt_drives_diversification_of_the_size_history_shows():
    halt = _replay(load_calibration("japan_2010"), "japan_2010_halt")
    assert halt.outcomes["final_rare_earth_dependence"].mean() < 0.7


# --- monotone unless explained -------------------------------------------------------------------
def test_demand_beyond_what_japan_will_meet_is_refused_not_obeyed(article):
    """Non-monotone in the US demand (docs/ODD.md section 7.10): breakdown peaks near 0.8.

    Mechanism: meeting a higher demand means going further past China's line; past a point
    Japan's best response is to refuse and pay the tariff. At the escalation's end demand 1.0,
    Japan's compliance is lower and the tariff it pays is higher than at 0.8.
    """
    sc = load_scenario("us_escalation", **REACTIVE)
    rows = {}
    for demand in (0.8, 1.0):
        # At the scenario's own end tariff (0.35); at 0.6 Japan meets even a demand of 1.0
        # in 78% of runs near best response (98% at 0.8), so the peak is flatter there.
        ov = {"escalation.us_security_pressure": np.full(300, demand)}
        rows[demand] = _outcomes(article.near_best_response(), sc, seeds=300, overrides=ov).outcomes
    broke = {d: (o["outcome"] != "balanced").mean() for d, o in rows.items()}
    assert broke[0.8] > broke[1.0] + 0.2, broke
    assert rows[1.0]["final_compliance"].mean() < rows[0.8]["final_compliance"].mean()
    assert rows[1.0]["mean_us_tariff"].mean() > rows[0.8]["mean_us_tariff"].mean()
