"""Results in brief: sentences follow the numbers (direction, interval, p-value) and lead with the
synthetic caveat when the input is synthetic."""

import dataclasses
import math

import pytest
from brief_check import check, problems

from helpers.analysis import compare
from helpers.outputs import brief
from helpers.results import Document
from helpers.results import models as m
from helpers.results.compare import Bowker, ChangeCounts, CompareResults, McNemar, PairedTests, StuartMaxwell
from helpers.results.models import ModelResults
from helpers.results.nonresponse import (
    Bounds,
    CoverageCheck,
    Estimate,
    ImputationSettings,
    IntervalCoverage,
    Pooled,
    Sensitivity,
)

_CHECK = m.IntervalCheck(
    reported="cox_reid_t",
    target=(0.94, 0.96),
    coverage_range=(0.943, 0.951),
    outside_target={},
    mean_abs_error={"wald": 0.02, "profile": 0.02, "cox_reid_t": 0.004},
    advantage={"wald": 0.016, "profile": 0.016},
    advantage_mc_se={"wald": 0.003, "profile": 0.003},
    closest="cox_reid_t",
)


def _model_results(irr, low, high) -> ModelResults:
    """Key results of a notebook-03 run with one round (2014); the brief reads the sensitivity row of the
    default ordering on all kommuner, the change model and the power curve."""
    return ModelResults(
        outcome="loans",
        ordering="5<1<2<3<4",
        pairing={2014: m.Pairing(usage_year=2015, n=97, dropped=(563,), reporting_failures=(), kept=False)},
        flagged_reporting_failures=m.Flagged(kept_in_models=False, values=()),
        rounds={2014: m.RoundFit({}, irr, 0.04, 25.0, True, -1194.5, {}, 0.045, {})},
        change=m.Change(n=84, per_level=-0.021, ci=(-0.04, -0.002), standard_errors="HC3 (OLS), t on n - 2 df"),
        ordinal=m.Ordinal(params={}, cut_points={}, converged=True, max_abs_score=1e-15, loglik=-126.9),
        sensitivity=(m.SensitivityFit(2014, "5<1<2<3<4", "all kommuner", 97, irr, low, high, 0.07),),
        coverage=m.Coverage(
            2000,
            0,
            m.IntervalVerdict("profile", False, {"wald": 0.02, "profile": 0.02}, 0, 0.01),
            _CHECK,
            1.11,
            (),
        ),
        intervals=m.Intervals("cox_reid_t", {}, {}),
        power=m.Power(1.2234, 0.004, 1000, 0.04, 97, 0, ()),
    )


def _model_doc(irr, low, high, synthetic):
    return Document(
        "03_model_loans_2011_2014",
        synthetic,
        "",
        {"outcome": "loans", "ordering": "5<1<2<3<4"},
        _model_results(irr, low, high),
    )


def test_model_brief_states_number_direction_interval_and_caveat():
    real = brief.sentences(_model_doc(1.038, 0.998, 1.079, synthetic=False))
    assert real[0] == (
        "Survey 2014 (n = 97): loans per inhabitant were 3.8 % higher per level of cooperation "
        "(rate ratio 1.038, 95 % interval 0.998 to 1.079); the interval includes 1 (no difference)."
    )
    assert "change of -2.1 % in loans per inhabitant (95 % interval -4.0 % to -0.2 %, 84 kommuner" in real[1]
    assert "about 1.22" in real[2] and "not causal" in real[-1]
    assert not any("synthetic" in s for s in real)
    lower = brief.sentences(_model_doc(0.91, 0.85, 0.97, synthetic=True))
    assert lower[0] == brief.SYNTHETIC_CAVEAT
    assert "9.0 % lower" in lower[1] and "excludes 1" in lower[1]


def _sensitivity(value, low, high, bound_low, bound_high, incomplete=20) -> Sensitivity:
    """The net change four ways: the same estimate and interval for complete case, weighted and imputed."""
    est = {"value": value, "se": (high - low) / 3.92, "low": low, "high": high, "interval": "z", "n": 78, "df": 77}
    pooled = Pooled(
        **{**est, "interval": "t, df 60.0", "n": 98},
        m=50,
        within=1e-3,
        between=1e-4,
        total=1.1e-3,
        df_pooled=60.0,
        riv=0.1,
        fmi=0.1,
        mc_se=1.4e-3,
    )
    bounds = Bounds(low=bound_low, high=bound_high, incomplete=incomplete, method="exact", exact=True)
    return Sensitivity(
        quantity="net_change",
        description="net change: started minus stopped (paired)",
        rounds=(2009, 2011),
        complete_case=Estimate(**est),
        bounds=bounds,
        weighted=Estimate(**est),
        imputed=pooled,
    )


_WORDS = {  # what each simulated interval is (helpers.analysis.nonresponse.coverage.INTERVALS)
    ("complete case", True): "Wilson score",
    ("complete case", False): "z",
    ("imputed", True): "Wilson score by Rubin's rules, t, Barnard-Rubin df",
    ("imputed", False): "t, Barnard-Rubin df (Rubin's rules)",
}


