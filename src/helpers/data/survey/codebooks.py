"""Codebooks: how one survey round's export maps to the package's canonical variables.

A codebook is ``config/codebooks/<round>.yaml``: headers, value labels, the model crosswalk and
ordering, and the round's rules for real exports (keys below). This module reads it and validates
it against a typed model (:class:`CodebookSpec`, pydantic): a misspelt key, a value outside its
vocabulary or a label set that is not defined is a :class:`DataError` naming the codebook (relative
to the project), the key path, what was found and what is accepted, every problem at once. It knows
no file format and no kommune names.

Keys beyond ``columns``/``labels``/``models`` (all optional):

* ``sheet``: the workbook sheet to read (name or 1-based number); default: the sheet whose
  header row matches the codebook best (named in the cleaning log).
* ``completion``: ``{header: "Status", complete: ["Gennemført"]}``: the survey tool's status column,
  used to let a complete response beat an incomplete one among duplicates (otherwise the number of
  answered questions decides).
* ``max_responses_per_kommune`` (default 3) and ``max_rows`` (default 2 x 98): more means a wrong
  file (a flood), not duplicates; the clean stops with the counts.
* ``fieldwork``: ``{start: 2011-09-01, end: 2011-12-31}`` for the codebook's own ``year``; any
  other round uses the default window 1 January of the round's year to 30 June of the next.
* ``free_text``: ``redact`` (default: CPR numbers, e-mail addresses, phone numbers and person names,
  the row's respondent's and anyone else's, are replaced by placeholders; :mod:`.privacy`), ``drop``
  (free-text columns become empty) or ``keep`` (as written: only for exports known to hold no
  personal data; logged).
* ``duplicate_tie``: two answers of one kommune that are equally complete, submitted at the same
  time and differ are an error naming both rows (``error``, default), unless the codebook states a
  rule: ``first`` or ``last`` (the row kept, in file order; logged).
* ``file.timezone``: the IANA time zone of timestamps written without an offset (default
  ``Europe/Copenhagen``; e.g. ``UTC`` for a tool that exports UTC); ``file.datetime_formats``: the
  export's own timestamp formats, tried before the formats the cleaner knows.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from helpers.core import paths
from helpers.core.cooperation import DEFAULT_ORDERING, parse_ordering
from helpers.core.errors import DataError, Problem
from helpers.core.vocabulary import (
    AnsweredModel,
    ColumnType,
    FreeTextPolicy,
    ModelCode,
    RespondentRole,
    SurveyVariable,
    TieRule,
    YesNo,
)

from .text import shown_path

MAPPED: tuple[str, ...] = get_args(SurveyVariable)  # canonical variables a codebook maps, in output order
TASKS = tuple(v for v in MAPPED if v.startswith("task_"))
YES_NO: tuple[str, ...] = get_args(YesNo)
ROLES: tuple[str, ...] = get_args(RespondentRole)
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
MAX_RESPONSES_PER_KOMMUNE = 3
MAX_INTEGER = 1_000_000  # an integer answer above this (or the column's `max`) is an error, not a count
N_KOMMUNER = 98
DEFAULT_ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
DEFAULT_DATETIME_FORMATS = ("%d-%m-%Y %H:%M",)
LOCAL_TZ = "Europe/Copenhagen"  # Danish local time: what the clean table holds


# --------------------------------------------------------------------------------------------
# The typed codebook
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """How one canonical variable appears in the export."""

    header: str = Field(description="the export's column header")
    type: ColumnType = Field(description="column type")
    labels: str | None = Field(None, description="a label set under `labels` (type label)")
    required: bool = Field(True, description="false: a missing column becomes all-missing")
    min: int | None = Field(None, description="smallest accepted whole number (type integer)")
    max: int | None = Field(None, description="largest accepted whole number (type integer)")


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; accepted: an IANA name such as 'UTC' or 'Europe/Copenhagen'"
        ) from None
    return name


class FileSpec(_Strict):
    """How a text export is decoded and its timestamps written."""

    encodings: tuple[str, ...] = Field(DEFAULT_ENCODINGS, description="text encodings tried in order")
    header_row: int | str = Field("auto", description="'auto' (the row that matches the headers)")
    datetime_formats: tuple[str, ...] = Field(DEFAULT_DATETIME_FORMATS, description="strptime formats")
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(
        LOCAL_TZ, description="the IANA time zone of times written without an offset, e.g. UTC or Europe/Copenhagen"
    )


class ModelsSpec(_Strict):
    """The model question: export code -> 2011 model, and what a blank answer means."""

    codes: dict[int, AnsweredModel] = Field(description="2011 model (1-5) of an export code")
    blank: ModelCode = Field(0, description="model code of a blank answer")
    scheme_labels: dict[int, str] = Field(default_factory=dict, description="the export scheme's own names")


class Completion(_Strict):
    header: str = Field(description="the survey tool's status column")
    complete: tuple[str, ...] = Field(min_length=1, description="status values that mean complete")


class Fieldwork(_Strict):
    start: _dt.date = Field(description="a date such as 2011-09-01")
    end: _dt.date = Field(description="a date such as 2011-12-31")

    @model_validator(mode="after")
    def _ordered(self):
        if self.start > self.end:
            raise ValueError("fieldwork needs start <= end as dates")
        return self


def _ordering(value):
    return tuple(parse_ordering(value)) if value is not None else DEFAULT_ORDERING


class CodebookSpec(_Strict):
    """A codebook as validated: every key it may have, with its type and default."""

    year: int | None = Field(None, description="the round the codebook was written for")
    description: str = ""
    file: FileSpec = FileSpec()
    model_order: Annotated[tuple[int, ...], BeforeValidator(_ordering)] = Field(
        DEFAULT_ORDERING, description="cooperation ordering, lowest first"
    )
    columns: dict[SurveyVariable, ColumnSpec] = Field(
        min_length=1, description="canonical variable: {header: ..., type: ...} for each variable the export has"
    )
    not_asked: tuple[SurveyVariable, ...] = Field((), description="canonical variable")
    sheet: str | int | None = Field(None, description="a sheet name or its 1-based number")
    completion: Completion | None = Field(None, description="{header: Status, complete: [Gennemført]}")
    fieldwork: Fieldwork | None = Field(None, description="{start: 2011-09-01, end: 2011-12-31}")
    free_text: FreeTextPolicy = Field("redact", description="free-text policy")
    duplicate_tie: TieRule = Field("error", description="rule for exact ties between two answers of a kommune")
    max_responses_per_kommune: int = Field(MAX_RESPONSES_PER_KOMMUNE, ge=1, description="a whole number >= 1")
    max_rows: int = Field(2 * N_KOMMUNER, ge=1, description="a whole number >= 1")
    personal_data: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    labels: dict[str, dict[Any, Any]] = Field(default_factory=dict)
    models: ModelsSpec = Field(description="the model question's crosswalk: {codes: {1: 1, ..., 5: 5}, blank: 0}")
    model_labels: dict[ModelCode, str] = Field(default_factory=dict, description="model code 0-5")

    @model_validator(mode="after")
    def _consistent(self):
        problems = [*self._label_sets(), *self._coverage(), *self._model_labels()]
        if problems:
            raise PydanticCustomError("codebook", "{n} inconsistent key(s)", {"n": len(problems), "problems": problems})
        return self

    def _label_sets(self) -> list[tuple]:
        out = []
        for var, spec in self.columns.items():
            if spec.type == "label" and spec.labels not in self.labels:
                out.append(
                    (
                        ("columns", var, "labels"),
                        "label set not defined under `labels`",
                        spec.labels,
                        ", ".join(repr(k) for k in self.labels),
                    )
                )
                continue
            target = _LABEL_TARGETS.get(var)
            if spec.type == "label" and target is not None:
                bad = [v for v in self.labels[spec.labels].values() if v not in target]
                if bad:
                    out.append(
                        (
                            ("labels", spec.labels),
                            f"canonical values of {var} outside the package's vocabulary",
                            bad,
                            ", ".join(repr(t) for t in target),
                        )
                    )
        return out

    def _coverage(self) -> list[tuple]:
        out = []
        missing = [v for v in MAPPED if v not in self.columns and v not in self.not_asked]
        if missing:
            out.append((("columns",), "canonical variables neither mapped nor listed under `not_asked`", missing, None))
        for essential in ("kommune_navn", "model"):
            if essential not in self.columns:
                out.append((("columns", essential), "every round must map this variable", None, None))
        return out

    def _model_labels(self) -> list[tuple]:
        spec = self.columns.get("model")
        if spec is None or spec.type != "label" or spec.labels not in self.labels:
            return []
        codes = {str(c) for c in self.models.codes}
        bad = {k: v for k, v in self.labels[spec.labels].items() if str(v).strip() not in codes}
        if not bad:
            return []
        return [
            (
                ("labels", spec.labels),
                "the model column's labels must map to export codes listed under models.codes",
                bad,
                "codes " + ", ".join(sorted(codes)),
            )
        ]


_LABEL_TARGETS: dict[str, tuple] = {
    "respondent_role": ROLES,
    "digital_strategy": YES_NO,
    "org_change_planned": YES_NO,
    **{t: (True, False) for t in TASKS},
}


@dataclass(frozen=True)
class Codebook:
    """A validated codebook: its file, its name, the YAML as written (``doc``) and the typed ``spec``."""

    path: Path
    name: str
    doc: dict  # the YAML as written (read by helpers.outputs.exports for its value labels)
    spec: CodebookSpec

    @property
    def columns(self) -> dict[str, ColumnSpec]:
        return self.spec.columns

    @property
    def model_order(self) -> tuple[int, ...]:
        return self.spec.model_order

    @property
    def free_text_policy(self) -> FreeTextPolicy:
        return self.spec.free_text

    @property
    def free_text_vars(self) -> list[str]:
        """Canonical variables holding free text (type text, except the kommune name)."""
        return [v for v, s in self.columns.items() if s.type == "text"]

    @property
    def max_per_kommune(self) -> int:
        return self.spec.max_responses_per_kommune

    @property
    def max_rows(self) -> int:
        return self.spec.max_rows

    def label_set(self, var: str) -> dict:
        """Export value -> canonical value of a label-typed variable."""
        return self.spec.labels[self.columns[var].labels]

    def fieldwork(self, year: int) -> tuple[_dt.datetime, _dt.datetime, str]:
        """``(start, end, where it comes from)`` of the fieldwork window for round ``year``."""
        fw = self.spec.fieldwork
        if fw is not None and self.spec.year == int(year):
            start = _dt.datetime.combine(fw.start, _dt.time())
            end = _dt.datetime.combine(fw.end, _dt.time(23, 59, 59))
            return start, end, f"codebook {shown_path(self.path)}"
        return (
            _dt.datetime(year, 1, 1),
            _dt.datetime(year + 1, 6, 30, 23, 59, 59),
            f"default for round {year} (1 January {year} to 30 June {year + 1})",
        )


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def available_codebooks() -> list[str]:
    return sorted(p.stem for p in paths.codebooks().glob("*.yaml"))


def load_codebook(codebook=None, year: int | None = None) -> Codebook:
    """Read and validate a codebook; ``None`` means the one named after ``year``."""
    if codebook is None:
        if year is None:
            raise ValueError("give a codebook name or a year")
        codebook = str(year)
    if isinstance(codebook, Codebook):
        return codebook
    path = paths.codebook(codebook)
    if not path.is_file():
        raise DataError(
            shown_path(path),
            Problem(
                f"no codebook for {codebook!r}: a new survey round needs config/codebooks/<round>.yaml "
                "(copy the codebook of a round with the same questionnaire and change year/description)",
                accepted="codebooks " + ", ".join(repr(c) for c in available_codebooks()),
            ),
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(
            shown_path(path),
            Problem(f"not valid YAML: {getattr(exc, 'problem', None) or 'unreadable'}", row=mark and mark.line + 1),
        ) from None
    if not isinstance(doc, dict):
        raise DataError(shown_path(path), Problem("a codebook is a mapping of keys", value=type(doc).__name__))
    return Codebook(path, path.stem, doc, validate_codebook(path, doc))


def validate_codebook(path: Path, doc: dict) -> CodebookSpec:
    """``doc`` as a :class:`CodebookSpec`; a DataError listing every problem (key path, found, accepted)."""
    try:
        return CodebookSpec.model_validate(doc)
    except ValidationError as exc:
        raise DataError(shown_path(path), [p for e in exc.errors() for p in _problems(e)]) from None


def _problems(error: dict) -> list[Problem]:
    """One pydantic error as the house style's problems: key path, what was found, what is accepted."""
    loc = tuple(str(x) for x in error["loc"] if x != "[key]")
    is_key = "[key]" in error["loc"]  # the name of a key is wrong, not its value
    kind, found = error["type"], error.get("input")
    if kind == "codebook":  # the cross-field checks of CodebookSpec, each already in the house style
        return [_problem(path, message, value, ok) for path, message, value, ok in error["ctx"]["problems"]]
    field, parent = _field_at(loc)
    what = (field.description if field is not None else None) or "value"
    if is_key and loc[0] == "columns":
        what = "canonical variable"
    if kind == "literal_error":
        message, ok = f"unknown {what}", error["ctx"]["expected"].replace(" or ", ", ")
    elif kind == "extra_forbidden":
        message, ok = "unknown key", ", ".join(parent.model_fields) if parent is not None else None
    elif kind == "missing":
        message, ok, found = "missing key", what, None
    elif kind == "value_error":  # a check of our own (an ordering, a date range) says what it accepts
        message, _, ok = str(error["ctx"]["error"]).partition("; accepted: ")
        ok = ok or (what if field is not None else None)
    else:
        message, ok = error["msg"].replace("Input should be", "should be"), what if field is not None else None
    if isinstance(found, dict | list) and len(repr(found)) > 200:
        found = f"{type(found).__name__} of {len(found)}"
    return [_problem(loc, message, found, ok)]


