"""Kommune names and codes as exports write them, and close-match suggestions that help."""

import pytest

from helpers.data import survey


@pytest.fixture(scope="module")
def r():
    return survey.resolver()


@pytest.mark.parametrize(
    "written,code,rule",
    [
        ("København", 101, None),
        ("101", 101, "kommune_code_given"),
        ("0101", 101, "kommune_code_given"),
        ("101.0", 101, "kommune_code_given"),
        (101, 101, "kommune_code_given"),
        (101.0, 101, "kommune_code_given"),
        (" 0461 ", 461, "kommune_code_given"),
        ("101 København", 101, "kommune_code_and_name"),
        ("0101 - København", 101, "kommune_code_and_name"),
        ("København (101)", 101, "kommune_code_and_name"),
        ("Aarhus - 751", 751, "kommune_code_and_name"),
        ("Nordfyn", 480, "kommune_name_variant"),
        ("Vesthimmerland", 820, "kommune_name_variant"),
        ("Nordfyns Kommune", 480, "kommune_name_variant"),
        ("Lyngby-Tårbæk", 173, "kommune_name_variant"),
        ("Høje Tåstrup", 169, "kommune_name_variant"),
        ("Fanoe", 563, "kommune_name_variant"),
        ("Brondby", 153, "kommune_name_variant"),
        ("KØGE", 259, "kommune_name_variant"),
        ("Ta\u030arnby", 185, None),
        ("Faaborg\u00a0Midtfyn", 430, "kommune_name_variant"),
        ("Århus", 751, "kommune_name_variant"),
        ("Kbh.", 101, "kommune_alias"),
        ("Esbjerg (for Fanø)", 563, "answered_by_other_kommune"),
    ],
)
def test_resolves(r, written, code, rule):
    got = r.resolve(written)
    assert got is not None and got[0] == code and got[2] == rule, got


@pytest.mark.parametrize("written", ["102", "0999", "101.5", 99, "Ry", "101 Aarhus", "Skivee", True])
def test_does_not_resolve(r, written):
    got = r.resolve(written)
    assert got is None or got[2] == "conflict"


@pytest.mark.parametrize(
    "written,first",
    [
        ("Skivee", "Skive"),
        ("Gladsakse", "Gladsaxe"),
        ("Hørsholn", "Hørsholm"),
        ("Vesthimerland", "Vesthimmerlands"),
        ("Lyngby", "Lyngby-Taarbæk"),
        ("Odens", "Odense"),
        ("Herlew", "Herlev"),
        ("Frederiksbærg", "Frederiksberg"),
        ("Hilerød", "Hillerød"),
        ("Sønderborgs", "Sønderborg"),
        ("Ringkøbing", "Ringkøbing-Skjern"),
        ("Aarhus C", "Aarhus"),
    ],
)
def test_suggestions_rank_the_true_variant_first(r, written, first):
    assert r.suggest(written)[0] == first


def test_a_short_name_does_not_suggest_an_unrelated_longer_one(r):
    assert r.suggest("Ry") == []
    assert "Frederikssund" not in r.suggest("Fanø")