def _coverage_check(coverage: dict | None) -> CoverageCheck:
    """A coverage check of the five key quantities, complete case and imputed, 2,000 repetitions."""
    rows = []
    for treatment in ("complete case", "imputed"):
        for q in ("cooperating_a", "cooperating_b", "started", "stopped", "net_change"):
            c = (coverage or {}).get((q, treatment), 0.95)
            rows.append(
                IntervalCoverage(
                    quantity=q,
                    treatment=treatment,
                    interval=_WORDS[treatment, q != "net_change"],
                    truth=0.006 if q == "stopped" else 0.3,
                    coverage=c,
                    mc_se=math.sqrt(c * (1 - c) / 2000),
                    coverage_realised=1.0,
                    mc_se_realised=0.0,
                    mean_width=0.2,
                    gap=c - 0.94 if c < 0.94 else c - 0.96 if c > 0.96 else 0.0,
                    used=2000,
                )
            )
    return CoverageCheck(
        reps=2000,
        m=50,
        iterations=5,
        seed=1,
        level=0.95,
        target=(0.94, 0.96),
        design="98 kommuner",
        cells=((0.3, 0.3), (0.006, 0.394)),
        response_patterns=(0.8, 0.12, 0.08, 0.0),
        imputation_model="reduced",
        not_simulated="weighted",
        rows=tuple(rows),
    )


def _compare_doc(
    *,
    started: int = 18,
    stopped: int = 1,
    p_mcnemar: float = 7.6e-05,
    p_stuart_maxwell: float = 0.2,
    net=(0.17, 0.08, 0.26),
    bounds=(0.12, 0.30),
    p_worst: float = 0.004,
    coverage: dict | None = None,
) -> Document:
    """A 02_compare results document: the numbers the brief reads, and plausible values elsewhere (``coverage``:
    (quantity, treatment) -> coverage of the simulated intervals, 0.95 where not given)."""
    mcnemar = McNemar(
        statistic=float(min(started, stopped)),
        df=None,
        pvalue=p_mcnemar,
        n=78,
        method="exact binomial",
        chi2=15.2,
        b=stopped,
        c=started,
        categories=("cooperation", "no cooperation"),
        table=((36, stopped), (started, 78 - 36 - stopped - started)),
    )
    tests = PairedTests(
        bowker=Bowker(statistic=25.0, df=8, pvalue=0.002, n=78, df_all_pairs=10, pvalue_all_pairs=0.005, empty_pairs=2),
        stuart_maxwell=StuartMaxwell(statistic=6.0, df=4, pvalue=p_stuart_maxwell, n=78),
        mcnemar_cooperation=mcnemar,
    )
    nonresponse = McNemar(
        statistic=8.0,
        df=None,
        pvalue=0.5,
        n=98,
        method="exact binomial",
        chi2=0.8,
        b=12,
        c=8,
        categories=("answered", "did not answer"),
        table=((78, 12), (8, 0)),
    )
    results = CompareResults(
        year_a=2009,
        year_b=2011,
        ordering="5<1<2<3<4",
        n_kommuner=98,
        answered={2009: 90, 2011: 86},
        cooperating={2009: 37, 2011: 54},
        model_counts={2009: {0: 8, 5: 53, 1: 11, 2: 13, 3: 9, 4: 4}, 2011: {0: 12, 5: 32, 1: 16, 2: 15, 3: 14, 4: 9}},
        paired_n=78,
        transitions={5: {5: 23, 1: 13}, 1: {1: 1}},
        tests=tests,
        nonresponse_test=nonresponse,
        change_by_ordering={"5<1<2<3<4": ChangeCounts(up=35, same=39, down=4, not_comparable=20)},
        family=compare.family_of_tests(compare.test_family(tests, nonresponse)),
        sensitivity={"net_change": _sensitivity(*net, *bounds)},
        model_shares={},
        transition_bounds={5: {5: (23, 31)}},
        mcnemar_bounds=Bounds(low=1e-9, high=p_worst, incomplete=20, method="search", exact=False),
        weights=(),
        imputation=ImputationSettings(m=50, iterations=10, seed=1, method="chained equations", predictors=()),
        coverage=_coverage_check(coverage),
    )
    parameters = {"year_a": 2009, "year_b": 2011, "ordering": "5<1<2<3<4"}
    return Document("02_compare_2009_2011", False, "computed from real data", parameters, results)


