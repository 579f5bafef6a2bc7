"""Atomic writes leave either the old file or the new one, never a partial file."""

import json

import pandas as pd
import pytest

from helpers.core import files


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.parquet"
    files.write_parquet(target, pd.DataFrame({"a": [1, 2]}))
    before = files.sha256(target)
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert files.sha256(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_json_handles_numpy_and_paths(tmp_path):
    import numpy as np

    out = files.write_json(tmp_path / "r.json", {"n": np.int64(3), "x": np.float64(0.5), "p": tmp_path})
    assert '"n": 3' in out.read_text()


def test_written_files_get_normal_permissions(tmp_path):
    out = files.write_text(tmp_path / "x.txt", "hi")
    assert out.stat().st_mode & 0o644 == 0o644


def test_synthetic_figures_are_stamped_and_named(outputs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.core import paths
    from helpers.outputs import reports

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    written = reports.save_figure(fig, "demo", synthetic=True)
    assert [p.name for p in written] == ["demo_synthetic_en.png", "demo_synthetic_en.svg"]  # the figure's language last
    assert reports.SYNTHETIC_MARK in (paths.figures() / "demo_synthetic_en.svg").read_text()
    fig2, _ = plt.subplots()
    assert [p.name for p in reports.save_figure(fig2, "real_demo", synthetic=False)] == [
        "real_demo_en.png",
        "real_demo_en.svg",
    ]
    assert "SYNTHETIC" not in (paths.figures() / "real_demo_en.svg").read_text()


def test_data_error_names_a_project_file_relative_to_the_project():
    from helpers.core import paths
    from helpers.core.errors import DataError

    inside = paths.raw() / "survey" / "x.csv"
    err = DataError(inside, "bad")
    assert err.file == "data/raw/survey/x.csv"
    assert str(paths.root()) not in str(err)
    assert DataError("/elsewhere/y.csv", "bad").file == "/elsewhere/y.csv"
    assert DataError("codebook 2011", "bad").file == "codebook 2011"


def test_hash_cache_keys_project_files_relative_to_the_project(tmp_path):
    from helpers.core import files

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    inside = project / "data" / "a.csv"
    inside.write_text("x")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("y")
    cache = files.HashCache(project / ".hash_cache.json", base=project)
    assert cache.sha256(inside) == files.sha256(inside)
    assert cache.sha256(outside) == files.sha256(outside)
    cache.save()
    text = (project / ".hash_cache.json").read_text()
    assert '"data/a.csv"' in text and str(project) not in text
    again = files.HashCache(project / ".hash_cache.json", base=project)
    assert set(again.entries) == {"data/a.csv", str(outside)}
    inside.write_text("changed")
    assert again.sha256(inside) == files.sha256(inside)


# --- issue 27: folders written as a unit, failed writes named, the hash cache checked and kept honest ----


def test_atomic_folder_swaps_the_whole_set_or_leaves_the_old_one(tmp_path):
    target = tmp_path / "exports"
    with files.atomic_folder(target) as new:
        (new / "a.csv").write_text("old a")
        (new / "b.csv").write_text("old b")
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "b.csv"]
    assert target.stat().st_mode & 0o755 == 0o755  # the usual permissions, not mkdtemp's 0700
    with pytest.raises(RuntimeError), files.atomic_folder(target) as new:
        (new / "a.csv").write_text("new a")
        raise RuntimeError("killed half-way")
    assert (target / "a.csv").read_text() == "old a" and (target / "b.csv").read_text() == "old b"
    with files.atomic_folder(target) as new:
        (new / "a.csv").write_text("new a")
    assert [p.name for p in target.iterdir()] == ["a.csv"] and (target / "a.csv").read_text() == "new a"
    assert [p.name for p in tmp_path.iterdir()] == ["exports"], "a temporary folder was left"


def test_atomic_folder_removes_what_a_killed_writer_left(tmp_path):
    target = tmp_path / "exports"
    left = tmp_path / ".exports.abc.tmpdir"
    left.mkdir()
    (left / "half.csv").write_text("half")
    other = tmp_path / ".other.abc.tmpdir"
    other.mkdir()
    with files.atomic_folder(target) as new:
        (new / "a.csv").write_text("a")
    assert not left.exists() and other.exists()  # only the leftovers of this target
    assert files.remove_temporaries(tmp_path) == [other] and not other.exists()


def test_replace_folder_without_an_atomic_exchange_keeps_a_complete_set(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)  # a system without renameat2 / renamex_np
    target, new = tmp_path / "t", tmp_path / "n"
    target.mkdir()
    (target / "x").write_text("old")
    new.mkdir()
    (new / "x").write_text("new")
    files.replace_folder(new, target)
    assert (target / "x").read_text() == "new" and (new / "x").read_text() == "old"


def test_a_write_that_fails_without_a_file_name_names_its_target(tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")  # what write() raises: no file name

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError) as caught:
        files.write_text(tmp_path / "sub" / "x.json", "{}")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "sub" / "x.json")
    assert list((tmp_path / "sub").iterdir()) == []


@pytest.mark.parametrize(
    "entry, problem",
    [
        ([1, 2, 3, 4, 5, "a" * 64], ""),
        ([None] * 6, "item 1 is null"),
        ([1, 2, 3, 4, True, "a" * 64], "item 5 is true"),
        ([1, 2, 3, -4, 5, "a" * 64], "item 4 is -4"),
        ([1, 2, 3, 4, 5, None], "item 6 is null"),
        ([1, 2, 3, 4, 5, "A" * 64], 'item 6 is "' + "A" * 64 + '"'),
        ([1, 2, 3], "a list of 3 items"),
        ({"size": 1}, "a dict"),
    ],
)
def test_hash_cache_entries_are_checked_field_by_field(tmp_path, entry, problem):
    assert files.cache_entry_problem(entry) == problem
    f = tmp_path / "a.csv"
    f.write_text("x")
    (tmp_path / ".cache.json").write_text(json.dumps({"a.csv": entry}))
    lines: list[str] = []
    cache = files.HashCache(tmp_path / ".cache.json", base=tmp_path, echo=lines.append)
    assert ("a.csv" in cache.entries) == (problem == "")
    assert cache.sha256(f) == files.sha256(f)  # a null field once raised a TypeError here, in every run
    assert bool(lines) == bool(problem) and all("dropped, those files are hashed again" in line for line in lines)


def test_hash_cache_tells_a_file_edited_and_restored_after_it_was_hashed(tmp_path):
    import os

    f = tmp_path / "export.csv"
    f.write_bytes(b"a,b\n1,2\n")
    old = 1_600_000_000_000_000_000
    os.utime(f, ns=(old, old))  # last modified long ago: the stat alone decides
    cache = files.HashCache()
    cache.sha256(f)
    assert not cache.changed(f)
    f.write_bytes(b"a,b\n1,3\n")
    f.write_bytes(b"a,b\n1,2\n")  # the same bytes again, the mtime too
    os.utime(f, ns=(old, old))
    assert cache.changed(f)  # ctime moved: what read it in between may have seen the edit
    assert not cache.refresh(f)  # the same bytes as when it was hashed
    assert not cache.changed(f)  # from now on compared with the file as it is
    f.write_bytes(b"other")
    assert cache.refresh(f) and not cache.changed(f)
    f.unlink()
    assert cache.changed(f) and cache.refresh(f)
    assert not cache.changed(tmp_path / "never-hashed.csv")
    (tmp_path / "never-hashed.csv").write_text("new")
    assert cache.changed(tmp_path / "never-hashed.csv")
