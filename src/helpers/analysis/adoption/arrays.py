"""The published estimators for many panels at once, written with numpy (the simulations and the bootstraps).

Why hand-written: the recovery simulation at the real design (:mod:`.simulation`) fits both published
estimators on 2,000 panels, and the wild score bootstrap refits the Poisson model under each null
value; ``csdid`` takes ~0.3 s and ``pyfixest`` ~0.1 s per fit, which is hours there. Everything here is
therefore tested equal to the libraries on the same data (tests/test_adoption_inference.py):

* :func:`group_time_arrays` — Callaway & Sant'Anna's ATT(g,t) with their influence functions
  (outcome regression without covariates, universal base period, optional unit weights, as
  ``csdid``/R ``did`` with ``weightsname``), for ``R`` balanced panels in one pass; equal to ``csdid``'s
  ATT(g,t) and standard errors to 1e-10.
* :func:`aggregate` — ``did::aggte``'s four aggregations (``"dynamic"``, ``"simple"``, ``"group"``,
  ``"calendar"``), each with the influence function of the estimated weights; equal to ``csdid``'s
  ``aggte`` and to the ``differences`` package.
* :func:`multiplier_bootstrap` — ``did``'s ``mboot``: Rademacher multipliers on the influence functions,
  the IQR-based bootstrap standard error and the sup-t critical value of the simultaneous band
  (``cband``), from a seeded ``numpy.random.Generator`` (csdid draws from numpy's global state).
* :func:`ppml_arrays` — Poisson pseudo-maximum likelihood with unit and year fixed effects and an
  offset, the unit effects concentrated out (the multinomial form, exact for Poisson), with CRV1
  standard errors clustered by unit; equal to ``pyfixest.fepois`` to 1e-8.
* :func:`score_bootstrap` — the wild score bootstrap of Kline & Santos (2012) for one coefficient of that
  model; tested against a transparent loop over draws with a statsmodels GLM restricted fit.

:func:`cs_event_arrays` and :func:`twfe_static_arrays` are the earlier entry points (event-time effects
and the OLS within estimator of a treatment dummy), kept for the tests that pin them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from helpers.core import lazy, vocabulary
from helpers.core.vocabulary import Aggregation

from .estimators import DEFAULT_WINDOW

stats = lazy.module("scipy.stats")  # about 0.7 s: imported by the first interval


# --- Callaway & Sant'Anna ----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GroupTimeArrays:
    """Callaway & Sant'Anna group-time effects of ``R`` balanced panels.

    Fields:
        cells: the (g, t) of each effect (cohort, calendar year); each cohort's base year is not a cell.
        att: (R, k) the ATT(g,t).
        inf: (R, n, k) their influence functions (did's scaling: the standard error is sqrt(mean(inf**2) / n)).
        g: (n,) first treated year per unit (0 = never treated).
        weights: (n,) unit weights, normalised to mean 1 (all 1 unweighted).
        years: the T calendar years.
        anticipation: years of anticipation.
    """

    cells: tuple[tuple[int, int], ...]
    att: np.ndarray = field(repr=False)
    inf: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    years: tuple[int, ...]
    anticipation: int

    @property
    def n(self) -> int:
        return len(self.g)

    def se(self) -> np.ndarray:
        """(R, k) analytic standard errors."""
        return np.sqrt((self.inf**2).mean(axis=1) / self.n)


def group_time_arrays(
    Y: np.ndarray,
    g: np.ndarray,
    years: Sequence[int],
    *,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    weights: np.ndarray | None = None,
) -> GroupTimeArrays:
    """ATT(g,t) and influence functions for ``R`` balanced panels ``Y`` (R, n, T), first treated years ``g`` (n,)
    and calendar ``years`` (T); ``weights`` (n,) are unit weights (e.g. population), as ``did``'s ``weightsname``.

    Outcome regression without covariates, universal base period (the last year before ``g - anticipation``):
    ATT(g,t) is the weighted mean change from the base year of cohort g minus that of its comparison units
    (never treated, or also not yet treated at max(t, base) + anticipation). Cells without a comparison unit are
    left out.
    """
    vocabulary.check_choice("control_group", control_group, vocabulary.ControlGroup)
    Y = np.asarray(Y, float)
    if Y.ndim == 2:
        Y = Y[None]
    R, n, T = Y.shape
    years = [int(y) for y in years]
    g = np.asarray(g).astype(int)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    w = w / w.mean()
    groups = sorted(int(x) for x in set(g.tolist()) if x > 0 and any(y + anticipation < x for y in years))
    cells, atts, infs = [], [], []
    for gg in groups:
        b = max(i for i, y in enumerate(years) if y + anticipation < gg)
        treat = g == gg
        for ti, t in enumerate(years):
            if ti == b:
                continue
            if control_group == "nevertreated":
                ctrl = g == 0
            else:
                ctrl = (g == 0) | ((g > max(t, years[b]) + anticipation) & (g != gg))
            if not ctrl.any():
                continue
            d = Y[:, :, ti] - Y[:, :, b]
            sub = treat | ctrl
            ws = w * sub
            ws = ws / ws[sub].mean()  # DRDID normalises the weights to mean 1 within the cell's units
            n1 = sub.sum()
            wt, wc = ws * treat, ws * ctrl
            m1 = (d * wt).sum(axis=1) / wt.sum()
            m0 = (d * wc).sum(axis=1) / wc.sum()
            inf = wt * (d - m1[:, None]) / (wt.sum() / n1) - wc * (d - m0[:, None]) / (wc.sum() / n1)
            cells.append((gg, t))
            atts.append(m1 - m0)
            infs.append(inf * (n / n1))  # did: the cell's influence function over all n units
    att = np.stack(atts, axis=1) if atts else np.zeros((R, 0))
    inf = np.stack(infs, axis=2) if infs else np.zeros((R, n, 0))
    return GroupTimeArrays(tuple(cells), att, inf, g, w, tuple(years), int(anticipation))


@dataclass(frozen=True, eq=False)
class Aggregate:
    """One ``did::aggte`` aggregation of ``R`` panels' group-time effects.

    Fields:
        kind: "dynamic" (by event time) | "simple" | "group" (by cohort) | "calendar" (by year).
        labels: the event times, cohorts or years of ``estimate``'s columns (empty for "simple").
        estimate: (R, m) the aggregated effects.
        inf: (R, n, m) their influence functions.
        overall: (R,) the overall effect of the aggregation (did's ``overall.att``: the mean of the event times
            0 and later for "dynamic", the cohort-size weighted mean for "group", the mean over years for
            "calendar", the cohort-size weighted mean of every post-treatment ATT(g,t) for "simple").
        overall_inf: (R, n) its influence function.
    """

    kind: Aggregation
    labels: tuple[int, ...]
    estimate: np.ndarray = field(repr=False)
    inf: np.ndarray = field(repr=False)
    overall: np.ndarray = field(repr=False)
    overall_inf: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return self.inf.shape[1]

    def se(self) -> np.ndarray:
        """(R, m) analytic standard errors of ``estimate``."""
        return np.sqrt((self.inf**2).mean(axis=1) / self.n)

    def overall_se(self) -> np.ndarray:
        """(R,) analytic standard error of ``overall``."""
        return np.sqrt((self.overall_inf**2).mean(axis=1) / self.n)


def _weighted(gt: GroupTimeArrays, keep: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """did's weighted average of the cells ``keep`` with cohort-size weights, and its influence function (with the
    term for the estimated weights, did's ``wif``)."""
    g, w = gt.g, gt.weights
    pg = np.array([np.mean(w * (g == gt.cells[k][0])) for k in keep])
    share = pg / pg.sum()
    est = gt.att[:, keep] @ share
    ind = np.stack([w * (g == gt.cells[k][0]) for k in keep], axis=1)  # (n, k)
    if1 = (ind - pg) / pg.sum()
    if2 = (ind - pg).sum(axis=1, keepdims=True) * (pg / pg.sum() ** 2)
    wif = if1 - if2
    inf = gt.inf[:, :, keep] @ share + gt.att[:, keep] @ wif.T
    return est, inf


def aggregate(gt: GroupTimeArrays, kind: str = "dynamic", window=None) -> Aggregate:
    """``did::aggte(type = kind)`` of the group-time effects ``gt``; ``window`` (min_e, max_e) limits the event times
    of "dynamic" (and of the cohorts' post-periods for "group", as did's ``max_e``)."""
    kind = vocabulary.check_choice("aggregation", kind, Aggregation)
    cells = gt.cells
    lo, hi = (-np.inf, np.inf) if window is None else (int(window[0]), int(window[1]))
    labels: list[int] = []
    ests, infs = [], []
    if kind == "dynamic":
        for e in sorted({t - g for g, t in cells}):
            keep = [k for k, (g, t) in enumerate(cells) if t - g == e]
            if lo <= e <= hi and keep:
                est, inf = _weighted(gt, keep)
                labels.append(e)
                ests.append(est)
                infs.append(inf)
        post = [i for i, e in enumerate(labels) if e >= 0]
        estimate, inf = np.stack(ests, axis=1), np.stack(infs, axis=2)
        overall, overall_inf = estimate[:, post].mean(axis=1), inf[:, :, post].mean(axis=2)
    elif kind == "simple":
        keep = [k for k, (g, t) in enumerate(cells) if g <= t]
        overall, overall_inf = _weighted(gt, keep)
        estimate, inf = overall[:, None], overall_inf[:, :, None]
    elif kind == "group":
        glist = sorted({g for g, _ in cells})
        for gg in glist:
            keep = [k for k, (g, t) in enumerate(cells) if g == gg and g <= t <= g + hi]
            if keep:
                labels.append(gg)
                ests.append(gt.att[:, keep].mean(axis=1))
                infs.append(gt.inf[:, :, keep].mean(axis=2))
        estimate, inf = np.stack(ests, axis=1), np.stack(infs, axis=2)
        # the cohorts' effects weighted by cohort size, with the weights' influence function (did's selective)
        w, g = gt.weights, gt.g
        pg = np.array([np.mean(w * (g == gg)) for gg in labels])
        share = pg / pg.sum()
        ind = np.stack([w * (g == gg) for gg in labels], axis=1)
        wif = (ind - pg) / pg.sum() - (ind - pg).sum(axis=1, keepdims=True) * (pg / pg.sum() ** 2)
        overall = estimate @ share
        overall_inf = inf @ share + estimate @ wif.T
    else:  # calendar
        first = min(g for g, _ in cells)
        for year in [y for y in gt.years if y >= first]:
            keep = [k for k, (g, t) in enumerate(cells) if t == year and g <= t]
            if keep:
                est, i = _weighted(gt, keep)
                labels.append(year)
                ests.append(est)
                infs.append(i)
        estimate, inf = np.stack(ests, axis=1), np.stack(infs, axis=2)
        overall, overall_inf = estimate.mean(axis=1), inf.mean(axis=2)
    return Aggregate(kind, tuple(labels) if kind != "simple" else (), estimate, inf, overall, overall_inf)


# --- the multiplier bootstrap (did's mboot) ----------------------------------------------------
@dataclass(frozen=True, eq=False)
class BootstrapBand:
    """did's multiplier bootstrap of estimates with influence functions (``R`` panels at once).

    Fields:
        se: (R, m) bootstrap standard errors (the IQR of the bootstrap draws / (q(0.75) - q(0.25)) of N(0,1), / sqrt n).
        crit: (R,) the critical value of the simultaneous band: the 1 - alpha quantile of the largest |t| over the m
            estimates in each draw; the band is estimate +- crit * se, each row at least the pointwise normal value.
        draws: multiplier draws; level: 1 - alpha.
    """

    se: np.ndarray = field(repr=False)
    crit: np.ndarray = field(repr=False)
    draws: int
    level: float


def multiplier_bootstrap(
    inf: np.ndarray,
    *,
    draws: int = 999,
    rng: np.random.Generator | None = None,
    seed: int | None = None,
    alpha=0.05,
    multipliers: np.ndarray | None = None,
) -> BootstrapBand:
    """did's ``mboot`` (Rademacher multipliers, not clustered beyond the unit) on influence functions ``inf`` (n, m)
    or (R, n, m); the same multipliers serve every panel. Seeded: pass ``rng`` or ``seed``.

    As did: the bootstrap standard error of each estimate is its draws' interquartile range over that of the
    standard normal; the simultaneous critical value is the ``1 - alpha`` quantile (inverse ECDF, R's type 1) of
    the largest absolute studentised draw; a critical value below the pointwise normal one is raised to it.
    Columns without variation (a reference period) get NaN. ``multipliers`` (draws, n) replaces the draws (the
    tests hand csdid's own to both).
    """
    inf = np.asarray(inf, float)
    if inf.ndim == 2:
        inf = inf[None]
    R, n, m = inf.shape
    if multipliers is None:  # Rademacher as csdid draws them: 1 - 2 U, U in {0, 1}
        rng = rng if rng is not None else np.random.default_rng(seed)
        V = 1.0 - 2.0 * rng.integers(0, 2, size=(int(draws), n))
    else:
        V = np.asarray(multipliers, float)
        draws = len(V)
    se = np.full((R, m), np.nan)
    crit = np.full(R, np.nan)
    q = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)
    z = stats.norm.ppf(1 - alpha / 2)
    for start in range(0, R, 100):  # bounded memory: (100, draws, m) at a time
        b = np.einsum("bn,rnm->rbm", V, inf[start : start + 100]) / np.sqrt(n)
        ok = (b**2).sum(axis=1) > np.sqrt(np.finfo(float).eps) * 10
        q75 = np.quantile(b, 0.75, axis=1, method="inverted_cdf")
        q25 = np.quantile(b, 0.25, axis=1, method="inverted_cdf")
        sig = np.where(ok, (q75 - q25) / q, np.nan)
        t = np.nanmax(np.abs(b / sig[:, None, :]), axis=2)
        c = np.quantile(t, 1 - alpha, axis=1, method="inverted_cdf")
        se[start : start + 100] = sig / np.sqrt(n)
        crit[start : start + 100] = np.maximum(c, z)
    return BootstrapBand(se, crit, int(draws), 1 - alpha)


# --- Poisson with two-way fixed effects (PPML) ---------------------------------------------------
@dataclass(frozen=True, eq=False)
class PoissonArrays:
    """PPML fits of ``R`` panels (unit effects concentrated out).

    Fields:
        beta: (R, k) coefficients of the regressors (year dummies first, then the others, as given).
        vcov: (R, k, k) CRV1 covariance clustered by unit, small-sample factor ``ssc``.
        scores: (R, n, k) each unit's score at the fit; hessian: (R, k, k) the concentrated information.
        converged: (R,) Newton converged to ``tol``; ssc: G/(G-1) (N-1)/(N-K) as pyfixest.
    """

    beta: np.ndarray = field(repr=False)
    vcov: np.ndarray = field(repr=False)
    scores: np.ndarray = field(repr=False)
    hessian: np.ndarray = field(repr=False)
    converged: np.ndarray = field(repr=False)
    ssc: float

    def se(self) -> np.ndarray:
        return np.sqrt(np.diagonal(self.vcov, axis1=1, axis2=2))


def _poisson_parts(Y, X, offset, mask, beta):
    """Concentrated Poisson at ``beta``: fitted means, unit scores and information."""
    eta = offset[None] + np.einsum("ntk,rk->rnt", X, beta)
    eta = np.where(mask[None], eta, -np.inf)
    eta = eta - eta.max(axis=2, keepdims=True)
    e = np.exp(eta)
    p = e / e.sum(axis=2, keepdims=True)
    mu = Y.sum(axis=2, keepdims=True) * p  # the unit effect at its optimum: sum_t mu = sum_t y
    resid = np.where(mask[None], Y - mu, 0.0)
    scores = np.einsum("ntk,rnt->rnk", X, resid)
    xbar = np.einsum("rnt,ntk->rnk", p, X)
    xc = X[None] - xbar[:, :, None, :]  # (R, n, T, k)
    hessian = np.einsum("rnt,rntk,rntl->rkl", mu, xc, xc)
    return mu, scores, hessian


def ppml_arrays(
    Y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int = 50,
    n_params: int | None = None,
) -> PoissonArrays:
    """Poisson pseudo-ML of ``Y`` (R, n, T) on regressors ``X`` (n, T, k) with unit fixed effects, an ``offset``
    (n, T) and observed unit-years ``mask`` (n, T); the year effects are among the regressors (dummies).

    The unit effects are concentrated out: at their optimum each unit's fitted means sum to its observed total,
    so the likelihood in the other coefficients is the multinomial one (Newton's method, to ``tol`` in the
    step). The CRV1 covariance clustered by unit multiplies H^-1 (sum_i s_i s_i') H^-1 by G/(G-1) (N-1)/(N-K),
    K = ``n_params`` (default k + 1: pyfixest does not count fixed effects nested in the cluster, and counts one
    for the unit effects' constant), as ``pyfixest.fepois`` (tested)."""
    Y = np.asarray(Y, float)
    if Y.ndim == 2:
        Y = Y[None]
    R, n, T = Y.shape
    X = np.asarray(X, float)
    k = X.shape[2]
    mask = np.ones((n, T), bool) if mask is None else np.asarray(mask, bool)
    Y = np.where(mask[None], Y, 0.0)
    offset = np.where(mask, np.asarray(offset, float), 0.0)
    beta = np.zeros((R, k))
    converged = np.zeros(R, bool)
    for _ in range(max_iter):
        _, scores, hessian = _poisson_parts(Y, X, offset, mask, beta)
        step = np.linalg.solve(hessian, scores.sum(axis=1)[..., None])[..., 0]
        beta = beta + step
        converged = np.abs(step).max(axis=1) < tol
        if converged.all():
            break
    _, scores, hessian = _poisson_parts(Y, X, offset, mask, beta)
    N, G = int(mask.sum()), n
    K = k + 1 if n_params is None else int(n_params)
    ssc = G / (G - 1) * (N - 1) / (N - K)
    bread = np.linalg.inv(hessian)
    meat = np.einsum("rnk,rnl->rkl", scores, scores)
    vcov = ssc * bread @ meat @ bread
    return PoissonArrays(beta, vcov, scores, hessian, converged, float(ssc))


