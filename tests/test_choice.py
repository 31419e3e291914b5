"""Quantal-response choice (:mod:`sim.core.choice`): contextual-utility logit and the continuous
draw within equal cells.

The logit's scale is the decision's own stakes (the range of its available options' values,
Wilcox 2011), so probabilities ignore the money unit and any constant; ``sample_cell`` draws
an option and where the uniform falls inside its share of the CDF, and ``sample_in_cells`` is
the inverse CDF of the piecewise-constant density that spreads each option's probability
evenly over its cell of 0-1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core.choice import (
    contextual_probabilities,
    logit_probabilities,
    sample_cell,
    sample_in_cells,
    sample_index,
    sequential_sum,
    stakes,
)

INF = math.inf
RNG_SEED = 20251129


def random_menu(rng, m, n):
    """Utilities (m, n) of mixed signs and magnitudes."""
    return rng.normal(size=(m, n)) * 10.0 ** rng.integers(-3, 4, size=n)


def piecewise_cdf(probs, x):
    """CDF at ``x`` of the density that puts ``probs[k]`` evenly on ``[k/M, (k+1)/M)``."""
    m, total = len(probs), sum(probs)
    k = min(int(x * m), m - 1)
    return (sum(probs[:k]) + probs[k] * (x * m - k)) / total


# --- stakes --------------------------------------------------------------------------------
def test_stakes_is_the_range_of_the_available_options():
    u = np.array([[3.0, -INF, 1.0], [-INF, 2.0, 1.0], [1.0, 5.0, 1.0], [-INF, -INF, 1.0]])
    # world 0: 3 - 1 (the -inf options are not available); world 1: 5 - 2; world 2: no stakes
    np.testing.assert_array_equal(stakes(u), [2.0, 3.0, 0.0])


def test_unavailable_options_get_probability_zero_and_change_nothing_else():
    rng = np.random.default_rng(RNG_SEED)
    u = random_menu(rng, 6, 5)
    temp = np.full(5, 0.2)
    blocked = u.copy()
    blocked[[1, 4]] = -INF
    got = contextual_probabilities(blocked, temp)
    assert (got[[1, 4]] == 0.0).all()
    # the same as the logit over the available options alone
    want = contextual_probabilities(u[[0, 2, 3, 5]], temp)
    np.testing.assert_allclose(got[[0, 2, 3, 5]], want, rtol=1e-13)


# --- contextual probabilities ---------------------------------------------------------------
def test_contextual_probabilities_by_hand():
    # U = (0, 3, 4): stakes 4, temperature 0.25 -> scale x temperature = 1
    prob = contextual_probabilities(np.array([[0.0], [3.0], [4.0]]), np.array([0.25]))
    w = [math.exp(-4.0), math.exp(-1.0), 1.0]
    np.testing.assert_allclose(prob[:, 0], [x / sum(w) for x in w], rtol=1e-14)


@pytest.mark.parametrize("factor", [1e-9, 1e-3, 0.37, 3.0, 1000.0, 7.3e8])
def test_contextual_probabilities_ignore_the_unit_of_money(factor):
    rng = np.random.default_rng(RNG_SEED)
    u = random_menu(rng, 9, 8)
    temp = rng.uniform(0.01, 1.0, size=8)
    base = contextual_probabilities(u, temp)
    np.testing.assert_allclose(contextual_probabilities(u * factor, temp), base, rtol=1e-10)


@pytest.mark.parametrize("power", [-30, -1, 1, 10, 40])
def test_scaling_by_a_power_of_two_is_exact(power):
    rng = np.random.default_rng(RNG_SEED)
    u = random_menu(rng, 9, 8)
    temp = np.full(8, 0.05)
    base = contextual_probabilities(u, temp)
    np.testing.assert_array_equal(contextual_probabilities(u * 2.0**power, temp), base)


@pytest.mark.parametrize("shift", [-1e3, -0.5, 2.0, 1e4])
def test_contextual_probabilities_ignore_a_constant(shift):
    rng = np.random.default_rng(RNG_SEED)
    u = rng.normal(size=(7, 6))
    temp = np.full(6, 0.1)
    base = contextual_probabilities(u, temp)
    np.testing.assert_allclose(contextual_probabilities(u + shift, temp), base, rtol=1e-9)


@pytest.mark.parametrize("value", [0.0, -3.5, 1e12])
def test_no_stakes_means_every_option_is_equally_likely(value):
    prob = contextual_probabilities(np.full((4, 3), value), np.array([0.05, 1.0, 1e-6]))
    np.testing.assert_array_equal(prob, 0.25)


def test_contextual_is_the_logit_with_stakes_as_scale():
    rng = np.random.default_rng(RNG_SEED)
    u = random_menu(rng, 5, 7)
    temp = rng.uniform(0.01, 0.5, size=7)
    want = logit_probabilities(u, u.max(axis=0) - u.min(axis=0), temp)
    np.testing.assert_array_equal(contextual_probabilities(u, temp), want)


def test_temperature_sets_the_odds_between_best_and_worst():
    # the best option is exp(1 / temperature) times as likely as the worst, whatever the stakes
    rng = np.random.default_rng(RNG_SEED)
    u = random_menu(rng, 5, 6)
    for temp in (0.05, 0.2, 1.0):
        prob = contextual_probabilities(u, np.full(6, temp))
        ratio = prob.max(axis=0) / prob.min(axis=0)
        np.testing.assert_allclose(ratio, math.exp(1.0 / temp), rtol=1e-9)


def test_sequential_sum_runs_in_index_order():
    # (1e16 + 1) + 1 - 1e16 = 0 in index order (each 1 is lost); any other order may give 2
    x = np.array([[1e16], [1.0], [1.0], [-1e16]])
    assert sequential_sum(x)[0] == 0.0
    assert sequential_sum(x[[0, 3, 1, 2]])[0] == 2.0


# --- sample_cell and sample_in_cells ------------------------------------------------------------
def test_sample_cell_is_sample_index_with_the_position_inside_the_cell():
    rng = np.random.default_rng(RNG_SEED)
    m, n = 9, 3000
    probs = _menu_probs(rng, m, n, zeros=400)
    u = rng.random(n)
    u[:4] = [0.0, 1e-300, 0.5, np.nextafter(1.0, 0.0)]
    cell, position = sample_cell(probs, u)
    np.testing.assert_array_equal(cell, sample_index(probs, u))
    assert ((position >= 0.0) & (position <= 1.0)).all()
    np.testing.assert_array_equal((cell + position) / m, sample_in_cells(probs, u))
    for j in range(0, n, 7):
        # by hand: where u x total falls past the CDF below the cell, in units of its share
        below = sum(probs[: cell[j], j])
        want = (u[j] * sum(probs[:, j]) - below) / probs[cell[j], j]
        assert position[j] == pytest.approx(want, abs=1e-9)
        assert probs[cell[j], j] > 0.0


def test_sample_cell_over_the_pairs_of_a_joint_menu():
    """Japan draws one of G x M (deal, cell) pairs, flattened deal-major: a uniform in the
    middle of a pair's share of the CDF lands at position 0.5 of that pair's cell."""
    g, m = 3, 4
    joint = np.arange(1.0, g * m + 1.0)  # unnormalized weights of the 12 pairs
    probs = joint / joint.sum()
    cdf = np.concatenate([[0.0], np.cumsum(probs)])
    u = (cdf[:-1] + cdf[1:]) / 2  # the middle of each pair's share
    cell, position = sample_cell(np.repeat(joint[:, None], len(u), axis=1), u)
    np.testing.assert_array_equal(cell, np.arange(g * m))
    np.testing.assert_allclose(position, 0.5, rtol=1e-12)
    # deal level index pair // M, compliance cell pair % M
    assert [(int(k) // m, int(k) % m) for k in cell[[0, 5, 11]]] == [(0, 0), (1, 1), (2, 3)]


def _menu_probs(rng, m, n, zeros=0):
    p = rng.dirichlet(np.ones(m), size=n).T  # (m, n)
    if zeros:
        p[rng.integers(0, m, size=zeros), np.arange(zeros) % n] = 0.0
    return p


def test_sample_in_cells_stays_in_0_1_and_in_the_cell_sample_index_picks():
    rng = np.random.default_rng(RNG_SEED)
    m, n = 21, 2000
    probs = _menu_probs(rng, m, n, zeros=300)
    u = rng.random(n)
    u[:5] = [0.0, 1e-300, 0.5, 1 - 1e-16, np.nextafter(1.0, 0.0)]
    x = sample_in_cells(probs, u)
    idx = sample_index(probs, u)
    assert ((x >= 0.0) & (x <= 1.0)).all()
    # within the chosen cell [k/M, (k+1)/M] (an edge only when u sits exactly on a CDF step)
    assert ((x >= idx / m) & (x <= (idx + 1) / m)).all()
    inside = (x > idx / m) & (x < (idx + 1) / m)
    np.testing.assert_array_equal(np.floor(x[inside] * m), idx[inside])
    assert inside.mean() > 0.99
    # a cell of probability zero is never drawn into
    chosen = np.take_along_axis(probs, idx[None], axis=0)[0]
    assert (chosen > 0).all()


def test_sample_in_cells_is_the_exact_inverse_cdf():
    """F(sample(u)) = u for the piecewise-constant CDF F, for every u (up to rounding)."""
    rng = np.random.default_rng(RNG_SEED)
    m, n = 11, 500
    probs = _menu_probs(rng, m, n, zeros=50)
    u = rng.random(n)
    x = sample_in_cells(probs, u)
    for j in range(n):
        assert piecewise_cdf(list(probs[:, j]), x[j]) == pytest.approx(u[j], abs=1e-13)


def test_sample_in_cells_is_monotone_in_the_uniform():
    probs = np.repeat(np.array([[0.1], [0.0], [0.3], [0.6]]), 1001, axis=1)
    x = sample_in_cells(probs, np.linspace(0.0, 1.0, 1001))
    assert (np.diff(x) >= 0).all() and x[0] == 0.0 and x[-1] == 1.0


def test_empirical_cdf_at_cell_edges_equals_the_cumulative_probabilities():
    """Uniforms on a fine grid: the share of draws below k/M is P(cells < k) to 1/n."""
    probs = np.array([0.05, 0.2, 0.0, 0.35, 0.1, 0.3])
    m, n = len(probs), 100_000
    u = (np.arange(n) + 0.5) / n
    x = sample_in_cells(np.repeat(probs[:, None], n, axis=1), u)
    cum = np.concatenate([[0.0], np.cumsum(probs)])
    for k in range(m + 1):
        assert np.mean(x < k / m) == pytest.approx(cum[k], abs=1.0 / n)
    # and within a cell the draws are spread evenly: at the cell's middle half its mass
    for k in range(m):
        got = np.mean(x < (k + 0.5) / m)
        assert got == pytest.approx(cum[k] + probs[k] / 2, abs=1.0 / n)


def test_unnormalized_weights_give_the_same_draw():
    rng = np.random.default_rng(RNG_SEED)
    probs = _menu_probs(rng, 8, 300)
    u = rng.random(300)
    np.testing.assert_allclose(
        sample_in_cells(4.0 * probs, u), sample_in_cells(probs, u), rtol=0, atol=1e-15
    )


def test_draws_from_a_fine_menu_approximate_a_smooth_logit_density():
    """Utility -(c - 0.3)^2 on 0-1: the continuous logit density is a normal around 0.3 with
    variance 0.49 T / 2 (stakes 0.49), cut to 0-1. The cell draws' CDF converges to it."""
    temp = 0.2
    mu, stake = 0.3, 0.49
    sigma = math.sqrt(stake * temp / 2)

    def true_cdf(x):
        def phi(y):
            return 0.5 * (1 + math.erf((y - mu) / (sigma * math.sqrt(2))))

        return (phi(x) - phi(0.0)) / (phi(1.0) - phi(0.0))

    n = 20_000
    u = (np.arange(n) + 0.5) / n
    edges = np.linspace(0.0, 1.0, 201)
    want = np.array([true_cdf(x) for x in edges])
    errors = []
    for m in (5, 21, 81, 321):
        c = (np.arange(m) + 0.5) / m
        utility = -((c - mu) ** 2)
        probs = contextual_probabilities(np.repeat(utility[:, None], n, axis=1), np.full(n, temp))
        x = np.sort(sample_in_cells(probs, u))
        got = np.searchsorted(x, edges, side="right") / n
        errors.append(np.abs(got - want).max())
    # the Kolmogorov distance shrinks with the menu (about as 1/M: 0.052, 0.011, 0.0027,
    # 0.0007) and is small when fine
    assert all(b < a / 3 for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] < 0.0015, errors
