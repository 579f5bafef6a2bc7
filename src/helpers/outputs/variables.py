"""What each exported variable is, and what its codes mean: the description the exports and the dictionary share.

Variables are described once, here (label, kind, value-label set, missing-value rule, and the
input its values come from): :data:`SURVEY_VARIABLES`, :data:`PANEL_VARIABLES`,
:data:`ANALYSIS_VARIABLES` and, built for the rounds in use, :func:`kommune_year_variables`, by table
in :data:`TABLES`. Value labels of survey items come from the codebooks through
:func:`helpers.data.survey.load_codebook` (the inverse of each codebook's label sets, and its
``model_labels``); the package's own code lists label the rest (:func:`value_label_sets`).

:mod:`helpers.outputs.exports` encodes and writes the tables from this description, and
:mod:`helpers.outputs.dictionary` documents them from it; neither imports the other for it (the
exports write the dictionary beside their files, so the dictionary must not need the exports).

**Provenance.** Each variable names its ``origin``: reference data (real), a survey round's export,
a usage source (real or synthetic per outcome), or ``derived`` (computed by the package from the
variables named in ``inputs``, or set by it: a round, a flag). :func:`resolve` turns the origins
into each variable's provenance in one export (real, synthetic or derived, with a note saying
from what), given the :class:`Sources` of that export: which raw file each round and each usage
outcome came from and whether it is synthetic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from helpers.core import cooperation
from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.core.vocabulary import (
    AdoptionCategory,
    FreeTextPolicy,
    MeasureLevel,
    Provenance,
    QualityFlagKind,
    Treatment,
    VariableKind,
    VariableOrigin,
    check_choice,
    choices,
)
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
    ``origin``: the input its values are read from (:data:`~helpers.core.vocabulary.VariableOrigin`):
    ``reference`` (real reference data), ``survey`` (a round's export), ``usage`` (the source of the
    usage outcome ``inputs[0]``) or ``derived`` (computed from the variables in ``inputs``, or, with no
    inputs, set by the package: a round, a code, a flag).
    ``inputs``: see ``origin``. ``rounds``: for ``survey``, the rounds it comes from (empty: every
    round of its table).
    """

    name: str
    label: str
    kind: VariableKind
    labels: str | None = None
    missing: str = "never missing"
    source: str = ""
    measure: MeasureLevel = "scale"
    origin: VariableOrigin = "derived"
    inputs: tuple[str, ...] = ()
    rounds: tuple[int, ...] = ()

    def __post_init__(self):
        check_choice(f"variable {self.name}: kind", self.kind, VariableKind)
        check_choice(f"variable {self.name}: measure", self.measure, MeasureLevel)
        check_choice(f"variable {self.name}: origin", self.origin, VariableOrigin)
        if self.origin == "usage" and len(self.inputs) != 1:
            raise ValueError(f"variable {self.name}: origin usage names its outcome in inputs; found {self.inputs}")


def _v(
    name,
    label,
    kind,
    labels=None,
    missing="never missing",
    source="",
    measure=None,
    *,
    origin: VariableOrigin = "derived",
    inputs: Sequence[str] = (),
    rounds: Sequence[int] = (),
) -> Variable:
    if measure is None:
        measure = "nominal" if kind in ("code", "yesno", "string") else "scale"
    return Variable(name, label, kind, labels, missing, source, measure, origin, tuple(inputs), tuple(rounds))


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
_SURVEY = {"origin": "survey"}

