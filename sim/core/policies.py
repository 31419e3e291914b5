"""Decision rules: how each agent chooses, as pure functions over numpy arrays.

Bounded rationality is a logit (quantal-response) choice: the probability of option k is
proportional to ``exp(U_k / (scale * temperature))``, where ``scale`` is a money figure of
the same world (so multiplying all money by a constant changes no probability). Choices
are drawn by inverse CDF from uniforms supplied by the caller (:mod:`sim.core.draws`).

Policy codes (``Params.us_policy`` etc.): 0 reactive, 1 scripted, 2 adaptive.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import payoffs
from sim.core.params import COMPLIANCE_MENU, DIVERSIFICATION_MENU, STATE_MENU, Params
from sim.core.payoffs import ChinaStance, UsStance

REACTIVE, SCRIPTED, ADAPTIVE = 0, 1, 2
_C = COMPLIANCE_MENU[:, None]  # (5, 1): option axis first, worlds last
_X = DIVERSIFICATION_MENU[:, None]


def logit_probabilities(
    utility: np.ndarray, scale: np.ndarray, temperature: np.ndarray
) -> np.ndarray:
    """Quantal-response probabilities over axis 0; ``utility`` in money, ``scale`` in the same money."""
    z = (utility - utility.max(axis=0)) / (scale * temperature)
    w = np.exp(z)
    return w / _sequential_sum(w)


def _sequential_sum(x: np.ndarray) -> np.ndarray:
    """Sum over axis 0 in index order (the same bits for any number of worlds)."""
    total = x[0].copy()
    for k in range(1, x.shape[0]):
        total += x[k]
    return total


def sample_index(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from categorical ``probabilities`` (options on axis 0) with uniforms ``u``."""
    target = u * _sequential_sum(probabilities)
    cdf = probabilities[0].copy()
    idx = (cdf < target).astype(np.int64)
    for k in range(1, probabilities.shape[0] - 1):
        cdf += probabilities[k]
        idx += cdf < target
    return idx


def _severity(trust: np.ndarray, p: Params) -> np.ndarray:
    """States punish harder a partner they trust less: 1 at full trust, 1 + severity at none."""
    return 1.0 + p.trust_severity * (1.0 - trust)


class WorldView(NamedTuple):
    """The state a decision sees, shapes ``(N,)`` / ``(F, N)`` for firms."""

    compliance: np.ndarray
    dependence: np.ndarray
    trust_us: np.ndarray
    trust_cn: np.ndarray
    belief: np.ndarray
    china_share: np.ndarray
    effort: np.ndarray


# --- step 1: the United States ------------------------------------------------------------
def us_reactive_stance(t: int, view: WorldView, p: Params) -> UsStance:
    """Tit-for-tat style: demand = pressure; tariff rises with Japan's shortfall, harsher as trust falls."""
    return UsStance(
        demand=p.security_pressure[t],
        tariff_fixed=p.us_base_tariff,
        tariff_slope=p.tariff_level[t] * _severity(view.trust_us, p),
    )


def us_stance(
    t: int, view: WorldView, p: Params, u: np.ndarray, shock: np.ndarray, last_cn: ChinaStance
) -> UsStance:
    """The US stance for round ``t`` under each world's policy (reactive, scripted or adaptive)."""
    stance = us_reactive_stance(t, view, p)
    codes = p.us_policy
    if (codes == SCRIPTED).any():
        scripted = UsStance(
            demand=p.path_us_demand[t],
            tariff_fixed=p.path_us_tariff[t],
            tariff_slope=np.zeros(p.n_worlds),
        )
        stance = _select(codes == SCRIPTED, scripted, stance)
    if (codes == ADAPTIVE).any():
        # Best response with lookahead: the US knows Japan's payoffs and evaluates Japan's
        # quantal response to each severity multiplier, then chooses by logit itself.
        options = UsStance(
            demand=stance.demand[None, :] * np.ones((len(STATE_MENU), 1)),
            tariff_fixed=np.broadcast_to(stance.tariff_fixed, (len(STATE_MENU), p.n_worlds)),
            tariff_slope=STATE_MENU[:, None] * us_reactive_stance(t, view, p).tariff_slope,
        )
        cn_b = ChinaStance(*(x[None, :] for x in last_cn))
        us_b = UsStance(*(x[:, None, :] for x in options))
        prob = japan_compliance_probabilities(view, p, us_b, cn_b, shock)  # (M, 5, N)
        tariff = payoffs.realized_tariff(_C[None], us_b)
        value = _expectation(prob, payoffs.us_payoff(_C[None], tariff, shock, p))  # (M, N)
        scale = p.gains * p.exports_us + p.us_alignment_value
        pick = sample_index(logit_probabilities(value, scale, p.state_temperature), u)
        chosen = UsStance(*(np.take_along_axis(x, pick[None, :], axis=0)[0] for x in options))
        stance = _select(codes == ADAPTIVE, chosen, stance)
    return stance


