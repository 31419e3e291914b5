"""Scenarios: the pressures and policies of one what-if, as plain dataclasses.

The meaning, range and unit of every level (``us_tariff_level``,
``escalation.us_security_pressure``, ...) are declared once in
:data:`sim.core.registry.SCENARIO_PARAMETERS`; :func:`scenario_from_dict` rejects unknown
keys by name and :func:`validate_scenario` checks every level against its declaration.
Named scenarios are loaded by :mod:`sim.catalog`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.core.constraints import UNIT, ListOf, Name, Options
from sim.core.errors import ConfigError
from sim.core.registry import FIRM_LOBBYING, MAX_ROUND, SCENARIO_PARAMETERS

STATE_POLICIES = ("strategic", "reactive", "scripted")
EMBARGO_KINDS = ("coercive", "punitive")


@dataclass
class Escalation:
    """A linear ramp of US pressure from the scenario's levels to these, over ``ramp_rounds``."""

    start_round: int = 4
    ramp_rounds: int = 12
    us_tariff_level: float = 0.35
    us_security_pressure: float = 0.9


@dataclass
class Embargo:
    """China withholds rare earths for some rounds, with a demand on Japan's compliance.

    ``coercive`` (default): the restriction lifts in any round Japan's compliance is at or
    below the demand ``red_line`` (if China keeps its word: Japan believes it with the
    probability of China's reputation). ``punitive``: the restriction holds whatever Japan
    does, and the demand is announced as China's red line for the window.
    """

    start_round: int = 8
    rounds: int = 6
    restriction: float = 0.5
    red_line: float = 0.25
    kind: str = "coercive"


@dataclass
class Scenario:
    """One scenario. Levels are shares 0-1 unless stated; rounds are quarters from 0."""

    name: str = "baseline"
    description: str = ""
    us_policy: str = "strategic"
    china_policy: str = "strategic"
    japan_policy: str = "strategic"
    # Levels: see sim.core.registry.SCENARIO_PARAMETERS for range, unit and meaning.
    us_tariff_level: float = 0.05
    us_security_pressure: float = 0.6
    cn_coercion: float = 0.3
    lobbying_strength: float = 1.0
    fiscal_stress: float = 0.0
    japan_temperature: float | None = None  # None: the calibration's temperature
    escalation: Escalation | None = None
    embargo: Embargo | None = None
    #: Scripted paths, one value per round (the last value repeats); used by scripted policies.
    us_tariff_path: list[float] | None = None
    us_demand_path: list[float] | None = None
    cn_restriction_path: list[float] | None = None
    cn_access_path: list[float] | None = None
    japan_compliance_path: list[float] | None = None
    firm_lobbying: dict[str, float] = field(default_factory=dict)


_PATHS = (
    "us_tariff_path",
    "us_demand_path",
    "cn_restriction_path",
    "cn_access_path",
    "japan_compliance_path",
)
_POLICY = Options(STATE_POLICIES, what="policy")
_EMBARGO_KIND = Options(EMBARGO_KINDS, what="embargo kind")
_PATH = ListOf(UNIT, max_length=MAX_ROUND)
_NAME = Name("scenario name")
#: Scripted policies need these paths.
_NEEDS = {
    "us_policy": ("us_tariff_path", "us_demand_path"),
    "china_policy": ("cn_restriction_path", "cn_access_path"),
    "japan_policy": ("japan_compliance_path",),
}


def get_level(s: Scenario, name: str) -> Any:
    """The value of a (possibly dotted) scenario parameter; None if its block is absent."""
    obj: Any = s
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def validate_scenario(
    s: Scenario, firm_names: tuple[str, ...] = (), where: str = "scenario"
) -> Scenario:
    """Check every field of ``s``; raise :class:`ConfigError` naming the first bad key."""
    _NAME.check(f"{where}.name", s.name)
    for key in _NEEDS:
        if getattr(s, key) == "adaptive":
            raise ConfigError(f"{where}.{key}", "'adaptive' is now called 'strategic'")
        _POLICY.check(f"{where}.{key}", getattr(s, key))
    if s.embargo is not None:
        _EMBARGO_KIND.check(f"{where}.embargo.kind", s.embargo.kind)
    for name, param in SCENARIO_PARAMETERS.items():
        value = get_level(s, name)
        if value is not None:
            param.constraint.check(f"{where}.{name}", value)
    for key in _PATHS:
        path = getattr(s, key)
        if path is not None:
            _PATH.check(f"{where}.{key}", path)
    for policy_key, path_keys in _NEEDS.items():
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
        FIRM_LOBBYING.check(f"{where}.firm_lobbying.{firm}", v)
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
