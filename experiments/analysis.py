"""Analysis of sweep tables: plain functions, tidy tables in, tidy tables out (no drawing).

Every function takes the tidy run table of a sweep (one row per run, as written to
``runs.parquet`` by :mod:`sim.sweep`) and returns a long-format DataFrame:

- :func:`breakdown_probability`: share of runs that broke down per cell, Wilson 95% interval;
- :func:`side_split`: the same per side (balanced / toward the US / toward China);
- :func:`tipping_points`: where the breakdown probability crosses a level (50%) along an axis,
  by linear interpolation between grid values, with a bootstrap interval;
- :func:`survival`: Kaplan-Meier time to breakdown per group, censored at the horizon;
- :func:`sobol_indices`: first-order and total Sobol indices (``SALib.analyze.sobol``) of the
  per-point breakdown probability;
- :func:`prim_box`: a PRIM box of the breakdown region (``ema_workbench.analysis.prim``).

Figures are drawn from these tables by :mod:`experiments.plots`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

#: Outcome labels of a run (``outcome`` column) and what "event" a probability counts.
SIDES = ("balanced", "us", "china")
EVENTS = ("breakdown", "us", "china")
Z95 = 1.959963984540054


def _by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def event_flags(runs: pd.DataFrame, event: str = "breakdown") -> pd.Series:
    """Per run: True if it broke down (``breakdown``) or broke toward ``us`` / ``china``."""
    if event == "breakdown":
        return runs["breakdown_round"] >= 0
    if event in ("us", "china"):
        return runs["outcome"].astype(str) == event
    raise ValueError(f"event must be one of {', '.join(EVENTS)}, got {event!r}")


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (default 95%); arrays of shares 0-1.

    statsmodels' ``proportion_confint(method="wilson")`` at the confidence level of ``z``.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(k, n, alpha=2 * norm.sf(z), method="wilson")
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def breakdown_probability(
    runs: pd.DataFrame, by: str | Sequence[str] | None, event: str = "breakdown"
) -> pd.DataFrame:
    """Per cell of ``by``: runs, events, ``p_<event>`` (share 0-1) and its Wilson 95% interval."""
    cols = _by(by)
    flag = event_flags(runs, event).rename("_event")
    frame = pd.concat([runs[cols], flag], axis=1) if cols else flag.to_frame()
    if cols:
        g = frame.groupby(cols, sort=True, observed=True)["_event"].agg(["size", "sum"])
        out = g.reset_index()
    else:
        out = pd.DataFrame({"size": [len(frame)], "sum": [int(frame["_event"].sum())]})
    out = out.rename(columns={"size": "runs", "sum": "events"})
    out["events"] = out["events"].astype(np.int64)
    out[f"p_{event}"] = out["events"] / out["runs"]
    lo, hi = wilson_interval(out["events"].to_numpy(), out["runs"].to_numpy())
    out["ci_low"], out["ci_high"] = lo, hi
    return out


def side_split(runs: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Per cell and side (balanced / us / china): runs, count, share 0-1, Wilson 95% interval."""
    cols = _by(by)
    keys = cols or ["_all"]
    frame = runs[cols].copy() if cols else pd.DataFrame({"_all": 0}, index=runs.index)
    frame["side"] = runs["outcome"].astype(str)
    counts = (
        frame.groupby([*keys, "side"], sort=True, observed=True)
        .size()
        .unstack("side", fill_value=0)
        .reindex(columns=list(SIDES), fill_value=0)
    )
    counts.columns.name = "side"
    long = counts.stack().rename("count").reset_index()
    long["runs"] = long.groupby(keys, sort=False, observed=True)["count"].transform("sum")
    long["share"] = long["count"] / long["runs"]
    lo, hi = wilson_interval(long["count"].to_numpy(), long["runs"].to_numpy())
    long["ci_low"], long["ci_high"] = lo, hi
    return long[[*cols, "side", "runs", "count", "share", "ci_low", "ci_high"]]


