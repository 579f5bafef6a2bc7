"""What a successful run vouches for: the outputs the report may show (issue 27).

The report shows a figure, table, results file or export only when a run with status ok or skipped recorded it in
``reports/run_manifest.json`` and the file still has the sha256 recorded for it. Every other file under the folders
the report shows is *not current*, with the reason: its run failed, was blocked or interrupted (the earlier outputs
left in its folder), it changed after its run recorded it, or no run recorded it (``scratch``: work outside the
pipeline). :func:`inventory` sorts the files; :mod:`helpers.outputs.site` shows the current ones and lists the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from helpers.core import files, paths

VOUCHING = ("ok", "skipped")  # statuses of a run whose recorded outputs are current
SHOWN = ("reports/figures/", "reports/tables/", "reports/results/")  # folders whose files the report shows


@dataclass(frozen=True)
class Output:
    """A file the report could show: ``name`` as the run manifest records outputs (``reports/figures/<run>/x.png``,
    ``processed/<run>/...``), ``path`` on disk, the ``run`` it belongs to, and, when no successful run vouches for
    it, ``reason`` (empty when current)."""

    name: str
    path: Path
    run: str
    reason: str = ""

    @property
    def current(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class Inventory:
    """What the run manifest vouches for: ``runs`` (the manifest's run records, in analysis order), ``current``
    (outputs by name that a successful run recorded with the sha256 they still have), ``not_current`` (the other
    files under the folders the report shows, each with its reason)."""

    runs: list[dict]
    current: dict[str, Output]
    not_current: list[Output] = field(default_factory=list)

    def under(self, prefix: str) -> list[Output]:
        return [o for name, o in sorted(self.current.items()) if name.startswith(prefix)]


def analysis_order(runs: list[dict]) -> list[dict]:
    """Run records in the order of the analysis: by notebook (00_reference, 01_clean_survey, 01_usage_panel,
    02_..., 05_export_data), the config's order within a notebook."""
    return sorted(runs, key=lambda r: str(r.get("notebook") or r.get("id")))


def _output_path(name: str) -> Path:
    kind, rel = name.split("/", 1)
    return (paths.processed_root() if kind == "processed" else paths.reports()) / rel


def why(record: dict | None) -> str:
    if record is None:
        return "no run in the run manifest recorded it (work outside the pipeline, or a run no longer configured)"
    status, error = str(record.get("status")), str(record.get("error") or "").strip()
    return f"run {record['id']} {status}" + (f": {error}" if error else "")


def inventory(manifest: dict) -> Inventory:
    """Which files under ``reports/figures``, ``tables``, ``results`` (and the exports) the report may show.

    A file is current when a run with status ok or skipped recorded it in the manifest and its bytes still have the
    recorded sha256. Every other file there is not current, with the reason: its run failed, was blocked or
    interrupted (earlier outputs left in its folder), it changed after its run recorded it, or no run recorded it
    (``scratch``: work outside the pipeline)."""
    reports = paths.reports()
    records = [r for r in manifest.get("runs", []) if isinstance(r, dict) and isinstance(r.get("id"), str)]
    by_id = {r["id"]: r for r in records}
    current: dict[str, Output] = {}
    claimed: dict[str, str] = {}  # name -> reason, for recorded files that are not current
    for r in records:
        outputs = r.get("outputs") if isinstance(r.get("outputs"), dict) else {}
        vouches = r.get("status") in VOUCHING
        for name, sha in outputs.items():
            if not isinstance(name, str) or not name.startswith((*SHOWN, "processed/", "reports/executed/")):
                continue
            path = _output_path(name)
            if not vouches:
                claimed[name] = why(r)
            elif not path.is_file():
                claimed[name] = f"recorded by run {r['id']} but missing"
            elif files.sha256(path) != sha:
                claimed[name] = f"changed after run {r['id']} recorded it (sha256 differs): made by no run"
            else:
                current[name] = Output(name, path, r["id"])
    not_current = []
    for kind in ("figures", "tables", "results"):
        folder = reports / kind
        if not folder.is_dir():
            continue
        for f in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            name = f"reports/{kind}/{f.relative_to(folder).as_posix()}"
            if name in current:
                continue
            run = f.relative_to(folder).parts[0]
            if name in claimed:
                reason = claimed[name]
            elif run == paths.SCRATCH:
                reason = "scratch: made outside the pipeline (JupyterLab, a plain papermill call, a test)"
            elif run in by_id and by_id[run].get("status") not in VOUCHING:
                reason = f"left from an earlier run: {why(by_id[run])}"
            elif run in by_id:
                reason = f"not among the outputs run {run} recorded"
            else:
                reason = why(None)
            not_current.append(Output(name, f, run, reason))
    return Inventory(analysis_order(records), current, not_current)
