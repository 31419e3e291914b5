"""What the app shows, computed without a browser: ensembles of many seeds, comparisons, phase maps.

Every function here is pure (no Solara): the page calls them, and so do the tests, which check
them against :func:`sim.engine.runner.compare_scenarios` and the command line.

- :class:`Settings`: one ensemble's inputs (scenario, calibration, noise, seeds, levels the
  user moved) and :func:`load_inputs`, which turns them into a calibration, a scenario and
  per-world overrides exactly as ``compare_scenarios`` would.
- :func:`run_ensemble` (cached): the worlds on the batch engine, as an :class:`Ensemble`
  with the tables behind every chart: :meth:`Ensemble.fan` (median, 50% and 90% bands and the
  mean per round), :meth:`Ensemble.events` (P(breakdown) by side, ruptures, Wilson 95% intervals),
  :meth:`Ensemble.survival` (share still balancing by round).
- :func:`difference`: the difference of two probabilities with Newcombe's 95% interval.
- :class:`PhaseSpec`, :func:`phase_grid`: the probability map over two levers of the
  parameter registry; :func:`load_sweep_phase` reads the same map from a sweep folder.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from sim.catalog import load_calibration, load_scenario
from sim.core.calibration import Calibration, calibration_from_dict
from sim.core.constraints import SEED_MAX, check_seed
from sim.core.errors import ConfigError
from sim.core.params import build_params
from sim.core.registry import SCENARIO_PARAMETERS, canonical
from sim.core.scenario import Scenario, get_level, scenario_from_dict, scenario_to_dict
from sim.engine.batch import run_batch
from sim.engine.runner import summarize_outcomes, with_median_quarter
from sim.sweep.execute import load_runs

#: The noise levels every headline is reported at: the calibrated temperatures, and all of
#: them divided by 10 ("near best response", as experiments/compare_scenarios.py).
NOISE_FACTORS = {"calibrated": 1.0, "near best response": 10.0}
#: The states' model: each named scenario's own policies (strategic since model v2 part 2,
#: scripted in some episode replays), or both the US and China set to one, as
#: ``compare_scenarios(..., states=...)`` and ``scenario.us_policy=... scenario.china_policy=...``.
STATES: dict[str, str | None] = {
    "scenario's own": None,
    "strategic": "strategic",
    "reactive": "reactive",
}
#: Ensemble sizes offered on the page (seeds base_seed .. base_seed + n - 1).
SEED_COUNTS = (200, 500, 1000)
MAX_SEEDS = 5000
#: Quantiles of a fan chart: the 90% band, the 50% band and the median.
QUANTILES = {"q05": 0.05, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q95": 0.95}
Z95 = 1.959963984540054

#: The events whose probability the page reports: label, summary column, kind.
EVENTS: dict[str, tuple[str, str]] = {
    "breakdown": ("any breakdown", "breakdown"),
    "toward_us": ("toward the US", "breakdown"),
    "toward_china": ("toward China", "breakdown"),
    "rupture_by_us": ("rupture by the US", "rupture"),
    "rupture_by_china": ("rupture by China", "rupture"),
}


# --- inputs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """One ensemble's inputs. ``levels`` holds only the registry parameters the user moved."""

    scenario: str = "baseline"
    calibration: str = "article"
    noise: str = "calibrated"
    seeds: int = 500
    base_seed: int = 0
    rounds: int = 40
    levels: tuple[tuple[str, float], ...] = ()
    #: Both states' policy (``strategic`` / ``reactive``); None keeps the scenario's own.
    states: str | None = None

    def level_dict(self) -> dict[str, float]:
        return dict(self.levels)

    def with_levels(self, levels: Mapping[str, float]) -> Settings:
        """A copy with these levels (sorted, so equal settings hash equally)."""
        return replace(self, levels=tuple(sorted((k, float(v)) for k, v in levels.items())))

    def seed_array(self) -> np.ndarray:
        return np.arange(self.base_seed, self.base_seed + self.seeds, dtype=np.int64)

    def label(self) -> str:
        return (
            f"{self.scenario} ({self.calibration}, {self.noise} noise, {states_text(self, False)})"
        )


