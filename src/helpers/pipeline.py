"""Run the notebooks listed in config/pipeline.yaml with papermill, and record what was run.

Each run executes one source notebook with its parameters into ``reports/executed/<id>.ipynb``
plus an HTML copy. A run whose ``needs`` failed is not started ("blocked"). The run manifest
(``reports/run_manifest.json``) records the git commit, package versions, parameters, input
sha256s and each run's status and time, so a result can be traced to what made it.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import yaml

from . import files, paths, provenance

KEY_PACKAGES = ["pandas", "numpy", "geopandas", "statsmodels", "pandera", "papermill", "matplotlib", "seaborn", "mapclassify", "nbconvert", "ipykernel"]


class ConfigError(ValueError):
    """config/pipeline.yaml is not usable; the message says where and what is accepted."""


@dataclass
class Run:
    id: str
    notebook: str
    parameters: dict = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    id: str
    notebook: str
    parameters: dict
    status: str  # ok | failed | blocked
    seconds: float = 0.0
    executed: str = ""
    html: str = ""
    error: str = ""


@dataclass
class Config:
    kernel: str
    timeout_seconds: int
    runs: list[Run]
    path: Path


def load_config(path: Path | None = None) -> Config:
    """Read and check the pipeline config: unique ids, existing notebooks, known needs, no cycles."""
    path = Path(path or paths.config() / "pipeline.yaml")
    if not path.is_file():
        raise ConfigError(f"{path}: pipeline config not found")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    runs = []
    for i, item in enumerate(doc.get("runs") or [], start=1):
        missing = {"id", "notebook"} - set(item)
        if missing:
            raise ConfigError(f"{path}: run {i} lacks {sorted(missing)}; each run needs id, notebook, optional parameters and needs")
        runs.append(Run(str(item["id"]), item["notebook"], dict(item.get("parameters") or {}), [str(n) for n in item.get("needs") or []]))
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
    cfg = Config(doc.get("kernel", paths.KERNEL_NAME), int(doc.get("timeout_seconds", 1200)), runs, path)
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


def select(runs: list[Run], only: list[str] | None) -> list[Run]:
    """The runs named in ``only`` (ids or id prefixes) plus everything they need."""
    if not only:
        return runs
    by_id = {r.id: r for r in runs}
    chosen = {r.id for r in runs if any(r.id == o or r.id.startswith(o) for o in only)}
    if not chosen:
        raise ConfigError(f"no run matches {only}; known runs: {list(by_id)}")
    stack = list(chosen)
    while stack:
        for need in by_id[stack.pop()].needs:
            if need not in chosen:
                chosen.add(need)
                stack.append(need)
    return [r for r in runs if r.id in chosen]


def execute(run: Run, cfg: Config) -> Outcome:
    """Execute one notebook with papermill; the executed copy keeps any error visible."""
    import papermill as pm

    out = paths.executed() / f"{run.id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        pm.execute_notebook(
            str(notebook_path(run)),
            str(out),
            parameters=run.parameters,
            kernel_name=cfg.kernel,
            cwd=str(paths.notebooks()),
            execution_timeout=cfg.timeout_seconds,
            progress_bar=False,
            report_mode=False,
        )
    except pm.PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, timeout, missing kernel: still a failed run, named
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    html = _export_html(out) if out.exists() else None
    return Outcome(run.id, run.notebook, run.parameters, status, round(time.perf_counter() - start, 2),
                   paths.relative(out) if out.exists() else "", paths.relative(html) if html else "", error)


def _export_html(notebook: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    return files.write_text(notebook.with_suffix(".html"), body)


def run(config: Path | None = None, only: list[str] | None = None, echo=print) -> list[Outcome]:
    """Run the selected notebooks in dependency order, write the run manifest, return the outcomes."""
    cfg = load_config(config)
    todo = order(select(cfg.runs, only))
    outcomes: dict[str, Outcome] = {}
    started = dt.datetime.now(dt.timezone.utc)
    for i, r in enumerate(todo, start=1):
        failed_needs = [n for n in r.needs if n in outcomes and outcomes[n].status != "ok"]
        if failed_needs:
            outcomes[r.id] = Outcome(r.id, r.notebook, r.parameters, "blocked", error=f"not run: needs {failed_needs} did not succeed")
            echo(f"[{i}/{len(todo)}] {r.id}: blocked (needs {', '.join(failed_needs)})")
            continue
        echo(f"[{i}/{len(todo)}] {r.id}: running {r.notebook} {r.parameters or ''}".rstrip())
        o = execute(r, cfg)
        outcomes[r.id] = o
        echo(f"[{i}/{len(todo)}] {r.id}: {o.status} in {o.seconds:.1f} s" + (f" -> {o.error}" if o.error else ""))
    results = list(outcomes.values())
    write_manifest(cfg, results, started)
    return results


def write_manifest(cfg: Config, outcomes: list[Outcome], started: dt.datetime) -> Path:
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": _git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in KEY_PACKAGES},
        "config": {"path": paths.relative(cfg.path), "sha256": files.sha256(cfg.path), "kernel": cfg.kernel},
        "inputs": provenance.input_hashes(),
        "synthetic_inputs": sorted(rel for rel, e in provenance.load().items() if e.synthetic),
        "runs": [asdict(o) for o in outcomes],
    }
    return files.write_json(paths.reports() / "run_manifest.json", doc)


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
    bad = [o for o in outcomes if o.status != "ok"]
    lines = [f"{len(outcomes) - len(bad)} of {len(outcomes)} notebook runs succeeded."]
    for o in bad:
        where = f" (see {o.executed})" if o.executed else ""
        lines.append(f"  {o.status.upper()}: {o.id}{where}: {o.error}")
    lines.append(f"Run manifest: {paths.relative(paths.reports() / 'run_manifest.json')}")
    return "\n".join(lines), (1 if bad else 0)
