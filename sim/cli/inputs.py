"""From a composed config to validated inputs, and the pure run (no files written).

Tests call :func:`run` on a config from Hydra's compose API; the command line calls it from
:mod:`sim.cli.main` and writes the result with :mod:`sim.cli.runfolder`.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from sim.cli.schema import RunConfig
from sim.core.calibration import Calibration, calibration_from_dict
from sim.core.constraints import check_seed
from sim.core.errors import ConfigError
from sim.core.params import ROUNDS
from sim.core.scenario import Scenario, scenario_from_dict
from sim.engine.runner import ENGINE

if TYPE_CHECKING:
    from sim.engine.runner import RunResult

#: Keys a run config may have at its top level (Hydra's own node included).
TOP_LEVEL_KEYS = frozenset({f.name for f in dataclasses.fields(RunConfig)} | {"hydra"})
#: Keys that moved, with where they went (a one-line pointer instead of "unknown key").
MOVED_KEYS = {
    "breakdown": "the breakdown detector's constants are calibration entries now: "
    "calibration.entries.breakdown_meet_tolerance, breakdown_cross_threshold, "
    "breakdown_sustain_rounds, relation_collapse_trust",
}


def resolve(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain data (what a run folder records)."""
    plain = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    assert isinstance(plain, dict)
    return {str(k): v for k, v in plain.items()}


def check_keys(where: str, given: Any, known: frozenset[str]) -> None:
    """One line naming the first unknown key (with the closest known one as a hint)."""
    for key in given:
        if key in MOVED_KEYS and key not in known:
            raise ConfigError(f"{where}{key}", MOVED_KEYS[key])
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}{key}", f"unknown key{hint}")


@dataclass(frozen=True)
class RunInputs:
    """Everything one run needs, validated."""

    calibration: Calibration
    scenario: Scenario
    seed: int
    rounds: int
    engine: str
    output_dir: Path
    force: bool = False


def output_root(value: Any) -> Path:
    """The output folder: a non-empty path, relative to the current directory."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("output_dir", f"must be a folder path, got {value!r}")
    root = Path(value).expanduser()
    return root if root.is_absolute() else Path.cwd() / root


def build_inputs(cfg: DictConfig) -> RunInputs:
    """Validated run inputs from a composed config; a one-line ConfigError for bad input."""
    plain = resolve(cfg)
    check_keys("", plain, TOP_LEVEL_KEYS)
    for key in ("calibration", "scenario", "seed", "rounds", "engine", "output_dir"):
        if key not in plain:
            raise ConfigError(key, "missing (a run needs it; do not remove it with ~)")
    if (plain.get("cluster") or {}).get("address"):
        raise ConfigError(
            "cluster.address", "only experiments (+experiment=...) run on a cluster, not one run"
        )
    return RunInputs(
        calibration=calibration_from_dict(plain["calibration"], where="calibration"),
        scenario=scenario_from_dict(plain["scenario"]),
        seed=check_seed("seed", plain["seed"]),
        rounds=ROUNDS.check("rounds", plain["rounds"]),
        engine=ENGINE.check("engine", plain["engine"]),
        output_dir=output_root(plain["output_dir"]),
        force=bool(plain.get("force", False)),
    )


def run(cfg: DictConfig) -> RunResult:
    """Run the configured scenario and seed (pure: no files written)."""
    from sim.engine.runner import run_single  # imports Mesa: only single runs need it

    x = build_inputs(cfg)
    return run_single(x.calibration, x.scenario, x.rounds, x.seed, x.engine)
