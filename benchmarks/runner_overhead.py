"""What the runner itself costs per notebook run: this tree against an earlier commit, in alternating pairs.

    .venv/bin/python benchmarks/runner_overhead.py [--before 8e2bcff] [--pairs 6] [--runs 6] [--cli-runs 6]

Two measurements, each made for the code of this working tree ("after") and for ``git archive`` of
``--before`` ("before", put first on ``PYTHONPATH``), in turn (after, before, after, before, ...) so
that the machine's drift touches both alike; the ratio after/before is taken pair by pair:

1. **execute**: one fresh interpreter per sample imports ``helpers.running.pipeline`` and runs
   ``pipeline.execute`` (what a worker does for a run) ``--runs`` times on a trivial notebook (a
   parameters cell and ``--cells`` code cells that print one line): kernel start, parameters,
   execution, the executed notebook written, its HTML. The first run of a process also pays the
   imports of papermill, nbclient and nbconvert (once per worker in the pipeline); it is reported
   apart, and the per-run figure is the median of the others.
2. **cli**: ``borgerservice run --force --workers 1`` (a subprocess: wall time, and CPU time of it and
   its kernels) of a config with ``--cli-runs`` such trivial notebooks (config loading and checks,
   keys, manifest, every run), then ``--warm`` re-runs of it with nothing changed (every run skipped:
   the fixed cost of a command, start-up, imports and config checks included).

Outputs go to a temporary folder (``BORGERSERVICE_PROCESSED``/``REPORTS``); data/raw is only read.
Writes benchmarks/results/runner_overhead.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = Path(sys.executable)
RESULTS = HERE / "results" / "runner_overhead.json"


def _notebook(path: Path, cells: int) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "borgerservice", "display_name": "x", "language": "python"}
    params = nbformat.v4.new_code_cell("x = 0  # a parameter")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(f"print('cell {i}', x)") for i in range(cells)]
    nbformat.write(nb, path)
    return path


def child(runs: int, cells: int, folder: Path) -> dict:
    """In a fresh interpreter: import the runner, then ``runs`` executions of a trivial notebook."""
    t = time.perf_counter()
    from helpers.core import paths
    from helpers.running import pipeline

    imported = time.perf_counter() - t
    nb = _notebook(folder / "trivial.ipynb", cells)
    seconds, cpu, statuses = [], [], []
    for i in range(runs):
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        outcome = pipeline.execute(pipeline.Run(f"t{i}", str(nb), {"x": i}), paths.KERNEL_NAME, 120)
        seconds.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True)))
        statuses.append(outcome.status)
    return {"import_seconds": imported, "seconds": seconds, "cpu_seconds": cpu, "statuses": statuses}


def _tree(before: str, tmp: Path) -> Path:
    """``git archive`` of the commit ``before`` (its src/helpers, notebooks, config and pyproject.toml)."""
    tree = tmp / f"tree-{before[:10]}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", before], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _env(tree: Path | None, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORGERSERVICE_")}
    env.update(
        BORGERSERVICE_PROCESSED=str(out / "processed"),
        BORGERSERVICE_REPORTS=str(out / "reports"),
        BORGERSERVICE_RAW=str(ROOT / "data" / "raw"),
        PYTHONPATH=str(tree / "src") if tree else "",
    )
    return env


def _fresh(base: Path, name: str) -> Path:
    out = base / name
    shutil.rmtree(out, ignore_errors=True)
    (out / "processed").mkdir(parents=True)
    (out / "reports").mkdir()
    return out


def sample_execute(tree: Path | None, tmp: Path, runs: int, cells: int) -> dict:
    out = _fresh(tmp, "execute")
    proc = subprocess.run(
        [str(PY), __file__, "--child", str(runs), "--cells", str(cells), "--folder", str(out)],
        env=_env(tree, out),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def sample_cli(tree: Path | None, tmp: Path, runs: int, cells: int, warm: int) -> dict:
    """A forced run of ``runs`` trivial notebooks, then ``warm`` re-runs with nothing changed (all skipped)."""
    out = _fresh(tmp, "cli")
    nb = _notebook(out / "trivial.ipynb", cells)
    config = out / "pipeline.yaml"
    doc = {
        "kernel": "borgerservice",
        "timeout_seconds": 120,
        "workers": 1,
        "runs": [{"id": f"t{i}", "notebook": str(nb), "parameters": {"x": i}} for i in range(runs)],
    }
    config.write_text(json.dumps(doc))  # JSON is YAML
    cmd = [str(PY), "-m", "helpers.running.cli", "run", "--config", str(config)]
    env = _env(tree, out)
    cold, cold_cpu = _timed([*cmd, "--force", "--workers", "1"], env)
    warm_runs = [_timed(cmd, env) for _ in range(warm)]
    return {
        "seconds": cold,
        "cpu_seconds": cold_cpu,
        "warm_seconds": statistics.median(w for w, _ in warm_runs),
        "warm_cpu_seconds": statistics.median(c for _, c in warm_runs),
    }


def _summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", default="8e2bcff", help="the commit to compare with (default 8e2bcff)")
    p.add_argument("--pairs", type=int, default=6, help="alternating after/before pairs per measurement")
    p.add_argument("--runs", type=int, default=6, help="executions of the notebook per interpreter")
    p.add_argument("--cells", type=int, nargs="+", default=[1, 20], help="code cells of the trivial notebook")
    p.add_argument("--cli-runs", type=int, default=6, help="notebooks in the config of the cli measurement")
    p.add_argument("--warm", type=int, default=3, help="warm re-runs (nothing changed) after each forced cli run")
    p.add_argument("--output", type=Path, default=RESULTS)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.cells[0], args.folder)))
        return 0

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True)
    result: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "after": commit.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else ""),
        "before": args.before,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_at_start": os.getloadavg(),
        "pairs": args.pairs,
        "execute": {},
    }
    with tempfile.TemporaryDirectory(prefix="runner-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        tree = _tree(args.before, tmp)
        for cells in args.cells:
            rows = {"after": [], "before": []}
            for i in range(args.pairs):
                for side in ("after", "before"):
                    s = sample_execute(None if side == "after" else tree, tmp, args.runs, cells)
                    if set(s["statuses"]) != {"ok"}:
                        raise RuntimeError(f"{side}: a run did not succeed: {s['statuses']}")
                    rows[side].append(s)
                print(f"execute, {cells} cell(s), pair {i + 1}/{args.pairs}", file=sys.stderr)
            per_run = {k: [statistics.median(s["seconds"][1:]) for s in v] for k, v in rows.items()}
            per_cpu = {k: [statistics.median(s["cpu_seconds"][1:]) for s in v] for k, v in rows.items()}
            result["execute"][f"{cells}_cells"] = {
                side: {
                    "per_run_seconds": _summary(per_run[side]),
                    "per_run_cpu_seconds": _summary(per_cpu[side]),
                    "first_run_seconds": _summary([s["seconds"][0] for s in rows[side]]),
                    "import_seconds": _summary([s["import_seconds"] for s in rows[side]]),
                }
                for side in rows
            }
            result["execute"][f"{cells}_cells"]["ratio_after_before_per_run"] = _summary(
                [a / b for a, b in zip(per_run["after"], per_run["before"], strict=True)]
            )
        cli = {"after": [], "before": []}
        for i in range(args.pairs):
            for side in ("after", "before"):
                cli[side].append(sample_cli(None if side == "after" else tree, tmp, args.cli_runs, 1, args.warm))
            print(f"cli, pair {i + 1}/{args.pairs}", file=sys.stderr)

        def ratio(measure: str) -> dict:
            return _summary([a[measure] / b[measure] for a, b in zip(cli["after"], cli["before"], strict=True)])

        result["cli"] = {
            "runs_in_config": args.cli_runs,
            "warm_reruns_per_sample": args.warm,
            **{
                side: {
                    m: _summary([s[m] for s in v])
                    for m in ("seconds", "cpu_seconds", "warm_seconds", "warm_cpu_seconds")
                }
                for side, v in cli.items()
            },
            "ratio_after_before": {m: ratio(m) for m in ("seconds", "cpu_seconds", "warm_seconds", "warm_cpu_seconds")},
        }
    result["load_at_end"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
