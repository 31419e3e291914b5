"""Breakdown detection on hand-built action paths."""

import numpy as np
import pytest

from sim.core.breakdown import CHINA, NONE, US, BreakdownRule, detect_breakdown
from sim.core.errors import ConfigError

RULE = BreakdownRule(band_low=0.25, band_high=0.75, sustain_rounds=4, collapse_trust=0.1)
CALM = np.full(20, 0.6)


def test_balanced_path_never_breaks():
    c = np.array([0.5, 0.25, 0.75, 0.5] * 5)
    side, rnd = detect_breakdown(c, CALM, CALM, RULE)
    assert side[0] == NONE and rnd[0] == -1


def test_tilt_to_us_is_detected_at_the_start_of_the_sustained_stretch():
    c = np.array([0.5] * 6 + [1.0] * 6 + [0.5] * 8)
    side, rnd = detect_breakdown(c, CALM, CALM, RULE)
    assert side[0] == US and rnd[0] == 6


def test_tilt_to_china_is_detected():
    c = np.array([0.5] * 3 + [0.0] * 10 + [0.5] * 7)
    side, rnd = detect_breakdown(c, CALM, CALM, RULE)
    assert side[0] == CHINA and rnd[0] == 3


def test_brief_excursion_does_not_count():
    c = np.array([0.5] * 4 + [1.0] * 3 + [0.5] + [1.0] * 3 + [0.5] * 9)
    side, _ = detect_breakdown(c, CALM, CALM, RULE)
    assert side[0] == NONE


def test_relation_collapse_with_china_counts_as_toward_us():
    trust_cn = np.array([0.5] * 5 + [0.05] * 5 + [0.5] * 10)
    side, rnd = detect_breakdown(np.full(20, 0.5), CALM, trust_cn, RULE)
    assert side[0] == US and rnd[0] == 5


def test_first_breakdown_is_kept():
    c = np.array([1.0] * 5 + [0.0] * 15)
    side, rnd = detect_breakdown(c, CALM, CALM, RULE)
    assert side[0] == US and rnd[0] == 0


def test_many_worlds_at_once():
    c = np.stack([np.full(20, 0.5), np.full(20, 1.0), np.full(20, 0.0)], axis=1)
    side, rnd = detect_breakdown(c, np.full((20, 3), 0.6), np.full((20, 3), 0.6), RULE)
    assert side.tolist() == [NONE, US, CHINA] and rnd.tolist() == [-1, 0, 0]


@pytest.mark.parametrize(
    "kwargs",
    [{"band_low": 0.8}, {"sustain_rounds": 0}, {"collapse_trust": 1.5}, {"band_high": "x"}],
)
def test_bad_rule_is_a_one_line_error(kwargs):
    with pytest.raises(ConfigError) as err:
        BreakdownRule(**kwargs)
    assert str(err.value).startswith("breakdown.") and "\n" not in str(err.value)


def test_breakdown_is_not_read_off_parameters(article, scenarios):
    """Same parameters, different seeds: the outcome follows what the agents did."""
    from sim.core.params import build_params
    from sim.engine.batch import run_batch

    res = run_batch(
        build_params(article, scenarios["us_escalation"], 40, 60), np.arange(60), record_rounds=True
    )
    outcomes = set(res.outcomes["outcome"])
    assert {"balanced", "us"} <= outcomes
    for k in range(60):
        side, rnd = detect_breakdown(
            res.rounds["jp_compliance"][:, k],
            res.rounds["trust_us"][:, k],
            res.rounds["trust_cn"][:, k],
        )
        assert int(side[0]) == int(res.rounds["breakdown_side"][-1, k])
        assert int(rnd[0]) == int(res.outcomes["breakdown_round"].iloc[k])
