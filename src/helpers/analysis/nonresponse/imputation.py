"""Multiple imputation of the missing answers by chained equations, as R's ``mice`` does it.

**Model.** Each round's answer (a category: model 1-5) is imputed from a multinomial logit on the
answers in the other rounds (the previous and the next: categorical, dummy-coded) and the covariates
(kommunegruppe, region: dummies; log population of the round's year). The rounds are visited in
order, each with the others' current values, ``iterations`` times per imputed data set; each data
set is its own chain, started from random draws of the observed answers (``mice``'s start).

**One step** (:func:`draw`) is ``mice.impute.logreg`` generalised to several categories:

1. ``mice``'s augmentation (:func:`augment`, White, Daniel & Royston 2010): 2 x p x k pseudo-
   observations at the means +- sd/2 of the p predictors, one per category, with total weight p + 1.
   They keep the fit finite when a category is (quasi-)separated, as it is with 98 kommuner and
   five models;
2. the weighted maximum-likelihood multinomial logit on the observed and pseudo-observations
   (:func:`fit_multinomial`), first category the reference;
3. a draw of the coefficients from their approximate posterior, N(estimate, inverse information):
   with it the imputations are *proper* (they carry the uncertainty of the coefficients, so
   Rubin's rules do not understate the variance);
4. a draw of each missing answer from its predicted probabilities.

For two categories this is exactly ``mice.impute.logreg`` (``glm.fit`` with quasibinomial family and
the augmentation weights, coefficients drawn with ``summary.glm``'s ``cov.unscaled``, Bernoulli
draws). ``mice.impute.polyreg`` (``nnet::multinom``) skips step 3, so its imputations are not
proper; this module keeps step 3 for every number of categories.

**Why hand-written.** statsmodels' ``MICE`` imputes continuous variables (predictive mean matching)
only; its ``MNLogit`` takes no weights (the augmentation needs them); scikit-learn is not a
dependency and its solvers stop at a tolerance where the draw needs the exact information matrix.
The Newton fit is 20 lines with the exact Hessian. ``tests/test_r_reference.py`` checks the
augmentation, the fit and its covariance against ``mice:::augment`` and ``glm.fit`` to 1e-6 (two
categories) and against ``mice:::augment`` and ``nnet::multinom`` (five: polyreg's model; nnet's BFGS
stops within 1e-4 standard errors of the Newton optimum, its Hessian there gives the covariance to 1e-6),
Rubin's rules against ``mice::pool``, and the imputations themselves against ``mice(method = "logreg")``
in distribution (random draws cannot be matched across languages) and against ``mice(method =
"polyreg")`` up to the drawn coefficients (polyreg does not draw them).

**Seeds.** One ``numpy.random.SeedSequence(seed)`` spawns an independent stream per imputed data set:
the same seed gives the same imputations, and data set j does not depend on m.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.nonresponse.frame import Panel
from helpers.results.nonresponse import ImputationSettings

M = 50  # imputed data sets (Rubin's m); the Monte Carlo SE of a pooled share is sqrt(B / m)
ITERATIONS = 10  # sweeps of the chained equations per data set (mice's default is 5)
SEED = 20230  # default seed
METHOD = (
    "chained equations, each round's model by a multinomial logit with mice's augmentation "
    "and coefficients drawn from their approximate posterior (proper imputation)"
)
PREDICTORS = ("model in the other rounds", "kommunegruppe", "region", "log population")


def augment(y: np.ndarray, ry: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``mice:::augment``: pseudo-observations that keep a categorical fit finite.

    ``y``: integer category codes (any value where missing), ``ry``: observed, ``x``: predictors (n x p,
    no intercept). Returns (y, ry, x, w) with 2 p k rows appended: in row r and column j the value
    mean_j + b_rj sd_j (clipped to the column's range), b a column-wise fill of (0.5, -0.5) repeated
    k times followed by 2 p k zeros; each row carries one observed category (each twice per column)
    and the weight (p + 1) / (2 p k). As mice, nothing is added without predictors or when exactly
    one value is missing; means, sds and ranges are over all rows (missing y included).
    """
    y, ry, x = np.asarray(y), np.asarray(ry, bool), np.asarray(x, float)
    n, p = x.shape
    if p == 0 or (~ry).sum() == 1:
        return y, ry, x, np.ones(n)
    codes = np.unique(y[ry])
    k = len(codes)
    nr = 2 * p * k
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    pattern = np.concatenate([np.tile([0.5, -0.5], k), np.zeros(nr)])
    b = np.resize(pattern, nr * p).reshape(p, nr).T  # R fills matrix(..., byrow = FALSE) column by column
    d = np.clip(mean + b * sd, x.min(axis=0), x.max(axis=0))
    e = np.tile(np.repeat(codes, 2), p)
    w = np.concatenate([np.ones(n), np.full(nr, (p + 1) / nr)])
    return np.concatenate([y, e]), np.concatenate([ry, np.ones(nr, bool)]), np.vstack([x, d]), w


