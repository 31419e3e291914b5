"""``balancing-sim`` / ``python -m sim``: one run through Hydra, or an experiment (a sweep).

A thin shell: :mod:`sim.cli.inputs` turns the composed config into validated inputs and runs
them, :mod:`sim.cli.runfolder` writes the run folder, :mod:`sim.cli.launch` plans and
launches experiments, :mod:`sim.cli.errors` turns any configuration error into one line.

Every bad input (an override, a config file, the environment: a folder that cannot be
written, a full disk) ends in one line on stderr naming the key or file and the problem, with
exit status 2 and nothing written; checks that need no computing (the config, the output
folder, the size of the job) are all made before anything is computed.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.catalog import CONFIG_PATH_ENV, check_config_files, search_path_override
from sim.cli.errors import check_overrides, one_line_error
from sim.cli.help import help_text
from sim.cli.inputs import build_inputs
from sim.cli.launch import check_multirun_jobs, launch_sweep, prepare_launch, run_sweep_job
from sim.cli.runfolder import is_complete, plain_config, preflight, summary, write_run
from sim.cli.schema import register_configs
from sim.core.errors import ConfigError
from sim.engine import cost

register_configs()

#: Exit status for bad input of any kind (configuration, files, environment).
BAD_INPUT = 2


def _single_run(cfg: DictConfig) -> None:
    """Validate, check the folder and the size, run, write: in that order."""
    import json

    from sim.engine.runner import run_single  # imports Mesa: only single runs need it

    inputs = build_inputs(cfg)
    cost.check(cost.single_run(inputs.engine, inputs.rounds), "rounds", inputs.force)
    folder = preflight(inputs, plain_config(cfg))
    if is_complete(folder):
        record = json.loads((folder / "outcome.json").read_text())
        print(f"run folder already complete (same config), left as it was: {folder}")
        print(summary(inputs, record["outcome"]))
        return
    result = run_single(
        inputs.calibration, inputs.scenario, inputs.rounds, inputs.seed, inputs.engine
    )
    write_run(cfg, inputs, result)
    print(summary(inputs, result.outcome.iloc[0]))


@hydra.main(version_base="1.3", config_path="pkg://sim.conf", config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if cfg.get("sweep") is not None:
            run_sweep_job(cfg)
        else:
            _single_run(cfg)
    except Exception as exc:  # noqa: BLE001 - one line, no "Error executing job" banner
        line = one_line_error(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        raise SystemExit(BAD_INPUT) from None


def _share_config_dirs(args: list[str]) -> list[str]:
    """Folders given with ``--config-dir`` also serve named-config look-ups (sweep axes)."""
    for flag in ("--config-dir", "-cd"):
        for i, a in enumerate(args):
            value = args[i + 1] if a == flag and i + 1 < len(args) else None
            if a.startswith(f"{flag}="):
                value = a.split("=", 1)[1]
            if value:
                if not Path(value).expanduser().is_dir():
                    raise ConfigError(flag, f"{value}: no such folder")
                paths = [
                    value,
                    *filter(None, os.environ.get(CONFIG_PATH_ENV, "").split(os.pathsep)),
                ]
                os.environ[CONFIG_PATH_ENV] = os.pathsep.join(paths)
    if any(a.startswith("hydra.searchpath=") for a in args):
        return args
    return [*args, *search_path_override()]


def main() -> int:
    """Entry point: Hydra with every bad input reported on one line (exit status 2)."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us, then print them in one line
    if any(a in ("--help", "-h") for a in sys.argv[1:]):
        print(help_text())  # the project's own help; Hydra's is --hydra-help
        return 0
    saved_path = os.environ.get(CONFIG_PATH_ENV)
    try:
        check_overrides(sys.argv[1:])
        args = _share_config_dirs(sys.argv[1:])
        check_config_files(args)
        sys.argv = [sys.argv[0], *args]
        launch = prepare_launch(args)
        if launch is None:
            check_multirun_jobs(args)
            _hydra_main()
        else:
            launch_sweep(launch, _hydra_main)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:  # noqa: BLE001
        line = one_line_error(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return BAD_INPUT
    finally:
        _reset(saved_path)
    return 0


def _reset(saved_path: str | None) -> None:
    """Leave the process as it was (for callers that run the command in-process)."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    if saved_path is None:
        os.environ.pop(CONFIG_PATH_ENV, None)
    else:
        os.environ[CONFIG_PATH_ENV] = saved_path
