"""Statistical helpers: hand-computable cases, and recovery of known effects by simulation."""

import warnings
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from scipy.special import expit
from survey_raw import cleaned_rounds

from helpers.analysis import models, simulation
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
    big["visits"] = simulation.simulate_counts(big, 6.0, truth, 0.04, rng)
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
    df = base.assign(visits=simulation.simulate_counts(base, 6.0, {1: 1.1, 3: 1.2}, 0.04, rng))
    res = models.fit_count(df, "visits", controls=())
    assert res.theta_converged and res.theta == pytest.approx(1 / res.alpha)
    score, info = models.count._theta_score_info(res.model.endog, res.fittedvalues.to_numpy(), res.theta)
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
    df = base.assign(visits=simulation.simulate_counts(base, 6.0, {1: 1.1, 3: 1.2}, 0.04, rng))
    fits = []
    real_fit = sm.GLM.fit
    monkeypatch.setattr(sm.GLM, "fit", lambda self, *a, **k: fits.append(real_fit(self, *a, **k)) or fits[-1])
    res = models.fit_count(df, "visits")
    assert len(fits) >= 3 and res.result is fits[-1]  # the Poisson start, the Newton refits, the final fit
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
    np.testing.assert_allclose(res.result.bse, long.bse, rtol=1e-12)  # glm.nb's own (ML dispersion)


def test_negbin_without_overdispersion_warns(base):
    rng = np.random.default_rng(14)
    df = base.assign(visits=rng.poisson(base["population"] * 5.0))  # Poisson: theta runs to infinity
    with pytest.warns(RuntimeWarning, match="dispersion did not converge"):
        res = models.fit_count(df, "visits", controls=())
    assert not res.theta_converged and res.theta > 1e6  # alpha near 0: the Poisson limit


def test_overdispersion_is_visible_in_poisson_fit(base):
    rng = np.random.default_rng(3)
    df = base.assign(visits=simulation.simulate_counts(base, 6.0, {}, 0.05, rng))
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


def _ordinal_sample(base, seed: int) -> pd.DataFrame:
    """The design with models drawn from an ordered logit in log population (order 5 < 1 < 2 < 3 < 4)."""
    rng = np.random.default_rng(seed)
    df = base.copy()
    latent = 0.8 * (df["log_population"] - df["log_population"].mean()) + rng.logistic(size=98)
    df["model"] = pd.cut(latent, [-np.inf, -0.5, 0.3, 1.0, 1.8, np.inf], labels=[5, 1, 2, 3, 4]).astype(int)
    return df


def test_ordinal_thresholds_reproduce_predicted_probabilities(base):
    df = _ordinal_sample(base, seed=5)
    res = models.fit_ordinal(df)
    cuts = models.thresholds(res)
    assert cuts.is_monotonic_increasing
    assert list(cuts.index) == ["5|1", "1|2", "2|3", "3|4"]
    xb = models.ordinal_design(df).to_numpy() @ res.params.iloc[: -len(cuts)].to_numpy()
    p_lowest = expit(cuts.iloc[0] - xb)  # P(model 5) = F(cut_1 - x'b)
    assert np.allclose(p_lowest, np.asarray(res.result.predict())[:, 0])
    assert res.params["log_population_vs_50000"] > 0
    assert res.converged and res.max_abs_score < 1e-8


def test_ordinal_score_is_zero_and_covariance_is_the_inverse_information(base):
    from statsmodels.tools.numdiff import approx_fprime, approx_hess

    df = _ordinal_sample(base, seed=6)
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
    monkeypatch.setattr(models.ordinal, "ORDINAL_GRADIENT_TOL", 0.0)  # no score can pass: the fit must say so
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
    loans = models.analysis_frame(survey, panel, 2012, "loans").frame
    assert loans["reporting_failure"].tolist() == [False, True, False]  # a level shift stays in
    visits = models.analysis_frame(survey, panel, 2012, "visits").frame
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
    joined = models.analysis_frame(survey, panel, 2012, "visits")
    df = joined.frame
    assert df["kommunekode"].tolist() == [101, 561]
    assert joined.dropped == [563]
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
    assert simulation.minimal_detectable(curve) == pytest.approx(1.1 + 0.2 / 0.4 * 0.1)
    assert simulation.minimal_detectable(curve.iloc[:2]) is None


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
    df = base.assign(visits=simulation.simulate_counts(base, 6.0, {1: 1.1, 3: 1.2}, 0.04, rng))
    fits = models.round_models(df, "visits").fits
    summary = models.fit_summary(fits)
    assert summary.loc["Poisson, HC3", "standard errors"].startswith("HC3 (leverage-adjusted")
    assert np.allclose(fits["Poisson, HC3"].cov_params().to_numpy(), models.hc3_cov(fits["Poisson, HC3"]), rtol=1e-12)
    for name in ("negative binomial", "negative binomial, score"):
        assert summary.loc[name, "standard errors"] == "model-based (inverse information)"


