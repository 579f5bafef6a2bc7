"""The report: one static site from the executed notebooks, and one PDF of the same pages.

``build()`` writes ``reports/site/``:

* ``index.html``: the question, the data (real or synthetic, with sources, from the data
  manifests), and "results in brief" for every notebook run, read from its results JSON;
* ``notebooks/<run>.html``: every executed notebook, code hidden in a ``<details>`` toggle
  (nbconvert's lab template, extended by ``templates/site/notebook.html.j2``; no JavaScript, no network);
* ``gallery.html``: every figure (PNG shown, SVG and PNG to download). On screen the 300 dpi PNG;
  in print (the PDF) the SVG, which Chromium prints as vectors, or, where the SVG is heavy (the maps,
  several MB of paths), a PNG copy at most ``PRINT_WIDTH_PX`` wide made with Pillow in ``print/``.
  Printing the 300 dpi PNGs made the PDF 17.0 MB; this way it is 7.5 MB (README, *The report*);
* ``tables.html``: every table file to download (CSV, HTML, LaTeX, Word);
* ``provenance.html``: the run manifest (commit, versions, parameters, input sha256s, runs);
* ``data_dictionary.html`` and ``references.html``: from :mod:`helpers.outputs.dictionary` and
  :mod:`helpers.outputs.references`.

The HTML is in jinja2 templates, ``helpers/outputs/templates/site/`` (rendered by
:mod:`helpers.outputs.render`, autoescaping on); this module gathers what the pages show. Every
page built from synthetic input carries the synthetic mark. ``pdf()`` prints the pages with
headless Chromium (``--print-to-pdf``; code stays folded) and joins them with pypdf into
``reports/report.pdf``; links that Chromium records as ``file://`` URLs of the site are rewritten
relative to the PDF (``site/...``), so the PDF names no machine path. Quarto would do both, but its PyPI
package downloads a binary when it is installed, which does not work offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers import results
from helpers.core import files, paths
from helpers.data import provenance
from helpers.outputs import brief, render
from helpers.outputs.reports import SYNTHETIC_MARK
from helpers.results import Document

CHROMIUM = Path("/usr/bin/chromium")
# Figures in the PDF: the SVG up to PRINT_SVG_MAX_BYTES, else a PNG PRINT_WIDTH_PX wide (a gallery
# card prints about 3.6 in wide, so 1,000 px give about 280 dpi on paper).
PRINT_SVG_MAX_BYTES = 500_000
PRINT_WIDTH_PX = 1000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--no-first-run",
    "--disable-default-apps",
    "--no-pdf-header-footer",
]

QUESTION = (
    "From 2009 on, Danish municipalities moved citizen services (borgerservice) into their public libraries. "
    "Did the kommuner whose libraries took on more of these services see more library use per inhabitant? "
    "The notebooks clean {rounds} of how libraries cooperate with borgerservice, "
    "compare the rounds, and model cooperation against library use from Statistics Denmark."
)
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


@dataclass(frozen=True)
class Summary:
    """A notebook run on the overview: its page, marks, and results in brief (``sentences``), or why there are none."""

    run: str
    page: str
    synthetic: bool
    status: str
    error: str
    sentences: list[str] | None  # None: no results JSON, or (``problem``) a layout the brief does not know
    problem: str | None = None
    inputs: tuple = ()  # the raw files the run read (helpers.results.RawInput), from its results JSON

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "skipped", "not covered")

    @property
    def not_covered(self) -> bool:
        """The run's data do not cover its years: skipped with the reason (``error``), not failed."""
        return self.status == "not covered"


@dataclass(frozen=True)
class Figure:
    """A figure in the gallery: the PNG shown on screen, the file printed, the SVG to download (if any)."""

    name: str
    png: str
    printed: str
    svg: str | None
    synthetic: bool


@dataclass(frozen=True)
class TableFiles:
    """A table in the tables page: its files to download, labelled by format (CSV, HTML, TEX, DOCX)."""

    name: str
    links: list[tuple[str, str]]
    synthetic: bool


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


def _results(reports: Path) -> dict[str, Results]:
    """Results documents by run id: ``reports/results/<run id>/<name>.json`` (the one named like the run
    when a run wrote several), and by name for results written outside a run folder. A family with
    declared key results (``helpers.results``) is read as its typed :class:`~helpers.results.Document`."""
    out: dict[str, Results] = {}
    for f in sorted((reports / "results").rglob("*.json")):
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