@dataclass(frozen=True)
class Multinomial:
    """A weighted multinomial logit fit (:func:`fit_multinomial`).

    Fields: ``categories`` (the codes, the first is the reference); ``coef`` ((p + 1) x (k - 1), the
    intercept first, a column per non-reference category); ``cov`` (the inverse of the information
    matrix of ``coef`` flattened column by column: for k = 2 R's ``summary.glm(fit)$cov.unscaled``);
    ``iterations`` (Newton steps).
    """

    categories: np.ndarray
    coef: np.ndarray
    cov: np.ndarray
    iterations: int

    def probabilities(self, x: np.ndarray, coef: np.ndarray | None = None) -> np.ndarray:
        """Predicted probabilities (n x k) at predictors ``x`` (n x p, no intercept)."""
        return _probabilities(_with_intercept(np.asarray(x, float)), self.coef if coef is None else coef)


def _with_intercept(x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), x])


def _probabilities(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    eta = np.column_stack([np.zeros(len(X)), X @ beta])
    eta -= eta.max(axis=1, keepdims=True)
    e = np.exp(eta)
    return e / e.sum(axis=1, keepdims=True)


def _information(X: np.ndarray, w: np.ndarray, pr: np.ndarray) -> np.ndarray:
    """The information matrix of the non-reference coefficients, flattened category by category."""
    n, q = X.shape
    k = pr.shape[1]
    v = w[:, None, None] * (np.einsum("na,ab->nab", pr, np.eye(k)) - pr[:, :, None] * pr[:, None, :])
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, q * q)
    return (v.reshape(n, k * k).T @ outer).reshape(k, k, q, q).transpose(0, 2, 1, 3).reshape(k * q, k * q)


