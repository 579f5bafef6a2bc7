"""The papermill pipeline: config checks, execution, failure isolation and the run manifest."""

import json

import nbformat
import pytest

from helpers.core import files, paths
from helpers.running import cli, pipeline
from helpers.running.pipeline import execution, schedule


@pytest.mark.parametrize(
    "runs,message",
    [
        (
            [{"id": "a", "notebook": "00_reference.ipynb"}, {"id": "a", "notebook": "00_reference.ipynb"}],
            "duplicate run ids",
        ),
        ([{"id": "a", "notebook": "nope.ipynb"}], "not found"),
        ([{"id": "a", "notebook": "00_reference.ipynb", "needs": ["b"]}], "unknown runs"),
        (
            [
                {"id": "a", "notebook": "00_reference.ipynb", "needs": ["b"]},
                {"id": "b", "notebook": "00_reference.ipynb", "needs": ["a"]},
            ],
            "cycle",
        ),
        ([{"notebook": "00_reference.ipynb"}], "lacks"),
    ],
)
def test_bad_config_is_named(write_config, runs, message):
    with pytest.raises(pipeline.ConfigError, match=message):
        pipeline.load_config(write_config({"runs": runs}))


def test_select_pulls_in_what_is_needed():
    runs = [pipeline.Run("a", "x"), pipeline.Run("b", "x", needs=["a"]), pipeline.Run("c", "x")]
    assert [r.id for r in pipeline.select(runs, ["b"])] == ["a", "b"]
    with pytest.raises(pipeline.ConfigError, match="no run matches"):
        pipeline.select(runs, ["zzz"])


@pytest.mark.slow
def test_reference_notebook_runs_end_to_end(outputs):
    outcomes = pipeline.run(paths.config() / "pipeline.yaml", only=["00_reference"], echo=lambda *_: None)
    assert [o.status for o in outcomes] == ["ok"]
    reports = outputs / "reports"
    assert (reports / "executed" / "00_reference.ipynb").is_file()
    assert (
        "98 kommuner, " in (reports / "executed" / "00_reference.html").read_text()
    )  # an output of the executed notebook
    assert (reports / "figures" / "00_reference" / "reference_density_2011_en.png").stat().st_size > 10_000
    results = json.loads((reports / "results" / "00_reference" / "00_reference.json").read_text())
    assert results["synthetic"] is False
    assert results["results"]["population_national_dst"] == 5_560_628
    manifest = json.loads((reports / "run_manifest.json").read_text())
    # the config's `defaults` (languages) reach every notebook that declares them
    assert manifest["runs"][0]["id"] == "00_reference" and manifest["runs"][0]["parameters"] == {
        "year": 2011,
        "languages": ["en", "da"],
    }
    assert manifest["runs"][0]["effective_parameters"] == {"year": 2011, "languages": ["en", "da"]}
    outputs = manifest["runs"][0]["outputs"]
    assert outputs["reports/figures/00_reference/reference_density_2011_en.png"] == files.sha256(
        reports / "figures" / "00_reference" / "reference_density_2011_en.png"
    )
    assert "reports/executed/00_reference.ipynb" in outputs
    assert len(manifest["git"]["commit"]) == 40
    assert manifest["packages"]["papermill"]
    geo = "reference/geo/kommuner.geojson"
    assert manifest["inputs"][geo] == files.sha256(paths.raw() / geo)
    assert manifest["runs"][0]["reads"][f"raw:{geo}"] == files.sha256(paths.raw() / geo)


