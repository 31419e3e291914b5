"""``results/paper/README.md``: each figure with its caption and sentences written from its data.

Every number in the text is computed here from the figure's CSV file as written (read back
with pandas), so the text always matches the committed tables; ``make figures-check``
regenerates the README and compares it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.catalog import load_scenario
from sim.core.breakdown import BreakdownRule

SCENARIO_NAME = {
    "baseline": "the baseline",
    "us_escalation": "US escalation",
    "rare_earth_embargo": "the rare-earth embargo",
    "fiscal_stress": "fiscal stress",
    "no_lobbying": "silent firms",
}
CALIBRATION_NAME = {"article": "the article's figures", "corrected": "the corrected figures"}
FIRM_NAME = {"toyota": "Toyota", "sony": "Sony", "honda": "Honda"}
FACTOR_NAME = {"lobbying_strength": "firms' lobbying strength", "fiscal_stress": "fiscal stress"}
#: What the design brief expects a factor to do to the pressure needed to break the balance.
EXPECTED = {"lobbying_strength": "raises", "fiscal_stress": "lowers"}


def _name(key: str, names: Mapping[str, str]) -> str:
    return names.get(key, key.replace("_", " "))


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage, e.g. 0.345 -> '34.5%'."""
    return "–" if not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def num(x: float, digits: int = 2) -> str:
    """A number with fixed decimals ('–' if missing)."""
    return "–" if not np.isfinite(x) else f"{x:.{digits}f}"


def signed(x: float, digits: int = 1) -> str:
    """A signed number without a negative zero, e.g. -7.9 -> '-7.9', -0.01 -> '0.0'."""
    s = f"{x:+.{digits}f}"
    return s[1:] if float(s) == 0 else s


def listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def interval(lo: float, hi: float, f: Callable[[float], str] = pct) -> str:
    """'[lo, hi]' formatted with ``f``."""
    return f"[{f(lo)}, {f(hi)}]"


def ranges(values: Sequence[float], step: float | None = None) -> str:
    """Sorted grid values as contiguous ranges: [0, 0.6, 0.625, 0.65] -> '0 and 0.6–0.65'."""
    vals = sorted(set(float(v) for v in values))
    if not vals:
        return "none"
    if step is None:
        diffs = np.diff(vals)
        step = float(diffs.min()) if len(diffs) else 0.0
    parts, start, prev = [], vals[0], vals[0]
    for v in vals[1:]:
        if v - prev > step * 1.5:
            parts.append((start, prev))
            start = v
        prev = v
    parts.append((start, prev))
    text = [f"{a:g}" if a == b else f"{a:g}–{b:g}" for a, b in parts]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _grid_step(values: pd.Series) -> float:
    d = np.diff(np.sort(values.unique()))
    return float(d.min()) if len(d) else 0.0


# --------------------------------------------------------------------------- per kind


