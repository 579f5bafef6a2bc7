"""Kernels for the runs: forked from a template that has already imported what the notebooks import.

Starting a kernel and importing the scientific stack again in it (pandas, matplotlib, scipy,
statsmodels, pandera, geopandas and the helpers: 1-2.5 s CPU) was about a third of the CPU time of a
cold run of the shipped config, paid by every run. On Linux, :class:`Template` starts one process
per ``borgerservice run`` that imports ipykernel and the import statements of the notebooks to be
run, once; each run's kernel is then a fork of it (``kernel_fork.py``), in which ipykernel starts
as ``python -m ipykernel_launcher`` would start it. Every notebook still runs in its own new process
with an empty namespace, its own environment (run id, reads, config) and working folder; what it
shares with the template is the modules already imported (as if its import cell had run before
its first cell). tests/test_pipeline.py checks that nothing a run sets (variables, module
attributes, environment, numpy's random state) reaches the next run.

jupyter_client starts the kernel as usual, from a kernel spec written next to the template's socket
whose command is the launcher (``kernel_fork.py launch``): its process is the one the runner
signals and kills; the forked kernel follows it. Where the template cannot be used (not Linux, a
kernel spec that is not ``<python> [options] -m ipykernel_launcher -f {connection_file}``, an environment that
differs from the template's, a template that did not start, ``BORGERSERVICE_KERNEL_FORK=0``), the
kernel starts as its spec says, as before.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.core import paths

FORK_ENV = "BORGERSERVICE_KERNEL_FORK"  # "0": every kernel starts as its kernel spec says
KERNEL_FORK = Path(__file__).with_name("kernel_fork.py")
_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}


def notebook_imports(notebooks) -> list[str]:
    """The top-level import statements of the notebooks' code cells (the ``parameters`` cells excepted), each once,
    in order."""
    found: list[str] = []
    for notebook in notebooks:
        try:
            cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code" or "parameters" in (cell.get("metadata", {}).get("tags") or []):
                continue
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(node, ast.ImportFrom) and (node.module == "__future__" or node.level)
                ):
                    statement = ast.get_source_segment(source, node)
                    if statement and statement not in found:
                        found.append(statement)
    return found


def _forkable_spec(kernel: str):
    """(the kernel spec, its command with the interpreter resolved) when kernels of ``kernel`` can be forked."""
    if os.environ.get(FORK_ENV, "1") == "0" or not sys.platform.startswith("linux") or not hasattr(socket, "send_fds"):
        return None
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except Exception:  # no such kernel: the run fails as before, naming it
        return None
    argv = list(spec.argv)
    if argv and argv[0] in _PYTHON_NAMES:
        argv[0] = sys.executable  # as jupyter_client resolves it
    if spec.language != "python" or argv[-4:] != ["-m", "ipykernel_launcher", "-f", "{connection_file}"]:
        return None
    if not all(a.startswith("-") and a not in ("-m", "-c") for a in argv[1:-4]):  # only interpreter options
        return None
    if not os.path.isabs(argv[0]) or not os.access(argv[0], os.X_OK):
        return None
    return spec, argv


class Template:
    """The template process of one ``borgerservice run`` (a context manager; started by the first :meth:`start`).

    ``kernel``: the kernel spec's name; ``notebooks``: the source notebooks whose import statements
    the template runs. :meth:`start` returns the folder of kernel specs the runs give jupyter_client
    ("" when kernels start as their spec says); :meth:`stop` ends the template.
    """

    def __init__(self, kernel: str, notebooks):
        self.kernel, self.notebooks = kernel, list(notebooks)
        self.folder = ""
        self.process: subprocess.Popen | None = None
        self._tmp: str | None = None
        self._started = False

    def __enter__(self) -> Template:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> str:
        if self._started:
            return self.folder
        self._started = True
        found = _forkable_spec(self.kernel)
        if found is None:
            return ""
        spec, argv = found
        self._tmp = tempfile.mkdtemp(prefix="bs-template-")
        sock = os.path.join(self._tmp, "s")
        imports = os.path.join(self._tmp, "imports.json")
        interpreter = argv[:-4]  # python and its options (ipykernel's spec adds -Xfrozen_modules=off)
        Path(imports).write_text(
            json.dumps({"statements": notebook_imports(self.notebooks), "interpreter": interpreter}), encoding="utf-8"
        )
        specs = os.path.join(self._tmp, "kernels")
        os.makedirs(os.path.join(specs, self.kernel.lower()))
        Path(specs, self.kernel.lower(), "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [argv[0], "-I", "-S", str(KERNEL_FORK), "launch", sock, "--", *argv],
                    "display_name": spec.display_name,
                    "language": spec.language,
                    "env": spec.env,
                    "interrupt_mode": spec.interrupt_mode,
                    "metadata": spec.metadata,
                }
            ),
            encoding="utf-8",
        )
        try:
            self.process = subprocess.Popen(
                [*interpreter, str(KERNEL_FORK), "serve", sock, imports],
                stdin=subprocess.DEVNULL,
                cwd=paths.notebooks(),
                env=dict(os.environ),  # as jupyter_client passes it: the C environment may hold more (COLUMNS)
            )
        except OSError:
            return ""
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):  # bound first thing, before its imports
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return ""
            time.sleep(0.005)
        self.folder = specs
        return self.folder

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process, self.folder = None, ""
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def manager(kernel: str, folder: str, config):
    """The kernel manager of one run: ``kernel`` from the kernel specs in ``folder`` (a :class:`Template`'s), or as
    installed when ``folder`` is ""; ``config``: its traitlets configuration."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    if not folder:
        return AsyncKernelManager(kernel_name=kernel, config=config)
    return AsyncKernelManager(
        kernel_name=kernel, kernel_spec_manager=KernelSpecManager(kernel_dirs=[folder]), config=config
    )
