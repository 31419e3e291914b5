"""Which assumptions the ABC-SMC kernel moves, and which are drawn afresh from the prior.

With about a hundred parameters, an SMC kernel that perturbs all of them makes the
importance weights degenerate (the effective sample size collapses to a few particles: the
ratio of prior to proposal multiplies over every dimension). So the parameters are split
on a prior-predictive **pilot** sample (``M`` draws from the prior, one world each) before
any observed value is looked at:

- **active**: parameters whose absolute Spearman rank correlation with at least one of the
  fit's distance statistics exceeds what independence allows at a Bonferroni-corrected 5%
  over all parameter-statistic pairs (``|rho| > z / sqrt(M - 1)``), plus the two entries a
  constraint joins (the dependence floor and the starting dependence). The kernel moves
  these.
- **inactive**: every other parameter is drawn from its prior for each simulation (an
  independence proposal whose prior and proposal densities cancel in the weight), and its
  value is kept with the particle. The accepted particles are therefore a weighted sample
  of the **joint** posterior of all parameters; an inactive parameter's posterior is not
  set to its prior, it is estimated the same way, just not steered.

The screen sees monotone effects only (rank correlation); a parameter with a strong
non-monotone effect on a statistic would stay inactive (still estimated, less efficiently).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

#: Entries joined by a constraint (floor <= dependence): always active, so that the prior
#: restriction is checked on the parameters the sampler proposes.
ALWAYS_ACTIVE = ("dependence_floor", "rare_earth_dependence")


def _ranks(x: np.ndarray) -> np.ndarray:
    """Column-wise average ranks, standardized (mean 0, norm 1); constant columns -> 0."""
    r = np.apply_along_axis(rankdata, 0, x)
    r = r - r.mean(axis=0)
    norms = np.sqrt((r**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(norms > 0, r / norms, 0.0)
    return out


def screen(
    names: Sequence[str],
    u: np.ndarray,
    values: np.ndarray,
    stat_ids: Sequence[str],
    level: float = 0.05,
) -> pd.DataFrame:
    """Per parameter: strongest |Spearman rho| with the statistics, which one, active?

    ``u`` ``(M, P)`` pilot draws, ``values`` ``(M, S)`` the statistics ``stat_ids`` in those
    worlds (NaN rows of a statistic are dropped for it).
    """
    u = np.asarray(u, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    m = len(u)
    tests = max(1, len(names) * len(stat_ids))
    threshold = float(norm.ppf(1 - level / (2 * tests)) / np.sqrt(max(m - 1, 1)))
    best = np.zeros(len(names))
    which = np.full(len(names), "", dtype=object)
    for s, sid in enumerate(stat_ids):
        ok = np.isfinite(values[:, s])
        if ok.sum() < 3:
            continue
        rho = np.abs(_ranks(u[ok]).T @ _ranks(values[ok, s][:, None]))[:, 0]
        better = rho > best
        best = np.where(better, rho, best)
        which[better] = sid
    active = (best > threshold) | np.isin(list(names), ALWAYS_ACTIVE)
    return pd.DataFrame(
        {
            "parameter": list(names),
            "max_abs_spearman": best,
            "statistic": which,
            "threshold": threshold,
            "active": active,
        }
    )
