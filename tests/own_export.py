"""Stand-ins for a researcher's own survey exports, made from the shipped examples.

A real export is the same questionnaire saved by the survey tool on another day: the same cells in
other bytes. :func:`own_export` writes such a file from an example (XLSX: the workbook saved again
with its export line changed; CSV: the text saved again as UTF-8 with BOM, as Excel's "CSV UTF-8"
does), so its sha256 differs from the example's and ``add-data`` records it as real. With
``years``, every date in it moves by that many years: an export of a later round with the same
questionnaire (2017 from the 2014 example), which its fieldwork window accepts; with ``step_up_every``
every n-th response reports the next higher model (5 -> 1 -> 2 -> 3 -> 4), so that kommuner moved on.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from helpers.core import paths

DATE_TEXT = re.compile(r"^(\d{1,2}[-.]\d{1,2}[-.])(20\d\d)(\b.*)$")  # 26-10-2009 08:50


def _shift(value, years: int):
    """A timestamp (a datetime cell, or a date written as text) moved by ``years``; anything else as it is."""
    if isinstance(value, dt.datetime):
        return value.replace(year=value.year + years)
    if isinstance(value, str) and (m := DATE_TEXT.match(value)):
        return f"{m.group(1)}{int(m.group(2)) + years}{m.group(3)}"
    return value


MODEL_HEADER = "Hvilken samarbejdsmodel ligner jeres bedst?"  # the 2011 layout's model column
STEP_UP = {5: 1, 1: 2, 2: 3, 3: 4, 4: 4}  # the next higher model (the default ordering 5<1<2<3<4)


def own_export(example: str, target: str, *, years: int = 0, step_up_every: int = 0, raw: Path | None = None) -> Path:
    """Write ``data/raw/<target>`` from ``data/raw/<example>`` (see the module docstring); returns its path."""
    raw = Path(raw or paths.raw())
    src, out = raw / example, raw / target
    out.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(src)
        for ws in wb.worksheets:
            model_column, answers = None, 0
            for row in ws.iter_rows():
                for cell in row:
                    cell.value = _shift(cell.value, years)
                    if cell.value == MODEL_HEADER:
                        model_column = cell.column
                model = row[model_column - 1] if model_column and len(row) >= model_column else None
                if model is not None and isinstance(model.value, int) and model.value in STEP_UP:
                    answers += 1
                    if step_up_every and answers % step_up_every == 0:
                        model.value = STEP_UP[model.value]
            ws["A2"] = f"{ws['A2'].value} (own copy)"
        wb.save(out)
    else:
        text = src.read_bytes().decode("cp1252")
        lines = text.splitlines(keepends=True)
        text = lines[0] + "".join(";".join(_shift(c, years) for c in line.split(";")) for line in lines[1:])
        out.write_bytes(text.encode("utf-8-sig"))
    return out
