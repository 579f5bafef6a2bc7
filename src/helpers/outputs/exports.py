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
    Variable,
    canonical_codes,
    codebooks,
    config_rounds,
    value_label_sets,
)
from helpers.results.exports import ExportedTable, ExportResults

FOLDER = "exports"
FORMATS = ("csv", "excel.csv", "dta", "sav", "parquet")
STATA_LABEL_MAX = 80  # Stata's limit for variable and file labels
SPSS_FILE_LABEL_MAX = 64  # bytes; SPSS cuts longer file labels
FILE_LABEL_MARK = "SYNTHETIC EXAMPLE DATA"  # starts the file label of every synthetic export
MANIFEST_FILE = "exports_manifest.json"


def folder() -> Path:
    """Where the exports go: ``exports/`` in this run's processed folder (``paths.processed()``)."""
    return paths.processed() / FOLDER


# --------------------------------------------------------------------------------------------
# Encoding a table: the same values for every format
# --------------------------------------------------------------------------------------------


@dataclass
class Table:
    """One export: its stem, file label, encoded frame and variables."""

    stem: str
    title: str
    frame: pd.DataFrame
    variables: tuple[Variable, ...]
    synthetic: bool
    value_labels: dict[str, dict[int, str]] = field(default_factory=dict)  # variable -> code -> label

    @property
    def file_label(self) -> str:
        text = f"{FILE_LABEL_MARK}: {self.title}" if self.synthetic else self.title
        return _short(text, SPSS_FILE_LABEL_MAX, size=lambda t: len(t.encode()))

    @property
    def variable_labels(self) -> dict[str, str]:
        return {v.name: _short(v.label) for v in self.variables}


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


def survey_table(year: int, df: pd.DataFrame, sets: dict) -> Table:
    """A cleaned round (helpers.data.survey.load_clean) as an export table."""
    synthetic = bool(df["synthetic"].any())
    frame = df.copy()
    frame["model"] = frame["model"].astype(int)
    return Table(
        _stem(f"survey_{year}", synthetic),
        f"borgerservice survey {year}, cleaned",
        _encode(frame, SURVEY_VARIABLES, f"survey_{year}"),
        SURVEY_VARIABLES,
        synthetic,
        _labels_for(SURVEY_VARIABLES, sets),
    )


def panel_table(panel: pd.DataFrame, sets: dict) -> Table:
    """The usage panel (helpers.data.usage.read_panel) as an export table."""
    synthetic = usage.panel_is_synthetic(panel)
    years = f"{int(panel['year'].min())}-{int(panel['year'].max())}"
    return Table(
        _stem("usage_panel", synthetic),
        f"library usage per unit and year {years}",
        _encode(panel, PANEL_VARIABLES, "usage_panel"),
        PANEL_VARIABLES,
        synthetic,
        _labels_for(PANEL_VARIABLES, sets),
    )