def _problem(loc: tuple[str, ...], message: str, found, ok) -> Problem:
    """A codebook problem: a key under ``columns:`` is named by its canonical variable, any other by its path."""
    path = ".".join(loc)
    column = loc[1] if len(loc) >= 2 and loc[0] == "columns" else path or None
    return Problem(f"`{path}`: {message}" if path != column else message, column=column, value=found, accepted=ok)


def _field_at(loc: tuple[str, ...]):
    """The pydantic field at a key path of a codebook and the model declaring it; ``(None, model)`` for an
    unknown key of ``model``; ``(None, None)`` where the path leaves the typed part (a label set's values)."""
    model, field, skip = CodebookSpec, None, False
    for part in loc:
        if skip:  # the key of a dict of models (columns.<variable>)
            skip = False
            continue
        if model is None:
            return field, None  # inside a dict of plain values: the dict's field describes them
        found = model.model_fields.get(part)
        if found is None:
            return (None, model) if field is None or part == loc[-1] else (field, None)
        field = found
        model, skip = _model_of(field.annotation)
    return field, model


def _model_of(annotation) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation holds (itself, optional, or as a dict's values) and whether a key comes first."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = get_args(annotation)
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    if not models:
        return None, False
    return models[0], getattr(annotation, "__origin__", None) is dict


def check_model_order(order) -> tuple[int, ...]:
    """A model ordering must list the models 1-5 once each, lowest cooperation first (cooperation's parser)."""
    return tuple(parse_ordering(order))


__all__ = [
    "CANONICAL",
    "MAPPED",
    "ROLES",
    "TASKS",
    "YES_NO",
    "Codebook",
    "CodebookSpec",
    "ColumnSpec",
    "available_codebooks",
    "check_model_order",
    "load_codebook",
    "validate_codebook",
]
