"""Personal data in survey exports: recognised, redacted or dropped, and counted without repeating it.

Columns holding personal data (the codebook's ``personal_data`` and any header with a hint such as
"navn", "e-mail", "telefon", "cpr") are read only to learn that row's respondent's name, e-mail and
phone, then dropped. Free-text columns (type ``text``: the comment) are redacted before anything is
written or shown (codebook ``free_text: redact``, the default): CPR numbers (DDMMYY-XXXX with or
without the dash), e-mail addresses (also written ``name (at) domain.dk`` or ``name at domain dot dk``),
Danish phone numbers (+45/0045 optional, 8 digits in any grouping), the row's respondent's names (the
full name and each part of it), and **anyone else's name** (:func:`find_names`). ``free_text: drop``
empties free text; ``keep`` leaves it as written.

How third parties' names are found (:func:`find_names`), offline and without a language model:

1. Danish nouns are written in lower case, so in a Danish comment a capitalised word in mid-sentence
   is a proper noun: a person, a place or an institution. Words that are places (the 98 kommuner,
   regions, countries) or institutions (Borgerservice, Rådhuset, ...-styrelsen, ...-centret) are
   never names.
2. A capitalised given name from :mod:`.namelists` starts a name; the capitalised words right after
   it (a middle name, any surname, known or not) belong to it: "Mette Bøgh Hansen", "Kasper
   Bjerregaard". A given name that is also a word ("Hans kontor", "Per uge") counts at the start of
   a sentence only with a surname beside it.
3. A known surname or a patronymic one (-sen, -søn) counts alone ("fru Jensen", "Borgmester
   Nielsen"), as do initials before a capitalised word ("H.C. Møller").
4. Any capitalised word after a greeting or a contact cue ("Hilsen", "Mvh", "Kontakt", "Spørg",
   "Ring til", "Talk to", "Tovholder:", "v/", "/" at the end of a comment) is a name, listed or not.

Hand-written, because no maintained offline library recognises Danish person names: spaCy's Danish
models and DaCy download their weights at run time, and Microsoft Presidio needs such a model. The
docs/survey_exports.md reports recall and precision on a labelled set of comments (tests/fixtures/free_text/).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import pandas as pd

from .namelists import AMBIGUOUS_FIRST, FIRST_NAMES, SURNAMES
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

CPR = re.compile(r"(?<![\d+])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[ .-]?\d{4}(?!\d)")
EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# Addresses written to fool harvesters: name (at) domain.dk, name [at] domain dot dk, name at domain dot dk.
_AT = r"(?:\s*[(\[{]\s*(?:at|snabel-?a)\s*[)\]}]\s*|\s+at\s+)"
_DOT = r"(?:\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+|\.)"
EMAIL_OBFUSCATED = re.compile(rf"[\w.+%-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-z]{{2,6}}\b", re.IGNORECASE)
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
    text, n = EMAIL_OBFUSCATED.subn(PLACEHOLDERS["email"], text)
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
    spans = find_names(text)
    for start, end in reversed(spans):
        text = text[:start] + PLACEHOLDERS["name"] + text[end:]
    counts["name"] += len(spans)
    return text, +counts


def shown_value(v, limit: int = 40):
    """A cell value as an error message may quote it: only when short and free of anything :func:`redact`
    finds; otherwise a description that repeats none of it (the column could hold personal data)."""
    if not isinstance(v, str):
        return v
    if len(v) <= limit and not redact(v)[1]:
        return v
    return f"a text of {len(v)} characters, not repeated here: it may hold personal data"


# --------------------------------------------------------------------------------------------
# Person names in free text
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"(?:[A-ZÆØÅÄÖÜ]\.\s?){1,3}(?=[A-ZÆØÅÄÖÜ][^\W\d_])|[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_INITIALS = re.compile(r"(?:[A-ZÆØÅÄÖÜ]\.\s?){1,3}")
# Words (casefolded) after which a capitalised word is a name, listed or not; two-word cues by their last word.
CUES = frozenset(
    """hilsen hilsner mvh kontakt kontakte kontaktperson spørg ring skriv tal talk contact ask undertegnede
    tovholder tovholderen sagsbehandler sagsbehandleren borgeren kollega kollegaen kollegerne medarbejder
    medarbejderen hedder v fru hr hr. frk borgmester borgmesteren direktør direktøren chef chefen leder lederen
    bibliotekar bibliotekaren bibliotekschef bibliotekschefen kulturchef kulturchefen projektleder koordinator
    koordinatoren regards signed sincerely""".split()
)
_TWO_WORD_CUES = {("ring", "til"), ("skriv", "til"), ("tal", "med"), ("talk", "to"), ("spørg", "efter")}
_INSTITUTION = re.compile(  # whole words, word beginnings and word endings of places of work, never names
    r"^(?:kl|it|skat|post|fof|aof|falck|eu|kl's|dst|ssp)$"
    r"|^(?:borgerservice|bibliotek|hovedbibliotek|kommune|region|rådhus|jobcenter|nemid|mitid|digital|e-boks|"
    r"statistik|folketing|byråd|kultur|center|filial|sundhed|udbetaling|ældre|integration|økonomi|ydelses|"
    r"styrelse|ministeri|erhverv|turist|puljen)"
    r"|(?:styrelsen|centret|centeret|center|huset|rådet|udvalget|afdelingen|afdeling|sagen|bibliotekerne|"
    r"biblioteket|kommune|kommunes|kommunen|foreningen|forening|ministeriet|skolen|gymnasium)$"
)
_CALENDAR = frozenset(
    """mandag tirsdag onsdag torsdag fredag lørdag søndag januar februar marts april juni juli august september
    oktober november december monday tuesday wednesday thursday friday saturday sunday january february march
    may june july october november december i the""".split()
)
_COUNTRIES = frozenset(
    "danmark sverige norge tyskland europa eu grønland færøerne jylland fyn sjælland bornholm".split()
)


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """Words of the 98 kommuner's and the regions' names (and their genitive forms): never person names."""
    from helpers.data import reference

    words = set(_COUNTRIES)
    m = reference.load_municipalities()
    for name in [*m["navn"].astype(str), *m.get("region", pd.Series(dtype=str)).astype(str)]:
        for w in re.split(r"[\s-]+", name.casefold()):
            if w and w not in ("region", "kommune"):
                words |= {w, w + "s"}
    return frozenset(words - FIRST_NAMES - SURNAMES)


def _cap(w: str) -> bool:
    return w[:1].isupper() and not w.isupper() or (w.isupper() and len(w) > 2 and w.casefold() in FIRST_NAMES)


def _first(w: str) -> bool:
    cf = w.casefold()
    return cf in FIRST_NAMES or ("-" in cf and all(p in FIRST_NAMES for p in cf.split("-")))


def _surname(w: str) -> bool:
    cf = w.casefold()
    return cf in SURNAMES or (len(cf) >= 5 and cf.endswith(("sen", "søn")) and cf not in _places())


def _not_a_name(w: str) -> bool:
    cf = w.casefold()
    return cf in _places() or cf in _CALENDAR or cf in CUES or bool(_INSTITUTION.search(cf))


def find_names(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of person names in ``text`` (the rules in the module docstring)."""
    toks = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        start, end, w = toks[i]
        initials = bool(_INITIALS.fullmatch(w))
        if not (initials or _cap(w)) or (not initials and _not_a_name(w)) or _compound(text, end):
            i += 1
            continue
        cue = _cued(text, toks, i)
        sentence_start = _sentence_start(text, start)
        j = _extend(text, toks, i)
        run = [t[2] for t in toks[i:j]]
        following_surname = any(_surname(x) for x in run[1:])
        if initials:
            is_name = len(run) > 1
        elif _first(w):
            ambiguous = w.casefold() in AMBIGUOUS_FIRST and sentence_start
            is_name = cue or not ambiguous or following_surname
        elif _surname(w):
            is_name = cue or not sentence_start or len(run) > 1 or _signature(text, end)
        else:
            is_name = cue
            j = i + 1 if not cue else j
        if is_name:
            spans.append((start, toks[j - 1][1]))
            i = j
        else:
            i += 1
    return spans


