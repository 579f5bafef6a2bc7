"""Models of cooperation level against library usage, and checks that they recover known effects.

* Count models per round: negative binomial with the dispersion estimated by profile likelihood
  (as R's glm.nb; statsmodels' discrete NegativeBinomial diverges or stops early with exposures
  the size of a municipality's population, and GLM NegativeBinomial alone keeps alpha = 1),
  with population as exposure (theta = 1/alpha equal to glm.nb's); Poisson with true HC3 standard
  errors as a check (:func:`hc3_cov`; statsmodels' GLM gives HC0 when asked for HC3). Values the
  usage provenance flags as reporting failures leave the frames by default (:func:`model_inputs`).
* A change model between two rounds: the change in log usage per inhabitant against the change
  in cooperation (first differences = municipality fixed effects with two periods).
* An ordinal logit of the cooperation level on municipal characteristics (no constant: the
  thresholds play its part; statsmodels#7418), fitted to convergence with the closed-form score
  and Hessian, thresholds converted to MASS::polr's cut points.
* Simulation: datasets with known rate ratios, to check coverage and bias and to find the
  smallest effect 98 municipalities can detect.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy.special import digamma, expit, gammaln, polygamma, psi
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from helpers.core.cooperation import DEFAULT_ORDERING, SHORT_NAMES, parse_ordering
from helpers.core.errors import DataError, Problem

CONTROLS = ("C(kommunegruppe)", "merged_2007")
OUTCOMES = ("visits", "loans", "downloads")


def score(model: pd.Series, ordering=DEFAULT_ORDERING) -> pd.Series:
    """Cooperation level 0-4 by position in ``ordering``; non-response (0) is missing."""
    pos = {m: i for i, m in enumerate(parse_ordering(ordering))}
    return pd.to_numeric(model, errors="coerce").astype("Int64").map(pos).astype(float)


def analysis_frame(survey: pd.DataFrame, panel: pd.DataFrame, usage_year: int, outcome: str) -> pd.DataFrame:
    """Survey answers of one round joined 1:1 to one usage year; only kommuner that answered.

    ``survey`` needs kommunekode and model; ``panel`` one row per library unit and year with
    ``<outcome>``, population and the controls. Fanø (563) is served by Esbjerg (561): the
    panel's unit 561 covers both, so a survey row for 563 is dropped here (named in ``dropped``).
    """
    if outcome not in panel:
        raise ValueError(f"outcome {outcome!r} not in the usage panel; accepted: {[o for o in OUTCOMES if o in panel]}")
    year = panel[panel["year"] == usage_year]
    if year.empty:
        raise DataError(
            "usage panel", f"no usage data for {usage_year}; years present: {sorted(panel['year'].unique())}"
        )
    if year[outcome].isna().all():
        with_values = sorted(int(y) for y in panel.loc[panel[outcome].notna(), "year"].unique())
        source = f" (source: {year[f'{outcome}_source'].iat[0]})" if f"{outcome}_source" in year else ""
        raise DataError(
            "usage panel",
            Problem(
                f"no {outcome} values for usage year {usage_year}{source}",
                column=outcome,
                accepted=f"a round whose usage year has {outcome}: {with_values}",
            ),
        )
    s = survey[["kommunekode", "model"]].copy()
    s["model"] = pd.to_numeric(s["model"].astype("object"), errors="coerce").astype("Int64")
    s = s[s["model"].between(1, 5)]
    cols = ["kommunekode", "population", outcome, "kommunegruppe", "regionsnavn", "merged_2007"]
    cols += [c for c in ("outlier", "quality_flag") if c in year]
    df = s.merge(year[cols], on="kommunekode", how="inner", validate="one_to_one")
    df = df[df[outcome].notna() & (df["population"] > 0)].copy()
    df.attrs["dropped"] = sorted(set(s["kommunekode"]) - set(df["kommunekode"]))
    df["model"] = df["model"].astype(int)
    df["rate_per_1000"] = df[outcome] / df["population"] * 1000
    df["log_population"] = np.log(df["population"])
    df["reporting_failure"] = reporting_failures(df, outcome)
    return df.reset_index(drop=True)


REPORTING_FAILURE = "reporting_failure"  # helpers.data.usage's quality flag for a value that is not real usage
FLAGGED_OUTCOMES = ("loans",)  # usage.QUALITY_FLAGS describe the real loans series only


def reporting_failures(df: pd.DataFrame, outcome: str) -> pd.Series:
    """True where the outcome's value is flagged as a reporting failure in the data's provenance.

    The flags (``quality_flag`` from :data:`helpers.data.usage.QUALITY_FLAGS`, listed in
    data/raw/usage/PROVENANCE.md) describe the real loans values, so they mark rows only when the
    outcome is loans; a level shift is not a reporting failure and stays in (see the sensitivity table).
    """
    if outcome not in FLAGGED_OUTCOMES or "quality_flag" not in df:
        return pd.Series(False, index=df.index)
    return df["quality_flag"].astype("object").eq(REPORTING_FAILURE).fillna(False).astype(bool)


def _formula(outcome: str, spec: str, controls: Sequence[str]) -> str:
    if spec == "categorical":
        coop = "C(model, Treatment(reference=5))"
    elif spec == "score":
        coop = "score"
    else:
        raise ValueError(f"spec {spec!r}: accepted 'categorical' or 'score'")
    return " + ".join([f"{outcome} ~ {coop}", *controls])


def fit_count(
    df: pd.DataFrame, outcome: str, *, spec="categorical", family="negbin", ordering=DEFAULT_ORDERING, controls=CONTROLS
):
    """Fit a count model of ``outcome`` with log(population) as offset; returns the statsmodels result."""
    data = df.assign(score=score(df["model"], ordering))
    formula = _formula(outcome, spec, controls)
    if family == "negbin":
        return fit_negbin(formula, data)
    if family == "poisson":
        return with_hc3(
            smf.glm(formula, data=data, family=sm.families.Poisson(), exposure=data["population"]).fit(**GLM_FIT)
        )
    raise ValueError(f"family {family!r}: accepted 'negbin' or 'poisson'")


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


def _theta_score_info(y, mu, theta):
    """Score and observed information of the NB2 log-likelihood in theta = 1/alpha at fixed means (MASS::theta.ml)."""
    score = np.sum(
        digamma(theta + y) - digamma(theta) + np.log(theta) + 1 - np.log(theta + mu) - (y + theta) / (mu + theta)
    )
    info = np.sum(
        -polygamma(1, theta + y) + polygamma(1, theta) - 1 / theta + 2 / (mu + theta) - (y + theta) / (mu + theta) ** 2
    )
    return float(score), float(info)


def fit_negbin(formula: str, data: pd.DataFrame, *, rtol: float = THETA_RTOL, maxiter: int = 100):
    """Negative binomial (NB2) GLM with the dispersion at its maximum-likelihood value, as R's MASS::glm.nb.

    theta = 1/alpha maximises the profile log-likelihood l(theta) = max_beta l(beta, theta). By the
    envelope theorem the profile score is the partial score in theta at beta(theta), so Newton's
    method in log(theta) on it (with the partial information, as MASS::theta.ml) converges to the
    profile maximum; each step refits the GLM at the new theta. It starts, as glm.nb does, from the
    moment estimate n / sum((y/mu - 1)^2) of a Poisson fit and stops when a step changes log(theta)
    by less than ``rtol`` (theta to about 1e-10 relative; the test against glm.nb asks 1e-7).

    ``result.alpha`` (= 1/theta) and ``result.theta`` hold the estimate; ``result.theta_converged``
    is False (with a warning) when theta runs off to infinity (no overdispersion: the Poisson
    limit; glm.nb fails there too) or the iteration does not settle. The mean parameters and theta
    are orthogonal in NB2, so the GLM standard errors at the estimate are the usual ML ones.
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
    result.theta = theta
    result.alpha = 1.0 / theta
    result.theta_converged = converged
    result.theta_iterations = iteration
    return result


