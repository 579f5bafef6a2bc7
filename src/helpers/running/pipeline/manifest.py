"""reports/run_manifest.json: what each run was, read back for the next run, and the closing summary.

The manifest records the git commit, package versions, the content hash of each raw file, and per
run (an :class:`Outcome`): key, status, time, injected and effective parameters (notebook defaults
plus injected), what it read and every output with its sha256. It is rewritten atomically whenever a
run starts or ends, so a crash loses nothing that finished.

It is read back field by field (``manifest_problems``): a file that is not a JSON object with a list of
``runs`` is set aside with a warning, and every run re-runs; a run record with a field of the wrong
type (``"executed": 7``, outputs that are not name -> sha256 text) is left out with a warning, so that
run re-runs and no later step (the next run, the report) ever reads it; a top-level field of the
wrong type is left out too. The file as it was is kept as ``run_manifest.json.bad-<time>``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import subprocess
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from helpers.core import files, paths
from helpers.core.vocabulary import RunStatus
from helpers.data import provenance
from helpers.running.pipeline import keys
from helpers.running.pipeline.config import Config

MANIFEST = "run_manifest.json"
SUCCEEDED: tuple[RunStatus, ...] = ("ok", "skipped")  # statuses whose outputs later runs may read
NOT_COVERED: RunStatus = "not covered"  # the run's data do not cover its years: skipped with the reason, not failed
EXECUTED: tuple[RunStatus, ...] = ("ok", "failed", NOT_COVERED)  # runs whose notebook ran (outputs are collected)
FINE: tuple[RunStatus, ...] = (*SUCCEEDED, NOT_COVERED)  # statuses that do not make the command fail
NOT_COVERED_ERROR = "NotCovered"  # the exception (helpers.core.errors.NotCovered) a notebook raises for it


def not_covered(error: str) -> bool:
    """Whether a run's error says its data do not cover its years (the notebook raised NotCovered)."""
    return error.startswith(f"{NOT_COVERED_ERROR}: ")


def reason(error: str) -> str:
    """An error as one line: a DataError's problems joined with "; " (for the terminal and the summary)."""
    lines = [line.strip().removeprefix("- ") for line in error.splitlines() if line.strip()]
    return "; ".join(lines)


@dataclass
class Outcome:
    """One run as recorded: ``id``, ``notebook``, injected ``parameters``, ``status`` (vocabulary.RunStatus:
    ok, skipped = up to date, failed, blocked, running, interrupted, not started), ``seconds``, the
    ``executed`` notebook and its ``html`` (project-relative), ``error``, ``key``, ``effective_parameters``
    (the notebook's defaults overlaid with ``parameters``), ``reads`` (input name -> sha256: raw:,
    manifest:, codebook:, config:, processed/), ``outputs`` (processed/<id>/..., reports/... -> sha256)
    and ``finished`` (UTC, ISO 8601)."""

    id: str
    notebook: str
    parameters: dict
    status: RunStatus
    seconds: float = 0.0
    executed: str = ""
    html: str = ""
    error: str = ""
    key: str = ""
    effective_parameters: dict = field(default_factory=dict)
    reads: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    finished: str = ""


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
        self.packages = {p: keys.package_version(p) for p in keys.KEY_PACKAGES}
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


def git_state() -> dict:
    """The project's git commit and whether tracked files differ from it (None and False outside git)."""

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


REQUIRED = ("id", "status")  # fields a run record cannot do without; the others have defaults
TOP_LEVEL = {  # the manifest's own fields (RunManifest.write), besides ``runs``
    "started": str,
    "finished": str,
    "git": dict,
    "python": str,
    "platform": str,
    "packages": dict,
    "config": dict,
    "inputs": dict[str, str],
    "synthetic_inputs": list[str],
}