def analysis_frame(
    rounds: dict[int, pd.DataFrame], panel: pd.DataFrame, usage_year_offset: int = 1, ordering=DEFAULT_ORDERING
) -> pd.DataFrame:
    """Kommune x round: every one of the 98 kommuner in every round, with the paired usage year.

    Survey answers and every coding of cooperation (``model``, ``model_level``, ``score``,
    ``score_swap23``, ``cooperating``) come from the round; usage of the library unit in
    ``usage_year`` = round + ``usage_year_offset`` from the panel. Fanø (563) has no library unit of
    its own: its row names ``library_unit`` 561 and has no usage values (they are in Esbjerg's row),
    so sums over rows never count Esbjerg's use twice.
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
    usage_cols = [
        "population",
        *[c for o in usage.OUTCOMES for c in (o, f"{o}_per_1000", f"{o}_source", f"{o}_synthetic")],
        "outlier",
        "quality_flag",
    ]
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
        if year_panel.empty:
            raise DataError(
                "usage panel",
                Problem(
                    f"no rows for usage year {frame['usage_year'].iat[0]} (round {year} + {usage_year_offset})",
                    column="year",
                    accepted=f"years {sorted(panel['year'].unique().tolist())}",
                ),
            )
        # Only the serving kommune's own row carries the unit's usage (Fanø's use is in Esbjerg's).
        frame = frame.merge(year_panel, on="kommunekode", how="left", validate="one_to_one")
        frame["survey_synthetic"] = frame["synthetic"].astype("boolean").fillna(bool(s["synthetic"].any()))
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    flags = out[[f"{o}_synthetic" for o in usage.OUTCOMES]].astype("boolean").fillna(False)
    out["synthetic"] = out["survey_synthetic"].astype(bool) | flags.any(axis=1)
    return out[[v.name for v in ANALYSIS_VARIABLES]]


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
) -> Table:
    df = analysis_frame(rounds, panel, usage_year_offset, ordering)
    synthetic = bool(df["synthetic"].any())
    title = f"kommune x round {min(rounds)}-{max(rounds)}, usage round+{usage_year_offset}"
    return Table(
        _stem("analysis", synthetic),
        title,
        _encode(df, ANALYSIS_VARIABLES, "analysis"),
        ANALYSIS_VARIABLES,
        synthetic,
        _labels_for(ANALYSIS_VARIABLES, sets),
    )


def _stem(name: str, synthetic: bool) -> str:
    return f"{name}_synthetic" if synthetic else name


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


def write_table(table: Table, target_folder: Path | None = None) -> dict[str, Path]:
    """Write one table in every format (each file atomically); returns format -> path."""
    import pyreadstat

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
            note=SYNTHETIC_MARK if table.synthetic else None,
        )
    out["sav"] = base.with_suffix(".sav")
    frame = table.frame.copy()
    frame.attrs = {
        "file_label": table.file_label,
        "synthetic": table.synthetic,
        "variable_labels": {v.name: v.label for v in table.variables},
        "value_labels": {k: {str(c): t for c, t in v.items()} for k, v in table.value_labels.items()},
    }
    out["parquet"] = files.write_parquet(base.with_suffix(".parquet"), frame)
    return out


def build_tables(
    rounds: Iterable[int] | None = None, usage_year_offset: int = 1, ordering=DEFAULT_ORDERING
) -> list[Table]:
    """The export tables from the processed data: every round, the usage panel, the analysis file."""
    from helpers.data import survey

    configured = config_rounds()
    years = sorted(int(y) for y in (rounds if rounds is not None else configured))
    for y in years:
        check_choice(f"round of {paths.relative(paths.pipeline_config())}", y, configured)
    cbs = codebooks({y: configured[y] for y in years})
    sets = value_label_sets(cbs, ordering)
    cleaned = {y: survey.load_clean(y) for y in years}
    panel = usage.read_panel()
    tables = [survey_table(y, df, sets) for y, df in cleaned.items()]
    tables.append(panel_table(panel, sets))
    tables.append(analysis_table(cleaned, panel, sets, usage_year_offset, ordering))
    return tables


def write_exports(
    rounds: Iterable[int] | None = None,
    usage_year_offset: int = 1,
    ordering=DEFAULT_ORDERING,
    target_folder: Path | None = None,
    tables: list[Table] | None = None,
) -> pd.DataFrame:
    """Write every export and the data dictionary into ``target_folder`` (default :func:`folder`).

    ``tables`` (from :func:`build_tables`) are built from ``rounds``, ``usage_year_offset`` and
    ``ordering`` unless given. Returns one row per written file: table, format, file (name in the
    folder), rows, columns, synthetic, sha256. Also writes ``exports_manifest.json`` (the same
    listing) and ``data_dictionary.md/.html``, and removes the files an earlier export listed that
    this one did not write (``survey_2011_synthetic.dta`` once a real 2011 round replaces it).
    """
    target_folder = Path(target_folder) if target_folder is not None else folder()
    tables = build_tables(rounds, usage_year_offset, ordering) if tables is None else tables
    before = _listed(target_folder)
    rows = []
    for table in tables:
        for fmt, path in write_table(table, target_folder).items():
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
    files.write_text(target_folder / "data_dictionary.md", dictionary.markdown())
    files.write_text(target_folder / "data_dictionary.html", dictionary.html())
    listing = pd.DataFrame(rows)
    synthetic = bool(listing["synthetic"].any())
    files.write_json(
        target_folder / MANIFEST_FILE,
        {
            "synthetic": synthetic,
            "note": SYNTHETIC_MARK if synthetic else "computed from real data",
            "parameters": {
                "rounds": sorted(int(t.frame["year"].iat[0]) for t in tables if t.variables is SURVEY_VARIABLES),
                "usage_year_offset": int(usage_year_offset),
                "ordering": cooperation.format_ordering(ordering),
            },
            "files": rows,
        },
    )
    for name in sorted(before - set(listing["file"])):
        (target_folder / name).unlink(missing_ok=True)
    return listing


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


def key_results(tables: Sequence[Table], listing: pd.DataFrame, *, dictionary_up_to_date: bool) -> ExportResults:
    """The key results of ``05_export_data`` from the exported ``tables`` and the ``listing`` of
    :func:`write_exports` (one row per file written); ``dictionary_up_to_date`` is ``dictionary.stale() is None``.

    Rounds and responses are read from the analysis table (``responded`` summed per round), the
    row counts from each table's frame.
    """
    analysis = _one(tables, "analysis")
    responded = analysis.frame.groupby("round")["responded"].sum()
    return ExportResults(
        files=len(listing),
        tables={t.stem: ExportedTable(len(t.frame), t.frame.shape[1], bool(t.synthetic)) for t in tables},
        rounds=tuple(int(y) for y in sorted(analysis.frame["round"].unique())),
        responded={int(y): int(n) for y, n in responded.items()},
        panel_rows=len(_one(tables, "usage_panel").frame),
        analysis_rows=len(analysis.frame),
        dictionary_up_to_date=bool(dictionary_up_to_date),
    )


def _one(tables: Sequence[Table], name: str) -> Table:
    """The table ``name`` (``analysis``, ``usage_panel``; with or without ``_synthetic``) among ``tables``."""
    found = [t for t in tables if t.stem in (name, f"{name}_synthetic")]
    if len(found) != 1:
        raise ValueError(f"{len(found)} tables named {name!r} among {[t.stem for t in tables]}; accepted: exactly one")
    return found[0]