def hc3_cov(result) -> np.ndarray:
    """HC3 sandwich covariance of a GLM fit, as R's sandwich::vcovHC(fit, type="HC3") on a glm.

    statsmodels' GLM accepts cov_type="HC3" but silently computes HC0. Here the leverages are
    those of the weighted design, h_i = diag(W^1/2 X (X'WX)^-1 X' W^1/2) with the IRLS working
    weights w_i = 1 / (V(mu_i) g'(mu_i)^2), and each score contribution u_i x_i, with
    u_i = (y_i - mu_i) / (V(mu_i) g'(mu_i)), is inflated by 1/(1 - h_i):
    V = (X'WX)^-1 X' diag(u_i^2 / (1 - h_i)^2) X (X'WX)^-1. The dispersion cancels, so this
    holds for Poisson, negative binomial and Gaussian GLMs alike.
    """
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


def with_hc3(result):
    """The GLM ``result`` with its covariance replaced by :func:`hc3_cov` (labelled ``cov_type == "HC3"``).

    Standard errors, z-tests and intervals then use HC3 (normal reference, as lmtest::coeftest on a glm).
    """
    inner = getattr(result, "_results", result)
    inner.cov_params_default = hc3_cov(result)
    inner.cov_type = "HC3"
    inner.cov_kwds = {
        "description": "HC3 from the leverages of the weighted GLM design (as sandwich::vcovHC type='HC3')"
    }
    inner.use_t = False
    inner._cache = {}  # bse, pvalues, ... are cached from the first access: recompute them from the new covariance
    return result


def irr_table(result, *, pattern: str = "model|score") -> pd.DataFrame:
    """Coefficients of the cooperation terms as incidence-rate ratios with 95 % intervals."""
    ci = result.conf_int()
    t = pd.DataFrame({"coef": result.params, "se": result.bse, "p": result.pvalues, "low": ci[0], "high": ci[1]})
    t = t[t.index.str.contains(pattern)]
    out = t.assign(irr=np.exp(t["coef"]), irr_low=np.exp(t["low"]), irr_high=np.exp(t["high"]))
    out.index = [_term_label(i) for i in out.index]
    return out.rename_axis("term")


def _term_label(term: str) -> str:
    if "[T." in term:
        m = int(term.split("[T.")[1].rstrip("]"))
        return f"model {m} ({SHORT_NAMES[m]})"
    return "cooperation score (per level)" if term == "score" else term


def dispersion(result) -> float:
    """Pearson chi2 / residual df: about 1 for a well-specified Poisson, far above with overdispersion."""
    return float(np.sum(np.asarray(result.resid_pearson) ** 2) / result.df_resid)


def pearson_residuals(result) -> pd.DataFrame:
    """Fitted means and Pearson residuals of a negative binomial fit (variance mu + alpha mu^2)."""
    mu = np.asarray(result.fittedvalues)
    y = np.asarray(result.model.endog)
    alpha = getattr(result, "alpha", 0.0)
    return pd.DataFrame({"fitted": mu, "observed": y, "pearson": (y - mu) / np.sqrt(mu + alpha * mu**2)})


def irr_in_words(row: pd.Series, outcome: str, synthetic: bool) -> str:
    """One sentence stating an incidence-rate ratio in plain words."""
    pct = (row["irr"] - 1) * 100
    lo, hi = (row["irr_low"] - 1) * 100, (row["irr_high"] - 1) * 100
    direction = "more" if pct >= 0 else "fewer"
    what = (
        "per level of cooperation"
        if "score" in row.name
        else f"in {row.name} than in municipalities without cooperation"
    )
    text = (
        f"{abs(pct):.1f} % {direction} {outcome} per inhabitant {what} "
        f"(95 % interval {lo:+.1f} % to {hi:+.1f} %), holding kommunegruppe and the 2007 merger fixed."
    )
    return ("[synthetic example, not a finding] " + text) if synthetic else text


