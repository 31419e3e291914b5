"""World dynamics (round step 5): what actions do to trade, inputs, trust, beliefs and exposure.

Pure functions over arrays of shape ``(N,)`` (``(F, N)`` for firms, ``(L, N)`` for beliefs).
``realize_round`` evaluates the stances at Japan's chosen compliance and computes every
payoff; ``advance_world`` moves the slow state: lagged rare-earth diversification, trust
between the states (with the share of each relation's damage that Japan's own moves caused),
Japan's beliefs about China, and firms' China exposure.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import beliefs, payoffs
from sim.core.alignment import STATUS_QUO, tolerated_demand, tolerated_line
from sim.core.choice import sequential_sum
from sim.core.params import Params
from sim.core.payoffs import ChinaStance, UsStance, WelfareTerms
from sim.core.policies import JapanChoice, WorldView, lobbied_profit

#: Japan's compliance before the first round: "differentiated execution" (article [10]).
INITIAL_COMPLIANCE = STATUS_QUO


class WorldState(NamedTuple):
    """Slow state of N worlds."""

    compliance: np.ndarray  # last chosen compliance, 0-1
    deal: np.ndarray  # last chosen deal level, 0-1
    diversification: np.ndarray  # last chosen diversification level, 0-1
    dependence: np.ndarray  # share of rare earths from China, 0-1
    trust_us: np.ndarray  # Japan-US relation, 0-1
    trust_cn: np.ndarray  # Japan-China relation, 0-1
    line_belief: np.ndarray  # (L, N) Japan's belief over China's red line
    coercive: np.ndarray  # Japan's probability that China coerces unprovoked
    reputation: np.ndarray  # Japan's belief that China lifts an embargo on concession
    red_line: np.ndarray  # China's true standing red line (drawn at the start)
    japan_part_us: np.ndarray  # smoothed part of the US relation's signal Japan caused
    other_part_us: np.ndarray  # ... and the part the US's own demand and tariffs caused
    japan_part_cn: np.ndarray  # smoothed part of the China relation's signal Japan caused
    other_part_cn: np.ndarray  # ... and the part China's own line and coercion caused
    last_embargo: np.ndarray  # last round's unconditional restriction (episode detection)
    pipeline: np.ndarray  # (N, max lag) diversification levels invested j+1 rounds ago
    recent_spend: np.ndarray  # (N, 3) diversification spend of the last three rounds, $bn
    china_share: np.ndarray  # (F, N) firms' China share of profits, 0-1
    effort: np.ndarray  # (F, N) firms' last lobbying effort, 0-1

    def view(self, p: Params) -> WorldView:
        """What decision rules see."""
        # Under way: the levels invested less than each world's own lag ago (the pipeline is as
        # wide as the longest lag in the batch; older columns have already arrived).
        under_way = np.arange(self.pipeline.shape[1])[None, :] < p.diversification_lag[:, None]
        coming = p.diversification_rate * np.where(under_way, self.pipeline, 0.0).sum(axis=1)
        return WorldView(
            compliance=self.compliance,
            dependence=self.dependence,
            trust_us=self.trust_us,
            trust_cn=self.trust_cn,
            line_belief=self.line_belief,
            coercive=self.coercive,
            china_share=self.china_share,
            effort=self.effort,
            room=np.maximum(self.dependence - coming - p.dependence_floor, 0.0),
            recent_spend=self.recent_spend.sum(axis=1),
            reputation=self.reputation,
            deal=self.deal,
        )


def initial_world(p: Params, u_red_line: np.ndarray) -> WorldState:
    """The state before round 0; ``u_red_line`` ``(N,)`` draws each world's true red line."""
    n = p.n_worlds
    prior = beliefs.red_line_prior(p.red_line_mean, p.red_line_sd, STATUS_QUO)
    zero = np.zeros(n)
    return WorldState(
        compliance=np.full(n, INITIAL_COMPLIANCE),
        deal=zero.copy(),
        diversification=zero.copy(),
        dependence=p.dependence0.copy(),
        trust_us=p.trust_us0.copy(),
        trust_cn=p.trust_cn0.copy(),
        line_belief=prior,
        coercive=p.coercive_prior.copy(),
        reputation=p.reputation0.copy(),
        red_line=beliefs.draw_red_line(prior, u_red_line),
        japan_part_us=zero.copy(),
        other_part_us=zero.copy(),
        japan_part_cn=zero.copy(),
        other_part_cn=zero.copy(),
        last_embargo=zero.copy(),
        pipeline=np.zeros((n, int(p.diversification_lag.max()))),
        recent_spend=np.zeros((n, 3)),
        china_share=p.china_share0.copy(),
        effort=np.zeros_like(p.china_share0),
    )


