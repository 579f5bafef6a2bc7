"""Results in brief: sentences follow the numbers (direction, interval, p-value) and lead with the
synthetic caveat when the input is synthetic."""

import pytest

from helpers.outputs import brief
from helpers.results import Document
from helpers.results import models as m
from helpers.results.compare import Bowker, ChangeCounts, CompareResults, McNemar, PairedTests, StuartMaxwell
from helpers.results.models import ModelResults


def _model_results(irr, low, high) -> ModelResults:
    """Key results of a notebook-03 run with one round (2014); the brief reads the sensitivity row of the
    default ordering on all kommuner, the change model and the power curve."""
    return ModelResults(
        outcome="loans",
        ordering="5<1<2<3<4",
        pairing={2014: m.Pairing(usage_year=2015, n=97, dropped=(563,), reporting_failures=(), kept=False)},
        flagged_reporting_failures=m.Flagged(kept_in_models=False, values=()),
        rounds={2014: m.RoundFit({}, irr, 0.04, 25.0, True, -1194.5, {})},
        change=m.Change(n=84, per_level=-0.021, ci=(-0.04, -0.002), standard_errors="HC3 (OLS), t on n - 2 df"),
        ordinal=m.Ordinal(params={}, cut_points={}, converged=True, max_abs_score=1e-15, loglik=-126.9),
        sensitivity=(m.SensitivityFit(2014, "5<1<2<3<4", "all kommuner", 97, irr, low, high, 0.07),),
        coverage=m.Coverage(2000, 0, m.IntervalVerdict("profile", False, {"wald": 0.02, "profile": 0.02}, 0, 0.01), ()),
        intervals=m.Intervals("profile", {}),
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


def _compare_doc() -> Document:
    """A 02_compare results document: the numbers the brief reads, and plausible values elsewhere."""
    mcnemar = McNemar(
        statistic=1.0,
        df=None,
        pvalue=7.6e-05,
        n=78,
        method="exact binomial",
        chi2=15.2,
        b=1,
        c=18,
        categories=("cooperation", "no cooperation"),
        table=((36, 1), (18, 23)),
    )
    tests = PairedTests(
        bowker=Bowker(statistic=25.0, df=8, pvalue=0.002, n=78, df_all_pairs=10, pvalue_all_pairs=0.005, empty_pairs=2),
        stuart_maxwell=StuartMaxwell(statistic=6.0, df=4, pvalue=0.2, n=78),
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
    )
    parameters = {"year_a": 2009, "year_b": 2011, "ordering": "5<1<2<3<4"}
    return Document("02_compare_2009_2011", False, "computed from real data", parameters, results)


def test_compare_brief_reads_the_paired_tests():
    doc = _compare_doc()
    s = brief.sentences(doc)
    assert s[0].startswith("54 kommuner reported cooperation in 2011 against 37 in 2009 (more)")
    assert "18 started and 1 stopped cooperating (McNemar exact binomial, p < 0.001): clear evidence" in s[1]
    assert "does not clearly differ" in s[2] and "p = 0.20" in s[2]


def test_compare_brief_reads_the_results_file_the_notebook_writes(outputs):
    from helpers.outputs import reports

    doc = _compare_doc()
    reports.write_results(doc.name, doc.results, synthetic=True, parameters=doc.parameters)
    loaded = brief.load(doc.name)
    assert loaded.results == doc.results
    s = brief.sentences(loaded)
    assert s[0] == brief.SYNTHETIC_CAVEAT
    assert s[1:] == brief.sentences(doc)
    assert s[-1] == "Non-response changed with p = 0.50 (paired), so non-response is unlikely to drive the comparison."


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
    s = brief.sentences(_adoption_doc(synthetic=False))
    assert s[0] == (
        "Adoption of library staff doing the tasks (models 3-4), dated by the rounds 2009, 2011, 2014: 29 first "
        "treated in 2012, 23 first treated in 2015; 8 never treated; 37 already treated at the first round are left "
        "out (their effect is not identified)."
    )
    assert s[1] == (
        "Callaway & Sant'Anna: in the first treated year loans per inhabitant differ by +2.0 % (95 % interval -1.9 "
        "to +5.9 %); averaged over event times 0-2, +3.0 % (log scale)."
    )
    assert s[2].startswith("Pre-trend test (Callaway & Sant'Anna): p = 0.056, no clear evidence")
    assert s[3].startswith("Naive two-way fixed effects (one effect for all): +1.2 % (-4.4 to +6.7 %)")
    assert not any("truth" in x for x in s) and "parallel trends" in s[-1]


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
