"""Quantal-response choice: logit probabilities, inverse-CDF sampling, order-fixed sums.

Every decision in the model is a logit (quantal-response) choice over a menu of options
(McKelvey and Palfrey 1995): the probability of option k is proportional to
``exp(U_k / (scale x temperature))``. ``scale`` is a money figure of the decision's own
stakes (Japan's gains from trade for compliance, its diversification budget for
diversification, a firm's profit for lobbying, ...), so multiplying every money figure by a
constant changes no probability, and each decision's noise is stated relative to what is at
stake in it. Options are on axis 0, worlds on the last axis.

Sums over options run in index order (:func:`sequential_sum`), so a world's numbers do not
depend on how many worlds are computed at once (the Mesa model and the batch engine agree to
the last bit).
"""

from __future__ import annotations

import numpy as np


def sequential_sum(x: np.ndarray) -> np.ndarray:
    """Sum over axis 0 in index order (the same bits for any number of worlds)."""
    total = x[0].copy()
    for k in range(1, x.shape[0]):
        total += x[k]
    return total


def logit_probabilities(
    utility: np.ndarray, scale: np.ndarray, temperature: np.ndarray
) -> np.ndarray:
    """Quantal-response probabilities over axis 0; ``utility`` and ``scale`` in the same money.

    Options with utility ``-inf`` (not available) get probability 0.
    """
    z = (utility - utility.max(axis=0)) / (scale * temperature)
    w = np.exp(z)
    return w / sequential_sum(w)


def sample_index(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from categorical ``probabilities`` (options on axis 0) with uniforms ``u``."""
    target = u * sequential_sum(probabilities)
    cdf = probabilities[0].copy()
    idx = (cdf < target).astype(np.int64)
    for k in range(1, probabilities.shape[0] - 1):
        cdf += probabilities[k]
        idx += cdf < target
    return idx


def expectation(prob: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Expected value over the options on axis 0, summed in a fixed order."""
    return sequential_sum(prob * value)
