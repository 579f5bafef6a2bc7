"""Parsing an answer: semicolon-separated text into a tidy frame, ``INDHOLD`` as float.

Answers are semicolon-separated text, optionally with a UTF-8 BOM, CRLF or LF line ends,
upper-cased variable codes in the header, a last column ``INDHOLD``, decimal comma (da) or point
(en), and ``..`` for a missing value.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from helpers.core.errors import DataError, Problem

MISSING = ("..", ".", "-", "x", "X", "")
_NUMBER = r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"


def parse_csv(body: bytes | str, source: str = "StatBank answer") -> pd.DataFrame:
    """Parse a CSV/BULK answer into a tidy frame: variable columns (str, header upper-cased) + INDHOLD (float).

    Accepts a UTF-8 BOM, CRLF or LF, decimal comma or point; ``..``, ``.``, ``-``, ``x`` are missing (NaN).
    Anything else that is not a number is a :class:`DataError` naming the row.
    """
    rows = _rows(body, source)
    header = [h.strip().upper() for h in rows[0]]
    if header[-1] != "INDHOLD" or len(header) < 2:
        raise DataError(
            source,
            Problem(
                "not a StatBank CSV/BULK answer: the last header column must be INDHOLD",
                row=1,
                value=";".join(rows[0])[:200],
            ),
        )
    bad = [
        Problem(f"{len(r)} fields, the header has {len(header)}", row=i)
        for i, r in enumerate(rows[1:], 2)
        if len(r) != len(header)
    ]
    if bad:
        raise DataError(source, bad)
    frame = pd.DataFrame(rows[1:], columns=header, dtype="str")
    frame["INDHOLD"] = _numbers(frame["INDHOLD"], source)
    return frame


def _rows(body: bytes | str, source: str) -> list[list[str]]:
    """The non-blank semicolon-separated rows of a body (BOM removed, any line ends)."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise DataError(source, f"not UTF-8 text ({exc})") from None
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=";") if r]
    if not rows:
        raise DataError(source, "empty answer (no header line)")
    return rows


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
