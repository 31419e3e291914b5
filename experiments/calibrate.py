"""Calibrate the assumptions to the historical episodes, leave each out, check the predictions.

    python -m experiments.calibrate [--scale small] [--out DIR] [--verbose] [key=value ...]
    make calibrate

Reads ``configs/inference/calibrate.yaml`` (any key overridden as ``key=value``, e.g.
``abc.population=200`` or ``cluster.address=tcp://host:8786``; ``--scale small`` merges its
``small`` section, the reduced sizes the tests run). Steps (:mod:`experiments.inference`):

1. a prior-predictive **pilot**: draws from the prior, one world of every episode each; it
   screens which assumptions the ABC kernel moves and gives the prior-predictive intervals;
2. an ABC-SMC **fit on every episode**, and with ``leave_one_out`` one fit per episode on
   the others;
3. **posterior-predictive** draws of every fit at every observed outcome: the 50% and 90%
   intervals, and whether history falls inside (for a left-out episode: an out-of-sample
   prediction).

Writes ``<output_dir>/<id>/`` (``id``: a hash of the config without ``output_dir`` and
``cluster``, which do not change the results): ``report.md`` (the tables docs/inference.md
quotes), ``loo.csv``, ``predictive.csv``, ``posterior.parquet``, ``posterior_summary.csv``,
``screen.csv``, ``statistics.csv``, ``populations.csv``, ``config.yaml``, ``manifest.json``
(written last) and pyabc's databases ``abc-<fit>.db``. A finished folder is not recomputed.
With ``cluster.address`` every batch of worlds runs on that Dask cluster; the results are
identical to a local run with the same seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments import CONFIG_DIR, REPO_ROOT, deep_merge
from experiments.inference.assumptions import AssumptionSpace
from experiments.inference.fit import Fit, Settings, fit
from experiments.inference.observations import observations
from experiments.inference.predictive import interval_text, intervals, resample
from experiments.inference.screen import screen
from experiments.inference.simulate import EpisodeSimulator, episode_inputs
from sim.catalog import load_calibration, load_episode
from sim.core.errors import ConfigError
from sim.sweep.cluster import Executor, LocalExecutor, check_address, executor
from sim.sweep.storage import (
    TempFolder,
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
    check_writable_folder,
    code_version,
    config_hash,
    inside,
    remove_stale_folders,
)

CONFIG = CONFIG_DIR / "inference" / "calibrate.yaml"
SCALES = ("full", "small")
#: Keys that say where and how the work runs, not what it computes (not in the folder's id).
LAYOUT_KEYS = ("output_dir", "cluster")
#: The fit on every episode.
ALL = "all"


def set_key(cfg: dict[str, Any], item: str) -> None:
    """Apply one ``key=value`` override (value read as YAML); an unknown key is refused."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ConfigError(item, "expected key=value")
    parts = key.split(".")
    node: Any = cfg
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            raise ConfigError(".".join(parts[: i + 1]), "unknown key")
        node = node[part]
    if parts[-1] not in node:
        raise ConfigError(key, "unknown key")
    node[parts[-1]] = yaml.safe_load(raw)


