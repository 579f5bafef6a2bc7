"""Simulation studies of the count models: interval coverage and power, each with its Monte Carlo error.

The studies return frozen dataclasses: :class:`CoverageStudy` (the per-term coverage table with its
Monte Carlo errors and the :func:`better_interval` verdict) and :class:`PowerCurve` (the curve,
its minimal detectable effect and that effect's Monte Carlo error).

Every simulated dataset is fitted as the real analysis fits its data: a negative binomial (NB2)
GLM with population as exposure, the same design (cooperation categories plus the controls) and
the dispersion estimated by maximum likelihood in that dataset. The fits run through the batched
engine in ``helpers.analysis.models.batch`` (``fit_negbin_batch``: vectorised IRLS and a Newton solve of the
dispersion over a stack of outcome vectors sharing one design), so 2,000 repetitions take about a
second instead of several minutes of statsmodels fits.

Monte Carlo error. With R repetitions a coverage or a power p is known to sqrt(p (1 - p) / R)
(about 0.5 points for a 95 % coverage at R = 2,000, 1.3 points for a power of 0.5 at R = 1,000);
a bias to sd / sqrt(R). Every table here carries these as ``*_mc_se`` columns.

Non-convergence. A dataset whose fit did not converge (``BatchFit.status``) is not used for
coverage or power and is counted in ``not_converged``: the tables say how many repetitions
were simulated (``reps``) and how many entered (``used``); nothing is dropped silently.

Reproducibility and parallel runs. Repetitions are cut into chunks of ``CHUNK`` datasets; chunk i
draws from ``SeedSequence(seed).spawn(n)[i]`` (one more level of spawning per effect size of a
power curve). A chunk's numbers depend only on its seed and size, so the results are
bit-identical for a given seed whatever the number of ``workers`` (processes of the standard
library's ProcessPoolExecutor; the default 1, because the pipeline already runs two notebooks at
once on a 2-core machine, where the batched fits are not what dominates any more).

Reusing the engine for a panel simulation (e.g. the adoption event study): build the panel's
design once (unit and year fixed effects as dummies, the event-time indicators, any controls)
with patsy or pandas, as one (n_obs, p) matrix X and the log-exposure offset (n_obs,); simulate
a (R, n_obs) matrix of counts from the true coefficients (``simulate_nb`` with the true mean);
``batch.fit_negbin_batch(X, Y, offset)`` (or ``fit_poisson_batch``) fits all R panels at once
and returns (R, p) coefficients and standard errors and the count of failed fits;
``profile_intervals_batch`` gives likelihood intervals for chosen columns; ``run_chunks`` with
a chunk task like ``_coverage_chunk`` spreads the repetitions over seeds and workers.
Cluster-robust (by unit) standard errors are not part of the engine: with a shared design they
are one more batched sandwich, X' diag(residual) summed within units, left for when it is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
from threadpoolctl import threadpool_limits

from helpers.analysis.models import batch
from helpers.analysis.models.design import CONTROLS, formula, model_term, score
from helpers.core import lazy, vocabulary
from helpers.core.vocabulary import IntervalKind, Spec
from helpers.results.models import IntervalCheck, IntervalVerdict

stats = lazy.module("scipy.stats")  # ~0.6 s to import: at the first simulation

CHUNK = 250  # datasets per chunk: the unit of seeding and of parallel work
COVERAGE_EFFECTS = {1: 1.05, 2: 1.10, 3: 1.10, 4: 1.20}  # notebook 03's true rate ratios per model against 5
POWER_EFFECTS = tuple(1.0 + 0.025 * i for i in range(13))  # notebook 03's power curve: rate ratios 1.0 to 1.3
POWER_TARGET = 0.8  # the power a minimal detectable effect is defined by
TARGET = (0.94, 0.96)  # the band a 95 % interval's coverage should fall in at 2,000 repetitions (issue 23)
REPORTED: IntervalKind = "cox_reid_t"  # the interval notebook 03 reports (NegBinFit.conf_int), chosen by this study
INTERVAL_NAMES: dict[IntervalKind, str] = {
    "wald": "Wald (ML dispersion, z)",
    "profile": "profile likelihood (ML dispersion)",
    "cox_reid_t": "Cox-Reid t",
}
REPORTED_IN_WORDS = (
    "the maximum-likelihood rate ratios (as glm.nb) with estimate ± t(0.975; n − p) × standard error, "
    "the standard error model-based with the dispersion estimated by the Cox-Reid adjusted profile likelihood "
    "(the REML analogue: it accounts for the p coefficients estimated, as n − p does for a linear model's variance)"
)


@dataclass(frozen=True)
class CoverageStudy:
    """Coverage of the three intervals of :data:`INTERVAL_NAMES` over simulated datasets (:func:`coverage_study`).

    ``terms``: one row per model term (index ``model``): the true log rate ratio, mean and sd of the
    estimates, bias and its Monte Carlo SE, each interval's coverage (``coverage_<kind>``) with its
    Monte Carlo SE, the paired differences profile - Wald and Cox-Reid t - profile with their own,
    reps simulated, used and not converged;
    ``reps``: datasets simulated; ``level``: the intervals' nominal level; ``verdict``: which of
    the two ML-dispersion intervals (Wald, profile) covers closer to ``level`` (:func:`better_interval`);
    ``check``: how the reported interval (:data:`REPORTED`, Cox-Reid t) covers against the target and
    the others (:func:`check_reported`); ``dispersion_ratio``: the mean ratio of the Cox-Reid to the
    ML dispersion over the datasets (about n / (n - p) with counts this large).
    """

    terms: pd.DataFrame
    reps: int
    level: float
    verdict: IntervalVerdict
    check: IntervalCheck
    dispersion_ratio: float

    @property
    def not_converged(self) -> int:
        """The most datasets any term lost to a fit that did not converge."""
        return int(self.terms["not_converged"].max())


@dataclass(frozen=True)
class PowerCurve:
    """Power to detect a rate ratio between cooperating and other kommuner (:func:`power_curve`).

    ``curve``: one row per effect: irr, power, mc_se (its Monte Carlo SE), reps, used,
    not_converged; ``reps``: datasets per effect; ``n``: kommuner; ``alpha``: the dispersion
    simulated; ``level``: the test's size; ``target``: the power that defines the minimal
    detectable effect; ``minimal_detectable``: the smallest rate ratio reaching ``target``,
    interpolated (None if never reached); ``minimal_detectable_mc_se``: its Monte Carlo SE (None
    when it cannot be computed).
    """

    curve: pd.DataFrame
    reps: int
    n: int
    alpha: float
    level: float
    target: float
    minimal_detectable: float | None
    minimal_detectable_mc_se: float | None

    @property
    def not_converged(self) -> int:
        """Datasets not used over the whole curve (their fit did not converge)."""
        return int(self.curve["not_converged"].sum())

    def in_words(self) -> str:
        """One sentence: the smallest effect detected with the target power, or that it is not reached."""
        mde, se, target = self.minimal_detectable, self.minimal_detectable_mc_se, f"{self.target * 100:g} %"
        if not mde:
            return f"{target} power is not reached."
        se_text = f" (Monte Carlo SE {se:.4f})" if se is not None else ""
        return (
            f"With the {self.n} responding municipalities, a rate ratio of about {mde:.3f}{se_text} is detected "
            f"with {target} power."
        )


def count_design(
    df: pd.DataFrame, *, spec: Spec = "categorical", controls: Sequence[str] = CONTROLS
) -> tuple[pd.DataFrame, np.ndarray]:
    """The design matrix of ``models.fit_count`` for ``df`` (same formula and columns) and its log-population
    offset."""
    data = df.assign(score=score(df["model"]), y=0.0)
    rhs = formula("y", spec, controls).split("~", 1)[1]
    X = patsy.dmatrix(rhs, data, return_type="dataframe")
    return X, np.log(df["population"].to_numpy(dtype=float))


def observed_rate(df: pd.DataFrame, outcome: str) -> float:
    """Usage per inhabitant over all kommuner of ``df``: the overall rate the studies simulate at."""
    return float(df[outcome].sum() / df["population"].sum())


def simulate_counts(
    df: pd.DataFrame, rate_per_person: float, irr: dict[int, float], alpha: float, rng: np.random.Generator
) -> np.ndarray:
    """One dataset of negative binomial counts (variance mu + alpha mu^2) with known rate ratios per model vs 5."""
    mu = df["population"].to_numpy() * rate_per_person * df["model"].map(lambda m: irr.get(m, 1.0)).to_numpy()
    n = 1.0 / alpha
    return rng.negative_binomial(n, n / (n + mu))


def simulate_nb(mu: np.ndarray, alpha: float, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` datasets of NB2 counts with mean ``mu`` (n,) and variance mu + alpha mu^2: (size, n)."""
    theta = 1.0 / alpha
    return rng.negative_binomial(theta, theta / (theta + mu), size=(size, len(mu)))


