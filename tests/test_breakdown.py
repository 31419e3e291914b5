"""Breakdown detection (:mod:`sim.core.breakdown`) on hand-built paths and on simulated ones.

Japan has picked a side when, for ``sustain_rounds`` rounds, it meets one side's ask while
breaching the other's beyond the status quo (compliance channel), or when a relation has
collapsed and Japan's own moves did more of the damage (relation channel). A collapse the
other state caused is a rupture by that state, not a breakdown.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.breakdown import (
    CHINA,
    COMPLIANCE,
    NONE,
    RELATION,
    US,
    DetectorRule,
    Observation,
    detect_breakdown,
    posture,
    rule_of,
    sides,
)

ROUNDS = 20
#: The article calibration's detector: meet within 10%, breach by 25%, a year, trust 0.1.
RULE = DetectorRule(
    meet_tolerance=np.array(0.1),
    cross_threshold=np.array(0.25),
    sustain_rounds=np.array(4),
    collapse_trust=np.array(0.1),
)


def path(compliance, demand=0.6, red_line=0.5, trust_us=0.6, trust_cn=0.6, parts=(0.0,) * 4):
    """An :class:`Observation` of ``ROUNDS`` rounds; scalars are held for every round."""

    def full(x):
        return np.broadcast_to(np.asarray(x, dtype=float), (ROUNDS,)).copy()

    return Observation(
        full(compliance), full(demand), full(red_line), full(trust_us), full(trust_cn),
        *(full(x) for x in parts),
    )  # fmt: skip


def one(obs):
    """One round's observation (arrays of one world) from scalars."""
    return Observation(*(np.array([float(x)]) for x in obs))


def result(obs, rule=RULE):
    s = detect_breakdown(obs, rule)
    return (
        int(s.side[0]),
        int(s.round[0]),
        int(s.channel[0]),
        int(s.rupture[0]),
        int(s.rupture_round[0]),
    )


BALANCED = (NONE, -1, NONE, NONE, -1)


# --- the compliance channel -----------------------------------------------------------------------
def test_balanced_path_never_breaks():
    # around the status quo: 0.5 meets neither ask fully (demand 0.6) and breaches neither
    c = [0.5, 0.45, 0.6, 0.55] * 5
    assert result(path(c)) == BALANCED


def test_siding_with_the_us_is_detected_at_the_start_of_the_stretch():
    # from round 6 Japan meets the US demand (0.6) and goes beyond China's line (0.5) by
    # (1 - 0.5) / 0.5 = 1 >= 0.25, for six rounds
    c = [0.5] * 6 + [1.0] * 6 + [0.5] * 8
    assert result(path(c)) == (US, 6, COMPLIANCE, NONE, -1)


def test_siding_with_china_is_detected():
    # from round 3 Japan stays within China's line and falls below what the US accepts
    # (min(0.6, 0.5) = 0.5) by 0.5 / 0.5 = 1
    c = [0.5] * 3 + [0.0] * 10 + [0.5] * 7
    assert result(path(c)) == (CHINA, 3, COMPLIANCE, NONE, -1)


def test_a_brief_excursion_does_not_count():
    # three rounds (k - 1) at full alignment, twice, interrupted
    c = [0.5] * 4 + [1.0] * 3 + [0.5] + [1.0] * 3 + [0.5] * 9
    assert result(path(c)) == BALANCED
    c = [0.5] * 4 + [0.0] * 3 + [0.5] + [0.0] * 3 + [0.5] * 9
    assert result(path(c)) == BALANCED


def test_exactly_k_rounds_count():
    c = [0.5] * 4 + [1.0] * 4 + [0.5] * 12
    assert result(path(c)) == (US, 4, COMPLIANCE, NONE, -1)
    c = [0.5] * 16 + [0.0] * 4  # the last four rounds of the run
    assert result(path(c)) == (CHINA, 16, COMPLIANCE, NONE, -1)


def test_us_demand_zero_can_never_be_sided_with_or_against():
    # a side that asks nothing cannot be sided with: full compliance breaching China is not
    # "toward the US"; and nothing it accepts can be breached: zero compliance is not
    # "toward China"
    for c in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert result(path(c, demand=0.0)) == BALANCED, c
    obs = one((1.0, 0.0, 0.5, 0.6, 0.6, 0, 0, 0, 0))
    assert [bool(x[0]) for x in sides(obs, RULE)] == [False, False]
    obs = one((0.0, 0.0, 0.5, 0.6, 0.6, 0, 0, 0, 0))
    assert [bool(x[0]) for x in sides(obs, RULE)] == [False, False]


def test_china_tolerating_full_compliance_can_never_be_sided_with():
    # a line at 1 asks nothing of Japan: zero compliance is not "toward China"
    assert result(path(0.0, red_line=1.0)) == BALANCED