# --- step 2: China ---------------------------------------------------------------------------
def china_reactive_stance(t: int, view: WorldView, p: Params) -> ChinaStance:
    """Retaliation above the red line, harsher as trust falls; an embargo window adds a fixed restriction."""
    return ChinaStance(
        red_line=p.red_line[t],
        restriction_fixed=p.embargo_restriction[t],
        coercion=p.coercion[t] * _severity(view.trust_cn, p),
        access_fixed=np.ones(p.n_worlds),
    )


def china_stance(
    t: int, view: WorldView, p: Params, u: np.ndarray, shock: np.ndarray, us: UsStance
) -> ChinaStance:
    """China's stance for round ``t`` under each world's policy (reactive, scripted or adaptive)."""
    stance = china_reactive_stance(t, view, p)
    codes = p.china_policy
    if (codes == SCRIPTED).any():
        scripted = ChinaStance(
            red_line=p.red_line[t],
            restriction_fixed=p.path_cn_restriction[t],
            coercion=np.zeros(p.n_worlds),
            access_fixed=p.path_cn_access[t],
        )
        stance = _select(codes == SCRIPTED, scripted, stance)
    if (codes == ADAPTIVE).any():
        base = china_reactive_stance(t, view, p)
        m = len(STATE_MENU)
        options = ChinaStance(
            red_line=np.broadcast_to(base.red_line, (m, p.n_worlds)),
            restriction_fixed=np.broadcast_to(base.restriction_fixed, (m, p.n_worlds)),
            coercion=STATE_MENU[:, None] * base.coercion,
            access_fixed=np.broadcast_to(base.access_fixed, (m, p.n_worlds)),
        )
        cn_b = ChinaStance(*(x[:, None, :] for x in options))
        us_b = UsStance(*(x[None, :] for x in us))
        prob = japan_compliance_probabilities(view, p, us_b, cn_b, shock)  # (M, 5, N)
        inst = payoffs.instruments(_C[None], us_b, cn_b, p)
        value = _expectation(
            prob, payoffs.china_payoff(_C[None], inst.restriction, inst.access, shock, p)
        )
        scale = p.gains * p.trade_cn + p.cn_tech_loss
        pick = sample_index(logit_probabilities(value, scale, p.state_temperature), u)
        chosen = ChinaStance(*(np.take_along_axis(x, pick[None, :], axis=0)[0] for x in options))
        stance = _select(codes == ADAPTIVE, chosen, stance)
    return stance


