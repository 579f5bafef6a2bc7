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

from helpers.core import paths
from helpers.core.errors import Problem

from .codebooks import MAX_INTEGER, Codebook
from .formats import Labelled, Sheet, log_row
from .names import aliases_path, resolver
from .text import blank, loose, norm

TRUE_WORDS = {"1", "1.0", "ja", "j", "yes", "y", "true", "sand", "x", "valgt", "afkrydset", "sandt"}
FALSE_WORDS = {"0", "0.0", "nej", "n", "no", "false", "falsk", "ikke valgt", "ikke afkrydset"}
DATETIME_FORMATS = (
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d.%m.%Y kl. %H:%M",
    "%d-%m-%Y kl. %H:%M",
    "%d. %m. %Y %H:%M",
)
EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
EXCEL_SERIAL_RANGE = (25000, 80000)  # 1968 .. 2119: a number here in a date column is an Excel serial date
LOCAL_TZ = "Europe/Copenhagen"
_MODEL_TEXT = re.compile(
    r"^(?:model(?:len)?\s*)?(?P<code>\d+)(?:[.,]0+)?\s*(?:[-–:.)]\s*|\s+)?(?P<label>.*)$", re.IGNORECASE
)


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
        self._counts: dict[tuple[str, str], list] = {}  # (rule, column) -> rows, for one summary log row each

    def problem(self, message, row, column, value=None, accepted=None):
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
        tries = [v.label, v.value] if isinstance(v, Labelled) else [v]
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
                + f"any of the 98 official names or codes, or an alias added to {paths.relative(aliases_path())}",
            )
            return None, None
        code, by, rule, detail = hit
        if rule:
            self.log.append(log_row(row, col, str(v), f"{code} {self.resolver.names[code]}", rule, detail))
        return code, by

    # --- timestamps ----------------------------------------------------------------------------

    def datetime(self, v, row, col):
        v = _unwrap(v)
        if blank(v):
            return pd.NaT
        if isinstance(v, _dt.datetime):
            return self._naive(pd.Timestamp(v), row, col)
        if isinstance(v, _dt.date):
            return pd.Timestamp(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return self._serial(float(v), v, row, col)
        text = norm(v)
        for f in self.datetime_formats:
            try:
                return pd.Timestamp(_dt.datetime.strptime(text, f))
            except ValueError:
                continue
        if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
            return self._serial(float(text.replace(",", ".")), v, row, col)
        try:
            ts = pd.Timestamp(_dt.datetime.fromisoformat(text.replace(" T", "T")))
            self.note("datetime_other_format", row, col, "ISO 8601 date and time")
            return self._naive(ts, row, col)
        except ValueError:
            pass
        for f in DATETIME_FORMATS:
            try:
                ts = pd.Timestamp(_dt.datetime.strptime(text, f))
            except ValueError:
                continue
            self.note("datetime_other_format", row, col, f"written as {f}")
            return ts
        self.problem(
            "not a date and time",
            row,
            col,
            value=v,
            accepted="dates such as "
            + ", ".join(
                repr(_dt.datetime(2011, 9, 30, 14, 5).strftime(f)) for f in [*self.datetime_formats, "%Y-%m-%dT%H:%M"]
            )
            + ", or an Excel date",
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

    def _naive(self, ts: pd.Timestamp, row, col):
        if ts.tzinfo is None:
            return ts
        self.note("timezone_converted", row, col, f"times with a UTC offset converted to {LOCAL_TZ}")
        return ts.tz_convert(LOCAL_TZ).tz_localize(None)

    # --- labels --------------------------------------------------------------------------------

    def label(self, v, row, col, labels: dict):
        if blank(v):
            return None
        table = {_key(k): val for k, val in labels.items()}
        tries = [v.value, v.label] if isinstance(v, Labelled) else [v]
        for t in tries:
            k = _key(t)
            if k in table:
                if isinstance(v, Labelled) and t is v.label:
                    self.note("value_label_used", row, col, "SPSS/Stata value labels matched")
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
            "value not in the codebook's labels",
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
        if isinstance(v, Labelled):
            code = self._model_code(v.value, row, col, codes, names, quiet=True)
            if code is None:
                code = self._model_code(v.label, row, col, codes, names, quiet=True)
            if code is None:
                self.problem("unknown model code", row, col, value=str(v), accepted=accepted)
                return None
        else:
            code = self._model_code(v, row, col, codes, names)
            if code is None:
                if not any(p.row == row and p.column == col for p in self.problems):
                    self.problem("unknown model code", row, col, value=v, accepted=accepted)
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
                    f"({paths.relative(self.cb.path)})",
                )
            )
        return new

    def _model_code(self, v, row, col, codes, names, quiet=False):
        """Export code from a number, digits or label text; None (with a problem unless quiet) otherwise."""
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
                if _label_key(label) not in by_label or by_label[_label_key(label)] != code:
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


def drop_duplicates(df: pd.DataFrame, cb: Codebook, log: list) -> pd.DataFrame:
    """One response per kommune: complete beats incomplete, then the latest submission; exact ties logged.

    Completeness is the survey tool's status (codebook ``completion``) when the file has it, else
    the number of answered questions. In an exact tie the lower row in the file is kept."""
    col = cb.columns["kommune_navn"].header
    if "submitted_at" not in df:
        df["submitted_at"] = pd.NaT
    df = df.assign(_ts=pd.to_datetime(df["submitted_at"]).fillna(pd.Timestamp.min))
    df = df.sort_values(["_complete", "_answered", "_ts", "source_row"], kind="stable")
    dup = df.duplicated("kommunekode", keep="last")
    kept = df.drop_duplicates("kommunekode", keep="last").set_index("kommunekode")
    by_status = "_status" in df and df["_status"].notna().any()
    for _, r in df[dup].iterrows():
        k = kept.loc[r["kommunekode"]]
        what = "status" if by_status else "answered questions"
        if (r["_complete"], r["_answered"]) < (k["_complete"], k["_answered"]):
            rule, why = "duplicate_kept_complete", f"the kept response is more complete ({what})"
        elif r["_ts"] < k["_ts"]:
            rule, why = "duplicate_kept_latest", "equally complete; the latest submission is kept"
        else:
            rule, why = (
                "duplicate_tie",
                "equally complete and submitted at the same time (exact tie); the lower row in the file is kept",
            )
        log.append(
            log_row(
                r["source_row"],
                col,
                f"{r['kommune_navn']} ({r['submitted_at']})",
                f"kept row {k['source_row']}",
                rule,
                f"kommune {r['kommunekode']} answered more than once; {why}",
            )
        )
    return df[~dup].drop(columns=["_ts"]).sort_values("kommunekode").reset_index(drop=True)