def change_frame(
    a: pd.DataFrame, b: pd.DataFrame, ordering=DEFAULT_ORDERING, outcome: str = "rate_per_1000"
) -> pd.DataFrame:
    """Kommuner in both analysis frames: change in cooperation score and in log usage per inhabitant."""
    cols = ["kommunekode", "model", outcome]
    m = a[cols].merge(
        b[cols + ["kommunegruppe", "merged_2007"]], on="kommunekode", suffixes=("_a", "_b"), validate="one_to_one"
    )
    m = m[(m[f"{outcome}_a"] > 0) & (m[f"{outcome}_b"] > 0)].copy()
    m["d_score"] = score(m["model_b"], ordering) - score(m["model_a"], ordering)
    m["d_log_rate"] = np.log(m[f"{outcome}_b"]) - np.log(m[f"{outcome}_a"])
    m["started"] = ((m["model_a"] == 5) & (m["model_b"] != 5)).astype(int)
    return m


def fit_change(changes: pd.DataFrame, term: str = "d_score"):
    """First-difference (two-period fixed-effects) model with HC3 errors; the intercept is the common trend.

    OLS HC3 in statsmodels is the true HC3 (residuals / (1 - h)^2). Tests and intervals use the t
    distribution with n - 2 df, as lmtest::coeftest(fit, vcovHC(fit, "HC3")) on an lm in R.
    """
    return smf.ols(f"d_log_rate ~ {term}", data=changes).fit(cov_type="HC3", use_t=True)


ORDINAL_POPULATION_CENTRE = 50_000  # cut points then describe a kommune of 50,000 in kommunegruppe 1, not merged


def ordinal_design(df: pd.DataFrame) -> pd.DataFrame:
    """Covariates for the ordinal logit, without a constant: log population (centred), kommunegruppe dummies, merger."""
    kg = pd.get_dummies(df["kommunegruppe"].astype(int), prefix="kommunegruppe", drop_first=True, dtype=float)
    logpop = (df["log_population"] - np.log(ORDINAL_POPULATION_CENTRE)).rename("log_population_vs_50000")
    return pd.concat([logpop, kg, df[["merged_2007"]].astype(float)], axis=1)


ORDINAL_GRADIENT_TOL = 1e-6  # largest |d loglik / d param| accepted at the solution of the ordinal logit


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
    Fa, Fb = expit(a), expit(b)
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


def fit_ordinal(df: pd.DataFrame, ordering=DEFAULT_ORDERING, *, maxiter: int = 50):
    """Ordinal logit of the cooperation level on municipal characteristics (no constant), fitted to convergence.

    statsmodels' OrderedModel at its default BFGS tolerance stops with a score of ~1e-3 (estimates
    ~1e-4 from the optimum). Here BFGS gives the start, then Newton's method with the closed-form
    score and Hessian in polr's parameters (:func:`_polr_derivatives`) runs until the largest score
    component is below 1e-10. ``result.max_abs_score`` holds that component at the solution and
    ``result.converged`` is True only when it is below :data:`ORDINAL_GRADIENT_TOL` (otherwise a
    warning too). The covariance is the inverse observed information from the closed-form Hessian
    (as ordinal::clm; MASS::polr differentiates numerically and agrees to ~1e-7), carried to
    statsmodels' parameters, so ``bse`` and :func:`cut_points` are exact.
    """
    levels = parse_ordering(ordering)
    present = [lv for lv in levels if (df["model"] == lv).any()]
    endog = pd.Series(pd.Categorical(df["model"], categories=present, ordered=True), index=df.index)
    model = OrderedModel(endog, ordinal_design(df), distr="logit")
    X, y, p = np.asarray(model.exog, dtype=float), np.asarray(model.endog, dtype=int), model.exog.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # judged below by the closed-form score
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
        warnings.simplefilter("ignore", ConvergenceWarning)  # maxiter=0: a results object at the given parameters
        result = model.fit(method="newton", start_params=raw, maxiter=0, disp=0)
    _, J = _to_polr(raw, p)
    Jinv = np.linalg.inv(J)
    inner = getattr(result, "_results", result)
    inner.cov_params_default = Jinv @ np.linalg.inv(-H) @ Jinv.T  # exact at the optimum (the score term vanishes)
    inner.normalized_cov_params = inner.cov_params_default
    inner._cache = {}
    result.max_abs_score = float(np.max(np.abs(g)))
    result.converged = bool(np.isfinite(result.max_abs_score) and result.max_abs_score < ORDINAL_GRADIENT_TOL)
    result.polr_cov = np.linalg.inv(-H)
    if not result.converged:
        warnings.warn(
            f"ordinal logit not converged: largest score component {result.max_abs_score:.2g} "
            f"(accepted < {ORDINAL_GRADIENT_TOL:g}); its estimates are not the maximum-likelihood ones",
            RuntimeWarning,
            stacklevel=2,
        )
    return result


def thresholds(result) -> pd.Series:
    """Cut points as in R's MASS::polr: statsmodels stores the first, then log increments."""
    k = result.model.k_levels - 1
    raw = np.asarray(result.params)[-k:]
    cuts = np.concatenate([[raw[0]], raw[0] + np.cumsum(np.exp(raw[1:]))])
    levels = list(result.model.labels)
    return pd.Series(cuts, index=[f"{levels[i]}|{levels[i + 1]}" for i in range(k)], name="cut point")


def cut_points(result) -> pd.DataFrame:
    """Cut points with standard errors as MASS::polr reports them (zeta and its "Std. Error").

    cut_1 = r_1 and cut_j = r_1 + sum_{1<i<=j} exp(r_i) in statsmodels' parameters r; the standard
    errors follow by the delta method, J cov(r) J' with J = d cut / d r (for a fit from
    :func:`fit_ordinal` this returns exactly the closed-form covariance in polr's parameters).
    """
    k = result.model.k_levels - 1
    p = len(result.params) - k
    _, J = _to_polr(np.asarray(result.params, dtype=float), p)
    cov = J @ np.asarray(result.cov_params()) @ J.T
    cuts = thresholds(result)
    return pd.DataFrame({"cut point": cuts, "se": np.sqrt(np.diag(cov))[p:]}, index=cuts.index)


