"""Paper figures: the pipeline regenerates identical data, and figures-check catches changes.

Runs the whole pipeline (every config in configs/paper/) at ``--scale small``: the reduced
sizes in each config's ``small`` section.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from experiments import paper
from experiments.figures import kinds, sweeps
from sim.core.errors import ConfigError

FIGURES = sorted(p.stem for p in paper.PAPER_CONFIGS.glob("*.yaml"))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The small pipeline twice into fresh folders: with images, then data only."""
    first, second = tmp_path_factory.mktemp("paper-a"), tmp_path_factory.mktemp("paper-b")
    figures = paper.load_figures(paper.PAPER_CONFIGS, "small")
    paper.generate(figures, first, images=True)
    paper.generate(figures, second, images=False)
    return first, second


def test_every_figure_is_configured():
    numbers = [f.number for f in paper.load_figures(paper.PAPER_CONFIGS, "full")]
    assert numbers == list(range(1, 9)) and len(FIGURES) == 8


def test_pipeline_twice_gives_byte_identical_data(two_runs):
    first, second = two_runs
    for name in FIGURES:
        a, b = first / "data" / f"{name}.csv", second / "data" / f"{name}.csv"
        assert a.read_bytes() == b.read_bytes(), name
    assert (first / "README.md").read_text() == (second / "README.md").read_text()
    m1 = json.loads((first / "MANIFEST.json").read_text())["figures"]
    m2 = json.loads((second / "MANIFEST.json").read_text())["figures"]
    assert set(m1) == set(FIGURES)
    for name in FIGURES:
        assert m1[name]["data"] == m2[name]["data"]  # file, sha256, rows, columns (units)
        assert m1[name]["config"] == m2[name]["config"] and m1[name]["seeds"]
        assert m1[name]["code_version"]
        assert m1[name]["figures"] == [f"figures/{name}.png", f"figures/{name}.pdf"]
        for f in m1[name]["figures"]:
            assert (first / f).stat().st_size > 1000
        assert not (second / "figures").exists()


def test_csv_columns_all_have_units(two_runs):
    first, _ = two_runs
    manifest = json.loads((first / "MANIFEST.json").read_text())["figures"]
    for name in FIGURES:
        header = (first / "data" / f"{name}.csv").read_text().splitlines()[0].split(",")
        columns = manifest[name]["data"]["columns"]
        assert header == [c["name"] for c in columns], name
        assert all(c["unit"] for c in columns), name


def test_headline_tables_show_both_noise_levels_and_ruptures(two_runs):
    """The headline figures are also shown near best response; ruptures are counted apart."""
    first, _ = two_runs
    for name in ("trajectories", "phase_diagram", "survival"):
        table = pd.read_csv(first / "data" / f"{name}.csv")
        assert list(dict.fromkeys(table["noise"])) == ["calibrated", "near-BR"], name
    phase = pd.read_csv(first / "data" / "phase_diagram.csv")
    assert {"ruptures", "rupture_share", "rupture_by_china_share"} <= set(phase.columns)
    survival = pd.read_csv(first / "data" / "survival.csv")
    assert {"ruptures_by_us", "ruptures_by_china"} <= set(survival.columns)
    manifest = json.loads((first / "MANIFEST.json").read_text())
    assert manifest["breakdown_detector"]["article"]["breakdown_sustain_rounds"] >= 1


