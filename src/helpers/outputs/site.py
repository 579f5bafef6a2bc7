"""The report: one static site from the executed notebooks, the full book of its pages as a PDF, and a short PDF.

**Only what a successful run vouches for.** The report reads ``reports/run_manifest.json`` and shows a figure,
table, results file or export only when a run that succeeded (or was up to date) recorded it, and the file still
has the sha256 recorded for it (:func:`helpers.outputs.vouching.inventory`). Everything else under
``reports/figures``, ``tables`` and ``results`` (a failed run's outputs, the earlier outputs of a run that was
blocked this time, work done outside the pipeline in ``scratch``, a file changed after its run) is listed under
*Not current* with the reason, never shown as a result. Blocked and failed runs stay in the overview, marked.

``build()`` writes ``reports/site/``:

* ``index.html``: the question, the data (real or synthetic, with sources, from the data manifests), and "results
  in brief" for every notebook run in analysis order (00, 01, ..., 05), read from its results JSON;
* ``notebooks/<run>.html``: every executed notebook, code hidden in a ``<details>`` toggle (nbconvert's lab
  template, extended by ``templates/site/notebook.html.j2``; no JavaScript, no network);
* ``gallery.html``: the figures by run, titled and described (:mod:`helpers.outputs.catalogue`), each in every
  language drawn (PNG and SVG to download). On screen the 300 dpi PNG; in print the SVG, which Chromium prints as
  vectors, or, where the SVG is heavy (the maps, several MB of paths), a PNG copy at most ``PRINT_WIDTH_PX`` wide
  made with Pillow in ``print/``;
* ``tables.html``: the tables by run (CSV, HTML, LaTeX, Word) and the exports of ``05_export_data``;
* ``provenance.html``: the run manifest (commit, versions, parameters, input sha256s, runs);
* ``data_dictionary.html`` and ``references.html``: from :mod:`helpers.outputs.dictionary` and
  :mod:`helpers.outputs.references`.

:func:`report` (``borgerservice report``) builds the site, ``report.pdf`` (every page, A4, bookmarks) and
``report_short.pdf`` (the short report for co-authors: overview, results in brief, key figures one to a page, the
regression tables, data-quality notes; A4, a table of contents and bookmarks) in a temporary folder and publishes
them together (:mod:`helpers.outputs.publish`). The pages are printed in **one** headless Chromium session
(:mod:`helpers.outputs.printing`: Playwright, DevTools protocol), not one browser per page; links in the PDFs are
relative to them (``site/...``), so the PDFs name no machine path. Quarto would do both, but
its PyPI package downloads a binary when it is installed, which does not work offline.

The HTML is in jinja2 templates, ``helpers/outputs/templates/`` (rendered by :mod:`helpers.outputs.render`,
autoescaping on); this module gathers what the pages show. Every page built from synthetic input carries the
synthetic mark.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import results
from helpers.core import files, paths
from helpers.data import provenance
from helpers.outputs import brief, catalogue, publish, render
from helpers.outputs.printing import CHROMIUM, Browser
from helpers.outputs.reports import SYNTHETIC_MARK
from helpers.outputs.vouching import VOUCHING, Inventory, Output, analysis_order, inventory, why
from helpers.results import Document

# Figures in the PDF: the SVG up to PRINT_SVG_MAX_BYTES, else a PNG PRINT_WIDTH_PX wide (a gallery card prints
# about 3.6 in wide, a key figure of the short report about 7 in, so 1,000 px give 140-280 dpi on paper).
PRINT_SVG_MAX_BYTES = 500_000
PRINT_WIDTH_PX = 1000
QUESTION = (
    "From 2009 on, Danish municipalities moved citizen services (borgerservice) into their public libraries. "
    "Did the kommuner whose libraries took on more of these services see more library use per inhabitant? "
    "The notebooks clean {rounds} of how libraries cooperate with borgerservice, "
    "compare the rounds, and model cooperation against library use from Statistics Denmark."
)
TITLE = "Borgerservice in Danish public libraries: report"
EXPORTS = "exports"  # the subfolder of 05_export_data's processed folder with the files for Stata, SPSS, R
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def question(rounds) -> str:
    """The overview's question, naming the survey rounds of the config that ran (from the run manifest)."""
    years = sorted(int(y) for y in rounds)
    count = _NUMBERS[len(years)] if len(years) < len(_NUMBERS) else str(len(years))
    listed = f" ({', '.join(map(str, years))})" if years else ""
    return QUESTION.format(rounds=f"{count} survey round{'s' if len(years) != 1 else ''}{listed}")


