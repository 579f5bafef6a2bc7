"""The report site: an index with each run's results in brief, notebooks with folded code, figures,
tables, provenance; synthetic marks on every page from synthetic input; every link resolves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from site_fixture import SITE_PAGES, build_reports

from helpers.core import paths
from helpers.outputs import site


@pytest.fixture
def built(outputs):
    manifest = build_reports(paths.reports())
    return site.build(), manifest


def _pages(root: Path) -> dict[str, str]:
    return {
        p["path"]: (root / p["path"]).read_text(encoding="utf-8") for p in json.loads((root / "pages.json").read_text())
    }


def test_index_summarises_every_run_from_its_results(built):
    root, _ = built
    index = (root / "index.html").read_text(encoding="utf-8")
    assert 'href="notebooks/00_reference.html"' in index and 'href="notebooks/01_clean_survey_2011.html"' in index
    assert "5,560,534 inhabitants" in index  # 00_reference's brief, from its results JSON
    assert "54 of the 86 that answered (63%)" in index  # the survey round's brief: 16+15+14+9 cooperating
    assert "example_survey_2011.xlsx" in index and "synthetic" in index  # the data section names what is synthetic


def test_every_page_from_synthetic_input_is_marked_and_code_is_folded(built):
    root, _ = built
    pages = _pages(root)
    assert set(pages) == SITE_PAGES
    for path, text in pages.items():
        if path == "notebooks/00_reference.html":
            assert (
                'class="synthetic-mark"' not in text and "real data only" in text
            )  # a real run is not marked synthetic
        else:
            assert 'class="synthetic-mark"' in text, path
    nb = pages["notebooks/01_clean_survey_2011.html"]
    assert re.search(
        r'<details class="code"><summary>show code</summary>((?!</details>).)*answer', nb, re.S
    )  # code hidden by default
    assert (
        "43" in nb and "cdnjs" not in nb and "mathjax" not in nb.lower()
    )  # outputs shown; nothing fetched from the network


def test_every_local_link_and_image_resolves(built):
    root, _ = built
    for path, text in _pages(root).items():
        for target in re.findall(r'(?:href|src)="([^"#]+)"', text):
            if target.startswith(("http:", "https:", "data:")):
                continue
            assert (root / path).parent.joinpath(target).resolve().is_file(), f"{path}: broken link {target}"
    gallery = (root / "gallery.html").read_text()
    run = "01_clean_survey_2011"
    assert (
        f'src="figures/{run}/survey_2011_models_synthetic_en.png"' in gallery
        and f"figures/{run}/survey_2011_models_synthetic_en.svg" in gallery
    )
    assert f'href="tables/{run}/survey_2011_models_synthetic.csv"' in (root / "tables.html").read_text()


def test_provenance_shows_commit_versions_parameters_and_input_hashes(built):
    root, manifest = built
    text = (root / "provenance.html").read_text()
    assert manifest["git"]["commit"] in text and "pandas" in text and "2.2.3" in text
    assert "ab" * 32 in text and "survey/example_survey_2011.xlsx" in text
    assert "{&quot;year&quot;: 2011}" in text


def test_without_a_run_the_site_says_what_to_do(outputs):
    with pytest.raises(FileNotFoundError, match="run the notebooks first"):
        site.build()


@pytest.mark.skipif(not site.CHROMIUM.is_file(), reason="/usr/bin/chromium not installed")
def test_pdf_holds_every_page(built):
    from pypdf import PdfReader

    root, _ = built
    pdf = site.pdf(root)
    reader = PdfReader(str(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 6
    assert "5,560,534 inhabitants" in text and "Provenance" in text and "SYNTHETIC EXAMPLE DATA" in text
    assert "answer = 6" not in text  # code stays folded in print
    # Chromium records the pages' relative links as file:// URLs of this machine; the PDF keeps them relative
    uris = [
        str(a.get_object()["/A"].get_object()["/URI"])
        for page in reader.pages
        for a in page.get("/Annots") or []
        if "/A" in a.get_object() and "/URI" in a.get_object()["/A"].get_object()
    ]
    assert (
        "site/notebooks/00_reference.html" in uris
        and "site/tables/01_clean_survey_2011/survey_2011_models_synthetic.csv" in uris
    )
    assert not [u for u in uris if u.startswith("file:") or str(paths.root()) in u or str(root) in u]
    assert all((pdf.parent / u.split("#")[0]).is_file() for u in uris if not u.startswith(("http:", "https:")))


def test_the_gallery_prints_svgs_or_small_pngs_and_shows_the_300_dpi_png_on_screen(outputs, monkeypatch):
    from PIL import Image

    build_reports(paths.reports())
    run, name = "01_clean_survey_2011", "survey_2011_models_synthetic_en"  # the figure's language last
    gallery = (site.build() / "gallery.html").read_text()
    assert f'<img class="screen-only" src="figures/{run}/{name}.png"' in gallery
    assert f'<img class="print-only" src="figures/{run}/{name}.svg"' in gallery  # a light SVG prints as vectors
    assert "@media print" in gallery and ".screen-only { display: none; }" in gallery
    monkeypatch.setattr(site, "PRINT_SVG_MAX_BYTES", 0)  # as for a map: the SVG is too heavy, a small PNG prints
    monkeypatch.setattr(site, "PRINT_WIDTH_PX", 300)
    root = site.build()
    gallery = (root / "gallery.html").read_text()
    assert f'<img class="print-only" src="print/{run}/{name}.png"' in gallery
    with (
        Image.open(paths.reports() / "figures" / run / f"{name}.png") as full,
        Image.open(root / "print" / run / f"{name}.png") as small,
    ):
        assert full.width > 300 and small.width == 300 and small.mode == "RGB"
        assert small.height == round(full.height * 300 / full.width)


def test_print_copy_downscales_on_white_and_scales_the_dpi(tmp_path):
    from PIL import Image

    big = tmp_path / "big.png"
    im = Image.new("RGBA", (3000, 1500), (0, 0, 0, 0))  # transparent: must print white, not black
    im.paste((200, 30, 30, 255), (0, 0, 1500, 1500))
    im.save(big, dpi=(300, 300))
    out = site.print_copy(big, tmp_path / "print" / "big.png", width=1000)
    with Image.open(out) as small:
        assert small.size == (1000, 500) and small.mode == "RGB"
        assert small.getpixel((900, 250)) == (255, 255, 255) and small.getpixel((100, 250)) == (200, 30, 30)
        assert small.info["dpi"] == pytest.approx((100, 100), abs=0.01)
    narrow = tmp_path / "narrow.png"
    Image.new("RGB", (400, 200), "white").save(narrow)
    assert site.print_copy(narrow, tmp_path / "print" / "narrow.png").read_bytes() == narrow.read_bytes()


def test_site_folder_has_the_usual_permissions(built):
    import os
    import stat

    root, _ = built
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(root.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700


def test_manifest_paths_under_reports_are_read_from_the_redirected_reports(outputs):
    """A manifest's "reports/executed/..." is the reports folder it lives in, not the project's own
    (which may hold another run's executed notebook of the same name)."""
    reports = paths.reports()
    build_reports(reports)
    manifest_file = reports / "run_manifest.json"
    manifest = json.loads(manifest_file.read_text())
    run = next(r for r in manifest["runs"] if r["id"] == "01_clean_survey_2011")
    (reports / "executed" / "01_clean_survey_2011.ipynb").rename(reports / "executed" / "elsewhere.ipynb")
    run["executed"] = "reports/executed/elsewhere.ipynb"
    manifest_file.write_text(json.dumps(manifest))
    page = (site.build() / "notebooks" / "01_clean_survey_2011.html").read_text(encoding="utf-8")
    assert "01 · Clean survey" in page and "43" in page


def test_templates_ship_with_the_package():
    """Every file under helpers/outputs/templates/ matches a package-data glob of pyproject.toml (as setuptools
    expands them), so an installed (non-editable) package can render the site."""
    import glob
    import tomllib

    from helpers.outputs import render

    package = render.TEMPLATES.parent.parent  # src/helpers
    patterns = tomllib.loads((paths.root() / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {Path(f) for p in patterns["helpers"] for f in glob.glob(p, root_dir=package, recursive=True)}
    templates = {f.relative_to(package) for f in render.TEMPLATES.rglob("*") if f.is_file()}
    assert len(templates) >= 15 and templates <= shipped, sorted(templates - shipped)


def test_no_html_is_built_in_python_strings():
    """The site, the dictionary and the references write HTML only in templates (docstrings may name a tag; a
    regex's named group is not one)."""
    import ast

    names = "html head body div nav main footer table thead tbody tr td th p ul li a h1 h2 h3 span strong em code"
    names += " figure figcaption img br style title meta details summary"
    tag = re.compile(rf"(?<!\?P)</?({'|'.join(names.split())})[\s>/]")
    from helpers.outputs import dictionary, references, render

    for module in (site, dictionary, references, render):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef) and n.body and isinstance(n.body[0], ast.Expr)
        }
        found = [
            (n.lineno, n.value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and id(n) not in docstrings
            and tag.search(re.sub(r"`[^`]*`", "", n.value))  # Markdown code (`<table>.csv`) is text, not a tag
        ]
        assert not found, f"{module.__name__}: HTML in Python strings: {found}"


def test_pages_escape_what_they_show():
    from helpers.outputs import render

    page = render.render(
        "site/tables.html.j2",
        title="<Tables>",
        tables=[site.TableFiles('a<b>&"c"', [("CSV", 'x" onclick="y')], synthetic=True)],
        synthetic=True,
        synthetic_mark="SYNTHETIC",
        finished="<now>",
        commit="abc",
    )
    assert "<title>&lt;Tables&gt;</title>" in page and "<h1>&lt;Tables&gt;</h1>" in page
    assert "<td>a&lt;b&gt;&amp;&quot;c&quot; <strong>(synthetic)</strong></td>" in page
    assert 'href="x&quot; onclick=&quot;y"' in page and 'onclick="y' not in page
    assert "run manifest of &lt;now&gt;, commit abc." in page


def test_a_family_with_typed_results_is_summarised_from_its_document_and_a_broken_one_says_why(outputs):
    from helpers.outputs import reports
    from helpers.results.exports import ExportedTable, ExportResults

    typed = ExportResults(
        files=25,
        tables={"analysis": ExportedTable(294, 52, False)},
        rounds=(2009, 2011, 2014),
        responded={2009: 91, 2011: 88, 2014: 98},
        panel_rows=1649,
        analysis_rows=294,
        dictionary_up_to_date=True,
    )
    path = reports.write_results("05_export_data", typed, synthetic=False, parameters={})
    docs = site._results(paths.reports())
    assert docs["05_export_data"].results == typed and docs["05_export_data"].synthetic is False
    summary = site._summary({"id": "05_export_data", "status": "ok"}, "notebooks/05_export_data.html", docs[path.stem])
    assert not summary.failed and summary.problem is None and not summary.synthetic
    assert summary.sentences[0].startswith("25 files: the 3 survey rounds (2009, 2011, 2014)")

    broken = json.loads(path.read_text(encoding="utf-8"))
    broken["results"]["files"] = "many"
    path.write_text(json.dumps(broken), encoding="utf-8")
    summary = site._summary(
        {"id": "05_export_data", "status": "ok"}, "x.html", site._results(paths.reports())[path.stem]
    )
    assert summary.sentences is None and "05_export_data.json: not a valid results document" in summary.problem
    assert "files" in summary.problem and not summary.synthetic


# Stems the shipped pipeline writes (one of each kind, from a `make run`), with the marks they carry.
PIPELINE_FIGURES = (
    "reference_density_2011_en",
    "survey_2011_models_synthetic_da",
    "usage_national_loans_real_en",
    "usage_loans_change_2010_2019_real_en",
    *(f"02_compare_2009_2011_{k}_synthetic_en" for k in ("distribution", "by_region", "by_kommunegruppe")),
    *(f"02_compare_2009_2011_{k}_synthetic_en" for k in ("transitions", "maps", "change", "weights")),
    *(f"model_{k}_loans_2009_2011_synthetic_en" for k in ("descriptive", "coefficients", "change", "residuals")),
    *(f"model_{k}_visits_2011_2014_synthetic_da" for k in ("coverage", "power")),
    "adoption_event_study_real_2009_2011_2014_synthetic_en",
    "adoption_event_study_synthetic_2011_2014_en",
    "adoption_honest_real_2009_2011_2014_synthetic_da",
)
PIPELINE_TABLES = (
    "reference_regions_2011",
    "survey_2009_models_synthetic",
    "usage_sources_synthetic",
    "usage_national_totals_synthetic",
    "usage_quality_flags",
    "02_compare_2009_2011_tests_synthetic",
    "model_table_change_loans_2009_2011_synthetic",
    "model_table_ordinal_visits_2011_2014_synthetic",
    "model_table_loans_2009_2011_2011_synthetic",
    "model_table_twfe_real_2009_2011_2014_synthetic",
    "model_table_twfe_synthetic_2009_2011",
    "model_irr_loans_2009_2011_2009_synthetic",
    "model_sensitivity_loans_2009_2011_synthetic",
    "model_nonresponse_loans_2009_2011_synthetic",
    "model_intervals_visits_2011_2014_synthetic",
    "adoption_timing_real_2009_2014_synthetic",
)


def test_every_output_kind_of_the_pipeline_has_a_title_and_the_key_ones_go_in_the_short_report():
    from helpers.outputs import catalogue

    for stem in PIPELINE_FIGURES:
        assert catalogue.figure(stem).known, stem
    for stem in PIPELINE_TABLES:
        assert catalogue.table(stem).known, stem
    assert catalogue.figure("model_coefficients_loans_2009_2011_synthetic_en").title == (
        "Rate ratios of loans by cooperation model, rounds 2009, 2011"
    )
    key = {s for s in PIPELINE_FIGURES if catalogue.figure(s).key}
    assert key == {
        "usage_national_loans_real_en",
        "usage_loans_change_2010_2019_real_en",
        "02_compare_2009_2011_distribution_synthetic_en",
        "model_coefficients_loans_2009_2011_synthetic_en",
        "adoption_event_study_real_2009_2011_2014_synthetic_en",
    }  # the real loans' models and event study, not the synthetic panel's checks of the method
    assert {s for s in PIPELINE_TABLES if catalogue.table(s).key} == {
        "usage_quality_flags",
        "model_table_change_loans_2009_2011_synthetic",
        "model_table_loans_2009_2011_2011_synthetic",
        "model_table_twfe_real_2009_2011_2014_synthetic",
    }
    assert not catalogue.figure("something_new_en").known and catalogue.figure("something_new_en").title


def _outline_titles(items) -> list:
    return [_outline_titles(i) if isinstance(i, list) else str(i.title) for i in items]


@pytest.mark.skipif(not site.CHROMIUM.is_file(), reason="/usr/bin/chromium not installed")
def test_report_makes_an_a4_book_and_short_report_with_bookmarks_and_contents(outputs, monkeypatch):
    """`borgerservice report`: the book (every page, notebooks in analysis order under "Notebooks") and the short
    report (contents, overview, key figures, regression tables, data quality), both A4 with bookmarks, printed in
    one browser session (issue 28: Chromium was started once per page)."""
    from playwright.sync_api import BrowserType
    from pypdf import PdfReader

    launches = []
    launch = BrowserType.launch
    monkeypatch.setattr(BrowserType, "launch", lambda self, **kw: launches.append(kw) or launch(self, **kw))
    build_reports(paths.reports())
    done = site.report()
    assert len(launches) == 1 and len(book_pages := json.loads((done.site / "pages.json").read_text())) == 8
    assert [p["path"] for p in book_pages][:2] == ["index.html", "notebooks/00_reference.html"]
    assert not done.problem and [p.name for p in done.pdfs] == ["report.pdf", "report_short.pdf"]
    book, short = (PdfReader(str(p)) for p in done.pdfs)
    for reader in (book, short):
        box = reader.pages[0].mediabox
        assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4, mm
    titles = _outline_titles(book.outline)  # a list of titles, each followed by the list of its children, if any
    top = [t for t in titles if isinstance(t, str)]
    assert top == ["Overview", "Notebooks", "Figures", "Tables", "Provenance", "Data dictionary", "References"]
    notebooks = [t for t in titles[titles.index("Notebooks") + 1] if isinstance(t, str)]
    assert notebooks == ["00_reference: 00 · Reference", "01_clean_survey_2011: 01 · Clean survey"]
    assert "Results in brief, notebook by notebook" in str(titles[titles.index("Overview") + 1])  # its headings
    flat = str(_outline_titles(short.outline))
    for chapter in ("1 Overview and results in brief", "2 Key figures", "3 Regression tables", "4 Data quality"):
        assert chapter in flat
    text = " ".join(" ".join(page.extract_text() for page in short.pages).split())
    assert "Contents" in text and "5,560,534 inhabitants" in text and "SYNTHETIC EXAMPLE DATA" in text


def test_notebooks_come_in_analysis_order_whatever_the_config_order():
    runs = [
        {"id": "05_export_data", "notebook": "05_export_data.ipynb"},
        {"id": "01_usage_panel", "notebook": "01_usage_panel.ipynb"},
        {"id": "00_reference", "notebook": "00_reference.ipynb"},
        {"id": "01_clean_survey_2009", "notebook": "01_clean_survey.ipynb"},
        {"id": "02_compare_2009_2011", "notebook": "02_compare_rounds.ipynb"},
    ]
    assert [r["id"] for r in site.analysis_order(runs)] == [
        "00_reference",
        "01_clean_survey_2009",
        "01_usage_panel",
        "02_compare_2009_2011",
        "05_export_data",
    ]


def test_a_notebook_that_did_not_change_is_not_converted_again(outputs, monkeypatch):
    """nbconvert took most of the site's build: its page of an executed notebook is cached by the notebook's bytes
    and the templates; the frame (marks, footer with the run's time) is always the current one."""
    from helpers.core import files
    from helpers.running import pipeline

    build_reports(paths.reports())
    site.build()
    calls = []
    real = site._exporter()

    class Counting:
        def from_notebook_node(self, nb, resources):
            calls.append(nb)
            return real.from_notebook_node(nb, resources=resources)

    monkeypatch.setattr(site, "_exporter", lambda: Counting())
    manifest = json.loads((paths.reports() / "run_manifest.json").read_text())
    manifest["finished"] = "2026-12-02T09:00:00+00:00"
    (paths.reports() / "run_manifest.json").write_text(json.dumps(manifest))
    page = (site.build() / "notebooks" / "00_reference.html").read_text(encoding="utf-8")
    assert calls == [] and "2026-12-02T09:00:00+00:00" in page and "00 · Reference" in page
    executed = paths.reports() / "executed" / "00_reference.ipynb"
    executed.write_text(executed.read_text().replace("What this notebook asks.", "What it asks now."))
    manifest["runs"][0]["outputs"] = pipeline.collect_outputs("00_reference", files.HashCache())  # as a re-run records
    (paths.reports() / "run_manifest.json").write_text(json.dumps(manifest))
    page = (site.build() / "notebooks" / "00_reference.html").read_text(encoding="utf-8")
    assert len(calls) == 1 and "What it asks now." in page
    assert len(list((paths.reports() / site.NOTEBOOK_CACHE).glob("*.html"))) == 2  # the old page's copy is pruned
