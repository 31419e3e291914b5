"""The engines give identical trajectories and outcomes: Mesa, the numpy batch engine, numba.

Every named scenario (strategic states by default), both calibrations, 20 seeds each, plus
reactive and scripted policies: per-round tables and outcome rows must be equal to the last bit (both engines call
the same elementwise functions on the same draws, so no tolerance is needed).

The batch engine with compiled kernels (``engine=numba``, :mod:`sim.engine.compiled`) is held
to the numpy batch engine the same way: every named scenario under its own (strategic) and
reactive states, both calibrations, per-world overrides, blocks that cut a batch unevenly,
and every policy kind (reactive, strategic, scripted) for each actor side by side, on both
calibrations; each comparison also checks that the compiled kernel ran exactly where a state is
strategic.
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


# --------------------------------------------------------------------------- compiled kernels
def _compare_compiled(calibration, scenario, rounds=24, n=16, overrides=None, block_size=5):
    from sim.engine import compiled

    p = build_params(calibration, scenario, rounds, n, overrides)
    seeds = np.arange(n) * 3 + 1
    numpy_run = run_batch(p, seeds, record_rounds=True, block_size=block_size)
    calls = []
    kernel = compiled.objective_menu
    with pytest.MonkeyPatch.context() as mp:  # count the compiled menus actually evaluated
        mp.setattr(compiled, "objective_menu", lambda *a: calls.append(1) or kernel(*a))
        compiled_run = run_batch(p, seeds, record_rounds=True, block_size=block_size, compiled=True)
    strategic = "strategic" in (scenario.us_policy, scenario.china_policy)
    # the kernel runs exactly where a state is strategic (else the identity proves nothing)
    assert (len(calls) > 0) == strategic, (scenario.name, len(calls))
    for col, values in numpy_run.rounds.items():
        np.testing.assert_array_equal(
            compiled_run.rounds[col], values, err_msg=f"{scenario.name} column {col}"
        )
    pd.testing.assert_frame_equal(compiled_run.outcomes, numpy_run.outcomes, check_exact=True)
    return numpy_run


def _mixed_overrides(n):
    # uneven per-world values of a money figure, a share, a firm entry and a temperature
    return {
        "rare_earth_dependence": np.linspace(0.3, 0.9, n),
        "lobbying_strength": np.linspace(0.0, 3.0, n),
        "firms.toyota.china_profit_share": np.linspace(0.1, 0.5, n),
        "us_temperature": np.linspace(0.02, 0.5, n),
    }


@pytest.mark.parametrize("states", ["own", "reactive"])
@pytest.mark.parametrize("calibration_name", ["article", "corrected"])
@pytest.mark.parametrize("scenario_name", scenario_names())
def test_compiled_and_numpy_batch_engines_agree(calibration_name, scenario_name, states, request):
    calibration = request.getfixturevalue(calibration_name)
    policies = {} if states == "own" else {"us_policy": states, "china_policy": states}
    scenario = load_scenario(scenario_name, **policies)
    _compare_compiled(calibration, scenario, overrides=_mixed_overrides(16))


def test_compiled_engine_agrees_where_strategic_states_escalate(article):
    # strategic states at a harsh escalation, so that the severities chosen differ by world
    n = 24
    overrides = {
        "escalation.us_tariff_slope": np.linspace(0.2, 1.0, n),
        "cn_coercion": np.linspace(0.0, 1.0, n),
    }
    run = _compare_compiled(article, load_scenario("us_escalation"), n=n, overrides=overrides)
    assert len(np.unique(run.rounds["us_tariff"])) > 10


#: (US, China, Japan) policies: every kind for every actor, and strategic states beside
#: reactive and scripted ones (the stances the kernel reads then differ in shape).
POLICY_KINDS = [
    ("scripted", "strategic", "reactive"),
    ("strategic", "scripted", "strategic"),
    ("strategic", "strategic", "reactive"),
    ("strategic", "reactive", "strategic"),
    ("reactive", "strategic", "strategic"),
    ("strategic", "strategic", "scripted"),
    ("scripted", "scripted", "scripted"),
]


@pytest.mark.parametrize("us, china, japan", POLICY_KINDS)
@pytest.mark.parametrize("calibration_name", ["article", "corrected"])
def test_compiled_engine_agrees_for_every_policy_kind(calibration_name, us, china, japan, request):
    scenario = Scenario(
        name=f"{us}_{china}_{japan}",
        us_policy=us,
        china_policy=china,
        japan_policy=japan,
        us_tariff_slope=0.3,
        us_tariff_path=[0.02, 0.1, 0.25],
        us_demand_path=[0.6, 0.8, 1.0],
        cn_restriction_path=[0.0, 0.3],
        cn_access_path=[1.0, 0.8],
        japan_compliance_path=[0.5, 0.3, 0.6],
    )
    calibration = request.getfixturevalue(calibration_name)
    _compare_compiled(calibration, scenario, rounds=12, n=8, overrides=_mixed_overrides(8))


def test_compiled_engine_is_an_engine_choice(article, scenarios):
    from sim.engine.runner import run_seeds, run_single

    a = run_seeds(article, scenarios["baseline"], 12, range(6), engine="numba")
    b = run_seeds(article, scenarios["baseline"], 12, range(6), engine="batch")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    one = run_single(article, scenarios["baseline"], 12, 3, engine="numba")
    ref = run_single(article, scenarios["baseline"], 12, 3, engine="mesa")
    pd.testing.assert_frame_equal(
        one.rounds, ref.rounds[one.rounds.columns], check_exact=True, check_dtype=False
    )
