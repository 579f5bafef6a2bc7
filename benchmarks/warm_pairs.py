"""The warm no-change re-run of this tree against an earlier commit, in alternating pairs (issue 27).

    .venv/bin/python benchmarks/warm_pairs.py [--before dc93f66] [--pairs 10]

Issue 27 checks, when each run ends, that nothing its key was computed from changed, and reads the
run manifest and the hash cache field by field; the warm re-run with nothing changed must stay below
0.5 s (issue 28 wants 0.3 s). Both trees (this working tree, snapshotted, and ``git archive`` of
``--before``) get one cold run of the project's config with rounds 2009 and 2011 (05_export_data left
out, as in warm_rerun.py), each in its own output folders; then `borgerservice run` with nothing
changed (every run skipped) is timed ``--pairs`` times per tree, alternately (after, before, before,
after, ...: each tree first in half of the pairs), so that the machine's drift touches both alike.
Wall time and CPU time (the command and its children) of each re-run; the difference after - before
is taken pair by pair.

Writes benchmarks/results/warm_pairs.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import run_benchmark as rb
import warm_rerun

TARGET = 0.5  # seconds: the warm no-change re-run, issue 27 (issue 28: 0.3 s)


def _timed(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the command and its children, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    rc = subprocess.run(cmd, env=env, cwd=rb.ROOT, capture_output=True).returncode
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, rc


def _summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="dc93f66", help="the commit to compare with (default dc93f66, issue 27's base)")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="the cold runs with run_benchmark.py's --quick parameters")
    ap.add_argument("--leave-out", nargs="+", default=[], metavar="ID", help="fixed runs left out")
    ap.add_argument("--output", type=Path, default=rb.HERE / "results" / "warm_pairs.json")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bs-warm-pairs-"))
    try:
        raw, doc = warm_rerun.raw_and_config(tmp)
        doc = rb.shipped_config(doc, args.quick, args.leave_out)
        config = rb.write_config(tmp / "config", doc, rb.COLD_ROUNDS)
        trees = {"after": rb.snapshot(tmp), "before": warm_rerun.archive(args.before, tmp)}
        cmd = rb.CLI + ["run", "--config", str(config)]
        envs = {}
        for side, tree in trees.items():
            rb.SNAPSHOT = tree
            envs[side] = rb.env_for(tmp / side, raw)
            rb.log(f"cold run, {side}")
            wall, _, rc = _timed([*cmd, "--force"], envs[side])
            if rc:
                raise SystemExit(f"the cold run of {side} failed (exit {rc}); see {tmp / side}")
            rb.log(f"  {wall:.1f} s")
        rows: dict[str, list[tuple[float, float]]] = {"after": [], "before": []}
        for i in range(args.pairs):
            for side in ("after", "before") if i % 2 == 0 else ("before", "after"):
                wall, cpu, rc = _timed(cmd, envs[side])
                manifest = json.loads((tmp / side / "reports" / "run_manifest.json").read_text(encoding="utf-8"))
                statuses = {r["status"] for r in manifest["runs"]}
                if rc or statuses != {"skipped"}:
                    raise SystemExit(f"the warm re-run of {side} was not all skipped: exit {rc}, {statuses}")
                rows[side].append((wall, cpu))
            after, before = rows["after"][-1][0], rows["before"][-1][0]
            rb.log(f"pair {i + 1}/{args.pairs}: after {after:.3f} s, before {before:.3f} s")
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git": rb.git_state(),
            "before": args.before,
            "cores": rb.CORES,
            "rounds": sorted(rb.COLD_ROUNDS),
            "runs": len(manifest["runs"]),
            "pairs": args.pairs,
            "quick": args.quick,
            "left_out": ["05_export_data", *args.leave_out],
            **{
                side: {
                    "wall_seconds": _summary([w for w, _ in v]),
                    "cpu_seconds": _summary([c for _, c in v]),
                }
                for side, v in rows.items()
            },
            "after_minus_before": {
                "wall_seconds": _summary([a[0] - b[0] for a, b in zip(rows["after"], rows["before"], strict=True)]),
                "cpu_seconds": _summary([a[1] - b[1] for a, b in zip(rows["after"], rows["before"], strict=True)]),
            },
        }
        median = result["after"]["wall_seconds"]["median"]
        result["target"] = {"warm_rerun_below_seconds": TARGET, "value": median, "pass": median < TARGET}
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        rb.log(json.dumps(result, indent=1))
        return 0 if result["target"]["pass"] else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
