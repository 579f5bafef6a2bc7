"""Cell values as real exports write them -> canonical values; duplicates, floods, fieldwork window.

Every repair is a cleaning-log row (rule, row, column); every problem a :class:`Problem` naming
row and column. Values of free-text and personal-data columns are never quoted in either.

Accepted without a log line: the codebook's exact labels and codes, real dates and numbers.
Repaired and logged:

* labels: case, trailing punctuation and spacing ("ja.", " JA ") -> ``label_variant``; yes/no as
  1/0/1.0/True/False/Ja/Nej/x -> ``label_variant``; SPSS/Stata codes through their value labels;
* model: "3", 3.0, "3.0", "Model 3", "Model 3: Vi arbejder sammen", "3 - Vi arbejder sammen" or
  the label alone, matched through the codebook's model labels -> ``model_from_label`` (label and
  code must agree, else an error);
* numbers stored as text, "1.200", "12,0" -> ``number_from_text``;
* timestamps as Excel serial numbers -> ``excel_serial_date``; ISO with or without "T", Danish
  "24-09-2011 13:45", "24.09.2011" beyond the codebook's formats -> ``datetime_other_format``
  (aware times converted to Danish local time).

Errors: values outside the labels, non-integers, values above the column's ``max`` (default
1,000,000) or below ``min``, unknown model codes, unreadable dates.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from helpers.core.errors import DataError, Problem

from . import privacy
from .codebooks import LOCAL_TZ, MAX_INTEGER, Codebook
from .formats import Labelled, Sheet, log_row
from .names import aliases_path, resolver
from .text import blank, loose, norm, shown_path

TRUE_WORDS = {"1", "1.0", "ja", "j", "yes", "y", "true", "sand", "x", "valgt", "afkrydset", "sandt"}
FALSE_WORDS = {"0", "0.0", "nej", "n", "no", "false", "falsk", "ikke valgt", "ikke afkrydset"}
# Timestamps as survey tools and spreadsheets write them, beyond the codebook's `file.datetime_formats`
# (tried first). Day-first formats are Danish; month-first ones (US exports) are only used when a
# column's dates show that order (a day above 12 in second place, or AM/PM times).
DATETIME_FORMATS = (
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H.%M",  # Danish locale (Excel, Google Sheets): 06.09.2011 10.29
    "%d.%m.%Y %H.%M.%S",  # 14.9.2011 10.22.33
    "%d-%m-%Y %H.%M",
    "%d-%m-%Y %H.%M.%S",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%d.%m.%Y kl. %H:%M",
    "%d-%m-%Y kl. %H:%M",
    "%d.%m.%Y kl. %H.%M",
    "%d. %m. %Y %H:%M",
    "%Y/%m/%d %I:%M:%S %p",  # Google Forms: 2011/09/14 01:15:00 PM (its GMT+2 is read apart)
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
)
DAY_FIRST = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H.%M", "%d/%m/%Y %H.%M.%S", "%d/%m/%Y", "%d/%m/%y %H:%M")
MONTH_FIRST = (  # SurveyMonkey, Microsoft Forms and Google Sheets in US locale
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y",
)
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2,4})\b")
_ZONE = re.compile(
    r"\s*(?:\(?(?:GMT|UTC)\s*(?:(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?\)?|(?P<abbr>CEST|CET))$"
)
EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
EXCEL_SERIAL_RANGE = (25000, 80000)  # 1968 .. 2119: a number here in a date column is an Excel serial date
_MODEL_TEXT = re.compile(
    r"^(?:model(?:len)?\s*)?(?P<code>\d+)(?:[.,]0+)?\s*(?:[-–:.)]\s*|\s+)?(?P<label>.*)$", re.IGNORECASE
)


def _split_zone(text: str) -> tuple[str, _dt.tzinfo | None]:
    """A timestamp's text without a trailing zone such as ``GMT+2``, ``UTC+01:00``, ``(GMT)``, ``CET``, and the zone."""
    m = _ZONE.search(text)
    if not m or m.start() == 0:
        return text, None
    if m.group("abbr"):
        zone = _dt.timezone(_dt.timedelta(hours=2 if m.group("abbr") == "CEST" else 1))
    else:
        sign = -1 if m.group("sign") == "-" else 1
        zone = _dt.timezone(sign * _dt.timedelta(hours=int(m.group("h") or 0), minutes=int(m.group("m") or 0)))
    return text[: m.start()].strip(), zone


