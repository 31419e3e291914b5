"""The batch engine and the Mesa model give identical trajectories and outcomes.

Every named scenario (strategic states by default), both calibrations, 20 seeds each, plus
reactive and scripted policies: per-round tables and outcome rows must be equal to the last bit (both engines call
the same elementwise functions on the same draws, so no tolerance is needed).
"""

import numpy as np
import pandas as pd
import pytest

from sim.catalog import episode_names, load_episode, load_scenario, scenario_names
from sim.core.params import build_params
from sim.core.scenario import Scenario
from sim.engine.batch import run_batch
from sim.engine.model import BalancingModel

SEEDS = list(range(20))
#: Episode replays are compared with their own calibrations in tests/test_history.py.
EPISODE_SCENARIOS = {
    name
    for e in episode_names()
    for name in (load_episode(e).scenario, load_episode(e).counterfactual)
}


def _as(column, dtype):
    """A column as ``dtype`` (categoricals compared by their labels)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return column.astype(str).to_numpy()
    return column.to_numpy().astype(dtype)


def _compare(calibration, scenario, rounds=40, seeds=SEEDS, overrides=None):
    p = build_params(calibration, scenario, rounds, len(seeds), overrides)
    batch = run_batch(p, np.array(seeds), record_rounds=True, block_size=7)
    rounds_broken = set()
    for k, s in enumerate(seeds):
        ov = {key: float(np.asarray(v)[k]) for key, v in (overrides or {}).items()}
        m = BalancingModel(scenario, calibration, rounds, overrides=ov, rng=s)
        m.run_for(rounds)
        mesa_rounds = m.rounds_table()
        batch_rounds = batch.rounds_table(k)[mesa_rounds.columns]
        for col in mesa_rounds.columns:
            np.testing.assert_array_equal(
                (
                    mesa_rounds[col].astype(str)
                    if isinstance(mesa_rounds[col].dtype, pd.CategoricalDtype)
                    else mesa_rounds[col]
                ).to_numpy(),
                _as(batch_rounds[col], mesa_rounds[col].dtype),
                err_msg=f"{scenario.name} seed {s} column {col}",
            )
        pd.testing.assert_frame_equal(
            m.outcome_table(), batch.outcomes.iloc[[k]].reset_index(drop=True), check_exact=True
        )
        rounds_broken.add(int(m.outcome_table()["breakdown_round"].iloc[0]))
    return rounds_broken


@pytest.mark.parametrize("calibration_name", ["article", "corrected"])
@pytest.mark.parametrize(
    "scenario_name", [n for n in scenario_names() if n not in EPISODE_SCENARIOS]
)
def test_mesa_and_batch_agree(calibration_name, scenario_name, scenarios, request):
    calibration = request.getfixturevalue(calibration_name)
    _compare(calibration, scenarios[scenario_name])


def test_agreement_covers_worlds_that_break_down_at_different_rounds(article, scenarios):
    n = 40  # a harsh escalation, so that many worlds break down, at different rounds
    overrides = {
        "escalation.us_tariff_slope": np.full(n, 0.75),
        "escalation.us_security_pressure": np.full(n, 0.75),
    }
    rounds = _compare(
        article, scenarios["us_escalation"], seeds=list(range(n)), overrides=overrides
    )
    assert len(rounds - {-1}) >= 3, rounds


def test_per_world_overrides_agree(article):
    # reactive states, so that worlds break down, at several rounds (a strategic US that
    # anticipates Japan hardly escalates)
    n = len(SEEDS)
    overrides = {
        "escalation.us_tariff_slope": np.linspace(0.2, 1.0, n),
        "lobbying_strength": np.linspace(0.0, 2.0, n),
        "rare_earth_dependence": np.linspace(0.3, 0.9, n),
    }
    scenario = load_scenario("us_escalation", us_policy="reactive", china_policy="reactive")
    rounds = _compare(article, scenario, overrides=overrides)
    assert len(rounds - {-1}) > 2, rounds


def test_strategic_reactive_and_scripted_policies_agree(article):
    strategic = Scenario(
        name="strategic_states",
        us_policy="strategic",
        china_policy="strategic",
        us_tariff_slope=0.3,
    )
    _compare(article, strategic, rounds=24, seeds=list(range(8)))
    reactive = Scenario(
        name="reactive_states", us_policy="reactive", china_policy="reactive", us_tariff_slope=0.3
    )
    _compare(article, reactive, rounds=24, seeds=list(range(8)))
    scripted = Scenario(
        name="scripted",
        us_policy="scripted",
        china_policy="scripted",
        japan_policy="reactive",
        us_tariff_path=[0.02, 0.1, 0.25],
        us_demand_path=[0.6, 0.8, 1.0],
        cn_restriction_path=[0.0, 0.3],
        cn_access_path=[1.0, 0.8],
    )
    _compare(article, scripted, rounds=12, seeds=list(range(4)))
