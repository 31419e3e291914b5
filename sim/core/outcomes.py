"""Outcome metrics of a run: breakdown side and round, cumulative payoffs, final state.

Both engines feed every round's record into :class:`OutcomeAccumulator` in the same order,
so their summaries agree bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.core.breakdown import CHANNEL_NAMES, RUPTURE_NAMES, SIDE_NAMES

_SUMS = {
    "cum_jp_welfare_bn": "jp_welfare_bn_q",
    "cum_jp_objective_bn": "jp_objective_bn_q",
    "cum_us_payoff_bn": "us_payoff_bn_q",
    "cum_cn_payoff_bn": "cn_payoff_bn_q",
    "cum_diversification_outlay_bn": "jp_diversification_outlay_bn_q",
    "cum_deal_outlay_bn": "jp_deal_outlay_bn_q",
    "mean_deal": "jp_deal",
    "mean_compliance": "jp_compliance",
    "mean_us_tariff": "us_tariff",
    "mean_cn_restriction": "cn_restriction",
    "mean_alignment": "alignment",
}
_FINALS = {
    "final_rare_earth_dependence": "rare_earth_dependence",
    "final_trust_us": "trust_us",
    "final_trust_cn": "trust_cn",
    "final_compliance": "jp_compliance",
    "final_alignment": "alignment",
    "final_belief_coercive": "belief_coercive",
    "cn_true_red_line": "cn_true_red_line",
}
#: Summary column -> unit.
SUMMARY_UNITS = {
    "outcome": "balanced | us | china",
    "breakdown_round": "first round of sustained breakdown (quarter from 0), -1 if balanced",
    "breakdown_channel": "none | compliance (met one side, breached the other) | relation (a relation Japan's moves collapsed)",
    "rupture": "none | us | china: the state that collapsed a relation by its own actions",
    "rupture_round": "first round of that sustained collapse (quarter from 0), -1 if none",
    "cum_jp_welfare_bn": "$bn over the run",
    "cum_jp_objective_bn": "$bn over the run",
    "cum_us_payoff_bn": "$bn over the run",
    "cum_cn_payoff_bn": "$bn over the run",
    "cum_diversification_outlay_bn": "$bn over the run",
    "cum_deal_outlay_bn": "$bn over the run",
    "mean_deal": "0-1 of the full pledge, mean over rounds",
    "mean_compliance": "0-1, mean over rounds",
    "mean_us_tariff": "ad-valorem share, mean over rounds",
    "mean_cn_restriction": "share withheld, mean over rounds",
    "mean_alignment": "alignment index -1 (China) to 1 (US), mean over rounds",
    "rounds_balancing": "rounds siding with neither side (posture 0)",
    "final_rare_earth_dependence": "0-1 after the last round",
    "final_trust_us": "0-1 after the last round",
    "final_trust_cn": "0-1 after the last round",
    "final_compliance": "0-1 in the last round",
    "final_alignment": "alignment index in the last round",
    "final_belief_coercive": "Japan's probability that China coerces unprovoked, after the last round",
    "cn_true_red_line": "China's true standing red line in this run, 0-1",
    "cum_<firm>_profit_bn": "$bn over the run, after lobbying costs",
    "mean_<firm>_lobbying": "0-1, mean over rounds",
}


class OutcomeAccumulator:
    """Running sums over rounds for N worlds; ``add`` each round's record in order."""

    def __init__(self, firm_names: tuple[str, ...], n: int) -> None:
        self.firm_names = firm_names
        self.n = n
        self.rounds = 0
        self.sums: dict[str, np.ndarray] = {k: np.zeros(n) for k in _SUMS}
        for f in firm_names:
            self.sums[f"cum_{f}_profit_bn"] = np.zeros(n)
            self.sums[f"mean_{f}_lobbying"] = np.zeros(n)
        self.rounds_balancing = np.zeros(n, dtype=np.int64)
        self.last: dict[str, np.ndarray] = {}

    def add(self, rec: dict[str, np.ndarray]) -> None:
        """Fold in one round's record (arrays over worlds)."""
        for out, col in _SUMS.items():
            self.sums[out] = self.sums[out] + rec[col]
        for f in self.firm_names:
            self.sums[f"cum_{f}_profit_bn"] = (
                self.sums[f"cum_{f}_profit_bn"] + rec[f"{f}_profit_bn_q"]
            )
            self.sums[f"mean_{f}_lobbying"] = (
                self.sums[f"mean_{f}_lobbying"] + rec[f"{f}_lobbying_effort"]
            )
        self.rounds_balancing = self.rounds_balancing + (rec["posture"] == 0)
        self.rounds += 1
        self.last = rec

    def table(self) -> pd.DataFrame:
        """One row per world: the run's outcome and summary metrics."""
        r = max(self.rounds, 1)
        side = np.asarray(self.last["breakdown_side"])
        cols: dict[str, Any] = {
            "outcome": pd.Categorical(
                [SIDE_NAMES[int(s)] for s in side], categories=["balanced", "us", "china"]
            ),
            "breakdown_round": np.asarray(self.last["breakdown_round"], dtype=np.int64),
            "breakdown_channel": pd.Categorical(
                [CHANNEL_NAMES[int(c)] for c in self.last["breakdown_channel"]],
                categories=["none", "compliance", "relation"],
            ),
            "rupture": pd.Categorical(
                [RUPTURE_NAMES[int(c)] for c in self.last["rupture_side"]],
                categories=["none", "us", "china"],
            ),
            "rupture_round": np.asarray(self.last["rupture_round"], dtype=np.int64),
        }
        for k, v in self.sums.items():
            cols[k] = v / r if k.startswith("mean_") else v
        cols["rounds_balancing"] = self.rounds_balancing
        for out, col in _FINALS.items():
            cols[out] = np.asarray(self.last[col], dtype=float)
        table = pd.DataFrame(cols)
        table.attrs["units"] = outcome_units(self.firm_names)
        return table


def outcome_units(firm_names: tuple[str, ...]) -> dict[str, str]:
    """Column -> unit of an outcome table with these firms."""
    units = {k: v for k, v in SUMMARY_UNITS.items() if "<firm>" not in k}
    for f in firm_names:
        units[f"cum_{f}_profit_bn"] = SUMMARY_UNITS["cum_<firm>_profit_bn"]
        units[f"mean_{f}_lobbying"] = SUMMARY_UNITS["mean_<firm>_lobbying"]
    return units