def _notebook_html(executed: Path, *, synthetic: bool, manifest: dict) -> str:
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[jinja2.FileSystemLoader(render.TEMPLATES)])
    exporter.template_file = "site/notebook.html.j2"
    nb = nbformat.read(executed, as_version=4)
    frame = _frame(manifest, synthetic)
    resources = {
        "site_css": render.render("site/site.css"),
        "site_header": render.render("site/notebook_header.html.j2", **frame),
        "site_footer": render.render("site/notebook_footer.html.j2", **frame),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def _summary(run: dict, page: str, doc: Results | None) -> Summary:
    status, error = str(run.get("status")), str(run.get("error", ""))
    if doc is None:
        return Summary(run["id"], page, True, status, error, None)
    if isinstance(doc, Unreadable):
        return Summary(run["id"], page, doc.synthetic, status, error, None, problem=doc.problem)
    inputs = _inputs(doc)
    try:
        said = brief.sentences(doc)
    except (KeyError, ValueError, TypeError) as exc:  # a results layout the brief does not know: say so
        return Summary(run["id"], page, _synthetic(doc), status, error, None, problem=str(exc), inputs=inputs)
    return Summary(run["id"], page, _synthetic(doc), status, error, said, inputs=inputs)


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


def build(out: Path | None = None) -> Path:
    """Build the site from ``reports/`` (the executed notebooks, figures, tables, results, run manifest)."""
    reports = paths.reports()
    manifest_file = reports / "run_manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{paths.relative(manifest_file)} not found: run the notebooks first (make run)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    site = Path(out or reports / "site")
    tmp = Path(tempfile.mkdtemp(prefix=".site-", dir=site.parent if site.parent.exists() else None))
    docs = _results(reports)
    runs = [r for r in manifest.get("runs", []) if r.get("executed")]
    any_synthetic = bool(manifest.get("synthetic_inputs")) and any(_synthetic(doc) for doc in docs.values())
    pages: list[Page] = []

    # notebooks
    (tmp / "notebooks").mkdir(parents=True)
    summaries = []
    for r in runs:
        executed = Path(r["executed"])
        if not executed.is_absolute():  # project-relative; "reports/..." is the (possibly redirected) reports folder
            executed = (
                reports.joinpath(*executed.parts[1:]) if executed.parts[:1] == ("reports",) else paths.root() / executed
            )
        if not executed.is_file():
            executed = reports / "executed" / f"{r['id']}.ipynb"
        if not executed.is_file():
            continue
        doc = docs.get(r["id"])
        synthetic = _synthetic(doc)
        page = f"notebooks/{r['id']}.html"
        files.write_text(tmp / page, _notebook_html(executed, synthetic=synthetic, manifest=manifest))
        pages.append(Page(page, r["id"], synthetic))
        summaries.append(_summary(r, page, doc))

    # figures and tables, copied so the site stands alone
    def copy(src: Path, kind: str) -> str:
        """Copy an output into the site (keeping its run folder) and return its link."""
        rel = src.relative_to(reports / kind).as_posix()
        (tmp / kind / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, tmp / kind / rel)
        return f"{kind}/{rel}"

    pngs = sorted((reports / "figures").rglob("*.png")) if (reports / "figures").is_dir() else []
    (tmp / "figures").mkdir()
    figures = []
    for png in pngs:
        link = copy(png, "figures")
        svg = png.with_suffix(".svg")
        svg_link = printed = None
        if svg.is_file():
            svg_link = copy(svg, "figures")
            printed = svg_link if svg.stat().st_size <= PRINT_SVG_MAX_BYTES else None
        if printed is None:
            printed = print_copy(png, tmp / "print" / png.relative_to(reports / "figures")).relative_to(tmp).as_posix()
        figures.append(Figure(png.stem, link, printed, svg_link, png.stem.endswith("_synthetic")))
    table_files = (
        sorted(p for p in (reports / "tables").rglob("*") if p.is_file()) if (reports / "tables").is_dir() else []
    )
    (tmp / "tables").mkdir()
    by_stem: dict[str, list[tuple[Path, str]]] = {}
    for t in table_files:
        by_stem.setdefault(t.with_suffix("").relative_to(reports / "tables").as_posix(), []).append(
            (t, copy(t, "tables"))
        )
    tables = [
        TableFiles(
            stem,
            [(f.suffix.lstrip(".").upper(), link) for f, link in sorted(fs, key=lambda x: x[0].suffix)],
            stem.endswith("_synthetic"),
        )
        for stem, fs in sorted(by_stem.items())
    ]

    # pages
    common = {"synthetic": any_synthetic, "manifest": manifest}
    title = "Borgerservice in Danish public libraries: report"
    data_files, unread = _data_files(summaries)
    rounds = (manifest.get("config") or {}).get("rounds") or {}
    index = _page(
        "index.html.j2",
        title,
        question=question(rounds),
        data_files=data_files,
        unread=unread,
        summaries=summaries,
        **common,
    )
    files.write_text(tmp / "index.html", index)
    files.write_text(tmp / "gallery.html", _page("gallery.html.j2", "Figures", figures=figures, **common))
    files.write_text(tmp / "tables.html", _page("tables.html.j2", "Tables", tables=tables, **common))
    files.write_text(
        tmp / "provenance.html", _page("provenance.html.j2", "Provenance", **_provenance(manifest), **common)
    )
    _dictionary_pages(tmp, manifest, any_synthetic)  # helpers.outputs.dictionary and helpers.outputs.references
    pages = [
        Page("index.html", "Overview", any_synthetic),
        *pages,
        Page("gallery.html", "Figures", any_synthetic),
        Page("tables.html", "Tables", any_synthetic),
        Page("provenance.html", "Provenance", any_synthetic),
        Page("data_dictionary.html", "Data dictionary", any_synthetic),
        Page("references.html", "References", any_synthetic),
    ]
    files.write_json(tmp / "pages.json", [p.__dict__ for p in pages])
    if site.exists():
        shutil.rmtree(site)
    os.chmod(
        tmp, 0o777 & ~files._UMASK
    )  # mkdtemp makes 0700: others (a web server, a colleague) could not open the site
    os.replace(tmp, site)
    return site


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
            for r in m.get("runs", [])
        ],
    }


