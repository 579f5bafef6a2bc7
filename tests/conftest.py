"""Shared fixtures. Tests never write to the real data/processed, reports or data/raw."""

from __future__ import annotations

import shutil
import socket

import nbformat
import pytest
import yaml

from helpers.core import paths


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
def run_notebook(outputs):
    """Execute notebooks/<name>.ipynb with papermill as the pipeline does (the project's kernel, run from the
    notebooks folder) into the ``outputs`` folder; returns the error outputs of its code cells (none when it ran)."""
    import papermill as pm

    def run(notebook: str, parameters: dict) -> list:
        executed = outputs / f"{notebook}.executed.ipynb"
        pm.execute_notebook(
            str(paths.notebooks() / f"{notebook}.ipynb"),
            str(executed),
            parameters=parameters,
            kernel_name=paths.KERNEL_NAME,
            cwd=str(paths.notebooks()),
            progress_bar=False,
            execution_timeout=600,
        )
        nb = nbformat.read(executed, as_version=4)
        return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]

    return run


@pytest.fixture
def raw_copy(tmp_path, monkeypatch):
    """A writable copy of data/raw, used by tests that must add raw files."""
    target = tmp_path / "raw"
    shutil.copytree(paths.raw(), target)
    monkeypatch.setenv("BORGERSERVICE_RAW", str(target))
    return target


@pytest.fixture
def make_notebook(tmp_path):
    """Write a notebook (one parameters cell, then ``source``) into tmp_path; returns its path."""

    def make(name: str, source: str, params: str = "x = 1  # a parameter") -> str:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": paths.KERNEL_NAME, "display_name": "x", "language": "python"}
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell, nbformat.v4.new_code_cell(source)]
        nbformat.write(nb, tmp_path / name)
        return str(tmp_path / name)

    return make


@pytest.fixture
def write_config(tmp_path):
    """Write pipeline.yaml (with a rounds section if given) into tmp_path; returns its path."""

    def write(doc: dict, rounds: dict | None = None):
        extra = {"rounds": rounds} if rounds is not None else {}
        (tmp_path / "pipeline.yaml").write_text(
            yaml.safe_dump({"kernel": paths.KERNEL_NAME, "timeout_seconds": 300, **extra, **doc})
        )
        return tmp_path / "pipeline.yaml"

    return write


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base():
    """The 98 real kommuner with populations, controls and a fixed, seeded assignment of models
    (the design of the model and simulation tests)."""
    import numpy as np
    import pandas as pd

    from helpers.data import reference

    m = reference.load_municipalities()
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "kommunekode": m["kommunekode"],
            "population": m["population_2011"],
            "kommunegruppe": m["kommunegruppe"],
            "merged_2007": m["merged_2007"],
            "log_population": np.log(m["population_2011"]),
            "model": rng.choice([5, 1, 2, 3, 4], 98, p=[0.4, 0.15, 0.2, 0.15, 0.1]),
        }
    )


@pytest.fixture
def fake():
    from statbank_fake import TABLEINFOS, FakeStatBank

    server = FakeStatBank(TABLEINFOS)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def surveys():
    """The three example rounds (2009, 2011, 2014) cleaned in memory: the surveys of the adoption tests' panels."""
    from helpers.data import survey

    return {
        2009: survey.clean(2009, "survey/example_survey_2009.csv")[0],
        2011: survey.clean(2011, "survey/example_survey_2011.xlsx")[0],
        2014: survey.clean(2014, "survey/example_survey_2014.xlsx", "2014")[0],
    }


@pytest.fixture(scope="module")
def real(surveys):
    """The adoption panel of the real series over the three example rounds (a module may define its own ``real``)."""
    from helpers.analysis import adoption

    return adoption.build([2009, 2011, 2014], source="real", surveys=surveys)
