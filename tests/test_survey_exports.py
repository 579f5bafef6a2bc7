"""Real exports, third pass (issue 25): one realistic file per class of defect that once wrote a wrong
table with exit code 0 or stopped with a misleading message.

Each file is written here from the 2011 (or 2009) example the way a survey tool, a spreadsheet or a
colleague's statistics program saves it (tests/survey_variants.py); the clean either equals the
example's clean table or stops with a located error that names the real cause.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
import survey_variants as sv
import yaml
from survey_raw import make_raw

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import survey

XLSX = "survey/example_survey_2011.xlsx"
DATA = [i for i, r in enumerate(sv.base(2011).rows) if i > sv.HEADER_2011 and any(c not in (None, "") for c in r)]


@pytest.fixture
def raw(tmp_path, monkeypatch):
    return make_raw(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def expected():
    df, _ = survey.clean(2011, XLSX)
    return df.set_index("kommunekode")


def _codebook(tmp_path, name="2011", **keys):
    doc = yaml.safe_load(paths.codebook(name).read_text(encoding="utf-8"))
    for k, v in keys.items():
        if isinstance(v, dict) and isinstance(doc.get(k), dict):
            doc[k] = {**doc[k], **v}
        else:
            doc[k] = v
    f = tmp_path / f"cb_{name}.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return f


def _error(year, path, codebook=None) -> DataError:
    with pytest.raises(DataError) as info:
        survey.clean(year, path, codebook)
    err = info.value
    assert "Traceback" not in str(err) and not re.search(r"(?m)(^|\s)/\w", str(err)), str(err)  # no absolute path
    return err


def _same_models(df, expected):
    got = df.set_index("kommunekode")["model"].astype(int)
    assert got.index.tolist() == expected.index.tolist()
    assert got.equals(expected["model"].astype(int))


# --------------------------------------------------------------------------------------------
# 1. SPSS and Stata value labels decide the meaning of a code
# --------------------------------------------------------------------------------------------

REVERSED = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}  # 1 = "Intet samarbejde" ... 5 = "Den spæde start"


@pytest.mark.parametrize("kind", ["sav", "dta"])
def test_value_labels_decide_a_model_coded_in_another_order(kind, raw, tmp_path, expected):
    data = sv.to_stat(sv.base(2011), kind, tmp_path, model_codes=REVERSED)
    df, log = survey.clean(2011, raw.put(f"example_reversed.{kind}", data))
    _same_models(df, expected)
    assert (log["rule"] == "model_from_value_label").sum() == 1


def test_a_value_label_that_names_no_model_is_an_error(raw, tmp_path):
    labels = {**sv.MODEL_LABELS, 3: "Samarbejde om pas og kørekort"}
    err = _error(2011, raw.put("example_unknown_label.sav", sv.to_stat(sv.base(2011), "sav", tmp_path, None, labels)))
    p = next(p for p in err.problems if "value label not in the codebook" in p.message)
    assert p.column == sv.MODEL_2011 and "Samarbejde om pas" in str(p.value) and "Vi arbejder sammen" in p.accepted


def test_an_untranslated_model_label_is_not_in_the_codebook(raw):
    g = sv.model_as(sv.base(2011), lambda c, lab: f"{c} - {lab}")
    k = g.col(sv.MODEL_2011)
    row = next(r for r in g.data() if r[k] and r[k].startswith("3 "))
    row[k] = "3 - We work together"
    err = _error(2011, raw.put("example_english_label.xlsx", sv.to_xlsx(g)))
    assert [p.message for p in err.problems] == ["the label written with model code 3 is not in the codebook"]
    assert "'Vi arbejder sammen'" in err.problems[0].accepted


# --------------------------------------------------------------------------------------------
# 2. A stray quote character never swallows rows silently
# --------------------------------------------------------------------------------------------


def _unquoted(g: sv.Grid, delimiter=";") -> bytes:
    """A text export written without any quoting (as some tools and hand-made scripts do)."""
    return "\r\n".join(delimiter.join(sv._text(c) for c in r) for r in g.rows).encode("utf-8")


def _stray_quote(g: sv.Grid) -> int:
    """A comment that opens a quote and never closes it; returns its line number in the file."""
    k = g.col("Kommentarer")
    i = DATA[5]
    g.rows[i][k] = '"Borgerne siger: det virker'
    return i + 1


def test_a_stray_quote_is_read_as_text_and_logged(raw, expected):
    g = sv.base(2011)
    line = _stray_quote(g)
    df, log = survey.clean(2011, raw.put("example_stray_quote.csv", _unquoted(g)))
    _same_models(df, expected)  # every kommune after the quote is there
    hit = log[log["rule"] == "stray_quote_ignored"]
    assert len(hit) == 1 and int(hit["row"].item()) == line
    assert "would have swallowed" in hit["detail"].item()


def test_a_stray_quote_that_cannot_be_read_as_text_stops_at_its_line(raw):
    g = sv.base(2011)
    line = _stray_quote(g)
    k = g.col("Kommentarer")
    g.rows[DATA[20]][k] = '"Åbent; også lørdag"'  # a properly quoted field with the delimiter in it
    err = _error(2011, raw.put("example_stray_quote_mixed.csv", _unquoted(g)))
    assert err.problems[0].row == line and "quote character" in err.problems[0].message


def test_quoted_comments_on_several_lines_are_fine(raw, expected):
    g = sv.base(2011)
    g.rows[DATA[3]][g.col("Kommentarer")] = "Første linje.\nAnden linje, med komma."
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows([[sv._text(c) for c in r] for r in g.rows])
    df, log = survey.clean(2011, raw.put("example_multiline.csv", buf.getvalue().encode("utf-8")))
    _same_models(df, expected)
    assert (log["rule"] == "multiline_cells").sum() == 1 and (log["rule"] != "stray_quote_ignored").all()


# --------------------------------------------------------------------------------------------
# 3. Sheets and hidden rows: never a silent choice
# --------------------------------------------------------------------------------------------


def _hide(data: bytes, sheets=(), rows=()) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for name in sheets:
        wb[name].sheet_state = "hidden"
    for r in rows:
        wb["Besvarelser"].row_dimensions[r].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_sheets_that_fit_equally_well_are_an_error_listing_them(raw, tmp_path, expected):
    g = sv.base(2011)
    region = g.rows[: sv.HEADER_2011 + 1] + [g.rows[i] for i in DATA[:11]]
    data = _hide(sv.to_xlsx(g, sheets_after={"Region Nordjylland": region, "Backup": g.rows}), sheets=["Backup"])
    path = raw.put("example_three_sheets.xlsx", data)
    err = _error(2011, path)
    p = err.problems[0]
    assert p.column == "sheet" and "3 sheets fit the codebook equally well" in p.message
    n = len(DATA)
    assert f"'Besvarelser' ({n} rows below the header, visible)" in p.message
    assert "'Region Nordjylland' (11 rows below the header, visible)" in p.message
    assert f"'Backup' ({n} rows below the header, hidden)" in p.message
    assert "`sheet: <name>`" in p.accepted
    df, _ = survey.clean(2011, path, _codebook(tmp_path, sheet="Besvarelser"))
    _same_models(df, expected)


def test_the_only_fitting_sheet_hidden_is_used_and_logged(raw, expected):
    g = sv.base(2011)
    data = _hide(sv.to_xlsx(g, sheets_before={"Forside": [["Borgerservice 2011"]]}), sheets=["Besvarelser"])
    df, log = survey.clean(2011, raw.put("example_hidden_sheet.xlsx", data))
    _same_models(df, expected)
    assert (log["rule"] == "hidden_sheet_used").sum() == 1


def test_every_hidden_row_used_is_logged(raw, expected):
    hidden = [DATA[2] + 1, DATA[7] + 1]  # row numbers as Excel shows them
    df, log = survey.clean(2011, raw.put("example_hidden_rows.xlsx", _hide(sv.to_xlsx(sv.base(2011)), rows=hidden)))
    _same_models(df, expected)
    assert sorted(log.loc[log["rule"] == "hidden_row_used", "row"].astype(int)) == hidden


# --------------------------------------------------------------------------------------------
# 4. Exact ties between two answers of one kommune
# --------------------------------------------------------------------------------------------


def _tie(g: sv.Grid) -> tuple[int, int, int]:
    """A second, equally complete answer of the first kommune at the same time, with another model."""
    first = DATA[0]
    copy = list(g.rows[first])
    k = g.col(sv.MODEL_2011)
    copy[k] = 5 if copy[k] != 5 else 1
    g.rows.append(copy)
    return first + 1, len(g.rows), copy[k]


def test_an_exact_tie_between_different_answers_is_an_error_naming_both_rows(raw, tmp_path):
    g = sv.base(2011)
    a, b, other = _tie(g)
    path = raw.put("example_tie.xlsx", sv.to_xlsx(g))
    err = _error(2011, path)
    assert len(err.problems) == 1 and f"rows {a} and {b}" in err.problems[0].message
    assert "duplicate_tie: first" in err.problems[0].accepted
    code = survey.resolver().resolve(g.rows[a - 1][g.col("Kommune")])[0]
    last, log = survey.clean(2011, path, _codebook(tmp_path, duplicate_tie="last"))
    assert int(last.set_index("kommunekode").at[code, "model"]) == other
    assert (log["rule"] == "duplicate_tie").sum() == 1
    first, _ = survey.clean(2011, path, _codebook(tmp_path, duplicate_tie="first"))
    assert int(first.set_index("kommunekode").at[code, "model"]) == g.rows[a - 1][g.col(sv.MODEL_2011)]


# --------------------------------------------------------------------------------------------
# 5. Timestamps as the survey tools write them
# --------------------------------------------------------------------------------------------

TOOLS = {
    "google_forms": lambda d: d.strftime("%Y/%m/%d %I:%M:%S %p") + " GMT+2",  # September: Danish time is UTC+2
    "danish_locale_seconds": lambda d: f"{d.day}.{d.month}.{d.year} {d:%H.%M.%S}",  # 14.9.2011 10.22.33
    "danish_locale_minutes": lambda d: d.strftime("%d.%m.%Y %H.%M"),  # 06.09.2011 10.29
    "us_month_first": lambda d: f"{d.month}/{d.day}/{d.year} {d:%I:%M:%S %p}",  # SurveyMonkey, MS Forms (US)
    "utc_offset_iso": lambda d: (d - _dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_timestamps_as_survey_tools_write_them(tool, raw, expected):
    g = sv.times_as(sv.base(2011), TOOLS[tool])
    df, _ = survey.clean(2011, raw.put(f"example_times_{tool}.xlsx", sv.to_xlsx(g)))
    got = df.set_index("kommunekode")["submitted_at"]
    pd.testing.assert_series_equal(got, expected["submitted_at"], check_names=False)


def test_a_codebook_declares_the_time_zone_and_format(raw, tmp_path, expected):
    g = sv.times_as(sv.base(2011), lambda d: (d - _dt.timedelta(hours=2)).strftime("%Y%m%d %H%M%S"))  # UTC
    cb = _codebook(tmp_path, file={"timezone": "UTC", "datetime_formats": ["%Y%m%d %H%M%S"]})
    df, log = survey.clean(2011, raw.put("example_times_utc.xlsx", sv.to_xlsx(g)), cb)
    pd.testing.assert_series_equal(
        df.set_index("kommunekode")["submitted_at"], expected["submitted_at"], check_names=False
    )
    assert "UTC (codebook)" in log.loc[log["rule"] == "timezone_converted", "detail"].item()
    bad = _codebook(tmp_path, file={"timezone": "Mars/Olympus"})
    with pytest.raises(DataError, match="unknown time zone 'Mars/Olympus'"):
        survey.load_codebook(bad)


# --------------------------------------------------------------------------------------------
# 6. Personal data in free text and in error messages
# --------------------------------------------------------------------------------------------


def test_third_party_names_and_obfuscated_addresses_are_redacted(raw):
    g = sv.base(2011)
    k = g.col("Kommentarer")
    planted = {
        DATA[0]: "Spørg Lars Kristensen i borgerservice, han kender aftalen.",
        DATA[1]: "Tak for skemaet. Hilsen Birthe",
        DATA[2]: "Skriv til kirsten.holm (at) odense.dk eller ring, cpr 2409111234 er rettet.",
    }
    for i, text in planted.items():
        g.rows[i][k] = text
    df, log = survey.clean(2011, raw.put("example_names.xlsx", sv.to_xlsx(g)))
    text = df["comment"].dropna().str.cat(sep=" ")
    for secret in ("Lars", "Kristensen", "Birthe", "kirsten", "2409111234"):
        assert secret not in text
    assert "Spørg [navn] i borgerservice" in text and "Hilsen [navn]" in text and "Skriv til [e-mail]" in text
    assert "Vi har haft borgerservice i biblioteket" in text  # the generator's comments are kept as they were
    detail = log.loc[log["rule"] == "personal_data_redacted", "detail"].item()
    assert "2 name" in detail and "1 email" in detail and "1 cpr" in detail


def test_free_text_keep_leaves_comments_as_written(raw, tmp_path):
    g = sv.base(2011)
    g.rows[DATA[0]][g.col("Kommentarer")] = "Spørg Lars Kristensen."
    df, log = survey.clean(2011, raw.put("example_keep.xlsx", sv.to_xlsx(g)), _codebook(tmp_path, free_text="keep"))
    assert "Spørg Lars Kristensen." in df["comment"].tolist() and (log["rule"] == "free_text_kept").sum() == 1


def test_errors_never_quote_a_value_that_may_hold_personal_data(raw):
    g = sv.base(2011)
    g.rows[DATA[4]][g.col("Stilling")] = "Bibliotekar Mette Hansen 2409111234"
    err = _error(2011, raw.put("example_role_with_name.xlsx", sv.to_xlsx(g)))
    p = err.problems[0]
    assert p.row == DATA[4] + 1 and p.column == "Stilling" and "value not in the codebook's labels" in p.message
    assert "Mette" not in str(err) and "2409111234" not in str(err) and "not repeated here" in str(err)
    assert err.file == "data/raw/survey/example_role_with_name.xlsx"  # data/raw is redirected to a tmp folder


# --------------------------------------------------------------------------------------------
# 7. Damaged and protected workbooks, encodings, control characters: the real cause
# --------------------------------------------------------------------------------------------


def _damage_member(data: bytes, member: str) -> bytes:
    """Bytes of one compressed ZIP member overwritten in the middle (what a broken download or disk leaves)."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    mid = start + info.compress_size // 2
    return data[:mid] + bytes(b ^ 0xA5 for b in data[mid : mid + 24]) + data[mid + 24 :]


