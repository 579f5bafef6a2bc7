"""Adjusted p-values of a family of tests, against the arithmetic of Holm and Benjamini-Hochberg."""

import math

import pytest

from helpers.analysis import multiplicity


def test_holm_and_bh_by_hand():
    # p sorted: 0.01, 0.02, 0.03, 0.04 (m = 4)
    # Holm: max-cumulated (m - i + 1) p_(i): 0.04, 0.06, 0.06, 0.06
    # BH: min-cumulated from the top of m p_(i) / i: 0.04, 0.04, 0.04, 0.04
    fam = multiplicity.adjust({"a": 0.03, "b": 0.01, "c": 0.04, "d": 0.02}, "four tests")
    assert fam.size == 4
    assert fam.table["p_holm"].to_dict() == pytest.approx({"a": 0.06, "b": 0.04, "c": 0.06, "d": 0.06})
    assert fam.table["p_bh"].to_dict() == pytest.approx({"a": 0.04, "b": 0.04, "c": 0.04, "d": 0.04})
    assert fam.adjusted("b") == pytest.approx((0.01, 0.04, 0.04))


def test_a_test_without_a_p_value_is_not_a_member():
    # the reference period has no p-value: m = 2, Holm = 2 * 0.01 and max(0.02, 2*0.01 ...) -> 0.02, 0.02
    fam = multiplicity.adjust({"ref": float("nan"), "x": 0.01, "y": 0.02}, "event times")
    assert fam.size == 2
    assert math.isnan(fam.table.loc["ref", "p_holm"]) and math.isnan(fam.table.loc["ref", "p_bh"])
    assert fam.table.loc[["x", "y"], "p_holm"].tolist() == pytest.approx([0.02, 0.02])
    assert fam.table.loc[["x", "y"], "p_bh"].tolist() == pytest.approx([0.02, 0.02])


def test_adjusted_p_values_never_fall_below_the_raw_ones_and_cap_at_one():
    fam = multiplicity.adjust({"a": 0.6, "b": 0.9, "c": 0.001}, "three")
    t = fam.table
    assert (t["p_holm"] >= t["p"]).all() and (t["p_bh"] >= t["p"]).all()
    assert t["p_holm"].max() <= 1.0 and t.loc["c", "p_holm"] == pytest.approx(0.003)


def test_a_p_value_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        multiplicity.adjust({"a": 1.2}, "bad")
