"""Atomic writes and content hashes: a failed step never leaves a half-written file or folder."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import glob
import hashlib
import json
import os
import re
import shutil
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
    except OSError as exc:
        if exc.filename is None:  # a failed write() (ENOSPC, EIO) names no file: name the target, so errors say where
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a new empty folder beside ``target``; if the block succeeds, it replaces ``target`` in one step.

    The new set of files is written into ``.<name>.<random>.tmpdir`` and then swapped with ``target``
    (:func:`replace_folder`), so a reader, or a command killed at any moment, sees the complete old
    set or the complete new one, never a mix. A block that fails leaves ``target`` as it was and the
    temporary folder removed; one that is killed leaves the temporary folder, which the next
    ``atomic_folder`` for the same target (or :func:`remove_temporaries`) removes. Two writers of one
    target at once are not supported (the commands that write folders hold the pipeline's lock).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for left in target.parent.glob(f".{glob.escape(target.name)}.*.tmpdir"):  # a killed writer's
        shutil.rmtree(left, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmpdir", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700; give the folder the usual permissions
        replace_folder(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after the swap it holds the old set


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``, macOS ``renamex_np(RENAME_SWAP)``).

    Hand-written with ctypes: the standard library has no atomic exchange (``os.replace`` cannot
    replace a folder that is not empty). False when the system or the file system cannot do it.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter is linked with
        if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
            at_fdcwd, rename_exchange = -100, 2
            done = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
        elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
            done = libc.renamex_np(os.fsencode(a), os.fsencode(b), 2) == 0  # RENAME_SWAP
        else:
            return False
    except (OSError, AttributeError):
        return False
    if done:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False  # not supported here: the caller falls back to two renames
    raise OSError(code, os.strerror(code), str(b))


def replace_folder(new: Path, target: Path) -> None:
    """Put the folder ``new`` in the place of ``target``; afterwards ``new`` holds the old ``target`` (if any).

    Where the system can swap two folders atomically (:func:`_exchange`) there is no moment without
    a complete ``target``. Elsewhere ``target`` is renamed aside to ``.<name>.old-<time>`` first
    (a command killed between the two renames leaves the old set complete there, and no mix).
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        return
    aside = target.with_name(f".{target.name}.old-{_now_ns()}")
    os.rename(target, aside)
    os.rename(new, target)
    os.rename(aside, new)


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
TEMP_FOLDER_PATTERN = ".*.tmpdir"  # what atomic_folder leaves after a crash
RACY_NS = (
    2_000_000_000  # a file modified less than 2 s before it was hashed may change again within the same mtime tick
)


_SHA256 = re.compile(r"[0-9a-f]{64}")
CACHE_ENTRY = "[size, mtime_ns, ctime_ns, inode, hashed_at_ns, sha256]: five whole numbers and 64 hex digits"


def cache_entry_problem(entry) -> str:
    """Why ``entry`` is not a hash-cache entry (``CACHE_ENTRY``), or "" when it is one."""
    if not isinstance(entry, list) or len(entry) != 6:
        return f"a {type(entry).__name__}" + (f" of {len(entry)} items" if isinstance(entry, list) else "")
    for i, v in enumerate(entry[:5]):
        if type(v) is not int or v < 0:  # bool is an int to isinstance; null, text and negatives are refused
            return f"item {i + 1} is {json.dumps(v)}"
    if not isinstance(entry[5], str) or not _SHA256.fullmatch(entry[5]):
        return f"item 6 is {json.dumps(entry[5])[:80]}"
    return ""


