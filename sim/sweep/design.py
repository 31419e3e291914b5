"""Experiment designs: full-factorial grids, Latin hypercubes and Sobol samples (no Hydra).

A :class:`Design` is a table of *points*, one row per parameter combination. Its numeric
columns are parameter names exactly as :func:`sim.core.params.build_params` accepts them as
overrides (``us_tariff_level``, ``escalation.us_security_pressure``, ``alliance_value``,
``firms.toyota.china_profit_share``, ...); two categorical axes, ``scenario`` and
``calibration``, take names of files in ``configs/``. Latin-hypercube and Sobol samples come
from SALib (``SALib.sample.latin`` / ``SALib.sample.sobol``), never from a hand-written sampler.
:func:`run_table` crosses the points with replicate seeds; :func:`chunk_bounds` cuts the runs
into contiguous chunks (one Hydra job each).
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.calibration import Calibration
from sim.core.constraints import SEED_MAX, Integer, Real, check_seed
from sim.core.errors import ConfigError
from sim.core.params import varied_names as numeric_names
from sim.core.registry import (
    CALIBRATION_ENTRIES,
    NUMERICAL_ENTRIES,
    canonical,
    scenario_parameter,
)
from sim.core.scenario import Scenario

#: Axes that take names (of configs/scenario/*.yaml and configs/calibration/*.yaml), not numbers.
CATEGORICAL_AXES = ("scenario", "calibration")
DESIGN_KINDS = ("grid", "lhs", "sobol")
#: Digits kept for grid values, so that 0.05 * 3 is stored as 0.15 (cells match exactly).
_DIGITS = 12


@dataclass(frozen=True)
class Axis:
    """A grid axis: the parameter it varies and its values, in order."""

    label: str
    param: str
    values: tuple[Any, ...]

    @property
    def categorical(self) -> bool:
        """True for the ``scenario`` and ``calibration`` axes (names, not numbers)."""
        return self.param in CATEGORICAL_AXES


@dataclass(frozen=True)
class ParamRange:
    """A sampled parameter and its bounds (``integer``: rounded after sampling, e.g. quarters)."""

    param: str
    low: float
    high: float
    integer: bool = False


@dataclass
class Design:
    """Points of an experiment: ``points`` has one row per point, in design order."""

    kind: str
    points: pd.DataFrame
    axes: tuple[Axis, ...] = ()
    ranges: tuple[ParamRange, ...] = ()
    samples: int = 0
    second_order: bool = False
    design_seed: int = 0
    problem: dict | None = field(default=None, repr=False)

    @property
    def params(self) -> tuple[str, ...]:
        """Numeric parameters the design varies (columns of ``points``)."""
        if self.kind == "grid":
            return tuple(a.param for a in self.axes if not a.categorical)
        return tuple(r.param for r in self.ranges)

    def describe(self) -> dict:
        """The design as plain JSON-able data (what a sweep's identity hash covers)."""
        out: dict[str, Any] = {"kind": self.kind, "points": len(self.points)}
        if self.kind == "grid":
            out["axes"] = [{"param": a.param, "values": list(a.values)} for a in self.axes]
        else:
            out["parameters"] = [
                {"param": r.param, "low": r.low, "high": r.high, "integer": r.integer}
                for r in self.ranges
            ]
            out.update(samples=self.samples, design_seed=self.design_seed)
            if self.kind == "sobol":
                out["second_order"] = self.second_order
        return out


def varied_names(calibration: Calibration, scenario: Scenario | None = None) -> list[str]:
    """Every name a sweep may vary with this calibration (scenario axes, levels, the scenario's
    timeline fields, entries, firm entries)."""
    return [*CATEGORICAL_AXES, *numeric_names(calibration, scenario)]


def check_param(
    key: str, param: Any, calibration: Calibration, scenario: Scenario | None = None
) -> str:
    """``param`` (its current name) if a sweep may vary it, else a one-line :class:`ConfigError`.

    Old names (``escalation.us_tariff_level``) are accepted and returned under the new ones.
    """
    if not isinstance(param, str) or not param:
        raise ConfigError(key, f"expected a parameter name, got {param!r}")
    param = canonical(param)
    known = varied_names(calibration, scenario)
    if param not in known and param.startswith("timeline.") and scenario is not None:
        events = ", ".join(scenario.timeline) or "none"
        raise ConfigError(
            key,
            f"unknown parameter {param!r}: vary timeline.<event>.<level|from|quarters|ramp> of "
            f"an event of scenario {scenario.name!r} (its events: {events})",
        )
    if param not in known:
        close = difflib.get_close_matches(param, known, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            key,
            f"unknown parameter {param!r}{hint}; vary a scenario level, a calibration entry "
            f"or firms.<firm>.<entry>",
        )
    return param


_NUMBER = Real()
_COUNT = Integer(1, None)
_SAMPLES = Integer(2, 2**24, what="a whole number of samples")


class DesignTooLarge(ConfigError):
    """A design with more points than allowed (found before the points are built)."""

    def __init__(self, key: str, points: int, at_least: bool = False) -> None:
        self.points = points
        self.at_least = at_least
        more = "at least " if at_least else ""
        super().__init__(key, f"{more}{points:,} design points, too many")


def _check_size(key: str, points: int, max_points: int | None, at_least: bool = False) -> None:
    if max_points is not None and points > max_points:
        raise DesignTooLarge(key, points, at_least)


def _number(key: str, v: Any) -> float:
    return _NUMBER.check(key, v)


def is_integer_param(param: str) -> bool:
    """True for parameters that take whole numbers (quarters, rounds)."""
    if (declared := scenario_parameter(param)) is not None:
        return declared.integer
    kind = CALIBRATION_ENTRIES.get(param)
    return kind is not None and isinstance(kind.constraint, Integer)


#: Keys of one axis and of one sampled parameter (as in sim.cli.schema's AxisConfig and
#: ParamRangeConfig; a test keeps them in step).
AXIS_KEYS = ("param", "values", "start", "stop", "num", "step")
PARAM_KEYS = ("param", "low", "high")


def check_keys(key: str, spec: Mapping[str, Any], known: Sequence[str]) -> None:
    """One line naming the first key of ``spec`` not in ``known`` (with a hint)."""
    for k in spec:
        if k not in known:
            close = difflib.get_close_matches(str(k), list(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{key}.{k}", f"unknown key{hint}")


def axis_from_spec(
    label: str,
    spec: Mapping[str, Any],
    calibration: Calibration,
    max_points: int | None = None,
    scenario: Scenario | None = None,
) -> Axis:
    """Parse one ``sweep.axes.<label>`` mapping (values, or start/stop with num or step).

    An axis longer than ``max_points`` raises :class:`DesignTooLarge` before its values are
    built (a step of 1e-12 would otherwise take all the memory there is). Names are checked
    against ``calibration`` and the timeline of ``scenario``.
    """
    key = f"sweep.axes.{label}"
    if not isinstance(spec, Mapping):
        raise ConfigError(key, "expected a mapping with values, or start/stop/num")
    check_keys(key, spec, AXIS_KEYS)
    param = check_param(f"{key}.param", spec.get("param") or label, calibration, scenario)
    values = spec.get("values")
    ranged = {k: spec.get(k) for k in ("start", "stop", "num", "step") if spec.get(k) is not None}
    if values is not None:
        if ranged:
            raise ConfigError(
                key, f"give either values or start/stop, not both ({', '.join(ranged)})"
            )
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise ConfigError(f"{key}.values", f"expected a list, got {values!r}")
        if len(values) == 0:
            raise ConfigError(f"{key}.values", "empty: an axis needs at least one value")
        if param in CATEGORICAL_AXES:
            vals = tuple(values)
            for v in vals:
                if not isinstance(v, str) or not v:
                    raise ConfigError(f"{key}.values", f"expected {param} names, got {v!r}")
        else:
            vals = tuple(_number(f"{key}.values", v) for v in values)
    else:
        if param in CATEGORICAL_AXES:
            raise ConfigError(f"{key}.values", f"a {param} axis needs a list of names")
        if "start" not in ranged or "stop" not in ranged:
            raise ConfigError(key, "needs values, or start and stop with num or step")
        start = _number(f"{key}.start", ranged["start"])
        stop = _number(f"{key}.stop", ranged["stop"])
        if ("num" in ranged) == ("step" in ranged):
            raise ConfigError(key, "give exactly one of num and step with start/stop")
        if stop < start:
            raise ConfigError(key, f"empty range: stop {stop:g} is below start {start:g}")
        if "num" in ranged:
            num = _COUNT.check(f"{key}.num", ranged["num"])
            if num == 1 and stop != start:
                raise ConfigError(f"{key}.num", "num 1 needs start == stop (use values: [x])")
            _check_size(f"{key}.num", num, max_points, at_least=True)
            grid: np.ndarray = np.linspace(start, stop, num)
        else:
            step = _number(f"{key}.step", ranged["step"])
            if step <= 0:
                raise ConfigError(f"{key}.step", f"empty range: step must be > 0, got {step:g}")
            span = (stop - start) / step + 1e-9
            n = int(math.floor(span)) + 1 if math.isfinite(span) else 2**63
            _check_size(f"{key}.step", n, max_points, at_least=True)
            grid = start + step * np.arange(n)
        vals = tuple(float(v) for v in np.round(grid, _DIGITS))
    if len(set(vals)) != len(vals):
        raise ConfigError(f"{key}.values", "repeated values")
    return Axis(label=str(label), param=param, values=vals)


def grid_design(axes: Sequence[Axis], max_points: int | None = None) -> Design:
    """Full factorial over ``axes`` (the first axis varies slowest)."""
    if not axes:
        raise ConfigError("sweep.axes", "a grid design needs at least one axis")
    params = [a.param for a in axes]
    dup = {p for p in params if params.count(p) > 1}
    if dup:
        raise ConfigError("sweep.axes", f"parameter {sorted(dup)[0]!r} is on two axes")
    _check_size("sweep.axes", math.prod(len(a.values) for a in axes), max_points)
    rows = list(itertools.product(*(a.values for a in axes)))
    points = pd.DataFrame(rows, columns=params)
    for a in axes:
        points[a.param] = points[a.param].astype(object if a.categorical else "float64")
    return Design(kind="grid", points=points, axes=tuple(axes))


def entry_range(param: str, calibration: Calibration) -> tuple[float, float] | None:
    """The assumption range of a calibration entry or firm entry, None if it has none."""
    if param in calibration.entries:
        return calibration.entries[param].range
    if (declared := scenario_parameter(param)) is not None:
        return declared.bounds
    if param.startswith("firms.") and param.count(".") == 2:
        _, firm, entry = param.split(".")
        if firm in calibration.firms and entry in calibration.firms[firm]:
            return calibration.firms[firm][entry].range
    return None


def assumption_names(calibration: Calibration) -> list[str]:
    """Every entry (firm entries included) whose provenance is ``assumption``, in file order.

    Numerical settings (the compliance grid's resolution) are not assumptions about the world
    and are left out.
    """
    return [
        k
        for k, _, e in calibration.items()
        if e.source_kind == "assumption" and k not in NUMERICAL_ENTRIES
    ]


def uncertain_names(calibration: Calibration) -> list[str]:
    """Every entry with a range, whatever its provenance (the article's figures, external
    figures and assumptions), in file order; numerical settings left out."""
    return [
        k for k, _, e in calibration.items() if e.range is not None and k not in NUMERICAL_ENTRIES
    ]


def param_ranges(
    specs: Sequence[Mapping[str, Any]],
    calibration: Calibration,
    assumptions: bool = False,
    uncertain: bool = False,
    scenario: Scenario | None = None,
) -> tuple[ParamRange, ...]:
    """Bounds of the sampled parameters: explicit ``low``/``high`` or the calibration's range.

    ``assumptions`` adds every assumption; ``uncertain`` every entry with a range.
    """
    out: list[ParamRange] = []
    seen: set[str] = set()
    items = [(f"sweep.parameters[{i}]", dict(s)) for i, s in enumerate(specs)]
    for flag, key, names in (
        (assumptions, "sweep.assumptions", assumption_names),
        (uncertain, "sweep.uncertain", uncertain_names),
    ):
        if flag:
            listed = {s.get("param") for _, s in items}
            items += [(f"{key} ({n})", {"param": n}) for n in names(calibration) if n not in listed]
    for key, spec in items:
        check_keys(key, spec, PARAM_KEYS)
        param = check_param(f"{key}.param", spec.get("param"), calibration, scenario)
        if param in CATEGORICAL_AXES:
            raise ConfigError(f"{key}.param", f"{param} cannot be sampled (use a grid axis)")
        if param in seen:
            raise ConfigError(f"{key}.param", f"{param!r} is listed twice")
        seen.add(param)
        low, high = spec.get("low"), spec.get("high")
        if low is None or high is None:
            rng = entry_range(param, calibration)
            if rng is None:
                raise ConfigError(
                    key, f"{param!r} has no assumption range in the calibration: give low and high"
                )
            low = rng[0] if low is None else low
            high = rng[1] if high is None else high
        low, high = _number(f"{key}.low", low), _number(f"{key}.high", high)
        if not low < high:
            raise ConfigError(key, f"empty range: low {low:g} must be below high {high:g}")
        integer = is_integer_param(param)
        if integer and math.floor(high) < math.ceil(low):
            raise ConfigError(key, f"empty range: no whole number in [{low:g}, {high:g}]")
        out.append(ParamRange(param, low, high, integer))
    if not out:
        raise ConfigError("sweep.parameters", "an lhs/sobol design needs at least one parameter")
    return tuple(out)


def salib_problem(ranges: Sequence[ParamRange]) -> dict:
    """The SALib problem dict (names and bounds) for these parameters."""
    return {
        "num_vars": len(ranges),
        "names": [r.param for r in ranges],
        "bounds": [[r.low, r.high] for r in ranges],
    }


def _sampled_points(sample: np.ndarray, ranges: Sequence[ParamRange]) -> pd.DataFrame:
    cols = {}
    for j, r in enumerate(ranges):
        v = np.asarray(sample[:, j], dtype=np.float64)
        if r.integer:  # whole numbers (quarters), kept inside the bounds
            v = np.clip(np.round(v), math.ceil(r.low), math.floor(r.high))
        cols[r.param] = v
    return pd.DataFrame(cols)


def lhs_design(
    ranges: Sequence[ParamRange], samples: int, seed: int = 0, max_points: int | None = None
) -> Design:
    """Latin-hypercube sample of ``samples`` points (``SALib.sample.latin``)."""
    from SALib.sample import latin

    samples = _SAMPLES.check("sweep.samples", samples)
    seed = check_seed("sweep.design_seed", seed)
    _check_size("sweep.samples", samples, max_points)
    problem = salib_problem(ranges)
    sample = latin.sample(problem, samples, seed=seed)
    return Design(
        kind="lhs",
        points=_sampled_points(sample, ranges),
        ranges=tuple(ranges),
        samples=samples,
        design_seed=seed,
        problem=problem,
    )


def sobol_design(
    ranges: Sequence[ParamRange],
    samples: int,
    seed: int = 0,
    second_order: bool = False,
    max_points: int | None = None,
) -> Design:
    """Saltelli/Sobol sample with base size ``samples`` (a power of 2; ``SALib.sample.sobol``)."""
    from SALib.sample import sobol

    samples = _SAMPLES.check("sweep.samples", samples)
    seed = check_seed("sweep.design_seed", seed)
    if samples & (samples - 1):
        raise ConfigError(
            "sweep.samples", f"a sobol design needs a power of 2 >= 2, got {samples!r}"
        )
    d = len(ranges)
    _check_size("sweep.samples", samples * (2 * d + 2 if second_order else d + 2), max_points)
    problem = salib_problem(ranges)
    sample = sobol.sample(
        problem, samples, calc_second_order=second_order, scramble=True, seed=seed
    )
    return Design(
        kind="sobol",
        points=_sampled_points(sample, ranges),
        ranges=tuple(ranges),
        samples=samples,
        second_order=second_order,
        design_seed=seed,
        problem=problem,
    )


def design_from_spec(
    spec: Mapping[str, Any],
    calibration: Calibration,
    max_points: int | None = None,
    scenario: Scenario | None = None,
) -> Design:
    """Build the design a ``sweep`` section describes (names checked against ``calibration``
    and the timeline of ``scenario``).

    A design of more than ``max_points`` points raises :class:`DesignTooLarge` before its
    points are built.
    """
    kind = spec.get("design", "grid")
    if kind not in DESIGN_KINDS:
        raise ConfigError(
            "sweep.design", f"unknown design {kind!r} (choose from {', '.join(DESIGN_KINDS)})"
        )
    if kind == "grid":
        if spec.get("parameters") or spec.get("assumptions") or spec.get("uncertain"):
            raise ConfigError("sweep.parameters", "a grid design takes axes, not parameters")
        axes = spec.get("axes") or {}
        if not isinstance(axes, Mapping):
            raise ConfigError("sweep.axes", f"expected a mapping of axes, got {axes!r}")
        built = [axis_from_spec(k, v, calibration, max_points, scenario) for k, v in axes.items()]
        return grid_design(built, max_points)
    if spec.get("axes"):
        raise ConfigError("sweep.axes", f"an {kind} design takes parameters, not axes")
    params = spec.get("parameters") or []
    if isinstance(params, str | bytes | Mapping) or not isinstance(params, Sequence):
        raise ConfigError("sweep.parameters", f"expected a list of parameters, got {params!r}")
    for i, p in enumerate(params):
        if not isinstance(p, Mapping):
            raise ConfigError(f"sweep.parameters[{i}]", f"expected a mapping, got {p!r}")
    ranges = param_ranges(
        params, calibration, bool(spec.get("assumptions")), bool(spec.get("uncertain")), scenario
    )
    samples = spec.get("samples", 64)
    seed = spec.get("design_seed", 0)
    if kind == "lhs":
        return lhs_design(ranges, samples, seed, max_points)
    second = bool(spec.get("second_order", False))
    return sobol_design(ranges, samples, seed, second, max_points)


def run_index(design: Design, replicates: int, base_seed: int = 0) -> pd.DataFrame:
    """One row per run: ``run_id``, ``point``, ``replicate`` and ``seed`` (no parameter values).

    Every point is run with the same seeds ``base_seed .. base_seed + replicates - 1``
    (common random numbers), so differences between points are not sampling noise in the seeds.
    A point's values stay in ``design.points`` (one row per point), so a large design costs
    four integers per run, not one value per parameter per run.
    """
    _COUNT.check("sweep.replicates", replicates)
    check_seed("sweep.base_seed", base_seed)
    if base_seed + replicates - 1 > SEED_MAX:
        raise ConfigError("sweep.base_seed", f"base_seed + replicates - 1 must be <= {SEED_MAX}")
    n_points = len(design.points)
    point = np.repeat(np.arange(n_points, dtype=np.int64), replicates)
    replicate = np.tile(np.arange(replicates, dtype=np.int64), n_points)
    return pd.DataFrame(
        {
            "run_id": np.arange(n_points * replicates, dtype=np.int64),
            "point": point,
            "replicate": replicate,
            "seed": replicate + base_seed,
        }
    )


def with_point_values(
    runs: pd.DataFrame, design: Design, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """``runs`` (with a ``point`` column) followed by their points' ``columns`` (default: all)."""
    points = design.points if columns is None else design.points[list(columns)]
    values = points.iloc[runs["point"].to_numpy()]
    values.index = runs.index
    return pd.concat([runs, values], axis=1)


def run_table(design: Design, replicates: int, base_seed: int = 0) -> pd.DataFrame:
    """One row per run: ``run_id``, ``point``, ``replicate``, ``seed`` and the point's values."""
    return with_point_values(run_index(design, replicates, base_seed), design)


#: Runs per chunk when a sweep leaves ``chunks`` to the design: few enough that an interrupted
#: sweep loses little, many enough that writing a chunk costs nothing next to computing it.
CHUNK_RUNS = 20_000


def auto_chunks(n_runs: int, workers: int = 1) -> int:
    """Chunks for ``n_runs`` runs on ``workers`` parallel workers: at most about
    :data:`CHUNK_RUNS` runs each, and a multiple of ``workers`` so that every worker is busy."""
    workers = max(int(workers), 1)
    n = max(math.ceil(n_runs / CHUNK_RUNS), 1)
    return min(math.ceil(n / workers) * workers, max(n_runs, 1))


def chunk_bounds(n_runs: int, n_chunks: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` run ranges: ``n_chunks`` of them (fewer if runs are fewer)."""
    _COUNT.check("sweep.chunks", n_chunks)
    k = min(n_chunks, max(n_runs, 1))
    edges = np.linspace(0, n_runs, k + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]
