"""A temporary data/raw for survey tests: exports must lie inside data/raw and be in its manifest.

``make_raw`` links the real reference and usage folders into a temporary raw folder, copies the
survey folder (examples + manifest), and points BORGERSERVICE_RAW at it; ``RawSurvey.put`` writes
a file there and records it in the manifest (synthetic unless told otherwise). ``cleaned_rounds`` cleans
example rounds into a temporary data/processed, as the pipeline cleans them, for the module-scoped fixtures.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from helpers.core import paths
from helpers.data import provenance


class RawSurvey:
    def __init__(self, root: Path):
        self.root = root
        self.dir = root / "survey"

    def put(self, name: str, data: bytes | None = None, synthetic: bool = True) -> Path:
        """Write ``data`` (or keep the file already written at ``self.dir/name``) and record it."""
        p = self.dir / name
        if data is not None:
            p.write_bytes(data)
        provenance.record(p, source="test variant (tests/)", licence="CC0-1.0", synthetic=synthetic)
        return p

    def example(self, year: int) -> Path:
        return next(self.dir.glob(f"example_survey_{year}.*"))


def make_raw(tmp_path: Path, monkeypatch) -> RawSurvey:
    real = paths.raw()
    root = tmp_path / "raw"
    root.mkdir()
    for sub in real.iterdir():
        if sub.is_dir() and sub.name != "survey":
            (root / sub.name).symlink_to(sub.resolve(), target_is_directory=True)
    shutil.copytree(real / "survey", root / "survey")
    monkeypatch.setenv("BORGERSERVICE_RAW", str(root))
    return RawSurvey(root)


@contextlib.contextmanager
def cleaned_rounds(folder: Path, years: Iterable[int] | None = None) -> Iterator[pytest.MonkeyPatch]:
    """Point BORGERSERVICE_PROCESSED and BORGERSERVICE_REPORTS into ``folder`` and clean the configured rounds
    ``years`` (every round of config/pipeline.yaml when None) there as the pipeline does; yields the MonkeyPatch,
    whose settings hold until the block ends."""
    from helpers.data import survey
    from helpers.running import pipeline

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BORGERSERVICE_PROCESSED", str(folder / "processed"))
        mp.setenv("BORGERSERVICE_REPORTS", str(folder / "reports"))
        specs = pipeline.load_rounds()
        for year in specs if years is None else years:
            survey.clean_to_files(year, specs[year]["input_path"], specs[year]["codebook"])
        yield mp
