"""Experiments from the command line: validate the whole sweep first, then run or launch chunks.

``python -m sim +experiment=<name>`` composes the config once, plans and validates the whole
design and prepares the sweep folder (so bad input fails in one line before any run starts).
On Hydra's basic launcher (serial, in this process) it then computes every *missing* chunk
from that one plan and records the launch itself: a Hydra multirun would compose the config
again for every chunk (about 0.3 s each). On any other launcher (joblib, submitit, Slurm) it
lets Hydra launch one job per missing chunk (``sweep.chunk=i,j,...``); each worker process
plans the sweep once and reuses the plan for every chunk it runs. Either way a progress bar
is fed by the chunk files and the chunks are merged into one table.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sim.catalog import CONF_PACKAGE, hydra_quote, search_path_override
from sim.cli.inputs import resolve
from sim.core.constraints import Real
from sim.core.errors import ConfigError
from sim.sweep.cluster import CONNECT_TIMEOUT, check_address, executor
from sim.sweep.execute import (
    PARENT_ENV,
    Progress,
    exit_with_parent,
    launcher_id,
    merge_chunks,
    prepare_folder,
    run_sweep,
    write_chunk,
)
from sim.sweep.plan import SweepPlan, plan_sweep
from sim.sweep.storage import atomic_write_text, code_version


def sweep_plan(cfg: DictConfig) -> SweepPlan:
    """The validated plan of the experiment in ``cfg`` (its ``sweep`` section + model config)."""
    plain = resolve(cfg)
    hydra_node = plain.pop("hydra", None) or {}
    from sim.cli.inputs import TOP_LEVEL_KEYS, check_keys

    check_keys("", plain, TOP_LEVEL_KEYS)
    base = {k: plain[k] for k in ("calibration", "scenario", "rounds", "engine")}
    return plan_sweep(
        plain["sweep"],
        base,
        force=bool(plain.get("force", False)),
        workers=launcher_workers(hydra_node),
    )


def launcher_workers(hydra_node: dict) -> int:
    """Parallel workers of the configured launcher (``n_jobs``, or a Slurm array's parallelism)."""
    launcher = hydra_node.get("launcher") or {}
    for key in ("n_jobs", "array_parallelism"):
        value = launcher.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return 1


def config_yaml(cfg: DictConfig) -> str:
    """The resolved config as YAML, without Hydra's own node (what a sweep folder records).

    Where the chunks ran (``cluster``) is left out, like the launcher: the folder holds the
    same files wherever they were computed.
    """
    plain = {k: v for k, v in resolve(cfg).items() if k not in ("hydra", "cluster")}
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


#: Hydra's own serial launcher: its jobs run one after another in this process.
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
#: Plans already made in this process, by resolved config (a worker runs many chunks).
_PLANS: dict[str, SweepPlan] = {}


def cached_plan(cfg: DictConfig) -> SweepPlan:
    """:func:`sweep_plan`, made once per process for the same sweep (any ``sweep.chunk``).

    The same config in another folder (a relative ``sweep.output_dir``) is another sweep."""
    key = f"{Path.cwd()}\n{config_yaml(cfg)}"
    if key not in _PLANS:
        _PLANS.clear()
        _PLANS[key] = sweep_plan(cfg)
    return _PLANS[key]


def cluster_address(cfg: DictConfig) -> str | None:
    """The config's ``cluster.address`` (None: compute here or on the Hydra launcher)."""
    cluster = cfg.get("cluster")
    return check_address("cluster.address", cluster.get("address") if cluster else None)


def cluster_timeout(cfg: DictConfig) -> float:
    """Seconds to wait for the cluster's scheduler and first worker (``cluster.timeout``)."""
    cluster = cfg.get("cluster")
    value = cluster.get("timeout") if cluster else None
    return (
        CONNECT_TIMEOUT
        if value is None
        else Real(0.0, None, closed="neither").check("cluster.timeout", value)
    )


def run_sweep_job(cfg: DictConfig) -> None:
    """One Hydra job of a sweep: chunk ``sweep.chunk``, or (None) every missing chunk + merge.

    With ``cluster.address`` the missing chunks are computed on that Dask cluster.
    """
    plan = cached_plan(cfg)
    if cfg.sweep.chunk is None:
        t0 = time.perf_counter()
        missing = plan.missing_chunks()
        with executor(cluster_address(cfg), cluster_timeout(cfg)) as ex:
            computed = run_sweep(plan, bool(cfg.sweep.progress), config_yaml(cfg), ex)[0]
        # chunks another process computed meanwhile count as already there
        done_here = [i for i in missing if plan.chunk_path(i).exists()][:computed]
        print(summary_line(plan, done_here, time.perf_counter() - t0))
        return
    exit_with_parent()  # a worker process (joblib, submitit) ends with its launcher
    prepare_folder(plan, config_yaml(cfg))
    write_chunk(plan, int(cfg.sweep.chunk))


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
    #: True on Hydra's basic launcher: chunks run here, from this plan, with no Hydra job.
    in_process: bool = False
    #: The composed config (Hydra's node included): the record of an in-process launch.
    record: str = ""
    #: A Dask scheduler's address: the chunks run there, not on the Hydra launcher.
    cluster: str | None = None
    cluster_timeout: float = CONNECT_TIMEOUT
    #: The resolved config the sweep folder records.
    config_yaml: str | None = None


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
    from hydra import compose, initialize_config_module
    from hydra.types import RunMode

    with initialize_config_module(version_base="1.3", config_module=CONF_PACKAGE):
        cfg = compose(
            config_name="config",
            overrides=[*overrides, *search_path_override()],
            return_hydra_config=True,
        )
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
    address, timeout = cluster_address(cfg), cluster_timeout(cfg)
    if address is not None and chunk is not None:
        raise ConfigError(
            "sweep.chunk", "give no chunk with cluster.address: the cluster runs them all"
        )
    recorded = config_yaml(cfg)
    if address is None:  # on a cluster, the folder is prepared once the cluster answers
        prepare_folder(plan, recorded)
    multirun = any(a in _PASS_FLAGS for a in args) or cfg.hydra.mode == RunMode.MULTIRUN
    in_process = cfg.hydra.launcher.get("_target_") == BASIC_LAUNCHER
    return SweepLaunch(
        plan,
        list(args),
        multirun and chunk is None,
        bool(cfg.sweep.progress),
        in_process,
        OmegaConf.to_yaml(cfg) if in_process else "",
        address,
        timeout,
        recorded,
    )


def check_multirun_jobs(args: list[str]) -> None:
    """``python -m sim -m seed=1,2,3`` (Hydra's sweep of single runs): check every job's config,
    folder and size before Hydra writes anything (its launch record), so a bad value in any
    job fails in one line with nothing written."""
    if not (any(a in _PASS_FLAGS for a in args) or "hydra.mode=MULTIRUN" in args):
        return
    if any(a.startswith("-") and a not in _PASS_FLAGS for a in args):
        return  # --cfg, --help, ...: Hydra's business
    overrides = [a for a in args if a not in _PASS_FLAGS]
    if any(_SWEEP_ARG.match(a) for a in overrides):
        return  # an experiment: prepare_launch checks it
    from hydra import compose, initialize_config_module
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sim.cli.inputs import build_inputs
    from sim.cli.runfolder import plain_config, preflight
    from sim.engine import cost

    parsed = OverridesParser.create().parse_overrides(overrides)
    for o in parsed:
        if o.is_sweep_override() and not o.is_discrete_sweep():
            raise ConfigError(
                o.get_key_element(),
                "sweeps of single runs take a list (a,b,c) or range(...), not an interval",
            )
    jobs = BasicSweeper.split_arguments(parsed, None)[0]
    with initialize_config_module(version_base="1.3", config_module=CONF_PACKAGE):
        for job in jobs:
            cfg = compose(config_name="config", overrides=job)
            inputs = build_inputs(cfg)
            cost.check(cost.single_run(inputs.engine, inputs.rounds), "rounds", inputs.force)
            preflight(inputs, plain_config(cfg))


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


def launch_sweep(launch: SweepLaunch, hydra_main: Callable[[], None]) -> None:
    """Launch one Hydra job per missing chunk (any launcher), with a progress bar; then merge."""
    plan = launch.plan
    if plan.is_complete():
        print(f"{plan.name}: already complete, nothing to run\ntable: {plan.table_path}")
        stale = stale_note(plan)
        if stale:
            print(stale)
        return
    if launch.cluster is not None:
        _launch_on_cluster(launch)
        return
    if launch.multirun and launch.in_process:
        _run_in_process(launch)
        return
    extra = []
    if not any(a.startswith("hydra.sweep.dir=") for a in launch.args):
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        extra.append(f"hydra.sweep.dir={hydra_quote(str(plan.folder / 'launches' / stamp))}")
    if not any(a.startswith("sweep.chunks=") for a in launch.args):
        # Every job must cut the runs as this plan did (sized here from the launcher's workers).
        extra.append(f"sweep.chunks={len(plan.chunks)}")
    if not launch.multirun:  # hydra.mode=RUN, or one given chunk: the job does the work
        sys.argv = [sys.argv[0], *launch.args, *extra]
        hydra_main()
        return
    missing = plan.missing_chunks()
    t0 = time.perf_counter()
    if missing:
        extra.append(f"sweep.chunk={','.join(str(i) for i in missing)}")
        sys.argv = [sys.argv[0], *launch.args, *extra]
        os.environ[PARENT_ENV] = launcher_id()
        try:
            with Progress(plan, enabled=launch.progress, watch=True):
                hydra_main()
        except KeyboardInterrupt:
            raise _interrupted(plan) from None
        finally:
            os.environ.pop(PARENT_ENV, None)
    still = plan.missing_chunks()
    if still:
        print(
            f"error: {len(still)} of {len(plan.chunks)} chunks were not written (a job failed; "
            f"its log is under {plan.folder / 'launches'}); rerun the same command to compute them",
            file=sys.stderr,
        )
        raise SystemExit(1)
    merge_chunks(plan)
    print(summary_line(plan, missing, time.perf_counter() - t0))


def _interrupted(plan: SweepPlan) -> SystemExit:
    done = len(plan.chunks) - len(plan.missing_chunks())
    print(
        f"interrupted: {done} of {len(plan.chunks)} chunks are written; "
        "rerun the same command to finish the rest",
        file=sys.stderr,
    )
    return SystemExit(130)


def _run_in_process(launch: SweepLaunch) -> None:
    """Every missing chunk here, from the plan made once, then the merge (the basic launcher)."""
    plan = launch.plan
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    atomic_write_text(plan.folder / "launches" / stamp / "multirun.yaml", launch.record)
    missing = plan.missing_chunks()
    t0 = time.perf_counter()
    try:
        with Progress(plan, enabled=launch.progress) as bar:
            for i in missing:
                write_chunk(plan, i)
                bar.poll()
    except KeyboardInterrupt:
        raise _interrupted(plan) from None
    merge_chunks(plan)
    print(summary_line(plan, missing, time.perf_counter() - t0))


def _launch_on_cluster(launch: SweepLaunch) -> None:
    """Every missing chunk on the Dask cluster at ``launch.cluster``, written here; merge."""
    plan = launch.plan
    missing = plan.missing_chunks()
    t0 = time.perf_counter()
    try:
        with executor(launch.cluster, launch.cluster_timeout) as ex:
            print(f"{plan.name}: {len(missing)} chunk(s) on the Dask cluster at {ex.where}")
            run_sweep(plan, launch.progress, launch.config_yaml, ex)
    except KeyboardInterrupt:
        raise _interrupted(plan) from None
    done_here = [i for i in missing if plan.chunk_path(i).exists()]
    print(summary_line(plan, done_here, time.perf_counter() - t0))
