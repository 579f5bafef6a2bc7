"""Count models of library usage per municipality, with population as exposure.

* Negative binomial (NB2) with the dispersion estimated by profile likelihood, as R's
  ``MASS::glm.nb`` (:func:`fit_negbin`; statsmodels' discrete NegativeBinomial diverges or stops
  early with exposures the size of a municipality's population, and GLM NegativeBinomial alone
  keeps alpha = 1); theta = 1/alpha equal to glm.nb's. Returned as :class:`NegBinFit`, which
  reports its intervals and tests with the dispersion by the Cox-Reid adjusted profile likelihood
  and the t distribution on n - p df (glm.nb's z intervals at the ML dispersion cover 92-94 % at
  this design; these reach 95 %).
* Poisson with true HC3 standard errors as a check (:func:`hc3_cov`; statsmodels' GLM gives HC0
  when asked for HC3). Returned as :class:`PoissonHC3Fit`, which carries the HC3 covariance.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.models import batch
from helpers.analysis.models.design import CONTROLS, formula, score, term_label
from helpers.analysis.models.fit import HC3, MODEL_BASED, Fit, OwnCovarianceFit
from helpers.core import lazy, vocabulary
from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.core.vocabulary import Family, Spec

sm = lazy.module("statsmodels.api")  # statsmodels and scipy.stats cost ~1.3 s to import: at the first fit
smf = lazy.module("statsmodels.formula.api")
stats = lazy.module("scipy.stats")
special = lazy.module("scipy.special")

# IRLS stops when no coefficient changes by more than this (statsmodels' default 1e-8 on the deviance leaves ~1e-7 in
# the estimates)
GLM_TOL = 1e-12
# The criterion is on the coefficients: a 1e-12 criterion on the deviance (~100 here) sits at its rounding noise,
# so IRLS ran to maxiter (200 iterations per fit, never flagged converged) for the same estimates to 1e-14.
GLM_FIT = {"tol": GLM_TOL, "tol_criterion": "params", "maxiter": 200}
THETA_RTOL = (
    1e-10  # the profile-likelihood Newton iteration for theta stops when a step changes log(theta) by less than this
)
THETA_MAX = 1e8  # theta above this (alpha below 1e-8) means no overdispersion the data can resolve: the profile is flat


@dataclass(frozen=True)
class NegBinFit(OwnCovarianceFit):
    """A negative binomial (NB2) GLM at the maximum-likelihood dispersion (:func:`fit_negbin`), with the intervals
    and tests the package reports.

    ``result``: statsmodels' GLM result with ``NegativeBinomial(alpha)`` at the ML estimate: its
    coefficients, log-likelihood and (model-based, z) standard errors are R's ``MASS::glm.nb``;
    ``theta``: glm.nb's theta = 1/alpha; ``alpha``: the ML dispersion (variance mu + alpha mu^2);
    ``theta_converged``: False when theta ran off to infinity (the Poisson limit) or the Newton
    iteration did not settle; ``iterations``: Newton steps taken; ``formula``: the model's formula;
    ``alpha_cox_reid``: the dispersion by the Cox-Reid adjusted profile likelihood
    (:func:`~helpers.analysis.models.batch.cox_reid_batch`); ``cov``: the model-based covariance of the
    ML coefficients with the dispersion at ``alpha_cox_reid``; ``df_resid``: n - p, the degrees of
    freedom of the t reference; ``cox_reid_converged``.

    What it reports (``bse``, ``pvalues``, ``conf_int()``, so every IRR table, regression table and
    sentence): the ML rate ratios with standard errors from ``cov`` and the t distribution on
    ``df_resid`` df. The ML dispersion of ~90 kommuner is biased low (it ignores the p estimated
    coefficients, as RSS / n does for a linear model), so glm.nb's z intervals cover about 92-94 %;
    these cover 94-96 % in notebook 03's simulation (see :mod:`helpers.analysis.simulation`).
    glm.nb's own are ``result.bse``, ``result.pvalues``, ``result.conf_int()``.
    """

    theta: float
    alpha: float
    theta_converged: bool
    iterations: int
    formula: str
    alpha_cox_reid: float
    df_resid: int
    cox_reid_converged: bool

    @property
    def covariance(self) -> str:
        return MODEL_BASED

    @property
    def reference(self) -> str:
        return cox_reid_interval_label(self.df_resid)

    def _distribution(self):
        return stats.t(self.df_resid)


def cox_reid_interval_label(df: int) -> str:
    """What the reported intervals of a negative binomial fit are, in words (``NegBinFit.reference``)."""
    return f"t on {df} df (n - p), dispersion by Cox-Reid adjusted profile likelihood"


@dataclass(frozen=True)
class PoissonHC3Fit(OwnCovarianceFit):
    """A Poisson GLM with the true HC3 covariance (:func:`hc3_cov`), as sandwich::vcovHC(type="HC3").

    ``result``: statsmodels' GLM result (its own ``bse`` are the model-based ones; not shown);
    ``cov``: the HC3 covariance, from which ``bse``, ``pvalues`` and ``conf_int()`` come (normal
    reference, as lmtest::coeftest on a glm).
    """

    cov_type = "HC3"  # what ``cov`` is (statsmodels' name for it)

    @property
    def covariance(self) -> str:
        return HC3


def fit_count(
    df: pd.DataFrame,
    outcome: str,
    *,
    spec: Spec = "categorical",
    family: Family = "negbin",
    ordering=DEFAULT_ORDERING,
    controls: Sequence[str] = CONTROLS,
) -> NegBinFit | PoissonHC3Fit:
    """Fit a count model of ``outcome`` with log(population) as offset.

    ``family="negbin"``: :func:`fit_negbin`; ``"poisson"``: Poisson GLM with HC3 standard errors.
    """
    vocabulary.check_choice("family", family, Family)
    data = df.assign(score=score(df["model"], ordering))
    f = formula(outcome, spec, controls)
    if family == "negbin":
        return fit_negbin(f, data)
    result = smf.glm(f, data=data, family=sm.families.Poisson(), exposure=data["population"]).fit(**GLM_FIT)
    names = result.params.index
    return PoissonHC3Fit(result, pd.DataFrame(hc3_cov(result), index=names, columns=names))


def _theta_score_info(y, mu, theta):
    """Score and observed information of the NB2 log-likelihood in theta = 1/alpha at fixed means (MASS::theta.ml)."""
    score = np.sum(
        special.digamma(theta + y)
        - special.digamma(theta)
        + np.log(theta)
        + 1
        - np.log(theta + mu)
        - (y + theta) / (mu + theta)
    )
    info = np.sum(
        -special.polygamma(1, theta + y)
        + special.polygamma(1, theta)
        - 1 / theta
        + 2 / (mu + theta)
        - (y + theta) / (mu + theta) ** 2
    )
    return float(score), float(info)


def fit_negbin(formula: str, data: pd.DataFrame, *, rtol: float = THETA_RTOL, maxiter: int = 100) -> NegBinFit:
    """Negative binomial (NB2) GLM with the dispersion at its maximum-likelihood value, as R's MASS::glm.nb.

    theta = 1/alpha maximises the profile log-likelihood l(theta) = max_beta l(beta, theta). By the
    envelope theorem the profile score is the partial score in theta at beta(theta), so Newton's
    method in log(theta) on it (with the partial information, as MASS::theta.ml) converges to the
    profile maximum; each step refits the GLM at the new theta. It starts, as glm.nb does, from the
    moment estimate n / sum((y/mu - 1)^2) of a Poisson fit and stops when a step changes log(theta)
    by less than ``rtol`` (theta to about 1e-10 relative; the test against glm.nb asks 1e-7).

    The :class:`NegBinFit` holds the estimate (``alpha`` = 1/``theta``); ``theta_converged`` is
    False (with a warning) when theta runs off to infinity (no overdispersion: the Poisson limit;
    glm.nb fails there too) or the iteration does not settle. The mean parameters and theta are
    orthogonal in NB2, so the GLM standard errors at the estimate are the usual ML ones.
    """
    start = smf.glm(formula, data=data, family=sm.families.Poisson(), exposure=data["population"]).fit(**GLM_FIT)
    endog, exog = start.model.data.orig_endog, start.model.data.orig_exog  # the formula's design, built once
    exposure = np.exp(start.model.exposure)  # statsmodels keeps log(exposure)

    previous = np.asarray(start.params)

    def fit(theta):  # each refit starts from the previous one's coefficients
        nonlocal previous
        family = sm.families.NegativeBinomial(alpha=1.0 / theta)
        res = sm.GLM(endog, exog, family=family, exposure=exposure).fit(**GLM_FIT, start_params=previous)
        previous = np.asarray(res.params)
        return res

    y = np.asarray(start.model.endog, dtype=float)
    mu = np.asarray(start.fittedvalues)
    theta = float(len(y) / np.sum((y / mu - 1) ** 2))
    converged = False
    for iteration in range(1, maxiter + 1):  # noqa: B007 (reported after the loop)
        result = fit(theta)
        s, info = _theta_score_info(y, np.asarray(result.fittedvalues), theta)
        # Newton in t = log(theta): dl/dt = theta s, d2l/dt2 = theta s - theta^2 info
        curvature = theta * s - theta**2 * info
        step = -theta * s / curvature if curvature < 0 else np.sign(s) * 1.0  # not concave here: move uphill
        step = float(np.clip(step, -2.0, 2.0))
        theta = float(theta * np.exp(step))
        if theta > THETA_MAX:
            break
        if abs(step) < rtol:
            converged = True
            break
    if not converged:
        theta = min(theta, THETA_MAX)
        warnings.warn(
            f"negative binomial dispersion did not converge for {formula!r} ({iteration} Newton steps, theta = "
            f"{theta:.4g}): "
            "theta runs to infinity (no overdispersion the data can resolve; MASS::glm.nb fails here too) "
            "or the profile likelihood is flat; check the data for reporting failures",
            RuntimeWarning,
            stacklevel=2,
        )
    result = fit(theta)
    names = result.params.index
    X, offset = _design(result.model)
    mu = np.asarray(result.fittedvalues, dtype=float)[None]
    ml = batch.BatchFit(
        np.asarray(result.params)[None],
        np.asarray(result.bse)[None],
        np.array([1.0 / theta]),
        batch.nb_loglik(y, mu, 1.0 / theta),
        mu,
        np.zeros(1, dtype=int),
    )
    cr = batch.cox_reid_batch(X, y, offset, ml)
    if not cr.converged[0]:
        warnings.warn(
            f"the Cox-Reid dispersion did not converge for {formula!r} (status {int(cr.status[0])}, alpha = "
            f"{cr.alpha[0]:.4g}); its intervals are unreliable",
            RuntimeWarning,
            stacklevel=2,
        )
    cov = pd.DataFrame(cr.cov[0], index=names, columns=names)
    return NegBinFit(
        result, cov, theta, 1.0 / theta, converged, iteration, formula, float(cr.alpha[0]), cr.df, bool(cr.converged[0])
    )


def _design(model) -> tuple[np.ndarray, np.ndarray]:
    """The design matrix of a statsmodels GLM and its whole offset (``offset`` plus log ``exposure``)."""
    X = np.asarray(model.exog, dtype=float)
    offset = sum(
        (
            np.asarray(o, dtype=float)
            for o in (getattr(model, "offset", None), getattr(model, "exposure", None))
            if o is not None
        ),
        np.zeros(len(X)),
    )
    return X, offset


def hc3_cov(result) -> np.ndarray:
    """HC3 sandwich covariance of a GLM fit, as R's sandwich::vcovHC(fit, type="HC3") on a glm.

    statsmodels' GLM accepts cov_type="HC3" but silently computes HC0. Here the leverages are
    those of the weighted design, h_i = diag(W^1/2 X (X'WX)^-1 X' W^1/2) with the IRLS working
    weights w_i = 1 / (V(mu_i) g'(mu_i)^2), and each score contribution u_i x_i, with
    u_i = (y_i - mu_i) / (V(mu_i) g'(mu_i)), is inflated by 1/(1 - h_i):
    V = (X'WX)^-1 X' diag(u_i^2 / (1 - h_i)^2) X (X'WX)^-1. The dispersion cancels, so this
    holds for Poisson, negative binomial and Gaussian GLMs alike.
    """
    result = result.result if isinstance(result, Fit) else result
    model = result.model
    X = np.asarray(model.exog, dtype=float)
    y = np.asarray(model.endog, dtype=float)
    mu = np.asarray(result.fittedvalues, dtype=float)
    family = model.family
    gprime = family.link.deriv(mu)
    variance = family.variance(mu)
    w = 1.0 / (variance * gprime**2)
    u = (y - mu) / (variance * gprime)
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    h = w * np.einsum("ij,jk,ik->i", X, bread, X)
    meat = X.T @ ((u**2 / (1 - h) ** 2)[:, None] * X)
    return bread @ meat @ bread


def dispersion(fit) -> float:
    """Pearson chi2 / residual df of a GLM: about 1 for a well-specified Poisson, far above with overdispersion."""
    result = fit.result if isinstance(fit, Fit) else fit
    return float(np.sum(np.asarray(result.resid_pearson) ** 2) / result.df_resid)


def pearson_residuals(fit: NegBinFit | PoissonHC3Fit) -> pd.DataFrame:
    """Fitted means and Pearson residuals of a count fit (variance mu + alpha mu^2; alpha = 0 for Poisson)."""
    mu = np.asarray(fit.fittedvalues)
    y = np.asarray(fit.model.endog)
    alpha = fit.alpha if isinstance(fit, NegBinFit) else 0.0
    return pd.DataFrame({"fitted": mu, "observed": y, "pearson": (y - mu) / np.sqrt(mu + alpha * mu**2)})


def profile_irr_table(fit: NegBinFit, *, pattern: str = "model|score", level: float = 0.95) -> pd.DataFrame:
    """The three intervals of a single negative binomial fit (:func:`fit_negbin`), as rate ratios.

    ``wald_*``: glm.nb's own (ML dispersion, estimate -/+ z se); ``profile_*``: R's ``confint`` on the
    glm.nb fit (the dispersion held at ``fit.alpha``), computed by
    :func:`~helpers.analysis.models.batch.profile_intervals_batch` on this one dataset;
    ``cox_reid_t_*``: the interval the fit reports (``fit.conf_int()``: Cox-Reid dispersion, t on
    n - p df). Indexed by term; ``profile_converged`` says whether both profile limits were found.
    """
    X, offset = _design(fit.model)
    y = np.asarray(fit.model.endog, dtype=float)
    names = list(fit.params.index)
    terms = [i for i, name in enumerate(names) if pd.Series([name]).str.contains(pattern).iat[0]]
    mu = np.asarray(fit.fittedvalues, dtype=float)[None]
    alpha = np.array([fit.alpha])
    single = batch.BatchFit(
        np.asarray(fit.params)[None],
        np.asarray(fit.result.bse)[None],
        alpha,
        batch.nb_loglik(y, mu, alpha),
        mu,
        np.zeros(1, dtype=int),
    )
    low, high, ok = batch.profile_intervals_batch(X, y, offset, single, terms, level=level)
    wald, reported = fit.result.conf_int(alpha=1 - level), fit.conf_int(alpha=1 - level)
    rows = [
        {
            "term": term_label(names[i]),
            "irr": float(np.exp(fit.params.iloc[i])),
            "wald_low": float(np.exp(wald.iloc[i, 0])),
            "wald_high": float(np.exp(wald.iloc[i, 1])),
            "profile_low": float(np.exp(low[0, k])),
            "profile_high": float(np.exp(high[0, k])),
            "profile_converged": bool(ok[0, k]),
            "cox_reid_t_low": float(np.exp(reported.iloc[i, 0])),
            "cox_reid_t_high": float(np.exp(reported.iloc[i, 1])),
        }
        for k, i in enumerate(terms)
    ]
    return pd.DataFrame(rows).set_index("term")