def test_compare_brief_reads_the_paired_tests():
    doc = _compare_doc()
    s = brief.sentences(doc)
    # the paired comparison of the same kommuner leads, singled out by its Holm-adjusted p-value (issue 23)
    assert s[0].startswith("Of the 78 kommuner that answered both 2009 and 2011, 18 started and 1 stopped")
    assert "18 started and 1 stopped cooperating (McNemar exact binomial, Holm-adjusted p < 0.001" in s[0]
    assert "clear evidence" in s[0]
    # the counts over each round's respondents come later, named as different respondents
    counts = next(x for x in s if x.startswith("54 kommuner reported cooperation in 2011 against 37 in 2009 (more)"))
    assert s.index(counts) > 0 and "different respondents" in counts
    # Stuart-Maxwell raw p = 0.20; Holm over the four tests (0.002, 0.2, 7.6e-5, 0.5): 2 x 0.2 = 0.40
    sm = next(x for x in s if "Stuart-Maxwell" in x)
    assert "does not clearly differ" in sm and "p = 0.20" in sm and "Holm-adjusted p = 0.40" in sm
    assert check(s) == []


def test_compare_brief_reads_the_results_file_the_notebook_writes(outputs):
    from helpers.outputs import reports

    doc = _compare_doc()
    reports.write_results(doc.name, doc.results, synthetic=True, parameters=doc.parameters)
    loaded = brief.load(doc.name)
    assert loaded.results == doc.results
    s = brief.sentences(loaded)
    assert s[0] == brief.SYNTHETIC_CAVEAT
    assert s[1:] == brief.sentences(doc)
    assert s[-1] == (
        "Whether a kommune answered at all changed between the rounds with Holm-adjusted p = 0.50 "
        "(McNemar, paired: 12 answered only in 2009, 8 only in 2011)."
    )


def test_compare_brief_states_the_coverage_of_its_intervals_with_the_gap_outside_the_target():
    inside = next(x for x in brief.sentences(_compare_doc()) if "simulated at this design" in x)
    assert "covered the true share in 95.0 % (complete case) and 95.0 % (imputed)" in inside
    assert "(Monte Carlo SE 0.5 points)." in inside and "target" not in inside and "other" not in inside
    low = {("net_change", "complete case"): 0.931, ("net_change", "imputed"): 0.948, ("stopped", "complete case"): 0.4}
    s = next(x for x in brief.sentences(_compare_doc(coverage=low)) if "simulated at this design" in x)
    assert "93.1 % (complete case) and 94.8 % (imputed)" in s and "(Monte Carlo SE 0.6 points)" in s
    assert "the complete case one 0.9 points below the 94-96 % target" in s and "imputed one" not in s
    assert "1 of the other 8 intervals" in s and 'the complete case interval (Wilson score) of "stopped" at 40.0 %' in s
    assert "intervals of the net change (z; t, Barnard-Rubin df (Rubin's rules)) covered" in inside
    assert "Monte Carlo SE 1.1 points; a true share of 0.6 %" in s
    assert check([inside, s]) == []


@pytest.mark.parametrize(
    "case, values, words",
    [
        (
            "change, bounds exclude 0",
            {"p_mcnemar": 7.6e-05, "net": (0.17, 0.08, 0.26), "bounds": (0.12, 0.30)},
            ["clear evidence", "the bounds exclude 0", "even in the worst case", "p = 0.004 or less"],
        ),
        (
            "no change: interval and bounds include 0",
            {"started": 5, "stopped": 4, "p_mcnemar": 1.0, "net": (0.01, -0.05, 0.07), "bounds": (-0.15, 0.2)},
            ["no clear evidence", "the bounds include 0", "depends on what they would have answered"],
        ),
        (
            "raw p below 0.05, Holm-adjusted above",
            {"started": 12, "stopped": 4, "p_mcnemar": 0.038, "p_stuart_maxwell": 0.3, "net": (0.1, 0.0, 0.2)},
            ["no clear evidence", "Holm-adjusted p = 0.11"],  # 3 x 0.038 (Holm: second smallest of four)
        ),
        (
            "fewer started than stopped",
            {"started": 2, "stopped": 15, "p_mcnemar": 0.002, "net": (-0.17, -0.26, -0.08), "bounds": (-0.3, -0.05)},
            ["clear evidence", "the bounds exclude 0", "fewer kommuner started than stopped"],
        ),
    ],
)
def test_compare_brief_says_what_its_numbers_say_with_and_without_the_null(case, values, words):
    s = brief.sentences(_compare_doc(**values))
    text = " ".join(s)
    for w in words:
        assert w in text, (case, w)
    assert check(s) == [], case


def test_the_brief_checker_catches_sentences_that_contradict_their_numbers():
    assert problems("rate ratio 1.04 (95 % interval 0.998 to 1.079); the interval includes 1 (no difference).") == []
    assert problems("rate ratio 1.04 (95 % interval 0.998 to 1.079); the interval excludes 1.")  # contains 1
    assert problems("rate ratio 1.10 (95 % interval 1.02 to 1.19); the interval excludes 1 (no difference).")
    assert problems("the net change lies between +2.0 points and +9.0 points: the bounds include 0.")
    assert problems("(McNemar, Holm-adjusted p = 0.20): clear evidence of a change.")  # evidence with p > 0.05
    assert problems("(McNemar, Holm-adjusted p = 0.03): clear evidence of a change.")  # clear needs p < 0.01
    assert problems("(McNemar, p = 0.001): clear evidence of a change.")  # singled out by an unlabelled p
    assert problems("the distribution differs (Stuart-Maxwell, Holm-adjusted p = 0.40; unadjusted p = 0.20).")
    assert problems("(McNemar, unadjusted p = 0.004): clear evidence of a change.") == []
    assert problems("the distribution does not clearly differ (Holm-adjusted p = 0.40; unadjusted p = 0.20).") == []
    # the same checks through a whole brief: a sentence turned around is caught
    s = brief.sentences(_compare_doc())
    assert check(s) == []
    assert check([x.replace("exclude 0", "include 0") for x in s])
    assert check([x.replace("does not clearly differ", "differs") for x in s])


