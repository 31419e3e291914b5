"""The economics by hand: payoffs, decision rules and world dynamics against ODD section 7.

Every expected value here is worked out from the functional forms written in
``docs/ODD.md`` section 7, in plain Python arithmetic on the calibration's raw (annual)
values, never by calling the function under test. The hand calculations live in the
``hand_*`` helpers below so they are easy to update when the model is revised.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from sim.catalog import load_calibration, load_scenario
from sim.core import dynamics, payoffs, policies
from sim.core.breakdown import BreakdownRule
from sim.core.params import COMPLIANCE_MENU, DIVERSIFICATION_MENU, build_params
from sim.core.payoffs import ChinaStance, UsStance
from sim.core.round import initial_round_state, play_round

Q = 0.25  # annual -> quarterly money (ODD section 2)
TIGHT = {"rel": 1e-12, "abs": 1e-12}  # hand arithmetic vs. the code, a few ulps apart


def close(x, expected):
    """``x`` (a scalar or a one-element array) equals ``expected`` to ~1e-12 relative."""
    return float(np.asarray(x).reshape(-1)[0]) == pytest.approx(expected, **TIGHT)


# --- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cal():
    return load_calibration("article")


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


@pytest.fixture(scope="module")
def p(cal, baseline):
    """Article calibration, baseline scenario, one world."""
    return build_params(cal, baseline, 12, 1)


def us_stance(demand, fixed, slope):
    return UsStance(np.array([demand]), np.array([fixed]), np.array([slope]))


def cn_stance(red_line, fixed, coercion, access):
    return ChinaStance(
        np.array([red_line]), np.array([fixed]), np.array([coercion]), np.array([access])
    )


# --- hand calculations (ODD section 7) --------------------------------------------------------
def hand_constants(cal, fiscal_stress=0.0):
    """Derived parameters of ODD 7.1 from the calibration's raw values, plain floats."""
    v = cal.value
    debt_ratio = (
        v("government_debt") / v("gdp_nominal") * (1 + v("stress_debt_increase") * fiscal_stress)
    )
    growth = v("gdp_growth") - v("stress_growth_drop") * fiscal_stress
    firms = [
        SimpleNamespace(**{k: cal.firm_value(f, k) for k in cal.firms[f]}) for f in cal.firm_names
    ]
    return SimpleNamespace(
        X=(v("trade_cn") + v("trade_balance_cn")) / 2 * Q,  # exports to China
        M=(v("trade_cn") - v("trade_balance_cn")) / 2 * Q,  # imports from China
        exports_us=v("exports_us") * Q,
        imports_us=(v("trade_us") - v("exports_us")) * Q,
        S=v("gains_from_trade") * (v("trade_cn") + v("trade_us")) * Q,  # money scale
        m=v("component_dependence") * v("component_spillover"),
        rho=v("diversification_rate") * (1 - v("china_processing_share")),
        omega=v("relocation_rate") / (1 + v("investment_cn") / v("trade_cn")),  # annual trade
        F=1
        + v("fiscal_weight") * debt_ratio
        + v("growth_weight") * max(0.0, v("growth_reference") - growth),
        adjust=v("adjustment_cost") * (v("trade_cn") + v("trade_us")) * Q,
        g=v("gains_from_trade"),
        incidence=v("tariff_incidence"),
        elasticity=v("tariff_elasticity"),
        chip=v("chip_export_share"),
        alliance=v("alliance_value") * Q,
        disruption=v("input_disruption_cost") * Q,
        access_loss=v("access_loss") * Q,
        div_spend=v("diversification_spend"),  # already $bn per quarter
        alignment=v("us_alignment_value") * Q,
        tech_loss=v("cn_tech_loss") * Q,
        access_cut=v("access_cut"),
        firms=firms,
        v=v,
    )


def hand_shortfall(c, d):
    return max(0.0, d - c) / max(d, 0.25)


def hand_excess(c, red_line):
    return max(0.0, c - red_line) / max(1 - red_line, 0.25)


def hand_instruments(k, c, us, cn):
    """(tau, r, a) at compliance c; ``us`` = (d, tau0, tau1), ``cn`` = (red line, r0, kappa, a0)."""
    d, tau0, tau1 = us
    red, r0, kappa, a0 = cn
    eps = hand_excess(c, red)
    tau = min(1.0, tau0 + tau1 * hand_shortfall(c, d))
    return tau, min(1.0, r0 + kappa * eps), max(0.0, a0 - k.access_cut * kappa * eps)