def test_an_announced_embargo_demand_does_not_make_a_steady_japan_a_defector():
    # China lowers its line to 0.25 (an embargo's demand) while Japan stays at the status quo:
    # Japan goes beyond the line but not beyond what China accepts (the status quo 0.5)
    line = [0.5] * 4 + [0.25] * 10 + [0.5] * 6
    for demand in (0.5, 0.6, 0.9):
        assert result(path(0.5, demand=demand, red_line=line)) == BALANCED, demand
    # the same with the US raising its demand to 0.9: Japan at 0.5 is not "toward China"
    assert result(path(0.5, demand=[0.6] * 4 + [0.9] * 16)) == BALANCED


def test_complying_beyond_the_status_quo_against_a_lowered_line_is_toward_the_us():
    # line 0.25, what China accepts is 0.5; Japan at 0.75 breaches it by 0.25 / 0.5 = 0.5
    assert result(path(0.75, demand=0.6, red_line=0.25)) == (US, 0, COMPLIANCE, NONE, -1)


def test_thresholds_exactly_at_the_tolerance_count():
    rule = RULE

    def to_us(c, d, line):
        return bool(sides(one((c, d, line, 0.6, 0.6, 0, 0, 0, 0)), rule)[0][0])

    def to_cn(c, d, line):
        return bool(sides(one((c, d, line, 0.6, 0.6, 0, 0, 0, 0)), rule)[1][0])

    # toward the US at both thresholds at once: demand d = 0.625 / 0.9, so c = 0.625 falls
    # short of it by 0.1 (the meet tolerance, to rounding) and goes beyond China's line 0.5
    # by 0.125 / 0.5 = 0.25 (the cross threshold, exactly)
    d = 0.625 / 0.9
    assert (d - 0.625) / d == pytest.approx(0.1, abs=1e-15)
    assert to_us(0.625, d, 0.5)
    assert result(path(0.625, demand=d)) == (US, 0, COMPLIANCE, NONE, -1)
    # just beyond either threshold: nothing
    assert not to_us(0.625, d + 1e-9, 0.5)  # short of the demand by more than 10%
    assert not to_us(0.625 - 1e-9, 0.625 - 1e-9, 0.5)  # not a quarter beyond the line
    # toward China: line 0.3, c = 0.37 exceeds it by 0.07 / 0.7 = 0.1 (0.10000000000000002 in
    # floating point: the detector's 1e-12 slack counts it) and falls short of what the US
    # accepts (0.5) by 0.13 / 0.5 = 0.26
    assert to_cn(0.37, 0.6, 0.3)
    assert not to_cn(0.37 + 1e-9, 0.6, 0.3)
    # short of what the US accepts by exactly 0.25: c = 0.375 (0.125 / 0.5)
    assert to_cn(0.375, 0.6, 0.5)
    assert not to_cn(0.375 + 1e-9, 0.6, 0.5)


def test_posture_reports_each_round():
    obs = Observation(*(np.array(x, dtype=float) for x in zip(
        (0.5, 0.6, 0.5, 0.6, 0.6, 0, 0, 0, 0),
        (1.0, 0.6, 0.5, 0.6, 0.6, 0, 0, 0, 0),
        (0.0, 0.6, 0.5, 0.6, 0.6, 0, 0, 0, 0),
        (1.0, 0.0, 0.5, 0.6, 0.6, 0, 0, 0, 0),
        (0.5, 0.6, 0.25, 0.6, 0.6, 0, 0, 0, 0),
        strict=True,
    )))  # fmt: skip
    assert posture(obs, RULE).tolist() == [NONE, US, CHINA, NONE, NONE]


# --- the relation channel and ruptures --------------------------------------------------------------
def test_a_relation_japan_collapsed_is_a_breakdown_via_relation():
    # trust with China at 0.05 for five rounds from round 5; Japan's smoothed part (-0.4) is
    # more damage than China's (-0.1): toward the US
    trust_cn = [0.5] * 5 + [0.05] * 5 + [0.5] * 10
    obs = path(0.5, trust_cn=trust_cn, parts=(0.0, 0.0, -0.4, -0.1))
    assert result(obs) == (US, 5, RELATION, NONE, -1)
    # the US relation collapsed by Japan: toward China
    obs = path(0.5, trust_us=trust_cn, parts=(-0.4, -0.1, 0.0, 0.0))
    assert result(obs) == (CHINA, 5, RELATION, NONE, -1)


