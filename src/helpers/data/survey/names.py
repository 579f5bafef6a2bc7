"""Kommune as respondents and survey tools write it -> ``kommunekode``.

Resolved, in this order: the official name; a code ("101", "0101", "101.0", 101, DAGI's "0101");
code and name together ("101 København", "København (101)"; they must agree); Fanø answered by
Esbjerg (``config/aliases.yaml`` ``answered_by``); the names of the 2007 reform concordance and
``config/aliases.yaml`` after normalising (case, "Kommune", hyphens, spaces, aa = å, NFC); the
spellings Statistics Denmark and DAGI use without the genitive s ("Nordfyn" for Nordfyns,
"Vesthimmerland" for Vesthimmerlands); names typed without Danish letters ("Fanoe", "Brondby"). Anything else is an
error with close matches suggested,
ranked so that true variants (same start, small edits) come before unrelated names.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from helpers.core import paths
from helpers.core.errors import DataError, Problem
from helpers.data import reference

from .text import norm


def name_key(name) -> str:
    """Normalised kommune name for matching: NFC, case, 'Kommune', punctuation, hyphens, aa = å."""
    s = norm(name).casefold()
    s = s.replace("aa", "å")
    s = re.sub(r"\bkommune\b", " ", s)
    s = re.sub(r"[-\u2010-\u2015.,/()']", " ", s)
    return " ".join(s.split())


_CODE_AND_NAME = [
    re.compile(r"^0*(?P<code>\d{3})(?:\.0+)?\s*[-–:.)]?\s*(?P<name>\D.*)$"),  # 101 København, 0101 - København
    re.compile(r"^(?P<name>\D.*?)\s*[(\[]\s*0*(?P<code>\d{3})\s*[)\]]$"),  # København (101)
    re.compile(r"^(?P<name>\D.*?)\s*[-–:]\s*0*(?P<code>\d{3})$"),  # København - 101
]


@dataclass
class Resolver:
    official: dict[str, int]  # exact official name -> code
    keys: dict[str, tuple[int, str]]  # normalised name -> (code, how)
    answered_by: dict[str, tuple[int, int]]  # normalised name -> (code, answered_by code)
    names: dict[int, str]  # code -> official name

    def code(self, raw) -> int | None:
        """A kommunekode written as a number or digits ("101", "0101", "101.0", 101.0), else None."""
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return raw if raw in self.names else None
        if isinstance(raw, float):
            return int(raw) if math.isfinite(raw) and raw.is_integer() and int(raw) in self.names else None
        m = re.fullmatch(r"0*(\d{1,3})(?:\.0+)?", norm(raw))
        return int(m.group(1)) if m and int(m.group(1)) in self.names else None

    def _name(self, text: str):
        key = name_key(text)
        if key in self.answered_by:
            code, by = self.answered_by[key]
            return (
                code,
                by,
                "answered_by_other_kommune",
                f"{self.names[by]} answered for {self.names[code]} (config/aliases.yaml)",
            )
        if key in self.keys:
            code, how = self.keys[key]
            rule = "kommune_alias" if how == "alias" else "kommune_name_variant"
            return code, None, rule, f"{how}: {self.names[code]}"
        return None

    def resolve(self, raw):
        """``(code, answered_by, rule, detail)``; None when unknown.

        ``(None, None, "conflict", why)`` when code and name disagree.
        """
        if not isinstance(raw, str):
            code = self.code(raw)
            if code is None:
                return None
            return code, None, "kommune_code_given", f"a kommunekode instead of a name: {self.names[code]}"
        text = norm(raw)
        if text in self.official:
            return self.official[text], None, None, None
        code = self.code(text)
        if code is not None:
            return code, None, "kommune_code_given", f"a kommunekode instead of a name: {self.names[code]}"
        for pattern in _CODE_AND_NAME:
            m = pattern.match(text)
            if not m or int(m.group("code")) not in self.names:
                continue
            code = int(m.group("code"))
            hit = self._name(m.group("name"))
            by_name = self.official.get(norm(m.group("name"))) or (hit[0] if hit else None)
            if by_name != code:
                return (
                    None,
                    None,
                    "conflict",
                    (
                        f"code {code} is {self.names[code]}, but the name part "
                        + (f"is {self.names[by_name]}" if by_name else "is not a kommune")
                    ),
                )
            return code, (hit[1] if hit else None), "kommune_code_and_name", f"code and name given: {self.names[code]}"
        return self._name(text)

    def suggest(self, raw, n: int = 3) -> list[str]:
        """Close official names, true variants first (same beginning, then fewest edits relative to length)."""
        k = name_key(raw)
        if not k:
            return []
        scored = []
        for cand, (code, _) in self.keys.items():
            ratio = difflib.SequenceMatcher(None, k, cand).ratio()
            prefix = len(_common_prefix(k, cand))
            # A short input should not pull in a long name that merely contains it.
            length_penalty = abs(len(cand) - len(k)) / max(len(cand), len(k))
            score = ratio - 0.5 * length_penalty + (0.15 if prefix >= min(3, len(k)) else 0.0)
            if ratio >= 0.6:
                scored.append((score, self.names[code]))
        out = []
        for _, name in sorted(scored, key=lambda t: (-t[0], t[1])):
            if name not in out:
                out.append(name)
        return out[:n]


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


def aliases_path() -> Path:
    return paths.config() / "aliases.yaml"


@lru_cache(maxsize=4)
def _resolver(aliases_file: str, mtime: float, raw: str) -> Resolver:
    m = reference.load_municipalities()
    names = dict(zip(m["kommunekode"].astype(int), m["navn"], strict=False))
    official = {n: c for c, n in names.items()}
    keys: dict[str, tuple[int, str]] = {}
    problems = []

    def add(name, code, how):
        k = name_key(name)
        if k in keys and keys[k][0] != code:
            problems.append(Problem(f"name {name!r} would match two kommuner ({keys[k][0]} and {code})", value=name))
        keys.setdefault(k, (code, how))

    for code, name in names.items():
        add(name, code, "official name after normalising")
    c = reference.load_concordance()
    for name, code in sorted(set(zip(c["name"], c["kommunekode"].astype(int), strict=False))):
        add(name, code, "name in the 2007 reform concordance")
    doc = yaml.safe_load(Path(aliases_file).read_text(encoding="utf-8")) if Path(aliases_file).is_file() else {}
    doc = doc or {}
    for name, code in (doc.get("aliases") or {}).items():
        if int(code) not in names:
            problems.append(
                Problem(
                    "alias points to an unknown kommunekode",
                    column="aliases",
                    value={name: code},
                    accepted="a kommunekode of the 98 kommuner",
                )
            )
            continue
        add(name, int(code), "alias")
    # Statistics Denmark and DAGI spellings without the genitive s (Nordfyn, Vesthimmerland): only
    # where the shorter form names no other kommune.
    for code, name in names.items():
        k = name_key(name)
        if k.endswith("s") and len(k) > 5 and k[:-1] not in keys:
            keys[k[:-1]] = (code, "spelling without the genitive s (Statistics Denmark / DAGI)")
    # Names typed without Danish letters (ø as oe or o, æ as ae), as ASCII-only systems export them.
    for k, (code, _how) in list(keys.items()):
        for variant in (k.replace("ø", "oe").replace("æ", "ae"), k.replace("ø", "o").replace("æ", "ae")):
            if variant != k and variant not in keys:
                keys[variant] = (code, "written without Danish letters")
    by = {}
    for name, spec in (doc.get("answered_by") or {}).items():
        code, who = int(spec["kommunekode"]), int(spec["answered_by"])
        if code not in names or who not in names:
            problems.append(
                Problem("answered_by entry points to an unknown kommunekode", column="answered_by", value={name: spec})
            )
            continue
        by[name_key(name)] = (code, who)
    if problems:
        raise DataError(aliases_file, problems)
    return Resolver(official, keys, by, names)


def resolver() -> Resolver:
    """Kommune name -> kommunekode, from the official names, the 2007 concordance and config/aliases.yaml."""
    f = aliases_path()
    return _resolver(str(f), f.stat().st_mtime if f.exists() else 0.0, str(paths.raw()))