def _crossings(x: np.ndarray, p: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Upward and downward crossing locations between grid values; NaN where none.

    ``p`` has shape ``(B, m)`` over sorted values ``x`` of shape ``(m,)``; the results have
    shape ``(B, m - 1)``. Upward: p goes from below ``level`` to at or above it.
    """
    a, b = p[:, :-1], p[:, 1:]
    up = (a < level) & (b >= level)
    down = (a >= level) & (b < level)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(up | down, (level - a) / (b - a), np.nan)
    loc = x[:-1] + t * (x[1:] - x[:-1])
    return np.where(up, loc, np.nan), np.where(down, loc, np.nan)


def _sorted_crossings(x: np.ndarray, p: np.ndarray, level: float) -> list[tuple[str, float]]:
    """Each crossing of ``level`` by ``p`` over ``x``: (direction, location in units of x)."""
    up, down = _crossings(x, p[None, :], level)
    found = [("up", v) for v in up[0] if np.isfinite(v)]
    found += [("down", v) for v in down[0] if np.isfinite(v)]
    found.sort(key=lambda t: t[1])
    return found


def _bootstrap_crossings(
    x: np.ndarray,
    n: np.ndarray,
    p: np.ndarray,
    found: list[tuple[str, float]],
    level: float,
    n_boot: int,
    ci: float,
    rng: np.random.Generator,
) -> list[tuple[float, float, np.float64]]:
    """Per crossing in ``found``: bootstrap interval (units of x) and support (share 0-1)."""
    q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
    boot = rng.binomial(n[None, :], p[None, :], size=(n_boot, len(x))) / n[None, :]
    b_up, b_down = _crossings(x, boot, level)
    edges = [-np.inf, *(v for _, v in found), np.inf]
    out = []
    for k, (direction, est) in enumerate(found):
        locs = b_up if direction == "up" else b_down
        # only crossings between this one's neighbours count as "the same" crossing
        locs = np.where((locs > edges[k]) & (locs < edges[k + 2]), locs, np.nan)
        dist = np.where(np.isfinite(locs), np.abs(locs - est), np.inf)
        j = np.argmin(dist, axis=1)
        pick = locs[np.arange(n_boot), j]
        ok = np.isfinite(pick)
        lo, hi = np.percentile(pick[ok], q) if ok.any() else (np.nan, np.nan)
        out.append((lo, hi, ok.mean()))
    return out


def _group_tipping_rows(
    g: pd.DataFrame,
    axis: str,
    pcol: str,
    base: dict,
    level: float,
    n_boot: int,
    ci: float,
    rng: np.random.Generator,
) -> list[dict]:
    """The tipping point rows of one group's cells (one per crossing, or one "none" row)."""
    g = g.sort_values(axis)
    x = g[axis].to_numpy(np.float64)
    n = g["runs"].to_numpy(np.int64)
    p = g[pcol].to_numpy(np.float64)
    base = {**base, "values": len(x)}
    p_range = {"p_min": p.min(), "p_max": p.max()}
    found = _sorted_crossings(x, p, level)
    if not found:
        return [
            {
                **base,
                "direction": "none",
                "tipping_point": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "support": np.nan,
                **p_range,
            }
        ]
    intervals = _bootstrap_crossings(x, n, p, found, level, n_boot, ci, rng)
    return [
        {
            **base,
            "direction": direction,
            "tipping_point": est,
            "ci_low": lo,
            "ci_high": hi,
            "support": support,
            **p_range,
        }
        for (direction, est), (lo, hi, support) in zip(found, intervals, strict=True)
    ]


def tipping_points(
    runs: pd.DataFrame,
    axis: str,
    by: str | Sequence[str] | None = None,
    level: float = 0.5,
    event: str = "breakdown",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Where the probability of ``event`` crosses ``level`` along ``axis``, per group of ``by``.

    Within each group the probability at each value of ``axis`` is the share of its runs
    (other columns pooled); crossings are located by linear interpolation between adjacent
    values, upward (``direction`` "up": from below ``level`` to at or above it) and downward.
    A curve may cross several times; each crossing is a row. The interval comes from a
    parametric bootstrap of each value's share (binomial resampling of its runs, which is
    resampling the runs with replacement): in each replicate the crossing of the same
    direction nearest to the estimate, and between the estimate's neighbouring crossings, is
    taken; ``support`` is the share of replicates that have one. A group that never crosses
    gets one row with direction "none".
    """
    cols = _by(by)
    if axis in cols:
        raise ValueError(f"axis {axis!r} is also in by")
    cells = breakdown_probability(runs, [*cols, axis], event)
    rng = np.random.default_rng(seed)
    rows = []
    groups = cells.groupby(cols, sort=True, observed=True) if cols else [((), cells)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = dict(zip(cols, key, strict=True))
        base.update(axis=axis, event=event, level=level)
        rows += _group_tipping_rows(g, axis, f"p_{event}", base, level, n_boot, ci, rng)
    return pd.DataFrame(rows)


def survival(
    runs: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    horizon: int | None = None,
    event: str = "breakdown",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves of time to breakdown (quarters), censored at the horizon, per group.

    Duration is ``breakdown_round`` (the quarter the sustained breakdown began) for runs that
    broke down (toward either side, or only toward ``event`` if it is "us"/"china"), and the
    horizon (``rounds``) for the others, which count as censored. Returns (curves, medians):
    curves has ``time``, ``survival`` and its 95% interval per group; medians has runs,
    events and the median time to breakdown (NaN if more than half never broke down).
    """
    from lifelines import KaplanMeierFitter

    cols = _by(by)
    if horizon is None:
        horizon = int(runs["rounds"].max())
    flag = event_flags(runs, event).to_numpy()
    duration = np.where(flag, runs["breakdown_round"].to_numpy(), horizon).astype(np.float64)
    frame = runs[cols].copy() if cols else pd.DataFrame(index=runs.index)
    frame["_t"], frame["_e"] = duration, flag
    curves, medians = [], []
    groups = frame.groupby(cols, sort=True, observed=True) if cols else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = dict(zip(cols, key, strict=True))
        kmf = KaplanMeierFitter(alpha=0.05)
        kmf.fit(g["_t"], event_observed=g["_e"], timeline=np.arange(horizon + 1, dtype=float))
        sf = kmf.survival_function_.iloc[:, 0]
        band = kmf.confidence_interval_survival_function_
        c = pd.DataFrame(
            {
                "time": sf.index.to_numpy(np.float64),
                "survival": sf.to_numpy(),
                "ci_low": band.iloc[:, 0].to_numpy(),
                "ci_high": band.iloc[:, 1].to_numpy(),
            }
        )
        for k, v in reversed(base.items()):
            c.insert(0, k, v)
        curves.append(c)
        med = float(kmf.median_survival_time_)
        medians.append(
            {
                **base,
                "runs": len(g),
                "events": int(g["_e"].sum()),
                "median_quarters": med if np.isfinite(med) else np.nan,
                "horizon": horizon,
            }
        )
    return pd.concat(curves, ignore_index=True), pd.DataFrame(medians)


def point_means(
    runs: pd.DataFrame,
    params: Sequence[str],
    outputs: Sequence[str] = (),
    points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per design point: its parameters (float64), p_breakdown and mean ``outputs``.

    The parameters come from ``runs`` or, if given, from ``points`` (the design's table, one
    row per point, in point order): a large design need not carry them on every run.
    """
    flag = event_flags(runs).rename("p_breakdown").astype(np.float64)
    frame = pd.concat([runs[["point"]], flag, runs[list(outputs)]], axis=1)
    means = frame.groupby("point", sort=True).mean()
    if points is None:
        first = runs.groupby("point", sort=True)[list(params)].first().astype(np.float64)
        return pd.concat([first, means], axis=1).reset_index()
    # Column by column: a large design's table is not copied whole (a Sobol design's 150,000
    # points x 65 parameters is 80 MB a copy).
    index = means.index.to_numpy()
    cols: dict[str, np.ndarray] = {"point": index}
    for name in params:
        cols[name] = points[name].to_numpy(np.float64)[index]
    for name in means.columns:
        cols[name] = means[name].to_numpy()
    return pd.DataFrame(cols)


def sobol_indices(
    runs: pd.DataFrame,
    problem: dict,
    outputs: Sequence[str] = ("p_breakdown",),
    second_order: bool = False,
    seed: int = 0,
    points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices with 95% intervals, per output and parameter.

    ``runs`` must come from a Sobol design over ``problem`` (``point`` in SALib's sample
    order); each point's output is averaged over its replicate seeds. ``p_breakdown`` is the
    share of a point's runs that broke down; other outputs are run-table columns. The
    intervals are SALib's bootstrap, seeded by ``seed`` (same seed, same table). The
    parameter values come from ``runs`` or, if given, the design's ``points``
    (:func:`point_means`).
    """
    from SALib.analyze import sobol

    names = list(problem["names"])
    extra = [o for o in outputs if o != "p_breakdown"]
    pts = point_means(runs, names, extra, points)
    d = len(names)
    expected = (2 * d + 2) if second_order else (d + 2)
    if len(pts) % expected:
        raise ValueError(
            f"{len(pts)} points is not a multiple of {expected} (a Sobol design over {d})"
        )
    rows = []
    for out in outputs:
        y = pts[out].to_numpy(np.float64)
        if np.var(y) == 0:
            s = {k: np.full(d, np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                # SALib treats seed 0 as "no seed" (global RNG): shift it to stay deterministic
                s = sobol.analyze(problem, y, calc_second_order=second_order, seed=int(seed) + 1)
        for i, name in enumerate(names):
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "S1": s["S1"][i],
                    "S1_conf": s["S1_conf"][i],
                    "ST": s["ST"][i],
                    "ST_conf": s["ST_conf"][i],
                }
            )
    return pd.DataFrame(rows)


def prim_box(
    runs: pd.DataFrame,
    params: Sequence[str],
    threshold: float = 0.5,
    min_density: float = 0.8,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A PRIM box of the points whose breakdown probability is at least ``threshold``.

    Runs are pooled per design point (its replicate seeds); PRIM (``ema_workbench``) peels
    the parameter space toward those points. Of the peeling trajectory, the box with the
    highest coverage among those with density >= ``min_density`` is chosen (else the densest).
    Returns (limits, trajectory): limits has one row per parameter (``low``, ``high``,
    ``restricted``, and the box's coverage, density and mass); trajectory is PRIM's.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench warns about optional extras on import
        from ema_workbench.analysis import prim

    pts = point_means(runs, params)
    x = pts[list(params)].astype(np.float64)
    y = (pts["p_breakdown"] >= threshold).to_numpy()
    if not y.any():
        limits = pd.DataFrame(
            {"parameter": list(params), "low": np.nan, "high": np.nan, "restricted": False}
        )
        return limits.assign(coverage=np.nan, density=np.nan, mass=np.nan), pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min).find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    dense = traj[traj["density"] >= min_density]
    i = int(dense["coverage"].idxmax() if len(dense) else traj["density"].idxmax())
    lims, full = box.box_lims[i], box.box_lims[0]
    restricted = [
        not (
            np.isclose(lims.loc[0, c], full.loc[0, c])
            and np.isclose(lims.loc[1, c], full.loc[1, c])
        )
        for c in params
    ]
    limits = pd.DataFrame(
        {
            "parameter": list(params),
            "low": [float(lims.loc[0, c]) for c in params],
            "high": [float(lims.loc[1, c]) for c in params],
            "restricted": restricted,
        }
    )
    stats = traj.loc[i]
    limits = limits.assign(
        coverage=float(stats["coverage"]),
        density=float(stats["density"]),
        mass=float(stats["mass"]),
    )
    limits = limits.sort_values(["restricted", "parameter"], ascending=[False, True])
    return limits.reset_index(drop=True), traj
