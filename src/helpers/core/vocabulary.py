"""Every option's allowed values, declared once, and the one check that enforces them.

Each choice a notebook parameter, a config key or a helper argument can take is a ``Literal`` alias
here; code and error messages read the values from the alias (``typing.get_args``), so a value is
never typed twice. :func:`check_choice` is the only hand-written check of a choice: its error names
what was found and what is accepted, in the house style of ``errors.Problem``. Typed models of the
config files (pydantic) use the same aliases, so a YAML key and a notebook parameter cannot drift
apart.

Model codes are the survey's: 0 did not answer, 1-4 the four models of cooperation, 5 no
cooperation. Their names, and the parser of a level ordering such as ``"5<1<2<3<4"``, live in
:mod:`helpers.core.cooperation`, which takes its codes from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

# --------------------------------------------------------------------------- cooperation models
ModelCode = Literal[0, 1, 2, 3, 4, 5]  # 0 did not answer, 1-4 cooperation models, 5 no cooperation
AnsweredModel = Literal[1, 2, 3, 4, 5]  # a model a kommune reported (the codes a level ordering ranks)
CooperatingModel = Literal[1, 2, 3, 4]  # some cooperation between library and borgerservice
NO_ANSWER: ModelCode = 0
NO_COOPERATION: ModelCode = 5
MODEL_NAMES: dict[int, str] = {  # the surveys' official Danish names of the models (2011 legend)
    0: "Har ikke svaret",
    1: "Den spæde start",
    2: "Vi flytter sammen",
    3: "Vi arbejder sammen",
    4: "Vi er borgernes fælles indgang til kommunen",
    5: "Intet samarbejde",
}

# --------------------------------------------------------------------------- figures and texts
Language = Literal["en", "da"]  # the language of every text drawn on a figure

# --------------------------------------------------------------------------- usage data
UsageOutcome = Literal["loans", "visits", "downloads", "service_points", "expenditure"]  # the usage panel's columns
ModelOutcome = Literal["visits", "loans", "downloads"]  # outcomes notebook 03 models
UsageSource = Literal["synthetic", "real", "statbank"]  # where a usage series comes from
UsageSourceWithoutReal = Literal["synthetic", "statbank"]  # the outcomes with no real series (all but loans)
AdoptionSource = Literal["real", "synthetic"]  # notebook 04: the real loans or the synthetic adoption panel
QualityFlagKind = Literal["reporting_failure", "level_shift"]  # known problems of the real loans series

# --------------------------------------------------------------------------- count models (notebook 03)
Family = Literal["negbin", "poisson"]
# Wald (ML dispersion, estimate +/- z se, as glm.nb) | profile likelihood (as R's confint on glm.nb) | Cox-Reid t
# (the dispersion by Cox-Reid adjusted profile likelihood, estimate +/- t(n - p) se: what notebook 03 reports)
IntervalKind = Literal["wald", "profile", "cox_reid_t"]
Spec = Literal["categorical", "score"]  # cooperation as categories (vs no cooperation) or as a level score

# --------------------------------------------------------------------------- adoption (notebook 04)
# a unit's timing category (helpers.analysis.adoption.dating); the exports code them 1-6 in this order
AdoptionCategory = Literal["never treated", "adopter", "always treated", "no answer", "start unknown", "censored"]
AdoptionOutcome = Literal["loans"]  # physical loans: the one outcome with a real series in every year
Aggregation = Literal["dynamic", "simple", "group", "calendar"]  # did::aggte's types: event time, overall, cohort, year
CsWeights = Literal["units", "population"]  # Callaway & Sant'Anna: each kommune counts once | by its population
Estimator = Literal["cs", "twfe"]  # Callaway & Sant'Anna (csdid) | two-way fixed-effects Poisson (pyfixest)
ControlGroup = Literal["notyettreated", "nevertreated"]
TimingRule = Literal["round", "earliest"]  # adoption dated at the first treated round | the interval's earlier bound
Reversals = Literal["absorbing", "exclude"]
Covid = Literal["include", "exclude"]
Treatment = Literal["any", "staff", "level1+", "level2+", "level3+", "level4+"]

# --------------------------------------------------------------------------- exports (notebook 05)
MeasureLevel = Literal["nominal", "ordinal", "scale"]  # SPSS measurement level of an exported variable
Provenance = Literal["real", "synthetic", "derived"]  # where an exported variable's values come from
VariableKind = Literal["integer", "float", "string", "datetime", "yesno", "code"]  # yesno 1/0; code: labelled integer
VariableOrigin = Literal["reference", "survey", "usage", "derived"]  # the input an exported variable is read from

# --------------------------------------------------------------------------- survey codebooks
ColumnType = Literal["kommune", "datetime", "label", "model", "integer", "text"]  # how a codebook column is read
FreeTextPolicy = Literal["keep", "redact", "drop"]  # free text as written | personal data redacted | emptied
RespondentRole = Literal[
    "library_head", "citizen_service_head", "joint_head", "department_head", "culture_head", "other"
]  # who answered for the kommune (canonical values of respondent_role)
SurveyVariable = Literal[
    "kommune_navn",
    "respondent_role",
    "model",
    "task_driving_licence",
    "task_passport",
    "task_nemid",
    "task_health_card",
    "task_change_of_address",
    "task_pension_benefit",
    "task_it_courses",
    "n_it_courses",
    "digital_strategy",
    "org_change_planned",
    "comment",
    "submitted_at",
]  # the canonical variables a codebook maps (or lists under not_asked), in output order
TieRule = Literal["error", "first", "last"]  # two equally complete answers of a kommune at the same time
YesNo = Literal["yes", "no", "dont_know"]  # canonical values of the yes/no questions

# --------------------------------------------------------------------------- paired tests (notebook 02)
McNemarMethod = Literal["exact binomial", "chi-square", "chi-square, continuity-corrected"]

# --------------------------------------------------------------------------- manuscript (helpers.outputs.paper)
PaperOutput = Literal["docx", "tex", "pdf"]  # the manuscript's output formats (`borgerservice paper --formats`)
ValueFormat = Literal[  # how a bound value is written (helpers.outputs.paper.bind.FORMATS; brief.words)
    "change_interval",
    "count",
    "effect_interval",
    "evidence",
    "list",
    "million",
    "number",
    "p_value",
    "pct",
    "percent_interval",
    "ratio",
    "ratio_interval",
    "rough_ratio",
    "share",
    "signed_percent",
    "signed_points",
    "text",
]

# --------------------------------------------------------------------------- pipeline config
Pairs = Literal["consecutive", "all"]  # which pairs of survey rounds the per_pair templates run for
RunStatus = Literal[
    "ok", "skipped", "not covered", "failed", "blocked", "running", "interrupted", "not started"
]  # a run's record; "not covered": its data do not cover its years (skipped with the reason, not a failure)
WorkersAuto = Literal["auto"]  # `workers: auto`: one notebook run per core (else a whole number)


def choices(allowed: Any) -> tuple:
    """The values a ``Literal`` alias (or any iterable of values) admits, in declared order."""
    args = get_args(allowed)
    if args:
        return tuple(args)
    if isinstance(allowed, Iterable) and not isinstance(allowed, str | bytes):
        return tuple(allowed)
    raise TypeError(f"not a Literal alias or a collection of values: {allowed!r}")


def accepted(allowed: Any, names: Mapping[Any, str] | None = None) -> str:
    """The accepted values as an error message shows them: ``'en', 'da'``; with ``names`` (value -> what it
    means), ``'en' (English), 'da' (Danish)``."""
    names = names or {}
    return ", ".join(repr(v) + (f" ({names[v]})" if v in names else "") for v in choices(allowed))


def check_choice(
    name: str, value: Any, allowed: Any, *, names: Mapping[Any, str] | None = None, verb: str = "accepted"
) -> Any:
    """``value`` if ``allowed`` admits it; otherwise a ValueError naming what was found and what is accepted.

    ``allowed`` is a ``Literal`` alias of this module (or a collection, for values known only at run
    time such as the rounds of a config). Booleans are never taken for the integers 0 and 1.
    ``names`` shows what each accepted value means; ``verb`` words the refusal ("language 'de' is
    not supported").
    """
    options = choices(allowed)
    if not any(value == o and type(value) is not bool for o in options):
        raise ValueError(f"{name} {value!r} is not {verb}; accepted: {accepted(allowed, names)}")
    return value
