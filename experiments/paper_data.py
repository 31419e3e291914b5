"""Data behind the paper figures: each figure's design, run, reduced to one tidy table.

One builder per figure *kind* (``trajectories``, ``phase_diagram``, ``tipping_points``,
``survival``, ``firms``, ``calibration_contours``, ``sobol``). A builder takes the figure's
resolved config (``configs/paper/<figure>.yaml``) and returns a :class:`FigureData`: the tidy
table the figure is drawn from (units in the column names, explained in ``units``), how many
runs it took and which seeds.

Nothing here is new simulation or analysis code. Designs are planned and run by the sweep
library exactly as ``python -m sim +experiment=...`` runs them (:func:`sim.sweep.plan_sweep`,
then :func:`sim.sweep.run_chunk` for each chunk, in-process, nothing written); per-round
trajectories come from :func:`sim.engine.batch.run_batch`; probabilities, Wilson intervals, tipping
points, Kaplan-Meier curves and Sobol indices come from :mod:`experiments.analysis`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments import analysis as A
from sim.catalog import load_calibration, load_scenario
from sim.core.breakdown import BreakdownRule
from sim.core.errors import ConfigError
from sim.core.params import build_params
from sim.engine.batch import run_batch
from sim.sweep.design import chunk_bounds
from sim.sweep.execute import run_chunk, units
from sim.sweep.plan import SweepPlan, plan_sweep

#: Keys of a figure config's ``sweep`` section (the ``sweep`` schema of an experiment config,
#: less the layout keys, which the pipeline sets itself).
SWEEP_KEYS = frozenset(
    {
        "design",
        "axes",
        "parameters",
        "assumptions",
        "samples",
        "second_order",
        "design_seed",
        "replicates",
        "base_seed",
    }
)
#: Runs per chunk: bounds the memory of one batch; the table does not depend on it.
CHUNK_RUNS = 60_000

#: Design parameters -> (column name with unit, unit). Other parameters keep their name.
PARAM_COLUMNS: dict[str, tuple[str, str]] = {
    "escalation.us_tariff_level": (
        "us_tariff_end_share",
        "US tariff at the end of the escalation ramp, ad-valorem share (0.35 = 35%)",
    ),
    "escalation.us_security_pressure": (
        "us_demand_end_share",
        "export-control compliance the US demands at the end of the ramp, share 0-1 of full "
        "alignment",
    ),
    "lobbying_strength": (
        "lobbying_strength_x",
        "multiplier on firms' lobbying effort (0 = silent, 1 = as calibrated)",
    ),
    "fiscal_stress": (
        "fiscal_stress_level",
        "fiscal stress level (0 = as calibrated, 1 = the fiscal_stress scenario)",
    ),
}

#: Per-round variables of the trajectory figure (all shares 0-1), with their meaning.
TRAJECTORY_VARIABLES: dict[str, str] = {
    "jp_compliance": "Japan's export-control compliance",
    "us_demand": "compliance demanded by the US",
    "us_tariff": "US tariff on Japanese goods (ad-valorem)",
    "cn_restriction": "Chinese rare-earth / critical-input restriction (share withheld)",
}


@dataclass
class FigureData:
    """A figure's tidy table, the unit of each column, and how it was computed."""

    table: pd.DataFrame
    units: dict[str, str]
    runs: int
    seeds: dict[str, Any]
    designs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in self.table.columns if c not in self.units]
        if missing:
            raise ValueError(f"columns without a unit: {missing}")


def param_column(param: str) -> str:
    """The table column of a design parameter (its name with a unit suffix)."""
    return PARAM_COLUMNS[param][0] if param in PARAM_COLUMNS else param


def param_unit(param: str, plan: SweepPlan) -> str:
    """The unit of a design parameter (the sweep table's unit if it has no paper column)."""
    if param in PARAM_COLUMNS:
        return PARAM_COLUMNS[param][1]
    return units(plan).get(f"unit:{param}", param)