def test_a_damaged_compressed_member_is_a_located_error(raw):
    data = _damage_member((paths.survey_raw() / "example_survey_2011.xlsx").read_bytes(), "xl/worksheets/sheet1.xml")
    err = _error(2011, raw.put("example_damaged.xlsx", data))
    assert "damaged" in err.problems[0].message and err.file == "data/raw/survey/example_damaged.xlsx"


def test_an_encrypted_workbook_says_so(raw):
    data = bytearray(sv.to_xls(sv.base(2011)))
    at = bytes(data).find("Workbook".encode("utf-16-le"))
    name = "EncryptedPackage".encode("utf-16-le") + b"\x00\x00"
    data[at : at + 64] = name + b"\x00" * (64 - len(name))
    data[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    err = _error(2011, raw.put("example_encrypted.xlsx", bytes(data)))
    assert "encrypted, password-protected workbook" in err.problems[0].message
    assert "without a password" in err.problems[0].accepted


@pytest.mark.parametrize("encoding,named", [("mac_roman", "Mac Roman"), ("cp850", "cp850")])
def test_an_8bit_encoding_that_decodes_wrongly_is_named(encoding, named, raw):
    text = (paths.survey_raw() / "example_survey_2009.csv").read_bytes().decode("cp1252")
    err = _error(2009, raw.put(f"example_{encoding}.csv", text.encode(encoding)), "2009")
    assert len(err.problems) == 1 and named in err.problems[0].message
    assert "required column missing" not in str(err) and f"'{encoding}' added" in err.problems[0].accepted


def test_the_named_encoding_in_the_codebook_reads_the_file(raw, tmp_path):
    text = (paths.survey_raw() / "example_survey_2009.csv").read_bytes().decode("cp1252")
    cb = _codebook(tmp_path, "2009", file={"encodings": ["utf-8", "mac_roman"]})
    df, _ = survey.clean(2009, raw.put("example_mac.csv", text.encode("mac_roman")), cb)
    want, _ = survey.clean(2009, "survey/example_survey_2009.csv")
    assert df["kommunekode"].tolist() == want["kommunekode"].tolist()


def test_a_nul_in_a_cell_is_removed_and_logged(raw, expected):
    g = sv.base(2011)
    g.rows[DATA[6]][g.col("Kommentarer")] = "Åbent\x00 hver dag"
    df, log = survey.clean(2011, raw.put("example_nul.csv", sv.to_csv(g)))
    _same_models(df, expected)
    assert "Åbent hver dag" in df["comment"].tolist()
    hit = log.loc[log["rule"] == "control_characters_removed", "detail"].item()
    assert f"rows {DATA[6] + 1}" in hit


# --------------------------------------------------------------------------------------------
# 8. Fuzz: random damage in every supported format is a located error or a clean, never a traceback
# --------------------------------------------------------------------------------------------


def _formats(tmp_path) -> dict[str, tuple[int, bytes]]:
    g11, g09 = sv.base(2011), sv.base(2009)
    return {
        "csv": (2011, sv.to_csv(g11, "utf-8", ";")),
        "csv_cp1252": (2009, (paths.survey_raw() / "example_survey_2009.csv").read_bytes()),
        "tsv_utf16": (2011, sv.to_csv(g11, "utf-16", "\t")),
        "xlsx": (2011, (paths.survey_raw() / "example_survey_2011.xlsx").read_bytes()),
        "xls": (2011, sv.to_xls(g11)),
        "ods": (2011, sv.to_ods(g11)),
        "sav": (2011, sv.to_stat(sv.base(2011), "sav", tmp_path)),
        "dta": (2009, sv.to_stat(g09, "dta", tmp_path)),
    }


FUZZ_SEED, FUZZ_RUNS = 2025, 12


def test_fuzzed_exports_give_a_located_error_or_a_clean_table(raw, tmp_path):
    rng = np.random.default_rng(FUZZ_SEED)
    outcomes = {}
    for name, (year, data) in _formats(tmp_path).items():
        ext = name.split("_")[0]
        for run in range(FUZZ_RUNS):
            damaged = bytearray(data)
            for pos in rng.integers(0, len(data), size=int(rng.integers(1, 9))):
                damaged[pos] = int(rng.integers(0, 256))
            path = raw.put(f"example_fuzz_{name}_{run}.{ext}", bytes(damaged))
            try:
                df, log = survey.clean(year, path, str(year))
            except DataError as exc:
                assert exc.file == f"data/raw/survey/{path.name}" and exc.problems, (name, run)
                assert "Traceback" not in str(exc)
                outcomes[name, run] = "error"
                continue
            assert df["kommunekode"].between(101, 860).all() and df["kommunekode"].is_unique, (name, run)
            assert (log["rule"] == "read_as").sum() == 1
            outcomes[name, run] = "clean"
    assert len(outcomes) == 8 * FUZZ_RUNS
    kinds = {k: {o for (n, _), o in outcomes.items() if n == k} for k in {n for n, _ in outcomes}}
    assert all(kinds.values())
