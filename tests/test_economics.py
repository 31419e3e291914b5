"""The economics by hand: payoffs, decision rules and world dynamics.

Every expected value here is worked out in plain Python arithmetic on the calibration's raw
(annual) values, never by calling the function under test: from the functional forms of
``docs/ODD.md`` section 7 where model v2 kept them (derived parameters, payoffs, tariff and
retaliation schedules, relocation), and from the module docstrings where it changed them
(contextual-utility logit and continuous compliance in :mod:`sim.core.choice`, beliefs in
:mod:`sim.core.beliefs`, costly lobbying and diversification as an investment in
:mod:`sim.core.policies`, relation signals split into parts in :mod:`sim.core.dynamics`).
The hand calculations live in the ``hand_*`` helpers below so they are easy to update when
the model is revised.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from sim.catalog import load_calibration, load_scenario
from sim.core import beliefs, choice, dynamics, payoffs, policies
from sim.core.draws import U_COMPLIANCE, U_DIVERSIFICATION, U_FIRMS, U_INERTIA
from sim.core.params import DIVERSIFICATION_MENU, EFFORT_MENU, build_params
from sim.core.payoffs import ChinaStance, UsStance
from sim.core.round import initial_round_state, play_round

Q = 0.25  # annual -> quarterly money (ODD section 2)
TIGHT = {"rel": 1e-12, "abs": 1e-12}  # hand arithmetic vs. the code, a few ulps apart
LINES = [i / 20 for i in range(21)]  # the red lines Japan considers (sim.core.beliefs)


def close(x, expected, tol=TIGHT):
    """``x`` (a scalar or a one-element array) equals ``expected`` to ~1e-12 relative."""
    return float(np.asarray(x).reshape(-1)[0]) == pytest.approx(expected, **tol)


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


def cn_stance(red_line, fixed, coercion, access, known=False):
    return ChinaStance(
        np.array([red_line]),
        np.array([fixed]),
        np.array([coercion]),
        np.array([access]),
        np.array([known]),
    )


# --- hand calculations ------------------------------------------------------------------------
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
        S=v("gains_from_trade") * (v("trade_cn") + v("trade_us")) * Q,  # gains from all trade
        m=v("component_dependence") * v("component_spillover"),
        rho=v("diversification_rate"),  # per quarter at the highest spend (ODD 7.1)
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


def hand_expected_instruments(k, c, us, cn, belief):
    """As :func:`hand_instruments` with the excess averaged over Japan's belief on the line."""
    d, tau0, tau1 = us
    _, r0, kappa, a0 = cn
    eps = sum(q * hand_excess(c, line) for q, line in zip(belief, LINES, strict=True))
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


def hand_contextual(utilities, temperature):
    """Logit on the decision's own stakes (sim.core.choice): scale = max U - min U of the
    available options (``-inf`` marks unavailable ones)."""
    finite = [u for u in utilities if u != -math.inf]
    stakes = max(finite) - min(finite)
    return hand_logit(utilities, stakes, temperature)


def hand_prior(cal):
    """Japan's prior over China's line: a normal around china_red_line, cut below 0.5."""
    mean, sd = cal.value("china_red_line"), cal.value("china_red_line_sd")
    w = [math.exp(-0.5 * ((x - mean) / sd) ** 2) if x >= 0.5 else 0.0 for x in LINES]
    return [x / sum(w) for x in w]


def hand_diversification_value(k, x, room, b):
    """V(x) = F (disruption x b x min(rho x, room) x horizon - spend x) (payoffs docstring)."""
    reduction = min(k.rho * x, room)
    return k.F * (k.disruption * b * reduction * k.v("planning_horizon") - k.div_spend * x)


def hand_expected_restriction(k, q, kappa, c_prev, belief):
    """Episodes (hazard x length x size) plus expected retaliation at last compliance."""
    v = k.v
    hazard = q * v("hazard_coercive") + (1 - q) * v("hazard_restrained")
    episodes = hazard * v("episode_length") * v("episode_restriction")
    eps = sum(w * hand_excess(c_prev, line) for w, line in zip(belief, LINES, strict=True))
    return min(1.0, episodes + kappa * eps)


def hand_signals(c, d, tau, red, r, a, base_tariff):
    """Each relation's signal split into Japan's part and the other state's (dynamics docstring)."""
    us_ok, cn_ok = min(d, 0.5), max(red, 0.5)
    return {
        "japan_us": c - us_ok,
        "other_us": (us_ok - d) - (tau - base_tariff),
        "japan_cn": cn_ok - c,
        "other_cn": (red - cn_ok) - r - (1 - a),
    }


def hand_trust_targets(k, c, d, tau, red, r, a):
    """ODD 7.7: T* = T0 + sensitivity x (Japan's part + the other state's part), clipped."""
    v = k.v
    s = hand_signals(c, d, tau, red, r, a, v("us_base_tariff"))
    sens = v("trust_sensitivity")
    t_us = v("trust_us_initial") + sens * (s["japan_us"] + s["other_us"])
    t_cn = v("trust_cn_initial") + sens * (s["japan_cn"] + s["other_cn"])
    return min(1.0, max(0.0, t_us)), min(1.0, max(0.0, t_cn))


def hand_line_posterior(belief, c, retaliation, slope, noise):
    """Bayes' rule over the lines with a normal likelihood around slope x excess."""
    like = [
        math.exp(-0.5 * ((retaliation - slope * hand_excess(c, line)) / noise) ** 2)
        for line in LINES
    ]
    post = [b * x for b, x in zip(belief, like, strict=True)]
    return [x / sum(post) for x in post]


def bin_middle(probs, i):
    """A uniform in the middle of option i's inverse-CDF bin."""
    return sum(probs[:i]) + probs[i] / 2


# --- logit -------------------------------------------------------------------------------------
UTIL = np.array([[3.0, -1.0], [5.0, 0.0], [4.5, 2.0], [-2.0, 2.0]])  # 4 options x 2 worlds
SCALE = np.array([2.0, 10.0])


def test_logit_probabilities_sum_to_one_over_options():
    for temp in (1e-3, 0.05, 1.0, 100.0):
        prob = choice.logit_probabilities(UTIL, SCALE, np.full(2, temp))
        assert prob.shape == UTIL.shape
        np.testing.assert_allclose(prob.sum(axis=0), 1.0, rtol=1e-14)
        assert (prob >= 0).all()


def test_logit_invariant_to_constant_shift_and_common_rescaling():
    base = choice.logit_probabilities(UTIL, SCALE, 0.3)
    shifted = choice.logit_probabilities(UTIL + 1234.5, SCALE, 0.3)
    rescaled = choice.logit_probabilities(UTIL * 7.0, SCALE * 7.0, 0.3)  # currency unit
    np.testing.assert_allclose(shifted, base, rtol=1e-12)
    np.testing.assert_allclose(rescaled, base, rtol=1e-12)


