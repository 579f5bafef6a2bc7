"""Which municipalities cooperate: an ordinal logit of the cooperation level, equal to R's MASS::polr.

Fitted without a constant (the thresholds play its part; statsmodels#7418) to convergence with the
closed-form score and Hessian, its thresholds converted to MASS::polr's cut points.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.models.fit import OwnCovarianceFit
from helpers.core import lazy
from helpers.core.cooperation import DEFAULT_ORDERING, format_ordering, parse_ordering

special = lazy.module("scipy.special")  # statsmodels costs ~0.9 s to import: at the first fit
ordinal_model = lazy.module("statsmodels.miscmodels.ordinal_model")
sm_exceptions = lazy.module("statsmodels.tools.sm_exceptions")

ORDINAL_POPULATION_CENTRE = 50_000  # cut points then describe a kommune of 50,000 in kommunegruppe 1, not merged
ORDINAL_GRADIENT_TOL = 1e-6  # largest |d loglik / d param| accepted at the solution of the ordinal logit


@dataclass(frozen=True)
class OrdinalFit(OwnCovarianceFit):
    """The ordinal logit of :func:`fit_ordinal`.

    ``result``: statsmodels' OrderedModel result at the solution (its parameters: the
    coefficients, the first threshold, then log increments; its own covariance is not used);
    ``cov``: the covariance of those parameters, from the closed-form Hessian (exact at the
    optimum), from which ``bse``, ``pvalues`` and ``conf_int()`` come (normal reference);
    ``cut_points``: the thresholds on MASS::polr's scale ("cut point") with their standard errors
    ("se"), as polr reports zeta; ``polr_cov``: the covariance in polr's parameters (beta, zeta);
    ``converged``: the largest score component is below :data:`ORDINAL_GRADIENT_TOL`;
    ``max_abs_score``: that component at the solution; ``iterations``: Newton steps taken;
    ``ordering``: the level ordering, lowest first ("5<1<2<3<4"); ``year``: the survey round
    (None when not given).
    """

    cut_points: pd.DataFrame
    polr_cov: np.ndarray
    converged: bool
    max_abs_score: float
    iterations: int
    ordering: str
    year: int | None = None

    def table(self) -> pd.DataFrame:
        """Every parameter (statsmodels' scale) with its standard error and p-value."""
        return pd.DataFrame({"coef": self.params, "se": self.bse, "p": self.pvalues})

    def convergence_note(self) -> str:
        """One sentence for the notebook: converged, with the largest score component, or a warning."""
        if self.converged:
            return f"Converged: largest score component {self.max_abs_score:.1e} at the solution."
        return (
            f"**Warning: the ordinal logit did not converge** (largest score component {self.max_abs_score:.2g}); "
            "its estimates are not the maximum-likelihood ones."
        )


def ordinal_design(df: pd.DataFrame) -> pd.DataFrame:
    """Covariates for the ordinal logit, without a constant: log population (centred), kommunegruppe dummies, merger."""
    kg = pd.get_dummies(df["kommunegruppe"].astype(int), prefix="kommunegruppe", drop_first=True, dtype=float)
    logpop = (df["log_population"] - np.log(ORDINAL_POPULATION_CENTRE)).rename("log_population_vs_50000")
    return pd.concat([logpop, kg, df[["merged_2007"]].astype(float)], axis=1)


def _polr_derivatives(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, score and Hessian of the ordinal logit in R's MASS::polr parameters (beta, zeta).

    P(y = j) = F(zeta_j - x'b) - F(zeta_{j-1} - x'b) with F logistic, zeta_0 = -inf, zeta_K = inf;
    ``y`` holds category positions 0..K-1. Closed form (statsmodels' OrderedModel has only
    numerical derivatives, good to ~1e-6, too coarse for standard errors that must equal R's).
    """
    n, p = X.shape
    k = len(theta) - p
    beta, zeta = theta[:p], theta[p:]
    eta = X @ beta
    rows = np.arange(n)
    upper, lower = y < k, y > 0  # whether zeta_j and zeta_{j-1} exist
    a = np.where(upper, zeta[np.minimum(y, k - 1)] - eta, np.inf)
    b = np.where(lower, zeta[np.maximum(y - 1, 0)] - eta, -np.inf)
    Fa, Fb = special.expit(a), special.expit(b)
    fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
    dfa, dfb = fa * (1 - 2 * Fa), fb * (1 - 2 * Fb)
    P = Fa - Fb
    A = np.hstack([-X, np.zeros((n, k))])  # d a / d theta
    B = A.copy()
    A[rows[upper], p + y[upper]] = 1.0
    B[rows[lower], p + y[lower] - 1] = 1.0
    A[~upper] = 0.0
    B[~lower] = 0.0
    dP = fa[:, None] * A - fb[:, None] * B
    score = (dP / P[:, None]).sum(axis=0)
    hess = (
        (dfa / P)[:, None, None] * A[:, :, None] * A[:, None, :]
        - (dfb / P)[:, None, None] * B[:, :, None] * B[:, None, :]
    ).sum(axis=0)
    hess -= (dP / P[:, None]).T @ (dP / P[:, None])
    return float(np.log(P).sum()), score, hess


def _to_polr(raw: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels' (beta, first cut, log increments) to polr's (beta, zeta), and the Jacobian d polr / d raw."""
    r = raw[p:]
    zeta = np.concatenate([[r[0]], r[0] + np.cumsum(np.exp(r[1:]))])
    J = np.eye(len(raw))
    Jz = np.zeros((len(r), len(r)))
    Jz[:, 0] = 1.0
    for j in range(1, len(r)):
        Jz[j:, j] = np.exp(r[j])
    J[p:, p:] = Jz
    return np.concatenate([raw[:p], zeta]), J


def fit_ordinal(
    df: pd.DataFrame, ordering=DEFAULT_ORDERING, *, maxiter: int = 50, year: int | None = None
) -> OrdinalFit:
    """Ordinal logit of the cooperation level on municipal characteristics (no constant), fitted to convergence.

    statsmodels' OrderedModel at its default BFGS tolerance stops with a score of ~1e-3 (estimates
    ~1e-4 from the optimum). Here BFGS gives the start, then Newton's method with the closed-form
    score and Hessian in polr's parameters (:func:`_polr_derivatives`) runs until the largest score
    component is below 1e-10. ``max_abs_score`` holds that component at the solution and
    ``converged`` is True only when it is below :data:`ORDINAL_GRADIENT_TOL` (otherwise a warning
    too). The covariance is the inverse observed information from the closed-form Hessian (as
    ordinal::clm; MASS::polr differentiates numerically and agrees to ~1e-7), carried to
    statsmodels' parameters, so ``bse`` and the cut points' standard errors are exact.
    """
    levels = parse_ordering(ordering)
    present = [lv for lv in levels if (df["model"] == lv).any()]
    endog = pd.Series(pd.Categorical(df["model"], categories=present, ordered=True), index=df.index)
    model = ordinal_model.OrderedModel(endog, ordinal_design(df), distr="logit")
    X, y, p = np.asarray(model.exog, dtype=float), np.asarray(model.endog, dtype=int), model.exog.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm_exceptions.ConvergenceWarning)  # judged below by the closed-form score
        start = model.fit(method="bfgs", disp=0, maxiter=5000, gtol=1e-8)
    theta, _ = _to_polr(np.asarray(start.params, dtype=float), p)
    for iteration in range(1, maxiter + 1):  # noqa: B007 (reported after the loop)
        ll, g, H = _polr_derivatives(X, y, theta)
        if np.max(np.abs(g)) < 1e-10:
            break
        step = np.linalg.solve(H, g)
        t = 1.0
        while t > 1e-4:  # halve the step until the likelihood does not fall and the cut points stay ordered
            cand = theta - t * step
            if np.all(np.diff(cand[p:]) > 0) and _polr_derivatives(X, y, cand)[0] >= ll - 1e-12:
                break
            t /= 2
        theta = cand
    ll, g, H = _polr_derivatives(X, y, theta)
    raw = np.concatenate([theta[:p], [theta[p]], np.log(np.diff(theta[p:]))])
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", sm_exceptions.ConvergenceWarning
        )  # maxiter=0: a results object at the given parameters
        result = model.fit(method="newton", start_params=raw, maxiter=0, disp=0)
    _, J = _to_polr(raw, p)
    Jinv = np.linalg.inv(J)
    names = result.params.index
    # exact at the optimum (the score term vanishes)
    cov = pd.DataFrame(Jinv @ np.linalg.inv(-H) @ Jinv.T, index=names, columns=names)
    max_abs_score = float(np.max(np.abs(g)))
    converged = bool(np.isfinite(max_abs_score) and max_abs_score < ORDINAL_GRADIENT_TOL)
    if not converged:
        warnings.warn(
            f"ordinal logit not converged: largest score component {max_abs_score:.2g} "
            f"(accepted < {ORDINAL_GRADIENT_TOL:g}); its estimates are not the maximum-likelihood ones",
            RuntimeWarning,
            stacklevel=2,
        )
    return OrdinalFit(
        result,
        cov,
        _cut_points(result, cov),
        np.linalg.inv(-H),
        converged,
        max_abs_score,
        iteration,
        format_ordering(ordering),
        year,
    )


def thresholds(fit) -> pd.Series:
    """Cut points as in R's MASS::polr: statsmodels stores the first, then log increments."""
    k = fit.model.k_levels - 1
    raw = np.asarray(fit.params)[-k:]
    cuts = np.concatenate([[raw[0]], raw[0] + np.cumsum(np.exp(raw[1:]))])
    levels = list(fit.model.labels)
    return pd.Series(cuts, index=[f"{levels[i]}|{levels[i + 1]}" for i in range(k)], name="cut point")


def _cut_points(result, cov: pd.DataFrame) -> pd.DataFrame:
    k = result.model.k_levels - 1
    p = len(result.params) - k
    _, J = _to_polr(np.asarray(result.params, dtype=float), p)
    se = np.sqrt(np.diag(J @ np.asarray(cov) @ J.T))[p:]
    cuts = thresholds(result)
    return pd.DataFrame({"cut point": cuts, "se": se}, index=cuts.index)


def cut_points(fit) -> pd.DataFrame:
    """Cut points with standard errors as MASS::polr reports them (zeta and its "Std. Error").

    cut_1 = r_1 and cut_j = r_1 + sum_{1<i<=j} exp(r_i) in statsmodels' parameters r; the standard
    errors follow by the delta method, J cov(r) J' with J = d cut / d r (for a fit from
    :func:`fit_ordinal` this returns exactly the closed-form covariance in polr's parameters).
    """
    return _cut_points(getattr(fit, "result", fit), fit.cov_params())
