"""The adoption panel (helpers.analysis.adoption): timing rules, data handling, estimators against known truth."""

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import adoption
from helpers.core import files, paths
from helpers.data import provenance, usage
from helpers.data.synthetic import usage as synth

YEARS = [2010, 2011, 2012, 2013, 2014, 2015, 2018, 2019, 2020, 2021, 2022, 2023]  # the real series with a population


@pytest.fixture(scope="module")
def synthetic(surveys):
    return adoption.build([2009, 2011, 2014], source="synthetic", surveys=surveys)


# --- treatment and timing rules ------------------------------------------------------------------
def test_treatment_definitions():
    assert adoption.treated_models("any") == [1, 2, 3, 4]
    assert adoption.treated_models("staff") == [3, 4]
    assert adoption.treated_models("level>=3") == [3, 4]  # 5<1<2<3<4: levels 3, 4 are models 3, 4
    assert adoption.treated_models("level>=3", "5<1<3<2<4") == [2, 4]
    assert adoption.treated_models("level>=1") == [1, 2, 3, 4]
    assert adoption.treated_models("level3+") == adoption.treated_models("level>=3")  # the form without '=' (papermill)
    with pytest.raises(ValueError, match="accepted: any, staff"):
        adoption.treated_models("level>=5")


def _models(rows):
    return pd.DataFrame(
        rows, index=pd.Index([101, 147, 151, 153, 155, 157, 159], name="kommunekode"), columns=[2009, 2011, 2014]
    ).astype("Int64")


def test_timing_rules_by_hand():
    na = pd.NA
    m = _models(
        [
            [5, 5, 5],  # never treated
            [5, 2, 2],  # adopter 2011 -> 2012, earliest 2011 (2010 is the 2009 round's usage year)
            [3, 3, 3],  # treated at the first round: always treated
            [5, 1, 5],  # reverses to a lower level: absorbing
            [na, na, 4],  # no untreated report: left-censored, earliest = 2010
            [na, na, na],  # answered nothing
            [5, na, 3],
        ]
    )  # 2011 unanswered: interval reaches back to 2009 -> earliest 2011, g 2015
    t = adoption.timing(m, "any")
    assert t.loc[101, "category"] == "never treated" and t.loc[101, "g_round"] == 0
    assert (t.loc[147, "g_round"], t.loc[147, "g_earliest"], t.loc[147, "category"]) == (2012, 2011, "adopter")
    assert t.loc[151, "category"] == "always treated" and not t.loc[151, "included"]
    assert t.loc[153, "reversal"] and t.loc[153, "included"] and t.loc[153, "g_round"] == 2012
    assert t.loc[155, "left_censored"] and t.loc[155, "g_round"] == 2015 and t.loc[155, "g_earliest"] == 2010
    assert t.loc[157, "category"] == "no answer" and not t.loc[157, "included"]
    assert (t.loc[159, "g_round"], t.loc[159, "g_earliest"]) == (2015, 2011)
    assert t.loc[147, "history"] == "2009:5 2011:2 2014:2"
    ex = adoption.timing(m, "any", reversals="exclude")
    assert not ex.loc[153, "included"] and "reversals='exclude'" in ex.loc[153, "reason"]
    staff = adoption.timing(m, "staff")  # 2 and 1 are not library staff: 147 and 153 never treated
    assert staff.loc[147, "category"] == "never treated" and staff.loc[153, "category"] == "never treated"
    assert staff.loc[151, "category"] == "always treated"
    table = adoption.reversal_table(t)
    assert table.index.tolist() == [153] and table.loc[153, "rule"].startswith("absorbing")
    with pytest.raises(ValueError, match="at least two rounds"):
        adoption.timing(m[[2009]], "any")


def test_every_timing_category_has_an_export_code():
    """05_export_data codes adoption_<t> by the vocabulary's categories: each one timing() gives has a code and a
    label (a start unknown or censored unit, as the shipped three rounds have, once failed the export)."""
    from helpers.core import vocabulary
    from helpers.outputs import variables

    na = pd.NA
    m = _models([[5, 5, 5], [5, 2, 2], [3, 3, 3], [5, 5, na], [na, na, 4], [na, na, na], [5, na, 3]])
    found = set(adoption.timing(m, "any")["category"])
    assert found == {"never treated", "adopter", "always treated", "censored", "start unknown", "no answer"}
    assert found <= set(vocabulary.choices(vocabulary.AdoptionCategory))
    codes = variables.canonical_codes()["adoption"]
    assert set(codes) == found and sorted(codes.values()) == list(range(1, len(codes) + 1))
    assert [codes[c] for c in ("never treated", "adopter", "always treated", "no answer")] == [1, 2, 3, 4]  # as before
    assert set(variables._ADOPTION_TEXT) == found  # every code has its label


