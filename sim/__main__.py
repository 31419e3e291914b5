"""``python -m sim``: run one scenario through Hydra and write a run folder.

The ``@hydra.main`` function is a thin shell: :func:`run` is pure (tests call it through
Hydra's compose API) and file I/O happens in :func:`write_run`.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.breakdown import BreakdownRule
from sim.calibration import calibration_from_dict
from sim.cli_errors import one_line_error
from sim.config_schema import register_configs
from sim.errors import ConfigError
from sim.paths import CONFIG_DIR, REPO_ROOT
from sim.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.runner import RunResult, run_single
from sim.scenario import Scenario, scenario_from_dict
from sim.storage import atomic_write_json, atomic_write_parquet, atomic_write_text, code_version, config_hash

register_configs()


def resolve(cfg: DictConfig) -> dict:
    """The resolved config as plain data (what a run folder records)."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def build_inputs(cfg: DictConfig):
    """Validated (calibration, scenario, rule) from a composed config."""
    plain = resolve(cfg)
    calibration = calibration_from_dict(plain["calibration"], where="calibration")
    scenario = scenario_from_dict(plain["scenario"]) if not isinstance(plain["scenario"], Scenario) else plain["scenario"]
    rule = BreakdownRule(**plain["breakdown"])
    for key in ("seed", "rounds"):
        if plain[key] < (0 if key == "seed" else 1):
            raise ConfigError(key, f"must be {'>= 0' if key == 'seed' else '>= 1'}, got {plain[key]}")
    return calibration, scenario, rule


def run(cfg: DictConfig) -> RunResult:
    """Run the configured scenario and seed (pure: no files written)."""
    calibration, scenario, rule = build_inputs(cfg)
    return run_single(calibration, scenario, int(cfg.rounds), int(cfg.seed), rule, str(cfg.engine))


def run_folder(cfg: DictConfig) -> Path:
    """Deterministic folder for this config: same config, same folder."""
    plain = resolve(cfg)
    name = f"{plain['scenario']['name']}-{plain['calibration']['name']}-seed{plain['seed']}-r{plain['rounds']}"
    root = Path(plain["output_dir"])
    if not root.is_absolute():
        root = REPO_ROOT / root
    return root / f"{name}-{config_hash(plain)}"


def write_run(cfg: DictConfig, result: RunResult) -> Path:
    """Write config, per-round parquet and outcome into the run folder; never overwrite."""
    folder = run_folder(cfg)
    if (folder / "outcome.json").exists():
        print(f"run folder already complete (same config), left as it was: {folder}")
        return folder
    units = {f"unit:{k}": v for k, v in ROUND_COLUMNS.items()}
    units.update({f"unit:<firm>_{k}": v for k, v in FIRM_COLUMNS.items()})
    atomic_write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    atomic_write_parquet(folder / "rounds.parquet", result.rounds, units)
    if result.agents is not None:
        atomic_write_parquet(folder / "agents.parquet", result.agents)
    outcome = result.outcome.iloc[0].to_dict()
    outcome = {k: (v.item() if hasattr(v, "item") else v) for k, v in outcome.items()}
    record = {
        "outcome": outcome,
        "seed": int(cfg.seed),
        "rounds": int(cfg.rounds),
        "engine": str(cfg.engine),
        "scenario": str(cfg.scenario.name),
        "calibration": str(cfg.calibration.name),
        "code_version": code_version(),
        "config_hash": folder.name.rsplit("-", 1)[-1],
    }
    atomic_write_json(folder / "outcome.json", record)  # written last: marks the folder complete
    print(f"wrote {folder}")
    return folder


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        result = run(cfg)
    except ConfigError as exc:  # one line, and no "Error executing job" banner from Hydra
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    write_run(cfg, result)
    o = result.outcome.iloc[0]
    where = f" in round {int(o['breakdown_round'])}" if o["breakdown_round"] >= 0 else ""
    print(
        f"{cfg.scenario.name} / {cfg.calibration.name} / seed {cfg.seed}: outcome {o['outcome']}{where}; "
        f"mean compliance {o['mean_compliance']:.2f}; cumulative welfare {o['cum_jp_welfare_bn']:.1f} $bn"
    )


def main() -> int:
    """Entry point: Hydra with every configuration error reported on one line."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us, then print them in one line
    try:
        _hydra_main()
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:  # noqa: BLE001
        line = one_line_error(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
