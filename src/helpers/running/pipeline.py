"""Run the notebooks of config/pipeline.yaml with papermill: in dependency order, in parallel, incrementally.

The config lists the survey ``rounds``, fixed ``runs``, and templates expanded for every round
(``per_round``) and for pairs of rounds (``per_pair``: consecutive rounds, or all pairs). Each run
executes one source notebook with its parameters into ``reports/executed/<id>.ipynb`` plus an HTML
copy, and writes its figures, tables, results and processed data under its own id (helpers.core.paths).
A run whose ``needs`` failed is not started ("blocked"); independent runs go on.

**Up to date.** A run is skipped only when (1) its key equals the key of its last successful run:
the current content of every file it reads (raw files, their data-manifest entries, codebook,
aliases, and the processed files of the runs it needs), its notebook, its parameters, the helper
code, the key package versions, the kernel and the output locations (see ``static_keys`` and
``final_key``); and (2) every output that run recorded still exists with its recorded sha256.
Otherwise it re-runs, and so does whatever reads an output that changed.

``reports/run_manifest.json`` records the git commit, package versions, the content hash of each raw
file, and per run: key, status, time, injected and effective parameters (notebook defaults plus
injected), what it read and every output with its sha256. It is rewritten atomically whenever a run
starts or ends. When several runs are ready and a worker is free, ``start_order`` picks: first what
opens further work, then the longest expected.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import functools
import hashlib
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import yaml

from helpers.core import files, paths
from helpers.data import provenance
from helpers.running import lock

KEY_PACKAGES = [
    "pandas",
    "numpy",
    "geopandas",
    "statsmodels",
    "pandera",
    "papermill",
    "matplotlib",
    "seaborn",
    "nbconvert",
    "ipykernel",
]
MANIFEST = "run_manifest.json"


class ConfigError(ValueError):
    """A pipeline or rounds config is not usable; the message says where and what is accepted."""


@dataclass
class Run:
    id: str
    notebook: str
    parameters: dict = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    rounds: tuple[int, ...] = ()  # survey rounds this run belongs to (for --rounds)


@dataclass
class Outcome:
    id: str
    notebook: str
    parameters: dict
    status: str  # ok | skipped (up to date) | failed | blocked | running | interrupted | not started
    seconds: float = 0.0
    executed: str = ""
    html: str = ""
    error: str = ""
    key: str = ""
    effective_parameters: dict = field(default_factory=dict)  # the notebook's defaults overlaid with ``parameters``
    reads: dict = field(default_factory=dict)  # input name -> sha256 (raw:, manifest:, codebook:, config:, processed/)
    outputs: dict = field(default_factory=dict)  # output (processed/<id>/..., reports/...) -> sha256
    finished: str = ""


@dataclass
class Config:
    kernel: str
    timeout_seconds: int
    workers: int
    runs: list[Run]
    path: Path
    rounds: dict[int, dict]
    cell_timeout_seconds: int | None = None  # a limit per cell beside timeout_seconds (the whole notebook)


# --- configuration -----------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)}); "
            "quote values that contain {{placeholders}} or start with a digit"
        ) from None


def load_rounds(path: Path | None = None) -> dict[int, dict]:
    """Survey rounds, the ``rounds`` section of the pipeline config (default: ``paths.pipeline_config()``, the
    config of the run in progress): year -> {input_path (under data/raw), codebook}."""
    path = Path(path or paths.pipeline_config())
    if not path.is_file():
        raise ConfigError(f"{path}: pipeline config not found")
    return _rounds(_read_yaml(path), path)


def _rounds(doc: dict, path: Path) -> dict[int, dict]:
    rounds = {}
    for year, spec in (doc.get("rounds") or {}).items():
        try:
            year = int(year)
        except ValueError:
            raise ConfigError(f"{path}: round {year!r} is not a year; accepted: e.g. 2011") from None
        missing = {"input_path", "codebook"} - set(spec or {})
        if missing:
            raise ConfigError(f"{path}: round {year} lacks {sorted(missing)}; each round needs input_path and codebook")
        rounds[year] = {"input_path": str(spec["input_path"]), "codebook": str(spec["codebook"])}
    return dict(sorted(rounds.items()))


def _fill(value, values: dict):
    """Fill {placeholders} in a template value; a value that is exactly one placeholder keeps its type."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in values:
            return values[value[1:-1]]
        return value.format(**values)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _make_run(item: dict, where: str, values: dict | None = None, rounds: tuple[int, ...] = ()) -> Run:
    missing = {"id", "notebook"} - set(item)
    if missing:
        raise ConfigError(
            f"{where} lacks {sorted(missing)}; each run needs id, notebook, optional parameters and needs"
        )
    if values:
        try:
            item = _fill(item, values)
        except KeyError as exc:
            raise ConfigError(f"{where}: unknown placeholder {exc}; accepted: {sorted(values)}") from None
    return Run(
        str(item["id"]),
        str(item["notebook"]),
        dict(item.get("parameters") or {}),
        [str(n) for n in item.get("needs") or []],
        rounds,
    )


def pairs(years: list[int], mode: str) -> list[tuple[int, int]]:
    if mode == "consecutive":
        return list(zip(years, years[1:], strict=False))
    if mode == "all":
        return list(itertools.combinations(years, 2))
    raise ConfigError(f"pairs: {mode!r}; accepted: consecutive, all")


def round_sets(years: list[int], smallest: int = 2) -> list[tuple[int, ...]]:
    """Every set of at least ``smallest`` rounds, smaller sets first (the adoption panel's configurations)."""
    return [c for k in range(smallest, len(years) + 1) for c in itertools.combinations(years, k)]