def test_logit_tends_to_argmax_when_cold_and_uniform_when_hot():
    cold = choice.logit_probabilities(UTIL, SCALE, 1e-4)
    one_hot = np.zeros_like(UTIL)
    one_hot[UTIL.argmax(axis=0), [0, 1]] = 1.0
    # world 1 has a tie (2.0 at options 2 and 3): the mass splits evenly between them
    one_hot[:, 1] = [0.0, 0.0, 0.5, 0.5]
    np.testing.assert_allclose(cold, one_hot, atol=1e-12)
    hot = choice.logit_probabilities(UTIL, SCALE, 1e6)
    np.testing.assert_allclose(hot, 0.25, atol=1e-5)


def test_logit_three_options_by_hand():
    # U = (0, 1, 2), scale x temperature = 10 x 0.1 = 1: P = (e^-2, e^-1, 1) / (e^-2 + e^-1 + 1)
    prob = choice.logit_probabilities(np.array([[0.0], [1.0], [2.0]]), np.array([10.0]), 0.1)
    total = math.exp(-2) + math.exp(-1) + 1
    expected = [math.exp(-2) / total, math.exp(-1) / total, 1 / total]
    np.testing.assert_allclose(prob[:, 0], expected, rtol=1e-14)
    assert expected[0] == pytest.approx(0.09003057317038046, rel=1e-14)


def test_contextual_logit_three_options_by_hand():
    # U = (0, 1, 2): stakes 2, temperature 0.5, so scale x temperature = 1 as above;
    # U = (0, 10, 20) has stakes 20 and the same probabilities (contextual utility).
    total = math.exp(-2) + math.exp(-1) + 1
    expected = [math.exp(-2) / total, math.exp(-1) / total, 1 / total]
    for factor in (1.0, 10.0):
        u = factor * np.array([[0.0], [1.0], [2.0]])
        prob = choice.contextual_probabilities(u, np.array([0.5]))
        np.testing.assert_allclose(prob[:, 0], expected, rtol=1e-14)
    assert hand_contextual([0.0, 10.0, 20.0], 0.5) == pytest.approx(expected, rel=1e-14)


# --- inverse-CDF sampler ---------------------------------------------------------------------------
PROBS = np.array([0.125, 0.25, 0.5, 0.125])  # cumulative 0.125, 0.375, 0.875, 1 (exact in binary)


def test_sample_index_picks_by_cumulative_boundaries():
    cdf = np.cumsum(PROBS)[:-1]
    below, above = cdf - 1e-9, cdf + 1e-9
    u = np.concatenate([[0.0], below, above, [1 - 1e-12]])
    expected = [0, 0, 1, 2, 1, 2, 3, 3]
    assert choice.sample_index(PROBS[:, None], u).tolist() == expected
    # weights need not be normalized: u is scaled by their sum
    assert choice.sample_index(3.0 * PROBS[:, None], u).tolist() == expected


def test_sample_index_frequencies_match_probabilities():
    n = 200_000
    u = np.random.default_rng(20250401).random(n)
    idx = choice.sample_index(PROBS[:, None], u)
    freq = np.bincount(idx, minlength=4) / n
    # binomial sd <= sqrt(0.25 / n) = 0.0011; tolerance 0.005 is over 4 sd
    np.testing.assert_allclose(freq, PROBS, atol=0.005)


def test_sample_in_cells_by_hand():
    # 4 cells of width 1/4; u = 0.25 lands in cell 1 (CDF 0.125-0.375) at position
    # (0.25 - 0.125) / 0.25 = 0.5: compliance (1 + 0.5) / 4 = 0.375
    u = np.array([0.25, 0.0, 0.875, 0.9375])
    got = choice.sample_in_cells(np.repeat(PROBS[:, None], 4, axis=1), u)
    # u = 0 -> 0; u = 0.875 is the top of cell 2 -> 3/4; u = 0.9375 -> cell 3 at 0.5 -> 0.875
    np.testing.assert_array_equal(got, [0.375, 0.0, 0.75, 0.875])


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


def test_expected_instruments_average_the_excess_over_the_belief(cal, p):
    """Unknown line: restriction and access follow the expected excess under Japan's belief;
    an announced line: the excess over that line."""
    k = hand_constants(cal)
    belief = np.zeros((21, 1))
    belief[10, 0], belief[12, 0], belief[16, 0] = 0.5, 0.25, 0.25  # lines 0.5, 0.6, 0.8
    view = dynamics.initial_world(p, np.array([0.5])).view(p)._replace(line_belief=belief)
    c = np.array([[0.4], [0.7], [0.9], [1.0]])
    us = (0.6, 0.015, 0.2)
    cn = (0.5, 0.1, 0.6, 0.95)
    got = policies.expected_instruments(c, us_stance(*us), cn_stance(*cn), view, p)
    for j, cj in enumerate(c[:, 0]):
        # e.g. c = 0.9: 0.5 x 0.4/0.5 + 0.25 x 0.3/0.4 + 0.25 x 0.1/0.25 = 0.6875
        want = hand_expected_instruments(k, cj, us, cn, belief[:, 0])
        assert close(got.tariff[j], want[0]) and close(got.restriction[j], want[1])
        assert close(got.access[j], want[2])
    assert hand_expected_instruments(k, 0.9, us, cn, belief[:, 0])[1] == pytest.approx(
        0.1 + 0.6 * 0.6875, rel=1e-14
    )
    known = policies.expected_instruments(c, us_stance(*us), cn_stance(*cn, known=True), view, p)
    for j, cj in enumerate(c[:, 0]):
        assert close(known.restriction[j], hand_instruments(k, cj, us, cn)[1])


# --- derived parameters (ODD 7.1) ---------------------------------------------------------------------
def test_derived_parameters_match_odd_7_1(cal, p):
    k = hand_constants(cal)
    # article: X = (370 + 32) / 2 / 4 = 50.25, M = (370 - 32) / 2 / 4 = 42.25
    assert (k.X, k.M) == (50.25, 42.25)
    assert close(p.jp_exports_cn, k.X) and close(p.jp_imports_cn, k.M)
    assert close(p.imports_us, k.imports_us)  # (228 - 148) / 4 = 20
    assert close(p.component_exposure, k.m)  # 0.4 x 0.25 = 0.1
    assert close(p.diversification_rate, k.rho)  # 0.05 (no processing-share factor since v2)
    assert close(p.relocation_rate, k.omega)  # 0.05 / (1 + 1300 / 370)
    assert close(p.adjustment, k.adjust)  # 0.02 x (370 + 228) / 4 = 2.99
    assert k.S == pytest.approx(22.425) and k.rho == pytest.approx(0.05)
    # the compliance menu: centres of 21 equal cells of 0-1, (j + 0.5) / 21
    np.testing.assert_allclose(p.compliance_menu, [(j + 0.5) / 21 for j in range(21)], rtol=1e-15)
    # the red lines Japan considers: 0, 0.05, ..., 1
    np.testing.assert_allclose(beliefs.RED_LINES, LINES, rtol=0, atol=1e-15)
    # the budget is per four quarters, as is the sum it is compared with (no conversion)
    assert close(p.diversification_budget, cal.value("diversification_budget"))


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


