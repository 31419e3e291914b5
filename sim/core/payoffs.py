"""Payoffs: every agent's money per round, as pure functions over numpy arrays.

All money is **$bn per quarter**. Arrays broadcast: option axes (a menu of Japan's
compliance levels, a state's menu of severities) come first, the world axis ``N`` last (or
``N, F`` for firms). Parameters come from :class:`sim.core.params.Params`, shape ``(N,)``.

Instruments are *schedules* announced before Japan moves (round steps 1-2): the US tariff
rises with Japan's shortfall from the US demand, China's restriction and access cut rise
with Japan's compliance above China's red line. ``realized_*`` evaluate a schedule at a
compliance level.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core.params import Params


class UsStance(NamedTuple):
    """What the US announced this round (step 1); shapes ``(..., N)``."""

    demand: np.ndarray  # compliance the US demands, 0-1
    tariff_fixed: np.ndarray  # unconditional tariff, ad-valorem share
    tariff_slope: np.ndarray  # extra tariff at a full shortfall, ad-valorem share


class ChinaStance(NamedTuple):
    """China's stance this round (step 2); shapes ``(..., N)``.

    Japan sees everything but the red line, unless China announces it (``line_known``: an
    embargo's demand); otherwise Japan plans with its belief (:mod:`sim.core.beliefs`).
    """

    red_line: np.ndarray  # compliance China tolerates, 0-1 (its true line this round)
    restriction_fixed: np.ndarray  # unconditional rare-earth restriction, share withheld
    coercion: np.ndarray  # extra restriction at full excess over the red line, share
    access_fixed: np.ndarray  # market access before retaliation, 0-1
    line_known: np.ndarray  # True where the red line is announced (known to Japan)


class WelfareTerms(NamedTuple):
    """Japan's national welfare by component, $bn per quarter (costs are positive)."""

    gains_cn: np.ndarray
    gains_us: np.ndarray
    tariff_cost: np.ndarray
    shortage_cost: np.ndarray
    access_cost: np.ndarray
    security_cost: np.ndarray
    adjustment_cost: np.ndarray
    diversification_cost: np.ndarray


class Instruments(NamedTuple):
    """Instruments evaluated at compliance level(s): tariff, restriction, access, shapes ``(..., N)``."""

    tariff: np.ndarray  # ad-valorem share 0-1
    restriction: np.ndarray  # share of critical inputs withheld 0-1
    access: np.ndarray  # market access 0-1


def shortfall(compliance: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Share of the US demand Japan falls short of, 0-1 (0 when compliance meets it)."""
    return np.maximum(0.0, demand - compliance) / np.maximum(demand, 0.25)


def excess(compliance: np.ndarray, red_line: np.ndarray) -> np.ndarray:
    """Japan's compliance above China's red line, as a share of the room above it, 0-1."""
    return np.maximum(0.0, compliance - red_line) / np.maximum(1.0 - red_line, 0.25)


def realized_tariff(compliance: np.ndarray, us: UsStance) -> np.ndarray:
    """US tariff on Japanese goods at this compliance, ad-valorem share 0-1."""
    # Fixed part and slope are non-negative, so only the upper bound can bind.
    return np.minimum(us.tariff_fixed + us.tariff_slope * shortfall(compliance, us.demand), 1.0)


def realized_restriction(compliance: np.ndarray, cn: ChinaStance) -> np.ndarray:
    """Share of rare-earth and critical-input exports China withholds, 0-1."""
    return np.minimum(cn.restriction_fixed + cn.coercion * excess(compliance, cn.red_line), 1.0)


def instruments(compliance: np.ndarray, us: UsStance, cn: ChinaStance, p: Params) -> Instruments:
    """Tariff, restriction and access the announced schedules give at ``compliance``."""
    ex = excess(compliance, cn.red_line)
    return Instruments(
        tariff=realized_tariff(compliance, us),
        restriction=np.minimum(cn.restriction_fixed + cn.coercion * ex, 1.0),
        access=np.maximum(cn.access_fixed - p.access_cut * cn.coercion * ex, 0.0),
    )


def input_shortage(restriction: np.ndarray, dependence: np.ndarray, p: Params) -> np.ndarray:
    """Critical inputs missing, in units of Japan's rare-earth supply (0 to about 1.1)."""
    return restriction * (dependence + p.component_exposure)


def japan_welfare_terms(
    compliance: np.ndarray,
    previous_compliance: np.ndarray,
    diversification: np.ndarray | float,
    tariff: np.ndarray,
    restriction: np.ndarray,
    access: np.ndarray,
    dependence: np.ndarray,
    demand: np.ndarray,
    shock: np.ndarray,
    p: Params,
) -> WelfareTerms:
    """Japan's welfare components at given actions, $bn per quarter.

    ``diversification`` is a level 0-1 of the calibrated highest spend.
    """
    us_volume = np.maximum(0.0, 1.0 - p.elasticity * tariff)
    return WelfareTerms(
        gains_cn=p.gains
        * shock
        * (p.jp_exports_cn * access * (1.0 - p.chip_share * compliance) + p.jp_imports_cn),
        gains_us=p.gains * shock * (p.exports_us * us_volume + p.imports_us),
        tariff_cost=p.incidence * tariff * p.exports_us * us_volume * shock,
        shortage_cost=p.input_disruption * input_shortage(restriction, dependence, p),
        access_cost=p.access_loss * (1.0 - access),
        security_cost=p.alliance_value * shortfall(compliance, demand),
        adjustment_cost=p.adjustment * np.abs(compliance - previous_compliance),
        diversification_cost=p.diversification_spend * diversification,
    )


def japan_welfare(terms: WelfareTerms, p: Params) -> np.ndarray:
    """National welfare, $bn per quarter: gains minus losses, losses weighted by fiscal weakness."""
    losses = (
        terms.tariff_cost
        + terms.shortage_cost
        + terms.access_cost
        + terms.security_cost
        + terms.adjustment_cost
        + terms.diversification_cost
    )
    return terms.gains_cn + terms.gains_us - p.fiscal_multiplier * losses


def firm_profits(
    compliance: np.ndarray,
    tariff: np.ndarray,
    restriction: np.ndarray,
    access: np.ndarray,
    dependence: np.ndarray,
    shock: np.ndarray,
    china_share: np.ndarray,
    p: Params,
) -> np.ndarray:
    """Each firm's operating profit before lobbying costs, $bn per quarter, shape ``(F, ..., N)``.

    profit = base x shock x [s a (1 - x c) + (1 - s)(1 - e h) - k r (D + m)], with s the China
    share, a access, x export-control exposure, c compliance, e US-tariff exposure,
    h = min(1, tariff x (incidence + elasticity)) the tariff hit, k rare-earth intensity,
    r restriction, D dependence, m component exposure. World-level inputs have shape
    ``(..., N)``; ``china_share`` and firm parameters are ``(F, N)``.
    """
    world_shape = np.broadcast_shapes(
        np.shape(compliance), tariff.shape, restriction.shape, access.shape, np.shape(dependence)
    )
    access = np.broadcast_to(access, world_shape)
    lead = (1,) * (len(world_shape) - 1)

    def per_firm(x: np.ndarray) -> np.ndarray:  # (F, N) -> (F, 1, ..., N)
        return x.reshape(x.shape[:1] + lead + x.shape[1:])

    hit = np.minimum(1.0, tariff * (p.incidence + p.elasticity))
    shortage = input_shortage(restriction, dependence, p)
    s = china_share
    profit = per_firm(1.0 - s) + per_firm(s) * access
    profit -= per_firm(s * p.export_control_exposure) * (access * compliance)
    profit -= per_firm((1.0 - s) * p.us_tariff_exposure) * hit
    profit -= per_firm(p.rare_earth_intensity) * shortage
    profit *= per_firm(p.firm_profit) * shock
    return profit


def lobbying_cost(effort: np.ndarray, p: Params) -> np.ndarray:
    """What lobbying costs each firm, $bn per quarter, shape ``(F, N)``."""
    return p.lobbying_cost * p.firm_profit * effort


def us_payoff(
    compliance: np.ndarray, tariff: np.ndarray, shock: np.ndarray, p: Params
) -> np.ndarray:
    """US strategic payoff, $bn per quarter: value of Japan's alignment minus tariff costs to US buyers."""
    volume = np.maximum(0.0, 1.0 - p.elasticity * tariff)
    buyers_cost = (1.0 - p.incidence) * tariff * p.exports_us * volume * shock
    lost_trade = p.gains * shock * p.exports_us * (1.0 - volume)
    return p.us_alignment_value * compliance - buyers_cost - lost_trade


def china_payoff(
    compliance: np.ndarray,
    restriction: np.ndarray,
    access: np.ndarray,
    shock: np.ndarray,
    p: Params,
) -> np.ndarray:
    """China's strategic payoff, $bn per quarter: gains from trade with Japan minus the cost of Japan's tech controls."""
    trade = p.jp_imports_cn * (1.0 - p.component_exposure * restriction) + p.jp_exports_cn * access
    return p.gains * shock * trade - p.cn_tech_loss * compliance


def diversification_value(
    level: np.ndarray,
    room: np.ndarray,
    expected_restriction: np.ndarray,
    p: Params,
) -> np.ndarray:
    """Expected net value of investing ``level`` (0-1 of the highest spend) now, $bn.

    New supply arrives after the lag and lowers dependence by ``diversification_rate x level``
    (at most the ``room`` left above the floor once investments under way arrive); each
    quarter of the planning horizon it then avoids ``input_disruption x expected restriction``
    per unit of dependence. Value = F x (avoided losses - spend), F the fiscal weight of losses.
    """
    reduction = np.minimum(p.diversification_rate * level, room)
    avoided = p.input_disruption * expected_restriction * reduction * p.planning_horizon
    return p.fiscal_multiplier * (avoided - p.diversification_spend * level)
