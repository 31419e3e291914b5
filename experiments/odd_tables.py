"""Rewrite the generated tables in docs/ODD.md from the code (the registry and the calibrations).

    python -m experiments.odd_tables [--check]

The ODD's scenario-parameter table (between ``<!-- parameter-table:start/end -->``) comes from
:func:`sim.core.registry.parameter_table_markdown`, its calibration table (between
``<!-- calibration-table:start/end -->``) from
:func:`sim.core.calibration.calibration_table_markdown` over the ``article`` and ``corrected``
calibrations; the scenario guide's tables (docs/scenarios.md) from the registry's instruments,
timeline fields and scenario parameters. ``--check`` changes nothing and exits 1 if either is out of date
(``tests/test_calibration.py`` checks the same).
"""

from __future__ import annotations

import argparse
import sys

from experiments import REPO_ROOT
from sim.catalog import load_calibration
from sim.core.calibration import calibration_table_markdown
from sim.core.registry import instrument_table_markdown, parameter_table_markdown
from sim.sweep.storage import atomic_write_text

ODD = REPO_ROOT / "docs" / "ODD.md"
SCENARIOS = REPO_ROOT / "docs" / "scenarios.md"


def _replace(text: str, marker: str, table: str) -> str:
    """``text`` with the block between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` set to ``table``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"error: markers {start} / {end} not found")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{start}\n{table}\n{end}{tail}"


def render(text: str) -> str:
    """The ODD text with both generated tables brought up to date."""
    text = _replace(text, "parameter-table", parameter_table_markdown())
    tables = calibration_table_markdown(load_calibration("article"), load_calibration("corrected"))
    return _replace(text, "calibration-table", tables)


def render_scenarios(text: str) -> str:
    """The scenario guide with its instrument and parameter tables brought up to date."""
    text = _replace(text, "instrument-table", instrument_table_markdown())
    return _replace(text, "parameter-table", parameter_table_markdown())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a table is out of date")
    args = ap.parse_args(argv)
    stale = 0
    for path, rendering in ((ODD, render), (SCENARIOS, render_scenarios)):
        text = path.read_text()
        new = rendering(text)
        if new == text:
            print(f"{path.relative_to(REPO_ROOT)}: tables up to date")
        elif args.check:
            print(f"{path.relative_to(REPO_ROOT)}: generated tables out of date", file=sys.stderr)
            stale = 1
        else:
            atomic_write_text(path, new)
            print(f"{path.relative_to(REPO_ROOT)}: tables rewritten")
    return stale


if __name__ == "__main__":
    sys.exit(main())