def chunks(
    reps: int, seed: int | np.random.SeedSequence, chunk: int = CHUNK
) -> list[tuple[np.random.SeedSequence, int]]:
    """(seed sequence, size) of each chunk of ``reps`` repetitions: fixed by seed and reps alone."""
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    n = math.ceil(reps / chunk)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [(s, min(chunk, reps - i * chunk)) for i, s in enumerate(root.spawn(n))]


def run_chunks(task: Callable, jobs: Sequence[tuple], workers: int = 1) -> list:
    """``task(*job)`` for every job, in order; in ``workers`` processes when more than one.

    BLAS runs single-threaded inside: the batched products are small (a few hundred datasets by
    ~100 columns), where OpenBLAS's threads cost more than they give, and on a shared 2-core
    machine they fight the other notebook running beside this one (6x slower measured).
    """
    if workers <= 1 or len(jobs) <= 1:
        with threadpool_limits(1, user_api="blas"):
            return [task(*job) for job in jobs]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(_single_threaded, [task] * len(jobs), jobs))


def _single_threaded(task: Callable, job: tuple):
    with threadpool_limits(1, user_api="blas"):
        return task(*job)


def _coverage_chunk(seq, size, X, offset, mu, alpha, cols, level):
    rng = np.random.default_rng(seq)
    Y = simulate_nb(mu, alpha, rng, size)
    fit = batch.fit_negbin_batch(X, Y, offset)
    cr = batch.cox_reid_batch(X, Y, offset, fit)
    q, qt = stats.norm.ppf(0.5 + level / 2), stats.t.ppf(0.5 + level / 2, cr.df)
    est, se, se_cr = fit.params[:, cols], fit.bse[:, cols], cr.bse[:, cols]
    low, high, prof_ok = batch.profile_intervals_batch(X, Y, offset, fit, cols, level=level)
    return {
        "est": est,
        "wald_low": est - q * se,
        "wald_high": est + q * se,
        "profile_low": low,
        "profile_high": high,
        "cox_reid_t_low": est - qt * se_cr,
        "cox_reid_t_high": est + qt * se_cr,
        "ok": (fit.converged & cr.converged)[:, None] & prof_ok,
        "alpha": fit.alpha,
        "alpha_cox_reid": cr.alpha,
    }