def hand_welfare_terms(k, c, c_prev, x, tau, r, a, D, d, z):
    """ODD 7.4, Japan's welfare components ($bn per quarter, costs positive)."""
    v = max(0.0, 1 - k.elasticity * tau)
    return {
        "gains_cn": k.g * z * (k.X * a * (1 - k.chip * c) + k.M),
        "gains_us": k.g * z * (k.exports_us * v + k.imports_us),
        "tariff_cost": k.incidence * tau * k.exports_us * v * z,
        "shortage_cost": k.disruption * r * (D + k.m),
        "access_cost": k.access_loss * (1 - a),
        "security_cost": k.alliance * hand_shortfall(c, d),
        "adjustment_cost": k.adjust * abs(c - c_prev),
        "diversification_cost": k.div_spend * x,
    }


def hand_welfare(k, t):
    losses = (
        t["tariff_cost"]
        + t["shortage_cost"]
        + t["access_cost"]
        + t["security_cost"]
        + t["adjustment_cost"]
        + t["diversification_cost"]
    )
    return t["gains_cn"] + t["gains_us"] - k.F * losses


def hand_firm_profit(k, firm, s, c, tau, r, a, D, z):
    """ODD 7.4, one firm's profit before lobbying costs ($bn per quarter)."""
    h = min(1.0, tau * (k.incidence + k.elasticity))
    bracket = (
        s * a * (1 - firm.export_control_exposure * c)
        + (1 - s) * (1 - firm.us_tariff_exposure * h)
        - firm.rare_earth_intensity * r * (D + k.m)
    )
    return firm.profit * Q * z * bracket


def hand_us_payoff(k, c, tau, z):
    v = max(0.0, 1 - k.elasticity * tau)
    return (
        k.alignment * c
        - (1 - k.incidence) * tau * k.exports_us * v * z
        - k.g * z * k.exports_us * (1 - v)
    )


def hand_china_payoff(k, c, r, a, z):
    return k.g * z * (k.M * (1 - k.m * r) + k.X * a) - k.tech_loss * c


def hand_logit(utilities, scale, temperature):
    top = max(utilities)
    w = [math.exp((u - top) / (scale * temperature)) for u in utilities]
    return [x / sum(w) for x in w]


def hand_diversification_value(k, x, D, b):
    """ODD 7.6, V(x)."""
    v = k.v
    reduction = min(k.rho * x, max(D - v("dependence_floor"), 0.0))
    return k.F * (k.disruption * b * reduction * v("planning_horizon") - k.div_spend * x)


def bin_middle(probs, i):
    """A uniform in the middle of option i's inverse-CDF bin."""
    lo = sum(probs[:i])
    return lo + probs[i] / 2


# --- logit -------------------------------------------------------------------------------------
UTIL = np.array([[3.0, -1.0], [5.0, 0.0], [4.5, 2.0], [-2.0, 2.0]])  # 4 options x 2 worlds
SCALE = np.array([2.0, 10.0])


def test_logit_probabilities_sum_to_one_over_options():
    for temp in (1e-3, 0.05, 1.0, 100.0):
        prob = policies.logit_probabilities(UTIL, SCALE, temp)
        assert prob.shape == UTIL.shape
        np.testing.assert_allclose(prob.sum(axis=0), 1.0, rtol=1e-14)
        assert (prob >= 0).all()


def test_logit_invariant_to_constant_shift_and_common_rescaling():
    base = policies.logit_probabilities(UTIL, SCALE, 0.3)
    shifted = policies.logit_probabilities(UTIL + 1234.5, SCALE, 0.3)
    rescaled = policies.logit_probabilities(UTIL * 7.0, SCALE * 7.0, 0.3)  # currency unit
    np.testing.assert_allclose(shifted, base, rtol=1e-12)
    np.testing.assert_allclose(rescaled, base, rtol=1e-12)


def test_logit_tends_to_argmax_when_cold_and_uniform_when_hot():
    cold = policies.logit_probabilities(UTIL, SCALE, 1e-4)
    one_hot = np.zeros_like(UTIL)
    one_hot[UTIL.argmax(axis=0), [0, 1]] = 1.0
    # world 1 has a tie (2.0 at options 2 and 3): the mass splits evenly between them
    one_hot[:, 1] = [0.0, 0.0, 0.5, 0.5]
    np.testing.assert_allclose(cold, one_hot, atol=1e-12)
    hot = policies.logit_probabilities(UTIL, SCALE, 1e6)
    np.testing.assert_allclose(hot, 0.25, atol=1e-5)


