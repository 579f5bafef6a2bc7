"""helpers.analysis.compare against cases computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import json
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import SquareTable
from survey_raw import cleaned_rounds

from helpers.analysis import compare
from helpers.data import reference
from helpers.outputs import maps
from helpers.results.compare import ChangeCounts


@pytest.fixture(scope="module")
def municipalities():
    return reference.load_municipalities()


def chi2_sf_df1(x):  # P(chi2_1 > x) = erfc(sqrt(x / 2))
    return math.erfc(math.sqrt(x / 2))


def chi2_sf_df2(x):  # P(chi2_2 > x) = exp(-x / 2)
    return math.exp(-x / 2)


def chi2_sf_df3(x):  # P(chi2_3 > x) = erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2)
    return math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)


def test_as_model_codes_accepts_the_usual_forms():
    s = pd.Series([1, "2", 3.0, None, "Intet samarbejde", " 4 "])
    assert compare.as_model_codes(s).tolist() == [1, 2, 3, 0, 5, 4]
    cat = pd.Series(pd.Categorical([0, 5, 2], categories=[0, 5, 1, 2, 3, 4], ordered=True))
    assert compare.as_model_codes(cat).tolist() == [0, 5, 2]
    with pytest.raises(ValueError, match="not a model"):
        compare.as_model_codes(pd.Series([7]))


# --------------------------------------------------------------------------- McNemar


def test_mcnemar_chi2_by_hand():
    # b = 10, c = 2: chi2 = (10 - 2)^2 / (10 + 2) = 64 / 12 = 5.3333; corrected (8 - 1)^2 / 12 = 49 / 12
    table = [[20, 10], [2, 15]]
    r = compare.mcnemar_test(table, exact=False)
    assert r.statistic == pytest.approx(64 / 12, rel=1e-12)
    assert r.pvalue == pytest.approx(chi2_sf_df1(64 / 12), rel=1e-9)
    assert (r.b, r.c, r.n) == (10, 2, 47)
    r = compare.mcnemar_test(table, exact=False, correction=True)
    assert r.statistic == pytest.approx(49 / 12, rel=1e-12)


def test_mcnemar_exact_when_few_discordant():
    # 12 discordant < 25 -> exact: p = 2 P(X <= 2 | n=12, 1/2) = 2 (1 + 12 + 66) / 4096 = 158 / 4096
    r = compare.mcnemar_test([[20, 10], [2, 15]])
    assert r.method == "exact binomial"
    assert r.pvalue == pytest.approx(158 / 4096, rel=1e-12)
    assert r.chi2 == pytest.approx(64 / 12)
    # 25 discordant -> chi-square (uncorrected): (20 - 5)^2 / 25 = 9
    r = compare.mcnemar_test([[30, 20], [5, 40]])
    assert r.method == "chi-square" and r.statistic == pytest.approx(9.0)


def test_mcnemar_cooperation_from_two_rounds():
    # 20 kommuner cooperate in both rounds, 15 in neither, 10 start (5 -> 1..4), 2 stop (1..4 -> 5);
    # 3 more did not answer in one round and must not count.
    a = [3] * 20 + [5] * 15 + [5] * 10 + [2] * 2 + [0, 4, 5]
    b = [4] * 20 + [5] * 15 + [1] * 10 + [5] * 2 + [1, 0, 0]
    idx = range(1, len(a) + 1)
    r = compare.mcnemar_cooperation(pd.Series(a, index=idx, name=2009), pd.Series(b, index=idx, name=2011), exact=False)
    assert [list(row) for row in r.table] == [[20, 2], [10, 15]]  # rows 2009 yes/no, columns 2011 yes/no
    assert r.n == 47
    # b = 2 (yes -> no), c = 10 (no -> yes): chi2 = (2 - 10)^2 / 12
    assert r.statistic == pytest.approx(64 / 12)
    r_auto = compare.mcnemar_cooperation(pd.Series(a, index=idx), pd.Series(b, index=idx))
    assert r_auto.pvalue == pytest.approx(158 / 4096)


# --------------------------------------------------------------------------- Bowker

BOWKER_3X3 = np.array([[10, 4, 1], [2, 8, 3], [5, 0, 6]])


def test_bowker_by_hand():
    # pairs: (4-2)^2/6 + (1-5)^2/6 + (3-0)^2/3 = 4/6 + 16/6 + 3 = 19/3; three non-empty pairs
    r = compare.bowker(BOWKER_3X3)
    assert r.statistic == pytest.approx(19 / 3, rel=1e-12)
    assert r.df == 3
    assert r.pvalue == pytest.approx(chi2_sf_df3(19 / 3), rel=1e-9)
    assert r.n == 39


def test_bowker_zeros_without_shift_and_empty_pair_not_counted():
    # pair (0,1) is 0/0: contributes nothing and no df; (2-3)^2/5 + (1-4)^2/5 = 1/5 + 9/5 = 2; df = 2
    t = np.array([[3, 0, 2], [0, 4, 1], [3, 4, 5]])
    r = compare.bowker(t)
    assert r.statistic == pytest.approx(2.0, rel=1e-12)
    assert r.df == 2
    assert r.pvalue == pytest.approx(math.exp(-1), rel=1e-12)
    assert SquareTable(t, shift_zeros=False).symmetry().df == 3  # statsmodels counts the empty pair too
    # the other convention, shown beside: all k(k-1)/2 = 3 pairs; P(chi2_3 > 2) by hand
    assert r.df_convention == "informative pairs" and r.empty_pairs == 1
    assert r.df_all_pairs == 3
    assert r.pvalue_all_pairs == pytest.approx(chi2_sf_df3(2.0), rel=1e-12)
    assert r.pvalue_all_pairs == pytest.approx(SquareTable(t, shift_zeros=False).symmetry().pvalue, rel=1e-12)


def test_bowker_conventions_agree_without_empty_pairs():
    r = compare.bowker(BOWKER_3X3)
    assert (r.df, r.df_all_pairs, r.empty_pairs) == (3, 3, 0)
    assert r.pvalue_all_pairs == r.pvalue


def test_bowker_zero_cell_not_shifted():
    # cell (2,1) is 0: unshifted (3-0)^2/3 = 3 is part of 19/3; the default +0.5 shift would give
    # (3-0.5)^2/3.5 = 1.7857 for that pair instead
    assert compare.bowker(BOWKER_3X3).statistic == pytest.approx(19 / 3, rel=1e-12)
    shifted = SquareTable(BOWKER_3X3).symmetry().statistic
    assert shifted == pytest.approx(4 / 6 + 16 / 6 + 2.5**2 / 3.5, rel=1e-9)


def test_bowker_drops_empty_categories():
    t = pd.DataFrame(np.zeros((4, 4), dtype=int), index=[5, 1, 2, 3], columns=[5, 1, 2, 3])
    t.loc[[5, 1, 3], [5, 1, 3]] = BOWKER_3X3
    r = compare.bowker(t)
    assert list(r.dropped) == [2] and list(r.categories) == [5, 1, 3]
    assert r.statistic == pytest.approx(19 / 3) and r.df == 3


def test_bowker_symmetric_table():
    r = compare.bowker([[3, 2], [2, 4]])
    assert r.statistic == 0 and r.df == 1 and r.pvalue == pytest.approx(1.0)
    r = compare.bowker([[3, 0], [0, 4]])
    assert r.statistic == 0 and r.df == 0 and r.pvalue == 1.0


def test_square_table_required():
    with pytest.raises(ValueError, match="square"):
        compare.bowker(np.ones((2, 3)))
    with pytest.raises(ValueError, match="same categories"):
        compare.stuart_maxwell(pd.DataFrame([[1, 2], [3, 4]], index=[1, 2], columns=[2, 1]))


# --------------------------------------------------------------------------- Stuart-Maxwell


def _d_s_inv_d(t: np.ndarray, drop: int) -> float:
    """d' S^-1 d with d_i = n_i. - n_.i, S_ii = n_i. + n_.i - 2 n_ii, S_ij = -(n_ij + n_ji), one category dropped."""
    t = np.asarray(t, dtype=float)
    rows, cols = t.sum(1), t.sum(0)
    d = rows - cols
    s = -(t + t.T)
    np.fill_diagonal(s, rows + cols - 2 * np.diag(t))
    keep = [i for i in range(len(t)) if i != drop]
    return float(d[keep] @ np.linalg.solve(s[np.ix_(keep, keep)], d[keep]))