def expand(doc: dict, rounds: dict[int, dict], where: str) -> list[Run]:
    """Fixed runs, then per-round templates for every round, then per-pair templates, then per-round-set templates."""
    runs = [_make_run(item, f"{where}: run {i}") for i, item in enumerate(doc.get("runs") or [], start=1)]
    for r in runs:  # a fixed run's need naming {year} stands for that run of every round (05_export_data)
        r.needs = [n.replace("{year}", str(y)) for n in r.needs for y in (rounds if "{year}" in n else [None])]
    for year, spec in rounds.items():
        for item in doc.get("per_round") or []:
            runs.append(_make_run(item, f"{where}: per_round", {"year": year, **spec}, (year,)))
    for a, b in pairs(list(rounds), doc.get("pairs", "consecutive")):
        for item in doc.get("per_pair") or []:
            runs.append(_make_run(item, f"{where}: per_pair", {"year_a": a, "year_b": b}, (a, b)))
    for years in round_sets(
        list(rounds)
    ):  # {rounds}: the list of years, {rounds_id}: "2009_2011"; a need with {year}: each round
        for item in doc.get("per_round_set") or []:
            needs = [
                n.replace("{year}", str(y))
                for n in item.get("needs") or []
                for y in (years if "{year}" in n else [None])
            ]
            runs.append(
                _make_run(
                    dict(item, needs=needs),
                    f"{where}: per_round_set",
                    {"rounds": list(years), "rounds_id": "_".join(map(str, years))},
                    years,
                )
            )
    return runs