def test_logit_three_options_by_hand():
    # U = (0, 1, 2), scale x temperature = 10 x 0.1 = 1: P = (e^-2, e^-1, 1) / (e^-2 + e^-1 + 1)
    prob = policies.logit_probabilities(np.array([[0.0], [1.0], [2.0]]), np.array([10.0]), 0.1)
    total = math.exp(-2) + math.exp(-1) + 1
    expected = [math.exp(-2) / total, math.exp(-1) / total, 1 / total]
    np.testing.assert_allclose(prob[:, 0], expected, rtol=1e-14)
    assert expected[0] == pytest.approx(0.09003057317038046, rel=1e-14)


# --- inverse-CDF sampler ---------------------------------------------------------------------------
PROBS = np.array([0.125, 0.25, 0.5, 0.125])  # cumulative 0.125, 0.375, 0.875, 1 (exact in binary)


def test_sample_index_picks_by_cumulative_boundaries():
    cdf = np.cumsum(PROBS)[:-1]
    below, above = cdf - 1e-9, cdf + 1e-9
    u = np.concatenate([[0.0], below, above, [1 - 1e-12]])
    expected = [0, 0, 1, 2, 1, 2, 3, 3]
    assert policies.sample_index(PROBS[:, None], u).tolist() == expected
    # weights need not be normalized: u is scaled by their sum
    assert policies.sample_index(3.0 * PROBS[:, None], u).tolist() == expected


def test_sample_index_frequencies_match_probabilities():
    n = 200_000
    u = np.random.default_rng(20250401).random(n)
    idx = policies.sample_index(PROBS[:, None], u)
    freq = np.bincount(idx, minlength=4) / n
    # binomial sd <= sqrt(0.25 / n) = 0.0011; tolerance 0.005 is over 4 sd
    np.testing.assert_allclose(freq, PROBS, atol=0.005)


# --- United States: shortfall and tariff ---------------------------------------------------------------
def test_tariff_rises_with_shortfall_and_is_capped():
    us = us_stance(0.6, 0.015, 0.5)
    c = np.array([0.0, 0.25, 0.5, 0.6, 0.75, 1.0])
    # shortfall = max(0, 0.6 - c) / 0.6
    np.testing.assert_allclose(
        payoffs.shortfall(c, 0.6), [1.0, 0.35 / 0.6, 0.1 / 0.6, 0, 0, 0], rtol=1e-14
    )
    tau = payoffs.realized_tariff(c, us)
    # tau = 0.015 + 0.5 x shortfall; at or above the demand only the fixed part
    np.testing.assert_allclose(
        tau, [0.515, 0.015 + 0.5 * 0.35 / 0.6, 0.015 + 0.5 / 6, 0.015, 0.015, 0.015]
    )
    assert (np.diff(tau) <= 0).all()  # the tariff falls as compliance rises toward the demand
    # capped at 1: 0.3 + 2 x 1 = 2.3 -> 1; 0.3 + 2 x 0.35/0.6 = 1.4667 -> 1; 0.3 + 2/6 = 0.6333
    steep = payoffs.realized_tariff(c, us_stance(0.6, 0.3, 2.0))
    np.testing.assert_allclose(steep, [1.0, 1.0, 0.3 + 2 / 6, 0.3, 0.3, 0.3])


def test_shortfall_denominator_is_floored_at_a_quarter():
    # demand 0.2: max(0.2, 0.25) = 0.25, so a zero compliance falls short by 0.2 / 0.25 = 0.8
    assert payoffs.shortfall(np.array(0.0), np.array(0.2)) == pytest.approx(0.8, rel=1e-15)
    assert payoffs.shortfall(np.array(0.1), np.array(0.2)) == pytest.approx(0.4, rel=1e-15)
    # demand 0: no shortfall (0 / 0.25)
    assert payoffs.shortfall(np.array(0.0), np.array(0.0)) == 0.0
    # demand 0.3 is above the floor: 0.3 / 0.3 = 1
    assert payoffs.shortfall(np.array(0.0), np.array(0.3)) == pytest.approx(1.0, rel=1e-15)
    # tariff 0.015 + 0.5 x 0.8 = 0.415
    tau = payoffs.realized_tariff(np.array([0.0]), us_stance(0.2, 0.015, 0.5))
    assert tau[0] == pytest.approx(0.415, rel=1e-14)