def test_a_relation_the_other_state_collapsed_is_a_rupture_not_a_breakdown():
    trust_cn = [0.5] * 5 + [0.05] * 5 + [0.5] * 10
    obs = path(0.5, trust_cn=trust_cn, parts=(0.0, 0.0, -0.1, -0.4))
    assert result(obs) == (NONE, -1, NONE, CHINA, 5)
    obs = path(0.5, trust_us=trust_cn, parts=(-0.1, -0.4, 0.0, 0.0))
    assert result(obs) == (NONE, -1, NONE, US, 5)
    # equal parts: not "Japan did more of the damage", so a rupture
    obs = path(0.5, trust_cn=trust_cn, parts=(0.0, 0.0, -0.25, -0.25))
    assert result(obs) == (NONE, -1, NONE, CHINA, 5)


def test_a_brief_collapse_counts_for_nothing():
    trust_cn = [0.5] * 5 + [0.05] * 3 + [0.5] * 12
    for parts in ((0.0, 0.0, -0.4, -0.1), (0.0, 0.0, -0.1, -0.4)):
        assert result(path(0.5, trust_cn=trust_cn, parts=parts)) == BALANCED


def test_collapse_threshold_is_inclusive():
    at = [0.5] * 5 + [0.1] * 5 + [0.5] * 10
    above = [0.5] * 5 + [0.1 + 1e-9] * 5 + [0.5] * 10
    parts = (0.0, 0.0, -0.4, -0.1)
    assert result(path(0.5, trust_cn=at, parts=parts))[:3] == (US, 5, RELATION)
    assert result(path(0.5, trust_cn=above, parts=parts)) == BALANCED


def test_both_relations_collapsed_by_japan_the_side_it_leans_to_decides():
    low = [0.5] * 2 + [0.05] * 18
    parts = (-0.4, -0.1, -0.4, -0.1)
    # leaning to the US (0.55 over China's line 0.5, meets demand 0.55: alignment > 0)
    obs = path(0.55, demand=0.55, trust_us=low, trust_cn=low, parts=parts)
    assert result(obs) == (US, 2, RELATION, NONE, -1)
    # leaning to China (0.45 short of demand 0.6, within the line: alignment < 0)
    obs = path(0.45, trust_us=low, trust_cn=low, parts=parts)
    assert result(obs) == (CHINA, 2, RELATION, NONE, -1)


def test_a_breakdown_and_a_rupture_are_recorded_separately():
    # Japan sides with the US by compliance from round 2; China's relation collapses from
    # round 10 through China's own coercion: both are recorded
    c = [0.5] * 2 + [1.0] * 18
    trust_cn = [0.5] * 10 + [0.05] * 10
    obs = path(c, trust_cn=trust_cn, parts=(0.0, 0.0, -0.1, -0.4))
    assert result(obs) == (US, 2, COMPLIANCE, CHINA, 10)


# --- what is kept -----------------------------------------------------------------------------
def test_the_first_breakdown_is_kept():
    c = [1.0] * 5 + [0.0] * 15
    assert result(path(c)) == (US, 0, COMPLIANCE, NONE, -1)
    # a later relation breakdown toward China does not replace it
    trust_us = [0.6] * 8 + [0.05] * 12
    obs = path([1.0] * 5 + [0.5] * 15, trust_us=trust_us, parts=(-0.4, -0.1, 0, 0))
    assert result(obs) == (US, 0, COMPLIANCE, NONE, -1)


def test_the_first_rupture_is_kept():
    trust_cn = [0.05] * 6 + [0.5] * 14
    trust_us = [0.6] * 10 + [0.05] * 10
    obs = path(0.5, trust_us=trust_us, trust_cn=trust_cn, parts=(-0.1, -0.4, -0.1, -0.4))
    assert result(obs) == (NONE, -1, NONE, CHINA, 0)


def test_many_worlds_at_once():
    c = np.stack([np.full(ROUNDS, 0.5), np.full(ROUNDS, 1.0), np.full(ROUNDS, 0.0)], axis=1)
    shape = (ROUNDS, 3)
    obs = Observation(
        c, np.full(shape, 0.6), np.full(shape, 0.5), np.full(shape, 0.6), np.full(shape, 0.6),
        *(np.zeros(shape) for _ in range(4)),
    )  # fmt: skip
    s = detect_breakdown(obs, RULE)
    assert s.side.tolist() == [NONE, US, CHINA] and s.round.tolist() == [-1, 0, 0]
    assert s.channel.tolist() == [NONE, COMPLIANCE, COMPLIANCE]


@pytest.mark.parametrize("k", [1, 2, 8])
def test_sustain_rounds_is_read_from_the_rule(k):
    rule = RULE._replace(sustain_rounds=np.array(k))
    c = [0.5] * 3 + [1.0] * k + [0.5] * (ROUNDS - 3 - k)
    assert result(path(c), rule) == (US, 3, COMPLIANCE, NONE, -1)
    c = [0.5] * 3 + [1.0] * (k - 1) + [0.5] * (ROUNDS - 2 - k)
    assert result(path(c), rule) == BALANCED


# --- simulated paths ---------------------------------------------------------------------------
#: Reactive states: a strategic US hardly escalates, so few worlds would break down.
REACTIVE = {"us_policy": "reactive", "china_policy": "reactive"}


