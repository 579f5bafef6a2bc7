"""Clean one survey round: a raw export plus its codebook -> the canonical table + cleaning log.

* :func:`clean` returns ``(clean_df, log_df)``; it never writes anything.
* :func:`clean_to_files` writes ``survey_<year>.parquet`` and ``survey_<year>_cleaning_log.csv``
  to ``paths.processed()``, both or neither; a failed clean removes the round's earlier outputs,
  so nothing stale looks current.
* :func:`load_clean` reads a cleaned round back with the model as an ordered categorical.

The clean table has one row per kommune that submitted a response. ``model`` is 0 when the
respondent left the model question blank. Personal-data columns are dropped, free text redacted
(:mod:`.privacy`); neither the table, the log nor an error message quotes them.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from helpers.core import cooperation, files, lazy, paths
from helpers.core.errors import DataError, Problem
from helpers.core.validation import validate
from helpers.data import provenance, reference
from helpers.results.survey import CleanSurveyResults, ModelCount, Response

from . import formats, privacy
from .cleaning import Cleaner, drop_duplicates, fieldwork_problems, flood_problems
from .codebooks import ROLES, TASKS, YES_NO, Codebook, check_model_order, load_codebook
from .formats import EXCEL_ERRORS, HEADER_SEARCH_ROWS, Sheet, log_row
from .text import blank, key, letter, padded, shown_path

pa = lazy.module("pandera.pandas")  # ~0.2 s to import: at the first clean_schema

LOG_COLUMNS = ("row", "column", "old_value", "new_value", "rule", "detail")
_NOT_ANSWERS = {"kommune_navn", "submitted_at", "comment"}  # not counted as answered questions


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def resolve_input(input_path) -> Path:
    """The export's real path (links and ".." resolved); it must lie inside data/raw."""
    p = Path(input_path)
    candidate = p if p.is_absolute() else paths.raw() / p
    real = candidate.resolve()
    raw = paths.raw().resolve()
    try:
        real.relative_to(raw)
    except ValueError:
        why = "it is a link that points outside data/raw" if candidate.is_symlink() else "it is not inside data/raw"
        raise DataError(
            shown_path(candidate),
            Problem(
                f"refused: {why} (resolves to {shown_path(real)})",
                accepted="an export under data/raw (put it in data/raw/survey/ and record it with `borgerservice "
                "add-data`)",
            ),
        ) from None
    return real


def is_synthetic(path: Path) -> bool:
    """From the manifest for files under data/raw; elsewhere, True only for example_* files."""
    path = Path(path).resolve()
    try:
        path.relative_to(paths.raw().resolve())
    except ValueError:
        return path.name.startswith("example_")
    return provenance.is_synthetic(path)


# --------------------------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------------------------