def test_compare_brief_when_every_kommune_answered_both_rounds():
    doc = _compare_doc(bounds=(0.17, 0.17))
    r = doc.results
    net = dataclasses.replace(
        r.sensitivity["net_change"], bounds=Bounds(low=0.17, high=0.17, incomplete=0, method="exact", exact=True)
    )
    doc = dataclasses.replace(doc, results=dataclasses.replace(r, sensitivity={"net_change": net}))
    s = brief.sentences(doc)
    assert "Every kommune answered both 2009 and 2011: non-response cannot change these numbers." in s
    assert check(s) == []


def test_unknown_results_are_refused_with_the_known_prefixes():
    with pytest.raises(ValueError, match="known prefixes"):
        brief.sentences({"name": "99_other", "results": {}, "parameters": {}})


def test_show_reads_the_notebook_results(outputs):
    from helpers.outputs import reports

    reports.write_results(
        "03_model_loans_2011_2014",
        _model_results(1.038, 0.998, 1.079),
        synthetic=False,
        parameters={"outcome": "loans", "ordering": "5<1<2<3<4"},
    )
    md = brief.show("03_model_loans_2011_2014").data
    assert md.startswith("### Results in brief") and "3.8 % higher" in md
    with pytest.raises(FileNotFoundError, match="run the notebook"):
        brief.load("00_reference")


def test_key_values_show_whole_numbers_whole_and_rates_as_percent():
    from helpers.outputs import reports

    t = reports.key_values(
        {"rows": 91, "answered_model": 90.0, "response_rate": 0.918, "mean": 2.5},
        name="survey 2009",
        percent=("response_rate",),
    )
    assert t["survey 2009"].tolist() == ["91", "90", "91.8%", "2.500"]
    assert t.index.tolist() == ["rows", "answered model", "response rate", "mean"]


def test_adoption_treatment_is_named_in_words_not_as_a_parameter_value():
    assert brief.treatment_words("any") == "any cooperation (models 1-4)"
    assert brief.treatment_words("staff") == "library staff doing the tasks (models 3-4)"
    assert brief.treatment_words("level3+") == "cooperation level 3 or higher"


def _adoption_doc(synthetic: bool, *, vs_truth=()):
    from helpers.results import Document
    from helpers.results import adoption as keys

    def effect(e, est, se=0.02):
        if e == -1:
            return keys.EventTimeEffect(e, 0.0, None, None, None, None, True)
        return keys.EventTimeEffect(e, est, se, est - 1.96 * se, est + 1.96 * se, 0.5, False)

    def study(estimator, label, shift, p):
        effects = tuple(effect(e, 0.01 * e + shift) for e in (-2, -1, 0, 1, 2))
        return keys.EventStudyResult(estimator, label, 59, 708, effects, keys.PretrendTest(3.2, None, p, "test"))

    results = keys.AdoptionResults(
        rounds=(2009, 2011, 2014),
        treatment="staff",
        source="real",
        synthetic_usage=False,
        synthetic_survey=synthetic,
        years=(keys.YearUse(2010, True, True, False, True, ""),),
        left_out={"unit: always treated": 518},
        timing=(
            keys.TimingGroup("adopter", 2012, 2011, 29, 29, 0),
            keys.TimingGroup("always treated", 2010, 2010, 37, 0, 0),
            keys.TimingGroup("never treated", 0, 0, 8, 8, 0),
        ),
        cohorts={0: 8, 2012: 29, 2015: 23},
        reversals=keys.ReversalRule("absorbing", ()),
        event_studies={
            "cs": study("cs", "Callaway & Sant'Anna", 0.02, 0.056),
            "twfe": study("twfe", "TWFE Poisson", 0.0, None),
        },
        headline="cs",
        twfe_static=keys.StaticEffect(0.0118, 0.028, -0.0436, 0.0671, 0.68, 719),
        sensitivity=(),
        simulation=keys.SimulationResult(10, (), keys.TwfeBias(0.09, 0.03, -0.06, 0.008)),
        vs_truth=vs_truth,
    )
    return Document("04_adoption_real_2009_2011_2014", synthetic, "", {"treatment": "staff"}, results)


