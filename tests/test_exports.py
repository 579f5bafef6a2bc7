"""Exports for Stata, SPSS, R and Excel: values and labels survive a round trip (pyreadstat, R haven).

One module-scoped build: the three example rounds are cleaned and the usage panel written into a
temporary data/processed, then `borgerservice export` writes the exports there.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from panel_sample import estimation_sample
from survey_raw import cleaned_rounds

from helpers import results
from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import survey, usage
from helpers.outputs import dictionary, exports, variables
from helpers.running import cli, pipeline


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Processed rounds + panel in a temporary folder, exported with the CLI; yields (folder, tables)."""
    with cleaned_rounds(tmp_path_factory.mktemp("exports")):
        usage.write_panel()
        assert cli.main(["export"]) == 0
        tables = {t.stem: t for t in exports.build_tables()}
        yield exports.folder(), tables


ROUNDS_AS_OWN = {2009: "survey/own_survey_2009.csv", 2011: "survey/own_survey_2011.xlsx", 2014: "survey/own_2014.xlsx"}


@pytest.fixture(scope="module")
def built_real(tmp_path_factory):
    """Every round as a researcher's own (real) export, recorded with add-data, cleaned, and exported with
    ``--real-only``: the usage outcomes from synthetic sources are left out. Returns (folder, tables)."""
    from own_export import own_export

    base = tmp_path_factory.mktemp("exports_real")
    shutil.copytree(paths.raw(), base / "raw")
    doc = yaml.safe_load(paths.pipeline_config().read_text(encoding="utf-8"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BORGERSERVICE_RAW", str(base / "raw"))
        mp.setenv("BORGERSERVICE_PROCESSED", str(base / "processed"))
        mp.setenv("BORGERSERVICE_REPORTS", str(base / "reports"))
        for year, target in ROUNDS_AS_OWN.items():
            own_export(doc["rounds"][year]["input_path"], target)
            assert cli.main(["add-data", target, "--source", "the association", "--licence", "research use"]) == 0
            doc["rounds"][year]["input_path"] = target
        (base / "pipeline.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        mp.setenv(paths.CONFIG_ENV, str(base / "pipeline.yaml"))
        for year, spec in pipeline.load_rounds().items():
            survey.clean_to_files(year, spec["input_path"], spec["codebook"])
        usage.write_panel()
        assert cli.main(["export", "--real-only"]) == 0
        tables = {t.stem: t for t in exports.build_tables(real_only=True)}
        folder = exports.folder()
    return folder, tables  # the environment is restored: the other module fixture's tests see their own


def _table(tables, prefix):
    return next(t for s, t in tables.items() if s.startswith(prefix))


def _same(expected: pd.Series, got: pd.Series, kind: str, where: str):
    """Values equal after a round trip: numbers (NaN = missing), text (missing = "" in Stata/SPSS), datetimes."""
    assert len(expected) == len(got), where
    if kind == "string":
        exp = expected.astype("object").where(expected.notna(), "").tolist()
        assert [("" if g is None or (isinstance(g, float) and math.isnan(g)) else g) for g in got] == exp, where
    elif kind == "datetime":
        e = pd.to_datetime(expected).dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        g = pd.to_datetime(got).dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        assert e.tolist() == g.tolist(), where
    else:
        e = expected.astype("Float64").astype(float).to_numpy()
        g = pd.to_numeric(got, errors="raise").astype(float).to_numpy()
        assert np.array_equal(np.isnan(e), np.isnan(g)), f"{where}: missing values moved"
        np.testing.assert_allclose(g[~np.isnan(g)], e[~np.isnan(e)], rtol=1e-12, err_msg=where)


# --- what the files hold ---------------------------------------------------------------------


def test_every_table_is_written_in_every_format(built):
    folder, tables = built
    assert sorted(tables) == [
        "analysis_synthetic",
        "kommune_year_synthetic",
        "survey_2009_synthetic",
        "survey_2011_synthetic",
        "survey_2014_synthetic",
        "usage_panel_synthetic",
    ]
    manifest = json.loads((folder / exports.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True and manifest["parameters"]["rounds"] == [2009, 2011, 2014]
    names = {r["file"] for r in manifest["files"]}
    for stem in tables:
        for suffix in (".csv", "_excel.csv", ".dta", ".sav", ".parquet"):
            assert f"{stem}{suffix}" in names and (folder / f"{stem}{suffix}").is_file()
    assert not any("/" in n for n in names), "file names only, no machine paths"
    assert (folder / "data_dictionary.md").read_text(encoding="utf-8") == dictionary.markdown()
    assert not list(folder.glob(".*.tmp")), "no temporary files left behind"


def test_key_results_count_the_files_rows_and_responses_of_the_export(built):
    folder, tables = built
    listing = pd.DataFrame(json.loads((folder / exports.MANIFEST_FILE).read_text(encoding="utf-8"))["files"])
    r = exports.key_results(list(tables.values()), listing, dictionary_up_to_date=False)
    assert isinstance(r, results.family("05_export_data"))
    assert r.files == 30 and r.rounds == (2009, 2011, 2014) and r.analysis_rows == 98 * 3 == 294
    # every row of a cleaned round is one responding kommune; read from each round's own table
    assert r.responded == {y: len(tables[f"survey_{y}_synthetic"].frame) for y in (2009, 2011, 2014)}
    assert r.responded[2011] == 88
    assert r.panel_rows == len(tables["usage_panel_synthetic"].frame) == len(usage.read_panel())
    assert r.tables["survey_2011_synthetic"] == results.exports.ExportedTable(
        88, 21, True, tables["survey_2011_synthetic"].synthetic_variables
    )
    assert r.kommune_year_rows == 97 * len(usage.REAL_LOANS_YEARS) and r.kommune_year_units == 97
    assert set(r.tables) == set(tables) and r.dictionary_up_to_date is False
    assert type(r).from_json(r.to_json()) == r  # what notebook 05 writes reads back as the same results


def test_survey_round_values_match_the_cleaned_round(built, monkeypatch):
    folder, _ = built
    monkeypatch.setenv(
        "BORGERSERVICE_PROCESSED", str(folder.parent.parent)
    )  # the processed root: exports are in <root>/<run id>/exports
    clean = survey.load_clean(2011)
    df, meta = pyreadstat.read_dta(folder / "survey_2011_synthetic.dta")
    assert len(df) == len(clean) == 88
    assert df["kommunekode"].astype(int).tolist() == clean["kommunekode"].tolist()
    assert df["model"].astype(int).tolist() == clean["model"].astype(int).tolist()
    yes = clean["digital_strategy"].map({"yes": 1, "no": 2, "dont_know": 3})
    _same(yes, df["digital_strategy"], "code", "digital_strategy")
    _same(clean["task_passport"].astype("Float64"), df["task_passport"], "yesno", "task_passport")
    assert meta.variable_value_labels["model"][1] == "Den spæde start"
    assert meta.variable_value_labels["model"][4] == "Vi er borgernes fælles indgang til kommunen"
    assert meta.variable_value_labels["digital_strategy"] == {1: "Ja", 2: "Nej", 3: "Ved ikke"}
    assert meta.variable_value_labels["respondent_role"][1] == "Bibliotekschef"
    assert meta.variable_value_labels["kommunekode"][101] == "København"
    assert meta.file_label.startswith("SYNTHETIC EXAMPLE DATA")


def test_analysis_file_codings_and_fanoe(built):
    folder, _ = built
    df = pd.read_parquet(folder / "analysis_synthetic.parquet")
    assert len(df) == 98 * 3 and not df.duplicated(["round", "kommunekode"]).any()
    answered = df[df["model"].between(1, 5)]
    assert (answered["score"] == answered["model_level"] - 1).all()  # same ordering in codebooks and analysis
    assert answered.loc[answered["model"] == 5, "cooperating"].eq(0).all()
    assert answered.loc[answered["model"].between(1, 4), "cooperating"].eq(1).all()
    two = answered[answered["model"] == 2]
    assert two["score"].eq(2).all() and two["score_swap23"].eq(3).all()
    blank = df[df["model"] == 0]
    assert len(blank) and blank[["model_level", "score", "cooperating"]].isna().all().all()
    absent = df[df["responded"] == 0]
    assert absent["model"].isna().all() and absent["model_order"].isna().all()
    assert (df["usage_year"] == df["round"] + 1).all()
    fanoe, esbjerg = df[df["kommunekode"] == usage.FANOE], df[df["kommunekode"] == usage.ESBJERG]
    assert fanoe["library_unit"].eq(561).all() and fanoe[["loans", "visits", "population"]].isna().all().all()
    panel = usage.build_panel()
    unit_2010 = panel[(panel["kommunekode"] == 561) & (panel["year"] == 2010)]
    assert esbjerg.loc[esbjerg["round"] == 2009, "loans"].iat[0] == pytest.approx(unit_2010["loans"].iat[0])
    assert esbjerg.loc[esbjerg["round"] == 2009, "population"].iat[0] == unit_2010["population"].iat[0]
    gribskov = df[(df["kommunekode"] == 270) & (df["round"] == 2011)]  # usage 2012: Gribskov's 0.0 loans
    assert gribskov["outlier"].iat[0] == 1 and gribskov["quality_flag"].iat[0] == 1
    assert df["synthetic"].eq(1).all()  # synthetic survey rounds make every row synthetic
    assert df["loans_synthetic"].eq(0).sum() == len(df) - df["loans_synthetic"].isna().sum()


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dta", "sav"])
def test_python_round_trip_keeps_values_and_labels(built, fmt):
    folder, tables = built
    read = pyreadstat.read_dta if fmt == "dta" else pyreadstat.read_sav
    for stem, t in tables.items():
        df, meta = read(folder / f"{stem}.{fmt}")
        assert list(df.columns) == list(t.frame.columns), stem
        for v in t.variables:
            _same(t.frame[v.name], df[v.name], v.kind, f"{stem}.{fmt}:{v.name}")
            label = meta.column_names_to_labels[v.name]
            assert label == (t.variable_labels[v.name] if fmt == "dta" else v.label), f"{stem}.{fmt}:{v.name} label"
            if v.labels:
                assert meta.variable_value_labels[v.name] == t.value_labels[v.name], (
                    f"{stem}.{fmt}:{v.name} value labels"
                )
        assert meta.file_label == t.file_label and meta.file_label.startswith("SYNTHETIC EXAMPLE DATA")


def test_csv_copies_hold_the_same_values(built):
    folder, tables = built
    t = tables["analysis_synthetic"]
    plain = (folder / "analysis_synthetic.csv").read_bytes()
    excel = (folder / "analysis_synthetic_excel.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf") and excel.startswith(b"\xef\xbb\xbf")
    a = pd.read_csv(folder / "analysis_synthetic.csv", encoding="utf-8", keep_default_na=False, na_values=[""])
    b = pd.read_csv(
        folder / "analysis_synthetic_excel.csv",
        encoding="utf-8-sig",
        sep=";",
        decimal=",",
        keep_default_na=False,
        na_values=[""],
    )
    for v in t.variables:
        _same(t.frame[v.name], a[v.name], v.kind, f"csv:{v.name}")
        _same(t.frame[v.name], b[v.name], v.kind, f"excel csv:{v.name}")
    assert "København" in plain.decode("utf-8")
    p = pd.read_parquet(folder / "analysis_synthetic.parquet")
    assert p.attrs["synthetic"] is True and p.attrs["value_labels"]["model"]["1"] == "Den spæde start"


def test_excel_csv_escapes_text_a_spreadsheet_would_run_as_a_formula(built, tmp_path):
    """A comment typed as "=HYPERLINK(...)" must open as text in Excel; the plain CSV keeps the value as it is."""
    import dataclasses

    _, tables = built
    t = tables["survey_2011_synthetic"]
    frame = t.frame.copy()
    frame["comment"] = frame["comment"].astype("object")
    planted = ['=HYPERLINK("http://x.example","klik")', "+45 ring", "-- ingen", "@kommune"]
    frame.loc[frame.index[:4], "comment"] = planted
    paths_ = exports.write_table(dataclasses.replace(t, frame=frame), tmp_path)
    excel = pd.read_csv(
        paths_["excel.csv"], encoding="utf-8-sig", sep=";", decimal=",", dtype=str, keep_default_na=False
    )
    assert excel["comment"].head(4).tolist() == ["'" + c for c in planted]
    assert not [c for c in excel.to_numpy().ravel() if str(c)[:1] in ("=", "+", "@")]
    plain = pd.read_csv(paths_["csv"], dtype=str, keep_default_na=False)
    assert plain["comment"].head(4).tolist() == planted
    assert excel["n_it_courses"].tolist() == plain["n_it_courses"].str.replace(".", ",").tolist()  # numbers untouched


R_SCRIPT = r"""
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
num <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
for (f in args[-1]) {
  d <- if (grepl("[.]dta$", f)) read_dta(f) else read_sav(f)
  add(file = basename(f), column = "", what = "file_label", key = "", value = as.character(attr(d, "label")), is_na =
  FALSE)
  notes <- attr(d, "notes")
  for (i in seq_along(notes)) add(file = basename(f), column = "", what = "note", key = as.character(i), value =
  notes[[i]], is_na = FALSE)
  for (col in names(d)) {
    x <- d[[col]]
    lab <- attr(x, "label")
    add(file = basename(f), column = col, what = "label", key = "", value = if (is.null(lab)) "" else lab, is_na =
    is.null(lab))
    labs <- attr(x, "labels")
    if (!is.null(labs)) add(file = basename(f), column = col, what = "value_label", key = num(unname(labs)), value =
    names(labs), is_na = FALSE)
    if (inherits(x, "POSIXct")) v <- ifelse(is.na(x), "", format(x, "%Y-%m-%dT%H:%M:%S", tz = "UTC"))
    else if (is.numeric(unclass(x))) v <- num(as.numeric(unclass(x)))
    else v <- as.character(x)
    add(file = basename(f), column = col, what = "value", key = as.character(seq_along(v)), value = v, is_na =
    is.na(unclass(x)))
  }
}
write.csv(do.call(rbind, rows), out, row.names = FALSE, fileEncoding = "UTF-8")
"""


def _r_with_haven() -> str | None:
    """Why R with haven cannot run here, or None when it can."""
    rscript = shutil.which("Rscript")
    if not rscript:
        return "Rscript is not installed (CI installs r-base-core and r-cran-haven via .ci/run)"
    probe = subprocess.run([rscript, "-e", "library(haven)"], capture_output=True, text=True, timeout=120, check=False)
    if probe.returncode != 0:
        return f"R package haven is not installed (Debian: r-cran-haven): {probe.stderr.strip()[:200]}"
    return None


@pytest.mark.parametrize("which", ["built", "built_real"])
def test_r_haven_round_trip_keeps_values_and_labels(which, request, tmp_path):
    """Every file, read in R with haven: values, variable and value labels, the file label, and the notes that
    give each variable's provenance; for the example data and for a real-only export of real rounds (whose
    analysis file and kommune x year panel are real)."""
    why = _r_with_haven()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"under CI the R round trip must run: {why}")
        pytest.skip(why)
    folder, tables = request.getfixturevalue(which)
    script, out = tmp_path / "read.R", tmp_path / "r_values.csv"
    script.write_text(R_SCRIPT, encoding="utf-8")
    targets = [str(folder / f"{stem}.{fmt}") for stem in tables for fmt in ("dta", "sav")]
    run = subprocess.run(
        [shutil.which("Rscript"), str(script), str(out), *targets],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    got: dict[tuple, dict] = {}
    with open(out, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            entry = got.setdefault((r["file"], r["column"]), {"values": [], "labels": {}, "notes": []})
            if r["what"] == "note":
                entry["notes"].append(r["value"])
            elif r["what"] == "value":
                entry["values"].append(None if r["is_na"] == "TRUE" else r["value"])
            elif r["what"] == "value_label":
                entry["labels"][float(r["key"])] = r["value"]
            else:
                entry[r["what"]] = r["value"]
    for stem, t in tables.items():
        for fmt in ("dta", "sav"):
            name = f"{stem}.{fmt}"
            assert got[(name, "")]["file_label"] == t.file_label, name
            # haven lists Stata's dataset notes (with Stata's count of them last) and SPSS's document lines
            notes = [*t.file_notes, str(len(t.file_notes))] if fmt == "dta" else exports.spss_lines(t.file_notes)
            assert got[(name, "")]["notes"] == notes, name
            for n, p in t.provenance.items():
                assert f"{n}: {p.note}" in (notes if fmt == "dta" else " ".join(notes).replace("   ", " ")), (name, n)
            for v in t.variables:
                entry = got[(name, v.name)]
                values = pd.Series(entry["values"], dtype="object")
                if v.kind not in ("string", "datetime"):
                    values = pd.to_numeric(values)
                _same(t.frame[v.name], values, v.kind, f"R {name}:{v.name}")
                assert entry["label"] == (t.variable_labels[v.name] if fmt == "dta" else v.label), f"R {name}:{v.name}"
                if v.labels:
                    assert entry["labels"] == {float(k): s for k, s in t.value_labels[v.name].items()}, (
                        f"R {name}:{v.name}"
                    )
    suffix = "_synthetic" if which == "built" else ""
    assert got[(f"analysis{suffix}.dta", "model")]["labels"][1.0] == "Den spæde start"
    loans = got[(f"kommune_year{suffix}.sav", "loans")]["label"]
    assert loans == "Physical loans: per inhabitant x population (not a whole number)"
    if which == "built_real":
        assert got[("analysis.dta", "")]["notes"][0] == "Real data only: no variable holds synthetic values."
        ky = got[("kommune_year.dta", "")]["notes"]
        assert "model_2011: real: survey export of 2011, data/raw/survey/own_survey_2011.xlsx" in ky


# --- dictionary, pipeline, errors ------------------------------------------------------------


def test_committed_data_dictionary_is_current():
    problem = dictionary.stale()
    assert problem is None, problem


def test_dictionary_html_has_the_same_tables_and_escapes_text():
    md, page, body = dictionary.markdown(), dictionary.html(), dictionary.html(fragment=True)
    n_tables = sum(1 for b in dictionary.blocks() if b.kind == "table")
    assert body.count("<table") == n_tables == md.count("\n|---")
    assert page.startswith("<!DOCTYPE html>") and body in page
    assert "<td>Den spæde start</td>" in body and "<code>score_swap23</code>" in body
    assert dictionary.render_html([dictionary.Block("p", "a <b> & `c`")]) == "<p>a &lt;b&gt; &amp; <code>c</code></p>\n"


def test_dictionary_names_each_rounds_source_column():
    md = dictionary.markdown()
    assert "`Model (2009-nummerering)` (crosswalk below)" in md
    assert "`Hvilken samarbejdsmodel ligner jeres bedst?`" in md
    assert "| 6 | Andre modeller (6), mindre vidtgående | 1 | Den spæde start |" in md  # the 2009 crosswalk
    row = next(line for line in md.splitlines() if line.startswith("| `task_nemid` |") and "not asked" in line)
    assert row.count("not asked") == 1  # 2009 only
    assert "| 270 | 2012 | 0.0 | reporting_failure |" in md


def test_export_run_needs_every_round_of_the_config(write_config):
    cfg_path = write_config(
        {
            "runs": [
                {"id": "01_usage_panel", "notebook": "01_usage_panel.ipynb"},
                {
                    "id": "05_export_data",
                    "notebook": "05_export_data.ipynb",
                    "needs": ["01_usage_panel", "01_clean_survey_{year}"],
                },
            ],
            "per_round": [
                {"id": "01_clean_survey_{year}", "notebook": "01_clean_survey.ipynb", "parameters": {"year": "{year}"}}
            ],
        },
        rounds={
            2011: {"input_path": "survey/example_survey_2011.xlsx", "codebook": "2011"},
            2017: {"input_path": "survey/example_survey_2014.xlsx", "codebook": "2014"},
        },
    )
    run = next(r for r in pipeline.load_config(cfg_path).runs if r.id == "05_export_data")
    assert run.needs == ["01_usage_panel", "01_clean_survey_2011", "01_clean_survey_2017"]
    shipped = next(r for r in pipeline.load_config().runs if r.id == "05_export_data")
    assert {f"01_clean_survey_{y}" for y in pipeline.load_rounds()} <= set(shipped.needs)


def test_an_earlier_exports_files_are_removed_when_no_longer_written(built, tmp_path):
    _, tables = built
    target = tmp_path / "exports"
    target.mkdir()
    (target / "survey_2011_synthetic.dta").write_bytes(b"old")
    (target / "unrelated.txt").write_text("kept")
    (target / exports.MANIFEST_FILE).write_text(json.dumps({"files": [{"file": "survey_2011_synthetic.dta"}]}))
    listing = exports.write_exports(target_folder=target, tables=[tables["survey_2009_synthetic"]])
    assert set(listing["file"]) == {
        f"survey_2009_synthetic{s}" for s in (".csv", "_excel.csv", ".dta", ".sav", ".parquet")
    }
    assert not (target / "survey_2011_synthetic.dta").exists() and (target / "unrelated.txt").exists()


def test_export_without_processed_data_names_what_to_run(outputs, capsys):
    assert cli.main(["export"]) == 2
    err = capsys.readouterr().err
    assert "has not been cleaned yet" in err and "survey_2009" in err


def test_a_category_without_a_code_is_a_named_error():
    df = pd.DataFrame({"digital_strategy": ["yes", "maybe"]})
    var = variables.Variable("digital_strategy", "x", "code", "yes_no")
    with pytest.raises(DataError) as exc:
        exports._encode(df, [var], "survey_2011")
    assert "digital_strategy" in str(exc.value) and "maybe" in str(exc.value) and "dont_know" in str(exc.value)


def test_variable_names_and_labels_fit_stata_and_spss():
    every = variables.tables(pipeline.load_rounds())
    assert set(every) == {*variables.TABLES, "kommune_year"}
    for name, described in every.items():
        names = [v.name for v in described]
        assert len(names) == len(set(names)), name
        for v in described:
            assert v.name.isidentifier() and v.name.isascii() and len(v.name) <= 32, v.name
            assert v.kind in ("integer", "float", "string", "datetime", "yesno", "code"), v.name
            assert (v.labels is not None) == (v.kind in ("code", "yesno")), v.name
    sets = variables.value_label_sets()
    assert all(v.labels in sets for vs in every.values() for v in vs if v.labels)
    assert paths.relative(exports.folder()).endswith("exports")


@pytest.mark.slow
def test_export_notebook_runs_with_non_default_parameters(built, tmp_path, monkeypatch):
    import papermill as pm

    folder, _ = built
    assert set(pm.inspect_notebook(str(paths.notebooks() / "05_export_data.ipynb"))) == {
        "usage_year_offset",
        "ordering",
        "real_only",
    }
    processed = tmp_path / "processed"
    shutil.copytree(folder.parent, processed / folder.parent.name, ignore=shutil.ignore_patterns(exports.FOLDER))
    monkeypatch.setenv("BORGERSERVICE_PROCESSED", str(processed))
    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(tmp_path / "reports"))
    pm.execute_notebook(
        str(paths.notebooks() / "05_export_data.ipynb"),
        str(tmp_path / "out.ipynb"),
        kernel_name=paths.KERNEL_NAME,
        parameters={"usage_year_offset": 0, "ordering": "5<1<3<2<4"},
        cwd=str(paths.notebooks()),
        progress_bar=False,
    )
    df = pd.read_parquet(exports.folder() / "analysis_synthetic.parquet")
    assert (df["usage_year"] == df["round"]).all()
    assert df.loc[df["model"] == 2, "score"].eq(3).all() and df.loc[df["model"] == 2, "score_swap23"].eq(2).all()
    result = results.load("05_export_data")
    assert result.synthetic is True and result.parameters == {
        "usage_year_offset": 0,
        "ordering": "5<1<3<2<4",
        "real_only": False,
    }
    assert result.results.dictionary_up_to_date is True
    from helpers.outputs import brief

    said = brief.sentences(result)
    assert (
        said[0] == brief.SYNTHETIC_CAVEAT
        and "the analysis file (294 kommune-rounds" in said[1]
        and "30 files" in said[1]
    )
    assert said[-1] == "The data dictionary matches the codebooks and schemas."


def test_a_variable_of_an_unknown_kind_or_measure_is_refused():
    with pytest.raises(ValueError, match=r"variable x: kind 'bool' is not accepted; accepted: 'integer', 'float'"):
        variables.Variable("x", "x", "bool")
    with pytest.raises(ValueError, match=r"variable x: measure 'interval' is not accepted; accepted: 'nominal'"):
        variables.Variable("x", "x", "float", measure="interval")


def test_dictionary_and_exports_do_not_import_each_other():
    """The exports write the dictionary beside their files; the dictionary reads only the shared description."""
    code = (
        "import sys; import helpers.outputs.dictionary; "
        "assert 'helpers.outputs.exports' not in sys.modules, 'dictionary imports exports'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_labels_are_shortened_at_a_word_boundary():
    """SPSS keeps 64 bytes of a file label and Stata 80 characters of a label: a longer one is cut after a whole word
    with "…", within the limit in UTF-8 bytes (æ ø å take two), never inside a word."""
    from helpers.outputs.exports import _short

    title = "SYNTHETIC EXAMPLE DATA: Survey 2011: cooperation of libraries and borgerservice, one row per kommune"
    label = _short(title, 64, size=lambda t: len(t.encode()))
    assert label == "SYNTHETIC EXAMPLE DATA: Survey 2011: cooperation of libraries…" and len(label.encode()) <= 64
    danish = _short("Den spæde start " * 8, 40, size=lambda t: len(t.encode()))
    assert danish == "Den spæde start Den spæde start Den…" and len(danish.encode()) <= 40
    assert _short("kort label") == "kort label" and len(_short("x" * 100)) == 80


# --- provenance per variable, real-only exports, the kommune x year panel ------------------------


def test_every_variable_carries_its_provenance_in_every_format(built):
    from helpers.outputs import dta

    folder, tables = built
    for stem, t in tables.items():
        assert list(t.provenance) == [v.name for v in t.variables], stem
        file_notes, var_notes = dta.notes(folder / f"{stem}.dta")
        assert file_notes == t.file_notes, stem
        assert var_notes == {n: [p.note] for n, p in t.provenance.items()}, stem
        for n, p in t.provenance.items():
            assert f"{n}: {p.note}" in file_notes, (stem, n)
        _, meta = pyreadstat.read_sav(folder / f"{stem}.sav", metadataonly=True)
        assert meta.notes == exports.spss_lines(t.file_notes), stem
        assert all(len(line.encode()) <= exports.SPSS_NOTE_BYTES for line in meta.notes)
        attrs = pd.read_parquet(folder / f"{stem}.parquet").attrs
        assert attrs["provenance"]["kommunekode"]["provenance"] == t.provenance["kommunekode"].provenance
    analysis = tables["analysis_synthetic"].provenance
    assert analysis["model"].provenance == "synthetic" and "synthetic in 2009, 2011, 2014" in analysis["model"].note
    assert analysis["loans"] == variables.VariableProvenance(
        "real", False, "real: loans from Statistics Denmark loans per capita"
    )
    assert analysis["visits"].provenance == "synthetic" and "example panel" in analysis["visits"].note
    assert analysis["score"] == variables.VariableProvenance("derived", True, "derived from model (synthetic input)")
    assert analysis["kommunekode"].provenance == "real" and analysis["round"].provenance == "derived"
    assert analysis["loans_per_1000"] == variables.VariableProvenance(
        "derived", False, "derived from loans, population"
    )
    assert tables["survey_2011_synthetic"].provenance["model"].note == (
        "synthetic: survey export of 2011, data/raw/survey/example_survey_2011.xlsx"
    )


def test_a_file_says_synthetic_only_when_a_variable_in_it_is(built_real):
    folder, tables = built_real
    manifest = json.loads((folder / exports.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert sorted(tables) == ["analysis", "kommune_year", "survey_2009", "survey_2011", "survey_2014", "usage_panel"]
    assert manifest["synthetic"] is False and manifest["parameters"]["real_only"] is True
    assert manifest["dropped_outcomes"] == ["visits", "downloads", "service_points", "expenditure"]
    for stem, t in tables.items():
        assert not t.synthetic and not t.synthetic_variables and t.file_notes[0].startswith("Real data only"), stem
        assert not t.file_label.startswith(exports.FILE_LABEL_MARK), stem
        assert not any(p.provenance == "synthetic" for p in t.provenance.values()), stem
        assert "synthetic" not in {c.split("_")[0] for c in t.frame.columns if c.startswith("visits")}
    analysis = pd.read_parquet(folder / "analysis.parquet")
    assert analysis["synthetic"].eq(0).all() and analysis["survey_synthetic"].eq(0).all()
    assert not {"visits", "downloads", "visits_synthetic"} & set(analysis.columns) and "loans" in analysis.columns
    assert tables["analysis"].provenance["model"].note == "real: survey exports, real in 2009, 2011, 2014"
    assert not list(folder.glob("*_synthetic*")), "nothing named synthetic in a real-only export of real rounds"


def test_real_only_leaves_out_synthetic_outcomes_but_not_synthetic_rounds(built):
    folder, _ = built
    export = exports.build(real_only=True)
    stems = sorted(t.stem for t in export.tables)
    assert "usage_panel" in stems and "analysis_synthetic" in stems and "survey_2011_synthetic" in stems
    panel = next(t for t in export.tables if t.name == "usage_panel")
    assert [c for c in panel.frame.columns if c.startswith(("visits", "downloads", "service_points", "expend"))] == []
    assert panel.file_label == "library usage per unit and year 2009-2025"
    analysis = next(t for t in export.tables if t.name == "analysis")
    assert analysis.synthetic_variables[:3] == ("responded", "answered_by_kommunekode", "model")


def test_the_kommune_year_panel_rederives_notebook_04s_cohorts(built):
    """Notebook 04's cohorts (units per first treated year in its estimation sample) under every treatment,
    computed from the exported Stata file with the filter the dictionary states, equal those of
    helpers.analysis.adoption on the same rounds; so do each unit's timing and its interval bounds."""
    from helpers.analysis import adoption

    folder, tables = built
    df, meta = pyreadstat.read_dta(folder / "kommune_year_synthetic.dta")
    rounds = sorted(pipeline.load_rounds())
    assert len(df) == 97 * len(usage.REAL_LOANS_YEARS) and sorted(df["year"].unique()) == list(usage.REAL_LOANS_YEARS)
    adoption_codes = {v: k for k, v in meta.variable_value_labels["adoption_any"].items()}
    category = {c.split(":")[0]: code for c, code in adoption_codes.items()}
    seen = set()
    for t in variables.TREATMENTS:
        s = variables.treatment_suffix(t)
        panel = adoption.build(rounds, treatment=t, ordering="5<1<2<3<4")
        seen |= set(panel.timing["category"])
        sample = estimation_sample(df, meta, s)
        cohorts = sample.groupby(f"g_{s}")["kommunekode"].nunique()
        expected = panel.cohorts()["units"]
        assert {int(g): int(n) for g, n in cohorts.items()} == {int(g): int(n) for g, n in expected.items()}, t
        assert len(sample) == len(panel.sample), t
        units = df.drop_duplicates("kommunekode").set_index("kommunekode")
        timing = panel.timing
        assert units[f"g_{s}"].astype(int).to_dict() == timing["g_round"].astype(int).to_dict(), t
        assert units[f"g_earliest_{s}"].astype(int).to_dict() == timing["g_earliest"].astype(int).to_dict(), t
        until = units[f"untreated_until_{s}"].astype(int).to_dict()
        assert until == timing["untreated_until"].astype(int).to_dict(), t
        names = {code: c for c, code in category.items()}
        assert units[f"adoption_{s}"].map(names).to_dict() == timing["category"].to_dict(), t
    assert (df["g_earliest_any"] <= df["g_any"]).all()  # the interval's lower bound is never after the round
    # the example rounds have units first seen treated after an unanswered round: coded, not refused
    assert "start unknown" in seen, seen


def test_kommune_year_codes_censored_units_and_their_unknown_years_as_notebook_04_does(built, tmp_path):
    """Units that did not answer the last round are censored in notebook 04 (untreated only up to the usage year of
    their last answered round; their later years left out), units first seen treated after an unanswered round
    have an unknown start. The export codes both (it refused them before), and the sample the dictionary states,
    taken from the written Stata file, is notebook 04's: the same cohorts and unit-years under every treatment."""
    from helpers.analysis import adoption

    rounds = {y: survey.load_clean(y) for y in sorted(pipeline.load_rounds())}
    last = max(rounds)
    untreated = rounds[last - 3]["kommunekode"][rounds[last - 3]["model"].eq(5)]  # no cooperation in 2011
    silent = set(untreated.head(6)) | {101, 147}
    rounds[last] = rounds[last][~rounds[last]["kommunekode"].isin(silent)]
    sets = variables.value_label_sets(variables.codebooks(pipeline.load_rounds()))
    table = exports.kommune_year_table(rounds, usage.read_panel(), sets)
    written = exports.write_table(table, tmp_path)
    df, meta = pyreadstat.read_dta(written["dta"])
    seen = set()
    for t in variables.TREATMENTS:
        s = variables.treatment_suffix(t)
        panel = adoption.build(sorted(rounds), surveys=rounds, treatment=t, ordering="5<1<2<3<4")
        seen |= set(panel.timing["category"])
        sample = estimation_sample(df, meta, s)
        cohorts = sample.groupby(f"g_{s}")["kommunekode"].nunique()
        expected = panel.cohorts()["units"]
        assert {int(g): int(n) for g, n in cohorts.items()} == {int(g): int(n) for g, n in expected.items()}, t
        assert sorted(zip(sample["kommunekode"], sample["year"], strict=True)) == sorted(
            zip(panel.sample["kommunekode"], panel.sample["year"], strict=True)
        ), t
        censored = panel.timing.index[panel.timing["category"].eq("censored")]
        rows = df[df["kommunekode"].isin(censored)]
        until = rows[f"untreated_until_{s}"]
        assert len(censored) and until.isin([y + 1 for y in rounds if y < last]).all(), t  # a usage year
        assert rows.loc[rows["year"] > until, f"treated_{s}"].isna().all(), t  # not known: missing, not 0
        assert rows.loc[rows["year"] <= until, f"treated_{s}"].eq(0).all(), t
    assert {"censored", "start unknown"} <= seen, seen
    labels = meta.variable_value_labels["adoption_any"]
    assert [labels[k].split(":")[0] for k in sorted(labels)] == [
        "never treated",
        "adopter",
        "always treated",
        "no answer",
        "start unknown",
        "censored",
    ]  # the earlier codes 1-4 keep their meaning


def test_kommune_year_pairs_rounds_with_years_and_counts_loans_as_the_dictionary_says(built):
    folder, tables = built
    df = pd.read_parquet(folder / "kommune_year_synthetic.parquet")
    in_force = df.drop_duplicates("year").set_index("year")["round_in_force"]
    assert in_force.loc[[2010, 2011]].tolist() == [2009, 2009]  # 2009 describes 2010 on, until 2011's usage year
    assert in_force.loc[[2012, 2013, 2014]].tolist() == [2011] * 3 and in_force.loc[2015:].eq(2014).all()
    row = df[(df["kommunekode"] == 101) & (df["year"] == 2013)].iloc[0]
    assert row["model_in_force"] == row["model_2011"]
    own = df[df["unit_members"] == df["kommunekode"].astype(str)].dropna(subset=["loans"])
    np.testing.assert_allclose(own["loans"], own["loans_per_inhabitant"] * own["population"], rtol=1e-9)
    assert (own["loans"] != own["loans"].round()).mean() > 0.9  # a reconstructed count: not whole numbers
    loans = next(v for v in tables["kommune_year_synthetic"].variables if v.name == "loans")
    assert "not a whole number" in loans.label and "per inhabitant x population" in loans.label
    assert "not a whole number" in loans.source and "glm.nb" in loans.source
    assert df.loc[df["year"] >= 2024, "has_population"].eq(0).all()
    assert df.loc[df["year"].isin([2020, 2021]), "covid_year"].eq(1).all()
    assert "**not a whole number**" in dictionary.markdown()


def test_a_round_without_cleaned_data_is_left_out_and_the_others_exported(built, tmp_path, monkeypatch):
    folder, _ = built
    processed = tmp_path / "processed"
    shutil.copytree(folder.parent, processed / folder.parent.name, ignore=shutil.ignore_patterns(exports.FOLDER))
    (processed / folder.parent.name / survey.output_paths(2014)[0].name).unlink()
    monkeypatch.setenv("BORGERSERVICE_PROCESSED", str(processed))
    export = exports.build()
    assert export.rounds == (2009, 2011) and list(export.left_out) == [2014]
    assert "no cleaned data for round 2014" in export.left_out[2014]
    listing = exports.write_exports(tables=export)
    manifest = json.loads((exports.folder() / exports.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert list(manifest["left_out"]) == ["2014"] and manifest["parameters"]["rounds"] == [2009, 2011]
    r = exports.key_results(export, listing, dictionary_up_to_date=True)
    assert r.rounds == (2009, 2011) and list(r.left_out) == [2014]
    from helpers.outputs import brief

    said = brief.sentences(results.Document("05_export_data", True, "", {}, r))
    assert any(s.startswith("Round 2014 is not exported (no cleaned data for round 2014") for s in said)
    ky = next(t for t in export.tables if t.name == "kommune_year").frame
    assert "model_2014" not in ky.columns and {"model_2009", "model_2011"} <= set(ky.columns)


def test_stata_notes_are_added_where_stata_reads_them(tmp_path):
    from helpers.outputs import dta

    f = tmp_path / "x.dta"
    pyreadstat.write_dta(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), f, column_labels={"a": "A"}, version=14)
    dta.add_notes(f, ["file: æøå"], {"a": ["real: somewhere"], "b": ["synthetic", "second"]})
    assert dta.read_characteristics(f) == {
        ("_dta", "note1"): "file: æøå",
        ("_dta", "note0"): "1",
        ("a", "note1"): "real: somewhere",
        ("a", "note0"): "1",
        ("b", "note1"): "synthetic",
        ("b", "note2"): "second",
        ("b", "note0"): "2",
    }
    df, meta = pyreadstat.read_dta(f)
    assert df["b"].tolist() == ["x", "y"] and meta.column_names_to_labels["a"] == "A" and meta.notes == ["file: æøå"]
    assert pd.read_stata(f)["a"].tolist() == [1.0, 2.0]  # pandas finds the data through the moved <map>
    with pytest.raises(ValueError, match="characteristics present"):
        dta.add_notes(f, ["again"], {})


def test_spss_lines_are_at_most_80_bytes_and_keep_every_word():
    note = "kommunekode: real: " + "æ" * 30 + " " + "word " * 30 + "x" * 200
    lines = exports.spss_lines([note, "short"])
    assert all(len(line.encode()) <= 80 for line in lines) and lines[-1] == "short"
    assert "".join(line.strip() for line in lines[:-1]).replace(" ", "") == note.replace(" ", "")


def test_the_loans_label_says_how_the_count_was_made():
    """Per inhabitant x population from the real per-capita file; a count as published from StatBank."""
    loans = [v for v in variables.PANEL_VARIABLES if v.name == "loans"]
    frame = pd.DataFrame({"loans": [1234.5]})
    for label, synthetic, expected in (
        (usage.SOURCE_LABELS["real"], False, variables.RECONSTRUCTED_LOANS_LABEL),
        (usage.SOURCE_LABELS["statbank"], False, "Physical loans, count for the library unit"),
        (usage.SOURCE_LABELS["synthetic"], True, "Physical loans, count for the library unit"),
    ):
        sources = variables.Sources(usage={"loans": variables.RawSource(label, synthetic)})
        table = exports._table("t", "t", frame, loans, {}, sources, [])
        assert table.variables[0].label == expected and table.provenance["loans"].synthetic is synthetic
    assert "not a whole number" in variables.RECONSTRUCTED_LOANS_LABEL
