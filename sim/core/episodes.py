"""Historical episodes: a replay, its quiet counterfactual, and what history observed.

An episode (``configs/episode/<name>.yaml``) names a calibration, the scenario that replays
the episode's instruments and the scenario without them (same calibration, same seeds), and
maps round 0 to a calendar date (rounds are quarters). Its observed outcomes are rows of a
tidy table (``configs/episode/observed.csv``, read by :func:`sim.catalog.observed_table`);
each row of kind ``outcome`` or ``instrument`` names a quantity of :data:`QUANTITIES`, which
says which per-round column of the model measures it and how (:data:`STATISTICS`).
:func:`model_statistic` turns a replay (and its counterfactual) into one number per world,
the same way for every episode, so that a distance to history can be computed without
knowing the episode. Nothing here names a country.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core.constraints import Integer, Name
from sim.core.errors import ConfigError

#: What a row of the observed table is: compared with the model (``outcome``), the episode's
#: own instrument as the replay carries it (``instrument``: a check of the replay, not
#: evidence for the model), or a figure the model has no channel for (``context``).
KINDS = ("outcome", "instrument", "context")

#: Columns of the observed table, in order.
OBSERVED_COLUMNS = (
    "episode",
    "quantity",
    "kind",
    "date",
    "date_end",
    "value",
    "unit",
    "source",
    "note",
)


@dataclass(frozen=True)
class Quantity:
    """How the model measures an observed quantity: a per-round column and a statistic."""

    column: str
    statistic: str
    unit: str
    meaning: str
    #: A calibration entry the statistic is divided by ("" for none): e.g. gains from trade
    #: divided by ``gains_from_trade`` are the trade they come from.
    divide_by: str = ""


#: Statistic -> what it computes per world over the row's window of rounds [r0, r1].
STATISTICS = {
    "mean": "mean of the column over the window (one round: its value after that round)",
    "sum": "sum of the column over the window",
    "loss_vs_counterfactual": "sum over the window of counterfactual minus replay (same seed)",
    "conceded": "share of the window's rounds with an announced Chinese demand in which "
    "compliance is at or below it (NaN if China announces none in the window)",
    "sided_with_china": "1 if the detector has Japan's side as China by the window's end",
    "sided_with_us": "1 if the detector has Japan's side as the US by the window's end",
}

#: Observed quantity -> its model measure. A firm column is written ``{firm}_...``.
QUANTITIES: dict[str, Quantity] = {
    "china_share_critical_inputs": Quantity(
        "rare_earth_dependence",
        "mean",
        "share 0-1",
        "China's share of the country's imports of the critical input (rare earths)",
    ),
    "diversification_outlay": Quantity(
        "jp_diversification_outlay_bn_q",
        "sum",
        "$bn",
        "public money spent on non-Chinese supply of the critical input over the window",
    ),
    "input_restriction": Quantity(
        "cn_restriction",
        "mean",
        "share withheld",
        "share of the critical input China withheld over the window",
    ),
    "restricted_export_share": Quantity(
        "cn_access",
        "mean",
        "access 0-1 (1 - share of exports to China restricted)",
        "market access left to the country's exports and firms in China",
    ),
    "conceded": Quantity(
        "jp_compliance",
        "conceded",
        "share of rounds 0-1",
        "the government gave China what it demanded on the contested policy",
    ),
    "sided_with_china": Quantity(
        "breakdown_side",
        "sided_with_china",
        "1 yes / 0 no",
        "the country met China's ask while breaching the US's, for a year (the model's breakdown)",
    ),
    "sided_with_us": Quantity(
        "breakdown_side",
        "sided_with_us",
        "1 yes / 0 no",
        "the country met the US's ask while breaching China's, for a year (the model's breakdown)",
    ),
    "lost_exports_to_china": Quantity(
        "jp_gains_cn_bn_q",
        "loss_vs_counterfactual",
        "$bn over the window",
        "trade with China lost to the episode's instruments (lost gains from trade over "
        "gains_from_trade; the model's exports are not redirected elsewhere)",
        divide_by="gains_from_trade",
    ),
}

_NAME = Name("episode name")
_ROUNDS = Integer(1, 1000, what="a whole number of rounds")
_MONTHS = Integer(1, 12, what="months per round")
_EPISODE_KEYS = {
    "name",
    "description",
    "calibration",
    "scenario",
    "counterfactual",
    "start_date",
    "round_months",
    "rounds",
    "defaults",
}


@dataclass(frozen=True)
class Episode:
    """One historical episode: what replays it and when its round 0 is."""

    name: str
    description: str
    calibration: str
    scenario: str
    counterfactual: str
    start_date: dt.date
    round_months: int = 3
    rounds: int = 40

    def round_of(self, date: dt.date) -> int:
        """The round (from 0) that ``date`` falls in; negative before the start."""
        return round_of(self.start_date, date, self.round_months)


def parse_date(key: str, value: Any) -> dt.date:
    """An ISO date (``YYYY-MM-DD``), or a ``datetime.date`` as YAML reads it."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(key, f"expected a date YYYY-MM-DD, got {value!r}") from None


