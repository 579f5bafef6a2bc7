"""Reading survey exports into rows of cells, whatever the survey tool or spreadsheet saved.

The format is decided from the file's content (its first bytes), not from its extension alone:

=========================  ============================================================
content                    read as
=========================  ============================================================
ZIP with ``xl/workbook``    XLSX (openpyxl, every sheet at its real extent: a stale
                           declared ``<dimension>`` is ignored); formula cells without
                           a stored value are an error naming the cells
ZIP with ODS mimetype      ODS (python-calamine)
OLE2 compound file         XLS (python-calamine)
``$FL2``/``$FL3``          SPSS ``.sav`` (pyreadstat; value labels kept with each code)
``<stata_dta>`` / old dta  Stata ``.dta`` (pyreadstat; value labels kept)
text                       CSV or tab-separated: UTF-8 with or without BOM, UTF-16 LE/BE
                           (with BOM, or without it when the zero bytes show it),
                           the codebook's encodings (cp1252); the delimiter is the one
                           that splits the header line into the codebook's headers
=========================  ============================================================

Anything else (HTML saved as ``.xls``, Excel 2003 XML, PDF, a damaged ZIP or sheet XML, binary
data) is a :class:`DataError` that says what the file seems to be. Only this module knows file
formats; it returns a :class:`Sheet` of ``(row number as a person sees it, cells)``.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core.errors import DataError, Problem

from .codebooks import Codebook
from .text import blank, key, shown_path

HEADER_SEARCH_ROWS = 30  # the header row is looked for among the first rows of the file
DELIMITERS = (";", ",", "\t", "|")
FORMATS = "CSV or tab-separated text (UTF-8, UTF-16, Windows-1252), XLSX, XLS, ODS, SPSS .sav or Stata .dta"
MOJIBAKE = re.compile(
    "Ã[\u00a6\u00b8\u00a5\u2020\u02dc\u2026\u00a9\u00b6\u00bc]"
)  # UTF-8 read as cp1252: æ ø å Æ Ø Å é ö ü
EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"}
_KIND_NAMES = {
    "csv": "CSV",
    "tsv": "tab-separated text",
    "xlsx": "XLSX",
    "xls": "XLS",
    "ods": "ODS",
    "sav": "SPSS .sav",
    "dta": "Stata .dta",
}


@dataclass(frozen=True)
class Labelled:
    """A coded value with its value label (SPSS/Stata): matching tries the label and the code."""

    value: object
    label: str

    def __str__(self) -> str:
        return f"{self.value} ({self.label})"


@dataclass
class Sheet:
    rows: list[tuple[int, list]]  # (row number as a person sees it in the file, cells)
    kind: str  # csv, tsv, xlsx, xls, ods, sav, dta
    encoding: str | None = None
    name: str | None = None  # the sheet read, for workbooks
    log: list[dict] = field(default_factory=list)
    formula_cells: list[str] = field(default_factory=list)  # cells holding a formula without a stored value
    text: bool = False  # every cell came as text (CSV/TSV)
    hidden_rows: frozenset[int] = frozenset()  # rows hidden in the workbook (row numbers as a person sees them)


@dataclass
class Candidate:
    """One sheet of a workbook: its name, rows, whether it is visible, and which of its rows are hidden."""

    name: str
    rows: list
    visible: bool = True
    hidden_rows: frozenset[int] = frozenset()


def log_row(row, column, old, new, rule, detail="") -> dict:
    return {"row": row, "column": column, "old_value": old, "new_value": new, "rule": rule, "detail": detail}


def expected_headers(cb: Codebook) -> set[str]:
    return {key(s.header) for s in cb.columns.values()}


def header_score(cells, expected: set[str]) -> int:
    return sum(1 for c in cells if not blank(c) and key(c) in expected)


def read(path: Path, cb: Codebook) -> Sheet:
    """The export at ``path`` as a :class:`Sheet`; a located DataError when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        here = sorted(p.name for p in path.parent.glob("*")) if path.parent.is_dir() else []
        raise DataError(
            path,
            Problem(
                "file not found",
                accepted=f"an existing CSV or XLSX export ({FORMATS})"
                + (f"; files here: {', '.join(here)}" if here else ""),
            ),
        )
    data = path.read_bytes()
    if not data.strip() or not data.strip(b"\x00\xef\xbb\xbf\xff\xfe \r\n\t"):
        raise DataError(
            path, Problem("the file is empty", accepted="an export with a header row and one row per kommune")
        )
    kind = sniff(data, path.suffix.lower())
    if kind == "zip":
        sheet = _read_zip(path, data, cb)
    elif kind == "ole2":
        sheet = _read_ole2(path, data, cb)
    elif kind in ("sav", "dta"):
        sheet = _read_stat(path, cb, kind)
    elif kind != "text":
        raise DataError(path, Problem(f"the file seems to be {kind}, not a survey export", accepted=FORMATS))
    else:
        sheet = _read_text(path, data, cb)
    return _strip_controls(sheet)


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls but tab, line feed and return; DEL


