"""The paper figures, one module per figure kind, and the helpers they share.

Kinds (each module exposes ``KIND``, a :class:`~experiments.figures.kind.FigureKind` with the
kind's config keys, data builder, drawer and README writer; see :mod:`.kind`):
:mod:`.trajectories`, :mod:`.phase_diagram`, :mod:`.tipping_points`, :mod:`.survival`,
:mod:`.firms`, :mod:`.calibration_contours`, :mod:`.sobol`, :mod:`.posterior_headline`.

Shared helpers, one concept each: :mod:`.style` (palette, rc, colours per scenario /
calibration / firm, saving), :mod:`.labels` (readable names of scenarios, calibrations, firms
and parameters), :mod:`.sweeps` (running designs in-process, seeds, parameter columns),
:mod:`.grids` (the breakdown grid over two parameters: table, lookup, heatmap) and
:mod:`.text` (number formatting for the README).

:func:`kinds` is the one registry: it imports every module of this package and collects
their ``KIND``; a new kind is a new module here (and a config in ``configs/paper/``).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from experiments.figures.kind import FigureKind


@functools.cache
def kinds() -> dict[str, FigureKind]:
    """Every figure kind of this package by name (the modules that define ``KIND``)."""
    found: dict[str, FigureKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if kind is None:
            continue
        if not isinstance(kind, FigureKind) or kind.name != info.name:
            raise TypeError(f"{module.__name__}.KIND must be a FigureKind named {info.name!r}")
        found[kind.name] = kind
    return found
