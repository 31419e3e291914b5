"""Fixtures for the real-browser tests: one Solara server and one headless Chromium per session.

The app is the page of ``sim/viz/app.py``; ``page`` is a fresh browser context (so a new Solara
session with its own state) once the ensemble view's charts have all been drawn and its headline
holds both noise levels.

The server is ``solara run sim/viz/app.py`` on a free 127.0.0.1 port, in its own process group, with
Solara's JavaScript/CSS served from the offline cache that ``scripts/setup_browser.sh`` fills
(``make test`` runs it first). Chromium is Debian's ``/usr/bin/chromium``: Playwright cannot
download its own browsers on these machines. Tests skip, with the reason, when either is missing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BALANCING_SIM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60
#: Files of the offline cache without which the page cannot render (see scripts/setup_browser.sh).
ASSETS = (
    "requirejs@2.3.6/require.js",
    "@widgetti/solara-vuetify-app@10.1.1/package.json",
    "vega@5/build/vega.min.js",
    "vega-lite@5/build/vega-lite.min.js",
    "vega-embed@6/build/vega-embed.min.js",
)
#: The charts of the view on screen (sim/viz/chart.vue: ``data-stamp`` once drawn).
CHARTS = ".bsim-main .bsim-chart"
#: Charts of the ensemble view: P(breakdown), survival and seven panels.
ENSEMBLE_CHARTS = 9
#: Redraw times (ms) the tests measured, by what triggered them: printed after the tests and
#: written to results/bench/app_redraw_times.json, never asserted.
REDRAW_TIMES: dict[str, list[float]] = {}
TIMES_FILE = REPO / "results" / "bench" / "app_redraw_times.json"


def pytest_terminal_summary(terminalreporter):
    if not REDRAW_TIMES:
        return
    import json
    import statistics

    write = terminalreporter.write_line
    write("")
    write(
        "Redraw times in the browser (ms, from the action to the last chart drawn; not asserted):"
    )
    summary = {}
    for what, values in REDRAW_TIMES.items():
        med = statistics.median(values)
        summary[what] = {
            "n": len(values),
            "median_ms": med,
            "max_ms": max(values),
            "values_ms": values,
        }
        write(f"  {what:<28} n={len(values):<3} median {med:6.0f}  max {max(values):6.0f}")
    load = os.getloadavg()
    write(f"  load average {load[0]:.1f} on {os.cpu_count()} cores; written to {TIMES_FILE}")
    TIMES_FILE.parent.mkdir(parents=True, exist_ok=True)
    TIMES_FILE.write_text(json.dumps({"load_average": load, **summary}, indent=2))


def _skip_or_fail(reason: str) -> None:
    """Skip with the reason; in CI (``CI`` set), fail instead: there the tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


def _asset_cache() -> Path:
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    if env:
        return Path(env)
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup_browser.sh"), "--print-cache-dir"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (created by us with start_new_session)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Base URL of a fresh ``solara run sim/viz/app.py`` server, stopped after the session."""
    if not CHROMIUM.exists():
        _skip_or_fail(f"{CHROMIUM} not installed: run scripts/setup_browser.sh (as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip '.[dev]')")
    cache = _asset_cache()
    if not all((cache / f).exists() for f in ASSETS):
        _skip_or_fail(f"Solara's offline assets missing in {cache}: run scripts/setup_browser.sh")
    env = {**os.environ, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache)}
    log_path = tmp_path_factory.mktemp("solara") / "server.log"
    proc, url = None, ""
    for _attempt in range(3):  # another process may take the free port before the server does
        port = _free_port()
        cmd = [sys.executable, "-m", "solara", "run", "sim/viz/app.py", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--no-open", "--production"]
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline and not _answers(url):
            time.sleep(0.2)  # polling the server's port; the tests wait on the page's state
        if proc.poll() is None and _answers(url):
            break
        _stop(proc)
    else:
        pytest.fail(f"solara server did not start; log:\n{log_path.read_text()[-3000:]}")
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def cdn_failures() -> list[str]:
    """Asset requests that the offline cache could not answer (filled by ``page``)."""
    return []


@pytest.fixture
def page(browser, app_url, cdn_failures):
    """A new browser context (so a new Solara session and model), loaded and ready."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on(
        "response",
        lambda r: "/_solara/cdn/" in r.url and r.status != 200 and cdn_failures.append(r.url),
    )
    page.redraw_times = REDRAW_TIMES  # where redraw() in test_app.py records its timings
    page.goto(app_url)
    # Ready when every chart has been drawn and both noise levels are in: clicks before that
    # can be lost.
    expect(page.locator(f"{CHARTS}[data-stamp]")).to_have_count(ENSEMBLE_CHARTS, timeout=60_000)
    expect(page.locator('.bsim-summary[data-complete="1"]')).to_have_count(1)
    yield page
    context.close()


@pytest.fixture(scope="session")
def sweep_folder(tmp_path_factory):
    """A finished 3 x 2 grid sweep over the escalation's end levels (10 seeds per cell)."""
    from sim.catalog import load_calibration, load_scenario
    from sim.sweep.execute import run_sweep
    from sim.sweep.plan import plan_sweep

    sweep = {
        "name": "app_phase",
        "design": "grid",
        "axes": {
            "tariff": {
                "param": "escalation.us_tariff_slope",
                "start": 0.0,
                "stop": 1.0,
                "step": 0.5,
            },
            "demand": {
                "param": "escalation.us_security_pressure",
                "start": 0.7,
                "stop": 0.9,
                "step": 0.2,
            },
        },
        "replicates": 10,
        "base_seed": 3,
        "output_dir": str(tmp_path_factory.mktemp("sweeps")),
        "chunks": 1,
    }
    base = {
        "calibration": load_calibration("article").to_dict(),
        "scenario": load_scenario("us_escalation"),
        "rounds": 40,
        "engine": "batch",
    }
    plan = plan_sweep(sweep, base)
    run_sweep(plan, progress=False)
    return plan.folder
