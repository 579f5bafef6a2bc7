"""Issue 22's estimators, each against an independent computation.

* did::aggte's aggregations (numpy) against csdid's ``aggte`` and the ``differences`` package, unweighted and
  population-weighted;
* the multiplier bootstrap against csdid's ``mboot`` on the same draws, and the bands' coverage on simulated panels;
* the delete-one-kommune jackknife against an explicit loop of csdid fits;
* the Poisson fit of the bootstraps against pyfixest, and the wild score bootstrap against a transparent loop over
  draws with a statsmodels GLM restricted fit;
* the noise calibration, the recovery simulation at the real design (shortened), dating with unobserved rounds,
  the leave-one-round-out table and the spillover checks.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import adoption
from helpers.analysis.adoption import arrays, inference, simulation, spillover
from helpers.data.synthetic import usage as synth

YEARS = [2010, 2011, 2012, 2013, 2014, 2015, 2018, 2019, 2020, 2021, 2022, 2023]
KINDS = ("dynamic", "simple", "group", "calendar")


def _panel(g, seed=11, sd_noise=0.05, rho=0.0):
    Y = adoption.simulate_panels(g, YEARS, synth.adoption_effect, 1, seed=seed, sd_noise=sd_noise, rho=rho)
    pop = np.random.default_rng(seed).uniform(5e3, 1e5, len(g))
    df = pd.DataFrame(
        [(i + 1, y, g[i], Y[0, i, j], pop[i]) for i in range(len(g)) for j, y in enumerate(YEARS)],
        columns=["id", "year", "g", "y", "pop"],
    )
    return Y, pop, df


def _csdid(df, control_group="notyettreated", weights=None):
    from csdid.att_gt import ATTgt

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return ATTgt(
            yname="y",
            tname="year",
            idname="id",
            gname="g",
            data=df,
            control_group=[control_group],
            weights_name=weights,
        ).fit(est_method="reg", base_period="universal", bstrap=False)


def _aggte(m, kind):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        m.aggte(typec=kind, bstrap=False, **({"min_e": -4, "max_e": 8} if kind == "dynamic" else {}))
    return m.atte


@pytest.mark.parametrize("weights", [None, "pop"])
@pytest.mark.parametrize("control_group", ["notyettreated", "nevertreated"])
def test_group_time_effects_and_aggregations_equal_csdid(control_group, weights):
    g = np.array([0] * 12 + [2012] * 30 + [2015] * 30)
    Y, pop, df = _panel(g)
    m = _csdid(df, control_group, weights)
    gt = arrays.group_time_arrays(Y, g, YEARS, control_group=control_group, weights=None if weights is None else pop)
    r = m.results
    lib = {(int(a), int(b)): (c, d) for a, b, c, d in zip(r["group"], r["year"], r["att"], r["se"], strict=True)}
    se = gt.se()[0]
    for i, cell in enumerate(gt.cells):
        assert gt.att[0, i] == pytest.approx(lib[cell][0], abs=1e-12) and se[i] == pytest.approx(
            lib[cell][1], abs=1e-12
        )
    for kind in KINDS:
        a = _aggte(m, kind)
        agg = arrays.aggregate(gt, kind, (-4, 8) if kind == "dynamic" else None)
        assert agg.overall[0] == pytest.approx(a["overall_att"], abs=1e-12), kind
        assert agg.overall_se()[0] == pytest.approx(a["overall_se"], abs=1e-12), kind
        if kind != "simple":
            theirs = dict(zip(np.asarray(a["egt"], int), zip(a["att_egt"], a["se_egt"], strict=True), strict=True))
            assert set(theirs) - set(agg.labels) <= {-1}  # csdid keeps the reference period (0, no se)
            for i, label in enumerate(agg.labels):
                assert agg.estimate[0, i] == pytest.approx(theirs[label][0], abs=1e-12), (kind, label)
                assert agg.se()[0, i] == pytest.approx(theirs[label][1], abs=1e-12), (kind, label)


def test_aggregations_equal_the_differences_package():
    """An independent implementation (the ``differences`` package, not a port of did): its simple, event, cohort
    and time aggregations with not-yet-treated controls and a universal base period."""
    from differences import ATTgt

    g = np.array([0] * 12 + [2012] * 30 + [2015] * 30)
    Y, _, df = _panel(g)
    d = df.assign(cohort=df["g"].replace(0, np.nan)).set_index(["id", "year"])
    att = ATTgt(data=d, cohort_column="cohort", base_period="universal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att.fit(formula="y", est_method="reg", control_group="not_yet_treated", progress_bar=False)
        theirs = {k: att.aggregate(k) for k in ("simple", "event", "cohort", "time")}
    gt = arrays.group_time_arrays(Y, g, YEARS)
    for theirs_kind, mine_kind in (
        ("simple", "simple"),
        ("event", "dynamic"),
        ("cohort", "group"),
        ("time", "calendar"),
    ):
        t = theirs[theirs_kind]
        est, se = t.iloc[:, 0].to_numpy(float), t.iloc[:, 1].to_numpy(float)
        agg = arrays.aggregate(gt, mine_kind)
        if mine_kind == "simple":
            assert (agg.overall[0], agg.overall_se()[0]) == pytest.approx((est[0], se[0]), abs=1e-10)
            continue
        labels = [int(x) for x in t.index]
        by = dict(zip(labels, zip(est, se, strict=True), strict=True))
        for i, label in enumerate(agg.labels):
            assert (agg.estimate[0, i], agg.se()[0, i]) == pytest.approx(by[label], abs=1e-10), (mine_kind, label)


def test_multiplier_bootstrap_equals_csdid_mboot_on_the_same_draws():
    from csdid.utils.mboot import mboot

    g = np.array([0] * 12 + [2012] * 30 + [2015] * 30)
    _, _, df = _panel(g)
    m = _csdid(df)
    a = _aggte(m, "dynamic")
    inf = np.asarray(a["inf_function"]["dynamic_inf_func_e"], float)
    inf = inf[:, np.any(inf != 0, axis=0)]  # the reference period's column is 0
    dp = dict(m.dp, biters=499, alp=0.05, clustervars=None)
    state = np.random.get_state()
    try:
        np.random.seed(5)
        theirs = mboot(inf, dp)
        np.random.seed(5)
        draws = 1.0 - 2.0 * np.random.randint(0, 2, size=(499, inf.shape[0]))  # csdid's serial draws
    finally:
        np.random.set_state(state)
    mine = arrays.multiplier_bootstrap(inf, multipliers=draws)
    assert mine.se[0] == pytest.approx(np.asarray(theirs["se"], float), rel=1e-12)
    assert max(mine.crit[0], 1.959964) == pytest.approx(max(float(theirs["crit_val"]), 1.959964), rel=1e-12)


@pytest.mark.slow
def test_bands_cover_all_event_times_on_simulated_panels():
    """The simultaneous bands' coverage on 1,000 panels of a design with 25 never-treated kommuner and iid noise
    (where the asymptotics hold): did's multiplier band and the jackknife sup-t band cover close to 95 %
    (measured: 0.925 and 0.932, Monte Carlo SE about 0.008; the multiplier band falls short by about 3 SEs, the gap
    docs/adoption.md states), while the pointwise intervals, read together, cover far less."""
    g = np.array([0] * 25 + [2012] * 35 + [2015] * 37)
    study = adoption.simulation_study(g, YEARS, synth.adoption_effect, reps=1000, seed=3, ppml=False, draws=499)
    cov = study.coverage.set_index(["estimator", "interval", "target"])["coverage"]
    band = cov.xs("all event times", level="target").loc["cs"]
    mult = band[band.index.str.startswith("simultaneous 95 %, multiplier")].iloc[0]
    jk = band[band.index.str.startswith("simultaneous 95 %, sup-t of the jackknife")].iloc[0]
    mc = np.sqrt(0.95 * 0.05 / 1000)
    assert 0.95 - 0.03 < mult < 0.95 + 3.5 * mc and 0.95 - 0.03 < jk < 0.95 + 3.5 * mc, band  # within 0.03 below
    pointwise = study.event["coverage"]
    assert pointwise.min() > 0.93 and (pointwise.prod() < 0.8)  # every one covers; all at once they would not


def test_jackknife_equals_a_loop_of_csdid_fits():
    g = np.array([0] * 5 + [2012] * 6 + [2015] * 6)
    Y, _, df = _panel(g, seed=4)
    jk = arrays.jackknife(Y, g, YEARS, window=(-4, 8))
    fits = []
    for unit in df["id"].unique():
        a = _aggte(_csdid(df[df["id"] != unit]), "dynamic")
        fits.append((dict(zip(np.asarray(a["egt"], int), a["att_egt"], strict=True)), a["overall_att"]))
    n = len(fits)
    for i, e in enumerate(jk.labels):
        v = np.array([f[0][e] for f in fits])
        assert jk.se[0, i] == pytest.approx(np.sqrt((n - 1) / n * ((v - v.mean()) ** 2).sum()), rel=1e-10), e
    o = np.array([f[1] for f in fits])
    assert jk.overall_se[0] == pytest.approx(np.sqrt((n - 1) / n * ((o - o.mean()) ** 2).sum()), rel=1e-10)


# --- Poisson and the wild score bootstrap ----------------------------------------------------------------
def _counts(g, seed=4, drop=(5, 40, 77)):
    rng = np.random.default_rng(seed)
    rows = []
    for i, gg in enumerate(g):
        pop, u = rng.uniform(2e4, 2e5), rng.normal(0, 0.2)
        for y in YEARS:
            eff = 0.1 if gg and y >= gg else 0.0
            mu = pop * 5 * np.exp(u + 0.01 * (y - 2010) + eff + rng.normal(0, 0.05))
            rows.append((i + 1, y, gg, pop, rng.poisson(mu)))
    df = pd.DataFrame(rows, columns=["kommunekode", "year", "g", "population", "loans"])
    df["log_pop"] = np.log(df["population"])
    df["event_time"] = np.where(df["g"] > 0, df["year"] - df["g"], np.nan)
    return df.drop(index=list(drop)).reset_index(drop=True)


def test_poisson_arrays_equal_pyfixest_on_an_unbalanced_panel():
    df = _counts(np.array([0] * 12 + [2012] * 30 + [2015] * 30))
    for fit, d in (
        (adoption.fit_twfe_static(df), inference.static_design(df)),
        (adoption.fit_twfe_event(df, (-4, 8)), inference.event_design(df, (-4, 8))),
    ):
        p = arrays.ppml_arrays(d.Y[None], d.X, d.offset, d.mask)
        tidy = fit.fit.tidy().loc[list(d.terms)]
        assert p.converged.all()
        assert p.beta[0, d.first_term :] == pytest.approx(tidy["Estimate"].to_numpy(), abs=1e-10)
        assert p.se()[0, d.first_term :] == pytest.approx(tidy["Std. Error"].to_numpy(), rel=1e-8)
        assert p.ssc == pytest.approx(float(np.asarray(fit.fit._ssc).squeeze()), rel=1e-12)


def _score_test_by_hand(df, null, multipliers):
    """The wild score bootstrap written out: statsmodels' Poisson GLM with every fixed effect as a dummy and the
    coefficient fixed at ``null`` in the offset; the full score and information matrices from that design; the
    efficient score of the coefficient per kommune; one draw at a time."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    d = df.assign(treated_a=((df["g"] > 0) & (df["year"] >= df["g"])).astype(float))
    restricted = smf.glm(
        "loans ~ C(kommunekode) + C(year)", d, family=sm.families.Poisson(), offset=d["log_pop"] + null * d["treated_a"]
    ).fit(tol=1e-13)
    mu = restricted.fittedvalues.to_numpy()
    X = pd.get_dummies(d[["kommunekode", "year"]].astype(str), drop_first=True).astype(float)
    X.insert(0, "const", 1.0)
    X["treated_a"] = d["treated_a"]
    Xm = X.to_numpy()
    H = Xm.T @ (mu[:, None] * Xm)
    resid = d["loans"].to_numpy() - mu
    units = d["kommunekode"].to_numpy()
    ids = sorted(set(units))
    S = np.array([Xm[units == k].T @ resid[units == k] for k in ids])  # kommune scores (G, k)
    j = Xm.shape[1] - 1
    others = list(range(j))
    proj = np.linalg.solve(H[np.ix_(others, others)], H[others, j])
    eff = S[:, j] - S[:, others] @ proj
    stat = eff.sum() / np.sqrt((eff**2).sum())
    boot = [float((v * eff).sum() / np.sqrt((eff**2).sum())) for v in multipliers]
    return stat, float(np.mean(np.abs(boot) >= abs(stat)))


