"""Few-cluster inference for the two-way fixed-effects Poisson fits: the wild score bootstrap beside CRV1.

The CRV1 intervals of :func:`~.estimators.fit_twfe_event` and :func:`~.estimators.fit_twfe_static` are
normal approximations whose accuracy depends on many comparable clusters. Here the late comparisons
rest on the few never-treated kommuner, so a bootstrap that does not lean on that approximation is
reported beside them.

Which bootstrap. The wild *cluster* bootstrap (Cameron, Gelbach & Miller 2008; the ``wildboottest``
package and pyfixest's ``wildboottest()``) is defined for linear models: each draw rebuilds the
outcome from restricted residuals and refits by OLS. Neither package accepts a Poisson fit (pyfixest
raises for ``Fepois``), and refitting a fixed-effects Poisson model per draw is both slow and, with
draws of negative "counts", undefined. For nonlinear (M-)estimators the established alternative is
the **wild score bootstrap** of Kline & Santos (2012, "A Score Based Approach to Wild Bootstrap
Inference"), also Stata's ``boottest`` for ML models (Roodman et al. 2019): fit once under the null,
perturb each cluster's score by a Rademacher multiplier, no refit per draw. It is written here
(:func:`.arrays.score_bootstrap`) and checked against a transparent loop version with a statsmodels
GLM restricted fit on a small panel (tests/test_adoption_inference.py); the Poisson fit it perturbs
equals pyfixest's to 1e-8.

Intervals by test inversion: the 95 % interval is the set of null values the bootstrap test does not
reject at 5 % (the same multipliers for every null value; the ends found by bisection to 1e-6 of the
standard error).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.analysis import multiplicity

from .arrays import ppml_arrays, score_bootstrap
from .estimators import DEFAULT_WINDOW, EventStudy, StaticFit, event_dummies, event_term

WILD_WORDS = (
    "wild score bootstrap (Kline & Santos 2012), Rademacher multipliers by kommune, restricted fit under the null"
)


@dataclass(frozen=True, eq=False)
class PoissonDesign:
    """A PPML design as arrays: ``Y`` (n, T) loans, ``X`` (n, T, k) year dummies then the named regressors,
    ``offset`` (n, T) log population, ``mask`` (n, T) observed; ``units`` and ``years`` label the axes; ``terms``
    name the regressors after the year dummies."""

    Y: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    offset: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    units: tuple[int, ...]
    years: tuple[int, ...]
    terms: tuple[str, ...]

    @property
    def first_term(self) -> int:
        """The column of the first named regressor (after the year dummies)."""
        return len(self.years) - 1

    def column(self, term: str) -> int:
        return self.first_term + self.terms.index(term)


def design(frame: pd.DataFrame, terms: list[str]) -> PoissonDesign:
    """The arrays of ``loans ~ terms | kommunekode + year`` with offset ``log_pop`` on ``frame``."""
    units = sorted(int(u) for u in frame["kommunekode"].unique())
    years = sorted(int(y) for y in frame["year"].unique())
    ui = frame["kommunekode"].map({u: i for i, u in enumerate(units)}).to_numpy()
    ti = frame["year"].map({y: i for i, y in enumerate(years)}).to_numpy()
    n, T, k = len(units), len(years), len(years) - 1 + len(terms)
    Y, off = np.zeros((n, T)), np.zeros((n, T))
    M = np.zeros((n, T), bool)
    X = np.zeros((n, T, k))
    Y[ui, ti] = frame["loans"].to_numpy(float)
    off[ui, ti] = frame["log_pop"].to_numpy(float)
    M[ui, ti] = True
    for t in range(1, T):
        X[:, t, t - 1] = 1.0
    for j, term in enumerate(terms):
        X[ui, ti, T - 1 + j] = frame[term].to_numpy(float)
    return PoissonDesign(Y, X, off, M, tuple(units), tuple(years), tuple(terms))


def static_design(sample: pd.DataFrame, anticipation: int = 0) -> PoissonDesign:
    """The design of :func:`~.estimators.fit_twfe_static`."""
    df = sample.copy()
    df["treated_a"] = ((df["g"] > 0) & (df["year"] >= df["g"] - int(anticipation))).astype(float)
    return design(df, ["treated_a"])


def event_design(sample: pd.DataFrame, window=DEFAULT_WINDOW, anticipation: int = 0) -> PoissonDesign:
    """The design of :func:`~.estimators.fit_twfe_event` (event dummies without any observation left out)."""
    df, times = event_dummies(sample, window, anticipation)
    names = [event_term(k) for k in times if df[event_term(k)].any()]
    return design(df, names)


@dataclass(frozen=True, eq=False)
class WildBootstrap:
    """The wild score bootstrap beside CRV1 for the coefficients of one PPML fit.

    Fields:
        table: by term: estimate, se (CRV1), low and high (95 %, normal (z) with CRV1), p (z), p_wild (the
            bootstrap p-value of coefficient = 0), low_wild and high_wild (the 95 % interval by inverting the
            bootstrap test); then p_holm, p_bh, p_wild_holm, p_wild_bh: the raw and the bootstrap p-values
            adjusted (Holm, Benjamini-Hochberg) within the fit's coefficients, one family of tests (the event
            times of the event study; the static fit's one coefficient is a family of one).
        model: "static" | "event study".
        draws, seed: of the Rademacher multipliers (the same for every term and null value).
        method: the bootstrap in words.
        clusters: kommuner (clusters).
    """

    table: pd.DataFrame = field(repr=False)
    model: str
    draws: int
    seed: int
    method: str
    clusters: int


def _p(d: PoissonDesign, j: int, null: float, V: np.ndarray) -> float:
    return score_bootstrap(d.Y, d.X, d.offset, d.mask, j, null, multipliers=V).p


def _invert(d: PoissonDesign, j: int, est: float, se: float, V: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """The ends of {null: p(null) > alpha} around ``est``, by bracketing and bisection (to 1e-6 se)."""
    ends = []
    for sign in (-1.0, 1.0):
        inside, step = est, 2.0 * se
        outside = est + sign * step
        while _p(d, j, outside, V) > alpha:
            inside, step = outside, step * 2
            outside = est + sign * step
            if step > 64 * se:
                return np.nan, np.nan  # never rejected within 64 standard errors: no finite interval
        while abs(outside - inside) > 1e-6 * se:
            mid = (inside + outside) / 2
            if _p(d, j, mid, V) > alpha:
                inside = mid
            else:
                outside = mid
        ends.append((inside + outside) / 2)
    return ends[0], ends[1]


def wild_bootstrap(
    fit: StaticFit | EventStudy,
    sample: pd.DataFrame,
    *,
    draws: int = 999,
    seed: int = 1,
    intervals: bool = True,
) -> WildBootstrap:
    """The wild score bootstrap p-value (and, with ``intervals``, the 95 % interval by test inversion) of every
    coefficient of a TWFE Poisson fit (:class:`~.estimators.StaticFit` or the event study), beside its CRV1 row.

    The design is rebuilt from ``sample`` as the fit was; its Poisson fit equals pyfixest's (checked here: a
    difference above 1e-6 in any coefficient is an error, not a silent mismatch)."""
    tidy = fit.fit.tidy()
    if isinstance(fit, StaticFit):
        d, model = static_design(sample, fit.anticipation), "static"
    else:  # the event dummies pyfixest kept (it drops those without a unit or collinear with the fixed effects)
        df, times = event_dummies(sample, fit.window, fit.anticipation)
        d, model = design(df, [event_term(k) for k in times if event_term(k) in tidy.index]), "event study"
    full = ppml_arrays(d.Y[None], d.X, d.offset, d.mask)
    ours = full.beta[0, d.first_term :]
    theirs = tidy.loc[list(d.terms), "Estimate"].to_numpy(float)
    if not np.allclose(ours, theirs, rtol=0, atol=1e-6):
        raise RuntimeError(f"the bootstrap's Poisson fit differs from pyfixest's: {ours} against {theirs}")
    rng = np.random.default_rng(seed)
    V = rng.choice(np.array([-1.0, 1.0]), size=(int(draws), len(d.units)))
    rows = []
    for term in d.terms:
        j = d.column(term)
        r = tidy.loc[term]
        est, se = float(r["Estimate"]), float(r["Std. Error"])
        low, high = _invert(d, j, est, se, V) if intervals else (np.nan, np.nan)
        rows.append(
            {
                "term": term,
                "estimate": est,
                "se": se,
                "low": float(r["2.5%"]),
                "high": float(r["97.5%"]),
                "p": float(r["Pr(>|t|)"]),
                "p_wild": _p(d, j, 0.0, V),
                "low_wild": low,
                "high_wild": high,
            }
        )
    table = pd.DataFrame(rows).set_index("term")
    family = f"the coefficients of the {model} TWFE Poisson fit"  # the event times of one event study (issue 23)
    for column in ("p", "p_wild"):
        adjusted = multiplicity.adjust(table[column], family).table
        table[f"{column}_holm"], table[f"{column}_bh"] = adjusted["p_holm"], adjusted["p_bh"]
    return WildBootstrap(
        table=table,
        model=model,
        draws=int(draws),
        seed=int(seed),
        method=f"{WILD_WORDS}; {draws} draws, seed {seed}; intervals by test inversion",
        clusters=len(d.units),
    )


def twfe_wild(estimates, panel, spec) -> dict[str, WildBootstrap]:
    """The wild score bootstrap beside CRV1 for both TWFE Poisson fits of ``estimates`` (``adoption.Estimates``) on
    the panel's sample, with the draws and seed of ``spec`` (``adoption.EstimationSpec``): {"static", "event study"}."""
    boot = {"draws": spec.draws, "seed": spec.seed}
    return {
        "static": wild_bootstrap(estimates.static, panel.sample, **boot),
        "event study": wild_bootstrap(estimates.twfe, panel.sample, **boot),
    }


def wild_table(wild: dict[str, WildBootstrap]) -> pd.DataFrame:
    """The wild bootstraps of :func:`twfe_wild` as one table (index: model, term)."""
    return pd.concat({k: w.table for k, w in wild.items()}, names=["model", "term"])
