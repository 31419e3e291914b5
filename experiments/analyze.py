"""Analyze a finished sweep folder: tidy CSV tables and figures in ``<folder>/analysis/``.

    python -m experiments.analyze results/sweeps/breakdown_grid/<id> [--boot 1000] [--level 0.5]
                                  [--seed 0] [--no-figures]

Grid designs: breakdown probability per cell (Wilson 95%), the split by side, tipping points
along each axis (pooled over the other axes, and per slice) with bootstrap intervals, and
Kaplan-Meier time to breakdown. LHS/Sobol designs: the split by side, Kaplan-Meier, a PRIM box
of the breakdown region and (Sobol) first-order and total Sobol indices. Categorical axes
(scenario, calibration) group every table. A summary is printed and written to summary.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import analysis as A
from sim.core.constraints import check_seed
from sim.core.errors import ConfigError
from sim.core.registry import table_column
from sim.sweep.storage import (
    TempFolder,
    atomic_write_text,
    check_writable_folder,
    file_sha256,
    os_problem,
    remove_stale_folders,
)

CATEGORICAL = ("scenario", "calibration")
OUTPUTS = ("p_breakdown", "cum_jp_welfare_bn")
#: Columns every analysis reads, besides the design's parameters.
REQUIRED_COLUMNS = (
    "run_id",
    "point",
    "replicate",
    "seed",
    "scenario",
    "calibration",
    "rounds",
    "outcome",
    "breakdown_round",
    "cum_jp_welfare_bn",
)
OUTCOMES = ("balanced", "us", "china")
#: What a design parameter's name looks like (``firms.toyota.china_profit_share``).
_PARAM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: Bootstrap draws allowed (each draw re-estimates every tipping point).
MAX_BOOT = 100_000
#: The temporary analysis folder: written in full, then renamed to ``analysis``.
TMP_PREFIX = ".analysis.tmp-"


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"not valid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "expected a JSON object")
    return data


def _manifest_table(folder: Path, ident: dict) -> dict[str, Any]:
    """The manifest's record of runs.parquet (rows, columns, SHA-256), checked for shape."""
    path = folder / "manifest.json"
    if not path.exists():
        raise ConfigError(
            str(folder), "sweep not finished (no manifest.json); rerun the sweep command"
        )
    manifest = _json(path)
    table = manifest.get("table")
    if (
        not isinstance(table, dict)
        or not isinstance(table.get("rows"), int)
        or not isinstance(table.get("sha256"), str)
        or not isinstance(table.get("columns"), list)
    ):
        raise ConfigError(str(path), "no table record (rows, columns, sha256): not a manifest")
    if manifest.get("config_hash") != ident.get("config_hash"):
        raise ConfigError(
            str(path),
            f"written for another sweep (config hash {manifest.get('config_hash')}, sweep.json "
            f"{ident.get('config_hash')})",
        )
    return table