# --- typed results: nothing is set on a statsmodels object; the key results come from the typed fits ---------------


def test_the_poisson_check_carries_hc3_and_leaves_the_statsmodels_result_as_fitted(base):
    rng = np.random.default_rng(9)
    df = base.assign(y=rng.poisson(base["population"] * 0.01 * np.where(base["model"] == 5, 1.0, 1.1)))
    res = models.fit_count(df, "y", family="poisson", controls=())
    # the statsmodels result keeps its own model-based covariance: the HC3 one lives in the dataclass
    assert res.result.cov_type == "nonrobust" and not hasattr(res.result, "theta")
    np.testing.assert_allclose(res.result.bse, np.sqrt(np.diag(res.result.normalized_cov_params)), rtol=1e-12)
    np.testing.assert_allclose(res.cov_params().to_numpy(), models.hc3_cov(res.result), rtol=0, atol=0)
    assert not np.allclose(res.bse, res.result.bse)
    z = res.params / res.bse
    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf(np.abs(z)), rtol=1e-14)
    np.testing.assert_allclose(res.conf_int()[1], res.params + stats.norm.ppf(0.975) * res.bse, rtol=1e-14)
    with pytest.raises(FrozenInstanceError):
        res.cov = None


@pytest.fixture(scope="module")
def run_03(tmp_path_factory):
    """Notebook 03's steps on the example rounds 2011 and 2014 with the real loans, shortened simulations."""
    with cleaned_rounds(tmp_path_factory.mktemp("run_03"), (2011, 2014)) as mp:
        inputs = models.model_inputs([2011, 2014], "loans", "real")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fits = models.fit_rounds(inputs)
            sens = models.sensitivity_by_round(inputs)
        change = models.change_between(inputs)
        ordinal = models.fit_ordinal(inputs.frames_with_flagged[2014], year=2014)
        base, alpha = inputs.frames[2014], fits[2014].negbin.alpha
        rate = simulation.observed_rate(base, "loans")
        coverage = simulation.coverage_study(base, simulation.COVERAGE_EFFECTS, alpha=alpha, rate=rate, reps=60)
        power = simulation.power_curve(base, [1.0, 1.2, 1.4], alpha=alpha, rate=rate, reps=40)
        intervals = models.reported_intervals(fits)
        results = models.key_results(inputs, fits, change, ordinal, sens, coverage, intervals, power)
        yield inputs, fits, change, ordinal, sens, coverage, intervals, power, results, mp


