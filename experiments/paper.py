"""The paper figures: one command regenerates every figure and its data, identically.

    python -m experiments.paper                    # all figures -> results/paper/
    python -m experiments.paper --only phase_diagram survival
    python -m experiments.paper --check            # regenerate the data in a temporary
                                                   # folder and compare with results/paper/
    python -m experiments.paper --scale small --out /tmp/paper   # reduced size (tests)

Each figure is described by one YAML file in ``configs/paper/`` (its design, seeds,
scenarios, calibrations, grid sizes; a ``small`` section holds the reduced sizes used by
``--scale small``). For each figure the pipeline writes

- ``data/<figure>.csv``: the tidy table the figure is drawn from (units in the column names,
  explained in the manifest), with fixed float formatting so that the bytes are stable;
- ``figures/<figure>.png`` and ``.pdf`` (no timestamps in their metadata);

and then ``MANIFEST.json`` (per figure: config, seeds, SHA-256 of the data file, code
version) and ``README.md`` (each figure with its caption and a few sentences written from
its data). ``--check`` exits 1 and names the figure if any data file differs from a fresh
regeneration or from its manifest hash.

What a figure *is* lives in :mod:`experiments.figures`: one module per kind (its config keys,
data builder, drawer and README writer), found by :func:`experiments.figures.kinds`. This
module is only the pipeline: configs, CSV, images, manifest, README, check, command line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments import CONFIG_DIR, REPO_ROOT, deep_merge
from experiments.figures import kinds, labels, style, sweeps
from experiments.figures.kind import COMMON_KEYS
from sim.core.errors import ConfigError
from sim.core.registry import DETECTOR_ENTRIES, TEMPERATURE_ENTRIES
from sim.sweep.storage import (
    atomic_write_json,
    atomic_write_text,
    code_version,
    file_sha256,
    scratch_folder,
)

PAPER_CONFIGS = CONFIG_DIR / "paper"
DEFAULT_OUT = REPO_ROOT / "results" / "paper"
#: Where ``--scale small`` writes unless ``--out`` is given (ignored by git).
SMALL_OUT = REPO_ROOT / "results" / "runs" / "paper-small"
SCALES = ("full", "small")
MANIFEST = "MANIFEST.json"
README = "README.md"
#: Float columns are rounded to this many decimals, then written with FLOAT_FORMAT.
DECIMALS = 10
FLOAT_FORMAT = "%.6g"


@dataclass
class PaperFigure:
    """One figure: its name (the config's file stem), resolved config and source file."""

    name: str
    config: dict[str, Any]
    path: Path
    scale: str

    @property
    def kind(self) -> str:
        return self.config["kind"]

    @property
    def number(self) -> int:
        return int(self.config["number"])


def load_figure(path: Path, scale: str = "full") -> PaperFigure:
    """Read and check one figure config; ``scale="small"`` merges its ``small`` section in."""
    if scale not in SCALES:
        raise ConfigError("--scale", f"unknown scale {scale!r} (choose from {', '.join(SCALES)})")
    name = path.stem
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(name, "expected a mapping")
    kind = raw.get("kind")
    if kind not in kinds():
        raise ConfigError(
            f"{name}.kind", f"unknown kind {kind!r} (choose from {', '.join(kinds())})"
        )
    allowed = kinds()[kind].allowed
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}", f"unknown key for kind {kind}")
    for key in sorted((COMMON_KEYS - {"small"}) | kinds()[kind].required):
        if key not in raw:
            raise ConfigError(f"{name}.{key}", "missing")
    small = raw.pop("small", None) or {}
    for key in small:
        if key not in allowed - {"small"}:
            raise ConfigError(f"{name}.small.{key}", f"unknown key for kind {kind}")
    cfg = deep_merge(raw, small) if scale == "small" else raw
    return PaperFigure(name=name, config=cfg, path=path, scale=scale)


def load_figures(
    config_dir: Path = PAPER_CONFIGS, scale: str = "full", only: Sequence[str] | None = None
) -> list[PaperFigure]:
    """Every figure config in ``config_dir``, in figure-number order (or only those named)."""
    paths = sorted(config_dir.glob("*.yaml"))
    known = [p.stem for p in paths]
    if only:
        for n in only:
            if n not in known:
                raise ConfigError("--only", f"unknown figure {n!r} (available: {', '.join(known)})")
        paths = [p for p in paths if p.stem in set(only)]
    figs = [load_figure(p, scale) for p in paths]
    numbers = [f.number for f in figs]
    if len(set(numbers)) != len(numbers):
        raise ConfigError("number", f"two figures share a number: {sorted(numbers)}")
    return sorted(figs, key=lambda f: f.number)