def _seed_info(replicates: int, base_seed: int, where: str = "at every design point") -> dict:
    return {
        "base_seed": int(base_seed),
        "replicates": int(replicates),
        "seeds": f"{base_seed}..{base_seed + replicates - 1} {where}",
    }


def axis_values(spec: Mapping[str, Any], param: str) -> list[Any] | None:
    """The listed ``values`` of the grid axis that varies ``param`` (None if it has none)."""
    for label, ax in (spec.get("axes") or {}).items():
        if (ax.get("param") or label) == param:
            return list(ax["values"]) if "values" in ax else None
    return None


def run_design(
    cfg: Mapping[str, Any],
    spec: Mapping[str, Any],
    name: str,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, SweepPlan]:
    """Run a design on the batch engine in-process, as a sweep would; (run table, plan).

    ``spec`` is a sweep section (grid/lhs/sobol, replicates, base_seed); ``cfg`` gives the
    rounds and the base calibration and scenario (a ``calibration`` or ``scenario`` axis
    overrides them). The runs are cut into chunks of at most :data:`CHUNK_RUNS` and each is
    computed by :func:`sim.sweep.run_chunk` (nothing is written); ``keep`` may reduce each
    chunk's rows to the columns needed, to save memory on large designs.
    """
    bad = sorted(set(spec) - SWEEP_KEYS)
    if bad:
        raise ConfigError(
            f"sweep.{bad[0]}", f"unknown key (allowed: {', '.join(sorted(SWEEP_KEYS))})"
        )
    cal_name = cfg.get("calibration") or (axis_values(spec, "calibration") or ["article"])[0]
    sc_name = cfg.get("scenario") or (axis_values(spec, "scenario") or ["baseline"])[0]
    base = {
        "calibration": load_calibration(cal_name).to_dict(),
        "scenario": load_scenario(sc_name),
        "rounds": cfg["rounds"],
        "engine": "batch",
        "breakdown": dataclasses.asdict(BreakdownRule()),
    }
    plan = plan_sweep({**spec, "name": name, "chunks": 1}, base)
    n_chunks = max(1, math.ceil(plan.n_runs / CHUNK_RUNS))
    plan = dataclasses.replace(plan, chunks=chunk_bounds(plan.n_runs, n_chunks))
    parts = []
    for i in range(len(plan.chunks)):
        part = run_chunk(plan, i)
        parts.append(keep(part) if keep is not None else part)
    return pd.concat(parts, ignore_index=True), plan


def _design_info(plan: SweepPlan) -> dict[str, Any]:
    return {
        "design": plan.design.kind,
        "points": len(plan.design.points),
        "runs": plan.n_runs,
        "rounds": plan.rounds,
        "scenarios": sorted(plan.scenarios),
        "calibrations": sorted(plan.calibrations),
        "config_hash": plan.config_hash,
        **_seed_info(int(plan.runs["replicate"].max()) + 1, int(plan.runs["seed"].min())),
    }


def _order(values: pd.Series, order: Sequence[str]) -> pd.Series:
    """Position of each value in ``order`` (for sorting names in config order)."""
    pos = {v: i for i, v in enumerate(order)}
    return values.map(pos)


# --------------------------------------------------------------------------- builders


