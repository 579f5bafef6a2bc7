"""Checking an answer: is the parsed answer the one the query asked for? And :func:`data`, which asks and checks.

The answer must have the variables asked for, only the values selected, no cell twice and as many
rows as the selection implies; an answer that fails is never cached (:mod:`.fetch`).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from helpers.core.errors import Problem
from helpers.data.statbank.errors import StatbankAnswerError, UnknownCodeError
from helpers.data.statbank.parse import parse_answer
from helpers.data.statbank.query import _variable, build_query
from helpers.data.statbank.transport import post, tableinfo


def _selected(var: dict, values: list[str]) -> list[str] | None:
    """The value ids a selection stands for, resolved against tableinfo; None when that cannot be told here."""
    ids = [v["id"] for v in var["values"]]
    out: list[str] = []
    for value in values:
        if m := re.fullmatch(r"\((?:-n\+)?(\d+)\)", value):  # "(1)" newest period, "(-n+5)" newest five
            out += ids[-int(m.group(1)) :] if int(m.group(1)) else []
        elif value.startswith(("<", ">")):
            bounds = re.findall(r"(>=|<=|>|<)([^<>=]+)", value)
            if "".join(op + v for op, v in bounds) != value:
                return None
            same = [i for i in ids if all(len(i) == len(v) for _, v in bounds)]
            tests = {">=": str.__ge__, "<=": str.__le__, ">": str.__gt__, "<": str.__lt__}
            out += [i for i in same if all(tests[op](i, v) for op, v in bounds)]
        elif "*" in value:
            out += [i for i in ids if fnmatch.fnmatchcase(i, value)]
        elif value in ids:
            out.append(value)
        else:
            return None
    return list(dict.fromkeys(out))


INDHOLD_BYTES = 40  # the widest value a cell can hold ("-1.234.567.890.123,4567" is 23 bytes), with room


def largest_answer(query: dict, info: dict) -> int | None:
    """The most bytes a correct answer to ``query`` can have; None when a variable is not in ``info``.

    Rows: the number of values each variable's selection stands for (resolved against ``info``; all
    of the variable's values when the selection cannot be resolved here), multiplied. Each row: the
    longest id or label of each variable (quoted, every character doubled: the worst CSV quoting),
    a separator after each, ``INDHOLD_BYTES`` for the value and CRLF. Plus the header and a BOM.
    The transport refuses a larger answer before reading it (by its Content-Length) or before
    parsing it, so parsing never holds more than this in memory (:func:`.parse.parse_answer`).
    """
    rows, width = 1, INDHOLD_BYTES + 2
    header = 3 + len("INDHOLD") + 2
    for selection in query["variables"]:
        try:
            var = _variable(info, selection["code"])
        except UnknownCodeError:
            return None
        chosen = _selected(var, [str(v) for v in selection["values"]])
        rows *= len(var["values"]) if chosen is None else len(chosen)
        longest = max((len(str(v.get(k, "")).encode()) for v in var["values"] for k in ("id", "text")), default=0)
        width += 2 * longest + 3
        header += 2 * len(str(selection["code"]).encode()) + 3
    return header + rows * width


def _checked(body: bytes, query: dict, info: dict, source: str) -> pd.DataFrame:
    """Parse an answer and check it against its query (:func:`check_answer`); the frame."""
    frame, raw = parse_answer(body, source=source)
    return check_answer(frame, query, info, source, raw=raw)


def check_answer(
    frame: pd.DataFrame, query: dict, info: dict, source: str, raw: pd.Series | None = None
) -> pd.DataFrame:
    """Check that a parsed answer is the one ``query`` asked for; the frame, or a StatbankAnswerError.

    The answer must have exactly the variables asked for (header codes, any order) and INDHOLD; every
    field filled (``raw``, the INDHOLD text or only its blank rows, shows an empty value); only values
    that were selected (ids, or their tableinfo labels should BULK send labels); no cell twice; and as
    many rows as the selection implies (the product of the number of values selected per variable,
    resolved against tableinfo). An answer for another table fails the variable or the value check; a
    body cut at a line end fails the row count.
    """
    table = query.get("table")
    asked = [v["code"] for v in query["variables"]]
    got = [c for c in frame.columns if c != "INDHOLD"]
    missing = [c for c in asked if c.upper() not in got]
    extra = [c for c in got if c not in {a.upper() for a in asked}]
    if missing or extra:
        problems = []
        if missing:
            problems.append(Problem(f"variable(s) asked for but not in the answer: {', '.join(missing)}", row=1))
        if extra:
            problems.append(
                Problem(f"variable(s) not asked for: {', '.join(extra)} (an answer for another table?)", row=1)
            )
        raise StatbankAnswerError(
            source,
            problems
            + [
                Problem(
                    f"header is {';'.join(frame.columns)}",
                    row=1,
                    accepted=";".join([*(a.upper() for a in asked), "INDHOLD"]),
                )
            ],
        )
    problems: list[Problem] = []
    if raw is not None:  # DST writes `..` for a missing value; an empty one is a row cut after its last `;`
        empty = raw.str.strip() == ""
        for i in raw.index[empty][:5]:
            problems.append(
                Problem(
                    "incomplete row: empty value (DST writes .. for a missing one)", row=int(i) + 2, column="INDHOLD"
                )
            )
    keys: dict[str, np.ndarray] = {}  # per variable, one integer per row: which value id it holds
    sizes: dict[str, int | None] = {}
    for selection in query["variables"]:
        code, col = selection["code"], selection["code"].upper()
        # each distinct value is looked at once (``codes``: which one each row holds), so that checking
        # costs a few integers per row and no copy of the text
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
        text = pd.Series(uniques, dtype="object").astype("str").str.strip()
        for i in np.flatnonzero((text == "").to_numpy()[codes])[:5]:
            problems.append(Problem("incomplete row: empty field", row=int(frame.index[i]) + 2, column=col))
        try:
            var = _variable(info, code)
        except UnknownCodeError:
            sizes[code] = None
            continue
        chosen = _selected(var, [str(v) for v in selection["values"]])
        sizes[code] = None if chosen is None else len(chosen)
        by_label = {v["text"]: v["id"] for v in var["values"] if "text" in v}
        ids = text.where(text.isin({v["id"] for v in var["values"]}), text.map(by_label))
        keys[col] = pd.factorize(ids.fillna(text))[0][codes]
        if chosen is None:
            continue
        odd = (~ids.isin(chosen) & (text != "")).to_numpy()[codes]
        if odd.any():
            at = np.flatnonzero(odd)
            shown = ", ".join(dict.fromkeys(text.iat[codes[i]] for i in at[:5]))
            hint = f", an answer for another table than {table}?" if odd.all() else ""
            problems.append(
                Problem(
                    f"{len(at)} row(s) with value(s) not asked for in {col} (first: {shown}{hint})",
                    row=int(frame.index[at[0]]) + 2,
                    column=col,
                    accepted=", ".join(chosen[:8]) + (f", ... ({len(chosen)} in all)" if len(chosen) > 8 else ""),
                )
            )
    if len(keys) == len(asked):
        twice = pd.DataFrame(keys).duplicated(keep="first").to_numpy()
        if twice.any():
            first = int(frame.index[np.argmax(twice)]) + 2
            problems.append(Problem(f"{int(twice.sum())} cell(s) appear more than once", row=first))
    if all(n is not None for n in sizes.values()):
        expected = math.prod(sizes.values())
        if len(frame) != expected:
            product = " x ".join(f"{n} {c}" for c, n in sizes.items())
            problems.append(
                Problem(
                    f"{len(frame)} rows, but the selection implies {expected} ({product})"
                    + (" - the answer is cut short" if len(frame) < expected else "")
                )
            )
    if problems:
        raise StatbankAnswerError(source, problems)
    return frame


def data(
    table: str, variables: Mapping[str, str | Iterable[str]], *, base_url: str | None = None, **http
) -> pd.DataFrame:
    """Fetch one table as a tidy frame (one row per cell, codes as str, ``INDHOLD`` as float).

    ``variables`` maps variable codes to value ids or selections (``"*"``, ``"*K1"``,
    ``">=2009<=2011"``); they are checked against ``tableinfo`` before anything is asked for, and
    the answer by :func:`check_answer` after. ``http`` may set the keywords of :func:`post`.
    """
    info = tableinfo(table, base_url=base_url, **http)
    query = build_query(info, variables)
    source = f"StatBank answer for {info['id']}"
    body = post("data", query, url=base_url, expect=largest_answer(query, info), **http)
    return _checked(body, query, info, source)
