"""Decision rules: how each agent chooses, as pure functions over numpy arrays.

Every choice is a logit (quantal-response) choice on its own stakes, the range of its
options' values (:mod:`sim.core.choice`), with its own temperature: Japan's compliance and
deal (chosen together), its diversification, each firm's lobbying effort, a strategic state's
severity. Choices are drawn by inverse CDF from uniforms supplied by
the caller (:mod:`sim.core.draws`).

Japan does not know China's red line: it plans with its belief (:mod:`sim.core.beliefs`)
unless China announces the line (an embargo's demand). Firms and the government evaluate
Japan's options under the same expectations.

Policy codes (``Params.us_policy`` etc.): 0 reactive, 1 scripted, 2 strategic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from sim.core import beliefs, payoffs
from sim.core.choice import (
    contextual_probabilities,
    expectation,
    logit_probabilities,
    sample_cell,
    sample_index,
    sequential_sum,
    stakes,
)
from sim.core.elementwise import entry, select
from sim.core.params import DEAL_MENU, DIVERSIFICATION_MENU, EFFORT_MENU, STATE_MENU, Params
from sim.core.payoffs import ChinaStance, Instruments, UsStance

__all__ = ["logit_probabilities", "sample_index"]

REACTIVE, SCRIPTED, STRATEGIC = 0, 1, 2
_X = DIVERSIFICATION_MENU[:, None]  # (X, 1): option axis first, worlds last
_G = DEAL_MENU[:, None, None]  # (G, 1, 1): Japan's deal levels, then compliance cells, worlds
_E = EFFORT_MENU[:, None]
#: The compliance step a reactive Japan takes toward the side that hit harder.
REACTIVE_STEP = 0.25


def compliance_options(p: Params) -> np.ndarray:
    """Japan's compliance cells' centres, ``(1, M, 1)``: after the deal axis, before worlds."""
    return p.compliance_menu[None, :, None]


def deal_options() -> np.ndarray:
    """Japan's deal levels, ``(G, 1, 1)``."""
    return _G


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
    reputation: np.ndarray  # Japan's belief that China lifts an embargo on concession
    deal: np.ndarray  # last round's deal level


def _severity(trust: np.ndarray, p: Params) -> np.ndarray:
    """States punish harder a partner they trust less: 1 at full trust, 1 + severity at none."""
    return 1.0 + p.trust_severity * (1.0 - trust)


def _select(mask: np.ndarray, a: NamedTuple, b: NamedTuple):
    return type(a)(*(np.where(mask, x, y) for x, y in zip(a, b, strict=True)))


def _pick(options: NamedTuple, pick: np.ndarray):
    return type(options)(*(np.take_along_axis(x, pick[None, :], axis=0)[0] for x in options))


# --- what Japan expects --------------------------------------------------------------------
def expected_instruments(
    compliance: np.ndarray,
    deal: np.ndarray | float,
    us: UsStance,
    cn: ChinaStance,
    view: WorldView,
    p: Params,
) -> Instruments:
    """Tariff, restriction and access Japan expects at a compliance and deal level.

    China's line: the announced one, else Japan's belief. An embargo: it bites unless Japan
    concedes, and then still with the probability that China does not keep its word.
    """
    return instruments_at_excess(
        compliance, deal, us, cn, view, p, expected_line_excess(compliance, cn, view)
    )


def expected_line_excess(compliance: np.ndarray, cn: ChinaStance, view: WorldView) -> np.ndarray:
    """Japan's expected excess over China's line: over the announced line, else its belief's."""
    known = payoffs.excess(compliance, cn.red_line)
    return np.where(cn.line_known, known, beliefs.expected_excess(compliance, view.line_belief))


def instruments_at_excess(
    compliance: np.ndarray,
    deal: np.ndarray | float,
    us: UsStance,
    cn: ChinaStance,
    view: WorldView,
    p: Params,
    ex: np.ndarray,
) -> Instruments:
    """:func:`expected_instruments` given the expected excess ``ex`` (elementwise)."""
    defies = compliance > cn.embargo_line + 1e-12
    embargo = cn.embargo * select(defies, 1.0, 1.0 - view.reputation)
    return Instruments(
        tariff=payoffs.realized_tariff(compliance, deal, us),
        restriction=np.minimum(cn.restriction_fixed + embargo + cn.coercion * ex, 1.0),
        access=np.maximum(cn.access_fixed - p.access_cut * cn.coercion * ex, 0.0),
    )


