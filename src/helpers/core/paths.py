"""Every path the package uses, in one place.

The project root is the folder that holds ``pyproject.toml`` (the package is installed in
editable mode from it). Outputs can be redirected with environment variables, which the
test suite uses so that it never touches the real ``data/processed`` or ``reports``:

* ``BORGERSERVICE_PROCESSED``: folder for processed data (default ``data/processed``)
* ``BORGERSERVICE_REPORTS``: folder for reports (default ``reports``)
* ``BORGERSERVICE_RAW``: folder for raw data (default ``data/raw``); tests point it at a copy
  when they must add files (a Statistics Denmark cache, say), since data/raw is never modified.

Configuration and notebooks always come from the project itself.

**Run-owned outputs.** Every output a notebook writes belongs to one *run*: figures, tables,
results and processed data go to a folder named by the run id,

* ``data/processed/<run id>/``  (``processed()``)
* ``reports/figures/<run id>/``, ``reports/tables/<run id>/``, ``reports/results/<run id>/``
  (``figures()``, ``tables()``, ``results()``)
* ``reports/executed/<run id>.ipynb`` and ``.html`` (written by the pipeline itself)

``borgerservice run`` sets the run id (``BORGERSERVICE_RUN_ID``, the id in config/pipeline.yaml)
for each notebook it executes, and ``BORGERSERVICE_READS``: the ids of the runs whose processed
data the notebook may read (what it ``needs``, transitively), and ``BORGERSERVICE_CONFIG``: the pipeline
config it runs under (``pipeline_config()``; its rounds are the rounds a notebook exports). Work outside the pipeline
(JupyterLab,
a plain ``papermill`` call, ``borgerservice clean``, a test) has no run id and writes to the run
id ``scratch`` (``data/processed/scratch/``, ``reports/figures/scratch/``, ...), so it can never
replace what a pipeline run made. Set ``BORGERSERVICE_RUN_ID`` yourself to name such work.

Reading processed data goes through ``find_processed(name)``: the run's own folder first, then
the folders of the runs it reads (in the pipeline), or, outside the pipeline, ``scratch`` and then
the pipeline's run folders (the newest file of that name). A new notebook therefore writes with
``paths.processed() / "x.parquet"`` (or helpers.core.files), reads another run's output with
``paths.find_processed("x.parquet")``, and lists the runs it reads under ``needs:`` in
config/pipeline.yaml. Its figures, tables and results go through helpers.outputs.reports, which uses
``figures()``, ``tables()`` and ``results()``. Nothing else is needed to follow the convention.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
KERNEL_NAME = "borgerservice"
RUN_ID_ENV = "BORGERSERVICE_RUN_ID"
READS_ENV = "BORGERSERVICE_READS"  # comma-separated run ids whose processed outputs a run reads
CONFIG_ENV = "BORGERSERVICE_CONFIG"  # the pipeline config of the run (``borgerservice run --config``)
SCRATCH = "scratch"  # the run id of work done outside the pipeline


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


def run_id() -> str:
    """The id of the run this process works for: set by the pipeline, else ``scratch``."""
    return os.environ.get(RUN_ID_ENV, "").strip() or SCRATCH


def reads() -> list[str]:
    """Run ids whose processed outputs this run reads (set by the pipeline from ``needs``); empty outside it."""
    return [r for r in os.environ.get(READS_ENV, "").split(",") if r.strip()]


def in_pipeline() -> bool:
    return bool(os.environ.get(RUN_ID_ENV, "").strip())


def processed_root() -> Path:
    """The processed-data folder (``data/processed``); each run writes in its own subfolder."""
    return Path(os.environ.get("BORGERSERVICE_PROCESSED", root() / "data" / "processed"))


def processed(run: str | None = None) -> Path:
    """Where this run (or ``run``) writes processed data: ``data/processed/<run id>/`` (created)."""
    folder = processed_root() / (run or run_id())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def find_processed(name: str) -> Path:
    """A processed file made by this run or by a run it reads; see the module docstring for the order.

    Returns the path in this run's own folder when no run has it, so that an error names where it
    was expected.
    """
    own = processed_root() / run_id() / name
    if own.is_file():
        return own
    if in_pipeline():
        for run in reads():
            f = processed_root() / run / name
            if f.is_file():
                return f
        return own
    found = [f for f in processed_root().glob(f"*/{name}") if f.is_file() and not f.parent.name.startswith(".")]
    if found:
        return max(found, key=lambda f: f.stat().st_mtime_ns)
    return own


def reports() -> Path:
    """The reports folder (``reports``): executed notebooks, the run manifest, and per-run outputs."""
    return Path(os.environ.get("BORGERSERVICE_REPORTS", root() / "reports"))


def figures(run: str | None = None) -> Path:
    """``reports/figures/<run id>/``."""
    return reports() / "figures" / (run or run_id())


def tables(run: str | None = None) -> Path:
    """``reports/tables/<run id>/``."""
    return reports() / "tables" / (run or run_id())


def results(run: str | None = None) -> Path:
    """``reports/results/<run id>/``."""
    return reports() / "results" / (run or run_id())


def executed() -> Path:
    return reports() / "executed"


def config() -> Path:
    return root() / "config"


def pipeline_config() -> Path:
    """The pipeline config in force: the one ``borgerservice run`` was given (it sets ``BORGERSERVICE_CONFIG``
    for each notebook it runs), else ``config/pipeline.yaml``. A notebook that reads the rounds (05_export_data)
    then exports the rounds of the config that ran it, not those of the project's default config."""
    given = os.environ.get(CONFIG_ENV)
    return Path(given) if given else config() / "pipeline.yaml"


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