def format_csv(table: pd.DataFrame) -> str:
    """The table as CSV text with stable bytes: floats rounded, fixed format, ``\\n`` lines."""
    out = table.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = np.round(out[c].to_numpy(np.float64), DECIMALS) + 0.0  # no "-0"
    return out.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "SALib", "lifelines", "matplotlib", "seaborn", "mesa"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _publish(*paths: Path) -> None:
    """Make written files world-readable (atomic writes create them private)."""
    for p in paths:
        os.chmod(p, 0o644)


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _config_rel(path: Path) -> str:
    """A figure config's path as the docs name it: ``configs/...`` for the shipped configs.

    ``configs`` is the repository's link to the package's ``sim/conf``; the committed MANIFEST
    and README link to the configs through it.
    """
    try:
        return str(Path("configs") / path.resolve().relative_to(CONFIG_DIR))
    except ValueError:
        return _rel(path)


def build_figure(
    fig: PaperFigure, out: Path, images: bool = True, version: str | None = None
) -> dict[str, Any]:
    """Compute one figure's data, write its CSV (and images); return its manifest entry.

    ``version``: the code version to record (default: read now; :func:`generate` reads it
    once, before writing anything, since its own outputs in ``results/paper`` would otherwise
    mark a clean checkout dirty).
    """
    t0 = time.perf_counter()
    kind = kinds()[fig.kind]
    data = kind.build(fig.config)
    csv_path = out / "data" / f"{fig.name}.csv"
    atomic_write_text(csv_path, format_csv(data.table))
    _publish(csv_path)
    t_data = time.perf_counter() - t0
    files = []
    if images:
        # drawn from the table as written (what the CSV holds), not the in-memory floats
        table = pd.read_csv(csv_path)
        with style.paper_style():
            drawn = kind.draw(table, fig.config)
            stems = style.save_figure(drawn, out / "figures" / fig.name)
        _publish(*stems)
        files = [f"figures/{p.name}" for p in stems]
    elapsed = time.perf_counter() - t0
    print(
        f"  figure {fig.number} {fig.name:<22} {data.runs:>9,} runs  data {t_data:6.1f} s"
        + (f"  total {elapsed:6.1f} s" if images else ""),
        flush=True,
    )
    return {
        "number": fig.number,
        "kind": fig.kind,
        "title": fig.config["title"],
        "config_file": _config_rel(fig.path),
        "config_sha256": file_sha256(fig.path),
        "scale": fig.scale,
        "config": fig.config,
        "seeds": data.seeds,
        "runs": data.runs,
        "designs": data.designs,
        "data": {
            "file": f"data/{fig.name}.csv",
            "sha256": file_sha256(csv_path),
            "rows": len(data.table),
            "columns": [{"name": c, "unit": data.units[c]} for c in data.table.columns],
        },
        "figures": files,
        "code_version": version or code_version(),
    }


README_INTRO = (
    "Generated by `python -m experiments.paper` (`make figures`) from the configs in "
    "[`configs/paper/`](../../configs/paper/); do not edit by hand. `make figures-check` "
    "regenerates the data and requires every table (and this text) to come out byte for byte "
    "the same. Each figure is drawn from its table in `data/` (tidy, units in the column "
    "names; `MANIFEST.json` explains each column and records the config, seeds, SHA-256 of "
    "the table and the code version). The numbers below are computed from those tables."
)


def _calibration_names(cfg: Mapping[str, Any]) -> list[str]:
    """The calibrations a figure config runs: its ``calibration`` and any calibration axis."""
    names = [cfg["calibration"]] if cfg.get("calibration") else []
    specs = [cfg["sweep"]] if "sweep" in cfg else list((cfg.get("sweeps") or {}).values())
    for spec in specs:
        names += sweeps.axis_values(spec, "calibration") or []
    return names


def _number(key: str, v: float) -> float | int:
    """A detector constant as written: the sustained rounds as an int, the others as floats."""
    return int(v) if key == "breakdown_sustain_rounds" else float(v)


