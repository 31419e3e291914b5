"""The version comes from git tags (setuptools-scm), and the project says how to cite it."""

from __future__ import annotations

import inspect
import subprocess
import tomllib
from pathlib import Path

import yaml

import sim.sweep.storage as storage

REPO = Path(__file__).resolve().parents[1]


def test_citation_file_is_valid_cff():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type"):
        assert cff[key], key
    assert all("name" in a or "family-names" in a for a in cff["authors"])


def test_the_version_is_read_from_git_by_setuptools_scm():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert "version" not in project["project"]
    assert any(r.startswith("setuptools-scm") for r in project["build-system"]["requires"])
    assert "setuptools_scm" in project["tool"]
    assert "subprocess" not in inspect.getsource(storage)  # no hand-written git call


def test_a_checkout_records_its_commit():
    sha = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    version = storage.code_version()
    assert sha and f"+g{sha}" in version, version
