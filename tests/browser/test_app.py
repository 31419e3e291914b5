"""The app (sim/viz/app.py) driven in a real headless Chromium.

Every wait is on the page's state (texts, ``data-*`` attributes the charts set once drawn),
never a fixed sleep. The numbers the page shows are checked against the model's own entry
points (``compare_scenarios``, ``run_seeds``, the command line, a sweep folder). Redraw times
(from a control change or a Step to the last chart drawn, measured in the browser) are printed
at the end and written to ``results/bench/app_redraw_times.json``; they are never asserted.
Screenshots of every view at 1400x1500 and 1280x720 go to ``results/screenshots/``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.bench_app import CHARTS
from experiments.bench_app import REDRAWN as _REDRAWN  # the same wait the benchmark times
from sim.catalog import load_calibration
from sim.engine.model import BalancingModel
from sim.engine.runner import compare_scenarios, run_seeds
from sim.viz import charts, ensemble

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
expect = sync_api.expect
expect.set_options(timeout=30_000)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "results" / "screenshots"
ERRORS = ".v-alert.error, .v-alert.error--text"
SIZES = {"1400x1500": (1400, 1500), "1280x720": (1280, 720)}
SEEDS = 500  # the page's default ensemble
NEAR_BR = "near best response"
#: Charts of each view: the panels (per-round series), and P(breakdown) and survival; the
#: compare view draws every panel but the firms' for A and B.
PANELS = len(charts.panels(load_calibration("article").firm_names))
ENSEMBLE_CHARTS = PANELS + 2
COMPARE_CHARTS = 2 * (PANELS - 1) + 2
SINGLE_CHARTS = PANELS


# --- helpers --------------------------------------------------------------------------------
def stamp(page) -> str | None:
    """The stamp of the first chart on screen (None if there is none)."""
    return page.evaluate(
        "s => { const c = document.querySelector(s); return c ? c.dataset.stamp || null : null; }",
        CHARTS,
    )


def redraw(page, action, what: str | None = None, charts: int = ENSEMBLE_CHARTS) -> float:
    """Do ``action`` and wait until all ``charts`` of the view are redrawn; the time in ms."""
    old = stamp(page)
    t0 = page.evaluate("performance.now()")
    action()
    ms = page.wait_for_function(
        _REDRAWN, arg=[CHARTS, old, t0, charts], timeout=60_000
    ).json_value()
    if what:
        page.redraw_times.setdefault(what, []).append(ms)
    return ms


def settled(page) -> None:
    """The headline holds both noise levels of what the charts show."""
    expect(
        page.locator(f'.bsim-summary[data-stamp="{stamp(page)}"][data-complete="1"]')
    ).to_have_count(1)


def shown(page) -> dict[tuple[str, str], tuple[int, int]]:
    """(noise, event) -> (count, runs) from the headline table."""
    cells = page.evaluate(
        """() => [...document.querySelectorAll('td[data-noise][data-count]')].map(
            td => [td.dataset.noise, td.dataset.event, +td.dataset.count, +td.dataset.runs])"""
    )
    return {(n, e): (k, r) for n, e, k, r in cells}


def expected(
    name: str,
    noise: str,
    overrides: dict | None = None,
    calibration: str = "article",
    states: str | None = None,
):
    cal = load_calibration(calibration)
    if noise != "calibrated":
        cal = cal.near_best_response(ensemble.NOISE_FACTORS[noise])
    _, summary = compare_scenarios(
        [name], range(SEEDS), calibration=cal, overrides={name: overrides or {}}, states=states
    )
    s = summary.iloc[0]
    runs = int(s["runs"])
    out = {"breakdown": (runs - int(s["n_balanced"]), runs)}
    for key in ("toward_us", "toward_china", "rupture_by_us", "rupture_by_china"):
        out[key] = (int(s[f"n_{key}"]), runs)
    return out


def assert_headline_matches(
    page, name: str, overrides: dict | None = None, states: str | None = None
) -> None:
    got = shown(page)
    for noise in ensemble.NOISE_FACTORS:
        want = expected(name, noise, overrides, states=states)
        assert {e: got[(noise, e)] for e in want} == want, noise


def choose(page, select: str, option: str) -> None:
    box = page.locator(".v-select").filter(
        has=page.locator("label", has_text=re.compile(f"^{select}$"))
    )
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_contain_text(option)


def slider(page, label: str):
    return page.get_by_role("slider", name=label, exact=True)


def press(page, label: str, key: str):
    return lambda: (slider(page, label).focus(), page.keyboard.press(key))


def view(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def download(page, button) -> str:
    with page.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_text()


def read_csv(text: str) -> pd.DataFrame:
    """A downloaded CSV, every float as written (round trip)."""
    return pd.read_csv(io.StringIO(text), float_precision="round_trip")


def chart_csv(page, chart_id: str) -> pd.DataFrame:
    card = page.locator(".bsim-card").filter(has=page.locator(f'[data-chart="{chart_id}"]'))
    return read_csv(download(page, card.get_by_role("button", name="CSV")))


# Every chart drawn and resized to its card (Vega follows the window's size asynchronously).
FITTED = """s => [...document.querySelectorAll(s)].every(e => {
    const svg = e.querySelector("svg"), card = e.closest(".bsim-card");
    if (!svg || !card) return false;
    const a = svg.getBoundingClientRect(), b = card.getBoundingClientRect();
    return a.width > 0 && a.right <= b.right + 1;
})"""


def screenshots(page, name: str) -> None:
    """The page at both sizes (the viewport, so 1280x720 shows what is above the fold)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_function(FITTED, arg=CHARTS)
        page.screenshot(path=SCREENSHOTS / f"app_{name}_{size}.png")
    page.set_viewport_size({"width": 1400, "height": 1100})