@pytest.mark.parametrize("null", [0.0, 0.1, 0.13])
def test_wild_score_bootstrap_equals_a_hand_written_version(null):
    df = _counts(np.array([0] * 4 + [2012] * 5 + [2015] * 5), seed=8, drop=(3, 30))
    d = inference.static_design(df)
    V = 1.0 - 2.0 * np.random.default_rng(2).integers(0, 2, size=(499, len(d.units)))
    mine = arrays.score_bootstrap(d.Y, d.X, d.offset, d.mask, d.column("treated_a"), null, multipliers=V)
    stat, p = _score_test_by_hand(df, null, V)
    assert mine.statistic == pytest.approx(stat, rel=1e-7)
    assert mine.p == p


def test_wild_bootstrap_beside_crv1_and_its_size():
    df = _counts(np.array([0] * 8 + [2012] * 20 + [2015] * 20), seed=9)
    static = adoption.fit_twfe_static(df)
    w = adoption.wild_bootstrap(static, df, draws=399, seed=1)
    r = w.table.loc["treated_a"]
    assert r["low_wild"] < r["estimate"] < r["high_wild"] and 0 <= r["p_wild"] <= 1
    assert 0.5 < (r["high_wild"] - r["low_wild"]) / (r["high"] - r["low"]) < 2  # same order as CRV1
    d = inference.static_design(df)
    V = 1.0 - 2.0 * np.random.default_rng(1).integers(0, 2, size=(399, len(d.units)))
    j = d.column("treated_a")
    at_ends = [
        arrays.score_bootstrap(d.Y, d.X, d.offset, d.mask, j, b, multipliers=V).p
        for b in (r["low_wild"], r["high_wild"])
    ]
    assert at_ends == pytest.approx([0.05, 0.05], abs=0.01)  # the interval's ends are where the test rejects
    assert "Kline & Santos" in w.method and "399 draws" in w.method and w.clusters == 48


