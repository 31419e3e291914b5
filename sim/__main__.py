"""``python -m sim``: run one scenario through Hydra and write a run folder, or run an experiment.

The ``@hydra.main`` function is a thin shell: :func:`run` is pure (tests call it through
Hydra's compose API) and file I/O happens in :func:`write_run`.

With ``+experiment=<name>`` (a config with a ``sweep`` section) the command runs a sweep
(``docs/sweeps.md``): :func:`main` first composes the config, validates the whole design and
prepares the sweep folder (so bad input fails in one line before any run starts), then lets
Hydra launch one job per *missing* chunk (``sweep.chunk=i,j,...``) on the configured launcher,
shows a progress bar fed by the chunk files, and finally merges the chunks into one table.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.breakdown import BreakdownRule
from sim.calibration import calibration_from_dict
from sim.cli_errors import one_line_error
from sim.config_schema import register_configs
from sim.errors import ConfigError
from sim.paths import CONFIG_DIR, REPO_ROOT
from sim.records import FIRM_COLUMNS, ROUND_COLUMNS
from sim.scenario import Scenario, scenario_from_dict
from sim.storage import (
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    code_version,
    config_hash,
)
from sim.sweep import (
    Progress,
    SweepPlan,
    merge_chunks,
    plan_sweep,
    prepare_folder,
    run_sweep,
    write_chunk,
)

if TYPE_CHECKING:
    from sim.runner import RunResult

register_configs()


def resolve(cfg: DictConfig) -> dict:
    """The resolved config as plain data (what a run folder records)."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def build_inputs(cfg: DictConfig):
    """Validated (calibration, scenario, rule) from a composed config."""
    plain = resolve(cfg)
    calibration = calibration_from_dict(plain["calibration"], where="calibration")
    scenario = (
        scenario_from_dict(plain["scenario"])
        if not isinstance(plain["scenario"], Scenario)
        else plain["scenario"]
    )
    rule = BreakdownRule(**plain["breakdown"])
    for key in ("seed", "rounds"):
        if plain[key] < (0 if key == "seed" else 1):
            raise ConfigError(
                key, f"must be {'>= 0' if key == 'seed' else '>= 1'}, got {plain[key]}"
            )
    return calibration, scenario, rule


def run(cfg: DictConfig) -> RunResult:
    """Run the configured scenario and seed (pure: no files written)."""
    from sim.runner import run_single  # imports Mesa: only single runs need it

    calibration, scenario, rule = build_inputs(cfg)
    return run_single(calibration, scenario, int(cfg.rounds), int(cfg.seed), rule, str(cfg.engine))


def run_folder(cfg: DictConfig) -> Path:
    """Deterministic folder for this config: same config, same folder."""
    plain = resolve(cfg)
    scenario, calibration = plain["scenario"]["name"], plain["calibration"]["name"]
    name = f"{scenario}-{calibration}-seed{plain['seed']}-r{plain['rounds']}"
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


def sweep_plan(cfg: DictConfig) -> SweepPlan:
    """The validated plan of the experiment in ``cfg`` (its ``sweep`` section + model config)."""
    plain = resolve(cfg)
    plain.pop("hydra", None)
    base = {k: plain[k] for k in ("calibration", "scenario", "rounds", "engine", "breakdown")}
    return plan_sweep(plain["sweep"], base)


def config_yaml(cfg: DictConfig) -> str:
    """The resolved config as YAML, without Hydra's own node (what a sweep folder records)."""
    plain = {k: v for k, v in resolve(cfg).items() if k != "hydra"}
    plain["sweep"]["chunk"] = None
    return OmegaConf.to_yaml(OmegaConf.create(plain))


def summary_line(plan: SweepPlan, computed: list[int], seconds: float) -> str:
    """What a finished sweep prints: size, chunks computed now, time (s) and rate (runs/s)."""
    points, reps = len(plan.design.points), int(plan.runs["replicate"].max()) + 1
    runs_now = sum(plan.chunks[i][1] - plan.chunks[i][0] for i in computed)
    rate = f", {runs_now / seconds:,.0f} runs/s" if runs_now and seconds > 0 else ""
    return (
        f"{plan.name}: {plan.n_runs:,} runs ({points} points x {reps} seeds x {plan.rounds} "
        f"rounds) in {len(plan.chunks)} chunks: {len(computed)} computed now, "
        f"{len(plan.chunks) - len(computed)} already there ({seconds:.1f} s{rate})\n"
        f"table: {plan.table_path}"
    )


