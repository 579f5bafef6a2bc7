"""Atomic writes leave either the old file or the new one, never a partial file."""

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
