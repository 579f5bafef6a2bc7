"""Publishing the report: the site and its PDFs are built in a temporary folder and put in place together.

``borgerservice report`` builds ``site/``, ``report.pdf`` (every page of the site: the notebook book) and
``report_short.pdf`` (the short report for co-authors) into ``reports/.report-<pid>-<random>/``; only when
everything asked for is made does :func:`publish` move them into ``reports/``, one rename each (the earlier ones
are moved aside first and then deleted), so ``reports/`` never holds a new site beside an old PDF. When the PDFs
could not be made (or were not asked for), the earlier PDFs no longer describe the site: they are renamed
``report.stale.pdf`` and ``report_short.stale.pdf`` and :class:`Published` says so.

A killed report leaves its temporary folder; :func:`remove_temporaries` removes the folders of processes that are
no longer alive (and the ``.site-*`` folders earlier versions left), at the start of the next report and of the
next ``borgerservice run``. This module imports nothing heavy: the pipeline calls it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers.core import files

SITE = "site"
BOOK_PDF = "report.pdf"  # every page of the site, the notebooks in analysis order
SHORT_PDF = "report_short.pdf"  # the short A4 report for co-authors
PUBLISHED = (SITE, BOOK_PDF, SHORT_PDF)
PREFIX = ".report-"
_OWNED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")
LEGACY = ".site-"  # what earlier versions built the site in (no owner recorded)


def stale_name(name: str) -> str:
    """``report.pdf`` -> ``report.stale.pdf``: where an earlier PDF goes when the site it described is replaced."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.stale.{ext}" if dot else f"{name}.stale"


@dataclass(frozen=True)
class Published:
    """What :func:`publish` did: ``published`` (names now in ``reports/``), ``stale`` (earlier PDFs renamed, as
    (old name, new name)), both relative to the reports folder."""

    published: tuple[str, ...]
    stale: tuple[tuple[str, str], ...]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def make_temporary(reports: Path) -> Path:
    """A new temporary folder for a report build in ``reports`` (created), named after this process."""
    reports.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=reports))
    os.chmod(tmp, 0o777 & ~files._UMASK)  # mkdtemp makes 0700: others (a web server, a colleague) could not open it
    return tmp


def remove_temporaries(reports: Path) -> list[str]:
    """Remove the temporary folders of report builds whose process has ended (killed, or failed before cleaning
    up), and the ``.site-*`` folders of earlier versions; returns their names. A live build's folder is kept."""
    removed = []
    if not Path(reports).is_dir():
        return removed
    for child in sorted(Path(reports).iterdir()):
        if not child.is_dir() or child.is_symlink():
            continue
        owner = _OWNED.match(child.name)
        if (owner and not _alive(int(owner.group(1)))) or child.name.startswith(LEGACY):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed


def publish(tmp: Path, reports: Path) -> Published:
    """Move what ``tmp`` holds of ``site/``, ``report.pdf`` and ``report_short.pdf`` into ``reports``, replacing
    the earlier ones; earlier PDFs that ``tmp`` has no new version of are renamed as stale. Removes ``tmp``."""
    aside = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-old-", dir=reports))
    stale = []
    try:
        for name in PUBLISHED:  # first every earlier version out of the way, then every new one in
            target = reports / name
            if not target.exists():
                continue
            if (tmp / name).exists() or name == SITE:
                os.replace(target, aside / name)
            else:
                os.replace(target, reports / stale_name(name))
                stale.append((name, stale_name(name)))
        published = []
        for name in PUBLISHED:
            if (tmp / name).exists():
                os.replace(tmp / name, reports / name)
                published.append(name)
    finally:
        shutil.rmtree(aside, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return Published(tuple(published), tuple(stale))
