"""Tidy tables: every per-round table keyed by scenario, calibration, seed and round, with units.

The engines record numbers (:mod:`sim.core.records`); here they become the tables a reader
gets: categories as strings (pandas categoricals, never integer codes), flags as booleans,
rounds also as calendar quarters, one meaning per column, and every column's unit in
``df.attrs["units"]`` (and, where a table is written, in the parquet metadata and a
``<file>.units.csv`` sidecar). :func:`to_dataset` turns a set of runs into an xarray Dataset
(world x round x variable) for netCDF export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.core.timeline import quarters_of_rounds

if TYPE_CHECKING:
    import xarray as xr

#: Columns recorded as integer codes, with the category each code stands for.
CATEGORIES: dict[str, dict[int, str]] = {
    "posture": {0: "balancing", 1: "us", 2: "china"},
    "breakdown_side": {0: "none", 1: "us", 2: "china"},
    "breakdown_channel": {0: "none", 1: "compliance", 2: "relation"},
    "rupture_side": {0: "none", 1: "us", 2: "china"},
}
#: Columns recorded as 0/1 that are flags.
FLAGS = ("cn_red_line_known", "jp_inertia")
#: Units of the key columns every per-round table starts with.
KEY_UNITS = {
    "scenario": "scenario name",
    "calibration": "calibration name",
    "seed": "simulation seed",
    "round": "round (quarter) from 0",
    "quarter": "calendar quarter of the round (round 0 is the scenario's start)",
}
_TIDY_UNITS = {
    "posture": "balancing | us | china: the side Japan's posture favours this round",
    "breakdown_side": "none (not yet) | us | china: the side Japan broke toward",
    "breakdown_channel": "none | compliance | relation: how Japan broke",
    "rupture_side": "none | us | china: the state that collapsed a relation by its own actions",
    "cn_red_line_known": "True if China announced its line this round",
    "jp_inertia": "True if Japan kept last round's compliance by inertia",
}
#: The agents table: what each agent's action is, and the unit of its level.
AGENT_ACTIONS = {
    "United States": ("us_tariff", "state"),
    "China": ("cn_restriction", "state"),
    "Japan": ("jp_compliance", "state"),
}
AGENT_UNITS = {
    **KEY_UNITS,
    "agent": "agent name (a state, or a firm)",
    "kind": "state | firm",
    "payoff_bn_q": "the agent's payoff this round, $bn per quarter",
    "action": "what the agent chose: us_tariff | cn_restriction | jp_compliance | lobbying_effort",
    "action_level": "level of that action, 0-1 (tariff: ad-valorem share; restriction: share "
    "withheld; compliance: 0-1; lobbying effort: 0-1)",
}


def round_units(firm_names: Sequence[str]) -> dict[str, str]:
    """Column -> unit of a tidy per-round table."""
    units = {**KEY_UNITS, **ROUND_COLUMNS, **_TIDY_UNITS}
    for f in firm_names:
        units.update({f"{f}_{k}": v for k, v in FIRM_COLUMNS.items()})
    return units


def categorical(codes: Any, names: Mapping[int, str]) -> Any:
    """Integer codes as a categorical of their names (categories in code order)."""
    arr = np.asarray(codes, dtype=np.int64)
    return pd.Categorical.from_codes(arr, categories=pd.Index(list(names.values())))


def _label(value: str, n: int) -> Any:
    return pd.Categorical([value] * n)


def tidy_rounds(
    raw: Mapping[str, Any],
    *,
    scenario: str,
    calibration: str,
    seed: int,
    start: str,
    firm_names: Sequence[str],
) -> pd.DataFrame:
    """One run's per-round columns (``raw``: column -> values per round) as a tidy table."""
    n = len(next(iter(raw.values())))
    cols: dict[str, Any] = {
        "scenario": _label(scenario, n),
        "calibration": _label(calibration, n),
        "seed": np.full(n, seed, dtype=np.int64),
        "round": np.arange(n, dtype=np.int64),
        "quarter": pd.Categorical(quarters_of_rounds(start, n)),
    }
    for k, v in raw.items():
        if k in CATEGORIES:
            cols[k] = categorical(v, CATEGORIES[k])
        elif k in FLAGS:
            cols[k] = np.asarray(v).astype(bool)
        else:
            cols[k] = np.asarray(v)
    df = pd.DataFrame(cols)
    df.attrs["units"] = {c: u for c, u in round_units(firm_names).items() if c in df}
    return df