@dataclass
class Page:
    path: str  # relative to the site root
    title: str
    synthetic: bool
    group: str = ""  # the bookmark the page goes under in the book ("Notebooks")


@dataclass(frozen=True)
class Summary:
    """A notebook run on the overview: its page, marks, and results in brief (``sentences``), or why there are none.

    ``page`` is None for a run without a page (blocked: it did not run this time)."""

    run: str
    page: str | None
    synthetic: bool
    status: str
    error: str
    sentences: list[str] | None  # None: no results JSON, or (``problem``) a layout the brief does not know
    problem: str | None = None
    title: str = ""
    inputs: tuple = ()  # the raw files the run read (helpers.results.RawInput), from its results JSON

    @property
    def failed(self) -> bool:
        return self.status not in (*VOUCHING, "not covered")

    @property
    def not_covered(self) -> bool:
        """The run's data do not cover its years: skipped with the reason (``error``), not failed."""
        return self.status == "not covered"


@dataclass(frozen=True)
class Figure:
    """A figure in the gallery: the PNG shown on screen, the file printed, the SVG to download (if any); ``title``
    and ``description`` (:mod:`~helpers.outputs.catalogue`), ``run``, and ``languages``: every language it was drawn
    in as (language, PNG link, SVG link or None)."""

    name: str
    png: str
    printed: str
    svg: str | None
    synthetic: bool
    title: str = ""
    description: str = ""
    run: str = ""
    languages: tuple[tuple[str, str, str | None], ...] = ()
    key: bool = False


@dataclass(frozen=True)
class TableFiles:
    """A table in the tables page: its files to download, labelled by format (CSV, HTML, TEX, DOCX); ``title`` and
    ``description`` (:mod:`~helpers.outputs.catalogue`), the ``run`` that wrote it."""

    name: str
    links: list[tuple[str, str]]
    synthetic: bool
    title: str = ""
    description: str = ""
    run: str = ""
    key: bool = False
    html: str | None = None  # the table's own HTML file (regression tables), for the short report


def _frame(manifest: dict, synthetic: bool) -> dict:
    """What every page's frame shows: the synthetic mark (or the real one) and the footer's run and commit."""
    commit = (manifest.get("git") or {}).get("commit") or "unknown"
    return {
        "synthetic": synthetic,
        "synthetic_mark": SYNTHETIC_MARK,
        "finished": str(manifest.get("finished", "")),
        "commit": commit[:12],
    }


def _page(template: str, title: str, *, synthetic: bool, manifest: dict, **content) -> str:
    """A whole page of the site: ``templates/site/<template>`` in the site's frame."""
    return render.render(f"site/{template}", title=title, **_frame(manifest, synthetic), **content)


@dataclass(frozen=True)
class Unreadable:
    """A results file of a family with declared key results that does not match its class (``problem`` says how)."""

    name: str
    synthetic: bool
    problem: str


Results = Document | Unreadable | dict  # a dict: a family that declares no key results yet


def _results(reports: Path, only: set[Path] | None = None) -> dict[str, Results]:
    """Results documents by run id: ``reports/results/<run id>/<name>.json`` (the one named like the run
    when a run wrote several), and by name for results written outside a run folder. A family with
    declared key results (``helpers.results``) is read as its typed :class:`~helpers.results.Document`.
    ``only``: read just these files (the ones the run manifest vouches for)."""
    out: dict[str, Results] = {}
    for f in sorted((reports / "results").rglob("*.json")):
        if only is not None and f not in only:
            continue
        try:
            doc = _read_results(f)
        except json.JSONDecodeError:
            continue
        name = doc.get("name", f.stem) if isinstance(doc, dict) else doc.name
        folder = f.parent.name if f.parent != reports / "results" else name
        if folder not in out or name == folder:
            out[folder] = doc
        out.setdefault(name, doc)
    return out


