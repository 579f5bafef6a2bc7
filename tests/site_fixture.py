"""A small reports folder as `make run` leaves it (manifest, executed notebooks, figures, tables, results),
for the report-site tests, without running the pipeline."""

from __future__ import annotations

import json
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pandas as pd

from helpers.core import cooperation, files, paths
from helpers.outputs import reports
from helpers.results.reference import ReferenceResults
from helpers.results.survey import CleanSurveyResults, ModelCount, Response
from helpers.running import pipeline

REFERENCE = ReferenceResults(
    year=2011,
    n_kommuner=98,
    population_sum_of_kommuner=5_560_534,
    population_national_dst=5_560_628,
    kommuner_per_region={
        "Region Hovedstaden": 29,
        "Region Sjælland": 17,
        "Region Syddanmark": 22,
        "Region Midtjylland": 19,
        "Region Nordjylland": 11,
    },
)
SURVEY = CleanSurveyResults(
    year=2011,
    response=Response(
        rows=88,
        answered_model=86,
        response_rate=0.878,
        cooperating=54,
        digital_strategy_yes=32,
        digital_strategy_answered=86,
    ),
    models=tuple(
        ModelCount(m, cooperation.LABELS[m], n, round(n / 88, 3), round(n / 98, 3))
        for m, n in {0: 2, 5: 32, 1: 16, 2: 15, 3: 14, 4: 9}.items()
    ),
    changes_by_rule={"kommune_name_variant": 16, "label_variant": 9},
)


# The pages of the site built from build_reports' folder: the synthetic rounds' notebooks and the site's own pages.
SITE_PAGES = frozenset(
    {
        "index.html",
        "notebooks/00_reference.html",
        "notebooks/01_clean_survey_2011.html",
        "gallery.html",
        "tables.html",
        "provenance.html",
        "data_dictionary.html",
        "references.html",
    }
)


def executed_notebook(path, title: str, value: str) -> None:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("answer = 6 * 7\nanswer")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": value}, execution_count=1)]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nWhat this notebook asks."), code]
    nbformat.write(nb, path)


def build_reports(root) -> dict:
    """Write the reports of two runs under ``root``: one real, one synthetic.

    BORGERSERVICE_REPORTS must point there.
    """
    (root / "executed").mkdir(parents=True, exist_ok=True)
    executed_notebook(root / "executed" / "00_reference.ipynb", "00 · Reference", "42")
    executed_notebook(root / "executed" / "01_clean_survey_2011.ipynb", "01 · Clean survey", "43")
    before = os.environ.get(paths.RUN_ID_ENV)
    try:  # each run writes in its own folder, as under `borgerservice run`
        os.environ[paths.RUN_ID_ENV] = "00_reference"
        reports.write_results("00_reference", REFERENCE, synthetic=False, parameters={"year": 2011})
        os.environ[paths.RUN_ID_ENV] = "01_clean_survey_2011"
        reports.write_results("01_clean_survey_2011", SURVEY, synthetic=True, parameters={"year": 2011})
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.bar(["a", "b"], [1, 2])
        reports.save_figure(fig, "survey_2011_models", synthetic=True, source="Source: test")
        plt.close(fig)
        reports.save_table(
            pd.DataFrame({"model": [1, 2], "kommuner": [16, 15]}), "survey_2011_models", synthetic=True, index=False
        )
    finally:
        os.environ.pop(paths.RUN_ID_ENV) if before is None else os.environ.__setitem__(paths.RUN_ID_ENV, before)
    manifest = {
        "started": "2026-12-01T10:00:00+00:00",
        "finished": "2026-12-01T10:01:00+00:00",
        "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False},
        "python": "3.11.2",
        "platform": "Linux",
        "packages": {"pandas": "2.2.3"},
        "config": {"path": "config/pipeline.yaml"},
        "inputs": {"survey/example_survey_2011.xlsx": "ab" * 32, "reference/geo/kommuner.geojson": "cd" * 32},
        "synthetic_inputs": ["survey/example_survey_2011.xlsx"],
        "runs": [
            {
                "id": "00_reference",
                "notebook": "00_reference.ipynb",
                "parameters": {"year": 2011},
                "status": "ok",
                "seconds": 4.2,
                "executed": "reports/executed/00_reference.ipynb",
            },
            {
                "id": "01_clean_survey_2011",
                "notebook": "01_clean_survey.ipynb",
                "parameters": {"year": 2011},
                "status": "ok",
                "seconds": 3.9,
                "executed": "reports/executed/01_clean_survey_2011.ipynb",
            },
        ],
    }
    for run in manifest["runs"]:  # what the pipeline records: every file the run wrote, with its sha256
        run["outputs"] = pipeline.collect_outputs(run["id"], files.HashCache())
    (root / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest
