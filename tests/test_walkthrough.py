"""From your export to the report: the README's walk-through, run step by step, and then two later rounds.

The steps are read from the README's section *From your export to the report*: its `borgerservice`
commands are run as they are written (the config's path given, since the test works on a copy; the
report without its PDF) and its YAML is applied to the copy of config/pipeline.yaml. The one step a
test cannot take as written is the first, the export from the survey tool: `own_export` saves the 2011
example's cells again as `survey_2011.xlsx`, which is what a survey tool's second export looks like.
The only other differences from `make run` are that the simulations of notebooks 03 and 04 are shortened
(which changes how long they take, not what is real or synthetic) and that a notebook may run for an hour on a
machine shared with other work. Everything is written to temporary
folders (raw data, processed data, reports), so the test passes on a fresh clone.

Then a 4th and a 5th round are added with `new-round` and the pipeline runs again, green: the runs
whose data do not cover the new years are skipped with their reason, and the overview names five rounds.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pandas as pd
import pyreadstat
import pytest
import yaml
from own_export import own_export
from panel_sample import estimation_sample

from helpers.core import paths
from helpers.running import cli, pipeline

SHORT = {"coverage_reps": 40, "power_reps": 20, "simulation_reps": 20, "bootstrap_draws": 99, "honest_points": 10}
SECTION = "### From your export to the report"


def walkthrough() -> tuple[list[list[str]], dict, str]:
    """The README's walk-through: its borgerservice commands (argument lists, in order), its YAML, and the
    export's path under data/raw (from the add-data command)."""
    text = (paths.root() / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) : text.index("\n## ", text.index(SECTION) + 1)]
    commands = [
        shlex.split(line.strip())[1:]
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)
        for line in block.splitlines()
        if line.strip().startswith(".venv/bin/borgerservice ")
    ]
    commands += [
        shlex.split(c)[1:] for c in re.findall(r"`(\.venv/bin/borgerservice (?:run|report))`", section)
    ]  # steps 4 and 5, written inline beside `make run` and `make report`
    (snippet,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    export = next(c[1] for c in commands if c[0] == "add-data")
    return commands, yaml.safe_load(snippet), export


def _config(target, edit=None):
    """The project's config/pipeline.yaml, simulations shortened, with ``edit`` applied (the README's YAML)."""
    doc = yaml.safe_load((paths.config() / "pipeline.yaml").read_text(encoding="utf-8"))
    doc["timeout_seconds"] = max(int(doc.get("timeout_seconds", 0)), 3600)  # a machine shared with other work
    for section in ("runs", "per_round", "per_pair", "per_round_set"):
        for item in doc.get(section) or []:
            declared = pipeline.notebook_parameters(paths.notebooks() / item["notebook"])
            item["parameters"] = {**(item.get("parameters") or {}), **{k: v for k, v in SHORT.items() if k in declared}}
    for key, value in (edit or {}).items():
        if key == "rounds":
            for year, spec in value.items():
                doc["rounds"][int(year)].update(spec)
        else:
            doc[key] = {**(doc.get(key) or {}), **value}
    target.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def _run_args(config, rounds) -> list[str]:
    """``run --config`` for everything; while the config still expands the adoption study for every subset of
    rounds (per_round_set), those runs only for the set of all rounds."""
    cfg = pipeline.load_config(config)
    keep = [r.id for r in cfg.runs if r.entry.split("[")[0] != "per_round_set" or r.rounds == tuple(sorted(rounds))]
    every = len(keep) == len(cfg.runs)
    return ["run", "--config", str(config), "--workers", "2", *([] if every else ["--only", *keep])]


def _results(reports) -> dict[str, dict]:
    return {f.parent.name: json.loads(f.read_text(encoding="utf-8")) for f in (reports / "results").glob("*/*.json")}


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    base = tmp_path_factory.mktemp("walkthrough")
    shutil.copytree(paths.raw(), base / "raw")
    with pytest.MonkeyPatch.context() as mp:
        for env, name in (
            ("BORGERSERVICE_RAW", "raw"),
            ("BORGERSERVICE_PROCESSED", "processed"),
            ("BORGERSERVICE_REPORTS", "reports"),
        ):
            (base / name).mkdir(exist_ok=True)
            mp.setenv(env, str(base / name))
        commands, snippet, export = walkthrough()
        # 1. your export (here: the 2011 example's cells, saved again)
        own_export("survey/example_survey_2011.xlsx", export)
        config = _config(base / "pipeline.yaml")
        codes = []
        for args in commands:
            if args[0] == "run":  # 3. the config, before the run
                config = _config(base / "pipeline.yaml", snippet)
                args = _run_args(config, pipeline.load_rounds(config))
            elif args[0] == "report":
                args = [*args, "--no-pdf"]
            codes.append((args[0], cli.main(args)))
        yield {"base": base, "config": config, "codes": codes, "snippet": snippet, "export": export, "mp": mp}


@pytest.mark.slow
def test_the_readme_walkthrough_runs_and_says_which_outputs_are_real(walked):
    assert [c for c, _ in walked["codes"]] == ["add-data", "check-data", "run", "report"]
    assert all(code == 0 for _, code in walked["codes"]), walked["codes"]
    assert walked["snippet"]["defaults"] == {"real_only": True}
    reports, processed = walked["base"] / "reports", walked["base"] / "processed"
    results = _results(reports)
    real = {run for run, doc in results.items() if not doc["synthetic"]}
    assert real == {"00_reference", "01_clean_survey_2011", "01_usage_panel"}, real
    assert {"01_clean_survey_2009", "01_clean_survey_2014", "02_compare_2009_2011", "05_export_data"} <= (
        set(results) - real
    )
    clean = {i["file"]: i["synthetic"] for i in results["01_clean_survey_2011"]["inputs"]}
    assert clean[f"data/raw/{walked['export']}"] is False and "data/raw/survey/example_survey_2011.xlsx" not in clean
    assert all(i["synthetic"] is False for i in results["01_usage_panel"]["inputs"])  # real-only: no example panel
    exports = processed / "05_export_data" / "exports"
    stems = {f.stem for f in exports.glob("*.dta")}
    assert stems == {
        "survey_2009_synthetic",
        "survey_2011",
        "survey_2014_synthetic",
        "usage_panel",
        "analysis_synthetic",
        "kommune_year_synthetic",
    }
    _, meta = pyreadstat.read_dta(exports / "survey_2011.dta", metadataonly=True)
    assert not meta.file_label.startswith("SYNTHETIC") and meta.notes[0].startswith("Real data only")
    analysis = pd.read_parquet(exports / "analysis_synthetic.parquet")
    assert analysis.groupby("round")["survey_synthetic"].max().to_dict() == {2009: 1, 2011: 0, 2014: 1}
    index = (reports / "site" / "index.html").read_text(encoding="utf-8")
    head = index[index.index('href="notebooks/01_clean_survey_2011.html"') :].split("</h3>")[0]
    assert 'class="real-mark"' in head and "synthetic-mark" not in head
    head = index[index.index('href="notebooks/02_compare_2009_2011.html"') :].split("</h3>")[0]
    assert 'class="synthetic-mark"' in head
    data = index[index.index("<h2>Data</h2>") : index.index("<h2>Results in brief")]
    assert f"<code>data/raw/{walked['export']}</code></td><td>real</td>" in data
    assert "example_survey_2011.xlsx" in data[data.index("Not read by any run") :]
    assert "clean three survey rounds (2009, 2011, 2014)" in index


@pytest.mark.slow
def test_the_panels_cohorts_equal_notebook_04s(walked):
    """The cohorts notebook 04 reports (units per first treated year, treatment "any", the real loans, every
    round) are those re-derived from the exported kommune x year panel."""
    results = _results(walked["base"] / "reports")
    rounds = sorted(pipeline.load_rounds(walked["config"]))
    (doc,) = [
        d
        for run, d in results.items()
        if run.startswith("04_adoption_real")
        and d["results"]["rounds"] == rounds
        and d["results"]["treatment"] == "any"
    ]
    exports = walked["base"] / "processed" / "05_export_data" / "exports"
    df, meta = pyreadstat.read_dta(exports / "kommune_year_synthetic.dta")
    sample = estimation_sample(df, meta, "any")
    cohorts = {str(int(g)): int(n) for g, n in sample.groupby("g_any")["kommunekode"].nunique().items()}
    assert cohorts == {str(k): int(v) for k, v in doc["results"]["cohorts"].items()}


@pytest.mark.slow
def test_a_fourth_and_a_fifth_round_are_added_and_the_pipeline_runs_green(walked):
    config = walked["config"]
    for year, step in ((2017, 4), (2020, 3)):
        target = f"survey/survey_{year}.xlsx"
        own_export("survey/example_survey_2014.xlsx", target, years=year - 2014, step_up_every=step)
        source = ["--source", f"the 2014 example moved to {year}", "--licence", "CC0-1.0"]
        assert cli.main(["add-data", target, *source, "--synthetic"]) == 0
        args = ["new-round", str(year), "--like", "2014", "--input", target, "--codebook", "2014"]
        assert cli.main([*args, "--config", str(config)]) == 0
    rounds = pipeline.load_rounds(config)
    assert sorted(rounds) == [2009, 2011, 2014, 2017, 2020]
    assert cli.main(_run_args(config, rounds)) == 0  # green
    manifest = json.loads((walked["base"] / "reports" / pipeline.MANIFEST).read_text(encoding="utf-8"))
    status = {r["id"]: r for r in manifest["runs"]}
    assert {r["status"] for r in status.values()} <= {"ok", "skipped", "not covered"}
    uncovered = {i for i, r in status.items() if r["status"] == "not covered"}
    assert uncovered == {"03_model_visits_2014_2017", "03_model_visits_2017_2020"}
    assert "no visits values for usage year 2018" in status["03_model_visits_2014_2017"]["error"]
    assert status["03_model_loans_2017_2020"]["status"] == "ok" and status["01_clean_survey_2020"]["status"] == "ok"
    assert status["01_clean_survey_2011"]["status"] == "skipped"  # nothing of the 2011 round changed
    exports = walked["base"] / "processed" / "05_export_data" / "exports"
    panel = pd.read_parquet(exports / "kommune_year_synthetic.parquet")
    assert {"model_2017", "model_2020"} <= set(panel.columns)
    assert panel.loc[panel["year"] == 2021, "round_in_force"].eq(2020).all()
    assert cli.main(["report", "--no-pdf"]) == 0
    index = (walked["base"] / "reports" / "site" / "index.html").read_text(encoding="utf-8")
    assert "clean five survey rounds (2009, 2011, 2014, 2017, 2020) of how" in index
    assert "(not covered: skipped)" in index and "three survey rounds" not in index
