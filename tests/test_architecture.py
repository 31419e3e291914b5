"""The import contracts of pyproject.toml ([tool.importlinter]) hold: ``lint-imports`` passes.

The layers of :mod:`sim` (cli | viz, sweep, engine, catalog, core), a core free of Hydra,
OmegaConf, Mesa and Solara, Hydra only in the command line and the catalog, no module importing
both Mesa and Hydra, and no import of the ``experiments`` scripts from the package.
"""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint_imports = Path(sysconfig.get_path("scripts")) / "lint-imports"
    assert lint_imports.exists(), "lint-imports is missing: pip install -e '.[dev]'"
    # lint-imports puts the current directory first on sys.path: this checkout is analysed.
    proc = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout, proc.stdout


def test_the_package_type_checks():
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
