"""The economics by hand: payoffs, decision rules and world dynamics (model v2, part 2).

Every expected value here is worked out in plain Python arithmetic on the calibration's raw
(annual) values, never by calling the function under test, from the module docstrings (the
spec): instruments and payoffs in :mod:`sim.core.payoffs` (a constant-elasticity US volume,
deal relief on the punitive tariff, coercive and punitive embargoes, welfare with outlays at
the marginal cost of public funds, firms' profits by channel through margins), derived
parameters in :mod:`sim.core.params`, Japan's joint (deal, compliance) choice, firms'
lobbying with the Grossman-Helpman weight, diversification and strategic states in
:mod:`sim.core.policies`, the contextual-utility logit and continuous compliance in
:mod:`sim.core.choice`, beliefs in :mod:`sim.core.beliefs`, and the world's update (trust,
relation parts, beliefs, reputation) in :mod:`sim.core.dynamics`. The hand calculations live
in the ``hand_*`` helpers below so they are easy to update when the model is revised.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import pytest

from sim.catalog import load_calibration, load_scenario
from sim.core import beliefs, choice, dynamics, payoffs, policies
from sim.core.draws import U_CN, U_COMPLIANCE, U_DIVERSIFICATION, U_FIRMS, U_INERTIA, U_US
from sim.core.params import DEAL_MENU, DIVERSIFICATION_MENU, EFFORT_MENU, STATE_MENU, build_params
from sim.core.payoffs import ChinaStance, Instruments, UsStance
from sim.core.round import initial_round_state, play_round

Q = 0.25  # annual -> quarterly money (ODD section 2)
TIGHT = {"rel": 1e-12, "abs": 1e-12}  # hand arithmetic vs. the code, a few ulps apart
LINES = [i / 20 for i in range(21)]  # the red lines Japan considers (sim.core.beliefs)
CELLS = [(j + 0.5) / 21 for j in range(21)]  # centres of the 21 compliance cells
DEALS = [0.0, 0.5, 1.0]  # Japan's deal levels (sim.core.params.DEAL_MENU)
SEVERITIES = [0.0, 0.5, 1.0, 1.5, 2.0]  # a strategic state's multipliers (STATE_MENU)
NAN = float("nan")


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


# --- stances: plain tuples for the hand calculations, arrays for the code ---------------------
class Us(NamedTuple):
    demand: float
    fixed: float  # unconditional tariff
    slope: float  # extra tariff at a full shortfall
    relief: float = 0.4  # share of the punitive tariff a full deal removes


class Cn(NamedTuple):
    line: float  # the red line (China's true one, or a punitive embargo's announced one)
    fixed: float  # unconditional restriction (a punitive embargo)
    coercion: float
    access: float = 1.0
    embargo: float = 0.0  # a coercive embargo's restriction
    demand: float = NAN  # ... lifted at compliance at or below this
    lifts: bool = True  # ... if China keeps its word
    known: bool = False  # the line is announced


def us_arrays(us: Us) -> UsStance:
    return UsStance(*(np.array([float(x)]) for x in us))


def cn_arrays(cn: Cn) -> ChinaStance:
    return ChinaStance(
        red_line=np.array([cn.line]),
        restriction_fixed=np.array([cn.fixed]),
        embargo=np.array([cn.embargo]),
        embargo_line=np.array([cn.demand]),
        embargo_lifts=np.array([cn.lifts]),
        coercion=np.array([cn.coercion]),
        access_fixed=np.array([cn.access]),
        line_known=np.array([cn.known]),
    )


def us_tuple(us: UsStance) -> Us:
    return Us(*(float(np.asarray(x).reshape(-1)[0]) for x in us))


def cn_tuple(cn: ChinaStance) -> Cn:
    def f(x):
        return np.asarray(x).reshape(-1)[0]

    return Cn(
        line=float(f(cn.red_line)),
        fixed=float(f(cn.restriction_fixed)),
        coercion=float(f(cn.coercion)),
        access=float(f(cn.access_fixed)),
        embargo=float(f(cn.embargo)),
        demand=float(f(cn.embargo_line)),
        lifts=bool(f(cn.embargo_lifts)),
        known=bool(f(cn.line_known)),
    )


# --- hand calculations ------------------------------------------------------------------------
def hand_constants(cal, fiscal_stress=0.0):
    """Derived parameters (params docstrings, ODD 7.1) from the calibration's raw values."""
    v = cal.value
    debt_ratio = (
        v("government_debt") / v("gdp_nominal") * (1 + v("stress_debt_increase") * fiscal_stress)
    )
    growth = v("gdp_growth") - v("stress_growth_drop") * fiscal_stress
    firms = [
        SimpleNamespace(name=f, **{k: cal.firm_value(f, k) for k in cal.firms[f]})
        for f in cal.firm_names
    ]
    return SimpleNamespace(
        X=(v("trade_cn") + v("trade_balance_cn")) / 2 * Q,  # exports to China
        M=(v("trade_cn") - v("trade_balance_cn")) / 2 * Q,  # imports from China
        exports_us=v("exports_us") * Q,
        imports_us=(v("trade_us") - v("exports_us")) * Q,
        m=v("component_dependence") * v("component_spillover"),
        rho=v("diversification_rate"),  # per quarter at the highest spend (ODD 7.1)
        omega=v("relocation_rate") / (1 + v("investment_cn") / v("trade_cn")),  # annual trade
        # marginal cost of public funds: 1 + base + debt slope x debt ratio + growth slope x
        # growth shortfall
        mcpf=1
        + v("mcpf_base")
        + v("mcpf_debt") * debt_ratio
        + v("mcpf_growth") * max(0.0, v("growth_reference") - growth),
        adjust=v("adjustment_cost") * (v("trade_cn") + v("trade_us")) * Q,
        g=v("gains_from_trade"),
        incidence=v("tariff_incidence"),
        elasticity=v("us_import_elasticity"),
        chip=v("chip_export_share"),
        alliance=v("alliance_value") * Q,
        disruption=v("input_disruption_cost") * Q,
        access_loss=v("access_loss") * Q,
        div_spend=v("diversification_spend"),  # already $bn per quarter
        alignment=v("us_alignment_value") * Q,
        tech_loss=v("cn_tech_loss") * Q,
        access_cut=v("access_cut"),
        deal_cost=v("deal_cost_share") * v("deal_size") * Q,
        deal_value=v("deal_value_share") * v("deal_size") * Q,
        relief=v("deal_relief"),
        support=v("firm_support_share"),
        a=v("welfare_weight"),
        firms=firms,
        v=v,
    )


def hand_shortfall(c, d):
    return max(0.0, d - c) / max(d, 0.25)


def hand_excess(c, red_line):
    return max(0.0, c - red_line) / max(1 - red_line, 0.25)


def hand_tariff(c, g, us: Us):
    """tau = min(1, tau0 + tau1 x shortfall x (1 - relief x deal))."""
    return min(1.0, us.fixed + us.slope * hand_shortfall(c, us.demand) * (1 - us.relief * g))


def hand_embargo_bites(c, cn: Cn):
    """A coercive embargo bites unless Japan conceded (c <= its demand) and China lifts."""
    conceded = c <= cn.demand + 1e-12  # False against NaN (no embargo)
    return 0.0 if (conceded and cn.lifts) else 1.0


def hand_instruments(k, c, g, us: Us, cn: Cn):
    """(tau, r, a) at compliance c and deal level g."""
    eps = hand_excess(c, cn.line)
    r = min(1.0, cn.fixed + cn.embargo * hand_embargo_bites(c, cn) + cn.coercion * eps)
    return hand_tariff(c, g, us), r, max(0.0, cn.access - k.access_cut * cn.coercion * eps)


def hand_expected_instruments(k, c, g, us: Us, cn: Cn, belief, reputation):
    """As Japan expects them: the excess over the announced line, else averaged over its
    belief; an embargo bites if Japan defies its demand, else with 1 - reputation."""
    if cn.known:
        eps = hand_excess(c, cn.line)
    else:
        eps = sum(q * hand_excess(c, line) for q, line in zip(belief, LINES, strict=True))
    defies = c > cn.demand + 1e-12
    embargo = cn.embargo * (1.0 if defies else 1.0 - reputation)
    r = min(1.0, cn.fixed + embargo + cn.coercion * eps)
    return hand_tariff(c, g, us), r, max(0.0, cn.access - k.access_cut * cn.coercion * eps)


def hand_volume(k, tau):
    """US imports from Japan relative to no tariff: (1 + tau) ** -elasticity."""
    return (1 + tau) ** -k.elasticity


def hand_welfare_terms(k, c, c_prev, x, g, tau, r, a, D, d, z, support):
    """Japan's welfare components ($bn per quarter, costs and outlays positive)."""
    vol = hand_volume(k, tau)
    return {
        "gains_cn": k.g * z * (k.X * a * (1 - k.chip * c) + k.M),
        "gains_us": k.g * z * (k.exports_us * vol + k.imports_us),
        "tariff_cost": k.incidence * tau * k.exports_us * vol * z,
        "shortage_cost": k.disruption * r * (D + k.m),
        "access_cost": k.access_loss * (1 - a),
        "adjustment_cost": k.adjust * abs(c - c_prev),
        "security_outlay": k.alliance * hand_shortfall(c, d),
        "diversification_outlay": k.div_spend * x,
        "deal_outlay": k.deal_cost * g,
        "support_outlay": support,
    }


def hand_welfare(k, t):
    """Gains - losses - mcpf x (security + diversification + deal) - (mcpf - 1) x support."""
    losses = t["tariff_cost"] + t["shortage_cost"] + t["access_cost"] + t["adjustment_cost"]
    outlays = t["security_outlay"] + t["diversification_outlay"] + t["deal_outlay"]
    return (
        t["gains_cn"]
        + t["gains_us"]
        - losses
        - k.mcpf * outlays
        - (k.mcpf - 1) * t["support_outlay"]
    )


def hand_firm(k, firm, s, c, tau, r, a, D, z):
    """One firm's channels, profit and loss ($bn per quarter), firm's China share ``s``.

    China profits split into local production (``s x local share``, access only) and exports
    from Japan (access and export controls); exports to the US lose ``incidence x tau / margin``
    of their profit per unit and volume falls to (1 + tau)^-elasticity; the shortage hits
    Japan-based production only. The loss (what support compensates) is what the tariff and
    the access cut take against none.
    """
    base = firm.profit * Q * z
    local, export = s * firm.china_local_share, s * (1 - firm.china_local_share)
    controlled = 1 - firm.export_control_exposure * c
    per_unit = max(0.0, 1 - k.incidence * tau / firm.margin)
    vol = hand_volume(k, tau)
    ch = {
        "china_local": base * local * a,
        "china_exports": base * export * a * controlled,
        "us_exports": base * firm.us_tariff_exposure * vol * per_unit,
        "rest": base * (1 - s - firm.us_tariff_exposure),
        "shortage": base * firm.rare_earth_intensity * (1 - local) * r * (D + k.m),
    }
    profit = ch["china_local"] + ch["china_exports"] + ch["us_exports"] + ch["rest"]
    loss = base * (
        (local + export * controlled) * (1 - a) + firm.us_tariff_exposure * (1 - vol * per_unit)
    )
    return SimpleNamespace(channels=ch, profit=profit - ch["shortage"], loss=loss)