def round_of(start: dt.date, date: dt.date, round_months: int = 3) -> int:
    """Whole rounds of ``round_months`` months from ``start`` to ``date`` (floor)."""
    months = (date.year - start.year) * 12 + (date.month - start.month)
    if date.day < start.day:
        months -= 1
    return months // round_months


def episode_from_dict(raw: Mapping, where: str = "episode") -> Episode:
    """Validate an episode mapping (the YAML's shape); names of configs are checked as names."""
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "expected a mapping")
    for key in raw:
        if key not in _EPISODE_KEYS:
            raise ConfigError(f"{where}.{key}", "unknown episode key")
    for key in ("name", "calibration", "scenario", "counterfactual", "start_date"):
        if raw.get(key) in (None, ""):
            raise ConfigError(f"{where}.{key}", "missing")
    return Episode(
        name=_NAME.check(f"{where}.name", raw["name"]),
        description=str(raw.get("description", "")),
        calibration=Name("calibration name").check(f"{where}.calibration", raw["calibration"]),
        scenario=Name("scenario name").check(f"{where}.scenario", raw["scenario"]),
        counterfactual=Name("scenario name").check(
            f"{where}.counterfactual", raw["counterfactual"]
        ),
        start_date=parse_date(f"{where}.start_date", raw["start_date"]),
        round_months=int(_MONTHS.check(f"{where}.round_months", raw.get("round_months", 3))),
        rounds=int(_ROUNDS.check(f"{where}.rounds", raw.get("rounds", 40))),
    )


def column_of(quantity: str, firm: str | None = None) -> str:
    """The per-round column that measures ``quantity`` (``{firm}`` filled in if given)."""
    col = QUANTITIES[quantity].column
    return col.format(firm=firm) if firm is not None else col


def model_statistic(
    statistic: str,
    column: str,
    replay: Mapping[str, np.ndarray],
    counterfactual: Mapping[str, np.ndarray] | None,
    r0: int,
    r1: int,
) -> np.ndarray:
    """One value per world of ``statistic`` of ``column`` over rounds ``r0..r1`` (inclusive).

    ``replay`` and ``counterfactual`` map columns to ``(rounds, worlds)`` arrays (the batch
    engine's ``rounds``), run with the same seeds so that world ``k`` of both is one draw.
    """
    window = slice(r0, r1 + 1)
    x = np.asarray(replay[column], dtype=float)[window]
    match statistic:
        case "mean":
            return x.mean(axis=0)
        case "sum":
            return x.sum(axis=0)
        case "loss_vs_counterfactual":
            if counterfactual is None:
                raise ValueError("loss_vs_counterfactual needs the counterfactual's rounds")
            base = np.asarray(counterfactual[column], dtype=float)[window]
            return (base - x).sum(axis=0)
        case "conceded":
            line = np.asarray(replay["cn_red_line"], dtype=float)[window]
            known = np.asarray(replay["cn_red_line_known"])[window] == 1
            met = known & (x <= line + 1e-12)
            with np.errstate(invalid="ignore", divide="ignore"):
                return met.sum(axis=0) / known.sum(axis=0)
        case "sided_with_china":
            return (x[-1] == 2).astype(float)
        case "sided_with_us":
            return (x[-1] == 1).astype(float)
        case _:
            raise ValueError(f"unknown statistic {statistic!r} (known: {', '.join(STATISTICS)})")
