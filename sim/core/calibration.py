"""Calibration: every number the model uses, with unit and provenance, validated on load.

A calibration file (``configs/calibration/*.yaml``) has ``entries`` (one per parameter) and
``firms`` (one profile per firm). Each entry is ``{value, unit, provenance, ...}`` where
provenance is ``article [n]``, ``assumption`` (with ``range`` and ``reason``) or
``external: <source>``. Validation happens here, once; the numerical core trusts its inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.core.constraints import Name, Real
from sim.core.errors import ConfigError
from sim.core.registry import CALIBRATION_ENTRIES, FIRM_ENTRIES, TEMPERATURE_ENTRIES, EntryKind

#: The article's section markers (its figures carry these).
ARTICLE_MARKERS = frozenset({2, 4, 6, 10, 11})

_ENTRY_FIELDS = {"value", "unit", "provenance", "range", "reason", "note", "discrepancy"}
#: Keys of a firm's profile that are not entries.
_FIRM_META = {"label"}
_ARTICLE_RE = re.compile(r"^article \[(\d+)\]$")
_RANGE_ITEM = Real()


@dataclass(frozen=True)
class Entry:
    """One calibrated number with its unit and provenance."""

    value: float
    unit: str
    provenance: str
    range: tuple[float, float] | None = None
    reason: str | None = None
    note: str | None = None
    discrepancy: str | None = None

    @property
    def source_kind(self) -> str:
        """``article``, ``assumption`` or ``external``."""
        return self.provenance.split(" ", 1)[0].rstrip(":")


@dataclass(frozen=True)
class Calibration:
    """A validated calibration: named entries plus one profile per firm."""

    name: str
    entries: dict[str, Entry]
    firms: dict[str, dict[str, Entry]]
    description: str = ""
    firm_labels: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> float:
        """The value of entry ``key`` (in the entry's own unit)."""
        return self.entries[key].value

    def firm_value(self, firm: str, key: str) -> float:
        """The value of ``key`` in ``firm``'s profile."""
        return self.firms[firm][key].value

    @property
    def firm_names(self) -> tuple[str, ...]:
        return tuple(self.firms)

    def items(self) -> Iterator[tuple[str, EntryKind, Entry]]:
        """Yield ``(dotted_key, kind, Entry)`` for every number, firms included."""
        for key, entry in self.entries.items():
            yield key, CALIBRATION_ENTRIES[key], entry
        for firm, profile in self.firms.items():
            for key, entry in profile.items():
                yield f"firms.{firm}.{key}", FIRM_ENTRIES[key], entry

    def firm_label(self, firm: str) -> str:
        """The firm's display name (its profile's ``label``, else its name in title case)."""
        return self.firm_labels.get(firm) or firm.replace("_", " ").title()

    def to_dict(self) -> dict:
        """Plain nested dict, the same shape as the YAML file."""
        firms: dict[str, dict] = {}
        for f, prof in self.firms.items():
            firms[f] = {k: _entry_dict(e) for k, e in prof.items()}
            if f in self.firm_labels:
                firms[f]["label"] = self.firm_labels[f]
        return {
            "name": self.name,
            "description": self.description,
            "entries": {k: _entry_dict(e) for k, e in self.entries.items()},
            "firms": firms,
        }

    def with_values(self, values: Mapping[str, float], name: str | None = None) -> Calibration:
        """Copy with some entries' values replaced (ranges widened to hold them), validated."""
        raw = self.to_dict()
        for key, v in values.items():
            if key not in raw["entries"]:
                raise ConfigError(key, "unknown calibration entry")
            entry = raw["entries"][key]
            entry["value"] = v
            if "range" in entry:
                lo, hi = entry["range"]
                entry["range"] = [min(lo, v), max(hi, v)]
        if name is not None:
            raw["name"] = name
        return calibration_from_dict(raw, where="calibration")

    def near_best_response(self, factor: float = 10.0) -> Calibration:
        """Copy with every decision's temperature divided by ``factor`` (noise nearly off)."""
        values = {k: self.value(k) / factor for k in TEMPERATURE_ENTRIES}
        return self.with_values(values, name=f"{self.name}-nbr")

    def with_money_scaled(self, factor: float) -> Calibration:
        """Copy with every monetary figure multiplied by ``factor`` (a change of currency unit)."""
        raw = self.to_dict()

        def scale(entry: dict) -> None:
            entry["value"] *= factor
            if "range" in entry:
                entry["range"] = [x * factor for x in entry["range"]]

        for key, kind in CALIBRATION_ENTRIES.items():
            if kind.money:
                scale(raw["entries"][key])
        for firm in raw["firms"].values():
            for key, kind in FIRM_ENTRIES.items():
                if kind.money:
                    scale(firm[key])
        return calibration_from_dict(raw, where="calibration")


def _entry_dict(e: Entry) -> dict:
    d: dict[str, Any] = {"value": e.value, "unit": e.unit, "provenance": e.provenance}
    for name in ("range", "reason", "note", "discrepancy"):
        v = getattr(e, name)
        if v is not None:
            d[name] = list(v) if name == "range" else v
    return d


def _check_provenance(key: str, prov: str, raw: Mapping) -> None:
    m = _ARTICLE_RE.match(prov)
    if m:
        if int(m.group(1)) not in ARTICLE_MARKERS:
            raise ConfigError(f"{key}.provenance", f"the article has no marker [{m.group(1)}]")
    elif prov == "assumption":
        if raw.get("range") is None or raw.get("reason") in (None, ""):
            raise ConfigError(key, "an assumption needs a range and a reason")
    elif not prov.startswith("external: ") or len(prov) < 15:
        raise ConfigError(
            f"{key}.provenance",
            f"must be 'article [n]', 'assumption' or 'external: <source>', got {prov!r}",
        )


def _check_range(key: str, rng: Any, value: float) -> tuple[float, float]:
    if not isinstance(rng, list | tuple) or len(rng) != 2:
        raise ConfigError(f"{key}.range", f"expected [low, high], got {rng!r}")
    lo = _RANGE_ITEM.check(f"{key}.range[0]", rng[0])
    hi = _RANGE_ITEM.check(f"{key}.range[1]", rng[1])
    if lo > hi:
        raise ConfigError(f"{key}.range", f"low {lo} is above high {hi}")
    if not lo <= value <= hi:
        raise ConfigError(f"{key}.value", f"{value} lies outside its range [{lo}, {hi}]")
    return lo, hi


def _check_entry(key: str, kind: EntryKind, raw: Any) -> Entry:
    if not isinstance(raw, Mapping):
        raise ConfigError(key, "expected a mapping with value, unit and provenance")
    unknown = set(raw) - _ENTRY_FIELDS
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}", "unknown field in a calibration entry")
    for required in ("value", "unit", "provenance"):
        if raw.get(required) is None:
            raise ConfigError(f"{key}.{required}", "missing")
    value = float(kind.constraint.check(f"{key}.value", raw["value"]))
    prov = str(raw["provenance"]).strip()
    _check_provenance(key, prov, raw)
    rng = raw.get("range")
    return Entry(
        value=value,
        unit=str(raw["unit"]),
        provenance=prov,
        range=None if rng is None else _check_range(key, rng, value),
        reason=raw.get("reason"),
        note=raw.get("note"),
        discrepancy=raw.get("discrepancy"),
    )