def fit_multinomial(
    y: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> Multinomial:
    """Weighted multinomial logit by Newton's method with the exact Hessian (step halving on the
    log-likelihood). ``y``: category codes, ``x``: predictors (no intercept), ``w``: case weights;
    ``start``: starting coefficients (the log-likelihood is strictly concave once augmented, so the
    start changes only the number of steps). Returns a :class:`Multinomial`."""
    cats = np.unique(y)
    X = _with_intercept(np.asarray(x, float))
    q, k = X.shape[1], len(cats) - 1
    Y = (np.asarray(y)[:, None] == cats[None, 1:]).astype(float)
    w = np.asarray(w, float)

    def loglik(beta):
        eta = np.column_stack([np.zeros(len(X)), X @ beta])
        top = eta.max(axis=1)
        lse = top + np.log(np.exp(eta - top[:, None]).sum(axis=1))
        return float((w * ((Y * eta[:, 1:]).sum(axis=1) - lse)).sum())

    beta = np.zeros((q, k)) if start is None or np.shape(start) != (q, k) else np.asarray(start, float)
    current = loglik(beta)
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        pr = _probabilities(X, beta)[:, 1:]
        grad = (X.T @ (w[:, None] * (Y - pr))).ravel(order="F")
        step = np.linalg.solve(_information(X, w, pr), grad).reshape((q, k), order="F")
        size = 1.0
        while True:
            trial = loglik(beta + size * step)
            if trial >= current - 1e-12 * max(1.0, abs(current)) or size < 1e-8:
                break
            size /= 2
        beta, current = beta + size * step, trial
        if np.max(np.abs(size * step)) < tol:
            break
    info = _information(X, w, _probabilities(X, beta)[:, 1:])
    return Multinomial(cats, beta, np.linalg.inv(info), iteration)


def draw(
    y: np.ndarray, ry: np.ndarray, x: np.ndarray, rng: np.random.Generator, start: np.ndarray | None = None
) -> tuple[np.ndarray, Multinomial | None]:
    """One imputation step: the missing ``y`` (where ``ry`` is False) drawn from a multinomial logit on
    ``x``, with augmentation and drawn coefficients (see the module docstring). Returns the drawn codes
    and the fit (None when every observed answer is the same; then so is every imputed one, as in mice).
    ``start``: the previous fit's coefficients, to start Newton's method from."""
    y, ry, x = np.asarray(y), np.asarray(ry, bool), np.asarray(x, float)
    observed = np.unique(y[ry])
    if len(observed) == 1:
        return np.repeat(observed, (~ry).sum()), None
    ya, rya, xa, wa = augment(y, ry, x)
    fit = fit_multinomial(ya[rya], xa[rya], wa[rya], start=start)
    chol = np.linalg.cholesky((fit.cov + fit.cov.T) / 2)
    coef = fit.coef + (chol @ rng.standard_normal(chol.shape[0])).reshape(fit.coef.shape, order="F")
    prob = fit.probabilities(x[~ry], coef)
    u = rng.random(len(prob))
    index = (u[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    return fit.categories[np.minimum(index, len(fit.categories) - 1)], fit


def _categorical(values: pd.Series, name: str) -> pd.DataFrame:
    """Treatment dummies of a categorical predictor, levels in sorted order, the first left out (R's
    ``model.matrix`` of a factor)."""
    levels = sorted(pd.unique(values))
    return pd.DataFrame({f"{name}[{lv}]": (values == lv).astype(float) for lv in levels[1:]}, index=values.index)


def chained(
    values: pd.DataFrame,
    covariates: Mapping[object, pd.DataFrame],
    *,
    m: int = M,
    iterations: int = ITERATIONS,
    seed: int = SEED,
) -> list[pd.DataFrame]:
    """``m`` completed copies of ``values`` by chained equations.

    ``values``: one row per unit, one column per variable to impute (integer category codes, ``<NA>``
    where missing); ``covariates``: per column of ``values``, numeric predictors (dummies already made,
    no intercept) on the same index. The predictors of a column are the other columns' current values
    (dummies, levels as observed) and then its covariates, as ``mice`` builds them from a data frame
    with the columns in that order. Columns without gaps are predictors only.
    """
    if m < 1 or iterations < 1:
        raise ValueError(f"m and iterations must be at least 1; got m={m}, iterations={iterations}")
    observed = values.notna().to_numpy()
    columns = list(values.columns)
    for j, c in enumerate(columns):
        if not observed[:, j].any():
            raise ValueError(f"{c}: no observed value to impute from")
    data = values.to_numpy(dtype=float, na_value=np.nan)
    levels = [np.unique(data[observed[:, j], j]) for j in range(len(columns))]
    extra = {c: np.asarray(covariates[c].loc[values.index], dtype=float) for c in columns}
    to_impute = [j for j in range(len(columns)) if not observed[:, j].all()]
    completed = []
    for stream in np.random.SeedSequence(seed).spawn(m):
        rng = np.random.default_rng(stream)
        current = data.copy()
        for j in to_impute:
            gaps = ~observed[:, j]
            current[gaps, j] = rng.choice(data[observed[:, j], j], size=int(gaps.sum()), replace=True)
        last = {}
        for _ in range(iterations if to_impute else 0):
            for j in to_impute:
                dummies = [
                    (current[:, o, None] == levels[o][None, 1:]).astype(float) for o in range(len(columns)) if o != j
                ]
                x = np.hstack(dummies + [extra[columns[j]]])
                ry = observed[:, j]
                current[~ry, j], fit = draw(current[:, j], ry, x, rng, last.get(j))
                last[j] = None if fit is None else fit.coef
        completed.append(pd.DataFrame(current.astype("int64"), index=values.index, columns=values.columns))
    return completed


def covariate_design(panel: Panel, year: int) -> pd.DataFrame:
    """The covariates of round ``year`` as predictors: kommunegruppe and region dummies (first level in
    sorted order the reference, as R's factors), log population."""
    cov = panel.covariates_of(year)
    return pd.concat(
        [
            _categorical(cov["kommunegruppe"], "kommunegruppe"),
            _categorical(cov["regionsnavn"], "regionsnavn"),
            cov[["log_population"]],
        ],
        axis=1,
    )


@dataclass(frozen=True)
class Imputations:
    """``m`` completed copies of a panel's answers.

    Fields: ``completed`` (a tuple of m frames like ``Panel.answers``, without gaps); ``missing``
    (kommunekode x round: True where the answer was imputed); ``settings``
    (:class:`~helpers.results.nonresponse.ImputationSettings`).
    """

    completed: tuple[pd.DataFrame, ...]
    missing: pd.DataFrame
    settings: ImputationSettings

    def imputed_shares(self) -> pd.DataFrame:
        """Per round and model, the share of the imputed answers (over all data sets) that took it."""
        rows = []
        for year in self.missing.columns:
            gaps = self.missing[year]
            if not gaps.any():
                continue
            values = np.concatenate([c.loc[gaps, year].to_numpy() for c in self.completed])
            counts = pd.Series(values).value_counts(normalize=True)
            rows.append({"year": int(year), **{int(k): float(v) for k, v in counts.items()}})
        return pd.DataFrame(rows).set_index("year").sort_index(axis=1).fillna(0.0) if rows else pd.DataFrame()


def impute(panel: Panel, *, m: int = M, iterations: int = ITERATIONS, seed: int = SEED) -> Imputations:
    """Impute every missing model answer of ``panel`` (see the module docstring); seeded, reproducible."""
    completed = chained(
        panel.answers, {y: covariate_design(panel, y) for y in panel.years}, m=m, iterations=iterations, seed=seed
    )
    settings = ImputationSettings(m=m, iterations=iterations, seed=seed, method=METHOD, predictors=PREDICTORS)
    return Imputations(tuple(completed), panel.answers.isna(), settings)


__all__ = [
    "ITERATIONS",
    "M",
    "SEED",
    "Imputations",
    "Multinomial",
    "augment",
    "chained",
    "covariate_design",
    "draw",
    "fit_multinomial",
    "impute",
]
