"""The synthetic survey exports: reproducible byte for byte, calibrated, messy as promised, in the manifest."""

from __future__ import annotations

import zipfile

import pytest

from helpers.core import files, paths
from helpers.data import provenance, survey
from helpers.data.synthetic import SEED, truth
from helpers.data.synthetic import survey as gen


def test_write_examples_is_byte_for_byte_reproducible(raw_copy):
    first = {p.name: files.sha256(p) for p in gen.write_examples()}
    second = {p.name: files.sha256(p) for p in gen.write_examples()}
    assert first == second
    assert set(first) == {"example_survey_2009.csv", "example_survey_2011.xlsx", "example_survey_2014.xlsx"}


def test_shipped_examples_are_what_the_generator_makes(raw_copy):
    """data/raw/survey holds exactly the generator's output (regenerate with write_examples)."""
    shipped = {p.name: files.sha256(p) for p in (paths.root() / "data" / "raw" / "survey").glob("example_*")}
    made = {p.name: files.sha256(p) for p in gen.write_examples()}
    assert shipped == made


def test_xlsx_has_fixed_timestamps():
    data = gen.export_bytes(2011)
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {gen.ZIP_DATE_TIME}
        core = z.read("docProps/core.xml").decode()
    assert "2011-10-03T09:15:00Z" in core


def test_manifest_entries_are_synthetic():
    entries = provenance.load()
    for name in ("survey/example_survey_2009.csv", "survey/example_survey_2011.xlsx"):
        e = entries[name]
        assert e.synthetic is True
        assert e.source == f"synthetic: helpers.data.synthetic.survey, seed {SEED}"
        assert e.sha256 == files.sha256(paths.raw() / name)


def test_2009_csv_is_cp1252_semicolon_with_old_numbering():
    data = (paths.survey_raw() / "example_survey_2009.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp1252")
    header = text.splitlines()[0]
    assert header.startswith("Tidspunkt;Kommune;Navn;E-mail")
    codes = {line.split(";")[5] for line in text.splitlines()[1:] if line.strip(";")}
    assert codes <= {"1", "2", "3", "5", "6", "7", ""}
    assert {"6", "7"} <= codes  # 2009 codes that differ from the 2011 numbering


def test_2011_xlsx_has_header_block():
    import openpyxl

    ws = openpyxl.load_workbook(paths.survey_raw() / "example_survey_2011.xlsx").worksheets[0]
    assert ws["A1"].value.startswith("Borgerservice på bibliotekerne")
    assert ws["A2"].value.startswith("Eksporteret:")
    assert ws["A5"].value == "Besvarelse ID"


@pytest.mark.parametrize("year", [2009, 2011])
def test_exports_encode_truth_model_reported(year):
    r = gen.responses(year)
    final = r[~r["draft"]].set_index("kommunekode")
    t = truth.true_models().query("year == @year").set_index("kommunekode")
    assert final.index.is_unique
    assert (final["model"] == t.loc[final.index, "model_reported"]).all()
    assert set(t.index[t["answered"]]) <= set(final.index)


def test_calibration_2011():
    t = truth.true_models().query("year == 2011")
    # the published 61 of 98 are the kommuner REPORTING cooperation (models 1-4) in the 2011 survey
    assert t["model_reported"].isin([1, 2, 3, 4]).sum() == 61
    assert (t["model_true"] != 5).sum() > 61  # the true number also counts cooperating non-respondents
    r = gen.responses(2011)
    complete = r[r["complete"] & ~r["draft"]]
    assert len(complete) == 86  # about 86 respondents
    assert (complete["digital_strategy"] == "yes").sum() == 32  # 37 %


def test_calibration_2009_fewer_than_half_cooperate():
    t = truth.true_models().query("year == 2009")
    assert (t["model_true"] != 5).sum() < 49
    r = gen.responses(2009)
    assert (r.loc[~r["draft"], "model"].isin([1, 2, 3, 4])).sum() < 49


def test_mess_is_present():
    r11, r09 = gen.responses(2011), gen.responses(2009)
    written = set(r11["name_written"]) | set(r09["name_written"])
    for name in [
        "Århus",
        "Aarhus Kommune",
        "Lyngby-Tårbæk",
        "Brønderslev-Dronninglund",
        "Bornholms Regionskommune",
        "Høje Taastrup",
        "Kbh.",
    ]:
        assert name in written
    assert r11["draft"].sum() == 1 and r09["draft"].sum() == 1
    assert (r11["kommunekode"] == 563).sum() == 1 and "Fanø" in r11.loc[
        r11["kommunekode"] == 563, "name_written"
    ].item()
    assert r11["email"].str.endswith("@example.dk").all()


def test_later_round_with_2011_layout_is_a_parameter(raw_copy):
    """2014 uses the 2011 questionnaire: no new code, the 2011 codebook cleans it."""
    path = gen.write_example(2014)
    assert path.name == "example_survey_2014.xlsx"
    df, log = survey.clean(2014, path, "2011")
    assert len(df) == 98 and (df["year"] == 2014).all()
    assert df["model"].astype(int).isin([1, 2, 3, 4]).sum() == 90  # 90 of 98 cooperate (2015 report)
    assert df["synthetic"].all()
    t = truth.true_models().query("year == 2014").set_index("kommunekode")
    assert (df.set_index("kommunekode")["model"].astype(int) == t.loc[df["kommunekode"], "model_reported"]).all()
