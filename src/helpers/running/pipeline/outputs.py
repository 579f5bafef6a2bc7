"""The outputs a run owns: its folders, their recorded names and hashes, clearing them, and moving aside
what no run of the config describes.

A run writes under its own id (helpers.core.paths): ``data/processed/<id>/``, ``reports/figures/<id>/``,
``reports/tables/<id>/``, ``reports/results/<id>/``, plus ``reports/executed/<id>.ipynb`` and ``.html``
written by the runner. Outputs are recorded as ``processed/<id>/<file>`` or ``reports/<...>``, so a
record does not depend on where the folders are.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from helpers.core import files, paths
from helpers.running.pipeline.config import Config


def output_folders(run_id: str) -> list[Path]:
    """The folders a run owns (helpers.core.paths): processed data, figures, tables, results."""
    return [paths.processed_root() / run_id, paths.figures(run_id), paths.tables(run_id), paths.results(run_id)]


def output_name(f: Path) -> str:
    """An output as recorded: ``processed/<run>/<file>`` or ``reports/<...>`` (independent of where the folders are)."""
    try:
        return "processed/" + f.relative_to(paths.processed_root()).as_posix()
    except ValueError:
        return "reports/" + f.relative_to(paths.reports()).as_posix()


def output_path(name: str) -> Path:
    """The file of a recorded output name (the inverse of ``output_name``)."""
    kind, rel = name.split("/", 1)
    return (paths.processed_root() if kind == "processed" else paths.reports()) / rel


def collect_outputs(run_id: str, cache: files.HashCache) -> dict[str, str]:
    """Every file a run wrote (its folders and executed notebook + HTML), name -> sha256."""
    found = []
    for folder in output_folders(run_id):
        if folder.is_dir():
            found += [f for f in folder.rglob("*") if f.is_file() and not f.name.startswith(".")]
    found += [f for f in (paths.executed() / f"{run_id}.ipynb", paths.executed() / f"{run_id}.html") if f.is_file()]
    return {output_name(f): cache.sha256(f) for f in sorted(found)}


def processed_outputs(outcome) -> dict[str, str]:
    """The processed-data files among a run's recorded outputs (what runs that need it may read);
    ``outcome`` is an Outcome or its record in the manifest (a dict)."""
    outputs = outcome.get("outputs") if isinstance(outcome, dict) else outcome.outputs
    return {k: v for k, v in (outputs or {}).items() if k.startswith("processed/")}


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


def write_error(exc: OSError) -> str:
    """'cannot write in <folder>: No space left on device' from an OSError of a write."""
    where = Path(exc.filename).parent if getattr(exc, "filename", None) else None
    cause = exc.strerror or str(exc)
    return f"cannot write in {paths.relative(where) if where else 'an output folder'}: {cause}"
