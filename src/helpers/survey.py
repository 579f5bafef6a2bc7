"""Clean one survey round: a raw export (CSV or XLSX) plus its codebook -> canonical table + cleaning log.

Everything round-specific lives in ``config/codebooks/<round>.yaml`` (headers, value labels, the
2009 -> 2011 model crosswalk, the model ordering) and ``config/aliases.yaml`` (kommune name
aliases, Fanø answered by Esbjerg). This module only knows the canonical variables.

* :func:`clean` returns ``(clean_df, log_df)``; it never writes anything.
* :func:`clean_to_files` writes ``survey_<year>.parquet`` and ``survey_<year>_cleaning_log.csv``
  to ``paths.processed()``, both or neither.
* :func:`load_clean` reads a cleaned round back with the model as an ordered categorical
  (parquet cannot keep a categorical of integers).

The clean table has one row per kommune that submitted a response (after dropping duplicates:
the latest submission wins). ``model`` is 0 when the respondent left the model question blank.
Personal data (names, e-mails, phone numbers) are dropped before anything else and appear
neither in the table nor in the log. Every problem is raised as one :class:`DataError` naming
the file, row (as a person sees it in the file) and column, and what would have been accepted.
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from . import files, paths, provenance, reference
from .cooperation import DEFAULT_ORDERING, parse_ordering
from .errors import DataError, Problem
from .validation import validate

MODEL_ORDER_DEFAULT = DEFAULT_ORDERING  # lowest to highest cooperation; 2 and 3 not obviously ordered
MODELS = (0, 1, 2, 3, 4, 5)  # 0 = did not answer the model question
TASKS = (
    "task_driving_licence",
    "task_passport",
    "task_nemid",
    "task_health_card",
    "task_change_of_address",
    "task_pension_benefit",
    "task_it_courses",
)
YES_NO = ("yes", "no", "dont_know")
ROLES = ("library_head", "citizen_service_head", "joint_head", "department_head", "culture_head", "other")

# Canonical variables a codebook maps (or lists under not_asked), in output order.
MAPPED = (
    "kommune_navn",
    "respondent_role",
    "model",
    *TASKS,
    "n_it_courses",
    "digital_strategy",
    "org_change_planned",
    "comment",
    "submitted_at",
)
# Columns of the clean table, in order.
CANONICAL = (
    "year",
    "kommunekode",
    "kommune_navn",
    "answered_by_kommunekode",
    "respondent_role",
    "model",
    "model_level",
    *TASKS,
    "n_it_courses",
    "digital_strategy",
    "org_change_planned",
    "comment",
    "submitted_at",
    "source_row",
    "synthetic",
)
LOG_COLUMNS = ("row", "column", "old_value", "new_value", "rule", "detail")
TYPES = {"kommune", "datetime", "label", "model", "integer", "text"}
# Unmapped columns whose header contains one of these are treated as personal data (dropped, logged).
PERSONAL_HINTS = ("navn", "name", "e-mail", "email", "mail", "telefon", "tlf", "mobil", "phone", "cpr")
HEADER_SEARCH_ROWS = 30  # the header row is looked for among the first rows of the file
MOJIBAKE = re.compile("Ã[\u00a6\u00b8\u00a5\u2020\u02dc\u2026\u00a9\u00b6\u00bc]")  # UTF-8 read as cp1252: æ ø å Æ Ø Å é ö ü


# --------------------------------------------------------------------------------------------
# Codebook and aliases
# --------------------------------------------------------------------------------------------


@dataclass
class Codebook:
    path: Path
    name: str
    doc: dict

    @property
    def columns(self) -> dict:
        return self.doc["columns"]

    @property
    def model_order(self) -> tuple[int, ...]:
        return tuple(self.doc.get("model_order") or MODEL_ORDER_DEFAULT)


def available_codebooks() -> list[str]:
    return sorted(p.stem for p in paths.codebooks().glob("*.yaml"))


def load_codebook(codebook=None, year: int | None = None) -> Codebook:
    """Read and check a codebook; ``None`` means the one named after ``year``."""
    if codebook is None:
        if year is None:
            raise ValueError("give a codebook name or a year")
        codebook = str(year)
    if isinstance(codebook, Codebook):
        return codebook
    path = paths.codebook(codebook)
    if not path.is_file():
        raise DataError(
            path,
            Problem(
                f"no codebook for {codebook!r}: a new survey round needs config/codebooks/<round>.yaml "
                "(copy the codebook of a round with the same questionnaire and change year/description)",
                accepted="codebooks " + ", ".join(repr(c) for c in available_codebooks()),
            ),
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataError(path, Problem(f"not valid YAML: {exc}")) from None
    _check_codebook(path, doc)
    return Codebook(path, path.stem, doc)


def _check_codebook(path: Path, doc: dict) -> None:
    problems = []
    cols = doc.get("columns")
    if not isinstance(cols, dict) or not cols:
        raise DataError(path, Problem("missing `columns:` mapping", accepted="canonical variable -> {header, type}"))
    labels = doc.get("labels") or {}
    for var, spec in cols.items():
        if var not in MAPPED:
            problems.append(Problem("unknown canonical variable", column=var, accepted=", ".join(MAPPED)))
            continue
        if not isinstance(spec, dict) or "header" not in spec or spec.get("type") not in TYPES:
            problems.append(Problem("each column needs a header and a type", column=var, value=spec, accepted=f"type one of {sorted(TYPES)}"))
            continue
        if spec["type"] == "label" and spec.get("labels") not in labels:
            problems.append(Problem("label set not defined under `labels`", column=var, value=spec.get("labels"), accepted=", ".join(labels)))
    missing = [v for v in MAPPED if v not in cols and v not in (doc.get("not_asked") or [])]
    if missing:
        problems.append(Problem("canonical variables neither mapped nor listed under `not_asked`", value=missing))
    for essential in ("kommune_navn", "model"):
        if essential not in cols:
            problems.append(Problem("every round must map this variable", column=essential))
    codes = (doc.get("models") or {}).get("codes")
    if not isinstance(codes, dict) or not set(codes.values()) <= set(MODELS[1:]):
        problems.append(Problem("models.codes must map export codes to the 2011 models 1-5", value=codes))
    try:
        check_model_order(doc.get("model_order") or MODEL_ORDER_DEFAULT)
    except ValueError as exc:
        problems.append(Problem(str(exc), column="model_order"))
    if problems:
        raise DataError(path, problems)


def check_model_order(order) -> tuple[int, ...]:
    """A model ordering must list the models 1-5 once each, lowest cooperation first."""
    return tuple(parse_ordering(order))

def _name_key(name) -> str:
    """Normalised kommune name for matching: case, 'Kommune', punctuation, hyphens, aa = å."""
    s = unicodedata.normalize("NFC", str(name)).casefold().strip()
    s = s.replace("aa", "å")
    s = re.sub(r"\bkommune\b", " ", s)
    s = re.sub(r"[-\u2013.,/()]", " ", s)
    return " ".join(s.split())


@dataclass
class Resolver:
    official: dict[str, int]  # exact official name -> code
    keys: dict[str, tuple[int, str]]  # normalised name -> (code, how)
    answered_by: dict[str, tuple[int, int]]  # normalised name -> (code, answered_by code)
    names: dict[int, str]  # code -> official name

    def resolve(self, raw: str):
        """(code, answered_by, rule, detail) or None."""
        text = " ".join(str(raw).split())
        if text in self.official:
            return self.official[text], None, None, None
        if text.isdigit() and int(text) in self.names:
            code = int(text)
            return code, None, "kommune_code_given", f"a kommunekode instead of a name: {self.names[code]}"
        key = _name_key(text)
        if key in self.answered_by:
            code, by = self.answered_by[key]
            return code, by, "answered_by_other_kommune", f"{self.names[by]} answered for {self.names[code]} (config/aliases.yaml)"
        if key in self.keys:
            code, how = self.keys[key]
            rule = "kommune_alias" if how == "alias" else "kommune_name_variant"
            return code, None, rule, f"{how}: {self.names[code]}"
        return None

    def suggest(self, raw: str, n: int = 3) -> list[str]:
        close = difflib.get_close_matches(_name_key(raw), list(self.keys), n=n * 3, cutoff=0.5)
        out = []
        for k in close:
            name = self.names[self.keys[k][0]]
            if name not in out:
                out.append(name)
        return out[:n]


def aliases_path() -> Path:
    return paths.config() / "aliases.yaml"


@lru_cache(maxsize=4)
def _resolver(aliases_file: str, mtime: float) -> Resolver:
    m = reference.load_municipalities()
    names = dict(zip(m["kommunekode"].astype(int), m["navn"]))
    official = {n: c for c, n in names.items()}
    keys: dict[str, tuple[int, str]] = {}
    problems = []

    def add(name, code, how):
        k = _name_key(name)
        if k in keys and keys[k][0] != code:
            problems.append(Problem(f"name {name!r} would match two kommuner ({keys[k][0]} and {code})", value=name))
        keys.setdefault(k, (code, how))

    for code, name in names.items():
        add(name, code, "official name after normalising")
    c = reference.load_concordance()
    for name, code in sorted(set(zip(c["name"], c["kommunekode"].astype(int)))):
        add(name, code, "name in the 2007 reform concordance")
    doc = yaml.safe_load(Path(aliases_file).read_text(encoding="utf-8")) if Path(aliases_file).is_file() else {}
    doc = doc or {}
    for name, code in (doc.get("aliases") or {}).items():
        if int(code) not in names:
            problems.append(Problem("alias points to an unknown kommunekode", column="aliases", value={name: code}, accepted="a kommunekode of the 98 kommuner"))
            continue
        add(name, int(code), "alias")
    by = {}
    for name, spec in (doc.get("answered_by") or {}).items():
        code, who = int(spec["kommunekode"]), int(spec["answered_by"])
        if code not in names or who not in names:
            problems.append(Problem("answered_by entry points to an unknown kommunekode", column="answered_by", value={name: spec}))
            continue
        by[_name_key(name)] = (code, who)
    if problems:
        raise DataError(aliases_file, problems)
    return Resolver(official, keys, by, names)


def resolver() -> Resolver:
    """Kommune name -> kommunekode, from the official names, the 2007 concordance and config/aliases.yaml."""
    f = aliases_path()
    return _resolver(str(f), f.stat().st_mtime if f.exists() else 0.0)


# --------------------------------------------------------------------------------------------
# Reading raw exports into rows of cells
# --------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    rows: list[tuple[int, list]]  # (row number as a person sees it in the file, cells)
    kind: str  # "csv" or "xlsx"
    encoding: str | None = None
    log: list[dict] = field(default_factory=list)


def _log(row, column, old, new, rule, detail="") -> dict:
    return {"row": row, "column": column, "old_value": old, "new_value": new, "rule": rule, "detail": detail}


def _read(path: Path, cb: Codebook) -> _Sheet:
    if not path.is_file():
        here = sorted(p.name for p in path.parent.glob("*")) if path.parent.is_dir() else []
        raise DataError(path, Problem("file not found", accepted="an existing CSV or XLSX export" + (f"; files here: {', '.join(here)}" if here else "")))
    data = path.read_bytes()
    if not data.strip():
        raise DataError(path, Problem("the file is empty", accepted="a CSV or XLSX export with a header row and one row per kommune"))
    if data[:4] == b"PK\x03\x04" or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, data)
    return _read_csv(path, data, cb)


def _read_xlsx(path: Path, data: bytes) -> _Sheet:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(path, Problem(f"not a readable XLSX workbook ({type(exc).__name__})", accepted="an .xlsx file saved by Excel or the survey tool, or a CSV")) from None
    ws = wb.worksheets[0]
    rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    wb.close()
    return _Sheet(rows, "xlsx", "utf-8")


def _read_csv(path: Path, data: bytes, cb: Codebook) -> _Sheet:
    encodings = cb.doc.get("file", {}).get("encodings") or ["utf-8-sig", "utf-8", "cp1252"]
    accepted = "text encoded as " + ", ".join(encodings)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4000]:
        raise DataError(path, Problem("the file looks like UTF-16 or binary, not a text export", accepted=accepted + " (in Excel: Save As > CSV UTF-8)"))
    text = enc = None
    bad_at = None
    for e in encodings:
        if e == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
            continue
        try:
            text, enc = data.decode(e), e
            break
        except UnicodeDecodeError as exc:
            bad_at = exc.start
            continue
    if text is None:
        row = data[:bad_at].count(b"\n") + 1 if bad_at is not None else None
        raise DataError(path, Problem("cannot decode the file", row=row, value=data[bad_at:bad_at + 1] if bad_at is not None else None,
                                      accepted=accepted))
    log = []
    if MOJIBAKE.search(text):
        try:
            fixed = text.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            fixed = None
        if fixed is not None:
            sample = MOJIBAKE.search(text).group(0)
            log.append(_log(None, None, sample, sample.encode("cp1252").decode("utf-8"), "encoding_mojibake",
                            "UTF-8 text had been read as Windows-1252 and saved again; decoded back"))
            text = fixed
    lines = [ln for ln in text.splitlines()[:HEADER_SEARCH_ROWS] if ln.strip()]
    delimiter = max([";", ",", "\t"], key=lambda d: max((ln.count(d) for ln in lines), default=0))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, start = [], 1
    try:
        for cells in reader:
            rows.append((start, [c if c.strip() else None for c in cells]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(path, Problem(f"CSV cannot be parsed: {exc}", row=start, accepted=f"fields separated by {delimiter!r}, quoted with \"")) from None
    return _Sheet(rows, "csv", enc, log)


# --------------------------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------------------------


def _hnorm(value) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _find_header(sheet: _Sheet, cb: Codebook, file: Path):
    """Index (into sheet.rows) of the header row, and the header cells (merged rows combined)."""
    expected = {_hnorm(s["header"]) for s in cb.columns.values()}
    known = expected | {_hnorm(h) for h in (cb.doc.get("personal_data") or []) + (cb.doc.get("ignore") or [])}
    all_headers = [s["header"] for s in cb.columns.values()]
    scores = [(sum(_hnorm(c) in expected for c in cells), i) for i, (_, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS])]
    best, h = max(scores, key=lambda t: (t[0], -t[1]), default=(0, 0))
    if best < max(2, len(expected) // 3):
        raise DataError(file, Problem(
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows (codebook {paths.relative(cb.path)})",
            accepted="a row with the headers " + ", ".join(repr(x) for x in all_headers)))
    header = list(sheet.rows[h][1])
    last = h
    # Merged header rows: a neighbouring row carries headers this row lacks (a two-line header).
    for j in (h - 1, h + 1):
        if not 0 <= j < len(sheet.rows):
            continue
        row_no, cells = sheet.rows[j]
        present = {_hnorm(c) for c in header}
        extra = [(k, c) for k, c in enumerate(cells) if _hnorm(c) in known and _hnorm(c) not in present]
        if not extra:
            continue
        header += [None] * (len(cells) - len(header))
        for k, c in extra:
            old = header[k]
            if old is None or _hnorm(old) not in known:
                header[k] = c
        sheet.log.append(_log(row_no, None, None, None, "merged_header_rows",
                              f"header split over rows {sheet.rows[min(h, j)][0]}-{sheet.rows[max(h, j)][0]}; combined "
                              f"({len(extra)} header(s) taken from row {row_no})"))
        last = max(last, j)
    return last, header


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and pd.isna(v))


def _key(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return " ".join(str(v).split())


def _loose(s: str) -> str:
    return re.sub(r"[\s.!,;:]+$", "", " ".join(str(s).split()).casefold())


class _Cleaner:
    """Converts one export's cells to canonical values, collecting problems and log rows."""

    def __init__(self, file: Path, cb: Codebook, sheet: _Sheet):
        self.file, self.cb, self.sheet = file, cb, sheet
        self.problems: list[Problem] = []
        self.log: list[dict] = sheet.log
        self.resolver = resolver()
        fmts = cb.doc.get("file", {}).get("datetime_formats") or ["%d-%m-%Y %H:%M"]
        self.datetime_formats = list(fmts)

    def problem(self, message, row, column, value=None, accepted=None):
        self.problems.append(Problem(message, row=row, column=column, value=value, accepted=accepted))

    def kommune(self, v, row, col):
        if _blank(v):
            self.problem("no kommune given", row, col, accepted="the name of one of the 98 kommuner, e.g. 'Aarhus'")
            return None, None
        hit = self.resolver.resolve(v)
        if hit is None:
            close = self.resolver.suggest(v)
            self.problem(
                "unknown kommune", row, col, value=v,
                accepted=("close matches: " + ", ".join(repr(c) for c in close) + "; " if close else "")
                + f"any of the 98 official names, or an alias added to {paths.relative(aliases_path())}",
            )
            return None, None
        code, by, rule, detail = hit
        if rule:
            self.log.append(_log(row, col, str(v), f"{code} {self.resolver.names[code]}", rule, detail))
        return code, by

    def datetime(self, v, row, col):
        if _blank(v):
            return pd.NaT
        if isinstance(v, (_dt.datetime, _dt.date)):
            return pd.Timestamp(v)
        text = " ".join(str(v).split())
        for f in self.datetime_formats:
            try:
                return pd.Timestamp(_dt.datetime.strptime(text, f))
            except ValueError:
                continue
        self.problem("not a date and time", row, col, value=v, accepted="dates such as " + ", ".join(
            repr(_dt.datetime(2011, 9, 30, 14, 5).strftime(f)) for f in self.datetime_formats))
        return pd.NaT

    def label(self, v, row, col, labels: dict):
        if _blank(v):
            return None
        table = {_key(k): val for k, val in labels.items()}
        k = _key(v)
        if k in table:
            return table[k]
        loose = {_loose(a): val for a, val in table.items()}
        if _loose(k) in loose:
            new = loose[_loose(k)]
            self.log.append(_log(row, col, str(v), str(new), "label_variant", "spelling/case/punctuation variant of a value label"))
            return new
        self.problem("value not in the codebook's labels", row, col, value=v, accepted=", ".join(repr(a) for a in table) + " (or blank)")
        return None

    def model(self, v, row, col):
        models = self.cb.doc["models"]
        codes = {int(k): int(val) for k, val in models["codes"].items()}
        names = models.get("scheme_labels") or self.cb.doc.get("model_labels") or {}
        accepted = ", ".join(f"{k} ({names.get(k, '')})".replace(" ()", "") for k in codes) + ", or blank (no answer)"
        if _blank(v):
            return int(models.get("blank", 0))
        code = self.number(v, row, col, accepted=accepted)
        if code is None:
            return None
        if code not in codes:
            self.problem("unknown model code", row, col, value=v, accepted=accepted)
            return None
        new = codes[code]
        if new != code:
            self.log.append(_log(row, col, str(code), str(new), "model_crosswalk",
                                 f"{names.get(code, code)} -> {self.cb.doc.get('model_labels', {}).get(new, new)} ({paths.relative(self.cb.path)})"))
        return new

    def number(self, v, row, col, accepted="a whole number", minimum=None):
        if _blank(v):
            return None
        if isinstance(v, bool):
            self.problem("not a number", row, col, value=v, accepted=accepted)
            return None
        if isinstance(v, (int, float)):
            if isinstance(v, float) and not v.is_integer():
                self.problem("not a whole number", row, col, value=v, accepted=accepted)
                return None
            n = int(v)
        else:
            text = str(v).strip()
            digits = re.sub(r"(?<=\d)[ .](?=\d{3}\b)", "", text)  # 1.200 / 1 200
            if not re.fullmatch(r"[+-]?\d+", digits):
                self.problem("not a whole number", row, col, value=v, accepted=accepted)
                return None
            n = int(digits)
            if self.sheet.kind == "xlsx" or digits != text:
                self.log.append(_log(row, col, repr(v), str(n), "number_from_text", "number stored as text converted"))
        if minimum is not None and n < minimum:
            self.problem(f"below the minimum {minimum}", row, col, value=v, accepted=accepted)
            return None
        return n

    def text(self, v, row, col):
        return None if _blank(v) else " ".join(str(v).split())


