"""pyproject.toml is the source of truth; environment.yml must name the same packages."""

import re
import tomllib

import yaml

from helpers import paths


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((paths.root() / "pyproject.toml").read_text())["project"]
    wanted = {_name(d): d.replace(" ", "") for d in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((paths.root() / "environment.yml").read_text())
    conda = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str) and _name(d) not in {"python", "pip"}}
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
