"""Every path the package uses, in one place.

The project root is the folder that holds ``pyproject.toml`` (the package is installed in
editable mode from it). Outputs can be redirected with environment variables, which the
test suite uses so that it never touches the real ``data/processed`` or ``reports``:

* ``BORGERSERVICE_PROCESSED``: folder for processed data (default ``data/processed``)
* ``BORGERSERVICE_REPORTS``: folder for reports (default ``reports``)
* ``BORGERSERVICE_RAW``: folder for raw data (default ``data/raw``); tests point it at a copy
  when they must add files (a Statistics Denmark cache, say), since data/raw is never modified.

Configuration and notebooks always come from the project itself.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL_NAME = "borgerservice"


def root() -> Path:
    """The project root (holds pyproject.toml, data/, config/, notebooks/)."""
    if not (ROOT / "pyproject.toml").is_file():
        raise RuntimeError(
            f"helpers is not installed from a project checkout ({ROOT} has no pyproject.toml); "
            "install it with `pip install -e .` from the project folder (make run does this)."
        )
    return ROOT


def raw() -> Path:
    """Immutable input data (real reference data, synthetic examples, cached API answers)."""
    return Path(os.environ.get("BORGERSERVICE_RAW", root() / "data" / "raw"))


def reference() -> Path:
    return raw() / "reference"


def survey_raw() -> Path:
    return raw() / "survey"


def usage_raw() -> Path:
    return raw() / "usage"


def processed() -> Path:
    return Path(os.environ.get("BORGERSERVICE_PROCESSED", root() / "data" / "processed"))


def reports() -> Path:
    return Path(os.environ.get("BORGERSERVICE_REPORTS", root() / "reports"))


def figures() -> Path:
    return reports() / "figures"


def tables() -> Path:
    return reports() / "tables"


def results() -> Path:
    return reports() / "results"


def executed() -> Path:
    return reports() / "executed"


def config() -> Path:
    return root() / "config"


def codebooks() -> Path:
    return config() / "codebooks"


def codebook(name) -> Path:
    """A survey round's codebook: ``"2011"`` -> config/codebooks/2011.yaml; a path to a .yaml file is taken as it is."""
    text = str(name)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return Path(text)
    return codebooks() / f"{text}.yaml"


def notebooks() -> Path:
    return root() / "notebooks"


def relative(path: Path) -> str:
    """A path as shown to users: relative to the project root when it is inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(root()).as_posix()
    except ValueError:
        return str(path)
