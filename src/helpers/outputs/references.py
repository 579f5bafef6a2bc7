"""The works and data this package cites, in one place: README references, report HTML, CITATION.cff.

Every detail here comes from the seed article or a PROVENANCE file / data manifest shipped in
``data/raw``; what those do not state is written "not stated", never guessed. ``added`` is the
date the file entered this repository (its git history), which is all that is known about when
it was retrieved. :func:`readme_section` is pasted into README.md between the markers
``<!-- references:start -->`` and ``<!-- references:end -->``; :func:`citation_cff` is
CITATION.cff. ``borgerservice export --dictionary`` rewrites both (with the data dictionary), and
tests fail when either is stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpers.core import files, paths
from helpers.outputs import render

NOT_STATED = "not stated"
ADDED = "2026-11-29"  # first commit of data/raw in this repository (git log --diff-filter=A)
START, END = "<!-- references:start -->", "<!-- references:end -->"
TITLE = "borgerservice-libraries: citizen services in Danish public libraries, a notebook research package"
AUTHORS_NOTE = "borgerservice-libraries contributors"  # pyproject.toml names no authors


@dataclass(frozen=True)
class Reference:
    key: str
    authors: tuple[str, ...]  # "Family, Given" for persons; an organisation's name otherwise
    year: str  # or NOT_STATED
    title: str
    kind: str  # CFF type: article | report | data | database
    publisher: str = NOT_STATED
    url: str = NOT_STATED
    licence: str = NOT_STATED
    spdx: str = ""  # SPDX id when the licence is one exactly
    retrieved: str = NOT_STATED
    via: str = ""  # the third-party copy this package took it from
    used_for: str = ""
    tables: tuple[str, ...] = field(default_factory=tuple)  # Statistics Denmark table ids


_DST_LICENCE = (
    "Statistics Denmark's terms: free use, also commercial, with credit "
    '("Source: Statistics Denmark, Statistikbanken"); DST says this corresponds to CC BY 4.0'
)
_NOT_RETRIEVED = "not retrieved by this project (known through the seed article)"


def _third_party_copy(
    key: str, authors: tuple[str, ...], year: str, title: str, kind: str, *, via: str, **details
) -> Reference:
    """A data set taken from a third-party copy (``via``, see README *Real data from the source itself*):
    when the copy retrieved it is not stated; only the date it was added here is known."""
    return Reference(
        key, authors, year, title, kind, retrieved=f"{NOT_STATED}; added to this package {ADDED}", via=via, **details
    )


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "seed",
        ("Steen-Hansen, Michel", "Knudsen, Hanne Marie"),
        NOT_STATED,
        "Borgernes indgang til samfundet er på biblioteket",
        "article",
        publisher="Danmarks Biblioteksforening and Knudsen Syd (the authors' organisations; the place of publication "
        "is not stated)",
        retrieved=f"{NOT_STATED}; undated text reporting the survey of September 2011",
        used_for="the 2011 legend of cooperation models 1-5, the 2011 figures (61 of 98 cooperating; 32 libraries, "
        "37 %, "
        "in strategy work) and the 2010 national figures the synthetic examples are calibrated to",
    ),
    Reference(
        "survey2009",
        ("Danmarks Biblioteksforening", "Bibliotekschefforeningen", "Knudsen Syd"),
        "2009",
        "Bibliotek og Borgerservice – du er altid velkommen",
        "report",
        url="http://db.dk/borgerservice (as given in the seed article)",
        retrieved=_NOT_RETRIEVED,
        used_for="the 2009 round: fewer than half of the kommuner had involved their libraries in borgerservice tasks",
    ),
    Reference(
        "survey2011",
        ("Danmarks Biblioteksforening", "Bibliotekschefforeningen", "Knudsen Syd"),
        "2011",
        "Survey of the public libraries on cooperation with borgerservice, September 2011 (results and map; "
        f"title {NOT_STATED})",
        "report",
        url="http://db.dk/borgerservice-samarbejde-2011 (as given in the seed article)",
        retrieved=_NOT_RETRIEVED,
        used_for="the 2011 round; its figures are quoted in the seed article",
    ),
    Reference(
        "survey2014",
        ("Danmarks Biblioteksforening",),
        "2015",
        f"Report of March 2015 on the 2014 survey of libraries and borgerservice (title {NOT_STATED})",
        "report",
        retrieved=NOT_STATED,
        used_for="the 2014 round as the synthetic example is calibrated: cooperation in 90 of 98 kommuner, library "
        "staff "
        "doing borgerservice tasks in about 49 %, 8.2 % without cooperation (from the report and press coverage of it)",
    ),
    _third_party_copy(
        "dst_population",
        ("Statistics Denmark",),
        NOT_STATED,
        "Population on 1 January by kommune, region and country, 2005-2023",
        "data",
        publisher="Statistikbanken",
        url="https://www.statistikbanken.dk",
        licence=_DST_LICENCE,
        tables=("FOLK1A", "BEF1A07"),
        via="GitHub pryn-kb/isds2023 (KUB Datalab summer-school project, no licence stated) at commit 004c92e, "
        "Feature_data/population_data.csv (last changed 2023-08-18); data/raw/reference/dst/PROVENANCE.md",
        used_for="exposure and rates per 1,000 inhabitants",
    ),
    _third_party_copy(
        "dst_loans",
        ("Statistics Denmark",),
        NOT_STATED,
        "Physical loans per inhabitant by kommune, 2010-2015 and 2018-2025, and for the whole country",
        "data",
        publisher="Statistikbanken",
        url="https://www.statistikbanken.dk",
        licence=_DST_LICENCE,
        tables=("BIB1", "BIB3A", "FOLK1A"),
        via='GitHub augustseptimius-beep/doughnut ("Danmarks 98 Doughnuts", Thisted Kommune; no licence file) at '
        "commits "
        "378426d (data/trend_history_raw.csv) and 6d73cfe (data/trend_history_land.csv); data/raw/usage/PROVENANCE.md",
        used_for="the real usage series (loans)",
    ),
    _third_party_copy(
        "dst_groups",
        ("Statistics Denmark",),
        "2018",
        "Kommunegrupper (KOMMUNEGRUPPER_V1_2018)",
        "data",
        licence=_DST_LICENCE + "; the copy's repository states no licence",
        via="GitHub augustseptimius-beep/doughnut at commit 30ae0de, data/kommuner.json; "
        "data/raw/reference/context/PROVENANCE.md",
        used_for="the kommunegruppe control (the 2018 version, applied to earlier years)",
    ),
    Reference(
        "dst_api",
        ("Statistics Denmark",),
        NOT_STATED,
        "StatBank API v1: library and population tables",
        "database",
        publisher="Statistikbanken",
        url="https://api.statbank.dk",
        licence=_DST_LICENCE,
        tables=("BIB1", "SBS1", "BIB2B", "BIB6", "FOLK1A"),
        retrieved="recorded per table in data/raw/usage/statbank/<TABLE>.query.json by `borgerservice fetch-usage`",
        used_for="direct downloads that replace the third-party extracts (see Real data from the source itself)",
    ),
    _third_party_copy(
        "dagi",
        ("Geodatastyrelsen",),
        "2014",
        "DAGI kommune- og regionsinddeling, generalised (about 1:500,000), 2014-02-13",
        "data",
        publisher="Geodatastyrelsen & Danske Kommuner (FOT data set), now Klimadatastyrelsen",
        licence="CC BY 4.0 (Klimadatastyrelsen's free geographic data since 16 May 2024; credit the source)",
        spdx="CC-BY-4.0",
        via="GitHub Neogeografen/dagi (no licence file) at commit a1c1563 (2015-07-20), geojson/kommuner.geojson and "
        "geojson/regioner.geojson; data/raw/reference/geo/PROVENANCE.md",
        used_for="kommune and region boundaries, region membership, approximate areas",
    ),
    _third_party_copy(
        "skat",
        ("SKAT",),
        NOT_STATED,
        "New kommunekoder and the pre-2007 kommunekoder they replaced",
        "data",
        url="info.skat.dk, data.aspx?oid=2276646 (according to the copy's notebook)",
        licence=NOT_STATED,
        via="GitHub pryn-kb/isds2023 at commit 004c92e, Feature_data/nye_og_gamle_kommuner.csv; "
        "data/raw/reference/context/PROVENANCE.md",
        used_for="the 2007 reform concordance (merged_2007) and old kommune names",
    ),
    Reference(
        "wikipedia",
        ("Wikipedia contributors",),
        "2023",
        "Kommuner i Danmark efter indbyggertal",
        "data",
        publisher="Danish Wikipedia",
        licence="CC BY-SA (Wikipedia text; version not stated)",
        retrieved="August 2023 (scraped by the isds2023 authors)",
        via="GitHub pryn-kb/isds2023 at commit 004c92e, Feature_data/muni_areas.csv; "
        "data/raw/reference/context/PROVENANCE.md",
        used_for="land area per kommune (km²)",
    ),
    Reference(
        "agency2014",
        ("Danish Agency for Culture",),
        NOT_STATED,
        "Public libraries in figures 2014",
        "report",
        retrieved=NOT_STATED,
        used_for="a check of the national loans: about 37.3 million physical loans in 2014",
    ),
    Reference(
        "db2022",
        ("Danmarks Biblioteksforening",),
        NOT_STATED,
        "Commentary on the 2022 library statistics",
        "report",
        retrieved=NOT_STATED,
        used_for="a check of the national loans: 29,913,676 physical loans in 2018",
    ),
)


def _authors(r: Reference) -> str:
    names = list(r.authors)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _parts(r: Reference) -> list[tuple[str, str]]:
    """Labelled details of a reference, in order."""
    out = [("", f"{_authors(r)} ({r.year}). *{r.title}*.")]
    if r.publisher != NOT_STATED:
        out.append(("Publisher", r.publisher))
    if r.tables:
        out.append(("Table ids", ", ".join(r.tables)))
    out.append(("Address", r.url))
    if r.via:
        out.append(("Copy used", r.via))
    out += [("Licence", r.licence), ("Retrieved", r.retrieved)]
    if r.used_for:
        out.append(("Used for", r.used_for))
    return out


def markdown() -> str:
    """The references as a Markdown list (the README's references section)."""
    lines = []
    for r in REFERENCES:
        parts = _parts(r)
        lines.append("- " + parts[0][1] + " " + " ".join(f"{k}: {v}." for k, v in parts[1:]))
    return "\n".join(lines) + "\n"


def _emphasis(text: str) -> list[tuple[str, str]]:
    """A title line as (kind, text) segments: ``*x*`` is emphasis (the work's title), the rest text."""
    parts = re.split(r"\*([^*]+)\*", text)
    return [("em" if i % 2 else "text", part) for i, part in enumerate(parts) if part]


def html() -> str:
    """The references as an HTML list, for the report site (``templates/references.html.j2``)."""
    items = []
    for r in REFERENCES:
        parts = _parts(r)
        items.append({"head": _emphasis(parts[0][1]), "details": parts[1:]})
    return render.render("references.html.j2", references=items)


def readme_section() -> str:
    """What README.md holds between the references markers."""
    return f"{START}\n{markdown()}{END}"


def _readme() -> Path:
    return paths.root() / "README.md"


def readme_stale() -> str | None:
    """None when README.md's references section is what :func:`readme_section` makes."""
    text = _readme().read_text(encoding="utf-8")
    if START not in text or END not in text:
        return f"README.md lacks the markers {START} ... {END}"
    current = text[text.index(START) : text.index(END) + len(END)]
    if current != readme_section():
        return "README.md's references are stale; run `borgerservice export --dictionary` and commit README.md"
    return None


def write_readme() -> Path:
    text = _readme().read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"README.md lacks the markers {START} ... {END}")
    new = text[: text.index(START)] + readme_section() + text[text.index(END) + len(END) :]
    return files.write_text(_readme(), new)


