"""Citation and provenance: CITATION.cff, LICENSE, the README's references, self-contained PROVENANCE files."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from helpers.core import paths
from helpers.outputs import references

PROVENANCE_FILES = sorted(
    p for p in paths.root().glob("**/PROVENANCE*.md") if ".venv" not in p.parts and "node_modules" not in p.parts
)


def test_readme_references_and_citation_are_generated_and_current():
    assert references.readme_stale() is None, references.readme_stale()
    assert references.citation_stale() is None, references.citation_stale()


def test_citation_cff_is_valid_citation_file_format():
    doc = yaml.safe_load((paths.root() / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((paths.root() / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert doc["cff-version"] == "1.2.0" and doc["message"] and doc["title"]
    assert doc["version"] == project["version"] and doc["license"] == project["license"] == "MIT"
    assert doc["authors"] and all("name" in a or "family-names" in a for a in doc["authors"])
    for ref in doc["references"]:
        assert ref["type"] in {"article", "report", "data", "database"} and ref["title"] and ref["authors"], ref
        assert all(("name" in a) != ("family-names" in a) for a in ref["authors"]), ref
        if "license" in ref:
            assert ref["license"] in {"CC-BY-4.0"}, ref
    titles = {r["title"] for r in doc["references"]}
    assert "Borgernes indgang til samfundet er på biblioteket" in titles
    assert "Bibliotek og Borgerservice – du er altid velkommen" in titles


def test_license_is_mit_as_pyproject_says():
    text = (paths.root() / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


def test_references_cite_every_source_with_licence_and_retrieval():
    text = references.markdown()
    for needle in (
        "Steen-Hansen, Michel",
        "(2009)",
        "(2011)",
        "2014 survey",
        "FOLK1A",
        "BEF1A07",
        "BIB1",
        "BIB3A",
        "SBS1",
        "BIB2B",
        "BIB6",
        "KOMMUNEGRUPPER_V1_2018",
        "DAGI",
        "SKAT",
        "Wikipedia",
        "Public libraries in figures 2014",
    ):
        assert needle in text, needle
    for r in references.REFERENCES:
        assert r.licence and r.retrieved, r.key  # "not stated" where the sources do not say
        line = next(line for line in text.splitlines() if r.title in line)
        assert "Licence:" in line and "Retrieved:" in line, r.key
    html = references.html()
    assert html.count("<li>") == len(references.REFERENCES) and "<em>Borgernes indgang" in html and "& " not in html


def test_manifest_sources_are_among_the_references():
    """Every real raw file's source repository is cited (the third-party extract as well as the original)."""
    cited = references.markdown()
    for mf in paths.raw().glob("*/MANIFEST.yaml"):
        for entry in yaml.safe_load(mf.read_text(encoding="utf-8"))["files"]:
            if entry["synthetic"]:
                continue
            repo = re.search(r"GitHub (\S+/\S+)", entry["source"]).group(1)
            assert repo in cited, (entry["file"], repo)


@pytest.mark.parametrize("path", PROVENANCE_FILES, ids=lambda p: paths.relative(p))
def test_provenance_file_stands_alone(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"steering repo|research/\w+\.md|/work/", text), "points to a document users do not have"
    for rel in re.findall(r"`(\.\./[^`\s]+)`", text):
        assert (path.parent / rel).exists(), f"{rel} does not exist relative to {paths.relative(path)}"
    assert "Retrieval date" in text, "say when (or that it is not stated) the data were retrieved"


def test_report_site_has_the_data_dictionary_and_the_references(outputs):
    from site_fixture import build_reports

    from helpers.outputs import site

    build_reports(paths.reports())
    root = site.build()
    dictionary_page = (root / "data_dictionary.html").read_text(encoding="utf-8")
    assert (
        "<td>Den spæde start</td>" in dictionary_page
        and "<h2>Codings of cooperation and how they relate</h2>" in dictionary_page
    )
    assert 'href="references.html"' in dictionary_page and 'class="synthetic-mark"' in dictionary_page
    refs = (root / "references.html").read_text(encoding="utf-8")
    assert "Steen-Hansen, Michel" in refs and "FOLK1A" in refs and refs.count("<li>") == len(references.REFERENCES)
