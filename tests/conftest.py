"""Shared fixtures: calibrations and scenarios loaded once per session."""

from __future__ import annotations

import pytest

from sim.catalog import load_calibration, load_scenario, scenario_names

SCENARIOS = scenario_names()


@pytest.fixture(scope="session")
def article():
    return load_calibration("article")


@pytest.fixture(scope="session")
def corrected():
    return load_calibration("corrected")


@pytest.fixture(scope="session")
def scenarios():
    return {name: load_scenario(name) for name in SCENARIOS}
