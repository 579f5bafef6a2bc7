"""The pipeline's work as one plain Python process: the floor that papermill cannot beat.

Runs the same notebook code with the same parameters as ``borgerservice run`` (the runs of a
pipeline config, in dependency order), but serially in this one process: no papermill, no
Jupyter kernels, no executed-notebook copies, no HTML export, no rich display of cell results.
Each run executes the source notebook's code cells as they are (the parameters cell, then the
run's parameters as papermill would inject them, then the other cells) in a fresh namespace, so
the helper calls, tables, figures (PNG + SVG via ``reports.save_figure``) and results JSON are
exactly the notebooks'. Taking the code from the notebooks keeps this script in step with them.

Differences from a kernel, on purpose: cell results are not rendered (a notebook renders the
last expression of each cell as HTML/PNG: that is notebook overhead), ``plt.show()`` closes the
figures (the inline backend renders them once more as PNG for the notebook), and heavy imports
are paid once for all runs instead of once per kernel.

    .venv/bin/python benchmarks/plain_pipeline.py [--config PATH] [--only ID ...] [--timings FILE]

Each run sees what the pipeline gives its kernel: the config (BORGERSERVICE_CONFIG, which
05_export_data reads its rounds from), its run id and the runs it reads (so it writes and reads the
same folders). Outputs follow BORGERSERVICE_PROCESSED / BORGERSERVICE_REPORTS / BORGERSERVICE_RAW
like the pipeline; run it with those pointing at temporary folders (run_benchmark.py does).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

T_START = time.perf_counter()


def code_cells(notebook: Path) -> tuple[list[str], list[str]]:
    """(parameters cell sources, other code cell sources) of a notebook, in order (read as JSON: the floor
    pays no notebook validation)."""
    params, body = [], []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]  # no magics
        (params if "parameters" in (cell.get("metadata", {}).get("tags") or []) else body).append("\n".join(lines))
    return params, body


def _display(*objs, **kwargs):  # IPython's display(), minus the rendering
    return None


def run_one(notebook: Path, parameters: dict) -> dict:
    """Execute one notebook's code with its parameters; seconds per cell."""
    import matplotlib.pyplot as plt

    params, body = code_cells(notebook)
    ns: dict = {"__name__": "__main__", "display": _display}
    cells = []
    for i, src in enumerate(params + [None] + body):
        t = time.perf_counter()
        if src is None:
            ns.update(parameters)  # what papermill's injected-parameters cell does
            continue
        with contextlib.redirect_stdout(io.StringIO()):  # printed output goes to the notebook, here nowhere
            exec(compile(src, f"{notebook.name}[cell {i}]", "exec"), ns)
        plt.close("all")  # the inline backend closes the figures at the end of each cell
        first = next((ln for ln in src.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        cells.append({"cell": i, "seconds": round(time.perf_counter() - t, 3), "first_line": first[:100]})
    return {"cells": cells}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None, help="pipeline config (default config/pipeline.yaml)")
    ap.add_argument("--only", nargs="+", default=None, help="run ids or id prefixes (plus what they need)")
    ap.add_argument("--timings", default=None, help="write per-run seconds as JSON here")
    args = ap.parse_args(argv)

    import matplotlib.pyplot as plt

    plt.show = lambda *a, **k: plt.close("all")  # noqa: E731  (Agg: nothing to show)

    from helpers.core import paths
    from helpers.running import pipeline

    t_imports = time.perf_counter()
    cfg = pipeline.load_config(Path(args.config) if args.config else None)
    runs = pipeline.order(pipeline.select(cfg.runs, args.only))
    by_id = {r.id: r for r in cfg.runs}
    os.environ[paths.CONFIG_ENV] = str(Path(cfg.path).resolve())  # the run's config, as the pipeline sets it
    timings = {"startup_seconds": round(t_imports - T_START, 3), "runs": {}}
    failed = []
    for r in runs:
        # what the pipeline tells each kernel: its run id (its output folders) and the runs whose outputs it reads
        os.environ[paths.RUN_ID_ENV] = r.id
        os.environ[paths.READS_ENV] = ",".join(pipeline.ancestors(r, by_id))
        t = time.perf_counter()
        try:
            detail = run_one(pipeline.notebook_path(r), r.parameters)
            status, error = "ok", ""
        except Exception as exc:  # report and go on, like the pipeline (its dependants would be blocked)
            detail, status, error = {}, "failed", f"{type(exc).__name__}: {exc}"
            failed.append(r.id)
        secs = round(time.perf_counter() - t, 3)
        timings["runs"][r.id] = {"status": status, "seconds": secs, "error": error[:500], **detail}
        print(f"{r.id}: {status} in {secs:.2f} s" + (f" -> {error[:200]}" if error else ""), flush=True)
    timings["total_seconds"] = round(time.perf_counter() - T_START, 3)
    print(f"plain pipeline: {len(runs) - len(failed)} of {len(runs)} runs ok in {timings['total_seconds']:.1f} s")
    if args.timings:
        Path(args.timings).write_text(json.dumps(timings, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
