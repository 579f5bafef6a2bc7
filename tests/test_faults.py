"""Fault injection: after each failure of issue 13, the next plain `borgerservice run` ends with outputs
identical to those of a clean run.

A tiny project (two survey rounds, a clean per round that reads its raw export and writes processed
data, a report per pair that reads both and writes a table, a figure and a results JSON) keeps each
pipeline run to a few seconds. Its notebooks import only helpers.core.paths and helpers.core.files.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml

from helpers.core import files, paths
from helpers.data import provenance
from helpers.running import lock, pipeline
from helpers.running.pipeline import keys

pytestmark = pytest.mark.slow

CLEAN = """\
import hashlib, os, pathlib, time
from helpers.core import files, paths
def hold(step):  # while the test's flag file <gate>/<step>_<year> exists, the notebook waits here
    flag = pathlib.Path(os.environ.get("FAULT_GATE", "/nonexistent")) / f"{step}_{year}"
    if flag.exists():
        flag.with_name(flag.name + ".reached").touch()
        while flag.exists():
            time.sleep(0.05)
hold("before")
raw = (paths.raw() / input_path).read_bytes()
line = f"{year} {hashlib.sha256(raw).hexdigest()} {len(raw)}\\n"
files.write_text(paths.processed() / f"clean_{year}{suffix}.parquet", line)
hold("after")
print(f"cleaned {year}: {len(raw)} bytes")
"""
REPORT = """\
import json, os, pathlib, time
from helpers.core import files, paths
if pathlib.Path(os.environ.get("FAULT_HANG", "/nonexistent")).exists():
    time.sleep(300)  # a hanging notebook, while the flag file exists
a = paths.find_processed(f"clean_{year_a}.parquet").read_text()
b = paths.find_processed(f"clean_{year_b}.parquet").read_text()
table = "round,line\\n" + f"{year_a},{a.split()[1]}\\n{year_b},{b.split()[1]}\\n"
files.write_text(paths.tables() / f"report_{year_a}_{year_b}.csv", table)
svg = f"<svg><text>{a.split()[2]} {b.split()[2]}</text></svg>\\n"
files.write_text(paths.figures() / f"report_{year_a}_{year_b}.svg", svg)
files.write_json(paths.results() / f"report_{year_a}_{year_b}.json", {"a": a.split(), "b": b.split()})
print("report written")
"""
ROUNDS = {
    2009: {"input_path": "survey/example_survey_2009.csv", "codebook": "2009"},
    2011: {"input_path": "survey/example_survey_2011.xlsx", "codebook": "2011"},
}
SKIP_NAMES = {pipeline.MANIFEST, pipeline.HASH_CACHE, lock.LOCK_NAME}


def _notebook(path: Path, params: str, source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": paths.KERNEL_NAME, "display_name": "x", "language": "python"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)
    return str(path)


class Project:
    """The tiny project: its config, folders and helpers to run and compare it."""

    def __init__(self, base: Path, raw: Path):
        self.base, self.raw = base, raw
        self.processed, self.reports = base / "processed", base / "reports"
        self.clean = _notebook(
            base / "clean.ipynb", 'year = 2009  # round\ninput_path = "x"  # export\nsuffix = ""  # name tag', CLEAN
        )
        self.report = _notebook(base / "report.ipynb", "year_a = 2009  # first\nyear_b = 2011  # second", REPORT)
        self.hang, self.gate = base / "hang.flag", base / "gate"
        self.write_config()

    def write_config(self, rounds: dict | None = None, timeout: int = 120, clean_params: dict | None = None) -> Path:
        doc = {
            "kernel": paths.KERNEL_NAME,
            "timeout_seconds": timeout,
            "workers": 1,
            "rounds": rounds or ROUNDS,
            "per_round": [
                {
                    "id": "clean_{year}",
                    "notebook": self.clean,
                    "parameters": {"year": "{year}", "input_path": "{input_path}", **(clean_params or {})},
                }
            ],
            "per_pair": [
                {
                    "id": "report_{year_a}_{year_b}",
                    "notebook": self.report,
                    "parameters": {"year_a": "{year_a}", "year_b": "{year_b}"},
                    "needs": ["clean_{year_a}", "clean_{year_b}"],
                }
            ],
        }
        self.config = self.base / "pipeline.yaml"
        self.config.write_text(yaml.safe_dump(doc))
        return self.config

    def env(self) -> dict:
        return {
            **os.environ,
            "BORGERSERVICE_PROCESSED": str(self.processed),
            "BORGERSERVICE_REPORTS": str(self.reports),
            "BORGERSERVICE_RAW": str(self.raw),
            "FAULT_HANG": str(self.hang),
            "FAULT_GATE": str(self.gate),
        }

    def run(self, **kwargs) -> dict[str, str]:
        lines = kwargs.pop("lines", [])
        return {o.id: o.status for o in pipeline.run(self.config, echo=lines.append, **kwargs)}

    def start(self, *args: str) -> subprocess.Popen:
        """`borgerservice run` in its own process (to be killed)."""
        return subprocess.Popen(
            [sys.executable, "-m", "helpers.running.cli", "run", "--config", str(self.config), *args],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def manifest(self) -> dict:
        try:
            return json.loads((self.reports / pipeline.MANIFEST).read_text())
        except (OSError, ValueError):
            return {}

    def status(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.manifest().get("runs", [])}

    def snapshot(self) -> dict[str, object]:
        """Every output, by path: sha256 of the bytes; executed notebooks by their cells (sources and outputs)."""
        out: dict[str, object] = {}
        for root in (self.processed, self.reports):
            for f in sorted(root.rglob("*")):
                rel = f.relative_to(self.base).as_posix()
                if (
                    not f.is_file()
                    or f.name in SKIP_NAMES
                    or f.name.startswith(pipeline.MANIFEST)
                    or "/." in "/" + rel
                    or "/scratch/" in rel
                ):
                    continue
                if f.suffix == ".ipynb":
                    nb = nbformat.read(f, as_version=4)
                    out[rel] = [
                        (c.source, [o.get("text", o.get("evalue", "")) for o in c.get("outputs", [])]) for c in nb.cells
                    ]
                elif f.suffix == ".html":
                    out[rel] = "html"  # rendered from the notebook above; holds timings
                else:
                    out[rel] = files.sha256(f)
        return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One clean run of the tiny project, kept as a copy: (project folder, copy, snapshot of the outputs)."""
    import shutil

    base = tmp_path_factory.mktemp("faults") / "project"
    base.mkdir()
    shutil.copytree(paths.raw(), base / "raw")
    project = Project(base, base / "raw")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in project.env().items():
            if k.startswith(("BORGERSERVICE_", "FAULT_")):
                mp.setenv(k, v)
        assert project.run() == {"clean_2009": "ok", "clean_2011": "ok", "report_2009_2011": "ok"}
        snapshot = project.snapshot()
    copy = base.parent / "pristine"
    shutil.copytree(base, copy, symlinks=True)
    return base, copy, snapshot


