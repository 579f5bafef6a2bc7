"""The README is the user's guide and docs/ the developers': every relative link resolves, the README stays
short, and the module table of docs/architecture.md names every module of src/helpers as it is."""

from __future__ import annotations

import re

from helpers.core import paths

DOCS = [
    "README.md",
    "paper/README.md",
    *sorted(p.relative_to(paths.root()).as_posix() for p in (paths.root() / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors (lower case, punctuation dropped, spaces as '-') and explicit <a id>s."""
    headings = re.findall(r"^#+\s+(.*)$", text, re.M)
    slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
    return slugs | set(re.findall(r'<a id="([^"]+)"', text))


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    broken = []
    for doc in DOCS:
        source = paths.root() / doc
        for target in LINK.findall(source.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#") and not target[1:]:
                continue
            path, _, anchor = target.partition("#")
            file = (source.parent / path).resolve() if path else source
            if not file.exists():
                broken.append(f"{doc}: {target} (no file)")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{doc}: {target} (no heading #{anchor})")
    assert broken == []


def test_the_readme_is_a_users_guide_of_about_300_lines_and_points_to_the_docs():
    readme = (paths.root() / "README.md").read_text(encoding="utf-8")
    body = readme.split("<!-- references:start -->")[0]  # the reference list is generated
    assert len(body.splitlines()) <= 350  # about 300; room for the walk-through of your own data, not for dev notes
    for doc in ("architecture", "statistics", "performance", "trust"):
        assert f"(docs/{doc}.md" in readme
    assert "## Using your own data" in readme and '<a id="use-your-own-data"></a>' in readme
    assert "| measurement | result | target |" not in body  # benchmark tables live in docs/performance.md
    assert "| measurement | result | target |" in (paths.root() / "docs" / "performance.md").read_text(encoding="utf-8")


def test_the_module_table_names_every_module_of_the_package():
    table = (paths.root() / "docs" / "architecture.md").read_text(encoding="utf-8").split("## Modules", 1)[1]
    table = table.split("\n## ", 1)[0]
    helpers = paths.root() / "src" / "helpers"
    missing = []
    for layer in sorted(p for p in helpers.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if f"`{layer.name}`" not in table:
            missing.append(layer.name)
        for child in sorted(layer.iterdir()):
            name = child.stem if child.suffix == ".py" else child.name if (child / "__init__.py").is_file() else None
            if name and not name.startswith("_") and not re.search(rf"`{re.escape(name)}`", table):
                missing.append(f"{layer.name}/{name}")
    assert missing == []
