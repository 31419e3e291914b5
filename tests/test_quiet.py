"""Quiet by default: the project's own --help, no Hydra banners or folders, no per-connection
warnings from the app's server."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _sim(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env_path = {"PYTHONPATH": str(REPO)}
    import os

    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env_path},
    )


def test_help_is_the_projects_own():
    proc = _sim("--help")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "powered by Hydra" not in out and "== Config ==" not in out
    for text in ("usage:", "+experiment=", "config groups", "examples/tariff_deal_2025", "seed="):
        assert text in out, text
    assert "deal_timing" in out and "parallel" in out


def test_runs_print_their_outcome_and_nothing_of_hydras(tmp_path):
    proc = _sim(
        "-m",
        "scenario=baseline,no_lobbying",
        "rounds=2",
        f"output_dir={tmp_path}/runs",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[HYDRA]" not in proc.stdout + proc.stderr and proc.stderr.strip() == ""
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("wrote ")
    assert not (tmp_path / "multirun").exists() and not (tmp_path / "outputs").exists()


def test_the_app_silences_solaras_per_connection_cookie_warning():
    import inspect

    from sim.viz import app

    # Installed when the server imports the app (pytest resets filters between tests).
    assert "\nsilence_cookie_warning()\n" in inspect.getsource(app)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app.silence_cookie_warning()
        warnings.warn(
            "Cookies with samesite=none require https, but according to the asgi framework",
            UserWarning,
            stacklevel=1,
        )
    assert caught == []
