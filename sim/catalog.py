"""Named configs: calibrations and scenarios by name, composed by Hydra from the search path.

The package ships its configs as package data (``sim/conf``, Hydra search path
``pkg://sim.conf``). Folders of your own are added with the environment variable
``BALANCING_SIM_CONFIG_PATH`` (folders separated by ``os.pathsep``) or, on the command line,
with Hydra's ``--config-dir`` / ``hydra.searchpath``; each folder holds ``scenario/*.yaml``
and ``calibration/*.yaml`` (firm sets in ``calibration/firms/*.yaml``) laid out like
``sim/conf``, and its files may extend the shipped ones through a ``defaults:`` list. A
calibration replaces the firms it inherits with ``override firms: <set>`` (or
``override firms: null`` and a ``firms:`` mapping of its own): see docs/ODD.md, section 6.

Every file is read by Hydra's compose, the same way the command line reads it, so a file
with a problem (YAML syntax, a duplicated key, a ``defaults`` list that includes itself)
gives the same one-line :class:`~sim.core.errors.ConfigError` wherever it is loaded:
``python -m sim``, ``compare_scenarios``, a sweep's scenario axis or the app.
"""

from __future__ import annotations

import copy
import os
import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.calibration import Calibration, calibration_from_dict
from sim.core.constraints import Name
from sim.core.episodes import (
    KINDS,
    OBSERVED_COLUMNS,
    QUANTITIES,
    Episode,
    episode_from_dict,
    parse_date,
)
from sim.core.errors import ConfigError
from sim.core.scenario import Scenario, scenario_from_dict

#: Where the shipped configs are, as a package (Hydra ``pkg://``) and as a folder.
CONF_PACKAGE = "sim.conf"
CONF_DIR = Path(__file__).resolve().parent / "conf"
#: Extra config folders, separated by os.pathsep (searched after the shipped configs).
CONFIG_PATH_ENV = "BALANCING_SIM_CONFIG_PATH"
GROUPS = ("calibration", "scenario", "episode")
#: The observed outcomes of the episodes, one file per config folder (``episode/``).
OBSERVED_FILE = "observed.csv"
#: Columns :func:`observed_table` adds to the file's: the row's rounds and its model measure.
MAPPED_COLUMNS = ("round", "round_end", "column", "statistic", "divide_by")

_LOCK = threading.RLock()