def test_stuart_maxwell_by_hand():
    # rows 15 13 11, columns 17 12 10: d = (-2, 1); S = [[12, -6], [-6, 9]], det 72,
    # S^-1 = [[9, 6], [6, 12]] / 72; d' S^-1 d = (36 - 24 + 12) / 72 = 1/3; df = 2
    r = compare.stuart_maxwell(BOWKER_3X3)
    assert r.statistic == pytest.approx(1 / 3, rel=1e-12)
    assert r.df == 2
    assert r.pvalue == pytest.approx(math.exp(-1 / 6), rel=1e-12)
    for drop in range(3):  # the same whichever category is left out
        assert _d_s_inv_d(BOWKER_3X3, drop) == pytest.approx(1 / 3, rel=1e-12)


def test_stuart_maxwell_zeros_without_shift():
    # rows 5 5 12, columns 6 8 8: d = (-1, -3); S = [[5, 0], [0, 5]]: 1/5 + 9/5 = 2
    t = np.array([[3, 0, 2], [0, 4, 1], [3, 4, 5]])
    r = compare.stuart_maxwell(t)
    assert r.statistic == pytest.approx(2.0, rel=1e-12)
    assert r.df == 2
    assert SquareTable(t).homogeneity().statistic != pytest.approx(2.0)  # the +0.5 shift would change it