@pytest.fixture
def clean_run(pristine, monkeypatch):
    """The project just after a clean run, in the same folder every time (output locations are part of
    the keys): (project, snapshot of its outputs)."""
    import shutil

    base, copy, snapshot = pristine
    shutil.rmtree(base)
    shutil.copytree(copy, base, symlinks=True)
    project = Project.__new__(Project)
    project.base, project.raw = base, base / "raw"
    project.processed, project.reports = base / "processed", base / "reports"
    project.clean, project.report, project.hang, project.gate = (
        str(base / "clean.ipynb"),
        str(base / "report.ipynb"),
        base / "hang.flag",
        base / "gate",
    )
    project.write_config()
    for k, v in project.env().items():
        if k.startswith(("BORGERSERVICE_", "FAULT_")):
            monkeypatch.setenv(k, v)
    assert project.snapshot() == snapshot
    return project, snapshot


def _wait_for(condition, seconds: float = 60.0, what: str = ""):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
        except psutil.NoSuchProcess:
            pass
    return left


# --- a changed byte, deleted or truncated outputs, moved folders, new versions -------------------


def test_one_byte_edit_of_an_export_reruns_that_round_only(clean_run):
    project, clean = clean_run
    export = project.raw / ROUNDS[2009]["input_path"]
    data = bytearray(export.read_bytes())
    data[100] ^= 1  # one byte; the data manifest still records the old sha256
    export.write_bytes(bytes(data))
    assert project.run() == {"clean_2009": "ok", "clean_2011": "skipped", "report_2009_2011": "ok"}
    assert project.snapshot() != clean
    data[100] ^= 1
    export.write_bytes(bytes(data))
    assert project.run() == {"clean_2009": "ok", "clean_2011": "skipped", "report_2009_2011": "ok"}
    assert project.snapshot() == clean


def test_one_byte_edit_of_the_population_file_changes_every_key(clean_run):
    project, clean = clean_run
    cfg = pipeline.load_config(project.config)

    def keys():
        return {i: k for i, (k, _) in pipeline.static_keys(cfg.runs, cfg, pipeline.input_hashes(), "code").items()}

    before = keys()
    population = project.raw / "reference/dst/population_1jan_kommune_2005-2023.csv"
    data = population.read_bytes()
    population.write_bytes(
        data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
    )  # the data manifest still records the old sha256
    after = keys()
    assert all(after[i] != before[i] for i in before)
    population.write_bytes(data)
    assert keys() == before