# --- calibration and recovery at the real design ---------------------------------------------------------
def test_noise_calibration_matches_the_real_panels_residuals(real):
    nz = simulation.calibrate_noise(real)
    assert (nz.implied_sd, nz.implied_lag1) == pytest.approx((nz.residual_sd, nz.lag1), rel=1e-9)
    assert 0.05 < nz.residual_sd < 0.15 and 0.5 < nz.lag1 < 0.9  # log loans per 1,000 move slowly
    assert nz.units == real.balanced()["kommunekode"].nunique()
    # panels drawn with the calibrated AR(1) have, on average, the real residual sd and autocorrelation
    g = real.balanced().drop_duplicates("kommunekode")["g"].to_numpy()
    years = sorted(real.sample["year"].unique())
    Y = simulation.simulate_panels(g, years, lambda a, b: 0.0, 400, sd_noise=nz.ar_sd, rho=nz.ar_rho, seed=2)
    e = simulation._two_way_residuals(Y)
    n, T = len(g), len(years)
    sd = np.sqrt((e**2).sum(axis=(1, 2)) / ((n - 1) * (T - 1)))
    assert np.sqrt((sd**2).mean()) == pytest.approx(nz.residual_sd, rel=0.03)


@pytest.mark.slow
def test_recovery_at_the_real_design(real):
    """The published intervals on 2,000 panels of the real design (shortened: 199 bootstrap draws per panel, the
    notebook 499): the analytic intervals under-cover, the ones the brief quotes reach 0.93 (the jackknife headline,
    simple ATT and first-year intervals; CRV1 and the wild score bootstrap for the static TWFE effect)."""
    study = adoption.simulation_for(real, adoption.EstimationSpec(), 2000, seed=1, draws=199, wild=True)
    cov = study.coverage.set_index(["estimator", "interval", "target"])
    # the Monte Carlo SE of every row is sqrt(c (1 - c) / 2000); below 0.006 wherever the coverage is near nominal
    # (it was asserted for every row, which cannot hold for the TWFE intervals covering 0.87-0.89 here: SE 0.0074)
    assert cov["mc_se"].to_numpy() == pytest.approx(np.sqrt(cov["coverage"] * (1 - cov["coverage"]) / 2000))
    assert (cov.loc[cov["coverage"] >= 0.925, "mc_se"] < 0.006).all() and study.reps == 2000
    headline_jk = cov.loc[("cs", "95 %, normal, jackknife", "average of event times 0+"), "coverage"]
    headline_if = cov.loc[("cs", "95 %, normal, analytic IF", "average of event times 0+"), "coverage"]
    simple_jk = cov.loc[("cs", "95 %, normal, jackknife", "simple ATT"), "coverage"]
    assert headline_jk >= 0.93 and simple_jk >= 0.93  # what the brief quotes
    assert headline_if < 0.93 < headline_jk  # why the brief quotes the jackknife one
    assert cov.loc[("twfe", "95 %, normal (z), CRV1", "static effect"), "coverage"] >= 0.93
    assert cov.loc[("cs", "pointwise 95 %, normal, jackknife", "0"), "coverage"] >= 0.93  # the first year
    assert cov.loc[("twfe", "95 %, wild score bootstrap (199 draws)", "static effect"), "coverage"] >= 0.93
    note = study.floor_note()  # what the notebook prints: the analytic headline falls short, the jackknife does not
    assert "cs, average of event times 0+: below 0.93: 95 %, normal, analytic IF" in note
    assert "use 95 %, normal, jackknife" in note
    assert study.twfe.bias < -0.3 * study.twfe.true_att  # the naive TWFE (PPML) is biased at this design
    assert abs(study.cs_simple.bias) < 0.1 * study.cs_simple.true_att
    units = real.balanced().drop_duplicates("kommunekode")["g"].value_counts()
    assert study.noise is not None and study.cohorts == {int(k): int(v) for k, v in units.items()}