def assert_clean(page, cdn_failures: list[str]) -> None:
    expect(page.locator(ERRORS)).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    assert not cdn_failures, f"assets missing from the offline cache: {cdn_failures}"


# --- the ensemble view ----------------------------------------------------------------------
def test_ensemble_numbers_match_compare_scenarios(page, cdn_failures):
    expect(page.locator(".bsim-summary")).to_contain_text(
        "baseline, article calibration, strategic states (the scenario's own), 500 worlds "
        "(seeds 0-499)"
    )
    assert_headline_matches(page, "baseline")
    expect(
        page.get_by_text("Breakdown: Japan has picked a side when, for 4 quarters in a row")
    ).to_be_visible()
    page.get_by_role("button", name="docs/ODD.md §7.9").click()
    expect(page.locator(".bsim-odd")).to_contain_text("7.9 Breakdown detection")
    expect(page.locator(".bsim-odd")).to_contain_text("Alignment index")

    redraw(page, lambda: choose(page, "Scenario", "us_escalation"), "scenario change")
    settled(page)
    assert_headline_matches(page, "us_escalation")
    # The timeline in words, and the US controls that set where the escalation ends.
    expect(page.locator(".bsim-timeline")).to_contain_text(
        "From round 4 (quarter 5) the US ramps the tariff severity it may scale to 35% and its "
        "demand to 0.90 over 12 quarters"
    )
    expect(page.locator('[data-control="escalation.us_tariff_slope"]')).to_have_text("0.35")
    screenshots(page, "ensemble")
    # Usable at 1280x720: the controls, the headline and the first charts above the fold.
    page.set_viewport_size({"width": 1280, "height": 720})
    for locator in (
        page.locator(".bsim-summary"),
        page.locator('[data-chart="breakdown"]'),
        page.locator('[data-chart="compliance"]'),
        page.locator(".v-select").first,
    ):
        expect(locator).to_be_in_viewport()
    assert_clean(page, cdn_failures)


