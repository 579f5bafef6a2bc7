"""JupyterLab's save hook for `make lab`: source notebooks are saved without outputs.

The source notebooks are inputs of the pipeline (their bytes are part of each run's key, and their
``parameters`` cell gives the defaults), and they are committed output-free. JupyterLab autosaves
the notebook it opened, outputs included, so `make lab` starts it with
``config/jupyter_lab_config.py``, which installs ``strip_outputs`` as the contents manager's
pre-save hook: every notebook saved from that session keeps its code, text and cell tags, and
loses outputs, execution counts and execution metadata. Edited code (a changed default in the
parameters cell, say) is still saved, as it should be; the pipeline warns when a source notebook
differs from the committed one (``pipeline.schedule.warn_changed_notebooks``).
"""

from __future__ import annotations

EXECUTION_METADATA = ("execution", "papermill", "ExecuteTime", "collapsed", "scrolled")


def strip_outputs(model: dict, path: str = "", contents_manager=None, **kwargs) -> None:
    """A Jupyter ``pre_save_hook``: clear outputs and execution counts of a notebook model in place."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    for cell in nb.get("cells", []):
        meta = cell.get("metadata")
        if isinstance(meta, dict):
            for key in EXECUTION_METADATA:
                meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    if isinstance(nb.get("metadata"), dict):
        nb["metadata"].pop("papermill", None)