# --- dating, rounds left out, spillovers ------------------------------------------------------------------
def test_a_round_left_out_is_unobserved_never_not_treated(real):
    """The finding of issue 22: dated by 2009 + 2011 alone, 23 of the 31 "never treated" reported cooperation in
    2014. Now a round left out is unobserved: those kommuner are censored after 2012, none is never treated."""
    without = real.variant(left_out=(2014,))
    t = without.timing
    assert (t["category"] == "never treated").sum() == 0
    censored = t[t["category"] == "censored"]
    assert len(censored) == 31 and censored["included"].all()  # the 31 that were "never treated" before
    last = censored["history"].str.findall(r"(\d{4}):5").str[-1].astype(int)  # the last untreated answer
    assert (censored["untreated_until"] == last + 1).all() and set(last) <= {2009, 2011}
    s = without.sample[without.sample["kommunekode"].isin(censored.index)]
    assert len(s) and not (s["year"] > s["kommunekode"].map(censored["untreated_until"])).any()
    full = real.timing
    assert set(censored.index) <= set(full.index[full["category"].isin(["never treated", "adopter"])])
    assert without.tag == "real_2009_2011" and without.spec.rounds == (2009, 2011, 2014)


def test_leave_one_round_out_table(real):
    spec = adoption.EstimationSpec(draws=199)
    t = adoption.leave_one_round_out(real, spec).table
    assert list(t.index) == ["rounds 2009, 2011, 2014", "without 2009", "without 2011", "without 2014"]
    assert t.loc["rounds 2009, 2011, 2014", "avg_post"] == pytest.approx(
        adoption.fit_cs(real.sample, draws=199).average_post(), rel=1e-12
    )
    assert "not" in t.loc["without 2014", "note"] or np.isnan(t.loc["without 2014", "avg_post"])  # no comparison left
    assert t.loc["without 2014", "never_treated"] == 0