def coverage_study(
    df: pd.DataFrame,
    irr: dict[int, float],
    *,
    alpha: float,
    rate: float,
    reps: int = 2000,
    seed: int = 1,
    controls: Sequence[str] = CONTROLS,
    level: float = 0.95,
    workers: int = 1,
    chunk: int = CHUNK,
) -> CoverageStudy:
    """Coverage of the Wald, profile-likelihood and Cox-Reid t intervals, and bias, over ``reps`` simulated datasets.

    Datasets keep ``df``'s populations, models and controls; counts are NB2 with rate ratio
    ``irr[m]`` for model m against model 5 (the controls have no true effect), overall rate
    ``rate`` per inhabitant and dispersion ``alpha``. Each is fitted with the real analysis's
    design and its own estimated dispersion (ML, and Cox-Reid for the reported interval). One row
    per model term: the true log rate ratio, mean and sd of the estimates, bias, each interval's
    coverage with its Monte Carlo standard error, the paired differences, reps simulated, used and
    not converged (a dataset is used for a term when the ML fit, the Cox-Reid dispersion and that
    term's profile limits all converged, so every interval is judged on the same datasets); which
    ML-dispersion interval covers better (:func:`better_interval`); and how the reported one
    covers (:func:`check_reported`).
    """
    X, offset = count_design(df, controls=controls)
    names = list(X.columns)
    terms = [m for m in sorted(irr) if model_term(m) in names]
    if not terms:
        raise ValueError(f"none of the models {sorted(irr)} is in the design; columns: {names}")
    cols = [names.index(model_term(m)) for m in terms]
    mu = (
        df["population"].to_numpy(dtype=float) * rate * df["model"].map(lambda m: irr.get(m, 1.0)).to_numpy(dtype=float)
    )
    parts = run_chunks(
        _coverage_chunk,
        [(s, n, X.to_numpy(), offset, mu, alpha, cols, level) for s, n in chunks(reps, seed, chunk)],
        workers,
    )
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    true = np.log([irr[m] for m in terms])
    covered = {
        kind: (out[f"{kind}_low"] <= true) & (true <= out[f"{kind}_high"]) for kind in vocabulary.choices(IntervalKind)
    }
    rows = []
    for k, m in enumerate(terms):
        ok = out["ok"][:, k]
        used = int(ok.sum())
        est = out["est"][ok, k]
        row = {"model": m, "true_log_irr": true[k], "mean_est": est.mean(), "sd_est": est.std(ddof=1)}
        row["bias"] = row["mean_est"] - true[k]
        row["bias_mc_se"] = row["sd_est"] / math.sqrt(used)
        for kind, cover in covered.items():
            row[f"coverage_{kind}"] = cover[ok, k].mean()
            row[f"coverage_{kind}_mc_se"] = math.sqrt(row[f"coverage_{kind}"] * (1 - row[f"coverage_{kind}"]) / used)
        # paired: the intervals are computed on the same datasets, so a difference is known far better than either
        for new, old in (("profile", "wald"), (REPORTED, "profile")):
            paired = covered[new][ok, k].astype(float) - covered[old][ok, k].astype(float)
            row[f"{new}_minus_{old}"] = paired.mean()
            row[f"{new}_minus_{old}_mc_se"] = paired.std(ddof=1) / math.sqrt(used)
        rows.append(row | {"reps": reps, "used": used, "not_converged": reps - used})
    table = pd.DataFrame(rows).set_index("model")
    check = check_reported(table, {kind: c[out["ok"].all(axis=1)] for kind, c in covered.items()}, level)
    return CoverageStudy(table, reps, level, better_interval(table, level), check, _ratio(out))


