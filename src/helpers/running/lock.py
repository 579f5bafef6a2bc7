"""A lock on the output folders, so that two pipeline runs never write the same outputs at once.

``hold(folders)`` takes an exclusive ``flock`` on ``<folder>/.borgerservice.lock`` for each folder
and writes the holder's PID, start time and command into it. The operating system releases a
flock when its process dies (even by SIGKILL), so the lock of a dead process never blocks: the next
run finds the file with the dead holder's details, logs that it takes the lock over, and goes on.
A second live run either waits (``wait`` seconds) or stops with a message naming the holder.
We use flock rather than a PID file alone because a PID file needs guessing (is PID 1234 still
the same process?) where flock is exact.

``borgerservice run``, ``report`` and ``export`` all take it. A folder where the lock cannot be
taken at all (read-only, full, a lock path that is a folder, no permission) raises
:class:`Unwritable`, naming the folder and the cause, before anything is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".borgerservice.lock"


class LockHeld(RuntimeError):
    """Another live process holds the lock; the message names it."""


class Unwritable(RuntimeError):
    """An output folder in which the lock cannot be taken (read-only, full, the lock path a folder); the
    message names the folder and the cause."""


def _unwritable(folder: Path, exc: OSError) -> Unwritable:
    from helpers.core import paths

    where = paths.relative(folder)
    if isinstance(exc, IsADirectoryError):
        cause = f"{LOCK_NAME} there is a folder, not the lock file (remove it: rmdir {where}/{LOCK_NAME})"
    else:
        cause = exc.strerror or str(exc)
    return Unwritable(f"cannot write in {where}: {cause}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(fh) -> dict:
    fh.seek(0)
    try:
        doc = json.loads(fh.read() or "{}")
        return doc if isinstance(doc, dict) else {}
    except ValueError:
        return {}


@contextlib.contextmanager
def hold(folders: list[Path], *, wait: float = 0.0, echo=print, command: str | None = None) -> Iterator[None]:
    """Hold the lock of every folder (created if missing) for the duration of the block."""
    held = []
    try:
        for folder in dict.fromkeys(Path(f).resolve() for f in folders):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                fh = open(folder / LOCK_NAME, "a+", encoding="utf-8")
            except OSError as exc:
                raise _unwritable(folder, exc) from None
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        who = _holder(fh)
                        fh.close()
                        raise LockHeld(
                            f"{folder} is in use by another pipeline run: PID {who.get('pid', '?')}, started "
                            f"{who.get('started', '?')} ({who.get('command', '?')}); wait until it ends, or stop it "
                            f"(kill {who.get('pid', '<pid>')})"
                        ) from None
                    time.sleep(0.2)
            old = _holder(fh)
            if old.get("pid") and old.get("pid") != os.getpid() and not _alive(int(old["pid"])):
                echo(
                    f"taking over the lock of {folder}: its holder PID {old['pid']} "
                    f"(started {old.get('started', '?')}) is no longer running"
                )
            held.append(fh)
            try:
                fh.seek(0)
                fh.truncate()
                fh.write(
                    json.dumps(
                        {
                            "pid": os.getpid(),
                            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                            "command": command or " ".join(["borgerservice", *sys.argv[1:]]),
                        }
                    )
                )
                fh.flush()
            except OSError as exc:  # a full disk: the lock is held, but nothing could be written after it
                raise _unwritable(folder, exc) from None
        yield
    finally:
        for fh in held:
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fh.flush()
            fh.close()  # closing releases the flock
