"""What a figure kind is: its config keys, data builder, drawer and README writer.

Every module of :mod:`experiments.figures` that draws a kind of paper figure ends with one
module-level constant::

    KIND = FigureKind(
        name="phase_diagram",              # = the module's name = ``kind:`` in a config
        required={"scenario", "sweep", ...},
        optional={"calibration"},
        build=build,                       # config -> FigureData (the tidy table)
        draw=draw,                         # (table as written, config) -> matplotlib Figure
        describe=describe,                 # (table as written, config) -> README sentences
    )

and :func:`experiments.figures.kinds` finds it. The pipeline (:mod:`experiments.paper`) does
the rest: it checks a config's keys against ``required``/``optional`` (plus the keys every
figure has, :data:`COMMON_KEYS`), writes the builder's table as CSV, reads it back, draws it
inside :func:`experiments.figures.style.paper_style` and saves PNG and PDF, and puts the
caption and the writer's sentences in the README.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

#: Keys every figure config has (``small`` optional, the others required).
COMMON_KEYS = frozenset({"number", "kind", "title", "caption", "rounds", "small"})


@dataclass
class FigureData:
    """A figure's tidy table, the unit of each column, and how it was computed."""

    table: pd.DataFrame
    units: dict[str, str]
    runs: int
    seeds: dict[str, Any]
    designs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in self.table.columns if c not in self.units]
        if missing:
            raise ValueError(f"columns without a unit: {missing}")


Config = Mapping[str, Any]


@dataclass(frozen=True)
class FigureKind:
    """One kind of paper figure, declared once in its own module."""

    name: str
    required: frozenset[str]
    optional: frozenset[str]
    build: Callable[[Config], FigureData]
    draw: Callable[[pd.DataFrame, Config], Figure]
    describe: Callable[[pd.DataFrame, Config], str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", frozenset(self.required))
        object.__setattr__(self, "optional", frozenset(self.optional))
        clash = (self.required | self.optional) & COMMON_KEYS
        if clash:
            raise ValueError(f"kind {self.name}: {sorted(clash)} are common keys")

    @property
    def allowed(self) -> frozenset[str]:
        """Every key a config of this kind may have."""
        return COMMON_KEYS | self.required | self.optional