# --- simulation --------------------------------------------------------------------------------


def simulate_counts(
    df: pd.DataFrame, rate_per_person: float, irr: dict[int, float], alpha: float, rng: np.random.Generator
) -> np.ndarray:
    """Negative binomial counts (variance mu + alpha mu^2) with known rate ratios per model vs model 5."""
    mu = df["population"].to_numpy() * rate_per_person * df["model"].map(lambda m: irr.get(m, 1.0)).to_numpy()
    n = 1.0 / alpha
    return rng.negative_binomial(n, n / (n + mu))


def minimal_detectable(curve: pd.DataFrame, target: float = 0.8) -> float | None:
    """Smallest rate ratio with power >= target, interpolated on the curve; None if never reached."""
    above = curve[curve["power"] >= target]
    if above.empty:
        return None
    i = above.index[0]
    if i == curve.index[0]:
        return float(curve.loc[i, "irr"])
    prev = curve.loc[:i].iloc[-2]
    x0, y0, x1, y1 = prev["irr"], prev["power"], curve.loc[i, "irr"], curve.loc[i, "power"]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


# --- sensitivity -------------------------------------------------------------------------------

ORDERINGS = {"5<1<2<3<4": (5, 1, 2, 3, 4), "5<1<3<2<4": (5, 1, 3, 2, 4)}
EXCLUSIONS = {
    "all kommuner": (),
    "without København and Frederiksberg": (101, 147),
    "without Esbjerg/Fanø": (561, 563),
}


