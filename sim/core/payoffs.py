"""Payoffs: every agent's money per round, as pure functions over numpy arrays.

All money is **$bn per quarter**. Arrays broadcast: option axes (Japan's deal levels and
compliance cells, a state's menu of severities) come first, the world axis ``N`` last (or
``F, ..., N`` for firms). Parameters come from :class:`sim.core.params.Params`, shape ``(N,)``.

Instruments are *schedules* set before Japan moves (round steps 1-2): the US tariff rises
with Japan's shortfall from the US demand, less what a deal buys; China's restriction and
access cut rise with Japan's compliance above China's red line, and an embargo withholds a
further share until Japan concedes to its demand. ``realized_*`` evaluate a schedule at a
choice.

Each channel is counted once (ODD 7.4): trade with the US and China enters national welfare
through the gains from trade and the tariff's terms-of-trade cost; Japanese firms' local
operations in China through ``access_loss``; firms' own profits enter the government's
objective only through lobbying (:func:`sim.core.policies.lobbied_profit`). Government
outlays (defence to replace US protection, diversification, deals, support for firms) cost
the marginal cost of public funds ``mcpf`` per dollar.
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
    deal_relief: np.ndarray  # share of the punitive tariff a full deal removes, 0-1


class ChinaStance(NamedTuple):
    """China's stance this round (step 2); shapes ``(..., N)``.

    Japan sees everything but the red line, unless China announces it (``line_known``); an
    embargo's demand ``embargo_line`` is always announced. Whether China really lifts the
    embargo on concession (``embargo_lifts``) Japan only believes (its reputation).
    """

    red_line: np.ndarray  # compliance China tolerates, 0-1 (its true line this round)
    restriction_fixed: np.ndarray  # unconditional restriction (a punitive embargo), share
    embargo: np.ndarray  # restriction withheld until Japan concedes (a coercive embargo), share
    embargo_line: np.ndarray  # the embargo's demand: compliance at or below which it lifts
    embargo_lifts: np.ndarray  # True where China does lift on concession
    coercion: np.ndarray  # extra restriction at full excess over the red line, share
    access_fixed: np.ndarray  # market access before retaliation, 0-1
    line_known: np.ndarray  # True where the red line is announced (known to Japan)


class WelfareTerms(NamedTuple):
    """Japan's national welfare by component, $bn per quarter (costs and outlays positive)."""

    gains_cn: np.ndarray
    gains_us: np.ndarray
    tariff_cost: np.ndarray
    shortage_cost: np.ndarray
    access_cost: np.ndarray
    adjustment_cost: np.ndarray
    security_outlay: np.ndarray
    diversification_outlay: np.ndarray
    deal_outlay: np.ndarray
    support_outlay: np.ndarray


class Instruments(NamedTuple):
    """Instruments at a choice: tariff, restriction, access, shapes ``(..., N)``."""

    tariff: np.ndarray  # ad-valorem share
    restriction: np.ndarray  # share of critical inputs withheld 0-1
    access: np.ndarray  # market access 0-1