def _world(p, u_line=0.1):
    """The initial world; ``u_line`` 0.1 draws the lowest line the prior allows (0.5)."""
    return dynamics.initial_world(p, np.full(p.n_worlds, u_line))


def _step(p, state, choice, us, cn, shock=1.0):
    """Realize the round at ``choice`` and advance the world (no lobbying)."""
    effort = np.zeros_like(state.effort)
    z = np.full(p.n_worlds, shock)
    out = dynamics.realize_round(state, choice, us, cn, effort, effort, z, p)
    return dynamics.advance_world(state, choice, us, cn, out, effort, p), out


def _quiet_stances(n):
    """No tariff above base, no restriction: only the diversification pipeline moves."""
    us = UsStance(np.full(n, 0.5), np.full(n, 0.015), np.zeros(n))
    cn = ChinaStance(np.full(n, 0.5), np.zeros(n), np.zeros(n), np.ones(n), np.zeros(n, bool))
    return us, cn


def test_diversification_arrives_exactly_lag_rounds_later(cal, baseline):
    """Invested in round 0, it lowers D in round lag's update (ODD 7.7, x_{t-L} with t = lag).

    The lower D is first seen by round lag + 1's payoffs and decisions; meanwhile the
    investment under way already counts against the room for further investment.
    """
    lags, levels = [2, 4, 8], [1.0, 0.5, 0.25]
    p = build_params(cal, baseline, 12, 3, {"diversification_lag": np.array(lags, dtype=float)})
    k = hand_constants(cal)
    d0, floor = cal.value("rare_earth_dependence"), cal.value("dependence_floor")
    state = _world(p)
    us, cn = _quiet_stances(3)
    path, rooms = [], []
    for t in range(12):
        x = np.array(levels) if t == 0 else np.zeros(3)  # invest only in round 0
        state, _ = _step(p, state, _choice(np.full(3, 0.5), x), us, cn)
        path.append(state.dependence.copy())  # dependence after round t's update
        rooms.append(state.view(p).room.copy())
    for w, (lag, level) in enumerate(zip(lags, levels, strict=True)):
        # D <- D - rho x_{t-L}: unchanged through round lag - 1, then down by rho x level
        drop = k.rho * level  # 0.05 x level per quarter
        for t in range(lag):
            assert path[t][w] == d0, (lag, t)
            # room = D - what is coming - floor = 0.6 - rho x level - 0.1 while under way
            assert rooms[t][w] == pytest.approx(d0 - drop - floor, **TIGHT), (lag, t)
        for t in range(lag, 12):
            assert path[t][w] == pytest.approx(d0 - drop, **TIGHT), (lag, t)
    # the world with the batch's longest lag: once arrived, nothing is under way any more
    for t in range(8, 12):
        assert rooms[t][2] == pytest.approx(d0 - k.rho * 0.25 - floor, **TIGHT), t


def test_room_does_not_count_arrived_investment_twice(cal, baseline):
    lags = [2, 8]
    p = build_params(cal, baseline, 12, 2, {"diversification_lag": np.array(lags, dtype=float)})
    k = hand_constants(cal)
    d0, floor = cal.value("rare_earth_dependence"), cal.value("dependence_floor")
    state = _world(p)
    us, cn = _quiet_stances(2)
    for t in range(6):
        x = np.ones(2) if t == 0 else np.zeros(2)
        state, _ = _step(p, state, _choice(np.full(2, 0.5), x), us, cn)
        if t >= 2:  # the lag-2 world's investment arrived in round 2's update
            assert state.dependence[0] == pytest.approx(d0 - k.rho, **TIGHT)
            # room = D - nothing under way - floor = 0.585 - 0.1 (the code gives 0.47)
            assert state.view(p).room[0] == pytest.approx(d0 - k.rho - floor, **TIGHT), t


def test_a_world_does_not_depend_on_other_worlds_lags(cal):
    from sim.engine.batch import run_batch

    scen = load_scenario("rare_earth_embargo")
    n = 12
    # dependence near the floor and a coercive China, so the room binds and Japan invests
    ov = {
        "rare_earth_dependence": 0.14,
        "hazard_coercive": 0.15,
        "coercive_prior": 0.9,
        "episode_restriction": 1.0,
        "diversification_lag": 2.0,
    }
    alone = run_batch(build_params(cal, scen, 40, n, ov), np.arange(n), record_rounds=True)
    ov["diversification_lag"] = np.array([2.0] * (n - 1) + [8.0])
    mixed = run_batch(build_params(cal, scen, 40, n, ov), np.arange(n), record_rounds=True)
    for col in ("jp_diversification", "rare_earth_dependence"):
        np.testing.assert_array_equal(alone.rounds[col][:, : n - 1], mixed.rounds[col][:, : n - 1])


def test_recent_spend_counts_the_last_three_quarters(cal, baseline):
    p = build_params(cal, baseline, 6, 1)
    state = _world(p)
    us, cn = _quiet_stances(1)
    spend = cal.value("diversification_spend")
    seen = []
    for x in (1.0, 0.25, 0.5, 0.0, 0.0):
        state, _ = _step(p, state, _choice(0.5, x), us, cn)
        seen.append(float(state.view(p).recent_spend[0]))
    # sums of the last three spends: 1, 1.25, 1.75, 0.75, 0.5
    assert seen == pytest.approx([spend * s for s in (1.0, 1.25, 1.75, 0.75, 0.5)], rel=1e-15)


def test_dependence_never_falls_below_floor(cal, baseline):
    # D0 = 0.105, floor 0.1: a full investment (rho = 0.05) would take it to 0.09
    p = build_params(
        cal, baseline, 6, 1, {"rare_earth_dependence": 0.105, "diversification_lag": 2.0}
    )
    state = _world(p)
    us, cn = _quiet_stances(1)
    for _t in range(6):
        state, _ = _step(p, state, _choice(0.5, 1.0), us, cn)
        assert state.dependence[0] >= cal.value("dependence_floor")
        assert state.view(p).room[0] == 0.0  # nothing left to gain
    assert state.dependence[0] == cal.value("dependence_floor")