def sensitivity(
    df: pd.DataFrame,
    outcome: str,
    orderings=ORDERINGS,
    exclusions=EXCLUSIONS,
    controls=CONTROLS,
    with_flagged: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The cooperation-score rate ratio under each ordering of models 2 and 3 and each exclusion.

    ``with_flagged``: the same round with its flagged reporting failures kept
    (``model_inputs(...)["frames_with_flagged"]``); when it has rows that ``df`` lacks, a sample
    "with the flagged reporting failures" is added, fitted on it.
    """
    samples = dict(exclusions)
    extra = None
    if with_flagged is not None and len(with_flagged) > len(df):
        added = sorted(set(with_flagged["kommunekode"]) - set(df["kommunekode"]))
        extra = f"with the flagged reporting failures ({', '.join(map(str, added))})"
    rows = []
    for oname, ordering in orderings.items():
        for ename in list(samples) + ([extra] if extra else []):
            sub = with_flagged if ename == extra else df[~df["kommunekode"].isin(samples[ename])]
            t = irr_table(fit_count(sub, outcome, spec="score", ordering=ordering, controls=controls)).iloc[0]
            rows.append(
                {
                    "ordering": oname,
                    "sample": ename,
                    "n": len(sub),
                    "irr": t["irr"],
                    "irr_low": t["irr_low"],
                    "irr_high": t["irr_high"],
                    "p": t["p"],
                }
            )
    return pd.DataFrame(rows)


# --- inputs and per-round fits for the model notebook ------------------------------------------

USAGE_SOURCES = {"synthetic": "synthetic", "real": "real", "statbank": "statbank"}


def usage_year(survey_year: int, offset: int = 1) -> int:
    """The usage year paired with a survey round.

    The rounds were answered in the autumn (September 2011) and describe the organisation in
    place from then on, so the default pairs a round with the following calendar year. It also
    makes the real loans series usable for 2009 (it starts in 2010).
    """
    return int(survey_year) + int(offset)


def model_inputs(
    rounds: Sequence[int],
    outcome: str,
    usage_source: str,
    offset: int = 1,
    exclude: Sequence[int] = (),
    keep_flagged: bool = False,
) -> dict:
    """Analysis frames per round, the usage panel, and whether anything used is synthetic.

    Values the provenance flags as reporting failures (:func:`reporting_failures`, e.g. the real
    loans of Gribskov 2012 = 0) leave ``frames`` unless ``keep_flagged``; ``flagged`` lists them
    (round, kommunekode, usage year, value, note) and ``frames_with_flagged`` keeps every row, for
    the sensitivity fit with them and for models that do not use the outcome (the ordinal logit).
    """
    from helpers.data import survey, usage

    if usage_source not in USAGE_SOURCES:
        raise ValueError(f"usage_source {usage_source!r}; accepted: {sorted(USAGE_SOURCES)}")
    if usage_source == "real" and outcome != "loans":
        raise ValueError("the real series holds physical loans only: use outcome='loans' with usage_source='real'")
    panel = usage.build_panel(sources={outcome: usage_source})
    frames, synthetic, pairing, everything, flagged = {}, bool(panel[f"{outcome}_synthetic"].any()), {}, {}, []
    notes = panel.set_index(["kommunekode", "year"])["notes"]
    for year in rounds:
        s = survey.load_clean(year)
        synthetic |= bool(s["synthetic"].any())
        uy = usage_year(year, offset)
        frame = analysis_frame(s, panel, uy, outcome)
        frame = frame[~frame["kommunekode"].isin(exclude)].reset_index(drop=True)
        everything[year] = frame
        bad = frame[frame["reporting_failure"]]
        flagged += [
            {
                "survey round": year,
                "kommunekode": int(r.kommunekode),
                "usage year": uy,
                outcome: float(getattr(r, outcome)),
                "per 1,000": float(r.rate_per_1000),
                "note": notes.get((int(r.kommunekode), uy)),
            }
            for r in bad.itertuples()
        ]
        frames[year] = frame if keep_flagged else frame[~frame["reporting_failure"]].reset_index(drop=True)
        pairing[year] = {
            "usage_year": uy,
            "n": len(frames[year]),
            "dropped": frame.attrs["dropped"],
            "reporting failures": sorted(bad["kommunekode"].tolist()),
            "kept": bool(keep_flagged),
        }
    flagged = pd.DataFrame(flagged, columns=["survey round", "kommunekode", "usage year", outcome, "per 1,000", "note"])
    return {
        "frames": frames,
        "frames_with_flagged": everything,
        "flagged": flagged,
        "keep_flagged": bool(keep_flagged),
        "panel": panel,
        "synthetic": synthetic,
        "pairing": pd.DataFrame(pairing).T.rename_axis("survey round"),
    }


def round_models(df: pd.DataFrame, outcome: str, ordering=DEFAULT_ORDERING) -> tuple[pd.DataFrame, dict]:
    """Negative binomial (categories, score) and Poisson-HC3 (categories) fits of one round; IRR table and fits."""
    fits = {
        "negative binomial": fit_count(df, outcome, ordering=ordering),
        "negative binomial, score": fit_count(df, outcome, spec="score", ordering=ordering),
        "Poisson, HC3": fit_count(df, outcome, family="poisson", ordering=ordering),
    }
    table = pd.concat({name: irr_table(res) for name, res in fits.items()}, names=["model", "term"])
    return table, fits


def covariance_label(result) -> str:
    """What a fit's standard errors really are (statsmodels' own label can be wrong: GLM "HC3" is HC0)."""
    kind = getattr(result, "cov_type", "nonrobust")
    if kind == "nonrobust":
        return "model-based (inverse information)"
    if kind == "HC3":
        return "HC3 (leverage-adjusted sandwich, as sandwich::vcovHC type='HC3')"
    return str(kind)


def fit_summary(fits: dict) -> pd.DataFrame:
    """Each fit's n, dispersion (alpha, and theta = 1/alpha as glm.nb reports it), log-likelihood, Pearson
    dispersion and covariance type."""
    return pd.DataFrame(
        {
            name: {
                "n": int(res.nobs),
                "alpha (NB)": getattr(res, "alpha", np.nan),
                "theta (glm.nb)": getattr(res, "theta", np.nan),
                "log-likelihood": float(res.llf),
                "Pearson chi2/df": dispersion(res),
                "standard errors": covariance_label(res),
            }
            for name, res in fits.items()
        }
    ).T


def truth_by_term(rate_ratios: dict[int, float]) -> dict[str, float]:
    """The generator's true rate ratios keyed like irr_table's terms."""
    return {_term_label(f"C(model)[T.{int(m)}]"): float(rr) for m, rr in rate_ratios.items() if int(m) != 5}


def estimates_vs_truth(table: pd.DataFrame, truth: dict[str, float]) -> pd.DataFrame:
    """Estimated and true rate ratios side by side, and whether the 95 % interval covers the truth."""
    t = table[["irr", "irr_low", "irr_high"]].copy()
    t["true"] = [truth.get(term, np.nan) for term in t.index]
    t["covered"] = (t["irr_low"] <= t["true"]) & (t["true"] <= t["irr_high"])
    return t


# --- batched fitting: many outcome vectors, one design matrix ----------------------------------
#
# The simulations fit thousands of datasets that share one design matrix (same municipalities,
# same covariates, new simulated counts). Looping over statsmodels costs ~10 ms of Python per fit;
# here every iteration of IRLS and of the dispersion Newton is one numpy operation over the whole
# stack of datasets. No library fits a stack of GLMs with a shared design (statsmodels and glum
# fit one response at a time), which is why it is written here; tests/test_simulation.py
# checks it against statsmodels' GLM and the single fit to 1e-8.

BATCH_TOL = 1e-10  # convergence of IRLS (max |change in beta|) and of log(theta) in the Newton steps
ALPHA_MIN = 1e-8  # a dispersion below this is the Poisson limit (theta -> infinity): not converged


@dataclass
class BatchFit:
    """Fits of R datasets sharing one design: arrays with one row per dataset.

    ``status``: 0 converged; 1 IRLS hit its iteration limit; 2 dispersion ran to the Poisson limit
    (alpha < ALPHA_MIN, glm.nb's "theta iteration limit"); 3 dispersion Newton hit its limit;
    4 non-finite values. Rows with status != 0 are kept (their numbers are whatever the last
    iteration gave) so that callers count them; ``converged`` is ``status == 0``.
    """

    params: np.ndarray  # (R, p) coefficients
    bse: np.ndarray  # (R, p) standard errors, (X' W X)^-1 at the fitted mean, alpha fixed (as glm.nb)
    alpha: np.ndarray  # (R,) NB2 dispersion (variance mu + alpha mu^2); 0 for Poisson
    llf: np.ndarray  # (R,) log-likelihood
    mu: np.ndarray  # (R, n) fitted means
    status: np.ndarray  # (R,) int, see above
    columns: list = field(default_factory=list)

    @property
    def converged(self) -> np.ndarray:
        return self.status == 0

    @property
    def n_failed(self) -> int:
        return int(np.sum(self.status != 0))


def _xtwx(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """X' diag(w_r) X for every row w_r of w: (R, p, p), as one matrix product with the n outer products x_i x_i'."""
    n, p = X.shape
    return (w @ (X[:, :, None] * X[:, None, :]).reshape(n, p * p)).reshape(-1, p, p)


def _trigamma(x: np.ndarray) -> np.ndarray:
    """polygamma(1, x); above 8 by its asymptotic series (error below 1e-12 relative, 10x faster than scipy)."""
    out = np.empty_like(x)
    big = x >= 8
    if (~big).any():
        out[~big] = polygamma(1, x[~big])
    z = 1.0 / x[big]
    z2 = z * z
    out[big] = z + z2 * (0.5 + z * (1 / 6 + z2 * (-1 / 30 + z2 * (1 / 42 + z2 * (-1 / 30)))))
    return out


def _as_stack(Y) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    return Y[None, :] if Y.ndim == 1 else Y


def nb_loglik(Y, mu, alpha) -> np.ndarray:
    """NB2 log-likelihood of each dataset (rows of Y, mu); alpha (R,) or scalar; alpha = 0 is Poisson."""
    Y, mu = _as_stack(Y), _as_stack(mu)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), Y.shape[:1])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = 1.0 / alpha
        nb = (
            gammaln(Y + theta)
            - gammaln(theta)
            - gammaln(Y + 1)
            + theta * np.log(theta / (theta + mu))
            + Y * np.log(mu / (theta + mu))
        )
        if (alpha > 0).all():
            return nb.sum(axis=1)
        pois = Y * np.log(mu) - mu - gammaln(Y + 1)
    return np.where(alpha > 0, nb, pois).sum(axis=1)


def _nb_loglik_split(Y, alpha):
    """The NB2 log-likelihood (alpha > 0) as the part that does not depend on mu, (R,), and a function of mu.

    l = sum[lgamma(y + theta) - lgamma(theta) - lgamma(y + 1) + theta log(theta)] + sum[y log(mu) - (y + theta)
    log(theta + mu)]:
    where only mu changes (a profile at fixed dispersion) the gamma functions are computed once.
    """
    theta = 1.0 / np.asarray(alpha, dtype=float)[:, None]
    const = np.sum(gammaln(Y + theta) - gammaln(theta) - gammaln(Y + 1) + theta * np.log(theta), axis=1)

    def of_mu(mu, rows=slice(None)):
        t = theta[rows]
        return const[rows] + np.sum(Y[rows] * np.log(mu) - (Y[rows] + t) * np.log(t + mu), axis=1)

    return of_mu


def irls_batch(X, Y, offset=0.0, alpha=0.0, *, start=None, tol=BATCH_TOL, maxiter=100, info=True):
    """Log-link NB2 (alpha > 0) or Poisson (alpha = 0) GLM at fixed alpha, for every row of Y at once.

    Fisher scoring (IRLS) as in R's glm.fit and statsmodels' GLM: working weights
    mu / (1 + alpha mu), working response eta - offset + (y - mu) / mu. ``offset`` is (n,) or
    (R, n); ``alpha`` scalar or (R,). Returns beta (R, p), mu (R, n), XtWX (R, p, p) (None when
    ``info`` is false), converged (R,): the last step moved no coefficient by more than ``tol``.
    """
    X = np.asarray(X, dtype=float)
    Y = _as_stack(Y)
    R, n = Y.shape
    off = np.broadcast_to(np.asarray(offset, dtype=float), (R, n))
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (R,))[:, None]
    if start is None:
        # glm.fit's start: mu = y + 1/6 for the Poisson family, then one weighted least squares step
        mu = Y + 0.1
        eta = np.log(mu)
        z = eta - off + (Y - mu) / mu
        w = mu / (1 + a * mu)
        beta = np.linalg.solve(_xtwx(X, w), ((w * z) @ X)[..., None])[..., 0]
    else:
        beta = np.array(start, dtype=float, copy=True)
    done = np.zeros(R, dtype=bool)
    for iteration in range(1, maxiter + 1):  # noqa: B007 (reported after the loop)
        eta = beta @ X.T + off
        mu = np.exp(eta)
        w = mu / (1 + a * mu)
        z = eta - off + (Y - mu) / mu
        XtWX = _xtwx(X, w)
        new = np.linalg.solve(XtWX, ((w * z) @ X)[..., None])[..., 0]
        step = np.max(np.abs(new - beta), axis=1)
        beta = np.where(done[:, None], beta, new)
        done |= step < tol * (1 + np.max(np.abs(beta), axis=1))
        if done.all():
            break
    mu = np.exp(beta @ X.T + off)
    XtWX = _xtwx(X, mu / (1 + a * mu)) if info else None
    return beta, mu, XtWX, done


def _theta_derivatives(Y, mu, theta, X):
    """Score of log(theta) in the profile likelihood and its derivative (envelope theorem for beta)."""
    t = theta[:, None]
    s = np.sum(psi(Y + t) - psi(t) + np.log(t) + 1 - np.log(t + mu) - (Y + t) / (t + mu), axis=1)
    h = np.sum(_trigamma(Y + t) - polygamma(1, t) + 1 / t - 2 / (t + mu) + (Y + t) / (t + mu) ** 2, axis=1)
    # d(score_theta)/d(eta_i) and the observed information of beta: profile out beta
    c = mu * (Y - mu) / (t + mu) ** 2
    d = t * mu * (t + Y) / (t + mu) ** 2
    Xc = c @ X
    info = _xtwx(X, d)
    h_profile = h + np.einsum("ri,ri->r", Xc, np.linalg.solve(info, Xc[..., None])[..., 0])
    # in log(theta): s_t = theta s, h_t = theta^2 h + theta s
    return theta * s, theta**2 * h_profile + theta * s


def _dispersion_loop(X, Y, off, beta, logt, tol, maxiter, *, joint: bool):
    """Iterate to the joint maximum in (beta, log theta): joint Newton steps, or (``joint=False``, slower but
    safe) one IRLS step for beta alternating with a Newton step on the profile score of log theta."""
    done = np.zeros(len(Y), dtype=bool)
    for iteration in range(1, maxiter + 1):  # noqa: B007 (reported after the loop)
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        if joint:
            db, dt = _joint_newton_step(X, Y[act], off[act], beta[act], np.exp(logt[act]))
            beta[act] += db
            ok = np.max(np.abs(db), axis=1) < tol * (1 + np.max(np.abs(beta[act]), axis=1))
        else:
            b, mu, _, ok = irls_batch(
                X, Y[act], off[act], np.exp(-logt[act]), start=beta[act], tol=tol, maxiter=1, info=False
            )
            beta[act] = b
            s, h = _theta_derivatives(Y[act], mu, np.exp(logt[act]), X)
            # Newton where the profile is concave, otherwise a unit step uphill; steps at most 2 in log(theta)
            with np.errstate(divide="ignore", invalid="ignore"):
                dt = np.where(h < 0, -s / h, np.sign(s))
            dt = np.clip(np.nan_to_num(dt, nan=0.0), -2.0, 2.0)
        logt[act] += dt
        done[act] = (
            (ok & (np.abs(dt) < tol)) | (logt[act] > np.log(1 / ALPHA_MIN)) | ~np.isfinite(beta[act]).all(axis=1)
        )
    return beta, logt, done


def _joint_newton_step(X, Y, off, beta, theta):
    """One Newton step in (beta, log theta) on the full log-likelihood, by block elimination.

    With A = X' D X (observed information of beta), b = d(score_beta)/d(log theta) and h_t the
    second derivative in log(theta): dt = -(s_t + b' A^-1 s_beta) / h_p, h_p = h_t + b' A^-1 b (the
    profile Hessian), then dbeta = A^-1 (s_beta + b dt). Where h_p >= 0 (far from the maximum, the
    profile is not concave) log(theta) moves one unit uphill; it never moves more than 2.
    """
    t = theta[:, None]
    mu = np.exp(beta @ X.T + off)
    tm = t + mu
    s_beta = (t * (Y - mu) / tm) @ X
    s_th = np.sum(psi(Y + t) - psi(t) + np.log(t) + 1 - np.log(tm) - (Y + t) / tm, axis=1)
    h_th = np.sum(_trigamma(Y + t) - polygamma(1, t) + 1 / t - 2 / tm + (Y + t) / tm**2, axis=1)
    s_t, h_t = theta * s_th, theta**2 * h_th + theta * s_th
    cross = theta[:, None] * ((mu * (Y - mu) / tm**2) @ X)  # d s_beta / d log(theta)
    A = _xtwx(X, t * mu * (t + Y) / tm**2)
    sol = np.linalg.solve(A, np.stack([s_beta, cross], axis=-1))
    a_s, a_c = sol[..., 0], sol[..., 1]
    h_p = h_t + np.einsum("ri,ri->r", cross, a_c)
    g_p = s_t + np.einsum("ri,ri->r", cross, a_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        dt = np.where(h_p < 0, -g_p / h_p, np.sign(g_p))
    dt = np.clip(np.nan_to_num(dt, nan=0.0), -2.0, 2.0)
    return a_s + a_c * dt[:, None], dt


def fit_negbin_batch(
    X, Y, offset=0.0, *, start: BatchFit | None = None, tol=BATCH_TOL, maxiter=100, columns=None
) -> BatchFit:
    """NB2 GLMs with the dispersion estimated by maximum likelihood, for every row of Y at once.

    As R's MASS::glm.nb: log link, theta = 1/alpha maximising the likelihood jointly with beta;
    found here by Newton steps in (beta, log theta) together, whose log(theta) part is Newton on
    the profile score (the profile Hessian accounts for beta moving with theta), until neither
    moves by more than ``tol``; datasets that have converged leave the working set, and the few
    where the joint steps go astray restart with safe alternating steps. Start: a Poisson fit and
    glm.nb's moment estimate of theta. Standard errors as glm.nb and
    statsmodels' GLM at the estimated alpha (Fisher information of beta, alpha held fixed).
    ``start``: a previous fit of the same shape to start from (e.g. a nearby constrained fit).
    """
    X = np.asarray(X, dtype=float)
    Y = _as_stack(Y)
    R, n = Y.shape
    status = np.zeros(R, dtype=int)
    if start is None:
        beta, mu, _, ok = irls_batch(X, Y, offset, 0.0, tol=tol, maxiter=maxiter)
        status[~ok] = 1
        with np.errstate(divide="ignore"):
            theta = n / np.sum((Y / mu - 1) ** 2, axis=1)  # the start of glm.nb (theta.ml)
    else:
        beta, theta = start.params, 1.0 / np.maximum(start.alpha, ALPHA_MIN)
    theta = np.clip(np.nan_to_num(theta, nan=1.0, posinf=1 / ALPHA_MIN), 1e-3, 1 / ALPHA_MIN)
    logt = np.log(theta)
    off = np.broadcast_to(np.asarray(offset, dtype=float), (R, n))
    beta0, logt0 = np.array(beta, dtype=float, copy=True), logt.copy()
    beta, logt, done = _dispersion_loop(X, Y, off, beta0.copy(), logt0.copy(), tol, maxiter, joint=True)
    redo = np.flatnonzero(~done | (logt > np.log(1 / ALPHA_MIN)))
    if redo.size:  # the joint steps can go astray far from the maximum: these restart with safe alternation
        beta[redo], logt[redo], done[redo] = _dispersion_loop(
            X, Y[redo], off[redo], beta0[redo], logt0[redo], tol, maxiter, joint=False
        )
    status[~done & (status == 0)] = 3
    status[(logt > np.log(1 / ALPHA_MIN)) & (status == 0)] = 2
    alpha = np.exp(-np.minimum(logt, np.log(1 / ALPHA_MIN)))
    beta, mu, XtWX, ok = irls_batch(X, Y, offset, alpha, start=beta, tol=tol, maxiter=maxiter)
    status[~ok & (status == 0)] = 1
    bse = np.sqrt(np.diagonal(np.linalg.inv(XtWX), axis1=1, axis2=2))
    llf = nb_loglik(Y, mu, alpha)
    bad = ~(np.isfinite(beta).all(axis=1) & np.isfinite(bse).all(axis=1) & np.isfinite(llf))
    status[bad & (status == 0)] = 4
    return BatchFit(beta, bse, alpha, llf, mu, status, list(columns) if columns is not None else [])


def fit_poisson_batch(X, Y, offset=0.0, *, tol=BATCH_TOL, maxiter=100, columns=None) -> BatchFit:
    """Poisson GLMs (log link) for every row of Y at once; model-based standard errors."""
    Y = _as_stack(Y)
    beta, mu, XtWX, ok = irls_batch(X, Y, offset, 0.0, tol=tol, maxiter=maxiter)
    bse = np.sqrt(np.diagonal(np.linalg.inv(XtWX), axis1=1, axis2=2))
    status = np.where(ok, 0, 1)
    return BatchFit(
        beta, bse, np.zeros(len(Y)), nb_loglik(Y, mu, 0.0), mu, status, list(columns) if columns is not None else []
    )


def profile_intervals_batch(
    X, Y, offset, fit: BatchFit, terms: Sequence[int], *, level=0.95, refit_alpha=False, tol=1e-8, maxiter=30
):
    """Profile-likelihood intervals of coefficients ``terms`` (column indices) for every dataset.

    As R's ``confint`` on a ``glm.nb`` fit (MASS's profile.glm): the dispersion stays at its
    estimate, the other coefficients are refitted with coefficient j fixed at b, and the limits are
    where the signed root z(b) = sign(b - b_hat) sqrt(2 (llf_hat - llf_j(b))) equals the normal
    quantiles (R finds them by spline interpolation on a grid, here by Newton on z, which is
    nearly linear in b; dz/db = -score_j / z with the score at the constrained fit).
    ``refit_alpha=True`` profiles the dispersion too (it is re-estimated in every constrained fit):
    the interval then carries the uncertainty of alpha, which R's confint ignores.
    Returns (low, high, converged), each (R, len(terms)).
    """
    from scipy.stats import norm

    X = np.asarray(X, dtype=float)
    Y = _as_stack(Y)
    R, n = Y.shape
    off = np.broadcast_to(np.asarray(offset, dtype=float), (R, n))
    q = norm.ppf(0.5 + level / 2)
    limits = np.full((2, R, len(terms)), np.nan)
    ok = np.ones((R, len(terms)), dtype=bool)
    if not refit_alpha:  # the dispersion stays: only mu changes, so the gamma functions are computed once
        loglik = _nb_loglik_split(Y, fit.alpha)
        llf_hat = loglik(fit.mu)  # the same sum as in each step, so z = 0 exactly at the estimate
    for k, j in enumerate(terms):
        rest = [i for i in range(X.shape[1]) if i != j]
        Xr, xj = X[:, rest], X[:, j]
        for side, target in enumerate((-q, q)):
            b = fit.params[:, j] + target * fit.bse[:, j]
            start = np.array(fit.params[:, rest], dtype=float, copy=True)
            sub = BatchFit(start, start, fit.alpha, fit.llf, fit.mu, fit.status)
            done = np.zeros(R, dtype=bool)
            for iteration in range(1, maxiter + 1):  # noqa: B007 (reported after the loop)
                act = np.flatnonzero(~done)  # datasets whose limit is found leave the working set
                if act.size == 0:
                    break
                ya, ba = Y[act], b[act]
                if refit_alpha:
                    sub = fit_negbin_batch(Xr, Y, off + b[:, None] * xj, start=sub)
                    mu, llf, conv, aa = sub.mu[act], sub.llf[act], sub.converged[act], sub.alpha[act, None]
                else:  # one IRLS step per step in b: both converge together
                    beta, mu, _, conv = irls_batch(
                        Xr, ya, off[act] + ba[:, None] * xj, fit.alpha[act], start=start[act], maxiter=1, info=False
                    )
                    start[act] = beta
                    llf, aa = loglik(mu, act), fit.alpha[act, None]
                top = fit.llf[act] if refit_alpha else llf_hat[act]
                z = np.sign(ba - fit.params[act, j]) * np.sqrt(np.maximum(2 * (top - llf), 0.0))
                gap = target - z
                found = (np.abs(gap) < tol) & conv
                score_j = ((ya - mu) / (1 + aa * mu)) @ xj
                with np.errstate(divide="ignore", invalid="ignore"):
                    step = gap / (-score_j / z)
                step = np.where(np.isfinite(step), step, 0.5 * target * fit.bse[act, j])
                b[act] = np.where(found, ba, ba + step)
                done[act] = found
            limits[side, :, k] = b
            ok[:, k] &= done
    return limits[0], limits[1], ok


def profile_irr_table(result, *, pattern: str = "model|score", level: float = 0.95) -> pd.DataFrame:
    """Wald and profile-likelihood intervals of a single negative binomial fit (``fit_negbin``), as rate ratios.

    The profile interval is R's ``confint`` on the glm.nb fit: the dispersion held at
    ``result.alpha``, computed by ``profile_intervals_batch`` on this one dataset.
    """
    model = result.model
    X, y = np.asarray(model.exog, dtype=float), np.asarray(model.endog, dtype=float)
    offset = sum(
        np.asarray(o, dtype=float)
        for o in (getattr(model, "offset", None), getattr(model, "exposure", None))
        if o is not None
    )
    names = list(result.params.index)
    terms = [i for i, name in enumerate(names) if pd.Series([name]).str.contains(pattern).iat[0]]
    mu = np.asarray(result.fittedvalues, dtype=float)[None]
    alpha = np.array([result.alpha])
    fit = BatchFit(
        np.asarray(result.params)[None],
        np.asarray(result.bse)[None],
        alpha,
        nb_loglik(y, mu, alpha),
        mu,
        np.zeros(1, dtype=int),
    )
    low, high, ok = profile_intervals_batch(X, y, offset, fit, terms, level=level)
    ci = result.conf_int(alpha=1 - level)
    rows = [
        {
            "term": _term_label(names[i]),
            "irr": float(np.exp(result.params.iloc[i])),
            "wald_low": float(np.exp(ci.iloc[i, 0])),
            "wald_high": float(np.exp(ci.iloc[i, 1])),
            "profile_low": float(np.exp(low[0, k])),
            "profile_high": float(np.exp(high[0, k])),
            "profile_converged": bool(ok[0, k]),
        }
        for k, i in enumerate(terms)
    ]
    return pd.DataFrame(rows).set_index("term")
