"""The Solara app (sim/app.py) driven in a real headless Chromium.

Every wait is on the page's state (texts, plot ``img`` sources), never a fixed sleep.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
expect = sync_api.expect
expect.set_options(timeout=20_000)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "results" / "screenshots"
PLOTS = "main img"  # the matplotlib plots (as in conftest)
COMPLIANCE, LEVERS = 0, 1  # plot order in sim.app.PLOTS
ERRORS = ".v-alert.error, .v-alert.error--text"
PENDING = "press Reset to apply"


def status(page):
    return page.get_by_text("Rounds run:")


def rounds_run(page) -> int:
    return int(re.search(r"Rounds run: (\d+) of", status(page).inner_text()).group(1))


def step(page, n: int = 1) -> None:
    """Click Step ``n`` times, each time waiting for the counter and every plot to update."""
    for _ in range(n):
        before = rounds_run(page)
        sources = [page.locator(PLOTS).nth(i).get_attribute("src") for i in range(5)]
        page.get_by_role("button", name="Step").click()
        expect(status(page)).to_contain_text(f"Rounds run: {before + 1} of 40")
        for i, src in enumerate(sources):
            expect(page.locator(PLOTS).nth(i)).not_to_have_attribute("src", src)


def reset(page, expected_status: str | None = None) -> None:
    """Click Reset and wait for the new, unstepped model.

    The page shows that the new model exists by dropping the "press Reset to apply" note (when
    settings changed) and by redrawing plots that had points (empty plots redraw identically).
    """
    pending = page.get_by_text(PENDING)
    had_pending = pending.count() > 0
    stepped = rounds_run(page) > 0
    sources = [page.locator(PLOTS).nth(i).get_attribute("src") for i in range(5)]
    assert had_pending or stepped, "Reset would change nothing visible"
    page.get_by_role("button", name="Reset").click()
    expect(status(page)).to_contain_text(expected_status or "Rounds run: 0 of 40")
    expect(pending).to_have_count(0)
    if stepped:
        for i, src in enumerate(sources):
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
    return page.get_by_role("slider", name=re.compile("^" + re.escape(label)))


def set_slider(page, label: str, key: str, shown: str) -> None:
    """Move a slider with the keyboard (Home = min, End = max) and wait for its label."""
    slider(page, label).focus()
    page.keyboard.press(key)
    expect(slider(page, label)).to_have_attribute("aria-label", re.compile(re.escape(shown)))


def assert_clean(page, cdn_failures: list[str]) -> None:
    expect(page.locator(ERRORS)).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    assert not cdn_failures, f"assets missing from the offline cache: {cdn_failures}"


def test_page_renders_controls_and_plots(page, cdn_failures):
    expect(status(page)).to_have_text(
        "baseline (article calibration, seed 0) · Rounds run: 0 of 40 · press Step or ▶"
    )
    expect(page.locator(PLOTS)).to_have_count(5)
    for name in ("Reset", "▶", "Step"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_enabled()
    expect(page.get_by_role("slider")).to_have_count(6)
    for title in ("Japan's export-control compliance", "Firms: profit and lobbying"):
        expect(page.get_by_text(title)).to_be_visible()
    assert_clean(page, cdn_failures)


def test_step_advances_round_counter_and_plots(page, cdn_failures):
    step(page, 3)
    expect(status(page)).to_have_text(
        re.compile(r"Rounds run: 3 of 40 · posture: (balancing|tilting US|tilting China) · ")
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1500})  # the main area scrolls by itself
    expect(page.locator(PLOTS).nth(4)).to_be_in_viewport()
    page.screenshot(path=SCREENSHOTS / "app_after_3_steps.png", full_page=True)
    assert_clean(page, cdn_failures)


def test_pressure_slider_and_reset_change_trajectory(page, cdn_failures):
    step(page, 3)
    baseline = digest(page, COMPLIANCE)
    reset(page)
    step(page, 3)
    assert digest(page, COMPLIANCE) == baseline, "same settings and seed must redraw the same run"

    set_slider(page, "US security pressure", "End", "US security pressure: 1.00")
    expect(page.get_by_text(PENDING)).to_be_visible()
    reset(page)
    step(page, 3)
    assert digest(page, COMPLIANCE) != baseline
    assert_clean(page, cdn_failures)


def test_scenario_and_calibration_switch(page, cdn_failures):
    step(page, 5)  # the escalation starts at round 4 (the 5th round)
    baseline = digest(page, LEVERS)
    page.locator(".v-select").filter(has_text="Scenario").click()
    page.get_by_role("option", name="us_escalation").click()
    expect(page.get_by_text("the US ramps its tariff level to 0.35")).to_be_visible()
    reset(page, "us_escalation (article calibration, seed 0) · Rounds run: 0 of 40")
    step(page, 5)
    assert digest(page, LEVERS) != baseline, "escalation from round 4 must show in the levers"

    page.locator(".v-select").filter(has_text="Calibration").click()
    page.get_by_role("option", name="corrected").click()
    reset(page, "us_escalation (corrected calibration, seed 0) · Rounds run: 0 of 40")
    step(page, 1)
    assert_clean(page, cdn_failures)


def test_bad_seed_gives_message_not_dead_page(page, cdn_failures):
    message = "seed: must be a whole number >= 0, got 'abc'"
    page.get_by_label("Seed").fill("abc")
    expect(page.get_by_text(message)).to_be_visible()  # under the field, before Reset
    page.get_by_role("button", name="Reset").click()
    expect(
        page.locator(ERRORS).filter(has_text="Cannot build the model: " + message)
    ).to_have_count(1)
    expect(page.get_by_role("button", name="Step")).to_be_disabled()
    expect(page.locator(PLOTS)).to_have_count(0)

    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Reset").click()
    expect(status(page)).to_contain_text("seed 7) · Rounds run: 0 of 40")
    expect(page.locator(PLOTS)).to_have_count(5)
    step(page, 1)
    assert_clean(page, cdn_failures)


def test_extreme_slider_values_run(page, cdn_failures):
    for key, shown in (("End", "1.00"), ("Home", "0.00")):
        for label in ("US tariff", "US security pressure", "China's coercion"):
            set_slider(page, label, key, f"{label}: {shown}")
        for label in ("Firm lobbying", "Fiscal stress"):
            set_slider(page, label, key, f"{label}: {'3.00' if key == 'End' else '0.00'}")
        set_slider(page, "Japan's temperature", key, "10 (" if key == "End" else "0.001 (")
        reset(page)
        step(page, 2)
        assert_clean(page, cdn_failures)


def test_play_and_pause(page, cdn_failures):
    page.get_by_role("button", name="▶").click()
    expect(page.get_by_role("button", name="Step")).to_be_disabled()
    expect(status(page)).to_have_text(re.compile(r"Rounds run: ([3-9]|[1-4]\d) of 40"))
    page.get_by_role("button", name="❚❚").click()
    expect(page.get_by_role("button", name="Step")).to_be_enabled()
    step(page, 1)
    assert_clean(page, cdn_failures)


def test_each_browser_session_has_its_own_model(page, browser, app_url):
    step(page, 2)
    other = browser.new_context().new_page()
    try:
        other.goto(app_url)
        expect(other.get_by_text("Rounds run: 0 of 40")).to_be_visible()
        expect(other.locator(PLOTS)).to_have_count(5)
        other.wait_for_function(
            "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
            arg=PLOTS,
        )
        other.get_by_role("button", name="Step").click()
        expect(other.get_by_text("Rounds run: 1 of 40")).to_be_visible()
        expect(status(page)).to_contain_text("Rounds run: 2 of 40")
    finally:
        other.context.close()
