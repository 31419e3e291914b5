"""Mesa agents: the actors of one world, holding what they did and what it paid them.

The round itself is :func:`sim.core.round.play_round` (pure, shared with the batch engine);
after each round :class:`~sim.engine.model.BalancingModel` copies each actor's part of it
onto its agent, where the ``DataCollector`` and the browser app read it.
"""

from __future__ import annotations

import mesa

from sim.core.payoffs import ChinaStance, UsStance
from sim.core.policies import JapanChoice


class StateAgent(mesa.Agent):
    """A state (Japan, the United States or China): its policy, last action and payoff."""

    def __init__(self, model: mesa.Model, name: str, policy: str) -> None:
        super().__init__(model)
        self.name = name
        self.policy = policy
        self.payoff = 0.0  # $bn per quarter, last round
        self.action = 0.0  # the state's headline instrument, last round


class UnitedStates(StateAgent):
    """Step 1: announces its export-control demand and the tariff schedule it will apply."""

    stance: UsStance | None = None


class China(StateAgent):
    """Step 2: announces its red line, rare-earth restriction and market-access schedule."""

    stance: ChinaStance | None = None


class Japan(StateAgent):
    """Step 4: chooses export-control compliance and rare-earth diversification."""

    choice: JapanChoice | None = None


class Firm(mesa.Agent):
    """A Japanese firm (step 3): lobbies the government with effort driven by its stake."""

    def __init__(self, model: mesa.Model, name: str, index: int, china_share: float) -> None:
        super().__init__(model)
        self.name = name
        self.index = index  # position in the calibration's firm order
        self.effort = 0.0  # lobbying effort 0-1, last round
        self.action = 0.0  # the headline action: lobbying effort
        self.payoff = 0.0  # profit after lobbying cost, $bn per quarter
        self.china_share = china_share  # China share of profits 0-1
