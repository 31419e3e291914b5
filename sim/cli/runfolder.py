"""The run folder of ``python -m sim``: keyed by the config, written atomically, never overwritten.

``<output_dir>/<scenario>-<calibration>-seed<s>-r<rounds>-<confighash>/`` holds the resolved
``config.yaml``, the tidy per-round ``rounds.parquet`` (scenario, calibration, seed, round
and quarter columns; categories as strings; units in its metadata, read back into ``attrs``
by :func:`sim.sweep.storage.read_table`), the per-agent ``agents.parquet`` (Mesa engine) and
``outcome.json``. The files are written into a hidden temporary folder
(``.<name>.tmp-<random>``) that is renamed to the run folder in one step, so a run folder is
complete or absent; temporary folders of killed runs are removed by the next run in the same
``output_dir``. :func:`preflight` checks, before anything is computed, that the folder can be
written and stays inside ``output_dir``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.cli.inputs import RunInputs, resolve
from sim.engine.runner import RunResult
from sim.sweep.storage import (
    TempFolder,
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    check_writable_folder,
    code_version,
    config_hash,
    fault_point,
    inside,
    remove_stale_folders,
    unit_metadata,
)

#: Temporary run folders: ``.<run folder name>.tmp-<random>`` in ``output_dir``.
TMP_INFIX = ".tmp-"
#: Disk space a run folder needs (bytes, generous): fixed part and per round.
RUN_FOLDER_BYTES = 1024**2
ROUND_BYTES = 4 * 1024


def run_folder(inputs: RunInputs, plain: dict[str, Any]) -> Path:
    """Deterministic folder for this config: same config, same folder (names are validated)."""
    name = f"{inputs.scenario.name}-{inputs.calibration.name}-seed{inputs.seed}-r{inputs.rounds}"
    return inputs.output_dir / f"{name}-{config_hash(plain)}"


def plain_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config a run folder records (Hydra's own node removed)."""
    plain = resolve(cfg)
    plain.pop("hydra", None)
    plain.pop("cluster", None)  # where an experiment runs, not what a run is
    return plain


def preflight(inputs: RunInputs, plain: dict[str, Any]) -> Path:
    """The run folder, checked before the run is computed: it stays inside ``output_dir``
    and ``output_dir`` can be written (one-line :class:`ConfigError` otherwise)."""
    needed = RUN_FOLDER_BYTES + ROUND_BYTES * inputs.rounds
    check_writable_folder(inputs.output_dir, "output_dir", needed)
    return inside(inputs.output_dir, run_folder(inputs, plain))


def is_complete(folder: Path) -> bool:
    """True if ``folder`` is a finished run folder."""
    return (folder / "outcome.json").is_file()


def write_run(cfg: DictConfig, inputs: RunInputs, result: RunResult) -> Path:
    """Write config, per-round parquet and outcome into the run folder; never overwrite."""
    plain = plain_config(cfg)
    folder = preflight(inputs, plain)
    if is_complete(folder):
        print(f"run folder already complete (same config), left as it was: {folder}")
        return folder
    remove_stale_folders(inputs.output_dir, f".*{TMP_INFIX}*")
    if folder.is_dir() and not folder.is_symlink() and not is_complete(folder):
        shutil.rmtree(folder)  # an incomplete folder left by an older version of this code
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
    with TempFolder(inputs.output_dir, f".{folder.name}{TMP_INFIX}") as tmp:
        atomic_write_text(tmp.path / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(plain)))
        atomic_write_parquet(
            tmp.path / "rounds.parquet", result.rounds, unit_metadata(result.rounds)
        )
        fault_point("run:after-rounds")
        if result.agents is not None:
            atomic_write_parquet(
                tmp.path / "agents.parquet", result.agents, unit_metadata(result.agents)
            )
        atomic_write_json(tmp.path / "outcome.json", record)
        if not tmp.publish(folder):
            print(f"run folder already complete (same config), left as it was: {folder}")
            return folder
    print(f"wrote {folder}")
    return folder


def summary(inputs: RunInputs, outcome: Any) -> str:
    """The one line a finished run prints (``outcome``: the outcome row, or its mapping)."""
    o = outcome
    where = f" in round {int(o['breakdown_round'])}" if o["breakdown_round"] >= 0 else ""
    return (
        f"{inputs.scenario.name} / {inputs.calibration.name} / seed {inputs.seed}: "
        f"outcome {o['outcome']}{where}; mean compliance {o['mean_compliance']:.2f}; "
        f"cumulative welfare {o['cum_jp_welfare_bn']:.1f} $bn"
    )
