"""Cleaning survey exports: real values from the example exports, and a corpus of malformed exports."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from own_export import own_export
from survey_raw import make_raw

from helpers import results
from helpers.core import cooperation, files, paths
from helpers.core.errors import DataError
from helpers.data import survey
from helpers.data.synthetic import survey as gen
from helpers.data.synthetic import truth

CSV_2009 = "survey/example_survey_2009.csv"
XLSX_2011 = "survey/example_survey_2011.xlsx"
XLSX_HEADER_ROW = 5


@pytest.fixture
def raw_survey(tmp_path, monkeypatch):
    return make_raw(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def cleaned():
    return {2009: survey.clean(2009, CSV_2009), 2011: survey.clean(2011, XLSX_2011)}


def _truth(year):
    return truth.true_models().query("year == @year").set_index("kommunekode")


def _raw_hashes():
    raw = paths.root() / "data" / "raw"
    return {p.relative_to(raw).as_posix(): files.sha256(p) for p in sorted(raw.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# The example exports, cleaned
# ---------------------------------------------------------------------------------------------


def test_2011_rows_and_response(cleaned):
    df, _ = cleaned[2011]
    # 86 complete responses + 2 started-but-blank responses (model 0); 10 non-respondents absent.
    assert len(df) == 88
    assert df["kommunekode"].is_unique
    r = survey.response(df)
    assert r.answered_model == 86
    assert r.digital_strategy_yes == 32 and r.digital_strategy_answered == 86  # 37 %
    assert (df["model"] == 0).sum() == 2
    assert df["synthetic"].all() and (df["year"] == 2011).all()


def test_2011_export_shows_61_cooperating(cleaned):
    # the published "61 of 98" counts the kommuner that REPORTED cooperation in 2011 (issue 14 calibration)
    df, _ = cleaned[2011]
    assert df["model"].astype(int).isin([1, 2, 3, 4]).sum() == 61
    t = _truth(2011)
    assert (t["model_reported"].isin([1, 2, 3, 4])).sum() == 61
    assert (t["model_true"].isin([1, 2, 3, 4])).sum() >= 61  # plus cooperating non-respondents


@pytest.mark.parametrize("year", [2009, 2011])
def test_reported_models_equal_truth(cleaned, year):
    df, _ = cleaned[year]
    t = _truth(year)
    got = df.set_index("kommunekode")["model"].astype(int)
    assert (got == t.loc[got.index, "model_reported"]).all()
    assert set(t.index[t["answered"]]) <= set(got.index)
    answered = got[got != 0]
    assert (
        answered.value_counts().sort_index().to_dict()
        == t.loc[t["answered"], "model_reported"].value_counts().sort_index().to_dict()
    )


def test_2009_fewer_than_half_cooperate_and_crosswalk_logged(cleaned):
    df, log = cleaned[2009]
    assert df["model"].astype(int).isin([1, 2, 3, 4]).sum() < 49
    cw = log[log["rule"] == "model_crosswalk"]
    assert set(zip(cw["old_value"], cw["new_value"], strict=False)) <= {
        ("1", "2"),
        ("2", "2"),
        ("3", "3"),
        ("5", "4"),
        ("6", "1"),
        ("7", "5"),
    }
    assert ("6", "1") in set(zip(cw["old_value"], cw["new_value"], strict=False))
    assert df["task_nemid"].isna().all() and df["org_change_planned"].isna().all()  # not asked in 2009


@pytest.mark.parametrize(
    "year,written,code",
    [
        (2009, "Århus", 751),
        (2011, "Aarhus Kommune", 751),
        (2009, "Lyngby-Tårbæk", 173),
        (2011, "Lyngby-Tårbæk", 173),
        (2009, "Brønderslev-Dronninglund", 810),
        (2011, "Brønderslev-Dronninglund", 810),
        (2009, "Bornholms Regionskommune", 400),
        (2011, "Bornholms Regionskommune", 400),
        (2009, "Høje Taastrup", 169),
        (2011, "Høje Taastrup", 169),
        (2009, "Kbh.", 101),
        (2011, "Kbh.", 101),
    ],
)
def test_name_variants_resolve(cleaned, year, written, code):
    df, log = cleaned[year]
    assert df.loc[df["kommune_navn"] == written, "kommunekode"].tolist() == [code]
    assert written in set(log.loc[log["rule"].isin(["kommune_alias", "kommune_name_variant"]), "old_value"])


@pytest.mark.parametrize("year", [2009, 2011])
def test_fanoe_answered_by_esbjerg(cleaned, year):
    df, log = cleaned[year]
    fanoe = df.set_index("kommunekode").loc[563]
    assert fanoe["answered_by_kommunekode"] == 561
    assert int(fanoe["model"]) == _truth(year).at[563, "model_reported"]
    esbjerg = df.set_index("kommunekode").loc[561]
    assert pd.isna(esbjerg["answered_by_kommunekode"])
    assert (log["rule"] == "answered_by_other_kommune").sum() == 1


@pytest.mark.parametrize("year", [2009, 2011])
def test_duplicate_keeps_latest_and_is_logged(cleaned, year):
    df, log = cleaned[year]
    r = gen.responses(year)
    draft = r[r["draft"]].iloc[0]
    final = r[(r["kommunekode"] == draft["kommunekode"]) & ~r["draft"]].iloc[0]
    assert draft["submitted_at"] < final["submitted_at"] and draft["model"] != final["model"]
    row = df.set_index("kommunekode").loc[draft["kommunekode"]]
    assert int(row["model"]) == final["model"]
    assert row["submitted_at"] == final["submitted_at"]
    dups = log[log["rule"] == "duplicate_kept_latest"]
    assert len(dups) == 1
    assert dups["row"].item() > row["source_row"]  # the dropped draft sits below the kept answer in the file


@pytest.mark.parametrize("year", [2009, 2011])
def test_personal_data_appear_nowhere(cleaned, year, outputs):
    df, log = cleaned[year]
    r = gen.responses(year)
    secrets = set(r["person"]) | set(r["email"]) | set(r["phone"]) | {"example.dk"}
    target, log_target = survey.clean_to_files(year, CSV_2009 if year == 2009 else XLSX_2011)
    back = pd.read_parquet(target)
    text = back.astype(str).to_csv() + log_target.read_text(encoding="utf-8") + df.astype(str).to_csv() + log.to_csv()
    assert not [s for s in secrets if s in text]
    assert (log["rule"] == "personal_data_dropped").sum() == (3 if year == 2011 else 2)
    raw_bytes = target.read_bytes()
    assert not [s for s in secrets if s.encode() in raw_bytes]


def test_clean_to_files_and_load_clean(outputs):
    target, log_target = survey.clean_to_files(2011, XLSX_2011)
    assert target == paths.processed() / "survey_2011.parquet"
    assert log_target == paths.processed() / "survey_2011_cleaning_log.csv"
    df = survey.load_clean(2011)
    assert df["model"].dtype == cooperation.model_dtype((5, 1, 2, 3, 4), include_no_answer=True)
    log = pd.read_csv(log_target)
    assert list(log.columns) == ["row", "column", "old_value", "new_value", "rule", "detail"]
    assert {"label_variant", "number_from_text", "blank_row_dropped", "duplicate_kept_latest"} <= set(log["rule"])


def test_model_order_is_a_parameter(cleaned):
    df, _ = survey.clean(2011, XLSX_2011, model_order=[5, 1, 3, 2, 4])
    assert list(df["model"].cat.categories) == [0, 5, 1, 3, 2, 4]
    assert df["model"].cat.ordered
    base, _ = cleaned[2011]
    assert list(base["model"].cat.categories) == [0, 5, 1, 2, 3, 4]
    two = df["model"].astype(int) == 2
    assert (df.loc[two, "model_level"] == 4).all() and (base.loc[two.to_numpy(), "model_level"] == 3).all()
    again = survey.set_model_order(base, [5, 1, 3, 2, 4])
    assert again["model_level"].tolist() == df["model_level"].tolist()
    with pytest.raises(ValueError, match="permutation"):
        survey.clean(2011, XLSX_2011, model_order=[5, 1, 2, 3])


def test_synthetic_flag_comes_from_the_manifest(raw_survey):
    data = raw_survey.example(2011).read_bytes()
    # the example's cells saved again (a byte-for-byte copy of an example is never recorded as real)
    own_export("survey/example_survey_2011.xlsx", "survey/export_2011.xlsx", raw=raw_survey.root)
    other = raw_survey.put("export_2011.xlsx", synthetic=False)
    assert survey.clean(2011, other)[0]["synthetic"].eq(False).all()
    ex = raw_survey.put("example_copy.xlsx", data, synthetic=True)
    assert survey.clean(2011, ex)[0]["synthetic"].all()


def test_raw_file_without_manifest_entry_is_refused(raw_copy):
    target = raw_copy / "survey" / "unlisted_2011.xlsx"
    shutil.copy(raw_copy / "survey" / "example_survey_2011.xlsx", target)
    with pytest.raises(DataError, match="MANIFEST"):
        survey.clean(2011, "survey/unlisted_2011.xlsx")


def test_utf8_csv_gives_the_same_result(raw_survey, cleaned):
    text = raw_survey.example(2009).read_bytes().decode("cp1252")
    for enc in ("utf-8", "utf-8-sig"):
        f = raw_survey.put(f"example_{enc}.csv", text.encode(enc))
        df, _ = survey.clean(2009, f, "2009")
        pd.testing.assert_frame_equal(df, cleaned[2009][0])


def test_comma_separated_csv_is_read(raw_survey, cleaned):
    df0 = pd.read_csv(raw_survey.example(2009), sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    f = raw_survey.dir / "example_comma.csv"
    df0.to_csv(f, index=False, encoding="utf-8")
    raw_survey.put(f.name)
    df, _ = survey.clean(2009, f)
    assert df["kommunekode"].tolist() == cleaned[2009][0]["kommunekode"].tolist()


def test_unknown_codebook_variable_is_a_codebook_error(tmp_path):
    import yaml

    doc = yaml.safe_load((paths.codebooks() / "2011.yaml").read_text(encoding="utf-8"))
    doc["columns"]["favourite_colour"] = {"header": "Farve", "type": "text"}
    cb = tmp_path / "bad.yaml"
    cb.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError) as e:
        survey.clean(2011, XLSX_2011, cb)
    assert "bad.yaml" in e.value.file and e.value.problems[0].column == "favourite_colour"


# ---------------------------------------------------------------------------------------------
# A corpus of malformed exports, built from the good examples
# ---------------------------------------------------------------------------------------------


def _csv_lines() -> list[str]:
    return (paths.survey_raw() / "example_survey_2009.csv").read_bytes().decode("cp1252").split("\r\n")


def _write_lines(path: Path, lines, encoding="cp1252") -> Path:
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def _csv_col(lines, header) -> int:
    return lines[0].split(";").index(header)


def _set_csv(lines, line_idx, header, value):
    cells = lines[line_idx].split(";")
    cells[_csv_col(lines, header)] = value
    lines[line_idx] = ";".join(cells)
    return lines


def _first_data_line(lines, predicate=lambda cells: True) -> int:
    return next(i for i, ln in enumerate(lines[1:], start=1) if ln.strip(";") and predicate(ln.split(";")))


def _wb():
    return openpyxl.load_workbook(paths.survey_raw() / "example_survey_2011.xlsx")


def _xcol(ws, header) -> int:
    return [c.value for c in ws[XLSX_HEADER_ROW]].index(header) + 1


def _save(wb, path: Path) -> Path:
    wb.save(path)
    return path


def _csv_with_cell(tmp, name: str, header: str, value: str, predicate=lambda cells: True) -> tuple[Path, int]:
    """The 2009 example export with ``header``'s cell in the first data line that fits ``predicate`` set to
    ``value``, written to tmp/name; returns (path, that line's index)."""
    lines = _csv_lines()
    i = _first_data_line(lines, predicate)
    return _write_lines(tmp / name, _set_csv(lines, i, header, value)), i


def _xlsx_with_cell(tmp, name: str, row: int, header: str, value) -> Path:
    """The 2011 example export with the cell of ``header`` in sheet row ``row`` set to ``value``, saved to tmp/name."""
    wb = _wb()
    ws = wb.active
    ws.cell(row, _xcol(ws, header), value)
    return _save(wb, tmp / name)


MODEL_2011 = "Hvilken samarbejdsmodel ligner jeres bedst?"
COURSES_2011 = "Antal it-kurser det seneste år"
STRATEGY_2011 = "Deltager biblioteket i kommunens tværgående arbejde med digital strategi?"


def case_csv_missing_column(tmp):
    lines = _csv_lines()
    k = _csv_col(lines, "Kommune")
    lines = [";".join(c for j, c in enumerate(ln.split(";")) if j != k) if ln else ln for ln in lines]
    return _write_lines(tmp / "example_missing.csv", lines), 2009, dict(row=1, column="Kommune", accepted="Kommune")


def case_xlsx_missing_model_column(tmp):
    wb = _wb()
    ws = wb.active
    ws.delete_cols(_xcol(ws, MODEL_2011))
    return (
        _save(wb, tmp / "example_nomodel.xlsx"),
        2011,
        dict(row=XLSX_HEADER_ROW, column=MODEL_2011, accepted=MODEL_2011),
    )


def case_csv_unknown_kommune(tmp):
    f, i = _csv_with_cell(tmp, "example_unknown.csv", "Kommune", "Skivee", lambda c: c[1] == "Skive")
    return f, 2009, dict(row=i + 1, column="Kommune", accepted="'Skive'")


def case_xlsx_unknown_kommune(tmp):
    f = _xlsx_with_cell(tmp, "example_unknown.xlsx", 7, "Kommune", "Gladsakse")
    return f, 2011, dict(row=7, column="Kommune", accepted="'Gladsaxe'")


def case_csv_unknown_model_code(tmp):
    # code 4 of the 2009 numbering was never quoted: not in the crosswalk
    f, i = _csv_with_cell(tmp, "example_m4.csv", "Model (2009-nummerering)", "4")
    return f, 2009, dict(row=i + 1, column="Model (2009-nummerering)", accepted="6 (Andre modeller")


def case_xlsx_unknown_model_code(tmp):
    f = _xlsx_with_cell(tmp, "example_m9.xlsx", 8, MODEL_2011, 9)
    return f, 2011, dict(row=8, column=MODEL_2011, accepted="5 (Intet samarbejde)")


def case_csv_utf16_is_read(tmp):
    """Excel's "Unicode text" and survey tools write UTF-16 with a byte-order mark: read, and the log says so."""
    return (
        _write_lines(tmp / "example_utf16.csv", _csv_lines(), "utf-16"),
        2009,
        dict(rule="read_as", detail="UTF-16 LE"),
    )


def case_csv_undecodable_bytes(tmp):
    data = (paths.survey_raw() / "example_survey_2009.csv").read_bytes().replace("ø".encode("cp1252"), b"\x81", 3)
    f = tmp / "example_bytes.csv"
    f.write_bytes(data)
    return f, 2009, dict(accepted="cp1252")


def case_csv_mojibake(tmp):
    text = "\r\n".join(_csv_lines())
    f = tmp / "example_mojibake.csv"
    f.write_bytes(text.encode("utf-8").decode("cp1252", errors="strict").encode("utf-8"))
    return f, 2009, dict(rule="encoding_mojibake")


def case_csv_empty(tmp):
    f = tmp / "example_empty.csv"
    f.write_bytes(b"")
    return f, 2009, dict(accepted="header row")


def case_xlsx_empty(tmp):
    f = tmp / "example_empty.xlsx"
    f.write_bytes(b"")
    return f, 2011, dict(accepted="header row")


def case_xlsx_not_a_workbook(tmp):
    f = tmp / "example_garbage.xlsx"
    f.write_bytes(b"PK\x03\x04 this is not really a zip file" * 10)
    return f, 2011, dict(accepted="XLSX", message="damaged")


def case_csv_only_headers(tmp):
    return (
        _write_lines(tmp / "example_headers.csv", _csv_lines()[:1] + [""]),
        2009,
        dict(row=1, accepted="one row per responding kommune"),
    )


def case_xlsx_only_headers(tmp):
    wb = _wb()
    ws = wb.active
    ws.delete_rows(XLSX_HEADER_ROW + 1, ws.max_row)
    return (
        _save(wb, tmp / "example_headers.xlsx"),
        2011,
        dict(row=XLSX_HEADER_ROW, accepted="one row per responding kommune"),
    )


def case_csv_duplicated_header(tmp):
    lines = _csv_lines()
    lines[0] = lines[0].replace("Pas i biblioteket", "Kørekort i biblioteket")
    return (
        _write_lines(tmp / "example_duphead.csv", lines),
        2009,
        dict(row=1, column="Kørekort i biblioteket", accepted="each header once"),
    )


def case_xlsx_duplicated_header(tmp):
    wb = _wb()
    ws = wb.active
    ws.cell(XLSX_HEADER_ROW, _xcol(ws, "Stilling"), "Kommune")
    return (
        _save(wb, tmp / "example_duphead.xlsx"),
        2011,
        dict(row=XLSX_HEADER_ROW, column="Kommune", accepted="each header once"),
    )


def case_xlsx_merged_header_rows(tmp):
    """A two-line header: general questions on the top line, task headers under a group title."""
    wb = _wb()
    ws = wb.active
    ws.insert_rows(XLSX_HEADER_ROW)
    top, bottom = XLSX_HEADER_ROW, XLSX_HEADER_ROW + 1
    titled = False
    for c in range(1, ws.max_column + 1):
        v = ws.cell(bottom, c).value
        if isinstance(v, str) and v.startswith("Opgave:"):
            if not titled:
                ws.cell(top, c).value = "Hvilke opgaver løses i biblioteket?"
                titled = True
        else:
            ws.cell(top, c).value = v
            ws.cell(bottom, c).value = None
    return _save(wb, tmp / "example_merged.xlsx"), 2011, dict(rule="merged_header_rows")


def case_csv_merged_header_rows(tmp):
    lines = _csv_lines()
    head = lines[0].split(";")
    top = [h if not h.endswith("i biblioteket") else "" for h in head]
    bottom = [h if h.endswith("i biblioteket") else "" for h in head]
    return (
        _write_lines(tmp / "example_merged.csv", [";".join(top), ";".join(bottom)] + lines[1:]),
        2009,
        dict(rule="merged_header_rows"),
    )


def case_xlsx_numbers_as_text(tmp):
    wb = _wb()
    ws = wb.active
    c = _xcol(ws, MODEL_2011)
    for r in range(XLSX_HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(r, c).value is not None:
            ws.cell(r, c, str(ws.cell(r, c).value))
    return _save(wb, tmp / "example_text.xlsx"), 2011, dict(rule="number_from_text", column=MODEL_2011)


def case_csv_thousands_separator(tmp):
    f, i = _csv_with_cell(tmp, "example_thousands.csv", "Antal it-kurser sidste år", "1.200")
    return f, 2009, dict(rule="number_from_text", column="Antal it-kurser sidste år")


def case_xlsx_not_a_number(tmp):
    f = _xlsx_with_cell(tmp, "example_nan.xlsx", 9, COURSES_2011, "ca. 10")
    return f, 2011, dict(row=9, column=COURSES_2011, accepted="whole number")


def case_csv_negative_number(tmp):
    f, i = _csv_with_cell(tmp, "example_neg.csv", "Antal it-kurser sidste år", "-3")
    return f, 2009, dict(row=i + 1, column="Antal it-kurser sidste år", accepted=">= 0")


def case_csv_bad_date(tmp):
    f, i = _csv_with_cell(tmp, "example_date.csv", "Tidspunkt", "31/09/2009 kl. 25")
    return f, 2009, dict(row=i + 1, column="Tidspunkt", accepted="30-09-2011 14:05")


def case_xlsx_unknown_label(tmp):
    f = _xlsx_with_cell(tmp, "example_label.xlsx", 10, STRATEGY_2011, "Måske")
    return f, 2011, dict(row=10, column=STRATEGY_2011, accepted="'Ved ikke'")


def case_csv_label_variants(tmp):
    f, i = _csv_with_cell(tmp, "example_variant.csv", "Pas i biblioteket", " JA. ")
    return f, 2009, dict(rule="label_variant", column="Pas i biblioteket")


def case_csv_blank_kommune(tmp):
    f, i = _csv_with_cell(tmp, "example_blankk.csv", "Kommune", "")
    return f, 2009, dict(row=i + 1, column="Kommune", accepted="98 kommuner")


def case_csv_too_many_fields(tmp):
    lines = _csv_lines()
    i = _first_data_line(lines)
    lines[i] += ";uventet;felt"
    return _write_lines(tmp / "example_fields.csv", lines), 2009, dict(row=i + 1, accepted="15 fields")


def case_xlsx_no_header_row(tmp):
    wb = _wb()
    ws = wb.active
    ws.delete_rows(XLSX_HEADER_ROW)
    return _save(wb, tmp / "example_noheader.xlsx"), 2011, dict(accepted="'Kommune'")


def _xlsx_with_column(tmp, name: str, header: str, value: str):
    """The 2011 example export with one more column (header, and a value in the first data row)."""
    wb = _wb()
    ws = wb.active
    c = ws.max_column + 1
    ws.cell(XLSX_HEADER_ROW, c, header)
    ws.cell(XLSX_HEADER_ROW + 1, c, value)
    return _save(wb, tmp / name)


def case_xlsx_extra_column(tmp):
    return (
        _xlsx_with_column(tmp, "example_extra.xlsx", "Intern note", "tjek"),
        2011,
        dict(rule="unmapped_column_dropped", column="Intern note"),
    )


def case_xlsx_extra_personal_column(tmp):
    return (
        _xlsx_with_column(tmp, "example_mobil.xlsx", "Mobilnummer", "+45 00 00 99 99"),
        2011,
        dict(rule="personal_data_dropped", column="Mobilnummer"),
    )


def case_xlsx_missing_optional_comment(tmp):
    wb = _wb()
    ws = wb.active
    ws.delete_cols(_xcol(ws, "Kommentarer"))
    return _save(wb, tmp / "example_nocomment.xlsx"), 2011, dict(rule="optional_column_missing", column="Kommentarer")


def case_xlsx_longer_header_block(tmp):
    wb = _wb()
    ws = wb.active
    ws.insert_rows(1, 4)
    ws["A1"] = "Rapport genereret af spørgeskemaværktøjet"
    ws.cell(XLSX_HEADER_ROW + 4 + 3, _xcol_at(ws, XLSX_HEADER_ROW + 4, STRATEGY_2011), "JA")
    return _save(wb, tmp / "example_block.xlsx"), 2011, dict(rule="label_variant", row=XLSX_HEADER_ROW + 7)


def _xcol_at(ws, row, header):
    return [c.value for c in ws[row]].index(header) + 1


def case_xlsx_kommune_code_instead_of_name(tmp):
    f = _xlsx_with_cell(tmp, "example_code.xlsx", 11, "Kommune", "0461")
    return f, 2011, dict(rule="kommune_code_given", row=11, column="Kommune")


def case_file_not_found(tmp):
    return tmp / "example_survey_2011_missing.xlsx", 2011, dict(accepted="existing CSV or XLSX")


def case_year_without_codebook(tmp):
    f = tmp / "example_survey_2013.xlsx"
    shutil.copy(paths.survey_raw() / "example_survey_2011.xlsx", f)
    return f, 2013, dict(accepted="'2011'", file="2013.yaml")


CORPUS = {name[len("case_") :]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_malformed_export(name, raw_survey, outputs):
    before = _raw_hashes()
    path, year, expect = CORPUS[name](raw_survey.dir)
    if path.is_file():
        raw_survey.put(path.name)
    input_hash = files.sha256(path) if path.exists() else None
    target, log_target = survey.output_paths(year)
    if "rule" in expect:
        survey.clean_to_files(year, path)
        log = pd.read_csv(log_target, dtype=str, keep_default_na=False)
        hits = log[log["rule"] == expect["rule"]]
        assert len(hits), f"no {expect['rule']} in the log: {log['rule'].value_counts().to_dict()}"
        if "column" in expect:
            assert expect["column"] in set(hits["column"])
        if "row" in expect:
            assert str(expect["row"]) in set(hits["row"])
        if "detail" in expect:
            assert any(expect["detail"] in d for d in hits["detail"]), hits["detail"].tolist()
        assert target.is_file()
    else:
        with pytest.raises(DataError) as info:
            survey.clean_to_files(year, path)
        err = info.value
        text = str(err)
        assert "Traceback" not in text
        assert expect.get("file", path.name) in err.file
        assert any(p.accepted and expect["accepted"] in p.accepted for p in err.problems), text
        if "row" in expect:
            assert any(p.row == expect["row"] for p in err.problems), text
        if "message" in expect:
            assert any(expect["message"] in p.message for p in err.problems), text
        if "column" in expect:
            assert any(p.column == expect["column"] for p in err.problems), text
        assert not target.exists() and not log_target.exists()
        assert not [p for p in paths.processed().iterdir()], "partial output left behind"
    assert (files.sha256(path) if path.exists() else None) == input_hash
    assert _raw_hashes() == before


def test_load_clean_keeps_the_order_it_was_cleaned_with(outputs):
    survey.clean_to_files(2011, XLSX_2011, model_order=[5, 1, 3, 2, 4])
    assert list(survey.load_clean(2011)["model"].cat.categories) == [0, 5, 1, 3, 2, 4]
    assert list(survey.load_clean(2011, model_order=[5, 1, 2, 3, 4])["model"].cat.categories) == [0, 5, 1, 2, 3, 4]


# ---------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------

NOTEBOOK = paths.notebooks() / "01_clean_survey.ipynb"


def test_notebook_is_output_free_with_one_parameters_cell():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata.kernelspec.name == "borgerservice"
    assert nb.metadata.kernelspec.display_name == "Python (borgerservice)"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    lines = tagged[0].source.splitlines()
    assert lines == [
        "year = 2011  # survey round",
        'input_path = "survey/example_survey_2011.xlsx"  # relative to data/raw',
        'codebook = "2011"  # config/codebooks/<codebook>.yaml',
        'languages = ["en"]  # figure texts: en (English), da (Danish); every figure is saved in each (_en, _da)',
    ]
    assert "reports.banner(synthetic)" in code[1].source


@pytest.mark.slow
def test_notebook_runs_for_2009(outputs, tmp_path):
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        kernel_name="borgerservice",
        cwd=str(paths.notebooks()),
        parameters={"year": 2009, "input_path": CSV_2009, "codebook": "2009"},
        progress_bar=False,
        execution_timeout=300,
    )
    assert (paths.processed() / "survey_2009.parquet").is_file()
    assert (paths.figures() / "survey_2009_models_synthetic_en.png").is_file()
    res = results.read(paths.results() / "01_clean_survey_2009.json")
    assert res.synthetic is True and res.results.response.answered_model == 90


# ---------------------------------------------------------------------------------------------
# Key results of notebook 01_clean_survey
# ---------------------------------------------------------------------------------------------


def test_key_results_of_the_2011_example(cleaned, outputs):
    from helpers.outputs import brief, reports
    from helpers.results.survey import CleanSurveyResults

    df, log = cleaned[2011]
    r = survey.key_results(df, log, 2011)
    assert isinstance(r, CleanSurveyResults) and r.year == 2011
    assert (r.response.rows, r.response.answered_model, r.response.response_rate) == (88, 86, 0.878)
    assert r.response.cooperating == 61 and r.kommuner(0) == 2 and r.kommuner(5) == 25
    assert [m.model for m in r.models] == [0, 5, 1, 2, 3, 4]  # no answer first, then the level order
    assert sum(m.kommuner for m in r.models) == 88 and r.models[1].share_of_98 == round(25 / 98, 3)
    assert r.models[1].label == "Intet samarbejde"
    assert r.changes_by_rule == log["rule"].value_counts().to_dict()
    path = reports.write_results("01_clean_survey_2011", r, synthetic=True, parameters={"year": 2011})
    doc = results.read(path)
    assert doc.results == r
    text = " ".join(brief.sentences(doc))
    assert "61 of the 86 that answered (71%) reported some cooperation" in text