def test_fanoe_takes_esbjerg_answer():
    s = {
        2009: pd.DataFrame({"kommunekode": [561, 563, 101], "model": [2, 5, 0]}),
        2011: pd.DataFrame({"kommunekode": [561, 563], "model": [3, 3]}),
    }
    m = adoption.round_models([2009, 2011], s)
    assert len(m) == usage.N_UNITS and 563 not in m.index
    assert m.loc[561].tolist() == [2, 3]
    assert pd.isna(m.loc[101, 2009])  # model 0 = did not answer


# --- the panel on the real loans ---------------------------------------------------------------
def test_real_panel_years_gaps_and_flags(real):
    years = real.years
    assert not years.loc[2016, "in_series"] and not years.loc[2017, "in_series"]
    assert years.loc[2020, "covid"] and years.loc[2020, "used"]  # kept by default
    assert not years.loc[2024, "used"] and "population" in years.loc[2024, "note"]
    s = real.sample
    assert sorted(s["year"].unique()) == YEARS
    assert s["kommunekode"].nunique() <= usage.N_UNITS and 563 not in set(s["kommunekode"])
    gribskov = real.panel.set_index(["kommunekode", "year"]).loc[(270, 2012)]
    assert not gribskov["in_sample"] and "reporting_failure" in gribskov["why_out"]  # the 0 loans are left out
    assert real.synthetic and not real.synthetic_usage  # real loans, synthetic survey rounds: still synthetic
    flagged = real.flags[real.flags["quality_flag"] == "reporting_failure"]
    assert {(270, 2012), (741, 2013)} <= set(zip(flagged["kommunekode"], flagged["year"], strict=False))
    assert not flagged["in_sample"].any()
    kept = adoption.build([2009, 2011, 2014], source="real", exclude_flags=(), surveys=real_surveys(real))
    back = kept.flags.set_index(["kommunekode", "year"])
    included = kept.timing.loc[flagged["kommunekode"], "included"].to_numpy()
    for (k, y), inc in zip(zip(flagged["kommunekode"], flagged["year"], strict=False), included, strict=False):
        positive = real.panel.set_index(["kommunekode", "year"]).loc[(k, y), "loans"] > 0
        assert back.loc[(k, y), "in_sample"] == (inc and positive), (k, y)  # only the flag kept them out
    covid = adoption.build([2009, 2011, 2014], source="real", covid="exclude", surveys=real_surveys(real))
    assert not set(covid.sample["year"]) & {2020, 2021}


def real_surveys(built):
    """The survey frames again, from the models table (model 0 where not answered)."""
    m = built.models
    return {
        r: pd.DataFrame({"kommunekode": m.index, "model": m[r].fillna(0).astype(int).to_numpy()}) for r in m.columns
    }


def test_always_treated_and_timing_sensitivity(real):
    t = real.timing
    always = t[t["category"] == "always treated"]
    assert len(always) > 0 and (always["g_round"] == 2010).all() and not always["included"].any()
    sample = real.sample
    assert not set(always.index) & set(sample["kommunekode"])
    assert set(sample["g"].unique()) <= {0, 2012, 2015}
    early = adoption.build([2009, 2011, 2014], source="real", timing_rule="earliest", surveys=real_surveys(real))
    t_e = early.timing
    adopters = t_e[t_e["category"] == "adopter"]
    assert (adopters["g_earliest"] <= adopters["g_round"]).all()
    assert set(adopters.loc[adopters["g_round"] == 2015, "g_earliest"]) <= {2010, 2011, 2013}
    # with the earlier bound, units adopting by 2011 that were untreated in 2009 start in 2011
    assert 2011 in set(early.sample["g"])


# --- estimators -------------------------------------------------------------------------------------
def _effect(g, y):
    if not g or y < g:
        return 0.0
    return (0.04 + 0.01 * (y - g)) * (1.6 if g == 2012 else 0.5)