@pytest.mark.parametrize(
    "c, us, cn",
    [
        # c = 0.25 < demand 0.6: tau = 0.015 + 0.2 x 0.35/0.6; embargo r = 0.2, access 0.9
        (0.25, (0.6, 0.015, 0.2), (0.5, 0.2, 0.3, 0.9)),
        # c = 1 above the red line: r = 0.8 x 1, a = 1 - 0.5 x 0.8: China target clipped at 0
        (1.0, (0.6, 0.015, 0.2), (0.5, 0.0, 0.8, 1.0)),
        # c = 0.75 meets demand 0.5: US target 0.8 + 0.25 = 1.05 clipped at 1
        (0.75, (0.5, 0.015, 0.1), (0.5, 0.0, 0.3, 1.0)),
        # an embargo's demand: line 0.25 below the status quo, Japan stays at 0.5
        (0.5, (0.9, 0.015, 0.1), (0.25, 0.5, 0.3, 1.0)),
    ],
)
def test_trust_moves_trust_rate_of_the_way_to_its_target(cal, p, c, us, cn):
    k = hand_constants(cal)
    tau, r, a = hand_instruments(k, c, us, cn)
    t_us, t_cn = hand_trust_targets(k, c, us[0], tau, cn[0], r, a)
    parts = hand_signals(c, us[0], tau, cn[0], r, a, cal.value("us_base_tariff"))
    state = _world(p)._replace(
        trust_us=np.array([0.7]),
        trust_cn=np.array([0.4]),
        japan_part_us=np.array([-0.1]),
        other_part_us=np.array([0.05]),
        japan_part_cn=np.array([0.2]),
        other_part_cn=np.array([-0.3]),
    )
    new, out = _step(p, state, _choice(c, 0.0), us_stance(*us), cn_stance(*cn))
    assert close(out.tariff, tau) and close(out.restriction, r) and close(out.access, a)
    signals = dynamics.relation_signals(np.array([c]), us_stance(*us), cn_stance(*cn), out, p)
    for name, want in parts.items():
        assert close(getattr(signals, name), want), name
    got_us, got_cn = dynamics.trust_targets(signals, p)
    assert close(got_us, t_us) and close(got_cn, t_cn)
    rate = cal.value("trust_rate")  # 0.25
    assert close(new.trust_us, 0.7 + rate * (t_us - 0.7))
    assert close(new.trust_cn, 0.4 + rate * (t_cn - 0.4))
    # the parts are smoothed at the same rate
    for name, old in (("us", (-0.1, 0.05)), ("cn", (0.2, -0.3))):
        assert close(
            getattr(new, f"japan_part_{name}"), old[0] + rate * (parts[f"japan_{name}"] - old[0])
        )
        assert close(
            getattr(new, f"other_part_{name}"), old[1] + rate * (parts[f"other_{name}"] - old[1])
        )


def test_trust_target_and_parts_numbers(cal):
    # c = 0.25, d = 0.6, tau = 0.015 + 0.2 x 0.35/0.6; T*_us = 0.8 + (-0.35) - (0.2 x 0.35/0.6)
    k = hand_constants(cal)
    tau = 0.015 + 0.2 * 0.35 / 0.6
    t_us, t_cn = hand_trust_targets(k, 0.25, 0.6, tau, 0.5, 0.2, 0.9)
    assert t_us == pytest.approx(0.8 - 0.35 - 0.2 * 0.35 / 0.6)  # 0.333...
    assert t_cn == pytest.approx(0.5 + 0.25 - 0.2 - 0.1)  # 0.45
    # the US demand above the status quo (0.6 - 0.5) is the US's part, Japan's is 0.25 - 0.5
    s = hand_signals(0.25, 0.6, tau, 0.5, 0.2, 0.9, 0.015)
    assert s["japan_us"] == -0.25 and s["other_us"] == pytest.approx(-0.1 - 0.2 * 0.35 / 0.6)
    # Japan at the status quo against an embargo's line 0.25: all the damage is China's
    s = hand_signals(0.5, 0.6, 0.015, 0.25, 0.5, 1.0, 0.015)
    assert s["japan_cn"] == 0.0 and s["other_cn"] == -0.25 - 0.5


@pytest.mark.parametrize(
    "cn, disruption",
    [
        ((0.5, 0.2, 0.0, 0.9), 0.2),  # r = 0.2 > 1 - a = 0.1
        ((0.5, 0.05, 0.0, 0.7), 0.3),  # 1 - a = 0.3 > r = 0.05
    ],
)
def test_relocation_by_hand(cal, p, cn, disruption):
    k = hand_constants(cal)
    # omega = 0.05 / (1 + 1300 / 370) = 0.0110778...
    assert k.omega == pytest.approx(0.05 * 370 / 1670, rel=1e-12)
    state = _world(p)
    new, _ = _step(p, state, _choice(0.5, 0.0), us_stance(0.6, 0.015, 0.05), cn_stance(*cn))
    for i, f in enumerate(k.firms):
        # s_f <- s_f (1 - omega max(r, 1 - a))
        assert close(new.china_share[i], f.china_profit_share * (1 - k.omega * disruption))


def test_beliefs_learn_from_retaliation_and_from_episodes(cal, p):
    """Round step 5: the line belief by Bayes' rule on retaliation above any embargo; the
    coercive-type probability by the episode hazards (beliefs docstring)."""
    v = cal.value
    hc, hr = v("hazard_coercive"), v("hazard_restrained")
    state = _world(p)
    prior = list(state.line_belief[:, 0])
    assert prior == pytest.approx(hand_prior(cal), rel=1e-12)
    # retaliation at c = 0.8 against a true line 0.6 (coercion 0.375): r = 0.375 x 0.5
    cn = (0.6, 0.0, 0.375, 1.0)
    new, out = _step(p, state, _choice(0.8, 0.0), us_stance(0.6, 0.015, 0.05), cn_stance(*cn))
    assert close(out.restriction, 0.375 * 0.5)
    want = hand_line_posterior(prior, 0.8, 0.375 * 0.5, 0.375, v("belief_noise"))
    np.testing.assert_allclose(new.line_belief[:, 0], want, rtol=1e-10, atol=1e-300)
    # the likelihood peaks at the true line (retaliation exactly as it predicts), so the
    # belief there grows most; the prior's favourite 0.5 (predicting 0.3) loses ground
    ratio = new.line_belief[10:, 0] / state.line_belief[10:, 0]
    assert LINES[10 + int(np.argmax(ratio))] == 0.6
    assert new.line_belief[10, 0] < state.line_belief[10, 0]
    assert new.line_belief[12, 0] > state.line_belief[12, 0]
    # a quiet quarter: q <- q (1 - hc) / (q (1 - hc) + (1 - q)(1 - hr))
    q0 = v("coercive_prior")
    q1 = q0 * (1 - hc) / (q0 * (1 - hc) + (1 - q0) * (1 - hr))
    assert close(new.coercive, q1)
    # an embargo starts (unconditional restriction 0.5, announced line 0.25): the line
    # belief is unchanged, the odds of a coercive China rise by hc / hr = 10
    embargo = (0.25, 0.5, 0.375, 1.0, True)
    during, _ = _step(p, new, _choice(0.5, 0.0), us_stance(0.6, 0.015, 0.05), cn_stance(*embargo))
    np.testing.assert_array_equal(during.line_belief, new.line_belief)
    q2 = q1 * hc / (q1 * hc + (1 - q1) * hr)
    assert close(during.coercive, q2)
    assert q2 / (1 - q2) == pytest.approx(10 * q1 / (1 - q1), rel=1e-12)
    # its second quarter is part of the same episode: no update
    again, _ = _step(p, during, _choice(0.5, 0.0), us_stance(0.6, 0.015, 0.05), cn_stance(*embargo))
    assert again.coercive[0] == during.coercive[0]
    # an unconditional restriction with the line unannounced (a scripted path, say): Japan
    # reads the retaliation above it, r - 0.1 = 0.375 x 0.5, and the episode's start
    unannounced = (0.6, 0.1, 0.375, 1.0)
    fresh, out = _step(
        p, state, _choice(0.8, 0.0), us_stance(0.6, 0.015, 0.05), cn_stance(*unannounced)
    )
    assert close(out.restriction, 0.1 + 0.375 * 0.5)
    np.testing.assert_allclose(fresh.line_belief[:, 0], want, rtol=1e-10, atol=1e-300)
    assert close(fresh.coercive, q0 * hc / (q0 * hc + (1 - q0) * hr))


