"""Printing the report's pages to PDF in one headless Chromium session (Debian's chromium, through Playwright).

Starting Chromium costs about a second; the earlier report started it once per page. :class:`Browser` starts it
once and prints every page of the site (the book, one bookmark per page with each page's own headings beneath it)
and the short report, A4, with bookmarks from the headings. Links that Chromium records as ``file://`` URLs of the
site are rewritten relative to the PDF (:func:`relative_links`), so the PDF names no machine path.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from helpers.core import files

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--no-first-run",
    "--disable-default-apps",
]
PDF_OPTIONS = {  # Playwright's page.pdf: A4, the page's own colours, bookmarks from the headings
    "format": "A4",
    "print_background": True,
    "outline": True,
    "tagged": True,
    "margin": {"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
}
# Before printing a notebook: a table wider than its column is zoomed to fit it (pandas' wide frames), rather
# than cut at the page edge.
FIT_WIDE_TABLES = """() => {
  for (const t of document.querySelectorAll('.jp-RenderedHTMLCommon table, main table, table')) {
    const box = t.parentElement.getBoundingClientRect().width;
    const w = t.scrollWidth;
    if (box > 0 && w > box) { t.style.zoom = String(Math.max(0.45, box / w)); }
  }
}"""


class Browser:
    """One headless Chromium (Debian's, through Playwright) that prints every page of the report.

    Starting Chromium costs about a second; the earlier report started it once per page (31 pages: a third of its
    63 s). Used as a context manager; :meth:`book` and :meth:`short` print the two PDFs."""

    def __init__(self, chromium: Path | None = None):
        self.chromium = Path(chromium or CHROMIUM)

    def __enter__(self) -> Browser:
        if not self.chromium.is_file():
            raise FileNotFoundError(
                f"{self.chromium} not found: the PDF is printed with Debian's chromium (apt-get install chromium)"
            )
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=str(self.chromium), args=CHROMIUM_FLAGS)
            self._page = self._browser.new_page()
        except Exception:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._browser.close()
        finally:
            self._playwright.stop()

    def print(self, html: Path, **options) -> bytes:
        """``html`` printed to PDF (A4, bookmarks from its headings, wide tables zoomed to the page width)."""
        from playwright.sync_api import Error

        try:
            self._page.goto(html.resolve().as_uri(), wait_until="load")
            self._page.emulate_media(media="print")
            self._page.evaluate(FIT_WIDE_TABLES)
            return self._page.pdf(**{**PDF_OPTIONS, **options})
        except Error as exc:
            raise RuntimeError(f"chromium could not print {html.name}: {exc}") from None

    def book(self, site: Path, target: Path, pages: list) -> Path:
        """Every page of the site in one PDF: a bookmark per page (``pages``: objects with ``path`` relative to
        ``site``, ``title`` and ``group``; notebooks under "Notebooks"), each page's own headings beneath it."""
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        parents: dict[str, object] = {}
        for page in pages:
            reader = PdfReader(io.BytesIO(self.print(site / page.path)))
            start = len(writer.pages)
            writer.append(reader, import_outline=False)
            parent = None
            if page.group:
                if page.group not in parents:
                    parents[page.group] = writer.add_outline_item(title=page.group, page_number=start)
                parent = parents[page.group]
            item = writer.add_outline_item(title=page.title, page_number=start, parent=parent)
            _copy_outline(reader, reader.outline, writer, item, start)
        relative_links(writer, site, target)
        writer.page_mode = "/UseOutlines"
        _write(writer, target)
        return target

    def short(self, html: Path, target: Path, site: Path) -> Path:
        """The short report, A4, its headings as bookmarks (and its table of contents, linked)."""
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(self.print(html))))
        relative_links(writer, site, target)
        writer.page_mode = "/UseOutlines"
        _write(writer, target)
        return target


def _copy_outline(reader, items, writer, parent, offset: int) -> None:
    """Copy ``reader``'s outline ``items`` under ``parent`` of ``writer``, pages shifted by ``offset``."""
    last = parent
    for item in items:
        if isinstance(item, list):
            _copy_outline(reader, item, writer, last, offset)
            continue
        try:
            number = reader.get_destination_page_number(item)
        except Exception:  # an outline item without a page (none that Chromium writes): leave it out
            continue
        last = writer.add_outline_item(title=str(item.title), page_number=offset + number, parent=parent)


def _write(writer, target: Path) -> None:
    with files.atomic_path(target) as tmp, open(tmp, "wb") as fh:
        writer.write(fh)


def relative_links(writer, site: Path, target: Path) -> int:
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