def _ratio(out: dict) -> float:
    """Mean ratio of the Cox-Reid to the ML dispersion over the datasets used."""
    ok = out["ok"].all(axis=1)
    return float(np.mean(out["alpha_cox_reid"][ok] / out["alpha"][ok]))


def check_reported(
    terms: pd.DataFrame, covered: dict[str, np.ndarray], level: float = 0.95, target: tuple[float, float] = TARGET
) -> IntervalCheck:
    """How well the reported interval (:data:`REPORTED`) covers, against the target band and the other intervals.

    ``terms``: the coverage table of :func:`coverage_study`; ``covered``: per interval kind, the
    (datasets, terms) array of whether each interval covered the truth, over the datasets every term
    used. The distance of an interval kind from ``level`` is the mean over terms of |coverage - level|;
    the reported interval's advantage over another kind is that kind's distance minus its own, with a
    paired Monte Carlo SE: the delta method on the per-dataset quantity mean_k(s_b,k I_b,k - s_a,k
    I_a,k) (s = sign of coverage - level), so the correlation of the kinds and of the terms within a
    dataset is counted.
    """
    dist = {}
    for kind, cover in covered.items():
        dist[kind] = float(np.mean(np.abs(cover.mean(axis=0) - level)))
    mine = covered[REPORTED].astype(float)
    sign = {k: np.sign(c.mean(axis=0) - level) for k, c in covered.items()}
    advantage, advantage_se = {}, {}
    for kind, cover in covered.items():
        if kind == REPORTED:
            continue
        d = (sign[kind] * cover.astype(float) - sign[REPORTED] * mine).mean(axis=1)
        advantage[kind] = dist[kind] - dist[REPORTED]
        advantage_se[kind] = float(d.std(ddof=1) / math.sqrt(len(d)))
    cov = terms[f"coverage_{REPORTED}"]
    outside = {
        int(m): float(c - target[0] if c < target[0] else c - target[1])
        for m, c in cov.items()
        if not target[0] <= c <= target[1]
    }
    return IntervalCheck(
        reported=REPORTED,
        target=target,
        coverage_range=(float(cov.min()), float(cov.max())),
        outside_target=outside,
        mean_abs_error=dist,
        advantage=advantage,
        advantage_mc_se=advantage_se,
        closest=min(dist, key=dist.get),
    )


