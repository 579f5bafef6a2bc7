"""Analysis files for every tool: each cleaned round, the usage panel and one merged file.

Notebook ``05_export_data`` in the pipeline writes ``data/processed/05_export_data/exports/`` (its
run's own folder, helpers.core.paths), and ``borgerservice export`` ``data/processed/scratch/exports/``
(work outside the pipeline never replaces the pipeline's files), with, for each table,

* ``<stem>.csv``: plain UTF-8, comma-separated, decimal point (R, Python, Stata ``import delimited``);
* ``<stem>_excel.csv``: UTF-8 **with BOM**, semicolon-separated, decimal comma: what Excel with
  Danish regional settings opens by double-click; text cells starting with = + - @ get a leading '
  so Excel shows them as text instead of running them as formulas (the other formats keep the value);
* ``<stem>.dta`` (Stata 14+, format 118 via pyreadstat) and ``<stem>.sav`` (SPSS) with variable
  labels, value labels (e.g. ``model`` 1 = "Den spæde start") and the file label;
* ``<stem>.parquet`` with the labels in ``attrs`` (pandas keeps them in the file's metadata).

The tables are ``survey_<year>`` (one per round in ``config/pipeline.yaml``), ``usage_panel`` and
``analysis`` (kommune x round with the paired usage year, the controls and every coding of
cooperation). Every format holds the **same values**: categories are integer codes with value
labels, yes/no items are 1/0, missing is empty (CSV), ``.`` (Stata), system-missing (SPSS) or
null (parquet). Synthetic data keep their marks: ``_synthetic`` in the file names, a
``synthetic`` variable and "SYNTHETIC EXAMPLE DATA" in the file label.

Variables are described once, in :mod:`helpers.outputs.variables` (label, kind, value-label set,
missing-value rule, and the value labels from the codebooks); :mod:`helpers.outputs.dictionary`
builds the data dictionary from the same description, and :func:`write_exports` writes it beside
the files. pyreadstat (ReadStat) writes the Stata and
SPSS files: it is the maintained writer that sets value labels in both formats.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.core import cooperation, files, paths
from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.core.errors import DataError, Problem
from helpers.core.vocabulary import check_choice
from helpers.data import reference, usage
from helpers.outputs import dictionary
from helpers.outputs.reports import SYNTHETIC_MARK
from helpers.outputs.variables import (
    ANALYSIS_VARIABLES,
    PANEL_VARIABLES,
    SURVEY_VARIABLES,
    TASKS,
    TREATMENTS,
    RawSource,
    Sources,
    Variable,
    VariableProvenance,
    canonical_codes,
    codebooks,
    config_rounds,
    kommune_year_variables,
    loans_labelled,
    outcome_columns,
    resolve,
    treatment_suffix,
    value_label_sets,
)
from helpers.results.exports import ExportedTable, ExportResults

FOLDER = "exports"
FORMATS = ("csv", "excel.csv", "dta", "sav", "parquet")
STATA_LABEL_MAX = 80  # Stata's limit for variable and file labels
SPSS_FILE_LABEL_MAX = 64  # bytes; SPSS cuts longer file labels
FILE_LABEL_MARK = "SYNTHETIC EXAMPLE DATA"  # starts the file label of every synthetic export
MANIFEST_FILE = "exports_manifest.json"
SPSS_NOTE_BYTES = 80  # an SPSS document line holds at most 80 bytes
PROVENANCE_NOTE = (
    "Provenance of each variable (real, synthetic, or derived: computed by the package from the variables "
    "named): see the lines below and docs/data_dictionary.md."
)


def folder() -> Path:
    """Where the exports go: ``exports/`` in this run's processed folder (``paths.processed()``)."""
    return paths.processed() / FOLDER


# --------------------------------------------------------------------------------------------
# Encoding a table: the same values for every format
# --------------------------------------------------------------------------------------------


