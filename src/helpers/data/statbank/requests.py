"""The requests this project makes: which tables and measures, and the variable selection each becomes.

:data:`REQUESTS` declares each table, the variable that picks its measures and the unit factors;
:func:`request_variables` turns one into a checked selection against the table's ``tableinfo``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from helpers.data.statbank.errors import UnknownCodeError
from helpers.data.statbank.query import _variable

FIRST_YEAR = 2009  # the library tables in StatBank start with 2009


@dataclass(frozen=True)
class UsageRequest:
    """One declared data request: a table, the variable that picks the measures, and the measures.

    ``measures`` maps a value id of ``variable`` to (measure name, factor to plain units).
    ``variable`` is the code we expect; unless ``confirmed``, it is an ASSUMPTION (taken from a
    lower-cased mirror of DST's table docs) and the code actually sent is looked up in ``tableinfo``
    as the variable whose values hold all the measure ids. Verify on the first live run: the
    resolved code is written to ``<TABLE>.query.json`` as ``measure_variable``.
    ``fixed`` pins other variables to one value; ``time`` is the default time selection and
    ``period`` the suffix of the period id that marks a year (``K1`` = 1 January).
    """

    table: str
    variable: str
    measures: Mapping[str, tuple[str, float]]
    fixed: Mapping[str, str] = field(default_factory=dict)
    time: str = f">={FIRST_YEAR}"
    period: str = ""
    confirmed: bool = False


# The measures this project needs. Units: factor converts DST's unit to counts or DKK.
REQUESTS: tuple[UsageRequest, ...] = (
    UsageRequest(  # code BNØGLE confirmed by a public script that sends this very request
        "BIB1",
        "BNØGLE",
        {"15110": ("loans", 1.0), "15120": ("book_loans", 1.0), "15250": ("downloads", 1.0)},
        confirmed=True,
    ),
    UsageRequest(  # 14150 is "Fysiske besøg (i 1.000)": x 1,000 to get visits
        "SBS1",
        "BNØGLE",
        {"14150": ("visits", 1000.0), "14140": ("active_borrowers", 1.0)},
    ),
    UsageRequest(  # ASSUMED code "AKTIVI" (mirror's `aktivi`); resolved from tableinfo by its values
        "BIB2B",
        "AKTIVI",
        {"10310": ("service_points", 1.0), "10300": ("service_points_with_collection", 1.0)},
    ),
    UsageRequest(  # ASSUMED code "INDTUDG" (mirror's `indtudg`); unit 1,000 DKK -> DKK
        "BIB6",
        "INDTUDG",
        {"17110": ("expenditure_gross", 1000.0), "17180": ("expenditure_net", 1000.0)},
    ),
    UsageRequest(  # population on 1 January: the CIVILSTAND total, all sexes and ages
        "FOLK1A",
        "CIVILSTAND",
        {"TOT": ("population", 1.0)},
        fixed={"KØN": "TOT", "ALDER": "IALT"},
        time="*K1",
        period="K1",
        confirmed=True,
    ),
)
MEASURES = [name for req in REQUESTS for name, _ in req.measures.values()]
AREA = "OMRÅDE"


def _declared(tables: Iterable[str] | None) -> list[UsageRequest]:
    """The declared requests for ``tables`` (all when None); an unknown table name is an error."""
    if tables is None:
        return list(REQUESTS)
    tables = [tables] if isinstance(tables, str) else tables
    by_id = {r.table: r for r in REQUESTS}
    wanted = [str(t).upper() for t in tables]
    unknown = [t for t in wanted if t not in by_id]
    if unknown:
        raise UnknownCodeError(f"no declared request for table(s) {', '.join(unknown)}; declared: {', '.join(by_id)}")
    return [by_id[t] for t in wanted]


def _measure_variable(req: UsageRequest, info: dict) -> dict:
    """The tableinfo variable that holds the measure ids: the declared code if it does, else the only one that does."""
    wanted = set(req.measures)
    holders = [v for v in info["variables"] if wanted <= {x["id"] for x in v["values"]}]
    for var in holders:
        if var["id"].upper() == req.variable.upper():
            return var
    if len(holders) == 1:
        return holders[0]
    found = ", ".join(v["id"] for v in holders) or "none"
    raise UnknownCodeError(
        f"table {req.table}: cannot tell which variable holds the measure ids {', '.join(sorted(wanted))} "
        f"(declared {req.variable!r}; variables holding them: {found}); "
        "update REQUESTS in helpers/data/statbank/requests.py"
    )


def _periods(req: UsageRequest, info: dict, years: Iterable[int] | None) -> list[str]:
    """Time selection: the declared default, or the table's period ids for the given years."""
    if years is None:
        return [req.time]
    years = [years] if isinstance(years, int) else years
    time_var = next((v for v in info["variables"] if v.get("time")), None) or _variable(info, "Tid")
    wanted = {f"{int(y)}{req.period}" for y in years}
    ids = [v["id"] for v in time_var["values"] if v["id"] in wanted]
    if not ids:
        have = [v["id"] for v in time_var["values"]]
        raise UnknownCodeError(
            f"table {req.table}: none of the years {sorted(wanted)} is available; it has {have[0]}..{have[-1]}"
        )
    return ids


def request_variables(req: UsageRequest, info: dict, years: Iterable[int] | None = None) -> tuple[dict, str]:
    """The variable selection for a declared request, and the measure variable's code as resolved from tableinfo."""
    measure = _measure_variable(req, info)
    chosen: dict[str, list[str]] = {AREA: ["*"], measure["id"]: list(req.measures)}
    chosen.update({code: [value] for code, value in req.fixed.items()})
    time_var = next((v for v in info["variables"] if v.get("time")), None) or _variable(info, "Tid")
    chosen[time_var["id"]] = _periods(req, info, years)
    undeclared = [v["id"] for v in info["variables"] if v["id"].upper() not in {c.upper() for c in chosen}]
    if undeclared:
        raise UnknownCodeError(
            f"table {req.table} has variable(s) {', '.join(undeclared)} that REQUESTS does not pin "
            "(BULK needs a value for every variable); add them to `fixed`"
        )
    return chosen, measure["id"]
