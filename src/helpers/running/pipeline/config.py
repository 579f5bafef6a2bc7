"""config/pipeline.yaml: its typed model, the runs it expands into, and the one edit code makes to it.

The file is read with PyYAML and validated by the pydantic models of :mod:`.config_file`:
``PipelineFile`` (the top level), ``RoundEntry`` (a survey round) and ``RunEntry`` (a run, or a
template of runs); they are imported only when a file is checked, and ``load_checked`` spares an
unchanged config the check. Unknown keys, values of the wrong type and choices outside the vocabulary
(helpers.core.vocabulary) are refused before anything runs. What the model of one key cannot see is
checked once the templates are expanded into runs: unique ids, existing notebooks, known needs, no
cycles, placeholders that exist, ``defaults`` that some notebook declares, and the values of the
notebook parameters that have a vocabulary (``RunParameters``).

Every error names the file (relative to the project), the key path (``per_pair[1].parameters.usage_source``;
list positions count from 0), what was found and what is accepted; several problems are listed
together. No pydantic message reaches the user as it is: ``config_file._problem`` words each kind of error.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from helpers.core import paths, vocabulary
from helpers.core.vocabulary import Pairs

if TYPE_CHECKING:
    from helpers.running.pipeline.config_file import PipelineFile, RunEntry

# The typed model of the file lives in .config_file (pydantic), imported when a file is validated.
_MODEL_NAMES = ("PipelineFile", "PositiveInt", "RoundEntry", "RunEntry", "RunParameters", "Year")


def __getattr__(name: str):
    if name in _MODEL_NAMES:
        from helpers.running.pipeline import config_file

        return getattr(config_file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ConfigError(ValueError):
    """A pipeline or rounds config that cannot be used; the message names the file, the key and what is accepted."""


@dataclass
class Run:
    """One notebook run of the config.

    ``id`` names its outputs; ``notebook`` is under notebooks/ (or an absolute path); ``parameters``
    are injected by papermill; ``needs`` are the runs that must end first, whose processed data it may
    read; ``optional`` are those among them whose failure does not block it (it runs without them);
    ``rounds`` are the survey rounds it belongs to (``--rounds``); ``entry`` is the config entry it comes
    from, such as ``per_pair[1]`` (for messages; empty for runs made in code).
    """

    id: str
    notebook: str
    parameters: dict = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    rounds: tuple[int, ...] = ()
    entry: str = ""
    optional: list[str] = field(default_factory=list)


@dataclass
class Config:
    """A checked pipeline config: ``kernel``, ``timeout_seconds`` (a whole notebook), ``workers``
    (parallel runs, ``auto`` resolved to the number of cores), ``runs`` (expanded, with defaults
    applied), ``path`` (the file), ``rounds`` (year -> {input_path, codebook}) and
    ``cell_timeout_seconds`` (a limit per cell, or None)."""

    kernel: str
    timeout_seconds: int
    workers: int
    runs: list[Run]
    path: Path
    rounds: dict[int, dict]
    cell_timeout_seconds: int | None = None


# --- errors in the house style -------------------------------------------------------------------


def _error(where: str, problems: list[str]) -> ConfigError:
    """One ConfigError for the problems of one file: on one line, or listed when there are several."""
    if len(problems) == 1:
        return ConfigError(f"{where}: {problems[0]}")
    shown = problems[:20]
    lines = [f"{where}: {len(problems)} problems"] + [f"  - {p}" for p in shown]
    if len(problems) > len(shown):
        lines.append(f"  ... and {len(problems) - len(shown)} more")
    return ConfigError("\n".join(lines))


def _found(value) -> str:
    kinds = {dict: "a mapping ", list: "a list ", str: "the text ", bool: "the boolean "}
    text = repr(value)
    text = text if len(text) <= 70 else text[:67] + "..."
    return "nothing" if value is None else kinds.get(type(value), "") + text


def _did_you_mean(name, known) -> str:
    near = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


def _key_path(keys: list[str]) -> str:
    """``per_pair[1].parameters.usage_source`` from ["per_pair", "[1]", "parameters", "usage_source"]."""
    return "".join(k if k.startswith("[") or i == 0 else f".{k}" for i, k in enumerate(keys))


def _read_yaml(path: Path) -> dict:
    where = paths.relative(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{where}:{at}: not valid YAML ({getattr(exc, 'problem', exc)}); "
            "quote values that contain {{placeholders}} or start with a digit"
        ) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: must map keys (rounds, runs, per_round, ...) to values; found {_found(doc)}")
    return doc


def read_file(path: Path) -> PipelineFile:
    """config/pipeline.yaml (or ``path``) read and validated as a :class:`PipelineFile`; a ConfigError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{paths.relative(path)}: pipeline config not found")
    from helpers.running.pipeline.config_file import PipelineFile, _validated

    return _validated(PipelineFile, _read_yaml(path), paths.relative(path))