def load_config(path: Path | None = None) -> Config:
    """Read and check the pipeline config: unique ids, existing notebooks, known needs, no cycles."""
    path = Path(path or paths.config() / "pipeline.yaml")
    if not path.is_file():
        raise ConfigError(f"{path}: pipeline config not found")
    doc = _read_yaml(path)
    rounds = _rounds(doc, path)
    runs = expand(doc, rounds, str(path))
    ids = [r.id for r in runs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{path}: duplicate run ids {dupes}")
    for r in runs:
        if not notebook_path(r).is_file():
            raise ConfigError(f"{path}: run {r.id!r}: notebook {r.notebook!r} not found in notebooks/")
        unknown = [n for n in r.needs if n not in ids]
        if unknown:
            raise ConfigError(f"{path}: run {r.id!r} needs unknown runs {unknown}; known: {ids}")
    apply_defaults(runs, doc.get("defaults") or {}, str(path))
    workers = doc.get("workers", "auto")
    workers = os.cpu_count() or 1 if workers == "auto" else int(workers)
    if paths.SCRATCH in ids:
        raise ConfigError(f"{path}: run id {paths.SCRATCH!r} is reserved for work outside the pipeline")
    cell = doc.get("cell_timeout_seconds")
    cfg = Config(
        doc.get("kernel", paths.KERNEL_NAME),
        int(doc.get("timeout_seconds", 1200)),
        workers,
        runs,
        path,
        rounds,
        int(cell) if cell else None,
    )
    order(cfg.runs)
    return cfg


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


# --- keys for incremental runs -----------------------------------------------------------------
#
# A run is up to date when its key equals the key of its last successful run AND every output that
# run wrote still exists with the sha256 recorded for it. The key hashes the current content of what
# the run reads (see ``run_inputs``), its notebook, its parameters, the helper code, the versions of
# the key packages, the kernel and the output locations, and the recorded hashes of the processed
# files of the runs it needs (``final_key``). Hashes of unchanged files come from a stat cache
# (files.HashCache), so a warm re-run reads almost no bytes.

SHARED_RAW_EXCLUDED = ("survey",)  # raw folders read only through a parameter that names the file (a round's export)
DOC_NAMES = {"MANIFEST.yaml", "README.md", ".gitkeep"}
HASH_CACHE = ".hash_cache.json"


def code_hash(cache: files.HashCache | None = None) -> str:
    """One hash over the helper package's source: a change in any helper re-runs every notebook."""
    cache = cache or files.HashCache()
    h = hashlib.sha256()
    for f in sorted((paths.root() / "src" / "helpers").rglob("*.py")):
        h.update(f.relative_to(paths.root()).as_posix().encode())
        h.update(cache.sha256(f).encode())
    return h.hexdigest()


def input_hashes(cache: files.HashCache | None = None) -> dict[str, str]:
    """The current sha256 of every data file under data/raw (relative path -> sha256): the bytes, not the manifest."""
    cache = cache or files.HashCache()
    raw = paths.raw()
    out = {}
    for f in sorted(raw.rglob("*")):
        if f.is_file() and f.name not in DOC_NAMES and not f.name.startswith(("PROVENANCE", ".")):
            out[f.relative_to(raw).as_posix()] = cache.sha256(f)
    return out


def named_files(run: Run) -> dict[str, Path]:
    """Input files a run's parameters name: raw files (a value that is a path under data/raw, such as
    a round's ``input_path``) and codebooks (``codebook: "2011"`` -> config/codebooks/2011.yaml)."""
    named = {}
    for name, value in run.parameters.items():
        if not isinstance(value, str) or not value:
            continue
        if (paths.raw() / value).is_file():
            named[f"raw:{value}"] = paths.raw() / value
        if name == "codebook":
            named[f"codebook:{value}"] = paths.codebook(value)
    return named


def shared_config_files() -> list[Path]:
    """config/ files every run reads: YAML other than pipeline.yaml and the codebooks (the municipality aliases)."""
    return sorted(
        f
        for f in paths.config().rglob("*")
        if f.is_file() and f.parent != paths.codebooks() and f.name != "pipeline.yaml" and f.suffix in (".yaml", ".yml")
    )


def run_inputs(
    run: Run,
    inputs: dict[str, str],
    entries: dict | None = None,
    cache: files.HashCache | None = None,
    shared_config: dict[str, str] | None = None,
) -> dict[str, str]:
    """What a run reads, name -> current sha256 (or "missing").

    * the raw files its parameters name (a round's export) and the raw files outside data/raw/survey
      (reference data, usage data: the helpers read these for every run), each with its data-manifest
      entry (source, licence, synthetic flag: the synthetic marks depend on it), but not the manifest
      files themselves: registering a new export changes no other run's inputs;
    * the codebook its parameters name, and config/aliases.yaml (``shared_config_files``).
    The processed files of the runs it needs are added by ``final_key``.
    """
    cache = cache or files.HashCache()
    named = named_files(run)
    own = {k.removeprefix("raw:") for k in named if k.startswith("raw:")}
    out: dict[str, str] = {}
    for rel, sha in inputs.items():
        if rel in own or rel.split("/", 1)[0] not in SHARED_RAW_EXCLUDED:
            out[f"raw:{rel}"] = sha
    for k, f in named.items():
        if k.startswith("raw:") and k not in out:
            out[k] = cache.get(f) or "missing"
        elif k.startswith("codebook:"):
            out[k] = cache.get(f) or "missing"
    for rel in [k.removeprefix("raw:") for k in out if k.startswith("raw:")]:
        if entries is not None and rel in entries:
            e = asdict(entries[rel])
            e.pop("sha256", None)  # the bytes are hashed above; the recorded sha256 is not the content
            out[f"manifest:{rel}"] = hashlib.sha256(json.dumps(e, sort_keys=True).encode()).hexdigest()
    if shared_config is None:
        shared_config = {
            f"config:{f.relative_to(paths.config()).as_posix()}": cache.get(f) or "missing"
            for f in shared_config_files()
        }
    out.update(shared_config)
    return out


def environment_key(cfg: Config, code: str) -> dict:
    """What every run shares: helper code, key package versions, kernel and the output locations."""
    return {
        "code": code,
        "packages": {p: _version(p) for p in KEY_PACKAGES},
        "kernel": cfg.kernel,
        "python": platform.python_version(),
        "locations": [os.fspath(paths.processed_root().resolve()), os.fspath(paths.reports().resolve())],
    }


def static_keys(
    runs: list[Run],
    cfg: Config,
    inputs: dict[str, str],
    code: str,
    cache: files.HashCache | None = None,
    entries: dict | None = None,
) -> dict[str, tuple[str, dict]]:
    """Per run: (a hash of everything but its needs' outputs, the inputs it reads name -> sha256)."""
    cache = cache or files.HashCache()
    if entries is None:
        entries = provenance.load()
    env = json.dumps(environment_key(cfg, code), sort_keys=True)
    shared_config = {
        f"config:{f.relative_to(paths.config()).as_posix()}": cache.get(f) or "missing" for f in shared_config_files()
    }
    out = {}
    for r in runs:
        reads = run_inputs(r, inputs, entries, cache, shared_config)
        material = {
            "env": env,
            "notebook": cache.get(notebook_path(r)) or "missing",
            "parameters": r.parameters,
            "reads": reads,
        }
        out[r.id] = (hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest(), reads)
    return out


def final_key(static: str, need_outputs: dict[str, dict]) -> str:
    """A run's key: its static key plus the recorded hashes of the processed files of each run it needs."""
    h = hashlib.sha256(static.encode())
    h.update(json.dumps(need_outputs, sort_keys=True).encode())
    return h.hexdigest()


def processed_outputs(outcome: Outcome | dict) -> dict[str, str]:
    """The processed-data files among a run's recorded outputs (what runs that need it may read)."""
    outputs = outcome.outputs if isinstance(outcome, Outcome) else outcome.get("outputs") or {}
    return {k: v for k, v in outputs.items() if k.startswith("processed/")}


def run_keys(runs: list[Run], cfg: Config, inputs: dict[str, str], code: str) -> dict[str, str]:
    """Keys chained through ``needs`` by key rather than by output (used to see which runs an input change reaches)."""
    static = static_keys(runs, cfg, inputs, code)
    keys: dict[str, str] = {}
    for r in order(runs):
        keys[r.id] = final_key(static[r.id][0], {n: keys.get(n, n) for n in r.needs})
    return keys


def effective_parameters(run: Run) -> dict:
    """The notebook's defaults (its ``parameters`` cell) overlaid with the injected parameters."""
    return {**notebook_parameters(notebook_path(run)), **run.parameters}


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


def _check_language(value) -> None:
    from helpers.outputs.labels import check_language  # light: the table of figure texts, no plotting library

    check_language(value)


def _check_languages(value) -> None:
    from helpers.outputs.labels import check_language

    for language in [value] if isinstance(value, str) else value if isinstance(value, list) else [value]:
        check_language(language)


# Parameters whose values the config is checked for before anything runs (the notebooks check them too).
PARAMETER_CHECKS = {"language": _check_language, "languages": _check_languages}


def apply_defaults(runs: list[Run], defaults, where: str) -> None:
    """Set the ``defaults`` section's parameters on every run whose notebook declares them (a run's own
    ``parameters`` win). A default that no notebook of the runs declares, or a value a check refuses
    (``PARAMETER_CHECKS``, e.g. language), is a ConfigError."""
    if not isinstance(defaults, dict):
        raise ConfigError(
            f"{where}: defaults must map parameter names to values, e.g. 'defaults: {{languages: [en, da]}}'; "
            f"got {type(defaults).__name__}"
        )
    declared = {r.notebook: notebook_parameters(notebook_path(r)) for r in runs}
    for name, value in defaults.items():
        users = [r for r in runs if name in declared[r.notebook]]
        if not users:
            known = sorted({p for params in declared.values() for p in params})
            raise ConfigError(
                f"{where}: defaults: {name!r} is a parameter of none of the notebooks run; known: {known}"
            )
        for r in users:
            r.parameters.setdefault(name, value)
    for r in runs:
        for name, check in PARAMETER_CHECKS.items():
            if name in r.parameters:
                try:
                    check(r.parameters[name])
                except ValueError as exc:
                    raise ConfigError(f"{where}: run {r.id!r}: {exc}") from None


# --- run-owned outputs -------------------------------------------------------------------------


def output_folders(run_id: str) -> list[Path]:
    """The folders a run owns (helpers.core.paths): processed data, figures, tables, results."""
    return [paths.processed_root() / run_id, paths.figures(run_id), paths.tables(run_id), paths.results(run_id)]


def _output_name(f: Path) -> str:
    """An output as recorded: ``processed/<run>/<file>`` or ``reports/<...>`` (independent of where the folders are)."""
    try:
        return "processed/" + f.relative_to(paths.processed_root()).as_posix()
    except ValueError:
        return "reports/" + f.relative_to(paths.reports()).as_posix()


def output_path(name: str) -> Path:
    kind, rel = name.split("/", 1)
    return (paths.processed_root() if kind == "processed" else paths.reports()) / rel


def collect_outputs(run_id: str, cache: files.HashCache) -> dict[str, str]:
    """Every file a run wrote (its folders and executed notebook + HTML), name -> sha256."""
    found = []
    for folder in output_folders(run_id):
        if folder.is_dir():
            found += [f for f in folder.rglob("*") if f.is_file() and not f.name.startswith(".")]
    found += [f for f in (paths.executed() / f"{run_id}.ipynb", paths.executed() / f"{run_id}.html") if f.is_file()]
    return {_output_name(f): cache.sha256(f) for f in sorted(found)}


def clear_outputs(run_id: str) -> None:
    """Remove what a run wrote before, so that outputs of earlier parameter values cannot linger."""
    for folder in output_folders(run_id):
        if folder.is_dir():
            shutil.rmtree(folder)


def sweep_stale(cfg: Config, echo=print) -> list[str]:
    """Move aside outputs that no run of the config describes (removed runs, the old flat layout) and
    temporary files a crash left; returns the moved names. Moved to ``reports/.stale/<time>/``."""
    ids = {r.id for r in cfg.runs}
    moved = []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    aside = paths.reports() / ".stale" / stamp
    places = [
        (paths.processed_root(), "processed"),
        *[(paths.reports() / k, f"reports/{k}") for k in ("figures", "tables", "results")],
    ]
    for root, label in places:
        for removed in files.remove_temporaries(root):
            echo(f"removed {label}/{removed.relative_to(root).as_posix()}: a temporary file left by an interrupted run")
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if (
                child.name.startswith(".")
                or child.name == "README.md"
                or (child.is_dir() and child.name in ids | {paths.SCRATCH})
            ):
                continue
            target = aside / label / child.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(child, target)
            moved.append(f"{label}/{child.name}")
    from helpers.outputs import publish  # light: no plotting library, no templates

    for name in publish.remove_temporaries(paths.reports()):
        echo(f"removed reports/{name}: the temporary folder of a report that did not finish")
    executed = paths.executed()
    for removed in files.remove_temporaries(executed):
        echo(f"removed reports/executed/{removed.name}: a temporary file left by an interrupted run")
    if executed.is_dir():
        for child in sorted(executed.iterdir()):
            if child.is_file() and not child.name.startswith(".") and child.stem not in ids:
                target = aside / "reports/executed" / child.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(child, target)
                moved.append(f"reports/executed/{child.name}")
    if moved:
        echo(
            f"moved {len(moved)} output(s) that no run in {paths.relative(cfg.path)} describes to "
            f"{paths.relative(aside)}: " + ", ".join(moved[:8]) + (" ..." if len(moved) > 8 else "")
        )
    return moved


# --- the previous run manifest -----------------------------------------------------------------


def _manifest_problem(doc) -> str:
    if not isinstance(doc, dict):
        return f"holds a {type(doc).__name__}, not an object"
    runs = doc.get("runs", [])
    if not isinstance(runs, list):
        return f"'runs' is a {type(runs).__name__}, not a list"
    for i, r in enumerate(runs, start=1):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str) or not isinstance(r.get("status"), str):
            return f"run record {i} is not an object with a text id and status"
        if (
            not isinstance(r.get("key", ""), str)
            or not isinstance(r.get("outputs", {}), dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in (r.get("outputs") or {}).items())
        ):
            return f"run record {i} ({r['id']}): key or outputs of the wrong type"
    return ""


