"""The report: one static site from the executed notebooks, and one PDF of the same pages.

``build()`` writes ``reports/site/``:

* ``index.html``: the question, the data (real or synthetic, with sources, from the data
  manifests), and "results in brief" for every notebook run, read from its results JSON;
* ``notebooks/<run>.html``: every executed notebook, code hidden in a ``<details>`` toggle
  (nbconvert's lab template, extended below; no JavaScript, no network);
* ``gallery.html``: every figure (PNG shown, SVG and PNG to download). On screen the 300 dpi PNG;
  in print (the PDF) the SVG, which Chromium prints as vectors, or, where the SVG is heavy (the maps,
  several MB of paths), a PNG copy at most ``PRINT_WIDTH_PX`` wide made with Pillow in ``print/``.
  Printing the 300 dpi PNGs made the PDF 17.0 MB; this way it is 7.5 MB (README, *The report*);
* ``tables.html``: every table file to download (CSV, HTML, LaTeX, Word);
* ``provenance.html``: the run manifest (commit, versions, parameters, input sha256s, runs).

Every page built from synthetic input carries the synthetic mark. ``pdf()`` prints the pages with
headless Chromium (``--print-to-pdf``; code stays folded) and joins them with pypdf into
``reports/report.pdf``; links that Chromium records as ``file://`` URLs of the site are rewritten
relative to the PDF (``site/...``), so the PDF names no machine path. Quarto would do both, but its PyPI package
downloads a binary when it is
installed, which does not work offline.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers.core import files, paths
from helpers.data import provenance
from helpers.outputs import brief
from helpers.outputs.reports import SYNTHETIC_MARK

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
    "The notebooks clean three survey rounds (2009, 2011, 2014) of how libraries cooperate with borgerservice, "
    "compare the rounds, and model cooperation against library use from Statistics Denmark."
)

# The template: nbconvert's lab page with the code of each code cell folded into <details>, a
# navigation bar and the synthetic mark; MathJax and require.js (fetched from a CDN) are left out.
NOTEBOOK_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style>{{ resources.site_css }}</style>{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
{{ resources.site_header }}
{%- endblock body_header -%}
{% block input_group -%}
{%- if cell.cell_type == 'code' -%}
<details class="code"><summary>show code</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock input_group %}
{% block body_footer %}{{ resources.site_footer }}{{ super() }}{% endblock body_footer %}
"""

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
nav.site { background: #1f4e79; padding: 8px 16px; margin: 0 0 12px 0; }
nav.site a { color: #fff; margin-right: 18px; text-decoration: none; font-weight: 600; }
.synthetic-mark { background: #fde2e1; border: 2px solid #c0392b; color: #7b1d14; padding: 6px 12px; margin: 8px 16px;
                  font-weight: 600; border-radius: 4px; }
.real-mark { background: #e8f4ea; border: 1px solid #2e7d32; padding: 6px 12px; margin: 8px 16px; border-radius: 4px; }
details.code > summary { cursor: pointer; color: #555; font-size: 85%; margin: 2px 0; }
main.page { max-width: 1100px; margin: 0 auto; padding: 0 16px 32px 16px; line-height: 1.45; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 16px; }
.gallery figure { margin: 0; border: 1px solid #ddd; padding: 8px; break-inside: avoid; }
.gallery img { width: 100%; height: auto; }
.print-only { display: none; }
table.list { border-collapse: collapse; font-size: 90%; }
table.list td, table.list th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
footer.site { color: #666; font-size: 80%; margin: 24px 16px; }
@media print { nav.site { display: none; } details.code { display: none; } .screen-only { display: none; }
               .print-only { display: block; } }
"""


@dataclass
class Page:
    path: str  # relative to the site root
    title: str
    synthetic: bool


def _nav(depth: int) -> str:
    up = "../" * depth
    links = [
        ("index.html", "Overview"),
        ("gallery.html", "Figures"),
        ("tables.html", "Tables"),
        ("provenance.html", "Provenance"),
        ("data_dictionary.html", "Data dictionary"),
        ("references.html", "References"),
    ]
    return '<nav class="site">' + "".join(f'<a href="{up}{href}">{name}</a>' for href, name in links) + "</nav>"


def _mark(synthetic: bool, what: str = "This page") -> str:
    if synthetic:
        return (
            f'<div class="synthetic-mark">{SYNTHETIC_MARK}. {what} is built from synthetic example data: it shows how '
            "the method works; its numbers are not findings about Danish libraries.</div>"
        )
    return f'<div class="real-mark">{what} is built from real data only (see Provenance).</div>'


def _footer(manifest: dict) -> str:
    commit = (manifest.get("git") or {}).get("commit") or "unknown"
    finished = html.escape(str(manifest.get("finished", "")))
    return f'<footer class="site">Built from run manifest of {finished}, commit {commit[:12]}.</footer>'


def _page(title: str, body: str, *, synthetic: bool, manifest: dict, depth: int = 0) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>{_nav(depth)}{_mark(synthetic)}"
        f'<main class="page"><h1>{html.escape(title)}</h1>{body}</main>{_footer(manifest)}</body></html>\n'
    )


def _results(reports: Path) -> dict[str, dict]:
    """Results documents by run id: ``reports/results/<run id>/<name>.json`` (the one named like the run
    when a run wrote several), and by name for results written outside a run folder."""
    out: dict[str, dict] = {}
    for f in sorted((reports / "results").rglob("*.json")):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        name = doc.get("name", f.stem)
        folder = f.parent.name if f.parent != reports / "results" else name
        if folder not in out or name == folder:
            out[folder] = doc
        out.setdefault(name, doc)
    return out


def _notebook_html(executed: Path, *, synthetic: bool, manifest: dict) -> str:
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", extra_loaders=[jinja2.DictLoader({"site_notebook.html.j2": NOTEBOOK_TEMPLATE})]
    )
    exporter.template_file = "site_notebook.html.j2"
    nb = nbformat.read(executed, as_version=4)
    resources = {
        "site_css": CSS,
        "site_header": _nav(1) + _mark(synthetic, "This notebook"),
        "site_footer": _footer(manifest),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def _brief_html(doc: dict | None) -> str:
    if doc is None:
        return "<p><em>No results JSON for this run.</em></p>"
    try:
        items = brief.sentences(doc)
    except (
        KeyError,
        ValueError,
        TypeError,
    ) as exc:  # a results layout the brief does not know: say so, do not fail the site
        return f"<p><em>No summary: {html.escape(str(exc))}</em></p>"
    return "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in items) + "</ul>"


def _data_section() -> str:
    rows = []
    for rel, entry in sorted(provenance.load().items()):
        kind = "<strong>synthetic</strong>" if entry.synthetic else "real"
        rows.append(
            f"<tr><td><code>data/raw/{html.escape(rel)}</code></td><td>{kind}</td><td>{html.escape(str(entry.source))}</td></tr>"
        )
    return '<table class="list"><tr><th>file</th><th>data</th><th>source</th></tr>' + "".join(rows) + "</table>"


def build(out: Path | None = None) -> Path:
    """Build the site from ``reports/`` (the executed notebooks, figures, tables, results, run manifest)."""
    reports = paths.reports()
    manifest_file = reports / "run_manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{paths.relative(manifest_file)} not found: run the notebooks first (make run)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    site = Path(out or reports / "site")
    tmp = Path(tempfile.mkdtemp(prefix=".site-", dir=site.parent if site.parent.exists() else None))
    results = _results(reports)
    runs = [r for r in manifest.get("runs", []) if r.get("executed")]
    any_synthetic = bool(manifest.get("synthetic_inputs")) and any(
        doc.get("synthetic", True) for doc in results.values()
    )
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
        doc = results.get(r["id"])
        synthetic = True if doc is None else bool(doc.get("synthetic", True))
        page = f"notebooks/{r['id']}.html"
        files.write_text(tmp / page, _notebook_html(executed, synthetic=synthetic, manifest=manifest))
        pages.append(Page(page, r["id"], synthetic))
        status = (
            ""
            if r.get("status") in ("ok", "skipped")
            else f" <strong>({html.escape(r['status'])}: {html.escape(r.get('error', ''))})</strong>"
        )
        mark = (
            ' <span class="synthetic-mark" style="display:inline;margin:0;padding:1px 6px">synthetic</span>'
            if synthetic
            else ""
        )
        summaries.append(f'<h3><a href="{page}">{html.escape(r["id"])}</a>{mark}{status}</h3>{_brief_html(doc)}')

    # figures and tables, copied so the site stands alone
    def copy(src: Path, kind: str) -> str:
        """Copy an output into the site (keeping its run folder) and return its link."""
        rel = src.relative_to(reports / kind).as_posix()
        (tmp / kind / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, tmp / kind / rel)
        return f"{kind}/{rel}"

    figures = sorted((reports / "figures").rglob("*.png")) if (reports / "figures").is_dir() else []
    (tmp / "figures").mkdir()
    cards = []
    for png in figures:
        link = copy(png, "figures")
        links = f'<a href="{link}">PNG</a>'
        svg = png.with_suffix(".svg")
        printed = None
        if svg.is_file():
            links += f' · <a href="{(svg_link := copy(svg, "figures"))}">SVG</a>'
            printed = svg_link if svg.stat().st_size <= PRINT_SVG_MAX_BYTES else None
        if printed is None:
            printed = print_copy(png, tmp / "print" / png.relative_to(reports / "figures")).relative_to(tmp).as_posix()
        flag = " <strong>(synthetic)</strong>" if png.stem.endswith("_synthetic") else ""
        alt = html.escape(png.stem)
        cards.append(
            f'<figure><img class="screen-only" src="{link}" alt="{alt}">'
            f'<img class="print-only" src="{printed}" alt="{alt}">'
            f"<figcaption>{html.escape(png.stem)}{flag}<br>{links}</figcaption></figure>"
        )
    table_files = (
        sorted(p for p in (reports / "tables").rglob("*") if p.is_file()) if (reports / "tables").is_dir() else []
    )
    (tmp / "tables").mkdir()
    by_stem: dict[str, list[tuple[Path, str]]] = {}
    for t in table_files:
        by_stem.setdefault(t.with_suffix("").relative_to(reports / "tables").as_posix(), []).append(
            (t, copy(t, "tables"))
        )
    table_rows = "".join(
        f"<tr><td>{html.escape(stem)}{' <strong>(synthetic)</strong>' if stem.endswith('_synthetic') else ''}</td><td>"
        + " · ".join(
            f'<a href="{link}">{f.suffix.lstrip(".").upper()}</a>' for f, link in sorted(fs, key=lambda x: x[0].suffix)
        )
        + "</td></tr>"
        for stem, fs in sorted(by_stem.items())
    )

    # pages
    index = (
        f"<h2>Question</h2><p>{html.escape(QUESTION)}</p><h2>Data</h2>{_data_section()}"
        "<h2>Results in brief, notebook by notebook</h2>" + "".join(summaries)
    )
    files.write_text(
        tmp / "index.html",
        _page("Borgerservice in Danish public libraries: report", index, synthetic=any_synthetic, manifest=manifest),
    )
    files.write_text(
        tmp / "gallery.html",
        _page(
            "Figures",
            f'<div class="gallery">{"".join(cards)}</div>' if cards else "<p>No figures.</p>",
            synthetic=any_synthetic,
            manifest=manifest,
        ),
    )
    files.write_text(
        tmp / "tables.html",
        _page(
            "Tables",
            "<p>CSV files hold full precision; regression tables also come as HTML, "
            "LaTeX and Word.</p>"
            + (f'<table class="list">{table_rows}</table>' if table_rows else "<p>No tables.</p>"),
            synthetic=any_synthetic,
            manifest=manifest,
        ),
    )
    files.write_text(
        tmp / "provenance.html", _page("Provenance", _provenance(manifest), synthetic=any_synthetic, manifest=manifest)
    )
    _dictionary_pages(
        tmp, manifest, any_synthetic
    )  # helpers.outputs.dictionary and helpers.outputs.references (issue 17)
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

    body = dictionary.html(fragment=True).replace("<h1>Data dictionary</h1>", "", 1)
    files.write_text(
        tmp / "data_dictionary.html", _page("Data dictionary", body, synthetic=synthetic, manifest=manifest)
    )
    files.write_text(
        tmp / "references.html",
        _page(
            "References",
            "<p>The works and data this package cites; details the sources do "
            'not state are written "not stated". Cite the package with CITATION.cff.</p>' + references.html(),
            synthetic=synthetic,
            manifest=manifest,
        ),
    )


def _provenance(m: dict) -> str:
    def table(rows):
        return (
            '<table class="list">'
            + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{v}</td></tr>" for k, v in rows)
            + "</table>"
        )

    git = m.get("git") or {}
    head = table(
        [
            ("commit", html.escape(str(git.get("commit")))),
            ("uncommitted changes", "yes" if git.get("dirty") else "no"),
            ("started", html.escape(str(m.get("started")))),
            ("finished", html.escape(str(m.get("finished")))),
            ("Python", html.escape(str(m.get("python")))),
            ("platform", html.escape(str(m.get("platform")))),
            ("pipeline config", html.escape(json.dumps(m.get("config", {}), ensure_ascii=False))),
        ]
    )
    packages = table([(k, html.escape(str(v))) for k, v in (m.get("packages") or {}).items()])
    synthetic = set(m.get("synthetic_inputs") or [])
    inputs = table(
        [
            (k, f"<code>{html.escape(str(v))}</code>" + (" <strong>synthetic</strong>" if k in synthetic else ""))
            for k, v in sorted((m.get("inputs") or {}).items())
        ]
    )
    runs = (
        '<table class="list"><tr><th>run</th><th>status</th><th>seconds</th><th>parameters</th></tr>'
        + "".join(
            f"<tr><td>{html.escape(str(r.get('id')))}</td><td>{html.escape(str(r.get('status')))}</td>"
            f"<td>{r.get('seconds', '')}</td>"
            f"<td><code>{html.escape(json.dumps(r.get('parameters', {}), ensure_ascii=False))}</code></td></tr>"
            for r in m.get("runs", [])
        )
        + "</table>"
    )
    return f"<h2>Run</h2>{head}<h2>Packages</h2>{packages}<h2>Inputs (sha256)</h2>{inputs}<h2>Notebook runs</h2>{runs}"


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