@dataclass(frozen=True)
class ScoreTest:
    """The wild score bootstrap test of one coefficient = ``null``: the studentised score ``statistic`` (normal
    under the null), its ``p`` from ``draws`` Rademacher draws (two-sided: the share of |draws| at least as large),
    and the same draws' ``p_normal`` reference (from N(0, 1))."""

    null: float
    statistic: float
    p: float
    p_normal: float
    draws: int


def score_bootstrap(
    Y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    j: int,
    null: float,
    *,
    multipliers: np.ndarray,
) -> ScoreTest:
    """Kline & Santos' (2012) wild score bootstrap test of coefficient ``j`` = ``null`` in the Poisson model of
    :func:`ppml_arrays` (one panel, ``Y`` (n, T)), clustered by unit.

    The model is refitted with the coefficient fixed at ``null`` (moved into the offset); at that restricted fit
    each unit's score for the coefficient is taken net of its projection on the other coefficients' scores
    (s_ij - H_j,-j H_-j,-j^-1 s_i,-j, the efficient score); the statistic is their sum over their root sum of
    squares, and each draw multiplies the units' efficient scores by Rademacher ``multipliers`` (draws, n). No
    refit per draw: that is what makes it a score bootstrap, and what makes it usable for a Poisson model.
    """
    Y = np.asarray(Y, float)
    X = np.asarray(X, float)
    n, T, k = X.shape
    mask = np.ones((n, T), bool) if mask is None else np.asarray(mask, bool)
    others = [c for c in range(k) if c != j]
    restricted = ppml_arrays(Y[None], X[:, :, others], offset + null * X[:, :, j], mask)
    beta = np.zeros((1, k))
    beta[0, others] = restricted.beta[0]
    beta[0, j] = null
    Yz = np.where(mask, Y, 0.0)[None]
    off = np.where(mask, offset, 0.0)
    _, scores, hessian = _poisson_parts(Yz, X, off, mask, beta)
    s, H = scores[0], hessian[0]
    proj = np.linalg.solve(H[np.ix_(others, others)], H[others, j])
    eff = s[:, j] - s[:, others] @ proj  # (n,)
    denom = np.sqrt((eff**2).sum())
    stat = eff.sum() / denom
    boot = multipliers @ eff / denom
    return ScoreTest(
        float(null),
        float(stat),
        float(np.mean(np.abs(boot) >= abs(stat))),
        float(2 * stats.norm.sf(abs(stat))),
        int(len(multipliers)),
    )