def load_manifest(echo=print) -> dict:
    """The previous run manifest; one of the wrong shape is set aside (logged) and an empty one returned."""
    f = paths.reports() / MANIFEST
    if not f.is_file():
        return {}
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
        problem = _manifest_problem(doc)
    except (ValueError, UnicodeDecodeError) as exc:
        problem = f"is not valid JSON ({exc})"
    if not problem:
        return doc
    aside = f.with_name(f"{MANIFEST}.bad-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}")
    os.replace(f, aside)
    echo(f"warning: {paths.relative(f)} {problem}: set aside as {aside.name}; it is rebuilt, and every run re-runs")
    return {}


def previous_runs(echo=print, doc: dict | None = None) -> dict[str, dict]:
    """Successful runs recorded by earlier pipeline runs, by id (carried forward across runs)."""
    doc = load_manifest(echo) if doc is None else doc
    return {r["id"]: r for r in doc.get("runs", []) if r.get("status") in ("ok", "skipped") and r.get("key")}


def _up_to_date(run: Run, key: str, before: dict[str, dict], cache: files.HashCache | None = None) -> bool:
    """True when the last successful run had the same key and every output it recorded exists with its hash."""
    prev = before.get(run.id)
    if not prev or prev.get("key") != key or not prev.get("executed"):
        return False
    outputs = prev.get("outputs") or {}
    if not outputs:
        return False
    cache = cache or files.HashCache()
    return all(cache.get(output_path(name)) == sha for name, sha in outputs.items())