def test_stuart_maxwell_2x2_is_mcnemar():
    assert compare.stuart_maxwell([[20, 10], [2, 15]]).statistic == pytest.approx(64 / 12, rel=1e-12)


def test_stuart_maxwell_empty_and_diagonal_only_categories_dropped():
    # category 9 empty, category 7 only on the diagonal: both would make S singular
    labels = [5, 9, 1, 7, 2]
    t = pd.DataFrame(0, index=labels, columns=labels)
    t.loc[[5, 1, 2], [5, 1, 2]] = BOWKER_3X3
    t.loc[7, 7] = 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(SquareTable(t.to_numpy(), shift_zeros=False).homogeneity().statistic)
    r = compare.stuart_maxwell(t)
    assert list(r.dropped) == [9, 7] and list(r.categories) == [5, 1, 2]
    assert r.statistic == pytest.approx(1 / 3) and r.df == 2
    assert r.n == 39 + 6
    b = compare.bowker(t)
    assert list(b.dropped) == [9] and b.statistic == pytest.approx(19 / 3) and b.df == 3


def test_stuart_maxwell_blocks_without_exchange_add_up():
    # {a, b} and {c, d} never exchange: McNemar per block (3-1)^2/4 = 1 and (4-1)^2/5 = 1.8
    t = np.array([[5, 3, 0, 0], [1, 4, 0, 0], [0, 0, 2, 4], [0, 0, 1, 7]])
    r = compare.stuart_maxwell(t)
    assert r.statistic == pytest.approx(2.8) and r.df == 2
    assert r.pvalue == pytest.approx(math.exp(-1.4))


# --------------------------------------------------------------------------- aligning, distribution, transitions


def _rounds(municipalities):
    codes = municipalities["kommunekode"].sort_values().to_numpy()
    # 2009: the first 90 kommuner appear, 5 of them with a blank model (0) -> 13 did not answer
    m09 = np.resize([5, 1, 2, 3, 4], 90)
    m09[:5] = 0
    r09 = pd.DataFrame({"kommunekode": codes[:90], "year": 2009, "model": m09, "synthetic": True})
    # 2011: all 98 appear, model as the survey helper stores it (ordered categorical incl. 0)
    m11 = np.resize([1, 2, 3, 4, 5, 2, 3], 98)
    m11[-2:] = 0
    r11 = pd.DataFrame(
        {
            "kommunekode": codes,
            "model": pd.Categorical(m11, categories=[0, 5, 1, 2, 3, 4], ordered=True),
            "synthetic": False,
        }
    )
    return {2009: r09, 2011: r11}


def test_align_rounds_has_all_98_per_round(municipalities):
    al = compare.align_rounds(_rounds(municipalities), municipalities)
    assert len(al) == 2 * 98
    assert al.groupby("year").size().tolist() == [98, 98]
    assert (~al.loc[al["year"] == 2009, "answered"]).sum() == 13  # 8 absent + 5 blank
    assert (~al.loc[al["year"] == 2011, "answered"]).sum() == 2
    assert al["model"].dtype == "int64" and set(al["model"]) <= {0, 1, 2, 3, 4, 5}
    assert al.loc[al["year"] == 2009, "synthetic"].all() and not al.loc[al["year"] == 2011, "synthetic"].any()
    assert {"regionsnavn", "kommunegruppe", "kommunegruppe_navn", "navn"} <= set(al.columns)