def test_spillover_checks(real):
    w = spillover.contiguity()
    assert w.n == 97 and 400 in w.islands and 561 in w.neighbors  # Bornholm has no land border; Fanø in Esbjerg
    assert 563 not in w.neighbors
    dropped = spillover.contaminated(real, w)
    g = real.sample.drop_duplicates("kommunekode").set_index("kommunekode")["g"]
    for k in dropped.index:  # each dropped kommune borders an adopter no later than itself (never: any adopter)
        treated = real.timing.loc[[n for n in w.neighbors[k] if n in real.timing.index]]
        gs = treated.loc[treated["g_round"] > 0, "g_round"]
        assert len(gs) and (g[k] == 0 or (gs < g[k]).any())
    c = spillover.clustering(real, w, permutations=99, seed=1)
    assert 0 < c.p_bb <= 1 and 0 < c.p_moran <= 1 and c.early <= c.answered
    assert c == spillover.clustering(real, w, permutations=99, seed=1)  # seeded


@pytest.mark.slow
def test_imputed_timing_pools_the_imputations_by_rubins_rules(real):
    """Issue 23 for 04: the unanswered rounds imputed (analysis.nonresponse), adoption dated on each completed set
    of answers, the headline pooled by Rubin's rules: its value is the mean of the per-imputation headlines."""
    from helpers.analysis import nonresponse as nr
    from helpers.analysis.adoption import imputed

    spec = adoption.EstimationSpec(draws=199)
    r = imputed.imputed_timing(real, spec, m=5, seed=7)
    t = r.sensitivity.table
    row = t.loc["unanswered rounds imputed (m = 5, Rubin's rules)"]
    assert r.imputed_answers == int(real.models.isna().sum().sum())  # every unanswered round of every unit
    imps = nr.impute(imputed._nonresponse_panel(real), m=5, seed=7)
    values = []
    for completed in imps.completed:
        models = real.models.copy()
        for year in completed.columns:
            models[int(year)] = completed[year].reindex(models.index).astype("Int64")
        sample = adoption.assemble(real.spec, models, synthetic_survey=True).sample
        values.append(adoption.fit_cs(sample, draws=199).overall.estimate)  # csdid on each completed set
    assert row["avg_post"] == pytest.approx(np.mean(values), abs=1e-12)
    assert row["avg_low"] < row["avg_post"] < row["avg_high"]
    assert r.pooled["headline"].m == 5 and r.pooled["headline"].interval.startswith("t, df")
    assert t.loc["as specified", "avg_post"] == pytest.approx(adoption.fit_cs(real.sample, draws=199).overall.estimate)


