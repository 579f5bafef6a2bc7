"""No round list, file path or count of rounds is typed into a notebook's text or the report site: they come
from the config and the results, so they cannot go stale when a round is added or the outputs move."""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.core import paths
from helpers.outputs import render, site
from helpers.running import pipeline

NOTEBOOKS = sorted(paths.notebooks().glob("*.ipynb"))
COUNT_WORDS = "three|four|five|six|seven|eight|nine|ten"  # "the two rounds" of a pair are two by definition
# a path into the outputs without the run's own folder: the layout before run-owned outputs (issue 24)
STALE_PATH = re.compile(r"(data/processed|reports/(figures|tables|results))/(?!<run id>|\{)[\w.*]")


def _round_lists(years) -> list[str]:
    years = [str(y) for y in sorted(years)]
    return [", ".join(years), ", ".join(years[:-1]) + " and " + years[-1]]


def _texts():
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                yield f"{nb_path.name} cell {i}", cell.source
    for template in sorted((render.TEMPLATES / "site").glob("*.j2")):
        yield f"templates/site/{template.name}", template.read_text(encoding="utf-8")
    yield "helpers.outputs.site.QUESTION", site.QUESTION


@pytest.mark.parametrize("where,text", list(_texts()), ids=lambda x: x if len(str(x)) < 60 else None)
def test_no_round_list_count_of_rounds_or_stale_output_path_is_typed(where, text):
    rounds = pipeline.load_rounds()
    for listed in _round_lists(rounds):
        assert listed not in text, f"{where}: the rounds of the config typed out ({listed!r})"
    count = re.search(rf"\b({COUNT_WORDS}) (survey )?rounds\b", text, flags=re.I)
    assert count is None, f"{where}: a count of rounds typed out ({count.group(0)!r})"
    stale = STALE_PATH.search(text)
    assert stale is None, f"{where}: an output path without the run's folder ({stale.group(0)!r}; use <run id>)"


def test_the_check_finds_what_it_looks_for():
    assert STALE_PATH.search("written to `reports/figures/model_*`") and STALE_PATH.search("data/processed/x.parquet")
    assert not STALE_PATH.search("`reports/{figures,tables}/<run id>/`") and not STALE_PATH.search(
        "reports/figures/<run id>/"
    )
    assert "2009, 2011 and 2014" in _round_lists([2014, 2009, 2011])
    five = site.question([2009, 2011, 2014, 2017, 2020])
    assert "clean five survey rounds (2009, 2011, 2014, 2017, 2020) of how" in five
