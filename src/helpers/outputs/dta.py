"""Notes in Stata files: the dataset's notes and each variable's notes, added to a .dta that ReadStat wrote.

Stata keeps notes as *characteristics*: ``_dta[note1]``, ``_dta[note2]``, ... for the dataset and
``<variable>[note1]`` for a variable, each list with its count in ``note0`` (Stata's ``notes``
command lists them: ``notes _dta``, ``notes visits``). No maintained Python writer sets them:
pyreadstat (1.3.8) offers ``note`` for SPSS only and blanks it for Stata, ReadStat itself writes
``_dta`` notes without the ``note0`` count that Stata's ``notes`` reads, and pandas' ``StataWriter``
writes no characteristics. So :func:`add_notes` adds them to the file pyreadstat wrote, following
Stata's documentation of format 118 (``help dta``): the characteristics section sits between the
variable labels and the data, and the 14 offsets of the file's ``<map>`` that point past it move by
the bytes inserted. Nothing else in the file changes. :func:`read_characteristics` reads them back
(for the tests; R's haven and pyreadstat read the ``_dta`` notes themselves, as ``attr(x, "notes")``
and ``meta.notes``, and skip variable characteristics).

Each characteristic (format 118) is ``<ch>``, a 4-byte length, the variable name and the
characteristic name in 129 bytes each (NUL-padded), the text NUL-terminated, ``</ch>``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers.core import files

RELEASE = b"<release>118</release>"
NAME_BYTES = 129  # variable and characteristic names in format 118 (128 bytes + NUL)
MAP_ENTRIES = 14
MAP_DATA = 9  # index in <map> of the first section after the characteristics (<data>)
NOTE_MAX_BYTES = 67_784  # Stata's limit for the text of one characteristic


def _ch(variable: str, name: str, text: str) -> bytes:
    body = text.encode("utf-8")
    if len(body) + 1 > NOTE_MAX_BYTES:
        raise ValueError(f"note of {variable} is {len(body)} bytes; accepted: at most {NOTE_MAX_BYTES - 1}")
    var, char = variable.encode("utf-8"), name.encode("utf-8")
    if len(var) >= NAME_BYTES or len(char) >= NAME_BYTES:
        raise ValueError(f"characteristic {variable}[{name}]: names of at most {NAME_BYTES - 1} bytes accepted")
    payload = var.ljust(NAME_BYTES, b"\0") + char.ljust(NAME_BYTES, b"\0") + body + b"\0"
    return b"<ch>" + struct.pack("<I", len(payload)) + payload + b"</ch>"


def characteristics(file_notes: Sequence[str], variable_notes: Mapping[str, Sequence[str]]) -> bytes:
    """The ``<ch>`` entries of Stata notes: ``_dta[note1..n]`` then each variable's, every list with its ``note0``."""
    out = b""
    for owner, notes in (("_dta", list(file_notes)), *((v, list(n)) for v, n in variable_notes.items())):
        if not notes:
            continue
        out += b"".join(_ch(owner, f"note{i}", text) for i, text in enumerate(notes, start=1))
        out += _ch(owner, "note0", str(len(notes)))
    return out


def _layout(data: bytes, where: str) -> tuple[int, list[int]]:
    """The position of ``<map>``'s offsets and the offsets themselves; an error unless format 118, little-endian."""
    if not data.startswith(b"<stata_dta><header>" + RELEASE) or b"<byteorder>LSF</byteorder>" not in data[:80]:
        raise ValueError(f"{where}: not a little-endian Stata format 118 file (as pyreadstat writes with version=14)")
    at = data.index(b"<map>") + len(b"<map>")
    return at, list(struct.unpack_from(f"<{MAP_ENTRIES}Q", data, at))


def add_notes(path: Path, file_notes: Sequence[str], variable_notes: Mapping[str, Sequence[str]]) -> Path:
    """Add dataset notes and variable notes to the .dta at ``path`` (atomically); returns ``path``.

    The file must have no characteristics yet (pyreadstat writes none): notes are added, not merged.
    """
    path = Path(path)
    data = path.read_bytes()
    at, offsets = _layout(data, path.name)
    empty = b"<characteristics></characteristics>"
    if data[offsets[MAP_DATA - 1] : offsets[MAP_DATA]] != empty:
        raise ValueError(f"{path.name}: characteristics present or not where <map> says; accepted: none yet")
    end = offsets[MAP_DATA] - len(b"</characteristics>")
    added = characteristics(file_notes, variable_notes)
    moved = offsets[:MAP_DATA] + [o + len(added) for o in offsets[MAP_DATA:]]
    new = bytearray(data[:end] + added + data[end:])
    struct.pack_into(f"<{MAP_ENTRIES}Q", new, at, *moved)
    files.write_bytes(path, bytes(new))
    return path


def read_characteristics(path: Path) -> dict[tuple[str, str], str]:
    """Every characteristic of a format-118 file: (variable or ``_dta``, name) -> text."""
    data = Path(path).read_bytes()
    _, offsets = _layout(data, Path(path).name)
    at = offsets[MAP_DATA - 1] + len(b"<characteristics>")
    out = {}
    while data.startswith(b"<ch>", at):
        (n,) = struct.unpack_from("<I", data, at + 4)
        payload = data[at + 8 : at + 8 + n]
        var = payload[:NAME_BYTES].split(b"\0")[0].decode("utf-8")
        name = payload[NAME_BYTES : 2 * NAME_BYTES].split(b"\0")[0].decode("utf-8")
        out[(var, name)] = payload[2 * NAME_BYTES :].rstrip(b"\0").decode("utf-8")
        at += 8 + n + len(b"</ch>")
    if not data.startswith(b"</characteristics>", at):
        raise ValueError(f"{Path(path).name}: characteristics end at byte {at} without </characteristics>")
    return out


def notes(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The dataset's notes and each variable's notes, in order, as Stata's ``notes`` lists them (by ``note0``)."""
    chars = read_characteristics(path)
    owners = dict.fromkeys(var for var, _ in chars)
    listed = {o: [chars[(o, f"note{i}")] for i in range(1, int(chars.get((o, "note0"), 0)) + 1)] for o in owners}
    return listed.pop("_dta", []), {k: v for k, v in listed.items() if v}