def _check_runs(runs: pd.DataFrame, ident: dict, where: str) -> None:
    """The content analysis relies on: columns present, outcomes and rounds valid."""
    design = ident["design"]
    params = (
        [a["param"] for a in design.get("axes", []) if a["param"] not in CATEGORICAL]
        if design.get("kind") == "grid"
        else [p["param"] for p in design.get("parameters", [])]
    )
    for p in params:  # they name figure files: a forged sweep.json must not name a path
        if not isinstance(p, str) or not _PARAM_NAME.fullmatch(p) or ".." in p:
            raise ConfigError(where, f"parameter name {p!r} in sweep.json is not a name")
    params = [table_column(p) for p in params]  # the stored table's plain snake_case names
    missing = [c for c in (*REQUIRED_COLUMNS, *params) if c not in runs.columns]
    if missing:
        raise ConfigError(where, f"column {missing[0]!r} is missing")
    if runs.empty:
        raise ConfigError(where, "no runs in the table")
    outcome = runs["outcome"].astype(object)
    bad = ~outcome.isin(OUTCOMES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(
            where, f"row {i}: outcome {outcome.iloc[i]!r} is not one of {', '.join(OUTCOMES)}"
        )
    for col in ("rounds", "breakdown_round", "seed", *params):
        values = pd.to_numeric(runs[col], errors="coerce").to_numpy(np.float64)
        if not np.isfinite(values).all():
            i = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ConfigError(where, f"row {i}: {col} is {runs[col].iloc[i]!r}, not a number")
    rounds = runs["rounds"].to_numpy(np.float64)
    br = runs["breakdown_round"].to_numpy(np.float64)
    if (rounds < 1).any() or (br < -1).any() or (br >= rounds).any():
        i = int(np.flatnonzero((rounds < 1) | (br < -1) | (br >= rounds))[0])
        raise ConfigError(
            where, f"row {i}: breakdown_round {br[i]:g} is outside -1..rounds-1 ({rounds[i]:g})"
        )
    seeds = runs["seed"].to_numpy()
    if seeds.dtype.kind not in "iu":
        raise ConfigError(where, f"seed is of type {seeds.dtype}, not whole numbers")
    if (seeds < 0).any():
        i = int(np.flatnonzero(seeds < 0)[0])
        check_seed(f"{where}: row {i}: seed", int(seeds[i]))
    for c in CATEGORICAL:
        if runs[c].isna().any():
            raise ConfigError(where, f"{c} has missing values")


def load_sweep(folder: Path) -> tuple[pd.DataFrame, dict]:
    """The run table and the identity (``sweep.json``) of a finished sweep folder.

    The table is verified against the manifest before it is read (SHA-256, row count,
    columns) and its content checked; any problem is a one-line :class:`ConfigError`.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ConfigError(str(folder), "no such folder")
    if not folder.is_dir():
        raise ConfigError(str(folder), "not a folder (give a sweep folder)")
    table, ident_path = folder / "runs.parquet", folder / "sweep.json"
    if not ident_path.exists():
        raise ConfigError(str(folder), "not a sweep folder (no sweep.json)")
    ident = _json(ident_path)
    identity = ident.get("identity")
    if not isinstance(identity, dict) or not isinstance(identity.get("design"), dict):
        raise ConfigError(str(ident_path), "no identity with a design: not a sweep.json")
    record = _manifest_table(folder, ident)
    if not table.exists():
        raise ConfigError(
            str(table), "missing although the manifest lists it; rerun the sweep command"
        )
    if file_sha256(table) != record["sha256"]:
        raise ConfigError(
            str(table),
            "does not match its manifest (SHA-256 differs): changed or damaged after the sweep; "
            "remove it and manifest.json, and rerun the sweep command to rebuild it",
        )
    try:
        runs = pd.read_parquet(table)
    except Exception as exc:  # noqa: BLE001 - any reader error is a damaged file
        raise ConfigError(str(table), f"cannot be read ({type(exc).__name__})") from None
    if len(runs) != record["rows"]:
        raise ConfigError(str(table), f"{len(runs)} rows, the manifest says {record['rows']}")
    if list(runs.columns) != record["columns"]:
        raise ConfigError(str(table), "its columns differ from the manifest's")
    _check_runs(runs, identity, str(table))
    return runs, identity


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, df.to_csv(index=False, float_format="%.10g"))


def _fmt(v: float) -> str:
    return "-" if v != v else f"{v:.3f}"


def _bins(values: pd.Series, k: int = 4) -> pd.Series:
    """Up to ``k`` equal-width bins of a numeric axis, labelled by their range."""
    uniq = np.sort(values.unique())
    if len(uniq) <= k:
        return values.map(lambda v: f"{v:g}")
    edges = np.linspace(uniq[0], uniq[-1], k + 1)
    idx = np.clip(np.searchsorted(edges, values.to_numpy(), side="right") - 1, 0, k - 1)
    labels = [f"[{edges[i]:.3g}, {edges[i + 1]:.3g}{']' if i == k - 1 else ')'}" for i in range(k)]
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=values.index)


def survival_tables(
    runs: pd.DataFrame, groupings: dict[str, pd.Series]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves and medians for each named grouping (a label per run)."""
    curves, medians = [], []
    for name, labels in groupings.items():
        frame = runs.assign(group=labels.to_numpy())
        c, m = A.survival(frame, "group")
        curves.append(c.assign(grouping=name))
        medians.append(m.assign(grouping=name))
    cols = ["grouping", "group"]
    c, m = pd.concat(curves, ignore_index=True), pd.concat(medians, ignore_index=True)
    return c[cols + [k for k in c if k not in cols]], m[cols + [k for k in m if k not in cols]]


def _header(ident: dict, runs: pd.DataFrame, folder: Path) -> str:
    """The summary's first line: experiment, design kind, run count, quarters, folder."""
    return (
        f"{ident['experiment']} ({ident['design']['kind']} design, {len(runs):,} runs, "
        f"{ident['rounds']} quarters, {folder})"
    )


def _outcome_split(runs: pd.DataFrame, cats: list[str], out: Path) -> list[str]:
    """Write sides.csv (share of runs per side, per categorical group); return its summary lines."""
    sides = A.side_split(runs, cats or None)
    _write_csv(sides, out / "sides.csv")
    lines = ["\nOutcome split (share of runs, Wilson 95%):"]
    for _, r in sides.iterrows():
        grp = " ".join(f"{c}={r[c]}" for c in cats)
        lines.append(
            f"  {grp:<24} {r['side']:<9} {r['share']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        )
    return lines


def _groupings(runs: pd.DataFrame, cats: list[str], axes: list[str]) -> dict[str, pd.Series]:
    """Survival groupings: all runs, each categorical axis, each numeric grid axis binned."""
    groupings = {"all runs": pd.Series("all", index=runs.index)}
    for c in cats:
        groupings[c] = runs[c].astype(str)
    for axis in axes:
        groupings[f"{axis} (binned)"] = _bins(runs[axis])
    return groupings


def _grid_axes(design: dict) -> list[str]:
    """The run-table columns of the numeric axes of a grid design (categorical ones left out)."""
    return [table_column(a["param"]) for a in design["axes"] if a["param"] not in CATEGORICAL]


def _grid_cells(runs: pd.DataFrame, axes: list[str], cats: list[str], out: Path) -> pd.DataFrame:
    """Write cells.csv (breakdown probability per cell) and sides_by_cell.csv; return the cells."""
    cells = A.breakdown_probability(runs, [*cats, *axes])
    _write_csv(cells, out / "cells.csv")
    _write_csv(A.side_split(runs, [*cats, *axes]), out / "sides_by_cell.csv")
    return cells


def _grid_tipping_points(
    runs: pd.DataFrame, axes: list[str], cats: list[str], level: float, boot: int, seed: int
) -> pd.DataFrame:
    """Tipping points along each axis, pooled over the other axes and per slice of them."""
    tips = []
    for axis in axes:
        others = [a for a in axes if a != axis]
        pooled = A.tipping_points(runs, axis, cats or None, level, n_boot=boot, seed=seed)
        tips.append(pooled.assign(scope="pooled"))
        if others:
            tips.append(
                A.tipping_points(
                    runs, axis, [*cats, *others], level, n_boot=boot, seed=seed
                ).assign(scope="slice")
            )
    tip = pd.concat(tips, ignore_index=True)
    lead = ["scope", "axis", *cats, *[a for a in axes if a in tip]]
    return tip[lead + [c for c in tip if c not in lead]]


def _tipping_lines(tip: pd.DataFrame, cats: list[str], level: float, boot: int) -> list[str]:
    """Summary lines: each pooled tipping point, and the count of per-slice crossings."""
    lines = [
        f"\nTipping points (breakdown probability crosses {level:.0%}; "
        f"bootstrap 95%, {boot} draws):"
    ]
    for _, r in tip[tip["scope"] == "pooled"].iterrows():
        grp = "".join(f", {c}={r[c]}" for c in cats)
        lines.append(
            f"  along {r['axis']} (other axes pooled{grp}): {r['direction']:<4} "
            f"{_fmt(r['tipping_point'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
            + ("" if r["direction"] == "none" else f" (bootstrap support {r['support']:.2f})")
        )
    sl = tip[(tip["scope"] == "slice") & (tip["direction"] != "none")]
    lines.append(
        f"  per slice: {len(sl)} crossings in {(tip['scope'] == 'slice').sum()} rows "
        "(tipping_points.csv)"
    )
    return lines


def _phase_figures(
    runs: pd.DataFrame, cells: pd.DataFrame, x: str, y: str, cats: list[str], out: Path
) -> None:
    """Heatmaps over axes x and y: breakdown probability and the share toward each side."""
    from experiments import plots

    facet = cats[0] if cats else None
    plots.save_png(
        plots.heatmaps(
            cells, x, y, "p_breakdown", facet, "breakdown probability", label="P(breakdown)"
        ),
        out / "phase_diagram.png",
    )
    sbc = A.side_split(runs, [*cats, x, y])
    for side, cmap in (("us", "Blues"), ("china", "Reds")):
        plots.save_png(
            plots.heatmaps(
                sbc[sbc["side"] == side],
                x,
                y,
                "share",
                facet,
                f"breakdown toward {side}",
                cmap=cmap,
                label=f"P({side})",
            ),
            out / f"side_{side}.png",
        )


def _curve_figure(
    cells: pd.DataFrame,
    tip: pd.DataFrame,
    axis: str,
    axes: list[str],
    cats: list[str],
    level: float,
    out: Path,
) -> None:
    """Breakdown probability along ``axis`` (first categorical group), slice tipping points."""
    from experiments import plots

    others = [a for a in axes if a != axis]
    hue = others[0] if others else (cats[0] if cats else None)
    sub_cells = cells if not cats else cells[cells[cats[0]] == cells[cats[0]].iloc[0]]
    sub_tips = tip[tip["scope"] == "slice"] if others else None
    if sub_tips is not None and cats:
        sub_tips = sub_tips[sub_tips[cats[0]] == cells[cats[0]].iloc[0]]
    plots.save_png(
        plots.probability_curves(sub_cells, axis, hue, tips=sub_tips, level=level),
        out / f"curves_{axis}.png",
    )


def _grid_analysis(
    runs: pd.DataFrame,
    axes: list[str],
    cats: list[str],
    out: Path,
    level: float,
    boot: int,
    seed: int,
    figures: bool,
) -> list[str]:
    """Grid design: cells, tipping points (tables, summary lines) and, if asked, figures."""
    cells = _grid_cells(runs, axes, cats, out)
    tip = _grid_tipping_points(runs, axes, cats, level, boot, seed)
    _write_csv(tip, out / "tipping_points.csv")
    lines = _tipping_lines(tip, cats, level, boot)
    if figures:
        if len(axes) >= 2:
            _phase_figures(runs, cells, axes[0], axes[1], cats, out)
        for axis in axes:
            _curve_figure(cells, tip, axis, axes, cats, level, out)
    return lines


def _prim_analysis(
    runs: pd.DataFrame, params: list[str], out: Path, level: float, figures: bool
) -> list[str]:
    """PRIM box of the points with breakdown probability >= level: tables, lines, figure."""
    limits, traj = A.prim_box(runs, params, threshold=level)
    _write_csv(limits, out / "prim_box.csv")
    _write_csv(traj, out / "prim_trajectory.csv")
    restricted = limits[limits["restricted"]]
    lines = [
        f"\nPRIM box of points with breakdown probability >= {level:.0%} "
        f"(coverage {_fmt(limits['coverage'].iloc[0])}, "
        f"density {_fmt(limits['density'].iloc[0])}, "
        f"mass {_fmt(limits['mass'].iloc[0])}):"
    ]
    for _, r in restricted.iterrows():
        lines.append(f"  {r['parameter']:<36} [{r['low']:.4g}, {r['high']:.4g}]")
    if figures and len(traj):
        from experiments import plots

        chosen = (limits["coverage"].iloc[0], limits["density"].iloc[0])
        plots.save_png(plots.prim_trajectory(traj, chosen), out / "prim_trajectory.png")
    return lines


def _sobol_analysis(
    runs: pd.DataFrame, design: dict, out: Path, seed: int, figures: bool
) -> list[str]:
    """Sobol indices of each output: sobol_indices.csv, the top 8 per output, bar figures."""
    params = [table_column(p["param"]) for p in design["parameters"]]
    problem = {
        "num_vars": len(params),
        "names": params,
        "bounds": [[p["low"], p["high"]] for p in design["parameters"]],
    }
    idx = A.sobol_indices(runs, problem, OUTPUTS, bool(design.get("second_order")), seed)
    _write_csv(idx, out / "sobol_indices.csv")
    lines = []
    for o in OUTPUTS:
        top = idx[idx["output"] == o].sort_values("ST", ascending=False).head(8)
        lines.append(f"\nSobol indices of {o} (top 8 by total index; S1 / ST with 95% half-width):")
        for _, r in top.iterrows():
            lines.append(
                f"  {r['parameter']:<36} S1 {r['S1']:6.3f} ±{r['S1_conf']:.3f}   "
                f"ST {r['ST']:6.3f} ±{r['ST_conf']:.3f}"
            )
        if figures:
            from experiments import plots

            plots.save_png(plots.sobol_bars(idx, o), out / f"sobol_{o}.png")
    return lines


def _sampled_analysis(
    runs: pd.DataFrame, design: dict, out: Path, level: float, seed: int, figures: bool
) -> list[str]:
    """LHS or Sobol design: per-point means, the PRIM box and (Sobol) the Sobol indices."""
    params = [table_column(p["param"]) for p in design["parameters"]]
    _write_csv(A.point_means(runs, params, ["cum_jp_welfare_bn"]), out / "points.csv")
    lines = _prim_analysis(runs, params, out, level, figures)
    if design["kind"] == "sobol":
        lines += _sobol_analysis(runs, design, out, seed, figures)
    return lines


def _survival_analysis(
    runs: pd.DataFrame, groupings: dict[str, pd.Series], out: Path, figures: bool
) -> list[str]:
    """Kaplan-Meier time to breakdown (quarters) per grouping: tables, lines, figures."""
    curves, medians = survival_tables(runs, groupings)
    _write_csv(curves, out / "survival.csv")
    _write_csv(medians, out / "survival_medians.csv")
    lines = ["\nTime to breakdown (Kaplan-Meier, censored at the horizon):"]
    for _, r in medians.iterrows():
        end = curves[(curves["grouping"] == r["grouping"]) & (curves["group"] == r["group"])][
            "survival"
        ].iloc[-1]
        lines.append(
            f"  {r['grouping']:<40} {r['group']:<14} events {r['events']:>6}/{r['runs']:<6} "
            f"median {_fmt(r['median_quarters'])} q, still balancing at the horizon {end:.3f}"
        )
    if figures:
        from experiments import plots

        for name in groupings:
            sub = curves[curves["grouping"] == name]
            safe = name.replace(" (binned)", "").replace(" ", "_")
            plots.save_png(
                plots.survival_curves(sub, "group", f"time to breakdown by {name}"),
                out / f"survival_{safe}.png",
            )
    return lines


def analyze(
    folder: Path, boot: int = 1000, level: float = 0.5, seed: int = 0, figures: bool = True
) -> str:
    """Write the analysis tables (and figures) for ``folder``; return the printed summary.

    The sweep is verified first (:func:`load_sweep`); the tables go to a temporary folder that
    replaces ``<folder>/analysis`` only when complete, so a failed or killed analysis leaves
    no partial files (and its temporary folder is removed by the next analysis).
    """
    runs, ident = load_sweep(folder)
    check_writable_folder(folder / "analysis", "folder")
    remove_stale_folders(folder, f"{TMP_PREFIX}*")
    with TempFolder(folder, TMP_PREFIX) as tmp:
        text = _analyze(runs, ident, folder, tmp.path, boot, level, seed, figures)
        _replace(folder / "analysis", tmp)
    return text


def _replace(final: Path, tmp: TempFolder) -> None:
    """Put ``tmp`` in place of the folder ``final`` (the old one removed after)."""
    old = None
    if final.exists():
        old = final.with_name(f"{TMP_PREFIX}old-{os.getpid()}")
        os.rename(final, old)
    tmp.publish(final)
    if old is not None:
        import shutil

        shutil.rmtree(old, ignore_errors=True)


def _analyze(
    runs: pd.DataFrame,
    ident: dict,
    folder: Path,
    out: Path,
    boot: int,
    level: float,
    seed: int,
    figures: bool,
) -> str:
    design = ident["design"]
    cats = [c for c in CATEGORICAL if runs[c].nunique() > 1]
    lines = [_header(ident, runs, folder), *_outcome_split(runs, cats, out)]
    if design["kind"] == "grid":
        axes = _grid_axes(design)
        lines += _grid_analysis(runs, axes, cats, out, level, boot, seed, figures)
    else:
        axes = []
        lines += _sampled_analysis(runs, design, out, level, seed, figures)
    lines += _survival_analysis(runs, _groupings(runs, cats, axes), out, figures)
    text = "\n".join(lines) + "\n"
    atomic_write_text(out / "summary.txt", text)
    return text


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``error: ...``, exit status 2)."""

    def error(self, message: str) -> Any:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _check_args(args: argparse.Namespace) -> None:
    if not 0 < args.level < 1:
        raise ConfigError("--level", f"must be in (0, 1), got {args.level:g}")
    if not 1 <= args.boot <= MAX_BOOT:
        raise ConfigError("--boot", f"must be a whole number in 1..{MAX_BOOT:,}, got {args.boot}")
    check_seed("--seed", args.seed)


def main(argv: list[str] | None = None) -> int:
    """Command line: analyze one sweep folder."""
    ap = _Parser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a sweep folder, results/sweeps/<experiment>/<id>")
    ap.add_argument("--boot", type=int, default=1000, help="bootstrap draws for tipping points")
    ap.add_argument(
        "--level", type=float, default=0.5, help="breakdown probability of a tipping point"
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and Sobol intervals")
    ap.add_argument("--no-figures", action="store_true", help="tables only")
    args = ap.parse_args(argv)
    try:
        _check_args(args)
        text = analyze(args.folder.resolve(), args.boot, args.level, args.seed, not args.no_figures)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or args.folder}: {os_problem(exc)}", file=sys.stderr)
        return 2
    print(text, end="")
    print(f"wrote {args.folder / 'analysis'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