def test_adoption_brief_reads_the_typed_results():
    # issue 22: the brief leads with the headline (here absent: this document has no overall effect), then the
    # timing; the first-year sentence no longer carries the average without its interval
    s = brief.sentences(_adoption_doc(synthetic=False))
    assert s[0] == (
        "Adoption of library staff doing the tasks (models 3-4), dated by the rounds 2009, 2011, 2014: 29 first "
        "treated in 2012, 23 first treated in 2015; 8 never treated; 37 already treated at the first round are left "
        "out (their effect is not identified)."
    )
    assert s[1] == (
        "Callaway & Sant'Anna: in the first treated year loans per inhabitant differ by +2.0 % (95 % interval -1.9 "
        "to +5.9 %)."
    )
    assert s[2].startswith("Pre-trend test (Callaway & Sant'Anna): p = 0.056, no clear evidence")
    assert s[3].startswith("Naive two-way fixed effects (one effect for all): +1.2 % (-4.4 to +6.7 %)")
    assert not any("truth" in x for x in s) and "parallel trends" in s[-1]


def _with_issue_22(doc, *, p_holm=(0.8, 0.01, 0.2), low=0.01):
    """The document with issue 22's fields: the headline with its jackknife interval and its simulated coverage,
    adjusted p-values, Rambachan & Roth, the wild bootstrap, the rounds left out and the neighbours."""
    from dataclasses import replace

    from helpers.results import adoption as keys

    r = doc.results
    cs = r.event_studies["cs"]
    holm = dict(zip((0, 1, 2), p_holm, strict=True))
    effects = tuple(
        e
        if e.reference
        else replace(
            e,
            low_jk=e.estimate - 0.05,
            high_jk=e.estimate + 0.05,
            p_jk=0.3,
            p_holm=holm.get(e.event_time, 1.0),
            p_bh=0.5,
        )
        for e in cs.effects
    )
    cs = replace(
        cs, effects=effects, family="event times -2 to 2 of the Callaway & Sant'Anna event study", family_size=4
    )
    jk = "normal (z), delete-one-kommune jackknife standard errors"
    sim = replace(
        r.simulation,
        reps=2000,
        coverage=(
            keys.IntervalCoverage(
                "cs", "95 %, normal, jackknife", "average of event times 0+", 0.07, 0.07, 0.936, 0.0056, False
            ),
        ),
    )
    honest = keys.HonestResult(
        "avg", 0.03, low, 0.06, (keys.HonestRow(0.5, 0.0, 0.07),), (keys.HonestRow(0.0, 0.0, 0.07),), 0.75, 0.004, 100
    )
    wild = keys.WildBootstrapResult(
        "static",
        (keys.WildRow("treated_a", 0.0118, 0.028, -0.0436, 0.0671, 0.68, 0.7, -0.05, 0.07),),
        "wild",
        999,
        1,
        54,
    )
    rounds = (
        keys.SensitivityRow("rounds 2009, 2011, 2014", 54, 46, 0.03, 0.01, -0.04, 0.07, 0.5),
        keys.SensitivityRow("without 2014", 0, 0, None, None, None, None, None, note="no comparison"),
    )
    spill = keys.SpilloverResult(
        2011, 59, 80, 79.0, 76.7, 0.37, -0.1, -0.011, 0.1, 999, 46, 8, 3, None, None, None, "x"
    )
    results = replace(
        r,
        event_studies={**r.event_studies, "cs": cs},
        overall=keys.EffectResult(0.03, 0.01, low, 0.05, 0.003, jk),
        simulation=sim,
        honest=honest,
        wild={"static": wild},
        leave_one_round_out=rounds,
        spillover=spill,
        imputed_timing=(
            keys.SensitivityRow("as specified", 54, 46, 0.03, 0.01, -0.04, 0.07, 0.5),
            keys.SensitivityRow(
                "unanswered rounds imputed (m = 20, Rubin's rules)",
                55,
                49,
                0.034,
                0.013,
                -0.04,
                0.06,
                None,
                -0.038,
                0.107,
            ),
        ),
    )
    return replace(doc, results=results)


def test_adoption_brief_leads_with_the_headline_and_singles_out_by_adjusted_p():
    s = brief.sentences(_with_issue_22(_adoption_doc(synthetic=False)))
    assert s[0] == (
        "Headline (Callaway & Sant'Anna): averaged over the event times 0-2 after adoption, loans per inhabitant in "
        "the adopting kommuner differ from their comparison kommuner by +3.0 % (log points x 100; 95 % interval +1.0 "
        "to +5.0 %, normal (z), delete-one-kommune jackknife standard errors; at this design such intervals covered "
        "the truth in 93.6 % of 2,000 simulated panels (Monte Carlo SE 0.6))."
    )
    assert s[1].startswith("Adoption of library staff doing the tasks")
    assert s[2].endswith("(95 % interval -3.0 to +7.0 %).")  # the first year with its jackknife interval
    family = next(x for x in s if x.startswith("Read as one family"))
    assert "of 4 tests" in family and "event time 1 has a Holm-adjusted p below 0.05" in family
    assert any("breakdown value of Mbar" in x and "0.75 times" in x for x in s)
    naive = next(x for x in s if x.startswith("Naive two-way"))
    assert naive.endswith("gives -5.0 to +7.0 %.")
    assert any(x.startswith("Leaving out one survey round") and "without 2014: not estimable" in x for x in s)
    assert any(x.startswith("Neighbours: adoption by 2011 is not clustered") for x in s)
    assert (
        "With the unanswered rounds imputed instead (m = 20, Rubin's rules), the headline is +3.4 % (-3.8 to +10.7 %, "
        "95 %, Rubin's rules)." in s
    )
    assert "parallel trends" in s[-1]


