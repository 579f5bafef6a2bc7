"""The manuscript's source: its front matter, its placeholders, and numbers typed by hand.

A manuscript is Markdown (pandoc's dialect) with a YAML front matter. The front matter's ``runs``
names the runs the text reports, by a short alias (``adoption: 04_adoption_real``);
everything in ``{{ }}`` comes from those runs:

* ``{{alias.field.field | format}}``: a value of the run's typed key results (``helpers.results``),
  written by a format of :data:`helpers.outputs.paper.bind.FORMATS`. A step ``[key=value, ...]`` picks
  the element of a tuple whose fields have those values (``effects[event_time=0]``), ``[2]`` the
  third; a step into a dict is its key (``cooperating.2011``);
* ``{{figure: alias/name | caption}}`` and ``{{table: alias/name | caption}}``, each alone on its line:
  a figure or table file the run wrote, by its name without ``_synthetic`` and language suffixes;
* ``{{references}}``: the package's reference list (``helpers.outputs.references``).

Numbers typed by hand are what binding exists to prevent, so :func:`typed_numbers` finds every digit
outside ``{{ }}`` except this allowlist (:data:`ALLOWED`):

* a year in prose, 1900-2099 ("the 2007 reform");
* a section number at the start of a heading, or an ordered list's marker;
* digits that are part of a name (``FOLK1A``, ``BIB1``, ``04_adoption``);
* anything in code (inline or fenced), in an HTML comment, in a link target or attribute block, in a
  footnote label, and in a span marked ``[...]{.literal}``: the author's declaration that a text is
  fixed, not a result ("models [1-4]{.literal}", "[80 %]{.literal} power").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from helpers.core import paths

PlaceholderKind = Literal["value", "figure", "table", "references"]

ALLOWED: tuple[tuple[str, str], ...] = (
    ("year", "a year in prose, 1900-2099"),
    ("section number", "a number at the start of a heading, or an ordered list's marker"),
    ("name", "digits that are part of a name: a letter or underscore right before or after (FOLK1A, 04_adoption)"),
    ("literal span", "text marked as fixed by the author: [models 1-4]{.literal}"),
    ("code, comments, links", "inline and fenced code, HTML comments, link targets, {#id .class} attributes"),
)
"""What the hand-typed number check lets through (the module docstring explains each)."""

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")  # one line: a placeholder never spans lines
_STEP = re.compile(r"\.([^.\[\]]+)|\[([^\]]*)\]")  # a dict key may hold spaces and letters: .Region Sjælland
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?:19|20)\d\d")
_HEADING_NUMBER = re.compile(r"#{1,6}[ \t]+\d+(?:\.\d+)*\.?(?:[ \t]|$)", re.M)
_LIST_MARKER = re.compile(r"[ \t]*\d+[.)](?:[ \t]|$)", re.M)
_NOT_TEXT = (  # not text of the manuscript: placeholders here are not filled, numbers not checked
    re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.S | re.M),  # fenced code
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"`[^`\n]*`"),  # inline code
)
_MASKED = (  # text, but not where a result is written
    re.compile(r"\[[^\]\n]*\]\{\.literal\}"),  # declared fixed text
    re.compile(r"\]\([^)\n]*\)"),  # link and image targets
    re.compile(r"<https?://[^>\s]*>|https?://\S+"),  # URLs
    re.compile(r"\{[#.][^}\n]*\}"),  # attribute blocks
    re.compile(r"\[\^[^\]\n]*\]"),  # footnote labels
    re.compile(r"^\[[^\]\n]+\]:.*$", re.M),  # link definitions
)


@dataclass(frozen=True)
class Step:
    """One step of a value's path: a ``field`` (attribute or dict key), a selection of the tuple element
    whose fields equal ``where`` (``[event_time=0]``), or an ``index`` into a tuple (``[0]``)."""

    field: str = ""
    where: tuple[tuple[str, str], ...] = ()
    index: int | None = None

    def __str__(self) -> str:
        if self.field:
            return f".{self.field}"
        if self.index is not None:
            return f"[{self.index}]"
        return "[" + ", ".join(f"{k}={v}" for k, v in self.where) + "]"


@dataclass(frozen=True)
class Placeholder:
    """A ``{{ }}`` of the manuscript.

    ``text``: as written, braces included; ``line``, ``column``: where it starts (1-based); ``kind``:
    value, figure, table or references; ``alias``: the run alias it reads; ``path``: the steps to a value;
    ``format``: the value's format ('' = by type); ``name``: a figure's or table's file name; ``caption``:
    its caption; ``start``, ``end``: offsets in the file; ``alone``: whether it is alone on its line.
    """

    text: str
    line: int
    column: int
    kind: PlaceholderKind
    alias: str = ""
    path: tuple[Step, ...] = ()
    format: str = ""
    name: str = ""
    caption: str = ""
    start: int = 0
    end: int = 0
    alone: bool = False

    @property
    def where(self) -> str:
        return f"line {self.line}: {self.text}"

    @property
    def dotted(self) -> str:
        """The value's path as written, without the alias: ``twfe_static.estimate``."""
        return "".join(str(s) for s in self.path).lstrip(".")