def check_in_words(check: IntervalCheck, level: float = 0.95) -> str:
    """Sentences for the notebook: what the reported interval is, how it covers, and against the others."""
    lo, hi = check.coverage_range
    dist = ", ".join(f"{INTERVAL_NAMES[k]} {v * 100:.2f}" for k, v in check.mean_abs_error.items())
    text = f"The reported intervals are {REPORTED_IN_WORDS}. Their coverage is {lo:.3f} to {hi:.3f} over the terms "
    if not check.outside_target:
        text += f"(target {check.target[0]:.2f}-{check.target[1]:.2f}: every term inside). "
    else:
        gaps = "; ".join(f"model {m} {g * 100:+.2f} points" for m, g in check.outside_target.items())
        text += f"(target {check.target[0]:.2f}-{check.target[1]:.2f}; outside it: {gaps}). "
    text += f"Mean distance of the coverage from {level:.0%}, in points: {dist}. "
    better = [
        f"{INTERVAL_NAMES[k]} by {a * 100:+.2f} ± {check.advantage_mc_se[k] * 100:.2f}"
        for k, a in check.advantage.items()
    ]
    text += "The reported interval is closer than " + " and ".join(better) + " points (paired Monte Carlo SE)."
    if check.closest != check.reported:
        text += f" Closest in this study: {INTERVAL_NAMES[check.closest]}."
    return text


def better_interval(study: pd.DataFrame, level: float = 0.95) -> IntervalVerdict:
    """Which of the two ML-dispersion intervals (Wald, profile) covers closer to ``level``, by how much, and whether
    that is beyond Monte Carlo noise.

    ``study``: a coverage table (:attr:`CoverageStudy.terms`).
    ``difference``: the mean over terms of |coverage_wald - level| - |coverage_profile - level|
    (positive: the profile interval is closer); ``difference_mc_se``: its paired Monte Carlo
    standard error (from ``profile_minus_wald_mc_se``; the two intervals are computed on the same
    datasets). ``better`` is the closer one when the difference exceeds twice its error
    (``clear``); otherwise the two are indistinguishable and ``better`` is the profile interval,
    which follows the shape of the likelihood instead of assuming it symmetric. Neither is what
    notebook 03 reports any more (:data:`REPORTED`, :func:`check_reported`): both keep the ML
    dispersion, whose downward bias is what makes them short.
    """
    err = {k: float((study[f"coverage_{k}"] - level).abs().mean()) for k in ("wald", "profile")}
    difference = err["wald"] - err["profile"]
    se = float(np.sqrt((study["profile_minus_wald_mc_se"] ** 2).sum()) / len(study))
    clear = abs(difference) > 2 * se
    better: IntervalKind = ("profile" if difference > 0 else "wald") if clear else "profile"
    return IntervalVerdict(better, bool(clear), err, difference, se)


def interval_verdict(best: IntervalVerdict, level: float = 0.95) -> str:
    """Sentences for the notebook: how the two ML-dispersion intervals compare (:func:`better_interval`)."""
    names = {"wald": "Wald", "profile": "profile-likelihood"}
    err, se = best.mean_abs_error, best.difference_mc_se
    text = (
        f"The two intervals at the ML dispersion (glm.nb's): mean distance of the coverage from {level:.0%}: Wald "
        f"{err['wald'] * 100:.2f} points, profile likelihood {err['profile'] * 100:.2f} points (difference "
        f"{best.difference * 100:+.2f} ± {se * 100:.2f} points, paired Monte Carlo SE). "
    )
    if best.clear:
        text += f"The {names[best.better]} intervals cover better, by more than twice the Monte Carlo error."
    else:
        text += "The difference is within twice its Monte Carlo error: the two cover equally well."
    return text