class RoundOutcome(NamedTuple):
    """Realized instruments and payoffs of one round, $bn per quarter where money."""

    tariff: np.ndarray
    restriction: np.ndarray
    access: np.ndarray
    welfare_terms: WelfareTerms
    welfare: np.ndarray
    objective: np.ndarray  # government objective: welfare + lobbying-weighted profits
    firm_profit: np.ndarray  # (F, N) with the government's support, after lobbying costs
    support: np.ndarray  # (F, N) the government's compensation to each firm
    us_payoff: np.ndarray
    china_payoff: np.ndarray


def realize_round(
    state: WorldState,
    choice: JapanChoice,
    us: UsStance,
    cn: ChinaStance,
    effort: np.ndarray,
    weights: np.ndarray,
    shock: np.ndarray,
    p: Params,
) -> RoundOutcome:
    """Evaluate the stances at Japan's choice and compute every agent's payoff."""
    c = choice.compliance
    inst = payoffs.instruments(c, choice.deal, us, cn, p)
    channels = payoffs.firm_channels(c, inst, state.dependence, shock, state.china_share, p)
    support = payoffs.support_paid(payoffs.firm_losses(channels, c, shock, state.china_share, p), p)
    terms = payoffs.japan_welfare_terms(
        c,
        state.compliance,
        choice.diversification,
        choice.deal,
        inst,
        state.dependence,
        us.demand,
        shock,
        sequential_sum(support),
        p,
    )
    welfare = payoffs.japan_welfare(terms, p)
    profits = payoffs.firm_profits(channels) + support
    return RoundOutcome(
        tariff=inst.tariff,
        restriction=inst.restriction,
        access=inst.access,
        welfare_terms=terms,
        welfare=welfare,
        objective=welfare + lobbied_profit(profits, weights),
        firm_profit=profits - payoffs.lobbying_cost(effort, p),
        support=support,
        us_payoff=payoffs.us_payoff(c, inst.tariff, choice.deal, shock, p),
        china_payoff=payoffs.china_payoff(c, inst.restriction, inst.access, shock, p),
    )


class RelationSignals(NamedTuple):
    """This round's signal to each relation, split into Japan's part and the other state's."""

    japan_us: np.ndarray  # c - what the US accepts
    other_us: np.ndarray  # (what the US accepts - its demand) - tariff above the base rate
    japan_cn: np.ndarray  # what China accepts - c
    other_cn: np.ndarray  # (China's line - what it accepts) - restriction - access cut


def relation_signals(
    compliance: np.ndarray, us: UsStance, cn: ChinaStance, outcome: RoundOutcome, p: Params
) -> RelationSignals:
    """Split each relation's signal into Japan's part and the other state's.

    With the US the signal is ``(c - d) - (tau - base tariff)``. Japan's part is its
    compliance against what the US accepts (its demand, or the status quo if lower,
    :func:`~sim.core.alignment.tolerated_demand`); a demand above the status quo, and every
    tariff, are the US's part. With China it is ``(l - c) - r - (1 - a)``: Japan's part is
    its compliance against what China accepts (its line, or the status quo if higher); a line
    below the status quo, and every restriction and access cut, are China's part. A Japan
    that stays at the status quo therefore causes no part of either relation's damage.
    """
    us_ok = tolerated_demand(us.demand)
    cn_ok = tolerated_line(cn.red_line)
    return RelationSignals(
        japan_us=compliance - us_ok,
        other_us=(us_ok - us.demand) - (outcome.tariff - p.us_base_tariff),
        japan_cn=cn_ok - compliance,
        other_cn=(cn.red_line - cn_ok) - outcome.restriction - (1.0 - outcome.access),
    )


