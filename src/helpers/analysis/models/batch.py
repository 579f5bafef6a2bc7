"""Batched fitting: many outcome vectors, one design matrix.

The simulations fit thousands of datasets that share one design matrix (same municipalities,
same covariates, new simulated counts). Looping over statsmodels costs ~10 ms of Python per fit;
here every iteration of IRLS and of the dispersion Newton is one numpy operation over the whole
stack of datasets. No library fits a stack of GLMs with a shared design (statsmodels and glum
fit one response at a time), which is why it is written here; tests/test_simulation.py
checks it against statsmodels' GLM and the single fit to 1e-8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from helpers.core import lazy

special = lazy.module("scipy.special")  # scipy.special and scipy.stats: imported at the first fit
stats = lazy.module("scipy.stats")

BATCH_TOL = 1e-10  # convergence of IRLS (max |change in beta|) and of log(theta) in the Newton steps
ALPHA_MIN = 1e-8  # a dispersion below this is the Poisson limit (theta -> infinity): not converged


@dataclass(frozen=True)
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
    columns: list = field(default_factory=list)  # the design's column names, when given

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
        out[~big] = special.polygamma(1, x[~big])
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
            special.gammaln(Y + theta)
            - special.gammaln(theta)
            - special.gammaln(Y + 1)
            + theta * np.log(theta / (theta + mu))
            + Y * np.log(mu / (theta + mu))
        )
        if (alpha > 0).all():
            return nb.sum(axis=1)
        pois = Y * np.log(mu) - mu - special.gammaln(Y + 1)
    return np.where(alpha > 0, nb, pois).sum(axis=1)


def _nb_loglik_split(Y, alpha):
    """The NB2 log-likelihood (alpha > 0) as the part that does not depend on mu, (R,), and a function of mu.

    l = sum[lgamma(y + theta) - lgamma(theta) - lgamma(y + 1) + theta log(theta)] + sum[y log(mu) - (y + theta)
    log(theta + mu)]:
    where only mu changes (a profile at fixed dispersion) the gamma functions are computed once.
    """
    theta = 1.0 / np.asarray(alpha, dtype=float)[:, None]
    const = np.sum(
        special.gammaln(Y + theta) - special.gammaln(theta) - special.gammaln(Y + 1) + theta * np.log(theta), axis=1
    )

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
    s = np.sum(special.psi(Y + t) - special.psi(t) + np.log(t) + 1 - np.log(t + mu) - (Y + t) / (t + mu), axis=1)
    h = np.sum(_trigamma(Y + t) - special.polygamma(1, t) + 1 / t - 2 / (t + mu) + (Y + t) / (t + mu) ** 2, axis=1)
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
    s_th = np.sum(special.psi(Y + t) - special.psi(t) + np.log(t) + 1 - np.log(tm) - (Y + t) / tm, axis=1)
    h_th = np.sum(_trigamma(Y + t) - special.polygamma(1, t) + 1 / t - 2 / tm + (Y + t) / tm**2, axis=1)
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


@dataclass(frozen=True)
class CoxReidFit:
    """The Cox-Reid adjusted dispersion of R fitted NB2 GLMs sharing one design (:func:`cox_reid_batch`).

    ``alpha``: (R,) the dispersion maximising the Cox-Reid adjusted profile likelihood; ``cov``:
    (R, p, p) the model-based covariance of the maximum-likelihood coefficients with the dispersion
    at ``alpha`` (inverse of X' W X, W = mu / (1 + alpha mu) at the ML means); ``df``:
    the residual degrees of freedom n - p of the t reference; ``status``: as :class:`BatchFit`'s (0
    converged, 1 IRLS hit its limit, 2 the Poisson limit, 3 the iteration hit its limit, 4
    non-finite values).
    """

    alpha: np.ndarray
    cov: np.ndarray
    df: int
    status: np.ndarray

    @property
    def bse(self) -> np.ndarray:
        """(R, p) standard errors: the square roots of the diagonal of ``cov``."""
        return np.sqrt(np.diagonal(self.cov, axis1=1, axis2=2))

    @property
    def converged(self) -> np.ndarray:
        return self.status == 0


def cox_reid_loglik(X, Y, offset, alpha, *, start=None, tol=BATCH_TOL) -> np.ndarray:
    """The Cox-Reid adjusted profile log-likelihood of each dataset at dispersion ``alpha`` (R,) or scalar.

    APL(alpha) = l(beta_alpha, alpha) - 1/2 log det(X' W X), with beta_alpha the maximum-likelihood
    coefficients at that dispersion and W = mu / (1 + alpha mu) their IRLS weights (Cox and Reid 1987;
    as edgeR's ``adjustedProfileLik``). Used by the tests to check that :func:`cox_reid_batch` finds its maximum.
    """
    Y = _as_stack(Y)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), Y.shape[:1])
    _, mu, XtWX, _ = irls_batch(X, Y, offset, alpha, start=start, tol=tol, maxiter=200)
    return nb_loglik(Y, mu, alpha) - 0.5 * np.linalg.slogdet(XtWX)[1]


def _cox_reid_score(X, Y, mu, theta, XtWX):
    """Derivative in log(theta) of the Cox-Reid adjusted profile likelihood, and the profile Hessian.

    The profile part is the envelope-theorem score (:func:`_theta_derivatives`). The adjustment
    -1/2 log det(I), I = X' W X with W_i = theta mu_i / (theta + mu_i), changes with theta directly
    and through the means (beta moves with theta: d beta / d log(theta) = A^-1 c, with A the observed
    information of beta and c = d score_beta / d log(theta)); d log det I = sum_i h_i d log W_i with
    the leverages h_i = W_i x_i' I^-1 x_i. Returns (score, profile Hessian) in log(theta); the
    profile Hessian serves as the Newton slope (the adjustment is O(p) against O(n)).
    """
    t = theta[:, None]
    tm = t + mu
    s_t, h_p = _theta_derivatives(Y, mu, theta, X)
    w = t * mu / tm
    h = w * np.einsum("ij,rjk,ik->ri", X, np.linalg.inv(XtWX), X)
    cross = theta[:, None] * ((mu * (Y - mu) / tm**2) @ X)
    dbeta = np.linalg.solve(_xtwx(X, t * mu * (t + Y) / tm**2), cross[..., None])[..., 0]
    dlogw = mu / tm + (t / tm) * (dbeta @ X.T)
    return s_t - 0.5 * np.sum(h * dlogw, axis=1), h_p


def cox_reid_batch(X, Y, offset, fit: BatchFit, *, tol=BATCH_TOL, maxiter=100) -> CoxReidFit:
    """The NB2 dispersion by the Cox-Reid adjusted profile likelihood, for every fitted dataset of ``fit``.

    The maximum-likelihood dispersion of a GLM with p coefficients fitted to n observations is biased
    low: it ignores that the means were estimated (with large counts, as here, NB2 is close to a
    linear model on the log scale with variance alpha, and the ML alpha is about RSS / n). Cox and
    Reid's adjustment, -1/2 log det(X' W X), turns the profile likelihood into the analogue of REML,
    whose estimate is about RSS / (n - p) (the dispersion estimator of edgeR and DESeq2). It is
    maximised here by Newton steps in log(theta) (theta = 1/alpha) on its exact derivative
    (:func:`_cox_reid_score`), with the profile Hessian as slope and secant steps once two points are
    known, refitting the means by IRLS at each theta; datasets leave the working set when a step moves
    log(theta) by less than ``tol``. Starts from ``fit`` (the ML fit of the same datasets).

    Returns :class:`CoxReidFit`: the dispersion, the covariance of ``fit``'s (ML) coefficients
    with the dispersion at that value, the residual df n - p for a t reference, and the status.
    Written here because no Python library estimates it for a GLM (edgeR's ``dispCoxReid`` is R and
    works on expression matrices); tests/test_r_reference.py checks it against R (glm at each theta,
    optimize on the same adjusted likelihood).
    """
    X = np.asarray(X, dtype=float)
    Y = _as_stack(Y)
    R, n = Y.shape
    off = np.broadcast_to(np.asarray(offset, dtype=float), (R, n))
    top = np.log(1 / ALPHA_MIN)
    logt = np.minimum(np.log(1.0 / np.maximum(fit.alpha, ALPHA_MIN)), top)
    beta = np.array(fit.params, dtype=float, copy=True)
    done = ~np.isfinite(logt) | ~np.isfinite(beta).all(axis=1)
    irls_ok = np.ones(R, dtype=bool)
    last_t, last_g = np.full(R, np.nan), np.full(R, np.nan)
    for iteration in range(1, maxiter + 1):  # noqa: B007 (reported after the loop)
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        theta = np.exp(logt[act])
        b, mu, XtWX, ok = irls_batch(X, Y[act], off[act], 1 / theta, start=beta[act], tol=tol, maxiter=maxiter)
        beta[act], irls_ok[act] = b, ok
        g, h_p = _cox_reid_score(X, Y[act], mu, theta, XtWX)
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = (g - last_g[act]) / (logt[act] - last_t[act])
            slope = np.where(np.isfinite(secant) & (secant < 0), secant, h_p)
            step = np.where(slope < 0, -g / slope, np.sign(g))  # not concave here: a unit step uphill
        step = np.clip(np.nan_to_num(step, nan=0.0), -2.0, 2.0)
        last_t[act], last_g[act] = logt[act], g
        logt[act] += step
        done[act] = (np.abs(step) < tol) | (logt[act] > top) | ~np.isfinite(g)
    status = np.where(done, 0, 3)
    status[(status == 0) & ~irls_ok] = 1
    status[(status == 0) & (logt > top)] = 2
    alpha = np.exp(-np.minimum(logt, top))
    cov = np.linalg.inv(_xtwx(X, fit.mu / (1 + alpha[:, None] * fit.mu)))
    status[(status == 0) & ~(np.isfinite(alpha) & np.isfinite(cov).all(axis=(1, 2)))] = 4
    return CoxReidFit(alpha, cov, n - X.shape[1], status)


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
    X = np.asarray(X, dtype=float)
    Y = _as_stack(Y)
    R, n = Y.shape
    off = np.broadcast_to(np.asarray(offset, dtype=float), (R, n))
    q = stats.norm.ppf(0.5 + level / 2)
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
