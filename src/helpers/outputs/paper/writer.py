"""Building the manuscript: the bound Markdown, then .docx, .tex and .pdf with pandoc and Typst.

Tools (both from PyPI, both install offline as wheels): pandoc from ``pypandoc-binary``, which ships the
pandoc binary (Debian 12's pandoc, 2.17, has no Typst writer), and the Typst compiler from ``typst``,
which ships it with its fonts. The PDF is pandoc's Typst output compiled by Typst: no TeX installation
is needed for it. The ``.tex`` is pandoc's standalone LaTeX, for journals; it compiles with pdflatex and
with lualatex (symbols outside Latin-1 are written as LaTeX macros, ``\\ensuremath{\\alpha}``, so neither
engine drops them; a character without a LaTeX form is an error here, never a silent gap).

What is written (``reports/paper/`` by default, replaced as a whole only when everything built):

* ``manuscript.md``: the manuscript with every placeholder filled, tables as pandoc grid tables and
  figures as images (the source of the three formats, and a readable diff between two runs);
* ``manuscript.docx`` (A4, 25 mm margins: pandoc's reference document with its page set by python-docx),
  ``manuscript.tex`` and ``manuscript.pdf`` (A4);
* ``figures/<run>/<file>.png``: the run's figures, so the .tex stands alone;
* ``bindings.json``: every number and file of the manuscript with its run, file and sha256.

Tables are the run's formatted tables (the ``.html`` great_tables writes, else the ``.csv``) read by
pandoc into its own table model: the title row of the file gives way to the manuscript's caption, the
notes stay, columns get widths from their content so long labels wrap on the page.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers.core import files, paths
from helpers.core.vocabulary import PaperOutput, check_choice
from helpers.outputs import labels
from helpers.outputs.paper import bind as binding
from helpers.outputs.paper import source
from helpers.outputs.paper.source import Issue, ManuscriptError, Placeholder

SYNTHETIC_MARK = labels.text("synthetic_mark", "en")  # as on the figures, tables and results files
RED = (0xC0, 0x39, 0x2B)  # the synthetic mark's colour on the site and the figures
LATEX_SAFE = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | {0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D}
LATEX_SAFE |= {0x2026, 0x2022, 0x20AC, 0x0A}
"""Characters pdflatex (utf8 inputenc, T1/TS1) and lualatex (Latin Modern) both set as they are."""
LATEX_SYMBOLS: dict[str, str] = {
    "−": r"\ensuremath{-}",
    "α": r"\ensuremath{\alpha}",
    "β": r"\ensuremath{\beta}",
    "χ": r"\ensuremath{\chi}",
    "θ": r"\ensuremath{\theta}",
    "σ": r"\ensuremath{\sigma}",
    "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}",
    "≈": r"\ensuremath{\approx}",
    "≠": r"\ensuremath{\neq}",
    "→": r"\ensuremath{\rightarrow}",
    "\u2009": r"\,",  # thin space
    "\u202f": r"\,",  # narrow no-break space
}
"""Symbols outside :data:`LATEX_SAFE` as LaTeX macros, the same under both engines and without extra packages."""
UNIT_SPACE = re.compile(r"(\d) %")
PAGE = {
    "latex": {"papersize": "a4", "geometry": "margin=25mm", "colorlinks": True},
    "typst": {"papersize": "a4", "margin": {"x": "25mm", "y": "25mm"}},
}
"""A4 with 25 mm margins in pandoc's LaTeX and Typst templates (their variables), as the .docx."""
TYPST_HEADER = """\
// Long tables run over pages (a figure does not break by default, so its end ran off the page); tables a
// size smaller than the text and justified text not stretched inside their cells.
#show figure.where(kind: table): set block(breakable: true)
#show table: set text(size: 0.85em)
#show table: set par(justify: false)
"""
"""What the Typst file adds to pandoc's template (``--include-in-header``)."""


