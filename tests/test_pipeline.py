"""The papermill pipeline: config checks, execution, failure isolation and the run manifest."""

import json

import nbformat
import pytest

from helpers import cli, files, paths, pipeline


@pytest.mark.parametrize(
    "runs,message",
    [
        ([{"id": "a", "notebook": "00_reference.ipynb"}, {"id": "a", "notebook": "00_reference.ipynb"}], "duplicate run ids"),
        ([{"id": "a", "notebook": "nope.ipynb"}], "not found"),
        ([{"id": "a", "notebook": "00_reference.ipynb", "needs": ["b"]}], "unknown runs"),
        ([{"id": "a", "notebook": "00_reference.ipynb", "needs": ["b"]}, {"id": "b", "notebook": "00_reference.ipynb", "needs": ["a"]}], "cycle"),
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
    assert "Inhabitants per km" in (reports / "executed" / "00_reference.html").read_text()
    assert (reports / "figures" / "00_reference" / "reference_density_2011.png").stat().st_size > 10_000
    results = json.loads((reports / "results" / "00_reference" / "00_reference.json").read_text())
    assert results["synthetic"] is False
    assert results["results"]["population_national_dst"] == 5_560_628
    manifest = json.loads((reports / "run_manifest.json").read_text())
    assert manifest["runs"][0]["id"] == "00_reference" and manifest["runs"][0]["parameters"] == {"year": 2011}
    assert manifest["runs"][0]["effective_parameters"] == {"year": 2011}
    outputs = manifest["runs"][0]["outputs"]
    assert outputs["reports/figures/00_reference/reference_density_2011.png"] == files.sha256(reports / "figures" / "00_reference" / "reference_density_2011.png")
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
    cfg = write_config({"runs": [
        {"id": "bad", "notebook": bad},
        {"id": "after_bad", "notebook": good, "needs": ["bad"]},
        {"id": "independent", "notebook": good},
    ]})
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
    assert {r["id"]: r["status"] for r in manifest["runs"]} == {"bad": "failed", "after_bad": "blocked", "independent": "ok"}
