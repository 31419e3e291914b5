"""Per-round records: one named, unit-labelled value per world for every state, action and payoff.

Both engines (the Mesa model and the batch engine) build their tables from
:func:`round_record`, so the columns and their meaning are defined once. Money columns end
in ``_bn_q`` ($bn per quarter); shares and levels are 0-1.
"""

from __future__ import annotations

import numpy as np

from sim.core import beliefs, payoffs
from sim.core.alignment import alignment_index
from sim.core.breakdown import BreakdownState, DetectorRule, Observation, posture
from sim.core.choice import sequential_sum
from sim.core.dynamics import RoundOutcome, WorldState
from sim.core.params import Params
from sim.core.payoffs import ChinaStance, UsStance
from sim.core.policies import JapanChoice

#: Column -> unit, in table order (firm columns follow, one set per firm).
ROUND_COLUMNS: dict[str, str] = {
    "us_demand": "compliance demanded by the US, 0-1",
    "us_tariff_threat": "US tariff at zero compliance, ad-valorem share",
    "us_tariff": "US tariff on Japanese goods, ad-valorem share",
    "cn_red_line": "compliance China tolerates this round (its line, or a punitive embargo's announced line; a coercive embargo's demand is cn_embargo_demand), 0-1",
    "cn_red_line_known": "1 if China announced its line this round (a punitive embargo's)",
    "cn_embargo": "restriction a coercive embargo withholds until Japan concedes, share",
    "cn_embargo_demand": "compliance at or below which a coercive embargo lifts (NaN: none)",
    "cn_restriction_threat": "Chinese restriction at full compliance, share withheld",
    "cn_restriction": "Chinese rare-earth / critical-input restriction, share withheld",
    "cn_access": "market access for Japanese firms in China, 0-1",
    "jp_compliance": "Japan's export-control compliance, 0-1",
    "jp_deal": "Japan's deal with the US, level 0-1 of the full pledge",
    "jp_diversification": "Japan's diversification level, 0-1 of highest quarterly spend",
    "jp_inertia": "1 if Japan kept last round's compliance by inertia",
    "alignment": "alignment index: excess over China's line - shortfall from the US demand, -1 (China) to 1 (US)",
    "jp_welfare_bn_q": "Japan's national welfare, $bn per quarter",
    "jp_objective_bn_q": "Japan's government objective (welfare + lobbying), $bn per quarter",
    "jp_gains_cn_bn_q": "gains from trade with China, $bn per quarter",
    "jp_gains_us_bn_q": "gains from trade with the US, $bn per quarter",
    "jp_tariff_cost_bn_q": "tariff burden on Japanese exporters, $bn per quarter",
    "jp_shortage_cost_bn_q": "critical-input shortage cost, $bn per quarter",
    "jp_access_cost_bn_q": "loss from restricted market access, $bn per quarter",
    "jp_adjustment_cost_bn_q": "cost of changing compliance, $bn per quarter",
    "jp_security_outlay_bn_q": "defence outlay to replace US protection risked by a shortfall, $bn per quarter",
    "jp_diversification_outlay_bn_q": "diversification spend, $bn per quarter",
    "jp_deal_outlay_bn_q": "cost of the deal with the US, $bn per quarter",
    "jp_support_outlay_bn_q": "support paid to firms for tariff and access losses, $bn per quarter",
    "us_payoff_bn_q": "US strategic payoff, $bn per quarter",
    "cn_payoff_bn_q": "China's strategic payoff, $bn per quarter",
    "rare_earth_dependence": "share of Japan's rare earths from China, 0-1",
    "trust_us": "Japan-US trust, 0-1",
    "trust_cn": "Japan-China trust, 0-1",
    "belief_red_line": "Japan's expected Chinese red line (mean of its belief), 0-1",
    "belief_coercive": "Japan's probability that China coerces unprovoked, 0-1",
    "belief_embargo_lifts": "Japan's belief that China lifts an embargo on concession, 0-1",
    "expected_restriction": "restriction Japan expects in a future quarter, share withheld",
    "cn_true_red_line": "China's true standing red line (drawn at the start), 0-1",
    "japan_part_us": "smoothed part of the US relation's signal Japan caused (negative harms)",
    "other_part_us": "smoothed part of the US relation's signal the US caused",
    "japan_part_cn": "smoothed part of the China relation's signal Japan caused",
    "other_part_cn": "smoothed part of the China relation's signal China caused",
    "posture": "0 balancing, 1 siding with the US, 2 siding with China (this round)",
    "breakdown_side": "0 none yet, 1 broke toward the US, 2 toward China",
    "breakdown_round": "first round of the sustained breakdown, -1 if none",
    "breakdown_channel": "0 none, 1 compliance, 2 a relation Japan's moves collapsed",
    "rupture_side": "0 none yet, 1 the US, 2 China broke the relation by its own actions",
    "rupture_round": "first round of the sustained collapse that state caused, -1 if none",
}
FIRM_COLUMNS: dict[str, str] = {
    "profit_bn_q": "operating profit after lobbying costs, $bn per quarter",
    "lobbying_effort": "lobbying effort, 0-1",
    "china_share": "China share of profits, 0-1",
}


