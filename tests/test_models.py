"""Statistical helpers: hand-computable cases, and recovery of known effects by simulation."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy.special import expit

from helpers.analysis import models
from helpers.core.errors import DataError


def test_score_follows_ordering_and_drops_non_response():
    s = models.score(pd.Series([5, 1, 2, 3, 4, 0]), "5<1<3<2<4")
    assert s.tolist()[:5] == [0, 1, 3, 2, 4]
    assert np.isnan(s.iloc[5])


def test_poisson_irr_equals_ratio_of_rates_by_hand():
    # With one categorical regressor the Poisson MLE of each group's rate is sum(y) / sum(exposure).
    df = pd.DataFrame(
        {
            "model": [5, 5, 5, 3, 3, 3],
            "population": [1000, 2000, 3000, 1500, 2500, 1000],
            "y": [50, 90, 160, 100, 150, 70],
        }
    )
    res = models.fit_count(df, "y", family="poisson", controls=())
    irr = models.irr_table(res).loc["model 3 (Vi arbejder sammen)", "irr"]
    by_hand = (320 / 5000) / (300 / 6000)
    assert irr == pytest.approx(by_hand, rel=1e-9)


def test_negbin_recovers_dispersion_and_effects(base):
    rng = np.random.default_rng(11)
    big = pd.concat([base] * 10, ignore_index=True)  # 980 units: tight estimates
    truth = {1: 1.05, 2: 1.10, 3: 1.20, 4: 1.30}
    big["visits"] = models.simulate_counts(big, 6.0, truth, 0.04, rng)
    res = models.fit_count(big, "visits", controls=())
    assert res.alpha == pytest.approx(0.04, rel=0.15)
    t = models.irr_table(res)
    for m, irr in truth.items():
        row = t.filter(like=f"model {m}", axis=0).iloc[0]
        assert abs(row["coef"] - np.log(irr)) < 3 * row["se"], (m, row["irr"])


def test_hc3_equals_ols_hc3_for_a_gaussian_glm(base):
    # identity link, constant variance: W = I, the GLM leverages are the OLS ones, so the GLM HC3
    # must equal statsmodels' OLS HC3, which is the true HC3 (residuals / (1 - h)^2)
    rng = np.random.default_rng(8)
    df = base.assign(y=rng.normal(size=98) * (1 + (base["model"] == 5)) + 0.1 * base["model"])
    ols = smf.ols("y ~ C(model) + merged_2007", data=df).fit(cov_type="HC3")
    glm = smf.glm("y ~ C(model) + merged_2007", data=df, family=sm.families.Gaussian()).fit()
    assert np.allclose(models.hc3_cov(glm), ols.cov_params().to_numpy(), rtol=1e-10, atol=0)


def test_poisson_hc3_by_hand_and_not_hc0(base):
    rng = np.random.default_rng(9)
    df = base.assign(y=rng.poisson(base["population"] * 0.01 * np.where(base["model"] == 5, 1.0, 1.1)))
    res = models.fit_count(df, "y", family="poisson", controls=())
    assert res.cov_type == "HC3" and "HC3" in models.covariance_label(res)
    # by hand, one row at a time: w_i = mu_i, h_i = w_i x_i' (X'WX)^-1 x_i, meat = sum x_i x_i' (y_i - mu_i)^2 / (1 -
    # h_i)^2
    X, y, mu = res.model.exog, res.model.endog, res.fittedvalues.to_numpy()
    bread = np.linalg.inv(sum(mu[i] * np.outer(X[i], X[i]) for i in range(len(y))))
    h = [mu[i] * X[i] @ bread @ X[i] for i in range(len(y))]
    meat = sum(np.outer(X[i], X[i]) * (y[i] - mu[i]) ** 2 / (1 - h[i]) ** 2 for i in range(len(y)))
    assert np.allclose(res.cov_params().to_numpy(), bread @ meat @ bread, rtol=1e-10, atol=0)
    assert np.allclose(res.bse.to_numpy(), np.sqrt(np.diag(bread @ meat @ bread)), rtol=1e-10)
    # and larger than the HC0 statsmodels computes when asked for "HC3"
    hc0 = (
        smf.glm(
            "y ~ C(model, Treatment(reference=5))", data=df, family=sm.families.Poisson(), exposure=df["population"]
        )
        .fit(cov_type="HC3")
        .bse.to_numpy()
    )
    assert (res.bse.to_numpy() > hc0).all()


def test_negbin_theta_is_the_profile_maximum(base):
    rng = np.random.default_rng(13)
    df = base.assign(visits=models.simulate_counts(base, 6.0, {1: 1.1, 3: 1.2}, 0.04, rng))
    res = models.fit_count(df, "visits", controls=())
    assert res.theta_converged and res.theta == pytest.approx(1 / res.alpha)
    score, info = models._theta_score_info(res.model.endog, res.fittedvalues.to_numpy(), res.theta)
    assert abs(score) * res.theta < 1e-6 and info > 0  # profile score zero, curvature negative

    def profile(theta):  # refit the means at a fixed theta: the profile log-likelihood
        fam = sm.families.NegativeBinomial(alpha=1 / theta)
        return (
            smf.glm("visits ~ C(model, Treatment(reference=5))", data=df, family=fam, exposure=df["population"])
            .fit(tol=1e-13)
            .llf
        )

    here = profile(res.theta)
    assert here == pytest.approx(res.llf, rel=1e-11)  # IRLS runs end ~1e-12 apart at the same coefficients (rounding)
    assert here > profile(res.theta * (1 + 1e-3)) and here > profile(res.theta * (1 - 1e-3))


def test_every_glm_of_a_count_fit_converges_on_its_coefficients(base, monkeypatch):
    """IRLS stops when the coefficients settle (to 1e-12), in a handful of steps. With a 1e-12 criterion on
    the deviance it sat at rounding noise and ran to maxiter (200 steps, ``converged`` False) every time."""
    rng = np.random.default_rng(13)
    df = base.assign(visits=models.simulate_counts(base, 6.0, {1: 1.1, 3: 1.2}, 0.04, rng))
    fits = []
    real_fit = sm.GLM.fit
    monkeypatch.setattr(sm.GLM, "fit", lambda self, *a, **k: fits.append(real_fit(self, *a, **k)) or fits[-1])
    res = models.fit_count(df, "visits")
    assert len(fits) >= 3 and res is fits[-1]  # the Poisson start, the Newton refits, the final fit
    assert all(f.converged and f.fit_history["iteration"] < 40 for f in fits), [
        f.fit_history["iteration"] for f in fits
    ]
    # the same estimates as IRLS run to 200 steps at the same dispersion
    long = real_fit(
        sm.GLM(
            res.model.endog,
            res.model.exog,
            family=sm.families.NegativeBinomial(alpha=res.alpha),
            exposure=np.exp(res.model.exposure),
        ),
        tol=1e-13,
        maxiter=200,
    )
    np.testing.assert_allclose(res.params, long.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.bse, long.bse, rtol=1e-12)


def test_negbin_without_overdispersion_warns(base):
    rng = np.random.default_rng(14)
    df = base.assign(visits=rng.poisson(base["population"] * 5.0))  # Poisson: theta runs to infinity
    with pytest.warns(RuntimeWarning, match="dispersion did not converge"):
        res = models.fit_count(df, "visits", controls=())
    assert not res.theta_converged and res.theta > 1e6  # alpha near 0: the Poisson limit


def test_overdispersion_is_visible_in_poisson_fit(base):
    rng = np.random.default_rng(3)
    df = base.assign(visits=models.simulate_counts(base, 6.0, {}, 0.05, rng))
    assert models.dispersion(models.fit_count(df, "visits", family="poisson")) > 100
    nb = models.fit_count(df, "visits")
    assert models.dispersion(nb) == pytest.approx(1.0, abs=0.5)


def test_change_model_by_hand():
    # d_log_rate = 0.02 + 0.1 * d_score exactly: OLS on first differences returns it.
    a = pd.DataFrame({"kommunekode": [1, 2, 3, 4], "model": [5, 5, 1, 2], "rate_per_1000": [100.0] * 4})
    b_models = [5, 1, 3, 2]
    d_score = models.score(pd.Series(b_models)) - models.score(a["model"])
    b = pd.DataFrame(
        {
            "kommunekode": [1, 2, 3, 4],
            "model": b_models,
            "kommunegruppe": 1,
            "merged_2007": False,
            "rate_per_1000": 100.0 * np.exp(0.02 + 0.1 * d_score),
        }
    )
    ch = models.change_frame(a, b)
    assert ch["d_score"].tolist() == [0, 1, 2, 0]
    res = models.fit_change(ch)
    assert res.params["d_score"] == pytest.approx(0.1)
    assert res.params["Intercept"] == pytest.approx(0.02)


def test_ordinal_thresholds_reproduce_predicted_probabilities(base):
    rng = np.random.default_rng(5)
    df = base.copy()
    latent = 0.8 * (df["log_population"] - df["log_population"].mean()) + rng.logistic(size=98)
    df["model"] = pd.cut(latent, [-np.inf, -0.5, 0.3, 1.0, 1.8, np.inf], labels=[5, 1, 2, 3, 4]).astype(int)
    res = models.fit_ordinal(df)
    cuts = models.thresholds(res)
    assert cuts.is_monotonic_increasing
    assert list(cuts.index) == ["5|1", "1|2", "2|3", "3|4"]
    xb = models.ordinal_design(df).to_numpy() @ res.params.iloc[: -len(cuts)].to_numpy()
    p_lowest = expit(cuts.iloc[0] - xb)  # P(model 5) = F(cut_1 - x'b)
    assert np.allclose(p_lowest, np.asarray(res.predict())[:, 0])
    assert res.params["log_population_vs_50000"] > 0
    assert res.converged and res.max_abs_score < 1e-8


def test_ordinal_score_is_zero_and_covariance_is_the_inverse_information(base):
    from statsmodels.tools.numdiff import approx_fprime, approx_hess

    rng = np.random.default_rng(6)
    df = base.copy()
    latent = 0.8 * (df["log_population"] - df["log_population"].mean()) + rng.logistic(size=98)
    df["model"] = pd.cut(latent, [-np.inf, -0.5, 0.3, 1.0, 1.8, np.inf], labels=[5, 1, 2, 3, 4]).astype(int)
    res = models.fit_ordinal(df)
    # independent of the closed form: statsmodels' own log-likelihood, differentiated numerically
    assert np.abs(approx_fprime(res.params.to_numpy(), res.model.loglike, centered=True)).max() < 1e-5
    numeric = np.linalg.inv(-approx_hess(res.params.to_numpy(), res.model.loglike))
    assert np.allclose(res.cov_params().to_numpy(), numeric, rtol=1e-4)
    cuts = models.cut_points(res)
    assert np.allclose(cuts["cut point"], models.thresholds(res))
    assert np.allclose(cuts["se"], np.sqrt(np.diag(res.polr_cov))[-4:], rtol=1e-10)


def test_ordinal_not_converged_warns(base, monkeypatch):
    rng = np.random.default_rng(6)
    latent = 0.8 * (base["log_population"] - base["log_population"].mean()) + rng.logistic(size=98)
    df = base.assign(model=pd.cut(latent, [-np.inf, -0.5, 0.3, 1.0, 1.8, np.inf], labels=[5, 1, 2, 3, 4]).astype(int))
    monkeypatch.setattr(models, "ORDINAL_GRADIENT_TOL", 0.0)  # no score can pass: the fit must say so
    with pytest.warns(RuntimeWarning, match="ordinal logit not converged"):
        res = models.fit_ordinal(df)
    # the fit is declared unconverged by the tolerance alone: its score at the solution is still the real, tiny one
    assert not res.converged
    assert 0 < res.max_abs_score < 1e-6


def test_reporting_failures_leave_the_frame_only_for_their_outcome():
    survey = pd.DataFrame({"kommunekode": [101, 270, 316], "model": [3, 2, 5]})
    panel = pd.DataFrame(
        {
            "kommunekode": [101, 270, 316],
            "year": 2012,
            "population": [1000, 2000, 3000],
            "loans": [10.0, 0.0, 30.0],
            "visits": [5.0, 6.0, 7.0],
            "kommunegruppe": 1,
            "regionsnavn": "x",
            "merged_2007": False,
            "outlier": [False, True, True],
            "quality_flag": pd.Series([pd.NA, "reporting_failure", "level_shift"], dtype="str"),
        }
    )
    loans = models.analysis_frame(survey, panel, 2012, "loans")
    assert loans["reporting_failure"].tolist() == [False, True, False]  # a level shift stays in
    visits = models.analysis_frame(survey, panel, 2012, "visits")
    assert not visits["reporting_failure"].any()  # the flags describe the loans values


def test_analysis_frame_drops_non_response_and_fano():
    survey = pd.DataFrame({"kommunekode": [101, 147, 561, 563], "model": [3, 0, 2, 2]})
    panel = pd.DataFrame(
        {
            "kommunekode": [101, 147, 561],
            "year": 2012,
            "population": [1000, 2000, 3000],
            "visits": [10, 20, 30],
            "kommunegruppe": 1,
            "regionsnavn": "x",
            "merged_2007": False,
        }
    )
    df = models.analysis_frame(survey, panel, 2012, "visits")
    assert df["kommunekode"].tolist() == [101, 561]
    assert df.attrs["dropped"] == [563]
    with pytest.raises(ValueError, match="accepted"):
        models.analysis_frame(survey, panel, 2012, "nonsense")
    with pytest.raises(Exception, match="no usage data for 2030"):
        models.analysis_frame(survey, panel, 2030, "visits")
    # a year in the panel without the outcome (the synthetic visits end in 2015): say which years have it
    later = panel.assign(year=2018, visits=np.nan, visits_source="synthetic")
    with pytest.raises(DataError, match=r"no visits values for usage year 2018 \(source: synthetic\).*\[2012\]"):
        models.analysis_frame(survey, pd.concat([panel.assign(visits_source="synthetic"), later]), 2018, "visits")


def test_minimal_detectable_interpolates():
    curve = pd.DataFrame({"irr": [1.0, 1.1, 1.2], "power": [0.05, 0.6, 1.0]})
    assert models.minimal_detectable(curve) == pytest.approx(1.1 + 0.2 / 0.4 * 0.1)
    assert models.minimal_detectable(curve.iloc[:2]) is None


def test_irr_in_words_marks_synthetic():
    row = pd.Series({"irr": 1.08, "irr_low": 1.02, "irr_high": 1.15}, name="model 3 (Vi arbejder sammen)")
    text = models.irr_in_words(row, "visits", synthetic=True)
    assert text.startswith("[synthetic example, not a finding]")
    assert "8.0 % more visits" in text and "+2.0 %" in text and "+15.0 %" in text


def test_published_fit_summary_labels_each_covariance_truly(base):
    """What notebook 03 writes under "standard errors" (table and results JSON): HC3 only where it is
    the leverage-adjusted HC3 (equal to a hand HC3 in test_poisson_hc3_by_hand_and_not_hc0), model-based
    for the negative binomial fits."""
    rng = np.random.default_rng(21)
    df = base.assign(visits=models.simulate_counts(base, 6.0, {1: 1.1, 3: 1.2}, 0.04, rng))
    _, fits = models.round_models(df, "visits")
    summary = models.fit_summary(fits)
    assert summary.loc["Poisson, HC3", "standard errors"].startswith("HC3 (leverage-adjusted")
    assert np.allclose(fits["Poisson, HC3"].cov_params().to_numpy(), models.hc3_cov(fits["Poisson, HC3"]), rtol=1e-12)
    for name in ("negative binomial", "negative binomial, score"):
        assert summary.loc[name, "standard errors"] == "model-based (inverse information)"
