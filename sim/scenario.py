"""Scenarios: the pressures and policies of one what-if, as plain dataclasses.

The same dataclasses are Hydra's structured-config schema (registered in
``sim.config_schema``), so a typo'd key or a wrong type fails before anything runs; the
domain checks (ranges, policy names, paths) are in :func:`validate_scenario`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError
from sim.paths import CONFIG_DIR

STATE_POLICIES = ("scripted", "adaptive", "reactive")


@dataclass
class Escalation:
    """A linear ramp of US pressure from the scenario's levels to these, over ``ramp_rounds``."""

    start_round: int = 4
    ramp_rounds: int = 12
    us_tariff_level: float = 0.35
    us_security_pressure: float = 0.9


@dataclass
class Embargo:
    """China withholds rare earths for some rounds and lowers its red line (demands concessions)."""

    start_round: int = 8
    rounds: int = 6
    restriction: float = 0.5
    red_line: float = 0.25


@dataclass
class Scenario:
    """One scenario. Levels are shares 0-1 unless stated; rounds are quarters from 0."""

    name: str = "baseline"
    description: str = ""
    us_policy: str = "reactive"
    china_policy: str = "reactive"
    japan_policy: str = "adaptive"
    #: Punitive US tariff rate applied at zero compliance (ad-valorem share), before trust effects.
    us_tariff_level: float = 0.05
    #: Compliance the US demands on export controls / security (0-1).
    us_security_pressure: float = 0.6
    #: China's coercion propensity: restriction per unit of compliance above its red line (0-1).
    cn_coercion: float = 0.3
    #: Multiplier on firms' lobbying effort (0 = firms silent, 1 = as calibrated, up to 3).
    lobbying_strength: float = 1.0
    #: Fiscal stress (0 = as calibrated, 1 = recession-level stress; up to 3).
    fiscal_stress: float = 0.0
    #: Override of Japan's logit temperature (None = calibration's value).
    japan_temperature: float | None = None
    escalation: Escalation | None = None
    embargo: Embargo | None = None
    #: Scripted paths, one value per round (the last value repeats); used by scripted policies.
    us_tariff_path: list[float] | None = None
    us_demand_path: list[float] | None = None
    cn_restriction_path: list[float] | None = None
    cn_access_path: list[float] | None = None
    japan_compliance_path: list[float] | None = None
    firm_lobbying: dict[str, float] = field(default_factory=dict)


_RANGES: dict[str, tuple[float, float]] = {
    "us_tariff_level": (0.0, 1.0),
    "us_security_pressure": (0.0, 1.0),
    "cn_coercion": (0.0, 1.0),
    "lobbying_strength": (0.0, 3.0),
    "fiscal_stress": (0.0, 3.0),
    "japan_temperature": (1e-3, 10.0),
}
_PATHS = (
    "us_tariff_path",
    "us_demand_path",
    "cn_restriction_path",
    "cn_access_path",
    "japan_compliance_path",
)