def check_settings(s: Settings) -> Settings:
    """One-line :class:`ConfigError` for a bad noise, seed count or base seed."""
    if s.noise not in NOISE_FACTORS:
        raise ConfigError("noise", f"must be one of {', '.join(NOISE_FACTORS)}, got {s.noise!r}")
    if not isinstance(s.seeds, int) or not 1 <= s.seeds <= MAX_SEEDS:
        raise ConfigError("seeds", f"must be a whole number in 1..{MAX_SEEDS}, got {s.seeds!r}")
    if s.states not in STATES.values():
        choices = ", ".join(v for v in STATES.values() if v)
        raise ConfigError("states", f"must be one of {choices} (or unset), got {s.states!r}")
    check_seed("base seed", s.base_seed)
    if s.base_seed + s.seeds - 1 > SEED_MAX:
        raise ConfigError("base seed", f"base seed + seeds - 1 must be < 2**63, got {s.base_seed}")
    for key, _ in s.levels:
        if key not in SCENARIO_PARAMETERS:
            raise ConfigError(key, "not a scenario parameter of the registry")
    return s


@lru_cache(maxsize=32)
def calibration_named(name: str, factor: float = 1.0) -> Calibration:
    """The named calibration with every temperature divided by ``factor`` (cached)."""
    cal = load_calibration(name)
    return cal if factor == 1.0 else cal.near_best_response(factor)


@lru_cache(maxsize=64)
def _scenario(name: str, states: str | None = None) -> Scenario:
    """The named scenario, with both states' policy replaced as ``compare_scenarios`` does."""
    policies = {} if states is None else {"us_policy": states, "china_policy": states}
    return load_scenario(name, **policies)


def calibration_of(s: Settings) -> Calibration:
    """The calibration at the settings' noise (every temperature / 10 near best response)."""
    return calibration_named(s.calibration, NOISE_FACTORS[s.noise])


def scenario_of(s: Settings) -> Scenario:
    """The settings' scenario with its states' policies (the scenario's own if ``states`` is None)."""
    return _scenario(s.scenario, s.states)


def policies_text(sc: Scenario) -> str:
    """The US's and China's policies in words: "strategic states", "US strategic, China scripted"."""
    us, cn = sc.us_policy, sc.china_policy
    return f"{us} states" if us == cn else f"US {us}, China {cn}"


def states_text(s: Settings, own: bool = True) -> str:
    """The states' model of the settings ("reactive states"), with ``own``: whether it is the
    scenario's own ("reactive states (the scenario's own: strategic states)")."""
    try:
        original = policies_text(_scenario(s.scenario))
        now = policies_text(scenario_of(s))
    except ConfigError:  # not a named scenario (a sweep's): its states are its own
        return "the scenario's own states" if s.states is None else f"{s.states} states"
    if not own:
        return now
    if now == original:
        return f"{now} (the scenario's own)"
    return f"{now} (the scenario's own: {original})"


def load_inputs(s: Settings) -> tuple[Calibration, Scenario, dict[str, float]]:
    """Calibration, scenario and overrides of the settings, as ``compare_scenarios`` runs them.

    Near best response divides every decision's temperature by 10, a Japan temperature set
    on the page included (the page's value is the calibrated-noise one).
    """
    check_settings(s)
    cal, sc = calibration_of(s), scenario_of(s)
    overrides = s.level_dict()
    if "japan_temperature" in overrides:
        overrides["japan_temperature"] /= NOISE_FACTORS[s.noise]
    return cal, sc, overrides


def scenario_with_levels(sc: Scenario, levels: Mapping[str, float]) -> Scenario:
    """The scenario with some registry levels replaced (dotted names reach into blocks)."""
    raw = _scenario_dict(sc)
    for name, value in levels.items():
        param = SCENARIO_PARAMETERS[name]
        v: float | int = int(round(value)) if param.integer else float(value)
        parts = name.split(".")
        target = raw
        for part in parts[:-1]:
            if target.get(part) is None:
                raise ConfigError(name, f"scenario {sc.name!r} has no {part} to set")
            target = target[part]
        target[parts[-1]] = v
    return scenario_from_dict(raw)