@dataclass(frozen=True)
class Issue:
    """A problem at one place of the manuscript: ``line`` (1-based; 0 = the whole file), the ``placeholder``
    as written ('' when the problem is not about one) and the ``message``."""

    line: int
    placeholder: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "front matter"
        return f"{where}: {self.placeholder + ': ' if self.placeholder else ''}{self.message}"


class ManuscriptError(ValueError):
    """A manuscript that cannot be built as it is: names the file and every problem, with its line and placeholder."""

    def __init__(self, file: Path | str, issues: list[Issue]):
        self.file = paths.relative(Path(file)) if Path(file).is_absolute() else str(file)
        self.issues = list(issues)
        shown = self.issues[:30]
        lines = [f"{self.file}: {len(self.issues)} problem(s)"] + [f"  - {i}" for i in shown]
        if len(self.issues) > len(shown):
            lines.append(f"  ... and {len(self.issues) - len(shown)} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class TypedNumber:
    """A number typed by hand into the manuscript: its ``line`` and ``column`` (1-based), the ``number`` and
    the line it stands in (``context``)."""

    line: int
    column: int
    number: str
    context: str

    def issue(self) -> Issue:
        return Issue(
            self.line,
            "",
            f"the number {self.number!r} is typed by hand ({self.context!r}): bind it to a result "
            "({{alias.field | format}}), or mark a fixed text as [text]{.literal}",
        )


@dataclass(frozen=True)
class Manuscript:
    """A parsed manuscript: its ``path`` and whole ``text``; the front matter's ``metadata`` (without
    ``runs``) and ``runs`` (alias -> run id); the ``placeholders`` in order."""

    path: Path
    text: str
    metadata: dict[str, Any]
    runs: dict[str, str]
    placeholders: tuple[Placeholder, ...]

    @property
    def body_start(self) -> int:
        """The offset where the body begins (after the front matter)."""
        m = FRONT_MATTER.match(self.text)
        return m.end() if m else 0

    def uses(self, alias: str) -> list[Placeholder]:
        return [p for p in self.placeholders if p.alias == alias]


def not_text(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are not the manuscript's text: YAML comments of the front matter, code (inline and
    fenced) and HTML comments. Placeholders there are left alone; numbers there are not checked."""
    spans = []
    front = FRONT_MATTER.match(text)
    if front:
        spans += [
            (front.start(1) + m.start(), front.start(1) + m.end())
            for m in re.finditer(r"(?:^|(?<=\s))#.*$", front.group(1), re.M)
        ]
    for pattern in _NOT_TEXT:
        spans += [m.span() for m in pattern.finditer(text)]
    return spans


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= offset < e for s, e in spans)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def parse_path(expr: str) -> tuple[str, tuple[Step, ...]]:
    """``adoption.effects[event_time=0].estimate`` -> ("adoption", steps); a ValueError says what is wrong."""
    expr = expr.strip()
    head = _NAME.match(expr)
    if not head:
        raise ValueError("a value starts with a run alias of the front matter's runs (letters, digits, _)")
    steps, pos = [], head.end()
    while pos < len(expr):
        m = _STEP.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read the path from {expr[pos:]!r}: steps are .field, [key=value] or [index]")
        if m.group(1) is not None:
            steps.append(Step(field=m.group(1).strip()))
        else:
            inner = m.group(2).strip()
            if re.fullmatch(r"-?\d+", inner):
                steps.append(Step(index=int(inner)))
            else:
                conditions = []
                for part in inner.split(","):
                    key, eq, value = part.partition("=")
                    if not eq or not _NAME.fullmatch(key.strip()):
                        raise ValueError(f"[{inner}]: a selection is [field=value, ...] or an index [0]")
                    conditions.append((key.strip(), value.strip()))
                steps.append(Step(where=tuple(conditions)))
        pos = m.end()
    return head.group(0), tuple(steps)


def parse_placeholder(text: str, inner: str, line: int, column: int, start: int, end: int, alone: bool) -> Placeholder:
    """One placeholder from what stands between its braces; a ValueError says what is wrong."""
    body = inner.strip()
    common = {"text": text, "line": line, "column": column, "start": start, "end": end, "alone": alone}
    if body == "references":
        return Placeholder(kind="references", **common)
    kind, colon, rest = body.partition(":")
    if colon and kind.strip() in ("figure", "table"):
        target, _, caption = rest.partition("|")
        alias, slash, name = target.strip().partition("/")
        if not slash or not _NAME.fullmatch(alias) or not name.strip():
            raise ValueError(f"a {kind.strip()} is {{{{{kind.strip()}: alias/name | caption}}}}")
        if not caption.strip():
            raise ValueError(f"the {kind.strip()} needs a caption after '|'")
        return Placeholder(kind=kind.strip(), alias=alias, name=name.strip(), caption=caption.strip(), **common)
    expr, _, fmt = body.partition("|")
    alias, steps = parse_path(expr)
    if not steps:
        raise ValueError(f"{{{{{alias}}}}} names a run, not a value: add the field (e.g. {{{{{alias}.field}}}})")
    return Placeholder(kind="value", alias=alias, path=steps, format=fmt.strip(), **common)


def parse(text: str, path: Path | str = "manuscript.md") -> tuple[Manuscript, list[Issue]]:
    """A manuscript and the problems of its syntax (front matter, placeholders), all at once."""
    issues: list[Issue] = []
    metadata: dict[str, Any] = {}
    front = FRONT_MATTER.match(text)
    if front:
        try:
            loaded = yaml.safe_load(front.group(1)) or {}
        except yaml.YAMLError as exc:
            loaded = {}
            issues.append(Issue(0, "", f"the YAML front matter cannot be read: {exc}"))
        if not isinstance(loaded, dict):
            issues.append(Issue(0, "", "the front matter is not a mapping of keys to values"))
            loaded = {}
        metadata = dict(loaded)
    else:
        issues.append(Issue(0, "", "no YAML front matter (--- at the first line): it names the runs the text reports"))
    raw_runs = metadata.pop("runs", None)
    runs: dict[str, str] = {}
    if not isinstance(raw_runs, dict) or not raw_runs:
        issues.append(Issue(0, "", "the front matter has no 'runs' (alias: run id, one per line)"))
    else:
        for alias, run in raw_runs.items():
            if not isinstance(alias, str) or not _NAME.fullmatch(alias) or not isinstance(run, str):
                issues.append(Issue(0, "", f"runs: {alias!r}: {run!r}: an alias (letters, digits, _) and a run id"))
            else:
                runs[alias] = run
    placeholders = []
    ignored = not_text(text)
    for m in PLACEHOLDER.finditer(text):
        if _inside(m.start(), ignored):
            continue
        line, column = _line_col(text, m.start())
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        alone = not text[line_start : m.start()].strip() and not text[m.end() : line_end].strip()
        try:
            p = parse_placeholder(m.group(0), m.group(1), line, column, m.start(), m.end(), alone)
        except ValueError as exc:
            issues.append(Issue(line, m.group(0), str(exc)))
            continue
        if p.kind != "value" and not p.alone:
            issues.append(Issue(line, p.text, f"a {p.kind} placeholder stands alone on its line"))
        if p.alias and runs and p.alias not in runs:
            issues.append(Issue(line, p.text, f"no run alias {p.alias!r} in the front matter; aliases: {sorted(runs)}"))
        if front and m.start() < front.end() and p.kind != "value":
            issues.append(Issue(line, p.text, f"a {p.kind} belongs in the body, not the front matter"))
        placeholders.append(p)
    return Manuscript(Path(path), text, metadata, runs, tuple(placeholders)), issues


def read(path: Path | None = None) -> tuple[Manuscript, list[Issue]]:
    """Read and parse a manuscript file (default ``paper/manuscript.md``)."""
    path = Path(path or default_manuscript())
    if not path.is_file():
        raise FileNotFoundError(f"{paths.relative(path)}: no manuscript there")
    return parse(path.read_text(encoding="utf-8"), path)


def default_manuscript() -> Path:
    return paths.root() / "paper" / "manuscript.md"


def _mask(text: str, spans) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def typed_numbers(text: str) -> list[TypedNumber]:
    """Every number typed by hand into ``text`` (a manuscript), outside the allowlist of the module docstring."""
    spans = not_text(text)
    for pattern in _MASKED:
        spans += [m.span() for m in pattern.finditer(text)]
    for m in PLACEHOLDER.finditer(text):  # a figure's or table's caption is text and is checked
        bar = m.group(1).find("|")
        kind = m.group(1).split(":", 1)[0].strip()
        if kind in ("figure", "table") and bar >= 0:
            spans += [(m.start(), m.start() + 2 + bar + 1), (m.end() - 2, m.end())]
        else:
            spans.append(m.span())
    masked = _mask(text, spans)
    found = []
    for m in _NUMBER.finditer(masked):
        s, e = m.span()
        before = masked[s - 1] if s > 0 else " "
        after = masked[e] if e < len(masked) else " "
        if before.isalpha() or before == "_" or after.isalpha() or after == "_":
            continue  # part of a name
        if _YEAR.fullmatch(m.group(0)):
            continue
        line_start = masked.rfind("\n", 0, s) + 1
        heading, marker = _HEADING_NUMBER.match(masked, line_start), _LIST_MARKER.match(masked, line_start)
        if (heading and s < heading.end()) or (marker and s < marker.end()):
            continue  # a section number or a list marker
        line, column = _line_col(text, s)
        context = text[line_start : (text.find("\n", s) if text.find("\n", s) >= 0 else len(text))].strip()
        found.append(TypedNumber(line, column, m.group(0), context[:100]))
    return found
