"""Malformed and suspicious survey exports: each gives a located error or a logged repair.

Never a traceback, never partial output, and a failed clean removes the round's earlier outputs
so that nothing stale looks current. Cases build on the example exports (tests/survey_variants.py).
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest
import survey_variants as sv
import yaml
from survey_raw import make_raw

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import survey

X = "survey/example_survey_2011.xlsx"
COURSES = "Antal it-kurser det seneste år"


def _wb_bytes(edit) -> bytes:
    wb = openpyxl.load_workbook(paths.survey_raw() / "example_survey_2011.xlsx")
    edit(wb.active)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _col(ws, header) -> int:
    return [c.value for c in ws[sv.HEADER_2011 + 1]].index(header) + 1


def _data_rows() -> list[int]:
    """Row numbers (as in the workbook) of the 2011 example's filled data rows."""
    g = sv.base(2011)
    return [i + 1 for i, r in enumerate(g.rows) if i > g.header and any(c not in (None, "") for c in r)]


R = _data_rows()


def _set(header, row, value):
    return lambda ws: ws.cell(row, _col(ws, header), value)


def _bad_cell(header, row, value, message):
    """A case: the 2011 example with one cell set to ``value``; the error names ``message``, the row and the column."""
    return "e.xlsx", _wb_bytes(_set(header, row, value)), 2011, dict(message=message, row=row, column=header), {}


def _csv_2011(edit=None, encoding="utf-8") -> bytes:
    g = sv.base(2011)
    if edit:
        edit(g)
    return sv.to_csv(g, encoding)


def _example() -> bytes:
    return (paths.survey_raw() / "example_survey_2011.xlsx").read_bytes()


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return buf.getvalue()


def _broken_sheet_xml() -> bytes:
    return sv._rezip(_example(), lambda n, b: b[: len(b) // 2] if n.startswith("xl/worksheets/sheet") else b)


def _formulas(ws):
    c = _col(ws, COURSES)
    for r in R[:3]:
        ws.cell(r, c, f"=SUM(A{r}:A{r})")  # openpyxl stores no computed value


def _flood(ws):
    first = [c.value for c in ws[R[0]]]
    for _ in range(5):
        ws.append(first)


def _many_rows(ws):
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=R[0])]
    for _ in range(2):
        for r in rows:
            ws.append(r)


def _mixed_line(data: bytes) -> bytes:
    lines = data.split(b"\r\n")
    i = next(i for i, ln in enumerate(lines) if i > 10 and any(b > 127 for b in ln))  # a data line with æ/ø/å
    lines[i] = lines[i].decode("utf-8").encode("cp1252")
    return b"\r\n".join(lines)


def _short_row(g):
    r = next(iter(g.data()))
    del r[-3:]