# --- Japan's diversification: an investment within a budget ----------------------------------------
@pytest.mark.parametrize(
    "room, level, reduction",
    [
        (0.5, 1.0, 0.05),  # min(rho x 1, 0.5) = rho = 0.05
        (0.01, 1.0, 0.01),  # min(0.05, 0.01): capped by the room above the floor
        (0.05, 0.5, 0.025),  # min(0.025, 0.05)
        (0.0, 1.0, 0.0),  # no room: nothing to gain
    ],
)
def test_diversification_value_by_hand(cal, p, room, level, reduction):
    # V(x) = F (30 x b x reduction x H - 1 x x), b = 0.5, H = 8: 30 x 0.5 x 0.01 x 8 = 1.2
    k = hand_constants(cal)
    want = k.F * (30 * 0.5 * reduction * 8 - 1.0 * level)
    assert hand_diversification_value(k, level, room, 0.5) == pytest.approx(want, rel=1e-12)
    got = payoffs.diversification_value(np.array([level]), np.array([room]), np.array([0.5]), p)
    assert close(got, want)


def test_expected_restriction_by_hand(cal, p):
    """Episodes (q h_c + (1 - q) h_r) x length x size, plus coercion x expected excess."""
    k = hand_constants(cal)
    view = _world(p).view(p)
    # at the status quo no line of the prior (all >= 0.5) is exceeded: episodes only,
    # (0.5 x 0.05 + 0.5 x 0.005) x 2 x 0.5 = 0.0275
    cn = cn_stance(0.5, 0.0, 0.375, 1.0)
    assert close(policies.expected_restriction(view, cn, p), 0.0275)
    moved = view._replace(compliance=np.array([0.8]), coercive=np.array([0.9]))
    want = hand_expected_restriction(k, 0.9, 0.375, 0.8, hand_prior(cal))
    assert close(policies.expected_restriction(moved, cn, p), want)
    assert want > 0.9 * 0.05 * 2 * 0.5 + 0.1 * 0.005 * 2 * 0.5  # retaliation adds to it


def test_diversification_choice_by_hand_and_budget(cal, p):
    k = hand_constants(cal)
    view = _world(p).view(p)._replace(coercive=np.array([0.9]))
    cn = cn_stance(0.5, 0.0, 0.375, 1.0)
    b = hand_expected_restriction(k, 0.9, 0.375, 0.5, hand_prior(cal))
    values = [hand_diversification_value(k, x, 0.5, b) for x in DIVERSIFICATION_MENU]
    probs = hand_contextual(values, cal.value("diversification_temperature"))
    for i, x in enumerate(DIVERSIFICATION_MENU):
        if probs[i] > 1e-9:
            u = np.array([bin_middle(probs, i)])
            assert policies.diversification_choice(view, cn, p, u)[0] == x
    # spent 1.0 in the last three quarters, budget 1.2: only 0 is affordable (0.25 > 0.2)
    spent = view._replace(recent_spend=np.array([1.0]))
    u = np.linspace(0.0, 1.0, 11, endpoint=False)
    for ui in u:
        assert policies.diversification_choice(spent, cn, p, np.array([ui]))[0] == 0.0
    # spent 0.5: levels up to 0.7 affordable, so 0, 0.25 and 0.5; the logit over those three
    half = view._replace(recent_spend=np.array([0.5]))
    probs3 = hand_contextual(values[:3], cal.value("diversification_temperature"))
    for i in range(3):
        if probs3[i] > 1e-9:
            u = np.array([bin_middle(probs3, i)])
            assert policies.diversification_choice(half, cn, p, u)[0] == DIVERSIFICATION_MENU[i]
    assert policies.diversification_choice(half, cn, p, np.array([1 - 1e-12]))[0] <= 0.5


# --- firms' lobbying: a costly logit choice ----------------------------------------------------
def hand_lobbying(k, welfare, profits, effort_last, strength, temps):
    """Each firm's effort probabilities (policies.lobbying_choice docstring).

    Gain of effort e: (1 - inertia) (e w_full - w_last) Var_P(pi_f) / s, with P the
    government's logit at the other firms' last weights and s its stakes x temperature;
    value = gain - lobbying_cost x profit x e; a logit on its own stakes.
    """
    v = k.v
    w_last = [
        v("lobbying_weight") * f.lobbying_efficiency * st * e
        for f, st, e in zip(k.firms, strength, effort_last, strict=True)
    ]
    base = [
        wj + sum(w * row[j] for w, row in zip(w_last, profits, strict=True))
        for j, wj in enumerate(welfare)
    ]
    prob = hand_contextual(base, temps["compliance"])
    scale = (max(base) - min(base)) * temps["compliance"]
    out = []
    for f, st, wl, row in zip(k.firms, strength, w_last, profits, strict=True):
        mean = sum(pj * x for pj, x in zip(prob, row, strict=True))
        var = sum(pj * (x - mean) ** 2 for pj, x in zip(prob, row, strict=True))
        w_full = v("lobbying_weight") * f.lobbying_efficiency * st
        values = [
            (1 - v("inertia")) * (e * w_full - wl) * var / scale
            - v("lobbying_cost") * f.profit * Q * e
            for e in EFFORT_MENU
        ]
        out.append(hand_contextual(values, temps["lobbying"]))
    return out


