"""Notebook 03's non-response estimates against R (issue 23), beside tests/test_r_reference.py.

* **weighted**: the score model's log rate ratio of every round of every 03 run in config/pipeline.yaml, weighted by
  the raking weights (the negative binomial likelihood with ``var_weights`` at the unweighted ML dispersion, HC0
  sandwich standard error): against R's ``MASS::glm.nb`` (the dispersion), ``glm(family = negative.binomial(theta),
  weights = w)`` and ``sandwich::vcovHC(type = "HC0")`` on the same kommuner and weights, at 1e-6;
* **imputed**: the same log rate ratio on each completed data set, pooled by Rubin's rules with Barnard-Rubin
  degrees of freedom from the complete-data n - p: against ``mice::pool.scalar`` on the same per-imputation estimates
  and variances (mice pools exactly so; its imputation model is checked in test_r_reference.py), at 1e-6.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from test_r_reference import _rscript

from helpers.analysis import compare, models
from helpers.analysis import nonresponse as nr
from helpers.analysis.models import response
from helpers.data import reference, survey
from helpers.running import pipeline

RTOL = 1e-6
FOLDER: list = []  # the fixture's folder (module scope)
M = 20  # imputations (the notebook's default m)

R_CODE = r"""
suppressPackageStartupMessages({library(MASS); library(sandwich); library(mice)})
args <- commandArgs(trailingOnly = TRUE)
out <- list()
for (path in args) {
  d <- read.csv(path)
  f <- y ~ score + factor(kommunegruppe) + merged_2007 + offset(log(population))
  nb <- glm.nb(f, data = d, control = glm.control(epsilon = 1e-12, maxit = 1000))
  fw <- glm(f, data = d, family = negative.binomial(nb$theta), weights = w,
            control = glm.control(epsilon = 1e-14, maxit = 1000))
  se <- sqrt(diag(vcovHC(fw, type = "HC0")))[["score"]]
  out[[length(out) + 1]] <- data.frame(file = basename(path), quantity = c("theta", "estimate", "se"),
                                       value = c(nb$theta, coef(fw)[["score"]], se))
  q <- read.csv(sub("\\.csv$", "_imputed.csv", path))
  p <- pool.scalar(q$estimate, q$variance, n = q$n[1], k = q$k[1])
  out[[length(out) + 1]] <- data.frame(file = basename(path), quantity = c("qbar", "t", "df"),
                                       value = c(p$qbar, p$t, p$df))
}
write.csv(do.call(rbind, out), stdout(), row.names = FALSE)
"""


def _cases(tmp_path):
    """(name, frame for R, our weighted estimate, per-imputation estimates for R, our pooled estimate) per round of
    every 03 run of the config."""
    cfg = pipeline.load_config()
    rounds = pipeline.load_rounds()
    for year, spec in rounds.items():
        survey.clean_to_files(year, spec["input_path"], spec["codebook"])
    municipalities = reference.load_municipalities()
    runs = [r for r in cfg.runs if r.notebook == "03_model_usage.ipynb"]
    assert runs, "the pipeline config runs notebook 03"
    cases = []
    for run in runs:
        p = run.parameters
        years, ordering = [int(y) for y in p["rounds"]], p.get("ordering", "5<1<2<3<4")
        inputs = models.model_inputs(years, p["outcome"], p["usage_source"])
        aligned = compare.align_rounds({y: survey.load_clean(y) for y in inputs.rounds}, municipalities)
        panel = nr.panel(aligned, municipalities)
        imputations = nr.impute(panel, m=M, seed=nr.imputation.SEED)
        for year in inputs.rounds:
            stat = response.score_statistic(inputs, year, ordering)
            weights = nr.response_weights(panel, (year,))
            ours = nr.weighted(stat, panel, weights)
            frame = response.usage_frame(inputs, year)
            answers = panel.answers.loc[weights.steps[-1].design.index, year].astype(int)
            used = frame.index.intersection(answers.index)
            data = frame.loc[used].assign(
                y=frame.loc[used, inputs.outcome],
                score=models.score(answers.loc[used], ordering).to_numpy(float),
                w=weights.weights.loc[used].to_numpy(float),
            )[["y", "population", "score", "kommunegruppe", "merged_2007", "w"]]
            assert len(data) == ours.n
            per = [nr.estimate(stat, c[[year]].astype(int), panel.covariates) for c in imputations.completed]
            k = 1 + data["kommunegruppe"].nunique() - 1 + 1 + 1  # intercept, kommunegruppe dummies, merged, score
            per_frame = pd.DataFrame(
                {"estimate": [e.value for e in per], "variance": [e.se**2 for e in per], "n": per[0].n, "k": k}
            )
            pooled = nr.pool(per)
            name = f"{p['outcome']}_{p['usage_source']}_{'_'.join(map(str, years))}_{year}"
            data.to_csv(tmp_path / f"{name}.csv", index=False)
            per_frame.to_csv(tmp_path / f"{name}_imputed.csv", index=False)
            cases.append((name, ours, pooled, per))
    return cases


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    rscript = _rscript()
    folder = tmp_path_factory.mktemp("r_nonresponse")
    FOLDER[:] = [folder]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BORGERSERVICE_PROCESSED", str(folder / "processed"))
        mp.setenv("BORGERSERVICE_REPORTS", str(folder / "reports"))
        cases = _cases(folder)
    paths = [str(folder / f"{name}.csv") for name, *_ in cases]
    done = subprocess.run([rscript, "-e", R_CODE, *paths], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"R failed:\n{done.stderr[-3000:]}"
    from io import StringIO

    r = pd.read_csv(StringIO(done.stdout))
    theirs = {(f.removesuffix(".csv"), q): v for f, q, v in r[["file", "quantity", "value"]].itertuples(index=False)}
    return cases, theirs


def test_weighted_rate_ratios_of_03_equal_glm_with_weights_and_sandwich(compared):
    cases, theirs = compared
    assert len(cases) >= 4  # two runs of two rounds in the shipped config
    for name, ours, _, _ in cases:
        assert ours.value == pytest.approx(theirs[(name, "estimate")], rel=RTOL, abs=1e-9), name
        assert ours.se == pytest.approx(theirs[(name, "se")], rel=RTOL), name
        assert ours.interval == "z" and ours.low == pytest.approx(ours.value - 1.959963984540054 * ours.se)
        assert np.isfinite(theirs[(name, "theta")]) and theirs[(name, "theta")] > 0
    worst = max(abs(o.value - theirs[(n, "estimate")]) / abs(theirs[(n, "estimate")]) for n, o, _, _ in cases)
    worst_se = max(abs(o.se - theirs[(n, "se")]) / theirs[(n, "se")] for n, o, _, _ in cases)
    print(f"\nweighted 03 rate ratios against R: max relative difference estimate {worst:.1e}, se {worst_se:.1e}")


def test_the_weights_of_03_differ_between_kommuner(compared):
    """The check above means something only when the weights differ (a round everyone answered has weights 1)."""
    cases, _ = compared
    spread = {name: pd.read_csv(FOLDER[0] / f"{name}.csv")["w"].std() for name, *_ in cases}
    assert sum(v > 0.01 for v in spread.values()) >= 2, spread


def test_imputed_rate_ratios_of_03_pool_as_mice_pool_scalar(compared):
    cases, theirs = compared
    for name, _, pooled, per in cases:
        assert len(per) == M
        assert pooled.value == pytest.approx(theirs[(name, "qbar")], rel=RTOL), name
        assert pooled.total == pytest.approx(theirs[(name, "t")], rel=RTOL), name
        assert pooled.df_pooled == pytest.approx(theirs[(name, "df")], rel=RTOL), name