# name -> (file name, bytes or callable(tmp) -> bytes, year, expectation, keyword arguments for clean)
CASES = {
    "html_saved_as_xls": (
        "e.xls",
        b"<html><head><meta charset='utf-8'></head><body><table><tr><td>Kommune</td></tr></table></body></html>",
        2011,
        dict(message="HTML page"),
        {},
    ),
    "html_doctype_as_xlsx": (
        "e.xlsx",
        b"\xef\xbb\xbf<!DOCTYPE html>\n<html><table><tr><td>x</td></tr></table></html>",
        2011,
        dict(message="HTML page"),
        {},
    ),
    "truncated_xlsx": ("e.xlsx", _example()[:3000], 2011, dict(message="damaged"), {}),
    "broken_sheet_xml": ("e.xlsx", _broken_sheet_xml(), 2011, dict(message="cannot be read"), {}),
    "zip_without_workbook": (
        "e.xlsx",
        _zip({"data.csv": b"Kommune;Model\n"}),
        2011,
        dict(message="not a workbook"),
        {},
    ),
    "docx_as_xlsx": (
        "e.xlsx",
        _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}),
        2011,
        dict(message="word-processor"),
        {},
    ),
    "pdf": ("e.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", 2011, dict(message="PDF"), {}),
    "excel_2003_xml": (
        "e.xls",
        b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
        2011,
        dict(message="Excel 2003 XML"),
        {},
    ),
    "binary_garbage": ("e.csv", bytes(range(256)) * 20, 2011, dict(message="binary"), {}),
    "ole2_garbage": ("e.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x01" * 300, 2011, dict(message="OLE2"), {}),
    "sav_garbage": ("e.sav", b"$FL2@(#) SPSS DATA FILE" + b"\x00" * 50, 2011, dict(message="SPSS"), {}),
    "json_export": ("e.csv", b'[{"Kommune": "Aarhus", "Model": 3}]', 2011, dict(message="JSON"), {}),
    "utf16_bom_only": ("e.txt", b"\xff\xfe", 2011, dict(message="empty"), {}),
    "formula_cells_without_values": (
        "e.xlsx",
        _wb_bytes(_formulas),
        2011,
        dict(message=f"formula cell(s) without a stored value: R{R[0]}, R{R[1]}, R{R[2]}"),
        {},
    ),
    "spreadsheet_error_value": (
        "e.xlsx",
        _wb_bytes(_set(COURSES, R[2], "#REF!")),
        2011,
        dict(message=f"R{R[2]} #REF!"),
        {},
    ),
    "flood_one_kommune": ("e.xlsx", _wb_bytes(_flood), 2011, dict(message=": 6 responses", column="Kommune"), {}),
    "flood_too_many_rows": ("e.xlsx", _wb_bytes(_many_rows), 2011, dict(message="more than the 196"), {}),
    "another_rounds_file": (
        "e.xlsx",
        _example(),
        2014,
        dict(message="outside the fieldwork window of round 2014", column="Afsluttet"),
        dict(codebook="2014"),
    ),
    "fieldwork_window_of_codebook": (
        "e.xlsx",
        _wb_bytes(_set("Afsluttet", R[1], "2012-02-01 10:00")),
        2011,
        dict(message=f"in rows {R[1]}", column="Afsluttet"),
        {},
    ),
    "fieldwork_override_is_logged": (
        "e.xlsx",
        _example(),
        2014,
        dict(rule="fieldwork_override"),
        dict(codebook="2014", ignore_fieldwork=True),
    ),
    "model_label_disagrees_with_code": _bad_cell(sv.MODEL_2011, R[3], "Model 3: Vi flytter sammen", "disagree"),
    "kommune_code_disagrees_with_name": _bad_cell("Kommune", R[4], "101 Aarhus", "disagree"),
    "absurd_integer_text": _bad_cell(COURSES, R[5], "99999999999999999999999", "above the maximum"),
    "absurd_float": _bad_cell(COURSES, R[6], 1e300, "above the maximum"),
    "absurd_model_code": _bad_cell(sv.MODEL_2011, R[7], 10**20, "unknown model code"),
    "decimal_count": _bad_cell(COURSES, R[8], "2,5", "not a whole number"),
    "serial_out_of_range": _bad_cell("Afsluttet", R[9], "5", "not an Excel date"),
    "unreadable_date": _bad_cell("Afsluttet", R[10], "i går ved 14-tiden", "not a date"),
    "sheet_named_in_codebook_missing": (
        "e.xlsx",
        _example(),
        2011,
        dict(message="no sheet named 'Data'", column="sheet"),
        dict(codebook_keys={"sheet": "Data"}),
    ),
    "mixed_encoding_line": ("e.csv", _mixed_line(_csv_2011()), 2011, dict(rule="line_encoding_differs"), {}),
    "short_row": ("e.csv", _csv_2011(_short_row), 2011, dict(rule="short_row_padded"), {}),
    "free_text_dropped_by_codebook": (
        "e.xlsx",
        _example(),
        2011,
        dict(rule="free_text_dropped"),
        dict(codebook_keys={"free_text": "drop"}),
    ),
    "bad_free_text_policy": (
        "e.xlsx",
        _example(),
        2011,
        dict(message="unknown free-text policy", column="free_text"),
        dict(codebook_keys={"free_text": "hide"}),  # `keep` became a policy (issue 25)
    ),
}


@pytest.fixture
def raw_survey(tmp_path, monkeypatch):
    return make_raw(tmp_path, monkeypatch)


def _stale_outputs(year):
    """Outputs of an earlier successful clean of the round: a failed clean must remove them."""
    made = []
    for p in survey.round_outputs(year):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("earlier run")
        made.append(p)
    return made


def test_at_least_25_malformed_inputs():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input(name, raw_survey, outputs, tmp_path):
    fname, data, year, expect, kw = CASES[name]
    path = raw_survey.put(f"export_{name}_{fname}", data, synthetic=True)
    kw = dict(kw)
    if "codebook_keys" in kw:
        doc = yaml.safe_load(paths.codebook("2011").read_text(encoding="utf-8"))
        doc.update(kw.pop("codebook_keys"))
        cb = tmp_path / "variant.yaml"
        cb.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        kw["codebook"] = cb
    codebook = kw.pop("codebook", None)
    stale = _stale_outputs(year)
    target, log_target = survey.output_paths(year)
    if "rule" in expect:
        survey.clean_to_files(year, path, codebook, **kw)
        log = pd.read_csv(log_target, dtype=str, keep_default_na=False)
        assert (log["rule"] == expect["rule"]).any(), log["rule"].value_counts().to_dict()
        assert target.is_file()
        return
    with pytest.raises(DataError) as info:
        survey.clean_to_files(year, path, codebook, **kw)
    err = info.value
    text = str(err)
    assert "Traceback" not in text
    assert path.name in err.file or "variant.yaml" in err.file
    assert any(expect["message"] in p.message for p in err.problems), text
    if "row" in expect:
        assert any(p.row == expect["row"] for p in err.problems), text
    if "column" in expect:
        assert any(p.column == expect["column"] for p in err.problems), text
    assert not [p for p in stale if p.exists()], "an earlier output of the round survived the failed clean"
    assert not [p for p in paths.processed().iterdir()], "partial output left behind"