def test_lobbying_choice_by_hand(cal, p):
    """Synthetic menus (5 options): Toyota's expected gain from full effort is far above its
    cost, Sony's lies between 0.7 (1 - inertia) and 1 times its cost, Honda's below."""
    k = hand_constants(cal)
    temps = _temps(cal)
    welfare = [10.0, 12.0, 13.0, 12.5, 9.0]
    rows = [
        [8.0, 7.6, 7.0, 6.1, 5.0],
        [2.0, 2.1, 2.3, 2.2, 2.25],
        [1.9, 1.95, 2.0, 1.8, 1.7],
    ]
    last = [0.5, 0.0, 1.0]
    p_e = hand_lobbying(k, welfare, rows, last, [1.0, 1.0, 1.0], temps)
    view = _world(p).view(p)._replace(effort=np.array(last)[:, None])
    w = np.array(welfare)[:, None]
    pi = np.array(rows)[:, :, None]

    def pick(u):
        return policies.lobbying_choice(view, p, w, pi, np.array(u)[:, None])[:, 0].tolist()

    assert pick([0.5, 0.5, 0.5]) == [1.0, 0.0, 0.0]
    # Sony by hand: Var_P(pi) / s = 0.00855, weight 0.7: 0.00598 x (1 - 0.3) = 0.00419 < 0.0045
    assert [int(np.argmax(x)) for x in p_e] == [4, 0, 0]
    # the value is linear in effort and the logit is on its own stakes, so neighbouring levels
    # differ by exp(0.25 / 0.01) = e^25 in odds: Toyota's 0.75 has probability 1.4e-11
    assert p_e[0][3] == pytest.approx(math.exp(-25) / sum(math.exp(-25 * j) for j in range(5)))
    below = sum(p_e[0][:3])
    assert pick([below + 0.9 * p_e[0][3], 0.5, 0.5])[0] == 0.75
    assert pick([below + 1.1 * p_e[0][3], 0.5, 0.5])[0] == 1.0
    # Sony's and Honda's 0.25 sit at the top of the CDF with probability 1.4e-11
    assert pick([0.5, 1 - 0.5 * p_e[1][1], 1 - 1.1 * p_e[2][1]]) == [1.0, 0.25, 0.0]


# --- one full round by hand -----------------------------------------------------------------------
def _temps(cal):
    v = cal.value
    return {
        "compliance": v("compliance_temperature"),
        "lobbying": v("lobbying_temperature"),
        "diversification": v("diversification_temperature"),
    }


def hand_round(cal, scen, u, u_line, t=0, normal=0.0):
    """Round ``t`` of one world played from the initial state; ``u`` (5 + F values) as in
    :mod:`sim.core.draws`, ``u_line`` draws China's true line from the prior.

    Reactive US and China, adaptive Japan, no per-firm lobbying multipliers and the
    calibration's temperatures (true of every named scenario); an escalation ramps the US
    levels by ``clip((t - start + 1) / ramp_rounds, 0, 1)``; in an embargo's window China
    withholds its restriction unconditionally and announces its line (ODD 7.2-7.3).
    """
    k = hand_constants(cal, scen.fiscal_stress)
    v = k.v
    temps = _temps(cal)
    sd = v("trade_shock_sd")
    z = math.exp(sd * normal - sd * sd / 2)
    c_prev, D = 0.5, v("rare_earth_dependence")
    t_us, t_cn, q = v("trust_us_initial"), v("trust_cn_initial"), v("coercive_prior")
    shares = [f.china_profit_share for f in k.firms]
    strength = [scen.lobbying_strength] * len(k.firms)
    sev = v("trust_severity")
    prior = hand_prior(cal)
    true_line = LINES[next(j for j in range(21) if u_line < sum(prior[: j + 1]))]
    # steps 1-2: reactive stances (China's line is its own, unknown to Japan)
    tariff, pressure = scen.us_tariff_slope, scen.us_security_pressure
    if scen.escalation is not None:
        e = scen.escalation
        ramp = min(1.0, max(0.0, (t - e.start_round + 1) / e.ramp_rounds))
        tariff += ramp * (e.us_tariff_slope - tariff)
        pressure += ramp * (e.us_security_pressure - pressure)
    us = (pressure, v("us_base_tariff"), tariff * (1 + sev * (1 - t_us)))
    kappa = scen.cn_coercion * (1 + sev * (1 - t_cn))
    cn, known = (true_line, 0.0, kappa, 1.0), False
    emb = scen.embargo
    if emb is not None and emb.start_round <= t < emb.start_round + emb.rounds:
        cn, known = (emb.red_line, emb.restriction, kappa, 1.0), True
    belief = [1.0 if x == cn[0] else 0.0 for x in LINES] if known else prior
    # step 3: welfare and profits at each cell centre under Japan's expectations, lobbying
    menu = [(j + 0.5) / 21 for j in range(21)]
    inst = [hand_expected_instruments(k, c, us, cn, belief) for c in menu]
    welfare = [
        hand_welfare(k, hand_welfare_terms(k, c, c_prev, 0.0, *i, D, us[0], z))
        for c, i in zip(menu, inst, strict=True)
    ]
    profits = [
        [hand_firm_profit(k, f, s, c, *i, D, z) for c, i in zip(menu, inst, strict=True)]
        for f, s in zip(k.firms, shares, strict=True)
    ]
    p_e = hand_lobbying(k, welfare, profits, [0.0] * len(k.firms), strength, temps)
    effort = [
        EFFORT_MENU[next(j for j in range(5) if uf < sum(pe[: j + 1]))]
        for uf, pe in zip(u[U_FIRMS:], p_e, strict=True)
    ]
    weights = [
        v("lobbying_weight") * f.lobbying_efficiency * st * e
        for f, st, e in zip(k.firms, strength, effort, strict=True)
    ]
    # step 4: objective U(c) = W(c) + sum_f w_f pi_f(c), logit on its stakes, a level
    # within the chosen cell: (j + (u - P(cells below j)) / P(j)) / 21
    objective = [
        wj + sum(w * row[j] for w, row in zip(weights, profits, strict=True))
        for j, wj in enumerate(welfare)
    ]
    p_c = hand_contextual(objective, temps["compliance"])
    if u[U_INERTIA] < v("inertia"):
        c, cell = c_prev, None
    else:
        target = u[U_COMPLIANCE] * sum(p_c)
        cell = next(j for j in range(21) if target <= sum(p_c[: j + 1]))
        c = (cell + (target - sum(p_c[:cell])) / p_c[cell]) / 21
    room = D - v("dependence_floor")  # nothing under way yet
    b = hand_expected_restriction(k, q, kappa, c_prev, prior)
    values = [hand_diversification_value(k, x, room, b) for x in DIVERSIFICATION_MENU]
    p_x = hand_contextual(values, temps["diversification"])
    x = DIVERSIFICATION_MENU[next(j for j in range(5) if u[U_DIVERSIFICATION] < sum(p_x[: j + 1]))]
    return SimpleNamespace(
        k=k,
        z=z,
        us=us,
        cn=cn,
        known=known,
        prior=prior,
        p_e=p_e,
        effort=effort,
        weights=weights,
        p_c=p_c,
        cell=cell,
        compliance=c,
        expected_restriction=b,
        p_x=p_x,
        diversification=x,
    )