SURVEY_VARIABLES: tuple[Variable, ...] = (
    _v("year", "Survey round (year)", "integer", source="the round (config/pipeline.yaml `rounds`)"),
    _v(
        "kommunekode",
        "Kommune code (DST, 101-860)",
        "code",
        "kommune",
        source="the kommune name matched to the 98 kommuner (helpers.data.survey, config/aliases.yaml)",
        **_SURVEY,
    ),
    _v("kommune_navn", "Kommune name as written in the export", "string", **_SURVEY),
    _v(
        "answered_by_kommunekode",
        "Kommune that answered on its behalf (Fanø by Esbjerg)",
        "code",
        "kommune",
        missing="missing when the kommune answered itself",
        source="the kommune name, by config/aliases.yaml `answered_by`",
        **_SURVEY,
    ),
    _v("respondent_role", "Position of the respondent", "code", "respondent_role", missing=_ASKED, **_SURVEY),
    _v(
        "model",
        "Cooperation model (2011 legend; 0 = did not answer)",
        "code",
        "model",
        missing="never missing in a round (0 = the model question was left blank)",
        **_SURVEY,
    ),
    _v(
        "model_level",
        "Cooperation level 1-5 (1 = lowest) under the codebook ordering",
        "code",
        "model_level",
        missing="missing when model = 0",
        source="position of `model` in the codebook's `model_order`",
        measure="ordinal",
        inputs=("model",),
    ),
    *(
        _v(t, f"Library does borgerservice task: {what}", "yesno", "yesno", missing=_ASKED, **_SURVEY)
        for t, what in TASKS.items()
    ),
    _v("n_it_courses", "Number of IT courses held in the last year", "integer", missing=_ASKED, **_SURVEY),
    _v(
        "digital_strategy",
        "Library takes part in the kommune's digital strategy work",
        "code",
        "yes_no",
        missing=_ASKED,
        **_SURVEY,
    ),
    _v(
        "org_change_planned",
        "Organisational changes expected next year",
        "code",
        "yes_no",
        missing=_ASKED,
        **_SURVEY,
    ),
    _v(
        "comment",
        "Free-text comment, personal data replaced by placeholders",
        "string",
        missing="empty when no comment was given",
        **_SURVEY,
    ),
    _v("submitted_at", "Time the response was submitted", "datetime", missing=_ASKED, **_SURVEY),
    _v("source_row", "Row of the response in the raw export file", "integer", source="the raw export", **_SURVEY),
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
# How the real loans count is made; the source publishes loans per inhabitant, not counts.
LOANS_COUNT = (
    "real loans: loans per inhabitant (Statistics Denmark) x the kommune's own 1 January population, summed "
    "over the library unit, so **not a whole number**; count models take it as it is (Poisson/PPML: Stata "
    "`poisson`, `ppmlhdfe`, R `fixest::fepois`; `glm.nb` and Stata's `nbreg` warn about non-integers, so round "
    "it there and say so); missing after 2023 (no population). From the Statistics Denmark cache or the "
    "synthetic panel, loans are counts as published, and the label says so"
)
RECONSTRUCTED_LOANS_LABEL = "Physical loans: per inhabitant x population (not a whole number)"


def loans_labelled(described: Sequence[Variable], reconstructed: bool) -> tuple[Variable, ...]:
    """``described`` with the label of ``loans`` saying how its count was made: per inhabitant x population
    (the real per-capita file; not a whole number) or a count as the source publishes it (StatBank, synthetic)."""
    label = RECONSTRUCTED_LOANS_LABEL if reconstructed else f"{_OUTCOME_LABELS['loans']}, count for the library unit"
    return tuple(dataclasses.replace(v, label=label) if v.name == "loans" else v for v in described)


def _count_label(outcome: str) -> str:
    if outcome == "loans":
        return RECONSTRUCTED_LOANS_LABEL  # the default source; loans_labelled() says otherwise for the others
    return f"{_OUTCOME_LABELS[outcome]}, count for the library unit"


def _outcome_variables(where: str, missing_extra: str = "", outcomes: Iterable[str] | None = None) -> list[Variable]:
    out = []
    for o in usage.OUTCOMES if outcomes is None else outcomes:
        what = _OUTCOME_LABELS[o]
        gap = "missing where the source has no value for the year (see `notes`)" + missing_extra
        count_source = f"{where}; {usage.OUTCOME_UNITS[o]}" + (f"; {LOANS_COUNT}" if o == "loans" else "")
        out += [
            _v(o, _count_label(o), "float", missing=gap, source=count_source, origin="usage", inputs=(o,)),
            _v(
                f"{o}_per_1000",
                f"{what} per 1,000 inhabitants of the unit",
                "float",
                missing=gap,
                source=where,
                inputs=(o, "population"),
            ),
            _v(f"{o}_source", f"Source of {o}", "string", source=where),
            _v(f"{o}_synthetic", f"{o} is synthetic example data (1 = yes)", "yesno", "synthetic", source=where),
        ]
    return out


def outcome_columns(outcome: str) -> tuple[str, ...]:
    """The exported columns of one usage outcome: count, rate, source, synthetic flag."""
    return (outcome, f"{outcome}_per_1000", f"{outcome}_source", f"{outcome}_synthetic")


_REF = {"origin": "reference"}

# Columns that the usage panel and the analysis file both carry, declared once.
_KOMMUNEGRUPPE = _v(
    "kommunegruppe",
    "DST kommunegruppe (2018 version)",
    "code",
    "kommunegruppe",
    source="data/raw/reference/context/doughnut",
    **_REF,
)
_MERGED_2007 = _v(
    "merged_2007",
    "Kommune merged in the 2007 reform (1 = yes)",
    "yesno",
    "yesno",
    source="data/raw/reference/context/isds2023",
    **_REF,
)
_QUALITY_FLAG = _v(
    "quality_flag",
    "Kind of flag on the loans value",
    "code",
    "quality_flag",
    missing="missing when the value is not flagged",
    source="helpers.data.usage.QUALITY_FLAGS",
)

PANEL_VARIABLES: tuple[Variable, ...] = (
    _v(
        "kommunekode",
        "Library unit (kommunekode of the serving kommune; 561 = Esbjerg + Fanø)",
        "code",
        "unit",
        source="the 97 library units (helpers.data.usage.unit_reference)",
        **_REF,
    ),
    _v("year", "Calendar year of the usage", "integer", source=_PANEL),
    _v("navn", "Name of the library unit", "string", source="DAGI (data/raw/reference/geo)", **_REF),
    _v(
        "unit_members",
        "Kommuner in the unit (561,563 for Esbjerg + Fanø)",
        "string",
        source="helpers.data.usage.to_library_units",
        **_REF,
    ),
    _v("regionsnavn", "Region", "string", source="DAGI (data/raw/reference/geo)", **_REF),
    _KOMMUNEGRUPPE,
    _v(
        "kommunegruppe_navn",
        "DST kommunegruppe, name",
        "string",
        source="data/raw/reference/context/doughnut",
        **_REF,
    ),
    _MERGED_2007,
    _v(
        "population",
        "Population of the unit on 1 January",
        "float",
        missing="missing after 2023 (no population data)",
        source="Statistics Denmark FOLK1A/BEF1A07 (data/raw/reference/dst)",
        **_REF,
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
    _QUALITY_FLAG,
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
        base.origin,
        base.inputs,
    )


ANALYSIS_VARIABLES: tuple[Variable, ...] = (
    _v("round", "Survey round (year)", "integer", source="the rounds of config/pipeline.yaml"),
    _v(
        "kommunekode",
        "Kommune code (DST, 101-860)",
        "code",
        "kommune",
        source="the 98 kommuner (helpers.data.reference)",
        **_REF,
    ),
    _v("kommune", "Kommune name (official)", "string", source="DAGI (data/raw/reference/geo)", **_REF),
    _v("region", "Region (DAGI regionskode)", "code", "region", source="DAGI (data/raw/reference/geo)", **_REF),
    _KOMMUNEGRUPPE,
    _MERGED_2007,
    _v(
        "areal_km2",
        "Land area, km2",
        "float",
        source="Danish Wikipedia via data/raw/reference/context/isds2023",
        **_REF,
    ),
    _v(
        "responded",
        "Kommune submitted a response in the round (1 = yes)",
        "yesno",
        "yesno",
        source="survey_<round> has a row for it",
        **_SURVEY,
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
        inputs=("model",),
    ),
    _v(
        "score_swap23",
        "Cooperation score 0-4 with models 2 and 3 swapped (sensitivity)",
        "code",
        "score_swap23",
        missing="missing when model is 0 or missing",
        source="helpers.analysis.models.score(model, cooperation.swap(ordering))",
        measure="ordinal",
        inputs=("model",),
    ),
    _v(
        "cooperating",
        "Any cooperation: model 1-4 = 1, model 5 = 0",
        "yesno",
        "cooperating",
        missing="missing when model is 0 or missing",
        source="model in 1-4 (as helpers.analysis.compare.cooperation_table)",
        inputs=("model",),
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
        **_REF,
    ),
    _v(
        "population",
        "Population of the library unit on 1 January of the usage year",
        "float",
        missing="missing for Fanø (counted in Esbjerg's unit), after 2023 and for a usage year outside the panel",
        source=_PANEL,
        **_REF,
    ),
    *_outcome_variables(
        _PANEL,
        "; missing for Fanø, whose use is counted in Esbjerg's row (library_unit 561), and for a usage year "
        "outside the panel",
    ),
    _v(
        "outlier",
        "Loans value of the usage year flagged as suspicious (1 = yes)",
        "yesno",
        "yesno",
        missing="missing for Fanø and for a usage year outside the panel",
        source="helpers.data.usage.QUALITY_FLAGS",
    ),
    _QUALITY_FLAG,
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

# --- the kommune x year analysis panel ---------------------------------------------------------
TREATMENTS: tuple[Treatment, ...] = choices(Treatment)  # every treatment definition of notebook 04
_TIMING = "helpers.analysis.adoption.dating.timing (as notebook 04)"


def treatment_suffix(treatment: str) -> str:
    """A treatment as a variable-name suffix: ``any``, ``staff``, ``level3plus`` (for "level3+")."""
    return str(treatment).replace("+", "plus")


def kommune_year_variables(rounds: Iterable[int], outcomes: Iterable[str] = ("loans",)) -> tuple[Variable, ...]:
    """The variables of the kommune x year panel for survey ``rounds``: one ``model_<round>`` per round, and the
    adoption timing under every treatment of :data:`TREATMENTS`. ``outcomes`` is ``()`` when the loans were left
    out (a synthetic loans source in a real-only export)."""
    rounds = sorted(int(r) for r in rounds)
    models = tuple(f"model_{r}" for r in rounds)
    loans = "loans" in tuple(outcomes)
    flag = (
        "missing when the status is not known: the unit answered no round, a censored unit's years after "
        "untreated_until, a unit with start unknown before its first treated year"
    )
    per_treatment = []
    for t in TREATMENTS:
        sfx = treatment_suffix(t)
        per_treatment += [
            _v(
                f"adoption_{sfx}",
                f"Adoption timing, treatment {t}",
                "code",
                "adoption",
                source=_TIMING,
                inputs=models,
            ),
            _v(
                f"g_{sfx}",
                f"First treated year, treatment {t} (round timing; 0 = never)",
                "integer",
                source=f"{_TIMING}: g_round",
                inputs=models,
            ),
            _v(
                f"g_earliest_{sfx}",
                f"Earliest possible first treated year, treatment {t} (0 = never)",
                "integer",
                source=f"{_TIMING}: g_earliest, the lower bound of the interval-censored adoption",
                inputs=models,
            ),
            _v(
                f"untreated_until_{sfx}",
                f"Censored: last year known untreated, treatment {t} (0 = not censored)",
                "integer",
                source=f"{_TIMING}: untreated_until, the usage year of the last answered (untreated) round; "
                "notebook 04 leaves out the unit's later years (status unknown)",
                inputs=models,
            ),
            _v(
                f"treated_{sfx}",
                f"Treated this year (g > 0 and year >= g), treatment {t}",
                "yesno",
                "yesno",
                missing=flag,
                source="absorbing: treated from the first treated year on, whatever is reported later",
                inputs=models,
            ),
            _v(
                f"reversal_{sfx}",
                f"Reports a lower level after a treated one, treatment {t}",
                "yesno",
                "yesno",
                source=f"{_TIMING}: reversal",
                inputs=models,
            ),
        ]
    return (
        PANEL_VARIABLES[0],
        _v("year", "Calendar year of the loans series", "integer", source=_PANEL),
        *(v for v in PANEL_VARIABLES if v.name in ("navn", "unit_members", "regionsnavn", "kommunegruppe")),
        *(v for v in PANEL_VARIABLES if v.name == "merged_2007"),
        next(v for v in PANEL_VARIABLES if v.name == "population"),
        *(
            (
                _v(
                    "loans",
                    _count_label("loans"),
                    "float",
                    missing="missing where the source has no value for the year, and after 2023 (no population)",
                    source=f"{_PANEL}; {LOANS_COUNT}",
                    origin="usage",
                    inputs=("loans",),
                ),
                _v(
                    "loans_per_inhabitant",
                    "Physical loans per inhabitant of the unit",
                    "float",
                    missing="missing where the source has no value (and for 561 after 2023)",
                    source="the source's own rate (loans_per_1000 / 1,000)",
                    inputs=("loans", "population"),
                ),
                *(v for v in PANEL_VARIABLES if v.name in ("loans_source", "loans_synthetic")),
            )
            if loans
            else ()
        ),
        _v(
            "has_population",
            "1 January population known: exposure for count models (1 = yes)",
            "yesno",
            "yesno",
            source="population not missing (data/raw/reference/dst ends in 2023)",
        ),
        _v(
            "covid_year",
            "COVID-19 closure year 2020-2021 (1 = yes)",
            "yesno",
            "yesno",
            source="helpers.analysis.adoption.panel.COVID_YEARS",
        ),
        *(v for v in PANEL_VARIABLES if v.name in ("outlier", "quality_flag")),
        *(
            _v(
                f"model_{r}",
                f"Cooperation model reported in round {r} (561: Esbjerg's answer)",
                "code",
                "model",
                missing=f"missing when the unit did not answer round {r} or left the model question blank",
                source=f"survey_{r}.model, by library unit (helpers.analysis.adoption.dating.round_models)",
                origin="survey",
                rounds=(r,),
            )
            for r in rounds
        ),
        _v(
            "round_in_force",
            "Survey round in force this year (latest with round + offset <= year)",
            "integer",
            missing="missing before the usage year of the first round",
            source="the pairing rule: a round describes its usage year (round + usage_year_offset) and later years, "
            "until the next round's usage year",
        ),
        _v(
            "model_in_force",
            "Cooperation model reported at round_in_force",
            "code",
            "model",
            missing="missing before the first round's usage year and when the unit did not answer that round",
            source="model_<round_in_force>",
            inputs=models,
        ),
        *per_treatment,
        _v(
            "survey_synthetic",
            "A survey round is synthetic example data (1 = yes)",
            "yesno",
            "synthetic",
            source="survey_<round>.synthetic (data/raw/survey/MANIFEST.yaml)",
        ),
        _v(
            "synthetic",
            "Any value in this row is synthetic example data (1 = yes: not a finding)",
            "yesno",
            "synthetic",
            source="survey_synthetic or loans_synthetic",
        ),
    )


TABLES = {
    "survey": SURVEY_VARIABLES,
    "usage_panel": PANEL_VARIABLES,
    "analysis": ANALYSIS_VARIABLES,
}


def tables(rounds: Iterable[int]) -> dict[str, tuple[Variable, ...]]:
    """Every table's variables, the kommune x year panel's for ``rounds`` (:func:`kommune_year_variables`)."""
    return {**TABLES, "kommune_year": kommune_year_variables(rounds)}


# --------------------------------------------------------------------------------------------
# Provenance: real, synthetic or derived, variable by variable
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawSource:
    """Where one input of an export comes from: ``label`` (a raw file under data/raw, or a usage source as
    the panel names it) and whether it is ``synthetic`` example data."""

    label: str
    synthetic: bool


@dataclass(frozen=True)
class Sources:
    """The inputs of one export: ``survey`` (round -> its export), ``usage`` (outcome -> its source in the
    usage panel) and ``reference`` (the reference data: real)."""

    survey: Mapping[int, RawSource] = field(default_factory=dict)
    usage: Mapping[str, RawSource] = field(default_factory=dict)
    reference: RawSource = RawSource("data/raw/reference (Statistics Denmark, DAGI, SKAT, Wikipedia)", False)


@dataclass(frozen=True)
class VariableProvenance:
    """One exported variable's provenance in one export.

    ``provenance``: real, synthetic or derived (:data:`~helpers.core.vocabulary.Provenance`): read from
    real or synthetic input, or computed by the package. ``synthetic``: whether any of its values rests
    on synthetic input (a derived variable's inputs included). ``note``: the same in words, with the
    raw file or source (the variable note in .dta and .sav).
    """

    provenance: Provenance
    synthetic: bool
    note: str


def _word(synthetic: bool) -> Provenance:
    return "synthetic" if synthetic else "real"


def _years(years: Sequence[int]) -> str:
    return ", ".join(map(str, years))


def resolve(
    described: Sequence[Variable], sources: Sources, rounds: Sequence[int] | None = None
) -> dict[str, VariableProvenance]:
    """Each variable's provenance in an export of ``described`` whose survey rounds are ``rounds`` (default:
    every round of ``sources``). A derived variable is synthetic when one of its inputs (variables of the
    same table) is."""
    by_name = {v.name: v for v in described}
    table_rounds = sorted(int(r) for r in (sources.survey if rounds is None else rounds))
    out: dict[str, VariableProvenance] = {}

    def one(v: Variable) -> VariableProvenance:
        if v.name in out:
            return out[v.name]
        if v.origin == "reference":
            r = sources.reference
            p = VariableProvenance(_word(r.synthetic), r.synthetic, f"{_word(r.synthetic)}: {v.source or r.label}")
        elif v.origin == "survey":
            given = {y: sources.survey[y] for y in (v.rounds or table_rounds)}
            synthetic = [y for y, s in given.items() if s.synthetic]
            if len(given) == 1:
                (y, s), *_ = given.items()
                note = f"{_word(s.synthetic)}: survey export of {y}, {s.label}"
            else:
                real = [y for y in given if y not in synthetic]
                parts = [
                    f"synthetic in {_years(synthetic)}" if synthetic else "",
                    f"real in {_years(real)}" if real else "",
                ]
                note = f"{_word(bool(synthetic))}: survey exports, " + "; ".join(p for p in parts if p)
            p = VariableProvenance(_word(bool(synthetic)), bool(synthetic), note)
        elif v.origin == "usage":
            s = sources.usage[v.inputs[0]]
            label = s.label.removeprefix(f"{_word(s.synthetic)}: ")
            p = VariableProvenance(_word(s.synthetic), s.synthetic, f"{_word(s.synthetic)}: {v.inputs[0]} from {label}")
        else:
            missing = [i for i in v.inputs if i not in by_name]
            if missing:
                raise ValueError(f"variable {v.name}: derived from {missing}, which the table does not hold")
            inputs = [one(by_name[i]) for i in v.inputs]
            synthetic = any(i.synthetic for i in inputs)
            if v.inputs:
                names = v.inputs if len(v.inputs) <= 3 else (*v.inputs[:2], "...")
                note = "derived from " + ", ".join(names) + (" (synthetic input)" if synthetic else "")
            else:
                note = "derived: set by the package" + (f" ({v.source})" if v.source else "")
            p = VariableProvenance("derived", synthetic, note)
        out[v.name] = p
        return p

    for v in described:
        one(v)
    return out


def provenance_rule(v: Variable) -> str:
    """How a variable's provenance is decided, in words (the dictionary's *provenance* column)."""
    if v.origin == "reference":
        return "real: reference data (data/raw/reference)"
    if v.origin == "survey":
        which = f"the {_years(v.rounds)} export" if v.rounds else "the round's export"
        return f"real or synthetic, as {which} is recorded in data/raw/survey/MANIFEST.yaml"
    if v.origin == "usage":
        return (
            f"real or synthetic, as the usage panel's `{v.inputs[0]}` source is (`{v.inputs[0]}_synthetic`; "
            "real loans file, Statistics Denmark cache: real; example panel: synthetic)"
        )
    if v.inputs:
        names = v.inputs if len(v.inputs) <= 3 else (*v.inputs[:2], "...")
        return "derived from " + ", ".join(f"`{n}`" for n in names)
    return "derived: set by the package"


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
        "adoption": {category: i for i, category in enumerate(choices(AdoptionCategory), start=1)},
    }


_QUALITY_FLAG_TEXT: dict[QualityFlagKind, str] = {
    "reporting_failure": "almost certainly not real use",
    "level_shift": "a jump that may be a reporting artefact",
}


_ADOPTION_TEXT: dict[AdoptionCategory, str] = {
    "never treated": "not treated at any answered round (g = 0)",
    "adopter": "treated from a later round on",
    "always treated": "treated at the first round (no untreated year)",
    "no answer": "answered no round",
    "start unknown": "first seen treated after unanswered rounds, no untreated report before: start unobserved",
    "censored": "untreated at its last answered round, later rounds unanswered: known untreated only until then",
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
    sets["adoption"] = {code: f"{category}: {_ADOPTION_TEXT[category]}" for category, code in codes["adoption"].items()}
    sets["kommunegruppe"] = dict(reference.KOMMUNEGRUPPER)
    m = reference.load_municipalities()
    sets["kommune"] = dict(zip(m["kommunekode"].astype(int), m["navn"].astype(str), strict=False))
    sets["region"] = dict(sorted(set(zip(m["regionskode"].astype(int), m["regionsnavn"].astype(str), strict=False))))
    u = usage.unit_reference()
    sets["unit"] = dict(zip(u["kommunekode"].astype(int), u["navn"].astype(str), strict=False))
    return sets
