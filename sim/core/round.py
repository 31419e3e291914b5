"""One round of the model, written once: every engine calls :func:`play_round`.

The round order (ODD section 3): (1) the US announces its stance, (2) China announces its
stance, (3) firms lobby on what each of Japan's options would bring them, (4) Japan
chooses, (5) the world updates and the breakdown detector advances. The Mesa model plays it
for one world and copies the result onto its agents; the batch engine plays it for many
worlds at once. Both pass the same draws, so both give the same numbers to the last bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import dynamics, policies
from sim.core.breakdown import (
    BreakdownRule,
    BreakdownState,
    initial_breakdown_state,
    update_breakdown,
)
from sim.core.draws import U_CN, U_COMPLIANCE, U_DIVERSIFICATION, U_INERTIA, U_US, trade_shock
from sim.core.params import Params
from sim.core.payoffs import ChinaStance, UsStance
from sim.core.records import round_record


class RoundState(NamedTuple):
    """Everything a round reads that an earlier round wrote, for N worlds."""

    world: dynamics.WorldState
    detector: BreakdownState
    last_cn: ChinaStance  # China's stance last round (what an adaptive US anticipates)


class PlayedRound(NamedTuple):
    """What one round did: the stances, the lobbying, Japan's choice, the outcome, the record."""

    us: UsStance
    cn: ChinaStance
    effort: np.ndarray  # (F, N) lobbying effort 0-1
    choice: policies.JapanChoice
    outcome: dynamics.RoundOutcome
    record: dict[str, np.ndarray]  # every column of sim.core.records, shape (N,)


def initial_round_state(p: Params) -> RoundState:
    """The state before round 0."""
    world = dynamics.initial_world(p)
    return RoundState(
        world=world,
        detector=initial_breakdown_state(p.n_worlds),
        last_cn=policies.china_reactive_stance(0, world.view(), p),
    )


def play_round(
    state: RoundState,
    t: int,
    uniforms: np.ndarray,
    normal: np.ndarray,
    p: Params,
    rule: BreakdownRule,
) -> tuple[RoundState, PlayedRound]:
    """Play round ``t`` for every world; ``uniforms`` is ``(5, N)``, ``normal`` is ``(N,)``."""
    shock = trade_shock(normal, p.shock_sd)
    view = state.world.view()
    # 1-2: the states announce their stances.
    us = policies.us_stance(t, view, p, uniforms[U_US], shock, state.last_cn)
    cn = policies.china_stance(t, view, p, uniforms[U_CN], shock, us)
    # 3: firms lobby on what each compliance option would bring them.
    menu = policies.menu_instruments(us, cn, p)
    profit_menu = policies.firm_profit_menu(view, p, menu, shock)
    effort = policies.lobbying_effort(profit_menu, p)
    # 4: Japan chooses.
    draws = policies.JapanDraws(
        inertia=uniforms[U_INERTIA],
        compliance=uniforms[U_COMPLIANCE],
        diversification=uniforms[U_DIVERSIFICATION],
    )
    choice = policies.japan_decision(t, view, p, us, cn, menu, profit_menu, effort, shock, draws)
    # 5: the world updates.
    weights = policies.lobbying_weights(effort, p)
    outcome = dynamics.realize_round(state.world, choice, us, cn, effort, weights, shock, p)
    world = dynamics.advance_world(state.world, choice, us, cn, outcome, effort, p)
    detector = update_breakdown(
        state.detector, t, choice.compliance, world.trust_us, world.trust_cn, rule
    )
    record = round_record(us, cn, choice, outcome, world, detector, rule, p)
    played = PlayedRound(us, cn, effort, choice, outcome, record)
    return RoundState(world, detector, cn), played