# --- families of tests in 04's tables (issue 23) ----------------------------------------------------------
def test_twfe_regression_table_adjusts_the_event_times_as_one_family():
    """The regression table of 04 shows every event time's p-value: its CSV has them adjusted within the event study
    (Holm, BH as R's p.adjust), equal to the event-study table's; the static effect, one test, is not adjusted."""
    from statsmodels.stats.multitest import multipletests

    from helpers.outputs import tables

    df = _counts(np.array([0] * 12 + [2012] * 30 + [2015] * 30))
    static, event = adoption.fit_twfe_static(df), adoption.fit_twfe_event(df, (-4, 8))
    estimates = adoption.Estimates(cs=None, twfe=event, static=static, headline="twfe")
    table = tables.adoption_twfe_table(estimates, adoption.PanelSpec((2009, 2011, 2014)))
    est = table.tidy[table.tidy["kind"] == "estimate"]
    ev = est[est["model"] == "event study"].set_index("parameter")
    members = [t for t in ev.index if t.startswith(("pre", "post"))]
    assert len(members) == len(event.table) - 1  # every event time but the reference period
    assert ev.loc[members, "p_holm"].to_numpy() == pytest.approx(
        multipletests(ev.loc[members, "p_value"].to_numpy(), method="holm")[1], rel=1e-12
    )
    assert ev.loc[members, "p_bh"].to_numpy() == pytest.approx(
        multipletests(ev.loc[members, "p_value"].to_numpy(), method="fdr_bh")[1], rel=1e-12
    )
    mine = event.table.loc[[e for e in event.table.index if not event.table.loc[e, "reference"]], "p_holm"]
    assert sorted(mine.to_numpy()) == pytest.approx(sorted(ev.loc[members, "p_holm"].to_numpy()), rel=1e-9)
    st = est[est["model"] == "static (one effect)"].set_index("parameter")
    assert np.isnan(st.loc["treated_a", "p_holm"])  # one test: no family to adjust in
    assert any("the event times of the event study" in n for n in table.notes)