def trust_targets(s: RelationSignals, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Trust each relation settles at after this round's actions (0-1)."""
    target_us = np.clip(p.trust_us0 + p.trust_sensitivity * (s.japan_us + s.other_us), 0.0, 1.0)
    target_cn = np.clip(p.trust_cn0 + p.trust_sensitivity * (s.japan_cn + s.other_cn), 0.0, 1.0)
    return target_us, target_cn


def _smooth(old: np.ndarray, new: np.ndarray, p: Params) -> np.ndarray:
    return old + p.trust_rate * (new - old)


def update_beliefs(
    state: WorldState, choice: JapanChoice, cn: ChinaStance, outcome: RoundOutcome, p: Params
) -> tuple[np.ndarray, np.ndarray]:
    """Japan's beliefs after seeing China's response to its compliance (Bayes' rule)."""
    embargo = cn.embargo * payoffs.embargo_applies(choice.compliance, cn)
    retaliation = outcome.restriction - cn.restriction_fixed - embargo
    line_belief = beliefs.update_red_line(
        state.line_belief,
        choice.compliance,
        retaliation,
        cn.coercion,
        cn.line_known,
        p.belief_noise,
    )
    episode = cn.restriction_fixed + cn.embargo
    started = (episode > 0.0) & (state.last_embargo <= 0.0)
    coercive = beliefs.update_coercive(
        state.coercive,
        started,
        state.last_embargo > 0.0,
        p.hazard_restrained,
        p.hazard_coercive,
    )
    return line_belief, coercive


def update_reputation(
    state: WorldState, choice: JapanChoice, cn: ChinaStance, p: Params
) -> np.ndarray:
    """Japan's belief that China lifts an embargo on concession, after a round it conceded.

    A round of an embargo in which Japan met China's demand (a coercive embargo's, or the
    line a punitive one announces) moves the belief ``reputation_rate`` of the way toward
    what China did: 1 if it lifted, 0 if the restriction stayed.
    """
    coercive = cn.embargo > 0.0
    punitive = (cn.restriction_fixed > 0.0) & cn.line_known
    demand = np.where(coercive, cn.embargo_line, np.where(punitive, cn.red_line, np.nan))
    conceded = (coercive | punitive) & (choice.compliance <= demand + 1e-12)
    lifted = (coercive & cn.embargo_lifts & ~punitive).astype(float)
    moved = state.reputation + p.reputation_rate * (lifted - state.reputation)
    return np.where(conceded, moved, state.reputation)


def advance_world(
    state: WorldState,
    choice: JapanChoice,
    us: UsStance,
    cn: ChinaStance,
    outcome: RoundOutcome,
    effort: np.ndarray,
    p: Params,
) -> WorldState:
    """The state after this round: diversification, trust, beliefs, relocation."""
    n = p.n_worlds
    arrived = state.pipeline[np.arange(n), p.diversification_lag - 1]
    pipeline = np.concatenate([choice.diversification[:, None], state.pipeline[:, :-1]], axis=1)
    spend = p.diversification_spend * choice.diversification
    recent = np.concatenate([spend[:, None], state.recent_spend[:, :-1]], axis=1)
    dependence = np.maximum(p.dependence_floor, state.dependence - p.diversification_rate * arrived)
    signals = relation_signals(choice.compliance, us, cn, outcome, p)
    target_us, target_cn = trust_targets(signals, p)
    line_belief, coercive = update_beliefs(state, choice, cn, outcome, p)
    disruption = np.maximum(outcome.restriction, 1.0 - outcome.access)
    return WorldState(
        compliance=choice.compliance,
        deal=choice.deal,
        diversification=choice.diversification,
        dependence=dependence,
        trust_us=_smooth(state.trust_us, target_us, p),
        trust_cn=_smooth(state.trust_cn, target_cn, p),
        line_belief=line_belief,
        coercive=coercive,
        reputation=update_reputation(state, choice, cn, p),
        red_line=state.red_line,
        japan_part_us=_smooth(state.japan_part_us, signals.japan_us, p),
        other_part_us=_smooth(state.other_part_us, signals.other_us, p),
        japan_part_cn=_smooth(state.japan_part_cn, signals.japan_cn, p),
        other_part_cn=_smooth(state.other_part_cn, signals.other_cn, p),
        last_embargo=cn.restriction_fixed + cn.embargo,
        pipeline=pipeline,
        recent_spend=recent,
        china_share=state.china_share * (1.0 - p.relocation_rate * disruption),
        effort=effort,
    )
