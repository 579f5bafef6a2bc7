"""Realistic variants of the example exports clean to the same table as the examples themselves.

tests/survey_variants.py writes each example the way other tools save it (formats, encodings,
value spellings, alone and combined); here every variant is cleaned and compared, column by column,
with the clean table of its example (which test_survey.py checks against the generator's truth).
"""

from __future__ import annotations

import pandas as pd
import pytest
import survey_variants as sv
import yaml
from survey_raw import make_raw

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import survey
from helpers.data.synthetic import truth

VARIANTS = {v.name: v for v in sv.variants()}
EXAMPLES = {2009: ("survey/example_survey_2009.csv", "2009"), 2011: ("survey/example_survey_2011.xlsx", "2011")}


@pytest.fixture
def raw_survey(tmp_path, monkeypatch):
    return make_raw(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def expected():
    return {
        year: survey.clean(year, path, cb)[0].set_index("kommunekode", drop=False)
        for year, (path, cb) in EXAMPLES.items()
    }


def test_at_least_40_variants_in_every_format():
    assert len(VARIANTS) >= 40
    assert {v.ext for v in VARIANTS.values()} >= {"xlsx", "xls", "ods", "sav", "dta", "csv", "tsv", "txt"}


def _codebook(tmp_path, name: str, overrides: dict):
    if not overrides:
        return name
    doc = yaml.safe_load(paths.codebook(name).read_text(encoding="utf-8"))
    doc.update(overrides)
    f = tmp_path / f"{name}_variant.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return f


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_cleans_to_the_example_table(name, tmp_path, monkeypatch, expected):
    v = VARIANTS[name]
    raw = make_raw(tmp_path, monkeypatch)
    data = sv.build(v, tmp_path)
    f = raw.put(f"example_variant_{name}.{v.ext}", data)
    cb = _codebook(tmp_path, EXAMPLES[v.year][1], v.codebook)
    df, log = survey.clean(v.year, f, cb)
    want = expected[v.year]
    got = df.set_index("kommunekode", drop=False)
    assert list(got.index) == list(want.index), "other kommuner than the example"
    for col in sv.COMPARED:
        a, b = got[col], want[col]
        if col == "model":
            a, b = a.astype(int), b.astype(int)
        if col == "comment" and v.comment_tail:
            b = b.map(lambda c: c if pd.isna(c) else c + v.comment_tail).astype(a.dtype)
        pd.testing.assert_series_equal(a, b, check_names=False, obj=f"{name}: {col}")
    times = got["submitted_at"] if v.exact_time else got["submitted_at"].dt.normalize()
    exp_times = want["submitted_at"] if v.exact_time else want["submitted_at"].dt.normalize()
    pd.testing.assert_series_equal(times, exp_times, check_names=False, obj=f"{name}: submitted_at")
    t = truth.true_models().query("year == @v.year").set_index("kommunekode")
    assert (got["model"].astype(int) == t.loc[got.index, "model_reported"]).all()
    # What was read is in the log; nothing else is silently different.
    assert (log["rule"] == "read_as").sum() == 1
    assert not log["rule"].isin(["duplicate_tie"]).any()


def test_model_column_mapped_through_codebook_labels(raw_survey, tmp_path, expected):
    """A codebook may map the model question with `type: label` (label text -> export code)."""
    doc = yaml.safe_load(paths.codebook("2011").read_text(encoding="utf-8"))
    doc["columns"]["model"] = {"header": sv.MODEL_2011, "type": "label", "labels": "models"}
    doc["labels"]["models"] = {f"Model {c}: {lab}": c for c, lab in sv.MODEL_LABELS.items()}
    cb = tmp_path / "labels.yaml"
    cb.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    g = sv.model_as(sv.base(2011), lambda c, lab: f"Model {c}: {lab}")
    f = raw_survey.put("example_model_labels.xlsx", sv.to_xlsx(g))
    df, _ = survey.clean(2011, f, cb)
    want = expected[2011]
    assert df.set_index("kommunekode")["model"].astype(int).equals(want["model"].astype(int))
    doc["labels"]["models"]["Model 9: ukendt"] = 9
    cb.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match="export codes listed under models.codes"):
        survey.clean(2011, f, cb)
