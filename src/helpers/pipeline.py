"""Run the notebooks of config/pipeline.yaml with papermill: in dependency order, in parallel, incrementally.

The config lists the survey ``rounds``, fixed ``runs``, and templates expanded for every round
(``per_round``) and for pairs of rounds (``per_pair``: consecutive rounds, or
all pairs). Each run executes one source notebook with its parameters into
``reports/executed/<id>.ipynb`` plus an HTML copy. A run whose ``needs`` failed is not started
("blocked"); independent runs go on. A run is skipped when its key (a hash of the notebook, its
parameters, its inputs, the helper code and the keys of what it needs; see ``run_keys``) equals the
key of its last successful run. ``reports/run_manifest.json`` records the git commit, package versions,
parameters, input sha256s, and each run's key, status and time. When several runs are ready and a
worker is free, ``start_order`` picks: first what opens further work, then the longest expected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import yaml

from . import files, paths, provenance

KEY_PACKAGES = ["pandas", "numpy", "geopandas", "statsmodels", "pandera", "papermill", "matplotlib", "seaborn", "nbconvert", "ipykernel"]
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
    status: str  # ok | skipped (up to date) | failed | blocked
    seconds: float = 0.0
    executed: str = ""
    html: str = ""
    error: str = ""
    key: str = ""


@dataclass
class Config:
    kernel: str
    timeout_seconds: int
    workers: int
    runs: list[Run]
    path: Path
    rounds: dict[int, dict]


# --- configuration -----------------------------------------------------------------------------

def _read_yaml(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)}); "
                          "quote values that contain {{placeholders}} or start with a digit") from None


def load_rounds(path: Path | None = None) -> dict[int, dict]:
    """Survey rounds, the ``rounds`` section of the pipeline config: year -> {input_path (under data/raw), codebook}."""
    path = Path(path or paths.config() / "pipeline.yaml")
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
        raise ConfigError(f"{where} lacks {sorted(missing)}; each run needs id, notebook, optional parameters and needs")
    if values:
        try:
            item = _fill(item, values)
        except KeyError as exc:
            raise ConfigError(f"{where}: unknown placeholder {exc}; accepted: {sorted(values)}") from None
    return Run(str(item["id"]), str(item["notebook"]), dict(item.get("parameters") or {}),
               [str(n) for n in item.get("needs") or []], rounds)


def pairs(years: list[int], mode: str) -> list[tuple[int, int]]:
    if mode == "consecutive":
        return list(zip(years, years[1:]))
    if mode == "all":
        return list(itertools.combinations(years, 2))
    raise ConfigError(f"pairs: {mode!r}; accepted: consecutive, all")


def expand(doc: dict, rounds: dict[int, dict], where: str) -> list[Run]:
    """Fixed runs, then per-round templates for every round, then per-pair templates."""
    runs = [_make_run(item, f"{where}: run {i}") for i, item in enumerate(doc.get("runs") or [], start=1)]
    for r in runs:  # a fixed run's need naming {year} stands for that run of every round (05_export_data)
        r.needs = [n.replace("{year}", str(y)) for n in r.needs for y in (rounds if "{year}" in n else [None])]
    for year, spec in rounds.items():
        for item in doc.get("per_round") or []:
            runs.append(_make_run(item, f"{where}: per_round", {"year": year, **spec}, (year,)))
    for a, b in pairs(list(rounds), doc.get("pairs", "consecutive")):
        for item in doc.get("per_pair") or []:
            runs.append(_make_run(item, f"{where}: per_pair", {"year_a": a, "year_b": b}, (a, b)))
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
    workers = doc.get("workers", "auto")
    workers = os.cpu_count() or 1 if workers == "auto" else int(workers)
    cfg = Config(doc.get("kernel", paths.KERNEL_NAME), int(doc.get("timeout_seconds", 1200)), workers, runs, path, rounds)
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

def code_hash() -> str:
    """One hash over the helper package's source: a change in any helper re-runs every notebook."""
    h = hashlib.sha256()
    for f in sorted((paths.root() / "src" / "helpers").rglob("*.py")):
        h.update(f.relative_to(paths.root()).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


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


def run_keys(runs: list[Run], cfg: Config, inputs: dict[str, str], code: str) -> dict[str, str]:
    """A content key per run: notebook bytes, parameters, kernel, its inputs, helper code, keys of its needs.

    Its inputs are the files its parameters name (a round's export and codebook: see ``named_files``)
    and every other input, shared by all runs: the raw files no run names (reference data, usage)
    and config/ apart from pipeline.yaml and the codebooks (the municipality aliases). So a new
    round's export and codebook, or an edit to one round's codebook, re-run only that round's runs
    and what needs them.
    """
    named = {r.id: named_files(r) for r in runs}
    owned = {k.removeprefix("raw:") for n in named.values() for k in n if k.startswith("raw:")}
    config_files = sorted(f for f in paths.config().rglob("*") if f.is_file() and f.parent != paths.codebooks()
                          and f.name != "pipeline.yaml" and f.suffix in (".yaml", ".yml"))
    shared_inputs = {rel: sha for rel, sha in inputs.items() if rel not in owned}
    shared_config = {f.relative_to(paths.config()).as_posix(): files.sha256(f) for f in config_files}
    shared = hashlib.sha256(json.dumps([shared_inputs, shared_config, code, cfg.kernel], sort_keys=True).encode()).hexdigest()
    keys: dict[str, str] = {}
    for r in order(runs):
        h = hashlib.sha256(shared.encode())
        h.update(notebook_path(r).read_bytes())
        h.update(json.dumps(r.parameters, sort_keys=True, default=str).encode())
        own = {}
        for k, f in named[r.id].items():
            recorded = inputs.get(k.removeprefix("raw:")) if k.startswith("raw:") else None  # manifest sha256
            own[k] = recorded or (files.sha256(f) if f.is_file() else "missing")
        h.update(json.dumps(own, sort_keys=True).encode())
        for n in r.needs:
            h.update(keys.get(n, n).encode())
        keys[r.id] = h.hexdigest()
    return keys


def previous_runs() -> dict[str, dict]:
    """Successful runs recorded by earlier pipeline runs, by id (carried forward across runs)."""
    f = paths.reports() / MANIFEST
    if not f.is_file():
        return {}
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return {r["id"]: r for r in doc.get("runs", []) if r.get("status") in ("ok", "skipped") and r.get("key")}


def _up_to_date(run: Run, key: str, before: dict[str, dict]) -> bool:
    """True when the last successful run had the same key and its executed notebook still exists."""
    prev = before.get(run.id)
    return bool(prev and prev["key"] == key and prev.get("executed") and (paths.root() / prev["executed"]).is_file())


def expected_seconds(runs: list[Run], before: dict[str, dict]) -> dict[str, float]:
    """How long each run is expected to take: its own last recorded time, else the mean recorded time
    of the same notebook with other parameters (a new round's clean takes about as long as the others).
    Runs with neither are left out: they have never been timed."""
    timed = {i: float(r["seconds"]) for i, r in before.items() if r.get("seconds")}
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


def start_order(ready: list[Run], pending: list[Run], finished: set[str], runs: list[Run], expected: dict[str, float]) -> list[Run]:
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
        return sum(run.id in p.needs and all(n in finished or n == run.id or n not in by_id for n in p.needs) for p in pending)

    index = {r.id: i for i, r in enumerate(runs)}
    return sorted(ready, key=lambda r: (-opens(r), -expected.get(r.id, float("inf")), -depth_of(r.id), index[r.id]))


# --- execution ---------------------------------------------------------------------------------

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

    return papermill


def execute(run: Run, kernel: str, timeout: int, key: str = "") -> Outcome:
    """Execute one notebook with papermill (in a worker process); the executed copy keeps any error visible."""
    pm = _import_papermill()

    out = paths.executed() / f"{run.id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        pm.execute_notebook(str(notebook_path(run)), str(out), parameters=run.parameters, kernel_name=kernel,
                            cwd=str(paths.notebooks()), execution_timeout=timeout, progress_bar=False)
    except pm.PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, timeout, missing kernel: still a failed run, named
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    html = _export_html(out) if out.exists() else None
    return Outcome(run.id, run.notebook, run.parameters, status, round(time.perf_counter() - start, 2),
                   paths.relative(out) if out.exists() else "", paths.relative(html) if html else "", error, key)


