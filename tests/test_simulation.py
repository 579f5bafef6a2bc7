"""The batched fitter against statsmodels, R and the single fit; the simulation studies built on it."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import minimize_scalar
from statsmodels.discrete.discrete_model import NegativeBinomial

from helpers.analysis import models, simulation
from helpers.core.cooperation import SHORT_NAMES

TRUTH = {1: 1.05, 2: 1.10, 3: 1.10, 4: 1.20}


@pytest.fixture(scope="module")
def stack(base):
    """200 simulated outcome vectors on the real design (categories + controls), and their batched fit."""
    X, offset = simulation.count_design(base)
    mu = base["population"].to_numpy() * 5.0 * base["model"].map(lambda m: TRUTH.get(m, 1.0)).to_numpy()
    Y = simulation.simulate_nb(mu, 0.04, np.random.default_rng(3), 200)
    return X, offset, Y, models.fit_negbin_batch(X.to_numpy(), Y, offset)


def _statsmodels_reference(X, offset, y):
    """alpha by statsmodels' discrete NB2 maximum likelihood, beta and SEs by its GLM at that alpha.

    Newton on the discrete model diverges from a Poisson start with exposures this large, so it
    starts from a coarse profile search over statsmodels' GLM log-likelihood (to 1e-3 in log alpha).
    """

    def glm(alpha, **kw):
        return sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit(**kw)

    coarse = minimize_scalar(
        lambda la: -glm(np.exp(la)).llf, bounds=(np.log(1e-4), np.log(1.0)), method="bounded", options={"xatol": 1e-3}
    )
    start = glm(np.exp(coarse.x))
    nb = NegativeBinomial(y, X, offset=offset, loglike_method="nb2").fit(
        start_params=np.r_[start.params.to_numpy(), np.exp(coarse.x)], method="newton", tol=1e-13, maxiter=200, disp=0
    )
    assert nb.mle_retvals["converged"]
    alpha = float(nb.params.iloc[-1])
    return alpha, glm(alpha, tol=1e-14, maxiter=200)


@pytest.mark.parametrize("r", [0, 37, 74, 111, 148, 199])
def test_batched_fit_equals_statsmodels_to_1e8(stack, r):
    X, offset, Y, fit = stack
    assert fit.n_failed == 0
    alpha, glm = _statsmodels_reference(X, offset, Y[r])
    assert fit.alpha[r] == pytest.approx(alpha, rel=1e-8)
    np.testing.assert_allclose(fit.params[r], glm.params.to_numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fit.bse[r], glm.bse.to_numpy(), rtol=1e-8)
    assert fit.llf[r] == pytest.approx(glm.llf, rel=1e-10)


def test_batched_fit_equals_the_package_single_fit(stack, base):
    X, offset, Y, fit = stack
    for r in (0, 100, 199):
        single = models.fit_count(base.assign(y=Y[r]), "y")
        assert list(single.params.index) == list(X.columns)  # same design, same column order
        assert single.alpha == pytest.approx(fit.alpha[r], rel=1e-8)
        np.testing.assert_allclose(single.params.to_numpy(), fit.params[r], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(single.result.bse.to_numpy(), fit.bse[r], rtol=1e-8)  # glm.nb's (ML dispersion)


def test_batched_poisson_equals_statsmodels(stack):
    X, offset, Y, _ = stack
    fit = models.fit_poisson_batch(X.to_numpy(), Y[:5], offset)
    for r in range(5):
        glm = sm.GLM(Y[r], X, family=sm.families.Poisson(), offset=offset).fit(tol=1e-14)
        np.testing.assert_allclose(fit.params[r], glm.params.to_numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fit.bse[r], glm.bse.to_numpy(), rtol=1e-8)
        assert fit.llf[r] == pytest.approx(glm.llf, rel=1e-12)


def test_profile_limits_are_where_the_deviance_rises_by_the_chi2_quantile(stack):
    # an independent check with statsmodels: refit without column j, offset by b * x_j, alpha fixed
    X, offset, Y, fit = stack
    cols = [1, 4]
    low, high, ok = models.profile_intervals_batch(X.to_numpy(), Y[:4], offset, _rows(fit, slice(0, 4)), cols)
    assert ok.all()
    for r in range(4):
        for k, j in enumerate(cols):
            rest = X.drop(columns=X.columns[j])
            for b in (low[r, k], high[r, k]):
                glm = sm.GLM(
                    Y[r],
                    rest,
                    family=sm.families.NegativeBinomial(alpha=fit.alpha[r]),
                    offset=offset + b * X.iloc[:, j].to_numpy(),
                ).fit(tol=1e-14, maxiter=200)
                assert 2 * (fit.llf[r] - glm.llf) == pytest.approx(1.959963984540054**2, rel=1e-7)
            # the likelihood interval is not the Wald interval, but close to it with counts this large
            assert low[r, k] < fit.params[r, j] < high[r, k]
            assert low[r, k] == pytest.approx(fit.params[r, j] - 1.96 * fit.bse[r, j], abs=0.2 * fit.bse[r, j])


def _rows(fit, rows):
    return models.BatchFit(
        fit.params[rows], fit.bse[rows], fit.alpha[rows], fit.llf[rows], fit.mu[rows], fit.status[rows]
    )


def _rscript_or_skip():
    found = shutil.which("Rscript")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the R comparison: Rscript not found")
        pytest.skip("Rscript not installed")
    return found


def test_profile_intervals_equal_r_confint_on_glm_nb(stack, base, tmp_path):
    rscript = _rscript_or_skip()
    X, offset, Y, fit = stack
    r = 5
    base.assign(y=Y[r]).to_csv(tmp_path / "frame.csv", index=False)
    (tmp_path / "fit.R").write_text(
        "suppressMessages(library(MASS))\n"
        'd <- read.csv("frame.csv")\n'
        'd$model <- relevel(factor(d$model), ref = "5"); d$kommunegruppe <- factor(d$kommunegruppe)\n'
        "f <- glm.nb(y ~ model + kommunegruppe + merged_2007 + offset(log(population)), data = d,\n"
        "            control = glm.control(epsilon = 1e-12, maxit = 100))\n"
        "ci <- suppressWarnings(suppressMessages(confint(f, parm = 2:5)))\n"
        'write.csv(data.frame(alpha = 1 / f$theta, low = ci[, 1], high = ci[, 2]), "ci.csv", row.names = FALSE)\n'
    )
    subprocess.run([rscript, "fit.R"], cwd=tmp_path, check=True, capture_output=True)
    r_ci = pd.read_csv(tmp_path / "ci.csv")
    cols = [list(X.columns).index(simulation.model_term(m)) for m in (1, 2, 3, 4)]
    low, high, ok = models.profile_intervals_batch(X.to_numpy(), Y[r], offset, _rows(fit, slice(r, r + 1)), cols)
    assert ok.all()
    assert fit.alpha[r] == pytest.approx(r_ci["alpha"].iloc[0], rel=1e-8)
    # R interpolates a spline through a grid of profile points; its limits are good to about 1e-6
    np.testing.assert_allclose(low[0], r_ci["low"], atol=1e-5)
    np.testing.assert_allclose(high[0], r_ci["high"], atol=1e-5)


def test_profiling_alpha_too_widens_the_interval_a_little(stack):
    X, offset, Y, fit = stack
    sub = _rows(fit, slice(0, 3))
    lo_fixed, hi_fixed, _ = models.profile_intervals_batch(X.to_numpy(), Y[:3], offset, sub, [1])
    lo, hi, ok = models.profile_intervals_batch(X.to_numpy(), Y[:3], offset, sub, [1], refit_alpha=True)
    assert ok.all()
    width, width_fixed = hi - lo, hi_fixed - lo_fixed
    assert (width > width_fixed).all() and (width < 1.1 * width_fixed).all()


def test_a_fit_that_does_not_converge_is_flagged(base):
    # counts equal to their mean are underdispersed: theta runs to infinity, as glm.nb's iteration limit
    X, offset = simulation.count_design(base)
    mu = base["population"].to_numpy() * 5.0
    Y = np.vstack([np.round(mu), simulation.simulate_nb(mu, 0.04, np.random.default_rng(1), 1)[0]])
    fit = models.fit_negbin_batch(X.to_numpy(), Y, offset)
    assert fit.status.tolist() == [2, 0]
    assert fit.n_failed == 1 and fit.converged.tolist() == [False, True]


def test_coverage_study_counts_fits_that_did_not_converge(base, monkeypatch):
    real = models.fit_negbin_batch

    def every_tenth_fails(X, Y, offset, **kw):
        fit = real(X, Y, offset, **kw)
        fit.status[::10] = 3
        return fit

    monkeypatch.setattr(models.batch, "fit_negbin_batch", every_tenth_fails)
    study = simulation.coverage_study(base, TRUTH, alpha=0.04, rate=5.0, reps=100, seed=5, chunk=50).terms
    assert (study["reps"] == 100).all() and (study["used"] == 90).all() and (study["not_converged"] == 10).all()
    curve = simulation.power_curve(base, [1.0, 1.2], alpha=0.04, rate=5.0, reps=40, seed=5, chunk=20).curve
    assert curve["used"].tolist() == [36, 36] and curve["not_converged"].tolist() == [4, 4]


def test_results_are_bit_identical_whatever_the_number_of_workers(base):
    kw = dict(alpha=0.04, rate=5.0, reps=60, seed=11, chunk=20)
    one = simulation.coverage_study(base, TRUTH, workers=1, **kw).terms
    two = simulation.coverage_study(base, TRUTH, workers=2, **kw).terms
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    p1 = simulation.power_curve(base, [1.0, 1.1], workers=1, **kw).curve
    p2 = simulation.power_curve(base, [1.0, 1.1], workers=2, **kw).curve
    pd.testing.assert_frame_equal(p1, p2, check_exact=True)
    # a different seed gives different datasets
    assert not simulation.coverage_study(base, TRUTH, workers=1, **(kw | {"seed": 12})).terms.equals(one)


def test_chunks_depend_only_on_seed_and_reps():
    a = simulation.chunks(1001, 3, chunk=250)
    assert [n for _, n in a] == [250, 250, 250, 250, 1]
    b = simulation.chunks(1001, 3, chunk=250)
    assert [s.generate_state(2).tolist() for s, _ in a] == [s.generate_state(2).tolist() for s, _ in b]
    with pytest.raises(ValueError, match="at least 1"):
        simulation.chunks(0, 3)


@pytest.mark.slow
def test_coverage_with_2000_repetitions_and_its_monte_carlo_error(base):
    study = simulation.coverage_study(base, TRUTH, alpha=0.04, rate=5.0, reps=2000, seed=12).terms
    assert (study["used"] == 2000).all()
    for kind in ("wald", "profile"):
        p = study[f"coverage_{kind}"]
        np.testing.assert_allclose(study[f"coverage_{kind}_mc_se"], np.sqrt(p * (1 - p) / 2000))
        # slightly below 95 % (the estimated dispersion is biased low with 98 kommuner), never far off
        assert p.between(0.915, 0.965).all(), study
    assert (study["bias"].abs() < 3.5 * study["bias_mc_se"]).all(), study
    best = simulation.better_interval(study)
    assert best.better in ("wald", "profile") and best.difference_mc_se > 0


@pytest.mark.slow
def test_power_is_the_test_size_without_effect_and_grows(base):
    curve = simulation.power_curve(base, [1.0, 1.1, 1.3], alpha=0.04, rate=5.0, reps=1000, seed=4).curve
    assert curve.loc[0, "power"] == pytest.approx(0.05, abs=0.03)
    assert curve["power"].is_monotonic_increasing
    assert curve.loc[2, "power"] > 0.95
    np.testing.assert_allclose(curve["mc_se"], np.sqrt(curve["power"] * (1 - curve["power"]) / 1000))


def test_minimal_detectable_effect_has_a_monte_carlo_error():
    curve = pd.DataFrame({"irr": [1.0, 1.1, 1.2], "power": [0.05, 0.6, 1.0], "mc_se": [0.01, 0.02, 0.0]})
    # x* = x0 + (0.8 - y0) / (y1 - y0) * 0.1 at (1.1, 0.6), (1.2, 1.0): dx*/dy0 = -0.1 (1.0 - 0.8) / 0.4², dx*/dy1 =
    # -0.1 (0.8 - 0.6) / 0.4²
    expected = np.hypot(0.125 * 0.02, 0.125 * 0.0)
    assert simulation.minimal_detectable_mc_se(curve) == pytest.approx(expected)
    assert simulation.minimal_detectable_mc_se(curve.iloc[:2]) is None


def test_profile_irr_table_of_a_single_fit_matches_the_batched_intervals(stack, base):
    X, offset, Y, _ = stack
    single = models.fit_count(base.assign(y=Y[7]), "y")
    table = models.profile_irr_table(single)
    assert list(table.index) == [f"model {m} ({SHORT_NAMES[m]})" for m in (1, 2, 3, 4)]
    assert table["profile_converged"].all()
    np.testing.assert_allclose(table["irr"], np.exp(single.params.iloc[1:5]))
    np.testing.assert_allclose(
        np.log(table["wald_high"]), single.params.iloc[1:5] + 1.959963984540054 * single.result.bse.iloc[1:5]
    )
    # the same limits as the batched engine at the single fit's dispersion
    sub = models.fit_negbin_batch(X.to_numpy(), Y[7], offset)
    low, high, _ = models.profile_intervals_batch(X.to_numpy(), Y[7], offset, sub, [1, 2, 3, 4])
    np.testing.assert_allclose(np.log(table["profile_low"]), low[0], atol=1e-8)
    np.testing.assert_allclose(np.log(table["profile_high"]), high[0], atol=1e-8)
    assert (table["profile_low"] < table["irr"]).all() and (table["irr"] < table["profile_high"]).all()


def test_better_interval_needs_more_than_twice_the_monte_carlo_error():
    study = pd.DataFrame(
        {"coverage_wald": [0.93, 0.94], "coverage_profile": [0.94, 0.95], "profile_minus_wald_mc_se": [0.001, 0.001]}
    )
    best = simulation.better_interval(study)
    assert best.better == "profile" and best.clear
    assert best.difference == pytest.approx(0.01) and best.difference_mc_se == pytest.approx(np.sqrt(2e-6) / 2)
    wald_better = study.assign(coverage_profile=[0.92, 0.93])
    assert simulation.better_interval(wald_better).better == "wald"
    tie = study.assign(coverage_profile=[0.9305, 0.94])
    best = simulation.better_interval(tie)
    assert best.better == "profile" and not best.clear
    assert "cover equally well" in simulation.interval_verdict(best)


# --- the reported interval: Cox-Reid dispersion, t on n - p df ---------------------------------------------------


def _statsmodels_adjusted_loglik(X, offset, y, alpha):
    """The Cox-Reid adjusted profile likelihood by statsmodels: its GLM at ``alpha``, minus half the log
    determinant of X' W X with W = mu / (1 + alpha mu) written out in numpy (independent of the batched engine)."""
    glm = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit(tol=1e-14, maxiter=200)
    mu = glm.fittedvalues.to_numpy()
    Xn = np.asarray(X, dtype=float)
    return glm.llf - 0.5 * np.linalg.slogdet(Xn.T @ ((mu / (1 + alpha * mu))[:, None] * Xn))[1]


