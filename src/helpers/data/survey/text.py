"""Text normalisation shared by headers, values and kommune names.

Exports write the same text in many ways: decomposed letters (``a`` + combining ring instead of
``å``, as macOS and some web tools save), non-breaking and thin spaces, repeated spaces, case.
Everything is compared after :func:`norm` (Unicode NFC, every kind of space as one space, trimmed)
and, where case does not matter, :func:`key` (``norm`` + casefold).
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from pathlib import Path

from helpers.core import paths

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


def norm(value) -> str:
    """NFC, all spaces (non-breaking, thin, zero-width, BOM) as one space, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


def key(value) -> str:
    """:func:`norm` and casefold: the form headers and labels are matched in."""
    return norm(value).casefold() if value is not None else ""


def blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not norm(v)
    if isinstance(v, float):
        return math.isnan(v)
    return False


def padded(v) -> bool:
    """A text cell whose text changes under :func:`norm` (surrounding or odd spaces, decomposed letters)."""
    return isinstance(v, str) and bool(v.strip()) and norm(v) != v


def loose(s) -> str:
    """Lower case without trailing punctuation: ``" JA. "`` -> ``"ja"``."""
    return re.sub(r"[\s.!,;:]+$", "", key(s))


def letter(i: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def shown_path(path) -> str:
    """A path as messages show it, never absolute: relative to the project inside it; under data/raw as
    ``data/raw/...`` even when data/raw is redirected (``BORGERSERVICE_RAW``); elsewhere only its name."""
    if not os.path.isabs(str(path)):
        return str(path)
    p = Path(path).resolve()
    for base, shown in ((paths.raw(), "data/raw"), (paths.root(), "")):
        try:
            rel = p.relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
        return f"{shown}/{rel}" if shown else rel
    return f"{p.name} (outside the project)"
