"""Model v2, part 2: one test per mechanism (docs/ODD.md section 7).

An embargo lifts on concession; a deal lowers the tariff and costs Japan; every channel is
counted once; the fiscal cost falls on outlays, not on gains or losses; tariffs bite through
margins and a constant-elasticity volume; strategic states anticipate Japan.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.catalog import load_scenario
from sim.core import payoffs, policies
from sim.core.params import build_params
from sim.core.payoffs import ChinaStance, Instruments, UsStance
from sim.core.scenario import Embargo, Scenario
from sim.engine.batch import run_batch


@pytest.fixture(scope="module")
def p(article):
    return build_params(article, load_scenario("baseline"), 4, 1)


def _cn(embargo=0.0, line=np.nan, lifts=True, fixed=0.0, coercion=0.0, red_line=0.6):
    one = np.ones(1)
    return ChinaStance(
        red_line=red_line * one,
        restriction_fixed=fixed * one,
        embargo=embargo * one,
        embargo_line=line * one,
        embargo_lifts=np.full(1, lifts),
        coercion=coercion * one,
        access_fixed=one,
        line_known=np.zeros(1, bool),
    )


def _us(slope=0.3, demand=0.8, relief=0.4):
    one = np.ones(1)
    return UsStance(demand * one, 0.015 * one, slope * one, relief * one)


# --- coercion that coerces ------------------------------------------------------------------
def test_a_coercive_embargo_lifts_on_concession_and_a_punitive_one_does_not():
    coercive = _cn(embargo=0.5, line=0.3)
    assert payoffs.realized_restriction(np.array([0.6]), coercive)[0] == 0.5  # defies: bites
    assert payoffs.realized_restriction(np.array([0.3]), coercive)[0] == 0.0  # conceded: lifted
    reneges = _cn(embargo=0.5, line=0.3, lifts=False)
    assert payoffs.realized_restriction(np.array([0.3]), reneges)[0] == 0.5
    punitive = _cn(fixed=0.5)
    assert payoffs.realized_restriction(np.array([0.0]), punitive)[0] == 0.5


def test_japan_expects_the_lift_only_as_far_as_it_trusts_china(p, article):
    from sim.core.round import initial_round_state

    view = initial_round_state(p, np.full((1, 1), 0.5)).world.view(p)
    cn = _cn(embargo=0.5, line=0.3)
    for reputation in (0.0, 0.5, 1.0):
        v = view._replace(reputation=np.full(1, reputation))
        inst = policies.expected_instruments(np.array([[0.3]]), 0.0, _us(), cn, v, p)
        assert inst.restriction[0, 0] == pytest.approx(0.5 * (1.0 - reputation))


def test_reputation_moves_toward_what_china_did(article):
    """A coercive embargo that lifts on concession builds China's reputation; a punitive one ruins it."""
    out = {}
    for kind in ("coercive", "punitive"):
        sc = Scenario(
            name=f"embargo_{kind}",
            japan_policy="scripted",
            japan_compliance_path=[0.2],  # Japan concedes every round
            embargo=Embargo(start_round=2, rounds=6, restriction=0.5, red_line=0.3, kind=kind),
        )
        res = run_batch(build_params(article, sc, 10, 1), np.array([0]), record_rounds=True)
        out[kind] = res.rounds["belief_embargo_lifts"][:, 0]
    start = article.value("embargo_reputation")
    assert out["coercive"][-1] > start + 0.3 and out["punitive"][-1] < start - 0.3


def test_a_credible_embargo_with_a_near_demand_buys_a_concession(article):
    """Coercion coerces when conceding costs less than the embargo: demand 0.5, full credibility."""
    base = load_scenario("baseline", us_policy="reactive", china_policy="reactive")
    near = Embargo(start_round=4, rounds=8, restriction=0.8, red_line=0.5)
    cal = article.with_values({"embargo_reputation": 0.9}).near_best_response()
    window = slice(4, 12)
    with_embargo = run_batch(
        build_params(cal, Scenario(**{**vars(base), "embargo": near}), 16, 200),
        np.arange(200),
        record_rounds=True,
    ).rounds["jp_compliance"][window]
    without = run_batch(build_params(cal, base, 16, 200), np.arange(200), record_rounds=True)
    assert with_embargo.mean() < without.rounds["jp_compliance"][window].mean() - 0.02


