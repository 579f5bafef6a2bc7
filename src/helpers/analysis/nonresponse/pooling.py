"""Rubin's rules: one estimate and its variance from m imputed data sets, as ``mice::pool``.

With estimates Q_1..Q_m and their squared standard errors U_1..U_m:

* the pooled estimate is Q-bar = mean(Q); the within variance U-bar = mean(U); the between variance
  B = var(Q) (divisor m - 1); the total variance T = U-bar + (1 + 1/m) B;
* the interval is Q-bar +- t(0.975, nu) sqrt(T) with Barnard and Rubin's (1999) small-sample degrees
  of freedom: lambda = (1 + 1/m) B / T, nu_old = (m - 1) / lambda^2, nu_obs = (nu_com + 1) / (nu_com +
  3) nu_com (1 - lambda), nu = nu_old nu_obs / (nu_old + nu_obs), where nu_com is the complete-data df;
* the relative increase in variance riv = (1 + 1/m) B / U-bar and the fraction of missing
  information fmi = (riv + 2 / (nu + 3)) / (1 + riv).

Two conventions copied from ``mice:::barnard.rubin`` so that the numbers equal R's: lambda is
floored at 1e-4 (no imputed values: B = 0), and a large-sample statistic (nu_com = None, R's
``dfcom = Inf``) gets nu = nu_old. Hand-written because statsmodels' ``MICEResults`` pools only its
own MICE fits and has no Barnard-Rubin df; ``tests/test_r_reference.py`` checks it against
``mice::pool`` on the same completed data sets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from helpers.analysis.nonresponse.statistics import LEVEL, wald
from helpers.core import lazy
from helpers.results.nonresponse import Estimate, Pooled

stats = lazy.module("scipy.stats")  # ~0.6 s to import: at the first interval

LAMBDA_FLOOR = 1e-4  # mice:::barnard.rubin
WILSON_POOLED = "Wilson score by Rubin's rules"  # the interval words of :func:`wilson_pooled` (before its df)


def barnard_rubin(m: int, between: float, total: float, dfcom: float | None) -> float:
    """Barnard and Rubin's degrees of freedom (``mice:::barnard.rubin``; ``dfcom`` None = infinite)."""
    lam = max((1 + 1 / m) * between / total, LAMBDA_FLOOR) if total > 0 else LAMBDA_FLOOR
    dfold = (m - 1) / lam**2
    if dfcom is None or not np.isfinite(dfcom):
        return float(dfold)
    dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
    return float(dfold * dfobs / (dfold + dfobs))


def pool(estimates: Sequence[Estimate]) -> Pooled:
    """Rubin's rules over the estimates of one statistic on m completed data sets (each with its ``se``;
    the complete-data df is the first estimate's ``df``, None for large-sample statistics)."""
    m = len(estimates)
    if m < 2:
        raise ValueError(f"pooling needs at least 2 imputed data sets; got {m}")
    q = np.array([e.value for e in estimates], dtype=float)
    if any(e.se is None for e in estimates):
        raise ValueError("every estimate needs a standard error to be pooled")
    u = np.array([e.se for e in estimates], dtype=float) ** 2
    qbar, ubar, b = float(q.mean()), float(u.mean()), float(q.var(ddof=1))
    t = ubar + (1 + 1 / m) * b
    dfcom = estimates[0].df
    df = barnard_rubin(m, b, t, dfcom)
    riv = (1 + 1 / m) * b / ubar if ubar > 0 else float("inf")
    fmi = (riv + 2 / (df + 3)) / (1 + riv) if np.isfinite(riv) else 1.0
    fields = wald(qbar, float(np.sqrt(t)), estimates[0].n, df=dfcom, pooled_df=df)
    return Pooled(
        **fields,
        m=m,
        within=ubar,
        between=b,
        total=t,
        df_pooled=df,
        riv=float(riv),
        fmi=float(fmi),
        mc_se=float(np.sqrt(b / m)),
    )


def wilson_interval_pooled(qbar, within, between, n, m, df):
    """The Wilson-type interval of a share pooled over ``m`` imputations (arrays or numbers; see
    :func:`wilson_pooled`): ``qbar`` the mean share, ``within`` the mean of the m squared sample-mean SEs
    (s^2 / n, divisor n - 1), ``between`` their variance B, ``n`` kommuner, ``df`` the pooled df. Returns
    (low, high)."""
    qbar, n = np.asarray(qbar, float), np.asarray(n, float)
    ubar = np.asarray(within, float) * (n - 1) / n  # the binomial variance p (1 - p) / n of each data set, averaged
    extra = (1 + 1 / m) * np.asarray(between, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        riv = np.where(extra > 0, extra / ubar, 0.0)  # r; infinite when every data set has a share of 0 or 1
        t2 = stats.t.ppf(0.5 + LEVEL / 2, df) ** 2
        k = t2 * (1 + riv) / n  # t^2 / n*, n* = n / (1 + r) the effective number of kommuner
        centre = (qbar + k / 2) / (1 + k)
        half = np.sqrt(k * qbar * (1 - qbar) + k**2 / 4) / (1 + k)
        low = np.where(np.isfinite(k), np.clip(centre - half, 0, 1), 0.0)
        high = np.where(np.isfinite(k), np.clip(centre + half, 0, 1), 1.0)
    return low, high


def wilson_pooled(p: Pooled) -> Pooled:
    """``p`` (a share pooled by :func:`pool`) with a Wilson-type 95 % interval in place of the Wald one.

    The Wald interval qbar +- t sqrt(T) of a share near 0 is too short: when few or no kommuner have the
    property its width shrinks to nothing (notebook 02's share that stopped cooperating covered 74-92 %).
    This interval inverts the score-type statement (qbar - p)^2 <= t^2 (1 + r) p (1 - p) / n, i.e. it is the
    Wilson score interval at the effective number of kommuner n / (1 + r), with r = (1 + 1/m) B / U-bar the
    relative increase in variance (U-bar here the mean binomial variance p_j (1 - p_j) / n of the data sets)
    and t on the pooled Barnard-Rubin df: the construction of Lott and Reiter (2020, The American
    Statistician 74:109), with the package's df. With nothing imputed (B = 0) it is the complete-data Wilson
    interval with t in place of z; every other field of ``p`` (value, se, df, riv, ...) is unchanged."""
    low, high = wilson_interval_pooled(p.value, p.within, p.between, p.n, p.m, p.df_pooled)
    return dataclasses.replace(
        p, low=float(low), high=float(high), interval=f"{WILSON_POOLED}, t, df {p.df_pooled:.1f}"
    )