def test_input_outside_data_raw_is_refused(raw_survey, tmp_path):
    outside = tmp_path / "elsewhere.xlsx"
    outside.write_bytes(_example())
    with pytest.raises(DataError, match="not inside data/raw"):
        survey.clean(2011, outside)
    with pytest.raises(DataError, match="not inside data/raw"):
        survey.clean(2011, "survey/../../elsewhere.xlsx")
    link = raw_survey.dir / "link.xlsx"
    link.symlink_to(outside)
    with pytest.raises(DataError, match="link that points outside"):
        survey.clean(2011, "survey/link.xlsx")


def test_log_csv_is_spreadsheet_safe(raw_survey, outputs):
    g = sv.base(2011)
    g.rows[sv.HEADER_2011] += [
        "=SUM(A1:A2)",
        "@intern note",
        "-kontrol",
        "+1 felt",
    ]  # unmapped headers are quoted in the log
    path = raw_survey.put("export_formula_header.csv", sv.to_csv(g))
    _, log_target = survey.clean_to_files(2011, path)
    text = log_target.read_text(encoding="utf-8")
    assert "'=SUM(A1:A2)" in text and "'@intern note" in text and "'-kontrol" in text and "'+1 felt" in text
    cells = pd.read_csv(log_target, dtype=str, keep_default_na=False).drop(columns="row").to_numpy().ravel()
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


# ---------------------------------------------------------------------------------------------
# Duplicates: complete beats incomplete, then the latest; exact ties are logged as ties
# ---------------------------------------------------------------------------------------------


def _dup_grid(edit_copy):
    """The 2011 example with a second response of its first kommune appended (edited by ``edit_copy``)."""
    g = sv.base(2011)
    first = list(next(iter(g.data())))
    copy = list(first)
    edit_copy(g, copy)
    g.rows.append(copy)
    return g, first


def _clean_grid(raw_survey, name, g, year=2011):
    return survey.clean(year, raw_survey.put(name, sv.to_xlsx(g)))


def test_complete_response_beats_a_later_incomplete_one(raw_survey):
    def later_partial(g, c):
        c[g.col("Afsluttet")] = c[g.col("Afsluttet")] + pd.Timedelta(days=3)
        c[g.col("Status")] = "Delvist besvaret"
        c[g.col(sv.MODEL_2011)] = 5 if c[g.col(sv.MODEL_2011)] != 5 else 1

    g, first = _dup_grid(later_partial)
    df, log = _clean_grid(raw_survey, "example_dup_partial.xlsx", g)
    code = survey.resolver().resolve(first[g.col("Kommune")])[0]
    assert int(df.set_index("kommunekode").at[code, "model"]) == first[g.col(sv.MODEL_2011)]
    hit = log[log["rule"] == "duplicate_kept_complete"]
    assert len(hit) == 1 and int(hit["row"].item()) == len(g.rows)


def test_latest_wins_among_equally_complete_and_exact_ties_are_logged(raw_survey):
    def later(g, c):
        c[g.col("Afsluttet")] = c[g.col("Afsluttet")] + pd.Timedelta(hours=2)
        c[g.col(sv.MODEL_2011)] = 5 if c[g.col(sv.MODEL_2011)] != 5 else 1

    g, first = _dup_grid(later)
    df, log = _clean_grid(raw_survey, "example_dup_later.xlsx", g)
    code = survey.resolver().resolve(first[g.col("Kommune")])[0]
    assert int(df.set_index("kommunekode").at[code, "model"]) == g.rows[-1][g.col(sv.MODEL_2011)]
    assert (log["rule"] == "duplicate_kept_latest").sum() == 2  # this one and the example's own draft
    g, first = _dup_grid(lambda g, c: None)
    _, log = _clean_grid(raw_survey, "example_dup_tie.xlsx", g)
    tie = log[log["rule"] == "duplicate_tie"]
    assert len(tie) == 1 and "exact tie" in tie["detail"].item()


def test_without_a_status_column_more_answered_questions_win(raw_survey):
    g = sv.base(2009)
    first = list(next(iter(g.data())))
    copy = list(first)
    copy[g.col("Tidspunkt")] = "30-10-2009 15:00"  # later, but with the model and two tasks left blank
    for h in ("Model (2009-nummerering)", "Kørekort i biblioteket", "Pas i biblioteket"):
        copy[g.col(h)] = None
    g.rows.append(copy)
    df, log = survey.clean(2009, raw_survey.put("example_dup_2009.csv", sv.to_csv(g, "cp1252")))
    code = survey.resolver().resolve(first[g.col("Kommune")])[0]
    assert int(df.set_index("kommunekode").at[code, "model"]) != 0
    assert (log["rule"] == "duplicate_kept_complete").sum() == 1


def test_real_exports_are_git_ignored():
    import shutil
    import subprocess

    if shutil.which("git") is None or not (paths.root() / ".git").exists():
        pytest.skip("not a git checkout")

    def ignored(rel):
        return subprocess.run(["git", "check-ignore", "-q", rel], cwd=paths.root()).returncode == 0

    assert ignored("data/raw/survey/survey_2011_real.xlsx") and ignored("data/raw/survey/sub/real.sav")
    assert not ignored("data/raw/survey/example_survey_2011.xlsx") and not ignored("data/raw/survey/MANIFEST.yaml")
