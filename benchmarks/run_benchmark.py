"""Benchmark what users wait for: the pipeline against its floor, interactive work, the report, the tests.

    .venv/bin/python benchmarks/run_benchmark.py            # full: ~30 min on a quiet 2-core machine
    .venv/bin/python benchmarks/run_benchmark.py --quick    # ~10 min, fewer repetitions: indicative only
    make benchmark                                          # the full run

Every pipeline measurement runs ``borgerservice run`` (or benchmarks/plain_pipeline.py) as a
subprocess with BORGERSERVICE_RAW / _PROCESSED / _REPORTS pointing into a temporary folder, so
data/raw, data/processed and reports/ are never touched. The code, notebooks and config are a
snapshot taken at the start (put first on PYTHONPATH), so edits made meanwhile change nothing.
Each measurement records wall time, the CPU time of the command and everything it started (user +
system, from the kernel's accounting of waited-for children), and how much CPU other processes took
meanwhile (``other_cpu_share``: the machine is shared, so wall times are noisy and CPU times firmer).

1. **Cold run of the shipped config against its floor**, in alternating pairs (cold, floor; then
   floor, cold; ...): ``borgerservice run --force`` with workers = cores, and plain_pipeline.py
   doing the same work in one Python process (same runs, parameters, config, outputs; no kernels,
   no executed notebooks, no HTML). Ratios cold/floor in wall and CPU time, per pair.
   ``--fresh-kernels`` adds a cold run with BORGERSERVICE_KERNEL_FORK=0 to each pair (every kernel
   started and importing the stack itself, as before the kernel template).
2. **Warm re-run** with nothing changed, 5 times, in the last cold run's folders: all must be skipped.
3. **Growth with rounds**: the shipped per-round clean and per-pair comparison templates for 3, 4,
   5 and 6 rounds (copies of the 2009 CSV and the 2011 XLSX, their submission times moved into
   each new round's year so that the fieldwork check passes), cold and floor, alternating.
4. **Interactive**: Run All of notebooks 03 and 04 with their defaults in a fresh kernel (as in
   JupyterLab: a kernel started as its spec says, nothing forked), twice (the second with a warm file
   cache), and the import cell (the first cell after the parameters) of every notebook.
5. **make report** (``borgerservice report`` on the last cold run's outputs) and **make test**.

Results: benchmarks/results/benchmark.json (``--quick``: benchmark-quick.json), with the targets
of issue 28 and whether each is met; a summary is printed. The exit code is 1 when a measured
command failed (then its times are not comparable: ``"valid": false``).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = Path(sys.executable)
CLI = [str(PY), "-m", "helpers.running.cli"]
CORES = os.cpu_count() or 1
KERNEL = "borgerservice"
QUICK_REPS = 20  # coverage_reps and power_reps of 03_model_usage in --quick (notebook defaults 2000, 1000)
QUICK_ADOPTION = {"simulation_reps": 20, "bootstrap_draws": 99, "honest_points": 10}  # 04 in --quick (2000, 999, 60)
SCALE_SOURCES = [("survey/example_survey_2009.csv", "2009", 2009), ("survey/example_survey_2011.xlsx", "2011", 2011)]
SCALE_FIRST_YEAR = 2015  # scaling rounds 2015, 2016, ... (no shipped round has these years)
TARGETS = {  # issue 28
    "cold_over_floor_wall": 1.2,  # workers = cores, shipped config
    "warm_rerun_seconds": 0.3,
    "import_cell_seconds": 1.0,  # every notebook, warm file cache
    "run_all_03_seconds": 7.0,
    "report_seconds": 30.0,
    "test_seconds": 240.0,  # make test on 2 cores
}
INTERACTIVE = ["03_model_usage", "04_adoption_panel"]
SNAPSHOT: Path | None = None
LOAD: dict = {}


def log(msg: str) -> None:
    print(msg, flush=True)


def summary_of(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {}
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "n": len(values),
    }


# --- measuring ---------------------------------------------------------------------------------------------


def _cpu_jiffies() -> tuple[int, int]:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(name: str, cmd: list[str], env: dict, folder: Path, cwd: Path = ROOT) -> dict:
    """Run ``cmd``; its wall and CPU seconds (itself and every process it waited for), exit code and the load."""
    have_proc = Path("/proc/stat").exists()
    b0, j0 = _cpu_jiffies() if have_proc else (0, 0)
    c0, load0 = _children_cpu(), os.getloadavg()[0]
    t = time.perf_counter()
    with open(folder / f"{name}.log", "w") as out:
        rc = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t
    cpu = _children_cpu() - c0
    other = 0.0
    if have_proc:
        b1, j1 = _cpu_jiffies()
        other = max(0.0, (b1 - b0) / os.sysconf("SC_CLK_TCK") - cpu) / (wall * CORES)
    LOAD[name] = {"loadavg_1min_before": round(load0, 2), "other_cpu_share": round(other, 2)}
    return {"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "exit_code": rc, **LOAD[name]}


def snapshot(tmp: Path) -> Path:
    tree = tmp / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "src" / "helpers", tree / "src" / "helpers", ignore=ignore)
    for folder in ("notebooks", "config"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=ignore)
    return tree


def env_for(case: Path, raw: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORGERSERVICE_")}
    if SNAPSHOT is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(SNAPSHOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
    env.update(
        BORGERSERVICE_RAW=str(raw),
        BORGERSERVICE_PROCESSED=str(case / "processed"),
        BORGERSERVICE_REPORTS=str(case / "reports"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("MPLBACKEND", None)  # kernels use the inline backend, as in a normal run
    env.update(extra)
    return env


def manifest_runs(case: Path) -> dict:
    f = case / "reports" / "run_manifest.json"
    if not f.is_file():
        return {}
    doc = json.loads(f.read_text(encoding="utf-8"))
    return {
        r["id"]: {
            "status": r["status"],
            "seconds": r["seconds"],
            **({"error": r["error"][:300]} if r.get("error") else {}),
        }
        for r in doc.get("runs", [])
    }


def cold(name: str, tmp: Path, raw: Path, config: Path, workers: int, **env_extra) -> dict:
    """``borgerservice run --force`` in fresh output folders."""
    case = tmp / name
    case.mkdir()
    cmd = CLI + ["run", "--config", str(config), "--workers", str(workers), "--force"]
    result = measure(name, cmd, env_for(case, raw, **env_extra), tmp)
    runs = manifest_runs(case)
    statuses = [r["status"] for r in runs.values()]
    result |= {
        "case": str(case),
        "ok": result["exit_code"] == 0 and bool(runs) and set(statuses) <= {"ok"},
        "runs": {k: v["seconds"] for k, v in runs.items()},
        "failed": {k: v.get("error", v["status"]) for k, v in runs.items() if v["status"] != "ok"},
    }
    if not result["ok"]:
        log(f"  WARNING: {name} failed (exit {result['exit_code']}): {result['failed']}; see {tmp / (name + '.log')}")
    return result


def floor(name: str, tmp: Path, raw: Path, config: Path) -> dict:
    """benchmarks/plain_pipeline.py: the same runs in one plain Python process."""
    case = tmp / name
    case.mkdir()
    timings = case / "timings.json"
    cmd = [str(PY), str(HERE / "plain_pipeline.py"), "--config", str(config), "--timings", str(timings)]
    result = measure(name, cmd, env_for(case, raw, MPLBACKEND="Agg"), tmp)
    doc = json.loads(timings.read_text()) if timings.is_file() else {"runs": {}}
    result |= {
        "ok": result["exit_code"] == 0,
        "startup_seconds": doc.get("startup_seconds"),
        "runs": {k: v["seconds"] for k, v in doc["runs"].items()},
        "failed": {k: v["error"] for k, v in doc["runs"].items() if v["status"] != "ok"},
    }
    if not result["ok"]:
        log(f"  WARNING: {name} failed: {result['failed']}; see {tmp / (name + '.log')}")
    return result


def pairs_of(kinds: list[str], n: int) -> list[list[str]]:
    """The order of the measurements in each of ``n`` groups: rotated, so that no kind always goes first."""
    return [kinds[i % len(kinds) :] + kinds[: i % len(kinds)] for i in range(n)]


def ratios(groups: list[dict], a: str, b: str) -> dict:
    return {
        "wall": summary_of([g[a]["wall_seconds"] / g[b]["wall_seconds"] for g in groups]),
        "cpu": summary_of([g[a]["cpu_seconds"] / g[b]["cpu_seconds"] for g in groups]),
    }


# --- the configs -------------------------------------------------------------------------------------------


def write_config(folder: Path, doc: dict, rounds: dict | None = None) -> Path:
    """``doc`` as folder/pipeline.yaml (with ``rounds`` in place of its own when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {**doc, "rounds": rounds} if rounds is not None else doc
    (folder / "pipeline.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder / "pipeline.yaml"


# --- for warm_rerun.py and warm_pairs.py: the project's config with two rounds -----------------------------

COLD_ROUNDS = {
    2009: {"input_path": "survey/example_survey_2009.csv", "codebook": "2009"},
    2011: {"input_path": "survey/example_survey_2011.xlsx", "codebook": "2011"},
}


def paths_raw() -> Path:
    from helpers.core import paths

    return paths.raw()


def pipeline_run(
    name: str, tmp: Path, raw: Path, config: Path, workers: int, force: bool = True, case: Path | None = None
) -> dict:
    """One timed ``borgerservice run`` (in ``case``, default a fresh tmp/name): wall seconds, ok, the count of each
    status and each run's status and seconds."""
    case = case or tmp / name
    case.mkdir(parents=True, exist_ok=True)
    cmd = CLI + ["run", "--config", str(config), "--workers", str(workers)] + (["--force"] if force else [])
    result = measure(name, cmd, env_for(case, raw), tmp)
    runs = manifest_runs(case)
    statuses = [r["status"] for r in runs.values()]
    ok = result["exit_code"] == 0 and bool(runs) and set(statuses) <= {"ok", "skipped"}
    if not ok:
        log(f"  WARNING: {name} failed (exit {result['exit_code']}); see {tmp / (name + '.log')}")
    return result | {"ok": ok, "status_counts": {s: statuses.count(s) for s in sorted(set(statuses))}, "runs": runs}


def shipped_config(doc: dict, quick: bool, leave_out: list[str] | None = None) -> dict:
    """The project's config/pipeline.yaml as it is (quick: fewer simulations and bootstrap draws in 03 and 04;
    ``leave_out``: fixed runs taken out, and out of the needs of the others)."""
    doc = copy.deepcopy(doc)
    if leave_out:
        unknown = set(leave_out) - {r["id"] for r in doc.get("runs") or []}
        if unknown:
            raise SystemExit(f"--leave-out: no fixed run {', '.join(sorted(unknown))} in config/pipeline.yaml")
        doc["runs"] = [r for r in doc["runs"] if r["id"] not in leave_out]
        for item in (doc.get("runs") or []) + (doc.get("per_round") or []) + (doc.get("per_pair") or []):
            for key in ("needs", "optional_needs"):
                if item.get(key):
                    item[key] = [n for n in item[key] if n not in leave_out]
    if quick:
        for item in (doc.get("runs") or []) + (doc.get("per_pair") or []):
            if item.get("notebook") == "03_model_usage.ipynb":
                item.setdefault("parameters", {}).update(coverage_reps=QUICK_REPS, power_reps=QUICK_REPS)
            if item.get("notebook") == "04_adoption_panel.ipynb":
                item.setdefault("parameters", {}).update(QUICK_ADOPTION)
    return doc


def notebook_parameters(notebook: str) -> set[str]:
    """The names a notebook's parameters cell assigns."""
    import ast

    nb = json.loads(((SNAPSHOT or ROOT) / "notebooks" / notebook).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in (c.get("metadata", {}).get("tags") or []))
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return {
        t.id
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


def scaling_config(doc: dict, rounds: dict) -> dict:
    """The shipped per-round clean and per-pair comparison templates: work that grows with the rounds."""
    clean = [copy.deepcopy(t) for t in doc.get("per_round") or [] if t.get("notebook") == "01_clean_survey.ipynb"]
    compare = [copy.deepcopy(t) for t in doc.get("per_pair") or [] if t.get("notebook") == "02_compare_rounds.ipynb"]
    if not clean or not compare:
        raise SystemExit("config/pipeline.yaml has no per_round 01_clean_survey or per_pair 02_compare_rounds template")
    for t in clean:
        t["needs"] = []
    keep = {k: doc[k] for k in ("kernel", "timeout_seconds") if k in doc}
    declared = set().union(*(notebook_parameters(t["notebook"]) for t in clean + compare))
    defaults = {k: v for k, v in (doc.get("defaults") or {}).items() if k in declared}  # the config refuses others
    if defaults:
        keep["defaults"] = defaults
    return {
        **keep,
        "workers": "auto",
        "pairs": "consecutive",
        "rounds": rounds,
        "per_round": clean,
        "per_pair": compare,
    }


def _shift_year(value: dt.datetime, years: int) -> dt.datetime:
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


def shifted_export(source: Path, target: Path, codebook: str, years: int) -> None:
    """A copy of an example export with every submission time moved ``years`` years on (the other cells as they are).

    The round's fieldwork check refuses submissions outside the round's year (1 January to 30 June
    of the next year, unless the codebook says otherwise): a copy of the 2009 file used as round 2015
    needs its submission times in 2015.
    """
    spec = yaml.safe_load((ROOT / "config" / "codebooks" / f"{codebook}.yaml").read_text(encoding="utf-8"))
    header = spec["columns"]["submitted_at"]["header"]
    if source.suffix == ".csv":
        data = source.read_bytes()
        text = data.decode("cp1252")
        lines = text.splitlines(keepends=True)
        delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
        names = lines[0].rstrip("\r\n").split(delimiter)
        if names[0].strip('"') != header:
            raise SystemExit(f"{source.name}: the submission time is not the first column ({names[0]!r})")

        def move(m):
            return m.group(1) + str(int(m.group(2)) + years)

        out = [lines[0]] + [re.sub(r"^(\"?\d{1,2}[-./]\d{1,2}[-./])(\d{4})", move, ln) for ln in lines[1:]]
        target.write_bytes("".join(out).encode("cp1252"))
        return
    import openpyxl

    wb = openpyxl.load_workbook(source)
    moved = 0
    for ws in wb.worksheets:
        column = None
        for row in ws.iter_rows():
            for cell in row:
                if column is None and cell.value == header:
                    column = cell.column
                elif column is not None and cell.column == column and isinstance(cell.value, dt.datetime):
                    cell.value = _shift_year(cell.value, years)
                    moved += 1
    if not moved:
        raise SystemExit(f"{source.name}: no submission times under {header!r}")
    wb.save(target)


def add_scaling_rounds(raw: Path, n: int) -> dict:
    """Rounds SCALE_FIRST_YEAR, ... as shifted copies of the two example exports, alternating (consecutive rounds
    differ), recorded in the raw copy's manifest; the ``rounds`` of the config."""
    from helpers.data import provenance

    os.environ["BORGERSERVICE_RAW"] = str(raw)
    try:
        rounds = {}
        for k in range(n):
            src, codebook, src_year = SCALE_SOURCES[k % len(SCALE_SOURCES)]
            year = SCALE_FIRST_YEAR + k
            rel = f"survey/bench_survey_{year}{Path(src).suffix}"
            shifted_export(raw / src, raw / rel, codebook, year - src_year)
            provenance.record(
                raw / rel,
                source=f"copy of {src}, submission times moved to {year} (benchmark)",
                licence="CC0-1.0 (synthetic)",
                synthetic=True,
                description=f"SYNTHETIC benchmark round {year}: {src} with its submission times in {year}",
                provenance="benchmarks/run_benchmark.py",
            )
            rounds[year] = {"input_path": rel, "codebook": codebook}
        return rounds
    finally:
        del os.environ["BORGERSERVICE_RAW"]


# --- interactive -------------------------------------------------------------------------------------------

INTERACTIVE_CODE = r"""
import ast, json, sys, time
import nbformat, psutil
from nbclient import NotebookClient
from helpers.core import paths
notebook, cells, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for _ in range(repeats):
    nb = nbformat.read(paths.notebooks() / f"{notebook}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if cells == -1:  # the parameters cell, then the import cell split in two: its import statements, then the rest
        tree = ast.parse(code[1].source)
        n = next((i for i, node in enumerate(tree.body) if not isinstance(node, (ast.Import, ast.ImportFrom))), None)
        end = tree.body[n].lineno - 1 if n is not None else len(code[1].source.splitlines())
        lines = code[1].source.splitlines()
        new = nbformat.v4.new_code_cell
        code = [code[0], new("\n".join(lines[:end])), new("\n".join(lines[end:]))]
    elif cells:
        code = code[:cells]
    nb.cells = code
    client = NotebookClient(nb, kernel_name=sys.argv[4], timeout=1200,
                            resources={"metadata": {"path": str(paths.notebooks())}})
    t = time.perf_counter()
    with client.setup_kernel():
        started = time.perf_counter() - t
        kernel = psutil.Process(client.km.provisioner.pid)  # its CPU time: firmer than wall time on a busy machine
        seconds, cpu = [], []
        for i, cell in enumerate(nb.cells):
            t, c = time.perf_counter(), sum(kernel.cpu_times()[:2])
            client.execute_cell(cell, i)
            seconds.append(round(time.perf_counter() - t, 3))
            cpu.append(round(sum(kernel.cpu_times()[:2]) - c, 3))
    out.append({"kernel_start_seconds": round(started, 3), "cells_seconds": seconds, "cells_cpu_seconds": cpu})
print(json.dumps(out))
"""


def interactive(notebook: str, cells: int, repeats: int, env: dict) -> list[dict]:
    """Cells of ``notebook`` in a fresh kernel started as its spec says (``cells``: how many code cells, 0 = all,
    -1 = the parameters cell, then the import cell as two cells: its import statements and the rest), ``repeats``
    times; per repeat: the kernel start and each cell's seconds."""
    done = subprocess.run(
        [str(PY), "-c", INTERACTIVE_CODE, notebook, str(cells), str(repeats), KERNEL],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return [{"error": done.stderr.strip()[-800:]}]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the benchmark -----------------------------------------------------------------------------------------


def git_state() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD") or None, "dirty": bool(git("status", "--porcelain", "-uno"))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"1 pair, rounds 3 and 4, simulation reps {QUICK_REPS}")
    ap.add_argument("--pairs", type=int, default=None, help="alternating cold/floor pairs (default 3; quick 1)")
    ap.add_argument("--rounds", nargs="+", type=int, default=None, help="scaling round counts (default 3 4 5 6)")
    ap.add_argument("--fresh-kernels", action="store_true", help="add a cold run without the kernel template per pair")
    ap.add_argument("--skip-tests", action="store_true", help="do not time make test")
    ap.add_argument(
        "--leave-out",
        nargs="+",
        default=[],
        metavar="ID",
        help="fixed runs of the shipped config to leave out (04_adoption_real, ...)",
    )
    ap.add_argument(
        "--run-all",
        nargs="+",
        default=None,
        help=f"notebooks whose Run All is timed (default {' '.join(INTERACTIVE)}; quick: {INTERACTIVE[0]})",
    )
    ap.add_argument("--only", nargs="+", default=None, help="sections: cold warm scaling interactive report tests")
    ap.add_argument("--output", default=None, help="JSON results (default benchmarks/results/benchmark[-quick].json)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = ap.parse_args(argv)
    sections = set(args.only or ["cold", "warm", "scaling", "interactive", "report", "tests"])
    if args.skip_tests:
        sections.discard("tests")
    n_pairs = args.pairs or (1 if args.quick else 3)
    interactive_notebooks = args.run_all or (INTERACTIVE[:1] if args.quick else INTERACTIVE)
    scale_ns = args.rounds or ([3, 4] if args.quick else [3, 4, 5, 6])
    output = Path(args.output) if args.output else HERE / "results" / f"benchmark{'-quick' if args.quick else ''}.json"
    global SNAPSHOT

    tmp = Path(tempfile.mkdtemp(prefix="borgerservice-bench-"))
    t_all = time.perf_counter()
    log(f"benchmark ({'quick' if args.quick else 'full'}) in {tmp}; {CORES} cores, load {os.getloadavg()}")
    result: dict = {
        "benchmark": "borgerservice: what users wait for (issue 28)",
        "mode": "quick" if args.quick else "full",
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": {
            "cores": CORES,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "pairs": n_pairs,
            "workers": CORES,
            "scaling_rounds": scale_ns,
            "simulation_reps": {"03": QUICK_REPS, "04": QUICK_ADOPTION} if args.quick else "notebook defaults",
            "sections": sorted(sections),
            "left_out_of_the_shipped_config": args.leave_out,
            "run_all_notebooks": interactive_notebooks,
        },
        "targets": {},
    }
    valid = True
    try:
        SNAPSHOT = snapshot(tmp)
        raw = tmp / "raw"
        from helpers.core import paths

        shutil.copytree(paths.raw(), raw)
        project = yaml.safe_load((SNAPSHOT / "config" / "pipeline.yaml").read_text(encoding="utf-8"))
        shipped = write_config(tmp / "shipped", shipped_config(project, args.quick, args.leave_out))
        last_cold: Path | None = None

        if sections & {"cold", "warm", "interactive", "report"}:
            kinds = ["cold", "floor"] + (["fresh"] if args.fresh_kernels else [])
            groups = []
            for i, order in enumerate(pairs_of(kinds, n_pairs if "cold" in sections else 1)):
                group = {}
                for kind in order:
                    name = f"{kind}_{i}"
                    log(f"1. {name}: {'floor (plain Python)' if kind == 'floor' else 'borgerservice run --force'}")
                    if kind == "floor":
                        group[kind] = floor(name, tmp, raw, shipped)
                    else:
                        extra = {"BORGERSERVICE_KERNEL_FORK": "0"} if kind == "fresh" else {}
                        group[kind] = cold(name, tmp, raw, shipped, CORES, **extra)
                        if kind == "cold":
                            last_cold = Path(group[kind]["case"])
                    log(f"   {group[kind]['wall_seconds']:.1f} s wall, {group[kind]['cpu_seconds']:.1f} s CPU")
                    valid &= group[kind]["ok"]
                groups.append(group)
            cold_result = {
                "runs_in_config": len(groups[0]["cold"]["runs"]),
                "groups": groups,
                "cold_wall": summary_of([g["cold"]["wall_seconds"] for g in groups]),
                "cold_cpu": summary_of([g["cold"]["cpu_seconds"] for g in groups]),
                "floor_wall": summary_of([g["floor"]["wall_seconds"] for g in groups]),
                "floor_cpu": summary_of([g["floor"]["cpu_seconds"] for g in groups]),
                "cold_over_floor": ratios(groups, "cold", "floor"),
            }
            if args.fresh_kernels:
                cold_result["fresh_kernels_wall"] = summary_of([g["fresh"]["wall_seconds"] for g in groups])
                cold_result["fresh_kernels_cpu"] = summary_of([g["fresh"]["cpu_seconds"] for g in groups])
                cold_result["fresh_over_floor"] = ratios(groups, "fresh", "floor")
                cold_result["cold_over_fresh"] = ratios(groups, "cold", "fresh")
            per_run = {}
            for rid in groups[0]["cold"]["runs"]:
                per_run[rid] = {
                    "pipeline": summary_of([g["cold"]["runs"].get(rid) for g in groups]),
                    "floor": summary_of([g["floor"]["runs"].get(rid) for g in groups]),
                }
            cold_result["per_run_seconds"] = per_run
            result["cold"] = cold_result
            ratio = cold_result["cold_over_floor"]["wall"].get("median")
            result["targets"]["cold_over_floor_wall"] = {
                "value": ratio,
                "range": [
                    cold_result["cold_over_floor"]["wall"].get("min"),
                    cold_result["cold_over_floor"]["wall"].get("max"),
                ],
                "cpu_ratio": cold_result["cold_over_floor"]["cpu"].get("median"),
                "limit": TARGETS["cold_over_floor_wall"],
                "pass": ratio is not None and ratio <= TARGETS["cold_over_floor_wall"],
            }

        if "warm" in sections and last_cold is not None:
            log("2. warm re-run, nothing changed (5 times)")
            warm = []
            for i in range(5):
                cmd = CLI + ["run", "--config", str(shipped), "--workers", str(CORES)]
                m = measure(f"warm_{i}", cmd, env_for(last_cold, raw), tmp)
                m["all_skipped"] = set(r["status"] for r in manifest_runs(last_cold).values()) == {"skipped"}
                warm.append(m)
            code = (
                "import time; t = time.process_time(); import helpers.running.pipeline; print(time.process_time() - t)"
            )
            imp = [
                float(
                    subprocess.run(
                        [str(PY), "-c", code], env=env_for(last_cold, raw), capture_output=True, text=True
                    ).stdout
                    or "nan"
                )
                for _ in range(5)
            ]
            result["warm_rerun"] = {
                "wall": summary_of([w["wall_seconds"] for w in warm]),
                "cpu": summary_of([w["cpu_seconds"] for w in warm]),
                "all_skipped": all(w["all_skipped"] for w in warm),
                "import_pipeline_cpu_seconds": summary_of(imp),
                "measurements": warm,
            }
            valid &= result["warm_rerun"]["all_skipped"]
            wall, cpu = result["warm_rerun"]["wall"]["median"], result["warm_rerun"]["cpu"]["median"]
            result["targets"]["warm_rerun_seconds"] = {
                "value": wall,
                "cpu": cpu,
                "limit": TARGETS["warm_rerun_seconds"],
                "pass": wall < TARGETS["warm_rerun_seconds"] and result["warm_rerun"]["all_skipped"],
            }
            log(f"   wall {result['warm_rerun']['wall']}, CPU {result['warm_rerun']['cpu']}")

        if "scaling" in sections:
            scale_raw = tmp / "raw_scaling"
            shutil.copytree(raw, scale_raw)
            all_rounds = add_scaling_rounds(scale_raw, max(scale_ns))
            scaling = {}
            for k, n in enumerate(scale_ns):
                cfg = write_config(tmp / f"scale_{n}", scaling_config(project, dict(list(all_rounds.items())[:n])))
                group = {}
                for kind in pairs_of(["cold", "floor"], k + 1)[k]:
                    name = f"scale_{n}_{kind}"
                    log(f"3. {n} rounds: {kind}")
                    group[kind] = (
                        cold(name, tmp, scale_raw, cfg, CORES) if kind == "cold" else floor(name, tmp, scale_raw, cfg)
                    )
                    valid &= group[kind]["ok"]
                scaling[str(n)] = {
                    "notebooks": len(group["cold"]["runs"]),
                    "cold_wall_seconds": group["cold"]["wall_seconds"],
                    "cold_cpu_seconds": group["cold"]["cpu_seconds"],
                    "floor_wall_seconds": group["floor"]["wall_seconds"],
                    "floor_cpu_seconds": group["floor"]["cpu_seconds"],
                    "cold_over_floor_wall": round(group["cold"]["wall_seconds"] / group["floor"]["wall_seconds"], 2),
                    "cold_over_floor_cpu": round(group["cold"]["cpu_seconds"] / group["floor"]["cpu_seconds"], 2),
                    "load": {kind: LOAD[f"scale_{n}_{kind}"] for kind in group},
                }
                log(f"   {scaling[str(n)]}")
            result["scaling"] = scaling

        if "interactive" in sections and last_cold is not None:
            env = env_for(last_cold, raw)
            env["BORGERSERVICE_REPORTS"] = str(tmp / "interactive_reports")
            runs = {}
            for nb in interactive_notebooks:
                log(f"4. Run All of {nb} in a fresh kernel (twice)")
                reps = interactive(nb, 0, 2, env)
                if "error" in reps[0]:
                    log(f"   WARNING: {reps[0]['error'][-300:]}")
                    valid = False
                    runs[nb] = reps
                    continue
                runs[nb] = {
                    "run_all_seconds": [round(sum(r["cells_seconds"]), 2) for r in reps],
                    "run_all_kernel_cpu_seconds": [round(sum(r["cells_cpu_seconds"]), 2) for r in reps],
                    "kernel_start_seconds": [r["kernel_start_seconds"] for r in reps],
                    "cells_seconds": [r["cells_seconds"] for r in reps],
                }
                log(f"   Run All {runs[nb]['run_all_seconds']} s")
            imports, import_cells, import_cpu = {}, {}, {}
            for nb in sorted(p.stem for p in (SNAPSHOT / "notebooks").glob("*.ipynb")):
                # the second of two fresh kernels (warm file cache): the import cell's imports, then the rest of it
                reps = interactive(nb, -1, 2, env)
                if "error" in reps[0]:
                    imports[nb] = import_cells[nb] = reps[0]["error"][-300:]
                    continue
                imports[nb] = reps[-1]["cells_seconds"][1]
                import_cells[nb] = round(reps[-1]["cells_seconds"][1] + reps[-1]["cells_seconds"][2], 3)
                import_cpu[nb] = reps[-1]["cells_cpu_seconds"][1]
            log(f"   import statements of the import cell (warm file cache): {imports}")
            log(f"   the whole import cell (its imports and the work after them): {import_cells}")
            result["interactive"] = {
                "run_all": runs,
                "import_cell_imports_seconds_warm": imports,
                "import_cell_whole_seconds_warm": import_cells,
                "import_cell_imports_kernel_cpu_seconds_warm": import_cpu,
            }
            if "03_model_usage" in runs and isinstance(runs["03_model_usage"], dict):
                v = runs["03_model_usage"]["run_all_seconds"][-1]
                result["targets"]["run_all_03_seconds"] = {
                    "value": v,
                    "kernel_cpu_seconds": runs["03_model_usage"]["run_all_kernel_cpu_seconds"][-1],
                    "limit": TARGETS["run_all_03_seconds"],
                    "pass": v < TARGETS["run_all_03_seconds"],
                }
            timed = {k: v for k, v in imports.items() if isinstance(v, float)}
            if timed:
                worst = max(timed, key=timed.get)
                result["targets"]["import_cell_seconds"] = {
                    "value": timed[worst],
                    "notebook": worst,
                    "what": "the import statements of each notebook's import cell, second fresh kernel",
                    "whole_cell_seconds": import_cells.get(worst),
                    "kernel_cpu_seconds": import_cpu.get(worst),
                    "max_kernel_cpu_seconds": max(import_cpu.values(), default=None),
                    "limit": TARGETS["import_cell_seconds"],
                    "pass": timed[worst] < TARGETS["import_cell_seconds"] and len(timed) == len(imports),
                }

        if "report" in sections and last_cold is not None:
            log("5. make report (borgerservice report)")
            rep = measure("report", CLI + ["report"], env_for(last_cold, raw), tmp)
            result["report"] = rep
            valid &= rep["exit_code"] == 0
            result["targets"]["report_seconds"] = {
                "value": rep["wall_seconds"],
                "cpu": rep["cpu_seconds"],
                "limit": TARGETS["report_seconds"],
                "pass": rep["exit_code"] == 0 and rep["wall_seconds"] < TARGETS["report_seconds"],
            }
            log(f"   {rep['wall_seconds']} s wall, {rep['cpu_seconds']} s CPU")

        if "tests" in sections:
            log("5. make test (ruff, then pytest in parallel)")
            env = {k: v for k, v in os.environ.items() if not k.startswith("BORGERSERVICE_")}
            test = measure("make_test", ["make", "test"], env, tmp)
            tail = (tmp / "make_test.log").read_text(errors="replace").strip().splitlines()[-1:]
            test["summary"] = tail[0] if tail else ""
            result["tests"] = test
            valid &= test["exit_code"] == 0
            result["targets"]["test_seconds"] = {
                "value": test["wall_seconds"],
                "cpu": test["cpu_seconds"],
                "limit": TARGETS["test_seconds"],
                "pass": test["exit_code"] == 0 and test["wall_seconds"] <= TARGETS["test_seconds"],
            }
            log(f"   {test['wall_seconds']} s wall, {test['cpu_seconds']} s CPU: {test['summary']}")
    finally:
        result["valid"] = bool(valid)
        result["load"] = LOAD
        result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        result["duration_seconds"] = round(time.perf_counter() - t_all, 1)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if args.keep or not valid:
            log(f"kept {tmp} (every measurement's log and outputs)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_summary(result, output)
    return 0 if result["valid"] else 1


def print_summary(r: dict, output: Path) -> None:
    lines = [
        "",
        f"Benchmark ({r['mode']}, {r['machine']['cores']} cores, git {r['git']['commit']}"
        f"{' dirty' if r['git']['dirty'] else ''}), {r['duration_seconds']:.0f} s, load average "
        f"{r['machine']['loadavg_start'][0]} -> {r['machine']['loadavg_end'][0]}"
        + ("" if r["valid"] else "  ** A MEASURED COMMAND FAILED: times not comparable **"),
    ]
    if "cold" in r:
        c = r["cold"]
        lines.append(
            f"  cold {c['cold_wall']} s wall, {c['cold_cpu']} s CPU; "
            f"floor {c['floor_wall']} s wall, {c['floor_cpu']} s CPU"
        )
        lines.append(f"  cold/floor: wall {c['cold_over_floor']['wall']}, CPU {c['cold_over_floor']['cpu']}")
        if "cold_over_fresh" in c:
            lines.append(f"  with the template / fresh kernels: {c['cold_over_fresh']}")
    for n, s in (r.get("scaling") or {}).items():
        lines.append(
            f"  {n} rounds ({s['notebooks']} notebooks): "
            f"cold {s['cold_wall_seconds']} s ({s['cold_cpu_seconds']} CPU), "
            f"floor {s['floor_wall_seconds']} s ({s['floor_cpu_seconds']} CPU)"
        )
    for name, t in r["targets"].items():
        verdict = {True: "PASS", False: "FAIL"}[bool(t["pass"])]
        lines.append(f"  {verdict}  {name}: {t['value']} (limit {t['limit']})")
    lines.append(f"results: {output}")
    log("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
