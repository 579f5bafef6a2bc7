"""Kernels forked from the run's template (helpers.running.pipeline.kernels): each run still gets a new
process with nothing of the runs before it, and the same outputs as a kernel started afresh."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from helpers.running import pipeline
from helpers.running.pipeline import kernel_fork, kernels

FORKS = sys.platform.startswith("linux")

RECORD = """
import json, os, sys
import numpy as np
import psutil
from helpers.core import files, paths
def record(**extra):
    parent = " ".join(psutil.Process(os.getppid()).cmdline())
    doc = {"pid": os.getpid(), "parent": parent, "run": os.environ.get("BORGERSERVICE_RUN_ID"), **extra}
    files.write_text(paths.processed() / "record.json", json.dumps(doc))
"""


def _record(outputs, run_id: str) -> dict:
    return json.loads((outputs / "processed" / run_id / "record.json").read_text())


@pytest.mark.slow
def test_each_run_gets_a_new_process_and_nothing_of_the_runs_before_it(make_notebook, write_config, outputs):
    leaves = make_notebook(
        "leaves.ipynb",
        RECORD
        + """
import pandas as pd
LEFT_BEHIND = 1
json.LEFT_BEHIND = 1
os.environ["LEFT_BEHIND"] = "1"
sys.path.append("/left/behind")
pd.set_option("display.max_rows", 3)
np.random.seed(0)
os.chdir("/")
record()
""",
    )
    probe = """
import pandas as pd
found = {
    "global": "LEFT_BEHIND" in globals(),
    "module attribute": hasattr(json, "LEFT_BEHIND"),
    "environment": "LEFT_BEHIND" in os.environ,
    "sys.path": "/left/behind" in sys.path,
    "pandas option": pd.get_option("display.max_rows") != 60,
    "working folder": os.getcwd() != str(paths.notebooks()),
}
record(found=found, draw=float(np.random.random()))
"""
    runs = [{"id": "leaves", "notebook": leaves}]
    runs += [
        {"id": f"probe{i}", "notebook": make_notebook(f"probe{i}.ipynb", RECORD + probe), "needs": ["leaves"]}
        for i in (1, 2)
    ]
    outcomes = pipeline.run(write_config({"runs": runs, "workers": 1}), echo=lambda *_: None)
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"], [o.error for o in outcomes]
    left, one, two = (_record(outputs, i) for i in ("leaves", "probe1", "probe2"))
    assert one["found"] == two["found"] == dict.fromkeys(one["found"], False)
    assert len({left["pid"], one["pid"], two["pid"]}) == 3
    assert [left["run"], one["run"], two["run"]] == ["leaves", "probe1", "probe2"]
    import numpy as np

    seeded = float(np.random.RandomState(0).random())
    assert one["draw"] != two["draw"] and seeded not in (one["draw"], two["draw"])  # each seeded afresh
    if FORKS:
        assert all("kernel_fork.py serve" in r["parent"] for r in (left, one, two))


def _outputs(nb_path) -> list[tuple]:
    nb = nbformat.read(nb_path, as_version=4)
    return [  # the text of stdout only: a warning names the kernel's temporary cell file
        (
            o.output_type,
            o.get("name", ""),
            sorted(o.get("data", {})),
            o.get("text", "") if o.get("name") == "stdout" else "",
        )
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    ]


@pytest.mark.slow
def test_a_forked_kernel_gives_the_outputs_of_a_kernel_started_afresh(
    make_notebook, write_config, outputs, monkeypatch
):
    shows = make_notebook(
        "shows.ipynb",
        RECORD
        + """