@dataclass
class Table:
    """One export: its name, title, encoded frame and variables, and where each variable comes from.

    ``provenance``: each variable's provenance in this export (:func:`helpers.outputs.variables.resolve`);
    ``notes``: the dataset's notes (the sources of the file), written before the variables' notes.
    The file name and file label say "synthetic" exactly when a variable holds synthetic values.
    """

    name: str
    title: str
    frame: pd.DataFrame
    variables: tuple[Variable, ...]
    provenance: dict[str, VariableProvenance]
    value_labels: dict[str, dict[int, str]] = field(default_factory=dict)  # variable -> code -> label
    notes: tuple[str, ...] = ()

    @property
    def synthetic(self) -> bool:
        """Whether any variable of the table holds synthetic values."""
        return any(p.synthetic for p in self.provenance.values())

    @property
    def synthetic_variables(self) -> tuple[str, ...]:
        """The variables read from synthetic input (not those derived from them)."""
        return tuple(v.name for v in self.variables if self.provenance[v.name].provenance == "synthetic")

    @property
    def stem(self) -> str:
        """The file name without extension: the name, with ``_synthetic`` when the table is synthetic."""
        return _stem(self.name, self.synthetic)

    @property
    def file_label(self) -> str:
        text = f"{FILE_LABEL_MARK}: {self.title}" if self.synthetic else self.title
        return _short(text, SPSS_FILE_LABEL_MAX, size=lambda t: len(t.encode()))

    @property
    def variable_labels(self) -> dict[str, str]:
        return {v.name: _short(v.label) for v in self.variables}

    @property
    def file_notes(self) -> list[str]:
        """The dataset's notes: the synthetic mark (if any), the sources, then one line per variable."""
        head = [SYNTHETIC_MARK] if self.synthetic else ["Real data only: no variable holds synthetic values."]
        return [*head, *self.notes, PROVENANCE_NOTE, *(f"{n}: {p.note}" for n, p in self.provenance.items())]


def _short(text: str, limit: int = STATA_LABEL_MAX, *, size=len) -> str:
    """``text`` if its ``size`` (characters; for SPSS's file label, UTF-8 bytes) is within ``limit``; otherwise cut
    at the last word boundary that leaves room for "…" (never inside a word or a multi-byte letter; a first word
    longer than the limit is cut where it must be)."""
    if size(text) <= limit:
        return text
    room = limit - size("…")
    words = text.split(" ")
    kept = ""
    for i in range(len(words), 0, -1):
        candidate = " ".join(words[:i]).rstrip(" ,;:-")
        if candidate and size(candidate) <= room:
            kept = candidate
            break
    while not kept and text and size(text) > room:  # one word longer than the limit: cut it by characters
        text = text[:-1]
        kept = text if size(text) <= room else ""
    return kept + "…"


def _encode(df: pd.DataFrame, variables: Sequence[Variable], where: str) -> pd.DataFrame:
    """The frame with exactly ``variables``, in order: codes as Int64, yes/no as 0/1, strings, datetimes."""
    codes = canonical_codes()
    missing = [v.name for v in variables if v.name not in df.columns]
    if missing:
        raise DataError(
            where,
            Problem(
                "columns missing for the export",
                value=missing,
                accepted="the columns of helpers.outputs.variables.TABLES (rebuild the processed data)",
            ),
        )
    out = pd.DataFrame(index=df.index)
    for v in variables:
        s = df[v.name]
        if v.kind == "yesno":
            out[v.name] = pd.array(s.astype("boolean"), dtype="boolean").astype("Int64")
        elif v.kind == "code" and v.labels in codes:
            mapping = codes[v.labels]
            text = s.astype("object")
            bad = sorted({str(x) for x in text.dropna() if x not in mapping})
            if bad:
                raise DataError(
                    where, Problem("value without a code", column=v.name, value=bad, accepted=", ".join(mapping))
                )
            out[v.name] = pd.array(
                [mapping[x] if x is not None and not pd.isna(x) else pd.NA for x in text], dtype="Int64"
            )
        elif v.kind in ("code", "integer"):
            num = _numeric(s, v.name, where)
            if (num.dropna() != num.dropna().round()).any():
                raise DataError(
                    where,
                    Problem(
                        "not a whole number", column=v.name, value=num[num != num.round()].dropna().head(3).tolist()
                    ),
                )
            out[v.name] = num.astype("Int64")
        elif v.kind == "float":
            out[v.name] = _numeric(s, v.name, where)
        elif v.kind == "datetime":
            out[v.name] = pd.to_datetime(s).astype("datetime64[us]")
        else:
            out[v.name] = pd.Series(
                [None if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x) for x in s],
                index=df.index,
                dtype="object",
            )
    return out.reset_index(drop=True)


