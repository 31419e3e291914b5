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
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.core.calibration import Calibration, calibration_from_dict
from sim.core.errors import ConfigError
from sim.core.scenario import Scenario, scenario_from_dict

#: Where the shipped configs are, as a package (Hydra ``pkg://``) and as a folder.
CONF_PACKAGE = "sim.conf"
CONF_DIR = Path(__file__).resolve().parent / "conf"
#: Extra config folders, separated by os.pathsep (searched after the shipped configs).
CONFIG_PATH_ENV = "BALANCING_SIM_CONFIG_PATH"
GROUPS = ("calibration", "scenario")

_LOCK = threading.RLock()


def user_config_dirs() -> list[Path]:
    """Folders named in ``BALANCING_SIM_CONFIG_PATH`` (empty entries ignored)."""
    raw = os.environ.get(CONFIG_PATH_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def search_path_override() -> list[str]:
    """Hydra overrides that add the user folders to the search path (none if there are none)."""
    dirs = user_config_dirs()
    if not dirs:
        return []
    items = ",".join(f'"file://{d.as_posix()}"' for d in dirs)
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
    return None


def compose_named(group: str, name: str) -> dict[str, Any]:
    """The plain mapping of config ``group/name`` with its ``defaults`` merged by Hydra."""
    if not isinstance(name, str) or not name:
        raise ConfigError(group, f"expected a {group} name, got {name!r}")
    available = names(group)
    if name not in available and name not in names(group, nested=True):
        raise ConfigError(
            group, f"unknown {group} {name!r} (available: {', '.join(available) or 'none'})"
        )
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