def test_key_results_hold_the_typed_fits_numbers_as_published(run_03):
    inputs, fits, change, ordinal, sens, coverage, intervals, power, r, _ = run_03
    assert (r.outcome, r.ordering, list(r.rounds)) == ("loans", "5<1<2<3<4", [2011, 2014])
    # the flagged reporting failure (Gribskov 2012 = 0) left the 2011 models and is named
    assert r.pairing[2011].reporting_failures == (270,) and r.pairing[2011].n == len(inputs.frames[2011]) == 84
    assert r.pairing[2014].usage_year == 2015 and r.pairing[2014].dropped == (563,)
    (flag,) = r.flagged_reporting_failures.values
    assert (flag.survey_round, flag.kommunekode, flag.usage_year, flag.value) == (2011, 270, 2012, 0.0)
    assert not r.flagged_reporting_failures.kept_in_models
    for year in (2011, 2014):
        nb, published = fits[year].negbin, r.rounds[year]
        assert published.alpha == nb.alpha and published.theta == nb.theta == 1 / nb.alpha
        assert published.loglik == nb.llf and published.theta_converged
        assert published.score_irr == round(float(np.exp(fits[year].negbin_score.params["score"])), 4)
        term = "model 4 (Fælles indgang)"
        assert published.irr[term] == round(float(np.exp(nb.params[models.model_term(4)])), 4)
        assert published.standard_errors["Poisson, HC3"].startswith("HC3 (leverage-adjusted")
        shown = r.intervals.rounds[year][term]
        assert shown.low == getattr(shown, f"{r.intervals.reported}_low")
        assert shown.wald_high == round(float(np.exp(nb.result.conf_int().loc[models.model_term(4), 1])), 4)
    assert r.change.per_level == change.params["d_score"] and r.change.n == 84
    assert r.change.ci == tuple(change.conf_int().loc["d_score"])  # t with n - 2 df, as the fit says
    assert r.ordinal.converged and r.ordinal.max_abs_score == ordinal.max_abs_score < 1e-6
    assert list(r.ordinal.cut_points.values()) == ordinal.cut_points["cut point"].round(4).tolist()
    first = sens.iloc[0]
    assert (r.sensitivity[0].round, r.sensitivity[0].sample, r.sensitivity[0].irr) == (
        2011,
        "all kommuner",
        round(first["irr"], 4),
    )
    assert any(s.sample.startswith("with the flagged reporting failures (270)") for s in r.sensitivity)
    assert r.coverage.reps == 60 and r.coverage.better_interval == coverage.verdict
    assert [t.model for t in r.coverage.terms] == [1, 2, 3, 4]
    assert r.coverage.terms[0].coverage_wald == round(coverage.terms.loc[1, "coverage_wald"], 5)
    assert r.power.minimal_detectable_irr == power.minimal_detectable and r.power.n == len(inputs.frames[2014])
    assert [p.irr for p in r.power.curve] == [1.0, 1.2, 1.4] and r.power.alpha == fits[2014].negbin.alpha


def test_key_results_round_trip_through_the_results_file(run_03):
    from helpers import results
    from helpers.outputs import reports

    inputs, *_, r, mp = run_03
    name = f"03_model_{models.run_name('loans', inputs.rounds)}"
    reports.write_results(name, r, synthetic=inputs.synthetic, parameters=inputs.parameters("5<1<2<3<4"))
    doc = results.load(name)
    assert doc.results == r  # every field survives the file, as the class declares it
    assert doc.results.rounds[2014].alpha == r.rounds[2014].alpha and doc.results.pairing[2011].kept is False
    assert doc.parameters == {
        "rounds": [2011, 2014],
        "outcome": "loans",
        "usage_source": "real",
        "ordering": "5<1<2<3<4",
        "usage_year_offset": 1,
        "exclude": [],
        "keep_flagged": False,
    }


# --- non-response in notebook 03: the score rate ratio under the four treatments ----------------------------------


@pytest.fixture(scope="module")
def response_inputs(tmp_path_factory):
    """The example rounds 2011 and 2014 with the real loans (Gribskov 2012 = 0 flagged), as notebook 03 reads them."""
    from helpers.analysis import compare
    from helpers.analysis import nonresponse as nr
    from helpers.data import reference, survey

    with cleaned_rounds(tmp_path_factory.mktemp("response"), (2011, 2014)):
        inputs = models.model_inputs([2011, 2014], "loans", "real")
        municipalities = reference.load_municipalities()
        aligned = compare.align_rounds({y: survey.load_clean(y) for y in (2011, 2014)}, municipalities)
        yield inputs, nr.panel(aligned, municipalities)


