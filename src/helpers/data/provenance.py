"""The data manifest: where every raw file came from, its licence, sha256, and whether it is synthetic.

Each folder directly under ``data/raw`` (reference, survey, usage) keeps a ``MANIFEST.yaml``
listing its files. Paths in it are relative to ``data/raw``. Anything computed from a file
whose entry says ``synthetic: true`` is synthetic too, and must say so.
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


def record(
    path: Path, *, source: str, licence: str, synthetic: bool, description: str = "", provenance: str = ""
) -> Entry:
    """Add or update the entry of a raw file (its sha256 is computed now), writing the manifest atomically."""
    path = Path(path).resolve()
    raw = paths.raw().resolve()
    rel = path.relative_to(raw)
    mf = raw / rel.parts[0] / MANIFEST_NAME
    doc = yaml.safe_load(mf.read_text(encoding="utf-8")) if mf.exists() else None
    doc = doc or {"files": []}
    entry = Entry(rel.as_posix(), source, licence, files.sha256(path), synthetic, description, provenance)
    items = [e for e in doc["files"] if e["file"] != entry.file] + [asdict(entry)]
    doc["files"] = sorted(items, key=lambda e: e["file"])
    files.write_text(mf, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100))
    return entry


def check(raw: Path | None = None) -> list[str]:
    """Problems with the manifest: unlisted files, listed files that are missing, changed sha256."""
    raw = raw or paths.raw()
    entries = load(raw)
    problems = []
    on_disk = {
        p.relative_to(raw).as_posix()
        for p in raw.rglob("*")
        if p.is_file() and p.name not in DOC_NAMES and not p.name.startswith("PROVENANCE")
    }
    for rel in sorted(on_disk - entries.keys()):
        problems.append(f"{rel}: not in any {MANIFEST_NAME}")
    for rel, e in sorted(entries.items()):
        f = raw / rel
        if not f.exists():
            problems.append(f"{rel}: listed in the manifest but missing")
        elif files.sha256(f) != e.sha256:
            problems.append(f"{rel}: sha256 differs from the manifest (raw data must not change)")
    return problems


def input_hashes(raw: Path | None = None) -> dict[str, str]:
    """sha256 of every manifest-listed raw file, for the run manifest."""
    return {rel: e.sha256 for rel, e in sorted(load(raw).items())}
