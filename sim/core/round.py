"""One round of the model, written once: every engine calls :func:`play_round`.

The round order (ODD section 3): (1) the US announces its stance, (2) China sets its stance,
(3) firms choose their lobbying on what each of Japan's options would bring them, (4) Japan
chooses compliance and diversification, (5) the world updates (payoffs, trust, Japan's
beliefs, diversification, relocation) and the breakdown detector advances. The Mesa model plays it
for one world and copies the result onto its agents; the batch engine plays it for many
worlds at once. Both pass the same draws, so both give the same numbers to the last bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import dynamics, policies
from sim.core.breakdown import (
    BreakdownState,
    Observation,
    initial_breakdown_state,
    rule_of,
    update_breakdown,
)
from sim.core.draws import (
    S_RED_LINE,
    U_CN,
    U_COMPLIANCE,
    U_DIVERSIFICATION,
    U_FIRMS,
    U_INERTIA,
    U_US,
    trade_shock,
)
from sim.core.params import Params
from sim.core.payoffs import ChinaStance, UsStance
from sim.core.records import round_record


class RoundState(NamedTuple):
    """Everything a round reads that an earlier round wrote, for N worlds."""

    world: dynamics.WorldState
    detector: BreakdownState
    last_cn: ChinaStance  # China's stance last round (what a strategic US anticipates)


class PlayedRound(NamedTuple):
    """What one round did: the stances, the lobbying, Japan's choice, the outcome, the record."""

    us: UsStance
    cn: ChinaStance
    effort: np.ndarray  # (F, N) lobbying effort 0-1
    choice: policies.JapanChoice
    outcome: dynamics.RoundOutcome
    record: dict[str, np.ndarray]  # every column of sim.core.records, shape (N,)


def initial_round_state(p: Params, setup: np.ndarray) -> RoundState:
    """The state before round 0; ``setup`` ``(1, N)`` are the run's setup uniforms."""
    world = dynamics.initial_world(p, setup[S_RED_LINE])
    return RoundState(
        world=world,
        detector=initial_breakdown_state(p.n_worlds),
        last_cn=policies.china_reactive_stance(0, world.view(p), p, world.red_line),
    )


def play_round(
    state: RoundState,
    t: int,
    uniforms: np.ndarray,
    normal: np.ndarray,
    p: Params,
    anticipation: policies.ObjectiveMenu = policies.objective_menu,
) -> tuple[RoundState, PlayedRound]:
    """Play round ``t`` for every world; ``uniforms`` is ``(5 + F, N)``, ``normal`` ``(N,)``.

    ``anticipation`` evaluates the objective menus strategic states anticipate Japan with
    (:func:`sim.core.policies.objective_menu`, or a compiled evaluation of the same formulas).
    """
    shock = trade_shock(normal, p.shock_sd)
    world = state.world
    view = world.view(p)
    # 1-2: the states set their stances (China's line is its own; Japan sees it only if announced).
    us = policies.us_stance(t, view, p, uniforms[U_US], shock, state.last_cn, anticipation)
    cn = policies.china_stance(t, view, p, uniforms[U_CN], shock, us, world.red_line, anticipation)
    # 3: firms lobby on what each compliance option would bring them, as Japan expects it.
    menu = policies.option_menu(view, p, us, cn, shock)
    effort = policies.lobbying_choice(view, p, menu, uniforms[U_FIRMS:])
    weights = policies.lobbying_weights(effort, p)
    # 4: Japan chooses.
    draws = policies.JapanDraws(
        inertia=uniforms[U_INERTIA],
        compliance=uniforms[U_COMPLIANCE],
        diversification=uniforms[U_DIVERSIFICATION],
    )
    objective = menu.welfare + policies.lobbied_profit(menu.profits, weights)
    choice = policies.japan_decision(t, view, p, us, cn, objective, draws)
    # 5: the world updates; the detector reads what Japan did and the relations.
    outcome = dynamics.realize_round(world, choice, us, cn, effort, weights, shock, p)
    after = dynamics.advance_world(world, choice, us, cn, outcome, effort, p)
    obs = Observation(
        compliance=choice.compliance,
        demand=us.demand,
        red_line=cn.red_line,
        trust_us=after.trust_us,
        trust_cn=after.trust_cn,
        japan_part_us=after.japan_part_us,
        other_part_us=after.other_part_us,
        japan_part_cn=after.japan_part_cn,
        other_part_cn=after.other_part_cn,
    )
    rule = rule_of(p)
    detector = update_breakdown(state.detector, t, obs, rule)
    expected_r = policies.expected_restriction(after.view(p), cn, p)
    record = round_record(us, cn, choice, outcome, after, detector, obs, rule, expected_r, p)
    played = PlayedRound(us, cn, effort, choice, outcome, record)
    return RoundState(after, detector, cn), played