def hand_outcome(cal, h, c):
    """Step 5 at compliance ``c``: realized instruments and payoffs, then the world's update."""
    k, v, z, us, cn = h.k, h.k.v, h.z, h.us, h.cn
    c_prev, D = 0.5, v("rare_earth_dependence")
    shares = [f.china_profit_share for f in k.firms]
    tau, r, a = hand_instruments(k, c, us, cn)
    terms = hand_welfare_terms(k, c, c_prev, h.diversification, tau, r, a, D, us[0], z)
    gross = [
        hand_firm_profit(k, f, s, c, tau, r, a, D, z) for f, s in zip(k.firms, shares, strict=True)
    ]
    rate = v("trust_rate")
    t_us0, t_cn0 = v("trust_us_initial"), v("trust_cn_initial")
    targets = hand_trust_targets(k, c, us[0], tau, cn[0], r, a)
    parts = hand_signals(c, us[0], tau, cn[0], r, a, v("us_base_tariff"))
    q = v("coercive_prior")
    hc, hr = v("hazard_coercive"), v("hazard_restrained")
    return SimpleNamespace(
        instruments=(tau, r, a),
        terms=terms,
        welfare=hand_welfare(k, terms),
        objective=hand_welfare(k, terms)
        + sum(w * g for w, g in zip(h.weights, gross, strict=True)),
        firm_profit=[
            g - v("lobbying_cost") * f.profit * Q * e
            for g, f, e in zip(gross, k.firms, h.effort, strict=True)
        ],
        us_payoff=hand_us_payoff(k, c, tau, z),
        china_payoff=hand_china_payoff(k, c, r, a, z),
        trust=(t_us0 + rate * (targets[0] - t_us0), t_cn0 + rate * (targets[1] - t_cn0)),
        parts={name: rate * s for name, s in parts.items()},  # smoothed from 0
        # Bayes on the retaliation above any embargo; nothing learnt of an announced line
        line_belief=h.prior
        if h.known
        else hand_line_posterior(h.prior, c, r - cn[1], cn[2], v("belief_noise")),
        # an embargo starting multiplies the odds of a coercive China by hc / hr
        coercive=q * hc / (q * hc + (1 - q) * hr)
        if cn[1] > 0
        else q * (1 - hc) / (q * (1 - hc) + (1 - q) * (1 - hr)),
        shares=[s * (1 - k.omega * max(r, 1 - a)) for s in shares],
    )


PROBE = [0.5, 0.5, 0.99, 0.5, 0.0]  # US, China, inertia (not kept), compliance, diversification


def _uniforms(cal, scen, u_line, t, inertia, cell, position, diversification):
    """Uniforms (5 + F, 1) that land on the given options in round ``t``.

    Each firm's effort is its most likely; ``cell`` is a spec (``"mode"``, ``"mode+2"``, ...)
    of the compliance cell and ``position`` where in it compliance should land:
    ``(cell + position) / 21``. Returns the uniforms and the cell index.
    """
    n_firms = len(cal.firm_names)
    probe = hand_round(cal, scen, PROBE + [0.5] * n_firms, u_line, t)
    u_firms = [bin_middle(pe, int(np.argmax(pe))) for pe in probe.p_e]
    probe = hand_round(cal, scen, PROBE + u_firms, u_line, t)
    if inertia:
        u_inertia, u_c, index = 0.1, 0.5, None  # inertia is 0.3 in the article calibration
    else:
        mode = int(np.argmax(probe.p_c))
        index = mode if cell == "mode" else mode + int(cell[4:])
        u_inertia, u_c = 0.9, sum(probe.p_c[:index]) + position * probe.p_c[index]
    u_x = bin_middle(probe.p_x, diversification)
    return np.array([0.5, 0.5, u_inertia, u_c, u_x, *u_firms])[:, None], index


# u_line 0.1 draws line 0.5 (prior mass ~0.33 there), 0.8 draws 0.6, 0.97 draws 0.7.
ROUND_CASES = [
    # inertia keeps 0.5: no adjustment, no excess over any line the prior allows
    ("baseline", 0, 0.1, True, None, None, 0),
    # the most likely cell, a third of the way in; diversify at 0.25
    ("baseline", 0, 0.1, False, "mode", 1 / 3, 1),
    # a cell two above the mode (beyond China's line 0.5): China retaliates
    ("baseline", 0, 0.1, False, "mode+2", 0.75, 0),
    ("baseline", 0, 0.8, False, "mode+3", 0.5, 0),
    # a cell below the mode: short of the US demand
    ("baseline", 0, 0.97, False, "mode-2", 0.25, 0),
    ("fiscal_stress", 0, 0.8, False, "mode+1", 0.6, 1),
    # round 8 of the escalation (ramp 5/12): Toyota lobbies at full effort
    ("us_escalation", 8, 0.1, False, "mode", 0.2, 0),
    ("us_escalation", 8, 0.8, False, "mode-1", 0.9, 1),
    # the embargo's first round: restriction 0.5 unconditionally, announced line 0.25
    ("rare_earth_embargo", 8, 0.1, False, "mode", 0.5, 0),
    ("rare_earth_embargo", 8, 0.8, False, "mode+2", 0.1, 1),
]


