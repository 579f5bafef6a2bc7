"""`borgerservice report` before and after, in alternating pairs, on the same executed pipeline (issue 28, item 5).

The baseline is another revision of the package (default a627acd: one Chromium launch per page, one US Letter
PDF), exported with `git archive` into a temporary folder and run from there with PYTHONPATH; the current code is
this checkout. Each side builds from its own copy of the project's `reports/` (so neither reads what the other
wrote), pairs alternate which side goes first, and the machine's load is recorded beside each pair. Writes
benchmarks/results/report_pairs_<cold|warm>_<date>.json: wall and CPU seconds per run (CPU of every process the
report starts, Chromium's included; on a shared machine it moves less than the wall time), the medians, the median
ratio after/before, and the PDFs' pages, sizes, paper size and bookmarks.

    .venv/bin/python benchmarks/report_pairs.py --pairs 3            # after `make run`
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pdf_facts(folder: Path) -> dict:
    from pypdf import PdfReader

    out = {}
    for pdf in sorted(folder.glob("report*.pdf")):
        reader = PdfReader(str(pdf))
        box = reader.pages[0].mediabox
        out[pdf.name] = {
            "pages": len(reader.pages),
            "megabytes": round(pdf.stat().st_size / 1e6, 2),
            "paper_mm": [round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)],
            "bookmarks": len(reader.outline),
        }
    return out


def _run(src: Path | None, reports: Path, cold: bool) -> tuple[float, float]:
    """Wall and CPU seconds (this process's children: Python, the Playwright driver and every Chromium process)."""
    env = {**os.environ, "BORGERSERVICE_REPORTS": str(reports)}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    if cold:
        shutil.rmtree(reports / ".cache", ignore_errors=True)  # as after a run that re-ran every notebook
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "helpers.running.cli", "report"], env=env, check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="a627acd", help="git revision of the report before (default a627acd)")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument(
        "--warm",
        action="store_true",
        help="keep the notebook pages the previous report cached (what `make report` finds when the notebooks did "
        "not change); default cold, as after a run that re-ran every notebook",
    )
    args = p.parse_args()
    mode = "warm" if args.warm else "cold"
    reports = ROOT / "reports"
    if not (reports / "run_manifest.json").is_file():
        print("no reports/run_manifest.json: run `make run` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="report-pairs-") as tmp:
        tmp = Path(tmp)
        base = tmp / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.baseline, "src", "pyproject.toml", "config", "notebooks"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        (base / "data").mkdir()
        (base / "data" / "raw").symlink_to(ROOT / "data" / "raw")
        sides = {"before": (base / "src", tmp / "reports_before"), "after": (None, tmp / "reports_after")}
        for _, folder in sides.values():
            shutil.copytree(
                reports, folder, ignore=shutil.ignore_patterns("site", "report*.pdf", ".report-*", ".cache")
            )
        if args.warm:
            _run(None, sides["after"][1], cold=False)  # fills the cache, as the report after the run did
        pairs = []
        for i in range(args.pairs):
            order = ("before", "after") if i % 2 == 0 else ("after", "before")
            load = os.getloadavg()[0]
            measured = {side: _run(*sides[side], cold=not args.warm) for side in order}
            pairs.append(
                {
                    "order": list(order),
                    "load_before": round(load, 1),
                    **{side: round(wall, 1) for side, (wall, _) in measured.items()},
                    **{f"{side}_cpu": round(cpu, 1) for side, (_, cpu) in measured.items()},
                }
            )
            print(pairs[-1], flush=True)
        result = {
            "what": "borgerservice report (site and PDFs) on the shipped pipeline's outputs",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "baseline": args.baseline,
            "cache": mode,
            "cores": os.cpu_count(),
            "pairs": pairs,
            "median_seconds": {s: statistics.median(p[s] for p in pairs) for s in ("before", "after")},
            "median_cpu_seconds": {s: statistics.median(p[f"{s}_cpu"] for p in pairs) for s in ("before", "after")},
            "median_ratio_after_before": round(statistics.median(p["after"] / p["before"] for p in pairs), 3),
            "pdfs": {side: _pdf_facts(folder) for side, (_, folder) in sides.items()},
        }
    out = ROOT / "benchmarks" / "results" / f"report_pairs_{mode}_{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