def test_adoption_brief_says_when_nothing_survives_adjustment_or_nothing_is_significant():
    s = brief.sentences(_with_issue_22(_adoption_doc(synthetic=False), p_holm=(0.5, 0.2, 0.9), low=-0.01))
    family = next(x for x in s if x.startswith("Read as one family"))
    assert "none has a Holm-adjusted p below 0.05" in family
    honest = next(x for x in s if "Rambachan & Roth" in x)
    assert "already includes 0" not in honest  # the document's breakdown value decides, not the interval
    doc = _with_issue_22(_adoption_doc(synthetic=False))
    from dataclasses import replace

    doc = replace(doc, results=replace(doc.results, honest=replace(doc.results.honest, breakdown_rm=None)))
    assert any("no significant effect to break down" in x for x in brief.sentences(doc))


def test_adoption_brief_with_the_twfe_headline_and_the_truth():
    from dataclasses import replace

    from helpers.results import adoption as keys

    truth = (keys.TruthRow(-1, 0.0, None, None, 0.0, None), keys.TruthRow(0, 0.02, 0.0, 0.04, 0.03, True))
    doc = _adoption_doc(synthetic=True, vs_truth=truth)
    doc = replace(doc, results=replace(doc.results, headline="twfe"))
    s = brief.sentences(doc)
    assert s[0] == brief.SYNTHETIC_CAVEAT
    assert s[2].startswith("TWFE Poisson: in the first treated year loans per inhabitant differ by +0.0 %")
    assert not any(x.startswith("Pre-trend test") for x in s)  # TWFE reported no p-value here
    assert "intervals cover 1 of 1 event times" in s[-2]


def test_adoption_brief_from_the_json_the_site_reads(outputs):
    """The report site hands the brief the results JSON as read from disk: it is read as the typed document."""
    import json

    from helpers.outputs import reports

    doc = _adoption_doc(synthetic=True)
    path = reports.write_results(doc.name, doc.results, synthetic=True, parameters=doc.parameters)
    raw = json.loads(path.read_text())
    assert raw["results"]["event_studies"]["cs"]["effects"][1]["se"] is None  # null, not NaN
    assert brief.sentences(raw) == brief.sentences(doc)
    assert brief.show(doc.name).data.startswith("### Results in brief\n\n- " + brief.SYNTHETIC_CAVEAT)


def _export_results(up_to_date: bool):
    from helpers.results.exports import ExportedTable, ExportResults

    return ExportResults(
        files=25,
        tables={
            "analysis_synthetic": ExportedTable(294, 52, True),
            "usage_panel_synthetic": ExportedTable(1649, 33, True),
        },
        rounds=(2009, 2011, 2014),
        responded={2009: 91, 2011: 88, 2014: 98},
        panel_rows=1649,
        analysis_rows=294,
        dictionary_up_to_date=up_to_date,
    )


def test_export_brief_reads_the_typed_results_written_by_the_notebook(outputs):
    from helpers.outputs import reports

    parameters = {"usage_year_offset": 1, "ordering": "5<1<2<3<4"}
    reports.write_results("05_export_data", _export_results(True), synthetic=True, parameters=parameters)
    doc = brief.load("05_export_data")
    assert doc.results == _export_results(True) and doc.parameters == parameters
    said = brief.sentences(doc)
    assert said[0] == brief.SYNTHETIC_CAVEAT
    assert said[1] == (
        "25 files: the 3 survey rounds (2009, 2011, 2014), the usage panel (1,649 library unit-years) and the "
        "analysis file (294 kommune-rounds; responses: 91 in 2009, 88 in 2011, 98 in 2014), each as CSV, Excel CSV, "
        "Stata, SPSS and parquet, with the codebooks' value labels and each variable's provenance (real, synthetic or "
        "derived) as a note."
    )
    assert said[2] == "With synthetic values, and named so: analysis_synthetic and usage_panel_synthetic."
    assert said[3] == "The data dictionary matches the codebooks and schemas."
    reports.write_results("05_export_data", _export_results(False), synthetic=False, parameters=parameters)
    said = brief.sentences(brief.load("05_export_data"))
    assert len(said) == 3 and "stale: run `borgerservice export --dictionary`" in said[2]