def load_rounds(path: Path | None = None) -> dict[int, dict]:
    """Survey rounds, the ``rounds`` section of the pipeline config (default: ``paths.pipeline_config()``, the
    config of the run in progress): year -> {input_path (under data/raw), codebook}, by year."""
    return _rounds(read_file(Path(path or paths.pipeline_config())))


def _rounds(model: PipelineFile) -> dict[int, dict]:
    return {year: entry.model_dump() for year, entry in sorted(model.rounds.items())}


# --- templates expanded into runs ----------------------------------------------------------------


def _fill(value, values: dict, key: str):
    """Fill {placeholders} in a template value (``key``: its key path, for messages); a value that is
    exactly one placeholder keeps its type ("{year}" -> 2011)."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in values:
            return values[value[1:-1]]
        try:
            return value.format(**values)
        except KeyError as exc:
            why = f"unknown placeholder {exc}"
        except (ValueError, IndexError, AttributeError, TypeError) as exc:
            why = f"not a template ({exc}); write a placeholder as {{name}} and a brace as {{{{ or }}}}"
        accepted = ", ".join("{" + name + "}" for name in values)
        raise ConfigError(f"{key} {value!r}: {why}; accepted: {accepted}") from None
    if isinstance(value, list):
        return [_fill(v, values, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _fill(v, values, f"{key}.{k}") for k, v in value.items()}
    return value


def _make_run(item: RunEntry, entry: str, values: dict | None = None, rounds: tuple[int, ...] = ()) -> Run:
    doc = {
        "id": item.id,
        "notebook": item.notebook,
        "parameters": dict(item.parameters),
        "needs": list(item.needs),
        "optional_needs": list(item.optional_needs),
    }
    if values:
        doc = {k: _fill(v, values, f"{entry}.{k}") for k, v in doc.items()}
    needs = [str(n) for n in doc["needs"]]
    optional = [str(n) for n in doc["optional_needs"] if str(n) not in needs]
    return Run(str(doc["id"]), str(doc["notebook"]), doc["parameters"], needs + optional, rounds, entry, optional)


def _each_round(needs: list[str], years) -> list[str]:
    """A need naming {year} stands for that run of each of ``years``."""
    return [n.replace("{year}", str(y)) for n in needs for y in (years if "{year}" in n else [None])]


def pairs(years: list[int], mode: Pairs) -> list[tuple[int, int]]:
    """The pairs of rounds the per_pair templates run for: consecutive rounds, or all pairs."""
    if mode == "consecutive":
        return list(zip(years, years[1:], strict=False))
    if mode == "all":
        return list(itertools.combinations(years, 2))
    raise ConfigError(f"pairs: {mode!r}; accepted: {', '.join(vocabulary.choices(Pairs))}")


def round_sets(years: list[int], smallest: int = 2) -> list[tuple[int, ...]]:
    """Every set of at least ``smallest`` rounds, smaller sets first (the adoption panel's configurations)."""
    return [c for k in range(smallest, len(years) + 1) for c in itertools.combinations(years, k)]


def expand(model: PipelineFile, rounds: dict[int, dict]) -> list[Run]:
    """Fixed runs, then per-round templates for every round, then per-pair templates, then per-round-set templates.

    A fixed run's need naming {year} stands for that run of every round (05_export_data); a
    per-round-set template has {rounds} (the list of years) and {rounds_id} ("2009_2011"), and a need
    naming {year} means that run of each round in the set.
    """
    runs = [_make_run(item, f"runs[{i}]") for i, item in enumerate(model.runs)]
    for r in runs:
        r.needs = _each_round(r.needs, rounds)
        r.optional = _each_round(r.optional, rounds)
    for year, spec in rounds.items():
        for i, item in enumerate(model.per_round):
            runs.append(_make_run(item, f"per_round[{i}]", {"year": year, **spec}, (year,)))
    for a, b in pairs(list(rounds), model.pairs):
        for i, item in enumerate(model.per_pair):
            runs.append(_make_run(item, f"per_pair[{i}]", {"year_a": a, "year_b": b}, (a, b)))
    for years in round_sets(list(rounds)):
        values = {"rounds": list(years), "rounds_id": "_".join(map(str, years))}
        for i, item in enumerate(model.per_round_set):
            each = {"needs": _each_round(item.needs, years), "optional_needs": _each_round(item.optional_needs, years)}
            item = item.model_copy(update=each)
            runs.append(_make_run(item, f"per_round_set[{i}]", values, years))
    return runs


def load_config(path: Path | None = None) -> Config:
    """Read and check the pipeline config: the typed model, then unique ids, existing notebooks, known
    needs, no cycles, defaults some notebook declares and parameter values (see the module docstring)."""
    path = Path(path or paths.config() / "pipeline.yaml")
    model = read_file(path)
    where = paths.relative(path)
    rounds = _rounds(model)
    try:
        runs = expand(model, rounds)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    ids = [r.id for r in runs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{where}: duplicate run ids {dupes}")
    if paths.SCRATCH in ids:
        raise ConfigError(f"{where}: run id {paths.SCRATCH!r} is reserved for work outside the pipeline")
    for r in runs:
        if not notebook_path(r).is_file():
            raise ConfigError(f"{where}: run {r.id!r} ({r.entry}): notebook {r.notebook!r} not found in notebooks/")
        unknown = [n for n in r.needs if n not in ids]
        if unknown:
            raise ConfigError(f"{where}: run {r.id!r} ({r.entry}) needs unknown runs {unknown}; known: {ids}")
    own = {r.id: set(r.parameters) for r in runs}
    apply_defaults(runs, model.defaults, where)
    check_parameters(runs, where, own)
    workers = (os.cpu_count() or 1) if model.workers == "auto" else model.workers
    cfg = Config(model.kernel, model.timeout_seconds, workers, runs, path, rounds, model.cell_timeout_seconds)
    order(cfg.runs)
    return cfg


CHECKED = ".config_checked.json"  # in reports/: the config as last checked (load_checked)


def load_checked(path: Path | None, store: Path) -> Config:
    """:func:`load_config`, or the runs of the last check recorded in ``store`` when nothing it depends on changed.

    The check (pydantic's models, the notebooks' parameters) depends on the config file's bytes, the
    source notebooks its runs name, the code that checks it (this module, .config_file, the
    vocabulary, the figure languages of helpers.outputs.labels), the versions of pydantic and PyYAML
    and the number of cores (``workers: auto``); ``store`` keeps the sha256 of all these beside the
    checked config, as plain JSON. When every hash is equal the config is taken from ``store`` without
    importing pydantic (about 0.12 s CPU of a warm re-run); otherwise it is checked again and recorded.
    A ``store`` that is missing, unreadable or cannot be written is simply not used. The config is
    recorded only if it reads back equal (a parameter that YAML reads as a date, say, is not JSON).
    """
    path = Path(path or paths.config() / "pipeline.yaml")
    try:
        doc = json.loads(Path(store).read_text(encoding="utf-8"))
        if doc["key"] == _checked_key(path, doc["notebooks"]):
            return _config_from(doc["config"], path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    cfg = load_config(path)
    notebooks = sorted({r.notebook for r in cfg.runs})
    try:
        key = _checked_key(path, notebooks)
        record = json.loads(json.dumps(_config_doc(cfg)))
        if _config_from(record, path) == cfg and _checked_key(path, notebooks) == key:
            from helpers.core import files

            files.write_text(Path(store), json.dumps({"key": key, "notebooks": notebooks, "config": record}))
    except (OSError, ValueError, TypeError):
        pass
    return cfg


def _checked_key(path: Path, notebooks: list[str]) -> str:
    import hashlib
    from importlib import metadata

    helpers = Path(__file__).resolve().parents[2]
    code = [
        Path(__file__),
        Path(__file__).with_name("config_file.py"),
        helpers / "core" / "vocabulary.py",
        helpers / "outputs" / "labels.py",
    ]
    digest = hashlib.sha256()
    for part in (
        str(path.resolve()),
        str(os.cpu_count()),
        metadata.version("pydantic"),
        metadata.version("PyYAML"),
        *(str(n) for n in notebooks),
    ):
        digest.update(part.encode() + b"\0")
    for f in [path, *code, *(paths.notebooks() / str(n) for n in notebooks)]:
        digest.update(hashlib.sha256(Path(f).read_bytes()).digest())
    return digest.hexdigest()


def _config_doc(cfg: Config) -> dict:
    return {
        "kernel": cfg.kernel,
        "timeout_seconds": cfg.timeout_seconds,
        "workers": cfg.workers,
        "runs": [
            {
                "id": r.id,
                "notebook": r.notebook,
                "parameters": r.parameters,
                "needs": r.needs,
                "rounds": list(r.rounds),
                "entry": r.entry,
                "optional": r.optional,
            }
            for r in cfg.runs
        ],
        "rounds": [[year, spec] for year, spec in cfg.rounds.items()],
        "cell_timeout_seconds": cfg.cell_timeout_seconds,
    }


def _config_from(doc: dict, path: Path) -> Config:
    runs = [
        Run(r["id"], r["notebook"], r["parameters"], r["needs"], tuple(r["rounds"]), r["entry"], r["optional"])
        for r in doc["runs"]
    ]
    rounds = {int(year): spec for year, spec in doc["rounds"]}
    return Config(
        doc["kernel"], doc["timeout_seconds"], doc["workers"], runs, path, rounds, doc["cell_timeout_seconds"]
    )


def notebook_path(run: Run) -> Path:
    """A run's source notebook: relative to notebooks/, or an absolute path."""
    return paths.notebooks() / run.notebook


def order(runs: list[Run]) -> list[Run]:
    """Runs in dependency order (stable for independent runs); a cycle is a ConfigError."""
    done: list[Run] = []
    pending = list(runs)
    while pending:
        ready = [r for r in pending if all(n in {d.id for d in done} for n in r.needs)]
        if not ready:
            raise ConfigError(f"dependency cycle among {[r.id for r in pending]}")
        done.extend(ready)
        pending = [r for r in pending if r not in ready]
    return done


def select(runs: list[Run], only: list[str] | None = None, rounds: list[int] | None = None) -> list[Run]:
    """Runs named in ``only`` (ids or id prefixes) and runs of the given ``rounds``, plus what they need."""
    if not only and not rounds:
        return runs
    by_id = {r.id: r for r in runs}
    chosen = {r.id for r in runs if any(r.id == o or r.id.startswith(o) for o in only or [])}
    chosen |= {r.id for r in runs if rounds and r.rounds and set(r.rounds) & set(rounds)}
    if not chosen:
        raise ConfigError(f"no run matches only={only} rounds={rounds}; known runs: {list(by_id)}")
    stack = list(chosen)
    while stack:
        for need in by_id[stack.pop()].needs:
            if need not in chosen:
                chosen.add(need)
                stack.append(need)
    return [r for r in runs if r.id in chosen]


# --- notebook parameters: defaults and checks ----------------------------------------------------


def notebook_parameters(path: Path) -> dict:
    """The parameters a notebook declares, with their defaults (its ``parameters`` cell); {} if unreadable."""
    defaults: dict = {}
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cell = next(c for c in nb.get("cells", []) if "parameters" in (c.get("metadata", {}).get("tags") or []))
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for stmt in ast.parse(source).body:
            if isinstance(stmt, ast.Assign):
                try:
                    value = ast.literal_eval(stmt.value)
                except ValueError:
                    value = ast.unparse(stmt.value)
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        defaults[target.id] = value
    except (OSError, ValueError, StopIteration, KeyError, SyntaxError):
        pass
    return defaults


def effective_parameters(run: Run) -> dict:
    """The notebook's defaults (its ``parameters`` cell) overlaid with the injected parameters."""
    return {**notebook_parameters(notebook_path(run)), **run.parameters}


def apply_defaults(runs: list[Run], defaults: dict, where: str) -> None:
    """Set the ``defaults`` section's parameters on every run whose notebook declares them (a run's own
    ``parameters`` win). A default that no notebook of the runs declares is a ConfigError."""
    declared = {r.notebook: notebook_parameters(notebook_path(r)) for r in runs}
    for name, value in defaults.items():
        users = [r for r in runs if name in declared[r.notebook]]
        if not users:
            known = sorted({p for params in declared.values() for p in params})
            raise ConfigError(
                f"{where}: defaults: {name!r} is a parameter of none of the notebooks run; known: {known}"
                + _did_you_mean(name, known)
            )
        for r in users:
            r.parameters.setdefault(name, value)


def check_parameters(runs: list[Run], where: str, own: dict[str, set] | None = None) -> None:
    """Each run's parameters through :class:`RunParameters`; a refused value is a ConfigError naming the
    run, the value, what is accepted and where it is set: the run's entry (``own``: the names each run
    sets itself, by id) or ``defaults``. A key path set for several runs is reported once."""
    from pydantic import ValidationError

    from helpers.running.pipeline.config_file import RunParameters

    problems: dict[str, str] = {}
    for r in runs:
        try:
            RunParameters.model_validate(r.parameters)
        except ValidationError as exc:
            for e in exc.errors():
                name = str(e["loc"][0])
                mine = own is None or name in own.get(r.id, ())
                key = (
                    (f"{r.entry}.parameters.{name}" if r.entry else f"parameters.{name}")
                    if mine
                    else f"defaults.{name}"
                )
                text = str(e["ctx"]["error"]) if e["type"] == "value_error" else f"{name}: {e['msg']}"
                problems.setdefault(key, f"run {r.id!r}: {text}; set in {key}")
    if problems:
        raise _error(where, list(problems.values()))


# --- the one edit code makes to the config: a new round ------------------------------------------


def add_round_entry(text: str, year: int, spec: dict, where: str = "pipeline.yaml") -> str:
    """The pipeline config's text with ``year`` added at the end of its ``rounds`` section.

    The file is edited as text, not re-dumped, so its comments and layout stay; the result is read
    back and must give the old rounds plus the new one, and everything else unchanged.
    """
    entry = yaml.safe_dump(
        {int(year): {"input_path": spec["input_path"], "codebook": str(spec["codebook"])}},
        sort_keys=False,
        allow_unicode=True,
    )
    entry = "".join("  " + line for line in entry.splitlines(keepends=True))
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if re.match(r"rounds:\s*(\{\s*\}|null|~)?\s*(#.*)?$", line)), None)
    if start is None:
        new = "".join(lines) + "\nrounds:\n" + entry
    else:
        lines[start] = "rounds:\n"
        end = start + 1  # after the last indented line of the section
        for i in range(start + 1, len(lines)):
            if lines[i][:1] not in (" ", "\t", "#", "\n", ""):
                break  # the next top-level key
            if lines[i][:1] in (" ", "\t") and lines[i].strip():
                end = i + 1
        new = "".join(lines[:end]) + entry + "".join(lines[end:])
    before = yaml.safe_load(text) or {}
    after = yaml.safe_load(new) or {}
    expected = {
        **(before.get("rounds") or {}),
        int(year): {"input_path": spec["input_path"], "codebook": str(spec["codebook"])},
    }
    if after.get("rounds") != expected or {k: v for k, v in after.items() if k != "rounds"} != {
        k: v for k, v in before.items() if k != "rounds"
    }:
        raise ConfigError(
            f"{where}: could not add round {year} to its `rounds:` section automatically; add it by hand:\n{entry}"
        )
    return new
