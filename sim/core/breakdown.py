"""Breakdown: detected from what Japan did and from the states' relations, never from a parameter.

Japan has **picked a side** when, for ``sustain_rounds`` consecutive rounds (ODD 7.9):

- *compliance channel*: it meets one side's ask while breaching the other's. Toward the US:
  the US demands something, Japan delivers it (shortfall <= ``meet_tolerance``) and goes
  beyond what China accepts by at least ``cross_threshold``
  (:func:`sim.core.alignment.china_breach`). Toward China: China draws a line below full
  compliance, Japan stays within it (excess <= ``meet_tolerance``) and falls below what the
  US accepts by at least ``cross_threshold`` (:func:`sim.core.alignment.us_breach`).
- *relation channel*: a relation has collapsed (trust <= ``collapse_trust``) and Japan's own
  moves did more of the damage than the other state's (the smoothed parts of the relation's
  signal, :func:`sim.core.dynamics.relation_signals`). A collapse of the China relation
  caused by Japan counts toward the US, of the US relation toward China.

A collapse the other state caused by its own demands, tariffs or embargo is a **rupture**,
recorded separately with the state that caused it: coercion against a Japan that stays put is
not Japan defecting. The first breakdown and the first rupture are recorded with their round
(the first of the sustained stretch); the run goes on to the horizon.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core.alignment import alignment_index, china_breach, us_breach
from sim.core.params import Params
from sim.core.payoffs import excess, shortfall

NONE, US, CHINA = 0, 1, 2
SIDE_NAMES = {NONE: "balanced", US: "us", CHINA: "china"}
#: How balancing ended: Japan's compliance, or a relation that collapsed through Japan's moves.
COMPLIANCE, RELATION = 1, 2
CHANNEL_NAMES = {NONE: "none", COMPLIANCE: "compliance", RELATION: "relation"}
#: Which state broke a relation by its own actions (none, the US, China).
RUPTURE_NAMES = {NONE: "none", US: "us", CHINA: "china"}


class DetectorRule(NamedTuple):
    """The detector's constants (calibration entries ``breakdown_*``), shapes ``(N,)``."""

    meet_tolerance: np.ndarray
    cross_threshold: np.ndarray
    sustain_rounds: np.ndarray  # int64
    collapse_trust: np.ndarray


class Observation(NamedTuple):
    """What the detector reads of one round, shapes ``(N,)``."""

    compliance: np.ndarray
    demand: np.ndarray  # the US demand this round
    red_line: np.ndarray  # China's line this round
    trust_us: np.ndarray
    trust_cn: np.ndarray
    japan_part_us: np.ndarray  # smoothed signal parts (sim.core.dynamics.relation_signals)
    other_part_us: np.ndarray
    japan_part_cn: np.ndarray
    other_part_cn: np.ndarray


class BreakdownState(NamedTuple):
    """Running counters and the recorded breakdown and rupture, shapes ``(N,)``."""

    run_us: np.ndarray  # consecutive rounds siding with the US by compliance
    run_cn: np.ndarray  # consecutive rounds siding with China by compliance
    run_cn_collapse: np.ndarray  # consecutive rounds with China trust collapsed
    run_us_collapse: np.ndarray  # consecutive rounds with US trust collapsed
    side: np.ndarray  # NONE, US or CHINA (int8)
    round: np.ndarray  # first round of the sustained stretch, -1 if none
    channel: np.ndarray  # NONE, COMPLIANCE or RELATION (int8)
    rupture: np.ndarray  # NONE, US or CHINA: the state that broke a relation (int8)
    rupture_round: np.ndarray  # first round of that collapse, -1 if none


def initial_breakdown_state(n: int) -> BreakdownState:
    """No breakdown, no rupture, all counters at zero."""
    z = np.zeros(n, dtype=np.int64)
    none = np.zeros(n, dtype=np.int8)
    never = np.full(n, -1, dtype=np.int64)
    return BreakdownState(
        z, z.copy(), z.copy(), z.copy(), none, never, none.copy(), none.copy(), never.copy()
    )


