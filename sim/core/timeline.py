"""The scenario timeline: dated events that set a state's instrument, with literal meanings.

A scenario's ``timeline`` is a mapping of named events, each setting one instrument of
:data:`sim.core.registry.INSTRUMENTS` to a level for a window of quarters::

    start: 2025Q1                       # round 0 is this quarter
    timeline:
      tariff: {set: us_tariff, level: 0.24, from: 2025Q1}
      deal:   {set: us_tariff, level: 0.15, from: 2026Q3}
      ask:    {set: us_demand, level: 0.8, from: 2026}
      halt:   {set: cn_restriction, level: 0.5, during: 2027}

``from`` / ``until`` / ``during`` take a quarter (``2026Q3``), a year (``2026``: from its
first quarter, until or during: through its last) or a round number (0-1000; rounds are
quarters from round 0). ``until`` is inclusive; ``quarters`` gives a length instead; without
either the event holds to the end of the run. ``ramp`` reaches the level linearly over that
many quarters from the value in force before the event (1, the default: at once).

Events on one instrument apply in time order: each holds in its window, over anything that
started before it, and when it ends the value in force before it returns. Every numeric field
(``level``, ``from``, ``quarters``, ``ramp``, ``demand``) may be varied by a sweep as
``timeline.<event>.<field>``, ``from`` as a round number. This module is pure: dates, parsing
and the per-round schedules (numpy) that :func:`sim.core.params.build_params` uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core.constraints import UNIT, Integer
from sim.core.errors import ConfigError
from sim.core.registry import INSTRUMENTS, MAX_ROUND, TIMELINE_FIELDS

#: The calendar quarter of round 0 when a scenario does not say (the article: spring 2025).
DEFAULT_START = "2025Q1"
_QUARTER = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[Qq]([1-4])\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
#: Whole numbers from here up are years, below are round numbers (rounds stop at MAX_ROUND).
FIRST_YEAR = 1800
_EVENT_KEYS = ("set", "level", "from", "until", "during", "quarters", "ramp", "demand")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ROUND = Integer(0, MAX_ROUND, what="a round number (quarter from round 0)")


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter (year, 1-4)."""

    year: int
    q: int

    @property
    def index(self) -> int:
        """Quarters since year 0 (for differences)."""
        return self.year * 4 + self.q - 1

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"


def parse_quarter(key: str, value: Any) -> Quarter:
    """A quarter from ``2025Q1`` (or ``2025-Q1``), else a one-line error naming ``key``."""
    m = _QUARTER.match(str(value)) if isinstance(value, str) else None
    if m is None:
        raise ConfigError(key, f"expected a quarter like 2025Q1, got {value!r}")
    return Quarter(int(m.group(1)), int(m.group(2)))


def quarter_of_round(start: str, rnd: int) -> str:
    """The calendar quarter of round ``rnd`` when round 0 is ``start`` (``2025Q1``, 5 -> ``2026Q2``)."""
    i = parse_quarter("start", start).index + int(rnd)
    return f"{i // 4}Q{i % 4 + 1}"


def quarters_of_rounds(start: str, rounds: int) -> list[str]:
    """The calendar quarters of rounds 0..rounds-1."""
    return [quarter_of_round(start, r) for r in range(rounds)]


def _when(key: str, value: Any, start: Quarter, end: bool) -> int:
    """A round number from a quarter, a year or a round; ``end``: a year means its last quarter."""
    if isinstance(value, bool):
        raise ConfigError(key, f"expected a quarter, a year or a round number, got {value!r}")
    if isinstance(value, int | float) and float(value).is_integer() and value < FIRST_YEAR:
        return _ROUND.check(key, int(value))
    year = None
    if isinstance(value, int) or (isinstance(value, str) and _YEAR.match(value)):
        year = int(value)
    if year is not None:
        quarter = Quarter(year, 4 if end else 1)
    elif isinstance(value, str) and _QUARTER.match(value):
        quarter = parse_quarter(key, value)
    else:
        raise ConfigError(
            key, f"expected a quarter (2026Q3), a year (2026) or a round number, got {value!r}"
        )
    rnd = quarter.index - start.index
    if rnd < 0:
        raise ConfigError(key, f"{value} is before the scenario's start ({start}, round 0)")
    return _ROUND.check(key, rnd)


@dataclass
class Event:
    """One timeline event, in rounds: ``instrument`` at ``level`` from round ``start``.

    ``quarters`` None: to the end of the run. ``demand``: a ``cn_embargo``'s demand.
    """

    instrument: str
    level: float
    start: int
    quarters: int | None = None
    ramp: int = 1
    demand: float | None = None

    def numeric(self, fld: str) -> float | None:
        """The value of a sweepable field (``from`` is ``start``)."""
        return getattr(self, "start" if fld == "from" else fld)