def test_align_rounds_rejects_bad_rounds(municipalities):
    good = _rounds(municipalities)[2009]
    with pytest.raises(ValueError, match="not among"):
        compare.align_rounds({2009: pd.concat([good, good.head(1).assign(kommunekode=411)])}, municipalities)
    with pytest.raises(ValueError, match="more than once"):
        compare.align_rounds({2009: pd.concat([good, good.tail(1)])}, municipalities)
    with pytest.raises(ValueError, match="synthetic"):
        compare.align_rounds({2009: good.drop(columns="synthetic")}, municipalities)
    with pytest.raises(ValueError, match="year column"):
        compare.align_rounds({2011: good}, municipalities)


def test_distribution_shares_sum_to_one(municipalities):
    al = compare.align_rounds(_rounds(municipalities), municipalities)
    d = compare.distribution(al)
    assert d.groupby("year")["n"].sum().tolist() == [98, 98]
    assert d.groupby("year")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert d.dropna(subset=["share_answered"]).groupby("year")["share_answered"].sum().to_numpy() == pytest.approx(
        [1, 1]
    )
    assert d.loc[(d["year"] == 2009) & (d["model"] == 0), "n"].item() == 13
    assert list(d.loc[d["year"] == 2009, "model"]) == [0, 5, 1, 2, 3, 4]
    for by in ("regionsnavn", "kommunegruppe_navn"):
        g = compare.distribution(al, by=by)
        assert g.groupby(["year", by])["share"].sum().to_numpy() == pytest.approx(1.0)
        assert (g.groupby(["year", by]).size() == 6).all()  # every model shown, zeros kept
        assert g.groupby("year")["n"].sum().tolist() == [98, 98]
    wide = compare.distribution_table(d)
    assert wide.shape == (2, 6) and wide.sum(axis=1).tolist() == [98, 98]


def test_transition_matrix_totals():
    a = pd.Series({101: 5, 147: 5, 151: 1, 153: 2, 155: 0, 157: 3, 159: 4}, name=2009)
    b = pd.Series({101: 1, 147: 5, 151: 1, 153: 3, 155: 4, 157: 3, 161: 2}, name=2011)
    # paired and answered both: 101 147 151 153 157 (155 blank in 2009; 159 and 161 in one round only)
    t = compare.transition_matrix(a, b, "5<1<2<3<4")
    assert t.shape == (5, 5) and list(t.index) == [5, 1, 2, 3, 4] and list(t.columns) == [5, 1, 2, 3, 4]
    assert t.to_numpy().sum() == 5
    assert t.loc[5, 1] == 1 and t.loc[5, 5] == 1 and t.loc[1, 1] == 1 and t.loc[2, 3] == 1 and t.loc[3, 3] == 1
    assert t.loc[4].sum() == 0 and t[4].sum() == 0  # zeros kept, category still there
    assert t.sum(axis=1).tolist() == [2, 1, 1, 1, 0]
    assert (t.index.name, t.columns.name) == ("2009", "2011")
    assert list(compare.transition_matrix(a, b, [5, 1, 3, 2, 4]).index) == [5, 1, 3, 2, 4]


def test_nonresponse_paired_by_hand(municipalities):
    codes = municipalities["kommunekode"].sort_values().to_numpy()
    m09 = pd.Series(1, index=codes)
    m11 = pd.Series(2, index=codes)
    m09.iloc[:8] = 0  # 8 silent in 2009
    m11.iloc[5:17] = 0  # 12 silent in 2011; 3 of them (5, 6, 7) silent in both
    rounds = {
        2009: pd.DataFrame({"kommunekode": codes, "model": m09.to_numpy(), "synthetic": True}),
        2011: pd.DataFrame(
            {"kommunekode": codes[m11.to_numpy() != 0], "model": m11[m11 != 0].to_numpy(), "synthetic": True}
        ),
    }
    al = compare.align_rounds(rounds, municipalities)
    r = compare.nonresponse(al)
    assert r.paired.to_numpy().tolist() == [[98 - 8 - 9, 9], [5, 3]]
    # b = 9 (answered 2009 only), c = 5: exact p = 2 P(X <= 5 | 14) = 2 (1+14+91+364+1001+2002) / 16384
    assert r.test.method == "exact binomial"
    assert r.test.pvalue == pytest.approx(2 * 3473 / 16384, rel=1e-12)
    t = r.table
    assert t.index[0] == compare.TOTAL and list(t.index[1:]) == reference.REGION_ORDER
    assert t.loc[compare.TOTAL, ["kommuner", "no_answer_2009", "no_answer_2011"]].tolist() == [98, 8, 12]
    assert t.drop(index=compare.TOTAL)[["kommuner", "no_answer_2009", "no_answer_2011"]].sum().tolist() == [98, 8, 12]
    assert t.loc[compare.TOTAL, "share_no_answer_2011"] == pytest.approx(12 / 98)