# --- deals ------------------------------------------------------------------------------------------
def test_a_deal_lowers_the_tariff_costs_japan_and_pays_the_us(p):
    us = _us(slope=0.4, demand=0.8)
    c = np.array([0.5])
    no_deal, full = (payoffs.realized_tariff(c, d, us)[0] for d in (0.0, 1.0))
    assert full < no_deal
    assert (no_deal - 0.015) * (1.0 - p.deal_relief[0]) == pytest.approx(full - 0.015)
    shock = np.ones(1)
    w = {d: payoffs.welfare_us_side(np.array([no_deal]), d, shock, p)[0] for d in (0.0, 1.0)}
    assert w[0.0] - w[1.0] == pytest.approx(p.mcpf[0] * p.deal_cost[0])  # the outlay, at MCPF
    gain = payoffs.us_payoff(c, np.array([full]), 1.0, shock, p)[0]
    assert gain > payoffs.us_payoff(c, np.array([full]), 0.0, shock, p)[0]


# --- every channel once -----------------------------------------------------------------------------
def _terms(p, access=1.0, tariff=0.015, restriction=0.0, deal=0.0, support=0.0, c=0.5):
    inst = Instruments(np.array([tariff]), np.array([restriction]), np.array([access]))
    return payoffs.japan_welfare_terms(
        np.array([c]),
        np.array([c]),
        0.0,
        deal,
        inst,
        np.array([0.6]),
        np.array([0.6]),
        np.ones(1),
        support,
        p,
    )


def test_an_access_cut_is_counted_once_in_trade_and_once_in_local_income(p):
    full, half = _terms(p, access=1.0), _terms(p, access=0.5)
    drop = payoffs.japan_welfare(full, p)[0] - payoffs.japan_welfare(half, p)[0]
    trade = p.gains[0] * p.jp_exports_cn[0] * (1.0 - p.chip_share[0] * 0.5) * 0.5
    local = p.access_loss[0] * 0.5
    assert drop == pytest.approx(trade + local, rel=1e-12)
    # and the two channels are the only terms that moved
    moved = [k for k in full._fields if not np.allclose(getattr(full, k), getattr(half, k))]
    assert moved == ["gains_cn", "access_cost"]


def test_a_tariff_is_counted_once_in_volume_and_once_in_the_terms_of_trade(p):
    low, high = _terms(p, tariff=0.015), _terms(p, tariff=0.25)
    moved = [k for k in low._fields if not np.allclose(getattr(low, k), getattr(high, k))]
    assert moved == ["gains_us", "tariff_cost"]


def test_the_channels_sum_to_welfare_and_firm_profits_stay_out_of_it(p):
    """Welfare is the sum of its terms; firms' profits reach the government only through lobbying."""
    t = _terms(p, tariff=0.2, restriction=0.3, access=0.7, deal=1.0, support=0.4)
    by_hand = (
        t.gains_cn
        + t.gains_us
        - t.tariff_cost
        - t.shortage_cost
        - t.access_cost
        - t.adjustment_cost
        - p.mcpf * (t.security_outlay + t.diversification_outlay + t.deal_outlay)
        - (p.mcpf - 1.0) * t.support_outlay
    )
    assert payoffs.japan_welfare(t, p)[0] == pytest.approx(by_hand[0], rel=1e-14)
    profits = np.ones((len(p.firm_names), 1))
    silent = policies.lobbied_profit(profits, policies.lobbying_weights(np.zeros_like(profits), p))
    assert np.all(silent == 0.0)