# --------------------------------------------------------------------------------------------
# Clean
# --------------------------------------------------------------------------------------------


def _resolve_input(input_path) -> Path:
    p = Path(input_path)
    if p.is_absolute():
        return p
    under_raw = paths.raw() / p
    return p if p.exists() and not under_raw.exists() else under_raw


def is_synthetic(path: Path) -> bool:
    """From the manifest for files under data/raw; elsewhere, True only for example_* files."""
    path = Path(path).resolve()
    try:
        path.relative_to(paths.raw().resolve())
    except ValueError:
        return path.name.startswith("example_")
    return provenance.is_synthetic(path)


def clean_schema(model_order=MODEL_ORDER_DEFAULT) -> pa.DataFrameSchema:
    codes = sorted(reference.load_municipalities()["kommunekode"].astype(int))
    yn = pa.Column(str, pa.Check.isin(YES_NO), nullable=True)
    return pa.DataFrameSchema(
        {
            "year": pa.Column(int, pa.Check.in_range(2000, 2100)),
            "kommunekode": pa.Column(int, pa.Check.isin(codes), unique=True),
            "kommune_navn": pa.Column(str, pa.Check.str_length(min_value=1)),
            "answered_by_kommunekode": pa.Column("Int64", pa.Check.isin(codes), nullable=True),
            "respondent_role": pa.Column(str, pa.Check.isin(ROLES), nullable=True),
            "model": pa.Column(model_dtype(model_order)),
            "model_level": pa.Column("Int64", pa.Check.in_range(1, 5), nullable=True),
            **{t: pa.Column("boolean", nullable=True) for t in TASKS},
            "n_it_courses": pa.Column("Int64", pa.Check.ge(0), nullable=True),
            "digital_strategy": yn,
            "org_change_planned": yn,
            "comment": pa.Column(str, nullable=True),
            "submitted_at": pa.Column("datetime64[us]", nullable=True),
            "source_row": pa.Column(int, pa.Check.ge(1)),
            "synthetic": pa.Column(bool),
        },
        strict=True,
        ordered=True,
    )