def _num(key: str, v: Any, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ConfigError(key, f"expected a number, got {type(v).__name__} {v!r}")
    if not math.isfinite(float(v)) or not lo <= float(v) <= hi:
        raise ConfigError(key, f"must be in [{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def _int(key: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(key, f"expected a whole number, got {type(v).__name__} {v!r}")
    if v < lo:
        raise ConfigError(key, f"must be >= {lo}, got {v!r}")
    return v


def validate_scenario(
    s: Scenario, firm_names: tuple[str, ...] = (), where: str = "scenario"
) -> Scenario:
    """Check every field of ``s``; raise :class:`ConfigError` naming the first bad key."""
    for key in ("us_policy", "china_policy", "japan_policy"):
        v = getattr(s, key)
        if v not in STATE_POLICIES:
            raise ConfigError(
                f"{where}.{key}", f"unknown policy {v!r} (choose from {', '.join(STATE_POLICIES)})"
            )
    for key, (lo, hi) in _RANGES.items():
        v = getattr(s, key)
        if v is not None:
            _num(f"{where}.{key}", v, lo, hi)
    if s.escalation is not None:
        e = s.escalation
        _int(f"{where}.escalation.start_round", e.start_round, 0)
        _int(f"{where}.escalation.ramp_rounds", e.ramp_rounds, 1)
        _num(f"{where}.escalation.us_tariff_level", e.us_tariff_level, 0, 1)
        _num(f"{where}.escalation.us_security_pressure", e.us_security_pressure, 0, 1)
    if s.embargo is not None:
        b = s.embargo
        _int(f"{where}.embargo.start_round", b.start_round, 0)
        _int(f"{where}.embargo.rounds", b.rounds, 1)
        _num(f"{where}.embargo.restriction", b.restriction, 0, 1)
        _num(f"{where}.embargo.red_line", b.red_line, 0, 1)
    for key in _PATHS:
        path = getattr(s, key)
        if path is None:
            continue
        if not isinstance(path, list | tuple) or len(path) == 0:
            raise ConfigError(
                f"{where}.{key}", "expected a non-empty list of values, one per round"
            )
        for i, v in enumerate(path):
            _num(f"{where}.{key}[{i}]", v, 0, 1)
    needs = {
        "us_policy": ("us_tariff_path", "us_demand_path"),
        "china_policy": ("cn_restriction_path", "cn_access_path"),
        "japan_policy": ("japan_compliance_path",),
    }
    for policy_key, path_keys in needs.items():
        if getattr(s, policy_key) == "scripted":
            for pk in path_keys:
                if getattr(s, pk) is None:
                    raise ConfigError(f"{where}.{pk}", f"required when {policy_key} is 'scripted'")
    if not isinstance(s.firm_lobbying, Mapping):
        raise ConfigError(f"{where}.firm_lobbying", "expected a mapping firm -> multiplier")
    for firm, v in s.firm_lobbying.items():
        if firm_names and firm not in firm_names:
            raise ConfigError(
                f"{where}.firm_lobbying.{firm}",
                f"unknown firm (calibrated: {', '.join(firm_names)})",
            )
        _num(f"{where}.firm_lobbying.{firm}", v, 0, 3)
    return s


def scenario_from_dict(raw: Mapping, where: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from a mapping, rejecting unknown keys by name."""
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "expected a mapping")
    known = {f.name for f in dataclasses.fields(Scenario)}
    raw = {k: v for k, v in raw.items() if k != "defaults"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}.{key}", "unknown scenario key")
    kwargs = dict(raw)
    for key, cls in (("escalation", Escalation), ("embargo", Embargo)):
        sub = kwargs.get(key)
        if sub is not None:
            if not isinstance(sub, Mapping):
                raise ConfigError(f"{where}.{key}", "expected a mapping")
            sub_known = {f.name for f in dataclasses.fields(cls)}
            for k in sub:
                if k not in sub_known:
                    raise ConfigError(f"{where}.{key}.{k}", f"unknown {key} key")
            kwargs[key] = cls(**sub)
    for key in _PATHS:
        if kwargs.get(key) is not None and not isinstance(kwargs[key], str):
            kwargs[key] = list(kwargs[key])
    if kwargs.get("firm_lobbying") is not None:
        kwargs["firm_lobbying"] = dict(kwargs["firm_lobbying"])
    else:
        kwargs.pop("firm_lobbying", None)
    return validate_scenario(Scenario(**kwargs), where=where)


def scenario_names(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Names of the scenario files in ``configs/scenario/``."""
    return sorted(p.stem for p in (config_dir / "scenario").glob("*.yaml"))


def read_scenario_file(name: str, config_dir: Path = CONFIG_DIR) -> dict:
    """Read ``scenario/<name>.yaml`` with its ``defaults`` (base scenarios) merged in."""
    path = config_dir / "scenario" / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(
            "scenario",
            f"unknown scenario {name!r} (available: {', '.join(scenario_names(config_dir))})",
        )
    raw = yaml.safe_load(path.read_text()) or {}
    merged: dict = {}
    defaults = raw.pop("defaults", ["_self_"])
    if "_self_" not in defaults:
        defaults = [*defaults, "_self_"]
    for item in defaults:
        part = raw if item == "_self_" else read_scenario_file(item, config_dir)
        for k, v in part.items():
            if isinstance(v, Mapping) and isinstance(merged.get(k), Mapping):
                merged[k] = {**merged[k], **v}
            else:
                merged[k] = v
    return merged


def load_scenario(
    name: str = "baseline", config_dir: Path = CONFIG_DIR, **overrides: Any
) -> Scenario:
    """Load a named scenario from ``configs/scenario/``, with optional field overrides."""
    raw = read_scenario_file(name, config_dir)
    raw.update(overrides)
    return scenario_from_dict(raw)
