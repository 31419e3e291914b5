"""Benchmark: how long the app takes to redraw, measured in a real browser.

    python -m experiments.bench_app [--repeats 8] [--out results/bench/app.json]

Starts ``solara run sim/viz/app.py`` on a free port and a headless Debian Chromium
(``scripts/setup_browser.sh`` installs both), then times, in the browser, from the control
change (a key press on a slider, a click) to the moment the last chart of the view has been
redrawn (``data-drawn-at`` of every chart, set by ``sim/viz/chart.vue`` after Vega has run),
one change at a time (the next waits until the page is idle):

- a slider on the ensemble view at 200, 500 and 1,000 seeds (each change a new ensemble on
  the batch engine in the server);
- the noise toggle, a scenario change, and a slider in the compare view (two ensembles);
- Step in the single-run view (one world of the Mesa model).

For scale it also times the ensemble alone in this process (the batch engine, no page). The
machine's load average is printed with the numbers: on a shared machine they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from experiments import REPO_ROOT

CHROMIUM = Path(os.environ.get("BALANCING_SIM_CHROMIUM", "/usr/bin/chromium"))
CHARTS = ".bsim-main .bsim-chart"
REDRAWN = """([selector, old, t0, n]) => {
    const charts = [...document.querySelectorAll(selector)];
    if (charts.length < n) return false;
    const stamps = charts.map(e => e.dataset.stamp);
    if (stamps.some(s => !s || s === old) || new Set(stamps).size !== 1) return false;
    return Math.max(...charts.map(e => +e.dataset.drawnAt)) - t0;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    cache = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "setup_browser.sh"), "--print-cache-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = _free_port()
    env = {**os.environ, "SOLARA_ASSETS_PROXY_CACHE_DIR": cache}
    cmd = [sys.executable, "-m", "solara", "run", "sim/viz/app.py", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-open", "--production"]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("the solara server did not start")


def stamp(page) -> str | None:
    return page.evaluate(
        "s => { const c = document.querySelector(s); return c ? c.dataset.stamp || null : null; }",
        CHARTS,
    )


def redraw(page, action, charts: int) -> float:
    """The time (ms) from ``action`` to the last chart drawn; then wait until the page is idle
    (the other noise level's numbers in), so one redraw does not compete with the next."""
    old = stamp(page)
    t0 = page.evaluate("performance.now()")
    action()
    ms = page.wait_for_function(
        REDRAWN, arg=[CHARTS, old, t0, charts], timeout=120_000
    ).json_value()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.bsim-summary')].every(e => e.dataset.complete === '1')",
        timeout=120_000,
    )
    return ms


def press(page, label: str, key: str):
    slider = page.get_by_role("slider", name=label, exact=True)
    return lambda: (slider.focus(), page.keyboard.press(key))


def keys(repeats: int) -> list[str]:
    """Alternate right and left: every press is a new value, so a new ensemble."""
    return ["ArrowRight" if i % 4 < 2 else "ArrowLeft" for i in range(repeats)]


def ensemble_alone(seeds: int, repeats: int) -> list[float]:
    """The ensemble on the batch engine in this process, new levels each time (ms)."""
    from sim.viz import ensemble

    ensemble.run_ensemble(ensemble.Settings(seeds=seeds))  # loads the configs once
    out = []
    for i in range(repeats):
        s = ensemble.Settings(seeds=seeds).with_levels({"cn_coercion": 0.3 + 0.01 * (i + 1)})
        t = time.perf_counter()
        ensemble.run_ensemble(s)
        out.append((time.perf_counter() - t) * 1000)
    return out


def chart_counts() -> tuple[int, int, int]:
    """Charts of the ensemble, compare and single-run views (from the app's panels)."""
    from sim.catalog import load_calibration
    from sim.viz import charts

    panels = len(charts.panels(load_calibration("article").firm_names))
    return panels + 2, 2 * (panels - 1) + 2, panels


def run(repeats: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    n_ens, n_cmp, n_single = chart_counts()

    times: dict[str, list[float]] = {}
    proc, url = start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url)
            page.wait_for_function(
                "([s, n]) => document.querySelectorAll(s + '[data-stamp]').length >= n",
                arg=[CHARTS, n_ens],
                timeout=120_000,
            )
            for seeds in ("200", "500", "1000"):
                redraw(
                    page,
                    lambda s=seeds: page.get_by_role("button", name=s, exact=True).click(),
                    n_ens,
                )
                times[f"slider, ensemble of {seeds} seeds"] = [
                    redraw(page, press(page, "China's coercion", k), n_ens) for k in keys(repeats)
                ]
            redraw(page, lambda: page.get_by_role("button", name="500", exact=True).click(), n_ens)
            times["noise toggle (500 seeds)"] = [
                redraw(page, lambda n=n: page.get_by_role("button", name=n).click(), n_ens)
                for n in ["near best response", "calibrated"] * max(1, repeats // 2)
            ]
            page.get_by_role("button", name="Compare", exact=True).click()
            page.wait_for_function(
                "([s, n]) => document.querySelectorAll(s + '[data-stamp]').length >= n",
                arg=[CHARTS, n_cmp],
                timeout=120_000,
            )
            times["slider, compare view (2 x 500 seeds)"] = [
                redraw(page, press(page, "China's coercion", k), n_cmp) for k in keys(repeats)
            ]
            page.get_by_role("button", name="Single run", exact=True).click()
            page.wait_for_function(
                "([s, n]) => document.querySelectorAll(s + '[data-stamp]').length >= n",
                arg=[CHARTS, n_single],
                timeout=120_000,
            )
            step = page.get_by_role("button", name="Step")
            times["Step, single run (Mesa model)"] = [
                redraw(page, step.click, n_single) for _ in range(repeats)
            ]
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=8, help="redraws timed per case")
    ap.add_argument("--out", default="results/bench/app.json")
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} missing: run scripts/setup_browser.sh", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    alone = ensemble_alone(500, args.repeats)
    times = run(args.repeats)
    times["ensemble alone, 500 seeds (no page)"] = alone
    load_after = os.getloadavg()
    print(
        f"\nApp redraw times in Chromium, from the action to the last chart drawn "
        f"({os.cpu_count()} cores; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after)\n"
    )
    print(f"{'case':<42} {'n':>3} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    summary = {}
    for case, values in times.items():
        med = statistics.median(values)
        summary[case] = {
            "median_ms": med,
            "min_ms": min(values),
            "max_ms": max(values),
            "values_ms": values,
        }
        print(f"{case:<42} {len(values):>3} {med:>10.0f} {min(values):>8.0f} {max(values):>8.0f}")
    out = Path(args.out)
    out = out if out.is_absolute() else REPO_ROOT / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"load_average": [load_before, load_after], "cases": summary}, indent=2)
    )
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
