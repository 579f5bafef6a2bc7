"""Library usage per library unit and year: real loans, the synthetic example panel, the Statbank cache.

Units
-----
The analysis unit is the **library unit** as Statistics Denmark reports it: 97 units, one per
kommune, except that Fanø (563) has no library system of its own and is served by Esbjerg
(561). Unit 561 therefore carries Esbjerg *and* Fanø: Fanø's population is added to Esbjerg's,
and Esbjerg's loans (which already include Fanø's borrowers) are divided by the joint
population. :func:`to_library_units` is the one place that does this; everything else calls it.

Sources
-------
* ``real``: physical loans per inhabitant per kommune 2010-2015 and 2018-2025 (Statistics
  Denmark via the doughnut repository, ``data/raw/usage/PROVENANCE.md``). Counts are
  recovered as per-capita value x the kommune's own 1 January population (the definition used
  by the source). Population is known only to 2023, so **2024-2025 have rates but no counts**
  (and no rate for the Esbjerg unit, whose rate needs Fanø's population). 2009 and 2016-2017
  are not in the file (see :data:`REAL_LOANS_GAPS`). Suspicious values stay in the data and
  are listed in :data:`QUALITY_FLAGS`; the panel marks them in ``outlier``.
* ``synthetic``: the seeded example panel 2009-2015 written by
  :func:`helpers.data.synthetic.usage.write_examples`, with its ground truth in
  ``example_truth.yaml`` (:func:`load_truth`).
* ``statbank``: the Statistics Denmark cache, read through
  :func:`helpers.data.statbank.cached_usage` (imported lazily; :data:`STATBANK_MEASURES` says which
  measure feeds which outcome).

Rates are per 1,000 inhabitants of the unit on 1 January (real population, FOLK1A) for every
outcome and every source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers.core import files, lazy, paths
from helpers.core.errors import DataError, Problem
from helpers.core.validation import validate
from helpers.core.vocabulary import (
    QualityFlagKind,
    UsageOutcome,
    UsageSource,
    UsageSourceWithoutReal,
    check_choice,
    choices,
)
from helpers.data import provenance, reference
from helpers.results.usage import UsageResults

pa = lazy.module("pandera.pandas")  # ~0.2 s to import: at the first schema

# --- files -------------------------------------------------------------------------------
REAL_KOMMUNE_FILE = "library_use_per_capita_kommune_2010-2025.csv"
REAL_NATIONAL_FILE = "library_use_per_capita_national_2010-2025.csv"
EXAMPLE_FILE = "example_usage_panel_2009-2015.csv"
TRUTH_FILE = "example_truth.yaml"
PANEL_FILE = "usage_panel.parquet"

# --- units -------------------------------------------------------------------------------
FANOE = 563
ESBJERG = 561
SERVED_BY = {FANOE: ESBJERG}  # kommune without its own library system -> the unit that serves it
SERVED_LABELS = {FANOE: "Fanø: served by Esbjerg (counted in Esbjerg)"}  # for maps: their own class, not "no data"
N_UNITS = 97

# --- outcomes and sources ----------------------------------------------------------------
OUTCOMES: tuple[UsageOutcome, ...] = choices(UsageOutcome)  # loans, visits, downloads, service_points, expenditure
OUTCOME_UNITS = {
    "loans": "physical loans (first loans, all materials, no renewals)",
    "visits": "physical visits",
    "downloads": "downloads of electronic resources (BIB1 15250)",
    "service_points": "service points with a collection (main libraries + branches + bookmobiles; BIB2B 10300)",
    "expenditure": "gross operating expenditure, DKK (BIB6 17110)",
}
# The sources each outcome can come from (a Literal alias each): only loans have a real series.
SOURCE_CHOICES: dict[UsageOutcome, Any] = {
    "loans": UsageSource,
    "visits": UsageSourceWithoutReal,
    "downloads": UsageSourceWithoutReal,
    "service_points": UsageSourceWithoutReal,
    "expenditure": UsageSourceWithoutReal,
}
DEFAULT_SOURCES: dict[UsageOutcome, UsageSource] = {
    "loans": "real",
    "visits": "synthetic",
    "downloads": "synthetic",
    "service_points": "synthetic",
    "expenditure": "synthetic",
}
SOURCE_LABELS: dict[UsageSource, str] = {
    "real": "real: Statistics Denmark loans per capita",
    "synthetic": "synthetic: example panel",
    "statbank": "statbank cache",
}
# Which measure of helpers.data.statbank.cached_usage() feeds each outcome.
STATBANK_MEASURES = {
    "loans": "loans",
    "visits": "visits",
    "downloads": "downloads",
    "service_points": "service_points_with_collection",  # the 482 (2010) definition, as in the example panel
    "expenditure": "expenditure_gross",
}
DEFAULT_YEARS = range(2009, 2026)
POPULATION_SOURCE = "real: Statistics Denmark FOLK1A, 1 January"

# --- known gaps and quality flags of the real loans --------------------------------------
REAL_LOANS_YEARS = (2010, 2011, 2012, 2013, 2014, 2015, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025)
REAL_LOANS_GAPS = {
    2009: "not in the source file (Statistics Denmark's BIB1 starts in 2009, but the doughnut series starts in 2010)",
    2016: "not published by Statistics Denmark (data problems during the move to Fælles Bibliotekssystem)",
    2017: "not published by Statistics Denmark (data problems during the move to Fælles Bibliotekssystem)",
}
NO_POPULATION_NOTE = (
    "no 1 January population after 2023 in data/raw/reference: counts (and the Esbjerg unit's rates) missing"
)


@dataclass(frozen=True)
class QualityFlag:
    """One suspicious value of the real loans per inhabitant, kept as reported.

    ``kind`` is ``"reporting_failure"`` (almost certainly not real usage: exclude or impute in
    models) or ``"level_shift"`` (a jump that may be a reporting artefact: check sensitivity).
    ``value`` is the value in the source file, checked on every load so a flag cannot go stale.
    """

    kommunekode: int
    year: int
    value: float
    kind: QualityFlagKind
    note: str


# Every value listed under "Suspicious values in the source" in data/raw/usage/PROVENANCE.md.
QUALITY_FLAGS: tuple[QualityFlag, ...] = (
    QualityFlag(270, 2010, 2.36, "reporting_failure", "Gribskov: 2.36 against 7.39 in 2013"),
    QualityFlag(270, 2011, 1.6, "reporting_failure", "Gribskov: 1.6 against 7.39 in 2013"),
    QualityFlag(270, 2012, 0.0, "reporting_failure", "Gribskov: 0.0 loans, a reporting failure"),
    QualityFlag(270, 2018, 4.13, "reporting_failure", "Gribskov: 4.13 against 7.12 in 2019"),
    QualityFlag(741, 2013, 4.0, "reporting_failure", "Samsø: 4.0 against about 5.5 before and 7.8 after"),
    QualityFlag(741, 2025, 6.88, "level_shift", "Samsø: 6.88 against 5.47 in 2024"),
    QualityFlag(187, 2012, 6.6, "level_shift", "Vallensbæk: falls 8.29 -> 6.6 -> 4.68 in 2011-2013"),
    QualityFlag(187, 2013, 4.68, "level_shift", "Vallensbæk: falls 8.29 -> 6.6 -> 4.68 in 2011-2013"),
    QualityFlag(183, 2011, 6.35, "level_shift", "Hvidovre: 6.35 between 9.18 and 8.01"),
    QualityFlag(316, 2010, 9.69, "level_shift", "Holbæk: 9.69, then 6.65"),
    QualityFlag(326, 2012, 4.47, "level_shift", "Kalundborg: 4.47"),
    QualityFlag(510, 2018, 6.63, "level_shift", "Haderslev: 6.63, then 4.4"),
    QualityFlag(756, 2018, 4.87, "level_shift", "Ikast-Brande: rises to 4.87 in 2018"),
    QualityFlag(756, 2025, 4.35, "level_shift", "Ikast-Brande: 4.35 in 2025"),
    QualityFlag(400, 2018, 8.0, "level_shift", "Bornholm: 8.0 in 2018-2019, above its 2015 level (6.78)"),
    QualityFlag(400, 2019, 8.0, "level_shift", "Bornholm: 8.0 in 2018-2019, above its 2015 level (6.78)"),
    # PROVENANCE: "about 8.0 in 2018-2019"; the file has 8.03 (2018) and 7.68 (2019 = its 2015 level), so only 2018.
    QualityFlag(450, 2018, 8.03, "level_shift", "Nyborg: 8.03 in 2018, above its 2015 level (7.68)"),
)


def quality_flags() -> pd.DataFrame:
    """:data:`QUALITY_FLAGS` as a table (kommunekode, year, value, kind, note)."""
    return pd.DataFrame([f.__dict__ for f in QUALITY_FLAGS])


# --- the one place for Fanø / Esbjerg ----------------------------------------------------
def to_library_units(df: pd.DataFrame, sum_cols: Iterable[str] = (), *, key: str = "kommunekode") -> pd.DataFrame:
    """Turn kommune rows into library-unit rows: Fanø (563) is folded into Esbjerg (561).

    This is the **only** function that knows about Fanø. Statistics Denmark's library tables
    report 97 units because Fanø is served by Esbjerg under a service agreement
    (betjeningsoverenskomst); unit 561 therefore stands for Esbjerg + Fanø.

    ``sum_cols`` are added up within a unit (population, counts); a sum of only missing values
    stays missing. All other columns are kept from the serving kommune's row (Esbjerg's). Rows
    are grouped by ``key`` and every other column not in ``sum_cols`` that is named ``year``
    (if present). The result has a ``unit_members`` column ("561,563" for Esbjerg, else the code).
    """
    sum_cols = list(sum_cols)
    df = df.copy()
    df[key] = df[key].astype(int)
    member = df[key]
    df[key] = member.map(lambda k: SERVED_BY.get(k, k))
    by = [key] + (["year"] if "year" in df.columns else [])
    other = [c for c in df.columns if c not in by and c not in sum_cols]
    # attributes come from the serving kommune's own row when it has one
    own = df[member.to_numpy() == df[key].to_numpy()].drop_duplicates(by).set_index(by)[other] if other else None
    summed = (
        df.groupby(by, sort=True)[sum_cols].sum(min_count=1) if sum_cols else df[by].drop_duplicates().set_index(by)
    )
    out = summed.join(own, how="left") if own is not None else summed
    out = out.reset_index()
    members = {
        u: ",".join(str(k) for k in sorted({u, *(k for k, s in SERVED_BY.items() if s == u)}))
        for u in out[key].unique()
    }
    out["unit_members"] = out[key].map(members).astype(str)
    return out


@lru_cache(maxsize=1)
def _unit_population() -> pd.DataFrame:
    pop = reference.load_population()
    pop = pop[pop["area_level"] == "kommune"].rename(columns={"area_code": "kommunekode"})[
        ["kommunekode", "year", "population"]
    ]
    pop["population"] = pop["population"].astype(float)
    return to_library_units(pop, ["population"]).drop(columns="unit_members")


def unit_population(years: Iterable[int] | None = None) -> pd.DataFrame:
    """Population on 1 January per library unit (97; 561 = Esbjerg + Fanø) and year; NaN after 2023."""
    pop = _unit_population()
    if years is None:
        return pop.copy()
    grid = _grid(years)
    return grid.merge(pop, on=["kommunekode", "year"], how="left")


def unit_reference() -> pd.DataFrame:
    """The 97 library units with the attributes of the serving kommune (Esbjerg's for 561).

    Columns: kommunekode, navn ("Esbjerg (incl. Fanø)" for 561), unit_members, regionsnavn,
    kommunegruppe, kommunegruppe_navn, merged_2007.
    """
    m = reference.load_municipalities()[
        ["kommunekode", "navn", "regionsnavn", "kommunegruppe", "kommunegruppe_navn", "merged_2007"]
    ]
    names = m.set_index("kommunekode")["navn"]
    u = to_library_units(m)
    served = {s: [k for k, t in SERVED_BY.items() if t == s] for s in set(SERVED_BY.values())}
    u["navn"] = [
        f"{n} (incl. {', '.join(names[k] for k in served[c])})" if c in served else n
        for c, n in zip(u["kommunekode"], u["navn"], strict=False)
    ]
    u["navn"] = u["navn"].astype(str)
    if len(u) != N_UNITS:
        raise DataError(paths.reference(), f"expected {N_UNITS} library units, got {len(u)}")
    return u[
        ["kommunekode", "navn", "unit_members", "regionsnavn", "kommunegruppe", "kommunegruppe_navn", "merged_2007"]
    ]


def unit_codes() -> list[int]:
    return unit_reference()["kommunekode"].tolist()


def _grid(years: Iterable[int]) -> pd.DataFrame:
    years = _check_years(years)
    codes = unit_codes()
    return pd.DataFrame([(k, y) for k in codes for y in years], columns=["kommunekode", "year"])


def _check_years(years) -> list[int]:
    years = sorted({int(y) for y in years})
    bad = [y for y in years if not 2005 <= y <= 2100]
    if not years or bad:
        raise ValueError(
            f"years must be a non-empty set of calendar years; found {bad or years}; accepted: e.g. range(2009, 2026)"
        )
    return years


# --- real loans ----------------------------------------------------------------------------
@cache
def _real_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "kommune_kode": pa.Column(int, pa.Check.in_range(101, 860)),
            "indicator_id": pa.Column(str, pa.Check.eq("library_use")),
            "aar": pa.Column(int, pa.Check.isin(list(REAL_LOANS_YEARS))),
            "vaerdi": pa.Column(float, [pa.Check.ge(0), pa.Check.le(30)]),
        },
        strict=True,
        unique=["kommune_kode", "aar"],
    )


@cache
def _national_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "indicator_id": pa.Column(str, pa.Check.eq("library_use")),
            "aar": pa.Column(int, pa.Check.isin(list(REAL_LOANS_YEARS)), unique=True),
            "vaerdi": pa.Column(float, [pa.Check.gt(0), pa.Check.le(30)]),
        },
        strict=True,
    )


def _raw_file(name: str) -> Path:
    return provenance.raw_file(
        paths.usage_raw() / name,
        "usage file is missing; see data/raw/usage/MANIFEST.yaml (synthetic examples: `borgerservice examples`)",
    )


def _read_csv(f: Path, schema: pa.DataFrameSchema, numeric: dict[str, str]) -> pd.DataFrame:
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    problems = []
    for col, kind in numeric.items():
        if col not in df:
            continue
        conv = pd.to_numeric(df[col].str.strip(), errors="coerce")
        for i in np.flatnonzero(conv.isna().to_numpy()):
            problems.append(Problem("not a number", row=int(i) + 2, column=col, value=df[col].iloc[i]))
        if kind == "int":
            frac = conv.notna() & (conv != conv.round())
            for i in np.flatnonzero(frac.to_numpy()):
                problems.append(Problem("not a whole number", row=int(i) + 2, column=col, value=df[col].iloc[i]))
        df[col] = conv
    if problems:
        raise DataError(f, problems)
    for col, kind in numeric.items():
        if col in df:
            df[col] = df[col].astype(int if kind == "int" else float)
    return validate(df, schema, f, row_offset=2)


@lru_cache(maxsize=4)
def _real_kommune(path: str, stamp: tuple[int, int] = (0, 0)) -> pd.DataFrame:
    """Read and check the real file once per (path, mtime, size)."""
    f = Path(path)
    df = _read_csv(f, _real_schema(), {"kommune_kode": "int", "aar": "int", "vaerdi": "float"})
    problems = []
    codes = set(df["kommune_kode"])
    known = set(reference.load_municipalities()["kommunekode"])
    for k in sorted(codes - known):
        problems.append(Problem("unknown kommunekode", column="kommune_kode", value=k))
    if FANOE in codes:
        problems.append(
            Problem(
                "Fanø has a row; the package assumes its loans are reported under Esbjerg (561)",
                column="kommune_kode",
                value=FANOE,
            )
        )
    if len(codes) != N_UNITS:
        problems.append(Problem(f"expected {N_UNITS} kommuner (all but Fanø)", column="kommune_kode", value=len(codes)))
    values = df.set_index(["kommune_kode", "aar"])["vaerdi"]
    for flag in QUALITY_FLAGS:
        found = values.get((flag.kommunekode, flag.year))
        if found is None or abs(found - flag.value) > 0.005:
            problems.append(
                Problem(
                    f"QUALITY_FLAGS in helpers/data/usage.py lists {flag.kommunekode}/{flag.year} = {flag.value}; "
                    "update the flag",
                    column="vaerdi",
                    value=found,
                )
            )
    if problems:
        raise DataError(f, problems)
    return df


def load_real_loans_per_capita() -> pd.DataFrame:
    """The real per-kommune file, validated, as kommunekode, year, loans_per_capita (97 kommuner, no Fanø)."""
    f = _raw_file(REAL_KOMMUNE_FILE)
    st = f.stat()
    df = _real_kommune(str(f), (st.st_mtime_ns, st.st_size))
    return pd.DataFrame({"kommunekode": df["kommune_kode"], "year": df["aar"], "loans_per_capita": df["vaerdi"]})


def load_real_national() -> pd.DataFrame:
    """The real national (DST 000) loans per inhabitant, 2010-2025 without 2016-2017: year, loans_per_capita."""
    f = _raw_file(REAL_NATIONAL_FILE)
    df = _read_csv(f, _national_schema(), {"aar": "int", "vaerdi": "float"})
    return pd.DataFrame({"year": df["aar"], "loans_per_capita": df["vaerdi"]})


def real_loans() -> pd.DataFrame:
    """Real loans per library unit and year (years in the file only).

    Columns: kommunekode (unit), year, population (unit, NaN after 2023), loans (count =
    per capita x the kommune's own population, NaN after 2023), loans_per_1000 (per 1,000 of
    the unit's population; for units other than Esbjerg this is the source value x 1,000 also
    when the count is missing), outlier, quality_flag, quality_note.
    """
    pc = load_real_loans_per_capita()
    own = reference.load_population()
    own = own[own["area_level"] == "kommune"].rename(columns={"area_code": "kommunekode"})[
        ["kommunekode", "year", "population"]
    ]
    k = pc.merge(own, on=["kommunekode", "year"], how="left")
    k["loans"] = k["loans_per_capita"] * k["population"]
    u = to_library_units(k[["kommunekode", "year", "loans", "loans_per_capita"]], ["loans"])
    u = u.merge(_unit_population(), on=["kommunekode", "year"], how="left")
    u["loans_per_1000"] = u["loans"] / u["population"] * 1000
    # without a population the unit rate is the source's own rate, except where the unit has members
    single = u["unit_members"] == u["kommunekode"].astype(str)
    fill = u["loans_per_1000"].isna() & single
    u.loc[fill, "loans_per_1000"] = u.loc[fill, "loans_per_capita"] * 1000
    flags = quality_flags().rename(columns={"kind": "quality_flag", "note": "quality_note"})
    u = u.merge(flags[["kommunekode", "year", "quality_flag", "quality_note"]], on=["kommunekode", "year"], how="left")
    u["outlier"] = u["quality_flag"].notna()
    return u[
        ["kommunekode", "year", "population", "loans", "loans_per_1000", "outlier", "quality_flag", "quality_note"]
    ]


def national_real_loans() -> pd.DataFrame:
    """Per year: the national per-capita value (file), the implied national loans (sum of units) and population.

    Columns: year, loans_per_capita (national file), loans (sum over units, NaN after 2023),
    population (whole country incl. Christiansø, NaN after 2023), loans_per_capita_implied.
    """
    nat = load_real_national()
    units = real_loans().groupby("year")["loans"].sum(min_count=97)
    pop = reference.load_population()
    country = pop[pop["area_level"] == "country"].set_index("year")["population"].astype(float)
    nat["loans"] = nat["year"].map(units)
    nat["population"] = nat["year"].map(country)
    nat["loans_per_capita_implied"] = nat["loans"] / nat["population"]
    return nat


# --- synthetic example panel and its truth -----------------------------------------------
@cache
def _example_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "kommunekode": pa.Column(int, pa.Check.in_range(101, 860)),
            "year": pa.Column(int, pa.Check.in_range(2009, 2015)),
            "loans": pa.Column(int, pa.Check.ge(0)),
            "visits": pa.Column(int, pa.Check.ge(0)),
            "downloads": pa.Column(int, pa.Check.ge(0)),
            "service_points": pa.Column(int, pa.Check.ge(1)),
            "expenditure": pa.Column(int, pa.Check.ge(0)),
        },
        strict=True,
        unique=["kommunekode", "year"],
    )


def load_synthetic() -> pd.DataFrame:
    """The synthetic example panel (97 units x 2009-2015), validated. SYNTHETIC: not real data."""
    f = _raw_file(EXAMPLE_FILE)
    schema = _example_schema()
    df = _read_csv(f, schema, {c: "int" for c in schema.columns})
    missing = sorted(set(unit_codes()) - set(df["kommunekode"]))
    extra = sorted(set(df["kommunekode"]) - set(unit_codes()))
    if missing or extra:
        raise DataError(
            f,
            [Problem("unit missing", column="kommunekode", value=k) for k in missing]
            + [
                Problem("not a library unit (Fanø is inside Esbjerg 561)", column="kommunekode", value=k) for k in extra
            ],
        )
    return df


def load_truth() -> dict:
    """The ground truth of the synthetic example panel (``example_truth.yaml``).

    Keys: ``rate_ratios`` ({outcome: {model: rate ratio relative to model 5}}), ``round_for_year``
    ({usage year: survey round}), ``model_column``, ``dispersion`` ({outcome: {alpha, ...}}),
    ``seed``, ``national_totals`` and the documented assumptions.
    """
    f = _raw_file(TRUTH_FILE)
    doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
    if "rate_ratios" not in doc or "round_for_year" not in doc:
        raise DataError(
            f,
            "truth file lacks rate_ratios or round_for_year; regenerate it with "
            "helpers.data.synthetic.usage.write_examples()",
        )
    doc["rate_ratios"] = {o: {int(m): float(r) for m, r in rr.items()} for o, rr in doc["rate_ratios"].items()}
    doc["round_for_year"] = {int(y): int(r) for y, r in doc["round_for_year"].items()}
    return doc


def truth_rate_ratios() -> pd.DataFrame:
    """The true rate ratios as a table: outcome, model, rate_ratio (model 5 = 1)."""
    rr = load_truth()["rate_ratios"]
    return pd.DataFrame(
        [(o, m, r) for o, d in rr.items() for m, r in sorted(d.items())], columns=["outcome", "model", "rate_ratio"]
    )


# --- statbank cache --------------------------------------------------------------------------
def _statbank_outcome(outcome: str) -> pd.DataFrame:
    from helpers.data import statbank  # written separately; imported only when the statbank source is asked for

    cache = statbank.cached_usage()
    need = {"kommunekode", "year", "measure", "value"}
    if not need <= set(cache.columns):
        raise DataError("statbank cache", f"cached_usage() lacks columns {sorted(need - set(cache.columns))}")
    measure = STATBANK_MEASURES[outcome]
    part = cache[cache["measure"] == measure]
    if part.empty:
        raise DataError(
            "statbank cache",
            Problem(
                f"no rows for measure {measure!r} (needed for {outcome})",
                column="measure",
                accepted=", ".join(sorted(cache["measure"].astype(str).unique())),
            ),
        )
    part = part[["kommunekode", "year", "value"]].astype({"kommunekode": int, "year": int, "value": float})
    if part.duplicated(["kommunekode", "year"]).any():
        dup = part[part.duplicated(["kommunekode", "year"], keep=False)]
        raise DataError(
            "statbank cache",
            Problem(f"duplicate {measure} rows", column="kommunekode", value=dup.head(5).to_dict("records")),
        )
    return to_library_units(part, ["value"]).drop(columns="unit_members").rename(columns={"value": outcome})


# --- the panel -------------------------------------------------------------------------------
def panel_outcomes(panel: pd.DataFrame) -> tuple[UsageOutcome, ...]:
    """The outcomes a panel holds: all of :data:`OUTCOMES`, or those from real sources in a real-only panel."""
    return tuple(o for o in OUTCOMES if f"{o}_source" in panel.columns)


def _panel_schema(outcomes: Iterable[str] = OUTCOMES) -> pa.DataFrameSchema:
    cols = {
        "kommunekode": pa.Column(int, pa.Check.isin(unit_codes())),
        "year": pa.Column(int, pa.Check.in_range(2005, 2100)),
        "navn": pa.Column(str),
        "unit_members": pa.Column(str),
        "regionsnavn": pa.Column(str, pa.Check.isin(reference.REGION_ORDER)),
        "kommunegruppe": pa.Column(int, pa.Check.isin(list(reference.KOMMUNEGRUPPER))),
        "kommunegruppe_navn": pa.Column(str),
        "merged_2007": pa.Column(bool),
        "population": pa.Column(float, pa.Check.gt(0), nullable=True),
        "population_source": pa.Column(str),
    }
    for o in outcomes:
        cols[o] = pa.Column(float, pa.Check.ge(0), nullable=True)
        cols[f"{o}_per_1000"] = pa.Column(float, pa.Check.ge(0), nullable=True)
        cols[f"{o}_source"] = pa.Column(str, pa.Check.isin(list(SOURCE_LABELS.values())))
        cols[f"{o}_synthetic"] = pa.Column(bool)
    cols["outlier"] = pa.Column(bool)
    cols["quality_flag"] = pa.Column(str, pa.Check.isin(list(choices(QualityFlagKind))), nullable=True)
    cols["notes"] = pa.Column(str, nullable=True)
    return pa.DataFrameSchema(cols, strict=True, ordered=True, unique=["kommunekode", "year"])


def _check_sources(sources: dict | None) -> dict[UsageOutcome, UsageSource]:
    out = dict(DEFAULT_SOURCES)
    for outcome, src in (sources or {}).items():
        check_choice("outcome", outcome, UsageOutcome)
        out[outcome] = check_choice(f"{outcome} source", src, SOURCE_CHOICES[outcome])
    return out


def _outcome(outcome: str, source: str) -> tuple[pd.DataFrame, bool]:
    """Counts (and, for real loans, rates and flags) of one outcome from one source, and its synthetic flag."""
    if source == "real":
        return real_loans().drop(columns="population"), provenance.is_synthetic(_raw_file(REAL_KOMMUNE_FILE))
    if source == "synthetic":
        df = load_synthetic()[["kommunekode", "year", outcome]].astype({outcome: float})
        return df, provenance.is_synthetic(_raw_file(EXAMPLE_FILE))
    return _statbank_outcome(outcome), False


def _source_is_synthetic(source: str) -> bool:
    """Whether a source's file is synthetic, from the data manifest (the file itself is not read)."""
    if source == "statbank":
        return False
    name = REAL_KOMMUNE_FILE if source == "real" else EXAMPLE_FILE
    return provenance.is_synthetic(paths.usage_raw() / name)


def real_sources(sources: dict | None = None) -> dict[UsageOutcome, UsageSource]:
    """``sources`` (with the defaults) without the outcomes whose source is synthetic: a real-only panel's."""
    return {o: s for o, s in _check_sources(sources).items() if not _source_is_synthetic(s)}


def build_panel(
    sources: dict | None = None, years: Iterable[int] = DEFAULT_YEARS, *, real_only: bool = False
) -> pd.DataFrame:
    """One validated row per library unit (97) and year: population, counts, rates and their source.

    ``sources`` maps an outcome to its source (see :data:`SOURCE_CHOICES`); outcomes not named
    use :data:`DEFAULT_SOURCES` (real loans, synthetic rest). For each outcome the panel has
    ``<outcome>`` (count, float, NaN where the source has no value), ``<outcome>_per_1000``
    (per 1,000 inhabitants of the unit), ``<outcome>_source`` and ``<outcome>_synthetic``.
    ``outlier``/``quality_flag`` mark the real loans values listed in :data:`QUALITY_FLAGS`
    (always False when loans come from another source); ``notes`` explains gaps per row.
    ``real_only`` leaves out every outcome whose source is synthetic (its file is then not read):
    the panel holds real data only (:func:`panel_outcomes` names the outcomes it holds).
    """
    sources = real_sources(sources) if real_only else _check_sources(sources)
    years = _check_years(years)
    panel = _grid(years).merge(unit_reference(), on="kommunekode", how="left", validate="many_to_one")
    panel = panel.merge(_unit_population(), on=["kommunekode", "year"], how="left", validate="one_to_one")
    panel["population_source"] = POPULATION_SOURCE
    notes: list[list[str]] = [[] for _ in range(len(panel))]
    esbjerg = (panel["kommunekode"] == ESBJERG).to_numpy()
    for i in np.flatnonzero(esbjerg):
        notes[i].append("unit 561 = Esbjerg + Fanø (563), which has no library system of its own")
    for i in np.flatnonzero(panel["population"].isna().to_numpy()):
        notes[i].append(NO_POPULATION_NOTE)
    gaps: list[dict[str, list[str]]] = [{} for _ in range(len(panel))]
    for outcome in (o for o in OUTCOMES if o in sources):
        src = sources[outcome]
        df, synthetic = _outcome(outcome, src)
        df = df[df["year"].isin(years)]
        panel = panel.merge(df, on=["kommunekode", "year"], how="left", validate="one_to_one")
        if f"{outcome}_per_1000" not in panel:
            panel[f"{outcome}_per_1000"] = panel[outcome] / panel["population"] * 1000
        panel[f"{outcome}_source"] = SOURCE_LABELS[src]
        panel[f"{outcome}_synthetic"] = bool(synthetic)
        missing = panel[outcome].isna() & panel[f"{outcome}_per_1000"].isna()
        for i in np.flatnonzero(missing.to_numpy()):
            y = int(panel["year"].iat[i])
            why = (
                REAL_LOANS_GAPS.get(y, "not in the file") if src == "real" else "no value in this source for this year"
            )
            gaps[i].setdefault(f"({src}): {why}", []).append(outcome)
        if src == "real":
            panel["outlier"] = panel["outlier"].astype("boolean").fillna(False).astype(bool)
            note = panel.pop("quality_note")
            for i in np.flatnonzero(note.notna().to_numpy()):
                notes[i].append(f"loans flagged ({panel['quality_flag'].iat[i]}): {note.iat[i]}")
    for i, by_reason in enumerate(gaps):
        notes[i].extend(f"{', '.join(outs)} {reason}" for reason, outs in by_reason.items())
    if "outlier" not in panel:  # loans not from the real file: no flags apply
        panel["outlier"] = False
        panel["quality_flag"] = pd.Series(pd.NA, index=panel.index, dtype="str")
    panel["quality_flag"] = panel["quality_flag"].astype("str")
    panel["notes"] = pd.Series(["; ".join(n) if n else pd.NA for n in notes], index=panel.index, dtype="str")
    order = [
        "kommunekode",
        "year",
        "navn",
        "unit_members",
        "regionsnavn",
        "kommunegruppe",
        "kommunegruppe_navn",
        "merged_2007",
        "population",
        "population_source",
    ]
    for o in (o for o in OUTCOMES if o in sources):
        order += [o, f"{o}_per_1000", f"{o}_source", f"{o}_synthetic"]
    order += ["outlier", "quality_flag", "notes"]
    panel = panel[order].sort_values(["kommunekode", "year"]).reset_index(drop=True)
    return validate_panel(panel, file=paths.processed() / PANEL_FILE)


def validate_panel(panel: pd.DataFrame, file=None) -> pd.DataFrame:
    """Validate a usage panel; errors name the file, the row as ``kommunekode K year Y`` and the column."""
    labelled = panel.copy()
    if {"kommunekode", "year"} <= set(panel.columns):
        labelled.index = [
            f"kommunekode {k} year {y}" for k, y in zip(panel["kommunekode"], panel["year"], strict=False)
        ]
    validate(labelled, _panel_schema(panel_outcomes(panel)), file or "usage panel")
    return panel


def panel_is_synthetic(panel: pd.DataFrame) -> bool:
    """True when any outcome of the panel comes from synthetic data."""
    return bool(any(panel[f"{o}_synthetic"].any() for o in OUTCOMES if f"{o}_synthetic" in panel))


def write_panel(
    sources: dict | None = None,
    years: Iterable[int] = DEFAULT_YEARS,
    target: Path | None = None,
    panel: pd.DataFrame | None = None,
) -> Path:
    """Write the panel atomically to ``paths.processed()/usage_panel.parquet`` (or ``target``).

    Builds it from ``sources`` and ``years`` unless an already built ``panel`` is given (validated again).
    """
    target = Path(target) if target is not None else paths.processed() / PANEL_FILE
    panel = build_panel(sources, years) if panel is None else validate_panel(panel, file=target)
    panel = panel.copy()
    # the raw files the panel was built from (this process's reads so far), for the runs that read the panel
    panel.attrs = {**panel.attrs, "raw_inputs": [rel for rel, _ in provenance.read_files()]}
    return files.write_parquet(target, panel)


def sources_synthetic(sources: dict | None = None, *, real_only: bool = False) -> bool:
    """Whether a panel built from ``sources`` (and ``real_only``) contains synthetic data (from the manifest)."""
    chosen = real_sources(sources) if real_only else _check_sources(sources)
    return any(_source_is_synthetic(src) for src in set(chosen.values()))


def source_summary(panel: pd.DataFrame) -> pd.DataFrame:
    """Per outcome: its source, whether synthetic, the years with values and the number of unit-years with a count."""
    rows = []
    for o in panel_outcomes(panel):
        has = panel[o].notna() | panel[f"{o}_per_1000"].notna()
        yrs = sorted(panel.loc[has, "year"].unique().tolist())
        rows.append(
            {
                "outcome": o,
                "definition": OUTCOME_UNITS[o],
                "source": panel[f"{o}_source"].iat[0],
                "synthetic": bool(panel[f"{o}_synthetic"].any()),
                "years": _span(yrs),
                "unit_years_with_count": int(panel[o].notna().sum()),
                "unit_years_with_rate": int(has.sum()),
            }
        )
    return pd.DataFrame(rows).set_index("outcome")


def _span(years: list[int]) -> str:
    """[2010, 2011, 2012, 2015] -> "2010-2012, 2015"."""
    parts, start = [], None
    for i, y in enumerate(years):
        if start is None:
            start = y
        if i + 1 == len(years) or years[i + 1] != y + 1:
            parts.append(str(start) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(parts) or "none"


def read_panel(path: Path | None = None) -> pd.DataFrame:
    """Read a written panel back and validate it."""
    path = Path(path) if path is not None else paths.find_processed(PANEL_FILE)
    if not path.is_file():
        raise DataError(
            path, "usage panel not built yet; run notebooks/01_usage_panel.ipynb or helpers.data.usage.write_panel()"
        )
    panel = pd.read_parquet(path)
    for rel in (panel.attrs or {}).get("raw_inputs") or []:  # what the panel was built from: read through it
        provenance.note_read(rel)
    return validate_panel(panel, file=path)


def panel_national_totals(panel: pd.DataFrame) -> pd.DataFrame:
    """National sums of each outcome per year (only where all 97 units have a value) with the source."""
    rows = {}
    for o in panel_outcomes(panel):
        rows[o] = panel.groupby("year")[o].sum(min_count=N_UNITS)
    out = pd.DataFrame(rows)
    out["population"] = panel.groupby("year")["population"].sum(min_count=N_UNITS)
    return out


# --- the real loans, for figures ----------------------------------------------------------
# the publisher, not the intermediary (PROVENANCE.md)
REAL_SOURCE_NOTE = "Source: Statistics Denmark, Statistikbanken (BIB1, BIB3A; population FOLK1A)"


def loans_change(year_a: int = 2010, year_b: int = 2019) -> pd.DataFrame:
    """Per library unit: real loans per 1,000 in two years and the change in per cent; flagged endpoints marked."""
    r = real_loans().set_index(["kommunekode", "year"])
    codes = unit_codes()
    out = pd.DataFrame({"kommunekode": codes})
    for tag, y in (("a", year_a), ("b", year_b)):
        check_choice("real loans year", y, REAL_LOANS_YEARS)
        out[f"per_1000_{tag}"] = [r["loans_per_1000"].get((k, y), np.nan) for k in codes]
        out[f"flag_{tag}"] = [bool(r["outlier"].get((k, y), False)) for k in codes]
    out["change_pct"] = (out["per_1000_b"] / out["per_1000_a"] - 1) * 100
    out["flagged"] = out["flag_a"] | out["flag_b"]
    return out


def key_results(panel: pd.DataFrame, change_year_a: int = 2010, change_year_b: int = 2019) -> UsageResults:
    """The key results of notebook 01_usage_panel (:class:`~helpers.results.usage.UsageResults`): the panel
    built (its size, sources, synthetic outcomes and flagged unit-years), the real national loans in
    millions per year (2 decimals) and the median kommune's change in real loans per inhabitant from
    ``change_year_a`` to ``change_year_b`` (per cent, 1 decimal; flagged values left out, as on the map)."""
    national = national_real_loans().set_index("year")["loans"].dropna()
    change = loans_change(change_year_a, change_year_b)
    return UsageResults(
        rows=len(panel),
        units=int(panel["kommunekode"].nunique()),
        sources={o: str(panel[f"{o}_source"].iat[0]) for o in panel_outcomes(panel)},
        synthetic_outcomes=tuple(o for o in panel_outcomes(panel) if panel[f"{o}_synthetic"].any()),
        flagged_unit_years=int(panel["outlier"].sum()),
        real_national_loans_million={int(y): round(v / 1e6, 2) for y, v in national.items()},
        change_year_a=int(change_year_a),
        change_year_b=int(change_year_b),
        real_median_change_pct=round(float(change.loc[~change["flagged"], "change_pct"].median()), 1),
    )