# --- China: excess, restriction, access -----------------------------------------------------------------
def test_china_excess_restriction_and_access_by_hand(p):
    cut = float(p.access_cut[0])  # article: 0.5
    c = np.array([0.0, 0.5, 0.75, 1.0])
    # red line 0.5: excess = max(0, c - 0.5) / 0.5 = (0, 0, 0.5, 1)
    np.testing.assert_allclose(payoffs.excess(c, 0.5), [0, 0, 0.5, 1.0])
    # red line 0.9: denominator max(0.1, 0.25) = 0.25, excess at c = 1 is 0.1 / 0.25 = 0.4
    assert payoffs.excess(np.array(1.0), np.array(0.9)) == pytest.approx(0.4, rel=1e-14)
    cn = cn_stance(0.5, 0.1, 0.6, 0.95)
    # r = min(1, 0.1 + 0.6 x excess) = (0.1, 0.1, 0.4, 0.7)
    np.testing.assert_allclose(payoffs.realized_restriction(c, cn), [0.1, 0.1, 0.4, 0.7])
    inst = payoffs.instruments(c, us_stance(0.6, 0.015, 0.05), cn, p)
    np.testing.assert_allclose(inst.restriction, [0.1, 0.1, 0.4, 0.7])
    # a = max(0, 0.95 - cut x 0.6 x excess) = 0.95 - 0.15 at c = 0.75, 0.95 - 0.3 at c = 1
    assert cut == 0.5
    np.testing.assert_allclose(inst.access, [0.95, 0.95, 0.95 - 0.15, 0.95 - 0.3])
    # harsh coercion: restriction capped at 1, access floored at 0
    harsh = payoffs.instruments(c, us_stance(0.6, 0.015, 0.05), cn_stance(0.5, 0.0, 3.0, 1.0), p)
    np.testing.assert_allclose(harsh.restriction, [0, 0, 1.0, 1.0])  # 3 x 0.5 = 1.5 -> 1
    np.testing.assert_allclose(harsh.access, [1, 1, 0.25, 0.0])  # 1 - 0.5 x 3 x 1 = -0.5 -> 0


# --- derived parameters (ODD 7.1) ---------------------------------------------------------------------
def test_derived_parameters_match_odd_7_1(cal, p):
    k = hand_constants(cal)
    # article: X = (370 + 32) / 2 / 4 = 50.25, M = (370 - 32) / 2 / 4 = 42.25
    assert (k.X, k.M) == (50.25, 42.25)
    assert close(p.jp_exports_cn, k.X) and close(p.jp_imports_cn, k.M)
    assert close(p.imports_us, k.imports_us)  # (228 - 148) / 4 = 20
    assert close(p.money_scale, k.S)  # 0.15 x (370 + 228) / 4 = 22.425
    assert close(p.component_exposure, k.m)  # 0.4 x 0.25 = 0.1
    assert close(p.diversification_rate, k.rho)  # 0.05 x (1 - 0.7) = 0.015
    assert close(p.relocation_rate, k.omega)  # 0.05 / (1 + 1300 / 370)
    assert close(p.adjustment, k.adjust)  # 0.02 x (370 + 228) / 4 = 2.99
    assert k.S == pytest.approx(22.425) and k.rho == pytest.approx(0.015)


def test_fiscal_multiplier_by_hand(cal, baseline, p):
    # stress 0: F = 1 + 0.25 x 300/609 + 10 x max(0, 0.02 - 0.012) = 1.2031527...
    f0 = 1 + 0.25 * 300 / 609 + 10 * 0.008
    assert hand_constants(cal).F == pytest.approx(f0, rel=1e-12)
    assert close(p.fiscal_multiplier, f0)
    # stress 1: debt ratio x (1 + 0.5), growth 0.012 - 0.015 = -0.003 -> shortfall 0.023
    f1 = 1 + 0.25 * 300 / 609 * 1.5 + 10 * 0.023
    assert hand_constants(cal, fiscal_stress=1.0).F == pytest.approx(f1, rel=1e-12)
    stressed = build_params(cal, load_scenario("fiscal_stress"), 4, 1)
    assert close(stressed.fiscal_multiplier, f1)
    assert f1 == pytest.approx(1.4147290640394089, rel=1e-12)


# --- world update (ODD 7.7) ---------------------------------------------------------------------
def _choice(compliance, diversification):
    c, x = np.atleast_1d(compliance).astype(float), np.atleast_1d(diversification).astype(float)
    return policies.JapanChoice(c, x, np.zeros(c.shape, dtype=bool))


def _step(p, state, choice, us, cn, shock=1.0):
    """Realize the round at ``choice`` and advance the world (no lobbying)."""
    effort = np.zeros_like(state.effort)
    z = np.full(p.n_worlds, shock)
    out = dynamics.realize_round(state, choice, us, cn, effort, effort, z, p)
    return dynamics.advance_world(state, choice, us, cn, out, effort, p), out