def trajectories(cfg: Mapping[str, Any]) -> FigureData:
    """Per quarter: median, mean and 90% band across seeds of compliance, US and China moves."""
    cal = load_calibration(cfg["calibration"])
    reps, base_seed = int(cfg["replicates"]), int(cfg["base_seed"])
    seeds = np.arange(base_seed, base_seed + reps, dtype=np.int64)
    rule = BreakdownRule()
    frames = []
    for sc_name in cfg["scenarios"]:
        p = build_params(cal, load_scenario(sc_name), int(cfg["rounds"]), reps)
        res = run_batch(p, seeds, rule, record_rounds=True)
        for var in TRAJECTORY_VARIABLES:
            a = np.asarray(res.rounds[var], dtype=np.float64)  # (rounds, worlds)
            lo, med, hi = np.quantile(a, [0.05, 0.5, 0.95], axis=1)
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": sc_name,
                        "calibration": cal.name,
                        "variable": var,
                        "quarter": np.arange(a.shape[0], dtype=np.int64),
                        "runs": np.int64(reps),
                        "median_share": med,
                        "mean_share": a.mean(axis=1),
                        "q05_share": lo,
                        "q95_share": hi,
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    units = {
        "scenario": "scenario name (configs/scenario)",
        "calibration": "calibration name (configs/calibration)",
        "variable": "per-round variable: "
        + "; ".join(f"{k} = {v}" for k, v in TRAJECTORY_VARIABLES.items()),
        "quarter": "round of the run, quarters from 0",
        "runs": "seeds (runs) per scenario",
        "median_share": "median across seeds, share 0-1",
        "mean_share": "mean across seeds, share 0-1",
        "q05_share": "5th percentile across seeds, share 0-1",
        "q95_share": "95th percentile across seeds, share 0-1",
    }
    n = reps * len(cfg["scenarios"])
    return FigureData(table, units, n, _seed_info(reps, base_seed, "in every scenario"))


