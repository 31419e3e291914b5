"""Japan's beliefs about China's type, and how they learn from what China does (Bayes' rule).

China's type has two parts that Japan cannot see:

- its **red line** ``l``: the compliance above which it retaliates. Japan holds a
  distribution over a grid of 21 lines (0, 0.05, ..., 1): prior a normal around
  ``china_red_line`` with spread ``china_red_line_sd``, cut below at the status quo (China
  tolerates "differentiated execution", article [10]) and normalized. Each world's true line
  is drawn from that same prior (:func:`draw_red_line`), so results average over the
  uncertainty instead of resting on one assumed value.
- its **propensity to coerce unprovoked**: a *restrained* China starts a coercion episode (an
  embargo not triggered by Japan's compliance) with probability ``hazard_restrained`` per
  quarter, a *coercive* one with ``hazard_coercive``. Japan holds the probability ``q`` that
  China is coercive (prior ``coercive_prior``).

Learning (ODD section 7.6). When China's line is not announced and China retaliates (or
does not) against Japan's compliance ``c``, the line belief is updated with the likelihood
``exp(-(x - k e(c; l))^2 / (2 s^2))`` of the observed retaliation ``x`` (restriction above
any unconditional embargo), where ``k`` is China's announced coercion slope, ``e`` the excess
over the line (:func:`sim.core.payoffs.excess`) and ``s = belief_noise``. Each quarter outside
an episode, ``q`` is updated with the likelihood of what happened: an episode starting
(``h``) or not (``1 - h``). One real episode therefore multiplies the odds that China is
coercive by ``hazard_coercive / hazard_restrained``, and the lesson fades only as quiet
quarters accumulate: a durable lesson, not an exponentially forgotten one.
"""

from __future__ import annotations

import numpy as np

from sim.core.choice import sample_index, sequential_sum

#: The red lines Japan considers possible (compliance 0-1), in steps of 0.05.
RED_LINES = np.linspace(0.0, 1.0, 21)
_LINES = RED_LINES[:, None]  # (L, 1): lines on axis 0, worlds last
_ROOM = np.maximum(1.0 - _LINES, 0.25)  # the room above each line (excess denominator)


def red_line_prior(mean: np.ndarray, sd: np.ndarray, tolerated: float) -> np.ndarray:
    """Prior probability of each line in :data:`RED_LINES`, shape ``(L, N)``.

    A normal around ``mean`` with spread ``sd``, cut below at ``tolerated``: a line China has
    been seen to tolerate (the status quo, "differentiated execution", article [10]).
    """
    z = (_LINES - mean) / sd
    w = np.where(_LINES >= tolerated - 1e-12, np.exp(-0.5 * z * z), 0.0)
    return w / sequential_sum(w)


def draw_red_line(prior: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each world's true red line, drawn from ``prior`` ``(L, N)`` with uniforms ``u`` ``(N,)``."""
    return RED_LINES[sample_index(prior, u)]


def line_excess(compliance: np.ndarray) -> np.ndarray:
    """Excess over each possible line, ``(L, ..., N)`` for compliance of shape ``(..., N)``."""
    lines = RED_LINES.reshape((-1,) + (1,) * np.ndim(compliance))
    return np.maximum(0.0, compliance - lines) / np.maximum(1.0 - lines, 0.25)


def expected_excess(compliance: np.ndarray, belief: np.ndarray) -> np.ndarray:
    """Japan's expected excess over China's line at ``compliance`` ``(..., N)``, under ``belief`` ``(L, N)``.

    ``sum_l P(l) max(0, c - l) / max(1 - l, 0.25)`` computed as ``c W(c) - Z(c)`` with ``W`` and
    ``Z`` the cumulative sums, over the lines below ``c``, of ``P(l) / max(1 - l, 0.25)`` and of
    that times ``l`` (cost ``L + M`` per world instead of ``L x M``).
    """
    weight = belief / _ROOM  # (L, N)
    cum_w = _cumulative(weight)
    cum_z = _cumulative(weight * _LINES)
    c = np.broadcast_to(compliance, np.broadcast_shapes(np.shape(compliance), belief.shape[1:]))
    below = np.searchsorted(RED_LINES, c, side="left")  # lines strictly below c
    flat_below = below.reshape(-1, c.shape[-1])
    w = np.take_along_axis(cum_w, flat_below, axis=0).reshape(c.shape)
    z = np.take_along_axis(cum_z, flat_below, axis=0).reshape(c.shape)
    return c * w - z


def _cumulative(x: np.ndarray) -> np.ndarray:
    """Cumulative sums over axis 0 in index order, with a leading row of zeros, ``(L + 1, N)``."""
    out = np.zeros((x.shape[0] + 1,) + x.shape[1:])
    for k in range(x.shape[0]):
        out[k + 1] = out[k] + x[k]
    return out


def update_red_line(
    belief: np.ndarray,
    compliance: np.ndarray,
    retaliation: np.ndarray,
    slope: np.ndarray,
    line_known: np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """Posterior over the line after seeing ``retaliation`` at ``compliance`` (Bayes' rule).

    Unchanged where the line was announced this round (``line_known``): retaliation against
    an announced demand says nothing about China's standing line.
    """
    predicted = slope * line_excess(compliance)  # (L, N)
    z = (retaliation - predicted) / noise
    log_like = -0.5 * z * z
    # Shift by the best fit among the lines still possible, so their likelihoods cannot all
    # underflow to 0 because a ruled-out line fits better.
    best = np.where(belief > 0.0, log_like, -np.inf).max(axis=0)
    like = np.where(belief > 0.0, np.exp(log_like - best), 0.0)
    posterior = belief * like
    posterior = posterior / sequential_sum(posterior)
    return np.where(line_known, belief, posterior)


def update_coercive(
    q: np.ndarray,
    started: np.ndarray,
    in_episode: np.ndarray,
    hazard_restrained: np.ndarray,
    hazard_coercive: np.ndarray,
) -> np.ndarray:
    """Probability that China is the coercive type, after a quarter with or without a new episode."""
    like_c = np.where(started, hazard_coercive, 1.0 - hazard_coercive)
    like_r = np.where(started, hazard_restrained, 1.0 - hazard_restrained)
    posterior = q * like_c / (q * like_c + (1.0 - q) * like_r)
    return np.where(in_episode, q, posterior)


def episode_hazard(
    q: np.ndarray, hazard_restrained: np.ndarray, hazard_coercive: np.ndarray
) -> np.ndarray:
    """Japan's probability that an unprovoked coercion episode starts in a quarter."""
    return q * hazard_coercive + (1.0 - q) * hazard_restrained