def _read_results(f: Path) -> Results:
    """One results file: typed when its family declares key results, else the JSON as it is."""
    doc = json.loads(f.read_text(encoding="utf-8"))
    name = str(doc.get("name", f.stem))
    try:
        results.family(name)
    except ValueError:
        return doc
    try:
        return results.read(f)
    except ValueError as exc:
        return Unreadable(name, bool(doc.get("synthetic", True)), str(exc))


def _synthetic(doc: Results | None) -> bool:
    """A run's synthetic flag; without results, synthetic (the site never claims real data it cannot vouch for)."""
    if doc is None:
        return True
    return bool(doc.get("synthetic", True)) if isinstance(doc, dict) else doc.synthetic


@functools.cache
def _exporter():
    """nbconvert's lab exporter with the site's notebook template: made once (loading its templates and CSS took
    about half a second per notebook)."""
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[jinja2.FileSystemLoader(render.TEMPLATES)])
    exporter.template_file = "site/notebook.html.j2"
    return exporter


# The page of an executed notebook is cached by the notebook's bytes and the templates (nbconvert took 80 % of the
# site's build): a notebook that did not change since the last report is not converted again. The site's frame
# (navigation, marks, footer with the run's time) is put in afterwards, in place of these markers.
NOTEBOOK_CACHE = Path(".cache") / "site-notebooks"  # under reports/
_HEADER, _FOOTER = "@@borgerservice-site-header@@", "@@borgerservice-site-footer@@"