def _zoned(ts: pd.Timestamp, zone) -> pd.Timestamp:
    return ts if zone is None or ts.tzinfo is not None else ts.tz_localize(zone)


def _unwrap(v):
    return v.value if isinstance(v, Labelled) else v


class Cleaner:
    """Converts one export's cells to canonical values, collecting problems and log rows."""

    def __init__(self, file: Path, cb: Codebook, sheet: Sheet):
        self.file, self.cb, self.sheet = file, cb, sheet
        self.problems: list[Problem] = []
        self.log: list[dict] = sheet.log
        self.resolver = resolver()
        self.datetime_formats = list(cb.spec.file.datetime_formats)
        self.timezone = cb.spec.file.timezone
        self.order: dict[str, tuple[str, ...]] = {}  # datetime column -> slashed formats in the order its dates show
        self._counts: dict[tuple[str, str], list] = {}  # (rule, column) -> rows, for one summary log row each

    def problem(self, message, row, column, value=None, accepted=None):
        """A problem at a cell; its value is quoted only when it cannot hold personal data (privacy.shown_value)."""
        value = privacy.shown_value(value)
        self.problems.append(Problem(message, row=row, column=column, value=value, accepted=accepted))

    def note(self, rule: str, row, column: str, detail: str):
        """A repair too frequent for a log row per cell: one row per (rule, column) with the count."""
        self._counts.setdefault((rule, column, detail), []).append(row)

    def flush(self):
        for (rule, column, detail), rows in self._counts.items():
            shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
            self.log.append(log_row(None, column, None, None, rule, f"{len(rows)} cell(s) ({detail}); rows {shown}"))
        self._counts = {}

    # --- kommune -------------------------------------------------------------------------------

    def kommune(self, v, row, col):
        if blank(v) or (isinstance(v, Labelled) and blank(v.label) and blank(v.value)):
            self.problem(
                "no kommune given",
                row,
                col,
                accepted="the name or code of one of the 98 kommuner, e.g. 'Aarhus' or 751",
            )
            return None, None
        tries = [v.label] if isinstance(v, Labelled) else [v]  # a labelled value: the label names the kommune
        hit = None
        for t in tries:
            hit = self.resolver.resolve(t)
            if hit is not None:
                break
        if hit is not None and hit[2] == "conflict":
            self.problem(
                f"kommune code and name disagree: {hit[3]}",
                row,
                col,
                value=str(v),
                accepted="a name, a code, or a code and the name of that code",
            )
            return None, None
        if hit is None:
            close = self.resolver.suggest(tries[0])
            self.problem(
                "unknown kommune",
                row,
                col,
                value=str(v),
                accepted=("close matches: " + ", ".join(repr(c) for c in close) + "; " if close else "")
                + f"any of the 98 official names or codes, or an alias added to {shown_path(aliases_path())}",
            )
            return None, None
        code, by, rule, detail = hit
        if rule:
            self.log.append(log_row(row, col, str(v), f"{code} {self.resolver.names[code]}", rule, detail))
        return code, by

    # --- timestamps ----------------------------------------------------------------------------

    def prepare_datetimes(self, col: str, values) -> None:
        """Decide a datetime column's day/month order from all its values (``01/02/2011`` alone cannot)."""
        day_first = month_first = ampm = 0
        for v in values:
            m = _SLASHED.match(norm(v)) if isinstance(v, str) else None
            if m is None:
                continue
            a, b = int(m.group(1)), int(m.group(2))
            day_first += a > 12
            month_first += b > 12
            ampm += bool(re.search(r"\b[AP]M\b", v, re.IGNORECASE))
        if (month_first or ampm) and not day_first:
            self.order[col] = MONTH_FIRST + DAY_FIRST
            why = "days above 12 in second place" if month_first else "AM/PM times and no day above 12 in first place"
            self.log.append(
                log_row(None, col, None, None, "datetime_month_first", f"dates read month first (US): {why}")
            )
        else:
            self.order[col] = DAY_FIRST + MONTH_FIRST

    def datetime(self, v, row, col):
        v = _unwrap(v)
        if blank(v):
            return pd.NaT
        if isinstance(v, _dt.datetime):
            return self._local(pd.Timestamp(v), row, col)
        if isinstance(v, _dt.date):
            return pd.Timestamp(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return self._serial(float(v), v, row, col)
        text, zone = _split_zone(norm(v))
        for f in self.datetime_formats:
            try:
                return self._local(_zoned(pd.Timestamp(_dt.datetime.strptime(text, f)), zone), row, col)
            except ValueError:
                continue
        if zone is None and re.fullmatch(r"\d+(?:[.,]\d+)?", text):
            return self._serial(float(text.replace(",", ".")), v, row, col)
        try:
            ts = pd.Timestamp(_dt.datetime.fromisoformat(text.replace(" T", "T")))
            self.note("datetime_other_format", row, col, "ISO 8601 date and time")
            return self._local(_zoned(ts, zone), row, col)
        except ValueError:
            pass
        for f in DATETIME_FORMATS + self.order.get(col, DAY_FIRST + MONTH_FIRST):
            try:
                ts = pd.Timestamp(_dt.datetime.strptime(text, f))
            except ValueError:
                continue
            self.note("datetime_other_format", row, col, f"written as {f}")
            return self._local(_zoned(ts, zone), row, col)
        self.problem(
            "not a date and time",
            row,
            col,
            value=v,
            accepted="dates such as "
            + ", ".join(
                repr(_dt.datetime(2011, 9, 30, 14, 5).strftime(f))
                for f in [*self.datetime_formats, "%Y-%m-%dT%H:%M", "%d.%m.%Y %H.%M.%S"]
            )
            + ", '2011/09/30 02:05:00 PM GMT+2', or an Excel date; another format: the codebook's "
            "`file.datetime_formats`",
        )
        return pd.NaT

    def _serial(self, x: float, v, row, col):
        lo, hi = EXCEL_SERIAL_RANGE
        if not math.isfinite(x) or not lo <= x < hi:
            self.problem(
                "a number that is not an Excel date",
                row,
                col,
                value=v,
                accepted=f"a date, or an Excel serial date between {lo} and {hi}",
            )
            return pd.NaT
        self.note("excel_serial_date", row, col, "Excel serial day numbers converted to dates")
        return pd.Timestamp(EXCEL_EPOCH + _dt.timedelta(days=x)).round("s")

    def _local(self, ts: pd.Timestamp, row, col):
        """Danish local time without a zone: times with an offset converted; times without one taken to be in
        the codebook's ``file.timezone`` (default Danish time) and converted from it."""
        if ts.tzinfo is None:
            if self.timezone == LOCAL_TZ:
                return ts
            ts = ts.tz_localize(self.timezone, ambiguous=False, nonexistent="shift_forward")
            self.note("timezone_converted", row, col, f"times in {self.timezone} (codebook) converted to {LOCAL_TZ}")
        else:
            self.note("timezone_converted", row, col, f"times with a UTC offset converted to {LOCAL_TZ}")
        return ts.tz_convert(LOCAL_TZ).tz_localize(None)

    # --- labels --------------------------------------------------------------------------------

    def label(self, v, row, col, labels: dict):
        if blank(v):
            return None
        table = {_key(k): val for k, val in labels.items()}
        tries = [v.label] if isinstance(v, Labelled) else [v]  # a labelled value: the label is the answer
        for t in tries:
            k = _key(t)
            if k in table:
                if isinstance(v, Labelled):
                    self.note("value_label_used", row, col, "SPSS/Stata value labels decide")
                return table[k]
        loose_table = {loose(a): val for a, val in table.items()}
        for t in tries:
            if loose(_key(t)) in loose_table:
                new = loose_table[loose(_key(t))]
                self.log.append(
                    log_row(
                        row,
                        col,
                        str(v),
                        str(new),
                        "label_variant",
                        "spelling/case/punctuation variant of a value label",
                    )
                )
                return new
        boolean = _boolean_values(set(table.values()))
        if boolean:
            for t in tries:
                w = loose(_key(t))
                if w in TRUE_WORDS or w in FALSE_WORDS:
                    new = boolean[w in TRUE_WORDS]
                    self.note("label_variant", row, col, "yes/no written as 1/0, True/False, Ja/Nej or x")
                    return new
        self.problem(
            "value label not in the codebook" if isinstance(v, Labelled) else "value not in the codebook's labels",
            row,
            col,
            value=str(v),
            accepted=", ".join(repr(a) for a in table) + " (or blank)",
        )
        return None

    # --- model ---------------------------------------------------------------------------------

    def model(self, v, row, col):
        models = self.cb.spec.models
        codes = dict(models.codes)
        names = models.scheme_labels or {k: lab for k, lab in self.cb.spec.model_labels.items() if k in codes}
        accepted = (
            ", ".join(f"{k} ({names.get(k, '')})".replace(" ()", "") for k in codes)
            + ", the label with or without its number, or blank (no answer)"
        )
        if blank(v):
            return models.blank
        code = None
        if isinstance(v, Labelled):  # SPSS/Stata: the value label is the answer, whatever number it is stored as
            code = self._model_code(v.label, row, col, codes, names, quiet=True, labels_only=True)
            if code is None:
                self.problem(
                    "value label not in the codebook: it names no model",
                    row,
                    col,
                    value=str(v),
                    accepted="value labels naming the models: " + ", ".join(repr(n) for n in names.values()),
                )
                return None
            self.note("model_from_value_label", row, col, "the SPSS/Stata value label decides the model")
        else:
            code = self._model_code(v, row, col, codes, names)
            if code is None:
                if not any(p.row == row and p.column == col for p in self.problems):
                    words = isinstance(v, str) and re.search(r"[^\W\d_]{3,}", v)
                    self.problem(
                        "model label not in the codebook" if words else "unknown model code",
                        row,
                        col,
                        value=v,
                        accepted=accepted,
                    )
                return None
        new = codes[code]
        if new != code:
            self.log.append(
                log_row(
                    row,
                    col,
                    str(code),
                    str(new),
                    "model_crosswalk",
                    f"{names.get(code, code)} -> {self.cb.spec.model_labels.get(new, new)} "
                    f"({shown_path(self.cb.path)})",
                )
            )
        return new

    def _model_code(self, v, row, col, codes, names, quiet=False, labels_only=False):
        """Export code from a number, digits or label text; None (with a problem unless quiet) otherwise.

        ``labels_only``: a value label, matched by its text (with or without a leading code)."""
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            if isinstance(v, float) and (not math.isfinite(v) or not v.is_integer()):
                if not quiet:
                    self.problem("not a whole number", row, col, value=v, accepted="a model code")
                return None
            return int(v) if int(v) in codes else None
        text = norm(v)
        by_label = {_label_key(lab): k for k, lab in names.items()}
        if labels_only:
            bare = re.sub(r"^\d+\s*[-–:.)]?\s*", "", text)
            return by_label.get(_label_key(text), by_label.get(_label_key(bare)))
        m = _MODEL_TEXT.match(text)
        if (
            m
            and m.group("code").isdigit()
            and (m.group("label") or re.fullmatch(r"(?:model(?:len)?\s*)?\d+(?:[.,]0+)?", text, re.IGNORECASE))
        ):
            code = int(m.group("code"))
            label = m.group("label")
            if code not in codes:
                return None
            if label:
                if _label_key(label) not in by_label:  # an untranslated or other label the codebook does not have
                    if not quiet:
                        self.problem(
                            f"the label written with model code {code} is not in the codebook",
                            row,
                            col,
                            value=v,
                            accepted=f"{code} with its label {names.get(code, '')!r} (or the label added to the "
                            "codebook)",
                        )
                    return None
                if by_label[_label_key(label)] != code:
                    if not quiet:
                        self.problem(
                            f"model code {code} and the label written with it disagree",
                            row,
                            col,
                            value=v,
                            accepted=f"{code} with its label {names.get(code, '')!r}",
                        )
                    return None
                self.note("model_from_label", row, col, "model answers written with their label")
            elif not self.sheet.text or text != m.group("code"):
                self.log.append(
                    log_row(row, col, repr(v), str(code), "number_from_text", "model code stored as text converted")
                )
            return code
        if _label_key(text) in by_label:
            self.note("model_from_label", row, col, "model answers written as their label")
            return by_label[_label_key(text)]
        return None

    # --- numbers and text ----------------------------------------------------------------------

    def number(self, v, row, col, accepted="a whole number", minimum=None, maximum=None):
        v = _unwrap(v)
        maximum = MAX_INTEGER if maximum is None else maximum
        if blank(v):
            return None
        if isinstance(v, bool):
            self.problem("not a number", row, col, value=v, accepted=accepted)
            return None
        if isinstance(v, (int, float)):
            if isinstance(v, float) and (not math.isfinite(v) or not v.is_integer()):
                self.problem("not a whole number", row, col, value=v, accepted=accepted)
                return None
            n = int(v)
        else:
            text = norm(v)
            digits = text
            if re.fullmatch(r"[+-]?\d{1,3}(?:[ .]\d{3})+", text):  # 1.200 / 1 200 (Danish thousands)
                digits = re.sub(r"[ .]", "", text)
            elif re.fullmatch(r"[+-]?\d+[.,]0+", text):  # 12,0 (decimal comma) / 12.0
                digits = re.split(r"[.,]", text)[0]
            if not re.fullmatch(r"[+-]?\d{1,18}", digits):
                self.problem(
                    "not a whole number" if not re.fullmatch(r"[+-]?\d+", digits) else f"above the maximum {maximum}",
                    row,
                    col,
                    value=v if len(str(v)) < 40 else str(v)[:40] + "...",
                    accepted=accepted,
                )
                return None
            n = int(digits)
            if not self.sheet.text or digits != text:
                self.log.append(
                    log_row(row, col, repr(v), str(n), "number_from_text", "number stored as text converted")
                )
        if minimum is not None and n < minimum:
            self.problem(f"below the minimum {minimum}", row, col, value=v, accepted=accepted)
            return None
        if n > maximum:
            self.problem(
                f"above the maximum {maximum}",
                row,
                col,
                value=v,
                accepted=accepted + f" up to {maximum} (codebook `max`)",
            )
            return None
        return n

    @staticmethod
    def text(v, row=None, col=None):
        if isinstance(v, Labelled):
            v = v.label
        return None if blank(v) else norm(v)


def _key(v) -> str:
    v = v.value if isinstance(v, Labelled) else v
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    return norm(v)


def _label_key(s) -> str:
    """A model label for matching: without a leading "M1 "/"Model 1:" and trailing punctuation."""
    s = loose(s)
    s = re.sub(r"^(?:m|model)\s*\d+\s*[-–:.)]?\s*", "", s)
    return s.strip(" \"'")


def _boolean_values(values: set) -> dict | None:
    """{True: canonical yes, False: canonical no} for a yes/no or checkbox label set, else None."""
    if values <= {True, False} and values:
        return {True: True, False: False}
    if {"yes", "no"} <= values:
        return {True: "yes", False: "no"}
    return None


# --------------------------------------------------------------------------------------------
# Duplicates, floods, fieldwork
# --------------------------------------------------------------------------------------------


def flood_problems(df: pd.DataFrame, cb: Codebook, names: dict[int, str], n_rows: int) -> list[Problem]:
    """A file with more responses than kommuner can give is a wrong file, not duplicates."""
    problems = []
    if n_rows > cb.max_rows:
        problems.append(
            Problem(
                f"{n_rows} response rows, more than the {cb.max_rows} that 98 kommuner can plausibly give: "
                "this looks like the wrong file (a panel, a test flood, several rounds appended)",
                accepted=f"at most {cb.max_rows} rows (codebook `max_rows`)",
            )
        )
    counts = df["kommunekode"].value_counts()
    over = counts[counts > cb.max_per_kommune]
    if len(over):
        shown = ", ".join(
            f"{names[int(k)]}: {int(n)} responses" for k, n in over.sort_values(ascending=False).head(10).items()
        )
        problems.append(
            Problem(
                f"{len(over)} kommune(r) answered more than {cb.max_per_kommune} times ({shown}): "
                "a flood of responses is a wrong file, not duplicates to drop",
                column=cb.columns["kommune_navn"].header,
                accepted=f"at most {cb.max_per_kommune} responses per kommune (codebook `max_responses_per_kommune`)",
            )
        )
    return problems


def fieldwork_problems(df: pd.DataFrame, cb: Codebook, year: int) -> tuple[list[Problem], list[dict]]:
    """Submissions outside the round's fieldwork window: the file is probably another round's."""
    if "submitted_at" not in cb.columns:
        return [], [log_row(None, None, None, None, "fieldwork_unchecked", "the round has no submission time column")]
    start, end, source = cb.fieldwork(year)
    ts = pd.to_datetime(df["submitted_at"])
    col = cb.columns["submitted_at"].header
    if ts.notna().sum() == 0:
        return [], [log_row(None, col, None, None, "fieldwork_unchecked", "no submission times in the file")]
    outside = df[(ts < start) | (ts > end)]
    if outside.empty:
        return [], []
    rows = ", ".join(str(r) for r in outside["source_row"].head(15)) + (", ..." if len(outside) > 15 else "")
    years = Counter(pd.to_datetime(outside["submitted_at"]).dt.year)
    return [
        Problem(
            f"{len(outside)} submission(s) outside the fieldwork window of round {year} ({start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d}, {source}), "
            f"in rows {rows}; submitted in "
            + ", ".join(f"{y} ({n})" for y, n in sorted(years.items()))
            + ": is this another round's file?",
            column=col,
            accepted="submissions inside the window; set `fieldwork:` in the codebook, or pass ignore_fieldwork=True "
            "(borgerservice clean --ignore-fieldwork) for a deliberate exception",
        )
    ], []


def drop_duplicates(df: pd.DataFrame, cb: Codebook, log: list, file: Path | None = None) -> pd.DataFrame:
    """One response per kommune: complete beats incomplete, then the latest submission.

    Completeness is the survey tool's status (codebook ``completion``) when the file has it, else
    the number of answered questions. Two answers that tie on both and were submitted at the same
    time are kept as one when they say the same; when they differ no rule in the data decides, so
    the clean stops naming both rows, unless the codebook's ``duplicate_tie`` says ``first`` or
    ``last`` (the row kept, in file order)."""
    col = cb.columns["kommune_navn"].header
    if "submitted_at" not in df:
        df["submitted_at"] = pd.NaT
    rule = cb.spec.duplicate_tie
    df = df.assign(
        _ts=pd.to_datetime(df["submitted_at"]).fillna(pd.Timestamp.min),
        _order=df["source_row"] if rule != "first" else -df["source_row"],
    )
    df = df.sort_values(["_complete", "_answered", "_ts", "_order"], kind="stable")
    dup = df.duplicated("kommunekode", keep="last")
    kept = df.drop_duplicates("kommunekode", keep="last").set_index("kommunekode")
    by_status = "_status" in df and df["_status"].notna().any()
    answers = [
        c for c in df.columns if not c.startswith("_") and c not in ("source_row", "kommune_navn", "kommunekode")
    ]
    problems = []
    for _, r in df[dup].iterrows():
        k = kept.loc[r["kommunekode"]]
        what = "status" if by_status else "answered questions"
        if (r["_complete"], r["_answered"]) < (k["_complete"], k["_answered"]):
            rule_name, why = "duplicate_kept_complete", f"the kept response is more complete ({what})"
        elif r["_ts"] < k["_ts"]:
            rule_name, why = "duplicate_kept_latest", "equally complete; the latest submission is kept"
        elif all(_same(r[c], k[c]) for c in answers):
            rule_name, why = (
                "duplicate_tie",
                "equally complete, submitted at the same time and with the same answers (exact tie); one kept",
            )
        elif rule == "error":
            problems.append(
                Problem(
                    f"kommune {r['kommunekode']} answered twice, equally complete and at the same time, with "
                    f"different answers: rows {min(r['source_row'], k['source_row'])} and "
                    f"{max(r['source_row'], k['source_row'])}; no rule decides which is the answer",
                    row=int(r["source_row"]),
                    column=col,
                    accepted="one of the rows removed from the export, or a rule in the codebook: "
                    "`duplicate_tie: first` or `duplicate_tie: last` (the row kept, in file order)",
                )
            )
            continue
        else:
            rule_name, why = (
                "duplicate_tie",
                f"equally complete and submitted at the same time (exact tie); the {rule} row in the file is kept "
                "(codebook duplicate_tie)",
            )
        log.append(
            log_row(
                r["source_row"],
                col,
                f"{r['kommune_navn']} ({r['submitted_at']})",
                f"kept row {k['source_row']}",
                rule_name,
                f"kommune {r['kommunekode']} answered more than once; {why}",
            )
        )
    if problems:
        raise DataError(file, problems)
    return df[~dup].drop(columns=["_ts", "_order"]).sort_values("kommunekode").reset_index(drop=True)


def _same(a, b) -> bool:
    if (a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NaT or a is pd.NA) and (
        b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NaT or b is pd.NA
    ):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