def test_change_levels_by_hand():
    a = pd.Series({101: 5, 147: 2, 151: 3, 153: 0, 155: 4})
    b = pd.Series({101: 4, 147: 3, 151: 2, 153: 1, 157: 5})
    ch = compare.change(a, b, "5<1<2<3<4").set_index("kommunekode")
    assert ch.loc[101, "change"] == 4 and ch.loc[101, "direction"] == "up"  # 5 (0) -> 4 (4)
    assert ch.loc[147, "change"] == 1 and ch.loc[151, "change"] == -1  # 2 -> 3 up, 3 -> 2 down
    assert pd.isna(ch.loc[153, "change"]) and pd.isna(ch.loc[153, "direction"])  # no answer in a
    assert pd.isna(ch.loc[155, "change"]) and pd.isna(ch.loc[157, "change"])  # absent from one round
    swapped = compare.change(a, b, "5<1<3<2<4").set_index("kommunekode")
    assert swapped.loc[147, "change"] == -1 and swapped.loc[151, "change"] == 1  # sensitive to 2 vs 3
    s = compare.change_summary(ch.reset_index())
    assert s.to_dict() == {"up": 2, "same": 0, "down": 1, "not comparable": 3}


def test_wide_models_and_side_by_side_maps(municipalities):
    al = compare.align_rounds(_rounds(municipalities), municipalities)
    w = compare.wide_models(al)
    assert list(w.columns) == ["kommunekode", "model_2009", "model_2011"] and len(w) == 98
    assert w["model_2009"].isna().sum() == 13
    gdf = reference.load_boundaries().merge(w, on="kommunekode", validate="one_to_one")
    fig = maps.rounds_side_by_side(
        gdf,
        ["model_2009", "model_2011"],
        titles=["2009", "2011"],
        categories=[5, 1, 2, 3, 4],
        cmap="YlGnBu",
        missing_label="did not answer",
    )
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes]
    assert [s.split(" (")[0] for s in legends[0]] == [s.split(" (")[0] for s in legends[1]]  # same classes
    assert legends[0][-1] == "did not answer (13)" and legends[1][-1] == "did not answer (2)"
    matplotlib.pyplot.close(fig)


def test_distribution_groups_in_their_usual_order(municipalities):
    al = compare.align_rounds(_rounds(municipalities), municipalities)
    t = compare.distribution_table(compare.distribution(al, by="regionsnavn"))
    assert [r for r, _ in t.index[::2]] == reference.REGION_ORDER and [y for _, y in t.index[:2]] == [2009, 2011]
    g = compare.distribution_table(compare.distribution(al, by="kommunegruppe_navn"))
    assert list(dict.fromkeys(r for r, _ in g.index)) == list(reference.KOMMUNEGRUPPER.values())


def test_interpret_claims_nothing_for_synthetic_data():
    tests = compare.PairedTests(
        bowker=compare.bowker(BOWKER_3X3),
        stuart_maxwell=compare.stuart_maxwell(BOWKER_3X3),
        mcnemar_cooperation=compare.mcnemar_test([[20, 10], [2, 15]]),
    )
    fake = compare.interpret(tests, synthetic=True)
    assert fake.startswith("**Synthetic example data") and "not findings" in fake
    assert "survey answers" not in fake and "in the synthetic example data" in fake
    real = compare.interpret(tests, synthetic=False)
    assert "Synthetic" not in real and "in the survey answers" in real
    assert "2 started and 10 stopped cooperating" in real  # c = 2, b = 10
    assert "not proof that nothing changed" in real  # Bowker p = 0.096, Stuart-Maxwell p = 0.85


# --------------------------------------------------------------------------- key results of a notebook-02 run


@pytest.fixture(scope="module")
def example_rounds(tmp_path_factory):
    """The shipped example exports of 2009 and 2011, cleaned into a temporary folder, as the pipeline cleans them."""
    from helpers.data import survey

    with cleaned_rounds(tmp_path_factory.mktemp("compare_rounds"), (2009, 2011)):
        return {year: survey.load_clean(year) for year in (2009, 2011)}


def _answers(clean: pd.DataFrame) -> dict[int, int]:
    """kommunekode -> model code of the kommuner that answered the model question (code 0 = blank left out)."""
    codes = dict(zip(clean["kommunekode"].astype(int), clean["model"].astype(int), strict=True))
    return {k: m for k, m in codes.items() if m != 0}


