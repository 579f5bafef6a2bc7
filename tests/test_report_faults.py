"""Fault suite of the report (issue 27, findings 2, 3 and 6), each test written from the finding's description:

2. The report shows only what a successful run vouches for: a failed run's figures and tables, a blocked run's
   earlier outputs, scratch work and a file changed after its run are not shown as results (they are listed as
   not current, with the reason); blocked runs stay in the index, marked; exports come from the run that recorded
   them.
3. A failed or killed PDF step never leaves the previous report.pdf beside a new site unmarked: it is renamed as
   stale, the command says so and exits non-zero (zero with --no-pdf); a report killed while printing leaves the
   earlier site and PDF together.
6. Temporary folders of killed reports are removed by the next report and by the next run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from site_fixture import build_reports

from helpers.core import files, paths
from helpers.outputs import reports, site
from helpers.running import cli, pipeline

# The names of helpers.outputs.publish, written out so that this file also runs against code without it (each test
# must fail there): the temporary folders of a report, those earlier versions left, and the book PDF.
PREFIX, LEGACY, BOOK_PDF = ".report-", ".site-", "report.pdf"
RUN = "01_clean_survey_2011"
FIGURE = f"figures/{RUN}/survey_2011_models_synthetic_en.png"
TABLE = f"tables/{RUN}/survey_2011_models_synthetic.csv"


def _manifest(root: Path) -> dict:
    return json.loads((root / "run_manifest.json").read_text(encoding="utf-8"))


def _edit_run(root: Path, run_id: str, **changes) -> None:
    manifest = _manifest(root)
    for r in manifest["runs"]:
        if r["id"] == run_id:
            r.update(changes)
    (root / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _shown(built: Path) -> tuple[str, str, str]:
    return tuple((built / p).read_text(encoding="utf-8") for p in ("index.html", "gallery.html", "tables.html"))


# --- finding 2: only what a successful run vouches for -------------------------------------------------------------


def test_a_failed_runs_figures_and_tables_are_not_shown_as_results(outputs):
    root = paths.reports()
    build_reports(root)
    _edit_run(root, RUN, status="failed", error="NameError: name 'x' is not defined")  # outputs stay recorded
    index, gallery, tables = _shown(site.build())
    assert f'src="{FIGURE}"' not in gallery and f'href="{TABLE}"' not in tables
    assert "Not current" in gallery and f"reports/{FIGURE}" in gallery and "failed: NameError" in gallery
    assert f"reports/{TABLE}" in tables and "Not current" in tables
    assert "54 of the 86 that answered" not in index  # its results in brief are not presented as results
    assert f"{RUN}</a>" in index and "(failed: NameError" in index  # the run stays in the index, marked


def test_a_blocked_run_stays_in_the_index_marked_and_its_earlier_outputs_are_not_current(outputs):
    root = paths.reports()
    build_reports(root)
    # as the pipeline records a blocked run: no executed notebook, no outputs; its folders keep the earlier files
    _edit_run(root, RUN, status="blocked", executed="", outputs={}, error="not run: 00_reference did not succeed")
    index, gallery, tables = _shown(site.build())
    assert RUN in index and "(blocked: not run: 00_reference did not succeed)" in index
    assert f'src="{FIGURE}"' not in gallery and f'href="{TABLE}"' not in tables
    assert f"reports/{FIGURE}" in gallery and "left from an earlier run: run 01_clean_survey_2011 blocked" in gallery
    assert not (site.paths.reports() / "site" / FIGURE).exists()  # not copied into the site either


def test_scratch_work_is_not_shown_beside_the_pipelines_figures(outputs, monkeypatch):
    root = paths.reports()
    build_reports(root)
    monkeypatch.delenv(paths.RUN_ID_ENV, raising=False)  # outside the pipeline: run id scratch
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2], [3, 4])
    reports.save_figure(fig, "my_experiment", synthetic=False)
    plt.close(fig)
    _, gallery, _ = _shown(site.build())
    assert 'src="figures/scratch/' not in gallery and "survey_2011_models_synthetic" in gallery
    assert "reports/figures/scratch/my_experiment" in gallery and "scratch: made outside the pipeline" in gallery


def test_a_figure_changed_after_its_run_recorded_it_is_not_current(outputs):
    root = paths.reports()
    build_reports(root)
    png = root / FIGURE
    png.write_bytes(png.read_bytes() + b"edited")  # same name, other bytes than the run recorded
    _, gallery, _ = _shown(site.build())
    assert f'src="{FIGURE}"' not in gallery and "changed after run 01_clean_survey_2011 recorded it" in gallery


def test_exports_come_from_the_run_that_recorded_them(outputs):
    root = paths.reports()
    manifest = build_reports(root)
    folder = paths.processed_root() / "05_export_data" / "exports"
    folder.mkdir(parents=True)
    (folder / "analysis_synthetic.dta").write_bytes(b"stata bytes")
    record = {
        "id": "05_export_data",
        "notebook": "05_export_data.ipynb",
        "parameters": {},
        "status": "ok",
        "executed": "",
        "outputs": pipeline.collect_outputs("05_export_data", files.HashCache()),
    }
    manifest["runs"].append(record)
    (root / "run_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    tables = (site.build() / "tables.html").read_text(encoding="utf-8")
    assert 'href="exports/05_export_data/analysis_synthetic.dta"' in tables
    assert (root / "site" / "exports" / "05_export_data" / "analysis_synthetic.dta").read_bytes() == b"stata bytes"
    _edit_run(root, "05_export_data", status="blocked", outputs={}, error="not run: 01_usage_panel did not succeed")
    tables = (site.build() / "tables.html").read_text(encoding="utf-8")
    assert "analysis_synthetic.dta" not in tables  # the earlier exports of a blocked run are not offered


# --- finding 3: site and PDF published together ---------------------------------------------------------------


@pytest.fixture
def earlier_report(outputs):
    """A reports folder with a run, and an earlier report: a site with a marker file and its PDF."""
    root = paths.reports()
    build_reports(root)
    (root / "site").mkdir()
    (root / "site" / "earlier.txt").write_text("the earlier site")
    (root / BOOK_PDF).write_bytes(b"%PDF-1.4 the earlier book")
    return root


def test_without_chromium_the_earlier_pdf_is_renamed_stale_and_report_fails(earlier_report, monkeypatch, capsys):
    monkeypatch.setattr(site, "CHROMIUM", earlier_report / "no-chromium")
    code = cli.main(["report"])
    out, err = capsys.readouterr()
    assert code != 0 and "the PDF could not be made" in err and "no-chromium not found" in err
    assert not (earlier_report / BOOK_PDF).exists()  # nothing presents the old PDF as the new site's
    assert (earlier_report / "report.stale.pdf").read_bytes() == b"%PDF-1.4 the earlier book"
    assert "renamed" in out and "report.stale.pdf" in out
    assert (earlier_report / "site" / "index.html").is_file() and not (earlier_report / "site" / "earlier.txt").exists()


def test_no_pdf_marks_the_earlier_pdf_stale_and_succeeds(earlier_report, capsys):
    assert cli.main(["report", "--no-pdf"]) == 0
    out, _ = capsys.readouterr()
    assert not (earlier_report / BOOK_PDF).exists() and (earlier_report / "report.stale.pdf").is_file()
    assert "report.stale.pdf" in out


def test_a_report_stopped_while_printing_leaves_the_earlier_site_and_pdf_together(earlier_report, monkeypatch):
    def stopped(self, *args, **kwargs):
        raise KeyboardInterrupt  # what SIGINT raises in the middle of printing

    monkeypatch.setattr(site.Browser, "__enter__", stopped)
    with pytest.raises(KeyboardInterrupt):
        site.report()
    assert (earlier_report / "site" / "earlier.txt").read_text() == "the earlier site"
    assert (earlier_report / BOOK_PDF).read_bytes() == b"%PDF-1.4 the earlier book"
    assert not [p for p in earlier_report.iterdir() if p.name.startswith(".report-")]


# --- finding 6: temporaries of killed reports ------------------------------------------------------------------


def _temporaries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((PREFIX, LEGACY)))


def test_a_killed_report_leaves_a_temporary_that_the_next_report_removes(outputs):
    root = paths.reports()
    build_reports(root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.running.cli", "report", "--no-pdf"],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _temporaries(root) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _temporaries(root)
    assert left, "the report finished before it could be killed"
    (root / ".site-abc123").mkdir()  # what earlier versions left
    (root / ".site-abc123" / "index.html").write_text("half a site")
    assert cli.main(["report", "--no-pdf"]) == 0
    assert _temporaries(root) == []


def test_the_next_run_removes_temporaries_of_killed_reports_but_not_a_live_ones(outputs, write_config, capsys):
    root = paths.reports()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (root / f"{PREFIX}{dead.pid}-x1").mkdir()
    (root / f"{PREFIX}{dead.pid}-x1" / "report.pdf").write_bytes(b"half")
    (root / f"{LEGACY}old").mkdir()
    live = root / f"{PREFIX}{os.getpid()}-live"
    live.mkdir()  # a report building right now (this process)
    cfg = pipeline.load_config(write_config({"runs": []}))
    removed = []
    pipeline.sweep_stale(cfg, echo=removed.append)
    assert _temporaries(root) == [live.name]
    assert any(f"{PREFIX}{dead.pid}-x1" in line and "did not finish" in line for line in removed)