class Menu(NamedTuple):
    """Japan's options as Japan and its firms expect them, ``(..., G, M, N)`` (firms ``(F, ...)``)."""

    welfare: np.ndarray  # national welfare, $bn per quarter
    profits: np.ndarray  # each firm's profit with the government's support, $bn per quarter


class _Sides(NamedTuple):
    """What Japan expects at every (deal, compliance) option, split by side (:func:`option_menu`)."""

    tariff: np.ndarray  # (G, M, N) expected tariff
    china_welfare: np.ndarray  # welfare terms that do not depend on the tariff or the deal
    us_welfare: np.ndarray  # welfare terms that do
    china_firms: payoffs.FirmSide  # each firm's China side and its loss, (F, ..., M, N)


def _menu_sides(
    view: WorldView, p: Params, us: UsStance, cn: ChinaStance, shock: np.ndarray
) -> _Sides:
    """The China side per compliance cell and the US side per (deal, cell), as Japan expects."""
    c, g = compliance_options(p), deal_options()
    inst = expected_instruments(c, g, us, cn, view, p)
    china_w = payoffs.welfare_china_side(
        c, view.compliance, inst.access, inst.restriction, view.dependence, us.demand, shock, p
    )
    us_w = payoffs.welfare_us_side(inst.tariff, g, shock, p)
    china_f = payoffs.firm_china_side(
        c, inst.access, inst.restriction, view.dependence, shock, view.china_share, p
    )
    return _Sides(inst.tariff, china_w, us_w, china_f)


def option_menu(
    view: WorldView, p: Params, us: UsStance, cn: ChinaStance, shock: np.ndarray
) -> Menu:
    """Welfare and firms' profits at every deal level and compliance cell, as Japan expects them.

    The China side (restriction, access, security) is computed once per compliance cell and
    the US side (tariff, deal) per (deal, cell), then added: the stances' option axes (a
    strategic state's severities) multiply only the side they change.
    """
    sides = _menu_sides(view, p, us, cn, shock)
    china_w, us_w, china_f = sides.china_welfare, sides.us_welfare, sides.china_firms
    us_f = payoffs.firm_us_side(sides.tariff, shock, p)
    nd = max(china_f.profit.ndim, us_f.profit.ndim)
    china_profit, china_loss = (_lift(x, nd) for x in china_f)
    us_profit, us_loss = (_lift(x, nd) for x in us_f)
    support = payoffs.support_paid(china_loss + us_loss, p)
    welfare = china_w + us_w - (p.mcpf - 1.0) * sequential_sum(support)
    return Menu(welfare, china_profit + us_profit + support)


def objective_menu(
    view: WorldView, p: Params, us: UsStance, cn: ChinaStance, shock: np.ndarray
) -> np.ndarray:
    """The government's objective at every (deal, compliance) option, ``(..., G, M, N)``.

    What :func:`option_menu` plus :func:`lobbied_profit` give (last round's lobbying), summed
    over firms before the stances' option axes multiply it (:func:`option_objective`). Used
    where a strategic state anticipates Japan.
    """
    c, g = compliance_options(p), deal_options()
    inst = expected_instruments(c, g, us, cn, view, p)
    volume = payoffs.us_volume(inst.tariff, p)
    return option_objective(c, g, inst, volume, view, p, us.demand, shock)


def option_objective(
    c: np.ndarray,
    g: np.ndarray | float,
    inst: Instruments,
    volume: np.ndarray,
    view: WorldView,
    p: Params,
    demand: np.ndarray,
    shock: np.ndarray,
) -> np.ndarray:
    """The government's objective at compliance ``c`` and deal ``g`` with instruments ``inst``
    (US import ``volume`` at their tariff), at last round's lobbying; elementwise.

    A firm's profit plus its support is ``china + share x china loss + (1 - share) x US
    profit + share x US exposure``, so the firm axis is summed away one firm at a time, in
    calibration order. The numpy engine evaluates it on whole option arrays, the compiled
    engine option by option on numbers (the China part once for every deal level).
    """
    china = objective_china_part(c, inst.access, inst.restriction, view, p, demand, shock)
    return objective_us_part(china, inst.tariff, volume, g, view, p, shock)