def expected_seconds(runs: list[Run], before: dict[str, dict]) -> dict[str, float]:
    """How long each run is expected to take: its own last recorded time, else the mean recorded time
    of the same notebook with other parameters (a new round's clean takes about as long as the others).
    Runs with neither are left out: they have never been timed."""
    timed = {}
    for i, r in before.items():
        try:
            if r.get("seconds"):
                timed[i] = float(r["seconds"])
        except (TypeError, ValueError):
            continue
    by_notebook: dict[str, list[float]] = {}
    for i, r in before.items():
        if i in timed:
            by_notebook.setdefault(r.get("notebook", ""), []).append(timed[i])
    expected = {}
    for r in runs:
        if r.id in timed:
            expected[r.id] = timed[r.id]
        elif r.notebook in by_notebook:
            expected[r.id] = sum(by_notebook[r.notebook]) / len(by_notebook[r.notebook])
    return expected


def start_order(
    ready: list[Run], pending: list[Run], finished: set[str], runs: list[Run], expected: dict[str, float]
) -> list[Run]:
    """The order in which ready runs get free workers.

    1. Runs that are the last missing need of other pending runs, the most such runs first: cleaning
       a round whose neighbour is cleaned opens a comparison, so both workers keep having work.
    2. Never-timed runs (they may be long, and their errors show early), then the longest expected:
       a long run started last would run alone at the end.
    3. The deepest in the dependency graph (a comparison before another round's cleaning), then
       config order.
    With 4 rounds on 2 workers this takes the 4 cleans and 3 comparisons from 19.5 s to about 16 s
    (config order leaves the last comparison running alone; benchmarks/README.md).
    """
    by_id = {r.id: r for r in runs}
    depth: dict[str, int] = {}

    def depth_of(run_id: str) -> int:
        if run_id not in depth:
            needs = [n for n in by_id[run_id].needs if n in by_id]
            depth[run_id] = 1 + max(map(depth_of, needs)) if needs else 0
        return depth[run_id]

    def opens(run: Run) -> int:
        return sum(
            run.id in p.needs and all(n in finished or n == run.id or n not in by_id for n in p.needs) for p in pending
        )

    index = {r.id: i for i, r in enumerate(runs)}
    return sorted(ready, key=lambda r: (-opens(r), -expected.get(r.id, float("inf")), -depth_of(r.id), index[r.id]))


# --- execution ---------------------------------------------------------------------------------