@pytest.mark.parametrize("control_group", ["notyettreated", "nevertreated"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_vectorised_cs_equals_csdid(control_group, anticipation):
    g = np.array([0] * 20 + [2012] * 30 + [2015] * 30)
    Y = adoption.simulate_panels(g, YEARS, _effect, 1, seed=11)
    df = pd.DataFrame(
        [(i + 1, y, g[i], Y[0, i, j]) for i in range(len(g)) for j, y in enumerate(YEARS)],
        columns=["kommunekode", "year", "g", "log_rate"],
    )
    lib = adoption.fit_cs(df, control_group, anticipation, window=(-5, 11)).table
    mine = adoption.cs_event_arrays(
        Y, g, YEARS, control_group=control_group, anticipation=anticipation, window=(-5, 11)
    )
    assert set(mine) == set(lib.index[~lib["reference"]])
    for e, (est, se) in mine.items():
        assert est[0] == pytest.approx(lib.loc[e, "estimate"], abs=1e-10)
        assert se[0] == pytest.approx(lib.loc[e, "se"], abs=1e-10)
    # calendar event time across the 2016-2017 gap: event time 3 of the 2015 cohort is 2018, not 2019
    attgt = adoption.fit_cs(df, control_group, anticipation, window=(-5, 11)).attgt
    assert {(2015, 2018), (2012, 2015)} <= set(zip(attgt["g"], attgt["year"], strict=False))


def test_cs_recovers_known_effects_without_noise():
    g = np.array([0] * 20 + [2012] * 30 + [2015] * 30)
    Y = adoption.simulate_panels(g, YEARS, _effect, 1, sd_noise=1e-9, seed=2)
    res = adoption.cs_event_arrays(Y, g, YEARS, window=(-4, 8))
    assert res[0][0][0] == pytest.approx((30 * 0.064 + 30 * 0.02) / 60, abs=1e-6)  # both cohorts at impact
    assert res[1][0][0] == pytest.approx(0.05 * 1.6, abs=1e-6)  # 2013: only the 2012 cohort (2016 is missing)
    assert res[-2][0][0] == pytest.approx(0.0, abs=1e-6)


def test_simulation_coverage_and_twfe_bias():
    """>= 500 panels with cohort-heterogeneous dynamic effects: CS intervals cover ~95 %, static TWFE is biased."""
    g = np.array([0] * 25 + [2012] * 35 + [2015] * 37)
    study = adoption.simulation_study(g, YEARS, synth.adoption_effect, reps=600, window=(-4, 8), seed=7)
    ev = study.event
    assert study.reps >= 500
    assert ev["coverage"].between(0.91, 0.985).all(), ev
    assert abs(ev["coverage"].mean() - 0.95) < 0.015
    assert (ev["bias"].abs() < 0.005).all()
    tw = study.twfe
    assert tw.bias < -0.3 * tw.true_att  # visibly biased: less than 70 % of the true average effect
    assert abs(tw.bias) > 10 * tw.sd / np.sqrt(study.reps)


def test_twfe_poisson_recovers_homogeneous_effects_and_matches_statsmodels():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(4)
    g = np.array([0] * 20 + [2012] * 20 + [2015] * 20)
    rows = []
    for i, gg in enumerate(g):
        pop, u = rng.uniform(2e4, 2e5), rng.normal(0, 0.2)
        for y in YEARS:
            eff = 0.1 if gg and y >= gg else 0.0
            rows.append((i + 1, y, gg, pop, rng.poisson(pop * 5 * np.exp(u + 0.01 * (y - 2010) + eff))))
    df = pd.DataFrame(rows, columns=["kommunekode", "year", "g", "population", "loans"])
    df["log_pop"] = np.log(df["population"])
    df["event_time"] = np.where(df["g"] > 0, df["year"] - df["g"], np.nan)
    static = adoption.fit_twfe_static(df)
    assert static.estimate == pytest.approx(0.1, abs=0.01)
    ev = adoption.fit_twfe_event(df, window=(-3, 4))
    t = ev.table
    assert t.loc[-1, "reference"] and t.loc[-1, "estimate"] == 0
    assert t.loc[[0, 1, 2, 3, 4], "estimate"].to_numpy() == pytest.approx([0.1] * 5, abs=0.015)
    d, times = adoption.event_dummies(df, (-3, 4))
    formula = "loans ~ " + " + ".join(adoption.event_term(k) for k in times) + " + C(kommunekode) + C(year)"
    ref = smf.glm(formula, data=d, family=sm.families.Poisson(), offset=d["log_pop"]).fit()
    for k in times:
        assert t.loc[k, "estimate"] == pytest.approx(ref.params[adoption.event_term(k)], abs=1e-6)


def test_cs_on_the_synthetic_panel_against_truth(synthetic):
    assert synthetic.synthetic and synthetic.synthetic_usage
    cs = adoption.fit_cs(synthetic.sample, window=(-4, 8))
    truth = adoption.true_event_effects(synthetic.sample, adoption.load_adoption_truth(), window=(-4, 8))
    vs = adoption.estimates_vs_truth(cs.table, truth)
    post = vs.loc[vs.index >= 0]
    assert post["covered"].mean() >= 0.75, vs
    assert (post["true"] > 0).all() and (vs.loc[[-4, -3, -2], "true"].abs() < 0.06).all()
    assert 0 <= cs.pretrend.p <= 1


# --- synthetic panel mode ---------------------------------------------------------------------
def test_synthetic_adoption_panel_is_reproducible_and_flagged(raw_copy):
    shipped = {
        n: files.sha256(paths.root() / "data" / "raw" / "usage" / n)
        for n in (synth.ADOPTION_FILE, synth.ADOPTION_TRUTH_FILE, synth.ADOPTION_TRUTH_DOC)
    }
    out = synth.write_adoption_examples()
    assert {p.name: files.sha256(p) for p in out.values()} == shipped
    for p in out.values():
        assert provenance.is_synthetic(p)
    panel = pd.read_csv(out["adoption_panel"])
    assert sorted(panel["year"].unique()) == list(usage.REAL_LOANS_YEARS)
    assert panel["kommunekode"].nunique() == usage.N_UNITS


def test_synthetic_truth_zero_before_adoption_and_cohort_heterogeneous():
    truth = adoption.load_adoption_truth()
    treated = truth[truth["cohort"] > 0]
    assert (truth.loc[truth["cohort"] == 0, "log_effect"] == 0).all()
    assert (treated.loc[treated["year"] < treated["cohort"], "log_effect"] == 0).all()
    at3 = treated[treated["event_time"] == 3].groupby("cohort")["log_effect"].first()
    assert at3[2012] == pytest.approx(1.5 * 0.07) and at3[2015] == pytest.approx(0.6 * 0.07)
    assert synth.adoption_effect(2012, 2025) == pytest.approx(1.5 * (0.07 + 0.004 * 10))


def test_csdid_equals_pyfixest_sun_abraham_with_never_treated_controls():
    """Two libraries, one estimand: with never-treated controls, no covariates and a balanced panel, the
    Callaway & Sant'Anna event study (universal base) equals Sun & Abraham's interaction-weighted
    estimator (pyfixest's saturated event study), also across the 2016-2017 gap."""
    import warnings

    import pyfixest as pf

    g = np.array([0] * 25 + [2012] * 35 + [2015] * 37)
    Y = adoption.simulate_panels(g, YEARS, synth.adoption_effect, 1, seed=3, sd_noise=0.02)
    df = pd.DataFrame(
        [(i + 1, y, g[i], Y[0, i, j]) for i in range(len(g)) for j, y in enumerate(YEARS)],
        columns=["kommunekode", "year", "g", "log_rate"],
    )
    cs = adoption.fit_cs(df, "nevertreated", window=(-5, 11)).table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sa = pf.event_study(
            df,
            yname="log_rate",
            idname="kommunekode",
            tname="year",
            gname="g",
            estimator="saturated",
            cluster="kommunekode",
        ).aggregate(weighting="shares")
    sa.index = sa.index.astype(int)
    common = [e for e in cs.index if not cs.loc[e, "reference"]]
    assert set(common) == set(sa.index)
    for e in common:
        assert cs.loc[e, "estimate"] == pytest.approx(sa.loc[e, "Estimate"], abs=1e-8), e
    assert cs.loc[3, "estimate"] == pytest.approx((35 * 0.105 + 37 * 0.042) / 72, abs=0.02)  # and near the truth


# --- vocabulary, specification and key results ----------------------------------------------------
def test_words_name_exactly_the_vocabulary():
    from typing import get_args

    from helpers.core import vocabulary
    from helpers.results import adoption as keys

    assert set(keys.TREATMENT_WORDS) == set(get_args(vocabulary.Treatment))
    assert set(keys.ESTIMATOR_LABELS) == set(adoption.ESTIMATOR_WORDS) == set(get_args(vocabulary.Estimator))
    assert set(adoption.CONTROL_GROUP_WORDS) == set(get_args(vocabulary.ControlGroup))
    assert adoption.parse_treatment("level>=2") == "level2+" and adoption.parse_treatment(" staff") == "staff"


@pytest.mark.parametrize(
    "change, says",
    [
        ({"covid": "drop"}, "covid 'drop' is not accepted; accepted: 'include', 'exclude'"),
        ({"timing": "late"}, "timing 'late' is not accepted; accepted: 'round', 'earliest'"),
        ({"estimator": "ols"}, "estimator 'ols' is not accepted; accepted: 'cs', 'twfe'"),
        ({"control_group": "all"}, "control_group 'all' is not accepted"),
        ({"usage_source": "statbank"}, "usage source 'statbank' is not accepted; accepted: 'real', 'synthetic'"),
        ({"outcome": "visits"}, "outcome 'visits' is not accepted; accepted: 'loans'"),
        ({"exclude_flagged": ["typo"]}, "quality flag 'typo' is not accepted; accepted: 'reporting_failure'"),
        ({"treatment": "level9+"}, r"treatment 'level9\+' is not accepted; accepted: any, staff, level1\+, "),
        ({"event_window": [0, 8]}, r"event window \(0, 8\) must contain the reference period -1"),
    ],
)
def test_specification_checks_every_parameter(change, says):
    with pytest.raises(ValueError, match=says):
        adoption.Specification(**change)


def test_specification_reads_the_notebook_parameters_by_name():
    import ast

    import nbformat

    nb = nbformat.read(paths.notebooks() / "04_adoption_panel.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    declared = {t.id: ast.literal_eval(s.value) for s in ast.parse(cell.source).body for t in s.targets}
    spec = adoption.Specification.from_parameters(declared)
    assert spec.parameters() == {k: v for k, v in declared.items() if k not in ("language", "languages")}  # the JSON
    assert spec == adoption.Specification()  # the class's defaults are the notebook's
    assert spec.panel.rounds == (2009, 2011, 2014) and spec.estimation.window == (-4, 8)
    assert spec.tag == "real_2009_2011_2014"
    with pytest.raises(ValueError, match="notebook parameters missing: rounds, treatment"):
        adoption.Specification.from_parameters({"ordering": "5<1<2<3<4"})


def test_sensitivity_variants_turn_one_choice_each():
    spec = adoption.PanelSpec((2009, 2011, 2014))
    variants = adoption.sensitivity_variants(spec)
    assert list(variants) == [
        "as specified",
        "timing at the earlier bound",
        "COVID years excluded",
        "flagged values kept",
        "reversals excluded",
    ]
    assert variants["as specified"] == spec
    assert variants["timing at the earlier bound"] == adoption.PanelSpec((2009, 2011, 2014), timing_rule="earliest")
    assert variants["flagged values kept"].exclude_flags == ()
    other = adoption.sensitivity_variants(adoption.PanelSpec((2011, 2014), covid="exclude", exclude_flags=()))
    assert "COVID years included" in other and "reporting failures left out" in other


@pytest.fixture(scope="module")
def study(real):
    spec = adoption.EstimationSpec()
    estimates = adoption.estimate(real, spec)
    return estimates, adoption.sensitivity(real, spec), adoption.simulation_for(real, spec, reps=20)


def test_estimates_hold_every_estimator_on_one_sample(real, study):
    estimates, _, _ = study
    assert list(estimates.tables()) == ["Callaway & Sant'Anna", "TWFE Poisson"]  # the headline first
    assert estimates.headline_study is estimates.cs and estimates.cs.label == "Callaway & Sant'Anna"
    assert estimates.twfe.n_units == real.units and estimates.twfe.n_obs == len(real.sample)
    assert estimates.cs.n_units == real.balanced()["kommunekode"].nunique()
    assert estimates.cs.n_obs == len(real.balanced())
    post = estimates.cs.table.loc[estimates.cs.table.index >= 0, "estimate"]
    assert estimates.cs.average_post() == pytest.approx(post.mean(), rel=1e-15)
    assert estimates.pretrend().loc["TWFE Poisson", "df"] == 3 and estimates.pretrend().loc["TWFE Poisson", "p"] > 0


def test_key_results_hold_the_typed_results_and_survive_json(real, study):
    from helpers.results import adoption as keys

    estimates, sens, sim = study
    r = adoption.key_results(real, estimates, sens, sim)
    assert isinstance(r, keys.AdoptionResults) and r.vs_truth == ()  # the real loans have no truth
    assert r.rounds == (2009, 2011, 2014) and r.treatment == "any" and r.headline == "cs"
    assert (r.source, r.synthetic_usage, r.synthetic_survey) == ("real", False, True)
    assert r.cohorts == {int(g): int(n) for g, n in real.cohorts()["units"].items()} and r.cohorts[0] > 0
    assert sum(r.left_out.values()) >= (~real.panel["in_sample"]).sum()  # a row may be out for several reasons
    assert sum(g.units for g in r.timing) == usage.N_UNITS
    cs = r.event_studies["cs"]
    assert (cs.units, cs.observations) == (estimates.cs.n_units, estimates.cs.n_obs)
    table = estimates.cs.table
    for e in cs.effects:
        assert e.estimate == table.loc[e.event_time, "estimate"]
        if e.reference:
            assert e.se is None and e.low is None and e.p is None  # no NaN in the results: null
        else:
            assert e.se == table.loc[e.event_time, "se"] and e.high == table.loc[e.event_time, "high"]
    assert cs.pretrend.df is None and cs.pretrend.p == estimates.cs.pretrend.p
    assert r.event_studies["twfe"].pretrend.df == 3
    assert r.twfe_static.estimate == estimates.static.estimate and r.twfe_static.n == estimates.static.n
    first = r.sensitivity[0]
    assert first.variant == "as specified" and first.avg_post == pytest.approx(estimates.cs.average_post(), rel=1e-15)
    assert first.twfe_static == estimates.static.estimate and first.units == estimates.cs.n_units
    assert r.simulation.reps == 20 and len(r.simulation.event) == len(sim.event)
    assert r.simulation.twfe.bias == sim.twfe.bias
    assert keys.AdoptionResults.from_json(r.to_json()) == r


def test_key_results_compare_the_synthetic_panel_with_its_truth(synthetic):
    spec = adoption.EstimationSpec(window=(-4, 8))
    estimates = adoption.estimate(synthetic, spec)
    truth = adoption.compare_with_truth(synthetic, estimates.headline_study)
    sens = adoption.Sensitivity(pd.DataFrame(), "cs", {})  # the comparison does not need the variants
    sim = adoption.simulation_for(synthetic, spec, reps=10)
    r = adoption.key_results(synthetic, estimates, sens, sim, truth)
    rows = {row.event_time: row for row in r.vs_truth}
    assert set(rows) == set(truth.table.index)
    assert rows[-1].covered is None and rows[0].true == truth.table.loc[0, "true"]
    assert sum(bool(row.covered) for row in r.vs_truth) == truth.covered()[0]
    assert adoption.compare_with_truth(synthetic.variant(source="real"), estimates.headline_study) is None


def test_event_study_figure_draws_every_estimator_the_truth_and_its_title(synthetic):
    """Notebook 04's event-study figure (plots.adoption_event_study): one series per estimator, the headline first,
    the legend naming each interval's method and the bootstrap draws, the true effects dashed, the spec's title."""
    from matplotlib.container import ErrorbarContainer

    from helpers.outputs import labels, plots

    spec = adoption.Specification(usage_source="synthetic", treatment="any", bootstrap_draws=199)
    estimates = adoption.estimate(synthetic, spec.estimation)
    truth = adoption.compare_with_truth(synthetic, estimates.headline_study)
    cs = estimates.cs.table.loc[~estimates.cs.table["reference"]]
    for language in ("en", "da"):
        fig = plots.adoption_event_study(estimates, spec, truth, language=language)
        ax = fig.axes[0]
        words = labels.treatment("any", language)
        assert ax.get_title() == labels.text("event_title", language, treatment=words, rounds="2009, 2011, 2014")
        assert tuple(fig.get_size_inches()) == (9, 5)
        series = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(series) == 2  # Callaway & Sant'Anna and TWFE Poisson
        np.testing.assert_allclose(
            np.asarray(series[0].lines[0].get_ydata(), float), cs["estimate"].to_numpy(float)
        )  # the headline first
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        jackknife = labels.text("interval_jackknife", language)
        assert labels.text("series_interval_method", language, name="Callaway & Sant'Anna", method=jackknife) in legend
        band = labels.text("band_multiplier", language, draws=199)
        assert labels.text("simultaneous_band_method", language, name="Callaway & Sant'Anna", method=band) in legend
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(dashed) == 1 and labels.text("true_effect", language) in legend
        np.testing.assert_allclose(np.asarray(dashed[0].get_ydata(), float), truth.true.to_numpy(float))
    real_loans = plots.adoption_event_study(estimates, spec, None).axes[0]  # no truth: no dashed line
    assert not [line for line in real_loans.lines if line.get_linestyle() == "--"]
