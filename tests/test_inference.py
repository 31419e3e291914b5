"""Simulation-based inference: parameters, statistics, distance, the batched sampler, the command.

The inference runs at its reduced size (``--scale small``: a pilot of 150 prior draws, ABC-SMC
populations of 30 for two generations, 60 predictive draws); the full run is
``make calibrate`` (docs/inference.md).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyabc
import pytest

from experiments import calibrate
from experiments.inference.assumptions import AssumptionSpace, place_to_value, to_normal, to_place
from experiments.inference.fit import global_numpy_seed, ks_uniform, weighted_quantiles
from experiments.inference.observations import StandardizedDistance, observations
from experiments.inference.predictive import intervals
from experiments.inference.sampler import BatchSampler, DeferredModel
from experiments.inference.screen import screen
from sim.catalog import load_calibration
from sim.core.errors import ConfigError

EPISODES = ["japan_2010", "korea_thaad_2016", "australia_2020"]


@pytest.fixture(scope="module")
def space() -> AssumptionSpace:
    names = ["japan_2010", "korea_2016", "australia_2020", "article"]
    return AssumptionSpace.of([load_calibration(n) for n in names])


@pytest.fixture(scope="module")
def small_run() -> calibrate.CalibrationRun:
    """The whole inference at its small size, in this process."""
    return calibrate.run(calibrate.load_config(scale="small"))


def test_every_assumption_of_every_episode_calibration_is_a_parameter(space):
    for cal in space.calibrations.values():
        for key, _, e in cal.items():
            if e.source_kind == "assumption" and key != "compliance_options":
                assert key in space.names, key
    assert "compliance_options" not in space.names  # a numerical setting, not an assumption
    assert "trade_cn" not in space.names  # a sourced figure everywhere


def test_a_shared_assumption_takes_the_same_place_in_each_calibrations_range(space):
    u = np.full((1, space.dim), 0.5)
    j = space.names.index("alliance_value")
    u[0, j] = 0.25
    japan = space.overrides(space.calibrations["japan_2010"], u)
    korea = space.overrides(space.calibrations["korea_2016"], u)
    # same range -> the same value; a range scaled to the economy -> the same place in it
    assert japan["trust_rate"][0] == korea["trust_rate"][0]
    assert japan["alliance_value"][0] == pytest.approx(20 + 0.25 * 180)
    assert korea["alliance_value"][0] == pytest.approx(10 + 0.25 * 90)
    # an entry that is a sourced figure in a calibration is left at its value there
    assert "rare_earth_dependence" not in japan
    assert "rare_earth_dependence" in space.overrides(space.calibrations["australia_2020"], u)


def test_whole_numbers_of_a_range_are_equally_likely():
    u = (np.arange(7000) + 0.5) / 7000
    values = place_to_value(u, 2, 8, integer=True)
    assert set(values) == set(range(2, 9))
    assert np.all(np.bincount(values.astype(int))[2:] == 1000)


def test_prior_draws_keep_the_floor_at_or_below_the_starting_dependence(space):
    u = space.sample_prior(np.random.default_rng(0), 4000)
    aus = space.overrides(space.calibrations["australia_2020"], u)
    assert np.all(aus["dependence_floor"] <= aus["rare_earth_dependence"])
    assert np.allclose(to_place(to_normal(u)), u)


def test_observations_take_outcomes_and_name_the_excluded_with_a_reason():
    exclude = {"australia_2020/conceded/2020-10-01": "trivial"}
    rows = observations(EPISODES, exclude)
    assert set(rows["kind"]) == {"outcome"}
    assert list(dict.fromkeys(rows["episode"])) == EPISODES
    row = rows.set_index("id").loc["australia_2020/conceded/2020-10-01"]
    assert not row["in_distance"] and row["reason"] == "trivial"
    with pytest.raises(KeyError, match="not an outcome row"):
        observations(EPISODES, {"australia_2020/conceded/2099-01-01": "typo"})


def test_distance_is_euclidean_in_prior_predictive_standard_deviations():
    d = StandardizedDistance(["a", "b", "c"])
    d.set_scales({"a": [0.0, 2.0], "b": [0.0, 1.0, 0.0, 1.0], "c": [1.0, 1.0]})
    assert d.sd == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert d.weights["c"] == 0.0  # no variation: no information, left out
    x0 = {"a": 0.0, "b": 0.0, "c": 0.0}
    assert d({"a": 3.0, "b": 1.0, "c": 9.0}, x0) == pytest.approx(np.hypot(3.0, 2.0))


def test_screen_activates_parameters_that_move_a_statistic():
    rng = np.random.default_rng(1)
    u = rng.random((400, 4))
    y = (u[:, 1] > 0.5).astype(float) + 0.1 * rng.random(400)
    table = screen(["a", "b", "c", "dependence_floor"], u, y[:, None], ["y"])
    assert list(table["active"]) == [False, True, False, True]  # the floor: always active


def _toy_abc(sampler, seed: int, generations: int) -> pyabc.History:
    """A deterministic toy model (x = theta) under pyabc, with the given sampler."""

    def model(par):
        return {"x": par["theta"]}

    prior = pyabc.Distribution(theta=pyabc.RV("norm", 0.0, 1.0))
    abc = pyabc.ABCSMC(
        model,
        prior,
        pyabc.PNormDistance(p=1),
        population_size=40,
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=0.5),
    )
    with global_numpy_seed(seed):
        abc.new("sqlite://", {"x": 1.0})
        return abc.run(max_nr_populations=generations)


def _batched_toy(params):
    return [{"x": p["theta"]} for p in params]


def test_batch_sampler_accepts_exactly_what_pyabcs_own_sampler_accepts():
    """Same proposals in the same order: the first generation's population is identical."""
    own = _toy_abc(pyabc.SingleCoreSampler(), 3, 1)
    batch = _toy_abc(BatchSampler(_batched_toy), 3, 1)
    a, wa = own.get_distribution(m=0, t=0)
    b, wb = batch.get_distribution(m=0, t=0)
    assert np.array_equal(a["theta"].to_numpy(), b["theta"].to_numpy())
    assert np.array_equal(np.asarray(wa), np.asarray(wb))
    assert own.get_all_populations()["samples"].tolist() == (
        batch.get_all_populations()["samples"].tolist()
    )