def test_escalation_end_sliders_set_the_end_and_redraw(page, cdn_failures):
    redraw(page, lambda: choose(page, "Scenario", "us_escalation"))
    expect(slider(page, "US tariff slope before the escalation")).to_have_attribute(
        "aria-valuenow", "0.05"
    )
    redraw(page, press(page, "US tariff slope at end of escalation", "End"), "slider (500 seeds)")
    expect(page.locator('[data-control="escalation.us_tariff_slope"]')).to_have_text("1.00")
    expect(page.locator(".bsim-timeline")).to_contain_text(
        "the US ramps the tariff severity it may scale to 100%"
    )
    settled(page)
    assert_headline_matches(page, "us_escalation", {"escalation.us_tariff_slope": 1.0})
    # More redraws for the timing (each is a new ensemble of 500 worlds).
    for key in ("Home", "PageUp", "ArrowRight", "ArrowRight", "ArrowLeft"):
        redraw(page, press(page, "US demand at end of escalation", key), "slider (500 seeds)")
    for key in ("ArrowRight", "ArrowLeft"):
        redraw(page, press(page, "China's coercion", key), "slider (500 seeds)")
    assert_clean(page, cdn_failures)


def states(page, choice: str):
    return lambda: (
        page.locator(".bsim-states").get_by_role("button", name=choice, exact=True).click()
    )


def test_states_control_flips_the_escalation_headline(page, cdn_failures):
    """Strategic states (the scenario's own) do not carry out the escalation; reactive ones do."""
    redraw(page, lambda: choose(page, "Scenario", "us_escalation"))
    settled(page)
    strategic = shown(page)
    redraw(page, states(page, "reactive"), "states toggle")
    settled(page)
    expect(page.locator(".bsim-states-shown")).to_have_text(
        "reactive states (the scenario's own: strategic states)"
    )
    assert_headline_matches(page, "us_escalation", states="reactive")
    reactive = shown(page)
    assert reactive[("calibrated", "toward_us")][0] > 5 * strategic[("calibrated", "breakdown")][0]
    expect(page.locator(".bsim-timeline")).to_contain_text("the US ramps its tariff to 35%")
    expect(page.locator('.bsim-group-note[data-actor="United States"]')).to_contain_text(
        "Reactive: the US applies these tariff levels as set"
    )
    expect(page.locator(".bsim-states-note")).to_contain_text(
        "Strategic: the US and China scale their threats"
    )
    assert_clean(page, cdn_failures)


def test_noise_toggle_and_csv_downloads_match_the_run(page, cdn_failures):
    redraw(page, lambda: page.get_by_role("button", name=NEAR_BR).click(), "noise toggle")
    expect(page.locator("tr.bsim-shown")).to_contain_text(NEAR_BR)
    settings = ensemble.Settings(noise=NEAR_BR)

    fan = chart_csv(page, "compliance")
    ens = ensemble.run_ensemble(settings)
    want = ens.fan(["jp_compliance", "us_demand", "cn_red_line"])
    assert len(fan) == len(want) == 3 * 40
    for q in ensemble.QUANTILES:
        np.testing.assert_allclose(fan[q].to_numpy(), want[q].to_numpy(), rtol=0, atol=1e-12)

    card = page.locator(".bsim-main").get_by_role(
        "button", name="Outcomes, one row per world (CSV)"
    )
    outcomes = read_csv(download(page, card))
    cal = load_calibration("article").near_best_response(10.0)
    from sim.catalog import load_scenario

    reference = run_seeds(cal, load_scenario("baseline"), 40, range(SEEDS))
    assert list(outcomes.columns) == list(reference.columns)
    for col in reference.columns:
        if reference[col].dtype.kind in "fiu":
            np.testing.assert_array_equal(outcomes[col].to_numpy(), reference[col].to_numpy())
        else:
            assert (outcomes[col].astype(str) == reference[col].astype(str)).all(), col

    events = chart_csv(page, "breakdown").set_index("event")
    assert events.loc["toward_us", "count"] == expected("baseline", NEAR_BR)["toward_us"][0]
    assert_clean(page, cdn_failures)