class ChinaPart(NamedTuple):
    """The parts of :func:`option_objective` that neither the tariff nor the deal moves."""

    welfare: np.ndarray  # welfare_china_side, $bn per quarter
    loss: np.ndarray  # firms' China-side losses (access cuts), summed
    kept: np.ndarray  # firms' China-side profit plus support, lobbying-weighted, summed
    exposed: np.ndarray  # firms' US-exposed profit (before the shock), summed
    exposed_kept: np.ndarray  # the same, lobbying-weighted


def objective_china_part(
    c: np.ndarray,
    access: np.ndarray,
    restriction: np.ndarray,
    view: WorldView,
    p: Params,
    demand: np.ndarray,
    shock: np.ndarray,
) -> ChinaPart:
    """:class:`ChinaPart` at compliance ``c`` with China's ``access`` and ``restriction``."""
    welfare = payoffs.welfare_china_side(
        c, view.compliance, access, restriction, view.dependence, demand, shock, p
    )
    share = p.firm_support_share
    loss = kept = exposed = exposed_kept = welfare  # (typed; every one is set at firm 0)
    for f in range(p.firm_profit.shape[0]):
        firm = entry(payoffs.firm_profiles(p), f)
        weight = _lobbying_weight_of(f, view, p)
        china = payoffs.firm_china_terms(
            c, access, restriction, view.dependence, shock, view.china_share[f], firm, p
        )
        firm_kept = (china.profit + share * china.loss) * weight
        firm_exposed = firm.profit * firm.us_exposure
        if f == 0:
            loss, kept = china.loss, firm_kept
            exposed, exposed_kept = firm_exposed, weight * firm_exposed
        else:
            loss, kept = loss + china.loss, kept + firm_kept
            exposed, exposed_kept = exposed + firm_exposed, exposed_kept + weight * firm_exposed
    return ChinaPart(welfare, loss, kept, exposed, exposed_kept)


def objective_us_part(
    china: ChinaPart,
    tariff: np.ndarray,
    volume: np.ndarray,
    g: np.ndarray | float,
    view: WorldView,
    p: Params,
    shock: np.ndarray,
) -> np.ndarray:
    """:func:`option_objective` from its :class:`ChinaPart`, the ``tariff``, the US import
    ``volume`` at it and the deal level ``g``."""
    us_w = payoffs.welfare_us_at_volume(tariff, volume, g, shock, p)
    share = p.firm_support_share
    us_kept = us_paid = us_w  # (typed; set at firm 0)
    for f in range(p.firm_profit.shape[0]):
        exposed = p.firm_profit[f] * p.us_tariff_exposure[f]
        firm_paid = exposed * payoffs.us_margin_kept(tariff, p.margin[f], p)
        firm_kept = _lobbying_weight_of(f, view, p) * firm_paid
        if f == 0:
            us_kept, us_paid = firm_kept, firm_paid
        else:
            us_kept, us_paid = us_kept + firm_kept, us_paid + firm_paid
    us_volume = volume * shock
    us_profit = us_volume * us_paid
    support = share * (china.loss + china.exposed * shock - us_profit)
    welfare = china.welfare + us_w - (p.mcpf - 1.0) * support
    exposed_part = china.exposed_kept * shock * share
    return welfare + china.kept + (1.0 - share) * us_volume * us_kept + exposed_part


def _lobbying_weight_of(f: int, view: WorldView, p: Params) -> np.ndarray:
    """Firm ``f``'s weight in the objective at its last effort (:func:`lobbying_weight`)."""
    return lobbying_weight(
        p.lobbying_efficiency[f], p.lobbying_strength[f], view.effort[f], p.welfare_weight
    )


def _lift(x: np.ndarray, ndim: int) -> np.ndarray:
    """A firm array ``(F, ...)`` with option axes added after F up to ``ndim`` axes."""
    return x.reshape(x.shape[:1] + (1,) * (ndim - x.ndim) + x.shape[1:])