def _cells(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per cell: runs, breakdowns, breakdown share with Wilson 95%, and the side shares."""
    cells = A.breakdown_probability(runs, keys)
    sides = A.side_split(runs, keys)
    wide = sides.pivot_table(index=keys, columns="side", values="share", observed=True)
    wide = wide.reindex(columns=list(A.SIDES)).reset_index()
    cells = cells.merge(wide[[*keys, "us", "china"]], on=keys, how="left", validate="1:1")
    return cells.rename(
        columns={
            "events": "breakdowns",
            "p_breakdown": "breakdown_share",
            "ci_low": "breakdown_share_ci_low",
            "ci_high": "breakdown_share_ci_high",
            "us": "toward_us_share",
            "china": "toward_china_share",
        }
    )


_CELL_UNITS = {
    "runs": "runs in the cell (seeds)",
    "breakdowns": "runs whose balancing broke down within the horizon",
    "breakdown_share": "share of runs that broke down, 0-1",
    "breakdown_share_ci_low": "Wilson 95% interval of breakdown_share, lower end",
    "breakdown_share_ci_high": "Wilson 95% interval of breakdown_share, upper end",
    "toward_us_share": "share of runs that broke toward the US, 0-1",
    "toward_china_share": "share of runs that broke toward China, 0-1",
}


def _grid_table(cfg: Mapping[str, Any], name: str) -> FigureData:
    spec = cfg["sweep"]
    runs, plan = run_design(cfg, spec, name)
    params = list(plan.design.params)
    cats = [c for c in ("calibration", "scenario") if c in plan.design.points]
    cells = _cells(runs, [*cats, *params])
    if "calibration" not in cells:
        cells.insert(0, "calibration", next(iter(plan.calibrations)))
    if "scenario" not in cells:
        cells.insert(0, "scenario", next(iter(plan.scenarios)))
    cells = cells.rename(columns={p: param_column(p) for p in params})
    lead = ["scenario", "calibration", *[param_column(p) for p in params]]
    cells = cells[lead + [c for c in cells if c not in lead]]
    units = {
        "scenario": "scenario name (configs/scenario)",
        "calibration": "calibration name (configs/calibration)",
        **{param_column(p): param_unit(p, plan) for p in params},
        **_CELL_UNITS,
    }
    return FigureData(
        cells, units, plan.n_runs, _seed_info(*_reps(plan)), {"grid": _design_info(plan)}
    )


def _reps(plan: SweepPlan) -> tuple[int, int]:
    return int(plan.runs["replicate"].max()) + 1, int(plan.runs["seed"].min())


def phase_diagram(cfg: Mapping[str, Any]) -> FigureData:
    """Breakdown probability (Wilson 95%) and side per cell of a two-axis grid."""
    return _grid_table(cfg, "paper_phase_diagram")


def calibration_contours(cfg: Mapping[str, Any]) -> FigureData:
    """The phase grid under each calibration (a calibration axis): one row per cell."""
    data = _grid_table(cfg, "paper_calibration_contours")
    if data.table["calibration"].nunique() < 2:
        raise ConfigError("sweep.axes", "calibration_contours needs a calibration axis")
    return data


def tipping_points(cfg: Mapping[str, Any]) -> FigureData:
    """Where breakdown becomes more likely than not along ``axis``, per level of a factor.

    Each entry of ``sweeps`` is a grid over ``axis`` (e.g. the US tariff) and one factor
    (lobbying strength, fiscal stress); :func:`experiments.analysis.tipping_points` finds,
    per factor level, where the breakdown probability crosses ``level``, with a bootstrap
    interval.
    """
    axis = cfg["axis"]
    frames, designs, total = [], {}, 0
    seeds: dict[str, Any] = {}
    for key, spec in cfg["sweeps"].items():
        runs, plan = run_design(cfg, spec, f"paper_tipping_{key}")
        others = [p for p in plan.design.params if p != axis]
        if axis not in plan.design.params or len(others) != 1:
            raise ConfigError(
                f"sweeps.{key}.axes", f"needs exactly two axes, {axis} and one factor"
            )
        factor = others[0]
        tips = A.tipping_points(
            runs,
            axis,
            by=factor,
            level=float(cfg["level"]),
            n_boot=int(cfg["n_boot"]),
            seed=int(cfg["boot_seed"]),
        )
        col = param_column(axis)
        frames.append(
            pd.DataFrame(
                {
                    "panel": key,
                    "factor": factor,
                    "factor_value": tips[factor].to_numpy(np.float64),
                    "axis": axis,
                    "level_share": tips["level"].to_numpy(np.float64),
                    "direction": tips["direction"].to_numpy(),
                    f"tipping_{col}": tips["tipping_point"].to_numpy(np.float64),
                    f"tipping_{col}_ci_low": tips["ci_low"].to_numpy(np.float64),
                    f"tipping_{col}_ci_high": tips["ci_high"].to_numpy(np.float64),
                    "bootstrap_support_share": tips["support"].to_numpy(np.float64),
                    "breakdown_share_min": tips["p_min"].to_numpy(np.float64),
                    "breakdown_share_max": tips["p_max"].to_numpy(np.float64),
                    "runs_per_value": np.int64(_reps(plan)[0]),
                }
            )
        )
        designs[key] = _design_info(plan)
        seeds[key] = _seed_info(*_reps(plan))
        total += plan.n_runs
    table = pd.concat(frames, ignore_index=True)
    col = param_column(axis)
    axis_unit = PARAM_COLUMNS.get(axis, (axis, axis))[1]
    factor_units = "; ".join(
        f"{p}: {PARAM_COLUMNS[p][1]}" for p in dict.fromkeys(table["factor"]) if p in PARAM_COLUMNS
    )
    units = {
        "panel": "panel of the figure (key of sweeps in the config)",
        "factor": "the parameter varied across the panel's x axis",
        "factor_value": f"value of the factor ({factor_units})",
        "axis": "the pressure axis along which breakdown probability is tracked",
        "level_share": "breakdown probability that defines the tipping point, 0-1",
        "direction": "up: probability rises through the level; down: falls through it; none: no crossing",
        f"tipping_{col}": f"tipping point on the axis: {axis_unit}",
        f"tipping_{col}_ci_low": "bootstrap 95% interval of the tipping point, lower end (same unit)",
        f"tipping_{col}_ci_high": "bootstrap 95% interval of the tipping point, upper end (same unit)",
        "bootstrap_support_share": "share of bootstrap replicates with a matching crossing, 0-1",
        "breakdown_share_min": "lowest breakdown probability along the axis at this factor value",
        "breakdown_share_max": "highest breakdown probability along the axis at this factor value",
        "runs_per_value": "runs (seeds) at each axis value",
    }
    return FigureData(table, units, total, seeds, designs)


def survival(cfg: Mapping[str, Any]) -> FigureData:
    """Kaplan-Meier share still balancing per quarter, per calibration and scenario."""
    runs, plan = run_design(cfg, cfg["sweep"], "paper_survival")
    keys = ["calibration", "scenario"]
    curves, medians = A.survival(runs, keys)
    curves = curves.merge(
        medians[[*keys, "runs", "events"]], on=keys, how="left", validate="m:1"
    ).rename(
        columns={
            "time": "quarter",
            "survival": "still_balancing_share",
            "ci_low": "still_balancing_share_ci_low",
            "ci_high": "still_balancing_share_ci_high",
            "events": "breakdowns",
        }
    )
    curves["quarter"] = curves["quarter"].astype(np.int64)
    scen = axis_values(cfg["sweep"], "scenario") or sorted(plan.scenarios)
    cals = axis_values(cfg["sweep"], "calibration") or sorted(plan.calibrations)
    curves = (
        curves.assign(_c=_order(curves["calibration"], cals), _s=_order(curves["scenario"], scen))
        .sort_values(["_c", "_s", "quarter"], kind="mergesort")
        .drop(columns=["_c", "_s"])
        .reset_index(drop=True)
    )
    units = {
        "calibration": "calibration name (configs/calibration)",
        "scenario": "scenario name (configs/scenario)",
        "quarter": "quarters from the start of the run (0 = first round)",
        "still_balancing_share": "Kaplan-Meier share of runs not yet broken down, 0-1",
        "still_balancing_share_ci_low": "95% interval of the Kaplan-Meier estimate, lower end",
        "still_balancing_share_ci_high": "95% interval of the Kaplan-Meier estimate, upper end",
        "runs": "runs (seeds) in the group",
        "breakdowns": "runs of the group that broke down within the horizon",
    }
    return FigureData(
        curves, units, plan.n_runs, _seed_info(*_reps(plan)), {"grid": _design_info(plan)}
    )


def firms(cfg: Mapping[str, Any]) -> FigureData:
    """Per scenario and firm: cumulative profit, its change against the reference, lobbying.

    The change against the reference scenario is paired by seed (every scenario runs the same
    seeds): per seed ``(profit - reference profit) / reference profit``, then mean and 90% range.
    """
    runs, plan = run_design(cfg, cfg["sweep"], "paper_firms")
    ref = cfg["reference_scenario"]
    scen = axis_values(cfg["sweep"], "scenario") or sorted(plan.scenarios)
    if ref not in scen:
        raise ConfigError("reference_scenario", f"{ref!r} is not on the scenario axis {scen}")
    cal_names = sorted(plan.calibrations)
    firm_names = list(cfg.get("firms") or plan.calibrations[cal_names[0]].firm_names)
    rows = []
    for cal_name in cal_names:
        sub = runs[runs["calibration"] == cal_name]
        ref_runs = sub[sub["scenario"] == ref].set_index("seed")
        for sc_name in scen:
            g = sub[sub["scenario"] == sc_name].set_index("seed")
            for firm in firm_names:
                profit = g[f"cum_{firm}_profit_bn"].to_numpy(np.float64)
                base = ref_runs.loc[g.index, f"cum_{firm}_profit_bn"].to_numpy(np.float64)
                change = (profit - base) / base * 100.0
                lob = g[f"mean_{firm}_lobbying"].to_numpy(np.float64)
                rows.append(
                    {
                        "calibration": cal_name,
                        "scenario": sc_name,
                        "firm": firm,
                        "runs": len(g),
                        "cum_profit_mean_bn": profit.mean(),
                        "cum_profit_q05_bn": np.quantile(profit, 0.05),
                        "cum_profit_q95_bn": np.quantile(profit, 0.95),
                        "profit_change_mean_pct": change.mean(),
                        "profit_change_q05_pct": np.quantile(change, 0.05),
                        "profit_change_q95_pct": np.quantile(change, 0.95),
                        "lobbying_effort_mean_share": lob.mean(),
                        "lobbying_effort_q05_share": np.quantile(lob, 0.05),
                        "lobbying_effort_q95_share": np.quantile(lob, 0.95),
                    }
                )
    table = pd.DataFrame(rows)
    units = {
        "calibration": "calibration name (configs/calibration)",
        "scenario": "scenario name (configs/scenario)",
        "firm": "firm (calibration firm profile)",
        "runs": "runs (seeds) per scenario",
        "cum_profit_mean_bn": "operating profit after lobbying costs summed over the run, $bn, mean across seeds",
        "cum_profit_q05_bn": "5th percentile across seeds of the cumulative profit, $bn",
        "cum_profit_q95_bn": "95th percentile across seeds of the cumulative profit, $bn",
        "profit_change_mean_pct": f"change of cumulative profit against {ref} with the same seed, %, mean across seeds",
        "profit_change_q05_pct": "5th percentile across seeds of the change, %",
        "profit_change_q95_pct": "95th percentile across seeds of the change, %",
        "lobbying_effort_mean_share": "lobbying effort averaged over the run's rounds, 0-1, mean across seeds",
        "lobbying_effort_q05_share": "5th percentile across seeds of the lobbying effort, 0-1",
        "lobbying_effort_q95_share": "95th percentile across seeds of the lobbying effort, 0-1",
    }
    return FigureData(
        table, units, plan.n_runs, _seed_info(*_reps(plan)), {"grid": _design_info(plan)}
    )


def sobol(cfg: Mapping[str, Any]) -> FigureData:
    """First-order and total Sobol indices (95% intervals) of the breakdown probability."""

    def keep(part: pd.DataFrame) -> pd.DataFrame:
        return part[["point", "replicate", "rounds", "outcome", "breakdown_round"]]

    runs, plan = run_design(cfg, cfg["sweep"], "paper_sobol", keep)
    # sobol_indices averages each point's runs; the point's parameter values come from the
    # design (one row per point), attached to every run of the point.
    params = list(plan.design.params)
    values = plan.design.points[params].astype(np.float64).to_numpy()[runs["point"].to_numpy()]
    runs = pd.concat([runs, pd.DataFrame(values, columns=params)], axis=1)
    idx = A.sobol_indices(
        runs,
        plan.design.problem,
        outputs=(cfg["output"],),
        second_order=bool(cfg["sweep"].get("second_order", False)),
        seed=int(cfg["analysis_seed"]),
    )
    ranges = {r.param: r for r in plan.design.ranges}
    table = pd.DataFrame(
        {
            "output": idx["output"],
            "parameter": idx["parameter"],
            "low": [ranges[p].low for p in idx["parameter"]],
            "high": [ranges[p].high for p in idx["parameter"]],
            "S1_variance_share": idx["S1"],
            "S1_ci95_halfwidth": idx["S1_conf"],
            "ST_variance_share": idx["ST"],
            "ST_ci95_halfwidth": idx["ST_conf"],
        }
    )
    order = table["ST_variance_share"].rank(ascending=False, method="first")
    table["rank_by_ST"] = order.astype(np.int64)
    units = {
        "output": "model output decomposed: p_breakdown = share of a point's seeds that broke down",
        "parameter": "sampled parameter (calibration entry, firm entry or scenario level)",
        "low": "lower end of the sampled range (the parameter's own unit, see docs/ODD.md)",
        "high": "upper end of the sampled range (the parameter's own unit)",
        "S1_variance_share": "first-order Sobol index: share of the output variance, 0-1",
        "S1_ci95_halfwidth": "half-width of the bootstrap 95% interval of S1",
        "ST_variance_share": "total Sobol index (with interactions): share of the output variance",
        "ST_ci95_halfwidth": "half-width of the bootstrap 95% interval of ST",
        "rank_by_ST": "rank of the parameter by total index (1 = largest)",
    }
    return FigureData(
        table, units, plan.n_runs, _seed_info(*_reps(plan)), {"sobol": _design_info(plan)}
    )


BUILDERS: dict[str, Callable[[Mapping[str, Any]], FigureData]] = {
    "trajectories": trajectories,
    "phase_diagram": phase_diagram,
    "tipping_points": tipping_points,
    "survival": survival,
    "firms": firms,
    "calibration_contours": calibration_contours,
    "sobol": sobol,
}
