"""The Mesa model of Japan's strategic balancing between the United States and China.

Implements the model described in ``docs/ODD.md``, parameterized from an April 2025 news analysis of Japan declining to join a US "contain
China" economic mechanism. Each step is one round (a quarter) in a fixed order:

1. the US sets its export-control demand and tariff schedule;
2. China sets its rare-earth restriction and market-access schedule;
3. firms lobby, with effort driven by their stake;
4. Japan chooses compliance and diversification;
5. the world updates (payoffs, lagged diversification, trust, beliefs, relocation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.catalog import resolve_calibration, resolve_scenario
from sim.core.breakdown import RUPTURE_NAMES, SIDE_NAMES, BreakdownState
from sim.core.calibration import Calibration
from sim.core.constraints import check_seed
from sim.core.draws import draw_table
from sim.core.dynamics import WorldState
from sim.core.outcomes import OutcomeAccumulator
from sim.core.params import ROUNDS, build_params
from sim.core.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.core.registry import RENAMED_PARAMETERS, SCENARIO_PARAMETERS
from sim.core.round import PlayedRound, initial_round_state, play_round
from sim.core.scenario import Scenario
from sim.core.tables import tidy_agents, tidy_rounds
from sim.engine.agents import China, Firm, Japan, UnitedStates

#: Scenario levels the model accepts as keyword overrides (sliders, mesa.batch_run axes).
LEVEL_OVERRIDES = tuple(name for name in SCENARIO_PARAMETERS if "." not in name)
#: Old keyword names still accepted (``us_tariff_level`` is ``us_tariff_slope``).
_OLD_LEVELS = tuple(old for old in RENAMED_PARAMETERS if "." not in old)


class BalancingModel(mesa.Model):
    """Japan, the US, China and Japanese firms over ``rounds`` quarters of one scenario."""

    def __init__(
        self,
        scenario: str | Scenario = "baseline",
        calibration: str | Calibration = "article",
        rounds: int = 40,
        overrides: Mapping[str, Any] | None = None,
        rng: int | None = 0,
        **levels: float | None,
    ) -> None:
        self.seed = check_seed("seed", rng)
        super().__init__(rng=self.seed)
        rounds = ROUNDS.check("rounds", rounds)
        for key in levels:
            if key not in LEVEL_OVERRIDES + _OLD_LEVELS:
                raise TypeError(f"BalancingModel got an unexpected keyword argument {key!r}")
        self.calibration = resolve_calibration(calibration)
        # Not ``self.scenario``: Mesa 3.5's Model reserves that name for its experimental
        # Scenario class (SolaraViz checks it on Reset).
        self.scenario_config = resolve_scenario(scenario)
        ov = dict(overrides or {})
        ov.update({k: v for k, v in levels.items() if v is not None})
        self.params = build_params(self.calibration, self.scenario_config, rounds, 1, ov)
        self.rounds = rounds
        # The whole run's randomness, drawn first from the seeded generator (see sim.core.draws).
        self.draws = draw_table(self.rng, rounds, len(self.params.firm_names))
        self.state = initial_round_state(self.params, self.draws.setup[:, None])
        self.record: dict[str, np.ndarray] = {}
        self._played = 0
        self.accumulator = OutcomeAccumulator(self.params.firm_names, 1)
        s = self.scenario_config
        self.us = UnitedStates(self, "United States", s.us_policy)
        self.china = China(self, "China", s.china_policy)
        self.japan = Japan(self, "Japan", s.japan_policy)
        names = list(self.params.firm_names)
        shares = [float(x) for x in self.params.china_share0[:, 0]]
        Firm.create_agents(self, len(names), names, list(range(len(names))), shares)
        self.firms = sorted(self.agents_by_type[Firm], key=lambda f: f.index)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self._columns()},
            agent_reporters={"payoff_bn_q": "payoff", "action": "action"},
        )

    @property
    def world(self) -> WorldState:
        """The world's slow state after the last round played."""
        return self.state.world

    @property
    def detector(self) -> BreakdownState:
        """The breakdown detector after the last round played."""
        return self.state.detector

    def _columns(self) -> list[str]:
        firm_cols = [f"{f}_{c}" for f in self.params.firm_names for c in FIRM_COLUMNS]
        return [*ROUND_COLUMNS, *firm_cols]

    @property
    def rounds_played(self) -> int:
        """Rounds completed so far (0 before the first step)."""
        return self._played

    def step(self) -> None:
        """Play one round (:func:`sim.core.round.play_round`) and hand it to the agents."""
        t = self._played
        if t >= self.rounds:
            self.running = False
            return
        uniforms = self.draws.uniforms[t][:, None]  # (5 + F, 1): one column per world
        normal = self.draws.normals[t : t + 1]
        self.state, played = play_round(self.state, t, uniforms, normal, self.params)
        self.record = played.record
        self.accumulator.add(self.record)
        self._settle(played)
        self.datacollector.collect(self)
        self._played = t + 1
        if self._played >= self.rounds:
            self.running = False

    def _settle(self, played: PlayedRound) -> None:
        """Copy each actor's part of the round onto its agent."""
        out, choice = played.outcome, played.choice
        self.us.stance, self.us.payoff = played.us, float(out.us_payoff[0])
        self.us.action = float(out.tariff[0])
        self.china.stance, self.china.payoff = played.cn, float(out.china_payoff[0])
        self.china.action = float(out.restriction[0])
        self.japan.choice, self.japan.payoff = choice, float(out.welfare[0])
        self.japan.action = float(choice.compliance[0])
        for firm in self.firms:
            firm.effort = firm.action = float(played.effort[firm.index, 0])
            firm.payoff = float(out.firm_profit[firm.index, 0])
            firm.china_share = float(self.world.china_share[firm.index, 0])

    # --- results -----------------------------------------------------------------------
    @property
    def breakdown(self) -> tuple[str, int]:
        """(side, round) of the breakdown so far: side 'balanced', 'us' or 'china'; round -1 if none."""
        return SIDE_NAMES[int(self.detector.side[0])], int(self.detector.round[0])

    @property
    def rupture(self) -> tuple[str, int]:
        """(state, round) of a relation collapsed by that state's own actions: 'none' and -1 if none."""
        return RUPTURE_NAMES[int(self.detector.rupture[0])], int(self.detector.rupture_round[0])

    def outcome_table(self) -> pd.DataFrame:
        """The run's outcome and summary metrics (one row; units in ``sim.core.outcomes``)."""
        return self.accumulator.table()

    def _labels(self) -> dict:
        return {
            "scenario": self.scenario_config.name,
            "calibration": self.calibration.name,
            "seed": int(self.seed) if self.seed is not None else -1,
            "start": self.scenario_config.start,
        }

    def rounds_table(self) -> pd.DataFrame:
        """One row per round played: every state, action and payoff, tidy (units in ``attrs``)."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        columns = self._columns()
        raw = {c: df[c].to_numpy() for c in columns} if len(df) else {c: [] for c in columns}
        return tidy_rounds(raw, firm_names=self.params.firm_names, **self._labels())

    def agents_table(self) -> pd.DataFrame:
        """One row per agent per round: payoff ($bn per quarter), the action it chose and its level."""
        df = self.datacollector.get_agent_vars_dataframe().reset_index()
        names = {a.unique_id: a.name for a in self.agents}
        df["agent"] = df["AgentID"].map(names)
        df["round"] = df["Step"].astype(np.int64) - 1
        return tidy_agents(df[["round", "agent", "payoff_bn_q", "action"]], **self._labels())


def _reporter(name: str):
    def report(model: BalancingModel) -> float:
        return model.record[name][0].item()

    report.__name__ = name
    return report