import warnings
import matplotlib.pyplot as plt
import pandas as pd
from helpers.analysis import adoption  # scipy.stats: imported when first used (helpers.core.lazy)
record(stats=type(sys.modules["scipy.stats"]).__name__)
print("printed")
warnings.warn("a warning on stderr")
fig, ax = plt.subplots()
ax.plot([1, 2, 3])
plt.show()
display(pd.DataFrame({"a": [1, 2]}))
pd.Series([1.5])
""",
    )
    config = write_config({"runs": [{"id": "shows", "notebook": shows}], "workers": 1})
    seen = {}
    for fork in ("1", "0"):
        monkeypatch.setenv(kernels.FORK_ENV, fork)
        assert [o.status for o in pipeline.run(config, force=True, echo=lambda *_: None)] == ["ok"]
        seen[fork] = (_outputs(outputs / "reports" / "executed" / "shows.ipynb"), _record(outputs, "shows"))
    assert seen["1"][0] == seen["0"][0]
    assert [t for t, *_ in seen["1"][0]] == ["stream", "stream", "display_data", "display_data", "execute_result"]
    assert ("display_data", "", ["image/png", "text/plain"]) == seen["1"][0][2][:3]
    assert "kernel_fork.py" not in seen["0"][1]["parent"]
    assert seen["0"][1]["stats"] == "_LazyModule"  # a kernel of its own imports it when a cell first uses it
    if FORKS:
        assert "kernel_fork.py serve" in seen["1"][1]["parent"]
        assert seen["1"][1]["stats"] == "module"  # the template imported it before it forked


@pytest.mark.slow
def test_a_forked_kernel_that_dies_or_runs_too_long_is_reported(make_notebook, write_config, outputs):
    runs = [
        {"id": "dies", "notebook": make_notebook("dies.ipynb", "print('before')\nimport os\nos._exit(3)")},
        {"id": "sleeps", "notebook": make_notebook("sleeps.ipynb", "import time\ntime.sleep(600)")},
        {"id": "after", "notebook": make_notebook("after.ipynb", "print('still fine')")},
    ]
    outcomes = pipeline.run(write_config({"runs": runs, "workers": 1, "cell_timeout_seconds": 5}), echo=lambda *_: None)
    status = {o.id: (o.status, o.error) for o in outcomes}
    assert status["dies"][0] == "failed" and "dead" in status["dies"][1].lower(), status
    assert status["sleeps"][0] == "failed" and "timed out" in status["sleeps"][1].lower(), status
    assert status["after"] == ("ok", "")
    assert outcomes[1].seconds < 60


def test_the_template_forks_only_for_its_own_interpreter_and_environment():
    interpreter = ["/venv/bin/python", "-Xfrozen_modules=off"]
    argv = [*interpreter, "-m", "ipykernel_launcher", "-f", "/tmp/k.json"]
    base = {"HOME": "/root", "PATH": "/bin", "MPLBACKEND": "agg"}
    per_run = {kernel_fork.RUN_ID_ENV: "a", kernel_fork.READS_ENV: "b", "JPY_PARENT_PID": "12"}
    assert kernel_fork.refusal(base, {**base, **per_run}, argv, interpreter) == ""
    assert kernel_fork.refusal(base, {**base, "MPLBACKEND": "svg"}, argv, interpreter) == (
        "the environment differs from the template's in MPLBACKEND"
    )
    assert "differs from the template's in OMP_NUM_THREADS, PATH" in kernel_fork.refusal(
        base, {"HOME": "/root", "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1"}, argv, interpreter
    )
    assert kernel_fork.refusal(base, base, argv, ["/venv/bin/python"]).startswith("the kernel command is not")
    assert kernel_fork.refusal(base, base, ["/venv/bin/python", "-m", "other", "-f", "x"], ["/venv/bin/python"])


def test_without_a_template_the_launcher_starts_the_kernel_command_itself(tmp_path):
    out = subprocess.run(
        [sys.executable, "-I", "-S", str(kernels.KERNEL_FORK), "launch", str(tmp_path / "none"), "--"]
        + [sys.executable, "-c", "import sys; print('started as', sys.argv[1:])", "-f", "k.json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.strip() == "started as ['-f', 'k.json']", out


def test_the_template_runs_the_notebooks_import_statements(tmp_path, make_notebook):
    a = make_notebook("a.ipynb", "import os\nfrom pathlib import Path\nx = 1\ndef f():\n    import json")
    b = make_notebook("b.ipynb", "import os\nimport matplotlib.pyplot as plt  # a figure\nfrom . import y")
    assert kernels.notebook_imports([a, b, tmp_path / "missing.ipynb"]) == [
        "import os",
        "from pathlib import Path",
        "import matplotlib.pyplot as plt",
    ]


def test_a_lazy_module_is_imported_when_first_used_and_is_the_module_itself():
    code = """
import sys
from helpers.core import lazy
stats = lazy.module("scipy.stats")
before = type(sys.modules["scipy.stats"]).__name__
value = round(float(stats.norm.ppf(0.975)), 4)
import scipy
import scipy.stats
from scipy import stats as again
same = scipy.stats is stats and again is stats and lazy.module("scipy.stats") is stats
print(before, type(stats).__name__, value, same)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["_LazyModule", "module", "1.96", "True"]
