"""What each exported variable is, and what its codes mean: the description the exports and the dictionary share.

Variables are described once, here (label, kind, value-label set, missing-value rule):
:data:`SURVEY_VARIABLES`, :data:`PANEL_VARIABLES` and :data:`ANALYSIS_VARIABLES`, by table in
:data:`TABLES`. Value labels of survey items come from the codebooks through
:func:`helpers.data.survey.load_codebook` (the inverse of each codebook's label sets, and its
``model_labels``); the package's own code lists label the rest (:func:`value_label_sets`).

:mod:`helpers.outputs.exports` encodes and writes the tables from this description, and
:mod:`helpers.outputs.dictionary` documents them from it; neither imports the other for it (the
exports write the dictionary beside their files, so the dictionary must not need the exports).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core import cooperation
from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.core.vocabulary import FreeTextPolicy, MeasureLevel, QualityFlagKind, VariableKind, check_choice, choices
from helpers.data import reference, usage

# --------------------------------------------------------------------------------------------
# What each variable is
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """One exported variable.

    ``name``: the column name in every format. ``label``: the variable label.
    ``kind``: a :data:`~helpers.core.vocabulary.VariableKind`: integer, float, string, datetime,
    yesno (1/0) or code (integer with value labels).
    ``labels``: the value-label set (a key of :func:`value_label_sets`), for kinds code and yesno.
    ``missing``: when the value is missing, in words. ``source``: where it comes from (for variables
    not read from a survey export; those are described by the codebooks).
    ``measure``: the SPSS measurement level (:data:`~helpers.core.vocabulary.MeasureLevel`).
    """

    name: str
    label: str
    kind: VariableKind
    labels: str | None = None
    missing: str = "never missing"
    source: str = ""
    measure: MeasureLevel = "scale"

    def __post_init__(self):
        check_choice(f"variable {self.name}: kind", self.kind, VariableKind)
        check_choice(f"variable {self.name}: measure", self.measure, MeasureLevel)


def _v(name, label, kind, labels=None, missing="never missing", source="", measure=None) -> Variable:
    if measure is None:
        measure = "nominal" if kind in ("code", "yesno", "string") else "scale"
    return Variable(name, label, kind, labels, missing, source, measure)


TASKS = {
    "task_driving_licence": "driving licences",
    "task_passport": "passports",
    "task_nemid": "NemID",
    "task_health_card": "health insurance cards",
    "task_change_of_address": "change of address",
    "task_pension_benefit": "pension and housing benefit",
    "task_it_courses": "IT courses for citizens",
}
_ASKED = "missing when the round did not ask it (codebook `not_asked`) or the answer was blank"

SURVEY_VARIABLES: tuple[Variable, ...] = (
    _v("year", "Survey round (year)", "integer", source="the round (config/pipeline.yaml `rounds`)"),
    _v(
        "kommunekode",
        "Kommune code (DST, 101-860)",
        "code",
        "kommune",
        source="the kommune name matched to the 98 kommuner (helpers.data.survey, config/aliases.yaml)",
    ),
    _v("kommune_navn", "Kommune name as written in the export", "string"),
    _v(
        "answered_by_kommunekode",
        "Kommune that answered on its behalf (Fanø by Esbjerg)",
        "code",
        "kommune",
        missing="missing when the kommune answered itself",
        source="the kommune name, by config/aliases.yaml `answered_by`",
    ),
    _v("respondent_role", "Position of the respondent", "code", "respondent_role", missing=_ASKED),
    _v(
        "model",
        "Cooperation model (2011 legend; 0 = did not answer)",
        "code",
        "model",
        missing="never missing in a round (0 = the model question was left blank)",
    ),
    _v(
        "model_level",
        "Cooperation level 1-5 (1 = lowest) under the codebook ordering",
        "code",
        "model_level",
        missing="missing when model = 0",
        source="position of `model` in the codebook's `model_order`",
        measure="ordinal",
    ),
    *(_v(t, f"Library does borgerservice task: {what}", "yesno", "yesno", missing=_ASKED) for t, what in TASKS.items()),
    _v("n_it_courses", "Number of IT courses held in the last year", "integer", missing=_ASKED),
    _v(
        "digital_strategy",
        "Library takes part in the kommune's digital strategy work",
        "code",
        "yes_no",
        missing=_ASKED,
    ),
    _v("org_change_planned", "Organisational changes expected next year", "code", "yes_no", missing=_ASKED),
    _v(
        "comment",
        "Free-text comment, personal data replaced by placeholders",
        "string",
        missing="empty when no comment was given",
    ),
    _v("submitted_at", "Time the response was submitted", "datetime", missing=_ASKED),
    _v("source_row", "Row of the response in the raw export file", "integer", source="the raw export"),
    _v(
        "synthetic",
        "Synthetic example data (1 = yes: not a finding)",
        "yesno",
        "synthetic",
        source="data/raw/survey/MANIFEST.yaml `synthetic`",
    ),
)

_OUTCOME_LABELS = {
    "loans": "Physical loans",
    "visits": "Physical visits",
    "downloads": "Downloads of e-resources",
    "service_points": "Service points with a collection",
    "expenditure": "Gross operating expenditure (DKK)",
}
_PANEL = "the usage panel (helpers.data.usage.build_panel)"


def _outcome_variables(where: str, missing_extra: str = "") -> list[Variable]:
    out = []
    for o in usage.OUTCOMES:
        what = _OUTCOME_LABELS[o]
        gap = "missing where the source has no value for the year (see `notes`)" + missing_extra
        out += [
            _v(
                o,
                f"{what}, count for the library unit",
                "float",
                missing=gap,
                source=f"{where}; {usage.OUTCOME_UNITS[o]}",
            ),
            _v(f"{o}_per_1000", f"{what} per 1,000 inhabitants of the unit", "float", missing=gap, source=where),
            _v(f"{o}_source", f"Source of {o}", "string", source=where),
            _v(f"{o}_synthetic", f"{o} is synthetic example data (1 = yes)", "yesno", "synthetic", source=where),
        ]
    return out


PANEL_VARIABLES: tuple[Variable, ...] = (
    _v(
        "kommunekode",
        "Library unit (kommunekode of the serving kommune; 561 = Esbjerg + Fanø)",
        "code",
        "unit",
        source=_PANEL,
    ),
    _v("year", "Calendar year of the usage", "integer", source=_PANEL),
    _v("navn", "Name of the library unit", "string", source=_PANEL),
    _v(
        "unit_members",
        "Kommuner in the unit (561,563 for Esbjerg + Fanø)",
        "string",
        source="helpers.data.usage.to_library_units",
    ),
    _v("regionsnavn", "Region", "string", source="DAGI (data/raw/reference/geo)"),
    _v(
        "kommunegruppe",
        "DST kommunegruppe (2018 version)",
        "code",
        "kommunegruppe",
        source="data/raw/reference/context/doughnut",
    ),
    _v("kommunegruppe_navn", "DST kommunegruppe, name", "string", source="data/raw/reference/context/doughnut"),
    _v(
        "merged_2007",
        "Kommune merged in the 2007 reform (1 = yes)",
        "yesno",
        "yesno",
        source="data/raw/reference/context/isds2023",
    ),
    _v(
        "population",
        "Population of the unit on 1 January",
        "float",
        missing="missing after 2023 (no population data)",
        source="Statistics Denmark FOLK1A/BEF1A07 (data/raw/reference/dst)",
    ),
    _v("population_source", "Source of population", "string", source=_PANEL),
    *_outcome_variables(_PANEL),
    _v(
        "outlier",
        "Loans value flagged as suspicious (1 = yes; kept as reported)",
        "yesno",
        "yesno",
        source="helpers.data.usage.QUALITY_FLAGS (from data/raw/usage/PROVENANCE.md)",
    ),
    _v(
        "quality_flag",
        "Kind of flag on the loans value",
        "code",
        "quality_flag",
        missing="missing when the value is not flagged",
        source="helpers.data.usage.QUALITY_FLAGS",
    ),
    _v(
        "notes",
        "Why values are missing or flagged in this row",
        "string",
        missing="empty when there is nothing to note",
        source=_PANEL,
    ),
)

SURVEY_BY_NAME = {v.name: v for v in SURVEY_VARIABLES}
_NOT_RESPONDED = "missing when the kommune did not respond in the round (responded = 0)"


def _from_survey(name: str, missing: str | None = None, **changes) -> Variable:
    base = SURVEY_BY_NAME[name]
    m = missing or (f"{_NOT_RESPONDED}; " + base.missing if base.missing != "never missing" else _NOT_RESPONDED)
    return Variable(
        changes.get("name", base.name),
        changes.get("label", base.label),
        base.kind,
        base.labels,
        m,
        changes.get("source", f"survey_<round>.{base.name}"),
        base.measure,
    )


ANALYSIS_VARIABLES: tuple[Variable, ...] = (
    _v("round", "Survey round (year)", "integer", source="the rounds of config/pipeline.yaml"),
    _v(
        "kommunekode",
        "Kommune code (DST, 101-860)",
        "code",
        "kommune",
        source="the 98 kommuner (helpers.data.reference)",
    ),
    _v("kommune", "Kommune name (official)", "string", source="DAGI (data/raw/reference/geo)"),
    _v("region", "Region (DAGI regionskode)", "code", "region", source="DAGI (data/raw/reference/geo)"),
    _v(
        "kommunegruppe",
        "DST kommunegruppe (2018 version)",
        "code",
        "kommunegruppe",
        source="data/raw/reference/context/doughnut",
    ),
    _v(
        "merged_2007",
        "Kommune merged in the 2007 reform (1 = yes)",
        "yesno",
        "yesno",
        source="data/raw/reference/context/isds2023",
    ),
    _v("areal_km2", "Land area, km2", "float", source="Danish Wikipedia via data/raw/reference/context/isds2023"),
    _v(
        "responded",
        "Kommune submitted a response in the round (1 = yes)",
        "yesno",
        "yesno",
        source="survey_<round> has a row for it",
    ),
    _from_survey("answered_by_kommunekode"),
    _from_survey("model", missing=f"{_NOT_RESPONDED} (0 = responded but left the model question blank)"),
    _from_survey("model_level"),
    _v(
        "model_order",
        "Ordering behind model_level (lowest first)",
        "string",
        missing=_NOT_RESPONDED,
        source="the round's codebook `model_order`",
    ),
    _v(
        "score",
        "Cooperation score 0-4 under the analysis ordering (models use it)",
        "code",
        "score",
        missing="missing when model is 0 or missing",
        source="helpers.analysis.models.score(model, ordering)",
        measure="ordinal",
    ),
    _v(
        "score_swap23",
        "Cooperation score 0-4 with models 2 and 3 swapped (sensitivity)",
        "code",
        "score_swap23",
        missing="missing when model is 0 or missing",
        source="helpers.analysis.models.score(model, cooperation.swap(ordering))",
        measure="ordinal",
    ),
    _v(
        "cooperating",
        "Any cooperation: model 1-4 = 1, model 5 = 0",
        "yesno",
        "cooperating",
        missing="missing when model is 0 or missing",
        source="model in 1-4 (as helpers.analysis.compare.cooperation_table)",
    ),
    *(_from_survey(t) for t in TASKS),
    _from_survey("n_it_courses"),
    _from_survey("digital_strategy"),
    _from_survey("org_change_planned"),
    _v(
        "usage_year",
        "Usage year paired with the round (round + offset)",
        "integer",
        source="helpers.analysis.models.usage_year(round, usage_year_offset)",
    ),
    _v(
        "library_unit",
        "Library unit whose usage this row carries (561 for Fanø)",
        "code",
        "unit",
        source="helpers.data.usage.to_library_units",
    ),
    _v(
        "population",
        "Population of the library unit on 1 January of the usage year",
        "float",
        missing="missing for Fanø (counted in Esbjerg's unit) and after 2023",
        source=_PANEL,
    ),
    *_outcome_variables(_PANEL, "; missing for Fanø, whose use is counted in Esbjerg's row (library_unit 561)"),
    _v(
        "outlier",
        "Loans value of the usage year flagged as suspicious (1 = yes)",
        "yesno",
        "yesno",
        missing="missing for Fanø",
        source="helpers.data.usage.QUALITY_FLAGS",
    ),
    _v(
        "quality_flag",
        "Kind of flag on the loans value",
        "code",
        "quality_flag",
        missing="missing when the value is not flagged",
        source="helpers.data.usage.QUALITY_FLAGS",
    ),
    _v(
        "survey_synthetic",
        "The survey round is synthetic example data (1 = yes)",
        "yesno",
        "synthetic",
        source="survey_<round>.synthetic (data/raw/survey/MANIFEST.yaml)",
    ),
    _v(
        "synthetic",
        "Any value in this row is synthetic example data (1 = yes: not a finding)",
        "yesno",
        "synthetic",
        source="survey_synthetic or any <outcome>_synthetic",
    ),
)

TABLES = {
    "survey": SURVEY_VARIABLES,
    "usage_panel": PANEL_VARIABLES,
    "analysis": ANALYSIS_VARIABLES,
}


# --------------------------------------------------------------------------------------------
# Value labels: from the codebooks and the package's own code lists
# --------------------------------------------------------------------------------------------


def config_rounds() -> dict[int, dict]:
    """The survey rounds of the pipeline config in use (year -> input_path, codebook)."""
    from helpers.running import pipeline

    return pipeline.load_rounds()


def codebooks(rounds: dict[int, dict] | None = None) -> dict[int, object]:
    """The codebook of every round (year -> helpers.data.survey Codebook), read by the survey module's loader."""
    from helpers.data import survey

    rounds = config_rounds() if rounds is None else rounds
    return {int(y): survey.load_codebook(spec["codebook"], int(y)) for y, spec in sorted(rounds.items())}