def _quiet_stances(n):
    """No tariff above base, no restriction: only the diversification pipeline moves."""
    us = UsStance(np.full(n, 0.5), np.full(n, 0.015), np.zeros(n))
    cn = ChinaStance(np.full(n, 0.5), np.zeros(n), np.zeros(n), np.ones(n))
    return us, cn


def test_diversification_arrives_exactly_lag_rounds_later(cal, baseline):
    """Invested in round 0, it lowers D in round lag's update (ODD 7.7, x_{t-L} with t = lag).

    The lower D is first seen by round lag + 1's payoffs and decisions.
    """
    lags, levels = [2, 4, 8], [1.0, 0.5, 0.25]
    p = build_params(cal, baseline, 12, 3, {"diversification_lag": np.array(lags, dtype=float)})
    k = hand_constants(cal)
    d0 = cal.value("rare_earth_dependence")
    state = dynamics.initial_world(p)
    us, cn = _quiet_stances(3)
    path = []
    for t in range(12):
        x = np.array(levels) if t == 0 else np.zeros(3)  # invest only in round 0
        state, _ = _step(p, state, _choice(np.full(3, 0.5), x), us, cn)
        path.append(state.dependence.copy())  # dependence after round t's update
    for w, (lag, level) in enumerate(zip(lags, levels, strict=True)):
        # D <- D - rho x_{t-L}: unchanged through round lag - 1, then down by rho x level
        for t in range(lag):
            assert path[t][w] == d0, (lag, t)
        drop = k.rho * level  # 0.05 x (1 - 0.7) x level per quarter
        for t in range(lag, 12):
            assert path[t][w] == pytest.approx(d0 - drop, **TIGHT), (lag, t)


def test_dependence_never_falls_below_floor(cal, baseline):
    # D0 = 0.105, floor 0.1: a full investment (rho = 0.015) would take it to 0.09
    p = build_params(
        cal, baseline, 6, 1, {"rare_earth_dependence": 0.105, "diversification_lag": 2.0}
    )
    state = dynamics.initial_world(p)
    us, cn = _quiet_stances(1)
    for _t in range(6):
        state, _ = _step(p, state, _choice(0.5, 1.0), us, cn)
        assert state.dependence[0] >= cal.value("dependence_floor")
    assert state.dependence[0] == cal.value("dependence_floor")


def hand_trust_targets(k, c, d, tau, red, r, a):
    v = k.v
    sens = v("trust_sensitivity")
    t_us = v("trust_us_initial") + sens * ((c - d) - (tau - v("us_base_tariff")))
    t_cn = v("trust_cn_initial") + sens * ((red - c) - r - (1 - a))
    return min(1.0, max(0.0, t_us)), min(1.0, max(0.0, t_cn))


@pytest.mark.parametrize(
    "c, us, cn",
    [
        # c = 0.25 < demand 0.6: tau = 0.015 + 0.2 x 0.35/0.6; embargo r = 0.2, access 0.9
        (0.25, (0.6, 0.015, 0.2), (0.5, 0.2, 0.3, 0.9)),
        # c = 1 above the red line: r = 0.8 x 1, a = 1 - 0.5 x 0.8: China target clipped at 0
        (1.0, (0.6, 0.015, 0.2), (0.5, 0.0, 0.8, 1.0)),
        # c = 0.75 meets demand 0.5: US target 0.8 + 0.25 = 1.05 clipped at 1
        (0.75, (0.5, 0.015, 0.1), (0.5, 0.0, 0.3, 1.0)),
    ],
)
def test_trust_moves_trust_rate_of_the_way_to_its_target(cal, p, c, us, cn):
    k = hand_constants(cal)
    tau, r, a = hand_instruments(k, c, us, cn)
    t_us, t_cn = hand_trust_targets(k, c, us[0], tau, cn[0], r, a)
    state = dynamics.initial_world(p)._replace(trust_us=np.array([0.7]), trust_cn=np.array([0.4]))
    new, out = _step(p, state, _choice(c, 0.0), us_stance(*us), cn_stance(*cn))
    assert close(out.tariff, tau) and close(out.restriction, r) and close(out.access, a)
    got_us, got_cn = dynamics.trust_targets(np.array([c]), us_stance(*us), cn_stance(*cn), out, p)
    assert close(got_us, t_us) and close(got_cn, t_cn)
    rate = cal.value("trust_rate")  # 0.25
    assert close(new.trust_us, 0.7 + rate * (t_us - 0.7))
    assert close(new.trust_cn, 0.4 + rate * (t_cn - 0.4))


