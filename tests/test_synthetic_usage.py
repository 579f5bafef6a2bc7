"""helpers.data.synthetic.usage: calibration, reproducibility and a recoverable true effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from helpers.core import files, paths
from helpers.data import provenance, usage
from helpers.data.synthetic import SEED
from helpers.data.synthetic import usage as synth
from helpers.data.synthetic.truth import true_models


@pytest.fixture(scope="module")
def example():
    return usage.load_synthetic()


@pytest.fixture(scope="module")
def totals(example):
    return example.groupby("year").sum().drop(columns="kommunekode")


def test_shape_units_and_years(example):
    assert len(example) == 97 * 7
    assert set(example["year"]) == set(range(2009, 2016))
    assert example["kommunekode"].nunique() == 97
    assert 563 not in set(example["kommunekode"]) and 561 in set(example["kommunekode"])
    assert list(example.columns) == [
        "kommunekode",
        "year",
        "loans",
        "visits",
        "downloads",
        "service_points",
        "expenditure",
    ]


def test_visits_and_downloads_calibrated(totals):
    assert totals.loc[2010, "visits"] == 36_000_000
    assert totals.loc[2011, "visits"] == 36_297_751
    assert totals.loc[2009, "visits"] == 35_900_000
    assert totals.loc[2010, "downloads"] == 11_178_757
    assert totals.loc[2009, "downloads"] == 7_294_916


def test_service_points(totals, example):
    assert totals.loc[2010, "service_points"] == 482  # 97 main + 353 branches + 32 bookmobiles
    assert totals.loc[2009, "service_points"] == 97 + 369 + 33
    assert (example["service_points"] >= 1).all()
    # branches only close: no unit gains service points
    wide = example.pivot(index="kommunekode", columns="year", values="service_points")
    assert (wide.diff(axis=1).iloc[:, 1:] <= 0).all().all()


def test_loans_match_real_national_totals(totals):
    real = usage.national_real_loans().set_index("year")["loans"]
    for y in range(2010, 2015):
        assert totals.loc[y, "loans"] == pytest.approx(real[y], rel=0.01)
    # 2009 extrapolated: within the 48-50 million first loans reported for 2009
    assert 47e6 < totals.loc[2009, "loans"] < 50e6
    assert totals.loc[2009, "loans"] > totals.loc[2010, "loans"]


def test_expenditure_plausible(example):
    pop = usage.unit_population(range(2009, 2016))
    e = example.merge(pop, on=["kommunekode", "year"])
    per_capita = e["expenditure"] / e["population"]
    assert 250 < per_capita.median() < 700  # DKK per inhabitant
    assert (e["expenditure"] % 1000 == 0).all()


def test_generate_is_deterministic():
    a_panel, a_truth = synth.generate()
    b_panel, b_truth = synth.generate()
    pd.testing.assert_frame_equal(a_panel, b_panel)
    assert a_truth == b_truth
    c_panel, _ = synth.generate(seed=SEED + 1)
    assert not c_panel.equals(a_panel)


def test_write_examples_byte_for_byte(raw_copy):
    shipped = {
        n: files.sha256(paths.root() / "data" / "raw" / "usage" / n) for n in (usage.EXAMPLE_FILE, usage.TRUTH_FILE)
    }
    for n in shipped:
        (raw_copy / "usage" / n).unlink()
    out = synth.write_examples()
    assert out["panel"].parent == raw_copy / "usage"
    for n, sha in shipped.items():
        assert files.sha256(raw_copy / "usage" / n) == sha, n
        entry = provenance.entry_for(raw_copy / "usage" / n)
        assert entry.synthetic is True and entry.sha256 == sha
    assert provenance.check(raw_copy) == []


def test_truth_file(example):
    t = usage.load_truth()
    assert t["synthetic"] is True and t["seed"] == SEED
    assert t["reference_model"] == 5
    assert t["dispersion"]["visits"]["alpha"] > 0 and "gamma-Poisson" in t["dispersion"]["loans"]["distribution"]
    assert t["national_totals"]["visits"][2010] == 36_000_000
    assert t["rate_ratios"] == synth.RATE_RATIOS


def _with_models(outcome: str) -> pd.DataFrame:
    t = usage.load_truth()
    p = usage.build_panel({"loans": "synthetic"}, years=range(2009, 2016))
    p["round"] = p["year"].map(t["round_for_year"])
    tm = true_models()[["kommunekode", "year", "model_true"]].rename(columns={"year": "round"})
    p = p.merge(tm, on=["kommunekode", "round"], how="left", validate="many_to_one")
    assert p["model_true"].notna().all()
    p["model"] = p["model_true"].astype(int).astype(str)
    return p


@pytest.mark.parametrize("outcome", ["visits", "loans"])
def test_true_rate_ratios_recoverable(outcome):
    """Poisson with unit and year fixed effects and exposure = population recovers the rate ratios."""
    p = _with_models(outcome)
    fit = smf.glm(
        f"{outcome} ~ C(model, Treatment('5')) + C(year) + C(kommunekode)",
        data=p,
        family=sm.families.Poisson(),
        exposure=p["population"],
    ).fit()
    truth = usage.load_truth()["rate_ratios"][outcome]
    for m in (1, 2, 3, 4):
        est = float(np.exp(fit.params[f"C(model, Treatment('5'))[T.{m}]"]))
        assert est == pytest.approx(truth[m], abs=0.04), (outcome, m, est)