# The codebook keys this module reads; one place to change if the codebook format changes.
def cb_doc(cb) -> dict:
    return cb.doc


def cb_columns(cb) -> dict:
    return cb_doc(cb).get("columns") or {}


def cb_label_set(cb, variable: str) -> dict:
    """Export value -> canonical value for a label-typed variable of this codebook ({} if none)."""
    spec = cb_columns(cb).get(variable) or {}
    name = spec.get("labels")
    return (cb_doc(cb).get("labels") or {}).get(name) or {} if name else {}


def cb_model_labels(cb) -> dict[int, str]:
    labels = cb_doc(cb).get("model_labels") or {}
    return {int(k): str(v) for k, v in labels.items()}


def cb_not_asked(cb) -> list[str]:
    return list(cb_doc(cb).get("not_asked") or [])


def cb_free_text(cb) -> FreeTextPolicy:
    """The codebook's free-text policy: redact (placeholders for personal data) or drop."""
    return str(getattr(cb, "free_text_policy", None) or cb_doc(cb).get("free_text") or "redact")


def cb_model_order(cb) -> tuple[int, ...]:
    return tuple(cb.model_order)


def canonical_codes() -> dict[str, dict]:
    """Integer codes of the canonical string categories (in helpers.data.survey's order, from 1)."""
    from helpers.data import survey

    return {
        "respondent_role": {v: i for i, v in enumerate(survey.ROLES, start=1)},
        "yes_no": {v: i for i, v in enumerate(survey.YES_NO, start=1)},
        "quality_flag": {kind: i for i, kind in enumerate(choices(QualityFlagKind), start=1)},
    }


