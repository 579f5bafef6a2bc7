"""helpers.analysis.nonresponse: bounds, raking weights, imputation and Rubin's rules, against cases
worked by hand, full enumeration and independent implementations (statsmodels). The checks against R
(survey, mice) are in tests/test_r_reference.py."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from helpers.analysis import compare
from helpers.analysis import nonresponse as nr
from helpers.analysis.nonresponse import imputation, weighting
from helpers.data import reference

COOP = [1, 2, 3, 4]


@pytest.fixture(scope="module")
def municipalities():
    return reference.load_municipalities()


def make_panel(municipalities, answers: dict[int, list], rows: int | None = None) -> nr.Panel:
    """A panel of the first ``rows`` kommuner with the given answers (None = did not answer)."""
    rows = rows or len(next(iter(answers.values())))
    m = municipalities.sort_values("kommunekode").head(rows)
    aligned = pd.concat(
        [
            pd.DataFrame(
                {
                    "year": y,
                    "kommunekode": m["kommunekode"].to_numpy(),
                    "model": [0 if v is None else v for v in values],
                    "synthetic": True,
                }
            )
            for y, values in answers.items()
        ]
    )
    return nr.panel(aligned, m)


def random_panel(municipalities, seed: int, missing: float = 0.12) -> nr.Panel:
    """98 kommuner, two rounds, answers drawn at random, about ``missing`` of them missing per round."""
    rng = np.random.default_rng(seed)
    a = rng.choice([1, 2, 3, 4, 5], size=98, p=[0.15, 0.15, 0.1, 0.05, 0.55])
    b = np.where(rng.random(98) < 0.6, a, rng.choice([1, 2, 3, 4, 5], size=98))
    answers = {2009: [None if rng.random() < missing else int(v) for v in a]}
    answers[2011] = [None if rng.random() < missing else int(v) for v in b]
    return make_panel(municipalities, answers)


# --------------------------------------------------------------------------- the panel


def test_panel_has_every_kommune_with_gaps_for_no_answer(municipalities):
    p = make_panel(municipalities, {2009: [5, None, 1, 2], 2011: [1, 3, None, 2]})
    assert p.years == (2009, 2011) and p.n == 4
    assert p.answers[2009].isna().tolist() == [False, True, False, False]
    assert p.answered((2009, 2011)).tolist() == [True, False, False, True]
    assert p.previous(2011) == 2009 and p.previous(2009) is None
    assert p.previous_answer(2011).tolist() == ["not cooperating", "did not answer", "cooperating", "cooperating"]
    cov = p.covariates_of(2011)
    assert list(cov.columns) == ["kommunegruppe", "regionsnavn", "log_population"]
    first = municipalities.sort_values("kommunekode").iloc[0]
    assert cov["log_population"].iloc[0] == pytest.approx(np.log(first["population_2011"]), rel=1e-12)


# --------------------------------------------------------------------------- bounds


def test_bounds_of_shares_and_moves_by_hand(municipalities):
    # 6 kommuner. 2009: 5, 5, 1, None, 2, None; 2011: 1, 5, None, 3, None, None.
    p = make_panel(municipalities, {2009: [5, 5, 1, None, 2, None], 2011: [1, 5, None, 3, None, None]})
    coop_b = nr.bounds(nr.share("c", 2011, COOP), p).bounds
    # cooperating in 2011: kommuner 1 (model 1) and 4 (model 3) for sure; 3, 5, 6 did not answer -> 2/6 to 5/6
    assert (coop_b.low, coop_b.high, coop_b.incomplete, coop_b.exact) == (2 / 6, 5 / 6, 3, True)
    started = nr.bounds(nr.moved("s", 2009, 2011, [5], COOP), p).bounds
    # started (5 -> 1-4): kommune 1 for sure; 3 answered 1 in 2009 (cannot start); 4 can (2009 unknown, 2011 = 3);
    # 5 answered 2 (cannot); 6 missing both (can): 1/6 to 3/6
    assert (started.low, started.high, started.incomplete) == (1 / 6, 3 / 6, 4)
    net = nr.bounds(nr.net_change("n", 2009, 2011, COOP), p).bounds
    # net = started - stopped, per kommune +1 / 0 / -1: k1 +1, k2 0; k3 (1 -> ?) -1..0; k4 (? -> 3) 0..+1;
    # k5 (2 -> ?) -1..0; k6 (?, ?) -1..+1 -> low (1 - 3) / 6, high (1 + 2) / 6
    assert (net.low, net.high) == pytest.approx((-2 / 6, 3 / 6))
    lowest = nr.bounds(nr.net_change("n", 2009, 2011, COOP), p).lowest
    assert not lowest.isna().any().any()
    assert compare.key_statistics(2009, 2011)[4].score(lowest).mean() == pytest.approx(-2 / 6)


def _mcnemar_p(answers, covariates, weights):
    a = np.isin(answers[2009].to_numpy(), COOP)
    b = np.isin(answers[2011].to_numpy(), COOP)
    t = np.array([[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]])
    return nr.Estimate(**nr.wald(compare.mcnemar_test(t).pvalue, None, len(answers)))


def _stuart_maxwell(answers, covariates, weights):
    t = np.zeros((5, 5))
    np.add.at(t, (answers[2009].to_numpy() - 1, answers[2011].to_numpy() - 1), 1)
    return nr.Estimate(**nr.wald(compare.stuart_maxwell(t).statistic, None, len(answers)))


def _ratio(answers, covariates, weights):  # share cooperating in 2011 over the share in 2009: not additive
    a = np.isin(answers[2009].to_numpy(), COOP).mean()
    b = np.isin(answers[2011].to_numpy(), COOP).mean()
    return nr.Estimate(**nr.wald(b / max(a, 1e-9), None, len(answers)))


@pytest.mark.parametrize("compute", [_mcnemar_p, _stuart_maxwell, _ratio])
@pytest.mark.parametrize("seed", [1, 2])
def test_search_finds_the_extremes_of_full_enumeration(municipalities, compute, seed):
    # 30 kommuner, 4 missing answers: 5^4 = 625 completions, each evaluated by the exhaustive method
    rng = np.random.default_rng(seed)
    a = rng.choice([1, 2, 3, 4, 5], size=30, p=[0.2, 0.15, 0.1, 0.05, 0.5])
    b = np.where(rng.random(30) < 0.5, a, rng.choice([1, 2, 3, 4, 5], size=30))
    answers = {2009: [int(v) for v in a], 2011: [int(v) for v in b]}
    for year, k in zip((2009, 2011, 2011, 2009), rng.choice(30, 4, replace=False), strict=True):
        answers[year][k] = None
    p = make_panel(municipalities, answers)
    stat = nr.statistic("s", "a statistic that is not additive", (2009, 2011), compute)
    assert nr.manski.completions(stat, p) == 5**4
    exact = nr.exhaustive(stat, p)
    found = nr.search(stat, p, seed=seed)
    assert exact.bounds.exact and not found.bounds.exact
    assert found.bounds.low == pytest.approx(exact.bounds.low, rel=1e-12)
    assert found.bounds.high == pytest.approx(exact.bounds.high, rel=1e-12)
    assert found.evaluations < exact.evaluations  # the search is the cheaper way
    # the completions reported attain the values
    for side in ("lowest", "highest"):
        completion = getattr(found, side)
        assert completion.notna().all().all()
        value = compute(completion, None, None).value
        assert value == pytest.approx(getattr(found.bounds, "low" if side == "lowest" else "high"), rel=1e-12)
    # bounds() enumerates when there are few completions, and searches when there are many
    assert nr.bounds(stat, p).bounds.exact
    assert not nr.bounds(stat, p, max_completions=100).bounds.exact


def test_search_bounds_of_the_mcnemar_p_value_equal_enumeration_of_the_discordant_counts(municipalities):
    # McNemar's p depends on (b, c) only: enumerate every (b, c) the completions can reach, kommune by kommune
    p = random_panel(municipalities, seed=5)
    a, b = p.answers[2009], p.answers[2011]
    coop = lambda s: s.isin(COOP)  # noqa: E731
    both = a.notna() & b.notna()
    b0 = int((both & coop(a) & ~coop(b)).sum())  # stopped
    c0 = int((both & ~coop(a) & coop(b)).sum())  # started
    to_b = int((a.isna() & b.notna() & ~coop(b)).sum() + (b.isna() & a.notna() & coop(a)).sum())
    to_c = int((a.isna() & b.notna() & coop(b)).sum() + (b.isna() & a.notna() & ~coop(a)).sum())
    either = int((a.isna() & b.isna()).sum())
    values = [
        compare.mcnemar_test(np.array([[0, b0 + x + z1], [c0 + y + z2, 0]])).pvalue
        for x, y in itertools.product(range(to_b + 1), range(to_c + 1))
        for z1 in range(either + 1)
        for z2 in range(either + 1 - z1)
    ]
    found = nr.bounds(compare.mcnemar_statistic(2009, 2011), p).bounds
    assert found.incomplete == int((a.isna() | b.isna()).sum()) > 15
    assert (found.low, found.high) == pytest.approx((min(values), max(values)), rel=1e-12)


# --------------------------------------------------------------------------- raking


def test_raking_reproduces_the_totals_of_all_kommuner(municipalities):
    p = random_panel(municipalities, seed=3)
    for pattern in ((2009,), (2011,), (2009, 2011)):
        w = nr.response_weights(p, pattern)
        for step in w.steps:
            achieved = step.design.mul(step.weights, axis=0).sum()
            assert np.allclose(achieved.to_numpy(), step.totals.to_numpy(), rtol=1e-10, atol=1e-8)
        assert w.summary.total == pytest.approx(98, rel=1e-12)
        assert w.summary.respondents == int(p.answered(pattern).sum())
        assert (w.propensity * w.weights).to_numpy() == pytest.approx(1.0)
    # the second round's weights balance the first round's answer (cooperating / not / no answer)
    w = nr.response_weights(p, (2011,))
    prev = p.previous_answer(2011)
    for level in nr.PREVIOUS_LEVELS:
        assert w.weights.groupby(prev.loc[w.weights.index]).sum().get(level, 0) == pytest.approx((prev == level).sum())


def test_raking_weights_everyone_one_when_everyone_answered(municipalities):
    p = make_panel(municipalities, {2014: [1, 2, 3, 4, 5] * 19 + [1, 2, 3]})
    w = nr.response_weights(p, (2014,))
    assert w.weights.to_numpy() == pytest.approx(1.0, abs=1e-12) and w.summary.effective_n == pytest.approx(98)


def test_raking_merges_a_category_without_respondents(municipalities):
    answers = [1, 5, 2] * 32 + [1, 5]
    p = make_panel(municipalities, {2011: answers})
    groups = p.covariates["kommunegruppe"]
    # no kommune of group 2 answers: it cannot be represented and is merged into the reference
    p.answers.loc[groups == 2, 2011] = pd.NA
    w = nr.response_weights(p, (2011,))
    assert w.summary.collapsed == ("kommunegruppe 2",)
    assert not any("kommunegruppe[2]" in c for c in w.summary.variables)
    assert w.summary.total == pytest.approx(98)


def test_trimming_caps_the_weights_and_keeps_their_total():
    w = pd.Series([1.0, 1.0, 1.0, 5.0, 2.0])
    trimmed, n = weighting._trim(w, 3.0)
    assert n == 1 and trimmed.max() == pytest.approx(3.0) and trimmed.sum() == pytest.approx(w.sum())
    # the excess 2 goes to the others in proportion: 1 + 2 * 1/5 = 1.4 and 2 + 2 * 2/5 = 2.8
    assert trimmed.tolist() == pytest.approx([1.4, 1.4, 1.4, 3.0, 2.8])


def test_a_share_of_zero_says_its_interval_is_degenerate():
    e = nr.Estimate(**nr.wald(*nr.weighted_mean(np.zeros(78)), 78, df=77))
    assert (e.value, e.se, e.low, e.high) == (0, 0, 0, 0) and "degenerate" in e.interval


def test_weighted_mean_standard_error_is_that_of_a_mean_without_weights():
    y = np.array([1.0, 0, 0, 1, 1, 0, 1, 1])
    mean, se = nr.weighted_mean(y)
    assert mean == pytest.approx(y.mean()) and se == pytest.approx(y.std(ddof=1) / np.sqrt(len(y)))


def test_calibrated_standard_error_on_the_intercept_alone_is_the_weighted_one():
    # raking to the number of kommuner only: g is constant and the residuals are the centred influence values
    rng = np.random.default_rng(0)
    y = rng.random(40)
    design = pd.DataFrame({"(Intercept)": np.ones(40)})
    g, _ = weighting.rake(design.to_numpy(), np.ones(40), np.array([55.0]))
    assert g == pytest.approx(55 / 40)
    step = weighting.Raking((2011,), design, pd.Series([55.0]), pd.Series(np.ones(40)), pd.Series(g), 0, ())
    assert weighting.calibrated_mean(y, step) == pytest.approx(nr.weighted_mean(y, g))


def test_raking_undoes_nonresponse_that_depends_on_the_calibration_variables(municipalities):
    # answers depend on kommunegruppe and so does the response: the complete case is biased, the weights are not
    rng = np.random.default_rng(11)
    group = municipalities.sort_values("kommunekode")["kommunegruppe"].to_numpy()  # make_panel's order
    truth = np.where(group <= 3, 1, 5)
    answered = rng.random(98) < np.where(group <= 3, 0.6, 0.95)
    answered[[np.flatnonzero(group == g)[0] for g in range(1, 6)]] = True  # every group has a respondent
    p = make_panel(municipalities, {2011: [int(t) if r else None for t, r in zip(truth, answered, strict=True)]})
    stat = nr.share("coop", 2011, COOP)
    true_share = float((truth == 1).mean())
    cc = nr.complete_case(stat, p).value
    weights = nr.response_weights(p, (2011,))
    assert weights.summary.collapsed == ()
    w = nr.weighted(stat, p, weights)
    assert abs(cc - true_share) > 0.05
    assert w.value == pytest.approx(true_share, abs=1e-9)  # a share constant within kommunegrupper: exact


# --------------------------------------------------------------------------- imputation


def test_augmentation_by_hand():
    # p = 1 predictor, k = 2 categories: 4 rows at mean +- sd/2, categories 0, 0, 1, 1, weight (1 + 1) / 4
    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 1, 0, 1, -1, -1])
    ry = np.array([True, True, True, True, False, False])
    ya, rya, xa, wa = imputation.augment(y, ry, x)
    sd = np.std(x, ddof=1)  # 1.8708
    assert xa[6:, 0] == pytest.approx([2.5 + sd / 2, 2.5 - sd / 2, 2.5 + sd / 2, 2.5 - sd / 2])
    assert ya[6:].tolist() == [0, 0, 1, 1] and rya[6:].all() and wa[6:] == pytest.approx([0.5] * 4)
    # p = 2, k = 2: 8 rows; the first column takes +- sd/2 in rows 1-4, the second (the fill runs on) in rows 5-8
    x2 = np.column_stack([x[:, 0], x[:, 0] ** 2])
    xa2 = imputation.augment(y, ry, x2)[2][6:]
    assert (xa2[:4, 0] != x2[:, 0].mean()).all() and (xa2[4:, 0] == x2[:, 0].mean()).all()
    assert (xa2[:4, 1] == x2[:, 1].mean()).all() and (xa2[4:, 1] != x2[:, 1].mean()).all()
    # exactly one missing value: mice adds nothing
    assert len(imputation.augment(y[:5], ry[:5], x[:5])[0]) == 5


def test_multinomial_fit_equals_statsmodels_mnlogit():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 2))
    eta = np.column_stack([np.zeros(400), 0.5 + x @ [1.0, -0.5], -0.3 + x @ [-0.4, 0.8]])
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=pr) for pr in prob]) + 1
    ours = imputation.fit_multinomial(y, x, np.ones(400))
    ref = sm.MNLogit(y, sm.add_constant(x)).fit(method="newton", disp=0, tol=1e-12)
    assert ours.coef == pytest.approx(np.asarray(ref.params), rel=1e-8)
    assert ours.cov == pytest.approx(np.asarray(ref.cov_params()), rel=1e-6)
    # integer weights are repeated rows
    w = rng.integers(1, 4, size=400)
    rep = imputation.fit_multinomial(np.repeat(y, w), np.repeat(x, w, axis=0), np.ones(w.sum()))
    assert imputation.fit_multinomial(y, x, w).coef == pytest.approx(rep.coef, rel=1e-8)


def test_imputations_are_reproducible_and_keep_the_answers(municipalities):
    p = random_panel(municipalities, seed=8)
    one = nr.impute(p, m=4, iterations=3, seed=12)
    again = nr.impute(p, m=6, iterations=3, seed=12)
    other = nr.impute(p, m=4, iterations=3, seed=13)
    for first, second in zip(one.completed, again.completed, strict=False):
        pd.testing.assert_frame_equal(first, second)  # data set j does not depend on m
    assert any(not a.equals(b) for a, b in zip(one.completed, other.completed, strict=True))
    observed = p.answers.notna()
    for c in one.completed:
        assert c.notna().all().all() and set(np.unique(c.to_numpy())) <= {1, 2, 3, 4, 5}
        assert (c[observed] == p.answers[observed]).sum().sum() == observed.sum().sum()
    assert one.settings.m == 4 and one.settings.seed == 12


def test_imputation_recovers_answers_predicted_by_the_other_round(municipalities):
    # 2011 answer = 2009 answer for every kommune: the imputed 2011 answers follow 2009 (most of the time)
    rng = np.random.default_rng(2)
    a = rng.choice([1, 2, 5], size=98, p=[0.3, 0.3, 0.4])
    gaps = rng.choice(98, 10, replace=False)
    b = [None if i in gaps else int(v) for i, v in enumerate(a)]
    p = make_panel(municipalities, {2009: [int(v) for v in a], 2011: b})
    imp = nr.impute(p, m=20, iterations=5, seed=1)
    hits = np.mean(
        [(c.loc[p.answers[2011].isna(), 2011] == c.loc[p.answers[2011].isna(), 2009]).mean() for c in imp.completed]
    )
    assert hits > 0.6  # drawn independently of 2009 it would be about 0.34 (the sum of squared shares)


# --------------------------------------------------------------------------- Rubin's rules


def test_rubins_rules_by_hand():
    est = [nr.Estimate(**nr.wald(v, s, 98, df=97)) for v, s in ((0.40, 0.05), (0.44, 0.05), (0.42, 0.06))]
    p = nr.pool(est)
    ubar = (0.05**2 + 0.05**2 + 0.06**2) / 3
    b = np.var([0.40, 0.44, 0.42], ddof=1)  # 0.0004
    t = ubar + (1 + 1 / 3) * b
    lam = (1 + 1 / 3) * b / t
    dfold = 2 / lam**2
    dfobs = 98 / 100 * 97 * (1 - lam)
    df = dfold * dfobs / (dfold + dfobs)
    assert (p.value, p.within, p.between, p.total) == pytest.approx((0.42, ubar, b, t))
    assert p.df_pooled == pytest.approx(df) and p.interval == f"t, df {df:.1f}"
    assert p.high == pytest.approx(0.42 + stats.t.ppf(0.975, df) * np.sqrt(t))
    assert p.riv == pytest.approx((1 + 1 / 3) * b / ubar)
    assert p.fmi == pytest.approx((p.riv + 2 / (df + 3)) / (1 + p.riv))
    # nothing imputed: B = 0, lambda is floored at 1e-4 as in mice, and the df is close to the complete data's
    same = nr.pool([est[0]] * 5)
    assert same.between == 0 and same.df_pooled == pytest.approx(nr.barnard_rubin(5, 0, same.total, 97))
    assert 90 < same.df_pooled < 97


# --------------------------------------------------------------------------- four ways


def test_four_ways_agree_when_everyone_answered(municipalities):
    p = make_panel(municipalities, {2011: [1, 5, 2, 5] * 24 + [3, 4], 2014: [1, 2, 2, 5] * 24 + [3, 4]})
    t = nr.prepare(p, m=3, iterations=2, seed=1)
    for stat in compare.key_statistics(2011, 2014):
        row = nr.four_ways(stat, t)
        cc = row.complete_case
        assert row.bounds.low == row.bounds.high == pytest.approx(cc.value)
        assert row.weighted.value == pytest.approx(cc.value) and row.imputed.value == pytest.approx(cc.value)
        assert row.imputed.between == pytest.approx(0, abs=1e-20) and row.bounds.incomplete == 0 and cc.n == 98


def test_four_ways_of_the_example_rounds_are_ordered_sensibly(municipalities):
    p = random_panel(municipalities, seed=21)
    t = nr.prepare(p, m=10, iterations=3, seed=2)
    rows = [nr.four_ways(s, t) for s in compare.key_statistics(2009, 2011)]
    for r in rows:
        # each treatment's estimate of the share of all kommuner lies within the bounds
        for e in (r.complete_case, r.weighted, r.imputed):
            assert r.bounds.low - 1e-12 <= e.value <= r.bounds.high + 1e-12, r.quantity
        assert r.complete_case.n == int(p.answered(r.rounds).sum()) and r.imputed.n == 98
    table = nr.sensitivity_table(rows, scale=100)
    assert list(table.columns.get_level_values(0).unique()) == ["complete case", "bounds", "weighted", "imputed"]
    assert table.loc[rows[0].description, ("bounds", "low")] == pytest.approx(rows[0].bounds.low * 100)


def test_sensitivity_table_says_what_each_interval_is(municipalities):
    """Issue 22/23: no interval without its distribution: Wilson score for a share's complete case (z for the net
    change), z for weighted, Wilson-type by Rubin's rules with t on Rubin's df for a share's pooled imputations (t
    for the net change), in the table (and so in its CSV) beside the numbers."""
    p = random_panel(municipalities, seed=21)
    t = nr.prepare(p, m=10, iterations=3, seed=2)
    rows = [nr.four_ways(s, t) for s in compare.key_statistics(2009, 2011)]
    table = nr.sensitivity_table(rows, scale=100)
    assert [r.quantity for r in rows] == ["cooperating_a", "cooperating_b", "started", "stopped", "net_change"]
    for r in rows:
        shown = table.loc[r.description]
        share = r.quantity != "net_change"
        cc_words = "Wilson score" if share else "z"
        imp_words = f"{'Wilson score by Rubin' + chr(39) + 's rules, ' if share else ''}t, df {r.imputed.df_pooled:.1f}"
        assert shown[("complete case", "interval")] == r.complete_case.interval == cc_words
        assert shown[("weighted", "interval")] == r.weighted.interval == "z"
        assert shown[("imputed", "interval")] == r.imputed.interval == imp_words


def test_complete_case_share_has_the_wilson_score_interval_of_statsmodels(municipalities):
    # the share that stopped: 0 of the complete cases stopped, where a Wald interval is [0, 0]
    answers = {2009: [1] * 40 + [5] * 30 + [None] * 28, 2011: [1] * 40 + [2] * 20 + [5] * 10 + [None] * 28}
    p = make_panel(municipalities, answers)
    stopped = nr.moved("stopped", 2009, 2011, [1, 2, 3, 4], [5])
    cc = nr.complete_case(stopped, p)
    assert (cc.value, cc.n, cc.interval) == (0.0, 70, "Wilson score")
    assert (cc.low, cc.high) == pytest.approx(proportion_confint(0, 70, alpha=0.05, method="wilson"), rel=1e-12)
    assert cc.low == 0 and cc.high == pytest.approx(nr.statistics.Z**2 / (70 + nr.statistics.Z**2), rel=1e-12)
    cooperating = nr.complete_case(nr.share("c", 2011, [1, 2, 3, 4]), p)
    assert cooperating.value == pytest.approx(60 / 70) and cooperating.se == pytest.approx(
        np.sqrt(60 / 70 * 10 / 70 / 69)
    )  # the se stays the sample mean's s / sqrt(n): what Rubin's rules pool
    assert (cooperating.low, cooperating.high) == pytest.approx(
        proportion_confint(60, 70, alpha=0.05, method="wilson"), rel=1e-12
    )
    # a mean that is not declared a share keeps its z interval; a declared share whose score is not 0/1 is refused
    plain = nr.mean_of("c", "c", [2011], lambda a: np.isin(a[2011].to_numpy(), [1, 2, 3, 4]).astype(float))
    assert nr.complete_case(plain, p).interval == "z" and nr.complete_case(plain, p).value == cooperating.value
    bad = nr.mean_of("x", "x", [2011], lambda a: a[2011].to_numpy(dtype=float), proportion=True)
    with pytest.raises(ValueError, match="not 0/1"):
        nr.complete_case(bad, p)


def test_pooled_wilson_interval_solves_its_score_equation_and_is_wilson_without_imputation():
    rng = np.random.default_rng(3)
    n, m = 98, 20
    for x in (0, 1, 5, 60, 97):
        counts = np.clip(x + rng.integers(-2, 3, size=m), 0, n)  # imputations that differ a little
        shares = counts / n
        ests = [nr.Estimate(**nr.wald(v, np.sqrt(v * (1 - v) / (n - 1)), n, df=n - 1)) for v in shares]
        p = nr.pooling.wilson_pooled(nr.pool(ests))
        assert p.interval == f"Wilson score by Rubin's rules, t, df {p.df_pooled:.1f}"
        assert p.value == pytest.approx(shares.mean()) and p.se == pytest.approx(np.sqrt(p.total))
        # the ends solve (qbar - p)^2 = t^2 (1 + r) p (1 - p) / n, r = (1 + 1/m) B / mean(p_j (1 - p_j) / n)
        r = (1 + 1 / m) * p.between / np.mean(shares * (1 - shares) / n)
        t = stats.t.ppf(0.975, p.df_pooled)
        for end in (p.low, p.high):
            assert (p.value - end) ** 2 == pytest.approx(t**2 * (1 + r) * end * (1 - end) / n, rel=1e-9, abs=1e-15)
        assert p.low < p.value < p.high or (p.value == 0 and p.low == 0 < p.high)
        # nothing imputed (B = 0): the complete-data Wilson interval with t in place of z, at large df statsmodels'
        same = nr.pooling.wilson_pooled(nr.pool([ests[0]] * m))
        k = round(shares[0] * n)
        low, high = nr.pooling.wilson_interval_pooled(shares[0], ests[0].se ** 2, 0.0, n, m, 1e9)
        assert (low, high) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), rel=1e-7, abs=1e-12)
        assert same.low <= low and same.high >= high  # t on a finite df: a little wider


# --------------------------------------------------------------------------- coverage of 02's intervals


def test_vectorised_rubins_rules_equal_pool():
    rng = np.random.default_rng(5)
    q, se = rng.normal(0.4, 0.02, size=(6, 20)), rng.uniform(0.03, 0.06, size=(6, 20))
    value, total_se, df = nr.coverage.pool_arrays(q, se**2, 97)
    for i in range(6):
        p = nr.pool([nr.Estimate(**nr.wald(v, s, 98, df=97)) for v, s in zip(q[i], se[i], strict=True)])
        assert (value[i], total_se[i] ** 2, df[i]) == pytest.approx((p.value, p.total, p.df_pooled), rel=1e-12)
    # nothing imputed: B = 0, the df from the floored lambda, as nr.pool
    _, _, df0 = nr.coverage.pool_arrays(np.full((1, 5), 0.4), np.full((1, 5), 0.0025), 97)
    assert df0[0] == pytest.approx(nr.pool([nr.Estimate(**nr.wald(0.4, 0.05, 98, df=97))] * 5).df_pooled, rel=1e-12)


def _exact_coverage(n: int, p: float, quantile: float, interval: str) -> float:
    """The exact coverage for a share p over n kommuners (a binomial sum) of the Wald interval mean +- quantile x
    s / sqrt(n) (``interval="wald"``) or of the Wilson score interval with ``quantile`` in place of z
    (``"wilson"``: the ends solve (k/n - p)^2 = quantile^2 p (1 - p) / n)."""
    k = np.arange(n + 1)
    share = k / n
    if interval == "wald":
        se = np.sqrt(share * (1 - share) / (n - 1))  # s / sqrt(n), s with divisor n - 1
        low, high = share - quantile * se, share + quantile * se
    else:
        c = quantile**2 / n
        centre, half = (share + c / 2) / (1 + c), np.sqrt(c * share * (1 - share) + c**2 / 4) / (1 + c)
        low, high = centre - half, centre + half
    covers = (low <= p) & (p <= high)
    return float(stats.binom.pmf(k, n, p)[covers].sum())


@pytest.mark.parametrize(
    "quantity, cells",
    [
        ("cooperating_a", [[0.25, 0.25], [0.25, 0.25]]),
        ("stopped", [[0.6, 0.3], [0.01, 0.09]]),
        ("net_change", [[0.6, 0.3], [0.01, 0.09]]),
    ],
)
def test_simulated_coverage_equals_the_exact_binomial_coverage_when_everyone_answers(quantity, cells):
    # everyone answers: the complete-case interval of a share is the Wilson score interval of a binomial share,
    # whose coverage is a finite sum; the imputed one (nothing imputed, B = 0) is Wilson with t on the
    # Barnard-Rubin df of 97 in place of z. The net change keeps its Wald intervals: z and t.
    check = nr.coverage.simulate(cells, [1, 0, 0, 0], 98, reps=4000, m=2, seed=7)
    truth = {"cooperating_a": 0.5, "stopped": 0.01, "net_change": 0.29}[quantity]
    df = nr.barnard_rubin(2, 0.0, 1.0, 97)
    for treatment, quantile in (("complete case", nr.statistics.Z), ("imputed", stats.t.ppf(0.975, df))):
        row = check.of(quantity, treatment)
        assert row.truth == pytest.approx(truth) and row.used == 4000
        if quantity == "net_change":  # a trinomial score: its coverage is checked in the band below
            assert row.interval == ("z" if treatment == "complete case" else "t, Barnard-Rubin df (Rubin's rules)")
            assert abs(row.coverage - 0.95) < 4 * row.mc_se + 0.01, (treatment, row.coverage)
            continue
        exact = _exact_coverage(98, truth, quantile, "wilson")
        assert row.interval.startswith("Wilson score")
        assert abs(row.coverage - exact) < 4 * np.sqrt(exact * (1 - exact) / 4000), (treatment, row.coverage, exact)
        assert row.mc_se == pytest.approx(np.sqrt(row.coverage * (1 - row.coverage) / 4000))
    if quantity == "cooperating_a":  # a share of one half: close to nominal, inside the band
        assert 0.93 < check.of(quantity, "complete case").coverage < 0.97
    if quantity == "stopped":
        # a share of 1 %: no kommune stopped in 37 % of the rounds; the Wald interval then has no width and covers
        # 63 %, the Wilson interval [0, 3.8 %] covers: 0.63 against 0.92 exactly
        assert _exact_coverage(98, 0.01, nr.statistics.Z, "wald") == pytest.approx(0.6261, abs=1e-4)
        assert _exact_coverage(98, 0.01, nr.statistics.Z, "wilson") == pytest.approx(0.9243, abs=1e-4)
        assert check.of(quantity, "complete case").coverage > 0.9


def test_imputed_intervals_cover_at_their_level_under_nonresponse_at_random():
    # 12 % of round a missing, as in the example rounds; the other round predicts it: proper imputation covers
    cells = [[0.25, 0.05], [0.05, 0.65]]
    check = nr.coverage.simulate(cells, [0.88, 0.0, 0.12, 0.0], 98, reps=2000, m=20, seed=11)
    for q in ("cooperating_a", "net_change"):
        for treatment in ("complete case", "imputed"):
            row = check.of(q, treatment)
            assert abs(row.coverage - 0.95) < 4 * row.mc_se + 0.005, (q, treatment, row.coverage)
            assert row.coverage_realised >= row.coverage  # the 98 themselves: mostly observed, no fpc
    # the imputed interval of round a uses all 98 kommuner: narrower than the complete case's over 86
    assert check.of("cooperating_a", "imputed").mean_width < check.of("cooperating_a", "complete case").mean_width


def test_coverage_is_reproducible_and_read_from_the_panel(municipalities):
    panel = random_panel(municipalities, seed=3)
    cells, patterns = nr.coverage.design_of(panel, 2009, 2011, COOP)
    answers = panel.answers
    both = answers.notna().all(axis=1)
    ca, cb = answers[2009].isin(COOP), answers[2011].isin(COOP)
    assert cells[1, 0] == pytest.approx(((ca & ~cb & both).sum() + 0.5) / (both.sum() + 2))
    assert patterns[0] == pytest.approx(both.mean()) and patterns.sum() == pytest.approx(1)
    one = nr.key_coverage(panel, 2009, 2011, COOP, reps=300, m=5, seed=1)
    assert one == nr.key_coverage(panel, 2009, 2011, COOP, reps=300, m=5, seed=1)
    assert one != nr.key_coverage(panel, 2009, 2011, COOP, reps=300, m=5, seed=2)
    assert [(r.quantity, r.treatment) for r in one.rows][:2] == [
        ("cooperating_a", "complete case"),
        ("cooperating_b", "complete case"),
    ]
    assert len(one.rows) == 10 and one.reps == 300 and one.target == (0.94, 0.96)
    with pytest.raises(ValueError, match="at least 2"):
        nr.key_coverage(panel, 2009, 2011, COOP, reps=1)


def test_the_written_out_normal_quantile_is_scipys():
    """statistics.Z is written out so that the module imports without scipy.stats; it must stay scipy's value."""
    from helpers.analysis.nonresponse import statistics

    assert statistics.Z == float(stats.norm.ppf(0.5 + statistics.LEVEL / 2))