def test_trust_target_first_case_numbers(cal):
    # c = 0.25, d = 0.6, tau = 0.015 + 0.2 x 0.35/0.6; T*_us = 0.8 + (-0.35) - (0.2 x 0.35/0.6)
    k = hand_constants(cal)
    t_us, t_cn = hand_trust_targets(k, 0.25, 0.6, 0.015 + 0.2 * 0.35 / 0.6, 0.5, 0.2, 0.9)
    assert t_us == pytest.approx(0.8 - 0.35 - 0.2 * 0.35 / 0.6)  # 0.333...
    assert t_cn == pytest.approx(0.5 + 0.25 - 0.2 - 0.1)  # 0.45


@pytest.mark.parametrize(
    "cn, disruption",
    [
        ((0.5, 0.2, 0.0, 0.9), 0.2),  # r = 0.2 > 1 - a = 0.1
        ((0.5, 0.05, 0.0, 0.7), 0.3),  # 1 - a = 0.3 > r = 0.05
    ],
)
def test_belief_and_relocation_updates(cal, p, cn, disruption):
    k = hand_constants(cal)
    # omega = 0.05 / (1 + 1300 / 370) = 0.0110778...
    assert k.omega == pytest.approx(0.05 * 370 / 1670, rel=1e-12)
    state = dynamics.initial_world(p)
    us = (0.6, 0.015, 0.05)
    new, out = _step(p, state, _choice(0.5, 0.0), us_stance(*us), cn_stance(*cn))
    r = cn[1]
    b0 = cal.value("initial_restriction_belief")
    assert close(new.belief, b0 + cal.value("belief_rate") * (r - b0))  # 0.05 + 0.3 (r - 0.05)
    for i, f in enumerate(k.firms):
        # s_f <- s_f (1 - omega max(r, 1 - a))
        assert close(new.china_share[i], f.china_profit_share * (1 - k.omega * disruption))


@pytest.mark.parametrize(
    "dependence, level, reduction",
    [
        (0.6, 1.0, 0.015),  # min(rho x 1, 0.6 - 0.1) = rho = 0.015
        (0.11, 1.0, 0.01),  # min(0.015, 0.11 - 0.1): capped by the room above the floor
        (0.11, 0.5, 0.0075),  # min(0.0075, 0.01)
        (0.05, 1.0, 0.0),  # below the floor: nothing to gain
    ],
)
def test_diversification_value_by_hand(cal, p, dependence, level, reduction):
    # V(x) = F (30 x b x reduction x 8 - 1 x x), b = 0.5: 120/4 x 0.5 x 0.01 x 8 = 1.2 at D = 0.11
    k = hand_constants(cal)
    want = k.F * (30 * 0.5 * reduction * 8 - 1.0 * level)
    assert hand_diversification_value(k, level, dependence, 0.5) == pytest.approx(want, rel=1e-12)
    got = payoffs.diversification_value(
        np.array([level]), np.array([dependence]), np.array([0.5]), p
    )
    assert close(got, want)


