"""World dynamics (round step 5): what actions do to trade, inputs, trust and exposure.

Pure functions over arrays of shape ``(N,)`` (``(N, F)`` for firms). ``realize_round``
evaluates the announced schedules at Japan's chosen compliance and computes every payoff;
``advance_world`` moves the slow state: lagged rare-earth diversification, trust between
the states, Japan's belief about Chinese restrictions, and firms' China exposure.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import payoffs
from sim.core.params import Params
from sim.core.payoffs import ChinaStance, UsStance, WelfareTerms
from sim.core.policies import JapanChoice, WorldView, lobbied_profit

#: Japan's compliance before the first round: "differentiated execution" (article [10]).
INITIAL_COMPLIANCE = 0.5


class WorldState(NamedTuple):
    """Slow state of N worlds."""

    compliance: np.ndarray  # last chosen compliance, 0-1
    diversification: np.ndarray  # last chosen diversification level, 0-1
    dependence: np.ndarray  # share of rare earths from China, 0-1
    trust_us: np.ndarray  # Japan-US relation, 0-1
    trust_cn: np.ndarray  # Japan-China relation, 0-1
    belief: np.ndarray  # Japan's expected Chinese restriction, 0-1
    pipeline: np.ndarray  # (N, max lag) diversification levels invested j+1 rounds ago
    china_share: np.ndarray  # (F, N) firms' China share of profits, 0-1
    effort: np.ndarray  # (F, N) firms' last lobbying effort, 0-1

    def view(self) -> WorldView:
        """What decision rules see."""
        return WorldView(
            compliance=self.compliance,
            dependence=self.dependence,
            trust_us=self.trust_us,
            trust_cn=self.trust_cn,
            belief=self.belief,
            china_share=self.china_share,
            effort=self.effort,
        )


def initial_world(p: Params) -> WorldState:
    """The state before round 0."""
    n = p.n_worlds
    return WorldState(
        compliance=np.full(n, INITIAL_COMPLIANCE),
        diversification=np.zeros(n),
        dependence=p.dependence0.copy(),
        trust_us=p.trust_us0.copy(),
        trust_cn=p.trust_cn0.copy(),
        belief=p.belief0.copy(),
        pipeline=np.zeros((n, int(p.diversification_lag.max()))),
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
    firm_profit: np.ndarray  # (F, N) after lobbying costs
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
    """Evaluate the announced schedules at Japan's choice and compute every agent's payoff."""
    c = choice.compliance
    tariff, r, a = payoffs.instruments(c, us, cn, p)
    terms = payoffs.japan_welfare_terms(
        c,
        state.compliance,
        choice.diversification,
        tariff,
        r,
        a,
        state.dependence,
        us.demand,
        shock,
        p,
    )
    welfare = payoffs.japan_welfare(terms, p)
    gross = payoffs.firm_profits(c, tariff, r, a, state.dependence, shock, state.china_share, p)
    objective = welfare + lobbied_profit(gross, weights)
    return RoundOutcome(
        tariff=tariff,
        restriction=r,
        access=a,
        welfare_terms=terms,
        welfare=welfare,
        objective=objective,
        firm_profit=gross - payoffs.lobbying_cost(effort, p),
        us_payoff=payoffs.us_payoff(c, tariff, shock, p),
        china_payoff=payoffs.china_payoff(c, r, a, shock, p),
    )


def trust_targets(
    compliance: np.ndarray, us: UsStance, cn: ChinaStance, outcome: RoundOutcome, p: Params
) -> tuple[np.ndarray, np.ndarray]:
    """Trust each relation settles at after this round's actions (0-1).

    With the US: compliance against the demand, minus tariffs above the base rate.
    With China: room left under China's red line, minus its restriction and access cut.
    """
    us_signal = (compliance - us.demand) - (outcome.tariff - p.us_base_tariff)
    cn_signal = (cn.red_line - compliance) - outcome.restriction - (1.0 - outcome.access)
    target_us = np.clip(p.trust_us0 + p.trust_sensitivity * us_signal, 0.0, 1.0)
    target_cn = np.clip(p.trust_cn0 + p.trust_sensitivity * cn_signal, 0.0, 1.0)
    return target_us, target_cn


def advance_world(
    state: WorldState,
    choice: JapanChoice,
    us: UsStance,
    cn: ChinaStance,
    outcome: RoundOutcome,
    effort: np.ndarray,
    p: Params,
) -> WorldState:
    """The state after this round: lagged diversification, trust, belief and relocation."""
    n = p.n_worlds
    arrived = state.pipeline[np.arange(n), p.diversification_lag - 1]
    pipeline = np.concatenate([choice.diversification[:, None], state.pipeline[:, :-1]], axis=1)
    dependence = np.maximum(p.dependence_floor, state.dependence - p.diversification_rate * arrived)
    target_us, target_cn = trust_targets(choice.compliance, us, cn, outcome, p)
    disruption = np.maximum(outcome.restriction, 1.0 - outcome.access)
    return WorldState(
        compliance=choice.compliance,
        diversification=choice.diversification,
        dependence=dependence,
        trust_us=state.trust_us + p.trust_rate * (target_us - state.trust_us),
        trust_cn=state.trust_cn + p.trust_rate * (target_cn - state.trust_cn),
        belief=state.belief + p.belief_rate * (outcome.restriction - state.belief),
        pipeline=pipeline,
        china_share=state.china_share * (1.0 - p.relocation_rate * disruption),
        effort=effort,
    )