def _type_problem(value, kind) -> str:
    """Why ``value`` is not of the type ``kind`` (an Outcome annotation), or ""; hand-written rather than
    pydantic: these are flat JSON values of five kinds, and importing a validation library here would
    cost every warm re-run (issue 28)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Literal:
        return "" if value in args else f"is {json.dumps(value)[:60]}; accepted: {', '.join(args)}"
    if kind is float:
        ok = type(value) in (int, float) and math.isfinite(value) and value >= 0
        return "" if ok else f"is {json.dumps(value)[:60]}; accepted: a number of seconds"
    base = origin or kind
    names = {str: "text", dict: "an object", list: "a list"}
    if type(value) is not base:
        return f"is {json.dumps(value, default=str)[:60]}; accepted: {names.get(base, base.__name__)}"
    if base is dict and args and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return "holds values that are not text; accepted: name -> sha256 text"
    if base is list and args and not all(isinstance(v, str) for v in value):
        return "holds items that are not text; accepted: a list of text"
    return ""


_OUTCOME_TYPES: dict[str, object] = {}


def record_problems(record) -> list[str]:
    """Why a run record (a dict read from the manifest) is not an :class:`Outcome`: one line per field."""
    if not _OUTCOME_TYPES:
        hints = typing.get_type_hints(Outcome, {**globals(), "RunStatus": RunStatus})
        _OUTCOME_TYPES.update({f.name: hints[f.name] for f in fields(Outcome)})
    if not isinstance(record, dict):
        return [f"is {type(record).__name__}, not an object"]
    problems = [f"no {name!r}" for name in REQUIRED if name not in record]
    for name, kind in _OUTCOME_TYPES.items():
        if name in record and (why := _type_problem(record[name], kind)):
            problems.append(f"{name!r} {why}")
    return problems


def manifest_problems(doc) -> tuple[str, dict]:
    """Check a manifest field by field: (why the whole file is unusable or "", the usable part with
    a ``problems`` list naming each record or field that was left out)."""
    if not isinstance(doc, dict):
        return f"holds a {type(doc).__name__}, not an object", {}
    runs = doc.get("runs", [])
    if not isinstance(runs, list):
        return f"'runs' is a {type(runs).__name__}, not a list", {}
    kept, problems = {}, []
    for name, value in doc.items():
        if name in TOP_LEVEL and (why := _type_problem(value, TOP_LEVEL[name])):
            problems.append(f"{name!r} {why}")
        elif name != "runs":
            kept[name] = value
    kept["runs"] = []
    for i, r in enumerate(runs, start=1):
        if why := record_problems(r):
            rid = r.get("id") if isinstance(r, dict) and isinstance(r.get("id"), str) else None
            problems.append(f"run record {i}" + (f" ({rid})" if rid else "") + ": " + ", ".join(why))
        else:
            kept["runs"].append(r)
    kept["problems"] = problems
    return "", kept


def load_manifest(echo=print) -> dict:
    """The previous run manifest, checked field by field (``manifest_problems``).

    A file that cannot be used at all is set aside (logged) and an empty manifest returned. Records
    or fields of the wrong type are left out (logged, each named); the file as it was is set aside
    as ``run_manifest.json.bad-<time>``, and what is left is written back when it holds any run record.
    """
    f = paths.reports() / MANIFEST
    if not f.is_file():
        return {}
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
        fatal, kept = manifest_problems(doc)
    except (ValueError, UnicodeDecodeError) as exc:
        fatal, kept = f"is not valid JSON ({exc})", {}
    problems = kept.pop("problems", [])
    if not fatal and not problems:
        return kept
    aside = f.with_name(f"{MANIFEST}.bad-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}")
    os.replace(f, aside)
    if fatal or not kept["runs"]:
        why = fatal or "; ".join(problems)
        echo(f"warning: {paths.relative(f)} {why}: set aside as {aside.name}; it is rebuilt, and every run re-runs")
        return {}
    files.write_json(f, kept)
    echo(
        f"warning: {paths.relative(f)}: {'; '.join(problems)}: set aside as {aside.name}; "
        "what is of the wrong type is left out (those runs re-run), the rest is kept"
    )
    return kept


def previous_runs(echo=print, doc: dict | None = None) -> dict[str, dict]:
    """Successful runs, and runs whose data did not cover their years, recorded by earlier pipeline runs, by id
    (carried forward across runs: with the same key, a run not covered then is not covered now)."""
    doc = load_manifest(echo) if doc is None else doc
    return {r["id"]: r for r in doc.get("runs", []) if r.get("status") in FINE and r.get("key")}


def summary(outcomes: list[Outcome]) -> tuple[str, int]:
    """A closing summary for the terminal and the exit code (non-zero when anything failed, was blocked or cut off;
    a run whose data do not cover its years is skipped with its reason, and is not a failure)."""
    bad = [o for o in outcomes if o.status not in FINE]
    uncovered = [o for o in outcomes if o.status == NOT_COVERED]
    n_skip = sum(o.status == "skipped" for o in outcomes)
    n_ok = len(outcomes) - len(bad) - len(uncovered)
    lines = [f"{n_ok} of {len(outcomes)} notebook runs succeeded ({n_skip} up to date, skipped)."]
    if uncovered:
        lines.append(f"{len(uncovered)} skipped because their data do not cover their years (not a failure):")
        lines += [f"  NOT COVERED: {o.id}: {reason(o.error)}" for o in uncovered]
    for o in bad:
        where = f" (see {o.executed})" if o.executed else ""
        lines.append(f"  {o.status.upper()}: {o.id}{where}: {o.error}")
    lines.append(f"Run manifest: {paths.relative(paths.reports() / MANIFEST)}")
    return "\n".join(lines), (1 if bad else 0)