def test_figures_check_passes_and_names_a_tampered_figure(two_runs, tmp_path, capsys):
    first, _ = two_runs
    out = tmp_path / "paper"
    shutil.copytree(first, out)
    assert paper.main(["--check", "--out", str(out)]) == 0
    assert "figures-check passed" in capsys.readouterr().out

    csv = out / "data" / "tipping_points.csv"
    lines = csv.read_text().splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[lines[0].split(",").index("tipping_us_tariff_end_share")] = "0.123"  # first row's
    lines[1] = ",".join(cells)
    csv.write_text("".join(lines))
    assert paper.main(["--check", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "figures-check FAILED" in printed
    problems = printed.split("figures-check FAILED")[1].splitlines()[1:]
    assert problems and all(ln.strip().startswith("tipping_points:") for ln in problems)


def test_bad_config_is_refused_with_its_key(tmp_path):
    src = (paper.PAPER_CONFIGS / "phase_diagram.yaml").read_text()
    (tmp_path / "phase_diagram.yaml").write_text(src.replace("level: 0.5", "levl: 0.5"))
    with pytest.raises(ConfigError, match="phase_diagram.levl"):
        paper.load_figures(tmp_path)


# --------------------------------------------------------------------------- state models

#: The state models each shipped figure runs: pressure maps reactive, the others both.
STATES = {
    "trajectories": ["strategic", "reactive"],
    "phase_diagram": ["reactive"],
    "tipping_points": ["reactive"],
    "survival": ["strategic", "reactive"],
    "firms": ["strategic", "reactive"],
    "calibration_contours": ["reactive"],
    "sobol": ["reactive"],
}


def test_every_table_says_which_state_model_and_the_manifest_too(two_runs):
    first, _ = two_runs
    manifest = json.loads((first / "MANIFEST.json").read_text())["figures"]
    # figure 8 draws both state models in one table of its own (tested below)
    assert set(STATES) == set(FIGURES) - {"posterior_headline"}
    for name, models in STATES.items():
        table = pd.read_csv(first / "data" / f"{name}.csv")
        assert list(dict.fromkeys(table["states"])) == models, name
        designs = manifest[name]["designs"].values()
        assert sorted({d["states"] for d in designs}) == sorted(models), name
        for d in designs:
            assert d["us_policy"] == [d["states"]] and d["china_policy"] == [d["states"]], name
    hashes = [d["config_hash"] for d in manifest["survival"]["designs"].values()]
    assert len(set(hashes)) == len(hashes) == 4  # 2 state models x 2 noise levels


def test_state_models_are_checked_like_noise_levels():
    assert sweeps.state_models({}) == ["strategic"]
    assert sweeps.state_models({"states": ["reactive", "strategic"]}) == ["reactive", "strategic"]
    for bad, message in (
        ("reactive", "expected a list of state models"),
        (["scripted"], "unknown state model 'scripted'"),
        (["reactive", "reactive"], "listed twice"),
    ):
        with pytest.raises(ConfigError, match=message) as err:
            sweeps.state_models({"states": bad})
        assert err.value.key == "states" and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="one state model"):
        sweeps.state_models({"states": ["strategic", "reactive"]}, one=True)


@pytest.mark.parametrize(
    ("name", "states"),
    [("phase_diagram", ["bogus"]), ("tipping_points", ["strategic", "reactive"])],
)
def test_bad_states_stop_a_figure_before_it_runs(name, states):
    fig = paper.load_figure(paper.PAPER_CONFIGS / f"{name}.yaml", "small")
    with pytest.raises(ConfigError) as err:
        kinds()[fig.kind].build({**fig.config, "states": states})
    assert err.value.key == "states"


def test_the_state_model_goes_into_every_scenario_and_the_config_hash():
    """A scenario axis too (plan_sweep loads its scenarios by name, without overrides)."""
    from sim.catalog import load_calibration, load_scenario
    from sim.sweep.plan import plan_sweep

    spec = {
        "name": "t",
        "design": "grid",
        "axes": {"scenario": {"values": ["baseline", "us_escalation"]}},
        "replicates": 1,
    }
    base = {
        "calibration": load_calibration("article").to_dict(),
        "scenario": load_scenario("baseline"),
        "rounds": 4,
    }
    plan = plan_sweep(spec, base)
    assert sweeps.at_states(plan, "strategic") is plan  # the scenarios' own default
    reactive = sweeps.at_states(plan, "reactive")
    assert {(s.us_policy, s.china_policy) for s in reactive.scenarios.values()} == {
        ("reactive", "reactive")
    }
    assert reactive.config_hash != plan.config_hash
    assert reactive.identity["scenarios"]["us_escalation"]["us_policy"] == "reactive"
    # without a scenario axis: the same hash as a sweep whose base scenario is reactive
    # (what an experiment config's `scenario: {us_policy: reactive, ...}` gives)
    grid = {"name": "t", "design": "grid", "axes": {"fiscal_stress": {"values": [0.0, 1.0]}}}
    reactive_base = {
        **base,
        "scenario": load_scenario("baseline", us_policy="reactive", china_policy="reactive"),
    }
    assert (
        sweeps.at_states(plan_sweep(grid, base), "reactive").config_hash
        == plan_sweep(grid, reactive_base).config_hash
    )


@pytest.fixture(scope="module")
def posterior_small(tmp_path_factory) -> Path:
    """The posterior_headline figure alone at its small size (with images)."""
    out = tmp_path_factory.mktemp("paper-posterior")
    assert paper.main(["--scale", "small", "--only", "posterior_headline", "--out", str(out)]) == 0
    return out


def test_posterior_headline_is_a_registered_figure_with_every_panel(posterior_small):
    from experiments.figures import kinds

    assert "posterior_headline" in kinds() and "posterior_headline" in FIGURES
    manifest = json.loads((posterior_small / "MANIFEST.json").read_text())["figures"]
    entry = manifest["posterior_headline"]
    assert entry["number"] == 8 and all(c["unit"] for c in entry["data"]["columns"])
    assert entry["designs"]["inference"]["simulations"] > 0
    table = pd.read_csv(posterior_small / "data" / "posterior_headline.csv")
    assert set(table["panel"]) == {"posterior", "scenarios", "phase", "tipping"}
    runs = table[table["panel"] != "posterior"]
    assert set(runs["source"]) == {"fixed", "prior", "posterior"}
    assert set(runs["states"]) == {"strategic", "reactive"}
    post = table[table["panel"] == "posterior"]
    assert (
        (post["posterior_q05"] >= post["prior_low"]) & (post["posterior_q95"] <= post["prior_high"])
    ).all()
    assert (posterior_small / "figures" / "posterior_headline.png").stat().st_size > 1000
    readme = (posterior_small / "README.md").read_text()
    assert "P(breakdown) under strategic states" in readme


def test_posterior_headline_regenerates_identically(posterior_small, capsys):
    args = ["--check", "--scale", "small", "--only", "posterior_headline"]
    assert paper.main([*args, "--out", str(posterior_small)]) == 0
    assert "figures-check passed" in capsys.readouterr().out


def test_posterior_headline_bad_inference_override_is_one_line(tmp_path):
    src = (paper.PAPER_CONFIGS / "posterior_headline.yaml").read_text()
    (tmp_path / "posterior_headline.yaml").write_text(
        src.replace("inference_overrides: []", "inference_overrides: [abc.populaton=3]")
    )
    (fig,) = paper.load_figures(tmp_path, "small")
    from experiments.figures import kinds

    with pytest.raises(ConfigError, match="abc.populaton: unknown key"):
        kinds()["posterior_headline"].build(fig.config)


def test_readme_seeds_do_not_depend_on_the_order_of_designs():
    """A README written from a fresh build equals one written from MANIFEST.json (whose keys
    are sorted), as ``--only`` writes the other figures' sections."""
    fresh = {"seeds": {"lobbying": {"seeds": "0..9"}, "fiscal": {"seeds": "0..9"}}}
    stored = json.loads(json.dumps(fresh, sort_keys=True))
    assert list(stored["seeds"]) != list(fresh["seeds"])
    assert paper._seeds_line(fresh) == paper._seeds_line(stored)
    assert paper._seeds_line(fresh) == "fiscal: seeds 0..9; lobbying: seeds 0..9"