def load_config(
    path: Path = CONFIG, scale: str = "full", overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """The inference config at ``scale`` with ``overrides`` applied, checked."""
    if scale not in SCALES:
        raise ConfigError("--scale", f"unknown scale {scale!r} (choose from {', '.join(SCALES)})")
    raw = yaml.safe_load(Path(path).read_text()) or {}
    small = raw.pop("small", None) or {}
    cfg = deep_merge(raw, small) if scale == "small" else raw
    for item in overrides:
        set_key(cfg, item)
    cfg["scale"] = scale
    for name in cfg["episodes"]:
        load_episode(name)  # a one-line error for an unknown episode
    check_address("cluster.address", cfg["cluster"]["address"])
    return cfg


def identity(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """What determines the results: the config without the layout keys."""
    return {k: v for k, v in cfg.items() if k not in LAYOUT_KEYS}


def settings(cfg: Mapping[str, Any]) -> Settings:
    """The ABC-SMC settings of the config."""
    return Settings(**{f.name: cfg["abc"][f.name] for f in dataclasses.fields(Settings)})


def fit_plan(cfg: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(fit name, its episodes): every episode, then each left out if ``leave_one_out``."""
    episodes = list(cfg["episodes"])
    plan = [(ALL, episodes)]
    if cfg["leave_one_out"]:
        plan += [(f"without_{e}", [x for x in episodes if x != e]) for e in episodes]
    return plan


@dataclass
class Setup:
    """The parameter space, the observed rows and the pilot (prior-predictive) sample."""

    space: AssumptionSpace
    rows: pd.DataFrame
    simulator: EpisodeSimulator
    pilot_u: np.ndarray
    pilot_values: np.ndarray
    seconds: float


def setup(cfg: Mapping[str, Any], ex: Executor | None = None) -> Setup:
    """Build the space and the observed rows, and simulate the pilot."""
    t0 = time.perf_counter()
    cals = [episode_inputs(e, cfg["states"])[0] for e in cfg["episodes"]]
    cals += [load_calibration(c) for c in cfg["targets"]]
    space = AssumptionSpace.of(list({c.name: c for c in cals}.values()))
    rows = observations(cfg["episodes"], cfg["statistics"]["exclude"])
    chunk = int(cfg["abc"]["chunk_worlds"])
    sim = EpisodeSimulator(space, rows, cfg["states"], ex, chunk)
    n = int(cfg["pilot"]["draws"])
    u = space.sample_prior(np.random.default_rng(int(cfg["pilot"]["seed"])), n)
    values = sim.run(u, int(cfg["pilot"]["base_seed"]) + np.arange(n))
    return Setup(space, rows, sim, u, values, time.perf_counter() - t0)


def run_fit(
    cfg: Mapping[str, Any],
    base: Setup,
    name: str,
    episodes: Sequence[str],
    ex: Executor | None = None,
    db: str = "sqlite://",
    verbose: bool = False,
) -> tuple[Fit, pd.DataFrame]:
    """One fit on ``episodes`` (screened on the pilot); (the fit, its screen table)."""
    rows = base.rows[base.rows["episode"].isin(list(episodes))]
    used = rows[rows["in_distance"]]
    cols = [base.rows.index.get_loc(i) for i in used.index]
    table = screen(
        base.space.names,
        base.pilot_u,
        base.pilot_values[:, cols],
        list(used["id"]),
        float(cfg["pilot"]["level"]),
    )
    sim = EpisodeSimulator(base.space, rows, cfg["states"], ex, int(cfg["abc"]["chunk_worlds"]))
    result = fit(name, sim, settings(cfg), table["active"].to_numpy(), db, verbose)
    table.insert(0, "fit", name)
    return result, table


def fit_all(cfg: Mapping[str, Any], ex: Executor | None = None) -> tuple[Setup, Fit]:
    """The pilot and the fit on every episode (what the headline figure needs)."""
    base = setup(cfg, ex)
    result, _ = run_fit(cfg, base, ALL, cfg["episodes"], ex)
    return base, result


def predictive(
    cfg: Mapping[str, Any], base: Setup, fits: Mapping[str, Fit], ex: Executor | None = None
) -> pd.DataFrame:
    """Prior- and posterior-predictive intervals at every observed row, per fit."""
    n = int(cfg["predictive"]["draws"])
    seeds = int(cfg["predictive"]["base_seed"]) + np.arange(n)
    sim = base.simulator
    parts = []
    prior = intervals(base.pilot_values, base.rows)
    prior.insert(0, "fit", "prior")
    prior.insert(1, "calibrated_on", False)
    parts.append(prior)
    for k, (name, f) in enumerate(fits.items()):
        rng = np.random.default_rng(np.random.SeedSequence([int(cfg["predictive"]["seed"]), k]))
        values = sim.run(resample(f.u, f.weights, n, rng), seeds)
        table = intervals(values, base.rows)
        table.insert(0, "fit", name)
        table.insert(1, "calibrated_on", table["episode"].isin(f.episodes))
        parts.append(table)
    out = pd.concat(parts, ignore_index=True)
    window = base.rows.set_index("id")[["date", "date_end", "in_distance"]]
    return out.join(window, on="id")


def loo_table(pred: pd.DataFrame, episodes: Sequence[str]) -> pd.DataFrame:
    """Each episode's outcomes predicted by the fit that left it out, next to the fit on
    every episode (in-sample) and the prior."""
    rows = []
    for e in episodes:
        out = pred[(pred["fit"] == f"without_{e}") & (pred["episode"] == e)]
        for _, r in out.iterrows():
            same = pred[(pred["id"] == r["id"])]
            inn = same[same["fit"] == ALL].iloc[0]
            pri = same[same["fit"] == "prior"].iloc[0]
            rows.append(
                {
                    "episode": e,
                    "quantity": r["quantity"],
                    "date": r["date"],
                    "date_end": r["date_end"],
                    "in_distance": bool(r["in_distance"]),
                    "observed": r["observed"],
                    "unit": r["unit"],
                    "ppi50_low": r["p25"],
                    "ppi50_high": r["p75"],
                    "ppi90_low": r["p05"],
                    "ppi90_high": r["p95"],
                    "inside_50": bool(r["inside_50"]),
                    "inside_90": bool(r["inside_90"]),
                    "p_equal": r["p_equal"],
                    "p_below": r["p_below"],
                    "in_sample_ppi90_low": inn["p05"],
                    "in_sample_ppi90_high": inn["p95"],
                    "in_sample_inside_90": bool(inn["inside_90"]),
                    "prior_ppi90_low": pri["p05"],
                    "prior_ppi90_high": pri["p95"],
                    "prior_inside_90": bool(pri["inside_90"]),
                }
            )
    return pd.DataFrame(rows)


@dataclass
class CalibrationRun:
    """Everything one ``experiments.calibrate`` computes."""

    cfg: dict[str, Any]
    base: Setup
    fits: dict[str, Fit]
    screens: pd.DataFrame
    predictive: pd.DataFrame
    loo: pd.DataFrame
    seconds: dict[str, float]
    where: str


def run(
    cfg: Mapping[str, Any],
    ex: Executor | None = None,
    db_folder: Path | None = None,
    verbose: bool = False,
) -> CalibrationRun:
    """Pilot, every fit, predictive checks and the leave-one-out table (pure but for the
    pyabc databases in ``db_folder``, in memory if None)."""
    ex = ex or LocalExecutor()
    seconds: dict[str, float] = {}
    base = setup(cfg, ex)
    seconds["pilot"] = base.seconds
    fits: dict[str, Fit] = {}
    screens = []
    for name, episodes in fit_plan(cfg):
        db = f"sqlite:///{db_folder / f'abc-{name}.db'}" if db_folder else "sqlite://"
        t0 = time.perf_counter()
        fits[name], table = run_fit(cfg, base, name, episodes, ex, db, verbose)
        screens.append(table)
        seconds[f"fit {name}"] = time.perf_counter() - t0
        if verbose:
            print(
                f"fit {name}: {fits[name].simulations:,} simulations, {seconds[f'fit {name}']:.0f} s"
            )
    t0 = time.perf_counter()
    pred = predictive(cfg, base, fits, ex)
    seconds["predictive"] = time.perf_counter() - t0
    loo = loo_table(pred, cfg["episodes"]) if cfg["leave_one_out"] else pd.DataFrame()
    return CalibrationRun(
        dict(cfg), base, fits, pd.concat(screens, ignore_index=True), pred, loo, seconds, ex.where
    )


def _window(date: str, date_end: Any) -> str:
    return str(date) if not isinstance(date_end, str) or not date_end else f"{date} to {date_end}"


def markdown_loo(loo: pd.DataFrame) -> str:
    """The leave-one-out table: each episode predicted by the fit on the others."""
    lines = [
        "| left out | quantity | window | observed | 50% PPI | 90% PPI | inside 50% | inside 90% "
        "| P(= observed) / P(< observed) | in-sample 90% | prior 90% |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in loo.iterrows():
        mark = "" if r["in_distance"] else " (not fitted)"
        yes = {True: "yes", False: "**no**"}
        lines.append(
            f"| {r['episode']} | {r['quantity']}{mark} | {_window(r['date'], r['date_end'])} "
            f"| {r['observed']:g} | {interval_text(r['ppi50_low'], r['ppi50_high'])} "
            f"| {interval_text(r['ppi90_low'], r['ppi90_high'])} | {yes[r['inside_50']]} "
            f"| {yes[r['inside_90']]} | {r['p_equal']:.2f} / {r['p_below']:.2f} "
            f"| {interval_text(r['in_sample_ppi90_low'], r['in_sample_ppi90_high'])} "
            f"| {interval_text(r['prior_ppi90_low'], r['prior_ppi90_high'])} |"
        )
    return "\n".join(lines)


def markdown_posterior(summary: pd.DataFrame, top: int | None = None) -> str:
    """Parameters by how far the posterior moved from the prior (KS distance), strongest first."""
    s = summary.sort_values("ks", ascending=False, kind="stable")
    if top is not None:
        s = s.head(top)
    lines = [
        "| assumption | prior range | fixed value | posterior median | 90% interval | "
        "interval / range | KS (noise) |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in s.iterrows():
        lines.append(
            f"| `{r['parameter']}` | {r['prior_low']:g}-{r['prior_high']:g} | {r['fixed']:g} "
            f"| {r['posterior_median']:.3g} | [{r['posterior_q05']:.3g}, {r['posterior_q95']:.3g}] "
            f"| {r['interval_share_of_range']:.2f} | {r['ks']:.2f} ({r['ks_noise']:.2f}) |"
        )
    return "\n".join(lines)


def markdown_statistics(f: Fit) -> str:
    """The fit's summary statistics: observed, in the distance (scale) or why not."""
    lines = [
        "| statistic | observed | in the distance | scale (prior-predictive sd) |",
        "|---|---|---|---|",
    ]
    for _, r in f.statistics.iterrows():
        used = "yes" if r["in_distance"] else f"no: {r['reason']}"
        sd = "" if not np.isfinite(r["sd"]) else f"{r['sd']:.3g}"
        lines.append(f"| `{r['id']}` | {r['value']:g} {r['unit']} | {used} | {sd} |")
    return "\n".join(lines)


def markdown_populations(fits: Mapping[str, Fit]) -> str:
    """Per fit and generation: threshold, simulations, acceptance rate, ESS."""
    lines = [
        "| fit | active / all parameters | generation | epsilon | simulations | acceptance | ESS |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in fits.items():
        for _, r in f.populations.iterrows():
            lines.append(
                f"| {name} | {int(f.active.sum())} / {f.space.dim} | {int(r['generation'])} "
                f"| {r['epsilon']:.3f} | {int(r['simulations']):,} | {r['acceptance_rate']:.3f} "
                f"| {r['ess']:.0f} |"
            )
    return "\n".join(lines)


def report(result: CalibrationRun) -> str:
    """``report.md``: sizes, the statistics, the leave-one-out table, the posterior."""
    cfg = result.cfg
    full = result.fits[ALL]
    summary = full.summary()
    informed = summary[summary["informed"]]
    sims = sum(f.simulations for f in result.fits.values())
    states = (
        cfg["states"]
        or "as the episode files set them (US strategic; China strategic in japan_2010, scripted in the access episodes)"
    )
    parts = [
        "# Calibration against the historical episodes",
        "",
        f"Episodes {', '.join(cfg['episodes'])}; states: {states}. Pilot {cfg['pilot']['draws']:,} "
        f"prior draws; ABC-SMC population {cfg['abc']['population']:,}, up to "
        f"{cfg['abc']['generations']} generations; {cfg['predictive']['draws']:,} predictive "
        f"draws per fit; {sims:,} simulations in the fits; run on {result.where} in "
        f"{sum(result.seconds.values()):.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in result.seconds.items())}).",
        "",
        "## Summary statistics and distance (fit on every episode)",
        "",
        markdown_statistics(full),
        "",
    ]
    if not result.loo.empty:
        parts += [
            "## Leave one episode out: each episode predicted by the fit on the others",
            "",
            markdown_loo(result.loo),
            "",
        ]
    parts += [
        f"## Posterior (fit on every episode): {len(informed)} of {len(summary)} assumptions "
        "moved from their prior",
        "",
        f"Effective sample size {full.ess:.0f}; a parameter counts as moved when the "
        "Kolmogorov-Smirnov distance of its posterior from the uniform prior exceeds the "
        "noise level 1.36 / sqrt(ESS). Values in the units of the first calibration that "
        "assumes it (japan_2010's = the article's).",
        "",
        markdown_posterior(summary, top=max(5, len(informed))),
        "",
        "## Populations",
        "",
        markdown_populations(result.fits),
        "",
    ]
    return "\n".join(parts)


def write(result: CalibrationRun, folder: Path) -> None:
    """The result files; ``manifest.json`` last (its presence marks the folder complete)."""
    cfg = result.cfg
    atomic_write_text(folder / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    atomic_write_text(folder / "loo.csv", result.loo.to_csv(index=False))
    atomic_write_text(folder / "predictive.csv", result.predictive.to_csv(index=False))
    atomic_write_text(folder / "screen.csv", result.screens.to_csv(index=False))
    stats, pops, summaries, particles = [], [], [], []
    for name, f in result.fits.items():
        for frame, out in (
            (f.statistics, stats),
            (f.populations, pops),
            (f.summary(), summaries),
            (f.particles(), particles),
        ):
            frame = frame.copy()
            frame.insert(0, "fit", name)
            out.append(frame)
    atomic_write_text(folder / "statistics.csv", pd.concat(stats).to_csv(index=False))
    atomic_write_text(folder / "populations.csv", pd.concat(pops).to_csv(index=False))
    atomic_write_text(folder / "posterior_summary.csv", pd.concat(summaries).to_csv(index=False))
    atomic_write_parquet(folder / "posterior.parquet", pd.concat(particles, ignore_index=True))
    atomic_write_text(folder / "report.md", report(result))
    manifest = {
        "id": folder.name,
        "config_hash": config_hash(identity(cfg)),
        "code_version": code_version(),
        "where": result.where,
        "seconds": result.seconds,
        "simulations": {n: f.simulations for n, f in result.fits.items()},
        "ess": {n: f.ess for n, f in result.fits.items()},
        "active_parameters": {
            n: [p for p, a in zip(f.space.names, f.active, strict=True) if a]
            for n, f in result.fits.items()
        },
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyabc": _version("pyabc"),
        "distributed": _version("distributed"),
    }
    atomic_write_json(folder / "manifest.json", manifest)


def _version(pkg: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def result_folder(cfg: Mapping[str, Any], out: Path | None = None) -> Path:
    """``<output_dir>/<id>``: the id is the hash of what determines the results."""
    root = Path(out if out is not None else cfg["output_dir"])
    root = root if root.is_absolute() else REPO_ROOT / root
    return inside(root, root / config_hash(identity(cfg)), "output_dir")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overrides", nargs="*", help="key=value (e.g. abc.population=200)")
    ap.add_argument("--scale", choices=SCALES, default="full")
    ap.add_argument("--out", type=Path, default=None, help="output root (default output_dir)")
    ap.add_argument("--verbose", action="store_true", help="pyabc's log of each generation")
    args = ap.parse_intermixed_args(argv)
    try:
        cfg = load_config(CONFIG, args.scale, args.overrides)
        folder = result_folder(cfg, args.out)
        if (folder / "manifest.json").exists():
            print(f"already complete: {folder}\n")
            print((folder / "report.md").read_text())
            return 0
        check_writable_folder(folder.parent, "output_dir")
        with executor(cfg["cluster"]["address"], float(cfg["cluster"]["timeout"])) as ex:
            print(f"calibrating on {ex.where} -> {folder}", flush=True)
            remove_stale_folders(folder.parent, f".{folder.name}-*")
            with TempFolder(folder.parent, f".{folder.name}-") as tmp:
                result = run(cfg, ex, tmp.path, args.verbose)
                write(result, tmp.path)
                if not tmp.publish(folder):
                    print(f"another run finished {folder} first; its results are kept")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(result))
    print(f"results: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
