"""Regression tables: the numbers are the fit's, at full precision in the CSV; every format is written."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from helpers.outputs import tables


@pytest.fixture
def fits():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "model": np.tile([5, 1, 2, 3, 4], 20),
            "kommunegruppe": np.repeat([1, 2, 3, 4, 5], 20),
            "merged_2007": np.tile([0, 1], 50),
            "population": rng.integers(10_000, 100_000, 100),
        }
    )
    df["y"] = rng.poisson(df["population"] * 0.005 * df["model"].map({5: 1.0, 1: 1.1, 2: 1.2, 3: 1.2, 4: 1.3}))
    formula = "y ~ C(model, Treatment(reference=5)) + C(kommunegruppe) + merged_2007"
    poisson = smf.glm(formula, data=df, family=sm.families.Poisson(), exposure=df["population"]).fit()
    robust = smf.glm(formula, data=df, family=sm.families.Poisson(), exposure=df["population"]).fit(cov_type="HC0")
    return {"Poisson": poisson, "Poisson, robust": robust}


def test_table_shows_irrs_with_intervals_controls_n_and_se_type(fits):
    t = tables.regression_table(fits, title="test")
    cells = t.cells.set_index("row")
    res = fits["Poisson"]
    term = "C(model, Treatment(reference=5))[T.4]"
    assert cells.loc["model 4 (Fælles indgang)", "Poisson"] == f"{np.exp(res.params[term]):.3f}"
    lo, hi = np.exp(res.conf_int().loc[term])
    assert f"[{lo:.3f}, {hi:.3f}]" in t.cells["Poisson"].tolist()
    assert cells.loc["kommunegruppe (Statistics Denmark)", "Poisson"] == "yes"
    assert not any("kommunegruppe)[T" in r for r in t.cells["row"])  # controls are summarised, not listed
    assert cells.loc["N", "Poisson"] == "100"
    shown = cells.loc["standard errors", ["Poisson", "Poisson, robust"]].tolist()
    assert shown == [tables.covariance_label(fits[n]).split(" (")[0] for n in ("Poisson", "Poisson, robust")]
    assert cells.loc["standard errors", "Poisson, robust"].startswith("HC0")  # read from the fit, not assumed
    assert "Standard errors:" in t.notes[0]


def test_every_format_is_written_and_the_csv_keeps_full_precision(fits, tmp_path, monkeypatch):
    import docx

    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(tmp_path))
    out = tables.save(tables.regression_table(fits, title="Usage and cooperation"), "model_table_x", synthetic=True)
    assert [p.name for p in out] == [f"model_table_x_synthetic.{e}" for e in ("csv", "html", "tex", "docx")]
    tidy = pd.read_csv(out[0])
    row = tidy[(tidy["model"] == "Poisson") & (tidy["parameter"] == "merged_2007")].iloc[0]
    assert row["coefficient"] == pytest.approx(fits["Poisson"].params["merged_2007"], rel=1e-14)
    assert tidy["synthetic"].all()
    assert "Usage and cooperation" in out[1].read_text() and "SYNTHETIC" in out[1].read_text()
    assert "\\begin{tabular" in out[2].read_text()
    doc = docx.Document(str(out[3]))
    text = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "N" in text and "100" in text and any("SYNTHETIC" in p.text for p in doc.paragraphs)


# --- pyfixest fits: notebook 04's PPML two-way fixed-effects models --------------------------------
YEARS = [2010, 2011, 2012, 2013, 2014, 2015, 2018, 2019, 2020, 2021, 2022, 2023]


@pytest.fixture(scope="module")
def panel():
    """36 library units, 12 never treated and two cohorts, log loans per inhabitant from adoption.simulate_panels."""
    from helpers.analysis import adoption

    rng = np.random.default_rng(4)
    g = np.array([0] * 12 + [2012] * 12 + [2015] * 12)
    log_rate = adoption.simulate_panels(g, YEARS, lambda gg, y: 0.1 if gg and y >= gg else 0.0, reps=1, seed=4)[0]
    pop = rng.uniform(2e4, 2e5, len(g))
    df = pd.DataFrame(
        {
            "kommunekode": np.repeat(np.arange(1, len(g) + 1), len(YEARS)),
            "year": np.tile(YEARS, len(g)),
            "g": np.repeat(g, len(YEARS)),
            "population": np.repeat(pop, len(YEARS)),
        }
    )
    df["loans"] = rng.poisson(df["population"] * 5 * np.exp(log_rate.ravel()))
    df["log_pop"] = np.log(df["population"])
    df["event_time"] = np.where(df["g"] > 0, df["year"] - df["g"], np.nan)
    return df


@pytest.fixture(scope="module")
def twfe(panel):
    from helpers.analysis import adoption

    static = adoption.fit_twfe_static(panel)
    event = adoption.fit_twfe_event(panel, window=(-3, 4))
    return static, event


def _twfe_table(twfe):
    static, event = twfe
    return tables.regression_table(
        {"static": static, "event study": event},  # the typed results; the table reads their pyfixest fits
        title="TWFE",
        scale="rate ratio",
        term_labels=tables.event_time_labels((-3, 4)),
    )


def test_fit_twfe_static_returns_its_fit_beside_the_old_keys(twfe):
    static, _ = twfe
    tidy = static.fit.tidy().loc["treated_a"]
    assert static.estimate == tidy["Estimate"] and static.low == tidy["2.5%"] and static.high == tidy["97.5%"]
    fields = {f.name for f in dataclasses.fields(static)}
    assert {"estimate", "se", "low", "high", "p", "n"} <= fields and static.n == 36 * len(YEARS)


def test_pyfixest_table_numbers_are_the_fits_rate_ratios_and_intervals(twfe):
    static, event = twfe
    t = _twfe_table(twfe)
    est = t.tidy[t.tidy["kind"] == "estimate"].set_index(["model", "parameter"])
    for name, fit in (("static", static.fit), ("event study", event.fit)):
        tidy = fit.tidy()
        assert sorted(est.loc[name].index) == sorted(tidy.index)
        for term, r in tidy.iterrows():
            row = est.loc[(name, term)]
            assert (
                row["coefficient"] == r["Estimate"]
                and row["std_error"] == r["Std. Error"]
                and row["p_value"] == r["Pr(>|t|)"]
            )
            assert row["estimate"] == pytest.approx(np.exp(r["Estimate"]), rel=1e-15)
            assert row["estimate_low"] == pytest.approx(np.exp(r["2.5%"]), rel=1e-15)
            assert row["estimate_high"] == pytest.approx(np.exp(r["97.5%"]), rel=1e-15)
    cells = t.cells.set_index("row")
    r = static.fit.tidy().loc["treated_a"]
    i = list(t.cells["row"]).index("adopted (static: one effect for all years from adoption)")
    assert t.cells.iloc[i]["static"] == f"{np.exp(r['Estimate']):.3f}" and t.cells.iloc[i]["event study"] == ""
    assert t.cells.iloc[i + 1]["static"] == f"[{np.exp(r['2.5%']):.3f}, {np.exp(r['97.5%']):.3f}]"
    r = event.fit.tidy().loc["post2"]
    assert cells.loc["event time +2", "event study"] == f"{np.exp(r['Estimate']):.3f}"
    assert "event time \u2264 \u22123 (binned)" in cells.index and "event time \u2265 +4 (binned)" in cells.index
    assert "event time 0" in cells.index and "event time \u22121" not in cells.index  # the reference has no dummy
    assert t.notes[0].startswith("rate ratios with 95 % confidence intervals")


def test_pyfixest_table_states_crv1_fixed_effects_n_clusters_and_fit_statistics(twfe, panel):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    static, event = twfe
    t = _twfe_table(twfe)
    cells = t.cells.set_index("row")
    assert cells.loc["standard errors", "static"] == "CRV1 clustered by kommunekode"
    # issue 22: pyfixest's fepois computes its intervals and p-values from N(0, 1) (not t with G - 1 = 35 df, as
    # the label said before), and the label now says so
    assert "CRV1 clustered by kommunekode (pyfixest; intervals and p-values normal (z))" in t.notes[0]
    from scipy import stats

    r = static.fit.tidy().loc["treated_a"]
    assert r["Pr(>|t|)"] == pytest.approx(2 * stats.norm.sf(abs(r["Estimate"] / r["Std. Error"])), rel=1e-9)
    assert r["97.5%"] == pytest.approx(r["Estimate"] + stats.norm.ppf(0.975) * r["Std. Error"], rel=1e-12)
    assert cells.loc["kommune (library unit)", "static"] == "yes" and cells.loc["year", "event study"] == "yes"
    assert set(t.cells.loc[t.cells["section"] == "fixed effects", "row"]) == {"kommune (library unit)", "year"}
    assert cells.loc["N", "static"] == f"{36 * len(YEARS):,}" and cells.loc["clusters", "event study"] == "36"
    # log-likelihood and deviance equal statsmodels' Poisson GLM with the fixed effects as dummies
    d = panel.assign(treated_a=((panel["g"] > 0) & (panel["year"] >= panel["g"])).astype(float))
    ref = smf.glm(
        "loans ~ treated_a + C(kommunekode) + C(year)", data=d, family=sm.families.Poisson(), offset=d["log_pop"]
    ).fit()
    fit_rows = t.tidy[(t.tidy["kind"] == "fit") & (t.tidy["model"] == "static")].set_index("term")
    assert fit_rows.loc["log-likelihood", "estimate"] == pytest.approx(ref.llf, rel=1e-9)
    assert fit_rows.loc["deviance", "estimate"] == pytest.approx(ref.deviance, rel=1e-7)
    assert fit_rows.loc["fixed effects: year", "statistic"] == "yes"
    assert cells.loc["log-likelihood", "static"] == f"{ref.llf:,.1f}"
    # pyfixest's pseudo R² ignores the offset in its null model, so it is not shown (module docstring)
    constant = smf.glm("loans ~ 1", data=d, family=sm.families.Poisson()).fit()
    offset_only = smf.glm("loans ~ 1", data=d, family=sm.families.Poisson(), offset=d["log_pop"]).fit()
    assert static.fit._loglik_null == pytest.approx(constant.llf, rel=1e-9)
    assert abs(static.fit._loglik_null - offset_only.llf) > 1e3
    assert not any("R\u00b2" in r for r in t.cells["row"])


def test_pyfixest_table_in_every_format_with_the_se_type_and_synthetic_mark(twfe, tmp_path, monkeypatch):
    import docx

    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(tmp_path))
    out = tables.save(_twfe_table(twfe), "model_table_twfe_x", synthetic=True)
    assert [p.name for p in out] == [f"model_table_twfe_x_synthetic.{e}" for e in ("csv", "html", "tex", "docx")]
    assert all(p.stat().st_size > 500 for p in out)
    tidy = pd.read_csv(out[0])
    row = tidy[(tidy["model"] == "static") & (tidy["parameter"] == "treated_a")].iloc[0]
    assert row["coefficient"] == pytest.approx(twfe[0].estimate, rel=1e-14) and tidy["synthetic"].all()
    html, tex = out[1].read_text(), out[2].read_text()
    assert "CRV1 clustered by kommunekode" in html and "SYNTHETIC" in html and "event time +2" in html
    assert "\\begin{tabular" in tex and "CRV1 clustered by kommunekode" in tex
    doc = docx.Document(str(out[3]))
    text = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "fixed effects" in text and "CRV1 clustered by kommunekode" in text and "36" in text
    assert any("SYNTHETIC" in p.text for p in doc.paragraphs)
    shown = tables.mark(_twfe_table(twfe), True)
    assert "SYNTHETIC" in shown.title and tables.mark(_twfe_table(twfe), False).title == "TWFE"


def test_pyfixest_table_reads_the_typed_result_or_its_fit_alike(twfe):
    static, event = twfe
    typed = _twfe_table(twfe).tidy
    raw = tables.regression_table(
        {"static": static.fit, "event study": event.fit},
        title="TWFE",
        scale="rate ratio",
        term_labels=tables.event_time_labels((-3, 4)),
    ).tidy
    pd.testing.assert_frame_equal(typed, raw)
    read = tables.FixestFit.read(static)
    assert read.params.equals(tables.FixestFit.read(static.fit).params)
    assert (read.nobs, read.clusters, read.df_t, read.vcov_type) == (36 * len(YEARS), 36, 35, "CRV1")
    assert read.fixed_effects == ("kommunekode", "year") and read.clustervar == ("kommunekode",)


def test_adoption_twfe_table_titles_the_treatment_and_rounds(twfe):
    from helpers.analysis import adoption

    static, event = twfe
    estimates = adoption.Estimates(cs=None, twfe=event, static=static, headline="twfe")
    t = tables.adoption_twfe_table(estimates, adoption.PanelSpec((2011, 2014), treatment="level>=3"))
    assert t.title == (
        "Loans per inhabitant around adoption (cooperation level 3 or higher; rounds 2011, 2014): "
        "two-way fixed-effects Poisson"
    )
    assert list(t.tidy["model"].unique()) == ["static (one effect)", "event study"]
    assert any("Event time -1 (the last year before adoption) is the reference" in n for n in t.notes[1:])
    assert "event time \u2264 \u22123 (binned)" in set(t.cells["row"])


def test_count_model_table_adjusts_each_fits_cooperation_terms_as_one_family(base):
    """Notebook 03's tables: the CSV has Holm and BH p-values within each column's cooperation terms (statsmodels'
    multipletests on the raw p of those terms), none for the controls; the negative binomial column shows both
    dispersions and says its intervals are t on n - p df."""
    from statsmodels.stats.multitest import multipletests

    from helpers.analysis import models, simulation

    rng = np.random.default_rng(5)
    df = base.assign(visits=simulation.simulate_counts(base, 6.0, {1: 1.02, 3: 1.3, 4: 1.25}, 0.04, rng))
    fits = models.round_models(df, "visits", year=2011).fits
    t = tables.regression_table(fits, title="x", family=tables.COOPERATION_FAMILY)
    est = t.tidy[t.tidy["kind"] == "estimate"]
    for name, fit in fits.items():
        rows = est[est["model"] == name]
        members = rows[rows["parameter"].str.contains(tables.COOPERATION_FAMILY)]
        assert len(members) == (1 if name == "negative binomial, score" else 4)
        np.testing.assert_allclose(members["p_value"], fit.pvalues[members["parameter"]].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(members["p_holm"], multipletests(members["p_value"], method="holm")[1])
        np.testing.assert_allclose(members["p_bh"], multipletests(members["p_value"], method="fdr_bh")[1])
        assert (members["p_holm"] >= members["p_value"]).all()
        assert rows.drop(members.index)[["p_holm", "p_bh"]].isna().all().all()  # controls, constant: not members
    nb = fits["negative binomial"]
    cells = t.cells.set_index("row")
    assert cells.loc["NB dispersion \u03b1 (Cox-Reid)", "negative binomial"] == f"{nb.alpha_cox_reid:,.3f}"
    assert cells.loc["intervals", "negative binomial"] == f"t on {int(nb.df_resid)} df"
    assert cells.loc["intervals", "Poisson, HC3"] == "normal"
    assert "Holm (familywise error) and Benjamini-Hochberg" in t.notes[1]
    lo, hi = np.exp(nb.conf_int().loc[models.model_term(4)])
    assert f"[{lo:.3f}, {hi:.3f}]" in t.cells["negative binomial"].tolist()  # the reported (Cox-Reid t) interval