def trajectories(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    rule = BreakdownRule()
    out = []
    for sc in cfg["scenarios"]:
        d = t[t["scenario"] == sc]

        def var(v: str, d: pd.DataFrame = d) -> pd.DataFrame:
            return d[d["variable"] == v].sort_values("quarter")

        c, dem, tar, res = (
            var(v) for v in ("jp_compliance", "us_demand", "us_tariff", "cn_restriction")
        )
        last = c.iloc[-1]
        med = c["median_share"].to_numpy()
        outside = int(((med > rule.band_high + 1e-9) | (med < rule.band_low - 1e-9)).sum())
        edge = c[np.isclose(med, rule.band_high) | np.isclose(med, rule.band_low)]
        peak = tar.loc[tar["median_share"].idxmax()]
        sentence = (
            f"Under {_name(sc, SCENARIO_NAME)} ({int(c['runs'].iloc[0]):,} seeds), Japan's median "
            f"compliance is {num(c['median_share'].iloc[0])} in quarter 0 and "
            f"{num(last['median_share'])} in quarter {int(last['quarter'])} (mean "
            f"{num(last['mean_share'])}, 90% of seeds {num(last['q05_share'])}–"
            f"{num(last['q95_share'])}); the median "
            + (
                f"stays inside the balancing band ({rule.band_low:g}–{rule.band_high:g}) in every "
                f"quarter"
                if outside == 0
                else f"is outside the balancing band ({rule.band_low:g}–{rule.band_high:g}) in "
                f"{outside} of {len(c)} quarters"
            )
            + (
                f", at its edge in {len(edge)} of them (first in quarter "
                f"{int(edge['quarter'].iloc[0])})."
                if len(edge)
                else "."
            )
        )
        sentence += (
            f" The US demands {num(dem['median_share'].iloc[0])} at first and "
            f"{num(dem['median_share'].iloc[-1])} at the end; the median US tariff peaks at "
            f"{pct(peak['median_share'])} (quarter {int(peak['quarter'])}) and China's median "
            f"restriction ends at {pct(res['median_share'].iloc[-1])} of supplies withheld "
            f"(95th percentile {pct(res['q95_share'].iloc[-1])})."
        )
        out.append(sentence)
    return "\n\n".join(out)


def _star(cfg: Mapping[str, Any]) -> tuple[float, float] | None:
    esc = load_scenario(cfg["scenario"]).escalation if cfg.get("scenario") else None
    return None if esc is None else (esc.us_tariff_level, esc.us_security_pressure)


def _cell(t: pd.DataFrame, x: float, y: float) -> pd.Series | None:
    m = np.isclose(t["us_tariff_end_share"], x) & np.isclose(t["us_demand_end_share"], y)
    return t[m].iloc[0] if m.any() else None


def phase_diagram(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    level = float(cfg["level"])
    hi = t[t["breakdown_share"] >= level]
    n, total = len(hi), len(t)
    step = _grid_step(t["us_demand_end_share"])
    runs = int(hi["runs"].sum())
    us = float((hi["toward_us_share"] * hi["runs"]).sum() / runs) if runs else np.nan
    cn = float((hi["toward_china_share"] * hi["runs"]).sum() / runs) if runs else np.nan
    china_cells = hi[hi["toward_china_share"] > hi["toward_us_share"]]
    text = (
        f"Breakdown within {int(cfg['rounds'])} quarters is more likely than not in {n:,} of the "
        f"{total:,} cells ({pct(n / total)}), at demanded compliance "
        f"{ranges(hi['us_demand_end_share'], step)}; of the runs in those cells {pct(us)} broke "
        f"toward the US and {pct(cn)} toward China."
    )
    if len(china_cells):
        text += (
            f" Breakdown toward China dominates in {len(china_cells):,} of them: at demands "
            f"{ranges(china_cells['us_demand_end_share'], step)} (tariffs "
            f"{pct(china_cells['us_tariff_end_share'].min(), 0)}–"
            f"{pct(china_cells['us_tariff_end_share'].max(), 0)})."
        )
    star = _star(cfg)
    cell = _cell(t, *star) if star else None
    if cell is not None:
        text += (
            f" At the scenario's own escalation (tariff {pct(star[0], 0)}, demand {star[1]:g}) "
            f"the probability is {pct(cell['breakdown_share'])} "
            f"{interval(cell['breakdown_share_ci_low'], cell['breakdown_share_ci_high'])} "
            f"(Wilson 95%, {int(cell['runs'])} runs)."
        )
    return text


def tipping_points(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    base = load_scenario(cfg["scenario"])
    tip = [c for c in t if c.startswith("tipping_") and not c.endswith(("_low", "_high"))][0]
    out = []
    for panel in dict.fromkeys(t["panel"]):
        d = t[(t["panel"] == panel) & (t["direction"] == "up")].sort_values(
            ["factor_value", tip], kind="mergesort"
        )
        factor = t[t["panel"] == panel]["factor"].iloc[0]
        levels = t[t["panel"] == panel]["factor_value"].unique()
        first = d.drop_duplicates("factor_value")
        if first.empty:
            out.append(
                f"Along {_name(factor, FACTOR_NAME)} the probability never crosses {pct(float(cfg['level']), 0)}."
            )
            continue
        picks = [first.iloc[0]]
        own = getattr(base, factor, None)
        mid = first[np.isclose(first["factor_value"], own)] if own is not None else first.iloc[:0]
        if len(mid) and not np.isclose(own, picks[0]["factor_value"]):
            picks.append(mid.iloc[0])
        one = first[np.isclose(first["factor_value"], 1.0)]
        if len(one) and all(not np.isclose(1.0, p["factor_value"]) for p in picks):
            picks.append(one.iloc[0])
        picks.append(first.iloc[-1])

        def at(r: pd.Series) -> str:
            return (
                f"{pct(r[tip])} {interval(r[f'{tip}_ci_low'], r[f'{tip}_ci_high'])} at "
                f"{r['factor_value']:g}"
            )

        change = first[tip].iloc[-1] - first[tip].iloc[0]
        verb = "raises" if change > 0 else "lowers"
        expected = EXPECTED.get(factor)
        multi = int(d.groupby("factor_value").size().gt(1).sum())
        missing = len(levels) - len(first)
        sentence = (
            f"Raising {_name(factor, FACTOR_NAME)} from {first['factor_value'].iloc[0]:g} to "
            f"{first['factor_value'].iloc[-1]:g} {verb} the US tariff at which breakdown becomes "
            f"more likely than not by {abs(change) * 100:.1f} percentage points: "
            + ", ".join(at(p) for p in picks)
            + " (bootstrap 95%)"
            + (
                ""
                if expected is None
                else " — as the design brief expects."
                if expected == verb
                else f" — the design brief expects {_name(factor, FACTOR_NAME)} to "
                f"{expected[:-1]} it; docs/ODD.md §9 discusses why the model disagrees."
            )
        )
        if not sentence.endswith("."):
            sentence += "."
        if multi or missing:
            sentence += (
                f" ({multi} factor level(s) cross more than once; {missing} never cross upward.)"
            )
        out.append(sentence)
    up = t[t["direction"] == "up"]
    out.append(
        f"Each point rests on {int(up['runs_per_value'].iloc[0]) if len(up) else 0} seeds per "
        f"tariff value; the intervals reflect seed noise, not the grid step."
    )
    return " ".join(out)


def survival(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    out = []
    for cal in dict.fromkeys(t["calibration"]):
        d = t[t["calibration"] == cal]
        broke, calm = [], []
        for sc in dict.fromkeys(d["scenario"]):
            g = d[d["scenario"] == sc].sort_values("quarter")
            runs, k = int(g["runs"].iloc[0]), int(g["breakdowns"].iloc[0])
            if k == 0:
                calm.append((_name(sc, SCENARIO_NAME), runs))
                continue
            end = g.iloc[-1]
            first = int(g[g["still_balancing_share"] < 1]["quarter"].iloc[0])
            tenth = g[g["still_balancing_share"] <= 0.9]["quarter"]
            broke.append(
                f"{_name(sc, SCENARIO_NAME)} broke down in {k:,} of {runs:,} runs (share still "
                f"balancing after quarter {int(end['quarter'])}: {pct(end['still_balancing_share'])} "
                f"{interval(end['still_balancing_share_ci_low'], end['still_balancing_share_ci_high'])}), "
                f"the first in quarter {first}"
                + (f", 10% by quarter {int(tenth.iloc[0])}" if len(tenth) else "")
            )
        text = f"Under {_name(cal, CALIBRATION_NAME)}, " + (
            "; ".join(broke) if broke else "no scenario broke down"
        )
        if calm:
            counts = sorted({r for _, r in calm})
            each = f"0 of {counts[0]:,} runs each" if len(counts) == 1 else "0 runs"
            text += "; no run broke down under " + listing([n for n, _ in calm]) + f" ({each})"
        out.append(text + ".")
    return " ".join(out)


def firms(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    ref = cfg["reference_scenario"]
    out = []
    for cal in dict.fromkeys(t["calibration"]):
        d = t[t["calibration"] == cal]
        r = d[d["scenario"] == ref]
        names = [_name(f, FIRM_NAME) for f in r["firm"]]
        out.append(
            f"Under {_name(ref, SCENARIO_NAME)} ({_name(cal, CALIBRATION_NAME)}) "
            + listing(names)
            + " earn "
            + listing([f"${v:,.0f}bn" for v in r["cum_profit_mean_bn"]])
            + f" over {int(cfg['rounds'])} quarters and lobby with mean effort "
            + listing([num(v) for v in r["lobbying_effort_mean_share"]])
            + "."
        )
        parts, flat = [], []
        for sc in dict.fromkeys(d["scenario"]):
            if sc == ref:
                continue
            g = d[d["scenario"] == sc]
            if g["profit_change_mean_pct"].abs().max() < 0.5:
                flat.append(_name(sc, SCENARIO_NAME))
                continue
            changes = ", ".join(
                f"{_name(f, FIRM_NAME)} {signed(v)}% [{signed(lo)}, {signed(hi)}]"
                for f, v, lo, hi in zip(
                    g["firm"],
                    g["profit_change_mean_pct"],
                    g["profit_change_q05_pct"],
                    g["profit_change_q95_pct"],
                    strict=True,
                )
            )
            parts.append(f"{_name(sc, SCENARIO_NAME)} ({changes})")
        if parts:
            out.append(
                "Against the same seed under "
                + f"{_name(ref, SCENARIO_NAME)}, cumulative profits change under "
                + "; under ".join(parts)
                + " (mean, 90% of seeds)."
            )
        if flat:
            out.append(
                f"{listing(flat)[0].upper()}{listing(flat)[1:]} change no firm's profit by more "
                "than 0.5% on average."
            )
        for sc in dict.fromkeys(d["scenario"]):
            g = d[d["scenario"] == sc]
            if sc != ref and (g["lobbying_effort_mean_share"] == 0).all():
                out.append(f"Lobbying effort is zero under {_name(sc, SCENARIO_NAME)}.")
        lob = d[d["scenario"] != ref].groupby("scenario", sort=False)["lobbying_effort_mean_share"]
        low = lob.mean()[lob.mean() > 0].idxmin() if (lob.mean() > 0).any() else None
        if low is not None:
            out.append(
                f"Lobbying is weakest under {_name(low, SCENARIO_NAME)} ("
                + listing([num(v) for v in d[d["scenario"] == low]["lobbying_effort_mean_share"]])
                + ")."
            )
    return " ".join(out)


def calibration_contours(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    level = float(cfg["level"])
    ref = cfg["reference_calibration"]
    keys = ["us_tariff_end_share", "us_demand_end_share"]
    cals = [ref, *[c for c in dict.fromkeys(t["calibration"]) if c != ref]]
    other = cals[1]
    a = t[t["calibration"] == ref].set_index(keys)["breakdown_share"]
    b = t[t["calibration"] == other].set_index(keys)["breakdown_share"].reindex(a.index)
    total = len(a)
    na, nb = int((a >= level).sum()), int((b >= level).sum())
    only_a = int(((a >= level) & (b < level)).sum())
    only_b = int(((b >= level) & (a < level)).sum())
    diff = b - a
    text = (
        f"Breakdown is more likely than not in {na:,} of {total:,} cells ({pct(na / total)}) "
        f"under {_name(ref, CALIBRATION_NAME)} and {nb:,} ({pct(nb / total)}) under "
        f"{_name(other, CALIBRATION_NAME)}; the two {pct(level, 0)} contours classify "
        f"{only_a + only_b:,} cells ({pct((only_a + only_b) / total)}) differently ({only_a:,} "
        f"break only under {ref}, {only_b:,} only under {other}). The mean difference in "
        f"probability over the grid is {signed(diff.mean(), 3)} ({other} − {ref}), ranging "
        f"from {signed(diff.min(), 2)} to {signed(diff.max(), 2)} per cell."
    )
    star = _star(cfg)
    if star is not None:
        ca = _cell(t[t["calibration"] == ref], *star)
        cb = _cell(t[t["calibration"] == other], *star)
        if ca is not None and cb is not None:
            text += (
                f" At the scenario's own escalation (tariff {pct(star[0], 0)}, demand "
                f"{star[1]:g}) the probability is {pct(ca['breakdown_share'])} under {ref} and "
                f"{pct(cb['breakdown_share'])} under {other}"
            )
            row = []
            for name, s in ((ref, a), (other, b)):
                r = s[np.isclose(s.index.get_level_values(1), star[1])]
                hit = r[r >= level]
                row.append(
                    f"{pct(hit.index.get_level_values(0).min())} ({name})"
                    if len(hit)
                    else f"never ({name})"
                )
            text += (
                f"; at demand {star[1]:g} it first reaches {pct(level, 0)} at a tariff of "
                + " versus ".join(row)
                + "."
            )
    return text


def sobol(t: pd.DataFrame, cfg: Mapping[str, Any]) -> str:
    d = t.sort_values("rank_by_ST")
    top = d.head(3)
    s1 = float(t["S1_variance_share"].sum())
    small = int((t["ST_variance_share"] < 0.01).sum())
    items = [
        f"`{r['parameter']}` (ST {num(r['ST_variance_share'])} ± {num(r['ST_ci95_halfwidth'])}, "
        f"S1 {num(r['S1_variance_share'])} ± {num(r['S1_ci95_halfwidth'])})"
        for _, r in top.iterrows()
    ]
    return (
        f"Of the {len(t)} sampled parameters, the breakdown probability is most sensitive to "
        + ", ".join(items[:-1])
        + f" and {items[-1]}. The first-order indices sum to {num(s1)}, so about "
        f"{pct(max(0.0, 1 - s1), 0)} of the variance comes from interactions (breakdown needs "
        f"several conditions at once); {small} parameters have a total index below 0.01."
    )


DESCRIBERS: dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], str]] = {
    "trajectories": trajectories,
    "phase_diagram": phase_diagram,
    "tipping_points": tipping_points,
    "survival": survival,
    "firms": firms,
    "calibration_contours": calibration_contours,
    "sobol": sobol,
}


def _seeds_line(entry: Mapping[str, Any]) -> str:
    seeds = entry["seeds"]
    if "seeds" in seeds:
        return f"seeds {seeds['seeds']}"
    return "; ".join(f"{k}: seeds {v['seeds']}" for k, v in seeds.items())


def readme(out: Path, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The README text for the figures in ``entries`` (manifest entries), from their CSVs."""
    scales = {e["scale"] for e in entries.values()}
    lines = [
        "# Paper figures",
        "",
        "Generated by `python -m experiments.paper` (`make figures`) from the configs in "
        "[`configs/paper/`](../../configs/paper/); do not edit by hand. `make figures-check` "
        "regenerates the data and requires every table (and this text) to come out byte for byte "
        "the same. Each figure is drawn from its table in `data/` (tidy, units in the column "
        "names; `MANIFEST.json` explains each column and records the config, seeds, SHA-256 of "
        "the table and the code version). The numbers below are computed from those tables.",
        "",
    ]
    if scales != {"full"}:
        lines += [f"**Scale: {', '.join(sorted(scales))}** (reduced sizes, for tests).", ""]
    for name, e in entries.items():
        cfg = e["config"]
        table = pd.read_csv(out / e["data"]["file"])
        text = DESCRIBERS[e["kind"]](table, cfg)
        caption = " ".join(str(cfg["caption"]).split())
        lines += [
            f"## Figure {e['number']}. {cfg['title']}",
            "",
            f"![Figure {e['number']}: {cfg['title']}](figures/{name}.png)",
            "",
            f"*{caption}*",
            "",
            text,
            "",
            f"Data: [`data/{name}.csv`](data/{name}.csv) ({e['data']['rows']:,} rows); "
            f"PDF: [`figures/{name}.pdf`](figures/{name}.pdf); config: "
            f"[`{e['config_file']}`](../../{e['config_file']}); {e['runs']:,} runs of "
            f"{int(cfg['rounds'])} quarters, {_seeds_line(e)}.",
            "",
        ]
    return "\n".join(lines)
