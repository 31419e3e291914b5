"""Quantal-response choice: logit probabilities, inverse-CDF sampling, order-fixed sums.

Every decision in the model is a logit (quantal-response) choice over a menu of options
(McKelvey and Palfrey 1995): the probability of option k is proportional to
``exp(U_k / (scale x temperature))``. The scale is the decision's own stakes: the range of
its options' values, ``max U - min U`` (Wilcox 2011, "contextual utility"), so each
decision's temperature is a share of what is at stake in it - a firm's few-million lobbying
choice is as sharp as Japan's billion-dollar compliance choice - and multiplying every
money figure by a constant changes no probability. Options are on axis 0, worlds last.

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


def stakes(utility: np.ndarray) -> np.ndarray:
    """The range of the available options' values over axis 0 (``-inf`` marks unavailable)."""
    available = np.isfinite(utility)
    top = utility.max(axis=0)
    bottom = np.where(available, utility, top).min(axis=0)
    return top - bottom


def contextual_probabilities(utility: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Logit probabilities over axis 0 with the decision's own stakes as the scale.

    With equal values everywhere (no stakes) every option is equally likely.
    """
    scale = np.maximum(stakes(utility), np.finfo(float).tiny)
    return logit_probabilities(utility, scale, temperature)


def sample_index(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from categorical ``probabilities`` (options on axis 0) with uniforms ``u``."""
    target = u * sequential_sum(probabilities)
    cdf = probabilities[0].copy()
    idx = (cdf < target).astype(np.int64)
    for k in range(1, probabilities.shape[0] - 1):
        cdf += probabilities[k]
        idx += cdf < target
    return idx


def sample_cell(probabilities: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cell drawn (as :func:`sample_index`) and where ``u`` falls inside its share of the CDF, 0-1."""
    m = probabilities.shape[0]
    target = u * sequential_sum(probabilities)
    cdf = probabilities[0].copy()
    before = np.zeros_like(cdf)
    idx = np.zeros(cdf.shape, dtype=np.int64)
    for k in range(1, m):
        past = cdf < target
        idx += past
        before = np.where(past, cdf, before)
        cdf += probabilities[k]
    chosen = np.take_along_axis(probabilities, idx[None], axis=0)[0]
    position = np.clip((target - before) / np.where(chosen > 0.0, chosen, 1.0), 0.0, 1.0)
    return idx, position


def sample_in_cells(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A continuous draw 0-1 from ``M`` equal cells of 0-1 with ``probabilities`` (options on axis 0).

    Inverse-CDF sampling of the piecewise-constant density that puts ``probabilities[k]`` on
    cell ``[k/M, (k+1)/M)`` evenly: the cell is :func:`sample_index`'s, the position inside it
    is where ``u`` falls within that cell's share of the CDF. No extra random number is used,
    and the result is a continuous choice whose distribution converges as ``M`` grows.
    """
    idx, position = sample_cell(probabilities, u)
    return (idx + position) / probabilities.shape[0]


def expectation(prob: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Expected value over the options on axis 0, summed in a fixed order."""
    return sequential_sum(prob * value)