def test_wild_bootstrap_table_adjusts_the_event_times_as_one_family():
    from statsmodels.stats.multitest import multipletests

    df = _counts(np.array([0] * 8 + [2012] * 20 + [2015] * 20), seed=9)
    event = adoption.fit_twfe_event(df, (-4, 8))
    t = adoption.wild_bootstrap(event, df, draws=199, seed=1, intervals=False).table
    assert len(t) > 5
    for raw in ("p", "p_wild"):
        assert t[f"{raw}_holm"].to_numpy() == pytest.approx(multipletests(t[raw], method="holm")[1], rel=1e-12)
        assert t[f"{raw}_bh"].to_numpy() == pytest.approx(multipletests(t[raw], method="fdr_bh")[1], rel=1e-12)
    assert (t["p_wild_holm"] >= t["p_wild"]).all() and (t["p_wild_holm"] > t["p_wild"]).any()


def test_each_aggregation_adjusts_its_effects_as_one_family(real):
    from statsmodels.stats.multitest import multipletests

    cs = adoption.fit_cs(real.sample, draws=199)
    for kind in ("dynamic", "group", "calendar"):
        t = cs.aggregates[kind]
        ok = t["p"].notna()
        assert ok.sum() > 1, kind
        assert t.loc[ok, "p_holm"].to_numpy() == pytest.approx(multipletests(t.loc[ok, "p"], method="holm")[1]), kind
        assert t.loc[ok, "p_bh"].to_numpy() == pytest.approx(multipletests(t.loc[ok, "p"], method="fdr_bh")[1]), kind
    simple = cs.aggregates["simple"]
    assert simple["p_holm"].iloc[0] == pytest.approx(simple["p"].iloc[0])  # a family of one


