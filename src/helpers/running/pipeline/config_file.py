"""The typed model of config/pipeline.yaml (pydantic) and its errors in the house style.

:class:`PipelineFile` (the top level), :class:`RoundEntry` (a survey round), :class:`RunEntry` (a run,
or a template of runs) and :class:`RunParameters` (the parameter values with a vocabulary). No pydantic
message reaches the user as it is: :func:`_problem` words each kind of error.

Imported only when a config file is validated (``config.read_file``, ``config.check_parameters``):
pydantic and these models cost about 0.12 s CPU to import, which the warm re-run of an unchanged
config does not pay (``config.load_checked`` takes the runs of its last check).
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from helpers.core import paths, vocabulary
from helpers.core.vocabulary import (
    ControlGroup,
    Covid,
    Estimator,
    ModelOutcome,
    Pairs,
    Reversals,
    TimingRule,
    UsageSource,
    WorkersAuto,
)
from helpers.running.pipeline.config import _did_you_mean, _error, _found, _key_path


def _none_is(empty):
    """A YAML key with nothing after it (``parameters:``) is None: read it as the empty ``empty``."""
    return BeforeValidator(lambda value: empty() if value is None else value)


PositiveInt = Annotated[int, Field(strict=True, gt=0)]
Year = Annotated[int, Field(ge=1900, le=2100)]


class RoundEntry(BaseModel):
    """A survey round: ``input_path`` (its export, under data/raw) and ``codebook``
    (config/codebooks/<codebook>.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    what: ClassVar[str] = "a round"

    input_path: str = Field(
        description="must be the export's path under data/raw, e.g. survey/example_survey_2011.xlsx"
    )
    codebook: str = Field(description="must name a codebook of config/codebooks, e.g. '2011'")


class RunEntry(BaseModel):
    """A run (``runs``) or a template of runs (``per_round``, ``per_pair``, ``per_round_set``): ``id``,
    ``notebook`` (under notebooks/), the ``parameters`` papermill injects, the ``needs`` that must
    succeed first, and the ``optional_needs`` it waits for and reads when they succeed, but runs without
    when they fail. Templates hold {placeholders}, filled when they are expanded."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    what: ClassVar[str] = "a run"

    id: str = Field(description="must be a text, unique among the runs, e.g. 02_compare_{year_a}_{year_b}")
    notebook: str = Field(description="must be a notebook under notebooks/, e.g. 02_compare_rounds.ipynb")
    parameters: Annotated[dict[str, Any], _none_is(dict)] = Field(
        default_factory=dict, description="must map parameter names to values, e.g. 'parameters: {year: 2011}'"
    )
    needs: Annotated[list[str], _none_is(list)] = Field(
        default_factory=list, description="must list the ids of the runs that must succeed first, e.g. [00_reference]"
    )
    optional_needs: Annotated[list[str], _none_is(list)] = Field(
        default_factory=list,
        description="must list the ids of runs it waits for but runs without when they fail, e.g. "
        "['01_clean_survey_{year}']",
    )


def _runs_section(example: str):
    return Field(default_factory=list, description=f"must be a list of runs, e.g. '- {{{example}}}'")


class PipelineFile(BaseModel):
    """config/pipeline.yaml as typed data; every key is optional (the shipped file's comments say what each does)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    what: ClassVar[str] = "the pipeline config"

    kernel: str = Field(paths.KERNEL_NAME, description="must name an installed Jupyter kernel, e.g. borgerservice")
    timeout_seconds: PositiveInt = Field(
        1200, description="must be a whole number of seconds above 0 (the limit on one whole notebook)"
    )
    cell_timeout_seconds: PositiveInt | None = Field(
        None, description="must be a whole number of seconds above 0 (the limit on one cell), or left out"
    )
    workers: WorkersAuto | PositiveInt = Field(
        "auto", description="must be auto (one per core) or a whole number above 0"
    )
    pairs: Pairs = "consecutive"
    defaults: Annotated[dict[str, Any], _none_is(dict)] = Field(
        default_factory=dict, description="must map parameter names to values, e.g. 'defaults: {language: da}'"
    )
    rounds: Annotated[dict[Year, RoundEntry], _none_is(dict)] = Field(
        default_factory=dict,
        description='must map survey years to their input_path and codebook, e.g. "2011: {input_path: '
        "survey/example_survey_2011.xlsx, codebook: '2011'}\"",
    )
    runs: Annotated[list[RunEntry], _none_is(list)] = _runs_section("id: 00_reference, notebook: 00_reference.ipynb")
    per_round: Annotated[list[RunEntry], _none_is(list)] = _runs_section(
        "id: '01_clean_survey_{year}', notebook: 01_clean_survey.ipynb"
    )
    per_pair: Annotated[list[RunEntry], _none_is(list)] = _runs_section(
        "id: '02_compare_{year_a}_{year_b}', notebook: 02_compare_rounds.ipynb"
    )
    per_round_set: Annotated[list[RunEntry], _none_is(list)] = _runs_section(
        "id: '04_adoption_real_{rounds_id}', notebook: 04_adoption_panel.ipynb"
    )


def _language(value):
    from helpers.outputs.labels import check_language  # light: the table of figure texts, no plotting library

    return check_language(value)


def _languages(value):
    """One language or a list of them (``languages: [en, da]``), each checked, as a list."""
    from helpers.outputs.labels import check_language

    given = [value] if isinstance(value, str) or value is None else value  # None: refused as a language
    if not isinstance(given, list) or not given:
        raise ValueError(f"languages {value!r}: give a list of figure languages, e.g. [en, da]")
    return [check_language(language) for language in given]


def _choice(name: str, alias) -> BeforeValidator:
    """Checked by vocabulary.check_choice, so that the message is the house one (found, accepted)."""
    return BeforeValidator(functools.partial(vocabulary.check_choice, name, allowed=alias))


class RunParameters(BaseModel):
    """The notebook parameters whose values the config is checked for before anything runs (the
    notebooks check them again): those with a vocabulary, by name, in whichever notebook declares
    them; a value given as nothing (``language:``) is refused too. Any other parameter passes as it
    is (``extra="allow"``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    language: Annotated[vocabulary.Language | None, BeforeValidator(_language)] = None
    languages: Annotated[list[vocabulary.Language] | None, BeforeValidator(_languages)] = None
    usage_source: Annotated[UsageSource | None, _choice("usage_source", UsageSource)] = None
    outcome: Annotated[ModelOutcome | None, _choice("outcome", ModelOutcome)] = None
    estimator: Annotated[Estimator | None, _choice("estimator", Estimator)] = None
    control_group: Annotated[ControlGroup | None, _choice("control_group", ControlGroup)] = None
    timing: Annotated[TimingRule | None, _choice("timing", TimingRule)] = None
    reversals: Annotated[Reversals | None, _choice("reversals", Reversals)] = None
    covid: Annotated[Covid | None, _choice("covid", Covid)] = None
    loans_source: Annotated[UsageSource | None, _choice("loans_source", UsageSource)] = None
    visits_source: Annotated[UsageSource | None, _choice("visits_source", UsageSource)] = None
    downloads_source: Annotated[UsageSource | None, _choice("downloads_source", UsageSource)] = None
    service_points_source: Annotated[UsageSource | None, _choice("service_points_source", UsageSource)] = None
    expenditure_source: Annotated[UsageSource | None, _choice("expenditure_source", UsageSource)] = None


def _keys_accepted(model: type[BaseModel]) -> str:
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    optional = [n for n, f in model.model_fields.items() if not f.is_required()]
    named = [", ".join(required[:-1]) + " and " + required[-1] if len(required) > 1 else "".join(required)]
    return ", ".join([f"{named[0]} (required)"] * bool(required) + optional)


def _walk(loc: tuple) -> tuple[list[str], type[BaseModel], Any, Any, tuple]:
    """Follow a pydantic error location through the models: (the keys of the file it names, the model
    holding the last of them, that key's FieldInfo, the type found there, what is left of ``loc``: a
    union member's tag, ``[key]`` for a mapping's key, or an unknown key)."""
    keys: list[str] = []
    model, info, tp = PipelineFile, None, PipelineFile
    for i, part in enumerate(loc):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                return keys, model, info, tp, loc[i:]
            model, info, tp = tp, tp.model_fields[part], tp.model_fields[part].annotation
            keys.append(str(part))
            continue
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        if get_origin(tp) is list and isinstance(part, int):
            keys.append(f"[{part}]")
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict and part != "[key]":
            keys.append(str(part))
            tp = get_args(tp)[1]
        else:
            return keys, model, info, tp, loc[i:]
    return keys, model, info, tp, ()


def _problem(error: dict) -> tuple[str, str]:
    """(key path, the problem in words) for one pydantic error of :class:`PipelineFile`."""
    keys, model, info, tp, rest = _walk(tuple(error["loc"]))
    path = _key_path(keys)
    kind, value = error["type"], error.get("input")
    if rest[:1] == ("[key]",):
        key = error["loc"][len(keys) - 1]
        return (
            path,
            f"{_key_path(keys[:-1])}: {key!r} is not a survey year; accepted: a year from 1900 to 2100, e.g. 2011",
        )
    if kind == "extra_forbidden":
        owner = tp if isinstance(tp, type) and issubclass(tp, BaseModel) else model
        return _key_path([*keys, str(rest[0])]), (
            (f"{path}: " if path else "")
            + f"unknown key {rest[0]!r} in {owner.what}; accepted keys: {_keys_accepted(owner)}"
            + _did_you_mean(rest[0], owner.model_fields)
        )
    if kind in ("model_type", "model_attributes_type") and isinstance(tp, type) and issubclass(tp, BaseModel):
        return path, f"{path} must be {tp.what}, a mapping with the keys {_keys_accepted(tp)}; found {_found(value)}"
    if kind == "missing":
        parent = _key_path(keys[:-1]) or "the file"
        return path, f"{parent} lacks {keys[-1]!r}; the keys of {model.what}: {_keys_accepted(model)}"
    if kind == "literal_error" and not rest and get_origin(tp) is Literal:
        return path, f"{path} {value!r} is not accepted; accepted: {vocabulary.accepted(tp)}"
    if kind == "value_error":
        return path, f"{path}: {error['ctx']['error']}"
    description = info.description if info is not None and info.description else "has the wrong type"
    return path, f"{path} {description}; found {_found(value)}"


def _validated(model: type[BaseModel], doc, where: str, in_words=_problem):
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for e in exc.errors():
            path, text = in_words(e)
            problems.setdefault(path, text)  # a union's members each report the same key: say it once
        raise _error(where, list(problems.values())) from None
