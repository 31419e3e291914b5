"""Japan's beliefs about China (:mod:`sim.core.beliefs`), by hand.

The line belief lives on 21 lines 0, 0.05, ..., 1: a normal prior cut below the status quo,
updated by Bayes' rule with a normal likelihood of the observed retaliation around
``slope x excess``. The coercive-type probability is updated with the episode hazards: an
episode multiplies the odds by ``h_c / h_r``, a quiet quarter by ``(1 - h_c) / (1 - h_r)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core import beliefs

LINES = [i / 20 for i in range(21)]
SEED = 20251129


def hand_prior(mean, sd, tolerated):
    w = [math.exp(-0.5 * ((x - mean) / sd) ** 2) if x >= tolerated else 0.0 for x in LINES]
    return [x / sum(w) for x in w]


def hand_excess(c, line):
    return max(0.0, c - line) / max(1.0 - line, 0.25)


# --- the prior and the true line ----------------------------------------------------------------
def test_red_lines_grid():
    assert beliefs.RED_LINES.shape == (21,)
    np.testing.assert_allclose(beliefs.RED_LINES, LINES, rtol=0, atol=1e-15)


@pytest.mark.parametrize("mean, sd", [(0.5, 0.1), (0.3, 0.2), (0.75, 0.03), (0.9, 0.25)])
def test_prior_is_cut_below_the_status_quo_and_normalized(mean, sd):
    prior = beliefs.red_line_prior(np.array([mean]), np.array([sd]), 0.5)
    assert prior.shape == (21, 1)
    assert (prior[:10] == 0.0).all()  # lines 0 ... 0.45: China tolerates the status quo
    assert (prior[10:] > 0.0).all()  # 0.5 itself is possible
    assert prior[:, 0].sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(prior[:, 0], hand_prior(mean, sd, 0.5), rtol=1e-12)


def test_prior_by_hand_for_the_article_numbers():
    # mean 0.5, sd 0.1: weights exp(-k^2 / 8) for lines 0.5 + 0.05 k, k = 0..10
    w = [math.exp(-(k**2) / 8) for k in range(11)]
    prior = beliefs.red_line_prior(np.array([0.5]), np.array([0.1]), 0.5)[:, 0]
    np.testing.assert_allclose(prior[10:], [x / sum(w) for x in w], rtol=1e-12)
    assert prior[10] == pytest.approx(0.33260, abs=1e-5)


def test_prior_has_one_column_per_world():
    mean, sd = np.array([0.5, 0.3, 0.7]), np.array([0.1, 0.05, 0.2])
    prior = beliefs.red_line_prior(mean, sd, 0.5)
    assert prior.shape == (21, 3)
    for j in range(3):
        np.testing.assert_allclose(prior[:, j], hand_prior(mean[j], sd[j], 0.5), rtol=1e-12)


def test_a_lower_tolerated_line_keeps_lower_lines():
    prior = beliefs.red_line_prior(np.array([0.3]), np.array([0.1]), 0.25)[:, 0]
    assert (prior[:5] == 0.0).all() and (prior[5:] > 0.0).all()
    np.testing.assert_allclose(prior, hand_prior(0.3, 0.1, 0.25), rtol=1e-12)


def test_draw_red_line_frequencies_match_the_prior():
    prior = beliefs.red_line_prior(np.array([0.5]), np.array([0.1]), 0.5)
    n = 200_000
    u = np.random.default_rng(SEED).random(n)
    lines = beliefs.draw_red_line(np.repeat(prior, n, axis=1), u)
    assert set(np.round(lines, 12)) <= set(np.round(LINES[10:], 12))
    freq = np.array([np.mean(np.isclose(lines, x, atol=1e-12)) for x in LINES])
    # binomial sd <= sqrt(0.25 / n) = 0.0011; tolerance 0.005 is over 4 sd
    np.testing.assert_allclose(freq, prior[:, 0], atol=0.005)
    # on a grid of uniforms the frequencies are the prior to 1/n
    grid = (np.arange(n) + 0.5) / n
    lines = beliefs.draw_red_line(np.repeat(prior, n, axis=1), grid)
    freq = np.array([np.mean(np.isclose(lines, x, atol=1e-12)) for x in LINES])
    np.testing.assert_allclose(freq, prior[:, 0], atol=1.0 / n)


def test_line_excess_is_the_excess_over_every_line():
    c = np.array([[0.0, 0.3, 0.55], [0.8, 1.0, 0.5]])  # (2, 3): options x worlds
    got = beliefs.line_excess(c)
    assert got.shape == (21, 2, 3)
    for i, line in enumerate(LINES):
        for a in range(2):
            for b in range(3):
                assert got[i, a, b] == pytest.approx(hand_excess(c[a, b], line), abs=1e-15)


# --- Bayes' rule over the line ----------------------------------------------------------------------
def _toy_belief():
    """Three possible lines: 0.5 (0.5), 0.6 (0.3), 0.75 (0.2); world 1 the same."""
    b = np.zeros((21, 2))
    b[10], b[12], b[15] = 0.5, 0.3, 0.2
    return b


def test_update_red_line_by_hand_for_three_lines():
    belief = _toy_belief()
    c, slope, noise = 0.8, 0.375, 0.05
    # predicted retaliation slope x excess: 0.375 x 0.3/0.5 = 0.225, 0.375 x 0.2/0.4 = 0.1875,
    # 0.375 x 0.05/0.25 = 0.075; observed 0.2
    predicted = [0.225, 0.1875, 0.075]
    like = [math.exp(-0.5 * ((0.2 - x) / noise) ** 2) for x in predicted]
    post = [q * x for q, x in zip([0.5, 0.3, 0.2], like, strict=True)]
    want = [x / sum(post) for x in post]
    got = beliefs.update_red_line(
        belief,
        np.full(2, c),
        np.full(2, 0.2),
        np.full(2, slope),
        np.array([False, True]),
        np.full(2, noise),
    )
    np.testing.assert_allclose(got[[10, 12, 15], 0], want, rtol=1e-12)
    assert got[:, 0].sum() == pytest.approx(1.0, abs=1e-15)
    # lines held impossible stay impossible
    assert (got[np.setdiff1d(np.arange(21), [10, 12, 15]), 0] == 0.0).all()
    # likelihoods exp(-0.125), exp(-0.03125), exp(-3.125): posterior (0.5956, 0.3925, 0.0119);
    # the closest prediction (line 0.6) gains most relative to its prior
    assert want == pytest.approx([0.59563, 0.39250, 0.01186], abs=1e-5)
    ratio = got[[10, 12, 15], 0] / belief[[10, 12, 15], 0]
    assert ratio.argmax() == 1
    # world 1 saw an announced line: nothing learnt about the standing one
    np.testing.assert_array_equal(got[:, 1], belief[:, 1])


def test_no_retaliation_below_every_line_teaches_nothing():
    # compliance 0.5 exceeds none of the lines 0.5, 0.6, 0.75: all predict 0, the belief stays
    belief = _toy_belief()
    got = beliefs.update_red_line(
        belief,
        np.full(2, 0.5),
        np.zeros(2),
        np.full(2, 0.375),
        np.zeros(2, bool),
        np.full(2, 0.05),
    )
    np.testing.assert_allclose(got, belief, rtol=1e-15)


def test_retaliation_far_in_the_tail_does_not_break_the_update():
    # every line possible; at c = 0.9 line 0 predicts 0.3375, line 0.5 predicts 0.3, ...; an
    # observation of 5 with noise 0.01 has log-likelihoods near -1.1e5 (exp underflows to 0
    # without the shift by the largest): still a proper distribution, all on line 0
    belief = np.full((21, 2), 1 / 21)
    got = beliefs.update_red_line(
        belief,
        np.full(2, 0.9),
        np.full(2, 5.0),
        np.full(2, 0.375),
        np.zeros(2, bool),
        np.full(2, 0.01),
    )
    assert np.isfinite(got).all() and got[:, 0].sum() == pytest.approx(1.0, abs=1e-15)
    assert got[0, 0] == 1.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tail_observation_with_lines_ruled_out_gives_a_proper_posterior():
    # lines 0.5, 0.6, 0.75 only; at c = 0.9 they predict 0.3, 0.28125, 0.225 and the ruled-out
    # line 0 predicts 0.3375, closest to the observation 5
    belief = _toy_belief()
    got = beliefs.update_red_line(
        belief,
        np.full(2, 0.9),
        np.full(2, 5.0),
        np.full(2, 0.375),
        np.zeros(2, bool),
        np.full(2, 0.01),
    )
    assert np.isfinite(got).all()
    assert got[10, 0] == 1.0  # line 0.5 predicts the most retaliation among the possible


# --- the coercive type -------------------------------------------------------------------------
HR, HC = 0.005, 0.05


def _coercive(q, started, in_episode):
    n = len(q)
    return beliefs.update_coercive(
        np.asarray(q, float),
        np.asarray(started, bool),
        np.asarray(in_episode, bool),
        np.full(n, HR),
        np.full(n, HC),
    )


def test_an_episode_multiplies_the_odds_by_the_hazard_ratio():
    q = np.array([0.5, 0.1, 0.9, 0.01])
    got = _coercive(q, [True] * 4, [False] * 4)
    np.testing.assert_allclose(got / (1 - got), q / (1 - q) * HC / HR, rtol=1e-12)
    # by hand: 0.5 -> 0.05 / (0.05 + 0.005) = 10/11
    assert got[0] == pytest.approx(10 / 11, rel=1e-14)


def test_a_quiet_quarter_multiplies_the_odds_by_the_survival_ratio():
    q = np.array([0.5, 0.1, 0.9, 0.01])
    got = _coercive(q, [False] * 4, [False] * 4)
    np.testing.assert_allclose(got / (1 - got), q / (1 - q) * (1 - HC) / (1 - HR), rtol=1e-12)
    # by hand: 0.5 -> 0.95 / (0.95 + 0.995)
    assert got[0] == pytest.approx(0.95 / 1.945, rel=1e-14)


def test_no_update_during_an_episode():
    q = np.array([0.5, 0.3])
    np.testing.assert_array_equal(_coercive(q, [False, True], [True, True]), q)


def test_the_lesson_fades_only_as_quiet_quarters_accumulate():
    # one episode then n quiet quarters: odds = prior odds x 10 x (0.95 / 0.995)^n
    q = np.array([0.5])
    q = _coercive(q, [True], [False])
    for _ in range(3):  # the episode's later quarters teach nothing
        q = _coercive(q, [False], [True])
    for n in range(1, 41):
        q = _coercive(q, [False], [False])
        odds = 10 * (0.95 / 0.995) ** n
        assert q[0] == pytest.approx(odds / (1 + odds), rel=1e-12), n
    # after ten years it is still above the prior: 10 x 0.9548^40 = 1.57
    assert q[0] > 0.5


def test_episode_hazard_by_hand():
    q = np.array([0.0, 0.5, 1.0, 0.2])
    got = beliefs.episode_hazard(q, np.full(4, HR), np.full(4, HC))
    np.testing.assert_allclose(got, [HR, 0.0275, HC, 0.2 * HC + 0.8 * HR], rtol=1e-14)


# --- the expected excess -------------------------------------------------------------------------
def _direct(compliance, belief):
    """The L x M sum: sum over lines of belief x excess over the line."""
    return (
        beliefs.line_excess(compliance)
        * belief.reshape((21,) + (1,) * (compliance.ndim - 1) + (-1,))
    ).sum(axis=0)


@pytest.mark.parametrize("shape", [(7,), (33, 7), (5, 33, 7)])
def test_expected_excess_equals_the_direct_sum(shape):
    rng = np.random.default_rng(SEED)
    n = shape[-1]
    belief = rng.dirichlet(np.full(21, 0.5), size=n).T  # (21, n)
    belief[:8, :3] = 0.0  # some worlds cut below
    belief /= belief.sum(axis=0)
    compliance = rng.random(shape)
    # include the grid itself, 0, 1 and the status quo (exact ties with a line)
    flat = compliance.reshape(-1, n)
    flat[: min(21, flat.shape[0]), 0] = np.linspace(0, 1, 21)[: flat.shape[0]]
    flat[0, 1:] = [0.0, 1.0, 0.5, 0.25, 0.75, 1 / 3][: n - 1]
    got = beliefs.expected_excess(compliance, belief)
    assert got.shape == shape
    np.testing.assert_allclose(got, _direct(compliance, belief), rtol=0, atol=1e-15)


def test_expected_excess_by_hand():
    belief = _toy_belief()[:, :1]
    # c = 0.8: 0.5 x 0.3/0.5 + 0.3 x 0.2/0.4 + 0.2 x 0.05/0.25 = 0.3 + 0.15 + 0.04 = 0.49
    got = beliefs.expected_excess(np.array([[0.5], [0.55], [0.8], [1.0]]), belief)
    want = [0.0, 0.5 * 0.1, 0.49, 0.5 * 1 + 0.3 * 1 + 0.2 * 1]
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-14, atol=1e-16)


def test_expected_excess_broadcasts_a_shared_menu():
    rng = np.random.default_rng(SEED)
    belief = rng.dirichlet(np.ones(21), size=4).T
    menu = ((np.arange(21) + 0.5) / 21)[:, None]  # (M, 1): one menu for every world
    got = beliefs.expected_excess(menu, belief)
    assert got.shape == (21, 4)
    np.testing.assert_allclose(got, _direct(np.repeat(menu, 4, axis=1), belief), atol=1e-15)