@functools.cache
def _templates_key() -> str:
    """What a cached notebook page depends on besides the notebook: nbconvert's version and the site's templates."""
    from importlib.metadata import version

    h = hashlib.sha256(version("nbconvert").encode())
    for f in sorted(render.TEMPLATES.rglob("*")):
        if f.is_file():
            h.update(f.relative_to(render.TEMPLATES).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def _notebook_html(
    executed: Path, *, synthetic: bool, manifest: dict, not_current: str = "", used: set[Path] | None = None
) -> tuple[str, str]:
    """The page of an executed notebook and its title (the first heading of its first Markdown cell). ``used``
    collects the cache files read or written (the others are removed after the build)."""
    import nbformat

    raw = executed.read_bytes()
    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    key = hashlib.sha256(raw + _templates_key().encode()).hexdigest()
    cached = paths.reports() / NOTEBOOK_CACHE / f"{key}.html"
    if cached.is_file():
        body = cached.read_text(encoding="utf-8")
    else:
        resources = {"site_css": render.render("site/site.css"), "site_header": _HEADER, "site_footer": _FOOTER}
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
        files.write_text(cached, body)
    if used is not None:
        used.add(cached)
    frame = _frame(manifest, synthetic)
    header = render.render("site/notebook_header.html.j2", not_current=not_current, **frame)
    body = body.replace(_HEADER, header, 1).replace(_FOOTER, render.render("site/notebook_footer.html.j2", **frame), 1)
    title = next(
        (
            m.group(1).strip()
            for c in nb.cells
            if c.cell_type == "markdown"
            for m in [re.search(r"^#\s+(.+)$", c.source, re.M)]
            if m
        ),
        "",
    )
    return body, title


def _prune_cache(used: set[Path]) -> None:
    """Remove cached notebook pages that this build did not use (notebooks since re-run or removed)."""
    folder = paths.reports() / NOTEBOOK_CACHE
    if folder.is_dir():
        for f in folder.glob("*.html"):
            if f not in used:
                f.unlink(missing_ok=True)


def _summary(run: dict, page: str | None, doc: Results | None, title: str = "") -> Summary:
    status, error = str(run.get("status")), str(run.get("error", ""))
    if doc is None:
        return Summary(run["id"], page, True, status, error, None, title=title)
    if isinstance(doc, Unreadable):
        return Summary(run["id"], page, doc.synthetic, status, error, None, problem=doc.problem, title=title)
    inputs = _inputs(doc)
    try:
        said = brief.sentences(doc)
    except (KeyError, ValueError, TypeError) as exc:  # a results layout the brief does not know: say so
        return Summary(
            run["id"], page, _synthetic(doc), status, error, None, problem=str(exc), title=title, inputs=inputs
        )
    return Summary(run["id"], page, _synthetic(doc), status, error, said, title=title, inputs=inputs)


def _inputs(doc: Results | None) -> tuple:
    """The raw files a run read, from its results JSON (typed or not)."""
    if isinstance(doc, Document):
        return doc.inputs
    if isinstance(doc, dict):
        return tuple(results.RawInput(str(i["file"]), i.get("synthetic")) for i in doc.get("inputs") or [])
    return ()


def _data_files(summaries: list[Summary]) -> tuple[list[dict], list[str]]:
    """The raw files the runs read (with their manifest entry and how many runs read each), and the raw files
    no run read (an example a real export replaced, say), from the runs' results JSON and the data manifests."""
    entries = provenance.load()
    read: dict[str, int] = {}
    for s in summaries:
        for i in s.inputs:
            rel = i.file.removeprefix("data/raw/")
            read[rel] = read.get(rel, 0) + 1
    used = [
        {
            "path": rel,
            "synthetic": entries[rel].synthetic if rel in entries else None,
            "source": str(entries[rel].source) if rel in entries else "not in the data manifest",
            "runs": n,
        }
        for rel, n in sorted(read.items())
    ]
    return used, [rel for rel in sorted(entries) if rel not in read]


def _executed(run: dict, reports: Path) -> Path | None:
    executed = Path(str(run.get("executed") or ""))
    if not str(run.get("executed") or ""):
        return None
    if not executed.is_absolute():  # project-relative; "reports/..." is the (possibly redirected) reports folder
        executed = (
            reports.joinpath(*executed.parts[1:]) if executed.parts[:1] == ("reports",) else paths.root() / executed
        )
    if not executed.is_file():
        executed = reports / "executed" / f"{run['id']}.ipynb"
    return executed if executed.is_file() else None


def load_manifest() -> dict:
    reports = paths.reports()
    manifest_file = reports / "run_manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{paths.relative(manifest_file)} not found: run the notebooks first (make run)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("runs", []), list):
        raise ValueError(f"{paths.relative(manifest_file)} is not a run manifest (no list of runs): run make run")
    return manifest


@dataclass
class Built:
    """A site built in ``root``: its ``pages`` (in book order), the ``figures`` and ``tables`` shown, the run
    ``summaries`` and what is ``not_current``; the short report is made from it."""

    root: Path
    manifest: dict
    pages: list[Page]
    figures: list[Figure]
    tables: list[TableFiles]
    summaries: list[Summary]
    not_current: list[Output]
    synthetic: bool
    docs: dict
    question: str = ""
    data_files: list[dict] = field(default_factory=list)


def _build(root: Path) -> Built:
    """Write every page of the site into ``root`` (an empty folder) from ``reports/`` and the run manifest."""
    reports = paths.reports()
    manifest = load_manifest()
    inv = inventory(manifest)
    docs = _results(reports, only={o.path for o in inv.under("reports/results/")})
    any_synthetic = bool(manifest.get("synthetic_inputs")) and any(_synthetic(doc) for doc in docs.values())
    pages: list[Page] = []

    (root / "notebooks").mkdir(parents=True)
    cached: set[Path] = set()
    summaries = []
    titles: dict[str, str] = {}
    for r in inv.runs:
        doc = docs.get(r["id"]) if r.get("status") in VOUCHING else None
        executed = _executed(r, reports) if r.get("status") not in ("blocked", "not started", "running") else None
        if executed is not None and r.get("status") in VOUCHING and executed.is_relative_to(reports):
            name = f"reports/{executed.relative_to(reports).as_posix()}"
            if name in (r.get("outputs") or {}) and name not in inv.current:
                executed = None  # the executed notebook changed after its run recorded it
        if executed is None:
            summaries.append(_summary(r, None, doc))
            continue
        synthetic = _synthetic(doc)
        page = f"notebooks/{r['id']}.html"
        not_current = "" if r.get("status") in VOUCHING else why(r)
        html, title = _notebook_html(
            executed, synthetic=synthetic, manifest=manifest, not_current=not_current, used=cached
        )
        files.write_text(root / page, html)
        titles[r["id"]] = title
        pages.append(Page(page, f"{r['id']}: {title}" if title else r["id"], synthetic, "Notebooks"))
        summaries.append(_summary(r, page, doc, title))

    _prune_cache(cached)
    figures = _figures(inv, root)
    tables = _tables(inv, root)
    exports = _exports(inv, root)
    not_current = sorted(inv.not_current, key=lambda o: o.name)
    runs = {s.run: s for s in summaries}

    common = {"synthetic": any_synthetic, "manifest": manifest, "runs": runs}
    data_files, unread = _data_files(summaries)
    rounds = (manifest.get("config") or {}).get("rounds") or {}
    files.write_text(
        root / "index.html",
        _page(
            "index.html.j2",
            TITLE,
            question=question(rounds),
            data_files=data_files,
            unread=unread,
            summaries=summaries,
            **common,
        ),
    )
    shown_not_current = [o for o in not_current if not o.name.startswith("reports/results/")]
    files.write_text(
        root / "gallery.html",
        _page(
            "gallery.html.j2",
            "Figures",
            figures=figures,
            not_current=[o for o in shown_not_current if o.name.startswith("reports/figures/")],
            **common,
        ),
    )
    files.write_text(
        root / "tables.html",
        _page(
            "tables.html.j2",
            "Tables",
            tables=tables,
            exports=exports,
            not_current=[o for o in shown_not_current if o.name.startswith("reports/tables/")],
            **common,
        ),
    )
    files.write_text(
        root / "provenance.html",
        _page("provenance.html.j2", "Provenance", **_provenance(manifest), synthetic=any_synthetic, manifest=manifest),
    )
    _dictionary_pages(root, manifest, any_synthetic)  # helpers.outputs.dictionary and helpers.outputs.references
    pages = [
        Page("index.html", "Overview", any_synthetic),
        *pages,
        Page("gallery.html", "Figures", any_synthetic),
        Page("tables.html", "Tables", any_synthetic),
        Page("provenance.html", "Provenance", any_synthetic),
        Page("data_dictionary.html", "Data dictionary", any_synthetic),
        Page("references.html", "References", any_synthetic),
    ]
    files.write_json(root / "pages.json", [p.__dict__ for p in pages])
    return Built(
        root,
        manifest,
        pages,
        figures,
        tables,
        summaries,
        not_current,
        any_synthetic,
        docs,
        question(rounds),
        data_files,
    )


def _copy(o: Output, root: Path, kind: str, rel: str) -> str:
    """Copy an output into the site under ``kind/rel`` and return its link."""
    target = root / kind / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(o.path, target)
    return f"{kind}/{rel}"


LANGUAGE_SUFFIX = re.compile(r"^(?P<base>.+?)_(?P<language>en|da)$")


def _figures(inv: Inventory, root: Path) -> list[Figure]:
    """The current figures, one per drawing with its languages side by side, by run in analysis order."""
    (root / "figures").mkdir(parents=True, exist_ok=True)
    reports = paths.reports()
    pngs = [o for o in inv.under("reports/figures/") if o.path.suffix == ".png"]
    by_base: dict[tuple[str, str], list[tuple[str, Output]]] = {}
    for o in pngs:
        m = LANGUAGE_SUFFIX.match(o.path.stem)
        base, language = (m.group("base"), m.group("language")) if m else (o.path.stem, "")
        by_base.setdefault((o.run, base), []).append((language, o))
    order = {r["id"]: i for i, r in enumerate(inv.runs)}
    figures = []
    for (run, base), variants in sorted(
        by_base.items(), key=lambda kv: (order.get(kv[0][0], 1e9), catalogue.figure(kv[0][1]).order, kv[0][1])
    ):
        variants.sort(key=lambda v: (v[0] != "en", v[0]))  # English first, then the others
        languages = []
        for language, o in variants:
            rel = o.path.relative_to(reports / "figures").as_posix()
            png = _copy(o, root, "figures", rel)
            svg_name = o.name[: -len(".png")] + ".svg"
            svg = inv.current.get(svg_name)
            svg_link = _copy(svg, root, "figures", rel[: -len(".png")] + ".svg") if svg else None
            languages.append((language, png, svg_link, o, svg))
        language, png, svg_link, o, svg = languages[0]
        if svg is not None and svg.path.stat().st_size <= PRINT_SVG_MAX_BYTES:
            printed = svg_link
        else:
            rel = o.path.relative_to(reports / "figures")
            printed = print_copy(o.path, root / "print" / rel).relative_to(root).as_posix()
        described = catalogue.figure(base)
        figures.append(
            Figure(
                base,
                png,
                printed,
                svg_link,
                "synthetic" in base.split("_"),
                title=described.title,
                description=described.description,
                run=run,
                languages=tuple((lang, p, s) for lang, p, s, _, _ in languages),
                key=described.key,
            )
        )
    return figures


def _tables(inv: Inventory, root: Path) -> list[TableFiles]:
    """The current tables, their files grouped by stem, by run in analysis order."""
    reports = paths.reports()
    (root / "tables").mkdir(parents=True, exist_ok=True)
    by_stem: dict[str, list[tuple[Output, str]]] = {}
    for o in inv.under("reports/tables/"):
        rel = o.path.relative_to(reports / "tables")
        by_stem.setdefault(rel.with_suffix("").as_posix(), []).append((o, _copy(o, root, "tables", rel.as_posix())))
    order = {r["id"]: i for i, r in enumerate(inv.runs)}
    out = []
    for stem, fs in sorted(
        by_stem.items(),
        key=lambda kv: (order.get(kv[1][0][0].run, 1e9), catalogue.table(Path(kv[0]).name).order, kv[0]),
    ):
        described = catalogue.table(Path(stem).name)
        html = next((o.path.read_text(encoding="utf-8") for o, _ in fs if o.path.suffix == ".html"), None)
        out.append(
            TableFiles(
                stem,
                [(o.path.suffix.lstrip(".").upper(), link) for o, link in sorted(fs, key=lambda x: x[0].path.suffix)],
                "synthetic" in Path(stem).name.split("_"),
                title=described.title,
                description=described.description,
                run=fs[0][0].run,
                key=described.key,
                html=html,
            )
        )
    return out


def _exports(inv: Inventory, root: Path) -> list[TableFiles]:
    """The current export files (``processed/<run>/exports/``), copied to ``exports/<run>/`` of the site."""
    out = []
    for o in inv.under("processed/"):
        parts = o.name.split("/")
        if len(parts) < 4 or parts[2] != EXPORTS:
            continue
        rel = "/".join(parts[3:])
        link = _copy(o, root, "exports", f"{o.run}/{rel}")
        out.append(TableFiles(rel, [(o.path.suffix.lstrip(".").upper(), link)], "synthetic" in rel, run=o.run))
    return out


def build(out: Path | None = None) -> Path:
    """Build the site from ``reports/`` (the executed notebooks, figures, tables, results, run manifest) and put it
    in place as ``out`` (default ``reports/site``) in one rename."""
    reports = paths.reports()
    load_manifest()  # says what to do when there is no run yet, before anything is written
    publish.remove_temporaries(reports)
    tmp = publish.make_temporary(reports)
    try:
        _build(tmp / publish.SITE)
        site = Path(out or reports / publish.SITE)
        if site.exists():
            shutil.rmtree(site)
        os.chmod(tmp / publish.SITE, 0o777 & ~files._UMASK)
        os.replace(tmp / publish.SITE, site)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return site


@dataclass(frozen=True)
class ReportOutcome:
    """What :func:`report` made: the ``site`` folder, the ``pdfs`` published, earlier PDFs renamed as ``stale``
    (old, new name), ``problem`` (why the PDFs could not be made; empty when they were or were not asked for),
    ``seconds`` per step."""

    site: Path
    pdfs: tuple[Path, ...]
    stale: tuple[tuple[str, str], ...]
    problem: str
    seconds: dict[str, float]


def report(*, make_pdf: bool = True, chromium: Path | None = None) -> ReportOutcome:
    """Build the site and (unless ``make_pdf`` is False) the book ``report.pdf`` and the short ``report_short.pdf``
    in a temporary folder of ``reports/``, then publish them together (:func:`helpers.outputs.publish.publish`).
    When the PDFs cannot be made, the site is still published and the earlier PDFs are renamed as stale;
    ``problem`` says why. Temporary folders of earlier reports that did not finish are removed first."""
    reports = paths.reports()
    load_manifest()
    publish.remove_temporaries(reports)
    tmp = publish.make_temporary(reports)
    seconds: dict[str, float] = {}
    problem = ""
    try:
        t0 = time.perf_counter()
        built = _build(tmp / publish.SITE)
        os.chmod(built.root, 0o777 & ~files._UMASK)
        seconds["site"] = time.perf_counter() - t0
        if make_pdf:
            t0 = time.perf_counter()
            try:
                short = _short_report(built, tmp)
                with Browser(chromium or CHROMIUM) as browser:
                    browser.book(built.root, tmp / publish.BOOK_PDF, built.pages)
                    browser.short(short, tmp / publish.SHORT_PDF, built.root)
            except ImportError as exc:
                problem = f"{exc.name or 'playwright'} is not installed (make env installs it)"
            except (OSError, RuntimeError) as exc:
                problem = str(exc)
            if problem:
                for name in (publish.BOOK_PDF, publish.SHORT_PDF):
                    (tmp / name).unlink(missing_ok=True)  # both or neither: never a new PDF beside an old one
            seconds["pdf"] = time.perf_counter() - t0
        done = publish.publish(tmp, reports)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pdfs = tuple(reports / n for n in done.published if n.endswith(".pdf"))
    return ReportOutcome(reports / publish.SITE, pdfs, done.stale, problem, seconds)


def print_copy(png: Path, target: Path, width: int | None = None) -> Path:
    """A copy of ``png`` at most ``width`` (default ``PRINT_WIDTH_PX``) pixels wide (Lanczos), on white, for
    print; a narrower PNG is copied as it is."""
    from PIL import Image

    width = width or PRINT_WIDTH_PX
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(png) as im:
        if im.width <= width:
            shutil.copy2(png, target)
            return target
        scale = width / im.width
        rgba = im.convert("RGBA")
        flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert(
            "RGB"
        )  # no alpha mask in the PDF
        small = flat.resize((width, max(1, round(im.height * scale))), Image.Resampling.LANCZOS)
        dpi = im.info.get("dpi")
        with files.atomic_path(target) as tmp:
            small.save(tmp, format="PNG", optimize=True, **({"dpi": tuple(d * scale for d in dpi)} if dpi else {}))
    return target


def _dictionary_pages(tmp: Path, manifest: dict, synthetic: bool) -> None:
    """The data dictionary of the exports and the references, generated by their own modules."""
    from helpers.outputs import dictionary, references

    body = dictionary.render_html([b for b in dictionary.blocks() if b.kind != "h1"])  # the page has its own title
    common = {"synthetic": synthetic, "manifest": manifest}
    files.write_text(
        tmp / "data_dictionary.html", _page("data_dictionary.html.j2", "Data dictionary", dictionary=body, **common)
    )
    files.write_text(
        tmp / "references.html", _page("references.html.j2", "References", references=references.html(), **common)
    )


def _provenance(m: dict) -> dict:
    """The run manifest as the provenance page shows it: the run, packages, inputs and notebook runs."""
    git = m.get("git") or {}
    synthetic = set(m.get("synthetic_inputs") or [])
    return {
        "run": [
            ("commit", git.get("commit")),
            ("uncommitted changes", "yes" if git.get("dirty") else "no"),
            ("started", m.get("started")),
            ("finished", m.get("finished")),
            ("Python", m.get("python")),
            ("platform", m.get("platform")),
            ("pipeline config", json.dumps(m.get("config", {}), ensure_ascii=False)),
        ],
        "packages": list((m.get("packages") or {}).items()),
        "inputs": [
            {"path": k, "sha256": v, "synthetic": k in synthetic} for k, v in sorted((m.get("inputs") or {}).items())
        ],
        "runs": [
            {
                "id": r.get("id"),
                "status": r.get("status"),
                "seconds": r.get("seconds", ""),
                "parameters": json.dumps(r.get("parameters", {}), ensure_ascii=False),
            }
            for r in analysis_order([r for r in m.get("runs", []) if isinstance(r, dict)])
        ],
    }


# --- the short report ------------------------------------------------------------------------------------------


def _quality_flags(built: Built) -> tuple[list[str], list[list[str]]] | None:
    """The usage quality flags table (a CSV of 01_usage_panel), as columns and rows, when the run vouches for it."""
    import csv

    t = next((t for t in built.tables if Path(t.name).name.startswith("usage_quality_flags")), None)
    link = next((link for label, link in t.links if label == "CSV"), None) if t else None
    if link is None:
        return None
    with open(built.root / link, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return (rows[0], rows[1:]) if rows else None


def _cleaning(built: Built) -> list[dict]:
    """Per survey round, what cleaning repaired, dropped or redacted (the results of 01_clean_survey)."""
    out = []
    for s in built.summaries:
        doc = built.docs.get(s.run)
        changes = getattr(getattr(doc, "results", None), "changes_by_rule", None)
        if isinstance(changes, dict) and not s.failed:
            out.append({"run": s.run, "changes": sorted(changes.items(), key=lambda kv: -kv[1])})
    return out


def _short_report(built: Built, tmp: Path) -> Path:
    """The short report's page (``short/report.html`` beside the site in ``tmp``): overview and results in brief,
    the key figures, the regression tables, the data-quality notes, with a table of contents."""
    from markupsafe import Markup

    figures = [f for f in built.figures if f.key]
    regression = [t for t in built.tables if t.key and t.html is not None and Path(t.name).name.startswith("model_")]
    page = render.render(
        "report/short.html.j2",
        title="Borgerservice in Danish public libraries: short report",
        question=built.question,
        summaries=[s for s in built.summaries if not s.failed and s.sentences],
        unvouched=[s for s in built.summaries if s.failed],
        figures=figures,
        tables=[(t, Markup(t.html)) for t in regression],
        flags=_quality_flags(built),
        cleaning=_cleaning(built),
        not_current=built.not_current,
        data_files=built.data_files,
        site="../site/",
        **_frame(built.manifest, built.synthetic),
    )
    target = tmp / "short" / "report.html"
    files.write_text(target, page)
    return target


def pdf(
    site: Path | None = None, target: Path | None = None, *, chromium: Path | None = None, timeout: int = 120
) -> Path:
    """Print every page of a built site (``reports/site``) into one A4 PDF with bookmarks (``reports/report.pdf``),
    in one browser session."""
    site = Path(site or paths.reports() / publish.SITE)
    target = Path(target or paths.reports() / publish.BOOK_PDF)
    pages = [Page(**p) for p in json.loads((site / "pages.json").read_text(encoding="utf-8"))]
    with Browser(chromium or CHROMIUM) as browser:
        browser._page.set_default_timeout(timeout * 1000)
        return browser.book(site, target, pages)
