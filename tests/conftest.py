"""Shared fixtures. Tests never write to the real data/processed, reports or data/raw."""

from __future__ import annotations

import shutil

import pytest

from helpers import paths


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """Redirect data/processed and reports to a temporary folder (also seen by notebook kernels)."""
    processed = tmp_path / "processed"
    reports = tmp_path / "reports"
    processed.mkdir()
    reports.mkdir()
    monkeypatch.setenv("BORGERSERVICE_PROCESSED", str(processed))
    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(reports))
    return tmp_path


@pytest.fixture
def raw_copy(tmp_path, monkeypatch):
    """A writable copy of data/raw, used by tests that must add raw files."""
    target = tmp_path / "raw"
    shutil.copytree(paths.raw(), target)
    monkeypatch.setenv("BORGERSERVICE_RAW", str(target))
    return target