def round_record(
    us: UsStance,
    cn: ChinaStance,
    choice: JapanChoice,
    outcome: RoundOutcome,
    world: WorldState,
    detector: BreakdownState,
    obs: Observation,
    rule: DetectorRule,
    expected_r: np.ndarray,
    p: Params,
) -> dict[str, np.ndarray]:
    """All columns for one round, each an array over worlds; ``world`` is the state after the round."""
    w = outcome.welfare_terms
    rec = {
        "us_demand": us.demand,
        "us_tariff_threat": payoffs.realized_tariff(np.zeros(p.n_worlds), 0.0, us),
        "us_tariff": outcome.tariff,
        "cn_red_line": cn.red_line,
        "cn_red_line_known": cn.line_known.astype(np.int8),
        "cn_embargo": cn.embargo,
        "cn_embargo_demand": cn.embargo_line,
        "cn_restriction_threat": payoffs.realized_restriction(np.ones(p.n_worlds), cn),
        "cn_restriction": outcome.restriction,
        "cn_access": outcome.access,
        "jp_compliance": choice.compliance,
        "jp_deal": choice.deal,
        "jp_diversification": choice.diversification,
        "jp_inertia": choice.kept.astype(np.int8),
        "alignment": alignment_index(choice.compliance, us.demand, cn.red_line),
        "jp_welfare_bn_q": outcome.welfare,
        "jp_objective_bn_q": outcome.objective,
        "jp_gains_cn_bn_q": w.gains_cn,
        "jp_gains_us_bn_q": w.gains_us,
        "jp_tariff_cost_bn_q": w.tariff_cost,
        "jp_shortage_cost_bn_q": w.shortage_cost,
        "jp_access_cost_bn_q": w.access_cost,
        "jp_adjustment_cost_bn_q": w.adjustment_cost,
        "jp_security_outlay_bn_q": w.security_outlay,
        "jp_diversification_outlay_bn_q": w.diversification_outlay,
        "jp_deal_outlay_bn_q": w.deal_outlay,
        "jp_support_outlay_bn_q": w.support_outlay,
        "us_payoff_bn_q": outcome.us_payoff,
        "cn_payoff_bn_q": outcome.china_payoff,
        "rare_earth_dependence": world.dependence,
        "trust_us": world.trust_us,
        "trust_cn": world.trust_cn,
        "belief_red_line": sequential_sum(beliefs.RED_LINES[:, None] * world.line_belief),
        "belief_coercive": world.coercive,
        "belief_embargo_lifts": world.reputation,
        "expected_restriction": expected_r,
        "cn_true_red_line": world.red_line,
        "japan_part_us": world.japan_part_us,
        "other_part_us": world.other_part_us,
        "japan_part_cn": world.japan_part_cn,
        "other_part_cn": world.other_part_cn,
        "posture": posture(obs, rule),
        "breakdown_side": detector.side,
        "breakdown_round": detector.round,
        "breakdown_channel": detector.channel,
        "rupture_side": detector.rupture,
        "rupture_round": detector.rupture_round,
    }
    for i, firm in enumerate(p.firm_names):
        rec[f"{firm}_profit_bn_q"] = outcome.firm_profit[i]
        rec[f"{firm}_lobbying_effort"] = world.effort[i]
        rec[f"{firm}_china_share"] = world.china_share[i]
    n = (p.n_worlds,)
    return {k: (v if np.shape(v) == n else np.broadcast_to(v, n)) for k, v in rec.items()}
