"""Benchmark of issue 13: the warm re-run with full content checking, and the cold run against the
code before content keys (``--baseline COMMIT``).

    .venv/bin/python benchmarks/warm_rerun.py [--baseline COMMIT] [--repeats 5]

Uses run_benchmark.py's machinery: a snapshot of src/helpers, notebooks/ and config/ (or, for the
baseline, ``git archive`` of them at COMMIT) first on PYTHONPATH, a copy of data/raw, outputs in a
temporary folder, the project's config/pipeline.yaml with rounds 2009 and 2011. Measures, as wall
time of the `borgerservice run` subprocess:

1. cold run (``--force``, workers = cores), new code, and the baseline's cold run right after it;
2. warm re-run, nothing changed: every input hashed through the stat cache, every recorded output
   checked (stat, cache), ``repeats`` times;
3. warm re-run without the hash cache (``reports/.hash_cache.json`` deleted before each): every
   input and output file is read and hashed again — the cost of content checking from scratch.

Writes benchmarks/results/warm_rerun.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import run_benchmark as rb
import yaml

rb.QUIET_MAX_WAIT = 10  # a shared machine is never idle: record the load instead of waiting for it

TARGET_WARM = 1.0  # seconds, issue 13


def archive(commit: str, tmp: Path) -> Path:
    tree = tmp / f"tree-{commit[:8]}"
    tree.mkdir()
    tar = subprocess.run(
        ["git", "archive", commit, "pyproject.toml", "src/helpers", "notebooks", "config"],
        cwd=rb.ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=tar, check=True)
    return tree


def raw_and_config(tmp: Path) -> tuple[Path, dict]:
    """A copy of data/raw in ``tmp``, and the shipped pipeline config without its rounds and the export step."""
    raw = tmp / "raw"
    shutil.copytree(rb.paths_raw(), raw)
    doc = yaml.safe_load((rb.ROOT / "config" / "pipeline.yaml").read_text(encoding="utf-8"))
    doc.pop("rounds", None)
    # the export step reads every round of the project's own config, not of this one; and it is not in the baseline
    doc["runs"] = [r for r in doc.get("runs") or [] if r["id"] != "05_export_data"]
    return raw, doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--baseline", default=None, help="commit whose cold run to compare (e.g. the one before content keys)"
    )
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--output", default=str(rb.HERE / "results" / "warm_rerun.json"))
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bs-warm-"))
    try:
        raw, doc = raw_and_config(tmp)
        config = rb.write_config(tmp / "config", doc, rb.COLD_ROUNDS)
        rb.SNAPSHOT = rb.snapshot(tmp)
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git": rb.git_state(),
            "cores": rb.CORES,
            "rounds": sorted(rb.COLD_ROUNDS),
        }
        rb.log("1. cold run, new code")
        cold = rb.pipeline_run("cold", tmp, raw, config, rb.CORES, force=True)
        result["cold_run"] = {
            "wall_seconds": cold["wall_seconds"],
            "ok": cold["ok"],
            "status_counts": cold["status_counts"],
            "runs": {k: v["seconds"] for k, v in cold["runs"].items()},
        }
        case = tmp / "cold"
        rb.log("2. warm re-runs, nothing changed")
        warm = [
            rb.pipeline_run(f"warm_{i}", tmp, raw, config, rb.CORES, force=False, case=case)
            for i in range(args.repeats)
        ]
        secs = [w["wall_seconds"] for w in warm]
        skipped = all(set(w["status_counts"]) == {"skipped"} for w in warm)
        result["warm_rerun"] = {"wall_seconds": secs, "median_seconds": statistics.median(secs), "all_skipped": skipped}
        rb.log(f"   {secs}; all skipped: {skipped}")
        rb.log("3. warm re-runs without the hash cache (every file read and hashed)")
        nocache = []
        for i in range(max(3, args.repeats // 2)):
            (case / "reports" / ".hash_cache.json").unlink(missing_ok=True)
            nocache.append(rb.pipeline_run(f"nocache_{i}", tmp, raw, config, rb.CORES, force=False, case=case))
        ns = [w["wall_seconds"] for w in nocache]
        manifest = json.loads((case / "reports" / "run_manifest.json").read_text(encoding="utf-8"))
        n_out = sum(len(r.get("outputs", {})) for r in manifest["runs"])
        size = sum(f.stat().st_size for f in list(raw.rglob("*")) + list(case.rglob("*")) if f.is_file())
        result["warm_rerun_no_cache"] = {
            "wall_seconds": ns,
            "median_seconds": statistics.median(ns),
            "all_skipped": all(set(w["status_counts"]) == {"skipped"} for w in nocache),
            "outputs_checked": n_out,
            "inputs_checked": len(manifest["inputs"]),
            "megabytes_hashed": round(size / 1e6, 1),
        }
        rb.log(f"   {ns}; {n_out} outputs, {len(manifest['inputs'])} raw inputs, {size / 1e6:.1f} MB")
        if args.baseline:
            rb.log(f"4. cold run, baseline {args.baseline}")
            rb.SNAPSHOT = archive(args.baseline, tmp)
            base = rb.pipeline_run("baseline_cold", tmp, raw, config, rb.CORES, force=True)
            result["baseline_cold_run"] = {
                "commit": args.baseline,
                "wall_seconds": base["wall_seconds"],
                "ok": base["ok"],
                "runs": {k: v["seconds"] for k, v in base["runs"].items()},
            }
            result["cold_over_baseline"] = round(cold["wall_seconds"] / base["wall_seconds"], 3)
        result["load"] = rb.LOAD
        result["targets"] = {
            "warm_rerun_at_most_1s": {
                "value": result["warm_rerun"]["median_seconds"],
                "limit": TARGET_WARM,
                "pass": result["warm_rerun"]["median_seconds"] <= TARGET_WARM and skipped,
            }
        }
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        rb.log(json.dumps({k: v for k, v in result.items() if k not in ("load", "git")}, indent=1)[:3000])
        return 0 if cold["ok"] else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
