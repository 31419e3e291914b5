"""Mesa agents: thin holders of state that call the pure decision rules in :mod:`sim.policies`.

Each agent acts for one world (arrays of length 1); the batch engine calls the same rules
for many worlds at once.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import policies
from sim.draws import U_COMPLIANCE, U_DIVERSIFICATION, U_INERTIA
from sim.params import Params
from sim.payoffs import ChinaStance, UsStance


class StateAgent(mesa.Agent):
    """A state (Japan, the United States or China): its policy, last action and payoff."""

    def __init__(self, model: mesa.Model, name: str, policy: str) -> None:
        super().__init__(model)
        self.name = name
        self.policy = policy
        self.payoff = 0.0  # $bn per quarter, last round
        self.action = 0.0  # the state's headline instrument, last round


class UnitedStates(StateAgent):
    """Step 1: sets its export-control demand and the tariff schedule it will apply."""

    stance: UsStance | None = None

    def decide(
        self, t: int, p: Params, u: np.ndarray, shock: np.ndarray, last_cn: ChinaStance
    ) -> None:
        self.stance = policies.us_stance(t, self.model.world.view(), p, u, shock, last_cn)


class China(StateAgent):
    """Step 2: sets its rare-earth restriction and market-access schedule."""

    stance: ChinaStance | None = None

    def decide(self, t: int, p: Params, u: np.ndarray, shock: np.ndarray, us: UsStance) -> None:
        self.stance = policies.china_stance(t, self.model.world.view(), p, u, shock, us)


class Japan(StateAgent):
    """Step 4: chooses export-control compliance and rare-earth diversification."""

    choice: policies.JapanChoice | None = None

    def decide(self, t, p, us, cn, menu, profit_menu, effort, shock, u) -> None:
        self.choice = policies.japan_decision(
            t,
            self.model.world.view(),
            p,
            us,
            cn,
            menu,
            profit_menu,
            effort,
            shock,
            u[U_INERTIA],
            u[U_COMPLIANCE],
            u[U_DIVERSIFICATION],
        )


class Firm(mesa.Agent):
    """A Japanese firm (step 3): lobbies the government with effort driven by its stake."""

    def __init__(self, model: mesa.Model, name: str, index: int, params: Params) -> None:
        super().__init__(model)
        self.name = name
        self.index = index
        self.params = params  # this firm's slice of the model's parameters
        self.profit_menu: np.ndarray | None = None  # (1, 5, 1) profit at each compliance option
        self.effort = 0.0
        self.payoff = 0.0  # profit after lobbying cost, $bn per quarter
        self.china_share = float(params.china_share0[0, 0])

    def lobby(self, menu, shock: np.ndarray) -> None:
        view = self.model.world.view()
        view = view._replace(
            china_share=view.china_share[self.index : self.index + 1],
            effort=view.effort[self.index : self.index + 1],
        )
        self.profit_menu = policies.firm_profit_menu(view, self.params, menu, shock)
        self.effort_array = policies.lobbying_effort(self.profit_menu, self.params)
        self.effort = float(self.effort_array[0, 0])
