"""Rewrite the generated tables in docs/ODD.md from the code (the registry and the calibrations).

    python -m experiments.odd_tables [--check]

The ODD's scenario-parameter table (between ``<!-- parameter-table:start/end -->``) comes from
:func:`sim.core.registry.parameter_table_markdown`, its calibration table (between
``<!-- calibration-table:start/end -->``) from
:func:`sim.core.calibration.calibration_table_markdown` over the ``article`` and ``corrected``
calibrations. ``--check`` changes nothing and exits 1 if either is out of date
(``tests/test_calibration.py`` checks the same).
"""

from __future__ import annotations

import argparse
import sys

from experiments import REPO_ROOT
from sim.catalog import load_calibration
from sim.core.calibration import calibration_table_markdown
from sim.core.registry import parameter_table_markdown
from sim.sweep.storage import atomic_write_text

ODD = REPO_ROOT / "docs" / "ODD.md"


def _replace(text: str, marker: str, table: str) -> str:
    """``text`` with the block between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` set to ``table``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"error: {ODD}: markers {start} / {end} not found")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{start}\n{table}\n{end}{tail}"


def render(text: str) -> str:
    """The ODD text with both generated tables brought up to date."""
    text = _replace(text, "parameter-table", parameter_table_markdown())
    tables = calibration_table_markdown(load_calibration("article"), load_calibration("corrected"))
    return _replace(text, "calibration-table", tables)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a table is out of date")
    args = ap.parse_args(argv)
    text = ODD.read_text()
    new = render(text)
    if new == text:
        print(f"{ODD.relative_to(REPO_ROOT)}: tables up to date")
        return 0
    if args.check:
        print(f"{ODD.relative_to(REPO_ROOT)}: generated tables out of date", file=sys.stderr)
        return 1
    atomic_write_text(ODD, new)
    print(f"{ODD.relative_to(REPO_ROOT)}: tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
