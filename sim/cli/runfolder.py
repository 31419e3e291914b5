"""The run folder of ``python -m sim``: keyed by the config, written atomically, never overwritten.

``<output_dir>/<scenario>-<calibration>-seed<s>-r<rounds>-<confighash>/`` holds the resolved
``config.yaml``, the tidy per-round ``rounds.parquet`` (scenario, calibration, seed, round
and quarter columns; categories as strings; units in its metadata, read back into ``attrs``
by :func:`sim.sweep.storage.read_table`), the per-agent ``agents.parquet`` (Mesa engine) and
``outcome.json``, written last: its presence marks the folder complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.cli.inputs import RunInputs, resolve
from sim.engine.runner import RunResult
from sim.sweep.storage import (
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    code_version,
    config_hash,
    unit_metadata,
)


def run_folder(inputs: RunInputs, plain: dict[str, Any]) -> Path:
    """Deterministic folder for this config: same config, same folder (names are validated)."""
    name = f"{inputs.scenario.name}-{inputs.calibration.name}-seed{inputs.seed}-r{inputs.rounds}"
    return inputs.output_dir / f"{name}-{config_hash(plain)}"


def write_run(cfg: DictConfig, inputs: RunInputs, result: RunResult) -> Path:
    """Write config, per-round parquet and outcome into the run folder; never overwrite."""
    plain = resolve(cfg)
    plain.pop("hydra", None)
    folder = run_folder(inputs, plain)
    if (folder / "outcome.json").exists():
        print(f"run folder already complete (same config), left as it was: {folder}")
        return folder
    atomic_write_text(folder / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(plain)))
    atomic_write_parquet(folder / "rounds.parquet", result.rounds, unit_metadata(result.rounds))
    if result.agents is not None:
        atomic_write_parquet(folder / "agents.parquet", result.agents, unit_metadata(result.agents))
    outcome = result.outcome.iloc[0].to_dict()
    outcome = {k: (v.item() if hasattr(v, "item") else v) for k, v in outcome.items()}
    record = {
        "outcome": outcome,
        "seed": inputs.seed,
        "rounds": inputs.rounds,
        "engine": inputs.engine,
        "scenario": inputs.scenario.name,
        "calibration": inputs.calibration.name,
        "code_version": code_version(),
        "config_hash": folder.name.rsplit("-", 1)[-1],
    }
    atomic_write_json(folder / "outcome.json", record)  # written last: marks the folder complete
    print(f"wrote {folder}")
    return folder


def summary(inputs: RunInputs, result: RunResult) -> str:
    """The one line a finished run prints."""
    o = result.outcome.iloc[0]
    where = f" in round {int(o['breakdown_round'])}" if o["breakdown_round"] >= 0 else ""
    return (
        f"{inputs.scenario.name} / {inputs.calibration.name} / seed {inputs.seed}: "
        f"outcome {o['outcome']}{where}; mean compliance {o['mean_compliance']:.2f}; "
        f"cumulative welfare {o['cum_jp_welfare_bn']:.1f} $bn"
    )