def _expectation(prob: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Expected value over Japan's compliance options (axis 1), summed in a fixed order."""
    return _sequential_sum(np.moveaxis(prob * value, 1, 0))


def _select(mask: np.ndarray, a: NamedTuple, b: NamedTuple):
    return type(a)(*(np.where(mask, x, y) for x, y in zip(a, b, strict=True)))


# --- step 3: firms ------------------------------------------------------------------------------
def menu_instruments(us: UsStance, cn: ChinaStance, p: Params) -> payoffs.Instruments:
    """Tariff, restriction and access at each of Japan's compliance options, shapes ``(5, N)``."""
    return payoffs.instruments(_C, us, cn, p)


def firm_profit_menu(
    view: WorldView, p: Params, menu: payoffs.Instruments, shock: np.ndarray
) -> np.ndarray:
    """Each firm's profit at each of Japan's compliance options, $bn per quarter, ``(F, 5, N)``."""
    return payoffs.firm_profits(
        _C, menu.tariff, menu.restriction, menu.access, view.dependence, shock, view.china_share, p
    )


def lobbying_effort(profit_menu: np.ndarray, p: Params) -> np.ndarray:
    """Lobbying effort 0-1 per firm, driven by its stake: how much its profit depends on Japan's choice."""
    stake = (profit_menu.max(axis=1) - profit_menu.min(axis=1)) / p.firm_profit
    return np.minimum(1.0, p.lobbying_strength * stake / (stake + p.stake_half))


def lobbying_weights(effort: np.ndarray, p: Params) -> np.ndarray:
    """Weight the government gives each firm's profit (Grossman-Helpman), shape ``(F, N)``."""
    return p.lobbying_weight * p.lobbying_efficiency * effort


def lobbied_profit(profit_menu: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum over firms of weight x profit, in a fixed order (bit-identical for any N), shape ``(..., N)``."""
    total = profit_menu[0] * weights[0]
    for f in range(1, weights.shape[0]):
        total = total + profit_menu[f] * weights[f]
    return total


# --- step 4: Japan ----------------------------------------------------------------------------------
def compliance_objective(
    view: WorldView,
    p: Params,
    demand: np.ndarray,
    menu: payoffs.Instruments,
    shock: np.ndarray,
    weights: np.ndarray,
    profit_menu: np.ndarray | None = None,
) -> np.ndarray:
    """The government's objective at each compliance option, $bn per quarter, ``(..., 5, N)``.

    National welfare plus the lobbying-weighted profits of firms (Grossman-Helpman).
    """
    terms = payoffs.japan_welfare_terms(
        _C,
        view.compliance,
        0.0,
        menu.tariff,
        menu.restriction,
        menu.access,
        view.dependence,
        demand,
        shock,
        p,
    )
    if profit_menu is None:
        profit_menu = payoffs.firm_profits(
            _C,
            menu.tariff,
            menu.restriction,
            menu.access,
            view.dependence,
            shock,
            view.china_share,
            p,
        )
    return payoffs.japan_welfare(terms, p) + lobbied_profit(profit_menu, weights)


def japan_compliance_probabilities(
    view: WorldView, p: Params, us: UsStance, cn: ChinaStance, shock: np.ndarray
) -> np.ndarray:
    """Japan's logit probabilities over compliance options (no inertia), shape ``(..., 5, N)``."""
    weights = lobbying_weights(view.effort, p)
    menu = payoffs.instruments(_C, us, cn, p)
    objective = compliance_objective(view, p, us.demand, menu, shock, weights)
    return np.moveaxis(
        logit_probabilities(np.moveaxis(objective, -2, 0), p.money_scale, p.temperature), 0, -2
    )


class JapanDraws(NamedTuple):
    """The uniforms Japan's choice uses this round, shapes ``(N,)``."""

    inertia: np.ndarray
    compliance: np.ndarray
    diversification: np.ndarray


class JapanChoice(NamedTuple):
    """Japan's choice in one round, shapes ``(N,)``."""

    compliance: np.ndarray  # 0-1, a value of COMPLIANCE_MENU
    diversification: np.ndarray  # level 0-1 of the highest spend
    kept: np.ndarray  # True where inertia kept last round's compliance


def japan_decision(
    t: int,
    view: WorldView,
    p: Params,
    us: UsStance,
    cn: ChinaStance,
    menu: payoffs.Instruments,
    profit_menu: np.ndarray,
    effort: np.ndarray,
    shock: np.ndarray,
    draws: JapanDraws,
) -> JapanChoice:
    """Japan's compliance and diversification for round ``t`` under each world's policy."""
    weights = lobbying_weights(effort, p)
    objective = compliance_objective(view, p, us.demand, menu, shock, weights, profit_menu)
    prob = logit_probabilities(objective, p.money_scale, p.temperature)
    adaptive = COMPLIANCE_MENU[sample_index(prob, draws.compliance)]
    kept = draws.inertia < p.inertia
    compliance = np.where(kept, view.compliance, adaptive)
    codes = p.japan_policy
    if (codes == SCRIPTED).any():
        compliance = np.where(codes == SCRIPTED, p.path_jp_compliance[t], compliance)
    if (codes == REACTIVE).any():
        # Move one step toward the side that hit harder last round (its cost now, at current compliance).
        us_hit = payoffs.realized_tariff(view.compliance, us) - p.us_base_tariff
        cn_hit = payoffs.realized_restriction(view.compliance, cn)
        step = np.where(us_hit > cn_hit, 0.25, np.where(cn_hit > us_hit, -0.25, 0.0))
        compliance = np.where(
            codes == REACTIVE, np.minimum(np.maximum(view.compliance + step, 0.0), 1.0), compliance
        )
    value = payoffs.diversification_value(_X, view.dependence, view.belief, p)
    div = DIVERSIFICATION_MENU[
        sample_index(
            logit_probabilities(value, p.money_scale, p.temperature), draws.diversification
        )
    ]
    return JapanChoice(compliance=compliance, diversification=div, kept=kept & (codes == ADAPTIVE))