def test_key_results_of_the_example_rounds_round_trip_with_values_counted_by_hand(
    example_rounds, municipalities, outputs
):
    from scipy.stats import binomtest

    from helpers import results
    from helpers.outputs import reports
    from helpers.results.compare import CompareResults

    comparison = compare.compare_rounds(example_rounds, municipalities, 2009, 2011, "5<1<2<3<4")
    key = compare.key_results(comparison)
    path = reports.write_results("02_compare_2009_2011", key, synthetic=comparison.synthetic, parameters={})
    doc = results.read(path)
    assert isinstance(doc.results, CompareResults) and doc.results == key and doc.synthetic is True

    # the same numbers counted from the cleaned rounds directly, without the compare module
    a, b = _answers(example_rounds[2009]), _answers(example_rounds[2011])
    cooperating = {1, 2, 3, 4}
    assert key.n_kommuner == len(municipalities) == 98
    assert key.answered == {2009: len(a), 2011: len(b)}
    assert key.cooperating == {
        2009: sum(m in cooperating for m in a.values()),
        2011: sum(m in cooperating for m in b.values()),
    }
    assert key.model_counts[2009] == {0: 98 - len(a), **{m: list(a.values()).count(m) for m in (5, 1, 2, 3, 4)}}
    assert list(key.model_counts[2011]) == [0, 5, 1, 2, 3, 4]
    both = sorted(set(a) & set(b))
    assert key.paired_n == len(both)
    moves = pd.Series([(a[k], b[k]) for k in both]).value_counts().to_dict()
    assert key.transitions == {i: {j: moves.get((i, j), 0) for j in (5, 1, 2, 3, 4)} for i in (5, 1, 2, 3, 4)}

    # McNemar, cooperation: b = cooperating in 2009 only, c = in 2011 only; exact two-sided binomial below 25
    stop = sum(a[k] in cooperating and b[k] not in cooperating for k in both)
    start = sum(a[k] not in cooperating and b[k] in cooperating for k in both)
    mc = key.tests.mcnemar_cooperation
    assert (mc.b, mc.c, mc.n) == (stop, start, len(both))
    assert mc.method == ("exact binomial" if stop + start < 25 else "chi-square")
    if mc.method == "exact binomial":
        assert mc.pvalue == pytest.approx(binomtest(min(stop, start), stop + start).pvalue, rel=1e-12)

    # Bowker by its formula over the pairs of models with moves
    pairs = [(i, j) for i in (5, 1, 2, 3, 4) for j in (5, 1, 2, 3, 4) if i < j]
    terms = [(moves.get((i, j), 0), moves.get((j, i), 0)) for i, j in pairs]
    statistic = sum((x - y) ** 2 / (x + y) for x, y in terms if x + y)
    assert key.tests.bowker.statistic == pytest.approx(statistic, rel=1e-12)
    assert key.tests.bowker.df == sum(x + y > 0 for x, y in terms)
    assert key.tests.bowker.empty_pairs == sum(x + y == 0 for x, y in terms)
    # Stuart-Maxwell: d' S^-1 d on the table (every model exchanges with another here, so none is dropped)
    table = np.array([[moves.get((i, j), 0) for j in (5, 1, 2, 3, 4)] for i in (5, 1, 2, 3, 4)])
    assert key.tests.stuart_maxwell.categories == (5, 1, 2, 3, 4)
    assert key.tests.stuart_maxwell.statistic == pytest.approx(_d_s_inv_d(table, 0), rel=1e-9)

    # non-response of all 98: answered only in 2009 (b) and only in 2011 (c)
    nr = key.nonresponse_test
    assert (nr.b, nr.c, nr.n) == (len(set(a) - set(b)), len(set(b) - set(a)), 98)
    assert nr.pvalue == pytest.approx(binomtest(min(nr.b, nr.c), nr.b + nr.c).pvalue, rel=1e-12)

    # change in level: the index in the ordering; 2 and 3 swapped in the second ordering
    for ordering in ("5<1<2<3<4", "5<1<3<2<4"):
        level = {int(m): i for i, m in enumerate(ordering.split("<"))}
        steps = [np.sign(level[b[k]] - level[a[k]]) for k in both]
        assert key.change_by_ordering[ordering] == ChangeCounts(
            up=steps.count(1), same=steps.count(0), down=steps.count(-1), not_comparable=98 - len(both)
        )
    assert key.ordering == "5<1<2<3<4" and (key.year_a, key.year_b) == (2009, 2011)

    # the coverage of the reported intervals, simulated at this design, is in the results JSON (issue 23)
    written = json.loads(path.read_text(encoding="utf-8"))["results"]["coverage"]
    assert written["reps"] == 2000 and written["target"] == [0.94, 0.96] and len(written["rows"]) == 10
    cov = doc.results.coverage
    pairs = len(both) + 2  # the design's cells: (count + 1/2) / (pairs + 2) over the kommuner that answered both
    assert cov.cells[0][1] == pytest.approx((start + 0.5) / pairs) and cov.cells[1][0] == pytest.approx(
        (stop + 0.5) / pairs
    )
    assert cov.response_patterns[0] == pytest.approx(len(both) / 98)
    for treatment in ("complete case", "imputed"):
        net = cov.of("net_change", treatment)
        assert net.truth == pytest.approx((start - stop) / pairs)
        assert net.mc_se == pytest.approx(np.sqrt(net.coverage * (1 - net.coverage) / 2000))
        assert abs(net.coverage - 0.95) < 4 * net.mc_se + 0.01, (treatment, net.coverage)
        assert net.gap == (0.0 if 0.94 <= net.coverage <= 0.96 else pytest.approx(net.coverage - 0.94))


