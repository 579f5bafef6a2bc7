"""Fault injection of issue 27, findings 1, 4, 5, 8 and 9 (written from their descriptions): inputs
edited while a run goes, a report built during a run, a killed export, unwritable output folders,
and malformed run manifests and hash caches.

The tiny project of tests/test_faults.py (two rounds, a clean per round, a report per pair) is used
again; its clean notebook waits at two points while flag files exist (``hold("before")`` before it
reads its export, ``hold("after")`` once it has written), so a test can change a file exactly while
it runs. Read-only and full folders are real: a read-only bind mount and a small tmpfs in a private
mount namespace (``unshare``); those tests are skipped where user namespaces are not allowed.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import test_faults as tf
from test_faults import ROUNDS

from helpers.core import files, paths
from helpers.outputs import exports
from helpers.running import cli, lock, pipeline

pytestmark = pytest.mark.slow

pristine = tf.pristine  # one clean run of the tiny project per module, and a fresh copy of it per test
clean_run = tf.clean_run


def _in_background(project, **kwargs) -> tuple[threading.Thread, dict]:
    """``project.run`` in a thread (one worker: notebooks execute in this process): (thread, result)."""
    result: dict = {"lines": []}

    def target():
        try:
            result["status"] = project.run(lines=result["lines"], **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


# --- finding 1: an input edited during a run -----------------------------------------------------


def _edit_export(project, tmp_root):
    return project.raw / ROUNDS[2009]["input_path"], "raw:survey/example_survey_2009.csv"


def _edit_helper(project, tmp_root):
    return tmp_root / "src/helpers/core/vocabulary.py", "helper src/helpers/core/vocabulary.py"


def _edit_notebook(project, tmp_root):
    return Path(project.clean), "notebook "


@pytest.mark.parametrize("what", [_edit_export, _edit_helper, _edit_notebook], ids=["export", "helper", "notebook"])
def test_an_input_edited_and_restored_while_the_run_goes_is_not_recorded_as_current(
    clean_run, monkeypatch, tmp_path, what
):
    """Finding 1: edit a raw export (a helper module, the notebook) while its clean runs, restore it
    before the run ends; the run must not be recorded as current, and the next plain run must end
    with the outputs of a clean run."""
    project, clean = clean_run
    # the helper code is hashed from paths.root(): a copy of the project's own files, so the test edits no real source
    tmp_root = tmp_path / "root"
    for part in ("src/helpers", "config"):
        shutil.copytree(paths.root() / part, tmp_root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(paths.root() / "pyproject.toml", tmp_root / "pyproject.toml")
    (tmp_root / "notebooks").mkdir()
    monkeypatch.setattr(paths, "ROOT", tmp_root)
    target, name = what(project, tmp_root)
    original = target.read_bytes()
    edited = bytearray(original + b"\n")
    if target.suffix not in (".py", ".ipynb"):
        edited = bytearray(original)
        edited[100] ^= 1  # one byte of the export
    project.gate.mkdir()
    for step in ("before", "after"):
        (project.gate / f"{step}_2009").touch()
    thread, result = _in_background(project, force=True)
    tf._wait_for((project.gate / "before_2009.reached").exists, what="the clean of 2009 to start")
    target.write_bytes(edited)
    (project.gate / "before_2009").unlink()  # it reads the edited export now
    tf._wait_for((project.gate / "after_2009.reached").exists, what="the clean of 2009 to write its output")
    target.write_bytes(original)  # restored before the run ends
    (project.gate / "after_2009").unlink()
    thread.join(180)
    assert not thread.is_alive() and "error" not in result, result.get("error")
    assert result["status"] == {"clean_2009": "failed", "clean_2011": "ok", "report_2009_2011": "blocked"}
    record = next(r for r in project.manifest()["runs"] if r["id"] == "clean_2009")
    assert record["error"].startswith("not current: ") and name in record["error"]
    assert "changed while it ran" in record["error"]
    assert any("clean_2009: failed" in line and name in line for line in result["lines"])
    assert project.run() == {"clean_2009": "ok", "clean_2011": "skipped", "report_2009_2011": "ok"}
    assert project.snapshot() == clean


def test_a_run_nobody_touched_stays_current(clean_run):
    """The check at the end costs nothing when nothing changed: a forced run is recorded as ok and the
    next plain run skips everything."""
    project, clean = clean_run
    assert set(project.run(force=True).values()) == {"ok"}
    assert set(project.run().values()) == {"skipped"}
    assert project.snapshot() == clean


# --- finding 4: report takes no lock --------------------------------------------------------------


def _fake_report(project, record):
    """In place of ``site.report`` (what `borgerservice report` calls): ``record()``, then an outcome with no PDF."""
    from helpers.outputs import site

    def report(*, make_pdf=True, chromium=None):
        record()
        return site.ReportOutcome(project.reports / "site", (), (), "", {})

    return report


def test_report_during_a_run_refuses_naming_the_holder_or_waits(clean_run, capsys, monkeypatch):
    """Finding 4: `report` built during a run exited 0 with a partial site. It must take the runs' lock:
    refuse naming the holder (exit 3, as a second run), or wait with --wait."""
    project, clean = clean_run
    project.hang.write_text("hang")
    proc = project.start("--force")
    try:
        tf._wait_for(lambda: project.status().get("report_2009_2011") == "running", what="the run to reach the report")
        assert cli.main(["report", "--no-pdf"]) == 3
        err = capsys.readouterr().err
        assert f"PID {proc.pid}, started" in err and "in use by another pipeline run" in err and "Traceback" not in err
        t0 = time.monotonic()
        assert cli.main(["report", "--no-pdf", "--wait", "1"]) == 3  # waited, then refused
        assert time.monotonic() - t0 >= 1
        assert f"PID {proc.pid}" in capsys.readouterr().err
        assert not (project.reports / "site").exists()
    finally:
        proc.kill()
        proc.communicate(timeout=30)
        project.hang.unlink()
    from helpers.outputs import site

    built = []
    monkeypatch.setattr(site, "report", _fake_report(project, lambda: built.append(time.monotonic())))
    released = []

    def holder():
        with lock.hold([project.reports, project.processed], command="a test holding the lock"):
            time.sleep(1.5)
            released.append(time.monotonic())

    thread = threading.Thread(target=holder)
    thread.start()
    time.sleep(0.3)
    assert cli.main(["report", "--no-pdf", "--wait", "30"]) == 0
    thread.join()
    assert built and built[0] >= released[0]  # built only once the holder had let go


# --- finding 5: a killed export leaves its folder mixed -------------------------------------------

EXPORT = """\
import os, signal, sys
from pathlib import Path
import pandas as pd
from helpers.core import files
from helpers.outputs import exports
from helpers.outputs.variables import Variable, VariableProvenance