def _strip_controls(sheet: Sheet) -> Sheet:
    """Control characters (NUL, ...) removed from every text cell, logged by row (never the text itself)."""
    rows_hit: dict[int, int] = {}
    for i, (row_no, cells) in enumerate(sheet.rows):
        changed = False
        for j, c in enumerate(cells):
            if isinstance(c, str) and CONTROL.search(c):
                cells[j] = CONTROL.sub("", c)
                rows_hit[row_no] = rows_hit.get(row_no, 0) + 1
                changed = True
        if changed:
            sheet.rows[i] = (row_no, cells)
    if rows_hit:
        shown = ", ".join(str(r) for r in list(rows_hit)[:15]) + (", ..." if len(rows_hit) > 15 else "")
        sheet.log.append(
            log_row(
                None,
                None,
                None,
                None,
                "control_characters_removed",
                f"control characters (NUL and the like) removed from {sum(rows_hit.values())} cell(s) in rows {shown}",
            )
        )
    return sheet


def sniff(data: bytes, suffix: str = "") -> str:
    """What the bytes are: zip, ole2, sav, dta, text, or a description of something unreadable."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole2"
    if data[:4] in (b"$FL2", b"$FL3"):
        return "sav"
    if data.startswith(b"<stata_dta>") or (
        suffix == ".dta" and data[:1] in b"\x71\x72\x73" and data[1:2] in (b"\x01", b"\x02")
    ):
        return "dta"
    if data.startswith(b"%PDF"):
        return "a PDF document"
    if data[:2] == b"\x1f\x8b":
        return "a gzip archive"
    return "text"


def _fail(path: Path, what: str, fix: str = "") -> DataError:
    return DataError(path, Problem(what, accepted=FORMATS + (f" ({fix})" if fix else "")))


# --------------------------------------------------------------------------------------------
# Workbooks
# --------------------------------------------------------------------------------------------


def _read_zip(path: Path, data: bytes, cb: Codebook) -> Sheet:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
        bad = zf.testzip()
    except BaseException as exc:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError, ...: the archive is damaged
        _reraise_interrupts(exc)
        raise _fail(
            path,
            f"the file starts like a ZIP archive (as XLSX and ODS workbooks do) but is damaged ({_why(exc)})",
            "save the workbook again from Excel or the survey tool",
        ) from None
    if bad is not None:
        raise _fail(
            path,
            f"a damaged ZIP archive (part {bad!r} fails its checksum); an XLSX or ODS workbook cannot be read from it",
            "save the workbook again",
        )
    if "xl/workbook.xml" in names:
        return _read_xlsx(path, data, cb)
    try:
        mimetype = zf.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
    except BaseException as exc:  # noqa: BLE001 - a damaged member
        _reraise_interrupts(exc)
        raise _fail(path, f"a damaged ZIP archive ({_why(exc)})", "save the workbook again") from None
    if mimetype == "application/vnd.oasis.opendocument.spreadsheet":
        return _read_calamine(path, data, cb, "ods")
    if "word/document.xml" in names or "text" in mimetype:
        raise _fail(
            path, "a word-processor document (DOCX/ODT), not a spreadsheet", "export the survey as a spreadsheet or CSV"
        )
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    raise _fail(
        path,
        f"a ZIP archive that is not a workbook (it holds {shown or 'nothing'})",
        "unpack it and give the export itself",
    )


def _choose_sheet(path: Path, cb: Codebook, sheets: list[Candidate], kind: str) -> tuple[Candidate, list[dict]]:
    """The sheet named in the codebook, else the one sheet whose header row matches the codebook best.

    Never a silent choice: sheets that fit equally well are an error listing each with its row count
    and visibility (a region's subset, an old hidden backup), and a hidden sheet that is used is logged."""
    names = [c.name for c in sheets]
    wanted = cb.spec.sheet
    where = f"codebook {shown_path(cb.path)} key `sheet`"
    if wanted is not None:

        def missing(why: str) -> DataError:
            return DataError(path, Problem(why, column="sheet", accepted="sheets " + ", ".join(repr(n) for n in names)))

        if isinstance(wanted, int) and not isinstance(wanted, bool):
            if not 1 <= wanted <= len(sheets):
                raise missing(f"the codebook asks for sheet number {wanted}, the workbook has {len(sheets)}")
            chosen = sheets[wanted - 1]
        else:
            hit = [c for c in sheets if key(c.name) == key(wanted)]
            if not hit:
                raise missing(f"no sheet named {wanted!r} ({where})")
            chosen = hit[0]
        log = [
            log_row(None, None, None, None, "read_as", f"{_KIND_NAMES[kind]}, sheet {chosen.name!r}"),
            log_row(
                None,
                None,
                None,
                chosen.name,
                "sheet_chosen",
                f"sheet {chosen.name!r} named by the codebook (of {len(sheets)})",
            ),
        ]
        return chosen, log + _hidden_sheet_log(chosen)
    expected = expected_headers(cb)
    fits = [_fit(c, expected) for c in sheets]
    best = max(score for score, _ in fits)
    top = [(c, n) for c, (score, n) in zip(sheets, fits, strict=True) if score == best]
    if len(top) > 1 and best > 0:
        listed = "; ".join(
            f"{c.name!r} ({n} rows below the header, {'visible' if c.visible else 'hidden'})" for c, n in top
        )
        raise DataError(
            path,
            Problem(
                f"{len(top)} sheets fit the codebook equally well ({best} of its headers each): {listed}. "
                "Which one holds the answers cannot be decided from the file",
                column="sheet",
                accepted=f"the sheet to read named in the codebook: `sheet: <name>` ({where})",
            ),
        )
    chosen = top[0][0]
    log = [log_row(None, None, None, None, "read_as", f"{_KIND_NAMES[kind]}, sheet {chosen.name!r}")]
    if len(sheets) > 1:
        log.append(
            log_row(
                None,
                None,
                None,
                chosen.name,
                "sheet_chosen",
                f"sheet {chosen.name!r} of {len(sheets)} ({', '.join(names)}): its header row matches {best} codebook "
                "headers, more than any other sheet",
            )
        )
    return chosen, log + _hidden_sheet_log(chosen)


def _fit(c: Candidate, expected: set[str]) -> tuple[int, int]:
    """How many codebook headers the sheet's best header row holds, and its filled rows below that row."""
    scores = [header_score(r, expected) for r in c.rows[:HEADER_SEARCH_ROWS]]
    if not scores:
        return 0, 0
    best = max(scores)
    h = scores.index(best)
    return best, sum(1 for r in c.rows[h + 1 :] if not all(blank(x) for x in r))


def _hidden_sheet_log(c: Candidate) -> list[dict]:
    if c.visible:
        return []
    return [
        log_row(
            None,
            None,
            None,
            c.name,
            "hidden_sheet_used",
            f"sheet {c.name!r} is hidden in the workbook; it is the only sheet that fits the codebook",
        )
    ]


def _hidden_rows(zf: zipfile.ZipFile, member: str | None) -> frozenset[int]:
    """Row numbers marked hidden in a worksheet's XML (openpyxl's read-only mode does not report them)."""
    if not member:
        return frozenset()
    try:
        xml = zf.read(member.lstrip("/"))
    except KeyError:
        return frozenset()
    out = set()
    for tag in re.finditer(rb"<(?:\w+:)?row\b[^>]*>", xml):
        t = tag.group(0)
        if re.search(rb'\bhidden="(?:1|true)"', t):
            r = re.search(rb'\br="(\d+)"', t)
            if r:
                out.add(int(r.group(1)))
    return frozenset(out)


def _read_xlsx(path: Path, data: bytes, cb: Codebook) -> Sheet:
    import openpyxl

    try:
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        zf = zipfile.ZipFile(io.BytesIO(data))
        sheets, formula_sheets = [], {}
        for ws, wf in zip(values.worksheets, formulas.worksheets, strict=False):
            ws.reset_dimensions()  # a stale <dimension> would truncate rows or columns
            wf.reset_dimensions()
            sheets.append(
                Candidate(
                    ws.title,
                    [list(r) for r in ws.iter_rows(values_only=True)],
                    visible=getattr(ws, "sheet_state", "visible") == "visible",
                    hidden_rows=_hidden_rows(zf, getattr(ws, "_worksheet_path", None)),
                )
            )
            formula_sheets[ws.title] = [list(r) for r in wf.iter_rows(values_only=True)]
        values.close()
        formulas.close()
    except BaseException as exc:  # noqa: BLE001 - any failure inside a damaged workbook is reported, not raised
        _reraise_interrupts(exc)
        raise _fail(
            path,
            f"an XLSX workbook whose contents cannot be read (damaged sheet XML or parts: {_why(exc)})",
            "open it in Excel and save it again",
        ) from None
    if not sheets:
        raise _fail(path, "an XLSX workbook without worksheets")
    chosen, log = _choose_sheet(path, cb, sheets, "xlsx")
    missing = []
    for i, (vrow, frow) in enumerate(zip(chosen.rows, formula_sheets[chosen.name], strict=False), start=1):
        for j, (v, f) in enumerate(zip(vrow, frow, strict=False)):
            if (
                v is None
                and f is not None
                and (isinstance(f, str) and f.startswith("=") or type(f).__name__.endswith("Formula"))
            ):
                missing.append(f"{_letter(j)}{i}")
    sheet = Sheet([(i, r) for i, r in enumerate(chosen.rows, start=1)], "xlsx", None, chosen.name, log)
    sheet.formula_cells = missing
    sheet.hidden_rows = chosen.hidden_rows
    return sheet


def _reraise_interrupts(exc: BaseException) -> None:
    """Readers fail in their own ways on damaged bytes, some outside ``Exception`` (python-calamine's Rust
    panics are ``BaseException``): every failure becomes a located error, except an interrupt."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
        raise exc


def _why(exc: BaseException) -> str:
    """An exception as a cause a person can read: its type, and its message when that names no path."""
    text = str(exc).strip()
    if not text or "/" in text or "\\" in text or len(text) > 120:
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}"


ENCRYPTED_STREAMS = ("EncryptedPackage", "EncryptionInfo")  # an OOXML file saved with a password (MS-OFFCRYPTO)


def _read_ole2(path: Path, data: bytes, cb: Codebook) -> Sheet:
    """An OLE2 compound file: an XLS workbook, or an encrypted (password-protected) workbook of any kind."""
    if any(name.encode("utf-16-le") in data for name in ENCRYPTED_STREAMS):
        raise DataError(
            path,
            Problem(
                "an encrypted, password-protected workbook: its contents cannot be read without the password",
                accepted="the workbook saved again without a password (Excel: File > Info > Protect Workbook > "
                "Encrypt with Password, clear it), or a CSV export",
            ),
        )
    return _read_calamine(path, data, cb, "xls")


def _read_calamine(path: Path, data: bytes, cb: Codebook, kind: str) -> Sheet:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = {m.name: "hidden" not in str(m.visible).lower() for m in wb.sheets_metadata}
        sheets = []
        for n in wb.sheet_names:
            rows = wb.get_sheet_by_name(n).to_python(skip_empty_area=False)
            cells = [[None if (isinstance(c, str) and c == "") else c for c in r] for r in rows]
            sheets.append(Candidate(n, cells, visible=visible.get(n, True)))
    except BaseException as exc:  # noqa: BLE001 - the reader's errors are reported as what the file seems to be
        _reraise_interrupts(exc)
        what = (
            "an old Office (OLE2) file that is not a readable XLS workbook"
            if kind == "xls"
            else "an ODS workbook that cannot be read"
        )
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            what = f"an encrypted, password-protected {kind.upper()} workbook"
        raise _fail(path, f"{what} ({_why(exc)})", "open it in a spreadsheet program and save it as .xlsx") from None
    if not sheets:
        raise _fail(path, f"an {kind.upper()} workbook without sheets")
    chosen, log = _choose_sheet(path, cb, sheets, kind)
    return Sheet([(i, r) for i, r in enumerate(chosen.rows, start=1)], kind, None, chosen.name, log)


def _read_stat(path: Path, cb: Codebook, kind: str) -> Sheet:
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(path), apply_value_formats=False)
    except BaseException as exc:  # noqa: BLE001 - pyreadstat raises its own error types for damaged files
        _reraise_interrupts(exc)
        raise _fail(
            path,
            f"a {_KIND_NAMES[kind]} file that cannot be read ({_why(exc)})",
            "save it again from SPSS/Stata",
        ) from None
    expected = expected_headers(cb)
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names), strict=False))
    header = []
    for name in df.columns:
        label = labels.get(name)
        header.append(name if key(name) in expected or not label else label)
    value_labels = meta.variable_value_labels or {}
    rows = [(0, header)]
    for i, rec in enumerate(df.itertuples(index=False, name=None), start=1):
        cells = []
        for name, v in zip(df.columns, rec, strict=False):
            if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v == ""):
                cells.append(None)
                continue
            if hasattr(v, "to_pydatetime"):
                v = None if v != v else v.to_pydatetime()  # NaT != NaT
            labs = value_labels.get(name)
            if labs is not None and v is not None:
                lab = labs.get(v, labs.get(int(v)) if isinstance(v, float) and v.is_integer() else None)
                if lab is not None:
                    v = Labelled(int(v) if isinstance(v, float) and v.is_integer() else v, str(lab))
            cells.append(v)
        rows.append((i, cells))
    log = [
        log_row(
            None,
            None,
            None,
            None,
            "read_as",
            f"{_KIND_NAMES[kind]}: {len(df)} cases; rows are case numbers, "
            f"{sum(1 for n in df.columns if n in value_labels)} variable(s) with value labels",
        )
    ]
    return Sheet(rows, kind, None, None, log)


def _letter(i: int) -> str:
    from .text import letter

    return letter(i)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _decode(path: Path, data: bytes, cb: Codebook) -> tuple[str, str, list[dict]]:
    """Text and encoding; BOMs and UTF-16 zero bytes first, then the codebook's encodings."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            name = {
                "utf-16": "UTF-16 " + ("LE" if bom == codecs.BOM_UTF16_LE else "BE"),
                "utf-8-sig": "UTF-8 with BOM",
            }.get(enc, enc)
            try:
                return data.decode(enc), name, []
            except UnicodeDecodeError as exc:
                raise DataError(
                    path,
                    Problem(
                        f"starts with the {name} byte-order mark but is not valid {name}",
                        row=_line_of(data, exc.start, enc),
                        accepted=FORMATS,
                    ),
                ) from None
    sample = data[:4000]
    zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if half and max(zeros_even, zeros_odd) > 0.3 * half:
        enc = "utf-16-le" if zeros_odd > zeros_even else "utf-16-be"
        try:
            return data.decode(enc), enc.upper().replace("UTF-16-", "UTF-16 ") + " without BOM", []
        except UnicodeDecodeError:
            pass
    controls = sum(sample.count(b) for b in range(32) if b not in (9, 10, 13))
    if controls > max(8, len(sample) // 100):  # a stray NUL in a cell is removed later; many mean binary data
        raise _fail(path, "binary data (zero bytes) that is no known spreadsheet or text encoding")
    encodings = [e for e in cb.spec.file.encodings if e.replace("_", "-").lower() != "utf-8-sig"]
    try:
        return data.decode("utf-8"), "UTF-8", []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    # Lines in another encoding inside a UTF-8 file (a line pasted from a Windows program).
    lines = data.split(b"\n")
    utf8_text = [ln for ln in lines if _is_utf8(ln) and any(b > 127 for b in ln)]
    if utf8_text:
        out, log = [], []
        for i, ln in enumerate(lines, start=1):
            if _is_utf8(ln):
                out.append(ln.decode("utf-8"))
                continue
            try:
                out.append(ln.decode("cp1252"))
            except UnicodeDecodeError:
                break
            log.append(
                log_row(
                    i,
                    None,
                    None,
                    None,
                    "line_encoding_differs",
                    "line in Windows-1252 inside a UTF-8 file; decoded as Windows-1252",
                )
            )
        else:
            return "\n".join(out), "UTF-8 (some lines Windows-1252)", log
    bad_at = first_bad
    decoded: dict[str, str] = {}
    for e in encodings:
        if e.lower().replace("_", "-") == "utf-8":
            continue
        try:
            decoded[e] = data.decode(e)
        except UnicodeDecodeError as exc:
            bad_at = exc.start
    return _best_8bit(path, data, cb, decoded, encodings, bad_at)


# 8-bit encodings Danish text is found in besides Windows-1252: old Macs, and DOS/Windows console exports.
LIKELY_8BIT = {"mac_roman": "Mac Roman", "cp850": "DOS (cp850)", "cp865": "DOS Nordic (cp865)"}
_DANISH = set("æøåÆØÅéü")


def _plausibility(text: str, expected: set[str]) -> tuple[int, int]:
    """How well decoded text reads as the codebook's Danish export: headers found, then Danish letters
    against characters that only appear when bytes are read in the wrong 8-bit encoding."""
    head = key(text[:20000])
    headers = sum(1 for h in expected if h and h in head)
    letters = sum(1 for ch in text if ch in _DANISH)
    odd = sum(1 for ch in text if 0x80 <= ord(ch) < 0x250 and ch not in _DANISH)
    return headers, letters - 2 * odd


def _best_8bit(path: Path, data: bytes, cb: Codebook, decoded: dict[str, str], encodings, bad_at: int):
    """The codebook's 8-bit encoding that reads the file as the codebook's export; an error naming the likely
    encoding when the file reads right only in one the codebook does not list (Mac Roman, cp850, ...)."""
    expected = expected_headers(cb)
    fit = {e: _plausibility(t, expected) for e, t in decoded.items()}
    others = {}
    for e in LIKELY_8BIT:
        if e in decoded or any(e == x.lower().replace("_", "-") for x in decoded):
            continue
        try:
            others[e] = _plausibility(data.decode(e), expected)
        except UnicodeDecodeError:
            continue
    best = max(fit, key=lambda e: fit[e], default=None)  # ties: the codebook's order
    # Nothing decodes: the codebook's first 8-bit encoding with bad bytes replaced is the baseline to beat.
    eight = [e for e in encodings if e.lower().replace("_", "-") not in ("utf-8", "utf-8-sig")]
    baseline = (
        fit[best]
        if best is not None
        else _plausibility(data.decode(eight[0], "replace"), expected)
        if eight
        else (0, 0)
    )
    better = [e for e in others if others[e] > baseline and others[e][0] >= 2]  # headers found, not noise
    if better:
        top = max(better, key=lambda e: others[e])
        likely = [LIKELY_8BIT[e] for e in sorted(better, key=lambda e: others[e], reverse=True)]
        read = (
            f"reads as {best} with {fit[best][0]} codebook header(s) found"
            if best
            else "does not decode as " + (", ".join(encodings))
        )
        raise DataError(
            path,
            Problem(
                f"the text is probably in an 8-bit encoding the codebook does not list: likely {' or '.join(likely)} "
                f"(it {read}; as {LIKELY_8BIT[top]} {others[top][0]})",
                accepted=f"the export saved as UTF-8, or {top!r} added to the codebook's `file.encodings` "
                f"({shown_path(cb.path)})",
            ),
        )
    if best is not None:
        return decoded[best], best, []
    raise DataError(
        path,
        Problem(
            "cannot decode the text",
            row=data[:bad_at].count(b"\n") + 1,
            value=f"byte 0x{data[bad_at]:02x}",
            accepted="text encoded as UTF-8, UTF-16 or " + ", ".join(encodings),
        ),
    )


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _line_of(data: bytes, pos: int, enc: str) -> int:
    try:
        return data[:pos].decode(enc, errors="ignore").count("\n") + 1
    except LookupError:
        return 1


def _read_text(path: Path, data: bytes, cb: Codebook) -> Sheet:
    text, enc, log = _decode(path, data, cb)
    head = text.lstrip("\ufeff \r\n\t")[:4000].lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<meta", "<head", "<body")) or (
        "<table" in head and "<td" in head
    ):
        raise _fail(
            path,
            "an HTML page (a web table saved with a spreadsheet extension), not a spreadsheet",
            "open it in Excel and save it as .xlsx, or export CSV from the survey tool",
        )
    if head.startswith("<?xml"):
        what = (
            "an Excel 2003 XML spreadsheet"
            if "urn:schemas-microsoft-com:office:spreadsheet" in head
            else "an XML document"
        )
        raise _fail(path, f"{what}, not a readable spreadsheet", "open it in Excel and save it as .xlsx")
    if head.startswith(("{", "[")) and not any(d in head.split("\n", 1)[0] for d in (";", "\t")):
        raise _fail(path, "JSON text, not a table export")
    if MOJIBAKE.search(text):
        try:
            fixed = text.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            fixed = None
        if fixed is not None:
            sample = MOJIBAKE.search(text).group(0)
            log.append(
                log_row(
                    None,
                    None,
                    sample,
                    sample.encode("cp1252").decode("utf-8"),
                    "encoding_mojibake",
                    "UTF-8 text had been read as Windows-1252 and saved again; decoded back",
                )
            )
            text = fixed
    lines = text.splitlines()
    skip = 0
    forced = None
    if lines and re.fullmatch(r'"?sep=(.)"?', lines[0].strip()):
        forced = re.fullmatch(r'"?sep=(.)"?', lines[0].strip()).group(1)
        skip = 1
        log.append(
            log_row(
                1, None, lines[0].strip(), None, "excel_sep_line", f"Excel's 'sep=' line dropped; delimiter {forced!r}"
            )
        )
    delimiter = forced or _delimiter(lines[skip : skip + HEADER_SEARCH_ROWS], cb)
    body = "\n".join(lines[skip:]) if skip else text
    rows = _split(path, body, delimiter, skip, quoting=csv.QUOTE_MINIMAL)
    rows = _check_quotes(path, body, delimiter, skip, rows, log)
    kind = "tsv" if delimiter == "\t" else "csv"
    log.insert(0, log_row(None, None, None, None, "read_as", f"{_KIND_NAMES[kind]}, {enc}, delimiter {delimiter!r}"))
    return Sheet(rows, kind, enc, None, log, text=True)