def model_dtype(model_order=MODEL_ORDER_DEFAULT) -> pd.CategoricalDtype:
    """Ordered categorical of the models: 0 (no answer) first, then ``model_order`` lowest to highest."""
    return pd.CategoricalDtype([0, *check_model_order(model_order)], ordered=True)


def set_model_order(df: pd.DataFrame, model_order) -> pd.DataFrame:
    """A copy of a clean round with ``model`` re-ordered and ``model_level`` (1 = lowest) recomputed."""
    order = check_model_order(model_order)
    out = df.copy()
    out["model"] = pd.Categorical(out["model"].astype(int), dtype=model_dtype(order))
    level = {m: i for i, m in enumerate(order, start=1)}
    out["model_level"] = out["model"].astype(int).map(level).astype("Int64")
    return out


def clean(year: int, input_path, codebook=None, *, model_order=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean one survey export. Returns ``(clean_df, log_df)``; raises DataError on unusable input.

    ``codebook``: a name under config/codebooks ("2011"), a path to a YAML file, or None for the
    one named after ``year``. ``model_order``: the cooperation ordering (lowest first), default the
    codebook's ``model_order``. ``input_path``: absolute, or relative to data/raw.
    """
    year = int(year)
    cb = load_codebook(codebook, year)
    order = check_model_order(model_order or cb.model_order)
    file = _resolve_input(input_path)
    sheet = _read(file, cb)
    synthetic = is_synthetic(file)
    h, header = _find_header(sheet, cb, file)
    header_row_no = sheet.rows[h][0]

    # Which column holds what.
    positions: dict[str, list[int]] = {}
    for k, c in enumerate(header):
        if not _blank(c):
            positions.setdefault(_hnorm(c), []).append(k)
    problems, log = [], sheet.log
    personal = {_hnorm(x) for x in cb.doc.get("personal_data") or []}
    ignore = {_hnorm(x) for x in cb.doc.get("ignore") or []}
    where: dict[str, int] = {}
    for var, spec in cb.columns.items():
        hk = _hnorm(spec["header"])
        found = positions.get(hk, [])
        if len(found) > 1:
            problems.append(Problem("the same header appears in more than one column", row=header_row_no, column=spec["header"],
                                    value=[_letter(k) for k in found], accepted="each header once"))
        elif not found:
            if spec.get("required", True):
                close = difflib.get_close_matches(hk, list(positions), n=2, cutoff=0.6)
                problems.append(Problem("required column missing", row=header_row_no, column=spec["header"],
                                        value=[header[positions[c][0]] for c in close] or None,
                                        accepted=f"a column headed {spec['header']!r} (codebook {paths.relative(cb.path)})"))
            else:
                log.append(_log(header_row_no, spec["header"], None, None, "optional_column_missing", f"{var} set to missing"))
        else:
            where[var] = found[0]
    used = set(where.values())
    for hk, ks in positions.items():
        for k in ks:
            if k in used:
                continue
            shown = header[k]
            if hk in personal or any(p in hk for p in PERSONAL_HINTS):
                log.append(_log(None, str(shown), None, None, "personal_data_dropped", "column with personal data removed; values not kept"))
            elif hk not in ignore:
                log.append(_log(None, str(shown), None, None, "unmapped_column_dropped", "header not in the codebook"))
    if problems:
        raise DataError(file, problems)

    data_rows = sheet.rows[h + 1:]
    width = len(header)
    cleaner = _Cleaner(file, cb, sheet)
    records = []
    filled = {i for i, (_, cells) in enumerate(data_rows) if not all(_blank(c) for c in cells)}
    last_filled = max(filled, default=-1)
    for i, (row_no, cells) in enumerate(data_rows):
        if i not in filled:
            if i < last_filled:  # trailing empty rows of a sheet are not worth a log line
                log.append(_log(row_no, None, None, None, "blank_row_dropped", "empty row removed"))
            continue
        if len(cells) > width and any(not _blank(c) for c in cells[width:]):
            cleaner.problem(f"{len(cells)} fields but {width} headers", row_no, None,
                            accepted=f"{width} fields per row (a delimiter inside an unquoted value?)")
            continue
        cells = cells + [None] * (width - len(cells))
        rec = {"source_row": row_no}
        for var, k in where.items():
            spec = cb.columns[var]
            v, col = cells[k], spec["header"]
            t = spec["type"]
            if t == "kommune":
                rec["kommunekode"], rec["answered_by_kommunekode"] = cleaner.kommune(v, row_no, col)
                rec[var] = cleaner.text(v, row_no, col)
            elif t == "datetime":
                rec[var] = cleaner.datetime(v, row_no, col)
            elif t == "label":
                rec[var] = cleaner.label(v, row_no, col, cb.doc["labels"][spec["labels"]])
            elif t == "model":
                rec[var] = cleaner.model(v, row_no, col)
            elif t == "integer":
                rec[var] = cleaner.number(v, row_no, col, accepted=f"a whole number >= {spec.get('min', 0)}", minimum=spec.get("min"))
            else:
                rec[var] = cleaner.text(v, row_no, col)
        records.append(rec)
    if cleaner.problems:
        raise DataError(file, cleaner.problems)
    if not records:
        raise DataError(file, Problem("no data rows below the header", row=header_row_no,
                                      accepted="one row per responding kommune below the header row"))

    df = pd.DataFrame.from_records(records)
    df = _drop_duplicates(df, cb, log)
    df = _assemble(df, year, synthetic, order)
    df = validate(df.set_index(df["source_row"].rename(None)), clean_schema(order), file).reset_index(drop=True)
    log_df = pd.DataFrame(log, columns=list(LOG_COLUMNS))
    log_df["row"] = log_df["row"].astype("Int64")
    for c in LOG_COLUMNS[1:]:
        log_df[c] = log_df[c].astype("str")
    df.attrs = {"year": year, "model_order": list(order), "source": paths.relative(file), "codebook": paths.relative(cb.path)}
    return df, log_df


def _drop_duplicates(df: pd.DataFrame, cb: Codebook, log: list) -> pd.DataFrame:
    """Keep the latest submission per kommune (ties: the lower row in the file); log the rest."""
    col = cb.columns["kommune_navn"]["header"]
    if "submitted_at" not in df:
        df["submitted_at"] = pd.NaT
    df = df.sort_values(["submitted_at", "source_row"], na_position="first", kind="stable")
    dup = df.duplicated("kommunekode", keep="last")
    kept = df.drop_duplicates("kommunekode", keep="last").set_index("kommunekode")["source_row"]
    for _, r in df[dup].iterrows():
        log.append(_log(r["source_row"], col, f"{r['kommune_navn']} ({r['submitted_at']})", f"kept row {kept[r['kommunekode']]}",
                        "duplicate_kept_latest", f"kommune {r['kommunekode']} answered more than once; the latest submission is kept"))
    return df[~dup].sort_values("kommunekode").reset_index(drop=True)


def _assemble(df: pd.DataFrame, year: int, synthetic: bool, order) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["year"] = year
    out["kommunekode"] = df["kommunekode"].astype(int)
    out["kommune_navn"] = df["kommune_navn"].astype("str")
    out["answered_by_kommunekode"] = pd.array(df["answered_by_kommunekode"], dtype="Int64")
    out["respondent_role"] = _strs(df.get("respondent_role"), len(df))
    out["model"] = pd.Categorical(df["model"].astype(int), dtype=model_dtype(order))
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


def output_paths(year: int) -> tuple[Path, Path]:
    """``(parquet, cleaning log)`` of a round in paths.processed()."""
    return paths.processed() / f"survey_{year}.parquet", paths.processed() / f"survey_{year}_cleaning_log.csv"


def clean_to_files(year: int, input_path, codebook=None, *, model_order=None) -> tuple[Path, Path]:
    """Clean and write the parquet and the cleaning log, both or neither (atomic)."""
    df, log_df = clean(year, input_path, codebook, model_order=model_order)
    target, log_target = output_paths(int(year))
    with files.atomic_path(target) as tmp, files.atomic_path(log_target) as tmp_log:
        df.to_parquet(tmp, index=False)
        log_df.to_csv(tmp_log, index=False)
    return target, log_target


def load_log(year: int) -> pd.DataFrame:
    """The cleaning log of a round from paths.processed()."""
    _, log_target = output_paths(int(year))
    if not log_target.is_file():
        raise DataError(log_target, Problem(f"round {year} has not been cleaned yet", accepted="run helpers.survey.clean_to_files first"))
    return pd.read_csv(log_target, dtype={"row": "Int64"})


def load_clean(year: int, model_order=None) -> pd.DataFrame:
    """A cleaned round from paths.processed(), ``model`` as an ordered categorical (default order of its codebook)."""
    target, _ = output_paths(int(year))
    if not target.is_file():
        raise DataError(target, Problem(f"round {year} has not been cleaned yet", accepted="run helpers.survey.clean_to_files (notebook 01_clean_survey) first"))
    df = pd.read_parquet(target)
    order = model_order or (df.attrs or {}).get("model_order") or MODEL_ORDER_DEFAULT
    return set_model_order(df, order)


def summary(df: pd.DataFrame, n_kommuner: int = reference.N_KOMMUNER) -> pd.DataFrame:
    """Response rate and model distribution of a clean round: one row per model (in level order)."""
    labels = {0: "Har ikke svaret (blank model)", 1: "Den spæde start", 2: "Vi flytter sammen", 3: "Vi arbejder sammen",
              4: "Vi er borgernes fælles indgang til kommunen", 5: "Intet samarbejde"}
    counts = df["model"].value_counts(sort=False)
    t = pd.DataFrame({"model": counts.index.astype(int), "label": [labels[int(m)] for m in counts.index], "kommuner": counts.to_numpy()})
    t["share_of_rows"] = (t["kommuner"] / len(df)).round(3)
    t["share_of_98"] = (t["kommuner"] / n_kommuner).round(3)
    return t


def response(df: pd.DataFrame, n_kommuner: int = reference.N_KOMMUNER) -> dict:
    """Rows, kommuner that answered the model question, and rates over the 98 kommuner."""
    answered = int((df["model"].astype(int) != 0).sum())
    coop = int(df["model"].astype(int).isin([1, 2, 3, 4]).sum())
    return {
        "rows": len(df),
        "answered_model": answered,
        "response_rate": round(answered / n_kommuner, 3),
        "cooperating": coop,
        "digital_strategy_yes": int((df["digital_strategy"] == "yes").sum()),
        "digital_strategy_answered": int(df["digital_strategy"].notna().sum()),
    }


def log_summary(log_df: pd.DataFrame) -> pd.DataFrame:
    """What cleaning changed, counted by rule."""
    return log_df.groupby("rule").size().rename("changes").sort_values(ascending=False).to_frame()
