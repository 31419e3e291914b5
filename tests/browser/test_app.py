"""The SolaraViz app (sim/viz/app.py) driven in a real headless Chromium.

Every wait is on the page's state (texts, slider values, plot ``img`` sources), never a fixed
sleep.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
expect = sync_api.expect
expect.set_options(timeout=20_000)

from sim.viz import app  # noqa: E402

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "results" / "screenshots"
PLOTS = "main img"  # the matplotlib plots (as in conftest)
COMPLIANCE, LEVERS = 0, 1  # plot order in sim.viz.app.COMPONENTS (after the Run card)
ERRORS = ".v-alert.error, .v-alert.error--text"
#: The sliders' labels, as the app takes them from the parameter registry.
MODEL_SLIDERS = (*(p.label for p in app.LEVELS.values()), app.TEMPERATURE[0])
PRESSURE = app.LEVELS["us_security_pressure"].label
LOBBYING = app.LEVELS["lobbying_strength"].label


def status(page):
    return page.get_by_text("Rounds run:")


def levels(page):
    return page.get_by_text("Levels:")


def rounds_run(page) -> int:
    return int(re.search(r"Rounds run: (\d+) of", status(page).inner_text()).group(1))


def sources(page) -> list[str | None]:
    return [page.locator(PLOTS).nth(i).get_attribute("src") for i in range(5)]


def step(page, n: int = 1) -> None:
    """Click Step ``n`` times, each time waiting for both counters and every plot to update."""
    for _ in range(n):
        before, srcs = rounds_run(page), sources(page)
        page.get_by_role("button", name="Step").click()
        expect(status(page)).to_contain_text(f"Rounds run: {before + 1} of 40")
        expect(page.get_by_text("Time: ")).to_have_text(f"Time: {before + 1}.0")
        for i, src in enumerate(srcs):
            expect(page.locator(PLOTS).nth(i)).not_to_have_attribute("src", src)


def reset(page, expected_status: str | None = None, expected_levels: str | None = None) -> None:
    """Click Reset and wait for the new, unstepped model.

    The new model shows in the Run card (its status line and levels) and, after steps, in plots
    that are redrawn empty.
    """
    stepped = rounds_run(page) > 0
    srcs = sources(page)
    assert stepped or expected_status or expected_levels, "Reset would change nothing visible"
    page.get_by_role("button", name="Reset").click()
    expect(status(page)).to_contain_text(expected_status or "Rounds run: 0 of 40")
    expect(page.get_by_text("Time: ")).to_have_text("Time: 0.0")
    if expected_levels:
        expect(levels(page)).to_contain_text(expected_levels)
    if stepped:
        for i, src in enumerate(srcs):
            expect(page.locator(PLOTS).nth(i)).not_to_have_attribute("src", src)


def digest(page, plot: int) -> str:
    """SHA-256 of a plot's PNG as the browser shows it (same run and round -> same bytes)."""
    return (
        page.locator(PLOTS)
        .nth(plot)
        .evaluate(
            """async img => {
            const data = await (await fetch(img.src)).arrayBuffer();
            const d = await crypto.subtle.digest("SHA-256", data);
            return [...new Uint8Array(d)].map(b => b.toString(16).padStart(2, "0")).join("");
        }"""
        )
    )


def slider(page, label: str):
    return page.get_by_role("slider", name=label, exact=True)


def set_slider(page, label: str, key: str, value: str) -> None:
    """Move a slider with the keyboard (Home = min, End = max) and wait for its value."""
    slider(page, label).focus()
    page.keyboard.press(key)
    expect(slider(page, label)).to_have_attribute("aria-valuenow", value)


def choose(page, select: str, option: str) -> None:
    page.locator(".v-select").filter(has_text=select).click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(".v-select").filter(has_text=select)).to_contain_text(option)


def assert_clean(page, cdn_failures: list[str]) -> None:
    expect(page.locator(ERRORS)).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    assert not cdn_failures, f"assets missing from the offline cache: {cdn_failures}"


def test_page_renders_controls_and_plots(page, cdn_failures):
    expect(status(page)).to_have_text(
        "baseline (article calibration, seed 0) · Rounds run: 0 of 40 · press Step or ▶"
    )
    expect(levels(page)).to_have_text(
        f"Levels: US tariff slope 0.05 · {PRESSURE} 0.60 · China's coercion 0.30 · "
        f"{LOBBYING} 1.00 · Fiscal stress 0.00 · Japan's temperature 0.05"
    )
    expect(page.get_by_text("Time: ")).to_have_text("Time: 0.0")
    expect(page.locator(PLOTS)).to_have_count(5)
    for name in ("Reset", "▶", "Step"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_enabled()
    for label in MODEL_SLIDERS:
        expect(slider(page, label)).to_have_count(1)
    expect(slider(page, PRESSURE)).to_have_attribute("aria-valuenow", "0.6")
    for title in ("Japan's export-control compliance", "Firms: profit and lobbying"):
        expect(page.get_by_text(title)).to_be_visible()
    assert_clean(page, cdn_failures)


def test_step_advances_round_counter_and_plots(page, cdn_failures):
    step(page, 3)
    expect(status(page)).to_have_text(
        re.compile(r"Rounds run: 3 of 40 · posture: (balancing|tilting US|tilting China) · ")
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1500})  # every grid cell on screen
    expect(page.locator(PLOTS).nth(4)).to_be_in_viewport()
    page.screenshot(path=SCREENSHOTS / "app_after_3_steps.png", full_page=True)
    assert_clean(page, cdn_failures)


