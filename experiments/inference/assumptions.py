"""The uncertain assumptions as one parameter vector shared by several calibrations.

Every calibration entry (firm entries included) whose provenance is ``assumption`` in one of
the calibrations of the inference is one parameter
(:func:`sim.sweep.design.assumption_names`: the compliance grid's resolution is a numerical
setting, not an assumption, and is left out). Its prior is **uniform over the calibration's
range**. A parameter is carried as ``u``, its place in that range (0 = low end, 1 = high
end), and enters every calibration in which the entry is an assumption at the same place in
*that* calibration's range: where the calibrations give the same range (most entries) this is
the same value in each; where a calibration scales the assumption to its own economy (the
alliance value, the input-disruption cost, diversification spend and budget, the values of a
unit of compliance, Japan's 2010 prior that China coerces), it is the same value relative to
that scale. An entry that is not an assumption in a calibration (a figure with a source) is
left at its value there.

Whole-number entries (quarters) take each whole number of their range with equal prior
probability. One constraint joins entries: the dependence floor cannot exceed the starting
dependence (:func:`sim.core.params.build_params` refuses it); draws that break it in any
calibration of the space are outside the prior's support.

The sampler works on ``z = Φ⁻¹(u)``, a standard normal per parameter, so that its kernel can
never propose a value outside a range (:class:`~experiments.inference.fit.Prior`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from sim.core.calibration import Calibration
from sim.sweep.design import assumption_names, is_integer_param


@dataclass(frozen=True)
class Assumption:
    """One parameter: a calibration entry (or ``firms.<firm>.<entry>``)."""

    name: str
    integer: bool
    #: The calibration whose units report it (the first of the space that assumes it).
    reference: str

    @property
    def key(self) -> str:
        """A name pyabc can store (no dots)."""
        return self.name.replace(".", "__")


def entry_of(calibration: Calibration, name: str):
    """The calibration's entry ``name`` (or firm entry ``firms.<firm>.<entry>``), None if absent."""
    if name.startswith("firms."):
        _, firm, entry = name.split(".")
        return calibration.firms.get(firm, {}).get(entry)
    return calibration.entries.get(name)


def assumed_range(calibration: Calibration, name: str) -> tuple[float, float] | None:
    """The range of ``name`` if it is an assumption of ``calibration``, else None."""
    e = entry_of(calibration, name)
    if e is None or e.source_kind != "assumption" or e.range is None:
        return None
    return e.range


def place_to_value(u: np.ndarray, low: float, high: float, integer: bool) -> np.ndarray:
    """Values at places ``u`` (0-1) of ``[low, high]``; whole numbers equally likely if ``integer``."""
    u = np.asarray(u, dtype=np.float64)
    if not integer:
        return low + u * (high - low)
    lo, hi = math.ceil(low), math.floor(high)
    return lo + np.minimum(np.floor(u * (hi - lo + 1)), hi - lo)


def value_to_place(v: np.ndarray, low: float, high: float, integer: bool) -> np.ndarray:
    """The place in ``[low, high]`` of values ``v`` (a whole number: the middle of its share)."""
    v = np.asarray(v, dtype=np.float64)
    if not integer:
        return (v - low) / (high - low) if high > low else np.full_like(v, 0.5)
    lo, hi = math.ceil(low), math.floor(high)
    return (v - lo + 0.5) / (hi - lo + 1)


