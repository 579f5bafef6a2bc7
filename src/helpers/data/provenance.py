"""The data manifest: where every raw file came from, its licence, sha256, and whether it is synthetic.

Each folder directly under ``data/raw`` (reference, survey, usage) keeps a ``MANIFEST.yaml``
listing its files. Paths in it are relative to ``data/raw``. Anything computed from a file
whose entry says ``synthetic: true`` is synthetic too, and must say so.

A file is never recorded as real when its bytes are those of a synthetic file the manifests list
(a copy of ``example_survey_2014.xlsx`` under another name is still the example): :func:`record`
refuses it unless it is recorded as synthetic, and :func:`check` reports one recorded so.

Which raw files a process read is kept as it reads them (:func:`note_read`, :func:`read_files`):
the results JSON of a notebook run lists them, and the report's overview shows each run's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from helpers.core import files, paths
from helpers.core.errors import DataError, Problem

MANIFEST_NAME = "MANIFEST.yaml"
# Files that describe data rather than being data; they need no manifest entry.
DOC_NAMES = {MANIFEST_NAME, "README.md", ".gitkeep"}


@dataclass
class Entry:
    file: str  # relative to data/raw, POSIX separators
    source: str
    licence: str
    sha256: str
    synthetic: bool
    description: str = ""
    provenance: str = ""  # the PROVENANCE.md (or generator) that documents it


def _manifest_files(raw: Path | None = None) -> list[Path]:
    raw = raw or paths.raw()
    return sorted(raw.glob(f"*/{MANIFEST_NAME}"))


def load(raw: Path | None = None) -> dict[str, Entry]:
    """All manifest entries under data/raw, keyed by file path relative to data/raw."""
    entries: dict[str, Entry] = {}
    for mf in _manifest_files(raw):
        doc = yaml.safe_load(mf.read_text(encoding="utf-8")) or {}
        for i, item in enumerate(doc.get("files", []), start=1):
            try:
                entry = Entry(**item)
            except TypeError as exc:
                raise DataError(
                    mf, Problem(f"entry {i} is malformed: {exc}", accepted=", ".join(Entry.__dataclass_fields__))
                ) from None
            entries[entry.file] = entry
    return entries


def entry_for(path: Path) -> Entry:
    """The manifest entry of a raw file; a clear error when it has none."""
    rel = Path(path).resolve().relative_to(paths.raw().resolve()).as_posix()
    entries = load()
    if rel not in entries:
        raise DataError(
            path, f"no entry in data/raw/*/{MANIFEST_NAME}; every raw file needs its source, licence and synthetic flag"
        )
    return entries[rel]


def is_synthetic(path: Path) -> bool:
    return entry_for(path).synthetic


def synthetic_twin(sha256: str, file: str, entries: dict[str, Entry] | None = None) -> Entry | None:
    """The manifest entry of a *synthetic* file other than ``file`` with the same bytes (``sha256``), if any."""
    entries = load() if entries is None else entries
    return next((e for rel, e in sorted(entries.items()) if e.synthetic and e.sha256 == sha256 and rel != file), None)


def _twin_problem(twin: Entry) -> str:
    return (
        f"byte for byte the synthetic example data/raw/{twin.file} (same sha256); "
        "accepted: your own export, or --synthetic to record it as synthetic example data"
    )


def _recordable(path: Path, raw: Path) -> Path:
    """``path`` relative to data/raw, when it is a file in a folder under data/raw; else a DataError saying why
    (naming the path as given under data/raw, never a machine path)."""
    accepted = "a file in a folder under data/raw, given relative to data/raw (e.g. survey/survey_2011.xlsx)"
    if not path.is_relative_to(raw):
        raise DataError(path.name, Problem("is not under data/raw", accepted=accepted))
    rel = path.relative_to(raw)
    shown = f"data/raw/{rel.as_posix()}"
    if not path.exists():
        raise DataError(shown, Problem("no such file: put your export there first", accepted=accepted))
    if not path.is_file():
        raise DataError(shown, Problem("is a folder, not a file", accepted=accepted))
    if len(rel.parts) < 2:
        raise DataError(shown, Problem("is directly in data/raw, which has no manifest", accepted=accepted))
    if rel.name in DOC_NAMES or rel.name.startswith("PROVENANCE"):
        raise DataError(shown, Problem("describes data and is not data itself", accepted=accepted))
    return rel


def record(
    path: Path, *, source: str, licence: str, synthetic: bool, description: str = "", provenance: str = ""
) -> Entry:
    """Add or update the entry of a raw file (its sha256 is computed now), writing the manifest atomically.

    A file recorded as real (``synthetic=False``) must not be a byte-for-byte copy of a synthetic file
    the manifests list: that is an error naming the example (nothing is written).
    """
    path = Path(path).resolve()
    raw = paths.raw().resolve()
    rel = _recordable(path, raw)
    mf = raw / rel.parts[0] / MANIFEST_NAME
    sha = files.sha256(path)
    twin = None if synthetic else synthetic_twin(sha, rel.as_posix())
    if twin is not None:
        raise DataError(f"data/raw/{rel.as_posix()}", Problem(_twin_problem(twin)))
    doc = yaml.safe_load(mf.read_text(encoding="utf-8")) if mf.exists() else None
    doc = doc or {"files": []}
    entry = Entry(rel.as_posix(), source, licence, sha, synthetic, description, provenance)
    items = [e for e in doc["files"] if e["file"] != entry.file] + [asdict(entry)]
    doc["files"] = sorted(items, key=lambda e: e["file"])
    files.write_text(mf, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100))
    return entry


def check(raw: Path | None = None) -> list[str]:
    """Problems with the manifest: unlisted files, listed files that are missing, changed sha256, and files
    recorded as real that are byte-for-byte copies of a synthetic example."""
    raw = raw or paths.raw()
    entries = load(raw)
    problems = []
    on_disk = {
        p.relative_to(raw).as_posix()
        for p in raw.rglob("*")
        if p.is_file() and p.name not in DOC_NAMES and not p.name.startswith("PROVENANCE")
    }
    for rel in sorted(on_disk - entries.keys()):
        twin = synthetic_twin(files.sha256(raw / rel), rel, entries)
        problems.append(f"{rel}: not in any {MANIFEST_NAME}" + (f" (a copy of data/raw/{twin.file})" if twin else ""))
    for rel, e in sorted(entries.items()):
        f = raw / rel
        if not f.exists():
            problems.append(f"{rel}: listed in the manifest but missing")
        elif files.sha256(f) != e.sha256:
            problems.append(f"{rel}: sha256 differs from the manifest (raw data must not change)")
        elif not e.synthetic and (twin := synthetic_twin(e.sha256, rel, entries)) is not None:
            problems.append(f"{rel}: recorded as real (synthetic: false) but " + _twin_problem(twin))
    return problems


# --- the raw files this process read -------------------------------------------------------------
_READ: dict[str, None] = {}  # data/raw-relative paths, in the order first read


def note_read(path: Path | str) -> None:
    """Record that this process read the raw file ``path`` (absolute, or relative to data/raw); files outside
    data/raw are ignored. The readers of raw data call it (reference, usage, survey, the adoption panel), and
    readers of processed data call it for the raw files those were made from."""
    p = Path(path)
    raw = paths.raw().resolve()
    p = (p if p.is_absolute() else raw / p).resolve()
    if p.is_relative_to(raw):
        _READ.setdefault(p.relative_to(raw).as_posix())


def raw_file(path: Path, missing: str) -> Path:
    """``path``, a raw file a reader is about to read, noted as read (:func:`note_read`); a :class:`DataError`
    saying ``missing`` (what it is, how to get it) when it is not there."""
    if not path.is_file():
        raise DataError(path, missing)
    note_read(path)  # the raw files each run read (its results JSON lists them)
    return path


def read_files() -> list[tuple[str, bool | None]]:
    """The raw files this process read (:func:`note_read`), as (path relative to data/raw, synthetic flag from
    the manifest, or None when the file has no entry), in the order first read."""
    entries = load()
    return [(rel, entries[rel].synthetic if rel in entries else None) for rel in _READ]


def forget_reads() -> None:
    """Start the list of files read afresh (a test, or a long-lived process doing a second job)."""
    _READ.clear()


def input_hashes(raw: Path | None = None) -> dict[str, str]:
    """sha256 of every manifest-listed raw file, for the run manifest."""
    return {rel: e.sha256 for rel, e in sorted(load(raw).items())}