def test_firm_channels_sum_to_the_firm_side_functions(p):
    inst = Instruments(np.array([0.2]), np.array([0.3]), np.array([0.7]))
    shock, share = np.ones(1), p.china_share0
    whole = payoffs.firm_profits(
        payoffs.firm_channels(np.array([0.6]), inst, np.array([0.6]), shock, share, p)
    )
    china = payoffs.firm_china_side(
        np.array([0.6]), inst.access, inst.restriction, np.array([0.6]), shock, share, p
    )
    us = payoffs.firm_us_side(inst.tariff, shock, p)
    np.testing.assert_allclose(whole, china.profit + us.profit, rtol=1e-14)


# --- the fiscal constraint -------------------------------------------------------------------------
def test_the_cost_of_public_funds_falls_on_outlays_not_on_gains_or_losses(article):
    sc = load_scenario("baseline")
    calm = build_params(article, sc, 4, 1)
    stressed = build_params(article, sc, 4, 1, {"fiscal_stress": 3.0})
    assert stressed.mcpf[0] > calm.mcpf[0]
    t = _terms(calm, tariff=0.2, restriction=0.3, access=0.7, deal=1.0, support=0.4, c=0.4)
    outlays = t.security_outlay + t.diversification_outlay + t.deal_outlay
    diff = payoffs.japan_welfare(t, calm) - payoffs.japan_welfare(t, stressed)
    want = (stressed.mcpf - calm.mcpf) * (outlays + t.support_outlay)
    assert diff[0] == pytest.approx(want[0], rel=1e-12)
    none = _terms(calm, tariff=0.2, restriction=0.3, access=0.7, c=0.9)  # no outlay at all
    assert payoffs.japan_welfare(none, calm)[0] == payoffs.japan_welfare(none, stressed)[0]


# --- trade and firms --------------------------------------------------------------------------------
def test_us_volume_has_constant_elasticity_and_never_reaches_zero(p):
    tariffs = np.array([0.0, 0.25, 0.5, 1.0, 3.0])
    v = payoffs.us_volume(tariffs, p)
    eps = p.elasticity[0]
    np.testing.assert_allclose(v, (1.0 + tariffs) ** -eps)
    assert (v > 0).all() and (np.diff(v) < 0).all()


def test_the_tariff_hits_a_firm_through_its_margin(p):
    shock = np.ones(1)
    t = np.array([0.05])
    side = payoffs.firm_us_side(t, shock, p)
    i = 0  # Toyota
    exposed = p.firm_profit[i, 0] * p.us_tariff_exposure[i, 0]
    per_revenue = 1.0 - p.incidence[0] * 0.05 / p.margin[i, 0]
    assert side.profit[i, 0] == pytest.approx(
        exposed * (1.05 ** -p.elasticity[0]) * per_revenue, rel=1e-14
    )
    # a price cut of half a 5% tariff is 2.5% of revenue: at a 10.7% margin, 23% of that profit
    assert 1.0 - per_revenue == pytest.approx(0.5 * 0.05 / 0.107, rel=1e-12)


def test_lobbying_weight_follows_grossman_helpman_with_the_empirical_welfare_weight(p):
    effort = np.ones((len(p.firm_names), 1))
    w = policies.lobbying_weights(effort, p)
    assert w[0, 0] == pytest.approx(
        p.lobbying_efficiency[0, 0] * p.lobbying_strength[0, 0] / p.welfare_weight[0]
    )
    assert 50 <= p.welfare_weight[0] <= 88


# --- strategic states ---------------------------------------------------------------------------------
def test_a_strategic_us_escalates_less_than_a_reactive_one(article):
    """The strategic US weighs its own cost of tariffs against Japan's expected response."""
    runs = {}
    for states in ("strategic", "reactive"):
        sc = load_scenario("us_escalation", us_policy=states, china_policy=states)
        runs[states] = run_batch(build_params(article, sc, 24, 60), np.arange(60)).outcomes
    assert runs["strategic"]["mean_us_tariff"].mean() < runs["reactive"]["mean_us_tariff"].mean()
