"""Statistics: what a notebook estimates from the answers, declared once and recomputed under each
treatment of non-response.

A :class:`Statistic` says which rounds it reads and how to compute it. It comes in two kinds:

* a **mean of a per-kommune score** (:func:`mean_of`; :func:`share` and :func:`moved` build the
  usual ones): the share of the kommuner whose answer is in a set of models, or that moved from one
  set to another between two rounds, or any bounded score of a kommune's answers. Its estimand is
  the mean over *all* kommuner. Its bounds are exact (the score is added up kommune by kommune) and
  its weighted standard error accounts for the raking (as ``survey::svymean`` on a calibrated design);
* **anything else** (:func:`statistic`): a function ``compute(answers, covariates, weights)`` that
  returns an :class:`~helpers.results.nonresponse.Estimate`, e.g. a rate ratio of a count model in
  notebook 03. Its bounds come from a search over completions (:mod:`.manski`), its weighted version
  is ``compute`` with the weights, its imputed version is ``compute`` on each completed data set.

``answers`` is always a frame indexed by kommunekode with one column per round the statistic reads
(model codes 1-5, no gaps: the complete cases, or a completion); ``covariates`` is
:attr:`Panel.covariates` for the same kommuner; ``weights`` is None or a Series on the same index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.core import lazy
from helpers.results.nonresponse import Estimate

stats = lazy.module("scipy.stats")  # ~0.6 s to import: at the first interval
proportion = lazy.module("statsmodels.stats.proportion")

Score = Callable[[pd.DataFrame], np.ndarray]  # answers (complete) -> one value per kommune
Compute = Callable[[pd.DataFrame, pd.DataFrame, "pd.Series | None"], Estimate]

LEVEL = 0.95
# scipy.stats.norm.ppf(0.975) written out, so that importing this module does not import scipy.stats
# (tests/test_nonresponse.py checks it equals scipy's to the last bit)
Z = 1.959963984540054
WILSON = "Wilson score"  # the interval words of a share's complete-case interval (:func:`wilson`)


@dataclass(frozen=True)
class Statistic:
    """A quantity to estimate under every treatment of non-response.

    Fields: ``name`` (a key, e.g. ``"started"``); ``description`` (in words); ``rounds`` (the rounds whose
    answers it reads; its complete cases answered all of them); ``score`` (for a mean of a per-kommune
    score: answers -> a value per kommune) or ``compute`` (for anything else: answers, covariates,
    weights -> :class:`~helpers.results.nonresponse.Estimate`); exactly one of the two is set;
    ``proportion``: True when the score is 0/1 (a share: :func:`share`, :func:`moved`), whose unweighted
    interval is then the Wilson score interval (:func:`wilson`) instead of the Wald one.
    """

    name: str
    description: str
    rounds: tuple[int, ...]
    score: Score | None = None
    compute: Compute | None = None
    proportion: bool = False

    def __post_init__(self):
        if (self.score is None) == (self.compute is None):
            raise ValueError(f"statistic {self.name!r}: give exactly one of score and compute")
        if not self.rounds:
            raise ValueError(f"statistic {self.name!r}: it reads no round")
        if self.proportion and self.score is None:
            raise ValueError(f"statistic {self.name!r}: a proportion is a mean of a 0/1 score; give score")

    @property
    def additive(self) -> bool:
        """True for a mean of a per-kommune score (exact bounds, calibrated standard errors)."""
        return self.score is not None


def mean_of(name: str, description: str, rounds: Sequence[int], score: Score, *, proportion: bool = False) -> Statistic:
    """The mean over the kommuner of ``score(answers)``; ``proportion=True`` declares the score 0/1 (a share,
    with Wilson score intervals; checked on every estimate)."""
    return Statistic(name, description, tuple(int(y) for y in rounds), score=score, proportion=proportion)


def statistic(name: str, description: str, rounds: Sequence[int], compute: Compute) -> Statistic:
    """Any estimate: ``compute(answers, covariates, weights)`` returns an :class:`Estimate`."""
    return Statistic(name, description, tuple(int(y) for y in rounds), compute=compute)


def share(name: str, year: int, models: Iterable[int], description: str = "") -> Statistic:
    """The share of the kommuner whose answer in ``year`` is one of ``models``."""
    codes = sorted(int(m) for m in models)
    description = description or f"share of the kommuner with model {'/'.join(map(str, codes))} in {year}"
    return mean_of(
        name,
        description,
        (year,),
        lambda a: np.isin(a[year].to_numpy(dtype=int), codes).astype(float),
        proportion=True,
    )


def moved(
    name: str, year_a: int, year_b: int, start: Iterable[int], end: Iterable[int], description: str = ""
) -> Statistic:
    """The share of the kommuner with a model in ``start`` in ``year_a`` and in ``end`` in ``year_b``."""
    s, e = sorted(int(m) for m in start), sorted(int(m) for m in end)

    def score(a: pd.DataFrame) -> np.ndarray:
        return (np.isin(a[year_a].to_numpy(dtype=int), s) & np.isin(a[year_b].to_numpy(dtype=int), e)).astype(float)

    words = description or f"share from {s} in {year_a} to {e} in {year_b}"
    return mean_of(name, words, (year_a, year_b), score, proportion=True)


def net_change(name: str, year_a: int, year_b: int, models: Iterable[int], description: str = "") -> Statistic:
    """The share of the kommuner that moved into ``models`` minus the share that moved out, from ``year_a``
    to ``year_b`` (the paired change in the share with a model in ``models``): score +1, -1 or 0."""
    codes = sorted(int(m) for m in models)

    def score(a: pd.DataFrame) -> np.ndarray:
        ina = np.isin(a[year_a].to_numpy(dtype=int), codes)
        inb = np.isin(a[year_b].to_numpy(dtype=int), codes)
        return inb.astype(float) - ina.astype(float)

    return mean_of(name, description or f"paired change in the share with {codes}", (year_a, year_b), score)


def wald(value: float, se: float | None, n: int, *, df: float | None = None, pooled_df: float | None = None) -> dict:
    """The fields of an :class:`Estimate` with a 95 % Wald interval: z, or t with ``pooled_df``. A standard
    error of 0 (a share of 0 or 1 among the kommuner used) gives an interval of no width, and says so."""
    if se is None or not np.isfinite(se):
        return {"value": float(value), "se": None, "low": None, "high": None, "interval": "none", "n": int(n), "df": df}
    if pooled_df is None:
        q, words = float(stats.norm.ppf(0.5 + LEVEL / 2)), "z"
    else:
        q, words = float(stats.t.ppf(0.5 + LEVEL / 2, pooled_df)), f"t, df {pooled_df:.1f}"
    if se == 0:  # e.g. no kommune stopped cooperating: a Wald interval has no width, which is not certainty
        words += ", degenerate (standard error 0: every kommune alike; read the bounds)"
    return {
        "value": float(value),
        "se": float(se),
        "low": float(value - q * se),
        "high": float(value + q * se),
        "interval": words,
        "n": int(n),
        "df": df,
    }


def wilson(successes, n):
    """The 95 % Wilson score interval of ``successes`` out of ``n`` (arrays or numbers): statsmodels'
    ``proportion_confint(method="wilson")``, which equals R's ``prop.test(x, n, correct = FALSE)$conf.int``
    (``tests/test_r_reference.py``). Unlike the Wald interval it has width at 0 and n successes: with none of
    98 kommuner it is [0, 3.8 %]. Returns (low, high)."""
    low, high = proportion.proportion_confint(successes, n, alpha=1 - LEVEL, method="wilson")
    return low, high


def wilson_fields(value: float, se: float, n: int) -> dict:
    """The fields of an :class:`Estimate` of a share ``value`` of ``n`` kommuner with its Wilson score interval
    (:func:`wilson`); ``se`` stays the sample mean's s / sqrt(n) (what Rubin's rules pool)."""
    successes = round(value * n)
    if not np.isclose(successes, value * n, rtol=0, atol=1e-9):
        raise ValueError(f"a share of {n} kommuner must be a count over {n}; got {value}")
    low, high = wilson(successes, n)
    return {
        "value": float(value),
        "se": float(se),
        "low": float(low),
        "high": float(high),
        "interval": WILSON,
        "n": int(n),
        "df": n - 1,
    }


def weighted_mean(y: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """The (weighted) mean and its linearization standard error, as ``survey::svymean`` on
    ``svydesign(ids = ~1, weights = ~w)``: se^2 = n / (n - 1) sum z_i^2, z_i = w_i (y_i - mean) / sum w.

    With equal weights that is s^2 / n (s with divisor n - 1), the variance of a sample mean.
    """
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    n = len(y)
    total = w.sum()
    mean = float((w * y).sum() / total)
    z = w * (y - mean) / total
    se = float(np.sqrt(n / (n - 1) * (z**2).sum())) if n > 1 else float("nan")
    return mean, se


def estimate(
    stat: Statistic, answers: pd.DataFrame, covariates: pd.DataFrame, weights: pd.Series | None = None
) -> Estimate:
    """``stat`` on ``answers`` (complete: no gaps in its rounds); a mean's standard error treats the
    weights as fixed (the raking-aware one is :func:`.weighting.weighted`)."""
    if stat.compute is not None:
        return stat.compute(answers, covariates, weights)
    y = stat.score(answers)
    if stat.proportion and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"statistic {stat.name!r} is declared a proportion but its score is not 0/1")
    value, se = weighted_mean(y, None if weights is None else weights.reindex(answers.index).to_numpy())
    if stat.proportion and weights is None and len(y) > 1:  # an unweighted share: Wilson score
        return Estimate(**wilson_fields(value, se, len(y)))
    return Estimate(**wald(value, se, len(y), df=len(y) - 1))
