"""Numbers in README sentences: percentages, fixed decimals, signs, lists, ranges, intervals.

Every number in ``results/paper/README.md`` is computed from a figure's CSV as written (read
back with pandas) and formatted here, so the text always matches the committed tables;
``make figures-check`` regenerates the README and compares it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage, e.g. 0.345 -> '34.5%'."""
    return "–" if not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def num(x: float, digits: int = 2) -> str:
    """A number with fixed decimals ('–' if missing)."""
    return "–" if not np.isfinite(x) else f"{x:.{digits}f}"


def signed(x: float, digits: int = 1) -> str:
    """A signed number without a negative zero, e.g. -7.9 -> '-7.9', -0.01 -> '0.0'."""
    s = f"{x:+.{digits}f}"
    return s[1:] if float(s) == 0 else s


def listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def interval(lo: float, hi: float, f: Callable[[float], str] = pct) -> str:
    """'[lo, hi]' formatted with ``f``."""
    return f"[{f(lo)}, {f(hi)}]"


def ranges(values: Sequence[float], step: float | None = None) -> str:
    """Sorted grid values as contiguous ranges: [0, 0.6, 0.625, 0.65] -> '0 and 0.6–0.65'."""
    vals = sorted(set(float(v) for v in values))
    if not vals:
        return "none"
    if step is None:
        diffs = np.diff(vals)
        step = float(diffs.min()) if len(diffs) else 0.0
    parts, start, prev = [], vals[0], vals[0]
    for v in vals[1:]:
        if v - prev > step * 1.5:
            parts.append((start, prev))
            start = v
        prev = v
    parts.append((start, prev))
    text = [f"{a:g}" if a == b else f"{a:g}–{b:g}" for a, b in parts]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def grid_step(values: pd.Series) -> float:
    """The smallest gap between the distinct values of a grid column (0 if only one)."""
    d = np.diff(np.sort(values.unique()))
    return float(d.min()) if len(d) else 0.0


#: How each noise level reads in a sentence and in a panel title.
NOISE_WORDS = {
    "calibrated": ("at the calibrated noise", "calibrated noise"),
    "near-BR": ("near best response (every temperature / 10)", "near best response"),
}


def noise_phrase(noise: str, short: bool = False, capital: bool = False) -> str:
    """A noise level in words: 'at the calibrated noise' / 'near best response (...)'."""
    long, brief = NOISE_WORDS.get(noise, (f"at noise {noise}", noise))
    text = brief if short else long
    return text[:1].upper() + text[1:] if capital else text


#: How each state model reads in a sentence and in a panel title.
STATES_WORDS = {
    "strategic": (
        "under strategic states (the US and China choose how hard to press)",
        "strategic states",
    ),
    "reactive": (
        "under reactive states (the US and China apply the pressure as set)",
        "reactive states",
    ),
}


def states_phrase(states: str, short: bool = False, capital: bool = False) -> str:
    """A state model in words: 'under strategic states (...)' / 'reactive states'."""
    long, brief = STATES_WORDS.get(states, (f"under {states} states", f"{states} states"))
    text = brief if short else long
    return text[:1].upper() + text[1:] if capital else text


def variant_title(states: str, noise: str, several_states: bool = True) -> str:
    """A panel's state model and noise level, e.g. 'reactive states, calibrated noise'."""
    text = noise_phrase(noise, short=True)
    return f"{states_phrase(states, short=True)}, {text}" if several_states else text