_QUALITY_FLAG_TEXT: dict[QualityFlagKind, str] = {
    "reporting_failure": "almost certainly not real use",
    "level_shift": "a jump that may be a reporting artefact",
}


def _inverse_labels(cbs: dict[int, object], variable: str) -> dict[object, str]:
    """Canonical value -> the export text(s) that mean it, over every round's codebook ("Ja", or "Ja / Yes")."""
    out: dict[object, list[str]] = {}
    for cb in cbs.values():
        for text, value in cb_label_set(cb, variable).items():
            out.setdefault(value, [])
            if str(text) not in out[value]:
                out[value].append(str(text))
    return {k: " / ".join(v) for k, v in out.items()}


def _level_labels(ordering, start: int) -> dict[int, str]:
    codes = cooperation.parse_ordering(ordering)
    n = len(codes)
    out = {}
    for i, code in enumerate(codes):
        tag = " (lowest)" if i == 0 else " (highest)" if i == n - 1 else ""
        out[i + start] = f"{i + start}{tag}: model {code} {cooperation.LABELS[code]}"
    return out


def value_label_sets(cbs: dict[int, object] | None = None, ordering=DEFAULT_ORDERING) -> dict[str, dict[int, str]]:
    """Every value-label set by name: code -> label. Survey labels come from the codebooks of ``cbs``."""
    cbs = codebooks() if cbs is None else cbs
    codes = canonical_codes()
    sets: dict[str, dict[int, str]] = {}
    model: dict[int, list[str]] = {}
    for cb in cbs.values():
        for k, v in cb_model_labels(cb).items():
            model.setdefault(k, [])
            if v not in model[k]:
                model[k].append(v)
    for k, v in cooperation.LABELS.items():  # codes a codebook does not label keep the package's name
        model.setdefault(k, [v])
    sets["model"] = {k: " / ".join(v) for k, v in sorted(model.items())}
    orders = {cb_model_order(cb) for cb in cbs.values()} or {tuple(DEFAULT_ORDERING)}
    sets["model_level"] = (
        _level_labels(next(iter(orders)), 1) if len(orders) == 1 else {i: f"level {i} of 5" for i in range(1, 6)}
    )
    sets["score"] = _level_labels(ordering, 0)
    sets["score_swap23"] = _level_labels(cooperation.swap(ordering), 0)
    sets["cooperating"] = {1: "Samarbejde (model 1-4)", 0: "Intet samarbejde (model 5)"}
    sets["yesno"] = {1: "Ja", 0: "Nej"}
    sets["synthetic"] = {1: "synthetic example data", 0: "real data"}
    for name, variable in (("respondent_role", "respondent_role"), ("yes_no", "digital_strategy")):
        texts = _inverse_labels(cbs, variable)
        if name == "yes_no":
            for other in ("org_change_planned",):
                for k, t in _inverse_labels(cbs, other).items():
                    texts.setdefault(k, t)
        sets[name] = {code: texts.get(value, value) for value, code in codes[name].items()}
    sets["quality_flag"] = {code: f"{kind}: {_QUALITY_FLAG_TEXT[kind]}" for kind, code in codes["quality_flag"].items()}
    sets["kommunegruppe"] = dict(reference.KOMMUNEGRUPPER)
    m = reference.load_municipalities()
    sets["kommune"] = dict(zip(m["kommunekode"].astype(int), m["navn"].astype(str), strict=False))
    sets["region"] = dict(sorted(set(zip(m["regionskode"].astype(int), m["regionsnavn"].astype(str), strict=False))))
    u = usage.unit_reference()
    sets["unit"] = dict(zip(u["kommunekode"].astype(int), u["navn"].astype(str), strict=False))
    return sets
