"""Breakdown: detected from what Japan did and from the states' relations, never from a parameter.

Japan has stopped balancing toward a side when, for ``sustain_rounds`` consecutive rounds,
either its chosen compliance stays outside the balancing band (above it: toward the US;
below it: toward China), or a relation has collapsed (trust with China at or below the
collapse level: toward the US; trust with the US at or below it: toward China). The
breakdown is recorded once, with its side and the first round of the sustained stretch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.core.errors import ConfigError

NONE, US, CHINA = 0, 1, 2
SIDE_NAMES = {NONE: "balanced", US: "us", CHINA: "china"}
#: How balancing ended: Japan's own compliance left the band, or a relation collapsed.
COMPLIANCE, RELATION = 1, 2
CHANNEL_NAMES = {NONE: "none", COMPLIANCE: "compliance", RELATION: "relation"}


@dataclass
class BreakdownRule:
    """What counts as the end of balancing."""

    band_low: float = 0.25  # compliance below this leans to China
    band_high: float = 0.75  # compliance above this leans to the US
    sustain_rounds: int = 4  # consecutive quarters needed
    collapse_trust: float = 0.1  # a relation at or below this trust has collapsed

    def __post_init__(self) -> None:
        for key in ("band_low", "band_high", "collapse_trust"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                raise ConfigError(f"breakdown.{key}", f"must be a number in [0, 1], got {v!r}")
        if self.band_low > self.band_high:
            raise ConfigError(
                "breakdown.band_low", f"above band_high ({self.band_low} > {self.band_high})"
            )
        s = self.sustain_rounds
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise ConfigError("breakdown.sustain_rounds", f"must be a whole number >= 1, got {s!r}")


class BreakdownState(NamedTuple):
    """Running counters and the recorded breakdown, shapes ``(N,)``."""

    run_high: np.ndarray  # consecutive rounds above the band
    run_low: np.ndarray  # consecutive rounds below the band
    run_cn_collapse: np.ndarray  # consecutive rounds with China trust collapsed
    run_us_collapse: np.ndarray  # consecutive rounds with US trust collapsed
    side: np.ndarray  # NONE, US or CHINA (int8)
    round: np.ndarray  # first round of the sustained stretch, -1 if none
    channel: np.ndarray  # NONE, COMPLIANCE or RELATION (int8)


def initial_breakdown_state(n: int) -> BreakdownState:
    """No breakdown, all counters at zero."""
    z = np.zeros(n, dtype=np.int64)
    none = np.zeros(n, dtype=np.int8)
    return BreakdownState(z, z.copy(), z.copy(), z.copy(), none, np.full(n, -1), none.copy())


def update_breakdown(
    state: BreakdownState,
    t: int,
    compliance: np.ndarray,
    trust_us: np.ndarray,
    trust_cn: np.ndarray,
    rule: BreakdownRule,
) -> BreakdownState:
    """Advance the detector by round ``t``'s actions and relations; a recorded breakdown is kept."""

    def run(counter: np.ndarray, cond: np.ndarray) -> np.ndarray:
        return np.where(cond, counter + 1, 0)

    high = run(state.run_high, compliance > rule.band_high + 1e-12)
    low = run(state.run_low, compliance < rule.band_low - 1e-12)
    cn_collapse = run(state.run_cn_collapse, trust_cn <= rule.collapse_trust)
    us_collapse = run(state.run_us_collapse, trust_us <= rule.collapse_trust)
    k = rule.sustain_rounds
    to_us = (high >= k) | (cn_collapse >= k)
    to_cn = (low >= k) | (us_collapse >= k)
    # Both at once (rare): the side of Japan's own compliance decides.
    new_side = np.where(
        to_us & to_cn, np.where(compliance >= 0.5, US, CHINA), np.where(to_us, US, CHINA)
    )
    fresh = (state.side == NONE) & (to_us | to_cn)
    side = np.where(fresh, new_side, state.side).astype(np.int8)
    rnd = np.where(fresh, t - k + 1, state.round)
    by_compliance = (high >= k) | (low >= k)
    channel = np.where(fresh, np.where(by_compliance, COMPLIANCE, RELATION), state.channel).astype(
        np.int8
    )
    return BreakdownState(high, low, cn_collapse, us_collapse, side, rnd, channel)


def detect_breakdown(
    compliance: np.ndarray,
    trust_us: np.ndarray,
    trust_cn: np.ndarray,
    rule: BreakdownRule | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Side and round of breakdown from whole paths of shape ``(rounds,)`` or ``(rounds, N)``."""
    rule = rule or BreakdownRule()
    c, tu, tc = (np.asarray(x, dtype=float) for x in (compliance, trust_us, trust_cn))
    if c.ndim == 1:
        c, tu, tc = c[:, None], tu[:, None], tc[:, None]
    state = initial_breakdown_state(c.shape[1])
    for t in range(c.shape[0]):
        state = update_breakdown(state, t, c[t], tu[t], tc[t], rule)
    return state.side, state.round


def posture(compliance: np.ndarray, rule: BreakdownRule) -> np.ndarray:
    """Current posture from this round's compliance: 0 balancing, 1 tilting US, 2 tilting China."""
    return np.where(
        compliance > rule.band_high + 1e-12,
        US,
        np.where(compliance < rule.band_low - 1e-12, CHINA, NONE),
    )