def _simulate(article, name, states=None, n=60):
    from sim.catalog import load_scenario
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    p = build_params(article, load_scenario(name, **(states or {})), 40, n)
    return p, run_batch(p, np.arange(n), record_rounds=True)


def _smoothed(signal, rate):
    """The smoothed part as dynamics keeps it: s <- s + rate (signal - s), from 0."""
    out = np.zeros_like(signal)
    s = np.zeros(signal.shape[1])
    for t in range(signal.shape[0]):
        s = s + rate * (signal[t] - s)
        out[t] = s
    return out


def recomputed_parts(rounds, p):
    """The smoothed signal parts rebuilt from the recorded compliance, demand, tariff, line,
    restriction and access with the formulas of :func:`sim.core.dynamics.relation_signals`
    (the same arithmetic, so the same bits)."""
    c, d, line = rounds["jp_compliance"], rounds["us_demand"], rounds["cn_red_line"]
    us_ok, cn_ok = np.minimum(d, 0.5), np.maximum(line, 0.5)
    signals = (
        c - us_ok,
        (us_ok - d) - (rounds["us_tariff"] - p.us_base_tariff),
        cn_ok - c,
        (line - cn_ok) - rounds["cn_restriction"] - (1.0 - rounds["cn_access"]),
    )
    return tuple(_smoothed(s, p.trust_rate) for s in signals)


PARTS = ("japan_part_us", "other_part_us", "japan_part_cn", "other_part_cn")


def recorded_observation(rounds):
    """The detector's inputs, every one a recorded column."""
    return Observation(
        *(rounds[k] for k in ("jp_compliance", "us_demand", "cn_red_line", "trust_us", "trust_cn")),
        *(rounds[k] for k in PARTS),
    )


@pytest.mark.parametrize(
    "scenario, states",
    [("us_escalation", REACTIVE), ("rare_earth_embargo", None), ("rare_earth_embargo", REACTIVE)],
)
def test_redetected_from_simulated_paths(article, scenario, states):
    """Same parameters, different seeds: the outcome follows what the agents did, and the
    detector run afresh on the recorded paths gives the recorded breakdown and rupture."""
    p, res = _simulate(article, scenario, states)
    r = res.rounds
    obs = recorded_observation(r)
    # the recorded parts are the smoothed signals of the recorded actions
    for name, part in zip(PARTS, recomputed_parts(r, p), strict=True):
        np.testing.assert_array_equal(r[name], part, err_msg=name)
    again = detect_breakdown(obs, rule_of(p))
    np.testing.assert_array_equal(again.side, r["breakdown_side"][-1])
    np.testing.assert_array_equal(again.round, r["breakdown_round"][-1])
    np.testing.assert_array_equal(again.channel, r["breakdown_channel"][-1])
    np.testing.assert_array_equal(again.rupture, r["rupture_side"][-1])
    np.testing.assert_array_equal(again.rupture_round, r["rupture_round"][-1])
    np.testing.assert_array_equal(again.round, res.outcomes["breakdown_round"].to_numpy())
    # the posture column is this round's compliance-channel reading
    for t in range(p.rounds):
        now = Observation(*(x[t] for x in obs))
        np.testing.assert_array_equal(posture(now, rule_of(p)), r["posture"][t])
    if scenario == "us_escalation":
        # the same parameters give different outcomes: a breakdown toward the US in some
        # worlds, none in others, and a rupture China caused in at least one
        assert {"balanced", "us"} <= set(res.outcomes["outcome"])
        assert (again.rupture == CHINA).any()


def test_redetection_needs_the_attribution(article):
    """The recorded parts do work: where China ruptured the relation, China's part was the
    larger damage when it was recorded, and with the parts swapped the same collapse reads as
    Japan's breakdown toward the US via the relation."""
    p, res = _simulate(article, "us_escalation", REACTIVE)
    obs = recorded_observation(res.rounds)
    rule = rule_of(p)
    ruptured = np.flatnonzero(res.rounds["rupture_side"][-1] == CHINA)
    assert len(ruptured) > 0
    for w in ruptured:
        t = res.rounds["rupture_round"][-1, w] + int(rule.sustain_rounds[w]) - 1
        assert obs.japan_part_cn[t, w] >= obs.other_part_cn[t, w]
    assert (res.rounds["breakdown_side"][-1, ruptured] == NONE).any()
    swapped = obs._replace(japan_part_cn=obs.other_part_cn, other_part_cn=obs.japan_part_cn)
    again = detect_breakdown(swapped, rule)
    for w in ruptured:
        if res.rounds["breakdown_side"][-1, w] == NONE:
            assert again.side[w] == US and again.channel[w] == RELATION
            assert again.rupture[w] == NONE