@pytest.mark.slow
def test_failure_is_saved_visible_and_blocks_dependents(make_notebook, write_config, outputs, capsys):
    bad = make_notebook("bad.ipynb", "raise ValueError('deliberate failure 42')")
    good = make_notebook("good.ipynb", "print('fine')")
    cfg = write_config(
        {
            "runs": [
                {"id": "bad", "notebook": bad},
                {"id": "after_bad", "notebook": good, "needs": ["bad"]},
                {"id": "independent", "notebook": good},
            ]
        }
    )
    code = cli.main(["run", "--config", str(cfg)])
    assert code == 1
    out = capsys.readouterr().out
    assert "FAILED: bad" in out and "deliberate failure 42" in out
    assert "BLOCKED: after_bad" in out
    executed = outputs / "reports" / "executed"
    saved = nbformat.read(executed / "bad.ipynb", as_version=4)
    errors = [o for c in saved.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0]["evalue"] == "deliberate failure 42"
    assert (executed / "bad.html").is_file()
    assert (executed / "independent.ipynb").is_file()
    assert not (executed / "after_bad.ipynb").exists()
    manifest = json.loads((outputs / "reports" / "run_manifest.json").read_text())
    assert {r["id"]: r["status"] for r in manifest["runs"]} == {
        "bad": "failed",
        "after_bad": "blocked",
        "independent": "ok",
    }


@pytest.mark.slow
def test_parallel_kernels_start_over_ipc_without_warnings(make_notebook, write_config, outputs):
    import os
    import subprocess
    import sys

    probe = (
        "import json\nfrom ipykernel.connect import get_connection_info\n"
        "print('transport', json.loads(get_connection_info())['transport'])"
    )
    runs = [{"id": f"k{i}", "notebook": make_notebook(f"k{i}.ipynb", probe)} for i in range(3)]
    cfg = write_config({"runs": runs, "workers": 2})
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.running.cli", "run", "--config", str(cfg)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for noise in ("without encryption", "KeyboardInterrupt", "Address already in use", "ZMQError"):
        assert noise not in proc.stdout + proc.stderr
    for i in range(3):
        assert "transport ipc" in (outputs / "reports" / "executed" / f"k{i}.ipynb").read_text()


def test_lab_saves_notebooks_without_outputs(tmp_path):
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("jupyter_lab_config.py", path=str(paths.config())).load_config()
    manager = FileContentsManager(root_dir=str(tmp_path), config=config)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        "year = 2014  # edited default", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="hello")]
    )
    cell.metadata["tags"] = ["parameters"]
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    nb.cells = [cell]
    manager.save({"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(nb))}, "x.ipynb")
    saved = nbformat.read(tmp_path / "x.ipynb", as_version=4)
    assert saved.cells[0].outputs == [] and saved.cells[0].execution_count is None
    assert saved.cells[0].source == "year = 2014  # edited default" and saved.cells[0].metadata == {
        "tags": ["parameters"]
    }


def test_pipeline_warns_when_a_source_notebook_differs_from_git(tmp_path, monkeypatch, make_notebook):
    import subprocess

    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "notebooks" / "n.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))

    def git(*a):
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=repo, check=True, capture_output=True
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "x")
    monkeypatch.setattr(paths, "root", lambda: repo)
    run = pipeline.Run("n", "n.ipynb")
    lines: list[str] = []
    assert schedule.warn_changed_notebooks([run], lines.append) == [] and lines == []
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 2", outputs=[nbformat.v4.new_output("stream", text="saved by JupyterLab")])
    ]
    (repo / "notebooks" / "n.ipynb").write_text(nbformat.writes(nb))
    assert schedule.warn_changed_notebooks([run], lines.append) == ["notebooks/n.ipynb"]
    assert (
        "notebooks/n.ipynb differs from the committed version" in lines[0]
        and "git checkout notebooks/n.ipynb" in lines[0]
    )


def _counting_writes(monkeypatch):
    """Count the writes of an executed notebook: the runner's (helpers.core.files) and papermill's, if any."""
    import papermill.engines
    import papermill.execute

    execution.import_papermill()
    writes = []
    real_text = files.write_text
    monkeypatch.setattr(
        files,
        "write_text",
        lambda target, text: (
            writes.append(target) if str(target).endswith(".ipynb") else None,
            real_text(target, text),
        )[1],
    )
    for module in (papermill.engines, papermill.execute):
        real = module.write_ipynb
        monkeypatch.setattr(
            module,
            "write_ipynb",
            lambda nb, path, _real=real, **kw: ((writes.append(path) if path else None), _real(nb, path, **kw))[1],
        )
    return writes


