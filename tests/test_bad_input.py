"""Bad input gets one line naming the key and the problem, and no traceback."""

import numpy as np
import pytest
from cli_inprocess import assert_one_line, run_cli

from sim.catalog import load_calibration, load_scenario
from sim.core.calibration import calibration_from_dict
from sim.core.errors import ConfigError
from sim.core.params import build_params

CASES = [
    # (overrides, text the one-line error must contain)
    (["scenario=nope"], "scenario: unknown option 'nope'"),
    (["calibration=nope"], "calibration: unknown option 'nope'"),
    (
        ["calibration.entries.rare_earth_dependence.value=1.5"],
        "calibration.entries.rare_earth_dependence.value: share must be in [0, 1]",
    ),
    (
        ["calibration.entries.trade_cn.value=-370"],
        "calibration.entries.trade_cn.value: must be non-negative",
    ),
    (
        ["+calibration.firms.mazda.profit.value=3"],
        "calibration.firms.mazda.profit.unit: missing",
    ),
    (["seed=abc"], "seed:"),
    (["scenario.us_tariff_slope=high"], "scenario.us_tariff_slope:"),
    (["~calibration.entries.trade_us"], "calibration.entries.trade_us: missing"),
    (["scenario.foo=1"], "scenario.foo:"),
    (["rounds=0"], "rounds: must be a whole number of rounds in 1..100000, got 0"),
    (["engine=gpu"], "engine: unknown engine 'gpu'"),
    (["scenario.us_policy=bully"], "scenario.us_policy: unknown policy 'bully'"),
    (
        ["calibration.entries.alliance_value.provenance=guess"],
        "calibration.entries.alliance_value.provenance:",
    ),
    (["+breakdown.band_low=0.9"], "breakdown: the breakdown detector's constants are calibration"),
    (
        ["calibration.entries.breakdown_sustain_rounds.value=0"],
        "calibration.entries.breakdown_sustain_rounds.value: must be a whole number of quarters",
    ),
    (["+scenario.firm_lobbying.mazda=1"], "scenario.firm_lobbying.mazda: unknown firm"),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES, ids=[c[0][0] for c in CASES])
def test_cli_bad_input_is_one_line(overrides, expected, tmp_path):
    # In this process (fast); tests/test_bad_input_corpus.py runs the real wrapper once.
    res = run_cli([*overrides, f"output_dir={tmp_path / 'out'}"], tmp_path)
    assert_one_line(res, expected)
    assert not any(tmp_path.iterdir()), "nothing may be written for bad input"


def test_library_errors_name_the_key(article):
    with pytest.raises(ConfigError, match=r"^scenario: unknown scenario 'nope'"):
        load_scenario("nope")
    with pytest.raises(ConfigError, match=r"^calibration: unknown calibration"):
        load_calibration("nope")
    raw = article.to_dict()
    raw["firms"]["toyota"]["china_profit_share"]["value"] = "lots"
    with pytest.raises(
        ConfigError, match=r"^calibration.firms.toyota.china_profit_share.value: expected a number"
    ):
        calibration_from_dict(raw)
    raw = article.to_dict()
    del raw["firms"]["honda"]["profit"]
    with pytest.raises(ConfigError, match=r"^calibration.firms.honda.profit: missing"):
        calibration_from_dict(raw)
    raw["firms"] = {}
    with pytest.raises(ConfigError, match=r"^calibration.firms: missing or empty"):
        calibration_from_dict(raw)
    sc = load_scenario("baseline")
    with pytest.raises(ConfigError, match=r"^us_tarif: not a parameter"):
        build_params(article, sc, 10, 3, {"us_tarif": np.zeros(3)})
    with pytest.raises(ConfigError, match=r"^cn_coercion: must be in \[0, 1\]"):
        build_params(article, sc, 10, 3, {"cn_coercion": np.array([0.1, 2.0, 0.3])})
    with pytest.raises(ConfigError, match=r"^rounds: must be a whole number"):
        build_params(article, sc, 0, 3)