def test_registering_a_new_export_reruns_nothing(clean_run):
    project, clean = clean_run
    new = project.raw / "survey/example_survey_2020.csv"
    new.write_bytes((project.raw / ROUNDS[2009]["input_path"]).read_bytes())
    provenance.record(new, source="test copy", licence="CC0-1.0", synthetic=True, description="copy", provenance="test")
    assert set(project.run().values()) == {"skipped"}
    assert project.snapshot() == clean


@pytest.mark.parametrize(
    "targets",
    [
        {"processed/clean_2009/clean_2009.parquet": "delete"},
        {"processed/clean_2011/clean_2011.parquet": "truncate", "reports/executed/clean_2011.ipynb": "delete"},
        {
            "reports/tables/report_2009_2011/report_2009_2011.csv": "truncate",
            "reports/figures/report_2009_2011/report_2009_2011.svg": "delete",
            "reports/results/report_2009_2011/report_2009_2011.json": "truncate",
        },
    ],
    ids=["parquet deleted", "parquet truncated, executed deleted", "table, figure, results"],
)
def test_deleted_or_truncated_output_is_rebuilt(clean_run, targets):
    project, clean = clean_run
    for target, how in targets.items():
        f = project.base / target
        if how == "delete":
            f.unlink()
        else:
            f.write_bytes(f.read_bytes()[:5])
    status = project.run()
    owner = next(iter(targets)).split("/")[-2]
    assert status[owner] == "ok"
    assert [s for i, s in status.items() if i != owner] == ["skipped"] * (
        len(status) - 1
    )  # the rebuilt file has the same bytes
    assert project.snapshot() == clean


def test_other_output_folders_rerun_everything(clean_run, monkeypatch, tmp_path):
    project, clean = clean_run
    monkeypatch.setenv("BORGERSERVICE_PROCESSED", str(tmp_path / "elsewhere"))
    assert set(project.run().values()) == {"ok"}
    assert (tmp_path / "elsewhere" / "clean_2009" / "clean_2009.parquet").is_file()
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == [
        ".borgerservice.lock",
        "clean_2009",
        "clean_2011",
    ]


def test_a_package_version_change_reruns_everything(clean_run, monkeypatch):
    project, clean = clean_run
    real = keys.package_version
    monkeypatch.setattr(keys, "package_version", lambda p: "0.0-downgraded" if p == "pandas" else real(p))
    assert set(project.run().values()) == {"ok"}
    assert project.manifest()["packages"]["pandas"] == "0.0-downgraded"
    assert project.snapshot() == clean


# --- work outside the pipeline, other parameter values ------------------------------------------


def test_work_outside_the_pipeline_writes_to_scratch(clean_run):
    project, clean = clean_run
    import papermill as pm

    pm.execute_notebook(
        project.clean,
        str(project.base / "by_hand.ipynb"),
        kernel_name=paths.KERNEL_NAME,
        progress_bar=False,
        parameters={"year": 2009, "input_path": ROUNDS[2011]["input_path"]},
        cwd=str(paths.notebooks()),
    )
    assert (project.processed / "scratch" / "clean_2009.parquet").is_file()
    assert set(project.run().values()) == {"skipped"}
    assert project.snapshot() == clean


def test_outputs_of_an_old_parameter_value_are_removed(clean_run):
    project, clean = clean_run
    project.write_config(clean_params={"suffix": "_v2"})
    lines: list[str] = []
    assert project.run(lines=lines)["clean_2009"] == "ok"
    assert sorted(p.name for p in (project.processed / "clean_2009").iterdir()) == ["clean_2009_v2.parquet"]
    # a round that leaves the config: its outputs are moved aside, with a message
    project.write_config(rounds={2009: ROUNDS[2009], 2010: ROUNDS[2011]})
    project.run(lines=lines)
    assert not (project.processed / "clean_2011").exists()
    assert any("no run in" in line and "processed/clean_2011" in line for line in lines)
    assert list((project.reports / ".stale").glob("*/processed/clean_2011/clean_2011_v2.parquet"))
    project.write_config()
    project.run()
    assert project.snapshot() == clean


# --- killed runs, concurrent runs, locks ---------------------------------------------------------


