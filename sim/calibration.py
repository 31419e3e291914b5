"""Calibration: every number the model uses, with unit and provenance, validated on load.

A calibration file (``configs/calibration/*.yaml``) has ``entries`` (one per parameter) and
``firms`` (one profile per firm). Each entry is ``{value, unit, provenance, ...}`` where
provenance is ``article [n]``, ``assumption`` (with ``range`` and ``reason``) or
``external: <source>``. Validation happens here, once; the numerical core trusts its inputs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError
from sim.paths import CONFIG_DIR

#: The article's section markers (DESIGN.md section 2).
ARTICLE_MARKERS = frozenset({2, 4, 6, 10, 11})

#: Firms the model knows how to represent; a calibration must profile at least REQUIRED_FIRMS.
KNOWN_FIRMS = ("toyota", "sony", "honda", "nissan", "panasonic", "tokyo_electron")
REQUIRED_FIRMS = ("toyota", "sony", "honda")

# Kinds: money (>= 0, scaled with the currency), signed_money, share (0-1), positive,
# nonneg, quarters (integer >= 1).
ENTRY_KINDS: dict[str, str] = {
    "trade_cn": "money",
    "trade_balance_cn": "signed_money",
    "rare_earth_dependence": "share",
    "component_dependence": "share",
    "access_loss": "money",
    "china_processing_share": "share",
    "investment_cn": "money",
    "government_debt": "money",
    "gdp_nominal": "money_positive",
    "gdp_growth": "growth",
    "trade_us": "money",
    "exports_us": "money",
    "us_base_tariff": "share",
    "gains_from_trade": "share",
    "tariff_incidence": "share",
    "tariff_elasticity": "nonneg",
    "chip_export_share": "share",
    "alliance_value": "money",
    "input_disruption_cost": "money",
    "component_spillover": "share",
    "adjustment_cost": "nonneg",
    "fiscal_weight": "nonneg",
    "growth_reference": "growth",
    "growth_weight": "nonneg",
    "stress_debt_increase": "nonneg",
    "stress_growth_drop": "nonneg",
    "diversification_spend": "money",
    "diversification_rate": "share",
    "diversification_lag": "quarters",
    "dependence_floor": "share",
    "planning_horizon": "quarters",
    "belief_rate": "share",
    "initial_restriction_belief": "share",
    "china_red_line": "share",
    "access_cut": "share",
    "us_alignment_value": "money",
    "cn_tech_loss": "money",
    "trust_us_initial": "share",
    "trust_cn_initial": "share",
    "trust_rate": "share",
    "trust_sensitivity": "nonneg",
    "trust_severity": "nonneg",
    "temperature": "positive",
    "inertia": "share",
    "state_temperature": "positive",
    "trade_shock_sd": "nonneg",
    "lobbying_weight": "nonneg",
    "stake_half": "positive",
    "lobbying_cost": "share",
    "relocation_rate": "share",
}

FIRM_KINDS: dict[str, str] = {
    "profit": "money",
    "china_profit_share": "share",
    "us_tariff_exposure": "share",
    "rare_earth_intensity": "share",
    "export_control_exposure": "share",
    "lobbying_efficiency": "share",
}

MONEY_KINDS = frozenset({"money", "signed_money", "money_positive"})
_ENTRY_FIELDS = {"value", "unit", "provenance", "range", "reason", "note", "discrepancy"}
_ARTICLE_RE = re.compile(r"^article \[(\d+)\]$")


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
    _raw: dict = field(default_factory=dict, repr=False, compare=False)

    def value(self, key: str) -> float:
        """The value of entry ``key`` (in the entry's own unit)."""
        return self.entries[key].value

    def firm_value(self, firm: str, key: str) -> float:
        """The value of ``key`` in ``firm``'s profile."""
        return self.firms[firm][key].value

    @property
    def firm_names(self) -> tuple[str, ...]:
        return tuple(self.firms)

    def items(self):
        """Yield ``(dotted_key, kind, Entry)`` for every number, firms included."""
        for key, entry in self.entries.items():
            yield key, ENTRY_KINDS[key], entry
        for firm, profile in self.firms.items():
            for key, entry in profile.items():
                yield f"firms.{firm}.{key}", FIRM_KINDS[key], entry

    def to_dict(self) -> dict:
        """Plain nested dict, the same shape as the YAML file."""
        return {
            "name": self.name,
            "description": self.description,
            "entries": {k: _entry_dict(e) for k, e in self.entries.items()},
            "firms": {
                f: {k: _entry_dict(e) for k, e in prof.items()} for f, prof in self.firms.items()
            },
        }

    def with_money_scaled(self, factor: float) -> Calibration:
        """Copy with every monetary figure multiplied by ``factor`` (a change of currency unit)."""
        raw = self.to_dict()

        def scale(entry: dict) -> None:
            entry["value"] *= factor
            if "range" in entry:
                entry["range"] = [x * factor for x in entry["range"]]

        for key, kind in ENTRY_KINDS.items():
            if kind in MONEY_KINDS:
                scale(raw["entries"][key])
        for firm in raw["firms"].values():
            for key, kind in FIRM_KINDS.items():
                if kind in MONEY_KINDS:
                    scale(firm[key])
        return calibration_from_dict(raw, where="calibration")


def _entry_dict(e: Entry) -> dict:
    d = {"value": e.value, "unit": e.unit, "provenance": e.provenance}
    for name in ("range", "reason", "note", "discrepancy"):
        v = getattr(e, name)
        if v is not None:
            d[name] = list(v) if name == "range" else v
    return d


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_value(key: str, kind: str, value: Any) -> float:
    if not _is_number(value):
        raise ConfigError(key, f"expected a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(key, f"must be finite, got {value!r}")
    match kind:
        case "share":
            if not 0.0 <= v <= 1.0:
                raise ConfigError(key, f"share must be in [0, 1], got {value!r}")
        case "money" | "nonneg":
            if v < 0:
                raise ConfigError(key, f"must be non-negative, got {value!r}")
        case "money_positive" | "positive":
            if v <= 0:
                raise ConfigError(key, f"must be positive, got {value!r}")
        case "growth":
            if not -0.2 <= v <= 0.2:
                raise ConfigError(key, f"annual growth must be in [-0.2, 0.2], got {value!r}")
        case "quarters":
            if v < 1 or v != int(v):
                raise ConfigError(key, f"must be a whole number of quarters >= 1, got {value!r}")
        case "signed_money":
            pass
        case _:
            raise ValueError(f"unknown kind {kind!r}")
    return v


def _check_entry(key: str, kind: str, raw: Any) -> Entry:
    if not isinstance(raw, Mapping):
        raise ConfigError(key, "expected a mapping with value, unit and provenance")
    unknown = set(raw) - _ENTRY_FIELDS
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}", "unknown field in a calibration entry")
    for required in ("value", "unit", "provenance"):
        if raw.get(required) is None:
            raise ConfigError(f"{key}.{required}", "missing")
    value = _check_value(f"{key}.value", kind, raw["value"])
    prov = str(raw["provenance"]).strip()
    rng = raw.get("range")
    m = _ARTICLE_RE.match(prov)
    if m:
        if int(m.group(1)) not in ARTICLE_MARKERS:
            raise ConfigError(f"{key}.provenance", f"the article has no marker [{m.group(1)}]")
    elif prov == "assumption":
        if rng is None or raw.get("reason") in (None, ""):
            raise ConfigError(key, "an assumption needs a range and a reason")
    elif not prov.startswith("external: ") or len(prov) < 15:
        raise ConfigError(
            f"{key}.provenance",
            f"must be 'article [n]', 'assumption' or 'external: <source>', got {prov!r}",
        )
    if rng is not None:
        if (
            not isinstance(rng, list | tuple)
            or len(rng) != 2
            or not all(_is_number(x) for x in rng)
        ):
            raise ConfigError(f"{key}.range", f"expected [low, high], got {rng!r}")
        lo, hi = float(rng[0]), float(rng[1])
        if lo > hi:
            raise ConfigError(f"{key}.range", f"low {lo} is above high {hi}")
        if not lo <= value <= hi:
            raise ConfigError(f"{key}.value", f"{value} lies outside its range [{lo}, {hi}]")
        rng = (lo, hi)
    return Entry(
        value=value,
        unit=str(raw["unit"]),
        provenance=prov,
        range=rng,
        reason=raw.get("reason"),
        note=raw.get("note"),
        discrepancy=raw.get("discrepancy"),
    )


def calibration_from_dict(raw: Mapping, where: str = "calibration") -> Calibration:
    """Validate a calibration mapping (the YAML's shape) and return a :class:`Calibration`."""
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "expected a mapping")
    unknown_top = set(raw) - {"name", "description", "entries", "firms", "defaults"}
    if unknown_top:
        raise ConfigError(f"{where}.{sorted(unknown_top)[0]}", "unknown key")
    entries_raw = raw.get("entries")
    if not isinstance(entries_raw, Mapping):
        raise ConfigError(f"{where}.entries", "missing or not a mapping")
    for key in entries_raw:
        if key not in ENTRY_KINDS:
            raise ConfigError(f"{where}.entries.{key}", "unknown calibration entry")
    entries = {}
    for key, kind in ENTRY_KINDS.items():
        if key not in entries_raw:
            raise ConfigError(f"{where}.entries.{key}", "missing")
        entries[key] = _check_entry(f"{where}.entries.{key}", kind, entries_raw[key])
    firms_raw = raw.get("firms")
    if not isinstance(firms_raw, Mapping) or not firms_raw:
        raise ConfigError(f"{where}.firms", "missing or empty")
    firms: dict[str, dict[str, Entry]] = {}
    for firm, profile in firms_raw.items():
        fwhere = f"{where}.firms.{firm}"
        if firm not in KNOWN_FIRMS:
            raise ConfigError(fwhere, f"unknown firm (known: {', '.join(KNOWN_FIRMS)})")
        if not isinstance(profile, Mapping):
            raise ConfigError(fwhere, "expected a mapping of profile entries")
        for key in profile:
            if key not in FIRM_KINDS:
                raise ConfigError(f"{fwhere}.{key}", "unknown firm profile entry")
        firms[firm] = {}
        for key, kind in FIRM_KINDS.items():
            if key not in profile:
                raise ConfigError(f"{fwhere}.{key}", "missing")
            firms[firm][key] = _check_entry(f"{fwhere}.{key}", kind, profile[key])
    for firm in REQUIRED_FIRMS:
        if firm not in firms:
            raise ConfigError(
                f"{where}.firms.{firm}", "missing (Toyota, Sony and Honda are required)"
            )
    # Cross-field checks.
    e = entries
    if abs(e["trade_balance_cn"].value) > e["trade_cn"].value:
        raise ConfigError(f"{where}.entries.trade_balance_cn", "larger in size than total trade")
    if e["exports_us"].value > e["trade_us"].value:
        raise ConfigError(f"{where}.entries.exports_us", "exports to the US exceed total US trade")
    if e["dependence_floor"].value > e["rare_earth_dependence"].value:
        raise ConfigError(f"{where}.entries.dependence_floor", "above the initial dependence")
    return Calibration(
        name=str(raw.get("name", "custom")),
        entries=entries,
        firms=firms,
        description=str(raw.get("description", "")),
        _raw=dict(raw),
    )


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def read_calibration_file(name: str, config_dir: Path = CONFIG_DIR) -> dict:
    """Read ``calibration/<name>.yaml``, resolving its Hydra-style ``defaults`` (base files)."""
    path = config_dir / "calibration" / f"{name}.yaml"
    if not path.exists():
        available = sorted(p.stem for p in (config_dir / "calibration").glob("*.yaml"))
        raise ConfigError(
            "calibration", f"unknown calibration {name!r} (available: {', '.join(available)})"
        )
    raw = yaml.safe_load(path.read_text()) or {}
    merged: dict = {}
    defaults = raw.pop("defaults", ["_self_"])
    if "_self_" not in defaults:
        defaults = [*defaults, "_self_"]
    for item in defaults:
        if item == "_self_":
            merged = _deep_merge(merged, raw)
        else:
            merged = _deep_merge(merged, read_calibration_file(item, config_dir))
    return merged


def load_calibration(name: str = "article", config_dir: Path = CONFIG_DIR) -> Calibration:
    """Load and validate a named calibration from ``configs/calibration/``."""
    return calibration_from_dict(read_calibration_file(name, config_dir), where="calibration")


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
        rng = f"{fmt(e.range[0])}-{fmt(e.range[1])}" if e.range else ""
        lines.append(f"| `{key}` | {fmt(e.value)} | {fmt(a.value)} | {e.unit} | {prov} | {rng} |")
    return "\n".join(lines)
