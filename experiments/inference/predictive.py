"""Posterior- (and prior-) predictive intervals, and whether history falls inside them.

A predictive draw is a parameter draw (resampled from a fit's weighted population, or from
the prior) and one fresh world of it (its own seed). Over ``n`` draws, per observed row:
the 5th, 25th, 50th, 75th and 95th percentiles of the model's values. The **50% interval**
is [25th, 75th], the **90% interval** [5th, 95th]; percentiles are actual draws
(``method="inverted_cdf"``), so a 0/1 outcome's interval is 0, 1 or [0, 1]. Because that
makes "inside" coarse for 0/1 outcomes, each row also gets the predictive probability of
exactly the observed value (``p_equal``) and of a value below it (``p_below``): a
continuous outcome's ``p_below`` near 0 or 1 says history is in a tail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Percentiles reported per row.
PERCENTILES = (5, 25, 50, 75, 95)


def resample(u: np.ndarray, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from a weighted population (multinomial resampling by weight)."""
    idx = rng.choice(len(weights), size=n, replace=True, p=np.asarray(weights) / np.sum(weights))
    return np.asarray(u)[idx]


def intervals(values: np.ndarray, rows: pd.DataFrame) -> pd.DataFrame:
    """Per observed row: percentiles of ``values`` ``(n, rows)``, inside 50% / 90%, p_equal, p_below."""
    out = []
    for j, (_, row) in enumerate(rows.iterrows()):
        v = np.asarray(values[:, j], dtype=np.float64)
        v = v[np.isfinite(v)]
        obs = float(row["value"])
        rec = {"id": row["id"], "episode": row["episode"], "quantity": row["quantity"]}
        rec.update(observed=obs, unit=row["unit"], draws=int(v.size))
        if v.size == 0:
            rec.update({f"p{q:02d}": np.nan for q in PERCENTILES})
            rec.update(inside_50=False, inside_90=False, p_equal=np.nan, p_below=np.nan)
            out.append(rec)
            continue
        q = np.percentile(v, PERCENTILES, method="inverted_cdf")
        rec.update({f"p{p:02d}": float(x) for p, x in zip(PERCENTILES, q, strict=True)})
        tol = 1e-9 * max(1.0, abs(obs))
        rec.update(
            inside_50=bool(q[1] - tol <= obs <= q[3] + tol),
            inside_90=bool(q[0] - tol <= obs <= q[4] + tol),
            p_equal=float(np.mean(np.abs(v - obs) <= tol)),
            p_below=float(np.mean(v < obs - tol)),
        )
        out.append(rec)
    return pd.DataFrame(out)


def interval_text(p_lo: float, p_hi: float, digits: int = 3) -> str:
    """``[lo, hi]`` (or one number when both ends are the same draw)."""
    if p_lo == p_hi:
        return f"{p_lo:.{digits}g}"
    return f"[{p_lo:.{digits}g}, {p_hi:.{digits}g}]"
