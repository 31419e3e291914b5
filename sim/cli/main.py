"""``balancing-sim`` / ``python -m sim``: one run through Hydra, or an experiment (a sweep).

A thin shell: :mod:`sim.cli.inputs` turns the composed config into validated inputs and runs
them, :mod:`sim.cli.runfolder` writes the run folder, :mod:`sim.cli.launch` plans and
launches experiments, :mod:`sim.cli.errors` turns any configuration error into one line.
"""

from __future__ import annotations

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

from sim.catalog import CONFIG_PATH_ENV, search_path_override
from sim.cli.errors import one_line_error
from sim.cli.help import help_text
from sim.cli.inputs import build_inputs, run
from sim.cli.launch import launch_sweep, prepare_launch, run_sweep_job
from sim.cli.runfolder import summary, write_run
from sim.cli.schema import register_configs
from sim.core.errors import ConfigError

register_configs()


@hydra.main(version_base="1.3", config_path="pkg://sim.conf", config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if cfg.get("sweep") is not None:
            run_sweep_job(cfg)
            return
        inputs = build_inputs(cfg)
        result = run(cfg)
    except ConfigError as exc:  # one line, and no "Error executing job" banner from Hydra
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    write_run(cfg, inputs, result)
    print(summary(inputs, result))


def _share_config_dirs(args: list[str]) -> list[str]:
    """Folders given with ``--config-dir`` also serve named-config look-ups (sweep axes)."""
    for flag in ("--config-dir", "-cd"):
        for i, a in enumerate(args):
            value = args[i + 1] if a == flag and i + 1 < len(args) else None
            if a.startswith(f"{flag}="):
                value = a.split("=", 1)[1]
            if value:
                paths = [
                    value,
                    *filter(None, os.environ.get(CONFIG_PATH_ENV, "").split(os.pathsep)),
                ]
                os.environ[CONFIG_PATH_ENV] = os.pathsep.join(paths)
    if any(a.startswith("hydra.searchpath=") for a in args):
        return args
    return [*args, *search_path_override()]


def main() -> int:
    """Entry point: Hydra with every configuration error reported on one line (exit status 2)."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us, then print them in one line
    if any(a in ("--help", "-h") for a in sys.argv[1:]):
        print(help_text())  # the project's own help; Hydra's is --hydra-help
        return 0
    args = _share_config_dirs(sys.argv[1:])
    sys.argv = [sys.argv[0], *args]
    try:
        launch = prepare_launch(args)
        if launch is None:
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
        return 2
    return 0
