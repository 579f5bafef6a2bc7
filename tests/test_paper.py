"""The manuscript bound to the run (helpers.outputs.paper): placeholders filled from the typed results of
recorded runs, the build refusing stale, failed or missing values and numbers typed by hand, the synthetic
mark on the title page, and the three formats (.docx, .tex, .pdf) built end to end."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from site_fixture import REFERENCE, SURVEY, build_reports
from test_brief import _adoption_doc, _model_doc

from helpers.core import files, paths
from helpers.core.vocabulary import ValueFormat, choices
from helpers.outputs import brief, paper, references
from helpers.outputs.paper import bind, source, writer
from helpers.running import pipeline

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

MANUSCRIPT = """\
---
title: "Library use and citizen services"
author: "A. Author"
# the runs this text reports: {{not.a.placeholder}} in a comment stays as it is
runs:
  ref: 00_reference
  survey: 01_clean_survey_2011
---

# Data

The {{ref.n_kommuner}} kommuner had {{ref.population_sum_of_kommuner | count}} inhabitants in
{{ref.year}}, in {{ref.kommuner_per_region.Region Hovedstaden}} to the capital region.
SURVEY_SENTENCE
FIGURE
TABLE

# References

{{references}}
"""
SURVEY_PART = {
    "SURVEY_SENTENCE": "In {{survey.year}}, {{survey.response.answered_model}} kommuner answered the model question "
    "({{survey.response.response_rate | share}}); {{survey.models[model=3].kommuner}} reported [model 3]{.literal}.",
    "FIGURE": "\n{{figure: survey/survey_2011_models | Models reported in the round.}}\n",
    "TABLE": "\n{{table: survey/survey_2011_models | Kommuner per model.}}\n",
}


def manuscript(
    folder: Path, *, synthetic_part: bool = True, text: str = MANUSCRIPT, replace: dict[str, str] | None = None
) -> Path:
    """A manuscript in ``folder``: the reference run (real) and, with ``synthetic_part``, the survey run (synthetic);
    then each ``replace`` (old text -> new text)."""
    for key, part in SURVEY_PART.items():
        text = text.replace(key, part if synthetic_part else "")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    if not synthetic_part:
        text = text.replace("  survey: 01_clean_survey_2011\n", "")
    target = folder / "paper" / "manuscript.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def record_outputs(reports: Path) -> dict:
    """The run manifest of tests/site_fixture.py with each run's outputs and their sha256, as `borgerservice run`
    records them (pipeline.collect_outputs)."""
    manifest = json.loads((reports / "run_manifest.json").read_text(encoding="utf-8"))
    for record in manifest["runs"]:
        record["outputs"] = pipeline.collect_outputs(record["id"], files.HashCache())
    (reports / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


@pytest.fixture
def project(outputs):
    """Two recorded runs (00_reference real, 01_clean_survey_2011 synthetic, with a figure and a table) and a
    manuscript bound to them."""
    reports = outputs / "reports"
    build_reports(reports)
    record_outputs(reports)
    return outputs


def messages(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(i) for i in exc.value.issues]


# --- the source: syntax and numbers typed by hand ---------------------------------------------------------------


def test_numbers_typed_by_hand_are_found_with_their_line_and_the_allowlist_passes():
    text = (
        "---\ntitle: A 2nd test\nruns:\n  a: 00_reference  # alias 1\n---\n"  # 1-5: YAML comment, ordinal name
        "## 2 Data\n"  # 6: a section number
        "1. The 2007 reform made {{a.n_kommuner}} kommuner; 88 answered.\n"  # 7: list marker, year; 88 typed
        "Tables FOLK1A and BIB1, `make 3`, <!-- 42 --> and [models 1-4]{.literal}.\n"  # 8: all allowed
        "An effect of +2.8 % [see](https://example.org/9).\n"  # 9: 2.8 typed; the link target is not text
        "{{figure: a/map | A map of 5 regions.}}\n"  # 10: a caption is text
        "```\nx = 10\n```\n"  # 11-13: code
    )
    found = [(t.line, t.number) for t in source.typed_numbers(text)]
    assert found == [(7, "88"), (9, "2.8"), (10, "5")]
    issue = str(source.typed_numbers(text)[0].issue())
    assert issue.startswith("line 7: the number '88' is typed by hand") and "{.literal}" in issue


def test_the_shipped_manuscript_has_no_typed_number_and_binds_declared_fields_of_the_shipped_runs():
    """Without any run: every placeholder of paper/manuscript.md names a run of config/pipeline.yaml and a field its
    key-results class declares, with a format that can write it; a renamed field fails here."""
    m, issues = source.read()
    assert issues == []
    assert source.typed_numbers(m.text) == []
    assert bind.check_types(m, [r.id for r in pipeline.load_config().runs]) == []
    kinds = {p.kind for p in m.placeholders}
    assert kinds == {"value", "figure", "table", "references"}
    assert len([p for p in m.placeholders if p.kind == "value"]) >= 40


def test_check_types_names_a_field_that_no_longer_exists_and_a_format_that_does_not_fit():
    m, _ = source.parse(
        "---\nruns:\n  a: 04_adoption_real_2009_2011_2014\n  r: 00_reference\n  x: 09_nothing\n---\n"
        "{{a.twfe_static.estmate | signed_percent}} {{a.twfe_static.estimate}} {{a.twfe_static | ratio}}\n"
        "{{a.headline_study.effects[event_time=0] | effect_interval}} {{r.kommuner_per_region.Fyn}}\n"
        "{{a.cohorts.first}} {{x.y}}\n"
    )
    problems = [str(i) for i in bind.check_types(m, ["04_adoption_real_2009_2011_2014", "00_reference"])]
    assert problems[0].startswith("line 7: {{a.twfe_static.estmate | signed_percent}}: a = run 04_adoption_real")
    assert "no field 'estmate' in StaticEffect; fields: estimate, se, low, high, p, n" in problems[0]
    assert problems[1].startswith("line 7: {{a.twfe_static.estimate}}: a float needs a format (| name)")
    assert problems[2].startswith("line 7: {{a.twfe_static | ratio}}: format 'ratio' needs number")
    assert (
        problems[3].startswith("line 9: {{a.cohorts.first}}:") and "keys of this dict are whole numbers" in problems[3]
    )
    assert problems[4] == "line 9: {{x.y}}: x = run 09_nothing, which the pipeline config does not have"
    assert len(problems) == 5  # the selection and the dict key by name are declared


def test_syntax_problems_are_listed_with_their_line():
    m, issues = source.parse(
        "---\ntitle: x\nruns:\n  a: 00_reference\n---\n"
        "Text {{figure: a/map | A map.}} in a sentence.\n"
        "{{b.year}} {{a}} {{a.year | }} {{a..year}}\n"
        "{{table: a/t}}\n"
    )
    assert [str(i) for i in issues] == [
        "line 6: {{figure: a/map | A map.}}: a figure placeholder stands alone on its line",
        "line 7: {{b.year}}: no run alias 'b' in the front matter; aliases: ['a']",
        "line 7: {{a}}: {{a}} names a run, not a value: add the field (e.g. {{a.field}})",
        "line 7: {{a..year}}: cannot read the path from '..year': steps are .field, [key=value] or [index]",
        "line 8: {{table: a/t}}: the table needs a caption after '|'",
    ]
    assert [p.text for p in m.placeholders] == ["{{figure: a/map | A map.}}", "{{b.year}}", "{{a.year | }}"]
    _, issues = source.parse("# No front matter\n")
    assert [str(i) for i in issues] == [
        "front matter: no YAML front matter (--- at the first line): it names the runs the text reports",
        "front matter: the front matter has no 'runs' (alias: run id, one per line)",
    ]


# --- values and their formats ---------------------------------------------------------------------------------------


def test_the_formats_are_the_vocabulary_and_write_what_the_briefs_write():
    assert set(bind.FORMATS) == set(choices(ValueFormat))
    adoption = _adoption_doc(synthetic=True)
    said = " ".join(brief.sentences(adoption))
    study = adoption.results.headline_study
    e0 = next(e for e in study.effects if e.event_time == 0)
    assert bind.write(e0, "effect_interval") in said  # "+x.x % (95 % interval a to b %)", verbatim
    assert bind.write(study.pretrend.p, "p_value") in said and bind.write(study.pretrend.p, "evidence") in said
    st = adoption.results.twfe_static
    assert f"{bind.write(st.estimate, 'signed_percent')} ({bind.write(st, 'percent_interval')})" in said
    model = _model_doc(1.038, 0.998, 1.079, synthetic=False)
    said = " ".join(brief.sentences(model))
    row = model.results.sensitivity[0]
    assert bind.write(row.irr, "pct") in said  # "3.8 % higher"
    assert all(bind.write(x, "ratio") in said for x in (row.irr, row.irr_low, row.irr_high))
    assert bind.write(model.results.change.per_level, "signed_percent") in said  # "-2.1 %"
    assert bind.write(model.results.power.minimal_detectable_irr, "rough_ratio") in said  # "1.22"
    assert bind.write(row, "ratio_interval") == "1.038 (95 % interval 0.998 to 1.079)"
    assert bind.write(model.results.change, "change_interval") == "-2.1 % (95 % interval -4.0 to -0.2 %)"
    assert bind.write(SURVEY.response.response_rate, "share") == "88%"  # as the survey brief writes it
    assert (bind.write(5_560_534, "count"), bind.write(2011, ""), bind.write((2009, 2011), "")) == (
        "5,560,534",
        "2011",
        "2009, 2011",
    )


def test_a_value_is_found_by_field_key_selection_and_index_or_the_problem_says_what_there_is():
    r = SURVEY
    steps = source.parse_path("s.models[model=3].kommuner")[1]
    assert bind.resolve(r, steps) == 14
    assert bind.resolve(r, source.parse_path("s.models[1].model")[1]) == 5
    assert bind.resolve(REFERENCE, source.parse_path("r.kommuner_per_region.Region Sjælland")[1]) == 17
    with pytest.raises(LookupError, match="no field 'answered' in Response; fields: rows, answered_model"):
        bind.resolve(r, source.parse_path("s.response.answered")[1])
    with pytest.raises(LookupError, match=r"\[model=7\]: 0 elements of 6 match \(exactly one must\)"):
        bind.resolve(r, source.parse_path("s.models[model=7].kommuner")[1])
    with pytest.raises(LookupError, match=r"\[9\]: the tuple has 6 elements"):
        bind.resolve(r, source.parse_path("s.models[9]")[1])
    with pytest.raises(ValueError, match="null"):
        bind.write(None, "ratio")
    with pytest.raises(TypeError, match="format 'count' needs whole"):
        bind.write(0.5, "count")


# --- binding to the recorded runs -------------------------------------------------------------------------------------


def test_values_figures_and_tables_are_bound_to_the_recorded_files(project):
    b = paper.check(manuscript(project), key_check=False)
    texts = {v.placeholder.text: v.text for v in b.values}
    assert texts["{{ref.population_sum_of_kommuner | count}}"] == "5,560,534"
    assert texts["{{ref.kommuner_per_region.Region Hovedstaden}}"] == "29"
    assert texts["{{survey.models[model=3].kommuner}}"] == "14" and texts["{{ref.year}}"] == "2011"
    assert [(a.placeholder.kind, a.file) for a in b.assets] == [
        ("figure", "reports/figures/01_clean_survey_2011/survey_2011_models_synthetic_en.png"),
        ("table", "reports/tables/01_clean_survey_2011/survey_2011_models_synthetic.csv"),
    ]
    assert b.synthetic and b.sources["survey"].file == "reports/results/01_clean_survey_2011/01_clean_survey_2011.json"


def test_a_results_file_changed_after_its_run_fails_the_build_naming_the_placeholder(project):
    f = paths.reports() / "results" / "00_reference" / "00_reference.json"
    doc = json.loads(f.read_text(encoding="utf-8"))
    doc["results"]["n_kommuner"] = 99  # edited by hand after the run
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(paper.ManuscriptError) as exc:
        paper.build(manuscript(project), key_check=False)
    assert messages(exc) == [
        "line 12: {{ref.n_kommuner}} (and 3 more of 'ref'): reports/results/00_reference/00_reference.json changed "
        "after run 00_reference wrote it (sha256 differs from the run manifest)"
    ]
    assert "manuscript.md: 1 problem(s)" in str(exc.value)
    assert not (paths.reports() / "paper").exists()  # nothing half-built


def test_a_failed_run_a_missing_run_and_a_missing_field_fail_the_build(project):
    manifest = json.loads((paths.reports() / "run_manifest.json").read_text(encoding="utf-8"))
    manifest["runs"][1].update(status="failed", error="PapermillExecutionError: cell 7")
    (paths.reports() / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    text = MANUSCRIPT.replace("{{ref.year}}", "{{ref.year_of_population}}").replace(
        "  survey: 01_clean_survey_2011\n", "  survey: 01_clean_survey_2011\n  usage: 01_usage_panel\n"
    )
    text = text.replace("# References", "{{usage.rows}} rows.\n\n# References")
    with pytest.raises(paper.ManuscriptError) as exc:
        paper.check(manuscript(project, text=text), key_check=False)
    problems = messages(exc)
    assert problems[0] == (
        "line 14: {{ref.year_of_population}}: ref = run 00_reference: no field 'year_of_population' in "
        "ReferenceResults; fields: year, n_kommuner, kommuner_per_region, population_sum_of_kommuner, "
        "population_national_dst"
    )
    assert problems[1].startswith(
        "line 15: {{survey.year}} (and 5 more of 'survey'): run 01_clean_survey_2011 did not "
    )
    assert "status failed (PapermillExecutionError: cell 7)" in problems[1]
    assert problems[2] == (
        "line 23: {{usage.rows}}: run 01_usage_panel is not in the run manifest: run it first (make run)"
    )


def test_a_figure_the_run_did_not_record_is_named_with_the_figures_it_has(project):
    target = manuscript(project, replace={"survey/survey_2011_models | Models": "survey/survey_2011_maps | Models"})
    with pytest.raises(paper.ManuscriptError) as exc:
        paper.check(target, key_check=False)
    assert messages(exc) == [
        "line 16: {{figure: survey/survey_2011_maps | Models reported in the round.}}: survey = run "
        "01_clean_survey_2011: run 01_clean_survey_2011 recorded no figure 'survey_2011_maps'; its figures: "
        "survey_2011_models"
    ]


def record_keys() -> None:
    """Record in the run manifest each run's key and what it read, as `borgerservice run` computes them now."""
    manifest = json.loads((paths.reports() / "run_manifest.json").read_text(encoding="utf-8"))
    cfg = pipeline.load_config()
    cache = files.HashCache()
    static = pipeline.static_keys(cfg.runs, cfg, pipeline.input_hashes(cache), pipeline.code_hash(cache), cache)
    for record in manifest["runs"]:
        record["key"] = pipeline.final_key(static[record["id"]][0], {})
        record["reads"] = static[record["id"]][1]
    (paths.reports() / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_run_whose_inputs_changed_is_not_up_to_date(project, raw_copy):
    """The key check: a run is up to date only when `borgerservice run` would skip it. The manifest here records the
    keys the pipeline computes; then one input changes. A manifest without keys is not taken as up to date."""
    target = manuscript(project)
    with pytest.raises(paper.ManuscriptError, match="records no key for it"):
        paper.check(target)
    record_keys()
    assert len(paper.check(target).values) == 8  # up to date
    codebook = raw_copy / "survey" / "example_survey_2011.xlsx"
    codebook.write_bytes(codebook.read_bytes() + b"\0")  # the 2011 export changes; the reference run does not read it
    with pytest.raises(paper.ManuscriptError) as exc:
        paper.check(target)
    assert messages(exc) == [
        "line 14: {{survey.year}} (and 5 more of 'survey'): run 01_clean_survey_2011 is not up to date: what it "
        "reads changed since it ran (raw:survey/example_survey_2011.xlsx); run it again (make run)"
    ]
    # what else the message can say, as specifically as the manifest allows
    manifest = json.loads((paths.reports() / "run_manifest.json").read_text(encoding="utf-8"))
    record = manifest["runs"][0]  # 00_reference, whose inputs did not change
    record.update(key="an older key", parameters={"year": 2014})
    manifest["packages"] = {p: pipeline.keys.package_version(p) for p in pipeline.KEY_PACKAGES}
    stale = bind.out_of_date(manifest, ["00_reference"])
    assert stale == {"00_reference": "its parameters in the pipeline config changed since it ran"}
    record["parameters"] = next(r.parameters for r in pipeline.load_config().runs if r.id == "00_reference")
    assert bind.out_of_date(manifest, ["00_reference"]) == {
        "00_reference": "the helper code (src/helpers) or its notebook changed since it ran"
    }
    manifest["packages"]["pandas"] = "1.0.0"
    assert bind.out_of_date(manifest, ["00_reference"])["00_reference"].startswith(
        "package versions changed since it ran (pandas 1.0.0 -> "
    )


def test_the_manifest_must_exist(outputs, tmp_path):
    with pytest.raises(FileNotFoundError, match="reports/run_manifest.json not found: run the notebooks first"):
        paper.check(manuscript(tmp_path))


# --- the built manuscript -------------------------------------------------------------------------------------------


def _pdf_pages(f: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(str(f)).pages]


def test_the_three_formats_are_built_with_the_synthetic_mark_on_the_title_page(project):
    built = paper.build(manuscript(project), key_check=False)
    mark = writer.SYNTHETIC_MARK
    assert built.synthetic and (built.values, built.figures, built.tables) == (8, 1, 1)
    md = built.markdown.read_text(encoding="utf-8")
    assert "{{" not in md.split("# References")[0].replace("{{not.a.placeholder}}", "")
    assert "5,560,534 inhabitants in\n2011, in 29 to the capital region" in md
    assert "![Models reported in the round.](figures/01_clean_survey_2011/survey_2011_models_synthetic_en.png)" in md
    assert "Table: Kommuner per model." in md and references.REFERENCES[0].title in md
    # .docx: A4, title page = title, the mark as subtitle (in red), then author and the run's date line
    from docx import Document

    doc = Document(str(built.docx))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    first = [(p.style.name, p.text) for p in doc.paragraphs[:4]]
    assert first == [
        ("Title", "Library use and citizen services"),
        ("Subtitle", mark),
        ("Author", "A. Author"),
        ("Date", "Numbers from the run of 2026-12-01, commit 0123456789ab"),
    ]
    assert str(doc.styles["Subtitle"].font.color.rgb) == "C0392B"
    assert len(doc.tables) == 1 and len(doc.inline_shapes) == 1
    # .pdf: A4, the mark on the first page with the title
    from pypdf import PdfReader

    box = PdfReader(str(built.pdf)).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    pages = _pdf_pages(built.pdf)
    assert "Library use and citizen services" in pages[0] and mark in pages[0]
    assert "5,560,534" in " ".join(pages)
    # .tex: the mark in the title block, the figure by its relative path
    tex = built.tex.read_text(encoding="utf-8")
    assert mark in tex.split("\\begin{document}")[0]
    assert "figures/01_clean_survey_2011/survey_2011_models_synthetic_en.png" in tex
    record = json.loads(built.bindings.read_text(encoding="utf-8"))
    assert record["synthetic"] and record["runs"]["survey"]["sha256"] == files.sha256(
        paths.reports() / "results" / "01_clean_survey_2011" / "01_clean_survey_2011.json"
    )
    assert {"placeholder": "{{ref.year}}", "value": 2011, "text": "2011"}.items() <= record["values"][2].items()


def test_a_manuscript_from_real_runs_only_carries_no_synthetic_mark(project):
    built = paper.build(manuscript(project, synthetic_part=False), key_check=False, formats=("docx", "pdf"))
    assert not built.synthetic and built.tex is None
    mark = writer.SYNTHETIC_MARK
    assert mark not in built.markdown.read_text(encoding="utf-8")
    assert not any(mark in page for page in _pdf_pages(built.pdf))
    from docx import Document

    assert [p.style.name for p in Document(str(built.docx)).paragraphs[:2]] == ["Title", "Author"]


def test_a_format_outside_the_vocabulary_is_refused(project):
    with pytest.raises(ValueError, match="format 'html' is not accepted; accepted: 'docx', 'tex', 'pdf'"):
        paper.build(manuscript(project), formats=("html",), key_check=False)


def test_symbols_become_latex_macros_and_a_character_without_one_is_an_error_not_a_gap():
    tex = writer.latex_symbols("Effect −0.2, α and χ² ≤ 5; København")
    assert (
        tex
        == "Effect \\ensuremath{-}0.2, \\ensuremath{\\alpha} and \\ensuremath{\\chi}² \\ensuremath{\\leq} 5; København"
    )
    with pytest.raises(ValueError, match=r"no LaTeX form for '☃' \(U\+2603\)"):
        writer.latex_symbols("a snowman ☃")


def _latex(engine: str) -> str | None:
    found = shutil.which(engine)
    if found is None and CI:
        pytest.fail(f"{engine} is missing under CI: .ci/run installs TeX Live")
    return found


@pytest.mark.parametrize("engine", ["pdflatex", "lualatex"])
def test_the_tex_compiles_with_pdflatex_and_lualatex_and_drops_no_character(project, engine, tmp_path):
    exe = _latex(engine)
    if exe is None:
        pytest.skip(f"{engine} not installed (TeX Live; .ci/run installs it)")
    symbols = {"to the capital region.": "to the capital region ([−0.2]{.literal}, α ≤ χ², København)."}
    built = paper.build(manuscript(project, replace=symbols), key_check=False, formats=("tex",))
    folder = tmp_path / "tex"
    shutil.copytree(built.folder, folder)
    tex = folder / "manuscript.tex"
    done = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = (folder / "manuscript.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, log[-3000:]
    assert not re.findall(r"Missing character: There is no .*", log)
    assert (folder / "manuscript.pdf").stat().st_size > 10_000


# --- end to end: the real notebooks, then a changed input --------------------------------------------------------


@pytest.mark.slow
def test_end_to_end_the_paper_is_bound_to_a_real_run_until_an_input_changes(outputs, raw_copy, tmp_path):
    """00_reference and 01_clean_survey_2011 run through the pipeline (their real notebooks); the manuscript
    binds, builds all three formats with no machine path in them, and fails, naming the placeholders, once the
    population file the reference run read has changed."""
    from test_no_absolute_paths import offending

    runs = pipeline.run(only=["00_reference", "01_clean_survey_2011"], workers=1, echo=lambda *_: None)
    assert {o.id: o.status for o in runs} == {"00_reference": "ok", "01_clean_survey_2011": "ok"}
    target = manuscript(
        tmp_path, replace={"{{figure: survey/survey_2011_models": "{{figure: ref/reference_density_2011"}
    )
    built = paper.build(target)
    assert built.synthetic and built.values == 8 and built.docx.is_file() and built.pdf.is_file()
    assert offending(built.folder, str(paths.root())) == []
    population = next((raw_copy / "reference" / "dst").glob("population_1jan_kommune_*.csv"))
    population.write_bytes(population.read_bytes() + b"\n")
    with pytest.raises(paper.ManuscriptError) as exc:
        paper.build(target)
    problems = messages(exc)
    assert problems[0].startswith("line 12: {{ref.n_kommuner}} (and 4 more of 'ref'): run 00_reference is not up")
    assert f"raw:reference/dst/{population.name}" in problems[0] and problems[0].endswith("run it again (make run)")
    assert built.pdf.is_file()  # the last good build stays until a new one succeeds


# --- the command line and the author's guide -------------------------------------------------------------------------


def test_the_command_checks_and_builds_and_names_every_problem(project, capsys):
    from helpers.running import cli

    target = manuscript(project)
    record_keys()
    manifest = json.loads((paths.reports() / "run_manifest.json").read_text(encoding="utf-8"))
    manifest["runs"][0].update(status="failed", error="cell 3")
    (paths.reports() / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert cli.main(["paper", "--manuscript", str(target), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "manuscript.md: 1 problem(s)" in err
    assert "  - line 12: {{ref.n_kommuner}} (and 3 more of 'ref'): run 00_reference did not succeed" in err
    assert "Traceback" not in err
    assert cli.main(["paper", "--formats", "rtf"]) == 2
    assert "format 'rtf' is not accepted; accepted: 'docx', 'tex', 'pdf'" in capsys.readouterr().err
    manifest["runs"][0].update(status="ok", error="")
    (paths.reports() / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert cli.main(["paper", "--manuscript", str(target), "--formats", "docx"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("wrote ") and out[0].endswith("paper/manuscript.docx")
    assert (
        out[-1] == "8 values, 1 figure and 1 table bound to the run; synthetic example data: marked on the title page"
    )


def test_the_authors_guide_lists_the_formats_and_the_allowlist():
    guide = (paths.root() / "paper" / "README.md").read_text(encoding="utf-8")
    table = guide.split("<!-- formats:start -->\n", 1)[1].split("<!-- formats:end -->", 1)[0]
    assert table == bind.formats_markdown()
    assert all(f"`{name}`" in table for name in choices(ValueFormat))
    assert "[models 1-4]{.literal}" in guide and "1900-2099" in guide


def test_a_per_cent_sign_is_never_broken_from_its_number(project):
    target = manuscript(
        project,
        replace={"({{survey.response.response_rate | share}})": "({{survey.response.response_rate | signed_percent}})"},
    )
    built = paper.build(target, key_check=False, formats=("docx",))
    assert "(+87.8\u00a0%)" in built.markdown.read_text(encoding="utf-8")  # the brief's "+87.8 %", set unbreakable
    from docx import Document

    assert any("+87.8\u00a0%" in p.text for p in Document(str(built.docx)).paragraphs)
