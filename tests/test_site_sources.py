"""The report's overview says what the runs read and ran on: the raw files each run read (from its results),
a mark on real runs, and the survey rounds of the config that ran, never a typed list."""

from __future__ import annotations

import json

from site_fixture import build_reports

from helpers.core import files, paths
from helpers.data import provenance
from helpers.outputs import reports, site
from helpers.results import RawInput


def _set_inputs(results_file, inputs):
    """Set a run's inputs in its results JSON, and record the new sha256 in the run manifest as the run would have
    (the report shows only what a run vouches for: an edited results file without it is not current)."""
    doc = json.loads(results_file.read_text(encoding="utf-8"))
    doc["inputs"] = [{"file": f, "synthetic": s} for f, s in inputs]
    results_file.write_text(json.dumps(doc), encoding="utf-8")
    manifest_file = paths.reports() / "run_manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    name = f"reports/{results_file.relative_to(paths.reports()).as_posix()}"
    for run in manifest["runs"]:
        if name in run.get("outputs", {}):
            run["outputs"][name] = files.sha256(results_file)
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")


def test_the_overview_lists_each_runs_raw_files_marks_real_runs_and_names_the_configured_rounds(outputs):
    root = paths.reports()
    manifest = build_reports(root)
    manifest["config"]["rounds"] = {str(y): {} for y in (2009, 2011, 2014, 2017)}  # a fourth round added
    (root / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _set_inputs(
        root / "results" / "00_reference" / "00_reference.json",
        [("data/raw/reference/dst/population_1jan_kommune_2005-2023.csv", False)],
    )
    _set_inputs(
        root / "results" / "01_clean_survey_2011" / "01_clean_survey_2011.json",
        [("data/raw/survey/example_survey_2011.xlsx", True), ("data/raw/reference/geo/kommuner.geojson", False)],
    )
    index = (site.build() / "index.html").read_text(encoding="utf-8")
    assert "clean four survey rounds (2009, 2011, 2014, 2017) of how" in index
    assert "three survey rounds" not in index
    head_ref = index[index.index('href="notebooks/00_reference.html"') :].split("</h3>")[0]
    head_survey = index[index.index('href="notebooks/01_clean_survey_2011.html"') :].split("</h3>")[0]
    assert 'class="real-mark"' in head_ref and "real data" in head_ref and "synthetic" not in head_ref
    assert 'class="synthetic-mark"' in head_survey and "real-mark" not in head_survey
    ref_part = index[index.index('href="notebooks/00_reference.html"') : index.index("01_clean_survey_2011.html")]
    assert "Read: <code>data/raw/reference/dst/population_1jan_kommune_2005-2023.csv</code> (real)" in ref_part
    assert "<code>data/raw/survey/example_survey_2011.xlsx</code> (<strong>synthetic</strong>)" in index
    data = index[index.index("<h2>Data</h2>") : index.index("<h2>Results in brief")]
    assert data.count("<tr><td>") == 3  # the three files the runs read, not every file of the manifests
    unread = data[data.index("Not read by any run") :]
    assert "data/raw/survey/example_survey_2009.csv" in unread and "example_survey_2011.xlsx" not in unread


def test_a_run_records_the_raw_files_it_read_directly_and_through_processed_data(outputs):
    from helpers.data import reference, survey, usage

    provenance.forget_reads()
    survey.clean_to_files(2011, "survey/example_survey_2011.xlsx", "2011")
    usage.write_panel()
    provenance.forget_reads()  # a new run: it reads only processed data, and the raw files behind them
    survey.load_clean(2011)
    usage.read_panel()
    reference.load_municipalities()
    read = dict(provenance.read_files())
    assert read["survey/example_survey_2011.xlsx"] is True  # through the cleaned round
    assert read["usage/example_usage_panel_2009-2015.csv"] is True  # through the usage panel
    assert read["usage/library_use_per_capita_kommune_2010-2025.csv"] is False
    assert "survey/example_survey_2009.csv" not in read
    from site_fixture import REFERENCE

    path = reports.write_results("00_reference", REFERENCE, synthetic=False, parameters={})
    from helpers import results

    doc = results.read(path)
    assert RawInput("data/raw/survey/example_survey_2011.xlsx", True) in doc.inputs
    assert all(i.file.startswith("data/raw/") for i in doc.inputs)
    provenance.forget_reads()


def test_a_real_only_usage_panel_holds_real_outcomes_only_and_reads_no_synthetic_file(outputs):
    from helpers.data import usage

    provenance.forget_reads()
    panel = usage.build_panel(real_only=True)
    assert usage.panel_outcomes(panel) == ("loans",) and not usage.panel_is_synthetic(panel)
    assert not usage.sources_synthetic(real_only=True) and usage.sources_synthetic()
    assert "usage/example_usage_panel_2009-2015.csv" not in dict(provenance.read_files())
    usage.write_panel(panel=panel)
    back = usage.read_panel()
    assert list(back.columns) == list(panel.columns) and "visits" not in back.columns
    assert usage.source_summary(back).index.tolist() == ["loans"]
    r = usage.key_results(back)
    assert r.sources == {"loans": usage.SOURCE_LABELS["real"]} and r.synthetic_outcomes == ()
    provenance.forget_reads()
