"""The cooperation models: one parser for the ordering, used by survey, compare and models."""

import pytest
import yaml

from helpers.core import cooperation, paths
from helpers.data import survey


@pytest.mark.parametrize("given", ["5<1<2<3<4", " 5 < 1<2 <3< 4 ", [5, 1, 2, 3, 4], ("5", "1", "2", "3", "4"), None])
def test_parse_ordering_default_forms(given):
    assert cooperation.parse_ordering(given) == [5, 1, 2, 3, 4]


def test_parse_ordering_alternative_and_helpers():
    assert cooperation.parse_ordering("5<1<3<2<4") == [5, 1, 3, 2, 4]
    assert cooperation.swap("5<1<2<3<4") == [5, 1, 3, 2, 4]
    assert cooperation.format_ordering([5, 1, 3, 2, 4]) == "5<1<3<2<4"
    assert cooperation.level_scores("5<1<2<3<4") == {5: 0, 1: 1, 2: 2, 3: 3, 4: 4}
    assert cooperation.level_scores("5<1<3<2<4") == {5: 0, 1: 1, 3: 2, 2: 3, 4: 4}
    dtype = cooperation.model_dtype("5<1<3<2<4", include_no_answer=True)
    assert dtype.ordered and list(dtype.categories) == [0, 5, 1, 3, 2, 4]


@pytest.mark.parametrize(
    "bad, says",
    [
        ("5<1<2<3", "missing [4]"),
        ("5<1<2<3<4<4", "repeated [4]"),
        ("0<1<2<3<4", "did not answer"),
        ([5, 1, 2, 3, 4, 6], "unknown [6]"),
        ("a<b<c<d<e", "'a' is not a model code"),
        ("", "empty ordering"),
        ("5,1,2,3,4", "is not a model code"),
        (51234, "must be a string or a list"),
        ([5, 1, 2.5, 3, 4], "is not a model code"),
    ],
)
def test_parse_ordering_errors_name_what_is_accepted(bad, says):
    with pytest.raises(ValueError) as err:
        cooperation.parse_ordering(bad)
    assert says in str(err.value)
    assert "5<1<2<3<4" in str(err.value)  # names the accepted form


def test_model_labels_agree_with_the_codebooks():
    for year in (2009, 2011):
        cb = yaml.safe_load((paths.codebooks() / f"{year}.yaml").read_text(encoding="utf-8"))
        assert {int(k): v for k, v in cb["model_labels"].items()} == cooperation.model_labels()
    assert cooperation.model_labels(with_code=True, include_no_answer=False)[4].startswith("4 Vi er borgernes")


def test_survey_uses_the_same_parser():
    assert survey.check_model_order("5<1<3<2<4") == (5, 1, 3, 2, 4)
    with pytest.raises(ValueError, match="repeated"):
        survey.check_model_order([5, 5, 1, 2, 3])