def detector_record(entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The breakdown detector's constants and the decision temperatures of every calibration
    the figures run (calibration entries; near best response divides the temperatures)."""
    names = sorted({n for e in entries.values() for n in _calibration_names(e["config"])})
    cals = {n: labels.calibration(n) for n in names}
    return {
        "breakdown_detector": {
            n: {k: _number(k, c.value(k)) for k in DETECTOR_ENTRIES} for n, c in cals.items()
        },
        "noise_levels": {
            "temperature_divisor": dict(sweeps.NOISE),
            "temperatures": {
                n: {k: c.value(k) for k in TEMPERATURE_ENTRIES} for n, c in cals.items()
            },
        },
    }


def _seeds_line(entry: Mapping[str, Any]) -> str:
    """The README's seeds of a figure; designs in name order, as MANIFEST.json stores them
    (so a README written from a fresh build and one written from the manifest, as
    ``--only`` does for the other figures, are the same text)."""
    seeds = entry["seeds"]
    if "seeds" in seeds:
        return f"seeds {seeds['seeds']}"
    return "; ".join(f"{k}: seeds {v['seeds']}" for k, v in sorted(seeds.items()))


def _readme_section(out: Path, name: str, e: Mapping[str, Any]) -> list[str]:
    """One figure's README lines: title, image, caption, its kind's sentences, sources."""
    cfg = e["config"]
    table = pd.read_csv(out / e["data"]["file"])
    caption = " ".join(str(cfg["caption"]).split())
    return [
        f"## Figure {e['number']}. {cfg['title']}",
        "",
        f"![Figure {e['number']}: {cfg['title']}](figures/{name}.png)",
        "",
        f"*{caption}*",
        "",
        kinds()[e["kind"]].describe(table, cfg),
        "",
        f"Data: [`data/{name}.csv`](data/{name}.csv) ({e['data']['rows']:,} rows); "
        f"PDF: [`figures/{name}.pdf`](figures/{name}.pdf); config: "
        f"[`{e['config_file']}`](../../{e['config_file']}); {e['runs']:,} runs of "
        f"{int(cfg['rounds'])} quarters, {_seeds_line(e)}.",
        "",
    ]


def readme(out: Path, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The README text for the figures in ``entries`` (manifest entries), from their CSVs."""
    scales = {e["scale"] for e in entries.values()}
    lines = ["# Paper figures", "", README_INTRO, ""]
    if scales != {"full"}:
        lines += [f"**Scale: {', '.join(sorted(scales))}** (reduced sizes, for tests).", ""]
    for name, e in entries.items():
        lines += _readme_section(out, name, e)
    return "\n".join(lines)


def write_readme(out: Path, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """``README.md``: every figure with its caption and sentences written from its CSV."""
    text = readme(out, entries)
    atomic_write_text(out / README, text)
    return text


def generate(
    figures: Sequence[PaperFigure], out: Path, images: bool = True, readme: bool = True
) -> dict[str, Any]:
    """Build ``figures`` into ``out``; update ``MANIFEST.json`` (and ``README.md``)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    entries = dict(manifest.get("figures", {}))
    scales = {f.scale for f in figures}
    if entries and manifest.get("scale") not in scales | {None}:
        entries = {}  # a different scale: start afresh rather than mix sizes
    t0 = time.perf_counter()
    version = code_version()  # before anything is written: the outputs are tracked files
    print(f"paper figures ({', '.join(sorted(scales))} scale) -> {_rel(out)}", flush=True)
    for fig in figures:
        entries[fig.name] = build_figure(fig, out, images, version)
    entries = dict(sorted(entries.items(), key=lambda kv: kv[1]["number"]))
    manifest = {
        "about": "Paper figures: python -m experiments.paper (make figures); "
        "verify with python -m experiments.paper --check (make figures-check).",
        "scale": figures[0].scale if figures else manifest.get("scale"),
        "code_version": version,
        **detector_record(entries),
        "float_format": {"decimals": DECIMALS, "format": FLOAT_FORMAT},
        "versions": _versions(),
        "figures": entries,
    }
    atomic_write_json(manifest_path, manifest)
    _publish(manifest_path)
    if readme:
        write_readme(out, entries)
        _publish(out / README)
    print(f"total {time.perf_counter() - t0:.1f} s", flush=True)
    return manifest


def _first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            return f"line {i + 1}: committed {x!r} vs regenerated {y!r}"
    return f"{len(la)} lines committed vs {len(lb)} regenerated"


def _compare(
    name: str, entry: Mapping[str, Any], fresh: Mapping[str, Any], out: Path, tmp: Path
) -> list[str]:
    """The problems of one figure: its committed ``entry`` and data against ``fresh`` ones."""
    csv = out / entry["data"]["file"]
    new_csv = tmp / fresh["data"]["file"]
    if not csv.exists():
        return [f"{name}: {entry['data']['file']} is missing"]
    problems = []
    if file_sha256(csv) != entry["data"]["sha256"]:
        problems.append(f"{name}: {entry['data']['file']} does not match its MANIFEST hash")
    if fresh["data"]["sha256"] != entry["data"]["sha256"]:
        problems.append(f"{name}: regenerated data differs from the MANIFEST hash")
    if csv.read_bytes() != new_csv.read_bytes():
        problems.append(
            f"{name}: {entry['data']['file']} differs from the regenerated data ("
            + _first_difference(csv.read_text(), new_csv.read_text())
            + ")"
        )
    if entry.get("config") != fresh["config"]:
        problems.append(f"{name}: {entry['config_file']} changed since MANIFEST.json")
    return problems


def check(out: Path, scale: str | None = None, only: Sequence[str] | None = None) -> list[str]:
    """Regenerate the data into a temporary folder and compare with ``out``; the problems.

    Each problem names its figure: a data file whose bytes differ from the regenerated one,
    a data file whose hash differs from ``MANIFEST.json``, a manifest hash that differs from
    the regenerated data's, a config that changed since the manifest was written, a figure
    missing on either side; and ``README.md`` if its text differs from the regenerated one.
    """
    manifest_path = out / MANIFEST
    if not manifest_path.exists():
        return [f"{_rel(manifest_path)}: missing (run make figures first)"]
    manifest = json.loads(manifest_path.read_text())
    scale = scale or manifest.get("scale") or "full"
    committed = manifest.get("figures", {})
    figures = load_figures(PAPER_CONFIGS, scale, only)
    problems: list[str] = []
    names = {f.name for f in figures}
    if not only:
        problems += [
            f"{n}: in MANIFEST.json but has no config" for n in committed if n not in names
        ]
    # The scratch folder is removed however check() ends; one a killed check left behind is
    # removed here, by the next check (sim.sweep.storage.scratch_folder).
    with scratch_folder(Path(tempfile.gettempdir()), "paper-check-") as tmp:
        fresh = generate(figures, Path(tmp), images=False, readme=not only)["figures"]
        for fig in figures:
            entry = committed.get(fig.name)
            if entry is None:
                problems.append(f"{fig.name}: not in MANIFEST.json")
                continue
            problems += _compare(fig.name, entry, fresh[fig.name], out, Path(tmp))
        if not only:
            readme_path = out / README
            new = (Path(tmp) / README).read_text()
            if not readme_path.exists() or readme_path.read_text() != new:
                problems.append("README.md: differs from the text regenerated from the data")
    if manifest.get("code_version") != code_version():
        print(
            f"note: MANIFEST.json was written by code {manifest.get('code_version')}, "
            f"this is {code_version()}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: build (default) or check the paper figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="output folder (default results/paper)")
    ap.add_argument("--scale", choices=SCALES, default=None, help="full (default) or small")
    ap.add_argument("--only", nargs="+", metavar="FIGURE", help="only these figures")
    ap.add_argument("--no-images", action="store_true", help="data, manifest and README only")
    ap.add_argument(
        "--check", action="store_true", help="regenerate the data and compare with --out"
    )
    args = ap.parse_args(argv)
    out = args.out or (SMALL_OUT if args.scale == "small" else DEFAULT_OUT)
    out = out if out.is_absolute() else Path.cwd() / out
    try:
        if args.check:
            problems = check(out, args.scale, args.only)
            if problems:
                print(f"figures-check FAILED ({len(problems)} problem(s)):")
                for p in problems:
                    print(f"  {p}")
                return 1
            print(f"figures-check passed: the data in {_rel(out)} regenerates identically")
            return 0
        figures = load_figures(PAPER_CONFIGS, args.scale or "full", args.only)
        generate(figures, out, images=not args.no_images)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
