"""Where Japan stands between the two sides: its alignment index and its breaches of each side.

Each side asks something of Japan: the US a compliance *demand* ``d`` (Japan falls short by
``phi = shortfall(c, d)``), China a *red line* ``l`` it tolerates (Japan exceeds it by
``eps = excess(c, l)``); both are shares 0-1 (:func:`sim.core.payoffs.shortfall`,
:func:`sim.core.payoffs.excess`).

- The **alignment index** ``A = eps - phi`` (-1 to 1) says where Japan stands relative to
  what each side asks this round: positive when it leans to the US at China's expense,
  negative when it leans to China at the US's expense, 0 when it meets both or falls short
  of both by as much. It is reported every round and averaged per run.
- A **breach** is what Japan's own policy does to a side, measured from the status quo
  (Japan's "differentiated execution", compliance 0.5 before round 0): each side is taken to
  tolerate the status quo, so Japan breaches the US only by falling below both the US demand
  and the status quo, and China only by going beyond both its line and the status quo. A
  demand nobody makes (``d = 0``) cannot be breached, and a side that raises its ask does not
  make a Japan that stays put a defector.
"""

from __future__ import annotations

import numpy as np

from sim.core.payoffs import excess, shortfall

#: Japan's compliance before round 0: "differentiated execution" (article [10]).
STATUS_QUO = 0.5


def alignment_index(compliance: np.ndarray, demand: np.ndarray, red_line: np.ndarray) -> np.ndarray:
    """``excess over China's line - shortfall from the US demand``, -1 (China) to 1 (US)."""
    return excess(compliance, red_line) - shortfall(compliance, demand)


def tolerated_demand(demand: np.ndarray) -> np.ndarray:
    """The least the US is taken to accept: its demand, or the status quo if that is lower."""
    return np.minimum(demand, STATUS_QUO)


def tolerated_line(red_line: np.ndarray) -> np.ndarray:
    """The most China is taken to accept: its line, or the status quo if that is higher."""
    return np.maximum(red_line, STATUS_QUO)


def us_breach(compliance: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """How far Japan's own policy falls below what the US accepts, share 0-1."""
    return shortfall(compliance, tolerated_demand(demand))


def china_breach(compliance: np.ndarray, red_line: np.ndarray) -> np.ndarray:
    """How far Japan's own policy goes beyond what China accepts, share 0-1."""
    return excess(compliance, tolerated_line(red_line))