@dataclass(frozen=True)
class Built:
    """A built manuscript: the ``folder`` and the files in it (``markdown``, ``docx``, ``tex``, ``pdf``; None when
    that format was not asked for), ``bindings`` (bindings.json), whether it is ``synthetic``, and how many
    ``values``, ``figures`` and ``tables`` were bound."""

    folder: Path
    markdown: Path
    docx: Path | None
    tex: Path | None
    pdf: Path | None
    bindings: Path
    synthetic: bool
    values: int
    figures: int
    tables: int


def pandoc_path() -> str:
    """The pandoc binary ``pypandoc-binary`` ships."""
    import pypandoc

    return pypandoc.get_pandoc_path()


def pandoc(args: list[str], text: str | None = None, *, cwd: Path | None = None) -> str:
    """Run pandoc with ``args`` (``text`` on its standard input); its output as text; a RuntimeError shows its error."""
    done = subprocess.run(
        [pandoc_path(), *args],
        input=text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pandoc {' '.join(args[:4])} failed: {done.stderr.strip()[-1500:]}")
    return done.stdout


# --- tables -------------------------------------------------------------------------------------------------------


def _plain_text(node) -> str:
    """The text of a pandoc AST node (inlines, blocks), for measuring column widths."""
    if isinstance(node, list):
        return "".join(_plain_text(n) for n in node)
    if isinstance(node, dict):
        t, c = node.get("t"), node.get("c")
        if t == "Str":
            return c
        if t in ("Space", "SoftBreak", "LineBreak"):
            return " "
        return _plain_text(c) if c is not None else ""
    return ""


def _first_table(blocks: list) -> dict | None:
    for b in blocks:
        if b.get("t") == "Table":
            return b
        if b.get("t") == "Div":
            found = _first_table(b["c"][1])
            if found:
                return found
    return None


def table_markdown(path: Path, caption: str) -> str:
    """A table file of a run (great_tables ``.html``, or ``.csv``) as Markdown: ``caption``, the table as a pandoc
    grid table, and the file's notes (its foot: standard errors, sources, the synthetic mark) as paragraphs after
    it, where a table that runs over a page cannot print them over its last rows."""
    if path.suffix == ".csv":
        import pandas as pd

        html = pd.read_csv(path, dtype=str, keep_default_na=False).to_html(index=False)
    else:
        html = path.read_text(encoding="utf-8")
    ast = json.loads(pandoc(["-f", "html", "-t", "json"], html))
    table = _first_table(ast["blocks"])
    if table is None:
        raise ValueError(f"{paths.relative(path)} holds no table")
    attr, _caption, colspecs, head, bodies, foot = table["c"]
    n = len(colspecs)
    rows = head[1]
    while rows and len(rows[0][1]) == 1 and rows[0][1][0][3] == n and n > 1:
        rows = rows[1:]  # the file's title row: the manuscript's caption replaces it
    widths = [4] * n
    for row in rows + [r for body in bodies for r in body[2] + body[3]]:
        col = 0
        for cell in row[1]:
            span = cell[3]
            if span == 1 and col < n:
                widths[col] = max(widths[col], min(len(_plain_text(cell[4])), 40))
            col += span
    total = sum(widths)
    colspecs = [
        [{"t": "AlignLeft"} if i == 0 else {"t": "AlignCenter"}, {"t": "ColWidth", "c": round(w / total, 3)}]
        for i, w in enumerate(widths)
    ]
    notes = [
        {"t": "Para", "c": block["c"]} if block.get("t") == "Plain" else block
        for row in foot[1]
        for cell in row[1]
        for block in cell[4]
    ]
    table["c"] = [attr, [None, []], colspecs, [head[0], rows], bodies, [foot[0], []]]
    doc = {"pandoc-api-version": ast["pandoc-api-version"], "meta": {}, "blocks": [table, *notes]}
    text = pandoc(["-f", "json", "-t", "markdown-raw_html-native_divs-native_spans", "--columns=100"], json.dumps(doc))
    return f"Table: {caption}\n\n{text.strip()}"


# --- the filled Markdown ------------------------------------------------------------------------------------------


def _figure_link(asset: binding.Asset) -> str:
    return f"figures/{asset.source.run}/{Path(asset.file).name}"


def _typeset(text: str) -> str:
    """A bound value as the page sets it: the brief's text with a no-break space before a per cent sign, so that
    "+2.8 %" is never broken across lines."""
    return UNIT_SPACE.sub("\\1\u00a0%", text)


def _replacement(p: Placeholder, b: binding.Binding, tables: dict[Placeholder, str]) -> str:
    if p.kind == "value":
        return _typeset(b.text(p))
    if p.kind == "figure":
        return f"![{p.caption}]({_figure_link(b.asset(p))}){{width=100%}}"
    if p.kind == "table":
        return tables[p]
    from helpers.outputs import references

    return references.markdown().rstrip()


def _fill_metadata(value, texts: dict[str, str]):
    if isinstance(value, str):
        for placeholder, text in texts.items():
            value = value.replace(placeholder, text)
        return value
    if isinstance(value, list):
        return [_fill_metadata(v, texts) for v in value]
    if isinstance(value, dict):
        return {k: _fill_metadata(v, texts) for k, v in value.items()}
    return value


class _Dumper(yaml.SafeDumper):
    """YAML with multi-line text as literal blocks (``|``), as an author writes an abstract."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)


def filled_markdown(b: binding.Binding, tables: dict[Placeholder, str]) -> str:
    """The manuscript with every placeholder replaced, the run named in the date line and, while any bound value
    is synthetic, the synthetic mark as subtitle (the title page) and a note before the text."""
    from helpers.outputs.brief import SYNTHETIC_CAVEAT

    m = b.manuscript
    start = m.body_start
    body = m.text[start:]
    for p in sorted((p for p in m.placeholders if p.start >= start), key=lambda p: p.start, reverse=True):
        body = body[: p.start - start] + _replacement(p, b, tables) + body[p.end - start :]
    texts = {v.placeholder.text: _typeset(v.text) for v in b.values}
    metadata = _fill_metadata(dict(m.metadata), texts)
    run = f"Numbers from the run of {b.finished[:10] or 'unknown date'}"
    if b.commit:
        run += f", commit {b.commit[:12]}" + (" with uncommitted changes" if b.dirty else "")
    metadata["date"] = run
    if b.synthetic:
        own = metadata.get("subtitle")
        metadata["subtitle"] = f"{own} — {SYNTHETIC_MARK}" if own else SYNTHETIC_MARK
        body = f"**{SYNTHETIC_MARK}.** {SYNTHETIC_CAVEAT}\n\n" + body.lstrip("\n")
    front = yaml.dump(metadata, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n\n{body.lstrip(chr(10))}"


# --- the three formats -----------------------------------------------------------------------------------------------


def reference_docx(target: Path, synthetic: bool) -> Path:
    """pandoc's reference document with an A4 page and 25 mm margins (python-docx); the subtitle, which holds the
    synthetic mark, in the mark's red."""
    from docx import Document
    from docx.shared import Mm, RGBColor

    done = subprocess.run(
        [pandoc_path(), "--print-default-data-file", "reference.docx"], capture_output=True, timeout=60, check=True
    )
    doc = Document(io.BytesIO(done.stdout))
    for section in doc.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Mm(25))
    if synthetic:
        subtitle = doc.styles["Subtitle"].font
        subtitle.color.rgb, subtitle.bold = RGBColor(*RED), True
    doc.save(target)
    return target


