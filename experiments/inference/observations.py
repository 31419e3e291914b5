"""Summary statistics and distance: which observed outcomes the inference compares, and how.

The **summary statistics** are the episodes' observed outcomes (rows of kind ``outcome`` in
``observed.csv``, :func:`sim.catalog.observed_table`), each measured per world by the model
as :mod:`sim.core.episodes` says (a share of dependence averaged over a window, a sum of
outlays, a 0/1 side at a date). Instruments are not evidence (the replay imposes them) and
context rows have no model measure. An outcome enters the **distance** unless the config
excludes it with a reason (an outcome the assumptions cannot move: set by a calibrated
figure or by the replay's script, or trivially matched), or it does not vary over the
prior-predictive sample (the model never produces anything else: no information).

**Distance**: Euclidean over the statistics that enter, each divided by its standard
deviation over the calibration sample (pyabc draws it from the prior before the first
generation): ``d = sqrt(sum_i ((x_i - x0_i) / sd_i)^2)``. A 0/1 outcome thus counts
``1 / sd`` when the world gets it wrong, a share counts its error in prior-predictive
standard deviations. The scales are fixed after the calibration sample (not re-estimated
per generation), so the distance means the same thing in every generation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from sim.catalog import observed_table


def stat_id(episode: str, quantity: str, date: str) -> str:
    """The name of an observed row: ``<episode>/<quantity>/<date>``."""
    return f"{episode}/{quantity}/{date}"


def observations(episodes: Sequence[str], exclude: Mapping[str, str]) -> pd.DataFrame:
    """The outcome rows of ``episodes`` with their ``id``, ``in_distance`` and ``reason``.

    ``exclude`` maps row ids to the reason they stay out of the distance; an id that names
    no outcome row of any episode is an error (a typo would silently include the row).
    """
    table = observed_table()
    table = table[table["kind"] == "outcome"].copy()
    table["id"] = [
        stat_id(e, q, d)
        for e, q, d in zip(table["episode"], table["quantity"], table["date"], strict=True)
    ]
    unknown = sorted(set(exclude) - set(table["id"]))
    if unknown:
        raise KeyError(f"statistics.exclude: {unknown[0]!r} is not an outcome row")
    table = table[table["episode"].isin(list(episodes))]
    table["in_distance"] = ~table["id"].isin(list(exclude))
    table["reason"] = table["id"].map(lambda i: exclude.get(i, ""))
    order = {e: k for k, e in enumerate(episodes)}
    table = table.sort_values("episode", key=lambda s: s.map(order), kind="stable")
    return table.reset_index(drop=True)


class StandardizedDistance(pyabc.Distance):
    """Euclidean distance on the statistics ``ids``, each scaled by its prior-predictive sd."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        #: Per statistic: its sd over the calibration sample (set by :meth:`initialize`).
        self.sd: dict[str, float] = {}
        self.weights: dict[str, float] = {}

    def requires_calibration(self) -> bool:
        return True

    def initialize(
        self,
        t: int,
        get_sample: Callable[[], Any],
        x_0: dict,
        total_sims: int,
    ) -> None:
        sample = get_sample()
        stats = [p.sum_stat for p in sample.accepted_particles]
        self.set_scales({k: [s[k] for s in stats] for k in self.ids})

    def set_scales(self, values: Mapping[str, Sequence[float]]) -> None:
        """Scales from prior-predictive values: 1/sd, 0 where the sd is 0 (no information)."""
        for k in self.ids:
            v = np.asarray(values[k], dtype=np.float64)
            v = v[np.isfinite(v)]
            sd = float(v.std()) if v.size > 1 else 0.0
            self.sd[k] = sd
            self.weights[k] = 1.0 / sd if sd > 0 else 0.0

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
        total = 0.0
        for k in self.ids:  # a fixed order: the same sum in every process
            w = self.weights[k]
            if w:
                diff = float(x[k]) - float(x_0[k])
                total += (w * diff) ** 2 if np.isfinite(diff) else np.inf
        return float(np.sqrt(total))

    def get_config(self) -> dict:
        return {"name": "StandardizedDistance", "sd": dict(self.sd)}