# --- the earlier entry points ----------------------------------------------------------------------
def cs_event_arrays(
    Y: np.ndarray,
    g: np.ndarray,
    years: Sequence[int],
    *,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    window=DEFAULT_WINDOW,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Callaway & Sant'Anna event-time effects and standard errors for ``R`` balanced panels at once:
    {event_time: (estimate (R,), se (R,))}, the reference period left out (:func:`aggregate` "dynamic")."""
    gt = group_time_arrays(Y, g, years, control_group=control_group, anticipation=anticipation)
    agg = aggregate(gt, "dynamic", window)
    se = agg.se()
    return {e: (agg.estimate[:, i], se[:, i]) for i, e in enumerate(agg.labels)}


def twfe_static_arrays(Y: np.ndarray, D: np.ndarray) -> np.ndarray:
    """OLS two-way fixed-effects coefficient of a treatment dummy ``D`` (n, T) for R balanced panels ``Y`` (R, n, T)."""
    Dt = _two_way_residuals(np.asarray(D, float))
    return (_two_way_residuals(np.asarray(Y, float)) * Dt).sum(axis=(1, 2)) / (Dt**2).sum()


def _two_way_residuals(Y: np.ndarray) -> np.ndarray:
    """``Y`` (..., n, T) less its unit and year means plus its grand mean: the residuals of a balanced panel's
    two-way (unit and year) fixed-effects regression on nothing else."""
    return Y - Y.mean(axis=-1, keepdims=True) - Y.mean(axis=-2, keepdims=True) + Y.mean(axis=(-1, -2), keepdims=True)


# --- the delete-one-unit jackknife -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Jackknife:
    """Delete-one-kommune jackknife standard errors of Callaway & Sant'Anna aggregates (``R`` panels at once).

    Fields: ``labels`` and ``se`` (R, m) of the event-time effects (did's dynamic aggregation) and their covariance
    ``vcov`` (R, m, m), ``overall_se`` (R,) of their average over event times 0 and later, ``simple_se`` (R,) of the
    simple ATT; ``n`` kommuner.
    """

    labels: tuple[int, ...]
    se: np.ndarray = field(repr=False)
    vcov: np.ndarray = field(repr=False)
    overall_se: np.ndarray = field(repr=False)
    simple_se: np.ndarray = field(repr=False)
    n: int


def jackknife(
    Y: np.ndarray,
    g: np.ndarray,
    years: Sequence[int],
    *,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    window=DEFAULT_WINDOW,
    weights: np.ndarray | None = None,
) -> Jackknife:
    """sqrt((n - 1) / n * sum_i (theta_(i) - mean)^2) over the ``n`` refits leaving one kommune out (cohort weights
    re-estimated in each). The analytic influence-function variance divides each group's squared deviations by its
    size; the jackknife by its size less one, in effect, which is what the few never-treated comparison kommuner of
    the late event times need (the recovery simulation measures both)."""
    Y = np.asarray(Y, float)
    if Y.ndim == 2:
        Y = Y[None]
    g = np.asarray(g).astype(int)
    n = len(g)
    full = aggregate(
        group_time_arrays(Y, g, years, control_group=control_group, anticipation=anticipation, weights=weights),
        "dynamic",
        window,
    )
    labels = full.labels
    outs, overall, simple = [], [], []
    for i in range(n):
        keep = np.arange(n) != i
        gt = group_time_arrays(
            Y[:, keep],
            g[keep],
            years,
            control_group=control_group,
            anticipation=anticipation,
            weights=None if weights is None else np.asarray(weights)[keep],
        )
        d = aggregate(gt, "dynamic", window)
        est = np.full((Y.shape[0], len(labels)), np.nan)
        for j, e in enumerate(labels):
            if e in d.labels:
                est[:, j] = d.estimate[:, d.labels.index(e)]
        outs.append(est)
        overall.append(d.overall)
        simple.append(aggregate(gt, "simple").overall)

    def spread(a):
        a = np.stack(a, axis=0)  # (n, R, ...)
        return np.sqrt((n - 1) / n * np.nansum((a - np.nanmean(a, axis=0)) ** 2, axis=0))

    a = np.stack(outs, axis=0)
    dev = np.nan_to_num(a - np.nanmean(a, axis=0))
    vcov = (n - 1) / n * np.einsum("irk,irl->rkl", dev, dev)
    return Jackknife(labels, spread(outs), vcov, spread(overall), spread(simple), n)