def latex_symbols(tex: str) -> str:
    """``tex`` with every symbol of :data:`LATEX_SYMBOLS` written as its macro; a ValueError names any character
    that neither engine would set and that has no macro here (pdflatex stops on it, lualatex drops it)."""
    unknown = sorted({c for c in tex if ord(c) not in LATEX_SAFE and c not in LATEX_SYMBOLS})
    if unknown:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unknown)
        raise ValueError(f"no LaTeX form for {shown}: add it to helpers.outputs.paper.writer.LATEX_SYMBOLS")
    return tex.translate({ord(c): macro for c, macro in LATEX_SYMBOLS.items()})


def _write_docx(md: Path, target: Path, synthetic: bool, work: Path) -> None:
    ref = reference_docx(work / "reference.docx", synthetic)
    pandoc([md.name, "-t", "docx+native_numbering", "-o", str(target), f"--reference-doc={ref}"], cwd=md.parent)


def _write_tex(md: Path, target: Path, work: Path) -> None:
    settings = files.write_text(work / "latex.yaml", yaml.safe_dump(PAGE["latex"]))
    tex = pandoc([md.name, "-s", "-t", "latex", f"--metadata-file={settings}"], cwd=md.parent)
    files.write_text(target, latex_symbols(tex))


def _write_pdf(md: Path, target: Path, work: Path) -> None:
    import typst

    typ = md.with_suffix(".typ")
    settings = files.write_text(work / "typst.yaml", yaml.safe_dump(PAGE["typst"]))
    header = files.write_text(work / "header.typ", TYPST_HEADER)
    pandoc(
        [md.name, "-s", "-t", "typst", "-o", typ.name, f"--metadata-file={settings}", "-H", str(header)], cwd=md.parent
    )
    try:
        typst.compile(str(typ), output=str(target), root=str(md.parent))
    except typst.TypstError as exc:
        raise RuntimeError(f"typst could not compile {typ.name}: {exc}") from exc
    finally:
        typ.unlink(missing_ok=True)