@dataclass(frozen=True)
class AssumptionSpace:
    """The parameters of an inference and the calibrations they enter."""

    assumptions: tuple[Assumption, ...]
    calibrations: Mapping[str, Calibration]

    @classmethod
    def of(cls, calibrations: Sequence[Calibration]) -> AssumptionSpace:
        """Every assumption of ``calibrations`` (in their order, each once)."""
        seen: dict[str, Assumption] = {}
        for cal in calibrations:
            for name in assumption_names(cal):
                if name not in seen:
                    seen[name] = Assumption(name, is_integer_param(name), cal.name)
        return cls(tuple(seen.values()), {c.name: c for c in calibrations})

    @property
    def names(self) -> list[str]:
        """Parameter names, in order."""
        return [a.name for a in self.assumptions]

    @property
    def keys(self) -> list[str]:
        """pyabc's names of the parameters, in order."""
        return [a.key for a in self.assumptions]

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.assumptions)

    def overrides(self, calibration: Calibration, u: np.ndarray) -> dict[str, np.ndarray]:
        """Per-world overrides of ``calibration`` for draws ``u`` ``(K, dim)``.

        Only entries that are assumptions of ``calibration`` are overridden (at the draw's
        place in that calibration's range); any calibration may be given, not only those of
        the space (the headline results use the article's).
        """
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        out: dict[str, np.ndarray] = {}
        for j, a in enumerate(self.assumptions):
            rng = assumed_range(calibration, a.name)
            if rng is not None:
                out[a.name] = place_to_value(u[:, j], rng[0], rng[1], a.integer)
        return out

    def valid(self, u: np.ndarray, extra: Sequence[Calibration] = ()) -> np.ndarray:
        """Per draw: True if the floor stays at or below the dependence in every calibration."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        ok = np.ones(len(u), dtype=bool)
        for cal in [*self.calibrations.values(), *extra]:
            floor = self._entry_values(cal, "dependence_floor", u)
            dep = self._entry_values(cal, "rare_earth_dependence", u)
            ok &= floor <= dep
        return ok

    def _entry_values(self, calibration: Calibration, name: str, u: np.ndarray) -> np.ndarray:
        """Entry ``name`` of ``calibration`` for draws ``u`` (its value if not a parameter)."""
        rng = assumed_range(calibration, name)
        if rng is None or name not in self.names:
            return np.full(len(u), calibration.value(name))
        j = self.names.index(name)
        return place_to_value(u[:, j], rng[0], rng[1], self.assumptions[j].integer)

    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws ``u`` from the prior (uniform places, the constraint by rejection)."""
        out = np.empty((0, self.dim))
        while len(out) < n:
            u = rng.random((n, self.dim))
            out = np.vstack([out, u[self.valid(u)]])
        return out[:n]

    def reference_values(self, u: np.ndarray) -> pd.DataFrame:
        """Draws ``u`` as values in each parameter's reference calibration (one column each)."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        cols = {}
        for j, a in enumerate(self.assumptions):
            rng = assumed_range(self.calibrations[a.reference], a.name)
            assert rng is not None
            cols[a.name] = place_to_value(u[:, j], rng[0], rng[1], a.integer)
        return pd.DataFrame(cols)

    def reference_range(self, name: str) -> tuple[float, float]:
        """The prior range of ``name`` in its reference calibration."""
        a = self.assumptions[self.names.index(name)]
        rng = assumed_range(self.calibrations[a.reference], name)
        assert rng is not None
        return rng

    def reference_default(self, name: str) -> float:
        """The value ``name`` has in its reference calibration (the fixed value)."""
        a = self.assumptions[self.names.index(name)]
        e = entry_of(self.calibrations[a.reference], name)
        assert e is not None
        return float(e.value)

    def default_places(self, calibration: Calibration) -> np.ndarray:
        """The places ``u`` of ``calibration``'s own values (NaN where it does not assume)."""
        out = np.full(self.dim, np.nan)
        for j, a in enumerate(self.assumptions):
            rng = assumed_range(calibration, a.name)
            e = entry_of(calibration, a.name)
            if rng is not None and e is not None:
                out[j] = value_to_place(np.array(e.value), rng[0], rng[1], a.integer)
        return out


def to_normal(u: np.ndarray) -> np.ndarray:
    """``z = Φ⁻¹(u)``: the sampler's coordinates."""
    return ndtri(np.clip(np.asarray(u, dtype=np.float64), 1e-15, 1 - 1e-15))


def to_place(z: np.ndarray) -> np.ndarray:
    """``u = Φ(z)``: places in the ranges."""
    return ndtr(np.asarray(z, dtype=np.float64))