def _export_html(notebook: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    return files.write_text(notebook.with_suffix(".html"), body)


def run(config: Path | None = None, only: list[str] | None = None, rounds: list[int] | None = None,
        force: bool = False, workers: int | None = None, echo=print) -> list[Outcome]:
    """Run the selected notebooks (skipping those up to date unless ``force``), write the manifest, return outcomes."""
    cfg = load_config(config)
    todo = order(select(cfg.runs, only, rounds))
    inputs = provenance.input_hashes()
    keys = run_keys(cfg.runs, cfg, inputs, code_hash())
    recorded = previous_runs()
    before = {} if force else recorded
    workers = max(1, workers or cfg.workers)
    started = dt.datetime.now(dt.timezone.utc)
    outcomes = _schedule(todo, cfg, keys, before, workers, expected_seconds(todo, recorded), echo)
    write_manifest(cfg, outcomes, started, inputs)
    return [outcomes[r.id] for r in todo]


def _schedule(todo: list[Run], cfg: Config, keys: dict, before: dict, workers: int, expected: dict, echo) -> dict[str, Outcome]:
    """Start runs whose needs succeeded, up to ``workers`` at a time, in ``start_order``; block those whose needs failed."""
    outcomes: dict[str, Outcome] = {}
    selected = {r.id for r in todo}
    pending, running = list(todo), {}
    t0 = time.perf_counter()

    def record(o: Outcome):
        outcomes[o.id] = o
        took = f" in {o.seconds:.1f} s" if o.status in ("ok", "failed") else ""
        echo(f"[{len(outcomes)}/{len(todo)} {time.perf_counter() - t0:6.1f}s] {o.id}: {o.status}{took}" + (f" -> {o.error}" if o.error else ""))

    def settle() -> list[Run]:
        """Record blocked and up-to-date runs (in dependency order, so chains settle in one pass); return runs ready to start."""
        ready = []
        for r in list(pending):
            needs = [n for n in r.needs if n in selected]
            if any(n not in outcomes for n in needs):
                continue  # waits for its needs
            bad = [n for n in needs if outcomes[n].status not in ("ok", "skipped")]
            if bad:
                record(Outcome(r.id, r.notebook, r.parameters, "blocked", error=f"not run: {', '.join(bad)} did not succeed", key=keys[r.id]))
            elif _up_to_date(r, keys[r.id], before):
                prev = before[r.id]
                record(Outcome(r.id, r.notebook, r.parameters, "skipped", prev.get("seconds", 0.0), prev["executed"], prev.get("html", ""), key=keys[r.id]))
            else:
                ready.append(r)
                continue
            pending.remove(r)
        return start_order(ready, pending, set(outcomes), todo, expected)

    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        while pending or running:
            ready = settle()
            if pool is None and ready:
                r = ready[0]
                pending.remove(r)
                echo(f"[{len(outcomes)}/{len(todo)}] {r.id}: running {r.notebook} {r.parameters or ''}".rstrip())
                record(execute(r, cfg.kernel, cfg.timeout_seconds, keys[r.id]))
                continue
            for r in ready[:workers - len(running)]:
                pending.remove(r)
                echo(f"[{len(outcomes)}/{len(todo)}] {r.id}: started {r.notebook} {r.parameters or ''}".rstrip())
                running[pool.submit(execute, r, cfg.kernel, cfg.timeout_seconds, keys[r.id])] = r
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    r = running.pop(fut)
                    try:
                        record(fut.result())
                    except Exception as exc:  # the worker process itself died
                        record(Outcome(r.id, r.notebook, r.parameters, "failed", error=f"{type(exc).__name__}: {exc}", key=keys[r.id]))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return outcomes


# --- the run manifest --------------------------------------------------------------------------

def write_manifest(cfg: Config, outcomes: dict[str, Outcome], started: dt.datetime, inputs: dict[str, str]) -> Path:
    """Write reports/run_manifest.json; earlier successful runs not part of this run are carried forward."""
    carried = {i: r for i, r in previous_runs().items() if i not in outcomes and i in {x.id for x in cfg.runs}}
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": _git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in KEY_PACKAGES},
        "config": {"path": paths.relative(cfg.path), "sha256": files.sha256(cfg.path), "kernel": cfg.kernel,
                   "rounds": {str(k): v for k, v in cfg.rounds.items()}},
        "inputs": inputs,
        "synthetic_inputs": sorted(rel for rel, e in provenance.load().items() if e.synthetic),
        "runs": [asdict(o) for o in outcomes.values()] + list(carried.values()),
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
            return subprocess.run(["git", *args], cwd=paths.root(), capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def summary(outcomes: list[Outcome]) -> tuple[str, int]:
    """A closing summary for the terminal and the exit code (non-zero when anything failed or was blocked)."""
    bad = [o for o in outcomes if o.status in ("failed", "blocked")]
    n_skip = sum(o.status == "skipped" for o in outcomes)
    lines = [f"{len(outcomes) - len(bad)} of {len(outcomes)} notebook runs succeeded ({n_skip} up to date, skipped)."]
    for o in bad:
        where = f" (see {o.executed})" if o.executed else ""
        lines.append(f"  {o.status.upper()}: {o.id}{where}: {o.error}")
    lines.append(f"Run manifest: {paths.relative(paths.reports() / MANIFEST)}")
    return "\n".join(lines), (1 if bad else 0)