def _cff_author(name: str) -> dict:
    if ", " in name:
        family, given = name.split(", ", 1)
        return {"family-names": family, "given-names": given}
    return {"name": name}


def _cff_reference(r: Reference) -> dict:
    ref = {"type": r.kind, "title": r.title, "authors": [_cff_author(a) for a in r.authors]}
    if r.year.isdigit():
        ref["year"] = int(r.year)
    if r.url.startswith("http"):
        ref["url"] = r.url.split(" ")[0]
    if r.spdx:
        ref["license"] = r.spdx
    notes = [f"{k}: {v}" for k, v in _parts(r)[1:] if k not in ("Address",) or not r.url.startswith("http")]
    ref["notes"] = "; ".join(notes)
    return ref


def citation_cff() -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the code, with the works and data it cites."""
    import tomllib

    project = tomllib.loads((paths.root() / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    doc = {
        "cff-version": "1.2.0",
        "message": "If you use this package, please cite it as below, and cite the data sources in `references`.",
        "type": "software",
        "title": TITLE,
        "version": project["version"],
        "license": project["license"],
        "authors": [{"name": AUTHORS_NOTE}],
        "abstract": project["description"],
        "keywords": ["borgerservice", "public libraries", "Denmark", "kommuner", "survey", "Statistics Denmark"],
        "references": [_cff_reference(r) for r in REFERENCES],
    }
    header = "# Generated by helpers.outputs.references (borgerservice export --dictionary); edit there, not here.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def citation_stale() -> str | None:
    f = paths.root() / "CITATION.cff"
    if not f.is_file() or f.read_text(encoding="utf-8") != citation_cff():
        return "CITATION.cff is missing or stale; run `borgerservice export --dictionary` and commit it"
    return None


def write_citation() -> Path:
    return files.write_text(paths.root() / "CITATION.cff", citation_cff())