class Stopped(BaseException):
    """SIGTERM or SIGINT reached the pipeline (raised in the main thread by its signal handler)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupted(RuntimeError):
    """The pipeline stopped early (a signal, or an output folder that cannot be written); ``outcomes``
    holds what finished and what was cut off, ``exit_code`` the code for the command."""

    def __init__(self, message: str, outcomes: list[Outcome], exit_code: int):
        super().__init__(message)
        self.outcomes, self.exit_code = outcomes, exit_code


def _import_papermill():
    """papermill, imported without ``rfc3987_syntax``.

    nbformat validates notebooks with jsonschema, whose format checkers import rfc3987_syntax when
    it is installed (JupyterLab's dependencies install it); that import builds about 35 Lark parsers
    for the IRI formats and costs about 1.3 s in every pipeline process (python-jsonschema/jsonschema#1428).
    The notebook schema uses no IRI format, so jsonschema is told the package is absent, in the
    pipeline's own processes only (kernels and JupyterLab are not touched).
    """
    if "jsonschema._format" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules makes `import` raise ImportError
    import papermill
    import papermill.engines

    if papermill.engines.NotebookExecutionManager is not _final_save_manager():
        papermill.engines.NotebookExecutionManager = _final_save_manager()
    return papermill


SAVE_EVERY_SECONDS = 30.0  # while a notebook runs, its executed copy is rewritten at most this often


@functools.lru_cache(maxsize=1)
def _final_save_manager():
    """papermill's NotebookExecutionManager, saving the executed notebook when it ends, not at every cell.

    papermill rewrites the whole output notebook when the notebook starts and when each cell starts
    and ends: some 80 writes of a growing file (figures inline) per notebook, 0.5-1 s of a run. The
    pipeline writes into a hidden temporary file that replaces ``reports/executed/<id>.ipynb`` only when
    the run ends, so nobody sees those intermediate copies. This manager saves when the notebook ends
    (papermill calls ``notebook_complete`` in a ``finally``, so a failed, killed or timed-out notebook is
    saved with what ran, as before) and otherwise at most every ``SAVE_EVERY_SECONDS``. Set on
    ``papermill.engines`` in the pipeline's own processes (workers), like the rfc3987 switch above.
    """
    from papermill.engines import NotebookExecutionManager

    class FinalSaveManager(NotebookExecutionManager):
        def save(self, **kwargs):
            if (self.now() - self.last_save_time).total_seconds() >= SAVE_EVERY_SECONDS:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs):
            super().notebook_complete(**kwargs)
            NotebookExecutionManager.save(self)  # always: the executed copy is complete

    return FinalSaveManager


_KERNEL_MANAGER = None


def kernel_manager_class():
    """The kernel manager papermill uses for pipeline runs (made once per process).

    * IPC transport, its sockets in a private temporary folder per kernel: no TCP ports, so kernels
      started in parallel cannot race for one (``ZMQError: Address already in use`` from a heartbeat),
      and ipykernel's "running over TCP without encryption" warning does not apply.
    * No interrupt before shutdown: jupyter_client sends SIGINT before asking a kernel to shut down,
      which ipykernel logs as an ERROR "KeyboardInterrupt caught in kernel" after a run that succeeded.
    """
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is None:
        from jupyter_client import AsyncKernelManager
        from traitlets import default

        class PipelineKernelManager(AsyncKernelManager):
            @default("transport")
            def _transport_default(self):
                return "ipc"

            @default("ip")
            def _ip_default(self):
                self._ipc_dir = tempfile.mkdtemp(prefix="bs-kernel-")
                return os.path.join(self._ipc_dir, "k")

            async def _async_interrupt_kernel(self):
                if getattr(self, "shutting_down", False):
                    return
                await super()._async_interrupt_kernel()

            async def _async_cleanup_resources(self, restart: bool = False):
                await super()._async_cleanup_resources(restart=restart)
                if not restart and getattr(self, "_ipc_dir", None):
                    shutil.rmtree(self._ipc_dir, ignore_errors=True)

        _KERNEL_MANAGER = PipelineKernelManager
    return _KERNEL_MANAGER


def _stop_children(grace: float = 5.0) -> None:
    """Terminate every descendant of this process (workers, kernels), then kill what is left after ``grace`` s."""
    import psutil

    try:
        procs = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=2)


def _worker_exit(signum, frame):
    _stop_children(grace=2)
    os._exit(128 + signum)


def _worker_init() -> None:
    """In each worker process: Ctrl-C is the main process's to handle (it reaches the whole process
    group), SIGTERM stops the worker's kernel and exits, and the worker gets SIGTERM if the main
    process dies (even by SIGKILL), so no worker outlives the command."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_exit)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(143)


def _write_error(exc: OSError) -> str:
    """'cannot write in <folder>: No space left on device' from an OSError of a write."""
    where = Path(exc.filename).parent if getattr(exc, "filename", None) else None
    cause = exc.strerror or str(exc)
    return f"cannot write in {paths.relative(where) if where else 'an output folder'}: {cause}"


def execute(
    run: Run,
    kernel: str,
    timeout: int,
    key: str = "",
    reads: tuple[str, ...] = (),
    cell_timeout: int | None = None,
    config: str = "",
) -> Outcome:
    """Execute one notebook with papermill (in a worker process); the executed copy keeps any error visible.

    The notebook sees its run id and the runs it reads in the environment (helpers.core.paths). papermill
    writes into a temporary file that replaces ``reports/executed/<id>.ipynb`` only when it is
    complete; ``timeout`` bounds the whole notebook (its kernel is stopped), ``cell_timeout`` each cell.
    """
    pm = _import_papermill()

    out = paths.executed() / f"{run.id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{run.id}.{os.getpid()}.tmp.ipynb")
    saved = {k: os.environ.get(k) for k in (paths.RUN_ID_ENV, paths.READS_ENV, paths.CONFIG_ENV)}
    os.environ[paths.RUN_ID_ENV] = run.id
    os.environ[paths.READS_ENV] = ",".join(reads)
    if config:
        os.environ[paths.CONFIG_ENV] = str(Path(config).resolve())  # the kernel's working folder is notebooks/
    timed_out = threading.Event()

    def stop_kernel():
        timed_out.set()
        _stop_children(grace=2)  # papermill then ends with DeadKernelError and saves what ran

    timer = threading.Timer(timeout, stop_kernel)
    timer.daemon = True
    start = time.perf_counter()
    status, error = "ok", ""
    timer.start()
    try:
        pm.execute_notebook(
            str(notebook_path(run)),
            str(tmp),
            parameters=run.parameters,
            kernel_name=kernel,
            cwd=str(paths.notebooks()),
            execution_timeout=cell_timeout or timeout,
            progress_bar=False,
            kernel_manager_class=kernel_manager_class(),
            # every cell has replied and its outputs are in the notebook: stop the kernel at once
            # instead of asking it to shut down and polling until it has (0.3 s per run)
            shutdown_kernel="immediate",
        )
    except pm.PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {exc.evalue}"
    except OSError as exc:
        status, error = "failed", _write_error(exc)
    except Exception as exc:  # kernel died, timeout, missing kernel: still a failed run, named
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        timer.cancel()
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    if timed_out.is_set():
        status, error = (
            "failed",
            f"timed out: the notebook ran longer than timeout_seconds = {timeout} s (a limit on the whole notebook)",
        )
    html = nb = None
    try:
        if tmp.exists():
            from helpers.outputs.reports import relative_papermill_paths

            nb = relative_papermill_paths(tmp)  # papermill records absolute paths; outputs name none
            os.replace(tmp, out)
        html = _export_html(out, nb) if out.exists() and tmp.parent.exists() else None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        status, error = "failed", _write_error(exc)
    return Outcome(
        run.id,
        run.notebook,
        run.parameters,
        status,
        round(time.perf_counter() - start, 2),
        paths.relative(out) if out.exists() else "",
        paths.relative(html) if html else "",
        error,
        key,
    )


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """One nbconvert HTMLExporter per process: a new one loads and compiles its Jinja templates again
    (about 0.3 s per notebook)."""
    from nbconvert import HTMLExporter

    return HTMLExporter()


