"""Personal data in survey exports: recognised, redacted or dropped, and counted without repeating it.

Columns holding personal data (the codebook's ``personal_data`` and any header with a hint such as
"navn", "e-mail", "telefon", "cpr") are read only to learn that row's respondent's name, e-mail and
phone, then dropped. Free-text columns (type ``text``: the comment) are redacted before anything is
written or shown: CPR numbers (DDMMYY-XXXX with or without the dash), e-mail addresses, Danish
phone numbers (+45/0045 optional, 8 digits in any grouping), and the row's respondent names (the
full name and each part of it). The codebook's ``free_text: drop`` empties free text instead.
Hand-written patterns, because no maintained library knows Danish CPR numbers and phone groupings
(Microsoft Presidio would bring a language model for a regular-expression job).
"""

from __future__ import annotations

import re
from collections import Counter

from .text import blank, key, norm

PERSONAL_HINTS = (
    "navn",
    "name",
    "e-mail",
    "email",
    "mail",
    "telefon",
    "tlf",
    "mobil",
    "phone",
    "cpr",
    "adresse",
    "address",
)
NAME_HINTS = ("navn", "name", "respondent")
PLACEHOLDERS = {"cpr": "[CPR]", "email": "[e-mail]", "phone": "[telefon]", "name": "[navn]"}

CPR = re.compile(r"(?<![\d+])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[ -]?\d{4}(?!\d)")
EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)\s?45[\s.-]?)?(?:\d[\s.-]?){7}\d(?!\d)")
_DATE_LIKE = re.compile(r"\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{4}-\d{2}-\d{2}")


def is_personal_header(header, listed: set[str]) -> bool:
    k = key(header)
    return k in listed or any(h in k for h in PERSONAL_HINTS)


def is_name_header(header) -> bool:
    k = key(header)
    return any(h in k for h in NAME_HINTS) and "mail" not in k


def row_identity(cells: dict[str, object]) -> dict[str, list[str]]:
    """What a row's personal-data columns say about its respondent: names, and literal e-mails/phones."""
    names, literals = [], []
    for header, v in cells.items():
        if blank(v):
            continue
        text = norm(v)
        if is_name_header(header):
            names.append(text)
            names += [p for p in re.split(r"[\s,.;-]+", text) if len(p) >= 2 and not p.isdigit()]
        else:
            literals.append(text)
    return {
        "names": sorted(set(names), key=len, reverse=True),
        "literals": sorted(set(literals), key=len, reverse=True),
    }


def redact(text: str, identity: dict[str, list[str]] | None = None) -> tuple[str, Counter]:
    """``text`` with personal data replaced by placeholders, and what was found, counted by kind."""
    counts: Counter = Counter()
    identity = identity or {"names": [], "literals": []}
    for lit in identity["literals"]:
        if len(lit) >= 4 and lit.casefold() in text.casefold():
            kind = "email" if "@" in lit else "phone"
            text, n = re.subn(re.escape(lit), PLACEHOLDERS[kind], text, flags=re.IGNORECASE)
            counts[kind] += n
    text, n = CPR.subn(PLACEHOLDERS["cpr"], text)
    counts["cpr"] += n
    text, n = EMAIL.subn(PLACEHOLDERS["email"], text)
    counts["email"] += n

    def phone(m):
        if _DATE_LIKE.fullmatch(m.group(0).strip()):
            return m.group(0)
        counts["phone"] += 1
        return PLACEHOLDERS["phone"]

    text = PHONE.sub(phone, text)
    for name in identity["names"]:
        text, n = re.subn(rf"(?<!\w){re.escape(name)}(?!\w)", PLACEHOLDERS["name"], text, flags=re.IGNORECASE)
        counts["name"] += n
    return text, +counts
