"""Elementwise helpers that the numpy engine runs on arrays and the compiled engine on scalars.

The payoff formulas and the parts of the decision rules that the compiled engine
(:mod:`sim.engine.compiled`) evaluates option by option are written once, in
:mod:`sim.core.payoffs` and :mod:`sim.core.policies`, with only operations that mean the same
on a numpy array and on one number: arithmetic, comparisons, ``np.minimum``/``np.maximum``/
``np.abs``, and :func:`select` for a conditional. The compiled engine registers a scalar
version of :func:`select` (``a if cond else b``); everything else it compiles unchanged.
Transcendental functions (``exp``, ``**``) are left to numpy: its SIMD versions differ from
the C library's in the last bit for a few percent of arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def select(cond: np.ndarray, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """``a`` where ``cond``, else ``b`` (``np.where``; on scalars in the compiled engine)."""
    return np.where(cond, a, b)


def entry(record: Any, i: int) -> Any:
    """A NamedTuple of arrays with each field's entry ``i`` on its first axis (a firm's, say)."""
    return type(record)(*(x[i] for x in record))