def event_from_dict(key: str, raw: Any, start: str) -> Event:
    """One event from its mapping (dates resolved against the scenario's ``start``)."""
    if isinstance(raw, Event):
        return raw
    if not isinstance(raw, Mapping):
        raise ConfigError(key, "expected a mapping with set, level and from")
    for k in raw:
        if k not in _EVENT_KEYS:
            raise ConfigError(
                f"{key}.{k}", f"unknown event key (an event has {', '.join(_EVENT_KEYS)})"
            )
    instrument = raw.get("set")
    if instrument not in INSTRUMENTS:
        raise ConfigError(
            f"{key}.set",
            f"unknown instrument {instrument!r} (choose from {', '.join(INSTRUMENTS)})",
        )
    if raw.get("level") is None:
        raise ConfigError(f"{key}.level", f"required: the value {instrument} takes")
    level = TIMELINE_FIELDS["level"].constraint.check(f"{key}.level", raw["level"])
    q0 = parse_quarter("start", start)
    during, since, until = raw.get("during"), raw.get("from"), raw.get("until")
    length = raw.get("quarters")
    if during is not None:
        if since is not None or until is not None or length is not None:
            raise ConfigError(f"{key}.during", "give during alone, or from with until/quarters")
        first = _when(f"{key}.during", during, q0, end=False)
        last = _when(f"{key}.during", during, q0, end=True)
    else:
        if since is None:
            raise ConfigError(f"{key}.from", "required: when the event starts (or use during)")
        first = _when(f"{key}.from", since, q0, end=False)
        last = None
        if until is not None:
            if length is not None:
                raise ConfigError(f"{key}.until", "give until or quarters, not both")
            last = _when(f"{key}.until", until, q0, end=True)
            if last < first:
                raise ConfigError(f"{key}.until", f"{until} is before the event's start ({since})")
    if last is not None:
        quarters: int | None = last - first + 1
    elif length is not None:
        quarters = TIMELINE_FIELDS["quarters"].constraint.check(f"{key}.quarters", length)
    else:
        quarters = None
    ramp = TIMELINE_FIELDS["ramp"].constraint.check(f"{key}.ramp", raw.get("ramp", 1))
    demand = raw.get("demand")
    if instrument == "cn_embargo":
        if demand is None:
            raise ConfigError(
                f"{key}.demand",
                "required for cn_embargo: the compliance at or below which China lifts it "
                "(for a restriction whatever Japan does, use set: cn_restriction)",
            )
        demand = UNIT.check(f"{key}.demand", demand)
    elif demand is not None:
        raise ConfigError(f"{key}.demand", "only a cn_embargo has a demand")
    return Event(instrument, level, first, quarters, ramp, demand)


def timeline_from_dict(where: str, raw: Any, start: str) -> dict[str, Event]:
    """The events of a ``timeline`` mapping (``None`` or empty: no events)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "expected a mapping of named events: name -> {set, level, from}")
    out = {}
    for name, event in raw.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"{where}.{name}", "an event name is lower-case letters, digits and _ (deal_2025)"
            )
        out[name] = event_from_dict(f"{where}.{name}", event, start)
    return out


def event_to_dict(e: Event) -> dict[str, Any]:
    """An event as a mapping in rounds (what a resolved config records)."""
    out: dict[str, Any] = {"set": e.instrument, "level": e.level, "from": e.start}
    if e.quarters is not None:
        out["quarters"] = e.quarters
    if e.ramp != 1:
        out["ramp"] = e.ramp
    if e.demand is not None:
        out["demand"] = e.demand
    return out


# --- schedules -----------------------------------------------------------------------------
@dataclass
class EventArrays:
    """An event's fields for every world, shape ``(N,)`` (a sweep varies them per world)."""

    name: str
    level: np.ndarray
    start: np.ndarray
    end: np.ndarray  # first round after the event (inf: to the end)
    ramp: np.ndarray
    demand: np.ndarray


def apply_events(
    base: np.ndarray, events: list[EventArrays], neutral: np.ndarray | None = None
) -> np.ndarray:
    """The schedule ``(R, N)`` after ``events`` (in time order) over ``base`` (NaN: not set).

    In its window an event's value is the value in force the round before it started (or,
    for an unset fixed instrument, ``neutral``) moved linearly toward its level over ``ramp``
    rounds; outside, the schedule before it. A ramp of 1 gives the level exactly.
    """
    value = base.copy()
    rounds, n = value.shape
    t = np.arange(rounds, dtype=float)[:, None]
    worlds = np.arange(n)
    for e in events:
        start = e.start[None, :]
        window = (t >= start) & (t < e.end[None, :])
        before = value[np.clip(e.start.astype(np.int64) - 1, 0, rounds - 1), worlds]
        prev = np.where(e.start > 0, before, base[0])
        if neutral is not None:
            prev = np.where(np.isnan(prev), neutral, prev)
        frac = np.clip((t - start + 1.0) / e.ramp[None, :], 0.0, 1.0)
        ramped = np.where(frac >= 1.0, e.level[None, :], prev + frac * (e.level - prev)[None, :])
        value = np.where(window, ramped, value)
    return value


def check_order(events: list[EventArrays], instrument: str) -> None:
    """Events on one instrument must start in the order they are written, in every world."""
    for a, b in zip(events, events[1:], strict=False):
        if np.any(b.start < a.start):
            raise ConfigError(
                f"timeline.{b.name}.from",
                f"starts before {a.name} (both set {instrument}) in some worlds: events on one "
                "instrument are written in time order",
            )