def test_saved_scenario_yaml_runs_on_the_cli_unchanged(page, cdn_failures, tmp_path):
    redraw(page, lambda: choose(page, "Scenario", "us_escalation"))
    redraw(page, lambda: page.get_by_role("button", name=NEAR_BR).click())
    redraw(page, states(page, "reactive"))
    redraw(page, press(page, "US tariff slope at end of escalation", "End"))
    name = page.get_by_label("Scenario name")
    name.fill("app_saved")
    name.press("Enter")
    expect(page.locator(".bsim-cli")).to_contain_text("scenario=app_saved ")
    expect(page.get_by_role("button", name="Download scenario YAML")).to_be_visible()
    text = download(page, page.get_by_role("button", name="Download scenario YAML"))
    assert "\nus_policy: reactive\nchina_policy: reactive\n" in text
    (tmp_path / "conf" / "scenario").mkdir(parents=True)
    (tmp_path / "conf" / "scenario" / "app_saved.yaml").write_text(text)

    command = page.locator(".bsim-cli").inner_text()
    prefix = "BALANCING_SIM_CONFIG_PATH=myconf balancing-sim "
    assert command.startswith(prefix + "scenario=app_saved calibration=article seed=0 rounds=40")
    args = shlex.split(command.removeprefix(prefix))
    env = {**os.environ, "BALANCING_SIM_CONFIG_PATH": str(tmp_path / "conf")}
    run = subprocess.run(
        [sys.executable, "-m", "sim", *args, f"output_dir={tmp_path / 'runs'}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    (outcome_file,) = (tmp_path / "runs").glob("*/outcome.json")
    cli = json.loads(outcome_file.read_text())["outcome"]

    card = page.locator(".bsim-main").get_by_role(
        "button", name="Outcomes, one row per world (CSV)"
    )
    app = read_csv(download(page, card)).iloc[0]  # seed 0
    assert app["seed"] == 0
    for key, value in cli.items():
        if isinstance(value, float):
            assert app[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
        else:
            assert str(app[key]) == str(value), key
    assert_clean(page, cdn_failures)


# --- compare --------------------------------------------------------------------------------
def test_compare_two_calibrations_with_the_difference(page, cdn_failures):
    view(page, "Compare")
    expect(page.locator(f"{CHARTS}[data-stamp]")).to_have_count(COMPARE_CHARTS)
    redraw(
        page,
        lambda: choose(page, "Scenario B", "us_escalation"),
        "compare: B changed",
        charts=COMPARE_CHARTS,
    )
    redraw(page, lambda: choose(page, "Scenario", "us_escalation"), charts=COMPARE_CHARTS)
    expect(page.locator(".v-select").filter(has_text="Calibration B")).to_contain_text("corrected")
    a = expected("us_escalation", "calibrated")
    b = expected("us_escalation", "calibrated", calibration="corrected")
    for event in ("breakdown", "toward_us", "toward_china"):
        cell = page.locator(f"table.bsim-compare td[data-event='{event}'][data-diff]")
        d = ensemble.difference(*a[event], *b[event])
        assert float(cell.get_attribute("data-diff")) == pytest.approx(d.diff, abs=1e-6)
        assert float(cell.get_attribute("data-low")) == pytest.approx(d.low, abs=1e-6)
        assert float(cell.get_attribute("data-high")) == pytest.approx(d.high, abs=1e-6)
        count_a = page.locator(f"table.bsim-compare td[data-variant='A'][data-event='{event}']")
        count_b = page.locator(f"table.bsim-compare td[data-variant='B'][data-event='{event}']")
        assert int(count_a.get_attribute("data-count")) == a[event][0]
        assert int(count_b.get_attribute("data-count")) == b[event][0]
    expect(page.locator('[data-chart="compare-compliance-A"]')).to_be_visible()
    expect(page.locator('[data-chart="compare-compliance-B"]')).to_be_visible()
    # B follows A's states until set: reactive B carries out the escalation A's strategic US does not.
    redraw(page, lambda: choose(page, "States B", "reactive"), charts=COMPARE_CHARTS)
    expect(page.locator("table.bsim-compare")).to_contain_text(
        "B: us_escalation (corrected, calibrated noise, reactive states)"
    )
    b = expected("us_escalation", "calibrated", calibration="corrected", states="reactive")
    count_b = page.locator("table.bsim-compare td[data-variant='B'][data-event='toward_us']")
    assert int(count_b.get_attribute("data-count")) == b["toward_us"][0]
    screenshots(page, "compare")
    assert_clean(page, cdn_failures)


# --- phase diagram --------------------------------------------------------------------------
def cell(page, x_label: str, x: str, y_label: str, y: str):
    return page.locator(
        f'[data-chart="phase"] path[aria-label*="; {x_label}: {x};"][aria-label*="; {y_label}: {y};"]'
    )


def test_phase_diagram_click_shows_that_cells_ensemble(page, cdn_failures):
    redraw(page, lambda: choose(page, "Scenario", "us_escalation"))
    view(page, "Phase diagram")
    expect(page.locator("[data-phase-done='9/9']")).to_have_count(1, timeout=90_000)
    expect(page.locator('[data-chart="phase"][data-stamp]')).to_have_count(1)
    target = cell(
        page,
        "US tariff slope at end of escalation",
        "0.75",
        "US demand at end of escalation",
        "0.75",
    )
    expect(target).to_have_count(1)
    target.click()
    shown_cell = page.locator("[data-cell-event='breakdown']")
    expect(shown_cell).to_have_count(1)
    expect(page.locator('[data-chart="cell-compliance"][data-stamp]')).to_have_count(1)
    levels = {"escalation.us_tariff_slope": 0.75, "escalation.us_security_pressure": 0.75}
    want = expected("us_escalation", "calibrated", levels)["breakdown"]
    assert (
        int(shown_cell.get_attribute("data-count")),
        int(shown_cell.get_attribute("data-runs")),
    ) == want
    expect(page.locator(".bsim-cell")).to_contain_text(
        "US tariff slope at end of escalation = 0.75, US demand at end of escalation = 0.75"
    )
    screenshots(page, "phase")
    # Refining starts a finer grid (computed in the background); back to the coarse map.
    page.get_by_role("button", name="Refine").click()
    expect(page.get_by_text(re.compile(r"Refined grid: 17 x 17 cells x 100 seeds"))).to_be_visible()
    page.get_by_role("button", name="Coarse").click()
    expect(page.locator("[data-phase-done='9/9']")).to_have_count(1)
    assert_clean(page, cdn_failures)


def test_phase_diagram_from_a_sweep_folder(page, cdn_failures, sweep_folder):
    view(page, "Phase diagram")
    page.get_by_role("button", name="sweep folder").click()
    box = page.get_by_label(re.compile("^Sweep folder"))
    box.fill("/no/such/folder")
    box.press("Enter")
    expect(page.locator(ERRORS)).to_contain_text(
        "/no/such/folder is not a sweep folder (no sweep.json)"
    )
    box.fill(str(sweep_folder))
    box.press("Enter")
    expect(page.locator('[data-chart="phase"][data-stamp]')).to_have_count(1)
    expect(page.locator(".bsim-main")).to_contain_text("6 cells, 60 runs (10 seeds per cell)")
    phase = ensemble.load_sweep_phase(sweep_folder)
    row = phase.table[(phase.table["x"] == 1.0) & (phase.table["y"] == 0.9)].iloc[0]
    cell(
        page, "US tariff slope at end of escalation", "1", "US demand at end of escalation", "0.9"
    ).click()
    shown_cell = page.locator("[data-cell-event='breakdown']")
    expect(shown_cell).to_have_attribute("data-count", str(int(row["breakdowns"])))
    expect(shown_cell).to_have_attribute("data-runs", "10")
    assert_clean(page, cdn_failures)


# --- bad inputs -----------------------------------------------------------------------------
def test_bad_inputs_are_shown_on_the_page(page, cdn_failures):
    seed = page.get_by_label("Base seed (whole number >= 0)")
    seed.fill("abc")
    seed.press("Enter")
    expect(page.locator(ERRORS)).to_have_text(
        re.compile(r"base seed: must be a whole number >= 0 and < 2\*\*63, got 'abc'")
    )
    expect(page.locator(CHARTS)).to_have_count(0)
    seed.fill("12")
    redraw(page, lambda: seed.press("Enter"))
    expect(page.locator(".bsim-summary")).to_contain_text("500 worlds (seeds 12-511)")
    expect(page.locator(ERRORS)).to_have_count(0)

    name = page.get_by_label("Scenario name")
    name.fill("my scenario")
    name.press("Enter")
    expect(page.locator(ERRORS)).to_contain_text(
        "scenario name: use letters, digits, '_' and '-' (no spaces)"
    )
    expect(page.get_by_role("button", name="Download scenario YAML")).to_have_count(0)
    name.fill("mine")
    name.press("Enter")
    expect(page.locator(ERRORS)).to_have_count(0)

    view(page, "Phase diagram")
    choose(page, "y lever", "US tariff slope")
    expect(page.locator(ERRORS)).to_contain_text(
        "levers: choose two different levers (both are 'us_tariff_slope')"
    )
    choose(page, "y lever", "China's coercion")
    expect(page.locator(ERRORS)).to_have_count(0)
    assert_clean(page, cdn_failures)


# --- the single-run Mesa view ---------------------------------------------------------------
def status(page):
    return page.locator(".bsim-status")


def test_single_run_step_play_reset(page, cdn_failures):
    view(page, "Single run")
    expect(status(page)).to_have_text("seed 0 · Rounds run: 0 of 40 · press Step or Play")
    expect(page.locator(f"{CHARTS}[data-stamp]")).to_have_count(SINGLE_CHARTS)
    for i in range(1, 6):
        redraw(
            page,
            lambda: page.get_by_role("button", name="Step").click(),
            "Step (one world)",
            charts=SINGLE_CHARTS,
        )
        expect(status(page)).to_contain_text(f"Rounds run: {i} of 40 · posture: ")
    table = chart_csv(page, "single-compliance")
    model = BalancingModel("baseline", "article", 40, rng=0)
    model.run_for(5)
    reference = model.rounds_table()
    assert list(table["round"]) == [0, 1, 2, 3, 4]
    for col in ("jp_compliance", "us_demand", "cn_red_line"):
        np.testing.assert_allclose(table[col].to_numpy(), reference[col].to_numpy(), rtol=1e-15)
    screenshots(page, "single_run")

    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Step")).to_be_disabled()
    expect(status(page)).to_contain_text(re.compile(r"Rounds run: ([89]|[1-4]\d) of 40"))
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Step")).to_be_enabled()
    redraw(page, lambda: page.get_by_role("button", name="Reset").click(), charts=SINGLE_CHARTS)
    expect(status(page)).to_have_text("seed 0 · Rounds run: 0 of 40 · press Step or Play")
    assert_clean(page, cdn_failures)


def test_each_browser_tab_has_its_own_state(page, app_url):
    redraw(page, lambda: choose(page, "Scenario", "no_lobbying"))
    other = page.context.new_page()
    try:
        other.goto(app_url)
        expect(other.locator(f"{CHARTS}[data-stamp]")).to_have_count(
            ENSEMBLE_CHARTS, timeout=60_000
        )
        expect(other.locator(".bsim-summary")).to_contain_text("baseline, article calibration")
        expect(page.locator(".bsim-summary")).to_contain_text("no_lobbying, article calibration")
    finally:
        other.close()