def tidy_agents(
    raw: pd.DataFrame, *, scenario: str, calibration: str, seed: int, start: str
) -> pd.DataFrame:
    """The Mesa agents' table (``round``, ``agent``, ``payoff_bn_q``, ``action``) made tidy:
    the action named, its level in its own column."""
    n = len(raw)
    rounds = raw["round"].to_numpy(np.int64)
    last = int(rounds.max()) + 1 if n else 0
    quarters = np.asarray(quarters_of_rounds(start, last), dtype=object)
    action = [AGENT_ACTIONS.get(a, ("lobbying_effort", "firm")) for a in raw["agent"]]
    df = pd.DataFrame(
        {
            "scenario": _label(scenario, n),
            "calibration": _label(calibration, n),
            "seed": np.full(n, seed, dtype=np.int64),
            "round": rounds,
            "quarter": pd.Categorical(quarters[rounds] if n else []),
            "agent": pd.Categorical(raw["agent"]),
            "kind": pd.Categorical([a[1] for a in action], categories=["state", "firm"]),
            "payoff_bn_q": raw["payoff_bn_q"].to_numpy(np.float64),
            "action": pd.Categorical(
                [a[0] for a in action],
                categories=["us_tariff", "cn_restriction", "jp_compliance", "lobbying_effort"],
            ),
            "action_level": raw["action"].to_numpy(np.float64),
        }
    )
    df.attrs["units"] = dict(AGENT_UNITS)
    return df


def units_of(df: pd.DataFrame) -> dict[str, str]:
    """The units a table carries in ``df.attrs["units"]`` (empty if none)."""
    return dict(df.attrs.get("units", {}))


def concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack tidy tables (units kept; categoricals unioned so none falls back to codes)."""
    frames = list(frames)
    units: dict[str, str] = {}
    for f in frames:
        units.update(units_of(f))
    first = frames[0]
    cats = [
        c
        for c in first.columns
        if all(c in f and isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames)
    ]
    out = pd.concat([f.drop(columns=cats) for f in frames], ignore_index=True)
    for c in cats:
        values = np.concatenate([f[c].astype(object).to_numpy() for f in frames])
        categories = list(dict.fromkeys(x for f in frames for x in f[c].cat.categories))
        out[c] = pd.Categorical(values, categories=categories)
    out = out[[c for c in first.columns if c in out] + [c for c in out if c not in first]]
    out.attrs["units"] = units
    return out


#: Columns that name a world (one run) in a stacked per-round table.
WORLD_KEYS = ("scenario", "calibration", "seed")


def to_dataset(
    rounds: pd.DataFrame, world_keys: Sequence[str] | None = None, variables: Sequence[str] = ()
) -> xr.Dataset:
    """A stacked per-round table as an xarray Dataset over (world, round).

    Each world is one run, named by ``world_keys`` (default: scenario, calibration, seed, and
    any ``point``/``run_id`` and sweep columns present), which become coordinates along
    ``world``; ``quarter`` is a coordinate along ``round``. Every other numeric, boolean or
    categorical column becomes a variable (categoricals as strings) with its unit in
    ``attrs["units"]``; ``variables`` keeps only those.
    """
    import xarray as xr

    keys = list(world_keys) if world_keys is not None else _world_keys(rounds)
    index = rounds[keys].drop_duplicates().reset_index(drop=True)
    world = pd.MultiIndex.from_frame(index).get_indexer(pd.MultiIndex.from_frame(rounds[keys]))
    n_rounds = int(rounds["round"].max()) + 1
    r = rounds["round"].to_numpy(np.int64)
    units = units_of(rounds)
    skip = {*keys, "round", "quarter"}
    names = [c for c in rounds.columns if c not in skip and (not variables or c in variables)]
    data = {}
    for c in names:
        col = rounds[c]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            values = np.full((len(index), n_rounds), "", dtype=object)
            values[world, r] = col.astype(str).to_numpy()
            values = values.astype(str)
        elif col.dtype == bool:
            values = np.zeros((len(index), n_rounds), dtype=bool)
            values[world, r] = col.to_numpy()
        else:
            values = np.full((len(index), n_rounds), np.nan)
            values[world, r] = col.to_numpy(np.float64)
        data[c] = (("world", "round"), values, {"units": units.get(c, "")})
    coords: dict[str, Any] = {"round": np.arange(n_rounds, dtype=np.int64)}
    if "quarter" in rounds:
        quarter = np.full(n_rounds, "", dtype=object)
        quarter[r] = rounds["quarter"].astype(str).to_numpy()
        coords["quarter"] = ("round", quarter.astype(str))
    for k in keys:
        v = index[k]
        v = v.astype(str) if isinstance(v.dtype, pd.CategoricalDtype) or v.dtype == object else v
        coords[k] = ("world", v.to_numpy(), {"units": units.get(k, "")})
    ds = xr.Dataset(data, coords=coords)
    ds["round"].attrs["units"] = KEY_UNITS["round"]
    ds.attrs["title"] = "balancing-sim per-round trajectories (world x round)"
    return ds


def _world_keys(rounds: pd.DataFrame) -> list[str]:
    keys = [k for k in ("run_id", "point", "replicate", *WORLD_KEYS) if k in rounds]
    params = rounds.attrs.get("sweep_columns", [])
    return [*keys, *[p for p in params if p in rounds and p not in keys]]


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a Dataset as netCDF (classic format through scipy: no compiled netCDF library)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path, engine="scipy")
    return path


def write_units_csv(units: Mapping[str, str], path: str | Path) -> Path:
    """The sidecar of a CSV table: one row per column with its unit (``<table>.units.csv``)."""
    path = Path(path)
    pd.DataFrame({"column": list(units), "unit": list(units.values())}).to_csv(path, index=False)
    return path