def _numeric(s: pd.Series, column: str, where: str) -> pd.Series:
    """A column as float64 (missing = NaN), whatever its dtype (Int64, boolean, object with None)."""
    try:
        return pd.to_numeric(s.astype("object").where(s.notna(), None), errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError(where, Problem(f"not a number ({exc})", column=column)) from None


def _labels_for(variables: Sequence[Variable], sets: dict[str, dict[int, str]]) -> dict[str, dict[int, str]]:
    return {v.name: sets[v.labels] for v in variables if v.labels}


def _table(name: str, title: str, df: pd.DataFrame, described, sets: dict, sources: Sources, rounds, notes=()):
    """An export table: ``df`` encoded for ``described``, with each variable's provenance from ``sources``
    (and the label of ``loans`` saying how its count was made, from its source)."""
    loans = sources.usage.get("loans")
    described = loans_labelled(tuple(described), loans is None or loans.label == usage.SOURCE_LABELS["real"])
    return Table(
        name,
        title,
        _encode(df, described, name),
        described,
        resolve(described, sources, rounds),
        _labels_for(described, sets),
        tuple(notes),
    )


def _round_notes(sources: Sources, rounds: Iterable[int]) -> list[str]:
    return [
        f"Survey round {y}: {sources.survey[y].label} ({'synthetic' if sources.survey[y].synthetic else 'real'})"
        for y in sorted(rounds)
    ]


def _usage_notes(sources: Sources, outcomes: Iterable[str]) -> list[str]:
    return [f"Usage {o}: {sources.usage[o].label}" for o in outcomes]


def _rounds_table(
    name: str,
    title: str,
    df: pd.DataFrame,
    described,
    rounds: dict[int, pd.DataFrame],
    panel: pd.DataFrame,
    outcomes: Iterable[str],
    sets: dict,
    sources: Sources | None,
) -> Table:
    """An export table made from the survey ``rounds`` and the usage ``panel`` (the analysis file, the kommune x
    year panel): noted with each round's source and each of ``outcomes``' (``sources``, by default read from both)."""
    sources = sources or _sources(rounds, panel)
    notes = [*_round_notes(sources, rounds), *_usage_notes(sources, outcomes)]
    return _table(name, title, df, described, sets, sources, sorted(rounds), notes)


def survey_table(year: int, df: pd.DataFrame, sets: dict, sources: Sources | None = None) -> Table:
    """A cleaned round (helpers.data.survey.load_clean) as an export table."""
    sources = sources or Sources(survey={int(year): survey_source(df)})
    frame = df.copy()
    frame["model"] = frame["model"].astype(int)
    return _table(
        f"survey_{year}",
        f"borgerservice survey {year}, cleaned",
        frame,
        SURVEY_VARIABLES,
        sets,
        sources,
        [int(year)],
        _round_notes(sources, [int(year)]),
    )


def survey_source(df: pd.DataFrame) -> RawSource:
    """Where a cleaned round comes from: its export (``attrs["source"]``, data/raw/survey/...) and synthetic flag."""
    return RawSource(str((df.attrs or {}).get("source") or "the round's export"), bool(df["synthetic"].any()))


def usage_sources(panel: pd.DataFrame) -> dict[str, RawSource]:
    """Each outcome's source in the panel (its ``<outcome>_source`` label) and whether it is synthetic."""
    return {
        o: RawSource(str(panel[f"{o}_source"].iat[0]), bool(panel[f"{o}_synthetic"].any()))
        for o in usage.panel_outcomes(panel)
    }


def _sources(rounds: dict[int, pd.DataFrame], panel: pd.DataFrame) -> Sources:
    """The sources of cleaned ``rounds`` and of the usage ``panel``."""
    return Sources({int(y): survey_source(s) for y, s in rounds.items()}, usage_sources(panel))


def without_synthetic_outcomes(panel: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The panel without the columns of its synthetic outcomes (real-only exports), and the outcomes left out."""
    dropped = tuple(o for o, s in usage_sources(panel).items() if s.synthetic)
    return panel.drop(columns=[c for o in dropped for c in outcome_columns(o)]), dropped


def _held(described: Sequence[Variable], outcomes: Iterable[str]) -> tuple[Variable, ...]:
    """``described`` without the columns of usage outcomes not in ``outcomes``."""
    gone = {c for o in usage.OUTCOMES if o not in set(outcomes) for c in outcome_columns(o)}
    return tuple(v for v in described if v.name not in gone)


def panel_table(panel: pd.DataFrame, sets: dict, sources: Sources | None = None) -> Table:
    """The usage panel (helpers.data.usage.read_panel) as an export table."""
    outcomes = usage.panel_outcomes(panel)
    sources = sources or Sources(usage=usage_sources(panel))
    years = f"{int(panel['year'].min())}-{int(panel['year'].max())}"
    return _table(
        "usage_panel",
        f"library usage per unit and year {years}",
        panel,
        _held(PANEL_VARIABLES, outcomes),
        sets,
        sources,
        [],
        _usage_notes(sources, outcomes),
    )


def analysis_frame(
    rounds: dict[int, pd.DataFrame], panel: pd.DataFrame, usage_year_offset: int = 1, ordering=DEFAULT_ORDERING
) -> pd.DataFrame:
    """Kommune x round: every one of the 98 kommuner in every round, with the paired usage year.

    Survey answers and every coding of cooperation (``model``, ``model_level``, ``score``,
    ``score_swap23``, ``cooperating``) come from the round; usage of the library unit in
    ``usage_year`` = round + ``usage_year_offset`` from the panel (missing when the panel has no such
    year: a round whose usage year is still to come). Fanø (563) has no library unit of its own: its
    row names ``library_unit`` 561 and has no usage values (they are in Esbjerg's row), so sums over
    rows never count Esbjerg's use twice. The usage columns are those of the outcomes ``panel`` holds.
    """
    from helpers.analysis import models

    ordering = cooperation.parse_ordering(ordering)
    m = reference.load_municipalities()
    base = pd.DataFrame(
        {
            "kommunekode": m["kommunekode"].astype(int),
            "kommune": m["navn"].astype(str),
            "region": m["regionskode"].astype(int),
            "kommunegruppe": m["kommunegruppe"].astype(int),
            "merged_2007": m["merged_2007"].astype(bool),
            "areal_km2": m["areal_km2"].astype(float),
        }
    )
    survey_cols = [
        "answered_by_kommunekode",
        "model",
        "model_level",
        *TASKS,
        "n_it_courses",
        "digital_strategy",
        "org_change_planned",
    ]
    outcomes = usage.panel_outcomes(panel)
    usage_cols = ["population", *[c for o in outcomes for c in outcome_columns(o)], "outlier", "quality_flag"]
    parts = []
    for year, s in sorted(rounds.items()):
        s = s.copy()
        s["model"] = s["model"].astype(int)
        order = (s.attrs or {}).get("model_order")
        frame = base.merge(
            s[["kommunekode", *survey_cols, "synthetic"]], on="kommunekode", how="left", validate="one_to_one"
        )
        frame.insert(0, "round", int(year))
        frame["responded"] = frame["kommunekode"].isin(s["kommunekode"])
        frame["model_order"] = [
            cooperation.format_ordering(order or _order_of(s)) if r else None for r in frame["responded"]
        ]
        frame["score"] = models.score(frame["model"], ordering)
        frame["score_swap23"] = models.score(frame["model"], cooperation.swap(ordering))
        model = pd.to_numeric(frame["model"], errors="coerce")
        cooperating = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        cooperating[model.isin(cooperation.COOPERATING)] = True
        cooperating[model == cooperation.NO_COOPERATION] = False
        frame["cooperating"] = cooperating
        frame["usage_year"] = models.usage_year(year, usage_year_offset)
        frame["library_unit"] = frame["kommunekode"].map(lambda k: usage.SERVED_BY.get(k, k))
        year_panel = panel.loc[panel["year"] == frame["usage_year"].iat[0], ["kommunekode", *usage_cols]]
        # Only the serving kommune's own row carries the unit's usage (Fanø's use is in Esbjerg's). A usage
        # year the panel does not reach leaves the usage columns empty: the survey answers are still exported.
        frame = frame.merge(year_panel, on="kommunekode", how="left", validate="one_to_one")
        for o in outcomes:  # what the source is does not depend on the year
            frame[f"{o}_source"] = panel[f"{o}_source"].iat[0]
            frame[f"{o}_synthetic"] = bool(panel[f"{o}_synthetic"].any())
        frame["survey_synthetic"] = frame["synthetic"].astype("boolean").fillna(bool(s["synthetic"].any()))
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    flags = out[[f"{o}_synthetic" for o in outcomes]].astype("boolean").fillna(False)
    out["synthetic"] = out["survey_synthetic"].astype(bool) | flags.any(axis=1)
    return out[[v.name for v in _held(ANALYSIS_VARIABLES, outcomes)]]


def _order_of(s: pd.DataFrame) -> list[int]:
    """The ordering behind ``model_level`` of a clean round, read from the data itself."""
    pairs = s.loc[s["model_level"].notna(), ["model", "model_level"]].drop_duplicates()
    by_level = dict(zip(pairs["model_level"].astype(int), pairs["model"].astype(int), strict=False))
    if len(by_level) == 5:
        return [by_level[i] for i in range(1, 6)]
    return list(DEFAULT_ORDERING)


def analysis_table(
    rounds: dict[int, pd.DataFrame],
    panel: pd.DataFrame,
    sets: dict,
    usage_year_offset: int = 1,
    ordering=DEFAULT_ORDERING,
    sources: Sources | None = None,
) -> Table:
    df = analysis_frame(rounds, panel, usage_year_offset, ordering)
    outcomes = usage.panel_outcomes(panel)
    title = f"kommune x round {min(rounds)}-{max(rounds)}, usage round+{usage_year_offset}"
    described = _held(ANALYSIS_VARIABLES, outcomes)
    return _rounds_table("analysis", title, df, described, rounds, panel, outcomes, sets, sources)


# --------------------------------------------------------------------------------------------
# The kommune x year analysis panel
# --------------------------------------------------------------------------------------------


def series_years(panel: pd.DataFrame) -> list[int]:
    """The years of the loans series: those in which some unit has a loans value (the real file: 2010-2015,
    2018-2025); without loans in the panel (left out), the real series' years."""
    if "loans" not in panel.columns:
        return list(usage.REAL_LOANS_YEARS)
    has = panel["loans"].notna() | panel["loans_per_1000"].notna()
    return sorted(int(y) for y in panel.loc[has, "year"].unique())


def round_in_force(years: Iterable[int], rounds: Iterable[int], usage_year_offset: int = 1) -> pd.Series:
    """Per calendar year, the survey round in force under the pairing rule: the latest round whose usage year
    (round + offset, :func:`helpers.analysis.models.usage_year`) is at most the year; <NA> before the first."""
    from helpers.analysis.models import usage_year

    starts = sorted((usage_year(r, usage_year_offset), int(r)) for r in rounds)
    out = {}
    for y in years:
        in_force = [r for start, r in starts if start <= int(y)]
        out[int(y)] = in_force[-1] if in_force else pd.NA
    return pd.Series(out, dtype="Int64").rename_axis("year")


def kommune_year_frame(
    rounds: dict[int, pd.DataFrame], panel: pd.DataFrame, usage_year_offset: int = 1, ordering=DEFAULT_ORDERING
) -> pd.DataFrame:
    """Library unit x year of the loans series, with everything notebook 04 dates adoption from.

    The units and years are the usage panel's (97 units, 561 = Esbjerg + Fanø; the years of the loans
    series). The reported model per unit and round, and the adoption timing under every treatment of
    :data:`~helpers.outputs.variables.TREATMENTS`, come from :mod:`helpers.analysis.adoption.dating`
    (``round_models`` and ``timing``, absorbing reversals, the first year of the series as the start), the
    functions notebook 04 uses: nothing here re-implements a rule. With fewer than two rounds there is no
    timing, and its columns are empty.
    """
    from helpers.analysis.adoption import dating
    from helpers.analysis.adoption.panel import COVID_YEARS

    years = series_years(panel)
    outcomes = usage.panel_outcomes(panel)
    loans = "loans" in outcomes
    unit_cols = ["kommunekode", "year", "navn", "unit_members", "regionsnavn", "kommunegruppe", "merged_2007"]
    cols = [*unit_cols, "population", *(outcome_columns("loans") if loans else ()), "outlier", "quality_flag"]
    df = panel.loc[panel["year"].isin(years), cols].sort_values(["kommunekode", "year"]).reset_index(drop=True)
    if loans:
        df["loans_per_inhabitant"] = df["loans_per_1000"] / 1000
    df["has_population"] = df["population"].notna()
    df["covid_year"] = df["year"].isin(COVID_YEARS)
    reported = dating.round_models(sorted(rounds), rounds)
    for r in sorted(rounds):
        df[f"model_{r}"] = df["kommunekode"].map(reported[r]).astype("Int64")
    df["round_in_force"] = df["year"].map(round_in_force(years, rounds, usage_year_offset)).astype("Int64")
    in_force = [
        reported.at[k, r] if not pd.isna(r) else pd.NA
        for k, r in zip(df["kommunekode"], df["round_in_force"], strict=True)
    ]
    df["model_in_force"] = pd.array(in_force, dtype="Int64")
    for t in TREATMENTS:
        sfx = treatment_suffix(t)
        if len(rounds) < 2:
            for c in ("adoption", "g", "g_earliest", "untreated_until", "treated", "reversal"):
                df[f"{c}_{sfx}"] = pd.NA
            continue
        timing = dating.timing(
            reported, t, ordering, offset=usage_year_offset, first_year=years[0], reversals="absorbing"
        )
        by_unit = df["kommunekode"]
        g = by_unit.map(timing["g_round"]).astype("Int64")
        category = by_unit.map(timing["category"])
        df[f"adoption_{sfx}"] = category
        df[f"g_{sfx}"] = g
        df[f"g_earliest_{sfx}"] = by_unit.map(timing["g_earliest"]).astype("Int64")
        until = by_unit.map(timing["untreated_until"]).astype("Int64")
        df[f"untreated_until_{sfx}"] = until
        treated = pd.Series((g > 0) & (df["year"] >= g), dtype="boolean")
        unknown = (
            (category == "no answer")
            | ((until > 0) & (df["year"] > until))  # censored: after its last answered round
            | ((category == "start unknown") & (df["year"] < g))  # before it was first seen treated
        )
        df[f"treated_{sfx}"] = treated.mask(unknown.fillna(False).astype(bool))
        df[f"reversal_{sfx}"] = by_unit.map(timing["reversal"]).astype("boolean")
    df["survey_synthetic"] = any(bool(s["synthetic"].any()) for s in rounds.values())
    df["synthetic"] = df["survey_synthetic"] | (bool(df["loans_synthetic"].any()) if loans else False)
    return df[[v.name for v in kommune_year_variables(sorted(rounds), outcomes)]]


def kommune_year_table(
    rounds: dict[int, pd.DataFrame],
    panel: pd.DataFrame,
    sets: dict,
    usage_year_offset: int = 1,
    ordering=DEFAULT_ORDERING,
    sources: Sources | None = None,
) -> Table:
    """The kommune x year panel (:func:`kommune_year_frame`) as an export table."""
    df = kommune_year_frame(rounds, panel, usage_year_offset, ordering)
    outcomes = tuple(o for o in usage.panel_outcomes(panel) if o == "loans")
    years = series_years(panel)
    title = f"unit x year {years[0]}-{years[-1]}, adoption {min(rounds)}-{max(rounds)}"
    described = kommune_year_variables(sorted(rounds), outcomes)
    return _rounds_table("kommune_year", title, df, described, rounds, panel, outcomes, sets, sources)


def _stem(name: str, synthetic: bool) -> str:
    return f"{name}_synthetic" if synthetic else name


# --------------------------------------------------------------------------------------------
# Building every table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """Everything one export writes, and what it left out.

    Fields: ``tables`` (each round's, the usage panel, the analysis file, the kommune x year panel);
    ``left_out`` (round -> why it is not exported: its clean failed or has not run); ``dropped_outcomes``
    (the synthetic usage outcomes left out by ``real_only``); ``real_only`` (the switch); ``sources``
    (where each round and usage outcome comes from, real or synthetic).
    """

    tables: tuple[Table, ...]
    left_out: dict[int, str]
    dropped_outcomes: tuple[str, ...]
    real_only: bool
    sources: Sources

    @property
    def synthetic(self) -> bool:
        """Whether any exported table holds synthetic values."""
        return any(t.synthetic for t in self.tables)

    @property
    def rounds(self) -> tuple[int, ...]:
        """The survey rounds exported."""
        return tuple(sorted(self.sources.survey))


def build(
    rounds: Iterable[int] | None = None,
    usage_year_offset: int = 1,
    ordering=DEFAULT_ORDERING,
    real_only: bool = False,
) -> Export:
    """The export tables from the processed data: every round, the usage panel, the analysis file and the
    kommune x year panel.

    A round that has no cleaned data (its clean failed, or has not run) is left out, with the reason, and
    the others are exported without it; with no cleaned round at all the first round's error is raised.
    ``real_only`` leaves out the usage outcomes whose source is synthetic (their count, rate, source and
    flag columns), so that a table of real inputs is real: named without ``_synthetic``.
    """
    from helpers.data import survey

    configured = config_rounds()
    years = sorted(int(y) for y in (rounds if rounds is not None else configured))
    for y in years:
        check_choice(f"round of {paths.relative(paths.pipeline_config())}", y, configured)
    cleaned, left_out, first_error = {}, {}, None
    for y in years:
        try:
            cleaned[y] = survey.load_clean(y)
        except DataError as exc:
            first_error = first_error or exc
            left_out[y] = f"no cleaned data for round {y} (its clean failed or has not run): {exc}"
    if not cleaned:
        raise first_error
    cbs = codebooks({y: configured[y] for y in cleaned})
    sets = value_label_sets(cbs, ordering)
    panel = usage.read_panel()
    dropped: tuple[str, ...] = ()
    if real_only:
        panel, dropped = without_synthetic_outcomes(panel)
    sources = _sources(cleaned, panel)
    tables = [survey_table(y, df, sets, sources) for y, df in cleaned.items()]
    tables.append(panel_table(panel, sets, sources))
    tables.append(analysis_table(cleaned, panel, sets, usage_year_offset, ordering, sources))
    tables.append(kommune_year_table(cleaned, panel, sets, usage_year_offset, ordering, sources))
    return Export(tuple(tables), left_out, dropped, bool(real_only), sources)


def build_tables(
    rounds: Iterable[int] | None = None, usage_year_offset: int = 1, ordering=DEFAULT_ORDERING, real_only: bool = False
) -> list[Table]:
    """The tables of :func:`build`."""
    return list(build(rounds, usage_year_offset, ordering, real_only).tables)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _for_readstat(table: Table) -> pd.DataFrame:
    """Numbers as float64 (missing = NaN), strings as object ("" when missing), datetimes kept."""
    df = table.frame.copy()
    for v in table.variables:
        if v.kind in ("code", "yesno", "integer", "float"):
            df[v.name] = df[v.name].astype("Float64").astype(float)
        elif v.kind == "string":
            df[v.name] = df[v.name].astype("object").where(df[v.name].notna(), None)
    return df


def _readstat_formats(table: Table, stata: bool) -> dict[str, str]:
    """Display formats: whole numbers without decimals, datetimes as date and time."""
    out = {}
    for v in table.variables:
        if v.kind in ("code", "yesno", "integer"):
            out[v.name] = "%9.0f" if stata else "F8.0"
        elif v.kind == "datetime":
            out[v.name] = "%tc" if stata else "DATETIME20"
    return out


def spss_lines(notes: Iterable[str], width: int = SPSS_NOTE_BYTES) -> list[str]:
    """Notes as SPSS document lines: at most ``width`` bytes each (UTF-8), a long note continued on indented
    lines, broken between words."""
    out = []
    for note in notes:
        line = ""
        for word in str(note).split(" "):
            candidate = f"{line} {word}" if line else word
            if len(candidate.encode()) <= width or not line:
                line = candidate
            else:
                out.append(line)
                line = "  " + word
            while len(line.encode()) > width:  # a single word longer than a line
                cut = line.encode()[:width].decode(errors="ignore")
                out.append(cut)
                line = "  " + line[len(cut) :]
        out.append(line)
    return out


def write_table(table: Table, target_folder: Path | None = None) -> dict[str, Path]:
    """Write one table in every format (each file atomically); returns format -> path.

    Every variable's provenance goes with it: as a Stata variable note (``notes visits``) and a line of
    the dataset's notes (Stata ``notes _dta``, SPSS document, R haven ``attr(x, "notes")``), and in the
    parquet metadata (``attrs["provenance"]``).
    """
    import pyreadstat

    from helpers.outputs import dta

    target_folder = Path(target_folder) if target_folder is not None else folder()
    out: dict[str, Path] = {}
    base = target_folder / table.stem
    out["csv"] = files.write_csv(
        base.with_suffix(".csv"), table.frame, index=False, encoding="utf-8", date_format="%Y-%m-%dT%H:%M:%S"
    )
    from helpers.data.survey import (
        spreadsheet_safe,
    )  # Excel runs text starting with = + - @ as a formula: that copy gets a leading '

    out["excel.csv"] = files.write_csv(
        target_folder / f"{table.stem}_excel.csv",
        spreadsheet_safe(table.frame),
        index=False,
        encoding="utf-8-sig",
        sep=";",
        decimal=",",
        date_format="%Y-%m-%d %H:%M:%S",
    )
    rs = _for_readstat(table)
    labels = {k: {float(c): t for c, t in v.items()} for k, v in table.value_labels.items()}
    with files.atomic_path(base.with_suffix(".dta")) as tmp:
        pyreadstat.write_dta(
            rs,
            tmp,
            file_label=table.file_label,
            column_labels=table.variable_labels,
            variable_value_labels=labels,
            variable_format=_readstat_formats(table, stata=True),
            version=14,
        )
        dta.add_notes(tmp, table.file_notes, {n: [p.note] for n, p in table.provenance.items()})
    out["dta"] = base.with_suffix(".dta")
    with files.atomic_path(base.with_suffix(".sav")) as tmp:
        pyreadstat.write_sav(
            rs,
            tmp,
            file_label=table.file_label,
            column_labels={v.name: v.label for v in table.variables},
            variable_value_labels=labels,
            variable_measure={v.name: v.measure for v in table.variables},
            variable_format=_readstat_formats(table, stata=False),
            note=spss_lines(table.file_notes),
        )
    out["sav"] = base.with_suffix(".sav")
    frame = table.frame.copy()
    frame.attrs = {
        "file_label": table.file_label,
        "synthetic": table.synthetic,
        "variable_labels": {v.name: v.label for v in table.variables},
        "value_labels": {k: {str(c): t for c, t in v.items()} for k, v in table.value_labels.items()},
        "provenance": {n: dataclasses.asdict(p) for n, p in table.provenance.items()},
        "notes": table.file_notes,
    }
    out["parquet"] = files.write_parquet(base.with_suffix(".parquet"), frame)
    return out


def write_exports(
    rounds: Iterable[int] | None = None,
    usage_year_offset: int = 1,
    ordering=DEFAULT_ORDERING,
    target_folder: Path | None = None,
    tables: Export | Sequence[Table] | None = None,
    real_only: bool = False,
) -> pd.DataFrame:
    """Write every export and the data dictionary into ``target_folder`` (default :func:`folder`), as a unit.

    ``tables`` (an :class:`Export` from :func:`build`, or a list of tables) are built from ``rounds``,
    ``usage_year_offset``, ``ordering`` and ``real_only`` unless given. Returns one row per written file:
    table, format, file (name in the folder), rows, columns, synthetic, sha256. Also writes
    ``exports_manifest.json`` (the same listing, the rounds left out and why, each table's synthetic
    variables) and ``data_dictionary.md/.html``. The files an earlier export listed that this one did
    not write are gone (``survey_2011_synthetic.dta`` once a real 2011 round replaces it); files it
    did not list (put there by hand) are kept.

    Everything is written into a new folder that then takes the place of the old one in one step
    (``files.atomic_folder``): a reader, or an export killed at any moment, finds the complete
    earlier set or the complete new one, never a mix of the two.
    """
    target_folder = Path(target_folder) if target_folder is not None else folder()
    if tables is None:
        tables = build(rounds, usage_year_offset, ordering, real_only)
    export = tables if isinstance(tables, Export) else None
    tables = list(export.tables if export is not None else tables)
    before = _listed(target_folder)
    with files.atomic_folder(target_folder) as new:
        rows = []
        for table in tables:
            for fmt, path in write_table(table, new).items():
                rows.append(
                    {
                        "table": table.stem,
                        "format": fmt,
                        "file": path.name,
                        "rows": len(table.frame),
                        "columns": table.frame.shape[1],
                        "synthetic": table.synthetic,
                        "sha256": files.sha256(path),
                    }
                )
        files.write_text(new / "data_dictionary.md", dictionary.markdown())
        files.write_text(new / "data_dictionary.html", dictionary.html())
        listing = pd.DataFrame(rows)
        synthetic = bool(listing["synthetic"].any())
        files.write_json(
            new / MANIFEST_FILE,
            {
                "synthetic": synthetic,
                "note": SYNTHETIC_MARK if synthetic else "computed from real data",
                "parameters": {
                    "rounds": sorted(int(t.frame["year"].iat[0]) for t in tables if t.variables == SURVEY_VARIABLES),
                    "usage_year_offset": int(usage_year_offset),
                    "ordering": cooperation.format_ordering(ordering),
                    "real_only": bool(export.real_only if export is not None else real_only),
                },
                "left_out": {str(y): why for y, why in (export.left_out if export is not None else {}).items()},
                "dropped_outcomes": list(export.dropped_outcomes if export is not None else ()),
                "tables": {
                    t.stem: {
                        "synthetic": t.synthetic,
                        "synthetic_variables": list(t.synthetic_variables),
                        "provenance": {n: p.provenance for n, p in t.provenance.items()},
                    }
                    for t in tables
                },
                "files": rows,
            },
        )
        _keep_unlisted(target_folder, new, before | {p.name for p in new.iterdir()})
    return listing


def _keep_unlisted(old: Path, new: Path, exclude: set[str]) -> None:
    """Carry into ``new`` what ``old`` holds that no export listed (``exclude``): files put there by hand."""
    if not old.is_dir():
        return
    for child in old.iterdir():
        if child.name in exclude or child.name.startswith("."):
            continue
        if child.is_dir():
            shutil.copytree(child, new / child.name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(child, new / child.name)


def _link_or_copy(src, dst) -> None:
    """A hard link (the old folder is removed after the swap, so the file is not copied), else a copy."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _listed(target_folder: Path) -> set[str]:
    """Files the previous export in ``target_folder`` wrote (from its manifest)."""
    import json

    f = Path(target_folder) / MANIFEST_FILE
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {Path(r["file"]).name for r in doc.get("files", []) if isinstance(r, dict) and r.get("file")}


# --------------------------------------------------------------------------------------------
# Key results of notebook 05
# --------------------------------------------------------------------------------------------


def key_results(
    tables: Export | Sequence[Table], listing: pd.DataFrame, *, dictionary_up_to_date: bool
) -> ExportResults:
    """The key results of ``05_export_data`` from the exported ``tables`` (an :class:`Export`, or its tables)
    and the ``listing`` of :func:`write_exports` (one row per file written); ``dictionary_up_to_date`` is
    ``dictionary.stale() is None``.

    Rounds and responses are read from the analysis table (``responded`` summed per round), the
    row counts from each table's frame.
    """
    export = tables if isinstance(tables, Export) else None
    tables = list(export.tables if export is not None else tables)
    analysis = _one(tables, "analysis")
    responded = analysis.frame.groupby("round")["responded"].sum()
    panel = _one(tables, "kommune_year")
    return ExportResults(
        files=len(listing),
        tables={
            t.stem: ExportedTable(len(t.frame), t.frame.shape[1], bool(t.synthetic), t.synthetic_variables)
            for t in tables
        },
        rounds=tuple(int(y) for y in sorted(analysis.frame["round"].unique())),
        responded={int(y): int(n) for y, n in responded.items()},
        panel_rows=len(_one(tables, "usage_panel").frame),
        analysis_rows=len(analysis.frame),
        dictionary_up_to_date=bool(dictionary_up_to_date),
        kommune_year_rows=len(panel.frame),
        kommune_year_units=int(panel.frame["kommunekode"].nunique()),
        left_out={int(y): str(why) for y, why in (export.left_out if export is not None else {}).items()},
        dropped_outcomes=tuple(export.dropped_outcomes if export is not None else ()),
        real_only=bool(export.real_only) if export is not None else False,
    )


def _one(tables: Sequence[Table], name: str) -> Table:
    """The table ``name`` (``analysis``, ``usage_panel``; with or without ``_synthetic``) among ``tables``."""
    found = [t for t in tables if t.name == name]
    if len(found) != 1:
        raise ValueError(f"{len(found)} tables named {name!r} among {[t.stem for t in tables]}; accepted: exactly one")
    return found[0]
