"""The Mesa model of Japan's strategic balancing between the United States and China.

Implements the model described in ``docs/ODD.md`` (design brief: DESIGN.md section 3),
parameterized from an April 2025 news analysis of Japan declining to join a US "contain
China" economic mechanism. Each step is one round (a quarter) in a fixed order:

1. the US sets its export-control demand and tariff schedule;
2. China sets its rare-earth restriction and market-access schedule;
3. firms lobby, with effort driven by their stake;
4. Japan chooses compliance and diversification;
5. the world updates (payoffs, lagged diversification, trust, beliefs, relocation).
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from sim import dynamics, policies
from sim.agents import China, Firm, Japan, UnitedStates
from sim.breakdown import SIDE_NAMES, BreakdownRule, initial_breakdown_state, update_breakdown
from sim.calibration import Calibration, load_calibration
from sim.draws import U_CN, U_US, draw_table, trade_shock
from sim.outcomes import OutcomeAccumulator
from sim.params import build_params
from sim.records import round_record
from sim.scenario import Scenario, load_scenario

#: Scenario levels the model accepts as keyword overrides (sliders, mesa.batch_run axes).
LEVEL_OVERRIDES = (
    "us_tariff_level",
    "us_security_pressure",
    "cn_coercion",
    "lobbying_strength",
    "fiscal_stress",
    "japan_temperature",
)


class BalancingModel(mesa.Model):
    """Japan, the US, China and Japanese firms over ``rounds`` quarters of one scenario."""

    def __init__(
        self,
        scenario: str | Scenario = "baseline",
        calibration: str | Calibration = "article",
        rounds: int = 40,
        rule: BreakdownRule | None = None,
        overrides: dict[str, float] | None = None,
        rng: int | None = 0,
        **levels: float | None,
    ) -> None:
        super().__init__(rng=rng)
        # The whole run's randomness, drawn first from the seeded generator (see sim.draws).
        self.draws = (
            draw_table(self.rng, int(rounds)) if isinstance(rounds, int) and rounds > 0 else None
        )
        for key in levels:
            if key not in LEVEL_OVERRIDES:
                raise TypeError(f"BalancingModel got an unexpected keyword argument {key!r}")
        self.calibration = (
            load_calibration(calibration) if isinstance(calibration, str) else calibration
        )
        # Not ``self.scenario``: Mesa 3.5's Model reserves that name for its experimental
        # Scenario class (SolaraViz checks it on Reset).
        self.scenario_config = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.rule = rule or BreakdownRule()
        ov = dict(overrides or {})
        ov.update({k: v for k, v in levels.items() if v is not None})
        self.params = build_params(self.calibration, self.scenario_config, rounds, 1, ov)
        self.rounds = int(rounds)
        self.world = dynamics.initial_world(self.params)
        self.detector = initial_breakdown_state(1)
        self.record: dict[str, np.ndarray] = {}
        self._played = 0
        self.accumulator = OutcomeAccumulator(self.params.firm_names, 1)
        s = self.scenario_config
        self.us = UnitedStates(self, "United States", s.us_policy)
        self.china = China(self, "China", s.china_policy)
        self.japan = Japan(self, "Japan", s.japan_policy)
        Firm.create_agents(
            self,
            len(self.params.firm_names),
            list(self.params.firm_names),
            list(range(len(self.params.firm_names))),
            [self.params.firm(i) for i in range(len(self.params.firm_names))],
        )
        self.firms = self.agents_by_type[Firm]
        self.last_china_stance = policies.china_reactive_stance(0, self.world.view(), self.params)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self._columns()},
            agent_reporters={"payoff_bn_q": "payoff", "action": "action"},
        )

    def _columns(self) -> list[str]:
        firm_cols = [
            f"{f}_{c}"
            for f in self.params.firm_names
            for c in ("profit_bn_q", "lobbying_effort", "china_share")
        ]
        from sim.records import ROUND_COLUMNS

        return [*ROUND_COLUMNS, *firm_cols]

    @property
    def rounds_played(self) -> int:
        """Rounds completed so far (0 before the first step)."""
        return self._played

    def step(self) -> None:
        """Play one round in the documented order."""
        t = self._played
        if t >= self.rounds:
            self.running = False
            return
        p = self.params
        u = self.draws.uniforms[t][:, None]  # (5, 1): one column per world
        shock = trade_shock(self.draws.normals[t : t + 1], p.shock_sd)
        # 1-2: the states announce their stances.
        self.us.decide(t, p, u[U_US], shock, self.last_china_stance)
        self.china.decide(t, p, u[U_CN], shock, self.us.stance)
        us, cn = self.us.stance, self.china.stance
        # 3: firms lobby, in calibration order, on what each compliance option would bring.
        menu = policies.menu_instruments(us, cn, p)
        for firm in self.firms:
            firm.lobby(menu, shock)
        profit_menu = np.concatenate([f.profit_menu for f in self.firms], axis=0)
        effort = np.concatenate([f.effort_array for f in self.firms], axis=0)
        # 4: Japan chooses.
        self.japan.decide(t, p, us, cn, menu, profit_menu, effort, shock, u)
        choice = self.japan.choice
        # 5: the world updates.
        weights = policies.lobbying_weights(effort, p)
        outcome = dynamics.realize_round(self.world, choice, us, cn, effort, weights, shock, p)
        self.world = dynamics.advance_world(self.world, choice, us, cn, outcome, effort, p)
        self.detector = update_breakdown(
            self.detector, t, choice.compliance, self.world.trust_us, self.world.trust_cn, self.rule
        )
        self.last_china_stance = cn
        self.record = round_record(us, cn, choice, outcome, self.world, self.detector, self.rule, p)
        self.accumulator.add(self.record)
        self._settle(outcome, choice)
        self.datacollector.collect(self)
        self._played = t + 1
        if self._played >= self.rounds:
            self.running = False

    def _settle(self, outcome: dynamics.RoundOutcome, choice: policies.JapanChoice) -> None:
        self.us.payoff, self.us.action = float(outcome.us_payoff[0]), float(outcome.tariff[0])
        self.china.payoff, self.china.action = (
            float(outcome.china_payoff[0]),
            float(outcome.restriction[0]),
        )
        self.japan.payoff, self.japan.action = (
            float(outcome.welfare[0]),
            float(choice.compliance[0]),
        )
        for firm in self.firms:
            firm.payoff = float(outcome.firm_profit[firm.index, 0])
            firm.action = firm.effort
            firm.china_share = float(self.world.china_share[firm.index, 0])

    # --- results -----------------------------------------------------------------------
    @property
    def breakdown(self) -> tuple[str, int]:
        """(side, round) of the breakdown so far: side 'balanced', 'us' or 'china'; round -1 if none."""
        return SIDE_NAMES[int(self.detector.side[0])], int(self.detector.round[0])

    def outcome_table(self) -> pd.DataFrame:
        """The run's outcome and summary metrics (one row; units in ``sim.outcomes``)."""
        return self.accumulator.table()

    def rounds_table(self) -> pd.DataFrame:
        """One row per round played: every state, action and payoff (units in ``sim.records``)."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "round", np.arange(len(df), dtype=np.int64))
        return df

    def agents_table(self) -> pd.DataFrame:
        """One row per agent per round: payoff ($bn per quarter) and headline action."""
        df = self.datacollector.get_agent_vars_dataframe().reset_index()
        names = {a.unique_id: a.name for a in self.agents}
        df["agent"] = df["AgentID"].map(names)
        df["round"] = df["Step"].astype(np.int64) - 1
        return df[["round", "agent", "payoff_bn_q", "action"]]


def _reporter(name: str):
    def report(model: BalancingModel) -> float:
        return model.record[name][0].item()

    report.__name__ = name
    return report