@pytest.mark.parametrize("language", ["en", "da"])
def test_event_study_legend_says_what_each_interval_and_band_is(language):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.outputs import plots

    e = [-2, -1, 0, 1]
    t = pd.DataFrame(
        {
            "estimate": [0.01, 0.0, 0.02, 0.03],
            "low": [-0.01, np.nan, 0.0, 0.01],
            "high": [0.03, np.nan, 0.04, 0.05],
            "low_jk": [-0.02, np.nan, -0.01, 0.0],
            "high_jk": [0.04, np.nan, 0.05, 0.06],
            "band_low": [-0.03, np.nan, -0.02, -0.01],
            "band_high": [0.05, np.nan, 0.06, 0.07],
            "reference": [False, True, False, False],
        },
        index=pd.Index(e, name="event_time"),
    )
    fig, ax = plt.subplots()
    methods = {"Callaway & Sant'Anna": ("interval_jackknife", "band_multiplier")}
    plots.event_study({"Callaway & Sant'Anna": t}, ax, language=language, methods=methods, draws=999)
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    plt.close(fig)
    assert any("jackknife" in x and "95 %" in x and "(z)" in x for x in legend), legend
    assert any(("multiplier bootstrap, 999 draws" if language == "en" else "999 træk") in x for x in legend), legend


def test_floor_note_names_what_falls_short_and_what_reaches_the_floor():
    from helpers.analysis.adoption.simulation import SimulationStudy

    rows = [
        ("cs", "95 %, normal, analytic IF", "simple ATT", 0.905, 0.0066),
        ("cs", "95 %, normal, jackknife", "simple ATT", 0.941, 0.0053),
        ("cs", "pointwise 95 %, normal, jackknife", "3", 0.947, 0.005),
        ("cs", "pointwise 95 %, normal, jackknife", "7", 0.921, 0.006),
        ("twfe", "95 %, normal (z), CRV1", "static effect", 0.94, 0.005),
    ]
    cov = pd.DataFrame(rows, columns=["estimator", "interval", "target", "coverage", "mc_se"])
    cov["below_floor"] = cov["coverage"] < 0.93
    s = SimulationStudy(pd.DataFrame(), cov, None, None, 2000, 199, {}, (), "notyettreated")
    lines = s.floor_note().splitlines()
    assert lines == [
        "cs, simple ATT: below 0.93: 95 %, normal, analytic IF: 0.905 (MC SE 0.007); use 95 %, normal, jackknife: "
        "0.941 (MC SE 0.005).",
        "cs, each event time: below 0.93: pointwise 95 %, normal, jackknife: 0.921 (MC SE 0.006) (lowest at event "
        "time 7); none reaches 0.93; the closest is pointwise 95 %, normal, jackknife (0.921).",
    ]
    cov["below_floor"] = False
    s = SimulationStudy(pd.DataFrame(), cov, None, None, 2000, 199, {}, (), "notyettreated")
    assert s.floor_note() == "Every interval checked covers at least 0.93 at this design."


@pytest.mark.slow
def test_robustness_holds_the_three_refits_of_section_9(real):
    """adoption.robustness (notebook 04's section 9) is the data-choice sensitivity, leave one round out and the
    imputed timing, each equal to its function called on its own."""
    spec = adoption.EstimationSpec(draws=199)
    r = adoption.robustness(real, spec, m=5, seed=7)
    pd.testing.assert_frame_equal(r.sensitivity.table, adoption.sensitivity(real, spec).table)
    pd.testing.assert_frame_equal(r.rounds.table, adoption.leave_one_round_out(real, spec).table)
    alone = adoption.imputed_timing(real, spec, m=5, seed=7)
    pd.testing.assert_frame_equal(r.imputed.table, alone.sensitivity.table)
    assert r.imputed is r.imputation.sensitivity and (r.imputation.m, r.imputation.seed) == (5, 7)
    assert list(r.rounds.table.index) == ["rounds 2009, 2011, 2014", "without 2009", "without 2011", "without 2014"]
    assert list(r.sensitivity.table.index)[0] == "as specified"