def test_a_raw_model_document_is_read_as_its_typed_results_first():
    """The report site reads results files as JSON: the brief validates them against ModelResults."""
    doc = _model_doc(1.038, 0.998, 1.079, synthetic=True)
    raw = {"name": doc.name, "synthetic": True, "note": "", "parameters": {}, "results": doc.results.to_json()}
    assert brief.sentences(raw) == brief.sentences(doc)
    raw["results"].pop("change")
    with pytest.raises(ValueError, match="change"):
        brief.sentences(raw)


# --- notebook 03: every sentence against its own numbers, with results that include and exclude the null ------------

DIRECTION = __import__("re").compile(
    r"(?P<pct>\d+(?:\.\d+)?) % (?P<word>higher|lower) per level of cooperation \(rate ratio (?P<irr>\d+\.\d+)"
)


def _direction_problems(sentence: str) -> list[str]:
    """03's own check beside brief_check: "x % higher/lower ... (rate ratio r" must agree with r."""
    out = []
    for hit in DIRECTION.finditer(sentence):
        irr, pct = float(hit.group("irr")), float(hit.group("pct"))
        if (hit.group("word") == "higher") != (irr >= 1) or abs(abs(irr - 1) * 100 - pct) > 0.051:
            out.append(f"'{hit.group(0)}' does not follow the rate ratio {irr}")
    return out


def _family(p_holm: dict[str, float]) -> m.TestFamily:
    tests = {
        term: m.TermTest(irr=1.2 if p < 0.05 else 1.05, low=1.0, high=1.3, p=p / 4, p_holm=p, p_bh=p / 2)
        for term, p in p_holm.items()
    }
    return m.TestFamily(name="the cooperation terms", interval="t on 87 df", tests=tests)


def _nonresponse(low: float, high: float, incomplete: int = 12) -> Sensitivity:
    import math

    from helpers.results.nonresponse import Bounds, Estimate, Pooled

    est = Estimate(value=0.03, se=0.02, low=-0.01, high=0.07, interval="t, df 84.0", n=84, df=84)
    pooled = Pooled(
        value=0.031, se=0.021, low=-0.01, high=0.072, interval="t, df 80.1", n=96, df=84, m=50, within=4e-4,
        between=1e-5, total=4.1e-4, df_pooled=80.1, riv=0.02, fmi=0.02, mc_se=0.0005,
    )  # fmt: skip
    bounds = Bounds(low=math.log(low), high=math.log(high), incomplete=incomplete, method="search", exact=False)
    return Sensitivity(
        quantity="score_2014", description="x", rounds=(2014,), complete_case=est, bounds=bounds, weighted=est,
        imputed=pooled,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("irr", "low", "high"),
    [(1.038, 0.998, 1.079), (1.062, 1.012, 1.115), (0.91, 0.85, 0.97), (0.995, 0.96, 1.03), (1.0, 0.95, 1.05)],
)
@pytest.mark.parametrize(
    "holm",
    [{"model 1 (a)": 0.6, "model 4 (d)": 0.08}, {"model 1 (a)": 0.004, "model 4 (d)": 0.03, "model 2 (b)": 0.2}],
)
def test_every_model_sentence_follows_its_own_numbers(irr, low, high, holm):
    r = _model_results(irr, low, high)
    terms = tuple(
        m.CoverageTerm(k, 0.1, 0.1, 0.05, 0.0, 0.001, 0.925, 0.006, 0.926, 0.006, 0.945, 0.005, 0.001, 0.001, 0.02,
                       0.003, 2000, 2000, 0)
        for k in (1, 4)
    )  # fmt: skip
    rounds = {2014: dataclasses.replace(r.rounds[2014], families={"negative binomial": _family(holm)})}
    r = dataclasses.replace(
        r,
        rounds=rounds,
        coverage=dataclasses.replace(r.coverage, terms=terms),
        nonresponse=(_nonresponse(0.99 if low < 1 else 1.01, 1.08),),
    )
    said = brief.sentences(Document("03_model_loans_2011_2014", False, "", {}, r))
    assert check(said) == [] and [p for s in said for p in _direction_problems(s)] == [], said
    covers = low <= 1 <= high
    assert ("the interval includes 1 (no difference)." in said[0]) == covers
    assert ("the interval excludes 1, the value of no difference" in said[0]) == (not covers)
    family = [s for s in said if "one family" in s]
    singled = [t for t, p in holm.items() if p < 0.05]
    if singled:  # one sentence per term whose Holm-adjusted p is below 0.05, each saying so
        assert len(family) == len(singled) and all(f"{t} differs" in s for t, s in zip(singled, family, strict=True))
    else:
        assert len(family) == 1 and "does not clearly differ (Holm-adjusted p = 0.080, unadjusted" in family[0]
    assert any("94.3-95.1 % of the time (target 94-96 %" in s and "z intervals covered 92.5-92.5 %" in s for s in said)
    assert any("lies between" in s and "12 kommuner did not answer" in s for s in said)


