"""Source notebooks: output-free, one parameters cell of plain literals, our kernel, thin cells."""

import ast

import nbformat
import pytest
import yaml

from helpers.core import paths

NOTEBOOKS = sorted(paths.notebooks().glob("*.ipynb"))
MAX_CELL_LINES = 40  # longer than a screen: it belongs in a helper
# Code lines (non-blank, non-comment lines of code cells) a notebook may hold: logic lives in helpers (issue 21).
MAX_CODE_LINES = {
    # tables and figures are saved through reports.outputs (one line each: out.table, out.plot), the event-study
    # figure is plots.adoption_event_study, 04's section 9 one adoption.robustness
    "02_compare_rounds.ipynb": 70,
    "03_model_usage.ipynb": 70,
    "04_adoption_panel.ipynb": 70,  # its parameters cell (21 lines, every parameter with its comment) included
}


def test_there_are_notebooks():
    assert any(nb.name == "00_reference.ipynb" for nb in NOTEBOOKS)


@pytest.mark.parametrize("name", sorted(MAX_CODE_LINES))
def test_notebook_stays_within_its_code_lines(name):
    lines = code_lines(paths.notebooks() / name)
    assert lines <= MAX_CODE_LINES[name], f"{name}: {lines} code lines, limit {MAX_CODE_LINES[name]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == paths.KERNEL_NAME
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        assert c.outputs == [], f"{path.name}: committed outputs"
        assert c.execution_count is None
        assert len(c.source.splitlines()) <= MAX_CELL_LINES, f"{path.name}: a cell longer than a screen"
        assert "../" not in c.source, f"{path.name}: relative path literal; use helpers.core.paths"
        assert "sys.path" not in c.source
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, f"{path.name}: exactly one parameters cell"
    tree = ast.parse(params[0].source)
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign), f"{path.name}: parameters cell holds only assignments"
        assert isinstance(stmt.value, (ast.Constant, ast.List, ast.Tuple, ast.Dict)), ast.unparse(stmt)
        ast.literal_eval(stmt.value)
    for line in params[0].source.splitlines():
        if "=" in line:
            assert "#" in line, f"{path.name}: parameter without a comment: {line}"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "a title first"


def code_lines(path) -> int:
    """Non-blank lines of a notebook's code cells that are not comments."""
    nb = nbformat.read(path, as_version=4)
    lines = (line.strip() for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))


@pytest.mark.parametrize("name", sorted(MAX_CODE_LINES))
def test_notebook_stays_within_its_code_line_limit(name):
    path = paths.notebooks() / name
    assert path.is_file(), f"{name}: no such notebook"
    assert code_lines(path) <= MAX_CODE_LINES[name], (
        f"{name}: {code_lines(path)} code lines, limit {MAX_CODE_LINES[name]}"
    )


def test_pipeline_runs_only_known_notebooks_with_declared_parameters():
    cfg = yaml.safe_load((paths.config() / "pipeline.yaml").read_text())
    for run in cfg["runs"]:
        nb = nbformat.read(paths.notebooks() / run["notebook"], as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        declared = {t.id for s in ast.parse(params.source).body for t in s.targets}
        unknown = set(run.get("parameters") or {}) - declared
        assert not unknown, f"{run['id']}: parameters {unknown} not declared in {run['notebook']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_explains_itself(path):
    """The first markdown cell says what the notebook asks, reads (and whether it is synthetic) and writes."""
    nb = nbformat.read(path, as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert markdown, f"{path.name}: no markdown cell"
    intro = markdown[0]
    title = intro.splitlines()[0]
    assert title.startswith("# ") and len(title) > 4, f"{path.name}: the first markdown cell starts with a '# ' title"
    assert "Question" in intro, f"{path.name}: the introduction states the question ('Question')"
    assert "Inputs" in intro, f"{path.name}: the introduction names the inputs ('Inputs')"
    lowered = intro.lower()
    assert "synthetic" in lowered or "real" in lowered, (
        f"{path.name}: the introduction says whether the inputs are synthetic or real"
    )
    assert "Outputs" in intro, f"{path.name}: the introduction names the outputs ('Outputs')"
    steps = [line for text in markdown for line in text.splitlines() if line.startswith("## ")]
    assert len(steps) >= 3, f"{path.name}: at least 3 step headings ('## '), found {len(steps)}"
