"""No output names the machine it was made on: the absolute project path appears in no report,
executed notebook, HTML copy, results JSON, table, figure or processed file."""

from __future__ import annotations

import pytest

from helpers import paths, pipeline

TEXT_SUFFIXES = {".ipynb", ".html", ".json", ".csv", ".svg", ".tex", ".txt", ".md", ".yaml"}


def offending(folder, needle: str) -> list[str]:
    """Output files that contain ``needle``. Hidden files are machine-local state, not outputs (the
    pipeline's stat cache, .hash_cache.json, maps this machine's paths and mtimes to sha256s)."""
    hits = []
    for f in sorted(folder.rglob("*")):
        if f.is_file() and not f.name.startswith(".") and f.suffix in TEXT_SUFFIXES and needle in f.read_text(encoding="utf-8", errors="replace"):
            hits.append(f.relative_to(folder).as_posix())
    return hits


@pytest.mark.slow
def test_outputs_of_real_notebook_runs_hold_no_absolute_project_path(outputs):
    runs = pipeline.run(only=["00_reference", "01_clean_survey_2011"], workers=1, echo=lambda *_: None)
    assert {o.id: o.status for o in runs} == {"00_reference": "ok", "01_clean_survey_2011": "ok"}
    root = str(paths.root())
    written = [f for f in paths.reports().rglob("*") if f.is_file()]
    assert any(f.suffix == ".ipynb" for f in written) and any(f.suffix == ".json" for f in written)
    assert offending(paths.reports(), root) == []
    assert offending(paths.processed(), root) == []


def test_the_check_finds_an_absolute_path(tmp_path):
    (tmp_path / "a.json").write_text('{"path": "/home/someone/project/reports/x.json"}')
    (tmp_path / "b.csv").write_text("x\n1\n")
    (tmp_path / ".hash_cache.json").write_text('{"/home/someone/project/data/raw/x": "ab"}')
    assert offending(tmp_path, "/home/someone/project") == ["a.json"]
