"""Binding a manuscript to a run: every placeholder resolved to a value, a figure or a table of a run
that is recorded in ``reports/run_manifest.json`` as up to date.

A run alias resolves only when (each a problem naming the placeholders that use it):

* the run is in the run manifest with status ``ok`` (or ``skipped``: up to date, not re-run);
* its results file (``reports/results/<run>/<run>.json``) is among its recorded outputs and its bytes
  still have the recorded sha256 (a file changed after its run is not that run's result);
* the run is still up to date: the key ``borgerservice run`` computes for it now (its inputs, notebook,
  parameters, helper code, package versions and the outputs of the runs it needs) equals the recorded
  one, so the run would be skipped, not re-run. The problem names the inputs that changed.

A value then resolves through the typed key results (``helpers.results``): a field that no longer
exists is a problem naming it and the fields that do. Figures and tables resolve through the run's
recorded outputs, with their sha256 checked the same way.

:func:`check_types` does the first half without any run: it walks every placeholder's path through the
declared classes of the results (their fields and type annotations), so a renamed field fails the test
suite before anyone runs the pipeline.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from helpers import results
from helpers.core import files, paths
from helpers.core.vocabulary import ValueFormat, accepted
from helpers.outputs.brief import words
from helpers.outputs.paper.source import Issue, Manuscript, Placeholder, Step
from helpers.results import Document

MANIFEST = "run_manifest.json"
OK = ("ok", "skipped")  # skipped: up to date, its recorded outputs still valid
LANGUAGE_SUFFIXES = ("_en", "_da")  # a figure's language (helpers.outputs.labels), dropped when matching a name
SYNTHETIC_SUFFIX = "_synthetic"

Needs = Literal["whole", "number", "text", "sequence", "object"]


@dataclass(frozen=True)
class Format:
    """How a value is written: ``name`` (a :data:`~helpers.core.vocabulary.ValueFormat`), what it ``needs``
    (a whole number, any number, text, a sequence, or an object with ``fields``: one of the alternatives),
    the ``write`` function (from :mod:`helpers.outputs.brief.words`: the briefs' own) and an ``example``."""

    name: ValueFormat
    needs: Needs
    write: Callable[[Any], str]
    example: str
    fields: tuple[tuple[str, ...], ...] = ()


def _fields(value, *alternatives: tuple[str, ...]) -> tuple:
    for names in alternatives:
        if all(hasattr(value, n) for n in names):
            got = tuple(getattr(value, n) for n in names)
            if any(g is None for g in got):
                raise ValueError(f"{type(value).__name__} has no value (null) in {', '.join(names)}")
            return got
    wanted = " or ".join("(" + ", ".join(a) + ")" for a in alternatives)
    raise TypeError(f"needs an object with the fields {wanted}; found {type(value).__name__}")


def _change(value) -> str:
    per_level, ci = _fields(value, ("per_level", "ci"))
    return words.effect_with_interval(per_level, *ci)


FORMATS: dict[str, Format] = {  # keys: exactly vocabulary.ValueFormat (tests/test_paper.py)
    f.name: f
    for f in (
        Format("number", "whole", str, "2011, 98 (a whole number as it is; the default for whole numbers)"),
        Format("count", "whole", words.count, "5,560,534 (thousands separators)"),
        Format("share", "number", words.share, "88% (a proportion as a whole per cent)"),
        Format("ratio", "number", words.ratio, "1.026 (a rate ratio, 3 decimals)"),
        Format("rough_ratio", "number", words.rough_ratio, "1.24 (2 decimals: 'about 1.24')"),
        Format("signed_percent", "number", words.signed_percent, "+1.8 % (a log-scale change or proportion)"),
        Format("signed_points", "number", words.signed_points, "-12.3 % (a change already in per cent)"),
        Format("million", "number", words.million, "37.3 million"),
        Format("p_value", "number", words.p_value, "p = 0.184, p < 0.001"),
        Format("pct", "number", words.pct, "2.6 % higher (a rate ratio in words)"),
        Format("evidence", "number", words.evidence, "some evidence (a p-value in words)"),
        Format("text", "text", str, "exact binomial (text as it is; the default for text)"),
        Format("list", "sequence", lambda v: ", ".join(map(str, v)), "2009, 2011, 2014"),
        Format(
            "effect_interval",
            "object",
            lambda v: words.effect_with_interval(*_fields(v, ("estimate", "low", "high"))),
            "+1.2 % (95 % interval -3.4 to +5.6 %) (an object with estimate, low, high)",
            (("estimate", "low", "high"),),
        ),
        Format(
            "percent_interval",
            "object",
            lambda v: words.percent_interval(*_fields(v, ("low", "high"))),
            "-3.4 to +5.6 % (an object with low, high)",
            (("low", "high"),),
        ),
        Format(
            "ratio_interval",
            "object",
            lambda v: words.ratio_with_interval(*_fields(v, ("irr", "irr_low", "irr_high"), ("irr", "low", "high"))),
            "1.026 (95 % interval 0.988 to 1.066) (an object with irr and irr_low, irr_high or low, high)",
            (("irr", "irr_low", "irr_high"), ("irr", "low", "high")),
        ),
        Format(
            "change_interval",
            "object",
            _change,
            "+1.8 % (95 % interval -0.1 to +3.8 %) (the change model: per_level, ci)",
            (("per_level", "ci"),),
        ),
    )
}


def formats_markdown() -> str:
    """The formats as the Markdown table of ``paper/README.md`` (a test keeps the two the same)."""
    rows = [f"| `{f.name}` | {f.needs} | {f.example} |" for f in FORMATS.values()]
    return "\n".join(["| format | writes a | example |", "|---|---|---|", *rows]) + "\n"


@dataclass(frozen=True)
class Source:
    """A run the manuscript reads: its ``alias`` and ``run`` id, its results ``file`` (as the run manifest
    records it, ``reports/results/...``) with its ``sha256``, the typed ``document``, and when the run
    ``finished``."""

    alias: str
    run: str
    file: str
    sha256: str
    document: Document
    finished: str


@dataclass(frozen=True)
class Bound:
    """A value placeholder filled: the ``placeholder``, its ``source``, the ``value`` (JSON-able) and the
    ``text`` written in its place."""

    placeholder: Placeholder
    source: Source
    value: Any
    text: str


@dataclass(frozen=True)
class Asset:
    """A figure or table placeholder resolved: the ``placeholder``, its ``source``, the ``file`` as recorded
    (``reports/figures/...``), its ``path`` on disk and ``sha256``."""

    placeholder: Placeholder
    source: Source
    file: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class Binding:
    """A manuscript bound to a run: the ``sources`` it reads by alias, the filled ``values``, the ``assets``
    (figures and tables), and the run manifest's ``finished`` time, ``commit`` and ``dirty`` flag."""

    manuscript: Manuscript
    sources: dict[str, Source]
    values: tuple[Bound, ...]
    assets: tuple[Asset, ...]
    finished: str
    commit: str
    dirty: bool

    @property
    def synthetic(self) -> bool:
        """Whether any run the manuscript reads is computed from synthetic input."""
        return any(s.document.synthetic for s in self.sources.values())

    def text(self, placeholder: Placeholder) -> str:
        return next(b.text for b in self.values if b.placeholder == placeholder)

    def asset(self, placeholder: Placeholder) -> Asset:
        return next(a for a in self.assets if a.placeholder == placeholder)

    def record(self) -> dict:
        """What ``bindings.json`` holds: every number and file of the manuscript with the run it came from."""
        return {
            "manuscript": paths.relative(self.manuscript.path),
            "run_manifest": {"finished": self.finished, "commit": self.commit, "dirty": self.dirty},
            "synthetic": self.synthetic,
            "runs": {
                a: {"run": s.run, "file": s.file, "sha256": s.sha256, "synthetic": s.document.synthetic}
                for a, s in self.sources.items()
            },
            "values": [
                {"line": b.placeholder.line, "placeholder": b.placeholder.text, "run": b.source.run}
                | {"value": b.value, "text": b.text}
                for b in self.values
            ],
            "assets": [
                {"line": a.placeholder.line, "placeholder": a.placeholder.text, "run": a.source.run}
                | {"file": a.file, "sha256": a.sha256}
                for a in self.assets
            ],
        }


# --- the run manifest --------------------------------------------------------------------------------------------


def load_manifest() -> dict:
    """``reports/run_manifest.json`` as written by ``borgerservice run`` (read only, never set aside)."""
    f = paths.reports() / MANIFEST
    if not f.is_file():
        raise FileNotFoundError(f"{paths.relative(f)} not found: run the notebooks first (make run)")
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{paths.relative(f)} is not valid JSON ({exc}); run the notebooks again (make run)") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise ValueError(f"{paths.relative(f)} has no list of runs; run the notebooks again (make run)")
    return doc


def _recorded_path(name: str) -> Path:
    """A recorded output name (``reports/...`` or ``processed/...``) as a path (the folders may be redirected)."""
    kind, _, rel = name.partition("/")
    return (paths.processed_root() if kind == "processed" else paths.reports()) / rel


def out_of_date(manifest: dict, run_ids: list[str]) -> dict[str, str]:
    """The runs among ``run_ids`` that ``borgerservice run`` would run again, each with why.

    Computes each run's key as the pipeline does before deciding to skip it (``pipeline.static_keys`` and
    ``pipeline.final_key`` over the recorded outputs of the runs it needs) and compares it with the
    recorded key; the reason names the inputs whose content changed, or else says that the code, the
    notebook, the parameters or the package versions did.
    """
    from helpers.running import pipeline

    config = (manifest.get("config") or {}).get("path") or "config/pipeline.yaml"
    config_path = paths.root() / config
    if not config_path.is_file():
        return {r: f"its pipeline config {config} no longer exists" for r in run_ids}
    cfg = pipeline.load_config(config_path)
    by_id = {r.id: r for r in cfg.runs}
    records = {r["id"]: r for r in manifest["runs"] if isinstance(r, dict) and "id" in r}
    cache = files.HashCache(paths.reports() / pipeline.HASH_CACHE, base=paths.root())
    static = pipeline.static_keys(cfg.runs, cfg, pipeline.input_hashes(cache), pipeline.code_hash(cache), cache)
    stale = {}
    for run_id in run_ids:
        run, record = by_id.get(run_id), records.get(run_id, {})
        if run is None:
            stale[run_id] = f"it is no longer a run of {config}"
            continue
        if not record.get("key"):
            stale[run_id] = "the run manifest records no key for it (written by an older version?)"
            continue
        needs = {n: pipeline.processed_outputs(records.get(n, {})) for n in run.needs}
        if pipeline.final_key(static[run_id][0], needs) == record["key"]:
            continue
        now = {**static[run_id][1], **{k: v for outputs in needs.values() for k, v in outputs.items()}}
        then = record.get("reads") or {}
        changed = sorted(k for k in set(now) | set(then) if now.get(k) != then.get(k))
        stale[run_id] = _why_stale(changed, run, record, manifest)
    return stale


def _why_stale(changed: list[str], run, record: dict, manifest: dict) -> str:
    """Why a run's key changed, as specifically as the run manifest allows: the inputs it read, its parameters, the
    key packages' versions; else the helper code or the notebook (whose hashes the manifest does not record)."""
    from helpers.running.pipeline import keys

    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        return f"what it reads changed since it ran ({shown})"
    if json.loads(json.dumps(run.parameters, default=str)) != record.get("parameters"):
        return "its parameters in the pipeline config changed since it ran"
    then = manifest.get("packages") or {}
    moved = [
        f"{p} {then.get(p)} -> {keys.package_version(p)}"
        for p in keys.KEY_PACKAGES
        if then.get(p) != keys.package_version(p)
    ]
    if moved:
        return f"package versions changed since it ran ({', '.join(moved[:3])})"
    return "the helper code (src/helpers) or its notebook changed since it ran"


# --- values -----------------------------------------------------------------------------------------------------


def _is_dataclass_instance(obj) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _names(obj) -> list[str]:
    names = [f.name for f in dataclasses.fields(obj)]
    return names + [n for n, v in vars(type(obj)).items() if isinstance(v, property)]


def _dict_key(d: dict, key: str):
    if key in d:
        return key
    if key.lstrip("-").isdigit() and int(key) in d:
        return int(key)
    raise LookupError(f"no key {key!r}; keys: {', '.join(map(str, d))}")


def _matches(element, where: tuple[tuple[str, str], ...]) -> bool:
    def text(v) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    return all(hasattr(element, k) and text(getattr(element, k)) == v for k, v in where)


def resolve(obj: Any, steps: tuple[Step, ...]) -> Any:
    """Walk ``steps`` from ``obj`` (typed key results); a LookupError names the step that does not exist."""
    for step in steps:
        where = type(obj).__name__
        if step.field:
            if isinstance(obj, dict):
                obj = obj[_dict_key(obj, step.field)]
            elif _is_dataclass_instance(obj):
                if step.field not in _names(obj):
                    raise LookupError(f"no field {step.field!r} in {where}; fields: {', '.join(_names(obj))}")
                obj = getattr(obj, step.field)
            else:
                raise LookupError(f"{step}: a {where} has no fields")
        elif isinstance(obj, (tuple, list)):
            if step.index is not None:
                if not -len(obj) <= step.index < len(obj):
                    raise LookupError(f"{step}: the {where} has {len(obj)} elements")
                obj = obj[step.index]
            else:
                found = [e for e in obj if _matches(e, step.where)]
                if len(found) != 1:
                    raise LookupError(f"{step}: {len(found)} elements of {len(obj)} match (exactly one must)")
                obj = found[0]
        else:
            raise LookupError(f"{step}: a {where} is not a sequence")
    return obj


def _needs_ok(needs: Needs, value) -> bool:
    if needs == "whole":
        return isinstance(value, int) and not isinstance(value, bool)
    if needs == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if needs == "text":
        return isinstance(value, str)
    if needs == "sequence":
        return isinstance(value, (tuple, list))
    return _is_dataclass_instance(value)


def default_format(value) -> str:
    """The format of a placeholder that names none: whole numbers as they are, text as it is, sequences as a
    list; any other value (a float, an object) must name its format."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (tuple, list)):
        return "list"
    return ""


def write(value: Any, fmt: str) -> str:
    """``value`` written with format ``fmt`` ('' = by type); a ValueError or TypeError says why it cannot be."""
    if value is None:
        raise ValueError("the value is null (missing) in the results")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"the value is {value}")
    name = fmt or default_format(value)
    if not name:
        raise TypeError(
            f"a {type(value).__name__} needs a format (| name); formats: {accepted(ValueFormat)}"
            + (f"; fields here: {', '.join(_names(value))}" if _is_dataclass_instance(value) else "")
        )
    if name not in FORMATS:
        raise ValueError(f"no format {name!r}; formats: {accepted(ValueFormat)}")
    f = FORMATS[name]
    if not _needs_ok(f.needs, value):
        raise TypeError(f"format {name!r} needs {f.needs} ({f.example}); found {type(value).__name__} {value!r:.80}")
    return f.write(value)


def _plain(value: Any) -> Any:
    """A value as JSON (for bindings.json)."""
    return json.loads(json.dumps(value, default=files.jsonable))


# --- files of a run ------------------------------------------------------------------------------------------------


def _base_name(stem: str) -> str:
    """A figure's or table's name without its synthetic and language suffixes."""
    changed = True
    while changed:
        changed = False
        for suffix in (SYNTHETIC_SUFFIX, *LANGUAGE_SUFFIXES):
            if stem.endswith(suffix):
                stem, changed = stem[: -len(suffix)], True
    return stem


def asset_file(record: dict, p: Placeholder, language: str) -> tuple[str, str]:
    """The recorded output (name, sha256) a figure or table placeholder names; a LookupError lists the names there
    are. A figure is its PNG, a table its HTML (the formatted table) or else its CSV; a figure drawn in several
    languages is taken in ``language``."""
    folder = f"reports/{'figures' if p.kind == 'figure' else 'tables'}/{record['id']}/"
    extensions = (".png",) if p.kind == "figure" else (".html", ".csv")
    outputs = {n: s for n, s in (record.get("outputs") or {}).items() if n.startswith(folder)}
    candidates = [n for n in outputs if Path(n).suffix in extensions and _base_name(Path(n).stem) == p.name]
    if not candidates:
        there = sorted({_base_name(Path(n).stem) for n in outputs if Path(n).suffix in extensions})
        raise LookupError(f"run {record['id']} recorded no {p.kind} {p.name!r}; its {p.kind}s: {', '.join(there)}")

    def rank(name: str) -> tuple[int, int]:
        stem = Path(name).stem.removesuffix(SYNTHETIC_SUFFIX)
        other = any(stem.endswith(s) for s in LANGUAGE_SUFFIXES if s != f"_{language}")
        return int(other), extensions.index(Path(name).suffix)

    best = min(candidates, key=rank)
    return best, outputs[best]


# --- binding ----------------------------------------------------------------------------------------------------


def _source(alias: str, run: str, record: dict | None, cache: files.HashCache) -> Source:
    """The results file of a run, checked against the manifest; a ValueError says why it cannot be used."""
    if record is None:
        raise ValueError(f"run {run} is not in the run manifest: run it first (make run)")
    status = str(record.get("status"))
    if status not in OK:
        error = f" ({record.get('error')})" if record.get("error") else ""
        raise ValueError(f"run {run} did not succeed: status {status}{error}; fix it and run it again (make run)")
    prefix = f"reports/results/{run}/"
    recorded = {n: s for n, s in (record.get("outputs") or {}).items() if n.startswith(prefix) and n.endswith(".json")}
    file = f"{prefix}{run}.json" if f"{prefix}{run}.json" in recorded else next(iter(recorded), None)
    if file is None or (len(recorded) > 1 and file != f"{prefix}{run}.json"):
        raise ValueError(f"run {run} recorded {len(recorded)} results files under {prefix}; expected {run}.json")
    path = _recorded_path(file)
    if not path.is_file():
        raise ValueError(f"{file} of run {run} no longer exists: run it again (make run)")
    sha = cache.sha256(path)
    if sha != recorded[file]:
        raise ValueError(f"{file} changed after run {run} wrote it (sha256 differs from the run manifest)")
    try:
        document = results.read(path)
    except ValueError as exc:
        raise ValueError(str(exc)) from exc
    return Source(alias, run, file, sha, document, str(record.get("finished", "")))


def _language(metadata: dict) -> str:
    return str(metadata.get("lang", "en")).split("-")[0].lower() or "en"


def bind(
    manuscript: Manuscript, manifest: dict | None = None, *, key_check: bool = True
) -> tuple[Binding, list[Issue]]:
    """Resolve every placeholder of ``manuscript`` against the run manifest; returns the binding and every problem.

    ``key_check``: also require each run to be up to date as ``borgerservice run`` decides it (:func:`out_of_date`).
    """
    manifest = load_manifest() if manifest is None else manifest
    records = {r.get("id"): r for r in manifest["runs"] if isinstance(r, dict)}
    cache = files.HashCache()
    issues: list[Issue] = []
    used = [a for a in manuscript.runs if manuscript.uses(a)]
    stale = (
        out_of_date(manifest, [manuscript.runs[a] for a in used if manuscript.runs[a] in records]) if key_check else {}
    )
    sources: dict[str, Source] = {}
    for alias in used:
        run = manuscript.runs[alias]
        users = manuscript.uses(alias)
        first = users[0]
        more = f" (and {len(users) - 1} more of {alias!r})" if len(users) > 1 else ""
        try:
            source = _source(alias, run, records.get(run), cache)
            if run in stale:
                raise ValueError(f"run {run} is not up to date: {stale[run]}; run it again (make run)")
        except ValueError as exc:
            issues.append(Issue(first.line, first.text + more, str(exc)))
            continue
        sources[alias] = source
    values, assets = [], []
    language = _language(manuscript.metadata)
    for p in manuscript.placeholders:
        source = sources.get(p.alias)
        if source is None:
            continue  # no alias (references), or its run's problem is already listed
        try:
            if p.kind == "value":
                value = resolve(source.document.results, p.path)
                values.append(Bound(p, source, _plain(value), write(value, p.format)))
            else:
                name, sha = asset_file(records[source.run], p, language)
                path = _recorded_path(name)
                if not path.is_file():
                    raise ValueError(f"{name} of run {source.run} no longer exists: run it again (make run)")
                if cache.sha256(path) != sha:
                    raise ValueError(f"{name} changed after run {source.run} wrote it (sha256 differs)")
                assets.append(Asset(p, source, name, path, sha))
        except (LookupError, ValueError, TypeError) as exc:
            message = str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
            issues.append(Issue(p.line, p.text, f"{p.alias} = run {source.run}: {message}"))
    git = manifest.get("git") or {}
    binding = Binding(
        manuscript,
        sources,
        tuple(values),
        tuple(assets),
        str(manifest.get("finished", "")),
        str(git.get("commit") or ""),
        bool(git.get("dirty")),
    )
    return binding, issues


# --- the same check without a run: through the declared classes -----------------------------------------------------


def _unwrap(tp):
    """``X | None`` -> X; other unions and Any stay as they are."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _hint(cls, name: str):
    if name in {f.name for f in dataclasses.fields(cls)}:
        return typing.get_type_hints(cls)[name]
    prop = vars(cls).get(name) or next((vars(b)[name] for b in cls.__mro__ if name in vars(b)), None)
    if isinstance(prop, property):
        return typing.get_type_hints(prop.fget).get("return", Any)
    fields = [f.name for f in dataclasses.fields(cls)] + [n for n, v in vars(cls).items() if isinstance(v, property)]
    raise LookupError(f"no field {name!r} in {cls.__name__}; fields: {', '.join(fields)}")


def declared_type(cls: type, steps: tuple[Step, ...]):
    """The declared type at the end of ``steps`` from the key-results class ``cls``; a LookupError names the step
    that the declarations do not have."""
    tp: Any = cls
    for step in steps:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if tp is Any:
            return Any
        if step.field:
            if origin is dict:
                key_type = _unwrap(typing.get_args(tp)[0])
                if key_type is int and not step.field.lstrip("-").isdigit():
                    raise LookupError(f"{step}: the keys of this dict are whole numbers")
                tp = typing.get_args(tp)[1]
            elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
                tp = _hint(tp, step.field)
            else:
                raise LookupError(f"{step}: a {getattr(tp, '__name__', tp)} has no fields")
        elif origin in (tuple, list):
            element = _unwrap(typing.get_args(tp)[0])
            for key, _ in step.where:
                if isinstance(element, type) and dataclasses.is_dataclass(element):
                    _hint(element, key)
            tp = element
        else:
            raise LookupError(f"{step}: a {getattr(tp, '__name__', tp)} is not a sequence")
    return _unwrap(tp)


def _type_fits(fmt: str, tp) -> str | None:
    """Why format ``fmt`` cannot write a value of declared type ``tp`` (None when it can, or cannot be told)."""
    if tp is Any:
        return None
    base = tp
    if typing.get_origin(tp) is Literal:
        base = type(typing.get_args(tp)[0])
    origin = typing.get_origin(base) or base
    name = fmt or ("number" if base is int else "text" if base is str else "list" if origin in (tuple, list) else "")
    if not name:
        return f"a {getattr(base, '__name__', base)} needs a format (| name); formats: {accepted(ValueFormat)}"
    if name not in FORMATS:
        return f"no format {name!r}; formats: {accepted(ValueFormat)}"
    f = FORMATS[name]
    ok = {
        "whole": base is int,
        "number": base in (int, float),
        "text": base is str,
        "sequence": origin in (tuple, list),
        "object": isinstance(base, type)
        and dataclasses.is_dataclass(base)
        and any(all(_has(base, n) for n in names) for names in f.fields),
    }[f.needs]
    return None if ok else f"format {name!r} needs {f.needs} ({f.example}); declared: {getattr(base, '__name__', base)}"


def _has(cls, name: str) -> bool:
    try:
        _hint(cls, name)
    except LookupError:
        return False
    return True


def check_types(manuscript: Manuscript, run_ids: list[str] | None = None) -> list[Issue]:
    """Every value placeholder checked against the declared key-results classes, without a run: the alias names a
    run (of ``run_ids``, when given, e.g. the runs of config/pipeline.yaml), the path exists in the classes, and its
    format can write the declared type."""
    issues = []
    for p in manuscript.placeholders:
        run = manuscript.runs.get(p.alias)
        if p.kind == "references" or run is None:
            continue
        if run_ids is not None and run not in run_ids:
            issues.append(Issue(p.line, p.text, f"{p.alias} = run {run}, which the pipeline config does not have"))
            continue
        try:
            cls = results.family(run)
        except ValueError as exc:
            issues.append(Issue(p.line, p.text, str(exc)))
            continue
        if p.kind != "value":
            continue
        try:
            why = _type_fits(p.format, declared_type(cls, p.path))
        except LookupError as exc:
            why = f"{p.alias} = run {run} ({cls.__name__}): {str(exc).strip(chr(39))}"
        if why:
            issues.append(Issue(p.line, p.text, why))
    return issues
