"""Decision rules: how each agent chooses, as pure functions over numpy arrays.

Every adaptive choice is a logit (quantal-response) choice on its own stakes, the range of
its options' values (:mod:`sim.core.choice`), with its own temperature: Japan's compliance,
its diversification, each firm's lobbying effort, an adaptive state's severity. Choices are drawn by inverse CDF from uniforms supplied by
the caller (:mod:`sim.core.draws`).

Japan does not know China's red line: it plans with its belief (:mod:`sim.core.beliefs`)
unless China announces the line (an embargo's demand). Firms and the government evaluate
Japan's options under the same expectations.

Policy codes (``Params.us_policy`` etc.): 0 reactive, 1 scripted, 2 adaptive.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import beliefs, payoffs
from sim.core.choice import (
    contextual_probabilities,
    expectation,
    logit_probabilities,
    sample_in_cells,
    sample_index,
    sequential_sum,
    stakes,
)
from sim.core.params import DIVERSIFICATION_MENU, EFFORT_MENU, STATE_MENU, Params
from sim.core.payoffs import ChinaStance, Instruments, UsStance

__all__ = ["logit_probabilities", "sample_index"]

REACTIVE, SCRIPTED, ADAPTIVE = 0, 1, 2
_X = DIVERSIFICATION_MENU[:, None]  # (X, 1): option axis first, worlds last
_E = EFFORT_MENU[:, None]
#: The compliance step a reactive Japan takes toward the side that hit harder.
REACTIVE_STEP = 0.25


def compliance_options(p: Params) -> np.ndarray:
    """Japan's compliance menu as a column ``(M, 1)`` (options first, worlds last)."""
    return p.compliance_menu[:, None]


class WorldView(NamedTuple):
    """The state a decision sees, shapes ``(N,)``; ``(F, N)`` for firms, ``(L, N)`` for beliefs."""

    compliance: np.ndarray  # last round's compliance
    dependence: np.ndarray
    trust_us: np.ndarray
    trust_cn: np.ndarray
    line_belief: np.ndarray  # (L, N) Japan's belief over China's red line
    coercive: np.ndarray  # Japan's probability that China coerces unprovoked
    china_share: np.ndarray
    effort: np.ndarray  # (F, N) last round's lobbying effort
    room: np.ndarray  # dependence left above the floor once investments under way arrive
    recent_spend: np.ndarray  # diversification spent in the last three quarters, $bn


def _severity(trust: np.ndarray, p: Params) -> np.ndarray:
    """States punish harder a partner they trust less: 1 at full trust, 1 + severity at none."""
    return 1.0 + p.trust_severity * (1.0 - trust)


def _select(mask: np.ndarray, a: NamedTuple, b: NamedTuple):
    return type(a)(*(np.where(mask, x, y) for x, y in zip(a, b, strict=True)))


def _pick(options: NamedTuple, pick: np.ndarray):
    return type(options)(*(np.take_along_axis(x, pick[None, :], axis=0)[0] for x in options))


# --- what Japan expects --------------------------------------------------------------------
def expected_instruments(
    compliance: np.ndarray, us: UsStance, cn: ChinaStance, view: WorldView, p: Params
) -> Instruments:
    """Tariff, restriction and access Japan expects at ``compliance`` (its belief where the line is unknown)."""
    known = payoffs.excess(compliance, cn.red_line)
    ex = np.where(cn.line_known, known, beliefs.expected_excess(compliance, view.line_belief))
    return Instruments(
        tariff=payoffs.realized_tariff(compliance, us),
        restriction=np.minimum(cn.restriction_fixed + cn.coercion * ex, 1.0),
        access=np.maximum(cn.access_fixed - p.access_cut * cn.coercion * ex, 0.0),
    )


