"""The report site in a real browser: open the index over HTTP (127.0.0.1), follow every link, and
check that no page is empty or broken (HTTP errors, missing images, script errors).

Headless Debian Chromium via Playwright, as tests/test_browser.py. The site is built from a small
reports folder (tests/site_fixture.py) and, when `make run` and `make report` have been run, the
project's own reports/site is checked too.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from site_fixture import SITE_PAGES, build_reports
from test_browser import CHROMIUM, CHROMIUM_FLAGS, browser_available  # noqa: F401  (the fixture skips or fails as there)

from helpers.core import paths
from helpers.outputs import site

pytestmark = pytest.mark.browser


@pytest.fixture
def serve():
    servers = []

    def start(root: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a, **k: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()


def crawl(base: str) -> dict[str, int]:
    """Visit every page reachable from index.html; returns the number of characters of text on each page."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, int] = {}
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.on("pageerror", lambda exc: problems.append(f"{page.url}: script error {exc}"))
        queue = deque([urljoin(base, "index.html")])
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            if not url.endswith(".html"):  # a download (PNG, SVG, CSV, docx, ...): must exist and not be empty
                response = page.request.get(url)
                assert response.ok and len(response.body()) > 0, f"{url}: {response.status}"
                seen[url] = len(response.body())
                continue
            response = page.goto(url)
            assert response is not None and response.ok, f"{url}: HTTP {response.status if response else 'no answer'}"
            text = page.inner_text("body")
            seen[url] = len(text.strip())
            assert seen[url] > 200, f"{url}: almost empty page ({seen[url]} characters)"
            broken = page.evaluate(
                "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
            )
            assert not broken, f"{url}: images that do not load: {broken}"
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                href = href.split("#")[0]
                if urlparse(href).netloc == urlparse(base).netloc:
                    queue.append(href)
                else:
                    problems.append(f"{url}: link leaves the site: {href}")
        browser.close()
    assert not problems, problems
    return seen


def test_site_opens_and_every_link_works(browser_available, outputs, serve):  # noqa: F811
    build_reports(paths.reports())
    root = site.build()
    seen = crawl(serve(root))
    pages = {urlparse(u).path.lstrip("/") for u in seen if u.endswith(".html")}
    assert pages == SITE_PAGES
    assert any(u.endswith(".png") for u in seen) and any(u.endswith(".csv") for u in seen)


def test_project_site_when_built(browser_available, serve):  # noqa: F811
    root = paths.reports() / "site"
    if not (root / "index.html").is_file():
        pytest.skip("no reports/site: run `make run` and `make report` first")
    seen = crawl(serve(root))
    assert sum(u.endswith(".html") for u in seen) >= 5
    # every figure and table the shipped pipeline wrote has a title and a description from the catalogue (a new
    # kind of output without one would be titled by its file name on the gallery and tables pages)
    from helpers.outputs import catalogue

    figures = {p.stem for p in (root / "figures").rglob("*.png")}
    tables = {p.stem for p in (root / "tables").rglob("*.csv")}
    assert figures and tables
    assert sorted(s for s in figures if not catalogue.figure(s).known) == []
    assert sorted(s for s in tables if not catalogue.table(s).known) == []