def hand_us_payoff(k, c, tau, g, z):
    """Alignment and the deal, minus the tariff US buyers pay and the trade lost."""
    vol = hand_volume(k, tau)
    return (
        k.alignment * c
        + k.deal_value * g
        - (1 - k.incidence) * tau * k.exports_us * vol * z
        - k.g * z * k.exports_us * (1 - vol)
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


def hand_draw(probs, u):
    """Inverse CDF: the option and where ``u`` falls inside its share, 0-1."""
    target = u * sum(probs)
    below = 0.0
    for i, q in enumerate(probs[:-1]):
        if target <= below + q:
            return i, (target - below) / q
        below += q
    return len(probs) - 1, (target - below) / probs[-1]


def hand_prior(cal):
    """Japan's prior over China's line: a normal around china_red_line, cut below 0.5."""
    mean, sd = cal.value("china_red_line"), cal.value("china_red_line_sd")
    w = [math.exp(-0.5 * ((x - mean) / sd) ** 2) if x >= 0.5 else 0.0 for x in LINES]
    return [x / sum(w) for x in w]


def hand_diversification_value(k, x, room, b):
    """V(x) = disruption x b x min(rho x, room) x horizon - mcpf x spend x x."""
    reduction = min(k.rho * x, room)
    return k.disruption * b * reduction * k.v("planning_horizon") - k.mcpf * k.div_spend * x


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


def hand_reputation(k, rep, c, cn: Cn):
    """After a round of an embargo in which Japan conceded (c at or below a coercive
    embargo's demand, or a punitive one's announced line), the belief that China lifts moves
    reputation_rate of the way to 1 if China lifted, to 0 if the restriction stayed."""
    coercive = cn.embargo > 0
    punitive = cn.fixed > 0 and cn.known
    if not (coercive or punitive):
        return rep
    demand = cn.demand if coercive else cn.line
    if not c <= demand + 1e-12:
        return rep
    lifted = 1.0 if (coercive and cn.lifts and not punitive) else 0.0
    return rep + k.v("reputation_rate") * (lifted - rep)


def bin_middle(probs, i):
    """A uniform in the middle of option i's inverse-CDF bin."""
    return sum(probs[:i]) + probs[i] / 2


# --- one full round by hand: the helpers -----------------------------------------------------------
def _temps(cal):
    v = cal.value
    return {
        "compliance": v("compliance_temperature"),
        "lobbying": v("lobbying_temperature"),
        "diversification": v("diversification_temperature"),
        "us": v("us_temperature"),
        "china": v("china_temperature"),
    }


def hand_weights(k, strength, effort):
    """Grossman-Helpman: a firm's profit counts with efficiency x strength x effort / a."""
    return [
        f.lobbying_efficiency * st * e / k.a
        for f, st, e in zip(k.firms, strength, effort, strict=True)
    ]


def hand_menu(k, st, us: Us, cn: Cn, z):
    """Japan's (deal, compliance cell) options, deal-major, as Japan and its firms expect
    them: welfare (no diversification, support to firms at mcpf - 1) and each firm's profit
    with its support."""
    out = []
    for g in DEALS:
        for c in CELLS:
            tau, r, a = hand_expected_instruments(k, c, g, us, cn, st.belief, st.reputation)
            firms = [
                hand_firm(k, f, s, c, tau, r, a, st.D, z)
                for f, s in zip(k.firms, st.shares, strict=True)
            ]
            support = [k.support * f.loss for f in firms]
            terms = hand_welfare_terms(
                k, c, st.c_prev, 0.0, g, tau, r, a, st.D, us.demand, z, sum(support)
            )
            out.append(
                SimpleNamespace(
                    g=g,
                    c=c,
                    welfare=hand_welfare(k, terms),
                    profits=[f.profit + s for f, s in zip(firms, support, strict=True)],
                )
            )
    return out


def hand_objective(menu, weights):
    return [o.welfare + sum(w * x for w, x in zip(weights, o.profits, strict=True)) for o in menu]


def hand_lobbying(k, welfare, rows, effort_last, strength, temps):
    """Each firm's effort probabilities (policies.lobbying_choice docstring).

    Gain of effort e: (1 - inertia) (e w_full - w_last) Var_P(pi_f) / s, with P the
    government's logit at last round's weights and s its stakes x temperature;
    value = gain - lobbying_cost x profit x e; a logit on its own stakes.
    """
    v = k.v
    w_last = hand_weights(k, strength, effort_last)
    base = [
        wj + sum(w * row[j] for w, row in zip(w_last, rows, strict=True))
        for j, wj in enumerate(welfare)
    ]
    prob = hand_contextual(base, temps["compliance"])
    scale = (max(base) - min(base)) * temps["compliance"]
    w_full = hand_weights(k, strength, [1.0] * len(k.firms))
    out = []
    for f, wl, wf, row in zip(k.firms, w_last, w_full, rows, strict=True):
        mean = sum(pj * x for pj, x in zip(prob, row, strict=True))
        var = sum(pj * (x - mean) ** 2 for pj, x in zip(prob, row, strict=True))
        values = [
            (1 - v("inertia")) * (e * wf - wl) * var / scale - v("lobbying_cost") * f.profit * Q * e
            for e in EFFORT_MENU
        ]
        out.append(hand_contextual(values, temps["lobbying"]))
    return out


def hand_schedules(k, scen, t):
    """The scenario's levels in round t: an escalation ramps the US levels by
    clip((t - start + 1) / ramp_rounds, 0, 1); an embargo bites in its window."""
    tariff, pressure = scen.us_tariff_slope, scen.us_security_pressure
    if scen.escalation is not None:
        e = scen.escalation
        ramp = min(1.0, max(0.0, (t - e.start_round + 1) / e.ramp_rounds))
        tariff += ramp * (e.us_tariff_slope - tariff)
        pressure += ramp * (e.us_security_pressure - pressure)
    b = scen.embargo
    window = b is not None and b.start_round <= t < b.start_round + b.rounds
    kind = b.kind if window else None
    return SimpleNamespace(tariff=tariff, pressure=pressure, embargo=kind, emb=b)


def hand_reactive_us(k, scen, t, trust_us):
    s = hand_schedules(k, scen, t)
    sev = k.v("trust_severity")
    slope = s.tariff * (1 + sev * (1 - trust_us))
    return Us(s.pressure, k.v("us_base_tariff"), slope, k.relief)


def hand_reactive_cn(k, scen, t, trust_cn, true_line):
    """Retaliation above its line, harsher as trust falls; a coercive embargo withholds its
    restriction until Japan concedes, a punitive one unconditionally (announcing its line)."""
    s = hand_schedules(k, scen, t)
    kappa = scen.cn_coercion * (1 + k.v("trust_severity") * (1 - trust_cn))
    if s.embargo == "punitive":
        return Cn(s.emb.red_line, s.emb.restriction, kappa, known=True)
    if s.embargo == "coercive":
        return Cn(true_line, 0.0, kappa, embargo=s.emb.restriction, demand=s.emb.red_line)
    return Cn(true_line, 0.0, kappa)


def hand_strategic(k, st, z, temps, options, payoff, temperature):
    """A leader's logit over its options on its expected payoff under Japan's quantal
    response (the government's logit at last round's lobbying weights)."""
    values = []
    for us, cn in options:
        menu = hand_menu(k, st, us, cn, z)
        prob = hand_contextual(hand_objective(menu, st.w_last), temps["compliance"])
        values.append(sum(q * payoff(o, us, cn) for q, o in zip(prob, menu, strict=True)))
    return hand_contextual(values, temperature)


def hand_round(cal, scen, u, u_line, t=0, normal=0.0):
    """Round ``t`` of one world played from the initial state; ``u`` (5 + F values) as in
    :mod:`sim.core.draws`, ``u_line`` draws China's true line from the prior.

    No per-firm lobbying multipliers (true of every named scenario). A strategic US picks a
    multiplier of its reactive tariff slope anticipating Japan against China's stance of the
    round before (round 0's, from the initial state); a strategic China a multiplier of its
    coercion against the US stance just chosen.
    """
    k = hand_constants(cal, scen.fiscal_stress)
    v = k.v
    temps = _temps(cal)
    sd = v("trade_shock_sd")
    z = math.exp(sd * normal - sd * sd / 2)
    prior = hand_prior(cal)
    st = SimpleNamespace(
        c_prev=0.5,
        D=v("rare_earth_dependence"),
        shares=[f.china_profit_share for f in k.firms],
        belief=prior,
        reputation=v("embargo_reputation"),
        w_last=[0.0] * len(k.firms),  # nobody lobbied before round 0
    )
    t_us, t_cn, q = v("trust_us_initial"), v("trust_cn_initial"), v("coercive_prior")
    strength = [scen.lobbying_strength] * len(k.firms)
    true_line = LINES[hand_draw(prior, u_line)[0]]
    # step 1: the US
    us, p_us, us_pick = hand_reactive_us(k, scen, t, t_us), None, None
    if scen.us_policy == "strategic":
        last_cn = hand_reactive_cn(k, scen, 0, t_cn, true_line)
        options = [(us._replace(slope=s * us.slope), last_cn) for s in SEVERITIES]

        def us_value(o, us_s, _cn):
            return hand_us_payoff(k, o.c, hand_tariff(o.c, o.g, us_s), o.g, z)

        p_us = hand_strategic(k, st, z, temps, options, us_value, temps["us"])
        us_pick = hand_draw(p_us, u[U_US])[0]
        us = options[us_pick][0]
    # step 2: China
    cn, p_cn, cn_pick = hand_reactive_cn(k, scen, t, t_cn, true_line), None, None
    if scen.china_policy == "strategic":
        options = [(us, cn._replace(coercion=s * cn.coercion)) for s in SEVERITIES]

        def cn_value(o, us_s, cn_s):
            _, r, a = hand_instruments(k, o.c, o.g, us_s, cn_s)
            return hand_china_payoff(k, o.c, r, a, z)

        p_cn = hand_strategic(k, st, z, temps, options, cn_value, temps["china"])
        cn_pick = hand_draw(p_cn, u[U_CN])[0]
        cn = options[cn_pick][1]
    # step 3: firms lobby on the (deal, compliance) menu as Japan expects it
    menu = hand_menu(k, st, us, cn, z)
    welfare = [o.welfare for o in menu]
    rows = [[o.profits[i] for o in menu] for i in range(len(k.firms))]
    p_e = hand_lobbying(k, welfare, rows, [0.0] * len(k.firms), strength, temps)
    effort = [EFFORT_MENU[hand_draw(pe, uf)[0]] for pe, uf in zip(p_e, u[U_FIRMS:], strict=True)]
    weights = hand_weights(k, strength, effort)
    # step 4: one logit over the 63 (deal, cell) pairs, then a compliance within the cell
    p_c = hand_contextual(hand_objective(menu, weights), temps["compliance"])
    if u[U_INERTIA] < v("inertia"):
        c, g, pair = 0.5, 0.0, None  # last round's compliance and deal
    else:
        pair, position = hand_draw(p_c, u[U_COMPLIANCE])
        c, g = (pair % 21 + position) / 21, DEALS[pair // 21]
    room = st.D - v("dependence_floor")  # nothing under way yet
    b = hand_expected_restriction(k, q, cn.coercion, st.c_prev, prior)
    p_x = hand_contextual(
        [hand_diversification_value(k, x, room, b) for x in DIVERSIFICATION_MENU],
        temps["diversification"],
    )
    x = DIVERSIFICATION_MENU[hand_draw(p_x, u[U_DIVERSIFICATION])[0]]
    return SimpleNamespace(
        k=k,
        z=z,
        st=st,
        true_line=true_line,
        p_us=p_us,
        p_cn=p_cn,
        us_pick=us_pick,
        cn_pick=cn_pick,
        us=us,
        cn=cn,
        prior=prior,
        p_e=p_e,
        effort=effort,
        weights=weights,
        p_c=p_c,
        pair=pair,
        compliance=c,
        deal=g,
        expected_restriction=b,
        p_x=p_x,
        diversification=x,
    )


def hand_outcome(h, c, g):
    """Step 5 at compliance ``c`` and deal ``g``: instruments and payoffs, then the world's update."""
    k, v, z, us, cn, st = h.k, h.k.v, h.z, h.us, h.cn, h.st
    tau, r, a = hand_instruments(k, c, g, us, cn)
    firms = [
        hand_firm(k, f, s, c, tau, r, a, st.D, z) for f, s in zip(k.firms, st.shares, strict=True)
    ]
    support = [k.support * f.loss for f in firms]
    terms = hand_welfare_terms(
        k, c, st.c_prev, h.diversification, g, tau, r, a, st.D, us.demand, z, sum(support)
    )
    profits = [f.profit + s for f, s in zip(firms, support, strict=True)]
    welfare = hand_welfare(k, terms)
    rate = v("trust_rate")
    t_us0, t_cn0 = v("trust_us_initial"), v("trust_cn_initial")
    targets = hand_trust_targets(k, c, us.demand, tau, cn.line, r, a)
    parts = hand_signals(c, us.demand, tau, cn.line, r, a, v("us_base_tariff"))
    q = v("coercive_prior")
    hc, hr = v("hazard_coercive"), v("hazard_restrained")
    # Bayes on the retaliation above any embargo that bites; nothing learnt of an announced line
    retaliation = r - cn.fixed - cn.embargo * hand_embargo_bites(c, cn)
    line_belief = (
        h.prior
        if cn.known
        else hand_line_posterior(h.prior, c, retaliation, cn.coercion, v("belief_noise"))
    )
    # an episode (punitive or coercive embargo) starting multiplies the odds by hc / hr
    if cn.fixed + cn.embargo > 0:
        coercive = q * hc / (q * hc + (1 - q) * hr)
    else:
        coercive = q * (1 - hc) / (q * (1 - hc) + (1 - q) * (1 - hr))
    return SimpleNamespace(
        instruments=(tau, r, a),
        firms=firms,
        support=support,
        terms=terms,
        welfare=welfare,
        objective=welfare + sum(w * x for w, x in zip(h.weights, profits, strict=True)),
        firm_profit=[
            x - v("lobbying_cost") * f.profit * Q * e
            for x, f, e in zip(profits, k.firms, h.effort, strict=True)
        ],
        us_payoff=hand_us_payoff(k, c, tau, g, z),
        china_payoff=hand_china_payoff(k, c, r, a, z),
        trust=(t_us0 + rate * (targets[0] - t_us0), t_cn0 + rate * (targets[1] - t_cn0)),
        parts={name: rate * s for name, s in parts.items()},  # smoothed from 0
        line_belief=line_belief,
        coercive=coercive,
        reputation=hand_reputation(k, st.reputation, c, cn),
        shares=[s * (1 - k.omega * max(r, 1 - a)) for s in st.shares],
        expected_restriction=hand_expected_restriction(k, coercive, cn.coercion, c, line_belief),
    )


PUNITIVE = {"start_round": 8, "rounds": 6, "restriction": 0.5, "red_line": 0.25, "kind": "punitive"}
REACTIVE = {"us_policy": "reactive", "china_policy": "reactive"}


class Case(NamedTuple):
    """A round played from the initial state, and the options its uniforms land on.

    ``pair`` is ``(deal index or None, cell)``: ``None`` is the deal level of the most likely
    pair; ``cell`` an index, or ``"mode"``, ``"mode+2"``, ... relative to the most likely cell
    at that deal level; compliance lands at ``(cell + position) / 21``. ``us``/``cn`` pick a
    strategic state's severity (``None``: its most likely). ``cal`` replaces calibration values.
    """

    scenario: str
    t: int
    u_line: float  # 0.1 draws China's line 0.5 (prior mass ~0.33 there), 0.8 0.6, 0.97 0.7
    pair: tuple | None = (None, "mode")  # None: inertia keeps last round's choice
    position: float = 0.5
    diversification: int = 0
    us: int | None = None
    cn: int | None = None
    kw: dict | None = None  # scenario overrides
    cal: dict | None = None

    def calibration(self, cal):
        return cal.with_values(self.cal) if self.cal else cal

    def load(self):
        return load_scenario(self.scenario, **(self.kw or {}))


def _pair_index(p_c, spec):
    g, cell = spec
    if g is None:
        g = int(np.argmax(p_c)) // 21
    block = p_c[21 * g : 21 * (g + 1)]
    if isinstance(cell, str):
        j = int(np.argmax(block)) + (int(cell[4:]) if len(cell) > 4 else 0)
    else:
        j = cell
    assert 0 <= j < 21
    return 21 * g + j


def _uniforms(cal, case: Case):
    """Uniforms (5 + F,) that land on the case's options, one step at a time: each strategic
    state's pick, each firm's most likely effort, the (deal, cell) pair and the position in
    the cell, the diversification level."""
    scen = case.load()
    u = [0.5, 0.5, 0.9, 0.5, 0.5] + [0.5] * len(cal.firm_names)
    h = hand_round(cal, scen, u, case.u_line, case.t)
    if h.p_us is not None:
        pick = int(np.argmax(h.p_us)) if case.us is None else case.us
        u[U_US] = bin_middle(h.p_us, pick)
        h = hand_round(cal, scen, u, case.u_line, case.t)
    if h.p_cn is not None:
        pick = int(np.argmax(h.p_cn)) if case.cn is None else case.cn
        u[U_CN] = bin_middle(h.p_cn, pick)
        h = hand_round(cal, scen, u, case.u_line, case.t)
    for i, pe in enumerate(h.p_e):
        u[U_FIRMS + i] = bin_middle(pe, int(np.argmax(pe)))
    h = hand_round(cal, scen, u, case.u_line, case.t)
    if case.pair is None:
        u[U_INERTIA], index = 0.1, None  # inertia is 0.3 in the article calibration
    else:
        index = _pair_index(h.p_c, case.pair)
        u[U_COMPLIANCE] = sum(h.p_c[:index]) + case.position * h.p_c[index]
    u[U_DIVERSIFICATION] = bin_middle(h.p_x, case.diversification)
    return u, index


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


def test_sample_cell_and_sample_in_cells_by_hand():
    # 4 cells of width 1/4; u = 0.25 lands in cell 1 (CDF 0.125-0.375) at position
    # (0.25 - 0.125) / 0.25 = 0.5: compliance (1 + 0.5) / 4 = 0.375
    u = np.array([0.25, 0.0, 0.875, 0.9375])
    probs = np.repeat(PROBS[:, None], 4, axis=1)
    cell, position = choice.sample_cell(probs, u)
    # u = 0 -> cell 0 at 0; u = 0.875 is the top of cell 2; u = 0.9375 -> cell 3 at 0.5
    assert cell.tolist() == [1, 0, 2, 3]
    np.testing.assert_array_equal(position, [0.5, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(choice.sample_in_cells(probs, u), [0.375, 0.0, 0.75, 0.875])
    for j, uj in enumerate(u):
        assert hand_draw(list(PROBS), uj) == (cell[j], position[j])


# --- United States: shortfall, tariff and deal relief -------------------------------------------------
def test_tariff_rises_with_shortfall_and_is_capped():
    us = us_arrays(Us(0.6, 0.015, 0.5))
    c = np.array([0.0, 0.25, 0.5, 0.6, 0.75, 1.0])
    # shortfall = max(0, 0.6 - c) / 0.6
    np.testing.assert_allclose(
        payoffs.shortfall(c, 0.6), [1.0, 0.35 / 0.6, 0.1 / 0.6, 0, 0, 0], rtol=1e-14
    )
    tau = payoffs.realized_tariff(c, 0.0, us)
    # tau = 0.015 + 0.5 x shortfall; at or above the demand only the fixed part
    np.testing.assert_allclose(
        tau, [0.515, 0.015 + 0.5 * 0.35 / 0.6, 0.015 + 0.5 / 6, 0.015, 0.015, 0.015]
    )
    assert (np.diff(tau) <= 0).all()  # the tariff falls as compliance rises toward the demand
    # capped at 1: 0.3 + 2 x 1 = 2.3 -> 1; 0.3 + 2 x 0.35/0.6 = 1.4667 -> 1; 0.3 + 2/6 = 0.6333
    steep = payoffs.realized_tariff(c, 0.0, us_arrays(Us(0.6, 0.3, 2.0)))
    np.testing.assert_allclose(steep, [1.0, 1.0, 0.3 + 2 / 6, 0.3, 0.3, 0.3])


def test_a_deal_relieves_the_punitive_tariff_by_hand():
    # tau = tau0 + tau1 x shortfall x (1 - relief x deal), relief 0.4: at c = 0 (shortfall 1)
    # 0.515 without a deal, 0.015 + 0.5 x 0.8 = 0.415 at half, 0.015 + 0.5 x 0.6 = 0.315 at full
    us = us_arrays(Us(0.6, 0.015, 0.5, 0.4))
    c = np.array([0.0, 0.3, 0.6, 0.9])
    g = np.array(DEALS)[:, None]
    tau = payoffs.realized_tariff(c, g, us)
    assert tau.shape == (3, 4)
    for i, gi in enumerate(DEALS):
        for j, cj in enumerate(c):
            assert tau[i, j] == pytest.approx(hand_tariff(cj, gi, Us(0.6, 0.015, 0.5)), **TIGHT)
    np.testing.assert_allclose(tau[:, 0], [0.515, 0.415, 0.315], rtol=1e-14)
    # the deal buys nothing where Japan meets the demand: the fixed part stays
    np.testing.assert_array_equal(tau[:, 2:], 0.015)
    # the relief applies before the cap: 0.3 + 2 x (1 - 0.4) = 1.5 -> 1 even with a full deal
    steep = payoffs.realized_tariff(np.array([0.0]), 1.0, us_arrays(Us(0.6, 0.3, 2.0)))
    assert steep[0] == 1.0
    # no relief: the deal changes nothing
    flat = us_arrays(Us(0.6, 0.015, 0.5, 0.0))
    np.testing.assert_array_equal(payoffs.realized_tariff(c, g, flat)[2], tau[0])


def test_shortfall_denominator_is_floored_at_a_quarter():
    # demand 0.2: max(0.2, 0.25) = 0.25, so a zero compliance falls short by 0.2 / 0.25 = 0.8
    assert payoffs.shortfall(np.array(0.0), np.array(0.2)) == pytest.approx(0.8, rel=1e-15)
    assert payoffs.shortfall(np.array(0.1), np.array(0.2)) == pytest.approx(0.4, rel=1e-15)
    # demand 0: no shortfall (0 / 0.25)
    assert payoffs.shortfall(np.array(0.0), np.array(0.0)) == 0.0
    # demand 0.3 is above the floor: 0.3 / 0.3 = 1
    assert payoffs.shortfall(np.array(0.0), np.array(0.3)) == pytest.approx(1.0, rel=1e-15)
    # tariff 0.015 + 0.5 x 0.8 = 0.415
    tau = payoffs.realized_tariff(np.array([0.0]), 0.0, us_arrays(Us(0.2, 0.015, 0.5)))
    assert tau[0] == pytest.approx(0.415, rel=1e-14)


# --- China: excess, retaliation, embargoes, access ----------------------------------------------------
def test_china_excess_restriction_and_access_by_hand(p):
    cut = float(p.access_cut[0])  # article: 0.5
    c = np.array([0.0, 0.5, 0.75, 1.0])
    us = us_arrays(Us(0.6, 0.015, 0.05))
    # red line 0.5: excess = max(0, c - 0.5) / 0.5 = (0, 0, 0.5, 1)
    np.testing.assert_allclose(payoffs.excess(c, 0.5), [0, 0, 0.5, 1.0])
    # red line 0.9: denominator max(0.1, 0.25) = 0.25, excess at c = 1 is 0.1 / 0.25 = 0.4
    assert payoffs.excess(np.array(1.0), np.array(0.9)) == pytest.approx(0.4, rel=1e-14)
    cn = cn_arrays(Cn(0.5, 0.1, 0.6, 0.95))
    # r = min(1, 0.1 + 0.6 x excess) = (0.1, 0.1, 0.4, 0.7)
    np.testing.assert_allclose(payoffs.realized_restriction(c, cn), [0.1, 0.1, 0.4, 0.7])
    inst = payoffs.instruments(c, 0.0, us, cn, p)
    np.testing.assert_allclose(inst.restriction, [0.1, 0.1, 0.4, 0.7])
    # a = max(0, 0.95 - cut x 0.6 x excess) = 0.95 - 0.15 at c = 0.75, 0.95 - 0.3 at c = 1
    assert cut == 0.5
    np.testing.assert_allclose(inst.access, [0.95, 0.95, 0.95 - 0.15, 0.95 - 0.3])
    # harsh coercion: restriction capped at 1, access floored at 0
    harsh = payoffs.instruments(c, 0.0, us, cn_arrays(Cn(0.5, 0.0, 3.0)), p)
    np.testing.assert_allclose(harsh.restriction, [0, 0, 1.0, 1.0])  # 3 x 0.5 = 1.5 -> 1
    np.testing.assert_allclose(harsh.access, [1, 1, 0.25, 0.0])  # 1 - 0.5 x 3 x 1 = -0.5 -> 0


def test_a_coercive_and_a_punitive_embargo_by_hand(cal, p):
    """Coercive: 0.3 withheld unless compliance is at or below its demand 0.25 (and China
    keeps its word); punitive: 0.3 withheld whatever Japan does. Retaliation above the line
    (0.5, coercion 0.6) comes on top; access only follows the retaliation."""
    k = hand_constants(cal)
    us = Us(0.6, 0.015, 0.05)
    c = [0.0, 0.25, 0.25 + 1e-13, 0.25 + 1e-9, 0.4, 0.75, 1.0]
    coercive = Cn(0.5, 0.0, 0.6, 0.95, embargo=0.3, demand=0.25)
    reneges = coercive._replace(lifts=False)
    punitive = Cn(0.5, 0.3, 0.6, 0.95)
    cases = {
        # conceded (0.25 + 1e-13 within the 1e-12 slack) -> lifted; defied -> 0.3 + 0.6 x excess
        coercive: [0.0, 0.0, 0.0, 0.3, 0.3, 0.3 + 0.6 * 0.5, 0.3 + 0.6],
        reneges: [0.3, 0.3, 0.3, 0.3, 0.3, 0.6, 0.9],
        punitive: [0.3, 0.3, 0.3, 0.3, 0.3, 0.6, 0.9],
    }
    for cn, want in cases.items():
        got = payoffs.instruments(np.array(c), 0.0, us_arrays(us), cn_arrays(cn), p)
        np.testing.assert_allclose(got.restriction, want, rtol=1e-14, atol=1e-15)
        for j, cj in enumerate(c):
            assert close(got.restriction[j], hand_instruments(k, cj, 0.0, us, cn)[1])
            assert close(got.access[j], hand_instruments(k, cj, 0.0, us, cn)[2])
        # the embargo never touches access: 0.95 up to the line, 0.95 - 0.5 x 0.6 x excess beyond
        np.testing.assert_allclose(got.access, [0.95] * 5 + [0.8, 0.65], rtol=1e-14)
    bites = payoffs.embargo_applies(np.array(c), cn_arrays(coercive))
    np.testing.assert_array_equal(bites, [0, 0, 0, 1, 1, 1, 1])
    # both at once, 0.6 + 0.5, capped at 1
    both = cn_arrays(Cn(0.5, 0.6, 0.6, embargo=0.5, demand=0.25))
    assert payoffs.realized_restriction(np.array([0.5]), both)[0] == 1.0
    assert payoffs.realized_restriction(np.array([0.2]), both)[0] == pytest.approx(0.6)


def test_expected_instruments_average_the_excess_over_the_belief(cal, p):
    """Unknown line: restriction and access follow the expected excess under Japan's belief;
    an announced line: the excess over that line."""
    k = hand_constants(cal)
    belief = np.zeros((21, 1))
    belief[10, 0], belief[12, 0], belief[16, 0] = 0.5, 0.25, 0.25  # lines 0.5, 0.6, 0.8
    view = dynamics.initial_world(p, np.array([0.5])).view(p)._replace(line_belief=belief)
    c = np.array([[0.4], [0.7], [0.9], [1.0]])
    us = Us(0.6, 0.015, 0.2)
    cn = Cn(0.5, 0.1, 0.6, 0.95)
    rep = float(view.reputation[0])
    for g in DEALS:
        got = policies.expected_instruments(c, g, us_arrays(us), cn_arrays(cn), view, p)
        for j, cj in enumerate(c[:, 0]):
            # e.g. c = 0.9: 0.5 x 0.4/0.5 + 0.25 x 0.3/0.4 + 0.25 x 0.1/0.25 = 0.6875
            want = hand_expected_instruments(k, cj, g, us, cn, belief[:, 0], rep)
            assert close(got.tariff[j], want[0]) and close(got.restriction[j], want[1])
            assert close(got.access[j], want[2])
    want = hand_expected_instruments(k, 0.9, 0.0, us, cn, belief[:, 0], rep)
    assert want[1] == pytest.approx(0.1 + 0.6 * 0.6875, rel=1e-14)
    known = cn._replace(known=True)
    got = policies.expected_instruments(c, 0.0, us_arrays(us), cn_arrays(known), view, p)
    for j, cj in enumerate(c[:, 0]):
        assert close(got.restriction[j], hand_instruments(k, cj, 0.0, us, known)[1])


@pytest.mark.parametrize("reputation", [0.0, 0.3, 1.0])
def test_japan_expects_an_embargo_as_far_as_it_believes_china(cal, p, reputation):
    """An embargo bites if Japan defies its demand; if Japan concedes, it still bites with
    the probability 1 - reputation that China does not keep its word."""
    k = hand_constants(cal)
    view = dynamics.initial_world(p, np.array([0.5])).view(p)
    view = view._replace(reputation=np.array([reputation]))
    belief = list(view.line_belief[:, 0])
    us = Us(0.6, 0.015, 0.2)
    cn = Cn(0.5, 0.0, 0.375, embargo=0.5, demand=0.25)
    c = np.array([[0.1], [0.25], [0.3], [0.7]])
    got = policies.expected_instruments(c, 0.5, us_arrays(us), cn_arrays(cn), view, p)
    for j, cj in enumerate(c[:, 0]):
        want = hand_expected_instruments(k, cj, 0.5, us, cn, belief, reputation)
        assert close(got.restriction[j], want[1]) and close(got.tariff[j], want[0])
    # conceding: 0.5 x (1 - reputation); defying below every line the prior allows: 0.5
    assert got.restriction[0, 0] == pytest.approx(0.5 * (1 - reputation), abs=1e-15)
    assert got.restriction[2, 0] == 0.5
    # a punitive embargo is expected in full whatever Japan does
    punitive = cn_arrays(Cn(0.25, 0.5, 0.375, known=True))
    got = policies.expected_instruments(c, 0.0, us_arrays(us), punitive, view, p)
    assert got.restriction[0, 0] == 0.5 and got.restriction[1, 0] == 0.5


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
    assert close(p.elasticity, 2.5)  # us_import_elasticity
    assert k.rho == pytest.approx(0.05)
    # the compliance menu: centres of 21 equal cells of 0-1, (j + 0.5) / 21
    np.testing.assert_allclose(p.compliance_menu, CELLS, rtol=1e-15)
    # the red lines Japan considers: 0, 0.05, ..., 1
    np.testing.assert_allclose(beliefs.RED_LINES, LINES, rtol=0, atol=1e-15)
    # the budget is per four quarters, as is the sum it is compared with (no conversion)
    assert close(p.diversification_budget, cal.value("diversification_budget"))
    # Japan's deal levels and a strategic state's severities
    assert DEAL_MENU.tolist() == DEALS and STATE_MENU.tolist() == SEVERITIES


def test_deal_support_reputation_and_lobbying_parameters(cal, p):
    k = hand_constants(cal)
    # a full deal: 0.1 x $55bn a year = $1.375bn a quarter to Japan, and as much to the US
    assert k.deal_cost == pytest.approx(1.375, rel=1e-15) and close(p.deal_cost, k.deal_cost)
    assert k.deal_value == pytest.approx(1.375, rel=1e-15)
    assert close(p.deal_value_us, k.deal_value)
    assert close(p.deal_relief, 0.4) and close(p.firm_support_share, 0.2)
    assert close(p.reputation0, 0.5) and close(p.reputation_rate, 0.3)
    assert close(p.welfare_weight, 70.0)
    # firm profiles (F, N) in calibration order: margins and local shares of China profits
    for i, f in enumerate(k.firms):
        assert close(p.margin[i], f.margin) and close(p.china_local_share[i], f.china_local_share)
        assert close(p.firm_profit[i], f.profit * Q)
    assert [f.margin for f in k.firms] == [0.107, 0.1, 0.056]


def test_marginal_cost_of_public_funds_by_hand(cal):
    # stress 0: 1 + 0.2 + 0.05 x 300/609 + 5 x max(0, 0.02 - 0.012) = 1.2646...
    m0 = 1 + 0.2 + 0.05 * 300 / 609 + 5 * 0.008
    assert hand_constants(cal).mcpf == pytest.approx(m0, rel=1e-12)
    assert m0 == pytest.approx(1.2646305418719212, rel=1e-12)
    # stress 1: debt ratio x (1 + 0.5), growth 0.012 - 0.015 = -0.003 -> shortfall 0.023
    m1 = 1 + 0.2 + 0.05 * 300 / 609 * 1.5 + 5 * 0.023
    assert hand_constants(cal, fiscal_stress=1.0).mcpf == pytest.approx(m1, rel=1e-12)
    assert m1 == pytest.approx(1.3519458128078818, rel=1e-12)
    assert close(build_params(cal, load_scenario("baseline"), 4, 1).mcpf, m0)
    assert close(build_params(cal, load_scenario("fiscal_stress"), 4, 1).mcpf, m1)
    # stress per world: 2 doubles the debt ratio and takes growth to 0.012 - 0.03
    stress = np.array([0.0, 1.0, 2.0])
    many = build_params(cal, load_scenario("baseline"), 4, 3, {"fiscal_stress": stress})
    m2 = 1 + 0.2 + 0.05 * 300 / 609 * 2 + 5 * 0.038
    np.testing.assert_allclose(many.mcpf, [m0, m1, m2], rtol=1e-14)


# --- Japan's welfare: gains, losses, outlays at the cost of public funds -----------------------------
WELFARE_CASES = [
    # c, c_prev, x, deal, tau, r, a, D, d, z, support
    (0.4, 0.55, 0.5, 0.5, 0.2, 0.3, 0.7, 0.6, 0.6, 1.02, 0.4),
    (0.9, 0.5, 0.0, 1.0, 0.015, 0.0, 1.0, 0.3, 0.9, 0.97, 0.0),
    (0.0, 0.5, 1.0, 0.0, 1.0, 1.0, 0.0, 0.6, 0.2, 1.0, 2.5),  # tariff 100%: volume 2^-2.5
]


@pytest.mark.parametrize("stress", [0.0, 1.0])
@pytest.mark.parametrize("case", WELFARE_CASES)
def test_welfare_terms_and_welfare_by_hand(cal, case, stress):
    c, c_prev, x, g, tau, r, a, D, d, z, support = case
    k = hand_constants(cal, stress)
    p = build_params(cal, load_scenario("baseline", fiscal_stress=stress), 4, 1)
    inst = Instruments(np.array([tau]), np.array([r]), np.array([a]))
    terms = payoffs.japan_welfare_terms(
        np.array([c]),
        np.array([c_prev]),
        x,
        g,
        inst,
        np.array([D]),
        np.array([d]),
        np.array([z]),
        support,
        p,
    )
    want = hand_welfare_terms(k, c, c_prev, x, g, tau, r, a, D, d, z, support)
    assert set(terms._fields) == set(want)
    for name, value in want.items():
        assert close(getattr(terms, name), value), name
    assert close(payoffs.japan_welfare(terms, p), hand_welfare(k, want))


def test_welfare_numbers_by_hand(cal):
    # the first case in figures, stress 0 (mcpf 1.26463): volume 1.2^-2.5 = 0.76073
    k = hand_constants(cal)
    vol = 1.2**-2.5
    t = hand_welfare_terms(k, *WELFARE_CASES[0])
    assert t["gains_cn"] == pytest.approx(0.15 * 1.02 * (50.25 * 0.7 * 0.96 + 42.25), rel=1e-14)
    assert t["gains_us"] == pytest.approx(0.15 * 1.02 * (37 * vol + 20), rel=1e-14)
    assert t["tariff_cost"] == pytest.approx(0.5 * 0.2 * 37 * vol * 1.02, rel=1e-14)
    assert t["shortage_cost"] == pytest.approx(30 * 0.3 * 0.7, rel=1e-14)
    assert t["access_cost"] == pytest.approx(10 * 0.3, rel=1e-14)
    assert t["adjustment_cost"] == pytest.approx(2.99 * 0.15, rel=1e-14)
    assert t["security_outlay"] == pytest.approx(12.5 * 0.2 / 0.6, rel=1e-14)
    assert (t["diversification_outlay"], t["deal_outlay"]) == (0.5, 0.6875)
    m = k.mcpf
    gains = t["gains_cn"] + t["gains_us"]
    losses = t["tariff_cost"] + t["shortage_cost"] + t["access_cost"] + t["adjustment_cost"]
    outlays = 12.5 / 3 + 0.5 + 0.6875
    assert hand_welfare(k, t) == pytest.approx(gains - losses - m * outlays - (m - 1) * 0.4)


# --- firms: profits by channel, losses and support --------------------------------------------------
FIRM_CASES = [
    # c, tau, r, a, D, z
    (0.6, 0.2, 0.3, 0.7, 0.6, 1.0),  # Honda's price cut 0.5 x 0.2 / 0.056 > 1: no US profit
    (0.3, 0.05, 0.0, 1.0, 0.4, 0.98),
    (1.0, 0.1, 1.0, 0.0, 0.6, 1.03),
]


@pytest.mark.parametrize("case", FIRM_CASES)
def test_firm_channels_losses_and_support_by_hand(cal, p, case):
    c, tau, r, a, D, z = case
    k = hand_constants(cal)
    shares = np.array([[0.35], [0.2], [0.3]])  # not the calibrated ones (Sony 0.15)
    inst = Instruments(np.array([tau]), np.array([r]), np.array([a]))
    args = (np.array([c]), inst, np.array([D]), np.array([z]), shares, p)
    ch = payoffs.firm_channels(*args)
    profits = payoffs.firm_profits(ch)
    losses = payoffs.firm_losses(ch, np.array([c]), np.array([z]), shares, p)
    support = payoffs.support_paid(losses, p)
    china = payoffs.firm_china_side(
        np.array([c]), np.array([a]), np.array([r]), np.array([D]), np.array([z]), shares, p
    )
    us = payoffs.firm_us_side(np.array([tau]), np.array([z]), p)
    for i, f in enumerate(k.firms):
        h = hand_firm(k, f, float(shares[i, 0]), c, tau, r, a, D, z)
        for name, want in h.channels.items():
            assert close(getattr(ch, name)[i], want), (f.name, name)
        assert close(profits[i], h.profit) and close(losses[i], h.loss)
        assert close(support[i], 0.2 * h.loss)
        assert close(us.profit[i], h.channels["us_exports"])
        assert close(china.profit[i], h.profit - h.channels["us_exports"])
        assert close(china.loss[i] + us.loss[i], h.loss)
    if tau == 0.2:
        assert ch.us_exports[2, 0] == 0.0 and ch.us_exports[0, 0] > 0.0


def test_firm_numbers_by_hand(cal, p):
    # Sony at tau = 0.1: price cut 0.5 x 0.1 = 5% of revenue at a 10% margin halves the profit
    # per unit, volume 1.1^-2.5: 9 / 4 x 0.1 x 1.1^-2.5 x 0.5
    inst = Instruments(np.array([0.1]), np.array([0.0]), np.array([1.0]))
    ch = payoffs.firm_channels(
        np.array([0.5]), inst, np.array([0.6]), np.ones(1), p.china_share0, p
    )
    assert ch.us_exports[1, 0] == pytest.approx(2.25 * 0.1 * 1.1**-2.5 * 0.5, rel=1e-14)
    # Toyota's China profit: 8 x 0.35 = 2.8, 80% local (2.24) and 20% exported from Japan
    # (0.56), of which export controls take 0.05 x 0.5
    assert ch.china_local[0, 0] == pytest.approx(8 * 0.35 * 0.8, rel=1e-14)
    assert ch.china_exports[0, 0] == pytest.approx(8 * 0.35 * 0.2 * 0.975, rel=1e-14)
    assert ch.rest[0, 0] == pytest.approx(8 * 0.4, rel=1e-14)
    # a 50% restriction: Toyota's shortage hits its Japan-based production only,
    # 8 x 0.5 x (1 - 0.28) x 0.5 x (0.6 + 0.1)
    cut = Instruments(np.array([0.015]), np.array([0.5]), np.array([1.0]))
    ch = payoffs.firm_channels(np.array([0.5]), cut, np.array([0.6]), np.ones(1), p.china_share0, p)
    assert ch.shortage[0, 0] == pytest.approx(8 * 0.5 * 0.72 * 0.5 * 0.7, rel=1e-14)


# --- the states' payoffs ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "c, tau, g, z", [(0.5, 0.015, 0.0, 1.0), (0.9, 0.3, 1.0, 1.02), (0.2, 1.0, 0.5, 0.97)]
)
def test_us_payoff_by_hand(cal, p, c, tau, g, z):
    k = hand_constants(cal)
    got = payoffs.us_payoff(np.array([c]), np.array([tau]), g, np.array([z]), p)
    assert close(got, hand_us_payoff(k, c, tau, g, z))
    # 7.5 c + 1.375 g - 0.5 tau 37 v z - 0.15 z 37 (1 - v), v = (1 + tau)^-2.5
    v = (1 + tau) ** -2.5
    want = 7.5 * c + 1.375 * g - 0.5 * tau * 37 * v * z - 0.15 * z * 37 * (1 - v)
    assert close(got, want)


@pytest.mark.parametrize("c, r, a, z", [(0.5, 0.0, 1.0, 1.0), (0.9, 0.6, 0.7, 1.02)])
def test_china_payoff_by_hand(cal, p, c, r, a, z):
    k = hand_constants(cal)
    got = payoffs.china_payoff(np.array([c]), np.array([r]), np.array([a]), np.array([z]), p)
    assert close(got, hand_china_payoff(k, c, r, a, z))
    # 0.15 z (42.25 (1 - 0.1 r) + 50.25 a) - 7.5 c
    assert close(got, 0.15 * z * (42.25 * (1 - 0.1 * r) + 50.25 * a) - 7.5 * c)


# --- Japan's options as it expects them, and its joint (deal, compliance) choice ----------------
def _world(p, u_line=0.1):
    """The initial world; ``u_line`` 0.1 draws the lowest line the prior allows (0.5)."""
    return dynamics.initial_world(p, np.full(p.n_worlds, u_line))


def test_option_menu_and_objective_menu_by_hand(cal, p):
    """Welfare and each firm's profit with support at all 63 (deal, cell) pairs, as Japan
    expects them; the objective adds each firm's profit (with support) at its GH weight."""
    k = hand_constants(cal)
    shares = [0.3, 0.2, 0.35]
    view = (
        _world(p)
        .view(p)
        ._replace(
            compliance=np.array([0.6]),
            dependence=np.array([0.5]),
            reputation=np.array([0.4]),
            china_share=np.array(shares)[:, None],
        )
    )
    us = Us(0.7, 0.015, 0.2)
    cn = Cn(0.55, 0.0, 0.5, embargo=0.3, demand=0.3)
    z = 1.01
    menu = policies.option_menu(view, p, us_arrays(us), cn_arrays(cn), np.array([z]))
    assert menu.welfare.shape == (3, 21, 1) and menu.profits.shape == (3, 3, 21, 1)
    st = SimpleNamespace(
        c_prev=0.6, D=0.5, shares=shares, belief=list(view.line_belief[:, 0]), reputation=0.4
    )
    hand = hand_menu(k, st, us, cn, z)
    for i, o in enumerate(hand):
        g, j = divmod(i, 21)
        assert close(menu.welfare[g, j], o.welfare), (g, j)
        for f in range(3):
            assert close(menu.profits[f, g, j], o.profits[f]), (f, g, j)
    effort = [1.0, 0.5, 0.25]
    lobbied = view._replace(effort=np.array(effort)[:, None])
    got = policies.objective_menu(lobbied, p, us_arrays(us), cn_arrays(cn), np.array([z]))
    want = hand_objective(hand, hand_weights(k, [1.0] * 3, effort))
    np.testing.assert_allclose(got[:, :, 0].reshape(-1), want, rtol=1e-12)
    # the joint logit over the pairs, on the stakes of all 63
    prob = policies.joint_probabilities(got, p)
    np.testing.assert_allclose(
        prob[:, :, 0].reshape(-1), hand_contextual(want, cal.value("compliance_temperature")),
        rtol=1e-9, atol=1e-300,
    )  # fmt: skip


def _objective():
    """A synthetic objective (3 deals x 21 cells x 1 world): a peak at 0.4, a deal costs 2."""
    c = np.array(CELLS)
    return (-20 * (c[None, :] - 0.4) ** 2 - 2.0 * np.array(DEALS)[:, None])[:, :, None]


@pytest.mark.parametrize("pair, position", [(8, 0.3), (30, 0.9), (50, 0.05), (0, 0.5)])
def test_japan_decision_draws_a_pair_then_compliance_within_its_cell(cal, p, pair, position):
    objective = _objective()
    probs = hand_contextual(list(objective[:, :, 0].reshape(-1)), 0.05)
    assert probs[pair] > 1e-6
    u = sum(probs[:pair]) + position * probs[pair]
    view = _world(p).view(p)._replace(deal=np.array([0.5]))
    us, cn = us_arrays(Us(0.6, 0.015, 0.1)), cn_arrays(Cn(0.5, 0.0, 0.375))
    draws = policies.JapanDraws(np.array([0.9]), np.array([u]), np.array([0.0]))
    got = policies.japan_decision(0, view, p, us, cn, objective, draws)
    # deal-major pairs: deal DEALS[pair // 21], cell pair % 21, at (cell + position) / 21
    assert got.deal[0] == DEALS[pair // 21]
    assert got.compliance[0] == pytest.approx((pair % 21 + position) / 21, rel=1e-9)
    assert not got.kept[0] and got.diversification[0] == 0.0
    # inertia (u < 0.3) keeps last round's compliance and deal
    draws = draws._replace(inertia=np.array([0.1]))
    kept = policies.japan_decision(0, view, p, us, cn, objective, draws)
    assert (kept.compliance[0], kept.deal[0], bool(kept.kept[0])) == (0.5, 0.5, True)


def test_reactive_and_scripted_japan_make_no_deal(cal):
    from sim.core.scenario import Scenario

    reactive = build_params(cal, Scenario(name="r", japan_policy="reactive"), 4, 1)
    view = _world(reactive).view(reactive)._replace(deal=np.array([1.0]))
    draws = policies.JapanDraws(np.array([0.1]), np.array([0.99]), np.array([0.0]))
    us = us_arrays(Us(0.6, 0.015, 0.3))  # hits 0.3 x 0.1 / 0.6 = 0.05 at c = 0.5
    us_hit = hand_tariff(0.5, 0.0, Us(0.6, 0.015, 0.3)) - 0.015  # without the deal's relief
    assert us_hit == pytest.approx(0.05, rel=1e-14)
    cases = [
        (Cn(0.5, 0.0, 0.375, embargo=0.3, demand=0.25), 0.25),  # China hit harder: toward it
        (Cn(0.5, 0.0, 0.375), 0.75),  # no restriction at 0.5: toward the US
        (Cn(0.5, us_hit, 0.375), 0.5),  # as hard: stay
    ]
    for cn, want in cases:
        got = policies.japan_decision(0, view, reactive, us, cn_arrays(cn), _objective(), draws)
        assert got.compliance[0] == pytest.approx(want, rel=1e-14)
        assert got.deal[0] == 0.0 and not got.kept[0]  # inertia is a strategic Japan's
    scripted = build_params(
        cal, Scenario(name="s", japan_policy="scripted", japan_compliance_path=[0.8, 0.3]), 4, 1
    )
    view = _world(scripted).view(scripted)._replace(deal=np.array([1.0]))
    for t, want in ((0, 0.8), (1, 0.3), (3, 0.3)):
        got = policies.japan_decision(
            t, view, scripted, us, cn_arrays(cases[1][0]), _objective(), draws
        )
        assert (got.compliance[0], got.deal[0]) == (want, 0.0)


# --- world update (ODD 7.7) ---------------------------------------------------------------------
def _choice(compliance, diversification, deal=0.0):
    c, x = np.atleast_1d(compliance).astype(float), np.atleast_1d(diversification).astype(float)
    g = np.broadcast_to(np.asarray(deal, dtype=float), c.shape).copy()
    return policies.JapanChoice(c, g, x, np.zeros(c.shape, dtype=bool))


def _step(p, state, choice, us, cn, shock=1.0):
    """Realize the round at ``choice`` and advance the world (no lobbying)."""
    effort = np.zeros_like(state.effort)
    z = np.full(p.n_worlds, shock)
    out = dynamics.realize_round(state, choice, us, cn, effort, effort, z, p)
    return dynamics.advance_world(state, choice, us, cn, out, effort, p), out


def _quiet_stances(n):
    """No tariff above base, no restriction: only the diversification pipeline moves."""
    one = np.ones(n)
    us = UsStance(0.5 * one, 0.015 * one, 0 * one, 0.4 * one)
    cn = ChinaStance(
        0.5 * one, 0 * one, 0 * one, np.full(n, np.nan), one > 0, 0 * one, one, one < 0
    )
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
    assert alone.rounds["jp_diversification"].max() > 0  # the check covers investment
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
    "c, g, us, cn",
    [
        # c = 0.25 < demand 0.6: tau = 0.015 + 0.2 x 0.35/0.6; restriction 0.2, access 0.9
        (0.25, 0.0, Us(0.6, 0.015, 0.2), Cn(0.5, 0.2, 0.3, 0.9)),
        # the same with a full deal: tau = 0.015 + 0.2 x 0.35/0.6 x 0.6, a smaller US part
        (0.25, 1.0, Us(0.6, 0.015, 0.2), Cn(0.5, 0.2, 0.3, 0.9)),
        # c = 1 above the red line: r = 0.8 x 1, a = 1 - 0.5 x 0.8: China target clipped at 0
        (1.0, 0.0, Us(0.6, 0.015, 0.2), Cn(0.5, 0.0, 0.8)),
        # c = 0.75 meets demand 0.5: US target 0.8 + 0.25 = 1.05 clipped at 1
        (0.75, 0.5, Us(0.5, 0.015, 0.1), Cn(0.5, 0.0, 0.3)),
        # a punitive embargo's demand: line 0.25 below the status quo, Japan stays at 0.5
        (0.5, 0.0, Us(0.9, 0.015, 0.1), Cn(0.25, 0.5, 0.3, known=True)),
        # a coercive embargo Japan defies: the true line stays, the embargo is China's part
        (0.5, 0.0, Us(0.6, 0.015, 0.1), Cn(0.6, 0.0, 0.3, embargo=0.5, demand=0.25)),
    ],
)
def test_trust_moves_trust_rate_of_the_way_to_its_target(cal, p, c, g, us, cn):
    k = hand_constants(cal)
    tau, r, a = hand_instruments(k, c, g, us, cn)
    t_us, t_cn = hand_trust_targets(k, c, us.demand, tau, cn.line, r, a)
    parts = hand_signals(c, us.demand, tau, cn.line, r, a, cal.value("us_base_tariff"))
    state = _world(p)._replace(
        trust_us=np.array([0.7]),
        trust_cn=np.array([0.4]),
        japan_part_us=np.array([-0.1]),
        other_part_us=np.array([0.05]),
        japan_part_cn=np.array([0.2]),
        other_part_cn=np.array([-0.3]),
    )
    new, out = _step(p, state, _choice(c, 0.0, g), us_arrays(us), cn_arrays(cn))
    assert close(out.tariff, tau) and close(out.restriction, r) and close(out.access, a)
    signals = dynamics.relation_signals(np.array([c]), us_arrays(us), cn_arrays(cn), out, p)
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
    assert new.deal[0] == g


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
        (Cn(0.5, 0.2, 0.0, 0.9), 0.2),  # r = 0.2 > 1 - a = 0.1
        (Cn(0.5, 0.05, 0.0, 0.7), 0.3),  # 1 - a = 0.3 > r = 0.05
        (Cn(0.5, 0.0, 0.0, embargo=0.4, demand=0.25), 0.4),  # a coercive embargo Japan defies
    ],
)
def test_relocation_by_hand(cal, p, cn, disruption):
    k = hand_constants(cal)
    # omega = 0.05 / (1 + 1300 / 370) = 0.0110778...
    assert k.omega == pytest.approx(0.05 * 370 / 1670, rel=1e-12)
    state = _world(p)
    us = us_arrays(Us(0.6, 0.015, 0.05))
    new, _ = _step(p, state, _choice(0.5, 0.0), us, cn_arrays(cn))
    for i, f in enumerate(k.firms):
        # s_f <- s_f (1 - omega max(r, 1 - a))
        assert close(new.china_share[i], f.china_profit_share * (1 - k.omega * disruption))


def test_beliefs_learn_from_retaliation_and_from_episodes(cal, p):
    """Round step 5: the line belief by Bayes' rule on retaliation above any embargo that
    bites; the coercive-type probability by the episode hazards (beliefs docstring), an
    episode being a punitive or a coercive embargo."""
    v = cal.value
    hc, hr = v("hazard_coercive"), v("hazard_restrained")
    state = _world(p)
    prior = list(state.line_belief[:, 0])
    assert prior == pytest.approx(hand_prior(cal), rel=1e-12)
    us = us_arrays(Us(0.6, 0.015, 0.05))
    # retaliation at c = 0.8 against a true line 0.6 (coercion 0.375): r = 0.375 x 0.5
    cn = Cn(0.6, 0.0, 0.375)
    new, out = _step(p, state, _choice(0.8, 0.0), us, cn_arrays(cn))
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
    # a punitive embargo starts (restriction 0.5, announced line 0.25): the line belief is
    # unchanged, the odds of a coercive China rise by hc / hr = 10
    punitive = cn_arrays(Cn(0.25, 0.5, 0.375, known=True))
    during, _ = _step(p, new, _choice(0.5, 0.0), us, punitive)
    np.testing.assert_array_equal(during.line_belief, new.line_belief)
    q2 = q1 * hc / (q1 * hc + (1 - q1) * hr)
    assert close(during.coercive, q2)
    assert q2 / (1 - q2) == pytest.approx(10 * q1 / (1 - q1), rel=1e-12)
    assert close(during.last_embargo, 0.5)
    # its second quarter is part of the same episode: no update
    again, _ = _step(p, during, _choice(0.5, 0.0), us, punitive)
    assert again.coercive[0] == during.coercive[0]
    # a coercive embargo Japan defies at 0.8 (true line 0.6): Japan reads the retaliation
    # above the embargo, r - 0.5 = 0.375 x 0.5, and the episode's start
    coercive = Cn(0.6, 0.0, 0.375, embargo=0.5, demand=0.25)
    fresh, out = _step(p, state, _choice(0.8, 0.0), us, cn_arrays(coercive))
    assert close(out.restriction, 0.5 + 0.375 * 0.5)
    np.testing.assert_allclose(fresh.line_belief[:, 0], want, rtol=1e-10, atol=1e-300)
    q_start = q0 * hc / (q0 * hc + (1 - q0) * hr)
    assert close(fresh.coercive, q_start) and close(fresh.last_embargo, 0.5)
    # ... and one Japan concedes to (c = 0.2, lifted): no retaliation, below every line the
    # prior allows, teaches nothing of the line; the episode started all the same
    lifted, out = _step(p, state, _choice(0.2, 0.0), us, cn_arrays(coercive))
    assert out.restriction[0] == 0.0
    np.testing.assert_allclose(lifted.line_belief[:, 0], prior, rtol=1e-12, atol=1e-300)
    assert close(lifted.coercive, q_start)
    # a Japan that thought low lines possible (0.1, 0.2, 0.6) concedes to a coercive embargo
    # (demand 0.3) at 0.25 above China's true line 0.2: lifted, Japan reads the retaliation
    # 0.375 x 0.05 / 0.8; had China reneged, the retaliation above the embargo that stayed
    low = np.zeros((21, 1))
    low[[2, 4, 12], 0] = 1 / 3
    believer = state._replace(line_belief=low)
    for lifts in (True, False):
        cn = Cn(0.2, 0.0, 0.375, embargo=0.5, demand=0.3, lifts=lifts)
        after, out = _step(p, believer, _choice(0.25, 0.0), us, cn_arrays(cn))
        seen = 0.375 * 0.05 / 0.8
        assert close(out.restriction, seen + (0.0 if lifts else 0.5))
        want_low = hand_line_posterior(list(low[:, 0]), 0.25, seen, 0.375, v("belief_noise"))
        np.testing.assert_allclose(after.line_belief[:, 0], want_low, rtol=1e-10, atol=1e-300)
        assert after.line_belief[4, 0] > after.line_belief[2, 0]  # 0.2 fits, 0.1 predicts 0.07
    # an unconditional restriction with the line unannounced (a scripted path, say): Japan
    # reads the retaliation above it, r - 0.1 = 0.375 x 0.5, and the episode's start
    unannounced = cn_arrays(Cn(0.6, 0.1, 0.375))
    fresh, out = _step(p, state, _choice(0.8, 0.0), us, unannounced)
    assert close(out.restriction, 0.1 + 0.375 * 0.5)
    np.testing.assert_allclose(fresh.line_belief[:, 0], want, rtol=1e-10, atol=1e-300)
    assert close(fresh.coercive, q_start)


@pytest.mark.parametrize(
    "cn, c, want",
    [
        # a coercive embargo Japan concedes to and China lifts: 0.5 + 0.3 x (1 - 0.5)
        (Cn(0.5, 0.0, 0.375, embargo=0.5, demand=0.25), 0.2, 0.65),
        (Cn(0.5, 0.0, 0.375, embargo=0.5, demand=0.25), 0.25, 0.65),  # at the demand
        # ... and China reneges: 0.5 + 0.3 x (0 - 0.5)
        (Cn(0.5, 0.0, 0.375, embargo=0.5, demand=0.25, lifts=False), 0.2, 0.35),
        # Japan defies it: nothing learnt about China's word
        (Cn(0.5, 0.0, 0.375, embargo=0.5, demand=0.25), 0.3, 0.5),
        # a punitive embargo Japan concedes to stays: toward 0
        (Cn(0.25, 0.5, 0.375, known=True), 0.2, 0.35),
        (Cn(0.25, 0.5, 0.375, known=True), 0.5, 0.5),  # defied
        # an unannounced unconditional restriction (a scripted path): no demand to meet
        (Cn(0.5, 0.5, 0.375), 0.2, 0.5),
        (Cn(0.5, 0.0, 0.375), 0.2, 0.5),  # no embargo
    ],
)
def test_reputation_by_hand(cal, p, cn, c, want):
    k = hand_constants(cal)
    assert hand_reputation(k, 0.5, c, cn) == pytest.approx(want, rel=1e-14)
    state = _world(p)
    us = us_arrays(Us(0.6, 0.015, 0.05))
    new, _ = _step(p, state, _choice(c, 0.0), us, cn_arrays(cn))
    assert close(new.reputation, want)
    # a second round moves it again by the same rule: 0.65 + 0.3 x 0.35 = 0.755 if lifted
    again, _ = _step(p, new, _choice(c, 0.0), us, cn_arrays(cn))
    assert close(again.reputation, hand_reputation(k, want, c, cn))


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
    # V(x) = 30 x b x reduction x H - mcpf x 1 x x, b = 0.5, H = 8: the spend is an outlay
    k = hand_constants(cal)
    want = 30 * 0.5 * reduction * 8 - k.mcpf * 1.0 * level
    assert hand_diversification_value(k, level, room, 0.5) == pytest.approx(want, rel=1e-12)
    got = payoffs.diversification_value(np.array([level]), np.array([room]), np.array([0.5]), p)
    assert close(got, want)


def test_expected_restriction_by_hand(cal, p):
    """Episodes (q h_c + (1 - q) h_r) x length x size, plus coercion x expected excess."""
    k = hand_constants(cal)
    view = _world(p).view(p)
    # at the status quo no line of the prior (all >= 0.5) is exceeded: episodes only,
    # (0.5 x 0.05 + 0.5 x 0.005) x 2 x 0.5 = 0.0275
    cn = cn_arrays(Cn(0.5, 0.0, 0.375))
    assert close(policies.expected_restriction(view, cn, p), 0.0275)
    moved = view._replace(compliance=np.array([0.8]), coercive=np.array([0.9]))
    want = hand_expected_restriction(k, 0.9, 0.375, 0.8, hand_prior(cal))
    assert close(policies.expected_restriction(moved, cn, p), want)
    assert want > 0.9 * 0.05 * 2 * 0.5 + 0.1 * 0.005 * 2 * 0.5  # retaliation adds to it


def test_diversification_choice_by_hand_and_budget(cal, p):
    k = hand_constants(cal)
    view = _world(p).view(p)._replace(coercive=np.array([0.9]))
    cn = cn_arrays(Cn(0.5, 0.0, 0.375))
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


# --- strategic states ---------------------------------------------------------------------------
@pytest.mark.parametrize("scenario, t", [("us_escalation", 8), ("rare_earth_embargo", 8)])
def test_strategic_states_pick_by_hand_in_every_share_of_the_cdf(cal, scenario, t):
    """A strategic US: a logit (us_temperature) over multipliers 0-2 of its reactive tariff
    slope, on its expected payoff under Japan's quantal response (deal and compliance) to
    China's stance of the round before; a strategic China: the same over multipliers of its
    coercion given the US stance, its payoff at the instruments its true line gives. Warm
    temperatures (0.4) spread the picks, so each option's share of the CDF is checked."""
    warm = cal.with_values({"us_temperature": 0.4, "china_temperature": 0.4})
    scen = load_scenario(scenario)
    p = build_params(warm, scen, 16, 1)
    state = initial_round_state(p, np.array([[0.8]]))
    view = state.world.view(p)
    shock = np.full(1, math.exp(-(0.03**2) / 2))
    u = [0.5] * 8
    h = hand_round(warm, scen, u, 0.8, t)
    reactive = hand_reactive_us(h.k, scen, t, cal.value("trust_us_initial"))
    assert min(h.p_us) > 1e-4, h.p_us
    for k, s in enumerate(SEVERITIES):
        lo, hi = sum(h.p_us[:k]), sum(h.p_us[: k + 1])
        for uk in (lo + 1e-9, (lo + hi) / 2, hi - 1e-9):
            got = policies.us_stance(t, view, p, np.array([uk]), shock, state.last_cn)
            assert us_tuple(got) == pytest.approx(reactive._replace(slope=s * reactive.slope))
    for k_us in (0, 4):
        u[U_US] = bin_middle(h.p_us, k_us)
        hk = hand_round(warm, scen, u, 0.8, t)
        us = us_arrays(hk.us)
        assert min(hk.p_cn) > 1e-4, hk.p_cn
        kappa = scen.cn_coercion * (1 + 0.5 * (1 - 0.5))
        for k, s in enumerate(SEVERITIES):
            lo, hi = sum(hk.p_cn[:k]), sum(hk.p_cn[: k + 1])
            for uk in (lo + 1e-9, (lo + hi) / 2, hi - 1e-9):
                got = policies.china_stance(
                    t, view, p, np.array([uk]), shock, us, state.world.red_line
                )
                assert cn_tuple(got).coercion == pytest.approx(s * kappa, rel=1e-14)
                assert cn_tuple(got).embargo == hk.cn.embargo
    # the two US picks give China different stakes: its odds differ
    assert hk.p_cn != pytest.approx(h.p_cn, rel=1e-3)


# --- firms' lobbying: a costly logit choice, weighed as in Grossman-Helpman -----------------------
def test_lobbying_choice_by_hand(cal, p):
    """A synthetic menu (1 deal x 5 cells): Toyota's expected gain from full effort is above
    its cost, Sony's lies between (1 - inertia) and 1 times its cost, Honda's far below. The
    government weighs a firm's profit with efficiency x strength x effort / 70."""
    k = hand_constants(cal)
    temps = _temps(cal)
    welfare = [10.0, 12.0, 13.0, 12.5, 9.0]
    rows = [
        [8.0, 7.6, 7.0, 4.0, 5.0],
        [2.0, 2.1, 2.3, 1.0, 2.25],
        [1.9, 1.95, 2.0, 1.8, 1.7],
    ]
    last = [0.5, 0.0, 1.0]
    p_e = hand_lobbying(k, welfare, rows, last, [1.0, 1.0, 1.0], temps)
    view = _world(p).view(p)._replace(effort=np.array(last)[:, None])
    menu = policies.Menu(np.array(welfare)[None, :, None], np.array(rows)[:, None, :, None])
    np.testing.assert_allclose(
        policies.lobbying_weights(np.array(last)[:, None], p)[:, 0],
        [0.5 / 70, 0.0, 0.6 / 70],
        rtol=1e-14,
    )

    def pick(u):
        return policies.lobbying_choice(view, p, menu, np.array(u)[:, None])[:, 0].tolist()

    assert pick([0.5, 0.5, 0.5]) == [1.0, 0.0, 0.0]
    assert [int(np.argmax(x)) for x in p_e] == [4, 0, 0]
    # Sony by hand: 0.7 x (0.7 / 70) x Var_P(pi) / s = 0.00375 < its cost 0.0045 < 0.00375 / 0.7
    w_last = hand_weights(k, [1.0] * 3, last)
    base = [
        w + sum(x * r[j] for x, r in zip(w_last, rows, strict=True)) for j, w in enumerate(welfare)
    ]
    prob = hand_contextual(base, 0.05)
    mean = sum(q * x for q, x in zip(prob, rows[1], strict=True))
    var = sum(q * (x - mean) ** 2 for q, x in zip(prob, rows[1], strict=True))
    slope = 0.01 * var / ((max(base) - min(base)) * 0.05)
    assert 0.7 * slope < 0.0045 < slope
    # the value is linear in effort and the logit is on its own stakes, so neighbouring levels
    # differ by exp(0.25 / 0.01) = e^25 in odds: Toyota's 0.75 has probability 1.4e-11
    assert p_e[0][3] == pytest.approx(math.exp(-25) / sum(math.exp(-25 * j) for j in range(5)))
    below = sum(p_e[0][:3])
    assert pick([below + 0.9 * p_e[0][3], 0.5, 0.5])[0] == 0.75
    assert pick([below + 1.1 * p_e[0][3], 0.5, 0.5])[0] == 1.0
    # Sony's and Honda's 0.25 sit at the top of the CDF with probability 1.4e-11
    assert pick([0.5, 1 - 0.5 * p_e[1][1], 1 - 1.1 * p_e[2][1]]) == [1.0, 0.25, 0.0]
    # with the welfare weight at 35 instead of 70 every weight doubles: Sony lobbies
    heavy = build_params(cal.with_values({"welfare_weight": 35.0}), load_scenario("baseline"), 4, 1)
    got = policies.lobbying_choice(view, heavy, menu, np.full((3, 1), 0.5))[:, 0].tolist()
    assert got == [1.0, 1.0, 0.0]


# --- one full round by hand ------------------------------------------------------------------------
# u_line 0.1 draws China's line 0.5 (prior mass ~0.33 there), 0.8 draws 0.6, 0.97 draws 0.7.
ROUND_CASES = [
    # baseline, strategic US and China (the named scenarios' default): the US anticipates
    # Japan and sets no punitive tariff, China doubles its coercion; inertia keeps 0.5, no deal
    Case("baseline", 0, 0.1, pair=None),
    # the most likely pair (no deal), a third of the way into its cell; diversify at 0.25
    Case("baseline", 0, 0.1, position=1 / 3, diversification=1),
    # a half deal (worth nothing against a zero slope, but the logit's noise allows it)
    Case("baseline", 0, 0.1, pair=(1, "mode"), position=0.6),
    # two cells above the mode, beyond China's line 0.5; China picks 1.5 x its coercion
    Case("baseline", 0, 0.1, pair=(0, "mode+2"), position=0.75, cn=3),
    # reactive states: the US tariff rises with the shortfall, China retaliates above 0.7
    Case("baseline", 0, 0.97, pair=(0, "mode-2"), position=0.25, kw=REACTIVE),
    # fiscal stress: outlays cost mcpf 1.35
    Case("fiscal_stress", 0, 0.8, pair=(0, "mode+1"), position=0.6, diversification=1),
    # round 8 of the escalation (ramp 5/12), strategic: a US picking 2 x the slope (p 5e-4;
    # a zero slope has the rest) against which Japan takes the full deal
    Case("us_escalation", 8, 0.8, pair=(2, "mode"), position=0.2, us=4),
    # ... under reactive states: the mode, and the full deal one cell below it
    Case("us_escalation", 8, 0.8, position=0.9, kw=REACTIVE),
    Case("us_escalation", 8, 0.8, pair=(2, "mode-1"), position=0.9, kw=REACTIVE),
    # the escalation's last round, reactive, lobbying almost free: Toyota and Honda lobby
    Case(
        "us_escalation",
        15,
        0.1,
        pair=(1, "mode"),
        position=0.3,
        kw=REACTIVE,
        cal={"lobbying_cost": 5e-6},
    ),  # fmt: skip
    # the coercive embargo's first round (0.5 withheld unless c <= 0.25): Japan defies it
    Case("rare_earth_embargo", 8, 0.1),
    # ... or concedes (cell 4, c < 0.238) and China lifts it
    Case("rare_earth_embargo", 8, 0.8, pair=(0, 4), position=0.4, diversification=1),
    Case("rare_earth_embargo", 8, 0.1, pair=(1, 4), position=0.7, kw=REACTIVE),
    # a punitive embargo (0.5 whatever Japan does, announced line 0.25): conceding buys nothing
    Case("rare_earth_embargo", 8, 0.1, pair=(0, 2), position=0.5, kw={"embargo": PUNITIVE}),
]


def _play(cal, case: Case):
    """The round played by the code from the initial state with the case's uniforms."""
    cal = case.calibration(cal)
    u, index = _uniforms(cal, case)
    scen = case.load()
    h = hand_round(cal, scen, u, case.u_line, case.t)
    p = build_params(cal, scen, 16, 1)
    state, played = play_round(
        initial_round_state(p, np.array([[case.u_line]])), case.t, np.array(u)[:, None],
        np.zeros(1), p,
    )  # fmt: skip
    return h, index, state, played


@pytest.mark.parametrize("case", ROUND_CASES, ids=lambda c: f"{c.scenario}-{c.t}-{c.pair}")
def test_one_full_round_by_hand(cal, case):
    """Play round ``t`` from the initial state: the states' stances (a strategic state's
    pick by hand), lobbying, the (deal, cell) pair and the position within the cell,
    diversification, and every payoff at the choice the round made."""
    h, index, _, played = _play(cal, case)
    # the chosen options' bins are wide enough that ulp-level differences cannot move the draw
    assert case.pair is None or h.p_c[index] > 1e-5, h.p_c
    assert h.p_x[case.diversification] > 1e-6, h.p_x
    for pe, e in zip(h.p_e, h.effort, strict=True):
        assert pe[list(EFFORT_MENU).index(e)] > 1e-6
    for probs, pick in ((h.p_us, h.us_pick), (h.p_cn, h.cn_pick)):
        assert probs is None or probs[pick] > 1e-6, probs
    # steps 1-2: the stances
    assert us_tuple(played.us) == pytest.approx(h.us, **TIGHT)
    got_cn = cn_tuple(played.cn)
    for name in ("line", "fixed", "coercion", "access", "embargo"):
        assert getattr(got_cn, name) == pytest.approx(getattr(h.cn, name), **TIGHT), name
    assert (got_cn.lifts, got_cn.known) == (h.cn.lifts, h.cn.known)
    assert got_cn.demand == h.cn.demand or (math.isnan(got_cn.demand) and math.isnan(h.cn.demand))
    # steps 3-4: lobbying, the pair (deal and cell) and the position in the cell
    np.testing.assert_array_equal(played.effort[:, 0], h.effort)
    ch = played.choice
    c, g = float(ch.compliance[0]), float(ch.deal[0])
    if case.pair is None:
        assert (c, g, bool(ch.kept[0])) == (0.5, 0.0, True)
    else:
        assert h.compliance == pytest.approx((index % 21 + case.position) / 21, rel=1e-9)
        assert c == pytest.approx(h.compliance, rel=1e-10)
        assert math.floor(c * 21) == index % 21 and not bool(ch.kept[0])
        assert g == h.deal == DEALS[index // 21]
    assert close(ch.diversification, h.diversification)
    # step 5: every payoff by hand at the choice the round made
    out = played.outcome
    o = hand_outcome(h, c, g)
    for got, want in zip((out.tariff, out.restriction, out.access), o.instruments, strict=True):
        assert close(got, want)
    for name, want in o.terms.items():
        assert close(getattr(out.welfare_terms, name), want), name
    assert close(out.welfare, o.welfare)
    assert close(out.objective, o.objective)
    np.testing.assert_allclose(out.support[:, 0], o.support, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.firm_profit[:, 0], o.firm_profit, rtol=1e-12)
    assert close(out.us_payoff, o.us_payoff)
    assert close(out.china_payoff, o.china_payoff)
    rec = played.record
    assert close(rec["jp_welfare_bn_q"], o.welfare) and close(rec["jp_compliance"], c)
    assert close(rec["jp_deal"], g) and close(rec["jp_deal_outlay_bn_q"], 1.375 * g)
    assert close(rec["jp_support_outlay_bn_q"], sum(o.support))
    assert close(rec["jp_security_outlay_bn_q"], o.terms["security_outlay"])
    assert close(rec["belief_embargo_lifts"], o.reputation)
    assert close(rec["cn_embargo"], h.cn.embargo)
    tol = {"rel": 1e-9, "abs": 1e-12}
    assert close(rec["expected_restriction"], o.expected_restriction, tol)


def test_the_round_cases_cover_every_mechanism(cal):
    """The cases above are not all alike: strategic picks other than the reactive stance,
    deals, lobbying, retaliation, shortfall, diversification, an embargo defied, lifted on
    concession, and a punitive one."""
    seen = set()
    for case in ROUND_CASES:
        h, _, _, played = _play(cal, case)
        tau, r, _ = hand_outcome(h, h.compliance, h.deal).instruments
        # a strategic pick that is not the mode (nor the reactive stance, multiplier 1)
        for probs, pick, name in ((h.p_us, h.us_pick, "us"), (h.p_cn, h.cn_pick, "cn")):
            if probs is not None and pick not in (2, int(np.argmax(probs))):
                seen.add(f"strategic {name}")
        seen |= {"deal"} if h.deal > 0 and tau < hand_tariff(h.compliance, 0.0, h.us) else set()
        seen |= {"lobbying"} if 0 < max(h.effort) and min(h.effort) == 0 else set()
        seen |= {"retaliation"} if r > h.cn.fixed + h.cn.embargo else set()
        seen |= {"shortfall"} if h.compliance < h.us.demand else set()
        seen |= {"diversification"} if h.diversification > 0 else set()
        if h.cn.embargo > 0:
            seen |= {"embargo lifted"} if r == 0 else {"embargo defied"}
        seen |= {"punitive"} if h.cn.fixed > 0 and h.cn.known else set()
    assert seen == {
        "strategic us", "strategic cn", "deal", "lobbying", "retaliation", "shortfall",
        "diversification", "embargo lifted", "embargo defied", "punitive",
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [ROUND_CASES[i] for i in (3, 4, 6, 8, 9, 10, 11, 12, 13)],
    ids=lambda c: f"{c.scenario}-{c.t}-{c.pair}",
)
def test_one_full_round_moves_the_world_by_hand(cal, case):
    h, _, state, played = _play(cal, case)
    w = state.world
    c, g = float(played.choice.compliance[0]), float(played.choice.deal[0])
    o = hand_outcome(h, c, g)
    assert close(w.trust_us, o.trust[0]) and close(w.trust_cn, o.trust[1])
    for name, want in o.parts.items():
        who, side = name.split("_")
        assert close(getattr(w, f"{who}_part_{side}"), want), name
        assert close(played.record[f"{who}_part_{side}"], want), name
    np.testing.assert_allclose(w.line_belief[:, 0], o.line_belief, rtol=1e-9, atol=1e-300)
    assert close(w.coercive, o.coercive)
    assert close(w.reputation, o.reputation)
    np.testing.assert_allclose(w.china_share[:, 0], o.shares, rtol=1e-12)
    assert w.dependence[0] == cal.value("rare_earth_dependence")  # nothing has arrived yet
    assert w.pipeline[0].tolist() == [h.diversification, 0.0, 0.0, 0.0]
    assert close(w.recent_spend[0, 0], cal.value("diversification_spend") * h.diversification)
    np.testing.assert_array_equal(w.effort[:, 0], h.effort)
    assert (w.compliance[0], w.deal[0]) == (c, g)
    assert close(w.last_embargo, h.cn.fixed + h.cn.embargo)
    # the next round's strategic US anticipates Japan against this round's China stance
    assert state.last_cn is played.cn


def test_round_zero_numbers_at_differentiated_execution(cal):
    # Reactive states, inertia: c = 0.5, d = 0.6, tau1 = 0.05 x (1 + 0.5 x 0.2) = 0.055,
    # shortfall 0.1/0.6, tau = 0.015 + 0.055/6; no excess over the red line: r = 0, a = 1.
    scen = load_scenario("baseline", **REACTIVE)
    n_firms = len(cal.firm_names)
    h = hand_round(cal, scen, [0.5, 0.5, 0.1, 0.5, 0.0] + [0.5] * n_firms, 0.1, 0)
    o = hand_outcome(h, h.compliance, h.deal)
    z = math.exp(-(0.03**2) / 2)
    tau = 0.015 + 0.055 / 6
    vol = (1 + tau) ** -2.5
    assert (h.compliance, h.deal) == (0.5, 0.0) and h.cn[:3] == (0.5, 0.0, 0.3 * 1.25)
    assert o.instruments == pytest.approx((tau, 0.0, 1.0), rel=1e-14)
    assert o.terms["gains_cn"] == pytest.approx(0.15 * z * (50.25 * 0.95 + 42.25), rel=1e-14)
    assert o.terms["gains_us"] == pytest.approx(0.15 * z * (37 * vol + 20), rel=1e-14)
    assert o.terms["security_outlay"] == pytest.approx(12.5 / 6, rel=1e-14)
    assert o.terms["adjustment_cost"] == 0.0 and o.terms["shortage_cost"] == 0.0
    # support: 20% of what the tariff takes from the firms' US exports (no access cut)
    taken = [
        f.profit * Q * z * f.us_tariff_exposure * (1 - vol * (1 - 0.5 * tau / f.margin))
        for f in h.k.firms
    ]
    assert o.support == pytest.approx([0.2 * x for x in taken], rel=1e-12)
    # expected restriction at the status quo: episodes only (0.5 x 0.05 + 0.5 x 0.005) x 2 x 0.5
    assert h.expected_restriction == pytest.approx(0.0275, rel=1e-14)
    # V(x) = (30 x 0.0275 x 0.05 x 8 - 1.26463) x: negative, so 0 is the most likely level
    assert h.p_x[0] == max(h.p_x)
    # the welfare in figures: gains - losses - 1.26463 x 12.5/6 - 0.26463 x support
    m = 1 + 0.2 + 0.05 * 300 / 609 + 5 * 0.008
    gains = o.terms["gains_cn"] + o.terms["gains_us"]
    want = gains - o.terms["tariff_cost"] - m * 12.5 / 6 - (m - 1) * sum(o.support)
    assert o.welfare == pytest.approx(want, rel=1e-12)


# --- monotonicity and signs ----------------------------------------------------------------------------
GRID = np.linspace(0.0, 1.0, 41)


@pytest.mark.parametrize("coercion", [0.0, 0.375, 3.0])
@pytest.mark.parametrize("red_line", [0.25, 0.5, 0.9])
def test_more_compliance_never_raises_china_payoff(p, coercion, red_line):
    for cn in (Cn(red_line, 0.1, coercion), Cn(red_line, 0.0, coercion, embargo=0.4, demand=0.2)):
        c = GRID[:, None]
        inst = payoffs.instruments(c, 0.0, us_arrays(Us(0.6, 0.015, 0.05)), cn_arrays(cn), p)
        pay = payoffs.china_payoff(c, inst.restriction, inst.access, np.ones(1), p)[:, 0]
        assert (np.diff(pay) < 0).all()  # strictly: the tech loss alone falls with c


def _terms(p, c=0.5, tau=0.015, r=0.0, a=1.0, D=None, deal=0.0):
    inst = Instruments(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in (tau, r, a)))
    dep = p.dependence0 if D is None else np.array([D])
    return payoffs.japan_welfare_terms(
        c, 0.5, 0.0, deal, inst, dep, p.security_pressure[0], np.ones(1), 0.0, p
    )


def test_higher_tariff_never_raises_gains_us(p):
    tau = np.linspace(0.0, 3.0, 121)[:, None]
    gains = _terms(p, tau=tau).gains_us[:, 0]
    # constant elasticity: volume (1 + tau)^-2.5 never reaches zero, so gains fall strictly
    assert (np.diff(gains) < 0).all()
    assert gains[-1] == pytest.approx(0.15 * (37 * 4**-2.5 + 20), rel=1e-14)
    assert gains[-1] > 0.15 * 20


def test_more_restriction_never_lowers_shortage_cost(p):
    r = GRID[:, None]
    for dependence in (0.1, 0.6, 1.0):
        cost = _terms(p, r=r, D=dependence).shortage_cost[:, 0]
        assert (np.diff(cost) > 0).all()
        # 120 / 4 x 1 x (D + 0.1) at full restriction
        assert cost[-1] == pytest.approx(30 * (dependence + 0.1), rel=1e-14)


def test_a_deal_costs_japan_and_pays_the_us_linearly(cal, p):
    g = np.array(DEALS)[:, None]
    outlay = _terms(p, deal=g).deal_outlay[:, 0]
    np.testing.assert_allclose(outlay, [0.0, 0.6875, 1.375], rtol=1e-15)
    pay = payoffs.us_payoff(np.array([0.5]), np.array([0.1]), g, np.ones(1), p)[:, 0]
    np.testing.assert_allclose(np.diff(pay), [0.6875, 0.6875], rtol=1e-12)


def test_diversification_value_rises_with_expected_restriction_and_room(cal, p):
    levels = DIVERSIFICATION_MENU[:, None]
    low = payoffs.diversification_value(levels, np.array([0.5]), np.array([0.05]), p)
    high = payoffs.diversification_value(levels, np.array([0.5]), np.array([0.5]), p)
    tight = payoffs.diversification_value(levels, np.array([0.02]), np.array([0.5]), p)
    assert (high[1:] > low[1:]).all()
    # room 0.02 binds from level 0.5 (rho x 0.5 = 0.025) on
    assert high[1] == tight[1] and (high[2:] > tight[2:]).all()
    assert (low[0] == 0.0) and (high[0] == 0.0)  # doing nothing is worth nothing