def welfare_menu(
    view: WorldView, p: Params, demand: np.ndarray, menu: Instruments, shock: np.ndarray
) -> np.ndarray:
    """National welfare at each compliance option, $bn per quarter, ``(..., M, N)``."""
    terms = payoffs.japan_welfare_terms(
        compliance_options(p),
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
    return payoffs.japan_welfare(terms, p)


def firm_profit_menu(
    view: WorldView, p: Params, menu: Instruments, shock: np.ndarray
) -> np.ndarray:
    """Each firm's profit at each of Japan's compliance options, $bn per quarter, ``(F, ..., M, N)``."""
    return payoffs.firm_profits(
        compliance_options(p),
        menu.tariff,
        menu.restriction,
        menu.access,
        view.dependence,
        shock,
        view.china_share,
        p,
    )


def lobbying_weights(effort: np.ndarray, p: Params) -> np.ndarray:
    """Weight the government gives each firm's profit (Grossman-Helpman), shape ``(F, N)``."""
    return p.lobbying_weight * p.lobbying_efficiency * p.lobbying_strength * effort


def lobbied_profit(profit_menu: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum over firms of weight x profit, in a fixed order, shape ``(..., N)``."""
    lead = (1,) * (profit_menu.ndim - weights.ndim)
    w = weights.reshape(weights.shape[:1] + lead + weights.shape[1:])
    return sequential_sum(profit_menu * w)


def compliance_probabilities(objective: np.ndarray, p: Params) -> np.ndarray:
    """The government's logit over compliance options (on its stakes); options on axis -2."""
    moved = np.moveaxis(objective, -2, 0)
    return np.moveaxis(contextual_probabilities(moved, p.compliance_temperature), 0, -2)


def japan_compliance_probabilities(
    view: WorldView, p: Params, us: UsStance, cn: ChinaStance, shock: np.ndarray
) -> np.ndarray:
    """Japan's logit over compliance given the stances (last round's lobbying), ``(..., M, N)``."""
    menu = expected_instruments(compliance_options(p), us, cn, view, p)
    welfare = welfare_menu(view, p, us.demand, menu, shock)
    profits = firm_profit_menu(view, p, menu, shock)
    objective = welfare + lobbied_profit(profits, lobbying_weights(view.effort, p))
    return compliance_probabilities(objective, p)


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
        # The US knows Japan's payoffs, evaluates Japan's quantal response to each severity
        # multiplier (given last round's China stance), then chooses by logit itself.
        m = len(STATE_MENU)
        base = us_reactive_stance(t, view, p)
        options = UsStance(
            demand=np.broadcast_to(base.demand, (m, p.n_worlds)),
            tariff_fixed=np.broadcast_to(base.tariff_fixed, (m, p.n_worlds)),
            tariff_slope=STATE_MENU[:, None] * base.tariff_slope,
        )
        cn_b = ChinaStance(*(x[None, :] for x in last_cn))
        us_b = UsStance(*(x[:, None, :] for x in options))
        prob = japan_compliance_probabilities(view, p, us_b, cn_b, shock)  # (S, M, N)
        c = compliance_options(p)[None]
        tariff = payoffs.realized_tariff(c, us_b)
        value = expectation(
            np.moveaxis(prob, 1, 0), np.moveaxis(payoffs.us_payoff(c, tariff, shock, p), 1, 0)
        )
        pick = sample_index(contextual_probabilities(value, p.us_temperature), u)
        stance = _select(codes == ADAPTIVE, _pick(options, pick), stance)
    return stance


# --- step 2: China ---------------------------------------------------------------------------
def china_reactive_stance(t: int, view: WorldView, p: Params, red_line: np.ndarray) -> ChinaStance:
    """Retaliation above its line (its own, or an embargo's announced demand), harsher as trust falls."""
    announced = p.announced_red_line[t]
    known = ~np.isnan(announced)
    return ChinaStance(
        red_line=np.where(known, announced, red_line),
        restriction_fixed=p.embargo_restriction[t],
        coercion=p.coercion[t] * _severity(view.trust_cn, p),
        access_fixed=np.ones(p.n_worlds),
        line_known=known,
    )


def china_stance(
    t: int,
    view: WorldView,
    p: Params,
    u: np.ndarray,
    shock: np.ndarray,
    us: UsStance,
    red_line: np.ndarray,
) -> ChinaStance:
    """China's stance for round ``t`` under each world's policy; ``red_line`` is its true line."""
    stance = china_reactive_stance(t, view, p, red_line)
    codes = p.china_policy
    if (codes == SCRIPTED).any():
        scripted = stance._replace(
            restriction_fixed=p.path_cn_restriction[t],
            coercion=np.zeros(p.n_worlds),
            access_fixed=p.path_cn_access[t],
        )
        stance = _select(codes == SCRIPTED, scripted, stance)
    if (codes == ADAPTIVE).any():
        base = china_reactive_stance(t, view, p, red_line)
        m = len(STATE_MENU)
        options = ChinaStance(*(np.broadcast_to(x, (m, p.n_worlds)) for x in base))._replace(
            coercion=STATE_MENU[:, None] * base.coercion
        )
        cn_b = ChinaStance(*(x[:, None, :] for x in options))
        us_b = UsStance(*(x[None, :] for x in us))
        prob = japan_compliance_probabilities(view, p, us_b, cn_b, shock)  # (S, M, N)
        c = compliance_options(p)[None]
        inst = payoffs.instruments(c, us_b, cn_b, p)
        payoff = payoffs.china_payoff(c, inst.restriction, inst.access, shock, p)
        value = expectation(np.moveaxis(prob, 1, 0), np.moveaxis(payoff, 1, 0))
        pick = sample_index(contextual_probabilities(value, p.china_temperature), u)
        stance = _select(codes == ADAPTIVE, _pick(options, pick), stance)
    return stance


# --- step 3: firms ------------------------------------------------------------------------------
def lobbying_choice(
    view: WorldView, p: Params, welfare: np.ndarray, profits: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Each firm's lobbying effort 0-1, a logit choice on its own stakes, shape ``(F, N)``.

    A firm values effort ``e`` by what it expects it to add to its profit through the
    government's quantal response, less its cost ``lobbying_cost x profit x e``. With the
    government's logit ``P(c)`` at last round's efforts (its own included) and scale ``s`` (its stakes
    times its temperature), raising the firm's weight by ``dw`` raises its expected profit by
    ``dw Var_P(pi_f) / s`` (the logit's own derivative, taken at last round's weights):
    ``welfare`` is ``(M, N)``, ``profits`` ``(F, M, N)``.
    """
    w_last = lobbying_weights(view.effort, p)
    base = welfare + lobbied_profit(profits, w_last)  # (M, N)
    prob = compliance_probabilities(base, p)
    scale = np.maximum(stakes(base), np.finfo(float).tiny) * p.compliance_temperature
    mean = expectation(np.moveaxis(profits, 1, 0), prob[:, None])  # (F, N)
    spread = profits - mean[:, None]
    variance = expectation(np.moveaxis(spread * spread, 1, 0), prob[:, None])  # (F, N)
    w_full = lobbying_weights(np.ones_like(view.effort), p)
    gain = (1.0 - p.inertia) * (_E[:, None] * w_full - w_last) * variance / scale  # (E, F, N)
    value = gain - p.lobbying_cost * p.firm_profit * _E[:, None]
    return EFFORT_MENU[sample_index(contextual_probabilities(value, p.lobbying_temperature), u)]


# --- step 4: Japan ----------------------------------------------------------------------------------
class JapanDraws(NamedTuple):
    """The uniforms Japan's choice uses this round, shapes ``(N,)``."""

    inertia: np.ndarray
    compliance: np.ndarray
    diversification: np.ndarray


class JapanChoice(NamedTuple):
    """Japan's choice in one round, shapes ``(N,)``."""

    compliance: np.ndarray  # 0-1
    diversification: np.ndarray  # level 0-1 of the highest quarterly spend
    kept: np.ndarray  # True where inertia kept last round's compliance


def expected_restriction(view: WorldView, cn: ChinaStance, p: Params) -> np.ndarray:
    """The restriction Japan expects in a future quarter: episodes plus retaliation at its compliance."""
    hazard = beliefs.episode_hazard(view.coercive, p.hazard_restrained, p.hazard_coercive)
    episodes = hazard * p.episode_length * p.episode_restriction
    retaliation = cn.coercion * beliefs.expected_excess(view.compliance, view.line_belief)
    return np.minimum(episodes + retaliation, 1.0)


def diversification_choice(
    view: WorldView, cn: ChinaStance, p: Params, u: np.ndarray
) -> np.ndarray:
    """Japan's diversification level 0-1: a logit on its expected net value, within the budget."""
    value = payoffs.diversification_value(_X, view.room, expected_restriction(view, cn, p), p)
    affordable = (
        view.recent_spend + p.diversification_spend * _X <= p.diversification_budget + 1e-12
    )
    value = np.where(affordable, value, -np.inf)
    prob = contextual_probabilities(value, p.diversification_temperature)
    return DIVERSIFICATION_MENU[sample_index(prob, u)]


def japan_decision(
    t: int,
    view: WorldView,
    p: Params,
    us: UsStance,
    cn: ChinaStance,
    objective: np.ndarray,
    draws: JapanDraws,
) -> JapanChoice:
    """Japan's compliance and diversification for round ``t`` under each world's policy.

    ``objective`` is the government's objective at each compliance option, ``(M, N)``.
    """
    # The logit over the cells' centres, then a continuous level within the chosen cell.
    prob = compliance_probabilities(objective, p)
    adaptive = sample_in_cells(prob, draws.compliance)
    kept = draws.inertia < p.inertia
    compliance = np.where(kept, view.compliance, adaptive)
    codes = p.japan_policy
    if (codes == SCRIPTED).any():
        compliance = np.where(codes == SCRIPTED, p.path_jp_compliance[t], compliance)
    if (codes == REACTIVE).any():
        # One step toward the side that hit harder last round (its cost at current compliance).
        us_hit = payoffs.realized_tariff(view.compliance, us) - p.us_base_tariff
        cn_hit = payoffs.realized_restriction(view.compliance, cn)
        step = np.where(
            us_hit > cn_hit, REACTIVE_STEP, np.where(cn_hit > us_hit, -REACTIVE_STEP, 0.0)
        )
        moved = np.minimum(np.maximum(view.compliance + step, 0.0), 1.0)
        compliance = np.where(codes == REACTIVE, moved, compliance)
    diversification = diversification_choice(view, cn, p, draws.diversification)
    return JapanChoice(compliance, diversification, kept & (codes == ADAPTIVE))