value, kill_at = int(sys.argv[2]), int(sys.argv[3])
v = (Variable("n", "a number", "integer"),)
made_up = {"n": VariableProvenance("synthetic", True, "made up for the test")}
tables = [exports.Table(f"t{i}", f"table {i}", pd.DataFrame({"n": [value] * 3}), v, made_up) for i in range(3)]
real, calls = files.write_parquet, []

def write_parquet(target, df):
    calls.append(target)
    if len(calls) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)  # killed in the middle of the export
    return real(target, df)

files.write_parquet = write_parquet
exports.write_exports(target_folder=Path(sys.argv[1]), tables=tables)
"""


def _listed_files_match(folder: Path) -> tuple[bool, set[int]]:
    """(every file of the exports manifest has its recorded sha256 and no other file is there, the values found)."""
    doc = json.loads((folder / exports.MANIFEST_FILE).read_text(encoding="utf-8"))
    listed = {r["file"]: r["sha256"] for r in doc["files"]}
    present = {p.name for p in folder.iterdir() if not p.name.startswith(".")} - {"notes.txt"}  # put there by hand
    extra = {exports.MANIFEST_FILE, "data_dictionary.md", "data_dictionary.html"}
    match = present == set(listed) | extra and all(files.sha256(folder / f) == s for f, s in listed.items())
    csvs = [folder / f for f in listed if f.endswith(".csv") and "_excel" not in f]
    values = {int(v) for f in csvs for v in f.read_text().split()[1:]}
    return match, values


def test_a_killed_export_leaves_the_old_set_or_the_new_one(tmp_path):
    """Finding 5: an export killed half-way left some new and some earlier files, and a manifest that no
    longer matched them. After the kill the folder must hold one complete set, listed by its manifest."""
    script = tmp_path / "export.py"
    script.write_text(EXPORT)
    target = tmp_path / "exports"

    def export(value: int, kill_at: int = 0) -> int:
        args = [sys.executable, str(script), str(target), str(value), str(kill_at)]
        return subprocess.run(args, timeout=300).returncode

    assert export(1) == 0
    assert _listed_files_match(target) == (True, {1})
    (target / "notes.txt").write_text("put here by hand")
    assert export(2, kill_at=2) == -signal.SIGKILL  # killed after the first table was written
    match, values = _listed_files_match(target)
    assert match and values == {1}, "a mix of the earlier export and the killed one"
    assert export(3) == 0
    assert _listed_files_match(target)[1] == {3}
    assert (target / "notes.txt").read_text() == "put here by hand"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary folder was left beside it"


def test_exports_of_a_killed_export_are_removed_by_the_next_run(clean_run):
    """The temporary folder a killed export leaves under data/processed is removed by the next run."""
    project, clean = clean_run
    left = project.processed / "scratch" / ".exports.abc123.tmpdir"
    left.mkdir(parents=True)
    (left / "survey_2009.csv").write_text("half")
    lines: list[str] = []
    assert set(project.run(lines=lines).values()) == {"skipped"}
    assert not left.exists() and any(".exports.abc123.tmpdir" in line for line in lines)


# --- finding 8: unwritable folders end in tracebacks ----------------------------------------------


def _namespaces_work() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(), reason="needs unshare and user namespaces (read-only and full mounts)"
)


def _cli_in_namespace(project, setup: str, *args: str) -> subprocess.CompletedProcess:
    """`borgerservice <args>` in a private mount namespace after the shell commands ``setup`` (mounts)."""
    command = " ".join([sys.executable, "-m", "helpers.running.cli", *args])
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"set -e; {setup}; exec {command}"],
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _promised(proc: subprocess.CompletedProcess, folder: Path, cause: str) -> None:
    """The promised message: non-zero exit, "cannot write in <folder>...: <cause>", no traceback."""
    said = proc.stdout + proc.stderr
    assert proc.returncode not in (0, None), said
    assert "Traceback" not in said, said
    assert f"cannot write in {folder}" in said and cause in said, said


@needs_namespaces
@pytest.mark.parametrize("which", ["reports", "processed"])
def test_run_with_an_output_folder_on_a_read_only_mount(clean_run, which):
    """Finding 8: reports or processed data on a read-only mount ended in an OSError traceback."""
    project, clean = clean_run
    folder = getattr(project, which)
    proc = _cli_in_namespace(
        project, f"mount --bind -o ro {folder} {folder}", "run", "--config", str(project.config), "--force"
    )
    _promised(proc, folder, "Read-only file system")
    assert "nothing was run" in proc.stderr and "No notebook was run." in proc.stdout
    assert project.snapshot() == clean


@needs_namespaces
def test_report_on_a_read_only_folder(clean_run):
    """Finding 8: `report` on a read-only reports folder ended in an OSError traceback."""
    project, clean = clean_run
    proc = _cli_in_namespace(project, f"mount --bind -o ro {project.reports} {project.reports}", "report", "--no-pdf")
    _promised(proc, project.reports, "Read-only file system")
    assert "no report was built" in proc.stderr


def _full(folder: Path, room_kb: int) -> str:
    """Shell commands: a tmpfs over ``folder`` holding a copy of its files, then filled up but ``room_kb`` KB."""
    copy = folder.with_name(folder.name + ".copy")
    shutil.copytree(folder, copy, symlinks=True)
    size = 2 * sum(f.stat().st_size for f in copy.rglob("*") if f.is_file()) // 1024 + 1024
    return (
        f"mount -t tmpfs -o size={size}k tmpfs {folder}; cp -a {copy}/. {folder}/; "
        f"dd if=/dev/zero of={folder}/.filler bs=64k 2>/dev/null || true; truncate -s -{room_kb}K {folder}/.filler"
    )


@needs_namespaces
def test_run_on_a_full_disk_names_the_folder(clean_run):
    """Finding 8: the disk-full message of `run` named no folder ("cannot write in an output folder")."""
    project, clean = clean_run
    proc = _cli_in_namespace(project, _full(project.reports, 24), "run", "--config", str(project.config), "--force")
    _promised(proc, project.reports, "No space left on device")
    assert "an output folder" not in proc.stderr
    assert "notebook runs succeeded" in proc.stdout or "No notebook was run." in proc.stdout  # the summary


@needs_namespaces
def test_report_on_a_full_folder(clean_run):
    """Finding 8: `report` on a full folder ended in an OSError traceback."""
    project, clean = clean_run
    proc = _cli_in_namespace(project, _full(project.reports, 8), "report", "--no-pdf")
    _promised(proc, project.reports, "No space left on device")


def test_a_lock_path_that_is_a_folder(clean_run, capsys):
    """Finding 8: a lock path that is a directory ended in an uncaught IsADirectoryError, for run and report."""
    project, clean = clean_run
    (project.reports / lock.LOCK_NAME).unlink()
    (project.reports / lock.LOCK_NAME).mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.running.cli", "run", "--config", str(project.config)],
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    _promised(proc, project.reports, f"{lock.LOCK_NAME} there is a folder, not the lock file")
    assert cli.main(["report", "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert f"cannot write in {project.reports}: {lock.LOCK_NAME} there is a folder" in err
    assert not (project.reports / "site").exists()
    (project.reports / lock.LOCK_NAME).rmdir()
    assert set(project.run().values()) == {"skipped"}
    assert project.snapshot() == clean


# --- finding 9: malformed run manifests and hash caches -------------------------------------------


def test_a_manifest_record_of_the_wrong_type_is_set_aside(clean_run, capsys, monkeypatch):
    """Finding 9: a run manifest whose records have "executed": 7 passed the shape check, and every later
    `report` failed with a TypeError. The record must be set aside with a warning, never carried forward."""
    project, clean = clean_run
    f = project.reports / pipeline.MANIFEST
    doc = json.loads(f.read_text())
    for r in doc["runs"]:
        if r["id"] == "clean_2009":
            r["executed"] = 7
    f.write_text(json.dumps(doc))
    from helpers.outputs import site

    seen = []

    def build():  # what the report reads: the manifest as it is when the site is built
        seen.append(json.loads(f.read_text()))

    monkeypatch.setattr(site, "report", _fake_report(project, build))
    assert cli.main(["report", "--no-pdf"]) == 0
    err = capsys.readouterr().err
    assert "run record 1 (clean_2009): 'executed' is 7; accepted: text" in err and "set aside as" in err
    assert [r["id"] for r in seen[0]["runs"]] == ["clean_2011", "report_2009_2011"]
    assert all(isinstance(r["executed"], str) for r in seen[0]["runs"])
    [aside] = project.reports.glob(f"{pipeline.MANIFEST}.bad-*")
    assert '"executed": 7' in aside.read_text()
    lines: list[str] = []
    assert project.run(lines=lines) == {"clean_2009": "ok", "clean_2011": "skipped", "report_2009_2011": "skipped"}
    assert not any("warning" in line for line in lines)
    assert all(isinstance(r["executed"], str) for r in project.manifest()["runs"])
    assert project.snapshot() == clean


@pytest.mark.parametrize(
    "entry", [[None] * 6, [1, 2, 3, 4, 5, None], [1, 2, 3, 4, True, "0" * 64], {"size": 1}, "x"], ids=str
)
def test_a_hash_cache_entry_of_the_wrong_type_is_dropped(clean_run, entry):
    """Finding 9: a hash cache with null fields made every run fail until it was deleted by hand."""
    project, clean = clean_run
    f = project.reports / pipeline.HASH_CACHE
    doc = json.loads(f.read_text())
    first = next(iter(doc))
    doc[first] = entry
    f.write_text(json.dumps(doc))
    lines: list[str] = []
    assert set(project.run(lines=lines).values()) == {"skipped"}
    assert [line for line in lines if "warning" in line] == [
        f"warning: {f} 1 entry of the wrong type (first: {first!r}: "
        + files.cache_entry_problem(entry)
        + f"; accepted: {files.CACHE_ENTRY}): dropped, those files are hashed again (a cache: nothing else is lost)"
    ]
    assert files.cache_entry_problem(json.loads(f.read_text())[first]) == ""  # rewritten with a good entry
    lines.clear()
    assert set(project.run(lines=lines).values()) == {"skipped"}
    assert not any("warning" in line for line in lines)
    assert project.snapshot() == clean


@pytest.mark.parametrize("field", [4, 5], ids=["hashed_at", "sha256"])
def test_a_hash_cache_whose_entries_match_the_files_but_hold_a_null_is_not_trusted(clean_run, field):
    """Finding 9 as it was seen: every entry still matches its file's stat, one field is null (the time it was
    hashed, or the hash). Every run then failed (a TypeError, an AttributeError) until the cache was deleted by
    hand. The entries are dropped with one warning, the files hashed again, and nothing re-runs."""
    project, clean = clean_run
    f = project.reports / pipeline.HASH_CACHE
    doc = json.loads(f.read_text())
    for entry in doc.values():
        entry[field] = None
    f.write_text(json.dumps(doc))
    lines: list[str] = []
    assert set(project.run(lines=lines).values()) == {"skipped"}
    [warning] = [line for line in lines if "warning" in line]
    assert f"{len(doc)} entries of the wrong type" in warning and "hashed again" in warning
    assert all(files.cache_entry_problem(e) == "" for e in json.loads(f.read_text()).values())
    assert project.snapshot() == clean


@pytest.mark.parametrize(
    "field, value, why",
    [
        ("executed", 7, "'executed' is 7; accepted: text"),
        (
            "status",
            "done",
            "'status' is \"done\"; accepted: ok, skipped, not covered, failed, blocked, running, interrupted, "
            "not started",
        ),
        ("seconds", None, "'seconds' is null; accepted: a number of seconds"),
        ("seconds", True, "'seconds' is true; accepted: a number of seconds"),
        ("outputs", {"processed/a/x.parquet": None}, "'outputs' holds values that are not text"),
        ("reads", [], "'reads' is []; accepted: an object"),
        ("parameters", "year=2009", "'parameters' is \"year=2009\"; accepted: an object"),
        ("key", 5, "'key' is 5; accepted: text"),
    ],
)
def test_each_field_of_a_run_record_is_checked(outputs, field, value, why):
    """Finding 9, field by field: the record with the wrong field is left out (its run re-runs), the
    others are kept, the file as it was is set aside, and the warning names the record and the field."""
    good = {"id": "b", "notebook": "n.ipynb", "parameters": {}, "status": "ok", "key": "k", "executed": "e.ipynb"}
    f = paths.reports() / pipeline.MANIFEST
    f.write_text(json.dumps({"inputs": {"x": "y"}, "runs": [{**good, "id": "a", field: value}, good]}))
    lines: list[str] = []
    assert list(pipeline.previous_runs(lines.append)) == ["b"]
    [line] = lines
    assert f"run record 1 (a): {why}" in line and "set aside as run_manifest.json.bad-" in line
    assert [r["id"] for r in json.loads(f.read_text())["runs"]] == ["b"]  # what is left, written back
    assert pipeline.previous_runs(lines.append) == {"b": good} and len(lines) == 1  # and read without a warning