def user_config_dirs() -> list[Path]:
    """Folders named in ``BALANCING_SIM_CONFIG_PATH`` (empty entries ignored)."""
    raw = os.environ.get(CONFIG_PATH_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def hydra_quote(value: str) -> str:
    """``value`` as a quoted Hydra override value (any path, quotes and backslashes included).

    In Hydra's grammar a quote inside single quotes is escaped with a backslash, and
    backslashes are special only right before a quote or the closing quote.
    """
    body = re.sub(r"(\\*)('|$)", lambda m: m.group(1) * 2 + ("\\'" if m.group(2) else ""), value)
    return f"'{body}'"


def search_path_override() -> list[str]:
    """Hydra overrides that add the user folders to the search path (none if there are none)."""
    dirs = user_config_dirs()
    if not dirs:
        return []
    items = ",".join(hydra_quote(f"file://{d.as_posix()}") for d in dirs)
    return [f"hydra.searchpath=[{items}]"]


def config_dirs() -> list[Path]:
    """Every folder searched for named configs: the shipped one first, then the user's."""
    return [CONF_DIR, *user_config_dirs()]


def names(group: str, nested: bool = False) -> list[str]:
    """Names of the configs of ``group`` (``scenario`` or ``calibration``) on the search path.

    ``nested``: also those in sub-folders, named ``<folder>/<name>`` (``examples/deal_2026``).
    """
    found: set[str] = set()
    for d in config_dirs():
        found.update(p.stem for p in (d / group).glob("*.yaml"))
        if nested:
            found.update(
                p.relative_to(d / group).with_suffix("").as_posix()
                for p in (d / group).glob("*/**/*.yaml")
            )
    return sorted(found)


def scenario_names() -> list[str]:
    """Names of the scenarios on the search path."""
    return names("scenario")


def example_names() -> list[str]:
    """Names of the worked example scenarios (``scenario/examples/*.yaml``, docs/scenarios.md)."""
    return [n for n in names("scenario", nested=True) if n.startswith("examples/")]


def calibration_names() -> list[str]:
    """Names of the calibrations on the search path."""
    return names("calibration")


def episode_names() -> list[str]:
    """Names of the historical episodes on the search path."""
    return names("episode")


def _file_of(group: str, name: str) -> str:
    for d in config_dirs():
        path = d / group / f"{name}.yaml"
        if path.exists():
            return str(path)
    return f"{group}/{name}.yaml"


def file_error(exc: BaseException) -> str | None:
    """One line for an error reading a config file (YAML syntax, duplicate key), or None."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.name}, line {mark.line + 1}" if mark is not None else "config file"
        problem = exc.problem or exc.context or "invalid YAML"
        return f"{where}: {problem}"
    if isinstance(exc, yaml.YAMLError):
        return f"config file: {str(exc).splitlines()[0]}"
    if isinstance(exc, RecursionError):
        return "config file: a defaults list includes itself (directly or through another file)"
    if isinstance(exc, UnicodeDecodeError):
        return f"config file: not UTF-8 text ({exc.reason} at byte {exc.start})"
    return None


# --------------------------------------------------------------------------- file checks
#: Longest chain of ``defaults`` followed when checking files (Hydra's own has no limit).
_MAX_DEPTH = 64


def _strict_loader() -> type:
    """A YAML loader that refuses duplicate keys (plain ``safe_load`` keeps the last one)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return StrictLoader


def read_config_file(path: Path) -> Any:
    """The content of a YAML config file, or a one-line :class:`ConfigError` naming the file:
    not readable, not UTF-8, invalid YAML, a duplicated key."""
    import yaml

    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_strict_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
            exc.problem_mark.name = str(path)
        raise ConfigError(
            str(path), (file_error(exc) or "invalid YAML").split(": ", 1)[-1]
        ) from None


def _find(group: str, name: str) -> Path | None:
    for d in config_dirs():
        path = d / group / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def _defaults_of(group: str, content: Any) -> list[tuple[str, str]]:
    """The (group, name) configs a file's ``defaults`` list includes (Hydra's rules)."""
    out: list[tuple[str, str]] = []
    if not isinstance(content, dict):
        return out
    entries = content.get("defaults") or []
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if isinstance(entry, str):
            key, values = None, [entry]
        elif isinstance(entry, dict) and len(entry) == 1:
            key, value = next(iter(entry.items()))
            values = value if isinstance(value, list) else [value]
        else:
            continue
        for value in values:
            if not isinstance(value, str) or value == "_self_" or "${" in value:
                continue
            if key is None:  # "- name" or "- sub/name": relative to the file's group
                target = value
            else:
                k = str(key).split("@")[0]
                for prefix in ("override ", "optional "):
                    k = k[len(prefix) :] if k.startswith(prefix) else k
                target = f"{k.strip()}/{value}"
            if target.startswith("/"):
                full = target[1:]
            else:
                full = f"{group}/{target}"
            g, _, n = full.rpartition("/")
            if g and not g.startswith("hydra"):
                out.append((g, n))
    return out


def check_config_file(group: str, name: str, _stack: tuple[str, ...] = ()) -> None:
    """Check config ``group/name`` and every file its ``defaults`` include, before Hydra
    reads them: UTF-8, YAML syntax, duplicate keys, a mapping at the top, no ``defaults``
    list that includes itself (Hydra would recurse until Python gives up). A one-line
    :class:`ConfigError` names the file. Names not found are left to Hydra ("unknown option")."""
    path = _find(group, name)
    if path is None:
        return
    ident = f"{group}/{name}"
    if ident in _stack:
        chain = " -> ".join([*_stack[_stack.index(ident) :], ident])
        raise ConfigError(str(path), f"its defaults list includes itself ({chain})")
    if len(_stack) > _MAX_DEPTH:
        raise ConfigError(str(path), f"defaults nested more than {_MAX_DEPTH} deep")
    content = read_config_file(path)
    if content is None and group in GROUPS:
        raise ConfigError(str(path), f"empty (a {group} file needs at least its entries)")
    if content is not None and not isinstance(content, dict):
        raise ConfigError(
            str(path), f"expected a mapping of keys at the top, got a {type(content).__name__}"
        )
    for g, n in _defaults_of(group, content):
        check_config_file(g, n, (*_stack, ident))


def _choice_values(value: str) -> list[str]:
    value = value.strip().strip("[]")
    return [v.strip().strip("'\"") for v in value.split(",") if v.strip()]


def check_config_dirs() -> None:
    """Every folder in ``BALANCING_SIM_CONFIG_PATH`` exists (a typo is not silently ignored)."""
    for d in user_config_dirs():
        if not d.is_dir():
            what = "not a folder" if d.exists() else "no such folder"
            raise ConfigError(CONFIG_PATH_ENV, f"{d}: {what}")


def check_config_files(args: list[str]) -> None:
    """:func:`check_config_file` for every config the command-line overrides select (and
    the default scenario and calibration); names of scenarios and calibrations must be names,
    not paths."""
    check_config_dirs()
    chosen: list[tuple[str, str]] = [("scenario", "baseline"), ("calibration", "article")]
    skip = False
    for arg in args:
        if skip or arg.startswith("-"):
            skip = arg in ("--config-dir", "-cd", "--config-name", "-cn", "--cfg", "-c")
            continue
        key, eq, value = arg.partition("=")
        group = key.lstrip("+~").split("@")[0]
        if not eq or not group or "." in group or group.startswith("hydra"):
            continue
        chosen += [(group, v) for v in _choice_values(value)]
    for group, name in chosen:
        if group in GROUPS:
            Name(f"{group} name").check(group, name)
        elif ".." in name.split("/"):
            raise ConfigError(group, f"a config name, not a path, got {name!r}")
        check_config_file(group, name)


def compose_named(group: str, name: str) -> dict[str, Any]:
    """The plain mapping of config ``group/name`` with its ``defaults`` merged by Hydra."""
    if not isinstance(name, str) or not name:
        raise ConfigError(group, f"expected a {group} name, got {name!r}")
    available = names(group)
    if name not in available and name not in names(group, nested=True):
        raise ConfigError(
            group, f"unknown {group} {name!r} (available: {', '.join(available) or 'none'})"
        )
    check_config_dirs()
    check_config_file(group, name)
    # A copy: the cached mapping must not change under the caller's edits.
    return copy.deepcopy(_compose_cached(group, name, os.environ.get(CONFIG_PATH_ENV, "")))


@lru_cache(maxsize=256)
def _compose_cached(group: str, name: str, _search_path: str) -> dict[str, Any]:
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    overrides = [f"+{group}={name}", *search_path_override()]
    with _LOCK:
        try:
            if GlobalHydra.instance().is_initialized():
                # Inside `python -m sim`: the command line's search path already applies.
                cfg = compose(config_name=None, overrides=overrides[:1])
            else:
                with initialize_config_module(version_base="1.3", config_module=CONF_PACKAGE):
                    cfg = compose(config_name=None, overrides=overrides)
        except Exception as exc:  # noqa: BLE001 - every config-file problem becomes one line
            line = file_error(exc) or file_error(exc.__cause__ or exc.__context__ or exc)
            if line is None:
                first = str(exc).strip().splitlines()
                line = f"{_file_of(group, name)}: {first[0] if first else type(exc).__name__}"
            raise ConfigError(group, line) from None
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    return plain[group]


def load_calibration(name: str = "article") -> Calibration:
    """The named calibration, validated."""
    raw = compose_named("calibration", name)
    raw.setdefault("name", name)
    return calibration_from_dict(raw, where="calibration")


def load_scenario(name: str = "baseline", **overrides: Any) -> Scenario:
    """The named scenario (``examples/<name>`` for a worked example), validated, with optional
    field overrides."""
    raw = compose_named("scenario", name)
    raw.setdefault("name", name.rsplit("/", 1)[-1])
    raw.update(overrides)
    return scenario_from_dict(raw)


def resolve_calibration(calibration: str | Calibration) -> Calibration:
    """A calibration given by name or already loaded."""
    return load_calibration(calibration) if isinstance(calibration, str) else calibration


def resolve_scenario(scenario: str | Scenario) -> Scenario:
    """A scenario given by name or already loaded."""
    return load_scenario(scenario) if isinstance(scenario, str) else scenario


def load_episode(name: str) -> Episode:
    """The named episode, validated (its calibration and scenarios exist on the search path)."""
    raw = compose_named("episode", name)
    raw.setdefault("name", name)
    ep = episode_from_dict(raw, where="episode")
    for key, group in (
        ("calibration", "calibration"),
        ("scenario", "scenario"),
        ("counterfactual", "scenario"),
    ):
        if getattr(ep, key) not in names(group):
            raise ConfigError(f"episode.{key}", f"unknown {group} {getattr(ep, key)!r}")
    return ep


def observed_files() -> list[Path]:
    """Every ``episode/observed.csv`` on the search path (shipped first)."""
    return [d / "episode" / OBSERVED_FILE for d in config_dirs() if (d / "episode").is_dir()]


def observed_table(episode: str | None = None) -> pd.DataFrame:
    """The observed outcomes, tidy, with each row's rounds and its model measure.

    Columns: those of the file (:data:`sim.core.episodes.OBSERVED_COLUMNS`: episode,
    quantity, kind, date, date_end, value, unit, source, note) plus ``round`` and
    ``round_end`` (the row's window of rounds of its episode, inclusive; dates before round 0
    count as round 0, a point date gives a one-round window) and, for ``outcome`` and
    ``instrument`` rows, the ``column`` of the model's per-round table that measures the
    quantity, the ``statistic`` that turns it into one number per world and the calibration
    entry it is divided by, if any (``divide_by``; :data:`sim.core.episodes.QUANTITIES`);
    empty for ``context`` rows. Validated on load:
    a bad row stops with one line naming its file, row and field.
    """
    frames = []
    for path in observed_files():
        if path.exists():
            frames.append(_read_observed(path))
    if not frames:
        raise ConfigError("episode", f"no {OBSERVED_FILE} on the search path")
    table = pd.concat(frames, ignore_index=True)
    if episode is not None:
        if episode not in episode_names():
            raise ConfigError("episode", f"unknown episode {episode!r}")
        table = table[table["episode"] == episode].reset_index(drop=True)
    return table


def _read_observed(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if tuple(table.columns) != OBSERVED_COLUMNS:
        raise ConfigError(
            str(path),
            f"columns must be {', '.join(OBSERVED_COLUMNS)}; got {', '.join(table.columns)}",
        )
    episodes = {name: load_episode(name) for name in sorted(set(table["episode"]))}
    rows = [
        _observed_row(f"{path.name}, row {i + 2}", raw, episodes)
        for i, raw in enumerate(table.to_dict("records"))
    ]
    return pd.DataFrame(rows, columns=[*OBSERVED_COLUMNS, *MAPPED_COLUMNS])


def _observed_row(
    where: str, raw: Mapping[Any, Any], episodes: dict[str, Episode]
) -> dict[str, Any]:
    for key in ("episode", "quantity", "kind", "date", "value", "unit", "source"):
        if not str(raw[key]).strip():
            raise ConfigError(f"{where}.{key}", "missing")
    ep = episodes[raw["episode"]]
    if raw["kind"] not in KINDS:
        raise ConfigError(
            f"{where}.kind", f"unknown kind {raw['kind']!r} (choose from {', '.join(KINDS)})"
        )
    try:
        value = float(raw["value"])
    except ValueError:
        raise ConfigError(f"{where}.value", f"expected a number, got {raw['value']!r}") from None
    date = parse_date(f"{where}.date", raw["date"])
    end = parse_date(f"{where}.date_end", raw["date_end"]) if raw["date_end"] else date
    if end < date:
        raise ConfigError(f"{where}.date_end", "before the row's date")
    r0, r1 = max(ep.round_of(date), 0), max(ep.round_of(end), 0)
    column = statistic = divide_by = ""
    if raw["kind"] != "context":
        q = QUANTITIES.get(raw["quantity"])
        if q is None:
            raise ConfigError(
                f"{where}.quantity",
                f"{raw['quantity']!r} has no model measure (known: {', '.join(QUANTITIES)}); "
                "a figure the model cannot represent is kind 'context'",
            )
        if r1 >= ep.rounds:
            raise ConfigError(f"{where}.date_end", f"after the episode's {ep.rounds} rounds")
        column, statistic, divide_by = q.column, q.statistic, q.divide_by
    return {
        **{k: raw[k] for k in OBSERVED_COLUMNS},
        "value": value,
        "round": r0,
        "round_end": r1,
        "column": column,
        "statistic": statistic,
        "divide_by": divide_by,
    }
