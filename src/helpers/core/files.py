"""Atomic writes and content hashes: a failed step never leaves a half-written file."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a DataFrame is written: small notebooks and the pipeline need not load it
    import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, obj) -> Path:
    return write_text(target, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, default=jsonable) + "\n")


def write_parquet(target: Path, df: pd.DataFrame) -> Path:
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(target)


def write_csv(target: Path, df: pd.DataFrame, **kwargs) -> Path:
    with atomic_path(target) as tmp:
        df.to_csv(tmp, index=kwargs.pop("index", False), **kwargs)
    return Path(target)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def jsonable(obj):
    """JSON fallback for dataclasses (their fields), numpy scalars and arrays, paths and timestamps."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    pd = sys.modules.get("pandas")
    if isinstance(obj, Path) or (pd is not None and isinstance(obj, pd.Timestamp)):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# --- content hashes with a stat cache ------------------------------------------------------------

TEMP_PATTERNS = (".*.tmp", ".*.tmp.ipynb")  # what atomic_path (and the pipeline's papermill output) leave after a crash
RACY_NS = (
    2_000_000_000  # a file modified less than 2 s before it was hashed may change again within the same mtime tick
)


class HashCache:
    """sha256 of files, cached by (size, mtime_ns, ctime_ns, inode) and re-hashed on any doubt.

    A cached hash is used only when all four stat fields equal those seen when the file was hashed
    and the file had not been modified for at least 2 s at that time (an edit within the same mtime
    tick could otherwise keep the stat and change the bytes). ctime cannot be set by users, so an
    in-place edit that restores the mtime (``touch -d``) is re-hashed as well. The cache is a plain
    JSON file (``path``); a missing, unreadable or malformed cache is simply empty.
    """

    def __init__(self, path: Path | None = None, base: Path | None = None):
        self.path = Path(path) if path else None
        # Files under ``base`` (the project) are keyed relative to it, so the cache holds no machine path.
        self.base = os.path.abspath(base) if base else None
        self.entries: dict[str, list] = {}
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                doc = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(doc, dict):
                    self.entries = {k: v for k, v in doc.items() if isinstance(v, list) and len(v) == 6}
            except (OSError, ValueError):
                self.entries = {}

    def sha256(self, path: Path) -> str:
        """The file's sha256 (raises FileNotFoundError when it is missing)."""
        key = self._key(path)
        st = os.stat(path)
        stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        hit = self.entries.get(key)
        if hit and hit[:4] == stat and hit[4] - max(st.st_mtime_ns, st.st_ctime_ns) >= RACY_NS:
            return hit[5]
        digest = sha256(path)
        self.entries[key] = [*stat, _now_ns(), digest]
        self.dirty = True
        return digest

    def _key(self, path) -> str:
        full = os.path.abspath(path)
        if self.base and full.startswith(self.base + os.sep):
            return full[len(self.base) + 1 :]
        return full

    def _path(self, key: str) -> str:
        return key if os.path.isabs(key) or not self.base else os.path.join(self.base, key)

    def get(self, path: Path) -> str | None:
        """sha256, or None when the file does not exist."""
        try:
            return self.sha256(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def save(self) -> None:
        if self.path and self.dirty:
            live = {k: v for k, v in self.entries.items() if os.path.exists(self._path(k))}
            try:
                write_text(self.path, json.dumps(live, separators=(",", ":")))
            except OSError:
                pass  # a cache that cannot be written only costs time next run
            self.dirty = False


def _now_ns() -> int:
    import time

    return time.time_ns()


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files a crashed atomic write left under ``folder``; returns what was removed."""
    folder = Path(folder)
    removed = []
    if folder.is_dir():
        for pattern in TEMP_PATTERNS:
            for f in folder.rglob(pattern):
                if f.is_file():
                    f.unlink(missing_ok=True)
                    removed.append(f)
    return removed