def test_batch_sampler_posterior_of_a_conjugate_model():
    """Later generations (delayed evaluation, importance weights): the posterior narrows
    around the observation as the threshold falls."""
    h = _toy_abc(BatchSampler(_batched_toy), 5, 4)
    df, w = h.get_distribution(m=0, t=h.max_t)
    mean = float(np.sum(df["theta"].to_numpy() * np.asarray(w)))
    eps = float(h.get_all_populations()["epsilon"].iloc[-1])
    assert abs(mean - 1.0) < eps + 0.05
    assert h.max_t == 3


def test_deferred_model_returns_nothing_until_the_batch_fills_it():
    assert DeferredModel().summary_statistics(0, {}, None).sum_stat == {}


def test_weighted_quantiles_and_ks_distance():
    x = np.array([0.1, 0.2, 0.3, 0.4])
    assert weighted_quantiles(x, np.ones(4), (0.5,)) == (0.2,)
    assert weighted_quantiles(x, np.array([0, 0, 0, 1.0]), (0.05,)) == (0.4,)
    assert ks_uniform(np.linspace(0.005, 0.995, 100), np.ones(100)) < 0.02
    assert ks_uniform(np.full(10, 0.9), np.ones(10)) == pytest.approx(0.9)


def test_predictive_intervals_say_whether_history_is_inside():
    rows = pd.DataFrame(
        {
            "id": ["a", "b"],
            "episode": ["e", "e"],
            "quantity": ["share", "sided"],
            "value": [0.5, 0.0],
            "unit": ["share", "0/1"],
        }
    )
    values = np.column_stack([np.linspace(0, 1, 101), (np.arange(101) < 30).astype(float)])
    out = intervals(values, rows).set_index("id")
    assert out.loc["a", "inside_50"] and out.loc["a", "inside_90"]
    assert out.loc["b", "p25"] == 0.0 and out.loc["b", "p95"] == 1.0  # actual draws: 0 or 1
    assert out.loc["b", "p_equal"] == pytest.approx(71 / 101)


def test_small_calibration_runs_every_fit_and_the_leave_one_out_table(small_run):
    assert list(small_run.fits) == [
        "all",
        "without_japan_2010",
        "without_korea_thaad_2016",
        "without_australia_2020",
    ]
    loo = small_run.loo
    outcomes = observations(EPISODES, {})
    assert len(loo) == len(outcomes)  # every outcome of every episode, predicted out of sample
    assert set(loo["episode"]) == set(EPISODES)
    for col in ("inside_50", "inside_90", "in_sample_inside_90", "prior_inside_90"):
        assert loo[col].dtype == bool
    # the 2008 share is the calibration's starting dependence: outside every interval, and said so
    row = loo[loo["date"] == "2008-01-01"].iloc[0]
    assert not row["in_distance"] and not row["inside_90"]
    for f in small_run.fits.values():
        assert np.isclose(f.weights.sum(), 1.0) and f.u.shape == (len(f.weights), f.space.dim)
        assert np.all((f.u >= 0) & (f.u <= 1))
        assert f.active.sum() >= 2


def test_small_calibration_is_a_pure_function_of_its_seeds(small_run):
    cfg = calibrate.load_config(scale="small", overrides=["leave_one_out=false"])
    again = calibrate.run(cfg)
    a, b = small_run.fits["all"], again.fits["all"]
    assert np.array_equal(a.u, b.u) and np.array_equal(a.weights, b.weights)
    pa = small_run.predictive[small_run.predictive["fit"].isin(["prior", "all"])]
    pd.testing.assert_frame_equal(pa.reset_index(drop=True), again.predictive)


def test_report_quotes_the_tables(small_run):
    text = calibrate.report(small_run)
    assert "## Leave one episode out" in text
    assert "| japan_2010 | china_share_critical_inputs" in text
    assert "moved from their prior" in text


def test_command_writes_a_complete_folder_once(tmp_path, capsys):
    args = [
        "--scale",
        "small",
        "--out",
        str(tmp_path),
        "leave_one_out=false",
        "pilot.draws=40",
        "abc.population=12",
        "abc.generations=1",
        "predictive.draws=20",
    ]
    assert calibrate.main(args) == 0
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    for name in (
        "report.md",
        "predictive.csv",
        "posterior.parquet",
        "posterior_summary.csv",
        "screen.csv",
        "statistics.csv",
        "populations.csv",
        "abc-all.db",
    ):
        assert (folder / name).exists(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["where"] == "local" and manifest["simulations"]["all"] > 0
    capsys.readouterr()
    assert calibrate.main(args) == 0
    assert "already complete" in capsys.readouterr().out


@pytest.mark.parametrize(
    "override, key",
    [
        ("abc.populaton=3", "abc.populaton"),
        ("episodes=[nowhere]", "episode"),
        ("cluster.address=localhost", "cluster.address"),
        ("nokey", "nokey"),
    ],
)
def test_bad_overrides_are_one_line_errors(override, key, capsys):
    assert calibrate.main(["--scale", "small", override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {key}") and "\n" not in err


def test_load_config_refuses_unknown_keys_before_any_work():
    with pytest.raises(ConfigError, match="abc.nope"):
        calibrate.load_config(scale="small", overrides=["abc.nope=1"])
