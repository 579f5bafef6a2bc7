"""Regression tables: the numbers are the fit's, at full precision in the CSV; every format is written."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from helpers import tables


@pytest.fixture
def fits():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"model": np.tile([5, 1, 2, 3, 4], 20), "kommunegruppe": np.repeat([1, 2, 3, 4, 5], 20),
                       "merged_2007": np.tile([0, 1], 50), "population": rng.integers(10_000, 100_000, 100)})
    df["y"] = rng.poisson(df["population"] * 0.005 * df["model"].map({5: 1.0, 1: 1.1, 2: 1.2, 3: 1.2, 4: 1.3}))
    formula = "y ~ C(model, Treatment(reference=5)) + C(kommunegruppe) + merged_2007"
    poisson = smf.glm(formula, data=df, family=sm.families.Poisson(), exposure=df["population"]).fit()
    robust = smf.glm(formula, data=df, family=sm.families.Poisson(), exposure=df["population"]).fit(cov_type="HC0")
    return {"Poisson": poisson, "Poisson, robust": robust}


def test_table_shows_irrs_with_intervals_controls_n_and_se_type(fits):
    t = tables.regression_table(fits, title="test")
    cells = t.cells.set_index("row")
    res = fits["Poisson"]
    term = "C(model, Treatment(reference=5))[T.4]"
    assert cells.loc["model 4 (Fælles indgang)", "Poisson"] == f"{np.exp(res.params[term]):.3f}"
    lo, hi = np.exp(res.conf_int().loc[term])
    assert f"[{lo:.3f}, {hi:.3f}]" in t.cells["Poisson"].tolist()
    assert cells.loc["kommunegruppe (Statistics Denmark)", "Poisson"] == "yes"
    assert not any("kommunegruppe)[T" in r for r in t.cells["row"])  # controls are summarised, not listed
    assert cells.loc["N", "Poisson"] == "100"
    shown = cells.loc["standard errors", ["Poisson", "Poisson, robust"]].tolist()
    assert shown == [tables.covariance_label(fits[n]).split(" (")[0] for n in ("Poisson", "Poisson, robust")]
    assert cells.loc["standard errors", "Poisson, robust"].startswith("HC0")  # read from the fit, not assumed
    assert "Standard errors:" in t.notes[0]


def test_every_format_is_written_and_the_csv_keeps_full_precision(fits, tmp_path, monkeypatch):
    import docx

    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(tmp_path))
    out = tables.save(tables.regression_table(fits, title="Usage and cooperation"), "model_table_x", synthetic=True)
    assert [p.name for p in out] == [f"model_table_x_synthetic.{e}" for e in ("csv", "html", "tex", "docx")]
    tidy = pd.read_csv(out[0])
    row = tidy[(tidy["model"] == "Poisson") & (tidy["parameter"] == "merged_2007")].iloc[0]
    assert row["coefficient"] == pytest.approx(fits["Poisson"].params["merged_2007"], rel=1e-14)
    assert tidy["synthetic"].all()
    assert "Usage and cooperation" in out[1].read_text() and "SYNTHETIC" in out[1].read_text()
    assert "\\begin{tabular" in out[2].read_text()
    doc = docx.Document(str(out[3]))
    text = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "N" in text and "100" in text and any("SYNTHETIC" in p.text for p in doc.paragraphs)
