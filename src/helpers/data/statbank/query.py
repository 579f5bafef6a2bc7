"""Checking a query: variable codes and value ids against the table's ``tableinfo``, before anything is sent.

A typo fails here, clearly, and not as a Danish-language 400 from the server. Data are asked for
with ``lang=en``, ``valuePresentation=Code`` and ``format=BULK`` (streaming: no cell limit, but every
variable of the table must be given).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping

from helpers.data.statbank.errors import UnknownCodeError


def _variable(info: dict, code: str) -> dict:
    """The tableinfo variable with this code (case-insensitive, as the API matches them)."""
    for var in info["variables"]:
        if var["id"].upper() == code.upper():
            return var
    known = ", ".join(v["id"] for v in info["variables"])
    raise UnknownCodeError(f"table {info.get('id')}: unknown variable {code!r}; the table has: {known}")


def _check_value(info: dict, var: dict, value: str) -> None:
    """Fail unless ``value`` is a known id, a wildcard matching one, a range or a latest-n selection."""
    ids = [v["id"] for v in var["values"]]
    if value.startswith(("<", ">")) or re.fullmatch(r"\(.*\)", value):
        return  # ranges (">=2009<=2011") and newest periods ("(1)") are resolved by the server
    if "*" in value and any(fnmatch.fnmatchcase(i, value) for i in ids):
        return
    if value in ids:
        return
    shown = ", ".join(ids[:12]) + (f", ... ({len(ids)} in all)" if len(ids) > 12 else "")
    kind = "no value matches the wildcard" if "*" in value else "unknown value"
    raise UnknownCodeError(
        f"table {info.get('id')}, variable {var['id']}: {kind} {value!r}; accepted values include: {shown}"
    )


def check_variables(info: dict, variables: Mapping[str, str | Iterable[str]], *, bulk: bool = True) -> list[dict]:
    """Check codes and values against ``tableinfo``; the request's ``variables`` list with canonical codes.

    BULK needs every variable of the table, so a missing one is reported here too.
    """
    chosen = []
    for code, values in variables.items():
        var = _variable(info, code)
        values = [values] if isinstance(values, str) else [str(v) for v in values]
        if not values:
            raise UnknownCodeError(f"table {info.get('id')}, variable {var['id']}: no values selected")
        for value in values:
            _check_value(info, var, value)
        chosen.append({"code": var["id"], "values": values})
    missing = [v["id"] for v in info["variables"] if v["id"] not in {c["code"] for c in chosen}]
    if bulk and missing:
        raise UnknownCodeError(
            f"table {info.get('id')}: BULK needs values for every variable; missing: {', '.join(missing)}"
        )
    return chosen


def build_query(info: dict, variables: Mapping[str, str | Iterable[str]]) -> dict:
    """The checked JSON body of a /v1/data request (BULK, English, codes not labels)."""
    return {
        "table": info["id"],
        "format": "BULK",
        "lang": "en",
        "valuePresentation": "Code",
        "delimiter": "Semicolon",
        "variables": check_variables(info, variables),
    }