def _find_header(sheet: Sheet, cb: Codebook, file: Path):
    """Index (into sheet.rows) of the header row, and the header cells (merged rows combined)."""
    expected = formats.expected_headers(cb)
    known = expected | {key(h) for h in (*cb.spec.personal_data, *cb.spec.ignore)}
    all_headers = [s.header for s in cb.columns.values()]
    scores = [
        (formats.header_score(cells, expected), i) for i, (_, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS])
    ]
    best, h = max(scores, key=lambda t: (t[0], -t[1]), default=(0, 0))
    if best < max(2, len(expected) // 3):
        where = f" of sheet {sheet.name!r}" if sheet.name else ""
        raise DataError(
            file,
            Problem(
                f"no header row found in the first {HEADER_SEARCH_ROWS} rows{where} (codebook {shown_path(cb.path)})",
                accepted="a row with the headers " + ", ".join(repr(x) for x in all_headers),
            ),
        )
    header = list(sheet.rows[h][1])
    last = h
    for j in (h - 1, h + 1):  # a two-line header: a neighbouring row carries headers this row lacks
        if not 0 <= j < len(sheet.rows):
            continue
        row_no, cells = sheet.rows[j]
        present = {key(c) for c in header}
        extra = [(k, c) for k, c in enumerate(cells) if key(c) in known and key(c) not in present]
        if not extra:
            continue
        header += [None] * (len(cells) - len(header))
        for k, c in extra:
            old = header[k]
            if old is None or key(old) not in known:
                header[k] = c
        sheet.log.append(
            log_row(
                row_no,
                None,
                None,
                None,
                "merged_header_rows",
                f"header split over rows {sheet.rows[min(h, j)][0]}-{sheet.rows[max(h, j)][0]}; combined "
                f"({len(extra)} header(s) taken from row {row_no})",
            )
        )
        last = max(last, j)
    return last, header


def _cell_ref(sheet: Sheet, row_no: int, k: int) -> str:
    return f"{letter(k)}{row_no}" if sheet.kind in ("xlsx", "xls", "ods") else f"row {row_no} column {letter(k)}"


# --------------------------------------------------------------------------------------------
# Clean
# --------------------------------------------------------------------------------------------


def clean_schema(model_order=cooperation.DEFAULT_ORDERING) -> pa.DataFrameSchema:
    codes = sorted(reference.load_municipalities()["kommunekode"].astype(int))
    yn = pa.Column(str, pa.Check.isin(YES_NO), nullable=True)
    return pa.DataFrameSchema(
        {
            "year": pa.Column(int, pa.Check.in_range(2000, 2100)),
            "kommunekode": pa.Column(int, pa.Check.isin(codes), unique=True),
            "kommune_navn": pa.Column(str, pa.Check.str_length(min_value=1)),
            "answered_by_kommunekode": pa.Column("Int64", pa.Check.isin(codes), nullable=True),
            "respondent_role": pa.Column(str, pa.Check.isin(ROLES), nullable=True),
            "model": pa.Column(cooperation.model_dtype(model_order, include_no_answer=True)),
            "model_level": pa.Column("Int64", pa.Check.in_range(1, 5), nullable=True),
            **{t: pa.Column("boolean", nullable=True) for t in TASKS},
            "n_it_courses": pa.Column("Int64", pa.Check.ge(0), nullable=True),
            "digital_strategy": yn,
            "org_change_planned": yn,
            "comment": pa.Column(str, nullable=True),
            "submitted_at": pa.Column("datetime64[us]", nullable=True),
            "source_row": pa.Column(int, pa.Check.ge(0)),
            "synthetic": pa.Column(bool),
        },
        strict=True,
        ordered=True,
    )


def set_model_order(df: pd.DataFrame, model_order) -> pd.DataFrame:
    """A copy of a clean round with ``model`` re-ordered and ``model_level`` (1 = lowest) recomputed."""
    order = check_model_order(model_order)
    out = df.copy()
    out["model"] = pd.Categorical(
        out["model"].astype(int), dtype=cooperation.model_dtype(order, include_no_answer=True)
    )
    level = {m: i for i, m in enumerate(order, start=1)}
    out["model_level"] = out["model"].astype(int).map(level).astype("Int64")
    return out


def clean(
    year: int, input_path, codebook=None, *, model_order=None, ignore_fieldwork: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean one survey export. Returns ``(clean_df, log_df)``; raises DataError on unusable input.

    ``codebook``: a name under config/codebooks ("2011"), a path to a YAML file, or None for the
    one named after ``year``. ``model_order``: the cooperation ordering (lowest first), default the
    codebook's ``model_order``. ``input_path``: under data/raw (absolute, or relative to it).
    ``ignore_fieldwork``: accept submissions outside the round's fieldwork window (logged).
    """
    try:
        return _clean(int(year), input_path, codebook, model_order=model_order, ignore_fieldwork=ignore_fieldwork)
    except DataError as exc:
        raise shown_error(exc) from None


def shown_error(exc: DataError) -> DataError:
    """The error with its file shown as :func:`.text.shown_path` does (never an absolute path)."""
    return DataError(shown_path(exc.file), exc.problems) if os.path.isabs(exc.file) else exc


def _clean(
    year: int, input_path, codebook, *, model_order, ignore_fieldwork: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cb = load_codebook(codebook, year)
    order = check_model_order(model_order or cb.model_order)
    file = resolve_input(input_path)
    provenance.note_read(file)  # the raw files each run read (its results JSON lists them)
    sheet = formats.read(file, cb)
    synthetic = is_synthetic(file)
    h, header = _find_header(sheet, cb, file)
    header_row_no = sheet.rows[h][0]
    if sheet.formula_cells:
        shown = ", ".join(sheet.formula_cells[:20]) + (
            f" and {len(sheet.formula_cells) - 20} more" if len(sheet.formula_cells) > 20 else ""
        )
        raise DataError(
            file,
            Problem(
                f"{len(sheet.formula_cells)} formula cell(s) without a stored value: {shown}"
                + (f" (sheet {sheet.name!r})" if sheet.name else ""),
                accepted="values: open the workbook in Excel (it computes the formulas) and save it, or paste as "
                "values",
            ),
        )

    # Which column holds what.
    positions: dict[str, list[int]] = {}
    for k, c in enumerate(header):
        if not blank(c):
            positions.setdefault(key(c), []).append(k)
    problems, log = [], sheet.log
    listed_personal = {key(x) for x in cb.spec.personal_data}
    ignore = {key(x) for x in cb.spec.ignore}
    completion = cb.spec.completion
    where: dict[str, int] = {}
    for var, spec in cb.columns.items():
        hk = key(spec.header)
        found = positions.get(hk, [])
        if len(found) > 1:
            problems.append(
                Problem(
                    "the same header appears in more than one column",
                    row=header_row_no,
                    column=spec.header,
                    value=[letter(k) for k in found],
                    accepted="each header once",
                )
            )
        elif not found:
            if spec.required:
                close = difflib.get_close_matches(hk, list(positions), n=2, cutoff=0.6)
                problems.append(
                    Problem(
                        "required column missing",
                        row=header_row_no,
                        column=spec.header,
                        value=[header[positions[c][0]] for c in close] or None,
                        accepted=f"a column headed {spec.header!r} (codebook {shown_path(cb.path)})",
                    )
                )
            else:
                log.append(
                    log_row(header_row_no, spec.header, None, None, "optional_column_missing", f"{var} set to missing")
                )
        else:
            where[var] = found[0]
            if header[found[0]] != spec.header and str(header[found[0]]).strip() != spec.header:
                log.append(
                    log_row(
                        header_row_no,
                        spec.header,
                        None,
                        None,
                        "header_normalised",
                        "header matched after Unicode/space/case normalisation",
                    )
                )
    status_at = positions.get(key(completion.header), [None])[0] if completion else None
    used = set(where.values())
    personal_at: dict[int, str] = {}
    for hk, ks in positions.items():
        for k in ks:
            if k in used:
                continue
            shown = header[k]
            if privacy.is_personal_header(shown, listed_personal):
                personal_at[k] = str(shown)
                log.append(
                    log_row(
                        None,
                        str(shown),
                        None,
                        None,
                        "personal_data_dropped",
                        "column with personal data removed; values not kept",
                    )
                )
            elif hk not in ignore and k != status_at:
                log.append(
                    log_row(None, str(shown), None, None, "unmapped_column_dropped", "header not in the codebook")
                )
    if problems:
        raise DataError(file, problems)

    data_rows = sheet.rows[h + 1 :]
    filled = [i for i, (_, cells) in enumerate(data_rows) if not all(blank(c) for c in cells)]
    if len(filled) > cb.max_rows:
        raise DataError(file, flood_problems(pd.DataFrame({"kommunekode": []}), cb, {}, len(filled)))
    _check_error_cells(file, sheet, data_rows, where, header)

    width = len(header)
    cleaner = Cleaner(file, cb, sheet)
    free_text = set(cb.free_text_vars)
    records = []
    last_filled = max(filled, default=-1)
    filled_set = set(filled)
    padded_counts: Counter = Counter()
    for var, k in where.items():
        if cb.columns[var].type == "datetime":
            cleaner.prepare_datetimes(cb.columns[var].header, [c[k] for _, c in data_rows if k < len(c)])
    hidden_used = []
    for i, (row_no, cells) in enumerate(data_rows):
        if i in filled_set and row_no in sheet.hidden_rows:
            hidden_used.append(row_no)
        if i not in filled_set:
            if i < last_filled:  # trailing empty rows of a sheet are not worth a log line
                log.append(log_row(row_no, None, None, None, "blank_row_dropped", "empty row removed"))
            continue
        if len(cells) > width and any(not blank(c) for c in cells[width:]):
            cleaner.problem(
                f"{len(cells)} fields but {width} headers",
                row_no,
                None,
                accepted=f"{width} fields per row (a delimiter inside an unquoted value?)",
            )
            continue
        if sheet.text and len(cells) < width:
            log.append(
                log_row(
                    row_no,
                    None,
                    None,
                    None,
                    "short_row_padded",
                    f"{len(cells)} of {width} fields; the missing ones are blank",
                )
            )
        cells = cells + [None] * (width - len(cells))
        rec = {"source_row": row_no}
        for var, k in where.items():
            spec = cb.columns[var]
            v, col = cells[k], spec.header
            if padded(v):
                padded_counts[col] += 1
            t = spec.type
            if t == "kommune":
                rec["kommunekode"], rec["answered_by_kommunekode"] = cleaner.kommune(v, row_no, col)
                rec[var] = cleaner.text(v)
            elif t == "datetime":
                rec[var] = cleaner.datetime(v, row_no, col)
            elif t == "label" and var == "model":  # the model question mapped through a label set: label -> export code
                code = cleaner.label(v, row_no, col, cb.label_set(var))
                rec[var] = cleaner.model(code, row_no, col) if code is not None or blank(v) else None
            elif t == "label":
                rec[var] = cleaner.label(v, row_no, col, cb.label_set(var))
            elif t == "model":
                rec[var] = cleaner.model(v, row_no, col)
            elif t == "integer":
                rec[var] = cleaner.number(
                    v,
                    row_no,
                    col,
                    accepted=f"a whole number >= {spec.min or 0}",
                    minimum=spec.min,
                    maximum=spec.max,
                )
            else:
                rec[var] = cleaner.text(v)
        rec["_answered"] = sum(1 for var, k in where.items() if var not in _NOT_ANSWERS and not blank(cells[k]))
        rec["_status"] = None if status_at is None else cleaner.text(cells[status_at])
        rec["_complete"] = (
            (key(rec["_status"]) in {key(c) for c in completion.complete}) if status_at is not None else True
        )
        rec["_identity"] = privacy.row_identity({personal_at[k]: cells[k] for k in personal_at})
        records.append(rec)
    cleaner.flush()
    for row_no in hidden_used:  # never used without a word: a hidden row may be an old answer kept out of sight
        log.append(
            log_row(row_no, None, None, None, "hidden_row_used", f"row {row_no} is hidden in sheet {sheet.name!r}")
        )
    for col, n in padded_counts.items():
        log.append(
            log_row(
                None,
                col,
                None,
                None,
                "whitespace_normalised",
                f"{n} cell(s) with surrounding or non-breaking spaces or decomposed letters normalised",
            )
        )
    if cleaner.problems:
        raise DataError(file, cleaner.problems)
    if not records:
        raise DataError(
            file,
            Problem(
                "no data rows below the header",
                row=header_row_no,
                accepted="one row per responding kommune below the header row",
            ),
        )

    df = pd.DataFrame.from_records(records)
    names = cleaner.resolver.names
    flood = flood_problems(df, cb, names, len(df))
    if flood:
        raise DataError(file, flood)
    if "submitted_at" in df:
        fw, fw_log = fieldwork_problems(df, cb, year)
        log += fw_log
        if fw and ignore_fieldwork:
            log.append(
                log_row(
                    None,
                    cb.columns["submitted_at"].header,
                    None,
                    None,
                    "fieldwork_override",
                    "ignore_fieldwork=True: " + fw[0].message,
                )
            )
        elif fw:
            raise DataError(file, fw)
    df = _free_text(df, cb, free_text, log)
    df = drop_duplicates(df, cb, log, file)
    df = _assemble(df, year, synthetic, order)
    df = validate(df.set_index(df["source_row"].rename(None)), clean_schema(order), file).reset_index(drop=True)
    log_df = pd.DataFrame(log, columns=list(LOG_COLUMNS))
    log_df["row"] = log_df["row"].astype("Int64")
    for c in LOG_COLUMNS[1:]:
        log_df[c] = log_df[c].astype("str")
    df.attrs = {
        "year": year,
        "model_order": list(order),
        "source": shown_path(file),
        "codebook": shown_path(cb.path),
        "sheet": sheet.name,
        "format": sheet.kind,
    }
    return df, log_df


def _check_error_cells(file: Path, sheet: Sheet, data_rows, where: dict, header) -> None:
    """Spreadsheet error values (#REF!, #DIV/0!) in mapped columns: an error naming the cells."""
    bad = []
    for row_no, cells in data_rows:
        for k in where.values():
            if k < len(cells) and isinstance(cells[k], str) and cells[k].strip().upper() in EXCEL_ERRORS:
                bad.append(f"{_cell_ref(sheet, row_no, k)} {cells[k].strip()}")
    if bad:
        raise DataError(
            file,
            Problem(
                f"{len(bad)} cell(s) hold a spreadsheet error instead of a value: " + ", ".join(bad[:20]),
                accepted="values: fix the formulas in the workbook and save it again",
            ),
        )


def _free_text(df: pd.DataFrame, cb: Codebook, free_text: set[str], log: list) -> pd.DataFrame:
    """Redact (default) or drop free text; the log counts what was found, never what it was."""
    for var in sorted(free_text & set(df.columns)):
        col = cb.columns[var].header
        has = df[var].notna()
        if cb.free_text_policy == "keep":
            log.append(
                log_row(
                    None,
                    col,
                    None,
                    None,
                    "free_text_kept",
                    f"{int(has.sum())} free-text answer(s) kept as written, not checked for personal data (codebook "
                    "free_text: keep)",
                )
            )
            continue
        if cb.free_text_policy == "drop":
            df[var] = None
            log.append(
                log_row(
                    None,
                    col,
                    None,
                    None,
                    "free_text_dropped",
                    f"{int(has.sum())} free-text answer(s) dropped (codebook free_text: drop)",
                )
            )
            continue
        total, rows = Counter(), 0
        out = []
        for text, ident in zip(df[var], df["_identity"], strict=False):
            if text is None or (isinstance(text, float) and pd.isna(text)):
                out.append(None)
                continue
            new, counts = privacy.redact(str(text), ident)
            if counts:
                rows += 1
                total += counts
            out.append(new)
        df[var] = out
        if total:
            what = ", ".join(f"{n} {kind}" for kind, n in sorted(total.items()))
            log.append(log_row(None, col, None, None, "personal_data_redacted", f"{what} redacted in {rows} answer(s)"))
    return df.drop(columns=["_identity"])


def _assemble(df: pd.DataFrame, year: int, synthetic: bool, order) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["year"] = year
    out["kommunekode"] = df["kommunekode"].astype(int)
    out["kommune_navn"] = df["kommune_navn"].astype("str")
    out["answered_by_kommunekode"] = pd.array(df["answered_by_kommunekode"], dtype="Int64")
    out["respondent_role"] = _strs(df.get("respondent_role"), len(df))
    out["model"] = pd.Categorical(df["model"].astype(int), dtype=cooperation.model_dtype(order, include_no_answer=True))
    out["model_level"] = pd.NA
    for t in TASKS:
        out[t] = pd.array(df[t] if t in df else [pd.NA] * len(df), dtype="boolean")
    out["n_it_courses"] = pd.array(df["n_it_courses"] if "n_it_courses" in df else [pd.NA] * len(df), dtype="Int64")
    for c in ("digital_strategy", "org_change_planned", "comment"):
        out[c] = _strs(df.get(c), len(df))
    out["submitted_at"] = pd.to_datetime(df["submitted_at"]).astype("datetime64[us]")
    out["source_row"] = df["source_row"].astype(int)
    out["synthetic"] = bool(synthetic)
    return set_model_order(out, order)


def _strs(s, n) -> pd.Series:
    if s is None:
        return pd.Series([None] * n, dtype="str")
    return s.astype("str")


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def output_paths(year: int) -> tuple[Path, Path]:
    """``(parquet, cleaning log)`` of a round in paths.processed()."""
    return paths.processed() / f"survey_{year}.parquet", paths.processed() / f"survey_{year}_cleaning_log.csv"


def round_outputs(year: int) -> list[Path]:
    """Every output a clean of round ``year`` makes (processed data, and notebook 01's figures, tables, results)."""
    out = list(output_paths(year))
    for folder in (paths.figures(), paths.tables()):
        if folder.is_dir():
            out += sorted(folder.glob(f"survey_{year}_models*"))
    out.append(paths.results() / f"01_clean_survey_{year}.json")
    return out


def discard_outputs(year: int) -> list[Path]:
    """Remove a round's earlier outputs (after a failed clean nothing stale may look current)."""
    removed = []
    for p in round_outputs(year):
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells starting with = + - @ (or a tab/CR) get a leading ' so a spreadsheet shows them as text."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(
                lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
            )
    return out


class Written(NamedTuple):
    """The files a clean wrote (a named pair: ``written.data``, ``written.log``, or ``data, log = ...``).

    data: ``survey_<year>.parquet``, the clean table.
    log: ``survey_<year>_cleaning_log.csv``, one row per change.
    """

    data: Path
    log: Path


def clean_to_files(
    year: int, input_path, codebook=None, *, model_order=None, ignore_fieldwork: bool = False
) -> Written:
    """Clean and write the parquet and the cleaning log, both or neither (atomic).

    A failed clean first removes the round's earlier outputs, then raises."""
    try:
        df, log_df = clean(year, input_path, codebook, model_order=model_order, ignore_fieldwork=ignore_fieldwork)
    except Exception:
        discard_outputs(int(year))
        raise
    target, log_target = output_paths(int(year))
    with files.atomic_path(target) as tmp, files.atomic_path(log_target) as tmp_log:
        df.to_parquet(tmp, index=False)
        spreadsheet_safe(log_df).to_csv(tmp_log, index=False)
    return Written(target, log_target)


def load_log(year: int) -> pd.DataFrame:
    """The cleaning log of a round from paths.processed()."""
    log_target = paths.find_processed(output_paths(int(year))[1].name)  # this run's, else a run it reads
    if not log_target.is_file():
        raise DataError(
            log_target,
            Problem(f"round {year} has not been cleaned yet", accepted="run helpers.data.survey.clean_to_files first"),
        )
    return pd.read_csv(log_target, dtype={"row": "Int64"})


RAW_SHOWN = "data/raw/"  # how shown_path names a file under data/raw


def load_clean(year: int, model_order=None) -> pd.DataFrame:
    """A cleaned round from paths.processed(), ``model`` as an ordered categorical (default order of its codebook)."""
    target = paths.find_processed(
        output_paths(int(year))[0].name
    )  # this run's, else a run it reads (helpers.core.paths)
    if not target.is_file():
        raise DataError(
            target,
            Problem(
                f"round {year} has not been cleaned yet",
                accepted="run helpers.data.survey.clean_to_files (notebook 01_clean_survey) first",
            ),
        )
    df = pd.read_parquet(target)
    source = str((df.attrs or {}).get("source") or "")
    if source.startswith(RAW_SHOWN):  # the round's export: a raw file this run's results rest on
        provenance.note_read(source.removeprefix(RAW_SHOWN))
    order = model_order or (df.attrs or {}).get("model_order") or cooperation.DEFAULT_ORDERING
    return set_model_order(df, order)


def for_display(df: pd.DataFrame) -> pd.DataFrame:
    """A clean round without its free-text column, for showing in a notebook."""
    return df.drop(columns=[c for c in ("comment",) if c in df.columns])


def model_table(df: pd.DataFrame, n_kommuner: int = reference.N_KOMMUNER) -> pd.DataFrame:
    """Kommuner per model of a clean round: one row per model reported (0 first, then the round's level
    order), with its name (``cooperation.LABELS``) and its share of the rows and of the 98 kommuner."""
    counts = df["model"].value_counts(sort=False)
    t = pd.DataFrame(
        {
            "model": counts.index.astype(int),
            "label": [cooperation.LABELS[int(m)] for m in counts.index],
            "kommuner": counts.to_numpy(),
        }
    )
    t["share_of_rows"] = (t["kommuner"] / len(df)).round(3)
    t["share_of_98"] = (t["kommuner"] / n_kommuner).round(3)
    return t


def response(df: pd.DataFrame, n_kommuner: int = reference.N_KOMMUNER) -> Response:
    """Rows, kommuner that answered the model question, and rates over the 98 kommuner."""
    model = df["model"].astype(int)
    answered = int((model != cooperation.NO_ANSWER).sum())
    return Response(
        rows=len(df),
        answered_model=answered,
        response_rate=round(answered / n_kommuner, 3),
        cooperating=int(model.isin(cooperation.COOPERATING).sum()),
        digital_strategy_yes=int((df["digital_strategy"] == "yes").sum()),
        digital_strategy_answered=int(df["digital_strategy"].notna().sum()),
    )


def key_results(df: pd.DataFrame, log_df: pd.DataFrame, year: int) -> CleanSurveyResults:
    """The key results of notebook 01_clean_survey from a clean round and its cleaning log."""
    table = model_table(df)
    return CleanSurveyResults(
        year=int(year),
        response=response(df),
        models=tuple(
            ModelCount(int(r.model), str(r.label), int(r.kommuner), float(r.share_of_rows), float(r.share_of_98))
            for r in table.itertuples(index=False)
        ),
        changes_by_rule={str(k): int(v) for k, v in log_summary(log_df)["changes"].items()},
    )


def log_summary(log_df: pd.DataFrame) -> pd.DataFrame:
    """What cleaning changed, counted by rule."""
    return log_df.groupby("rule").size().rename("changes").sort_values(ascending=False).to_frame()