def _printed(executed) -> list[str]:
    """What the code cells of a saved, executed notebook printed to stdout, one entry an output."""
    saved = nbformat.read(executed, as_version=4)
    return [
        o["text"]
        for c in saved.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    ]


def _code_notebook(make_notebook, name: str, cells: list[str]) -> str:
    path = make_notebook(name, cells[0])
    nb = nbformat.read(path, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells[1:]]
    nbformat.write(nb, path)
    return path


def test_executed_notebook_is_written_when_it_ends_not_at_every_cell(make_notebook, outputs, monkeypatch):
    """papermill rewrote the whole notebook when it started and when each cell started and ended (2n+2
    writes); into the pipeline's hidden temporary file, so nobody saw them. Now: when it ends."""
    writes = _counting_writes(monkeypatch)
    path = _code_notebook(make_notebook, "cells.ipynb", [f"print('cell {i}')" for i in range(8)])
    outcome = pipeline.execute(pipeline.Run("cells", path), paths.KERNEL_NAME, timeout=120)
    assert outcome.status == "ok"
    assert 1 <= len(writes) <= 3, len(writes)  # the manager's final save and papermill's own final write (was 20)
    printed = _printed(outputs / "reports" / "executed" / "cells.ipynb")
    assert printed == [f"cell {i}\n" for i in range(8)]


def test_a_notebook_whose_kernel_dies_is_saved_with_what_ran(make_notebook, outputs, monkeypatch):
    writes = _counting_writes(monkeypatch)
    path = _code_notebook(
        make_notebook, "dies.ipynb", ["print('before the crash')", "import os; os._exit(3)", "print('never')"]
    )
    outcome = pipeline.execute(pipeline.Run("dies", path), paths.KERNEL_NAME, timeout=120)
    assert outcome.status == "failed" and ("dead" in outcome.error.lower() or "died" in outcome.error.lower()), (
        outcome.error
    )
    assert writes
    printed = _printed(outputs / "reports" / "executed" / "dies.ipynb")
    assert printed == ["before the crash\n"]


def test_html_exporter_is_reused_and_gives_the_same_page(make_notebook, outputs):
    path = _code_notebook(make_notebook, "html.ipynb", ["print('x')"])
    pipeline.execute(pipeline.Run("html", path), paths.KERNEL_NAME, timeout=120)
    executed = outputs / "reports" / "executed" / "html.ipynb"
    from nbconvert import HTMLExporter

    fresh, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    assert execution.html_exporter() is execution.html_exporter()
    assert execution.export_html(executed).read_text(encoding="utf-8") == fresh


def test_a_notebook_reads_the_rounds_of_the_config_it_was_run_with(make_notebook, write_config, outputs):
    """05_export_data exports "every round": those of the config given to `borgerservice run --config`, not the
    project's config/pipeline.yaml (a config with fewer rounds made it fail, asking for rounds never cleaned)."""
    nb = make_notebook("rounds.ipynb", "from helpers.running import pipeline\nprint(sorted(pipeline.load_rounds()))")
    project_rounds = sorted(pipeline.load_rounds())
    assert len(project_rounds) >= 3
    cfg = write_config(
        {"runs": [{"id": "rounds", "notebook": nb}]},
        rounds={2011: {"input_path": "survey/example_survey_2011.xlsx", "codebook": "2011"}},
    )
    assert cli.main(["run", "--config", str(cfg), "--workers", "1"]) == 0
    printed = _printed(outputs / "reports" / "executed" / "rounds.ipynb")
    assert printed == ["[2011]\n"]
    assert sorted(pipeline.load_rounds()) == project_rounds  # outside a run: the project's config, as before
