"""Results in brief: sentences follow the numbers (direction, interval, p-value) and lead with the
synthetic caveat when the input is synthetic."""

import pytest

from helpers.outputs import brief
from helpers.results import Document
from helpers.results import models as m
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


def test_compare_brief_reads_the_paired_tests():
    doc = {
        "name": "02_compare_2009_2011",
        "synthetic": False,
        "parameters": {"year_a": 2009, "year_b": 2011, "ordering": "5<1<2<3<4"},
        "results": {
            "n_kommuner": 98,
            "answered": {"2009": 90, "2011": 86},
            "cooperating": {"2009": 37, "2011": 54},
            "paired_n": 78,
            "tests": {
                "mcnemar_cooperation": {"b": 1, "c": 18, "pvalue": 7.6e-05, "method": "exact binomial"},
                "stuart_maxwell": {"pvalue": 0.2},
            },
            "nonresponse_test": {"pvalue": 0.5},
            "change_by_ordering": {"5<1<2<3<4": {"up": 35, "same": 39, "down": 4, "not comparable": 20}},
        },
    }
    s = brief.sentences(doc)
    assert s[0].startswith("54 kommuner reported cooperation in 2011 against 37 in 2009 (more)")
    assert "18 started and 1 stopped cooperating (McNemar exact binomial, p < 0.001): clear evidence" in s[1]
    assert "does not clearly differ" in s[2] and "p = 0.20" in s[2]


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


def test_a_raw_model_document_is_read_as_its_typed_results_first():
    """The report site reads results files as JSON: the brief validates them against ModelResults."""
    doc = _model_doc(1.038, 0.998, 1.079, synthetic=True)
    raw = {"name": doc.name, "synthetic": True, "note": "", "parameters": {}, "results": doc.results.to_json()}
    assert brief.sentences(raw) == brief.sentences(doc)
    raw["results"].pop("change")
    with pytest.raises(ValueError, match="change"):
        brief.sentences(raw)
