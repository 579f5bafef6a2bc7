"""Benchmark of the simulation engine (issue 15): batched fitter vs a statsmodels loop, and the cold pipeline.

1. **Fits.** The same 2,000 simulated datasets of the real design (98 kommuner, cooperation
   categories + the controls, NB2 with alpha 0.04): ``models.fit_negbin_batch`` on all of them,
   against (a) a loop of statsmodels GLM fits at the dispersion the batch estimated (one fit per
   dataset: a lower bound for any statsmodels loop, it estimates nothing), over all 2,000, and
   (b) the package's single fit ``models.fit_count`` (statsmodels GLM with the dispersion
   searched), on the first ``--single`` datasets, per fit. Target: >= 20x per fit.
2. **Cold pipeline.** ``borgerservice run --force`` of the shipped config/pipeline.yaml, in
   fresh output folders, for two git checkouts side by side (by default the new checkout's config
   keeps only the notebooks the base config ran, so that notebooks added by other issues since
   do not count; ``--shipped`` runs it whole): the commit before the change
   (``--base``, default 3c539b2: 200 repetitions, power at the true dispersion) and ``--new``
   (default HEAD: coverage 2,000, power 1,000 per effect, dispersion estimated in every dataset).
   Each checkout is a ``git worktree`` in a temporary folder, imported first through PYTHONPATH
   (the CLI and the kernels then use its helpers, notebooks and config). Wall time and the CPU
   seconds of all child processes are recorded; target: new <= half of base.

The machine is shared: the script records the load average around each measurement and runs the
two pipelines alternately (base, new, base, new, ... ``--repeats`` times, default 2), so that a
burst of load from other work falls on both; the ratios are reported per pair and as the median,
for wall time and for the CPU seconds of the child processes (which load inflates much less).

    .venv/bin/python benchmarks/simulation_benchmark.py            # writes benchmarks/results/simulation.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from helpers.analysis import models, simulation
from helpers.core import files
from helpers.data import reference

ROOT = Path(__file__).resolve().parents[1]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def real_design() -> pd.DataFrame:
    """The 98 kommuner with their population (2011) and controls, and a cooperation model drawn at random (seed 7)."""
    m = reference.load_municipalities()
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "kommunekode": m["kommunekode"],
            "population": m["population_2011"],
            "kommunegruppe": m["kommunegruppe"],
            "merged_2007": m["merged_2007"],
            "model": rng.choice([5, 1, 2, 3, 4], 98, p=[0.4, 0.15, 0.2, 0.15, 0.1]),
        }
    )


def design(reps: int, seed: int = 3):
    base = real_design()
    X, offset = simulation.count_design(base)
    mu = (
        base["population"].to_numpy()
        * 5.0
        * base["model"].map({1: 1.05, 2: 1.1, 3: 1.1, 4: 1.2}).fillna(1.0).to_numpy()
    )
    return base, X, offset, simulation.simulate_nb(mu, 0.04, np.random.default_rng(seed), reps)


def bench_fits(reps: int, single: int) -> dict:
    base, X, offset, Y = design(reps)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):  # as simulation.run_chunks does
        walls, cpus = [], []
        for _ in range(5):  # a 0.3-1 s burst on a shared machine: the best of 5, as timeit does
            t, c = time.perf_counter(), time.process_time()
            fit = models.fit_negbin_batch(X.to_numpy(), Y, offset)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        batch, batch_cpu = min(walls), min(cpus)
    t, c = time.perf_counter(), time.process_time()
    glm_params = np.empty_like(fit.params)
    for r in range(reps):
        glm_params[r] = (
            sm.GLM(Y[r], X, family=sm.families.NegativeBinomial(alpha=fit.alpha[r]), offset=offset).fit().params
        )
    loop, loop_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    for r in range(single):
        models.fit_count(base.assign(y=Y[r]), "y")
    single_time = time.perf_counter() - t
    return {
        "datasets": reps,
        "not_converged": fit.n_failed,
        "batched_seconds": round(batch, 3),
        "batched_seconds_all_repeats": [round(w, 3) for w in walls],
        "batched_per_fit_ms": round(1000 * batch / reps, 4),
        "statsmodels_glm_loop_seconds": round(loop, 2),
        "statsmodels_glm_loop_per_fit_ms": round(1000 * loop / reps, 3),
        "package_single_fit_datasets": single,
        "package_single_fit_per_fit_ms": round(1000 * single_time / single, 2),
        "batched_cpu_seconds": round(batch_cpu, 3),
        "statsmodels_glm_loop_cpu_seconds": round(loop_cpu, 2),
        "speedup_vs_glm_loop": round(loop / batch, 1),
        "speedup_vs_glm_loop_cpu": round(loop_cpu / batch_cpu, 1),
        "speedup_vs_package_single_fit": round(single_time / single / (batch / reps), 1),
        "max_abs_coef_difference_glm_loop": float(np.max(np.abs(glm_params - fit.params))),
    }


def checkout(commit: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit], check=True, capture_output=True
    )
    return where


def same_runs(new_tree: Path, base_tree: Path) -> list[str]:
    """Drop from the new checkout's config the runs whose notebook the base config did not run (other issues'
    new notebooks), so that both pipelines run the same notebooks; returns what was dropped."""
    import yaml

    def sections(doc):  # every list of runs in the config (runs, per_round, per_pair, per_round_set, ...)
        return [
            k
            for k, v in doc.items()
            if isinstance(v, list) and v and all(isinstance(i, dict) and "notebook" in i for i in v)
        ]

    base_doc = yaml.safe_load((base_tree / "config" / "pipeline.yaml").read_text())
    base_nbs = {item.get("notebook") for sec in sections(base_doc) for item in base_doc[sec]}
    path = new_tree / "config" / "pipeline.yaml"
    doc = yaml.safe_load(path.read_text())
    dropped = []
    for sec in sections(doc):
        dropped += [item["id"] for item in doc[sec] if item.get("notebook") not in base_nbs]
        doc[sec] = [item for item in doc[sec] if item.get("notebook") in base_nbs]
    kept_ids = {item["id"] for sec in sections(doc) for item in doc[sec]}
    for sec in sections(doc):
        for item in doc[sec]:
            if "needs" in item:
                item["needs"] = [n for n in item["needs"] if n in kept_ids or "{" in n]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return dropped


def cold_run(tree: Path, tmp: Path, workers: int) -> dict:
    out = tmp / "out"
    (out / "processed").mkdir(parents=True)
    (out / "reports").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "BORGERSERVICE_PROCESSED": str(out / "processed"),
        "BORGERSERVICE_REPORTS": str(out / "reports"),
    }
    env.pop("BORGERSERVICE_RAW", None)
    load = os.getloadavg()[0]
    cpu, t = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "borgerservice"), "run", "--force", "--workers", str(workers)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    wall, cpu = time.perf_counter() - t, _children_cpu() - cpu
    manifest = json.loads((out / "reports" / "run_manifest.json").read_text())
    runs = {r["id"]: {"status": r.get("status"), "seconds": r.get("seconds")} for r in manifest.get("runs", [])}
    failed = {k: v["status"] for k, v in runs.items() if v["status"] not in ("ok", "skipped")}
    reps = {}
    for path in (out / "reports" / "results").rglob("03_model_*.json"):
        doc = json.loads(path.read_text())
        res = doc.get("results", doc)
        cov, power = res.get("coverage"), res.get("power", {})
        reps[path.stem] = {
            "coverage": cov.get("reps") if isinstance(cov, dict) else 200,  # before: a list of rows, 200 reps
            "power_per_effect": power.get("reps", 200),
        }
    sim_seconds = {k: v["seconds"] for k, v in runs.items() if k.startswith("03_model")}
    return {
        "ok": proc.returncode == 0,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "loadavg_before": round(load, 2),
        "loadavg_after": round(os.getloadavg()[0], 2),
        "model_runs_seconds_total": round(sum(v or 0 for v in sim_seconds.values()), 1),
        "runs": runs,
        "failed": failed,
        "repetitions": reps,
        "stderr_tail": proc.stdout[-1500:] if proc.returncode else "",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="3c539b2", help="commit before the change")
    ap.add_argument("--new", default="HEAD")
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--single", type=int, default=100, help="datasets for the package's single fit (slow)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-pipeline", action="store_true")
    ap.add_argument("--repeats", type=int, default=2, help="alternating base/new pairs of cold runs")
    ap.add_argument(
        "--shipped",
        action="store_true",
        help="run the new checkout's whole config (default: only the notebooks the base config ran)",
    )
    ap.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "simulation.json")
    args = ap.parse_args()
    commits = {
        k: subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", c], capture_output=True, text=True, check=True
        ).stdout.strip()
        for k, c in (("base", args.base), ("new", args.new))
    }
    result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "cores": os.cpu_count(),
        "commits": commits,
        "fits": bench_fits(args.reps, args.single),
    }
    print(json.dumps(result["fits"], indent=1))
    if not args.skip_pipeline:
        with tempfile.TemporaryDirectory(prefix="bench15-") as tmp:
            tmp = Path(tmp)
            trees = {k: checkout(c, tmp / f"tree-{k}") for k, c in commits.items()}
            try:
                result["cold_pipeline"] = {"same_notebooks_as_base": not args.shipped}
                if not args.shipped:
                    result["cold_pipeline"]["dropped_from_new_config"] = same_runs(trees["new"], trees["base"])
                pairs = []
                for i in range(args.repeats):  # alternately, in one run
                    pair = {}
                    for k in ("base", "new"):
                        pair[k] = cold_run(trees[k], tmp / f"run-{k}-{i}", args.workers)
                        print(
                            i,
                            k,
                            json.dumps(
                                {x: pair[k][x] for x in ("ok", "wall_seconds", "cpu_seconds", "loadavg_before")}
                            ),
                            flush=True,
                        )
                    pair["new_over_base_wall"] = round(pair["new"]["wall_seconds"] / pair["base"]["wall_seconds"], 3)
                    pair["new_over_base_cpu"] = round(pair["new"]["cpu_seconds"] / pair["base"]["cpu_seconds"], 3)
                    pair["new_over_base_model_runs"] = round(
                        pair["new"]["model_runs_seconds_total"] / pair["base"]["model_runs_seconds_total"], 3
                    )
                    pairs.append(pair)
            finally:
                for tree in trees.values():
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True
                    )
        cp = result["cold_pipeline"]
        cp["pairs"] = pairs
        cp["base"], cp["new"] = (
            pairs[-1]["base"],
            pairs[-1]["new"],
        )  # the last pair in full (earlier ones under "pairs")
        for key in ("new_over_base_wall", "new_over_base_cpu", "new_over_base_model_runs"):
            cp[key] = round(float(np.median([p[key] for p in pairs])), 3)
            cp[f"{key}_each"] = [p[key] for p in pairs]
    fits = result["fits"]
    result["targets"] = {"fit_speedup_at_least_20": fits["speedup_vs_glm_loop"] >= 20}
    if "cold_pipeline" in result:
        result["targets"]["cold_pipeline_at_most_half"] = result["cold_pipeline"]["new_over_base_wall"] <= 0.5
        result["targets"]["both_pipelines_succeeded"] = all(p["base"]["ok"] and p["new"]["ok"] for p in cp["pairs"])
    files.write_json(args.output, result)
    print(json.dumps(result["targets"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