def _extend(text: str, toks, i: int) -> int:
    """The end (exclusive token index) of a run of capitalised name words from token ``i`` (at most 4)."""
    j = i + 1
    while j < len(toks) and j - i < 4:
        gap = text[toks[j - 1][1] : toks[j][0]]
        w = toks[j][2]
        if gap not in (" ", "") or not _cap(w) or _not_a_name(w):
            break
        j += 1
    return j


def _compound(text: str, end: int) -> bool:
    """A capitalised word joined by a hyphen to a lower-case one: 'Hansen-udvalget', not a name."""
    return bool(re.match(r"-[a-zæøå]", text[end : end + 2]))


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?\n" and not re.search(r"\b(?:[A-ZÆØÅ]|hr|fru|tlf|evt|ca|nr|pr)\.$", before)


def _cued(text: str, toks, i: int) -> bool:
    """Whether a greeting or contact cue stands right before token ``i`` (or a signature slash)."""
    before = text[: toks[i][0]]
    if re.search(r"(?:^|\s)[/–-]\s*$", before) or re.search(r"\bv/\s*$", before):
        return True
    words = [t[2].casefold() for t in toks[max(0, i - 2) : i]]
    gap = text[toks[i - 1][1] : toks[i][0]] if i else ""
    if not words or len(gap.strip(" ,:.")) > 0 or "\n" in gap:
        return False
    return words[-1] in CUES or tuple(words[-2:]) in _TWO_WORD_CUES


def _signature(text: str, end: int) -> bool:
    """A word that closes the comment (a signature) or is followed by a comma and a role."""
    return not text[end:].strip(" .!") or bool(re.match(r",\s*[a-zæøå]", text[end:]))
