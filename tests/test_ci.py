"""CI (.ci/run) runs what a user runs, in order, so that nothing skips for want of an earlier step; its apt-get
line installs what the tests need; the Makefile has the targets the README names."""

from __future__ import annotations

import re

from helpers.core import paths


def _steps() -> list[str]:
    text = (paths.root() / ".ci" / "run").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_tests_the_pipeline_the_report_the_crawl_and_the_paper_in_that_order():
    steps = _steps()
    order = ["make test", "make run", "make report", "tests/test_site_browser.py", "make paper"]
    at = [next(i for i, s in enumerate(steps) if step == s or (step.endswith(".py") and step in s)) for step in order]
    assert at == sorted(at), dict(zip(order, at, strict=True))
    crawl = steps[at[3]]
    assert "-m browser" in crawl and "-k test_project_site_when_built" in crawl
    source = (paths.root() / "tests" / "test_site_browser.py").read_text(encoding="utf-8")
    assert "def test_project_site_when_built(" in source  # the crawl selects a test that exists (else pytest exits 5)
    assert steps[at[3] - 1].startswith("test -f reports/site/index.html")  # cannot skip: the site it crawls exists
    assert "set -euo pipefail" in steps
    # the .tex tables the run just wrote are compiled, and the test cannot skip for want of them
    tables = next(i for i, s in enumerate(steps) if "-k test_the_tables_of_a_run_compile" in s)
    assert at[1] < tables and steps[tables - 1].startswith("ls reports/tables/*/*.tex")
    assert "def test_the_tables_of_a_run_compile(" in (paths.root() / "tests" / "test_tables_latex.py").read_text()


def test_ci_installs_what_the_tests_need():
    text = (paths.root() / ".ci" / "run").read_text(encoding="utf-8")
    install = text.split("apt-get install", 1)[1].split("\nSECONDS", 1)[0]
    packages = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", install.split("--no-install-recommends", 1)[1]))
    assert {"chromium", "texlive-latex-recommended", "texlive-luatex", "lmodern", "r-base-core"} <= packages
    libraries = set(re.findall(r"library\((\w+)\)", (paths.root() / "tests" / "r" / "reference.R").read_text()))
    assert {f"r-cran-{lib.lower()}" for lib in libraries} <= packages, libraries
    assert {"r-cran-survey", "r-cran-mice"} <= packages


def test_the_makefile_has_the_targets_the_readme_names():
    makefile = (paths.root() / "Makefile").read_text(encoding="utf-8")
    for target, command in {
        "run": "borgerservice run",
        "report": "borgerservice report",
        "paper": "borgerservice paper",
    }.items():
        recipe = makefile.split(f"\n{target}: $(STAMP)\n", 1)[1].split("\n\n", 1)[0]
        assert recipe.strip() == f"$(BIN)/{command}", (target, recipe)