@pytest.mark.parametrize(
    "scenario_name, t, u_line, inertia, cell, position, diversification", ROUND_CASES
)
def test_one_full_round_by_hand(
    cal, scenario_name, t, u_line, inertia, cell, position, diversification
):
    """Play round ``t`` from the initial state: lobbying, the compliance cell and the position
    within it, diversification, and every payoff at the compliance the round chose."""
    scen = load_scenario(scenario_name)
    p = build_params(cal, scen, 16, 1)
    u, index = _uniforms(cal, scen, u_line, t, inertia, cell, position, diversification)
    h = hand_round(cal, scen, u[:, 0], u_line, t)
    # the chosen options' bins are wide enough that ulp-level differences cannot move the draw
    assert inertia or h.p_c[index] > 1e-6, h.p_c
    assert h.p_x[diversification] > 1e-6, h.p_x
    for pe, e in zip(h.p_e, h.effort, strict=True):
        assert pe[list(EFFORT_MENU).index(e)] > 1e-6
    state0 = initial_round_state(p, np.array([[u_line]]))
    _, played = play_round(state0, t, u, np.zeros(1), p)
    out, ch = played.outcome, played.choice
    assert close(played.cn.red_line, h.cn[0]) and close(played.cn.coercion, h.cn[2])
    assert close(played.us.demand, h.us[0]) and close(played.us.tariff_slope, h.us[2])
    # lobbying and the choice of compliance: the cell and the position within it by hand
    np.testing.assert_array_equal(played.effort[:, 0], h.effort)
    c = float(ch.compliance[0])
    if inertia:
        assert c == 0.5 and bool(ch.kept[0])
    else:
        assert h.compliance == pytest.approx((index + position) / 21, rel=1e-9)
        assert c == pytest.approx(h.compliance, rel=1e-10)
        assert math.floor(c * 21) == index and not bool(ch.kept[0])
    assert close(ch.diversification, h.diversification)
    # every payoff by hand at the compliance the round chose
    o = hand_outcome(cal, h, c)
    for got, want in zip((out.tariff, out.restriction, out.access), o.instruments, strict=True):
        assert close(got, want)
    for name, want in o.terms.items():
        assert close(getattr(out.welfare_terms, name), want), name
    assert close(out.welfare, o.welfare)
    assert close(out.objective, o.objective)
    np.testing.assert_allclose(out.firm_profit[:, 0], o.firm_profit, rtol=1e-12)
    assert close(out.us_payoff, o.us_payoff)
    assert close(out.china_payoff, o.china_payoff)
    rec = played.record
    assert close(rec["jp_welfare_bn_q"], o.welfare) and close(rec["jp_compliance"], c)
    want_r = hand_expected_restriction(h.k, o.coercive, h.cn[2], c, o.line_belief)
    assert close(rec["expected_restriction"], want_r, {"rel": 1e-9, "abs": 1e-12})


def test_the_round_cases_cover_lobbying_retaliation_and_shortfall(cal):
    """The cases above are not all alike: someone lobbies, China retaliates, Japan falls short."""
    seen = set()
    for scenario_name, t, u_line, inertia, cell, position, div in ROUND_CASES:
        scen = load_scenario(scenario_name)
        u, _ = _uniforms(cal, scen, u_line, t, inertia, cell, position, div)
        h = hand_round(cal, scen, u[:, 0], u_line, t)
        tau, r, _ = hand_outcome(cal, h, h.compliance).instruments
        seen |= {"lobbying"} if max(h.effort) > 0 else set()
        seen |= {"retaliation"} if r > h.cn[1] else set()
        seen |= {"shortfall"} if h.compliance < h.us[0] else set()
        seen |= {"diversification"} if h.diversification > 0 else set()
        seen |= {"embargo"} if h.known else set()
    assert seen == {"lobbying", "retaliation", "shortfall", "diversification", "embargo"}


@pytest.mark.parametrize(
    "scenario_name, t, u_line, cell",
    [
        ("baseline", 0, 0.1, "mode+2"),
        ("baseline", 0, 0.8, "mode-1"),
        ("us_escalation", 8, 0.8, "mode"),
        ("rare_earth_embargo", 8, 0.1, "mode"),
    ],
)
def test_one_full_round_moves_the_world_by_hand(cal, scenario_name, t, u_line, cell):
    scen = load_scenario(scenario_name)
    p = build_params(cal, scen, 16, 1)
    u, _ = _uniforms(cal, scen, u_line, t, False, cell, 0.4, 1)
    h = hand_round(cal, scen, u[:, 0], u_line, t)
    state, played = play_round(initial_round_state(p, np.array([[u_line]])), t, u, np.zeros(1), p)
    w = state.world
    o = hand_outcome(cal, h, float(played.choice.compliance[0]))
    assert close(w.trust_us, o.trust[0]) and close(w.trust_cn, o.trust[1])
    for name, want in o.parts.items():
        who, side = name.split("_")
        assert close(getattr(w, f"{who}_part_{side}"), want), name
    np.testing.assert_allclose(w.line_belief[:, 0], o.line_belief, rtol=1e-9, atol=1e-300)
    assert close(w.coercive, o.coercive)
    np.testing.assert_allclose(w.china_share[:, 0], o.shares, rtol=1e-12)
    assert w.dependence[0] == cal.value("rare_earth_dependence")  # nothing has arrived yet
    assert w.pipeline[0].tolist() == [h.diversification, 0.0, 0.0, 0.0]
    assert close(w.recent_spend[0, 0], cal.value("diversification_spend") * h.diversification)
    np.testing.assert_array_equal(w.effort[:, 0], h.effort)
    assert close(w.last_embargo, h.cn[1])


def test_round_zero_numbers_at_differentiated_execution(cal, baseline):
    # The inertia case in figures: c = 0.5, d = 0.6, tau1 = 0.05 x (1 + 0.5 x 0.2) = 0.055,
    # shortfall 0.1/0.6, tau = 0.015 + 0.055/6; no excess over the red line: r = 0, a = 1.
    n_firms = len(cal.firm_names)
    h = hand_round(cal, baseline, [0.5, 0.5, 0.1, 0.5, 0.0] + [0.5] * n_firms, 0.1, 0)
    o = hand_outcome(cal, h, h.compliance)
    z = math.exp(-(0.03**2) / 2)
    tau = 0.015 + 0.055 / 6
    assert h.compliance == 0.5 and h.cn[:3] == (0.5, 0.0, 0.3 * 1.25)
    assert o.instruments == pytest.approx((tau, 0.0, 1.0), rel=1e-14)
    assert o.terms["gains_cn"] == pytest.approx(0.15 * z * (50.25 * 0.95 + 42.25), rel=1e-14)
    assert o.terms["gains_us"] == pytest.approx(0.15 * z * (37 * (1 - 2 * tau) + 20), rel=1e-14)
    assert o.terms["security_cost"] == pytest.approx(12.5 / 6, rel=1e-14)
    assert o.terms["adjustment_cost"] == 0.0 and o.terms["shortage_cost"] == 0.0
    # expected restriction at the status quo: episodes only (0.5 x 0.05 + 0.5 x 0.005) x 2 x 0.5
    assert h.expected_restriction == pytest.approx(0.0275, rel=1e-14)
    # V(x) = F x (30 x 0.0275 x 0.05 x 8 - 1) x: negative, so 0 is the most likely level
    assert h.p_x[0] == max(h.p_x)


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


def test_diversification_value_rises_with_expected_restriction_and_room(cal, p):
    levels = DIVERSIFICATION_MENU[:, None]
    low = payoffs.diversification_value(levels, np.array([0.5]), np.array([0.05]), p)
    high = payoffs.diversification_value(levels, np.array([0.5]), np.array([0.5]), p)
    tight = payoffs.diversification_value(levels, np.array([0.02]), np.array([0.5]), p)
    assert (high[1:] > low[1:]).all()
    # room 0.02 binds from level 0.5 (rho x 0.5 = 0.025) on
    assert high[1] == tight[1] and (high[2:] > tight[2:]).all()
    assert (low[0] == 0.0) and (high[0] == 0.0)  # doing nothing is worth nothing
