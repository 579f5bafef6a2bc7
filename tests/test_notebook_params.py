"""Changing a value in a notebook's parameters cell does not break later cells.

Each notebook is run with papermill, from notebooks/ and with the project kernel, with
parameters that differ from its defaults; outputs go to the temporary folders of `outputs`.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from helpers.core import paths
from helpers.data import survey

ROUNDS = {2009: ("survey/example_survey_2009.csv", "2009"), 2011: ("survey/example_survey_2011.xlsx", "2011")}

# notebook, non-default parameters, results file it must write
RUNS = [
    ("00_reference", {"year": 2020}, "00_reference"),
    (
        "01_clean_survey",
        {"year": 2009, "input_path": ROUNDS[2009][0], "codebook": ROUNDS[2009][1]},
        "01_clean_survey_2009",
    ),
    (
        "03_model_usage",
        {"outcome": "loans", "usage_source": "real", "coverage_reps": 40, "power_reps": 20},
        "03_model_loans_2009_2011",
    ),
]


def _defaults(notebook: str) -> dict:
    nb = nbformat.read(paths.notebooks() / f"{notebook}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(cell.source, {}, namespace)  # the parameters cell holds plain literals (test_notebooks checks it)
    return namespace


@pytest.mark.slow
@pytest.mark.parametrize("notebook, parameters, results_name", RUNS, ids=[r[0] for r in RUNS])
def test_notebook_runs_with_non_default_parameters(run_notebook, notebook, parameters, results_name):
    defaults = _defaults(notebook)
    assert set(parameters) <= set(defaults), f"{notebook}: unknown parameters {set(parameters) - set(defaults)}"
    assert any(defaults[k] != v for k, v in parameters.items()), f"{notebook}: these are the defaults"
    if notebook == "03_model_usage":  # it reads the cleaned rounds made by 01_clean_survey
        for year in defaults["rounds"]:
            survey.clean_to_files(year, paths.raw() / ROUNDS[year][0], ROUNDS[year][1])

    errors = run_notebook(notebook, parameters)
    assert not errors, f"{notebook}: {errors[0].ename}: {errors[0].evalue}"
    result = json.loads((paths.results() / f"{results_name}.json").read_text())
    for key, value in parameters.items():
        if key in result["parameters"]:
            assert str(result["parameters"][key]) == str(value), (
                f"{notebook}: results record {key}={result['parameters'][key]}"
            )
    assert list(paths.figures().glob("*.png")), f"{notebook}: no figure written"