@pytest.mark.parametrize("r", [0, 88, 199])
def test_cox_reid_dispersion_maximises_the_adjusted_profile_likelihood_of_statsmodels(stack, r):
    X, offset, Y, fit = stack
    cr = models.cox_reid_batch(X.to_numpy(), Y, offset, fit)
    assert cr.converged.all() and cr.df == len(X) - X.shape[1]
    a = cr.alpha[r]
    # the maximum: the derivative in log(alpha) vanishes (central differences, step 1e-3: about 2e-5 here, where
    # 10 % away the function is 0.2 lower) and the function falls on both sides
    h = 1e-3
    f = {d: _statsmodels_adjusted_loglik(X, offset, Y[r], a * np.exp(d)) for d in (-0.1, -h, 0.0, h, 0.1)}
    assert abs((f[h] - f[-h]) / (2 * h)) < 1e-4 and f[0.0] > max(f[-0.1], f[0.1], f[h], f[-h])
    # and the batched adjusted likelihood is statsmodels' to 1e-10
    assert models.cox_reid_loglik(X.to_numpy(), Y[r], offset, a)[0] == pytest.approx(f[0.0], rel=1e-10)
    # it is the ML dispersion moved up: with counts this large, by about n / (n - p) (the REML factor)
    n, p = X.shape
    assert a / fit.alpha[r] == pytest.approx(n / (n - p), rel=0.01)


