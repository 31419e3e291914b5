"""Decisions are scale-free: a change of currency unit changes no decision and no outcome.

Multiplying money by a power of two is exact in floating point, so every decision and
outcome must be bit-identical; by 1000 (not exact), the discrete decisions and outcomes must
be identical and the continuous ones (compliance within its cell, trust) equal to rounding.
"""

import numpy as np
import pytest

from sim.core.records import ROUND_COLUMNS
from sim.engine.model import BalancingModel

MONEY_COLUMNS = [c for c in ROUND_COLUMNS if c.endswith("_bn_q")]
DISCRETE = [
    "jp_deal",
    "jp_diversification",
    "jp_inertia",
    "us_demand",
    "posture",
    "breakdown_side",
    "breakdown_round",
    "breakdown_channel",
    "rupture_side",
    "rupture_round",
    "toyota_lobbying_effort",
]
CONTINUOUS = [
    "jp_compliance",
    "us_tariff",
    "cn_restriction",
    "cn_access",
    "rare_earth_dependence",
    "trust_us",
    "trust_cn",
    "belief_red_line",
    "belief_coercive",
    "belief_embargo_lifts",
    "alignment",
]


def _table(scenario, calibration, seed):
    m = BalancingModel(scenario, calibration, 40, rng=seed)
    m.run_for(40)
    return m.rounds_table()


def test_scaling_money_by_a_power_of_two_changes_nothing(article, scenarios):
    scaled = article.with_money_scaled(1024.0)
    for name in ("baseline", "us_escalation", "rare_earth_embargo"):
        for seed in range(4):
            a = _table(scenarios[name], article, seed)
            b = _table(scenarios[name], scaled, seed)
            for col in DISCRETE + CONTINUOUS:
                np.testing.assert_array_equal(
                    a[col].to_numpy(), b[col].to_numpy(), err_msg=f"{name} {seed} {col}"
                )
            for col in MONEY_COLUMNS:
                np.testing.assert_array_equal(1024.0 * a[col].to_numpy(), b[col].to_numpy())


def test_scaling_money_by_1000_changes_no_decision(article, scenarios):
    scaled = article.with_money_scaled(1000.0)
    assert scaled.value("trade_cn") == 1000.0 * article.value("trade_cn")
    assert scaled.firm_value("toyota", "profit") == 1000.0 * article.firm_value("toyota", "profit")
    for name in ("baseline", "us_escalation", "rare_earth_embargo", "fiscal_stress"):
        for seed in range(6):
            a = _table(scenarios[name], article, seed)
            b = _table(scenarios[name], scaled, seed)
            for col in DISCRETE:
                np.testing.assert_array_equal(
                    a[col].to_numpy(), b[col].to_numpy(), err_msg=f"{name} {seed} {col}"
                )
            for col in CONTINUOUS:
                np.testing.assert_allclose(
                    a[col].to_numpy(), b[col].to_numpy(), rtol=1e-12, atol=1e-12
                )
            for col in MONEY_COLUMNS:
                np.testing.assert_allclose(
                    1000.0 * a[col].to_numpy(), b[col].to_numpy(), rtol=1e-9, atol=1e-9
                )


@pytest.mark.parametrize("states", ["strategic", "reactive"])
def test_scaling_money_changes_no_outcome_in_a_batch(article, states):
    from sim.catalog import load_scenario
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    # reactive states too: a strategic US hardly escalates, so few worlds break down
    sc = load_scenario("us_escalation", us_policy=states, china_policy=states)
    seeds = np.arange(200)
    a = run_batch(build_params(article, sc, 40, 200), seeds).outcomes
    b = run_batch(build_params(article.with_money_scaled(1000.0), sc, 40, 200), seeds).outcomes
    for col in ("outcome", "breakdown_round", "breakdown_channel", "rupture", "rupture_round"):
        assert a[col].equals(b[col]), col
    for col in ("mean_compliance", "mean_deal", "final_trust_us", "mean_alignment"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-12, atol=1e-12, err_msg=col)
    assert (a["outcome"] != "balanced").sum() > 0  # the check covers runs that break down