# --- one full round by hand -----------------------------------------------------------------------
def hand_round(cal, scen, u, normal=0.0):
    """Round 0 of one world from the initial state (ODD 5), uniforms ``u`` (5 values).

    Reactive US and China, adaptive Japan, no embargo or escalation, no per-firm lobbying
    multipliers and the calibration's temperature (true of ``baseline`` and ``fiscal_stress``).
    """
    k = hand_constants(cal, scen.fiscal_stress)
    v = k.v
    sd = v("trade_shock_sd")
    z = math.exp(sd * normal - sd * sd / 2)
    c_prev, D, b = 0.5, v("rare_earth_dependence"), v("initial_restriction_belief")
    t_us, t_cn = v("trust_us_initial"), v("trust_cn_initial")
    shares = [f.china_profit_share for f in k.firms]
    sev = v("trust_severity")
    # steps 1-2: reactive stances
    us = (
        scen.us_security_pressure,
        v("us_base_tariff"),
        scen.us_tariff_level * (1 + sev * (1 - t_us)),
    )
    cn = (v("china_red_line"), 0.0, scen.cn_coercion * (1 + sev * (1 - t_cn)), 1.0)
    # step 3: each firm's profit at each option, stake and effort
    inst = [hand_instruments(k, c, us, cn) for c in COMPLIANCE_MENU]
    menu = [
        [hand_firm_profit(k, f, s, c, *i, D, z) for c, i in zip(COMPLIANCE_MENU, inst, strict=True)]
        for f, s in zip(k.firms, shares, strict=True)
    ]
    effort = []
    for f, row in zip(k.firms, menu, strict=True):
        stake = (max(row) - min(row)) / (f.profit * Q)
        effort.append(min(1.0, scen.lobbying_strength * stake / (stake + v("stake_half"))))
    weights = [
        v("lobbying_weight") * f.lobbying_efficiency * e
        for f, e in zip(k.firms, effort, strict=True)
    ]
    # step 4: government objective U(c) = W(c) + sum_f w_f pi_f(c), logit, inertia
    objective = []
    for j, c in enumerate(COMPLIANCE_MENU):
        w = hand_welfare(k, hand_welfare_terms(k, c, c_prev, 0.0, *inst[j], D, us[0], z))
        objective.append(w + sum(wt * row[j] for wt, row in zip(weights, menu, strict=True)))
    p_c = hand_logit(objective, k.S, v("temperature"))
    if u[2] < v("inertia"):
        c = c_prev
    else:
        c = COMPLIANCE_MENU[next(j for j in range(5) if u[3] < sum(p_c[: j + 1]))]
    p_x = hand_logit(
        [hand_diversification_value(k, x, D, b) for x in DIVERSIFICATION_MENU],
        k.S,
        v("temperature"),
    )
    x = DIVERSIFICATION_MENU[next(j for j in range(4) if u[4] < sum(p_x[: j + 1]))]
    # step 5: realized payoffs at the choice
    tau, r, a = hand_instruments(k, c, us, cn)
    terms = hand_welfare_terms(k, c, c_prev, x, tau, r, a, D, us[0], z)
    gross = [
        hand_firm_profit(k, f, s, c, tau, r, a, D, z) for f, s in zip(k.firms, shares, strict=True)
    ]
    return SimpleNamespace(
        k=k,
        p_c=p_c,
        p_x=p_x,
        compliance=c,
        diversification=x,
        instruments=(tau, r, a),
        terms=terms,
        welfare=hand_welfare(k, terms),
        objective=hand_welfare(k, terms) + sum(w * g for w, g in zip(weights, gross, strict=True)),
        effort=effort,
        firm_profit=[
            g - v("lobbying_cost") * f.profit * Q * e
            for g, f, e in zip(gross, k.firms, effort, strict=True)
        ],
        us_payoff=hand_us_payoff(k, c, tau, z),
        china_payoff=hand_china_payoff(k, c, r, a, z),
        trust=hand_trust_targets(k, c, us[0], tau, cn[0], r, a),
        belief=b + v("belief_rate") * (r - b),
        shares=[s * (1 - k.omega * max(r, 1 - a)) for s in shares],
    )


def _uniforms(cal, scen, inertia, compliance, diversification):
    """Uniforms (5, 1) for round 0: inertia ``True`` keeps 0.5, else option indices to land on."""
    probe = hand_round(cal, scen, [0.5, 0.5, 0.99, 0.0, 0.0])
    u_inertia = 0.1 if inertia else 0.9  # inertia is 0.3 in the article calibration
    u_c = 0.5 if inertia else bin_middle(probe.p_c, compliance)
    u_x = bin_middle(probe.p_x, diversification)
    return np.array([[0.5], [0.5], [u_inertia], [u_c], [u_x]])


@pytest.mark.parametrize(
    "scenario_name, inertia, compliance, diversification",
    [
        ("baseline", True, None, 0),  # inertia keeps 0.5: no adjustment, no tariff above base
        ("baseline", False, 3, 1),  # logit picks 0.75: China retaliates; diversify at 0.25
        ("baseline", False, 1, 3),  # logit picks 0.25: US tariff and security cost; full spend
        ("fiscal_stress", False, 3, 2),
    ],
)
def test_one_full_round_by_hand(cal, scenario_name, inertia, compliance, diversification):
    scen = load_scenario(scenario_name)
    p = build_params(cal, scen, 4, 1)
    u = _uniforms(cal, scen, inertia, compliance, diversification)
    h = hand_round(cal, scen, u[:, 0])
    # the chosen option's bin is wide enough that ulp-level differences cannot move the draw
    assert inertia or h.p_c[compliance] > 1e-4, h.p_c
    assert h.p_x[diversification] > 1e-4, h.p_x
    _, played = play_round(initial_round_state(p), 0, u, np.zeros(1), p, BreakdownRule())
    out, choice = played.outcome, played.choice
    assert close(choice.compliance, h.compliance) and close(
        choice.diversification, h.diversification
    )
    for got, want in zip((out.tariff, out.restriction, out.access), h.instruments, strict=True):
        assert close(got, want)
    for name, want in h.terms.items():
        assert close(getattr(out.welfare_terms, name), want), name
    assert close(out.welfare, h.welfare)
    assert close(out.objective, h.objective)
    np.testing.assert_allclose(played.effort[:, 0], h.effort, rtol=1e-12)
    np.testing.assert_allclose(out.firm_profit[:, 0], h.firm_profit, rtol=1e-12)
    assert close(out.us_payoff, h.us_payoff)
    assert close(out.china_payoff, h.china_payoff)