def test_the_reported_interval_is_the_ml_estimate_with_the_cox_reid_covariance_and_t(stack, base):
    """NegBinFit's bse, p-values and intervals by hand: (X' W X)^-1 at the ML means with W at the Cox-Reid
    dispersion, t on n - p df (scipy); its coefficients stay glm.nb's."""
    X, offset, Y, fit = stack
    r = 42
    single = models.fit_count(base.assign(y=Y[r]), "y")
    cr = models.cox_reid_batch(X.to_numpy(), Y[r], offset, fit_one := _rows(fit, slice(r, r + 1)))
    assert single.alpha_cox_reid == pytest.approx(cr.alpha[0], rel=1e-8) and single.cox_reid_converged
    assert single.alpha_cox_reid > single.alpha
    Xn = X.to_numpy()
    mu = fit_one.mu[0]
    w = mu / (1 + single.alpha_cox_reid * mu)
    se = np.sqrt(np.diag(np.linalg.inv(Xn.T @ (w[:, None] * Xn))))
    df = len(Xn) - Xn.shape[1]
    np.testing.assert_allclose(single.params.to_numpy(), fit.params[r], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(single.bse.to_numpy(), se, rtol=1e-7)
    assert single.df_resid == df == 88
    tval = single.params.to_numpy() / se
    np.testing.assert_allclose(single.pvalues.to_numpy(), 2 * stats.t.sf(np.abs(tval), df), rtol=1e-6)
    q = stats.t.ppf(0.975, df)
    np.testing.assert_allclose(single.conf_int()[1].to_numpy(), single.params.to_numpy() + q * se, rtol=1e-7)
    # wider than glm.nb's own z interval, by the dispersion ratio and t against z
    ml_width = np.diff(single.result.conf_int().to_numpy(), axis=1)[:, 0]
    assert (np.diff(single.conf_int().to_numpy(), axis=1)[:, 0] > ml_width).all()
    assert single.reference.startswith(f"t on {df} df") and single.covariance == "model-based (inverse information)"


def test_check_reported_names_terms_outside_the_target_and_pairs_the_others():
    rng = np.random.default_rng(0)
    n = 4000
    # per dataset and term: Wald covers 92 %, the reported one 95 % except term 2 (93 %)
    wald = rng.random((n, 3)) < 0.92
    reported = wald | (rng.random((n, 3)) < np.array([0.375, 0.125, 0.375]))
    terms = pd.DataFrame(
        {"coverage_cox_reid_t": reported.mean(axis=0), "coverage_wald": wald.mean(axis=0)}, index=[1, 2, 3]
    )
    check = simulation.check_reported(terms, {"wald": wald, "cox_reid_t": reported})
    assert check.reported == "cox_reid_t" and check.closest == "cox_reid_t"
    assert list(check.outside_target) == [2] and check.outside_target[2] == pytest.approx(reported[:, 1].mean() - 0.94)
    assert check.outside_target[2] < 0
    dist = np.mean(np.abs(wald.mean(axis=0) - 0.95)) - np.mean(np.abs(reported.mean(axis=0) - 0.95))
    assert check.advantage["wald"] == pytest.approx(dist)
    # paired: the per-dataset difference of the two (both below 95 %: signs -1), averaged over the terms
    d = (-wald.astype(float) + reported.astype(float)).mean(axis=1)
    assert check.advantage_mc_se["wald"] == pytest.approx(d.std(ddof=1) / np.sqrt(n))
    text = simulation.check_in_words(check)
    assert "outside it: model 2 -" in text and "Cox-Reid adjusted profile likelihood" in text


@pytest.mark.slow
def test_the_reported_interval_covers_95_percent_where_glm_nb_falls_short(base):
    study = simulation.coverage_study(base, TRUTH, alpha=0.04, rate=5.0, reps=2000, seed=12)
    t = study.terms
    assert (t["used"] == 2000).all()
    p = t["coverage_cox_reid_t"]
    np.testing.assert_allclose(t["coverage_cox_reid_t_mc_se"], np.sqrt(p * (1 - p) / 2000))
    assert p.between(0.94, 0.96).all(), t
    # paired with the profile interval on the same datasets: higher in every term, beyond 3 MC SEs
    assert (t["cox_reid_t_minus_profile"] > 3 * t["cox_reid_t_minus_profile_mc_se"]).all(), t
    assert study.check.closest == "cox_reid_t" and not study.check.outside_target
    assert study.check.advantage["wald"] > 2 * study.check.advantage_mc_se["wald"]
    n, p_ = 98, 10
    assert study.dispersion_ratio == pytest.approx(n / (n - p_), rel=0.01)
