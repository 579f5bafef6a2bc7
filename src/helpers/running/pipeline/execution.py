"""Executing one run's notebook: papermill's parameterisation, nbclient's NotebookClient, one write at the end.

What a run does, in a worker process (or in the main process with one worker):

1. the source notebook is read with papermill's ``load_notebook_node`` and given the run's
   parameters by ``parameterize_notebook`` (an ``injected-parameters`` cell after the
   ``parameters`` cell), exactly as ``papermill.execute_notebook`` does;
2. nbclient's ``NotebookClient`` starts the kernel (in notebooks/, over IPC sockets in a private
   folder; on Linux forked from the run's kernel template, helpers.running.pipeline.kernels) and
   executes the cells one by one, stopping at the first error; papermill's
   ``NotebookExecutionManager`` keeps papermill's metadata of the notebook and of each cell (start,
   end, duration, status, exception: what the benchmarks and readers of executed notebooks know),
   without ever writing (it is given no output path);
3. when the last cell has replied the kernel is killed at once (SIGKILL to its process group), and
   the executed notebook is written once, atomically (helpers.core.files), with papermill's error
   marker cells when a cell failed, and exported to HTML.

A failed cell, a cell or notebook timeout, a kernel that dies or cannot start: the run fails with
the error named, and the notebook is still written with everything that ran, its error visible.
A cell that raises ``helpers.core.errors.NotCovered`` (the run's data do not cover its years) ends
the run as "not covered": skipped with that reason, not a failure.
A signal (Stopped, or a worker's SIGTERM) writes nothing: the next run does the run again.

Only public APIs are used: ``papermill.iorw.load_notebook_node``, ``papermill.parameterize
.parameterize_notebook``, ``papermill.execute.remove_error_markers`` and ``raise_for_execution_errors``
(given no output path, they write nothing), papermill's engine protocol of
``NotebookExecutionManager``, nbclient's ``NotebookClient`` (``setup_kernel``, ``execute_cell``,
``wait_for_reply``, ``set_widgets_metadata``) and jupyter_client's kernel manager, given its kernel
spec manager, configured through traitlets (``transport``, ``ip``) and asked to ``signal_kernel``.
Nothing is subclassed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from helpers.core import files, paths
from helpers.running.pipeline import kernels, signals
from helpers.running.pipeline.config import Run, notebook_path
from helpers.running.pipeline.manifest import NOT_COVERED, Outcome, not_covered
from helpers.running.pipeline.outputs import write_error

START_TIMEOUT = 60  # seconds a kernel may take to start (papermill's default)


def import_papermill():
    """papermill and nbclient, imported without ``rfc3987_syntax``; returns papermill.

    nbformat validates notebooks with jsonschema, whose format checkers import rfc3987_syntax when
    it is installed (JupyterLab's dependencies install it); that import builds about 35 Lark parsers
    for the IRI formats and costs about 1.3 s in every pipeline process (python-jsonschema/jsonschema#1428).
    The notebook schema uses no IRI format, so jsonschema is told the package is absent, in the
    pipeline's own processes only (kernels and JupyterLab are not touched).
    """
    if "jsonschema._format" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules makes `import` raise ImportError
    import nbclient
    import papermill
    import papermill.engines
    import papermill.execute
    import papermill.iorw
    import papermill.parameterize

    del nbclient
    return papermill


def _kernel_config(folder: str):
    """The kernel manager's settings (traitlets): IPC transport, its sockets in ``folder``.

    No TCP ports, so kernels started in parallel cannot race for one (``ZMQError: Address already
    in use`` from a heartbeat), and ipykernel's "running over TCP without encryption" warning does
    not apply.
    """
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = os.path.join(folder, "k")
    return config


def _kill_kernel(client) -> None:
    """Every cell has replied (or the run is being cut short): SIGKILL to the kernel's process group.

    Faster than asking the kernel to shut down and polling until it has (0.3 s per run), and quiet:
    jupyter_client interrupts a kernel (SIGINT) before it shuts it down, which ipykernel logs as an
    ERROR "KeyboardInterrupt caught in kernel" after a run that succeeded. A kernel already dead is
    left as it is; nbclient then releases the client and the connection files.
    """
    from nbclient.util import run_sync

    km = client.km
    if km is not None and km.has_kernel:
        with contextlib.suppress(Exception):
            run_sync(km.signal_kernel)(signal.SIGKILL)


def run_notebook(
    source: Path, output: Path, parameters: dict, kernel: str, timeout: int | None, kernel_specs: str = ""
):
    """Execute ``source`` with ``parameters`` in a new ``kernel`` (``timeout``: seconds per cell).

    ``kernel_specs``: the folder of kernel specs of the run's kernel template
    (helpers.running.pipeline.kernels), or "" for the kernel as installed. Returns (the executed
    notebook, the error as "Name: message", or "" when every cell ran); the notebook is not written
    (``execute`` writes it). ``output`` is only recorded in papermill's metadata, as are both paths,
    relative to the project.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.engines import NotebookExecutionManager
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(source))
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=kernel)
    nb.metadata.papermill["input_path"] = paths.relative(source)  # papermill records absolute paths
    nb.metadata.papermill["output_path"] = paths.relative(output)
    nb = remove_error_markers(nb)
    record = NotebookExecutionManager(nb, output_path=None, progress_bar=False)  # metadata only: never saves
    record.notebook_start()
    folder = tempfile.mkdtemp(prefix="bs-kernel-")
    client = NotebookClient(
        nb,
        km=kernels.manager(kernel, kernel_specs, _kernel_config(folder)),
        timeout=timeout,
        startup_timeout=START_TIMEOUT,
        kernel_name=kernel,
        resources={"metadata": {"path": str(paths.notebooks())}},  # the kernel's working folder
        shutdown_kernel="immediate",
        raise_on_iopub_timeout=True,
    )
    error = ""
    try:
        with client.setup_kernel(cleanup_kc=True):  # the client was given its kernel manager: it still cleans up
            try:
                for index, cell in enumerate(nb.cells):
                    record.cell_start(cell, index)
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as exc:  # its outputs hold the error; later cells do not run
                        record.cell_exception(nb.cells[index], cell_index=index, exception=exc)
                        break
                    finally:
                        record.cell_complete(nb.cells[index], cell_index=index)
                info = client.wait_for_reply(client.kc.kernel_info())
                nb.metadata["language_info"] = info["content"]["language_info"]
                client.set_widgets_metadata()
            finally:
                _kill_kernel(client)
    except Exception as exc:  # kernel died, timeout, kernel that cannot start: named, and what ran is kept
        error = f"{type(exc).__name__}: {exc}"
    finally:
        record.notebook_complete()
        shutil.rmtree(folder, ignore_errors=True)
    if not error:
        try:
            raise_for_execution_errors(nb, None)  # adds papermill's error marker cells; writes nothing
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}"
    return nb, error


