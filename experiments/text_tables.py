"""Fixed-width and Markdown cells for outcome tables: counts, shares and Wilson intervals.

Shared by ``compare_scenarios`` and ``patterns``: a share is always printed with the runs it
counts and its Wilson 95% interval (computed by :func:`sim.engine.runner.summarize_outcomes`
with statsmodels' ``proportion_confint``), a median breakdown round with the number of runs
it is the median of, and a missing value as ``-`` (never ``NaN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def share_cell(count: int, share: float, low: float, high: float) -> str:
    """``count`` runs, their share and its Wilson 95% interval: ``196  98.0% [95.0-99.2]``."""
    return f"{count:>4} {share:>6.1%} [{low * 100:.1f}-{high * 100:.1f}]"


def share_of(row: Mapping[str, Any], key: str) -> str:
    """The share cell of outcome ``key`` (``balanced``, ``toward_us``, ...) in a summary row."""
    return share_cell(
        int(row[f"n_{key}"]),
        float(row[key]),
        float(row[f"{key}_ci_low"]),
        float(row[f"{key}_ci_high"]),
    )


def median_cell(row: Mapping[str, Any]) -> str:
    """The median breakdown round (with its quarter if known) and how many runs broke."""
    if int(row["n_broke"]) == 0:
        return "-"
    quarter = row.get("median_breakdown_quarter")
    when = f" {quarter}" if isinstance(quarter, str) else ""
    return f"{float(row['median_breakdown_round']):g}{when} (of {int(row['n_broke'])})"


def number(value: Any, fmt: str = ".3f") -> str:
    """A number, or ``-`` where it is missing."""
    return "-" if value is None or value != value else format(value, fmt)