def _split(path: Path, body: str, delimiter: str, skip: int, quoting: int) -> list[tuple[int, list]]:
    """Rows of fields, each with the line it starts on (as a person counts lines in the file)."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, quoting=quoting)
    rows, start = [], 1 + skip
    try:
        for cells in reader:
            rows.append((start, [None if blank(c) else c for c in cells]))
            start = reader.line_num + 1 + skip
    except csv.Error as exc:
        raise DataError(
            path,
            Problem(
                f"the text cannot be split into fields: {exc}",
                row=start,
                accepted=f'fields separated by {delimiter!r}, quoted with "',
            ),
        ) from None
    return rows


def _check_quotes(path: Path, body: str, delimiter: str, skip: int, rows, log: list) -> list[tuple[int, list]]:
    """The parsed rows checked against the physical lines: a quote that swallows rows never passes silently.

    A field may hold line breaks (a comment written on several lines, quoted as it should be). But a
    field whose lines look like rows of the file (half as many delimiters as a row has fields, or more)
    is a stray quote character in a file written without quoting: every line up to the next quote
    went into one cell. The file is then read again with quotes taken as text; if that gives no row
    with more fields than the header, it is used and logged, otherwise the clean stops naming the line
    where the quote opens."""
    physical = sum(1 for ln in body.splitlines() if ln.strip())
    width = Counter(len(c) for _, c in rows if any(not blank(x) for x in c)).most_common(1)
    width = width[0][0] if width else 0
    swallowed, multiline = [], 0
    for line, cells in rows:
        for c in cells:
            if isinstance(c, str) and "\n" in c:
                multiline += 1
                inner = c.split("\n")[1:]
                if any(ln.count(delimiter) >= max(2, width // 2) for ln in inner):
                    swallowed.append((line, len(inner)))
                    break
    if not swallowed:
        if multiline:
            log.append(
                log_row(
                    None,
                    None,
                    None,
                    None,
                    "multiline_cells",
                    f"{multiline} quoted cell(s) written on several lines; {len(rows)} rows from {physical} non-blank "
                    "lines",
                )
            )
        return rows
    line, n = swallowed[0]
    again = _split(path, body, delimiter, skip, quoting=csv.QUOTE_NONE)
    too_wide = [r for r, c in again if len(c) > width and any(not blank(x) for x in c[width:])]
    if too_wide:
        raise DataError(
            path,
            Problem(
                f'a quote character (") opens a field here and swallows the following {n} line(s) into one cell '
                f"(the file has {physical} non-blank lines, {len(rows)} rows were read); read without quoting, line "
                f"{too_wide[0]} has more fields than the header",
                row=line,
                accepted="a file with every quote closed on its line (export it again with quoting on), or the "
                "stray quote removed",
            ),
        )
    log.append(
        log_row(
            line,
            None,
            None,
            None,
            "stray_quote_ignored",
            f'a quote character (") in a file written without quoting would have swallowed {n} line(s) into one '
            f"cell ({len(rows)} rows from {physical} non-blank lines); read again with quotes as text: {len(again)} "
            "rows",
        )
    )
    return again


def _delimiter(lines: list[str], cb: Codebook) -> str:
    """The delimiter that splits a line among the first ones into most of the codebook's headers.

    Deciding from the header line means that free text full of commas or semicolons further down
    cannot change it; without such a line, the delimiter most frequent in the first lines wins."""
    expected = expected_headers(cb)
    best = (0, 0, ";")
    for line in lines:
        for rank, d in enumerate(reversed(DELIMITERS)):
            try:
                cells = next(csv.reader([line], delimiter=d), [])
            except csv.Error:
                continue
            score = header_score(cells, expected)
            if (score, rank) > best[:2]:
                best = (score, rank, d)
    if best[0] >= 2:
        return best[2]
    filled = [ln for ln in lines if ln.strip()]
    return max(DELIMITERS, key=lambda d: max((ln.count(d) for ln in filled), default=0))