def _export_html(notebook: Path, nb=None) -> Path:
    """``notebook`` as HTML beside it; ``nb``: the notebook already read (else it is read from the file)."""
    import nbformat

    body, _ = _html_exporter().from_notebook_node(nb if nb is not None else nbformat.read(notebook, as_version=4))
    return files.write_text(notebook.with_suffix(".html"), body)


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def ancestors(run: Run, by_id: dict[str, Run]) -> list[str]:
    """The runs a run needs, directly or through other needs (whose processed outputs it may read)."""
    seen: list[str] = []
    stack = list(run.needs)
    while stack:
        n = stack.pop(0)
        if n not in seen and n in by_id:
            seen.append(n)
            stack.extend(by_id[n].needs)
    return seen


def run(
    config: Path | None = None,
    only: list[str] | None = None,
    rounds: list[int] | None = None,
    force: bool = False,
    workers: int | None = None,
    echo=print,
    wait: float = 0.0,
    progress=None,
) -> list[Outcome]:
    """Run the selected notebooks (skipping those up to date unless ``force``), record each as it ends, return outcomes.

    ``progress`` (a ``helpers.running.progress.Progress``, optional) is told the plan, and when each run
    starts and ends.

    Holds the lock of the output folders throughout (lock.LockHeld when another run holds it). On
    SIGTERM/SIGINT, or when an output folder cannot be written, stops workers and kernels and raises
    ``Interrupted`` with what finished; the run manifest already holds every finished run.
    """
    cfg = load_config(config)
    todo = order(select(cfg.runs, only, rounds))
    workers = max(1, workers or cfg.workers)
    started = dt.datetime.now(dt.UTC)
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {s: signal.signal(s, _raise_stopped) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with lock.hold([paths.reports(), paths.processed_root()], wait=wait, echo=echo):
            try:
                cache = files.HashCache(paths.reports() / HASH_CACHE, base=paths.root())
                recorded = previous_runs(echo)
                inputs = input_hashes(cache)
                entries = provenance.load()
                static = static_keys(cfg.runs, cfg, inputs, code_hash(cache), cache, entries)
                git = _git_state()
                _warn_changed_notebooks(todo, echo)
                sweep_stale(cfg, echo)
                manifest = RunManifest(cfg, started, inputs, recorded, git, entries)
            except OSError as exc:
                raise Interrupted(f"{_write_error(exc)}; nothing was run", [], 1) from None
            outcomes = _schedule(
                todo,
                cfg,
                static,
                {} if force else recorded,
                workers,
                expected_seconds(todo, recorded),
                echo,
                manifest,
                cache,
                progress,
            )
            cache.save()
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    return [outcomes[r.id] for r in todo]


def _schedule(
    todo: list[Run],
    cfg: Config,
    static: dict,
    before: dict,
    workers: int,
    expected: dict,
    echo,
    manifest: RunManifest | None = None,
    cache: files.HashCache | None = None,
    progress=None,
) -> dict[str, Outcome]:
    """Start runs whose needs succeeded, up to ``workers`` at a time, in ``start_order``; block those whose needs
    failed.
    """
    cache = cache or files.HashCache()
    outcomes: dict[str, Outcome] = {}
    selected = {r.id for r in todo}
    by_id = {r.id: r for r in cfg.runs}
    keys: dict[str, str] = {}
    pending, running = list(todo), {}
    t0 = time.perf_counter()
    if progress is not None:
        progress.plan([r.id for r in todo], expected, workers)

    def record(o: Outcome):
        r = by_id[o.id]
        o.effective_parameters = o.effective_parameters or effective_parameters(r)
        o.reads = o.reads or {
            **static[r.id][1],
            **{k: v for n in r.needs if n in outcomes for k, v in processed_outputs(outcomes[n]).items()},
        }
        if o.status in ("ok", "failed"):
            o.outputs = collect_outputs(o.id, cache)
        o.finished = o.finished or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        outcomes[o.id] = o
        if manifest is not None:
            manifest.put(o, defer=o.status == "skipped")  # nothing ran: written with the next record or at the end
        took = f" in {o.seconds:.1f} s" if o.status in ("ok", "failed") else ""
        echo(
            f"[{len(outcomes)}/{len(todo)} {time.perf_counter() - t0:6.1f}s] {o.id}: {o.status}{took}"
            + (f" -> {o.error}" if o.error else "")
        )
        if progress is not None:
            progress.finished(o.id, o.status)

    def start(r: Run):
        pending.remove(r)
        if progress is not None:
            progress.started(r.id)
        clear_outputs(r.id)
        if manifest is not None:
            manifest.put(Outcome(r.id, r.notebook, r.parameters, "running", key=keys[r.id]), quiet=True)
        return (
            r,
            cfg.kernel,
            cfg.timeout_seconds,
            keys[r.id],
            tuple(ancestors(r, by_id)),
            cfg.cell_timeout_seconds,
            str(cfg.path),
        )

    def settle() -> list[Run]:
        """Record blocked and up-to-date runs (in dependency order, so chains settle in one pass); return runs ready to
        start.
        """
        ready = []
        for r in list(pending):
            needs = [n for n in r.needs if n in selected]
            if any(n not in outcomes for n in needs):
                continue  # waits for its needs
            bad = [n for n in needs if outcomes[n].status not in ("ok", "skipped")]
            keys[r.id] = final_key(static[r.id][0], {n: processed_outputs(outcomes[n]) for n in needs})
            if bad:
                record(
                    Outcome(
                        r.id,
                        r.notebook,
                        r.parameters,
                        "blocked",
                        error=f"not run: {', '.join(bad)} did not succeed",
                        key=keys[r.id],
                    )
                )
            elif _up_to_date(r, keys[r.id], before, cache):
                prev = before[r.id]
                record(
                    Outcome(
                        r.id,
                        r.notebook,
                        r.parameters,
                        "skipped",
                        prev.get("seconds", 0.0),
                        prev["executed"],
                        prev.get("html", ""),
                        key=keys[r.id],
                        outputs=dict(prev["outputs"]),
                        finished=prev.get("finished", ""),
                    )
                )
            else:
                ready.append(r)
                continue
            pending.remove(r)
        return start_order(ready, pending, set(outcomes), todo, expected)

    pool = None
    try:
        while pending or running:
            ready = settle()
            if workers == 1 and ready:
                r = ready[0]
                echo(f"[{len(outcomes)}/{len(todo)}] {r.id}: running {r.notebook} {r.parameters or ''}".rstrip())
                running = {None: r}
                record(execute(*start(r)))
                running = {}
                continue
            for r in ready[: workers - len(running)]:
                if pool is None:
                    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
                echo(f"[{len(outcomes)}/{len(todo)}] {r.id}: started {r.notebook} {r.parameters or ''}".rstrip())
                running[pool.submit(execute, *start(r))] = r
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    r = running.pop(fut)
                    try:
                        record(fut.result())
                    except Exception as exc:  # the worker process itself died
                        record(
                            Outcome(
                                r.id,
                                r.notebook,
                                r.parameters,
                                "failed",
                                error=f"{type(exc).__name__}: {exc}",
                                key=keys[r.id],
                            )
                        )
    except (Stopped, OSError) as exc:
        for s in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):
                signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        _stop_children()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        why = f"stopped by {exc}" if isinstance(exc, Stopped) else _write_error(exc)
        for r in list(running.values()) + [r for r in pending]:
            o = Outcome(
                r.id,
                r.notebook,
                r.parameters,
                "interrupted" if r in running.values() else "not started",
                error=why,
                key=keys.get(r.id, ""),
            )
            outcomes[o.id] = o
            if manifest is not None and r in running.values():
                with contextlib.suppress(OSError):
                    manifest.put(o, quiet=True)
        with contextlib.suppress(OSError):
            files.remove_temporaries(paths.executed())
        code = 128 + exc.signum if isinstance(exc, Stopped) else 1
        finished = [outcomes[r.id] for r in todo if r.id in outcomes]
        raise Interrupted(why, finished, code) from None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if manifest is not None:
        manifest.write()
    return outcomes