@pytest.mark.parametrize(
    "sig, point",
    [
        (signal.SIGKILL, "during the first notebook"),
        (signal.SIGKILL, "after one notebook"),
        (signal.SIGTERM, "after one notebook"),
        (signal.SIGINT, "during the first notebook"),
    ],
)
def test_killed_run_is_redone(clean_run, sig, point):
    project, clean = clean_run
    # a changed parameter value makes new outputs; the run is killed; the change is reverted
    project.write_config(clean_params={"input_path": ROUNDS[2011]["input_path"]})
    project.hang.write_text("hang")
    proc = project.start("--force")
    if point == "during the first notebook":
        _wait_for(lambda: "running" in project.status().values(), what="a run to start")
        time.sleep(0.5)
    else:
        _wait_for(lambda: project.status().get("report_2009_2011") == "running", what="the report to start")
    procs = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig != signal.SIGKILL:
        assert proc.returncode == 128 + sig, err
        assert f"stopped by {signal.Signals(sig).name}" in err
        assert "notebook runs succeeded" in out
        assert not _alive(procs), "a worker or kernel outlived the command"
        assert "interrupted" in project.status().values()
    else:
        _wait_for(lambda: not _alive(procs), 15, "kernels to exit after their parent was killed")
    project.hang.unlink()
    project.write_config()
    lines: list[str] = []
    project.run(lines=lines)
    assert project.snapshot() == clean
    assert not list(project.reports.rglob("*.tmp*")) and not list(project.processed.rglob("*.tmp*"))


def test_a_second_run_stops_naming_the_holder_and_a_dead_holder_is_taken_over(clean_run):
    project, clean = clean_run
    project.hang.write_text("hang")
    proc = project.start("--force")
    _wait_for(lambda: project.status().get("report_2009_2011") == "running", what="the first run to reach the report")
    with pytest.raises(lock.LockHeld, match=rf"PID {proc.pid}, started"):
        project.run()
    proc.kill()
    proc.communicate(timeout=30)
    project.hang.unlink()
    lines: list[str] = []
    project.run(lines=lines)
    assert any(f"holder PID {proc.pid}" in line and "no longer running" in line for line in lines)
    assert project.snapshot() == clean


# --- corrupt manifests, failing writes, hanging notebooks ----------------------------------------

BAD_MANIFESTS = [
    "[]",
    "null",
    '{"runs": {"clean_2009": 1}}',
    '{"runs": [{"id": 3, "status": "ok"}]}',
    '{"runs": [{"id": "clean_2009", "status": "ok", "outputs": [1]}]}',
    '{"runs": [{"id": "a", "status": "ok", "key": 5}]}',
    "{not json",
    "\xff\xfe",
]


@pytest.mark.parametrize("content", BAD_MANIFESTS)
def test_each_wrong_manifest_shape_is_set_aside(outputs, content):
    f = paths.reports() / pipeline.MANIFEST
    f.write_text(content, encoding="latin-1")
    lines: list[str] = []
    assert pipeline.previous_runs(lines.append) == {}
    assert not f.exists() and len(lines) == 1 and "set aside as run_manifest.json.bad-" in lines[0]
    assert [g.read_text(encoding="latin-1") for g in paths.reports().glob("run_manifest.json.bad-*")] == [content]


def test_a_manifest_of_the_wrong_shape_is_rebuilt(clean_run):
    project, clean = clean_run
    (project.reports / pipeline.MANIFEST).write_text('{"runs": [{"id": 3, "status": "ok"}]}')
    lines: list[str] = []
    assert set(project.run(lines=lines).values()) == {"ok"}
    assert any("set aside as run_manifest.json.bad-" in line for line in lines)
    assert project.snapshot() == clean
    assert set(project.run().values()) == {"skipped"}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_failing_write_names_the_folder_and_the_cause(clean_run, monkeypatch, code):
    project, clean = clean_run
    real = files.write_text
    writes = []

    def failing(target, text):
        if Path(target).name == pipeline.MANIFEST:
            writes.append(target)
            if len(writes) == 6:  # running and ended for each clean, running for the report: the report's end fails
                raise OSError(code, os.strerror(code), str(target))
        return real(target, text)

    monkeypatch.setattr(files, "write_text", failing)
    with pytest.raises(pipeline.Interrupted) as info:
        project.run(force=True)
    assert f"cannot write in {project.reports}: {os.strerror(code)}" in str(info.value)
    assert {o.id: o.status for o in info.value.outcomes}["clean_2011"] == "ok"
    assert not list(project.reports.rglob("*.tmp"))
    monkeypatch.setattr(files, "write_text", real)
    project.run()
    assert project.snapshot() == clean


def test_a_hanging_notebook_is_stopped_at_the_timeout(clean_run):
    project, clean = clean_run
    project.write_config(timeout=8)
    project.hang.write_text("hang")
    t0 = time.monotonic()
    status = project.run(force=True)
    assert time.monotonic() - t0 < 60
    assert status["report_2009_2011"] == "failed"
    record = next(r for r in project.manifest()["runs"] if r["id"] == "report_2009_2011")
    assert "timed out" in record["error"] and "timeout_seconds = 8 s" in record["error"]
    assert not psutil.Process().children(recursive=True), "the hanging kernel was left running"
    project.hang.unlink()
    project.write_config()
    project.run()
    assert project.snapshot() == clean
