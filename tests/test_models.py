"""Statistical helpers: hand-computable cases, and recovery of known effects by simulation."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from helpers import models, reference
from helpers.errors import DataError


@pytest.fixture(scope="module")
def base():
    """The 98 real kommuner with populations and a fixed, seeded assignment of models."""
    m = reference.load_municipalities()
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "kommunekode": m["kommunekode"],
        "population": m["population_2011"],
        "kommunegruppe": m["kommunegruppe"],
        "merged_2007": m["merged_2007"],
        "log_population": np.log(m["population_2011"]),
        "model": rng.choice([5, 1, 2, 3, 4], 98, p=[0.4, 0.15, 0.2, 0.15, 0.1]),
    })


def test_score_follows_ordering_and_drops_non_response():
    s = models.score(pd.Series([5, 1, 2, 3, 4, 0]), "5<1<3<2<4")
    assert s.tolist()[:5] == [0, 1, 3, 2, 4]
    assert np.isnan(s.iloc[5])


def test_poisson_irr_equals_ratio_of_rates_by_hand():
    # With one categorical regressor the Poisson MLE of each group's rate is sum(y) / sum(exposure).
    df = pd.DataFrame({
        "model": [5, 5, 5, 3, 3, 3],
        "population": [1000, 2000, 3000, 1500, 2500, 1000],
        "y": [50, 90, 160, 100, 150, 70],
    })
    res = models.fit_count(df, "y", family="poisson", controls=())
    irr = models.irr_table(res).loc["model 3 (Vi arbejder sammen)", "irr"]
    by_hand = (320 / 5000) / (300 / 6000)
    assert irr == pytest.approx(by_hand, rel=1e-9)


def test_negbin_recovers_dispersion_and_effects(base):
    rng = np.random.default_rng(11)
    big = pd.concat([base] * 10, ignore_index=True)  # 980 units: tight estimates
    truth = {1: 1.05, 2: 1.10, 3: 1.20, 4: 1.30}
    big["visits"] = models.simulate_counts(big, 6.0, truth, 0.04, rng)
    res = models.fit_count(big, "visits", controls=())
    assert res.alpha == pytest.approx(0.04, rel=0.15)
    t = models.irr_table(res)
    for m, irr in truth.items():
        row = t.filter(like=f"model {m}", axis=0).iloc[0]
        assert abs(row["coef"] - np.log(irr)) < 3 * row["se"], (m, row["irr"])


def test_overdispersion_is_visible_in_poisson_fit(base):
    rng = np.random.default_rng(3)
    df = base.assign(visits=models.simulate_counts(base, 6.0, {}, 0.05, rng))
    assert models.dispersion(models.fit_count(df, "visits", family="poisson")) > 100
    nb = models.fit_count(df, "visits")
    assert models.dispersion(nb) == pytest.approx(1.0, abs=0.5)


def test_change_model_by_hand():
    # d_log_rate = 0.02 + 0.1 * d_score exactly: OLS on first differences returns it.
    a = pd.DataFrame({"kommunekode": [1, 2, 3, 4], "model": [5, 5, 1, 2], "rate_per_1000": [100.0] * 4})
    b_models = [5, 1, 3, 2]
    d_score = models.score(pd.Series(b_models)) - models.score(a["model"])
    b = pd.DataFrame({"kommunekode": [1, 2, 3, 4], "model": b_models, "kommunegruppe": 1, "merged_2007": False,
                      "rate_per_1000": 100.0 * np.exp(0.02 + 0.1 * d_score)})
    ch = models.change_frame(a, b)
    assert ch["d_score"].tolist() == [0, 1, 2, 0]
    res = models.fit_change(ch)
    assert res.params["d_score"] == pytest.approx(0.1)
    assert res.params["Intercept"] == pytest.approx(0.02)


def test_ordinal_thresholds_reproduce_predicted_probabilities(base):
    rng = np.random.default_rng(5)
    df = base.copy()
    latent = 0.8 * (df["log_population"] - df["log_population"].mean()) + rng.logistic(size=98)
    df["model"] = pd.cut(latent, [-np.inf, -0.5, 0.3, 1.0, 1.8, np.inf], labels=[5, 1, 2, 3, 4]).astype(int)
    res = models.fit_ordinal(df)
    cuts = models.thresholds(res)
    assert cuts.is_monotonic_increasing
    assert list(cuts.index) == ["5|1", "1|2", "2|3", "3|4"]
    xb = models.ordinal_design(df).to_numpy() @ res.params.iloc[: -len(cuts)].to_numpy()
    p_lowest = expit(cuts.iloc[0] - xb)  # P(model 5) = F(cut_1 - x'b)
    assert np.allclose(p_lowest, np.asarray(res.predict())[:, 0])
    assert res.params["log_population_vs_50000"] > 0


def test_analysis_frame_drops_non_response_and_fano():
    survey = pd.DataFrame({"kommunekode": [101, 147, 561, 563], "model": [3, 0, 2, 2]})
    panel = pd.DataFrame({"kommunekode": [101, 147, 561], "year": 2012, "population": [1000, 2000, 3000],
                          "visits": [10, 20, 30], "kommunegruppe": 1, "regionsnavn": "x", "merged_2007": False})
    df = models.analysis_frame(survey, panel, 2012, "visits")
    assert df["kommunekode"].tolist() == [101, 561]
    assert df.attrs["dropped"] == [563]
    with pytest.raises(ValueError, match="accepted"):
        models.analysis_frame(survey, panel, 2012, "nonsense")
    with pytest.raises(Exception, match="no usage data for 2030"):
        models.analysis_frame(survey, panel, 2030, "visits")
    # a year in the panel without the outcome (the synthetic visits end in 2015): say which years have it
    later = panel.assign(year=2018, visits=np.nan, visits_source="synthetic")
    with pytest.raises(DataError, match=r"no visits values for usage year 2018 \(source: synthetic\).*\[2012\]"):
        models.analysis_frame(survey, pd.concat([panel.assign(visits_source="synthetic"), later]), 2018, "visits")


def test_minimal_detectable_interpolates():
    curve = pd.DataFrame({"irr": [1.0, 1.1, 1.2], "power": [0.05, 0.6, 1.0]})
    assert models.minimal_detectable(curve) == pytest.approx(1.1 + 0.2 / 0.4 * 0.1)
    assert models.minimal_detectable(curve.iloc[:2]) is None


def test_irr_in_words_marks_synthetic():
    row = pd.Series({"irr": 1.08, "irr_low": 1.02, "irr_high": 1.15}, name="model 3 (Vi arbejder sammen)")
    text = models.irr_in_words(row, "visits", synthetic=True)
    assert text.startswith("[synthetic example, not a finding]")
    assert "8.0 % more visits" in text and "+2.0 %" in text and "+15.0 %" in text