def test_compare_rounds_refuses_one_round_twice(example_rounds, municipalities):
    with pytest.raises(ValueError, match="year_a and year_b are both 2009"):
        compare.compare_rounds(example_rounds, municipalities, 2009, 2009)
    with pytest.raises(ValueError, match="round 2014 is not accepted; accepted: 2009, 2011"):
        compare.models_of(compare.align_rounds(example_rounds, municipalities), 2014)


def test_tests_table_has_one_row_per_test_and_the_other_df_convention():
    tests = compare.PairedTests(
        compare.bowker(np.array([[3, 0, 2], [0, 4, 1], [3, 4, 5]])),
        compare.stuart_maxwell(BOWKER_3X3),
        compare.mcnemar_test([[30, 20], [5, 40]]),
    )
    t = compare.tests_table(tests)
    assert list(t.index) == ["bowker", "stuart_maxwell", "mcnemar_cooperation"]
    assert t.loc["bowker", ["df", "df (all pairs)", "df convention"]].tolist() == [2, 3, "informative pairs"]
    assert t.loc["mcnemar_cooperation", "method"] == "chi-square" and t.loc["mcnemar_cooperation", "df"] == 1
    assert pd.isna(t.loc["stuart_maxwell", "df (all pairs)"]) and t.loc["stuart_maxwell", "dropped"] == []


def test_interpret_refuses_what_is_not_a_paired_test():
    with pytest.raises(TypeError, match="not a paired test: dict"):
        compare.interpret([{"b": 1, "c": 2, "pvalue": 0.5}], synthetic=False)


def test_the_two_maps_of_notebook_02_count_the_kommuner_of_each_class(example_rounds, municipalities):
    from helpers.outputs import labels

    comparison = compare.compare_rounds(example_rounds, municipalities, 2009, 2011)
    a, b = _answers(example_rounds[2009]), _answers(example_rounds[2011])
    boundaries = reference.load_boundaries()
    fig = maps.cooperation_rounds(boundaries, compare.wide_models(comparison.aligned), [2009, 2011], language="en")
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes if ax.get_legend()]
    silent = labels.text("did_not_answer", "en")
    assert [legend[-1] for legend in legends] == [f"{silent} ({98 - len(a)})", f"{silent} ({98 - len(b)})"]
    assert legends[0][0] == f"{labels.model_name(5, 'en', with_code=True)} ({list(a.values()).count(5)})"
    fig2, ax = matplotlib.pyplot.subplots()
    maps.cooperation_change(boundaries, comparison.change, ax, years=(2009, 2011), language="en")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    paired = len(set(a) & set(b))
    assert texts[-1] == f"{labels.text('did_not_answer_one_or_both', 'en')} ({98 - paired})"
    assert len(texts) == 9 + 1  # every step from -4 to +4 levels, and the kommuner not compared
    matplotlib.pyplot.close(fig)
    matplotlib.pyplot.close(fig2)


# --------------------------------------------------------------------------- issue 23: families and non-response


