"""Which 95 % interval covers at notebook 03's design (issue 23): the candidates side by side, with their costs.

For each run of notebook 03 in config/pipeline.yaml (outcome, usage source and rounds), the last round's design
and ML dispersion are taken as the notebook takes them, and ``--reps`` datasets are simulated exactly as
``simulation.coverage_study`` does (same seed, same chunks: the same datasets). On each the candidates are
computed for the four cooperation terms:

* ``wald``: glm.nb's estimate -/+ z se at the ML dispersion (what 03 reported as Wald);
* ``profile``: R's confint on glm.nb (profile likelihood, ML dispersion held; what 03 reported before);
* ``wald_t``: the ML standard error with a t(n - p) reference instead of z (a reference correction alone);
* ``cox_reid_z``: the standard error at the Cox-Reid dispersion, z (a dispersion correction alone);
* ``cox_reid_t``: both (what 03 reports now: ``NegBinFit.conf_int``);
* ``bootstrap_t``: a parametric percentile-t bootstrap: ``--boot`` datasets drawn from each simulated dataset's
  fitted NB2 model (its means and ML dispersion), each refitted with its dispersion re-estimated; the
  interval is b - q(0.975) se, b - q(0.025) se with q the quantiles of (b* - b) / se*. It costs ``--boot``
  fits per dataset, so it runs on the first ``--boot-reps`` datasets of each study only (its Monte Carlo
  SE is larger accordingly).

Every coverage has its Monte Carlo SE sqrt(p (1 - p) / R). The CPU seconds of each candidate are measured
(process time, BLAS single-threaded as the notebook runs it: wall time on a shared machine says little).
Writes benchmarks/results/interval_coverage.json and prints a table.

    .venv/bin/python benchmarks/interval_coverage.py          # 2,000 reps; bootstrap 199 draws on 500 of them
    .venv/bin/python benchmarks/interval_coverage.py --reps 500 --boot 99 --only loans   # quicker look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import norm
from scipy.stats import t as t_dist
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("wald", "profile", "wald_t", "cox_reid_z", "cox_reid_t", "bootstrap_t")


def runs() -> list[tuple[str, str, list[int]]]:
    """(outcome, usage source, rounds) of every notebook-03 run of the shipped pipeline config."""
    from helpers.running import pipeline

    out = []
    for run in pipeline.load_config().runs:
        if run.notebook == "03_model_usage.ipynb":
            p = run.parameters
            out.append((p["outcome"], p["usage_source"], [int(y) for y in p["rounds"]]))
    return out


def bootstrap_t(X, offset, fit, cols, draws, seed, level=0.95):
    """Parametric percentile-t limits (R, len(cols)) for every dataset of ``fit`` (a BatchFit)."""
    from helpers.analysis import simulation
    from helpers.analysis.models import batch

    rng = np.random.default_rng(seed)
    R = len(fit.params)
    lows, highs = np.empty((R, len(cols))), np.empty((R, len(cols)))
    for r in range(R):
        theta = 1.0 / fit.alpha[r]
        Ys = rng.negative_binomial(theta, theta / (theta + fit.mu[r]), size=(draws, len(fit.mu[r])))
        star = batch.fit_negbin_batch(X, Ys, offset)
        ok = star.converged
        t_star = (star.params[ok][:, cols] - fit.params[r, cols]) / star.bse[ok][:, cols]
        q_lo, q_hi = np.quantile(t_star, [(1 - level) / 2, (1 + level) / 2], axis=0)
        lows[r] = fit.params[r, cols] - q_hi * fit.bse[r, cols]
        highs[r] = fit.params[r, cols] - q_lo * fit.bse[r, cols]
    del simulation
    return lows, highs


def study(outcome, source, rounds, reps, draws, boot_reps, seed=1):
    from helpers.analysis import models, simulation
    from helpers.analysis.models import batch

    inputs = models.model_inputs(rounds, outcome, source)
    base = inputs.frames[rounds[-1]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alpha = models.fit_count(base, outcome).alpha
    rate = simulation.observed_rate(base, outcome)
    irr = simulation.COVERAGE_EFFECTS
    Xdf, offset = simulation.count_design(base)
    X, names = Xdf.to_numpy(), list(Xdf.columns)
    terms = sorted(irr)
    cols = [names.index(models.model_term(m)) for m in terms]
    mu = base["population"].to_numpy(float) * rate * base["model"].map(lambda m: irr.get(m, 1.0)).to_numpy(float)
    true = np.log([irr[m] for m in terms])
    limits = {k: ([], []) for k in KINDS}
    oks, seconds = [], dict.fromkeys(KINDS, 0.0)
    seconds["ml_fit"] = 0.0
    seconds.pop("wald"), seconds.pop("wald_t")  # free: from the ML fit
    with threadpool_limits(1, user_api="blas"):
        for i, (seq, size) in enumerate(simulation.chunks(reps, seed)):
            Y = simulation.simulate_nb(mu, alpha, np.random.default_rng(seq), size)
            t0 = time.process_time()
            fit = batch.fit_negbin_batch(X, Y, offset)
            seconds["ml_fit"] += time.process_time() - t0
            est, se = fit.params[:, cols], fit.bse[:, cols]
            df = X.shape[0] - X.shape[1]
            z, tq = norm.ppf(0.975), t_dist.ppf(0.975, df)
            t0 = time.process_time()
            lo, hi, prof_ok = batch.profile_intervals_batch(X, Y, offset, fit, cols)
            seconds["profile"] += time.process_time() - t0
            t0 = time.process_time()
            cr = batch.cox_reid_batch(X, Y, offset, fit)
            seconds["cox_reid_t"] += time.process_time() - t0
            seconds["cox_reid_z"] = seconds["cox_reid_t"]
            b_lo, b_hi = np.full((size, len(cols)), np.nan), np.full((size, len(cols)), np.nan)
            todo = max(0, min(size, boot_reps - i * simulation.CHUNK))
            if todo:
                t0 = time.process_time()
                sub = batch.BatchFit(
                    fit.params[:todo],
                    fit.bse[:todo],
                    fit.alpha[:todo],
                    fit.llf[:todo],
                    fit.mu[:todo],
                    fit.status[:todo],
                )
                b_lo[:todo], b_hi[:todo] = bootstrap_t(X, offset, sub, cols, draws, seed=[seed, i])
                seconds["bootstrap_t"] += time.process_time() - t0
            se_cr = cr.bse[:, cols]
            parts = {
                "wald": (est - z * se, est + z * se),
                "profile": (lo, hi),
                "wald_t": (est - tq * se, est + tq * se),
                "cox_reid_z": (est - z * se_cr, est + z * se_cr),
                "cox_reid_t": (est - tq * se_cr, est + tq * se_cr),
                "bootstrap_t": (b_lo, b_hi),
            }
            for k, (a, b) in parts.items():
                limits[k][0].append(a)
                limits[k][1].append(b)
            oks.append((fit.converged & cr.converged)[:, None] & prof_ok)
    ok = np.concatenate(oks)
    out = {"outcome": outcome, "source": source, "rounds": rounds, "n": len(base), "p": X.shape[1], "alpha": alpha}
    out["reps"], out["bootstrap_draws"], out["bootstrap_reps"] = reps, draws, min(reps, boot_reps)
    out["cpu_seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    out["terms"] = {}
    for k in KINDS:
        lo, hi = np.concatenate(limits[k][0]), np.concatenate(limits[k][1])
        cover = (lo <= true) & (true <= hi)
        ran = ~np.isnan(lo).any(axis=1)
        per_term = {}
        for j, m in enumerate(terms):
            c = cover[ok[:, j] & ran, j]
            p = float(c.mean())
            per_term[m] = {
                "coverage": round(p, 4),
                "mc_se": round(math.sqrt(p * (1 - p) / len(c)), 4),
                "used": int(len(c)),
            }
        out["terms"][k] = per_term
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--boot", type=int, default=199, help="bootstrap draws per simulated dataset")
    ap.add_argument("--boot-reps", type=int, default=500, help="simulated datasets that get the bootstrap")
    ap.add_argument("--only", default=None, help="only the runs of this outcome")
    ap.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "interval_coverage.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BORGERSERVICE_PROCESSED"] = str(Path(tmp) / "processed")
        os.environ["BORGERSERVICE_REPORTS"] = str(Path(tmp) / "reports")
        from helpers.data import survey
        from helpers.running import pipeline

        for year, spec in pipeline.load_rounds().items():
            survey.clean_to_files(year, spec["input_path"], spec["codebook"])
        results = [
            study(o, s, r, args.reps, args.boot, args.boot_reps)
            for o, s, r in runs()
            if args.only is None or o == args.only
        ]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    doc = {"commit": commit.stdout.strip(), "cores": os.cpu_count(), "runs": results}
    args.output.write_text(json.dumps(doc, indent=2) + "\n")
    for r in results:
        print(
            f"\n{r['outcome']} {r['source']} {r['rounds']} (n = {r['n']}, p = {r['p']}); CPU seconds {r['cpu_seconds']}"
        )
        for k in KINDS:
            cells = "  ".join(f"{v['coverage']:.4f} ({v['mc_se']:.4f})" for v in r["terms"][k].values())
            print(f"  {k:12s} {cells}  [{min(v['used'] for v in r['terms'][k].values())} datasets]")


if __name__ == "__main__":
    main()
