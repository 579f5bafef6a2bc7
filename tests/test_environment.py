"""pyproject.toml is the source of truth; environment.yml must name the same packages."""

import re
import tomllib

import yaml

from helpers.core import paths


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((paths.root() / "pyproject.toml").read_text())["project"]
    wanted = {_name(d): d.replace(" ", "") for d in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((paths.root() / "environment.yml").read_text())
    conda = {
        _name(d): d.replace(" ", "")
        for d in env["dependencies"]
        if isinstance(d, str) and _name(d) not in {"python", "pip"}
    }
    pip = next((d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d), [])
    conda |= {_name(d): d.split("#")[0].replace(" ", "") for d in pip if not d.startswith("-")}  # PyPI-only packages
    assert conda == wanted


def test_makefile_registers_the_kernel_named_in_the_pipeline():
    makefile = (paths.root() / "Makefile").read_text()
    pipeline = yaml.safe_load((paths.config() / "pipeline.yaml").read_text())
    assert f"KERNEL := {pipeline['kernel']}" in makefile
    assert pipeline["kernel"] == paths.KERNEL_NAME


def test_ci_calls_the_readme_test_command():
    assert "make test" in (paths.root() / ".ci" / "run").read_text()
    assert "make test" in (paths.root() / "README.md").read_text()


def test_make_test_runs_the_linter_and_formatter_first():
    """`make test` fails on a lint or format error: ruff runs before pytest, with the project's config."""
    recipe = (paths.root() / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip() for line in recipe.splitlines()[1:]]
    assert steps[:2] == ["$(BIN)/ruff check .", "$(BIN)/ruff format --check ."]
    assert steps[2].startswith("$(BIN)/python -m pytest ") and " -n auto " in f"{steps[2]} "  # on every core
    ruff = tomllib.loads((paths.root() / "pyproject.toml").read_text())["tool"]["ruff"]
    assert ruff["line-length"] <= 120
    assert {"E", "F", "W", "B", "I", "UP"} <= set(ruff["lint"]["select"])


def test_ruff_rejects_a_lint_and_a_format_error(tmp_path):
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff", path=str(paths.root() / ".venv" / "bin")) or shutil.which("ruff")
    if ruff is None:  # installed with the test extras: a missing ruff is a broken environment, not a skip
        ruff = str(__import__("pathlib").Path(sys.executable).with_name("ruff"))
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx=1\n")  # F401 unused import; 'x=1' is not formatted
    config = ["--config", str(paths.root() / "pyproject.toml")]
    assert subprocess.run([ruff, "check", *config, str(bad)], capture_output=True).returncode != 0
    assert subprocess.run([ruff, "format", "--check", *config, str(bad)], capture_output=True).returncode != 0
    clean = subprocess.run([ruff, "check", "."], cwd=paths.root(), capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout[-2000:]