def lobbying_weights(effort: np.ndarray, p: Params) -> np.ndarray:
    """Weight the government gives each firm's profit against welfare, shape ``(F, N)``.

    Grossman-Helpman: the government weighs welfare ``welfare_weight`` times a dollar of
    contributions, so a lobbying firm's profit counts with ``effort x efficiency x strength /
    welfare_weight``.
    """
    return lobbying_weight(p.lobbying_efficiency, p.lobbying_strength, effort, p.welfare_weight)


def lobbying_weight(
    efficiency: np.ndarray, strength: np.ndarray, effort: np.ndarray, welfare_weight: np.ndarray
) -> np.ndarray:
    """:func:`lobbying_weights` elementwise: ``efficiency x strength x effort / welfare_weight``."""
    return efficiency * strength * effort / welfare_weight


def lobbied_profit(profit_menu: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum over firms of weight x profit, in a fixed order, shape ``(..., N)``."""
    lead = (1,) * (profit_menu.ndim - weights.ndim)
    w = weights.reshape(weights.shape[:1] + lead + weights.shape[1:])
    return sequential_sum(profit_menu * w)


def joint_probabilities(objective: np.ndarray, p: Params) -> np.ndarray:
    """The government's logit over its (deal, compliance) options on axes -3, -2, on its stakes."""
    shape = objective.shape
    flat = objective.reshape(shape[:-3] + (shape[-3] * shape[-2], shape[-1]))
    prob = contextual_probabilities(np.moveaxis(flat, -2, 0), p.compliance_temperature)
    return np.moveaxis(prob, 0, -2).reshape(shape)


def _over_options(x: np.ndarray) -> np.ndarray:
    """Flatten the (deal, compliance) axes -3, -2 into one axis first: ``(G M, ..., N)``."""
    shape = x.shape
    flat = x.reshape(shape[:-3] + (shape[-3] * shape[-2], shape[-1]))
    return np.moveaxis(flat, -2, 0)


#: How the objective menu is evaluated: :func:`objective_menu` (numpy) or an engine's compiled
#: evaluation of the same formulas (:mod:`sim.engine.compiled`), same arguments, same numbers.
ObjectiveMenu = Callable[[WorldView, Params, UsStance, ChinaStance, np.ndarray], np.ndarray]


def japan_compliance_probabilities(
    view: WorldView,
    p: Params,
    us: UsStance,
    cn: ChinaStance,
    shock: np.ndarray,
    objective: ObjectiveMenu = objective_menu,
) -> np.ndarray:
    """Japan's logit over (deal, compliance) given the stances (last round's lobbying), ``(..., G, M, N)``."""
    return joint_probabilities(objective(view, p, us, cn, shock), p)


# --- step 1: the United States ------------------------------------------------------------
def fix_us_tariff(t: int, stance: UsStance, p: Params) -> UsStance:
    """Where a timeline event sets the US tariff this round, the tariff is that, whatever Japan does."""
    fixed = p.fixed_us_tariff[t]
    on = ~np.isnan(fixed)
    if not on.any():
        return stance
    return stance._replace(
        tariff_fixed=np.where(on, fixed, stance.tariff_fixed),
        tariff_slope=np.where(on, 0.0, stance.tariff_slope),
    )


def us_reactive_stance(t: int, view: WorldView, p: Params) -> UsStance:
    """Tit-for-tat style: demand = pressure; tariff rises with Japan's shortfall, harsher as trust falls."""
    stance = UsStance(
        demand=p.security_pressure[t],
        tariff_fixed=p.us_base_tariff,
        tariff_slope=p.tariff_level[t] * _severity(view.trust_us, p),
        deal_relief=p.deal_relief,
    )
    return fix_us_tariff(t, stance, p)


def us_stance(
    t: int,
    view: WorldView,
    p: Params,
    u: np.ndarray,
    shock: np.ndarray,
    last_cn: ChinaStance,
    objective: ObjectiveMenu = objective_menu,
) -> UsStance:
    """The US stance for round ``t`` under each world's policy (reactive, scripted or strategic).

    Strategic: a leader that knows Japan's payoffs evaluates Japan's quantal response (deal
    and compliance) to each multiplier of the scenario's tariff severity (given last round's
    China stance) and chooses by logit on its own expected payoff.
    """
    stance = us_reactive_stance(t, view, p)
    codes = p.us_policy
    if (codes == SCRIPTED).any():
        scripted = UsStance(
            demand=p.path_us_demand[t],
            tariff_fixed=p.path_us_tariff[t],
            tariff_slope=np.zeros(p.n_worlds),
            deal_relief=p.deal_relief,
        )
        stance = _select(codes == SCRIPTED, scripted, stance)
    if (codes == STRATEGIC).any():
        m = len(STATE_MENU)
        base = us_reactive_stance(t, view, p)
        options = UsStance(*(np.broadcast_to(x, (m, p.n_worlds)) for x in base))._replace(
            tariff_slope=STATE_MENU[:, None] * base.tariff_slope
        )
        cn_b = ChinaStance(*(x[None, :] for x in last_cn))
        us_b = UsStance(*(x[:, None, None, :] for x in options))
        prob = japan_compliance_probabilities(view, p, us_b, cn_b, shock, objective)  # (S, G, M, N)
        c, g = compliance_options(p)[None], deal_options()[None]
        tariff = payoffs.realized_tariff(c, g, us_b)
        payoff = payoffs.us_payoff(c, tariff, g, shock, p)
        value = expectation(_over_options(prob), _over_options(payoff))
        pick = sample_index(contextual_probabilities(value, p.us_temperature), u)
        stance = _select(codes == STRATEGIC, _pick(options, pick), stance)
    return stance


# --- step 2: China ---------------------------------------------------------------------------
def fix_china(t: int, stance: ChinaStance, p: Params) -> ChinaStance:
    """Where timeline events set China's restriction or market access this round, they are
    those values whatever Japan does: no retaliation on compliance, no embargo on top."""
    restriction, access = p.fixed_cn_restriction[t], p.fixed_cn_access[t]
    set_r, set_a = ~np.isnan(restriction), ~np.isnan(access)
    if not (set_r.any() or set_a.any()):
        return stance
    return stance._replace(
        restriction_fixed=np.where(set_r, restriction, stance.restriction_fixed),
        embargo=np.where(set_r, 0.0, stance.embargo),
        coercion=np.where(set_r | set_a, 0.0, stance.coercion),
        access_fixed=np.where(set_a, access, stance.access_fixed),
    )


def china_reactive_stance(t: int, view: WorldView, p: Params, red_line: np.ndarray) -> ChinaStance:
    """Retaliation above its line, harsher as trust falls, and any embargo of the scenario."""
    announced = p.announced_red_line[t]
    known = ~np.isnan(announced)
    n = p.n_worlds
    stance = ChinaStance(
        red_line=np.where(known, announced, red_line),
        restriction_fixed=p.embargo_restriction[t],
        embargo=p.embargo_conditional[t],
        embargo_line=p.embargo_line[t],
        embargo_lifts=np.ones(n, dtype=bool),
        coercion=p.coercion[t] * _severity(view.trust_cn, p),
        access_fixed=np.ones(n),
        line_known=known,
    )
    return fix_china(t, stance, p)


def china_stance(
    t: int,
    view: WorldView,
    p: Params,
    u: np.ndarray,
    shock: np.ndarray,
    us: UsStance,
    red_line: np.ndarray,
    objective: ObjectiveMenu = objective_menu,
) -> ChinaStance:
    """China's stance for round ``t`` under each world's policy; ``red_line`` is its true line.

    Strategic: like the US, a multiplier of the scenario's coercion chosen by logit on China's
    expected payoff under Japan's quantal response.
    """
    stance = china_reactive_stance(t, view, p, red_line)
    codes = p.china_policy
    if (codes == SCRIPTED).any():
        scripted = stance._replace(
            restriction_fixed=p.path_cn_restriction[t],
            coercion=np.zeros(p.n_worlds),
            access_fixed=p.path_cn_access[t],
        )
        stance = _select(codes == SCRIPTED, scripted, stance)
    if (codes == STRATEGIC).any():
        base = china_reactive_stance(t, view, p, red_line)
        m = len(STATE_MENU)
        options = ChinaStance(*(np.broadcast_to(x, (m, p.n_worlds)) for x in base))._replace(
            coercion=STATE_MENU[:, None] * base.coercion
        )
        cn_b = ChinaStance(*(x[:, None, None, :] for x in options))
        us_b = UsStance(*(x[None, :] for x in us))
        prob = japan_compliance_probabilities(view, p, us_b, cn_b, shock, objective)  # (S, G, M, N)
        c, g = compliance_options(p)[None], deal_options()[None]
        inst = payoffs.instruments(c, g, us_b, cn_b, p)
        payoff = payoffs.china_payoff(c, inst.restriction, inst.access, shock, p)
        value = expectation(_over_options(prob), _over_options(np.broadcast_to(payoff, prob.shape)))
        pick = sample_index(contextual_probabilities(value, p.china_temperature), u)
        stance = _select(codes == STRATEGIC, _pick(options, pick), stance)
    return stance


# --- step 3: firms ------------------------------------------------------------------------------
def lobbying_choice(view: WorldView, p: Params, menu: Menu, u: np.ndarray) -> np.ndarray:
    """Each firm's lobbying effort 0-1, a logit choice on its own stakes, shape ``(F, N)``.

    A firm values effort ``e`` by what it expects it to add to its profit through the
    government's quantal response, less its cost ``lobbying_cost x profit x e``. With the
    government's logit ``P`` over its (deal, compliance) options at last round's efforts (the
    firm's own included) and scale ``s`` (its stakes times its temperature), raising the
    firm's weight by ``dw`` raises its expected profit by ``dw Var_P(pi_f) / s`` (the logit's
    own derivative, taken at last round's weights).
    """
    w_last = lobbying_weights(view.effort, p)
    base = menu.welfare + lobbied_profit(menu.profits, w_last)  # (G, M, N)
    prob = _over_options(joint_probabilities(base, p))  # (G M, N)
    scale = np.maximum(stakes(_over_options(base)), np.finfo(float).tiny)
    scale = scale * p.compliance_temperature
    profits = _over_options(menu.profits)  # (G M, F, N)
    mean = expectation(profits, prob[:, None])  # (F, N)
    spread = profits - mean[None]
    variance = expectation(spread * spread, prob[:, None])  # (F, N)
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
    deal: np.ndarray  # level 0-1 of a full deal
    diversification: np.ndarray  # level 0-1 of the highest quarterly spend
    kept: np.ndarray  # True where inertia kept last round's compliance and deal


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
    """Japan's compliance, deal and diversification for round ``t`` under each world's policy.

    ``objective`` is the government's objective at each (deal, compliance cell), ``(G, M, N)``:
    one logit over the pairs, then a continuous compliance within the chosen cell.
    """
    m = objective.shape[1]
    prob = _over_options(joint_probabilities(objective, p))  # (G M, N)
    pair, position = sample_cell(prob, draws.compliance)
    chosen_compliance = ((pair % m) + position) / m
    chosen_deal = DEAL_MENU[pair // m]
    kept = draws.inertia < p.inertia
    compliance = np.where(kept, view.compliance, chosen_compliance)
    deal = np.where(kept, view.deal, chosen_deal)
    codes = p.japan_policy
    if (codes == SCRIPTED).any():
        compliance = np.where(codes == SCRIPTED, p.path_jp_compliance[t], compliance)
        deal = np.where(codes == SCRIPTED, 0.0, deal)
    if (codes == REACTIVE).any():
        # One step toward the side that hit harder last round (its cost at current compliance).
        us_hit = payoffs.realized_tariff(view.compliance, 0.0, us) - p.us_base_tariff
        cn_hit = payoffs.realized_restriction(view.compliance, cn)
        step = np.where(
            us_hit > cn_hit, REACTIVE_STEP, np.where(cn_hit > us_hit, -REACTIVE_STEP, 0.0)
        )
        moved = np.minimum(np.maximum(view.compliance + step, 0.0), 1.0)
        compliance = np.where(codes == REACTIVE, moved, compliance)
        deal = np.where(codes == REACTIVE, 0.0, deal)
    diversification = diversification_choice(view, cn, p, draws.diversification)
    return JapanChoice(compliance, deal, diversification, kept & (codes == STRATEGIC))
