"""A seeded generator of realistic variants of the example survey exports.

Each :class:`Variant` re-writes one example export (2011 XLSX or 2009 CSV) the way survey tools,
spreadsheets and statistics programs really save it: other formats (CSV/TSV in UTF-8, BOM, UTF-16
LE/BE, cp1252; XLSX with a stale dimension or several sheets; XLS; ODS; SPSS .sav and Stata .dta
with value labels) and other ways of writing the same answers (kommune codes, DST spellings, model
labels, yes/no as 1/0 or True, Excel serial dates, ISO and Danish date formats, decimal commas,
decomposed Unicode, non-breaking spaces, shuffled columns), alone and combined. The clean table of
every variant must equal the clean table of the example it came from (test_survey_variants.py).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import openpyxl
import pandas as pd

from helpers.core import paths
from helpers.data import survey

SEED = 20111
HEADER_2011 = 4  # 0-based index of the header row in the 2011 example's grid
MODEL_2011 = "Hvilken samarbejdsmodel ligner jeres bedst?"
STRATEGY_2011 = "Deltager biblioteket i kommunens tværgående arbejde med digital strategi?"
ORG_2011 = "Forventer I organisationsændringer i 2012?"
TASKS_2011 = [
    "Opgave: Kørekort",
    "Opgave: Pas",
    "Opgave: NemID",
    "Opgave: Sundhedskort",
    "Opgave: Flytning/adresseændring",
    "Opgave: Pension og boligstøtte",
    "Opgave: It-kurser for borgere",
]
MODEL_LABELS = {
    1: "Den spæde start",
    2: "Vi flytter sammen",
    3: "Vi arbejder sammen",
    4: "Vi er borgernes fælles indgang til kommunen",
    5: "Intet samarbejde",
}
DST_SPELLINGS = {
    "Nordfyns": "Nordfyn",
    "Vesthimmerlands": "Vesthimmerland",
    "Lyngby-Taarbæk": "Lyngby-Tårbæk",
    "Høje-Taastrup": "Høje Tåstrup",
    "København": "Københavns Kommune",
    "Faaborg-Midtfyn": "Faaborg Midtfyn",
    "Ringkøbing-Skjern": "Ringkøbing Skjern",
    "Ikast-Brande": "Ikast Brande",
}


@dataclass
class Grid:
    """An export as rows of cells, with the index of its header row."""

    rows: list[list]
    header: int
    year: int

    def copy(self) -> Grid:
        return Grid([list(r) for r in self.rows], self.header, self.year)

    def col(self, name: str) -> int:
        return self.rows[self.header].index(name)

    def data(self):
        for r in self.rows[self.header + 1 :]:
            if any(c not in (None, "") for c in r):
                yield r

    def map(self, name: str, fn) -> Grid:
        k = self.col(name)
        for r in self.data():
            r[k] = fn(r[k])
        return self


def base(year: int) -> Grid:
    """The example export of ``year`` (2009 CSV or 2011 XLSX) as a grid of cells."""
    if year == 2011:
        wb = openpyxl.load_workbook(paths.survey_raw() / "example_survey_2011.xlsx")
        return Grid([list(r) for r in wb.active.iter_rows(values_only=True)], HEADER_2011, 2011)
    text = (paths.survey_raw() / "example_survey_2009.csv").read_bytes().decode("cp1252")
    rows = [[c if c != "" else None for c in r] for r in csv.reader(io.StringIO(text, newline=""), delimiter=";")]
    return Grid(rows, 0, 2009)


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _text(v, datefmt="%d-%m-%Y %H:%M") -> str:
    if v is None:
        return ""
    if isinstance(v, _dt.datetime):
        return v.strftime(datefmt)
    if isinstance(v, bool):
        return str(v)
    return str(v)


def to_csv(
    g: Grid, encoding="utf-8", delimiter=";", datefmt="%d-%m-%Y %H:%M", sep_line=False, header_only_block=False
) -> bytes:
    buf = io.StringIO(newline="")
    if sep_line:
        buf.write(f"sep={delimiter}\r\n")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    rows = g.rows[g.header :] if header_only_block else g.rows
    for r in rows:
        w.writerow([_text(c, datefmt) for c in r])
    return buf.getvalue().encode(encoding)


def to_xlsx(
    g: Grid, sheets_before: dict | None = None, sheets_after: dict | None = None, stale_dimension=False
) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in (sheets_before or {}).items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    ws = wb.create_sheet("Besvarelser")
    for r in g.rows:
        ws.append(r)
    for name, rows in (sheets_after or {}).items():
        w2 = wb.create_sheet(name)
        for r in rows:
            w2.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if stale_dimension:  # as some survey tools write it: a <dimension> far smaller than the sheet
        data = _rezip(
            data,
            lambda name, b: (
                re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:F20"', b)
                if name.startswith("xl/worksheets/")
                else b
            ),
        )
    return data


def _rezip(data: bytes, fn) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, fn(info.filename, src.read(info.filename)))
    return out.getvalue()


def to_xls(g: Grid) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Besvarelser")
    date_style = xlwt.easyxf(num_format_str="DD-MM-YYYY HH:MM")
    for i, r in enumerate(g.rows):
        for j, c in enumerate(r):
            if c is None:
                continue
            if isinstance(c, _dt.datetime):
                ws.write(i, j, c, date_style)
            else:
                ws.write(i, j, c)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_ods(g: Grid) -> bytes:
    width = max(len(r) for r in g.rows)
    df = pd.DataFrame([r + [None] * (width - len(r)) for r in g.rows], dtype=object)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="odf") as w:
        df.to_excel(w, sheet_name="Besvarelser", header=False, index=False)
    return buf.getvalue()


def to_stat(g: Grid, kind: str, tmp_path, model_codes: dict | None = None, model_labels: dict | None = None) -> bytes:
    """SPSS .sav or Stata .dta as a statistics department saves an export: short variable names,
    the question text as variable label, kommune and answers coded with value labels.

    ``model_codes`` stores each 2011 model under another number (``{1: 5, ...}``), its value label
    still naming it (``model_labels``, default the 2011 names): the label, not the number, is the answer."""
    import pyreadstat

    header = g.rows[g.header]
    rows = list(g.data())
    names, labels, columns, value_labels = [], [], {}, {}
    for k, h in enumerate(header):
        name = f"q{k + 1:02d}"
        vals = [r[k] if k < len(r) else None for r in rows]
        if h in ("Kommune",):
            cats = sorted({v for v in vals if v is not None})
            codes = {c: i for i, c in enumerate(cats, start=1)}
            columns[name] = [float(codes[v]) if v is not None else np.nan for v in vals]
            value_labels[name] = {float(i): c for c, i in codes.items()}
        elif h in (STRATEGY_2011, ORG_2011, "Digital strategi") or h.endswith("i biblioteket"):
            from helpers.data.survey.text import loose

            canon = {"ja": 1.0, "nej": 2.0, "ved ikke": 3.0}
            columns[name] = [canon[loose(v)] if v is not None else np.nan for v in vals]
            value_labels[name] = {1.0: "Ja", 2.0: "Nej", 3.0: "Ved ikke"}
        elif all(isinstance(v, _dt.datetime) or v is None for v in vals) and any(vals):
            columns[name] = pd.to_datetime(vals)
        elif all(
            v is None or isinstance(v, (int, float)) or (isinstance(v, str) and re.fullmatch(r"\d+", v.strip()))
            for v in vals
        ):
            columns[name] = [float(v) if v is not None else np.nan for v in vals]
            if h == MODEL_2011:
                codes = model_codes or {c: c for c in MODEL_LABELS}
                columns[name] = [float(codes[int(v)]) if v is not None else np.nan for v in vals]
                value_labels[name] = {float(codes[c]): (model_labels or MODEL_LABELS)[c] for c in MODEL_LABELS}
        else:
            columns[name] = ["" if v is None else str(v) for v in vals]
        names.append(name)
        labels.append(h)
    df = pd.DataFrame(columns)
    f = tmp_path / f"_variant.{kind}"
    writer = pyreadstat.write_sav if kind == "sav" else pyreadstat.write_dta
    writer(df, str(f), column_labels=labels, variable_value_labels=value_labels)
    return f.read_bytes()


# --------------------------------------------------------------------------------------------
# Value transforms
# --------------------------------------------------------------------------------------------


def _code_of(v):
    """kommunekode of a written kommune when it is not one answered by another kommune, else None."""
    hit = survey.resolver().resolve(v) if isinstance(v, str) else None
    return hit[0] if hit and hit[1] is None and hit[2] != "conflict" else None


def kommune_as(g: Grid, fmt: Callable[[int, str], object]) -> Grid:
    names = survey.resolver().names

    def f(v):
        code = _code_of(v)
        return v if code is None else fmt(code, names[code])

    return g.map("Kommune", f)


def nfd(v):
    return unicodedata.normalize("NFD", v) if isinstance(v, str) else v


def decompose(g: Grid) -> Grid:
    g.rows = [[nfd(c) for c in r] for r in g.rows]
    return g


def messy_headers(g: Grid) -> Grid:
    h = g.rows[g.header]
    g.rows[g.header] = [
        c.replace(" ", "\u00a0", 1).upper() + "  "
        if isinstance(c, str) and i % 2
        else (c.replace(" ", "  ") if isinstance(c, str) else c)
        for i, c in enumerate(h)
    ]
    return g


def model_as(g: Grid, fmt) -> Grid:
    return g.map(MODEL_2011, lambda v: v if v in (None, "") else fmt(int(v), MODEL_LABELS[int(v)]))


def checkboxes_as(g: Grid, yes, no) -> Grid:
    for t in TASKS_2011:
        g.map(t, lambda v: v if v is None else (yes if int(v) == 1 else no))
    return g


def yes_no_as(g: Grid, yes, no, headers=(STRATEGY_2011, ORG_2011)) -> Grid:
    from helpers.data.survey.text import loose

    for h in headers:
        g.map(h, lambda v: v if v is None else (yes if loose(v) == "ja" else no if loose(v) == "nej" else v))
    return g


def times_as(g: Grid, fmt, header="Afsluttet") -> Grid:
    return g.map(header, lambda v: v if v is None else fmt(v))


def excel_serial(d: _dt.datetime) -> float:
    return (d - _dt.datetime(1899, 12, 30)).total_seconds() / 86400


def shuffle_columns(g: Grid, rng) -> Grid:
    width = max(len(r) for r in g.rows)
    order = list(rng.permutation(width))
    g.rows = [[(r + [None] * (width - len(r)))[k] for k in order] for r in g.rows]
    return g


def pad_cells(g: Grid, rng) -> Grid:
    for name in ("Kommune", "Stilling", STRATEGY_2011):
        g.map(name, lambda v: v if not isinstance(v, str) else (f"\u00a0{v}  " if rng.random() < 0.5 else f" {v}"))
    return g


COMMENT_TAIL = " Vi har, som sagt; mange tanker, men: ingen plan, endnu"


def commas_in_comments(g: Grid, header="Kommentarer") -> Grid:
    """Free text full of commas and semicolons (it must not decide the delimiter)."""
    return g.map(header, lambda v: None if v is None else f"{v}{COMMENT_TAIL}")


# --------------------------------------------------------------------------------------------
# The variants
# --------------------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    year: int  # the example it comes from (2009 or 2011)
    ext: str
    build: Callable  # (grid, rng, tmp_path) -> bytes
    exact_time: bool = True  # submission times survive (False: the format keeps only dates)
    codebook: dict = field(default_factory=dict)  # codebook keys to override
    comment_tail: str = ""  # text the variant appends to every comment


def _v(name, year, ext, build, **kw):
    return Variant(name, year, ext, build, **kw)


def variants() -> list[Variant]:
    V = []
    x = lambda g, rng, tmp: to_xlsx(g)  # noqa: E731
    # --- 2011 (XLSX) -----------------------------------------------------------------------
    V += [
        _v("xlsx_resaved", 2011, "xlsx", x),
        _v("xlsx_stale_dimension", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(g, stale_dimension=True)),
        _v(
            "xlsx_info_sheet_first",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(
                g, sheets_before={"Om undersøgelsen": [["Spørgeskema"], ["Kommune", "Afsluttet"]]}
            ),
        ),
        _v(
            "xlsx_sheet_named_in_codebook",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(g, sheets_before={"Gammel eksport": base(2011).rows[: HEADER_2011 + 3]}),
            codebook={"sheet": "Besvarelser"},
        ),
        _v("xlsx_decomposed_unicode", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(decompose(g))),
        _v("xlsx_messy_headers", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(messy_headers(g))),
        _v("xlsx_model_float", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(model_as(g, lambda c, lab: float(c)))),
        _v("xlsx_model_text_float", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(model_as(g, lambda c, lab: f"{c}.0"))),
        _v(
            "xlsx_model_label_with_number",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(model_as(g, lambda c, lab: f"Model {c}: {lab}")),
        ),
        _v(
            "xlsx_model_number_dash_label",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(model_as(g, lambda c, lab: f"{c} - {lab}")),
        ),
        _v("xlsx_model_label_only", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(model_as(g, lambda c, lab: lab))),
        _v("xlsx_kommune_code_text", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: str(c)))),
        _v("xlsx_kommune_dagi_code", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: f"{c:04d}"))),
        _v("xlsx_kommune_code_float", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: float(c)))),
        _v(
            "xlsx_kommune_code_float_text",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: f"{c}.0")),
        ),
        _v("xlsx_kommune_code_int", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: c))),
        _v(
            "xlsx_kommune_code_and_name",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: f"{c} {n}")),
        ),
        _v(
            "xlsx_kommune_name_and_code",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: f"{n} ({c:04d})")),
        ),
        _v(
            "xlsx_kommune_dst_spellings",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(kommune_as(g, lambda c, n: DST_SPELLINGS.get(n, n))),
        ),
        _v("xlsx_checkbox_ja_nej", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(checkboxes_as(g, "Ja", "Nej"))),
        _v("xlsx_checkbox_true_false", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(checkboxes_as(g, True, False))),
        _v("xlsx_checkbox_float_text", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(checkboxes_as(g, "1.0", "0.0"))),
        _v("xlsx_yes_no_as_1_0", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(yes_no_as(g, 1, 0))),
        _v("xlsx_yes_no_true_false_text", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(yes_no_as(g, "TRUE", "FALSE"))),
        _v("xlsx_excel_serial_dates", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(times_as(g, excel_serial))),
        _v(
            "xlsx_iso_t_dates",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(times_as(g, lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"))),
        ),
        _v(
            "xlsx_iso_space_dates",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(times_as(g, lambda d: d.strftime("%Y-%m-%d %H:%M"))),
        ),
        _v(
            "xlsx_danish_dot_dates",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(times_as(g, lambda d: d.strftime("%d.%m.%Y %H:%M"))),
        ),
        _v(
            "xlsx_danish_date_only",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(times_as(g, lambda d: d.strftime("%d.%m.%Y"))),
            exact_time=False,
        ),
        _v(
            "xlsx_decimal_comma",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(
                g.map("Antal it-kurser det seneste år", lambda v: v if v is None else f"{int(v)},0")
            ),
        ),
        _v("xlsx_shuffled_columns", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(shuffle_columns(g, rng))),
        _v("xlsx_padded_cells", 2011, "xlsx", lambda g, rng, tmp: to_xlsx(pad_cells(g, rng))),
        _v("xls", 2011, "xls", lambda g, rng, tmp: to_xls(g)),
        _v("ods", 2011, "ods", lambda g, rng, tmp: to_ods(g)),
        _v("sav_value_labels", 2011, "sav", lambda g, rng, tmp: to_stat(g, "sav", tmp)),
        _v("dta_value_labels", 2011, "dta", lambda g, rng, tmp: to_stat(g, "dta", tmp)),
        _v("csv_utf8_bom", 2011, "csv", lambda g, rng, tmp: to_csv(g, "utf-8-sig")),
        _v("csv_utf16le_tab", 2011, "txt", lambda g, rng, tmp: to_csv(g, "utf-16", "\t")),
        _v(
            "csv_utf16be_bom",
            2011,
            "csv",
            lambda g, rng, tmp: "\ufeff".encode("utf-16-be") + to_csv(g, "utf-16-be", ";"),
        ),
        _v("csv_utf16le_no_bom", 2011, "csv", lambda g, rng, tmp: to_csv(g, "utf-16-le", ";")),
        _v(
            "csv_cp1252_comma_free_text",
            2011,
            "csv",
            lambda g, rng, tmp: to_csv(commas_in_comments(g), "cp1252", ","),
            comment_tail=COMMENT_TAIL,
        ),
        _v(
            "csv_semicolon_free_text",
            2011,
            "csv",
            lambda g, rng, tmp: to_csv(commas_in_comments(g), "utf-8", ";"),
            comment_tail=COMMENT_TAIL,
        ),
        _v(
            "csv_excel_sep_line",
            2011,
            "csv",
            lambda g, rng, tmp: to_csv(g, "utf-8", ";", sep_line=True, header_only_block=True),
        ),
        _v(
            "tsv_utf8_iso_dates", 2011, "tsv", lambda g, rng, tmp: to_csv(g, "utf-8", "\t", datefmt="%Y-%m-%dT%H:%M:%S")
        ),
        # combined quirks
        _v(
            "combo_utf16_tab_codes_labels_serial",
            2011,
            "txt",
            lambda g, rng, tmp: to_csv(
                times_as(model_as(kommune_as(g, lambda c, n: f"{c:04d}"), lambda c, lab: f"{c} - {lab}"), excel_serial),
                "utf-16",
                "\t",
            ),
        ),
        _v(
            "combo_ods_decomposed_labels",
            2011,
            "ods",
            lambda g, rng, tmp: to_ods(
                decompose(model_as(checkboxes_as(g, "Ja", "Nej"), lambda c, lab: f"Model {c}: {lab}"))
            ),
        ),
        _v(
            "combo_xlsx_shuffled_messy_stale",
            2011,
            "xlsx",
            lambda g, rng, tmp: to_xlsx(
                messy_headers(
                    shuffle_columns(pad_cells(kommune_as(g, lambda c, n: DST_SPELLINGS.get(n, f"{c} {n}")), rng), rng)
                ),
                stale_dimension=True,
            ),
        ),
        _v(
            "combo_xls_codes_yes_no",
            2011,
            "xls",
            lambda g, rng, tmp: to_xls(yes_no_as(kommune_as(g, lambda c, n: float(c)), 1, 0)),
        ),
    ]
    # --- 2009 (CSV, earlier model numbering) -----------------------------------------------
    V += [
        _v("2009_utf16", 2009, "csv", lambda g, rng, tmp: to_csv(g, "utf-16", ";")),
        _v("2009_xlsx", 2009, "xlsx", lambda g, rng, tmp: to_xlsx(g)),
        _v(
            "2009_comma_utf8_bom",
            2009,
            "csv",
            lambda g, rng, tmp: to_csv(commas_in_comments(g, "Bemærkninger"), "utf-8-sig", ","),
            comment_tail=COMMENT_TAIL,
        ),
        _v(
            "2009_kommune_codes",
            2009,
            "csv",
            lambda g, rng, tmp: to_csv(kommune_as(g, lambda c, n: f"{c:04d}"), "cp1252", ";"),
        ),
        _v(
            "2009_model_scheme_labels",
            2009,
            "csv",
            lambda g, rng, tmp: to_csv(
                g.map("Model (2009-nummerering)", lambda v: v and SCHEME_2009[int(v)]), "cp1252", ";"
            ),
        ),
        _v(
            "2009_iso_dates_tab",
            2009,
            "tsv",
            lambda g, rng, tmp: to_csv(
                times_as(g, lambda s: _dt.datetime.strptime(s, "%d-%m-%Y %H:%M").isoformat(sep=" "), "Tidspunkt"),
                "utf-8",
                "\t",
            ),
        ),
        _v(
            "2009_yes_no_as_1_0",
            2009,
            "csv",
            lambda g, rng, tmp: to_csv(
                yes_no_as(g, "1", "0", headers=[h for h in g.rows[0] if h.endswith("i biblioteket")]), "cp1252", ";"
            ),
        ),
    ]
    return V


SCHEME_2009 = {
    1: "M1 Borgerservicemedarbejdere løser opgaver i biblioteket",
    2: "M2 Ekspertopgaver ved særligt uddannet personale på faste tider",
    3: "M3 Udvalgte opgaver løses af bibliotekets personale",
    5: "M5 Kombineret med turisme, kultur, SSP og velkomst",
    6: "Andre modeller (6), mindre vidtgående",
    7: "Intet samarbejde",
}


def build(v: Variant, tmp_path) -> bytes:
    rng = np.random.default_rng([SEED, sum(map(ord, v.name))])
    return v.build(base(v.year).copy(), rng, tmp_path)


# Columns of the clean table a variant must reproduce exactly (kommune_navn is as written; source_row moves).
COMPARED = [
    "kommunekode",
    "answered_by_kommunekode",
    "respondent_role",
    "model",
    "model_level",
    *survey.TASKS,
    "n_it_courses",
    "digital_strategy",
    "org_change_planned",
    "comment",
    "year",
    "synthetic",
]
