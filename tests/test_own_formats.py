"""A researcher's own export of a round, as statistics programs and spreadsheets save it, taken the way the
README says: put under data/raw/survey, recorded with `add-data`, cleaned with `borgerservice clean`.

Each file holds the cells of the 2011 (or 2014) example, written by the test as a researcher's tool writes
them: Stata .dta and SPSS .sav with short variable names, the questions as variable labels and the model as
labelled codes; an XLSX with more report lines above the header; a CSV in Windows-1252 with Danish letters.
Each must clean to exactly the example's table (only the row numbers of the source differ, and it is real),
and a damaged one must fail naming the file, the row and the column, with exit code 2 and no traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from survey_variants import MODEL_2011 as MODEL
from survey_variants import MODEL_LABELS

from helpers.data import survey
from helpers.running import cli

EXAMPLE = {2011: "survey/example_survey_2011.xlsx", 2014: "survey/example_survey_2014.xlsx"}


def _grid(raw, year) -> list[list]:
    wb = openpyxl.load_workbook(raw / EXAMPLE[year])
    return [[c.value for c in row] for row in wb.worksheets[0].iter_rows()]


def _header_at(grid) -> int:
    return next(i for i, row in enumerate(grid) if MODEL in row)


def _stat(raw, year, kind, *, recode=None, labels=None) -> bytes:
    """The example as a statistics department saves it: v1.. names, questions as labels, model codes labelled."""
    grid = _grid(raw, year)
    h = _header_at(grid)
    header, rows = grid[h], [r for r in grid[h + 1 :] if any(v is not None for v in r)]
    columns, value_labels = {}, {}
    for k, question in enumerate(header):
        name, values = f"v{k + 1}", [r[k] for r in rows]
        if question == MODEL:
            codes = recode or {c: c for c in MODEL_LABELS}
            columns[name] = [float(codes[v]) if v is not None else np.nan for v in values]
            value_labels[name] = {float(codes[c]): text for c, text in (labels or MODEL_LABELS).items()}
        elif all(isinstance(v, dt.datetime) or v is None for v in values):
            columns[name] = pd.to_datetime(values)
        elif all(isinstance(v, int | float) or v is None for v in values):
            columns[name] = [float(v) if v is not None else np.nan for v in values]
        else:
            columns[name] = ["" if v is None else str(v) for v in values]
    frame = pd.DataFrame(columns)
    target = raw / f"survey/tmp.{kind}"
    write = pyreadstat.write_dta if kind == "dta" else pyreadstat.write_sav
    write(frame, str(target), column_labels=list(header), variable_value_labels=value_labels)
    data = target.read_bytes()
    target.unlink()
    return data


def _xlsx_more_lines_above(raw, year, lines: int) -> bytes:
    wb = openpyxl.load_workbook(raw / EXAMPLE[year])
    ws = wb.worksheets[0]
    ws.insert_rows(1, amount=lines)
    for i in range(1, lines + 1):
        ws.cell(i, 1).value = f"Rapportlinje {i} fra spørgeskemaværktøjet"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cp1252(raw, year, edit=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for i, row in enumerate(_grid(raw, year)):
        cells = ["" if v is None else v.strftime("%d-%m-%Y %H:%M") if isinstance(v, dt.datetime) else v for v in row]
        writer.writerow(edit(i, cells) if edit else cells)
    return out.getvalue().encode("cp1252")  # strict: every letter of the example has a Windows-1252 byte


def _add_and_clean(raw, year, name, data, capsys) -> tuple[int, str]:
    (raw / "survey" / name).write_bytes(data)
    assert cli.main(["add-data", f"survey/{name}", "--source", "our own export", "--licence", "research use"]) == 0
    capsys.readouterr()
    code = cli.main(["clean", str(year), f"survey/{name}", "--codebook", str(year)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _same_as_the_example(raw, year, capsys):
    got = pd.read_parquet(survey.output_paths(year)[0])
    assert cli.main(["clean", str(year), EXAMPLE[year], "--codebook", str(year)]) == 0
    capsys.readouterr()
    want = pd.read_parquet(survey.output_paths(year)[0])
    assert want["synthetic"].all() and not got["synthetic"].any()
    drop = ["source_row", "synthetic"]  # where in the file each answer was, and real vs the synthetic example
    pd.testing.assert_frame_equal(got.drop(columns=drop), want.drop(columns=drop))


CASES = {
    "stata_dta_labelled": (2011, "own_2011.dta", lambda raw: _stat(raw, 2011, "dta")),
    "spss_sav_labelled": (2011, "own_2011.sav", lambda raw: _stat(raw, 2011, "sav")),
    "stata_dta_other_codes": (
        2011,
        "own_2011_codes.dta",
        lambda raw: _stat(raw, 2011, "dta", recode={c: 10 + c for c in MODEL_LABELS}),  # the label is the answer
    ),
    "xlsx_more_lines_above_the_header": (2011, "own_2011.xlsx", lambda raw: _xlsx_more_lines_above(raw, 2011, 12)),
    "csv_windows_1252_2011": (2011, "own_2011.csv", lambda raw: _cp1252(raw, 2011)),
    "csv_windows_1252_2014": (2014, "own_2014.csv", lambda raw: _cp1252(raw, 2014)),
}


@pytest.mark.parametrize("case", CASES)
def test_an_own_export_in_another_format_cleans_to_the_examples_table(raw_copy, outputs, capsys, case):
    year, name, make = CASES[case]
    code, said = _add_and_clean(raw_copy, year, name, make(raw_copy), capsys)
    assert code == 0, said
    _same_as_the_example(raw_copy, year, capsys)


def _misspelt(i, cells):
    return [*cells[:4], "Herningg", *cells[5:]] if i == 9 else cells


BROKEN = {
    # a model label the codebook does not know, in Stata's value labels
    "stata_dta_unknown_model_label": (
        2011,
        "bad_2011.dta",
        lambda raw: _stat(raw, 2011, "dta", labels={**MODEL_LABELS, 3: "Vi arbejder lidt sammen"}),
        [f"row 1, column '{MODEL}': value label not in the codebook", "found '3 (Vi arbejder lidt sammen)'"],
    ),
    # a misspelt kommune on the sixth data line of a Windows-1252 CSV (file line 10)
    "csv_windows_1252_misspelt_kommune": (
        2011,
        "bad_2011.csv",
        lambda raw: _cp1252(raw, 2011, _misspelt),
        ["row 10, column 'Kommune'", "Herningg", "close matches: 'Herning'"],
    ),
    # the header pushed below the rows searched for it
    "xlsx_header_too_far_down": (
        2011,
        "bad_2011.xlsx",
        lambda raw: _xlsx_more_lines_above(raw, 2011, survey.HEADER_SEARCH_ROWS),
        [f"no header row found in the first {survey.HEADER_SEARCH_ROWS} rows of sheet 'Besvarelser'", MODEL],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_damaged_own_export_fails_naming_file_row_and_column(raw_copy, outputs, capsys, case):
    year, name, make, expected = BROKEN[case]
    code, said = _add_and_clean(raw_copy, year, name, make(raw_copy), capsys)
    assert code == 2 and "Traceback" not in said, said
    assert f"error: data/raw/survey/{name}: " in said and str(raw_copy) not in said, said
    for text in expected:
        assert text in said, said
    assert not survey.output_paths(year)[0].exists()  # nothing half-cleaned left behind