def _scenario_dict(sc: Scenario) -> dict[str, Any]:
    return scenario_to_dict(sc)


# --- intervals ----------------------------------------------------------------------------
def wilson_interval(k: Any, n: Any, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` events in ``n`` runs (default 95%), shares 0-1.

    statsmodels' ``proportion_confint(method="wilson")``, exactly 0 at ``k = 0`` and 1 at
    ``k = n`` (where its arithmetic can leave a rounding error).
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(k, n, alpha=2 * norm.sf(z), method="wilson")
    low = np.where(k == 0, 0.0, np.clip(low, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(high, 0.0, 1.0))
    return low, high


@dataclass(frozen=True)
class Difference:
    """``p_a - p_b`` with Newcombe's hybrid-score 95% interval (method 10)."""

    p_a: float
    p_b: float
    diff: float
    low: float
    high: float


def difference(k_a: int, n_a: int, k_b: int, n_b: int) -> Difference:
    """The difference of two independent proportions and its Newcombe 95% interval."""
    p_a, p_b = k_a / n_a, k_b / n_b
    (la, ua), (lb, ub) = (
        (float(x) for x in wilson_interval(k_a, n_a)),
        (float(x) for x in wilson_interval(k_b, n_b)),
    )
    d = p_a - p_b
    low = d - math.sqrt((p_a - la) ** 2 + (ub - p_b) ** 2)
    high = d + math.sqrt((ua - p_a) ** 2 + (p_b - lb) ** 2)
    return Difference(p_a, p_b, d, max(-1.0, low), min(1.0, high))


# --- ensembles ----------------------------------------------------------------------------
@dataclass(eq=False)  # compared by identity: the page passes it between components
class Ensemble:
    """The worlds of one :class:`Settings` on the batch engine, and the tables behind the charts."""

    settings: Settings
    calibration: Calibration
    scenario: Scenario
    outcomes: pd.DataFrame  # one row per world, column ``seed`` first
    rounds: dict[str, np.ndarray] = field(repr=False)  # column -> (rounds, worlds)
    firm_names: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def summary(self) -> pd.Series:
        """:func:`sim.engine.runner.summarize_outcomes` of the worlds (as compare_scenarios)."""
        return self._summary

    @cached_property
    def _summary(self) -> pd.Series:
        name = self.settings.scenario
        table = summarize_outcomes(self.outcomes.assign(scenario=name))
        return with_median_quarter(table, {name: scenario_of(self.settings).start}).iloc[0]

    def events(self) -> pd.DataFrame:
        """Per event: count, runs, share and Wilson 95% interval (the P(breakdown) chart)."""
        s = self.summary()
        runs = int(s["runs"])
        counts = {
            "breakdown": runs - int(s["n_balanced"]),
            **{k: int(s[f"n_{k}"]) for k in EVENTS if k != "breakdown"},
        }
        rows = []
        for key, (label, kind) in EVENTS.items():
            lo, hi = wilson_interval(counts[key], runs)
            rows.append(
                {
                    "event": key,
                    "label": label,
                    "kind": kind,
                    "count": counts[key],
                    "runs": runs,
                    "share": counts[key] / runs,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                }
            )
        return pd.DataFrame(rows)

    def fan(self, columns: Sequence[str]) -> pd.DataFrame:
        """Per round and column: the 5, 25, 50, 75 and 95% quantiles and the mean over worlds (long)."""
        return fan_table(self.rounds, columns)

    def survival(self) -> pd.DataFrame:
        """Share of worlds not yet broken down by each round, with a Wilson 95% interval."""
        return survival_table(self.outcomes["breakdown_round"].to_numpy(), self.settings.rounds)

    def world_rounds(self, columns: Sequence[str]) -> pd.DataFrame:
        """Every world's per-round values of ``columns`` (long: seed, round, then the columns)."""
        seeds = self.outcomes["seed"].to_numpy()
        r = self.settings.rounds
        out = pd.DataFrame(
            {
                "seed": np.tile(seeds, r),
                "round": np.repeat(np.arange(r, dtype=np.int64), len(seeds)),
            }
        )
        for c in columns:
            out[c] = self.rounds[c].reshape(-1)
        return out


def fan_table(rounds: Mapping[str, np.ndarray], columns: Sequence[str]) -> pd.DataFrame:
    """Quantiles and the mean over worlds of each ``(rounds, worlds)`` array, one row per round
    and column.

    numpy's default (linear) quantiles, computed from one sort of all columns at once.
    """
    columns = list(columns)
    arr = np.sort(np.stack([np.asarray(rounds[c], dtype=np.float64) for c in columns]), axis=2)
    n_cols, n_rounds, n = arr.shape
    out: dict[str, Any] = {
        "round": np.tile(np.arange(n_rounds, dtype=np.int64), n_cols),
        "column": np.repeat(np.asarray(columns, dtype=object), n_rounds),
    }
    for name, q in QUANTILES.items():
        pos = q * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        t = pos - lo
        a, b = arr[:, :, lo], arr[:, :, hi]
        out[name] = (a + (b - a) * t).reshape(-1)
    out["mean"] = arr.mean(axis=2).reshape(-1)
    return pd.DataFrame(out)


def survival_table(breakdown_round: np.ndarray, rounds: int) -> pd.DataFrame:
    """Share of runs with no breakdown starting at or before each round (all censored at the horizon)."""
    br = np.asarray(breakdown_round)
    n = len(br)
    t = np.arange(rounds, dtype=np.int64)
    broken = ((br[None, :] >= 0) & (br[None, :] <= t[:, None])).sum(axis=1)
    surviving = n - broken
    lo, hi = wilson_interval(surviving, n)
    return pd.DataFrame(
        {
            "round": t,
            "surviving": surviving,
            "runs": n,
            "share": surviving / n,
            "ci_low": lo,
            "ci_high": hi,
        }
    )


@lru_cache(maxsize=8)
def run_ensemble(settings: Settings) -> Ensemble:
    """Run the settings' worlds on the batch engine (world k seeded ``base_seed + k``), cached."""
    cal, sc, overrides = load_inputs(settings)
    seeds = settings.seed_array()
    p = build_params(cal, sc, settings.rounds, len(seeds), overrides)
    res = run_batch(p, seeds, record_rounds=True)
    outcomes = res.outcomes
    outcomes.insert(0, "seed", seeds)
    assert res.rounds is not None
    return Ensemble(settings, cal, sc, outcomes, res.rounds, p.firm_names)


@lru_cache(maxsize=32)
def headline(settings: Settings) -> pd.Series:
    """The summary row only (no per-round records): for the other noise level's numbers."""
    cal, sc, overrides = load_inputs(settings)
    seeds = settings.seed_array()
    p = build_params(cal, sc, settings.rounds, len(seeds), overrides)
    out = run_batch(p, seeds).outcomes
    table = summarize_outcomes(out.assign(scenario=settings.scenario))
    return with_median_quarter(table, {settings.scenario: sc.start}).iloc[0]


# --- phase diagrams -----------------------------------------------------------------------
#: Grid resolutions: points per axis and seeds per cell.
COARSE = (9, 40)
FINE = (17, 100)


def lever_names(sc: Scenario) -> list[str]:
    """Registry parameters that act in this scenario (an escalation's levels need an escalation)."""
    out = []
    for name in SCENARIO_PARAMETERS:
        block = name.split(".")[0] if "." in name else None
        if block is not None and getattr(sc, block, None) is None:
            continue
        out.append(name)
    return out


def default_levers(sc: Scenario) -> tuple[str, str]:
    """The escalation's end levels on a scenario with one, else the plain US levels."""
    if sc.escalation is not None:
        return "escalation.us_tariff_slope", "escalation.us_security_pressure"
    return "us_tariff_slope", "us_security_pressure"


def lever_range(name: str, rounds: int) -> tuple[float, float]:
    """The registry's bounds, with rounds limited to the horizon."""
    p = SCENARIO_PARAMETERS[name]
    lo, hi = p.bounds
    if p.integer:
        lo, hi = max(lo, 0.0), min(hi, float(rounds))
        if lo == 0.0 and "start" not in name:
            lo = 1.0
        if "start" in name:
            hi = float(rounds - 1)
    return lo, hi


def lever_values(name: str, points: int, rounds: int) -> tuple[float, ...]:
    """``points`` values across the lever's range (log-spaced for a log parameter, whole for rounds)."""
    p = SCENARIO_PARAMETERS[name]
    lo, hi = lever_range(name, rounds)
    if p.log:
        vals = np.logspace(math.log10(lo), math.log10(hi), points)
    else:
        vals = np.linspace(lo, hi, points)
    if p.integer:
        vals = np.unique(np.round(vals))
    return tuple(float(f"{v:.6g}") for v in vals)


@dataclass(frozen=True)
class PhaseSpec:
    """A probability map: the settings, two levers and their values, seeds per cell."""

    settings: Settings
    x: str
    y: str
    x_values: tuple[float, ...]
    y_values: tuple[float, ...]
    seeds_per_cell: int

    @property
    def cells(self) -> int:
        return len(self.x_values) * len(self.y_values)


def phase_spec(settings: Settings, x: str, y: str, resolution: tuple[int, int]) -> PhaseSpec:
    """The map of ``x`` by ``y`` at a resolution (points per axis, seeds per cell)."""
    if x == y:
        raise ConfigError("levers", f"choose two different levers (both are {x!r})")
    sc = scenario_of(settings)
    usable = lever_names(sc)
    for name in (x, y):
        if name not in usable:
            raise ConfigError(name, f"not a lever of scenario {sc.name!r}")
    points, seeds = resolution
    return PhaseSpec(
        settings,
        x,
        y,
        lever_values(x, points, settings.rounds),
        lever_values(y, points, settings.rounds),
        seeds,
    )


def _cell_table(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per cell: runs, counts and shares of breakdown by side, Wilson interval of P(breakdown)."""
    g = frame.groupby(keys, sort=True, observed=True)
    out = g.agg(
        runs=("outcome", "size"),
        breakdowns=("breakdown_round", lambda s: int((s >= 0).sum())),
        toward_us=("outcome", lambda s: int((s.astype(str) == "us").sum())),
        toward_china=("outcome", lambda s: int((s.astype(str) == "china").sum())),
    ).reset_index()
    out["p_breakdown"] = out["breakdowns"] / out["runs"]
    out["p_us"] = out["toward_us"] / out["runs"]
    out["p_china"] = out["toward_china"] / out["runs"]
    out["side"] = out["p_us"] - out["p_china"]
    lo, hi = wilson_interval(out["breakdowns"].to_numpy(), out["runs"].to_numpy())
    out["ci_low"], out["ci_high"] = lo, hi
    return out


def phase_chunks(spec: PhaseSpec) -> Iterator[tuple[int, pd.DataFrame]]:
    """Run the map one column of ``x`` at a time; yields (columns done, cells so far)."""
    cal, sc, overrides = load_inputs(spec.settings)
    k = spec.seeds_per_cell
    seeds = np.arange(spec.settings.base_seed, spec.settings.base_seed + k, dtype=np.int64)
    ny = len(spec.y_values)
    frames = []
    for i, xv in enumerate(spec.x_values):
        ov: dict[str, Any] = dict(overrides)
        ov[spec.x] = np.full(ny * k, xv)
        ov[spec.y] = np.repeat(np.asarray(spec.y_values, dtype=np.float64), k)
        for name in (spec.x, spec.y):
            if name == "japan_temperature":
                ov[name] = ov[name] / NOISE_FACTORS[spec.settings.noise]
        p = build_params(cal, sc, spec.settings.rounds, ny * k, ov)
        out = run_batch(p, np.tile(seeds, ny)).outcomes
        out["x"] = xv
        out["y"] = np.repeat(np.asarray(spec.y_values), k)
        frames.append(out)
        yield i + 1, _cell_table(pd.concat(frames, ignore_index=True), ["x", "y"])


@lru_cache(maxsize=8)
def phase_grid(spec: PhaseSpec) -> pd.DataFrame:
    """The whole map (cached): one row per cell (x, y, runs, shares, interval)."""
    table = pd.DataFrame()
    for _done, cells in phase_chunks(spec):
        table = cells
    return table


@dataclass
class SweepPhase:
    """A probability map read from a finished sweep folder, and what its cells ran."""

    folder: Path
    x: str
    y: str
    table: pd.DataFrame  # one row per cell, as phase_grid's
    calibration: Calibration
    scenario: Scenario
    rounds: int
    seeds: tuple[int, ...]


def load_sweep_phase(folder: str | Path) -> SweepPhase:
    """The map of a finished two-lever grid sweep (``runs.parquet`` and ``sweep.json``)."""
    path = Path(str(folder).strip()).expanduser()
    if not str(folder).strip():
        raise ConfigError("sweep folder", "give the folder of a finished sweep")
    if not (path / "sweep.json").is_file():
        raise ConfigError("sweep folder", f"{path} is not a sweep folder (no sweep.json)")
    if not (path / "runs.parquet").is_file():
        raise ConfigError("sweep folder", f"{path} is not finished (no runs.parquet)")
    identity = json.loads((path / "sweep.json").read_text()).get("identity", {})
    design = identity.get("design", {})
    axes = [canonical(a["param"]) for a in design.get("axes", [])]
    axes = [a for a in axes if a in SCENARIO_PARAMETERS]
    if design.get("kind") != "grid" or len(axes) != 2 or len(design.get("axes", [])) != 2:
        raise ConfigError(
            "sweep folder", "a phase diagram needs a grid sweep over exactly two scenario levers"
        )
    (sc_name, sc_raw), *more_sc = identity["scenarios"].items()
    (cal_name, cal_raw), *more_cal = identity["calibrations"].items()
    if more_sc or more_cal:
        raise ConfigError("sweep folder", "the sweep has several scenarios or calibrations")
    runs = load_runs(path)
    x, y = axes
    columns = {v: k for k, v in runs.attrs.get("parameters", {}).items()}
    renamed = {columns.get(x, x): "x", columns.get(y, y): "y"}
    table = _cell_table(runs.rename(columns=renamed), ["x", "y"])
    base = int(identity.get("base_seed", 0))
    seeds = tuple(range(base, base + int(identity.get("replicates", 1))))
    return SweepPhase(
        folder=path,
        x=x,
        y=y,
        table=table,
        calibration=calibration_from_dict(cal_raw, where="calibration"),
        scenario=scenario_from_dict(sc_raw),
        rounds=int(identity["rounds"]),
        seeds=seeds,
    )


def sweep_cell_ensemble(phase: SweepPhase, xv: float, yv: float) -> Ensemble:
    """The ensemble of one cell of a sweep's map: its scenario, calibration, levers and seeds."""
    seeds = np.asarray(phase.seeds, dtype=np.int64)
    ov = {phase.x: xv, phase.y: yv}
    p = build_params(phase.calibration, phase.scenario, phase.rounds, len(seeds), ov)
    res = run_batch(p, seeds, record_rounds=True)
    res.outcomes.insert(0, "seed", seeds)
    assert res.rounds is not None
    settings = Settings(
        scenario=phase.scenario.name,
        calibration=phase.calibration.name,
        seeds=len(seeds),
        base_seed=int(seeds[0]),
        rounds=phase.rounds,
    ).with_levels(ov)
    return Ensemble(
        settings, phase.calibration, phase.scenario, res.outcomes, res.rounds, p.firm_names
    )


def level_value(sc: Scenario, cal: Calibration, name: str) -> float | None:
    """The scenario's own value of a registry level (Japan's temperature: else the calibration's)."""
    v = get_level(sc, name)
    if v is None and name == "japan_temperature":
        return float(cal.value("compliance_temperature"))
    return None if v is None else float(v)
