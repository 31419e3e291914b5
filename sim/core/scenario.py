"""Scenarios: the pressures and policies of one what-if, as plain dataclasses.

A scenario gives the states' policies, their standing levels, and a **timeline** of dated
events that set an instrument to a value with its literal meaning (:mod:`sim.core.timeline`;
the guide is ``docs/scenarios.md``). Round 0 is the quarter ``start`` (2025Q1 unless stated).
The ``escalation`` and ``embargo`` blocks and the scripted paths are the first version's ways
of saying some of this; they keep working.

The meaning, range and unit of every level (``us_tariff_slope``,
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
from sim.core.registry import (
    FIRM_LOBBYING,
    INSTRUMENTS,
    MAX_ROUND,
    RENAMED_PARAMETERS,
    SCENARIO_PARAMETERS,
)
from sim.core.timeline import (
    DEFAULT_START,
    Event,
    event_to_dict,
    parse_quarter,
    timeline_from_dict,
)

STATE_POLICIES = ("strategic", "reactive", "scripted")
EMBARGO_KINDS = ("coercive", "punitive")


@dataclass
class Escalation:
    """A linear ramp of US pressure from the scenario's levels to these, over ``ramp_rounds``.

    The first version's way to write ``us_tariff_slope`` and ``us_demand`` timeline events
    with a ``ramp``; it keeps working.
    """

    start_round: int = 4
    ramp_rounds: int = 12
    us_tariff_slope: float = 0.35
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
    #: Required: an embargo's demand is part of what the scenario says (no silent default).
    red_line: float | None = None
    kind: str = "coercive"


@dataclass
class Scenario:
    """One scenario. Levels are shares 0-1 unless stated; rounds are quarters from 0."""

    name: str = "baseline"
    description: str = ""
    #: The calendar quarter of round 0 (dates in the timeline and in tables count from it).
    start: str = DEFAULT_START
    us_policy: str = "strategic"
    china_policy: str = "strategic"
    japan_policy: str = "strategic"
    # Levels: see sim.core.registry.SCENARIO_PARAMETERS for range, unit and meaning.
    us_tariff_slope: float = 0.05
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
    #: Dated events (see sim.core.timeline), by name; applied over the levels above.
    timeline: dict[str, Event] = field(default_factory=dict)


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
    name = RENAMED_PARAMETERS.get(name, name)
    parts = name.split(".")
    if parts[0] == "timeline" and len(parts) == 3:
        event = s.timeline.get(parts[1])
        return None if event is None else event.numeric(parts[2])
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
    parse_quarter(f"{where}.start", s.start)
    if s.embargo is not None:
        _EMBARGO_KIND.check(f"{where}.embargo.kind", s.embargo.kind)
        if s.embargo.red_line is None:
            raise ConfigError(
                f"{where}.embargo.red_line",
                "required: China's demand, the compliance at or below which a coercive embargo "
                "lifts (a punitive one announces it as China's red line); 1.0 demands nothing. "
                "A timeline event says the same: {set: cn_embargo, level, from, demand}",
            )
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
    for name, event in s.timeline.items():
        state = INSTRUMENTS[event.instrument].state
        policy_key = {"us": "us_policy", "china": "china_policy"}[state]
        if getattr(s, policy_key) == "scripted":
            raise ConfigError(
                f"{where}.timeline.{name}",
                f"a scripted {state.upper() if state == 'us' else 'China'} follows its paths only; "
                f"drop {policy_key}: scripted and write the paths as timeline events",
            )
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


#: Scenario keys that were replaced, with what replaced them (one line instead of "unknown").
REPLACED_KEYS = {
    "us_tariff": "a tariff the US applies whatever Japan does is a timeline event: "
    "timeline: {tariff: {set: us_tariff, level: 0.24, from: 2025Q1}} (docs/scenarios.md)",
    "start_date": "the quarter of round 0 is start: 2025Q1",
    "events": "events are written under timeline: (docs/scenarios.md)",
}


def _renamed(raw: Mapping, prefix: str, where: str = "scenario") -> dict:
    """``raw`` with old key names (``us_tariff_level``) under their current names."""
    out = {}
    for k, v in raw.items():
        new = RENAMED_PARAMETERS.get(f"{prefix}{k}", f"{prefix}{k}")[len(prefix) :]
        if new != k and new in raw:
            raise ConfigError(
                f"{where}.{prefix}{k}",
                f"renamed {new}: give {new}, not both (a scenario this one extends through "
                "defaults may already set it)",
            )
        out[new] = v
    return out


def scenario_from_dict(raw: Mapping, where: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from a mapping, rejecting unknown keys by name.

    Old names (``us_tariff_level``, now ``us_tariff_slope``) are read under their new ones.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "expected a mapping")
    known = {f.name for f in dataclasses.fields(Scenario)}
    raw = _renamed({k: v for k, v in raw.items() if k != "defaults"}, "", where)
    for key in raw:
        if key in REPLACED_KEYS:
            raise ConfigError(f"{where}.{key}", REPLACED_KEYS[key])
        if key not in known:
            raise ConfigError(f"{where}.{key}", "unknown scenario key")
    kwargs = dict(raw)
    for key, cls in (("escalation", Escalation), ("embargo", Embargo)):
        sub = kwargs.get(key)
        if sub is not None and not isinstance(sub, cls):
            if not isinstance(sub, Mapping):
                raise ConfigError(f"{where}.{key}", "expected a mapping")
            sub = _renamed(sub, f"{key}.", where)
            sub_known = {f.name for f in dataclasses.fields(cls)}
            for k in sub:
                if k not in sub_known:
                    raise ConfigError(f"{where}.{key}.{k}", f"unknown {key} key")
            kwargs[key] = cls(**sub)
    start = kwargs.get("start", DEFAULT_START)
    if not isinstance(start, str):
        raise ConfigError(f"{where}.start", f"expected a quarter like 2025Q1, got {start!r}")
    parse_quarter(f"{where}.start", start)
    kwargs["timeline"] = timeline_from_dict(f"{where}.timeline", kwargs.get("timeline"), start)
    for key in _PATHS:
        if kwargs.get(key) is not None and not isinstance(kwargs[key], str):
            kwargs[key] = list(kwargs[key])
    if kwargs.get("firm_lobbying") is not None:
        kwargs["firm_lobbying"] = dict(kwargs["firm_lobbying"])
    else:
        kwargs.pop("firm_lobbying", None)
    return validate_scenario(Scenario(**kwargs), where=where)


def scenario_to_dict(sc: Scenario) -> dict[str, Any]:
    """``sc`` as the mapping :func:`scenario_from_dict` reads back (events in rounds)."""
    raw = dataclasses.asdict(sc)
    raw["timeline"] = {name: event_to_dict(e) for name, e in sc.timeline.items()}
    return raw