class HashCache:
    """sha256 of files, cached by (size, mtime_ns, ctime_ns, inode) and re-hashed on any doubt.

    A cached hash is used only when all four stat fields equal those seen when the file was hashed
    and the file had not been modified for at least 2 s at that time (an edit within the same mtime
    tick could otherwise keep the stat and change the bytes). ctime cannot be set by users, so an
    in-place edit that restores the mtime (``touch -d``) is re-hashed as well. The cache is a plain
    JSON file (``path``); a missing or unreadable cache is simply empty, and every entry is checked
    field by field (``cache_entry_problem``): one of the wrong type is dropped with a warning
    (``echo``), so that its file is hashed again, and the cache is rewritten without it.

    The cache also remembers the stat of each file as it was when hashed in this process
    (``changed``): what a pipeline run's key was computed from can be checked again when it ends.
    """

    def __init__(self, path: Path | None = None, base: Path | None = None, echo=None):
        self.path = Path(path) if path else None
        # Files under ``base`` (the project) are keyed relative to it, so the cache holds no machine path.
        self.base = os.path.abspath(base) if base else None
        self.entries: dict[str, list] = {}
        self.seen: dict[str, list] = {}  # key -> the entry of the last hashing in this process
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                doc = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                doc, problem = {}, f"is not readable JSON ({type(exc).__name__})"
            else:
                problem = "" if isinstance(doc, dict) else f"holds a {type(doc).__name__}, not an object"
            if not isinstance(doc, dict):
                doc = {}
            bad = {k: cache_entry_problem(v) for k, v in doc.items()}
            bad = {k: why for k, why in bad.items() if why}
            self.entries = {k: v for k, v in doc.items() if k not in bad}
            if bad:
                first = next(iter(bad))
                problem = (
                    f"{len(bad)} entr{'y' if len(bad) == 1 else 'ies'} of the wrong type (first: {first!r}: "
                    f"{bad[first]}; accepted: {CACHE_ENTRY})"
                )
            if problem:
                self.dirty = True  # rewritten without what was dropped
                if echo is not None:
                    from helpers.core import paths

                    echo(
                        f"warning: {paths.relative(self.path)} {problem}: dropped, those files are hashed again "
                        "(a cache: nothing else is lost)"
                    )

    def sha256(self, path: Path) -> str:
        """The file's sha256 (raises FileNotFoundError when it is missing)."""
        key = self._key(path)
        st = os.stat(path)
        stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        hit = self.entries.get(key)
        if hit and hit[:4] == stat and hit[4] - max(st.st_mtime_ns, st.st_ctime_ns) >= RACY_NS:
            self.seen[key] = hit
            return hit[5]
        digest = sha256(path)
        self.entries[key] = self.seen[key] = [*stat, _now_ns(), digest]
        self.dirty = True
        return digest

    def changed(self, path: Path) -> bool:
        """True when ``path`` may not be the file this cache last hashed (in this process).

        Changed: another size, mtime, ctime or inode (any write changes ctime, so a file edited and
        then restored counts as changed although its bytes are the same again: what read it in
        between may have seen the edit), a file that is gone, or one that exists now and was not
        hashed (missing then). When the file had been modified less than 2 s before it was hashed,
        the same stat is not trusted and the bytes are compared as well.
        """
        key = self._key(path)
        seen = self.seen.get(key)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return seen is not None
        if seen is None:
            return True
        if [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] != seen[:4]:
            return True
        if seen[4] - max(st.st_mtime_ns, st.st_ctime_ns) >= RACY_NS:
            return False
        try:
            return sha256(path) != seen[5]
        except OSError:
            return True

    def refresh(self, path: Path) -> bool:
        """Hash ``path`` again if it ``changed`` since it was last hashed here; True when its bytes (or
        whether it exists) now differ from then. Afterwards ``changed`` compares with the file as it is now."""
        if not self.changed(path):
            return False
        before = self.seen.pop(self._key(path), None)
        now = self.get(path)
        return now != (before[5] if before else None)

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
    """Delete temporary files and folders a crashed atomic write left under ``folder``; returns what was removed."""
    folder = Path(folder)
    removed = []
    if folder.is_dir():
        for f in sorted(folder.rglob(TEMP_FOLDER_PATTERN)):
            if f.is_dir() and not any(f.is_relative_to(r) for r in removed):
                shutil.rmtree(f, ignore_errors=True)
                removed.append(f)
        for pattern in TEMP_PATTERNS:
            for f in folder.rglob(pattern):
                if f.is_file():
                    f.unlink(missing_ok=True)
                    removed.append(f)
    return removed