def run_sweep_job(cfg: DictConfig) -> None:
    """One Hydra job of a sweep: chunk ``sweep.chunk``, or (None) every missing chunk + merge."""
    plan = sweep_plan(cfg)
    if cfg.sweep.chunk is None:
        t0 = time.perf_counter()
        missing = plan.missing_chunks()
        run_sweep(plan, bool(cfg.sweep.progress), config_yaml(cfg))
        print(summary_line(plan, missing, time.perf_counter() - t0))
        return
    prepare_folder(plan, config_yaml(cfg))
    write_chunk(plan, int(cfg.sweep.chunk))


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if cfg.get("sweep") is not None:
            run_sweep_job(cfg)
            return
        result = run(cfg)
    except ConfigError as exc:  # one line, and no "Error executing job" banner from Hydra
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    write_run(cfg, result)
    o = result.outcome.iloc[0]
    where = f" in round {int(o['breakdown_round'])}" if o["breakdown_round"] >= 0 else ""
    print(
        f"{cfg.scenario.name} / {cfg.calibration.name} / seed {cfg.seed}: "
        f"outcome {o['outcome']}{where}; mean compliance {o['mean_compliance']:.2f}; "
        f"cumulative welfare {o['cum_jp_welfare_bn']:.1f} $bn"
    )


#: Command-line arguments that make this invocation an experiment (sweep).
_SWEEP_ARG = re.compile(r"^[+~]*(experiment|sweep)[.=@]")
#: Hydra flags after which we let Hydra do what it does (print config, help, ...).
_PASS_FLAGS = ("-m", "--multirun")


@dataclass
class SweepLaunch:
    """A validated sweep about to be launched from :func:`main`."""

    plan: SweepPlan
    args: list[str]
    multirun: bool
    progress: bool


def prepare_launch(args: list[str]) -> SweepLaunch | None:
    """Compose and validate an experiment before Hydra launches anything; None if not a sweep.

    Every configuration error (unknown experiment or launcher, typo'd axis, empty range, a
    folder holding another sweep) is raised here, before any run starts.
    """
    if any(a.startswith("-") and a not in _PASS_FLAGS for a in args):
        return None  # --cfg, --help, --info, ...: Hydra's business
    overrides = [a for a in args if a not in _PASS_FLAGS]
    if not any(_SWEEP_ARG.match(a) for a in overrides):
        return None
    from hydra import compose, initialize_config_dir
    from hydra.types import RunMode

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    if cfg.get("sweep") is None:
        return None
    if cfg.hydra.sweeper.get("params"):
        raise ConfigError(
            "hydra.sweeper.params",
            "experiments vary parameters through sweep.axes, not Hydra sweeps",
        )
    plan = sweep_plan(cfg)
    chunk = cfg.sweep.chunk
    if chunk is not None and not 0 <= chunk < len(plan.chunks):
        raise ConfigError("sweep.chunk", f"must be in 0..{len(plan.chunks) - 1}, got {chunk}")
    prepare_folder(plan, config_yaml(cfg))
    multirun = any(a in _PASS_FLAGS for a in args) or cfg.hydra.mode == RunMode.MULTIRUN
    return SweepLaunch(plan, list(args), multirun and chunk is None, bool(cfg.sweep.progress))


def stale_note(plan: SweepPlan) -> str | None:
    """A note if a finished sweep was computed by another code version than the current one."""
    then = json.loads(plan.manifest_path.read_text()).get("code_version")
    now = code_version()
    if then == now:
        return None
    return (
        f"note: computed by code version {then}, current is {now}; to recompute, remove "
        f"{plan.folder} or choose another sweep.id"
    )


def launch_sweep(launch: SweepLaunch) -> None:
    """Launch one Hydra job per missing chunk (any launcher), with a progress bar; then merge."""
    plan = launch.plan
    if plan.is_complete():
        print(f"{plan.name}: already complete, nothing to run\ntable: {plan.table_path}")
        stale = stale_note(plan)
        if stale:
            print(stale)
        return
    extra = []
    if not any(a.startswith("hydra.sweep.dir=") for a in launch.args):
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        extra.append(f"hydra.sweep.dir='{plan.folder / 'launches' / stamp}'")
    if not launch.multirun:  # hydra.mode=RUN, or one given chunk: the job does the work
        sys.argv = [sys.argv[0], *launch.args, *extra]
        _hydra_main()
        return
    missing = plan.missing_chunks()
    t0 = time.perf_counter()
    if missing:
        extra.append(f"sweep.chunk={','.join(str(i) for i in missing)}")
        sys.argv = [sys.argv[0], *launch.args, *extra]
        try:
            with Progress(plan, enabled=launch.progress, watch=True):
                _hydra_main()
        except KeyboardInterrupt:
            done = len(plan.chunks) - len(plan.missing_chunks())
            print(
                f"interrupted: {done} of {len(plan.chunks)} chunks are written; "
                "rerun the same command to finish the rest",
                file=sys.stderr,
            )
            raise SystemExit(130) from None
    merge_chunks(plan)
    print(summary_line(plan, missing, time.perf_counter() - t0))


def main() -> int:
    """Entry point: Hydra with every configuration error reported on one line."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us, then print them in one line
    try:
        launch = prepare_launch(sys.argv[1:])
        if launch is None:
            _hydra_main()
        else:
            launch_sweep(launch)
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