def test_the_complete_case_is_the_reported_score_fit(response_inputs):
    from helpers.analysis import nonresponse as nr

    inputs, panel = response_inputs
    stat = models.score_statistic(inputs, 2011)
    cc = nr.complete_case(stat, panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = models.fit_count(inputs.frames[2011], "loans", spec="score")
    assert cc.n == len(inputs.frames[2011]) == 84  # Fanø (no usage row) and Gribskov 2012 = 0 (flagged) are out
    assert cc.value == pytest.approx(fit.params["score"], rel=1e-8)
    assert cc.se == pytest.approx(fit.bse["score"], rel=1e-6)
    assert (cc.low, cc.high) == pytest.approx(tuple(fit.conf_int().loc["score"]), rel=1e-6)
    assert cc.interval == f"t, df {fit.df_resid:.1f}" and cc.df == fit.df_resid


def test_weighted_fit_with_equal_weights_is_the_complete_case_with_a_sandwich_error(response_inputs):
    from helpers.analysis import nonresponse as nr

    inputs, panel = response_inputs
    stat = models.score_statistic(inputs, 2011)
    keep = panel.answered([2011])
    answers = panel.answers.loc[keep, [2011]].astype(int)
    equal = stat.compute(answers, panel.covariates.loc[keep], pd.Series(3.0, index=answers.index))
    cc = nr.complete_case(stat, panel)
    assert equal.value == pytest.approx(cc.value, rel=1e-7) and equal.interval == "z"
    # the HC0 sandwich from statsmodels' pieces at the same dispersion: its expected-information inverse as bread
    # (as R's sandwich::sandwich on a glm) and its per-kommune scores as meat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = models.fit_count(inputs.frames[2011], "loans", spec="score")
    glm = fit.result
    bread = glm.normalized_cov_params.to_numpy()
    scores = glm.model.score_obs(glm.params.to_numpy())
    sandwich = bread @ (scores.T @ scores) @ bread
    assert equal.se == pytest.approx(np.sqrt(sandwich[-1, -1]), rel=1e-6) and list(fit.params.index)[-1] == "score"


def test_bounds_search_finds_the_extremes_of_every_completion(response_inputs):
    """The coordinate search against full enumeration on the rate ratio itself: 4 non-respondents kept (625
    completions), the other gaps filled with model 5."""
    from helpers.analysis import nonresponse as nr

    inputs, panel = response_inputs
    stat = models.score_statistic(inputs, 2011)
    gaps = panel.answers.index[panel.answers[2011].isna()]
    usable = models.usage_frame(inputs, 2011).index
    kept = [k for k in gaps if k in usable][:4]
    answers = panel.answers.copy()
    answers.loc[[k for k in gaps if k not in kept], 2011] = 5
    small = nr.Panel(answers, panel.covariates, panel.synthetic)
    assert nr.manski.completions(stat, small) == 625
    full = nr.exhaustive(stat, small)
    found = nr.search(stat, small, random_starts=0)
    assert full.bounds.exact and not found.bounds.exact
    assert found.bounds.low == pytest.approx(full.bounds.low, abs=1e-10)
    assert found.bounds.high == pytest.approx(full.bounds.high, abs=1e-10)
    assert found.evaluations < 625


@pytest.mark.slow
def test_response_sensitivity_reads_like_the_notebook(response_inputs):
    inputs, _ = response_inputs
    r = models.response_sensitivity(inputs, m=20)
    assert [row.rounds for row in r.rows] == [(2011,), (2014,)]
    table = r.table
    for row, (_, shown) in zip(r.rows, table.iterrows(), strict=True):
        assert shown[("complete case", "estimate")] == pytest.approx(np.exp(row.complete_case.value))
        assert shown[("bounds", "low")] <= shown[("complete case", "estimate")] <= shown[("bounds", "high")]
        year = row.rounds[0]
        # imputed: every kommune with a usable usage value (2011: not Fanø, nor Gribskov's flagged 2012 zero)
        assert (
            row.imputed.m == 20 and row.imputed.n == len(models.usage_frame(inputs, year)) == {2011: 96, 2014: 97}[year]
        )
    assert r.rows[0].bounds.incomplete > 0 and not r.rows[0].bounds.exact


def test_the_brief_of_a_run_follows_its_own_numbers(run_03):
    from brief_check import check

    from helpers.outputs import brief
    from helpers.results import Document

    *_, r, _ = run_03
    said = brief.sentences(Document("03_model_loans_2011_2014", True, "", {}, r))
    assert check(said) == [] and len(said) >= 6, said
    family = [s for s in said if "one family" in s]
    assert len(family) >= 2 and all("Holm-adjusted p" in s and "unadjusted p" in s for s in family)