def default_folder() -> Path:
    return paths.reports() / "paper"


def check(manuscript: Path | None = None, *, key_check: bool = True) -> binding.Binding:
    """Read, check and bind a manuscript (default ``paper/manuscript.md``) without writing anything: a
    ManuscriptError lists every problem (syntax, numbers typed by hand, values that no longer exist, runs that
    failed or are not up to date)."""
    m, issues = source.read(manuscript)
    issues += [t.issue() for t in source.typed_numbers(m.text)]
    b, bind_issues = binding.bind(m, key_check=key_check) if m.runs else (None, [])
    issues += bind_issues
    if issues or b is None:
        raise ManuscriptError(m.path, sorted(issues, key=lambda i: i.line) or [Issue(0, "", "nothing to bind")])
    return b


def build(
    manuscript: Path | None = None,
    out: Path | None = None,
    formats: tuple[str, ...] = ("docx", "tex", "pdf"),
    *,
    key_check: bool = True,
) -> Built:
    """Check and bind the manuscript, then write the filled Markdown and ``formats`` into ``out`` (default
    ``reports/paper``), replacing the folder only when everything was built."""
    for f in formats:
        check_choice("format", f, PaperOutput)
    b = check(manuscript, key_check=key_check)
    out = Path(out or default_folder())
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = b.manuscript.path.stem
    tmp = Path(tempfile.mkdtemp(prefix=".paper-", dir=out.parent))
    work = Path(tempfile.mkdtemp(prefix=".paper-work-", dir=out.parent))
    try:
        tables = {}
        for a in b.assets:
            if a.placeholder.kind == "figure":
                target = tmp / _figure_link(a)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(a.path, target)
            else:
                tables[a.placeholder] = table_markdown(a.path, a.placeholder.caption)
        md = files.write_text(tmp / f"{stem}.md", filled_markdown(b, tables))
        written: dict[str, Path | None] = {"docx": None, "tex": None, "pdf": None}
        for f in formats:
            target = tmp / f"{stem}.{f}"
            if f == "docx":
                _write_docx(md, target, b.synthetic, work)
            elif f == "tex":
                _write_tex(md, target, work)
            else:
                _write_pdf(md, target, work)
            written[f] = target
        files.write_json(tmp / "bindings.json", b.record())
        os.chmod(tmp, 0o777 & ~files._UMASK)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return Built(
        out,
        out / f"{stem}.md",
        *(out / p.name if p else None for p in (written["docx"], written["tex"], written["pdf"])),
        out / "bindings.json",
        b.synthetic,
        len(b.values),
        sum(a.placeholder.kind == "figure" for a in b.assets),
        len(tables),
    )