def _warn_changed_notebooks(runs: list[Run], echo=print) -> list[str]:
    """Warn about source notebooks that differ from the committed version (git): they are inputs, and
    JupyterLab saves outputs and edited parameter defaults into the notebook it opened."""
    root = paths.root().resolve()
    nbs = sorted(
        {
            os.fspath(notebook_path(r).resolve().relative_to(root))
            for r in runs
            if notebook_path(r).resolve().is_relative_to(root)
        }
    )
    if not nbs:
        return []
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", *nbs], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    changed = [line[3:].strip() for line in out.splitlines() if len(line) > 3]
    for path in changed:
        echo(
            f"warning: {path} differs from the committed version; this run uses it as it is. A source notebook is an "
            f"input: outputs or edited parameter defaults saved into it change the results (`git diff {path}` shows "
            "what, "
            f"`git checkout {path}` restores it)"
        )
    return changed


# --- the run manifest --------------------------------------------------------------------------


class RunManifest:
    """reports/run_manifest.json, rewritten atomically whenever a run starts or ends (so a crash loses
    nothing that finished). Records of earlier runs of the config that this run does not touch are kept."""

    def __init__(
        self,
        cfg: Config,
        started: dt.datetime,
        inputs: dict[str, str],
        recorded: dict[str, dict],
        git: dict,
        entries: dict | None = None,
    ):
        self.cfg, self.started, self.inputs, self.git = cfg, started, inputs, git
        ids = [r.id for r in cfg.runs]
        self.records = {i: recorded[i] for i in ids if i in recorded}
        entries = provenance.load() if entries is None else entries
        self.synthetic = sorted(rel for rel, e in entries.items() if e.synthetic)
        self.packages = {p: _version(p) for p in KEY_PACKAGES}
        self.config_sha = files.sha256(cfg.path)

    def put(self, outcome: Outcome, quiet: bool = False, defer: bool = False) -> Path | None:
        """Record a run (replacing its earlier record) and rewrite the manifest, unless ``defer``."""
        self.records[outcome.id] = asdict(outcome)
        return None if defer else self.write()

    def write(self) -> Path:
        order_ = {r.id: i for i, r in enumerate(self.cfg.runs)}
        doc = {
            "started": self.started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git": self.git,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": self.packages,
            "config": {
                "path": paths.relative(self.cfg.path),
                "sha256": self.config_sha,
                "kernel": self.cfg.kernel,
                "rounds": {str(k): v for k, v in self.cfg.rounds.items()},
            },
            "inputs": self.inputs,
            "synthetic_inputs": self.synthetic,
            "runs": sorted(self.records.values(), key=lambda r: order_.get(r["id"], len(order_))),
        }
        return files.write_json(paths.reports() / MANIFEST, doc)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_state() -> dict:
    def git(*args):
        try:
            return subprocess.run(
                ["git", *args], cwd=paths.root(), capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def summary(outcomes: list[Outcome]) -> tuple[str, int]:
    """A closing summary for the terminal and the exit code (non-zero when anything failed, was blocked or cut off)."""
    bad = [o for o in outcomes if o.status not in ("ok", "skipped")]
    n_skip = sum(o.status == "skipped" for o in outcomes)
    lines = [f"{len(outcomes) - len(bad)} of {len(outcomes)} notebook runs succeeded ({n_skip} up to date, skipped)."]
    for o in bad:
        where = f" (see {o.executed})" if o.executed else ""
        lines.append(f"  {o.status.upper()}: {o.id}{where}: {o.error}")
    lines.append(f"Run manifest: {paths.relative(paths.reports() / MANIFEST)}")
    return "\n".join(lines), (1 if bad else 0)