def shortfall(compliance: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Share of the US demand Japan falls short of, 0-1 (0 when compliance meets it)."""
    return np.maximum(0.0, demand - compliance) / np.maximum(demand, 0.25)


def excess(compliance: np.ndarray, red_line: np.ndarray) -> np.ndarray:
    """Japan's compliance above China's red line, as a share of the room above it, 0-1."""
    return np.maximum(0.0, compliance - red_line) / np.maximum(1.0 - red_line, 0.25)


def realized_tariff(compliance: np.ndarray, deal: np.ndarray | float, us: UsStance) -> np.ndarray:
    """US tariff at this compliance and deal level (0-1 of a full deal), ad-valorem share."""
    relief = 1.0 - us.deal_relief * deal
    return np.minimum(
        us.tariff_fixed + us.tariff_slope * shortfall(compliance, us.demand) * relief, 1.0
    )


def embargo_applies(compliance: np.ndarray, cn: ChinaStance) -> np.ndarray:
    """1 where the coercive embargo bites: Japan has not conceded, or China does not lift."""
    conceded = compliance <= cn.embargo_line + 1e-12
    return np.where(conceded & cn.embargo_lifts, 0.0, 1.0)


def realized_restriction(compliance: np.ndarray, cn: ChinaStance) -> np.ndarray:
    """Share of rare-earth and critical-input exports China withholds, 0-1."""
    retaliation = cn.coercion * excess(compliance, cn.red_line)
    embargo = cn.embargo * embargo_applies(compliance, cn)
    return np.minimum(cn.restriction_fixed + embargo + retaliation, 1.0)


def instruments(
    compliance: np.ndarray, deal: np.ndarray | float, us: UsStance, cn: ChinaStance, p: Params
) -> Instruments:
    """Tariff, restriction and access the stances give at this compliance and deal level."""
    ex = excess(compliance, cn.red_line)
    return Instruments(
        tariff=realized_tariff(compliance, deal, us),
        restriction=realized_restriction(compliance, cn),
        access=np.maximum(cn.access_fixed - p.access_cut * cn.coercion * ex, 0.0),
    )


def us_volume(tariff: np.ndarray, p: Params) -> np.ndarray:
    """US imports from Japan relative to no tariff: ``(1 + tariff) ** -elasticity`` (constant elasticity)."""
    return (1.0 + tariff) ** (-p.elasticity)


def input_shortage(restriction: np.ndarray, dependence: np.ndarray, p: Params) -> np.ndarray:
    """Critical inputs missing, in units of Japan's rare-earth supply (0 to about 1.1)."""
    return restriction * (dependence + p.component_exposure)


def japan_welfare_terms(
    compliance: np.ndarray,
    previous_compliance: np.ndarray,
    diversification: np.ndarray | float,
    deal: np.ndarray | float,
    inst: Instruments,
    dependence: np.ndarray,
    demand: np.ndarray,
    shock: np.ndarray,
    support: np.ndarray | float,
    p: Params,
) -> WelfareTerms:
    """Japan's welfare components at given choices and instruments, $bn per quarter.

    ``diversification`` and ``deal`` are levels 0-1 of the highest spend and of a full deal;
    ``support`` is the government's compensation to firms, $bn per quarter.
    """
    volume = us_volume(inst.tariff, p)
    return WelfareTerms(
        gains_cn=p.gains
        * shock
        * (p.jp_exports_cn * inst.access * (1.0 - p.chip_share * compliance) + p.jp_imports_cn),
        gains_us=p.gains * shock * (p.exports_us * volume + p.imports_us),
        tariff_cost=p.incidence * inst.tariff * p.exports_us * volume * shock,
        shortage_cost=p.input_disruption * input_shortage(inst.restriction, dependence, p),
        access_cost=p.access_loss * (1.0 - inst.access),
        adjustment_cost=p.adjustment * np.abs(compliance - previous_compliance),
        security_outlay=p.alliance_value * shortfall(compliance, demand),
        diversification_outlay=p.diversification_spend * diversification,
        deal_outlay=p.deal_cost * deal,
        support_outlay=np.asarray(support, dtype=float),
    )


def japan_welfare(terms: WelfareTerms, p: Params) -> np.ndarray:
    """National welfare, $bn per quarter: gains minus losses, outlays at the cost of public funds.

    Outlays (defence to replace US protection, diversification, deals) cost ``mcpf`` per
    dollar; support to firms is a transfer within Japan, so only its excess cost
    ``mcpf - 1`` is lost.
    """
    losses = terms.tariff_cost + terms.shortage_cost + terms.access_cost + terms.adjustment_cost
    outlays = terms.security_outlay + terms.diversification_outlay + terms.deal_outlay
    return (
        terms.gains_cn
        + terms.gains_us
        - losses
        - p.mcpf * outlays
        - (p.mcpf - 1.0) * terms.support_outlay
    )


def _per_firm(x: np.ndarray, world_ndim: int) -> np.ndarray:
    """``(F, N)`` -> ``(F, 1, ..., N)`` with ``world_ndim - 1`` option axes."""
    return x.reshape(x.shape[:1] + (1,) * (world_ndim - 1) + x.shape[1:])


class FirmChannels(NamedTuple):
    """Each firm's profit by channel, $bn per quarter, shapes ``(F, ..., N)``."""

    china_local: np.ndarray  # local production in China (access)
    china_exports: np.ndarray  # exports from Japan to China (access, export controls)
    us_exports: np.ndarray  # exports from Japan to the US (tariff through margins, volume)
    rest: np.ndarray  # every other market
    shortage: np.ndarray  # lost to the critical-input shortage (Japan-based production)


def firm_channels(
    compliance: np.ndarray,
    inst: Instruments,
    dependence: np.ndarray,
    shock: np.ndarray,
    china_share: np.ndarray,
    p: Params,
) -> FirmChannels:
    """Each firm's operating profit by channel, $bn per quarter.

    A tariff ``t`` cuts the exporter's price by ``incidence x t`` (a share of revenue), which
    costs ``incidence x t / margin`` of the profit those exports earn, and volume falls to
    ``(1 + t) ** -elasticity``. Local production in China needs no Chinese rare earths shipped
    to Japan; exports from Japan to China lose ``export_control_exposure x compliance``.
    """
    world = np.broadcast_shapes(
        np.shape(compliance), inst.tariff.shape, inst.restriction.shape, inst.access.shape
    )
    nd = len(world)

    def firm(x: np.ndarray) -> np.ndarray:
        return _per_firm(x, nd)

    base = firm(p.firm_profit) * shock
    s_local = firm(china_share * p.china_local_share)
    s_export = firm(china_share * (1.0 - p.china_local_share))
    u = firm(p.us_tariff_exposure)
    per_revenue = 1.0 - p.incidence * inst.tariff / firm(p.margin)
    us = u * us_volume(inst.tariff, p) * np.maximum(per_revenue, 0.0)
    shortage = input_shortage(inst.restriction, dependence, p)
    return FirmChannels(
        china_local=base * s_local * inst.access,
        china_exports=base
        * s_export
        * inst.access
        * (1.0 - firm(p.export_control_exposure) * compliance),
        us_exports=base * us,
        rest=base * (1.0 - firm(china_share) - u),
        shortage=base * firm(p.rare_earth_intensity) * (1.0 - s_local) * shortage,
    )


def firm_profits(channels: FirmChannels) -> np.ndarray:
    """Each firm's operating profit before support and lobbying, $bn per quarter, ``(F, ..., N)``."""
    return (
        channels.china_local
        + channels.china_exports
        + channels.us_exports
        + channels.rest
        - channels.shortage
    )


def firm_losses(
    channels: FirmChannels,
    compliance: np.ndarray,
    shock: np.ndarray,
    china_share: np.ndarray,
    p: Params,
) -> np.ndarray:
    """What tariffs and access cuts cost each firm against none, $bn per quarter, ``(F, ..., N)``.

    The export-control loss is Japan's own choice and the shortage is not a market closed to
    the firm, so neither is counted.
    """
    nd = channels.us_exports.ndim - 1
    base = _per_firm(p.firm_profit, nd) * shock
    s_local = _per_firm(china_share * p.china_local_share, nd)
    s_export = _per_firm(china_share * (1.0 - p.china_local_share), nd)
    controlled = 1.0 - _per_firm(p.export_control_exposure, nd) * compliance
    open_markets = base * (s_local + s_export * controlled + _per_firm(p.us_tariff_exposure, nd))
    reached = channels.china_local + channels.china_exports + channels.us_exports
    return open_markets - reached


class FirmSide(NamedTuple):
    """One side's part of each firm's profit, and what that side's instruments cost the firm
    against none (what the government's support compensates), $bn per quarter, ``(F, ..., N)``."""

    profit: np.ndarray
    loss: np.ndarray


def firm_china_side(
    compliance: np.ndarray,
    access: np.ndarray,
    restriction: np.ndarray,
    dependence: np.ndarray,
    shock: np.ndarray,
    china_share: np.ndarray,
    p: Params,
) -> FirmSide:
    """Each firm's profit from China, every non-US market and Japan-based production's shortage.

    The same channels as :func:`firm_channels` except exports to the US (:func:`firm_us_side`);
    the loss is the access cut's (export controls are Japan's own choice, the shortage no
    market closed to the firm).
    """
    nd = max(np.ndim(compliance), np.ndim(access), np.ndim(restriction), 1)
    firm = FirmProfile(*(_per_firm(x, nd) for x in firm_profiles(p)))
    return firm_china_terms(
        compliance, access, restriction, dependence, shock, _per_firm(china_share, nd), firm, p
    )


class FirmProfile(NamedTuple):
    """A firm's profile entries, ``(F, N)`` (or one firm's: ``(N,)``, a number)."""

    profit: np.ndarray  # operating profit without disruption, $bn per quarter
    local_share: np.ndarray  # share of China profits from local production in China
    us_exposure: np.ndarray  # share of profits from exports to the US
    intensity: np.ndarray  # rare-earth intensity of Japan-based production
    export_control: np.ndarray  # share of exports to China that export controls stop
    margin: np.ndarray  # operating profit per unit of revenue


def firm_profiles(p: Params) -> FirmProfile:
    """Every firm's profile, ``(F, N)``; ``firm_profiles(p)[i][f]`` is firm f's entry i."""
    return FirmProfile(
        profit=p.firm_profit,
        local_share=p.china_local_share,
        us_exposure=p.us_tariff_exposure,
        intensity=p.rare_earth_intensity,
        export_control=p.export_control_exposure,
        margin=p.margin,
    )


def firm_china_terms(
    compliance: np.ndarray,
    access: np.ndarray,
    restriction: np.ndarray,
    dependence: np.ndarray,
    shock: np.ndarray,
    china_share: np.ndarray,
    firm: FirmProfile,
    p: Params,
) -> FirmSide:
    """:func:`firm_china_side` elementwise, for firm arrays already shaped for broadcasting
    (``(F, 1, ..., N)``) or one firm's entries (the compiled engine: numbers)."""
    base = firm.profit * shock
    s_local = china_share * firm.local_share
    s_export = china_share * (1.0 - firm.local_share)
    controlled = 1.0 - firm.export_control * compliance
    china = base * (s_local + s_export * controlled)
    rest = base * (1.0 - china_share - firm.us_exposure)
    shortage = base * firm.intensity * (1.0 - s_local)
    shortage = shortage * input_shortage(restriction, dependence, p)
    return FirmSide(profit=china * access + rest - shortage, loss=china * (1.0 - access))


def us_margin_kept(tariff: np.ndarray, margin: np.ndarray, p: Params) -> np.ndarray:
    """Share of a firm's US-export profit per unit of volume left after it absorbs its part of
    the tariff: ``max(0, 1 - incidence x tariff / margin)``."""
    return np.maximum(1.0 - p.incidence * tariff / margin, 0.0)


def firm_us_side(tariff: np.ndarray, shock: np.ndarray, p: Params) -> FirmSide:
    """Each firm's profit from exports to the US at this tariff (margins, volume), and its loss."""
    nd = max(np.ndim(tariff), 1)
    exposed = _per_firm(p.firm_profit * p.us_tariff_exposure, nd) * shock
    per_revenue = us_margin_kept(tariff, _per_firm(p.margin, nd), p)
    profit = exposed * us_volume(tariff, p) * per_revenue
    return FirmSide(profit=profit, loss=exposed - profit)


def welfare_china_side(
    compliance: np.ndarray,
    previous_compliance: np.ndarray,
    access: np.ndarray,
    restriction: np.ndarray,
    dependence: np.ndarray,
    demand: np.ndarray,
    shock: np.ndarray,
    p: Params,
) -> np.ndarray:
    """The terms of :func:`japan_welfare` that do not depend on the tariff or the deal, $bn per quarter."""
    gains = (
        p.gains
        * shock
        * (p.jp_exports_cn * access * (1.0 - p.chip_share * compliance) + p.jp_imports_cn)
    )
    return (
        gains
        - p.input_disruption * input_shortage(restriction, dependence, p)
        - p.access_loss * (1.0 - access)
        - p.adjustment * np.abs(compliance - previous_compliance)
        - p.mcpf * p.alliance_value * shortfall(compliance, demand)
    )


def welfare_us_side(
    tariff: np.ndarray, deal: np.ndarray | float, shock: np.ndarray, p: Params
) -> np.ndarray:
    """The terms of :func:`japan_welfare` that depend on the tariff and the deal, $bn per quarter."""
    return welfare_us_at_volume(tariff, us_volume(tariff, p), deal, shock, p)


def welfare_us_at_volume(
    tariff: np.ndarray,
    volume: np.ndarray,
    deal: np.ndarray | float,
    shock: np.ndarray,
    p: Params,
) -> np.ndarray:
    """:func:`welfare_us_side` given the US import ``volume`` at ``tariff`` (:func:`us_volume`)."""
    gains = p.gains * shock * (p.exports_us * volume + p.imports_us)
    return (
        gains - p.incidence * tariff * p.exports_us * volume * shock - p.mcpf * p.deal_cost * deal
    )


def support_paid(losses: np.ndarray, p: Params) -> np.ndarray:
    """The government's compensation to firms, ``firm_support_share`` of their losses, ``(F, ..., N)``."""
    return p.firm_support_share * losses


def lobbying_cost(effort: np.ndarray, p: Params) -> np.ndarray:
    """What lobbying costs each firm (contributions and organizing), $bn per quarter, ``(F, N)``."""
    return p.lobbying_cost * p.firm_profit * effort


def us_payoff(
    compliance: np.ndarray,
    tariff: np.ndarray,
    deal: np.ndarray | float,
    shock: np.ndarray,
    p: Params,
) -> np.ndarray:
    """US strategic payoff, $bn per quarter: Japan's alignment and deal, minus tariff costs to US buyers and lost trade."""
    volume = us_volume(tariff, p)
    buyers_cost = (1.0 - p.incidence) * tariff * p.exports_us * volume * shock
    lost_trade = p.gains * shock * p.exports_us * (1.0 - volume)
    return p.us_alignment_value * compliance + p.deal_value_us * deal - buyers_cost - lost_trade


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
    per unit of dependence. The spend is an outlay: it costs ``mcpf`` per dollar.
    """
    reduction = np.minimum(p.diversification_rate * level, room)
    avoided = p.input_disruption * expected_restriction * reduction * p.planning_horizon
    return avoided - p.mcpf * p.diversification_spend * level