def _check_entries(
    where: str, raw: Any, kinds: Mapping[str, EntryKind], what: str, meta: frozenset = frozenset()
) -> dict[str, Entry]:
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "missing or not a mapping")
    for key in raw:
        if key not in kinds and key not in meta:
            raise ConfigError(f"{where}.{key}", f"unknown {what}")
    entries = {}
    for key, kind in kinds.items():
        if key not in raw:
            raise ConfigError(f"{where}.{key}", "missing")
        entries[key] = _check_entry(f"{where}.{key}", kind, raw[key])
    return entries


_FIRM_NAME = Name("firm name")


def calibration_from_dict(raw: Mapping, where: str = "calibration") -> Calibration:
    """Validate a calibration mapping (the YAML's shape) and return a :class:`Calibration`.

    Firms are whatever the ``firms`` mapping names (at least one), each with every entry of
    :data:`~sim.core.registry.FIRM_ENTRIES` and optionally a display ``label``.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "expected a mapping")
    unknown_top = set(raw) - {"name", "description", "entries", "firms", "defaults"}
    if unknown_top:
        raise ConfigError(f"{where}.{sorted(unknown_top)[0]}", "unknown key")
    name = _NAME.check(f"{where}.name", raw.get("name", "custom"))
    entries = _check_entries(
        f"{where}.entries", raw.get("entries"), CALIBRATION_ENTRIES, "calibration entry"
    )
    firms_raw = raw.get("firms")
    if not isinstance(firms_raw, Mapping) or not firms_raw:
        raise ConfigError(
            f"{where}.firms", "missing or empty (a calibration profiles at least one firm)"
        )
    firms: dict[str, dict[str, Entry]] = {}
    labels: dict[str, str] = {}
    for firm, profile in firms_raw.items():
        fwhere = f"{where}.firms.{firm}"
        _FIRM_NAME.check(fwhere, firm)
        firms[firm] = _check_entries(
            fwhere, profile, FIRM_ENTRIES, "firm profile entry", frozenset(_FIRM_META)
        )
        if profile.get("label") is not None:
            labels[firm] = str(profile["label"])
    _check_consistency(where, entries)
    for firm, profile in firms.items():
        if profile["china_profit_share"].value + profile["us_tariff_exposure"].value > 1.0:
            raise ConfigError(
                f"{where}.firms.{firm}.us_tariff_exposure",
                "China share and US-export share of profits add up to more than 1",
            )
    return Calibration(
        name=name,
        entries=entries,
        firms=firms,
        description=str(raw.get("description", "")),
        firm_labels=labels,
    )


def _check_consistency(where: str, e: Mapping[str, Entry]) -> None:
    """Cross-entry checks: parts may not exceed their wholes."""
    if abs(e["trade_balance_cn"].value) > e["trade_cn"].value:
        raise ConfigError(f"{where}.entries.trade_balance_cn", "larger in size than total trade")
    if e["exports_us"].value > e["trade_us"].value:
        raise ConfigError(f"{where}.entries.exports_us", "exports to the US exceed total US trade")
    if e["dependence_floor"].value > e["rare_earth_dependence"].value:
        raise ConfigError(f"{where}.entries.dependence_floor", "above the initial dependence")


_NAME = Name("calibration name")


def calibration_table_markdown(base: Calibration, alternative: Calibration) -> str:
    """A Markdown table of every number in two calibrations (for docs/ODD.md)."""

    def fmt(v: float) -> str:
        return f"{v:g}"

    alt = {k: e for k, _, e in alternative.items()}
    lines = [
        f"| entry | {base.name} | {alternative.name} | unit | provenance | range |",
        "|---|---|---|---|---|---|",
    ]
    for key, _, e in base.items():
        a = alt[key]
        prov = (
            e.provenance
            if a.provenance == e.provenance
            else f"{e.provenance}; {alternative.name}: {a.provenance}"
        )
        rng = f"{fmt(e.range[0])} to {fmt(e.range[1])}" if e.range else ""
        lines.append(f"| `{key}` | {fmt(e.value)} | {fmt(a.value)} | {e.unit} | {prov} | {rng} |")
    return "\n".join(lines)