def pdf(site: Path | None = None, target: Path | None = None, *, chromium: Path = CHROMIUM, timeout: int = 120) -> Path:
    """Print every page of the site with headless Chromium and join them into one PDF."""
    from pypdf import PdfWriter

    site = Path(site or paths.reports() / "site")
    target = Path(target or paths.reports() / "report.pdf")
    if not chromium.is_file():
        raise FileNotFoundError(
            f"{chromium} not found: the PDF is printed with Debian's chromium (apt-get install chromium)"
        )
    pages = json.loads((site / "pages.json").read_text(encoding="utf-8"))
    writer = PdfWriter()
    with tempfile.TemporaryDirectory() as tmpdir:
        for i, page in enumerate(pages):
            out = Path(tmpdir) / f"{i:03d}.pdf"
            cmd = [
                str(chromium),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmpdir}/profile",
                f"--print-to-pdf={out}",
                (site / page["path"]).resolve().as_uri(),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            if not out.is_file():
                raise RuntimeError(f"chromium could not print {page['path']}: {done.stderr.strip()[-500:]}")
            writer.append(str(out))
        _relative_links(writer, site, target)
        with files.atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                writer.write(fh)
    return target


def _relative_links(writer, site: Path, target: Path) -> int:
    """Rewrite link annotations to ``file://`` URLs inside the site as paths relative to the PDF.

    Chromium resolves the pages' relative links (to the other pages, the figures and tables to
    download) into absolute ``file://`` URLs of this machine; relative URIs are resolved against the
    PDF's own location by PDF readers, so they keep working when the PDF travels with the site.
    Returns the number of links rewritten.
    """
    from urllib.parse import unquote, urlsplit

    from pypdf.generic import NameObject, TextStringObject

    base = site.resolve()
    changed = 0
    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            action = ref.get_object().get("/A")
            uri = action.get_object().get("/URI") if action is not None else None
            if not uri or not str(uri).startswith("file:"):
                continue
            parts = urlsplit(str(uri))
            local = Path(unquote(parts.path))
            if not local.is_relative_to(base):
                continue
            rel = Path(os.path.relpath(local, target.resolve().parent)).as_posix() + (
                f"#{parts.fragment}" if parts.fragment else ""
            )
            action.get_object()[NameObject("/URI")] = TextStringObject(rel)
            changed += 1
    return changed
