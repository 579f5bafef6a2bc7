"""The 2014 demo round: added by config alone and calibrated to the published 2014 figures."""

import pytest

from helpers.data import survey
from helpers.running import pipeline


def test_2014_round_is_configured_like_2011():
    rounds = pipeline.load_rounds()
    assert rounds[2014] == {"input_path": "survey/example_survey_2014.xlsx", "codebook": "2014"}
    ids = {r.id for r in pipeline.load_config().runs}
    assert {
        "01_clean_survey_2014",
        "02_compare_2011_2014",
        "03_model_visits_2011_2014",
        "03_model_loans_2011_2014",
    } <= ids


def test_2014_example_matches_published_figures(outputs):
    rounds = pipeline.load_rounds()
    clean, _ = survey.clean(2014, rounds[2014]["input_path"], rounds[2014]["codebook"])
    models = clean["model"].astype(int)
    assert len(clean) == 98
    assert models.between(1, 4).sum() == 90  # cooperation in 90 of 98 (DB report, March 2015)
    assert (models == 5).sum() / 98 == pytest.approx(0.082, abs=0.001)  # 8.2 % no cooperation
    staff = models.isin([3, 4]).sum() / 98  # library staff do the tasks in about half
    assert staff == pytest.approx(0.49, abs=0.01)