def test_the_four_tests_of_a_pair_are_one_family_with_holm_and_bh_beside_the_raw_p():
    tests = compare.PairedTests(
        compare.bowker(np.array([[3, 0, 2], [0, 4, 1], [3, 4, 5]])),
        compare.stuart_maxwell(BOWKER_3X3),
        compare.mcnemar_test([[30, 20], [5, 40]]),
    )
    nonresponse = compare.mcnemar_test([[80, 8], [2, 8]])
    family = compare.test_family(tests, nonresponse)
    t = compare.tests_table(tests, nonresponse, family)
    assert list(t.index) == ["bowker", "stuart_maxwell", "mcnemar_cooperation", "mcnemar_nonresponse"]
    columns = list(t.columns)
    assert columns[columns.index("pvalue") + 1 : columns.index("pvalue") + 3] == ["pvalue (Holm)", "pvalue (BH)"]
    p = t["pvalue"].to_numpy(dtype=float)
    # Holm by hand: sort, multiply by 4, 3, 2, 1, keep the running maximum, cap at 1
    order = np.argsort(p)
    holm = np.minimum(1, np.maximum.accumulate(p[order] * np.array([4, 3, 2, 1])))
    assert t["pvalue (Holm)"].to_numpy(dtype=float)[order] == pytest.approx(holm)
    # BH by hand: p * 4 / rank, running minimum from the largest
    bh = np.minimum.accumulate((p[order] * 4 / np.arange(1, 5))[::-1])[::-1]
    assert t["pvalue (BH)"].to_numpy(dtype=float)[order] == pytest.approx(np.minimum(bh, 1))
    plain = compare.family_of_tests(family)
    assert plain.size == 4 and plain.of("stuart_maxwell").p_holm == pytest.approx(
        t.loc["stuart_maxwell", "pvalue (Holm)"]
    )
    # interpret reads the Holm-adjusted p and says so; without the family it says the p-value is unadjusted
    adjusted = compare.interpret(tests, synthetic=False, family=family)
    assert "the Holm-adjusted p" in adjusted and "over the 4 tests of this pair" in adjusted
    assert "unadjusted for the other tests" in compare.interpret(tests, synthetic=False)


def test_nonresponse_sensitivity_of_the_example_rounds_counted_by_hand(example_rounds, municipalities):
    comparison = compare.compare_rounds(example_rounds, municipalities, 2009, 2011, imputations=20, seed=3)
    key = compare.key_results(comparison)
    a, b = _answers(example_rounds[2009]), _answers(example_rounds[2011])
    coop = {1, 2, 3, 4}
    both = set(a) & set(b)
    sens = key.sensitivity
    # complete case: shares among the kommuner that answered what the quantity needs
    assert sens["cooperating_b"].complete_case.value == pytest.approx(sum(m in coop for m in b.values()) / len(b))
    started = sum(a[k] == 5 and b[k] in coop for k in both)
    assert sens["started"].complete_case.value == pytest.approx(started / len(both))
    assert sens["started"].complete_case.n == len(both) == key.paired_n
    # bounds: the missing answers all cooperating, or none of them
    coop_b = sum(m in coop for m in b.values())
    assert (sens["cooperating_b"].bounds.low, sens["cooperating_b"].bounds.high) == pytest.approx(
        (coop_b / 98, (coop_b + 98 - len(b)) / 98)
    )
    assert sens["net_change"].bounds.incomplete == 98 - len(both)
    # the transition table's bounds start at the observed counts
    for i, row in key.transitions.items():
        for j, count in row.items():
            low, high = key.transition_bounds[i][j]
            assert low == count <= high
    # weights: one set per response pattern, each adding up to the 98 kommuner
    assert [w.rounds for w in key.weights] == [(2009,), (2011,), (2009, 2011)]
    assert [w.respondents for w in key.weights] == [len(a), len(b), len(both)]
    assert all(w.total == pytest.approx(98) for w in key.weights)
    # imputation: every kommune, m data sets, the settings recorded
    assert sens["net_change"].imputed.n == 98 and sens["net_change"].imputed.m == 20 and key.imputation.seed == 3
    for by_model in key.model_shares.values():
        assert sum(s.imputed.value for s in by_model.values()) == pytest.approx(1.0)
        assert sum(s.weighted.value for s in by_model.values()) == pytest.approx(1.0)
    # McNemar's p over completions brackets the observed one
    assert key.mcnemar_bounds.low <= key.tests.mcnemar_cooperation.pvalue <= key.mcnemar_bounds.high
    # the same seed gives the same numbers
    again = compare.key_results(
        compare.compare_rounds(example_rounds, municipalities, 2009, 2011, imputations=20, seed=3)
    )
    assert again.sensitivity == key.sensitivity