def execute(
    run: Run,
    kernel: str,
    timeout: int,
    key: str = "",
    reads: tuple[str, ...] = (),
    cell_timeout: int | None = None,
    config: str = "",
    kernel_specs: str = "",
) -> Outcome:
    """Execute one run's notebook (in a worker process); the executed copy keeps any error visible.

    The notebook sees its run id, the runs it reads and the config in the environment
    (helpers.core.paths). ``timeout`` bounds the whole notebook (its kernel is stopped), ``cell_timeout``
    each cell; ``kernel_specs``: see :func:`run_notebook`. ``reports/executed/<id>.ipynb`` is written once, when the
    notebook has ended, then its HTML.
    """
    import_papermill()
    import nbformat

    out = paths.executed() / f"{run.id}.ipynb"
    saved = {k: os.environ.get(k) for k in (paths.RUN_ID_ENV, paths.READS_ENV, paths.CONFIG_ENV)}
    os.environ[paths.RUN_ID_ENV] = run.id
    os.environ[paths.READS_ENV] = ",".join(reads)
    if config:
        os.environ[paths.CONFIG_ENV] = str(Path(config).resolve())  # the kernel's working folder is notebooks/
    timed_out = threading.Event()

    def stop_kernel():
        timed_out.set()
        signals.stop_children(grace=2)  # nbclient then ends with DeadKernelError, and what ran is kept

    timer = threading.Timer(timeout, stop_kernel)
    timer.daemon = True
    start = time.perf_counter()
    timer.start()
    nb = None
    try:
        nb, error = run_notebook(notebook_path(run), out, run.parameters, kernel, cell_timeout or timeout, kernel_specs)
    except Exception as exc:  # an unreadable notebook, a parameter papermill cannot write: failed, named
        error = f"{type(exc).__name__}: {exc}"
    finally:
        timer.cancel()
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    if timed_out.is_set():
        error = f"timed out: the notebook ran longer than timeout_seconds = {timeout} s (a limit on the whole notebook)"
    status = (NOT_COVERED if not_covered(error) else "failed") if error else "ok"
    html = None
    try:
        if nb is not None:
            files.write_text(out, nbformat.writes(nb))
            html = export_html(out, nb)
    except OSError as exc:
        status, error = "failed", write_error(exc)
    return Outcome(
        run.id,
        run.notebook,
        run.parameters,
        status,
        round(time.perf_counter() - start, 2),
        paths.relative(out) if out.exists() else "",
        paths.relative(html) if html else "",
        error,
        key,
    )


@functools.lru_cache(maxsize=1)
def html_exporter():
    """One nbconvert HTMLExporter per process: a new one loads and compiles its Jinja templates again
    (about 0.3 s per notebook)."""
    from nbconvert import HTMLExporter

    return HTMLExporter()


def export_html(notebook: Path, nb=None) -> Path:
    """``notebook`` as HTML beside it; ``nb``: the notebook already read (else it is read from the file)."""
    import nbformat

    body, _ = html_exporter().from_notebook_node(nb if nb is not None else nbformat.read(notebook, as_version=4))
    return files.write_text(notebook.with_suffix(".html"), body)