def sides(obs: Observation, rule: DetectorRule) -> tuple[np.ndarray, np.ndarray]:
    """This round's compliance-channel conditions: (siding with the US, siding with China)."""
    c = obs.compliance
    # A side that asks nothing (a US demand of 0, a China that tolerates full compliance)
    # cannot be sided with: meeting its ask means nothing.
    meets_us = (obs.demand > 0.0) & (shortfall(c, obs.demand) <= rule.meet_tolerance + 1e-12)
    meets_cn = (obs.red_line < 1.0) & (excess(c, obs.red_line) <= rule.meet_tolerance + 1e-12)
    to_us = meets_us & (china_breach(c, obs.red_line) >= rule.cross_threshold - 1e-12)
    to_cn = meets_cn & (us_breach(c, obs.demand) >= rule.cross_threshold - 1e-12)
    return to_us, to_cn


def posture(obs: Observation, rule: DetectorRule) -> np.ndarray:
    """This round's posture: 0 balancing, 1 siding with the US, 2 siding with China."""
    to_us, to_cn = sides(obs, rule)
    return np.where(to_us, US, np.where(to_cn, CHINA, NONE)).astype(np.int8)


def _first(fresh: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    return np.where(fresh, new, old)


def update_breakdown(
    state: BreakdownState, t: int, obs: Observation, rule: DetectorRule
) -> BreakdownState:
    """Advance the detector by round ``t``; a recorded breakdown or rupture is kept."""

    def run(counter: np.ndarray, cond: np.ndarray) -> np.ndarray:
        return np.where(cond, counter + 1, 0)

    to_us, to_cn = sides(obs, rule)
    run_us, run_cn = run(state.run_us, to_us), run(state.run_cn, to_cn)
    cn_collapse = run(state.run_cn_collapse, obs.trust_cn <= rule.collapse_trust)
    us_collapse = run(state.run_us_collapse, obs.trust_us <= rule.collapse_trust)
    k = rule.sustain_rounds
    japan_cn = obs.japan_part_cn < obs.other_part_cn  # Japan did more of the damage
    japan_us = obs.japan_part_us < obs.other_part_us
    by_compliance_us, by_compliance_cn = run_us >= k, run_cn >= k
    to_us_now = by_compliance_us | ((cn_collapse >= k) & japan_cn)
    to_cn_now = by_compliance_cn | ((us_collapse >= k) & japan_us)
    # Both at once (only through relations): the side Japan leans to decides.
    leans_us = alignment_index(obs.compliance, obs.demand, obs.red_line) >= 0.0
    new_side = np.where(
        to_us_now & to_cn_now, np.where(leans_us, US, CHINA), np.where(to_us_now, US, CHINA)
    )
    fresh = (state.side == NONE) & (to_us_now | to_cn_now)
    by_compliance = np.where(new_side == US, by_compliance_us, by_compliance_cn)
    channel = np.where(by_compliance, COMPLIANCE, RELATION)
    ruptured_cn = (cn_collapse >= k) & ~japan_cn
    ruptured_us = (us_collapse >= k) & ~japan_us
    fresh_rupture = (state.rupture == NONE) & (ruptured_cn | ruptured_us)
    return BreakdownState(
        run_us,
        run_cn,
        cn_collapse,
        us_collapse,
        _first(fresh, new_side, state.side).astype(np.int8),
        _first(fresh, t - k + 1, state.round),
        _first(fresh, channel, state.channel).astype(np.int8),
        _first(fresh_rupture, np.where(ruptured_cn, CHINA, US), state.rupture).astype(np.int8),
        _first(fresh_rupture, t - k + 1, state.rupture_round),
    )


def detect_breakdown(paths: Observation, rule: DetectorRule) -> BreakdownState:
    """The detector run over whole paths, each field of shape ``(rounds,)`` or ``(rounds, N)``."""
    arrays = [np.asarray(x, dtype=float) for x in paths]
    if arrays[0].ndim == 1:
        arrays = [x[:, None] for x in arrays]
    n = arrays[0].shape[1]
    rule = DetectorRule(*(np.broadcast_to(np.asarray(x), (n,)) for x in rule))
    state = initial_breakdown_state(n)
    for t in range(arrays[0].shape[0]):
        state = update_breakdown(state, t, Observation(*(x[t] for x in arrays)), rule)
    return state


def rule_of(p: Params) -> DetectorRule:
    """The detector's constants of parameters ``p``."""
    return DetectorRule(p.meet_tolerance, p.cross_threshold, p.sustain_rounds, p.collapse_trust)
