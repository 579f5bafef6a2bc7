"""Parsing an answer: semicolon-separated text into a tidy frame, ``INDHOLD`` as float.

Answers are semicolon-separated text, optionally with a UTF-8 BOM, CRLF or LF line ends,
upper-cased variable codes in the header, a last column ``INDHOLD``, decimal comma (da) or point
(en), and ``..`` for a missing value.
"""

from __future__ import annotations

import csv
import io
from array import array

import numpy as np
import pandas as pd

from helpers.core.errors import DataError, Problem

MISSING = ("..", ".", "-", "x", "X", "")
_NUMBER = r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"


def parse_csv(body: bytes | str, source: str = "StatBank answer") -> pd.DataFrame:
    """Parse a CSV/BULK answer into a tidy frame: variable columns (str, header upper-cased) + INDHOLD (float).

    Accepts a UTF-8 BOM, CRLF or LF, decimal comma or point; ``..``, ``.``, ``-``, ``x`` are missing (NaN).
    Anything else that is not a number is a :class:`DataError` naming the row.
    """
    return parse_answer(body, source)[0]


def parse_answer(body: bytes | str, source: str = "StatBank answer") -> tuple[pd.DataFrame, pd.Series]:
    """:func:`parse_csv`'s frame, and the rows whose INDHOLD text is blank (an empty value: a row cut short),
    as that text by row.

    The body is read once, as a stream (never decoded as a whole). A variable column repeats a few
    codes: it is kept as one small integer per row into its distinct values until the frame is
    built. The peak memory of parsing and checking is measured in tests/test_statbank_faults.py, and
    the transport never lets an answer larger than its query implies reach this
    (``answer.largest_answer``).
    """
    header, codes, values, indhold = _columns(body, source)
    text = pd.Series(indhold, dtype="str")
    del indhold[:]
    frame = pd.DataFrame(index=text.index)
    for name in header[:-1]:
        c, v = codes.pop(0), values.pop(0)
        frame[name] = pd.Categorical.from_codes(np.frombuffer(c, dtype=c.typecode), v).astype("str")
    blank = text[text.str.strip() == ""]
    frame["INDHOLD"] = _numbers(text, source)
    return frame, blank


def _columns(body: bytes | str, source: str) -> tuple[list[str], list[array], list[list[str]], list[str]]:
    """The header (upper-cased), and the non-blank rows by column: per variable column the index of each
    row's value (an array) into the distinct values (a list), and the INDHOLD texts. A DataError for a
    body that is not UTF-8, has no header, does not end in INDHOLD or has rows of another length."""
    if isinstance(body, bytes):
        text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", newline="")
    else:
        text = io.StringIO(body.lstrip("\ufeff"), newline="")
    rows = (r for r in csv.reader(text, delimiter=";") if r)
    try:
        first = next(rows, None)
        if first is None:
            raise DataError(source, "empty answer (no header line)")
        header = [h.strip().upper() for h in first]
        if header[-1] != "INDHOLD" or len(header) < 2:
            raise DataError(
                source,
                Problem(
                    "not a StatBank CSV/BULK answer: the last header column must be INDHOLD",
                    row=1,
                    value=";".join(first)[:200],
                ),
            )
        codes = [array("l") for _ in header[:-1]]
        index: list[dict[str, int]] = [{} for _ in header[:-1]]
        indhold: list[str] = []
        missing = {m: m for m in MISSING}  # `..` on every row of a sparse answer: one object
        bad = []
        for i, r in enumerate(rows, 2):
            if len(r) != len(header):
                bad.append(Problem(f"{len(r)} fields, the header has {len(header)}", row=i))
                continue
            for col, known, value in zip(codes, index, r, strict=False):
                col.append(known.setdefault(value, len(known)))
            indhold.append(missing.get(r[-1], r[-1]))
    except UnicodeDecodeError as exc:
        raise DataError(source, f"not UTF-8 text ({exc})") from None
    if bad:
        raise DataError(source, bad)
    return header, codes, [list(known) for known in index], indhold


def _numbers(values: pd.Series, source: str) -> pd.Series:
    """INDHOLD as float.

    Decimal point or comma, Danish thousands points, missing markers to NaN, anything else an error.

    A comma is always a decimal comma (DST writes no comma thousands). Points are thousands
    separators when grouped in threes and the value has a comma (``1.234,5``) or more than one point
    (``1.234.567``); a single grouped point (``1.234``) is read as thousands only when another value
    of the column is unmistakably Danish, otherwise as the decimal point of the English answer we ask for.
    """
    text = values.str.strip()
    missing = text.isin(MISSING)
    grouped = text.str.fullmatch(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
    danish = text.str.contains(",", regex=False) | (text.str.count(r"\.") >= 2)
    single = grouped & ~danish & bool((danish & ~missing).any())  # "1.234" in a column that writes "1.234.567"
    thousands = (grouped & danish) | single
    plain = text.where(~thousands, text.str.replace(".", "", regex=False))
    plain = plain.where(
        ~plain.str.contains(",", regex=False) | ~plain.str.fullmatch(r"[+-]?\d+,\d+"),
        plain.str.replace(",", ".", regex=False),
    )
    ok = missing | plain.str.fullmatch(_NUMBER)
    if not ok.all():
        problems = [
            Problem(
                "not a number",
                row=int(i) + 2,
                column="INDHOLD",
                value=values[i],
                accepted="digits with decimal point or comma (1234.5, 1234,5, 1.234,5, 1.234.567), or .. for missing",
            )
            for i in values.index[~ok]
        ]
        raise DataError(source, problems)
    return pd.to_numeric(plain.where(~missing), errors="raise").astype("float64")