def test_the_old_reversed_sentence_would_fail_the_check():
    old = "(rate ratio 1.062, 95 % interval 1.012 to 1.115); the interval excludes 1 (no difference)."
    assert problems(old) and _direction_problems("6.2 % lower per level of cooperation (rate ratio 1.062")
    assert _direction_problems("6.2 % higher per level of cooperation (rate ratio 1.062") == []


def test_adoption_brief_says_what_every_quoted_interval_is():
    """Issue 22: no interval in 04's brief without its distribution (z, t with df, the bootstrap and its draws) and,
    where the run's simulation checked it, its coverage at this design with the Monte Carlo SE."""
    import re
    from dataclasses import replace

    from helpers.results import adoption as keys

    doc = _with_issue_22(_adoption_doc(synthetic=False))
    r = doc.results
    cov = r.simulation.coverage + (
        keys.IntervalCoverage("cs", "pointwise 95 %, normal, jackknife", "0", 0.05, 0.05, 0.941, 0.0053, False),
        keys.IntervalCoverage("twfe", "95 %, normal (z), CRV1", "static effect", 0.02, 0.02, 0.947, 0.005, False),
        keys.IntervalCoverage(
            "twfe", "95 %, wild score bootstrap (999 draws)", "static effect", 0.02, 0.02, 0.951, 0.0049, False
        ),
    )
    twfe_words = "95 %, normal (z), CRV1 standard errors clustered by kommune (pyfixest)"
    jk = "normal (z), delete-one-kommune jackknife standard errors"
    rubin = "Rubin's rules over 20 imputations of the jackknife (normal) headline: t, df 41.3"
    results = replace(
        r,
        simulation=replace(r.simulation, coverage=cov),
        twfe_static=replace(r.twfe_static, interval=twfe_words),
        leave_one_round_out=(
            replace(r.leave_one_round_out[0], avg_low=-0.01, avg_high=0.07, interval=jk),
            replace(r.leave_one_round_out[0], variant="without 2009", avg_low=-0.02, avg_high=0.08, interval=jk),
        ),
        imputed_timing=(r.imputed_timing[0], replace(r.imputed_timing[1], interval=rubin)),
        spillover=replace(r.spillover, overall=0.02, overall_low=-0.03, overall_high=0.07, interval=jk),
    )
    s = brief.sentences(replace(doc, results=results))
    labels = ("normal (z)", "t, df", "bootstrap (", "Rademacher", "jackknife")
    interval = re.compile(r"[+-]?\d+\.\d to [+-]?\d+\.\d %")
    for i, x in enumerate(s):
        if interval.search(x) and "Rambachan" not in x:
            told = x + (s[i + 1] if i + 1 < len(s) else "")
            assert any(w in told for w in labels), x
    assert any(
        "pointwise 95 %, normal (z) with delete-one-kommune jackknife standard errors" in x and "94.1 %" in x for x in s
    )
    naive = next(x for x in s if x.startswith("Naive two-way"))
    assert twfe_words in naive and "94.7 % of 2,000" in naive and "95.1 % of 2,000" in naive and "999 draws" in naive
    assert any(x.startswith("Leaving out one survey round") and "(-2.0 to +8.0 %)" in x and jk in x for x in s)
    assert any("t, df 41.3" in x and "+3.4 %" in x for x in s)
    assert any(x.startswith("Neighbours:") and f"(-3.0 to +7.0 %, 95 %, {jk})" in x for x in s)


def test_compare_brief_says_what_each_interval_of_the_net_change_is():
    """Issue 22/23: z for the complete-case and weighted intervals, t with Rubin's df for the imputed one."""
    s = brief.sentences(_compare_doc())
    net = next(x for x in s if "the net change (started minus stopped)" in x)
    assert net.count(", z)") == 2 and "t, df 60.0 by Rubin's rules)" in net, net


def test_adoption_brief_rambachan_roth_gives_the_interval_it_reads():
    """'includes 0' with the interval it is read from (brief_check finds no contradiction), and the covariance the
    robust sets rest on."""
    from dataclasses import replace

    from brief_check import problems

    doc = _with_issue_22(_adoption_doc(synthetic=False))
    honest = next(x for x in brief.sentences(doc) if "Rambachan" in x)
    assert "rest on the analytic influence-function covariance" in honest
    none = replace(doc.results.honest, breakdown_rm=None, original_low=-0.02, original_high=0.06)
    honest = next(
        x for x in brief.sentences(replace(doc, results=replace(doc.results, honest=none))) if "Rambachan" in x
    )
    assert "95 % interval -2.0 to +6.0 %" in honest and "already includes 0" in honest and problems(honest) == []


def test_model_brief_change_interval_says_its_standard_errors_and_df():
    s = brief.sentences(_model_doc(1.038, 0.998, 1.079, synthetic=False))
    change = next(x for x in s if x.startswith("Within kommuner"))
    r = _model_results(1.038, 0.998, 1.079)
    assert change.endswith(f"standard errors {r.change.standard_errors}).") and r.change.standard_errors, change