def _power_chunk(seq, size, X, offset, mu, alpha, col, level):
    rng = np.random.default_rng(seq)
    Y = simulate_nb(mu, alpha, rng, size)
    fit = batch.fit_negbin_batch(X, Y, offset)
    cr = batch.cox_reid_batch(X, Y, offset, fit)  # the reported test: Cox-Reid standard error, t on n - p df
    p = 2 * stats.t.sf(np.abs(fit.params[:, col] / cr.bse[:, col]), cr.df)
    return {"hit": p < level, "ok": fit.converged & cr.converged}


def power_curve(
    df: pd.DataFrame,
    effects: Sequence[float],
    *,
    alpha: float,
    rate: float,
    reps: int = 1000,
    seed: int = 2,
    level: float = 0.05,
    controls: Sequence[str] = CONTROLS,
    workers: int = 1,
    chunk: int = CHUNK,
    target: float = POWER_TARGET,
) -> PowerCurve:
    """Power to detect a rate ratio between cooperating (models 1-4) and other kommuner, per effect size.

    Each dataset is fitted as the real analysis would fit it: the dispersion estimated in that
    dataset, the controls in the design, and the test the notebook reports for the cooperation
    coefficient at ``level`` (ML estimate over its Cox-Reid standard error, t on n - p df).
    The curve's columns: irr, power, mc_se (its Monte Carlo standard error), reps, used,
    not_converged; with it the smallest effect reaching ``target`` power (:func:`minimal_detectable`)
    and its Monte Carlo error (:func:`minimal_detectable_mc_se`).
    """
    coop = df.assign(model=np.where(df["model"] != 5, 1, 5))
    X, offset = count_design(coop, controls=controls)
    col = list(X.columns).index(model_term(1))
    effect_seeds = np.random.SeedSequence(seed).spawn(len(effects))
    jobs, owner = [], []
    for e, (effect, seq) in enumerate(zip(effects, effect_seeds, strict=False)):
        mu = coop["population"].to_numpy(dtype=float) * rate * np.where(coop["model"] == 1, effect, 1.0)
        for s, n in chunks(reps, seq, chunk):
            jobs.append((s, n, X.to_numpy(), offset, mu, alpha, col, level))
            owner.append(e)
    parts = run_chunks(_power_chunk, jobs, workers)
    rows = []
    for e, effect in enumerate(effects):
        hit = np.concatenate([p["hit"] for p, o in zip(parts, owner, strict=False) if o == e])
        ok = np.concatenate([p["ok"] for p, o in zip(parts, owner, strict=False) if o == e])
        used = int(ok.sum())
        power = float(hit[ok].mean())
        rows.append(
            {
                "irr": float(effect),
                "power": power,
                "mc_se": math.sqrt(power * (1 - power) / used),
                "reps": reps,
                "used": used,
                "not_converged": reps - used,
            }
        )
    table = pd.DataFrame(rows)
    return PowerCurve(
        table,
        reps,
        len(df),
        float(alpha),
        level,
        target,
        minimal_detectable(table, target),
        minimal_detectable_mc_se(table, target),
    )


def minimal_detectable(curve: pd.DataFrame, target: float = POWER_TARGET) -> float | None:
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


def minimal_detectable_mc_se(curve: pd.DataFrame, target: float = POWER_TARGET) -> float | None:
    """Monte Carlo standard error of :func:`minimal_detectable` (delta method on the interpolation)."""
    above = curve.index[curve["power"] >= target]
    if len(above) == 0 or above[0] == curve.index[0]:
        return None
    i = curve.index.get_loc(above[0])
    (x0, y0, s0), (x1, y1, s1) = (curve.iloc[j][["irr", "power", "mc_se"]] for j in (i - 1, i))
    if y1 == y0:
        return None
    d0 = -(x1 - x0) * (y1 - target) / (y1 - y0) ** 2
    d1 = -(x1 - x0) * (target - y0) / (y1 - y0) ** 2
    return float(math.hypot(d0 * s0, d1 * s1))