def test_one_full_round_moves_the_world_by_hand(cal, baseline):
    p = build_params(cal, baseline, 4, 1)
    u = _uniforms(cal, baseline, False, 3, 0)  # 0.75: above China's red line
    h = hand_round(cal, baseline, u[:, 0])
    state, _ = play_round(initial_round_state(p), 0, u, np.zeros(1), p, BreakdownRule())
    w, rate = state.world, cal.value("trust_rate")
    t_us0, t_cn0 = cal.value("trust_us_initial"), cal.value("trust_cn_initial")
    assert close(w.trust_us, t_us0 + rate * (h.trust[0] - t_us0))
    assert close(w.trust_cn, t_cn0 + rate * (h.trust[1] - t_cn0))
    assert close(w.belief, h.belief)
    np.testing.assert_allclose(w.china_share[:, 0], h.shares, rtol=1e-12)
    assert w.dependence[0] == cal.value("rare_earth_dependence")  # nothing has arrived yet


def test_round_zero_numbers_at_differentiated_execution(cal, baseline):
    # The inertia case in figures: c = 0.5, d = 0.6, tau1 = 0.05 x (1 + 0.5 x 0.2) = 0.055,
    # shortfall 0.1/0.6, tau = 0.015 + 0.055/6; no excess over the red line: r = 0, a = 1.
    u = np.array([0.5, 0.5, 0.1, 0.5, 0.0])
    h = hand_round(cal, baseline, u)
    z = math.exp(-(0.03**2) / 2)
    tau = 0.015 + 0.055 / 6
    assert h.instruments == pytest.approx((tau, 0.0, 1.0), rel=1e-14)
    assert h.terms["gains_cn"] == pytest.approx(0.15 * z * (50.25 * 0.95 + 42.25), rel=1e-14)
    assert h.terms["gains_us"] == pytest.approx(0.15 * z * (37 * (1 - 2 * tau) + 20), rel=1e-14)
    assert h.terms["security_cost"] == pytest.approx(12.5 / 6, rel=1e-14)
    assert h.terms["adjustment_cost"] == 0.0 and h.terms["shortage_cost"] == 0.0


# --- monotonicity and signs ----------------------------------------------------------------------------
GRID = np.linspace(0.0, 1.0, 41)


@pytest.mark.parametrize("coercion", [0.0, 0.375, 3.0])
@pytest.mark.parametrize("red_line", [0.25, 0.5, 0.9])
def test_more_compliance_never_raises_china_payoff(p, coercion, red_line):
    cn = cn_stance(red_line, 0.1, coercion, 1.0)
    inst = payoffs.instruments(GRID[:, None], us_stance(0.6, 0.015, 0.05), cn, p)
    pay = payoffs.china_payoff(GRID[:, None], inst.restriction, inst.access, np.ones(1), p)[:, 0]
    assert (np.diff(pay) < 0).all()  # strictly: the tech loss alone falls with c


def test_higher_tariff_never_raises_gains_us(p):
    tau = np.linspace(0.0, 1.0, 101)[:, None]  # volume hits 0 at tau = 1 / elasticity = 0.5
    terms = payoffs.japan_welfare_terms(
        0.5, 0.5, 0.0, tau, 0.0, 1.0, p.dependence0, p.security_pressure[0], np.ones(1), p
    )
    gains = terms.gains_us[:, 0]
    assert (np.diff(gains) <= 0).all() and gains[0] > gains[-1]
    # beyond tau = 0.5 only imports from the US are left: 0.15 x 20 = 3
    assert gains[-1] == pytest.approx(0.15 * 20, rel=1e-14)


def test_more_restriction_never_lowers_shortage_cost(p):
    r = GRID[:, None]
    for dependence in (0.1, 0.6, 1.0):
        terms = payoffs.japan_welfare_terms(
            0.5, 0.5, 0.0, 0.015, r, 1.0, np.array([dependence]), 0.6, np.ones(1), p
        )
        cost = terms.shortage_cost[:, 0]
        assert (np.diff(cost) > 0).all()
        # 120 / 4 x 1 x (D + 0.1) at full restriction
        assert cost[-1] == pytest.approx(30 * (dependence + 0.1), rel=1e-14)
