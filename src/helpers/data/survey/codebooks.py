"""Codebooks: how one survey round's export maps to the package's canonical variables.

A codebook is ``config/codebooks/<round>.yaml``: headers, value labels, the model crosswalk and
ordering, and the round's rules for real exports (keys below). This module reads and checks it;
it knows no file format and no kommune names.

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
* ``free_text``: ``redact`` (default: CPR numbers, e-mail addresses, phone numbers and the row's
  respondent names are replaced by placeholders) or ``drop`` (free-text columns become empty).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers.core import paths
from helpers.core.cooperation import DEFAULT_ORDERING, parse_ordering
from helpers.core.errors import DataError, Problem

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
TYPES = {"kommune", "datetime", "label", "model", "integer", "text"}
FREE_TEXT_POLICIES = ("redact", "drop")
MAX_RESPONSES_PER_KOMMUNE = 3
MAX_INTEGER = 1_000_000  # an integer answer above this (or the column's `max`) is an error, not a count
N_KOMMUNER = 98


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

    @property
    def free_text_policy(self) -> str:
        return str(self.doc.get("free_text") or "redact")

    @property
    def free_text_vars(self) -> list[str]:
        """Canonical variables holding free text (type text, except the kommune name)."""
        return [v for v, s in self.columns.items() if s["type"] == "text"]

    @property
    def max_per_kommune(self) -> int:
        return int(self.doc.get("max_responses_per_kommune") or MAX_RESPONSES_PER_KOMMUNE)

    @property
    def max_rows(self) -> int:
        return int(self.doc.get("max_rows") or 2 * N_KOMMUNER)

    def fieldwork(self, year: int) -> tuple[_dt.datetime, _dt.datetime, str]:
        """``(start, end, where it comes from)`` of the fieldwork window for round ``year``."""
        fw = self.doc.get("fieldwork")
        if isinstance(fw, dict) and int(self.doc.get("year", -1)) == int(year):
            start, end = _as_datetime(fw["start"]), _as_datetime(fw["end"], end_of_day=True)
            return start, end, f"codebook {paths.relative(self.path)}"
        return (
            _dt.datetime(year, 1, 1),
            _dt.datetime(year + 1, 6, 30, 23, 59, 59),
            f"default for round {year} (1 January {year} to 30 June {year + 1})",
        )


def _as_datetime(v, end_of_day: bool = False) -> _dt.datetime:
    if isinstance(v, _dt.datetime):
        return v
    if isinstance(v, _dt.date):
        return _dt.datetime.combine(v, _dt.time(23, 59, 59) if end_of_day else _dt.time())
    return _as_datetime(_dt.date.fromisoformat(str(v)), end_of_day)


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
            problems.append(
                Problem(
                    "each column needs a header and a type",
                    column=var,
                    value=spec,
                    accepted=f"type one of {sorted(TYPES)}",
                )
            )
            continue
        if spec["type"] == "label" and spec.get("labels") not in labels:
            problems.append(
                Problem(
                    "label set not defined under `labels`",
                    column=var,
                    value=spec.get("labels"),
                    accepted=", ".join(labels),
                )
            )
    missing = [v for v in MAPPED if v not in cols and v not in (doc.get("not_asked") or [])]
    if missing:
        problems.append(Problem("canonical variables neither mapped nor listed under `not_asked`", value=missing))
    for essential in ("kommune_navn", "model"):
        if essential not in cols:
            problems.append(Problem("every round must map this variable", column=essential))
    codes = (doc.get("models") or {}).get("codes")
    if not isinstance(codes, dict) or not set(codes.values()) <= set(MODELS[1:]):
        problems.append(Problem("models.codes must map export codes to the 2011 models 1-5", value=codes))
    model_spec = cols.get("model") if isinstance(cols.get("model"), dict) else {}
    if model_spec.get("type") == "label" and isinstance(codes, dict) and model_spec.get("labels") in labels:
        bad = {k: v for k, v in labels[model_spec["labels"]].items() if str(v).strip() not in {str(c) for c in codes}}
        if bad:
            problems.append(
                Problem(
                    "the model column's labels must map to export codes listed under models.codes",
                    column="model",
                    value=bad,
                    accepted="codes " + ", ".join(str(c) for c in codes),
                )
            )
    try:
        check_model_order(doc.get("model_order") or MODEL_ORDER_DEFAULT)
    except ValueError as exc:
        problems.append(Problem(str(exc), column="model_order"))
    if str(doc.get("free_text") or "redact") not in FREE_TEXT_POLICIES:
        problems.append(
            Problem(
                "unknown free-text policy",
                column="free_text",
                value=doc.get("free_text"),
                accepted=" or ".join(FREE_TEXT_POLICIES),
            )
        )
    comp = doc.get("completion")
    if comp is not None and (not isinstance(comp, dict) or "header" not in comp or not comp.get("complete")):
        problems.append(
            Problem(
                "completion needs a header and the values that mean complete",
                column="completion",
                value=comp,
                accepted="{header: Status, complete: [Gennemført]}",
            )
        )
    fw = doc.get("fieldwork")
    if fw is not None:
        try:
            if not isinstance(fw, dict) or _as_datetime(fw["start"]) > _as_datetime(fw["end"], True):
                raise ValueError
        except (KeyError, ValueError, TypeError):
            problems.append(
                Problem(
                    "fieldwork needs start <= end as dates",
                    column="fieldwork",
                    value=fw,
                    accepted="{start: 2011-09-01, end: 2011-12-31}",
                )
            )
    for key in ("max_responses_per_kommune", "max_rows"):
        v = doc.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            problems.append(Problem("must be a whole number >= 1", column=key, value=v))
    sheet = doc.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        problems.append(Problem("sheet is a sheet name or its 1-based number", column="sheet", value=sheet))
    if problems:
        raise DataError(path, problems)


def check_model_order(order) -> tuple[int, ...]:
    """A model ordering must list the models 1-5 once each, lowest cooperation first."""
    return tuple(parse_ordering(order))