def test_pressure_slider_and_reset_change_trajectory(page, cdn_failures):
    step(page, 3)
    baseline = digest(page, COMPLIANCE)
    reset(page)
    step(page, 3)
    assert digest(page, COMPLIANCE) == baseline, "same settings and seed must redraw the same run"

    set_slider(page, PRESSURE, "End", "1")
    reset(page, expected_levels=f"{PRESSURE} 1.00")
    step(page, 3)
    assert digest(page, COMPLIANCE) != baseline
    assert_clean(page, cdn_failures)


def test_scenario_and_calibration_switch(page, cdn_failures):
    step(page, 5)  # the escalation starts at round 4 (the 5th round)
    baseline = digest(page, LEVERS)
    choose(page, "Scenario", "us_escalation")
    reset(page, "us_escalation (article calibration, seed 0) · Rounds run: 0 of 40")
    expect(page.get_by_text("the US ramps its tariff slope to 0.35")).to_be_visible()
    step(page, 5)
    assert digest(page, LEVERS) != baseline, "escalation from round 4 must show in the levers"

    # A scenario brings its own levels to the sliders, replacing a slider moved before.
    set_slider(page, LOBBYING, "End", "3")
    choose(page, "Scenario", "no_lobbying")
    expect(slider(page, LOBBYING)).to_have_attribute("aria-valuenow", "0")
    choose(page, "Calibration", "corrected")
    reset(
        page,
        "no_lobbying (corrected calibration, seed 0) · Rounds run: 0 of 40",
        f"{LOBBYING} 0.00",
    )
    step(page, 1)
    assert_clean(page, cdn_failures)


def test_bad_seed_gives_message_not_dead_page(page, cdn_failures):
    message = "Cannot build the model: seed: must be a whole number >= 0 and < 2**63, got 'abc'"
    page.get_by_label("Seed").fill("abc")
    page.get_by_role("button", name="Reset").click()  # leaving the field applies it
    expect(page.locator(ERRORS).filter(has_text=message)).to_have_count(1)
    expect(page.get_by_text("Correct the controls and press Reset.")).to_be_visible()
    expect(page.locator(PLOTS)).to_have_count(0)
    expect(status(page)).to_have_count(0)
    page.get_by_role("button", name="Step").click()  # nothing to run: Step turns off
    expect(page.get_by_role("button", name="Step")).to_be_disabled()
    expect(page.locator(ERRORS).filter(has_text=message)).to_have_count(1)

    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Reset").click()
    expect(status(page)).to_contain_text("seed 7) · Rounds run: 0 of 40")
    expect(page.locator(PLOTS)).to_have_count(5)
    expect(page.get_by_role("button", name="Step")).to_be_enabled()
    step(page, 1)
    assert_clean(page, cdn_failures)


def test_extreme_slider_values_run(page, cdn_failures):
    ends = {
        "End": ("1", "1", "1", "3", "3", "1"),
        "Home": ("0", "0", "0", "0", "0", "-3"),
    }
    shown = {
        "End": f"US tariff slope 1.00 · {PRESSURE} 1.00 · China's coercion 1.00 · "
        f"{LOBBYING} 3.00 · Fiscal stress 3.00 · Japan's temperature 10",
        "Home": f"US tariff slope 0.00 · {PRESSURE} 0.00 · China's coercion 0.00 · "
        f"{LOBBYING} 0.00 · Fiscal stress 0.00 · Japan's temperature 0.001",
    }
    for key, values in ends.items():
        for label, value in zip(MODEL_SLIDERS, values, strict=True):
            set_slider(page, label, key, value)
        reset(page, expected_levels=shown[key])
        step(page, 2)
        assert_clean(page, cdn_failures)


def test_play_and_pause(page, cdn_failures):
    page.get_by_role("button", name="▶").click()
    expect(page.get_by_role("button", name="Step")).to_be_disabled()
    expect(status(page)).to_have_text(re.compile(r"Rounds run: ([3-9]|[1-3]\d) of 40"))
    page.get_by_role("button", name="❚❚").click()
    expect(page.get_by_role("button", name="▶")).to_be_enabled()
    expect(page.get_by_role("button", name="Step")).to_be_enabled()
    # Mesa's play loop may finish one step already under way, so wait for "more", not "+1".
    before = rounds_run(page)
    page.get_by_role("button", name="Step").click()
    expect(status(page)).not_to_contain_text(f"Rounds run: {before} of")  # only goes up
    assert_clean(page, cdn_failures)


def test_each_browser_tab_has_its_own_model(page, app_url):
    step(page, 2)
    set_slider(page, "US tariff slope", "End", "1")
    other = page.context.new_page()  # a second tab of the same browser (same cookies)
    try:
        other.goto(app_url)
        expect(other.get_by_text("Rounds run: 0 of 40")).to_be_visible()
        expect(other.locator(PLOTS)).to_have_count(5)
        other.wait_for_function(
            "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
            arg=PLOTS,
        )
        expect(slider(other, "US tariff slope")).to_have_attribute("aria-valuenow", "0.05")
        other.get_by_role("button", name="Step").click()
        expect(other.get_by_text("Rounds run: 1 of 40")).to_be_visible()
        expect(other.get_by_text("Time: ")).to_have_text("Time: 1.0")
        expect(status(page)).to_contain_text("Rounds run: 2 of 40")
        expect(page.get_by_text("Time: ")).to_have_text("Time: 2.0")
        expect(slider(page, "US tariff slope")).to_have_attribute("aria-valuenow", "1")
    finally:
        other.close()
