"""Non-response in notebook 03: each round's rate ratio per level of cooperation under the four treatments.

The count models are complete-case: a kommune that did not answer a round leaves that round's models
(n = 84-97 of 98). :mod:`helpers.analysis.nonresponse` (bounds, raking weights, chained-equation
imputation with Rubin's rules) recomputes any statistic under the other treatments; here the statistic
is the score model's log rate ratio of one round (:func:`score_statistic`), the notebook's headline:

* **complete case**: the reported fit itself (ML estimate, Cox-Reid standard error, t on n - p df);
* **bounds**: the smallest and largest rate ratio when the non-respondents take any model (1-5), over
  completions of their answers. There are 5^k completions for k non-respondents (k = 10-14: about 10^7 to
  10^10), so they are searched, not enumerated: :func:`helpers.analysis.nonresponse.search` starts
  from the five completions where every non-respondent takes the same model (the extremes of a monotone
  statistic) and moves one kommune at a time to the model that moves the estimate most, until no single
  move improves it. The rate ratio is close to additive in the kommuner (each moves it by about its
  influence, which depends little on the others' answers), which is what makes a coordinate search reach
  the extremes; the values are attained by real completions, so the true bounds are at least this wide
  (``exact=False``), and tests/test_models.py checks the search against full enumeration where that is
  possible (four non-respondents, 625 completions);
* **weighted**: the negative binomial likelihood with each respondent weighted by its raking weight
  (``var_weights``, normalised to mean 1; the dispersion held at the unweighted ML estimate, so equal
  weights give the complete-case estimate) and a sandwich (HC0) standard error, z reference; the
  weights count as fixed;
* **imputed**: the fit on each of the m completed data sets, pooled by Rubin's rules (t with
  Barnard-Rubin df from the complete-data n - p).

The kommuner whose usage value is missing or flagged as a reporting failure, and those in ``exclude``,
are outside every treatment, as in the models. Pooling and bounds work on the log scale; the table shows
rate ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from helpers.analysis import nonresponse as nr
from helpers.analysis.models import batch
from helpers.analysis.models.design import CONTROLS, formula, score
from helpers.analysis.models.inputs import ModelInputs, reporting_failures, usage_year
from helpers.core import lazy
from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.results.nonresponse import Sensitivity

sm = lazy.module("statsmodels.api")  # ~1.1 s to import: at the first fit

RATE_COLUMNS = ("estimate", "low", "high")  # the sensitivity table's columns that are exponentiated
LOG_SCALE = " (values on the log scale)"  # the statistic's description says so; the table shows rate ratios


@dataclass(frozen=True)
class ResponseSensitivity:
    """Notebook 03's non-response sensitivity (:func:`response_sensitivity`).

    ``rows``: one :class:`~helpers.results.nonresponse.Sensitivity` per round (log rate ratio per level
    of cooperation); ``treatments``: what the treatments used (weights per response pattern, the
    imputations); ``table``: the rows side by side as rate ratios (complete case, bounds, weighted,
    imputed; each with its interval or bounds and n).
    """

    rows: tuple[Sensitivity, ...]
    treatments: nr.Treatments
    table: pd.DataFrame


def usage_frame(inputs: ModelInputs, year: int) -> pd.DataFrame:
    """Every kommune with a usable value of the outcome in the round's usage year (answered or not), indexed by
    kommunekode: the outcome, population and the controls. Missing values, flagged reporting failures (unless
    ``inputs.keep_flagged``) and ``inputs.exclude`` are left out, as in the models."""
    panel = inputs.panel
    uy = usage_year(year, inputs.offset)
    cols = ["kommunekode", inputs.outcome, "population", "kommunegruppe", "merged_2007"]
    df = panel.loc[panel["year"] == uy, cols + [c for c in ("quality_flag",) if c in panel]].copy()
    df = df[df[inputs.outcome].notna() & (df["population"] > 0) & ~df["kommunekode"].isin(inputs.exclude)]
    if not inputs.keep_flagged:
        df = df[~reporting_failures(df, inputs.outcome)]
    return df.drop(columns=[c for c in ("quality_flag",) if c in df]).set_index("kommunekode").sort_index()


def score_statistic(inputs: ModelInputs, year: int, ordering=DEFAULT_ORDERING) -> nr.Statistic:
    """The log rate ratio per level of cooperation in round ``year`` as a non-response statistic.

    ``compute(answers, covariates, weights)`` joins the answers to :func:`usage_frame` and fits the score
    model: unweighted, the package's negative binomial fit (ML estimate; Cox-Reid standard error, t on
    n - p df; by the batched engine on the same design as ``fit_count``, equal to it to 1e-8); weighted,
    see the module docstring.
    """
    frame = usage_frame(inputs, year)
    rhs = formula("y", "score", CONTROLS).split("~", 1)[1]
    design = patsy.dmatrix(rhs, frame.assign(score=0.0, y=0.0), return_type="dataframe")
    col = list(design.columns).index("score")
    y_all, off_all = frame[inputs.outcome].to_numpy(float), np.log(frame["population"].to_numpy(float))
    levels = np.full(6, np.nan)  # model code -> level (as design.score, by array lookup: the search calls this often)
    levels[list(range(1, 6))] = score(pd.Series(range(1, 6)), ordering).to_numpy(float)

    def compute(answers: pd.DataFrame, covariates: pd.DataFrame, weights: pd.Series | None) -> nr.Estimate:
        del covariates  # the controls come with the usage frame
        codes = answers[year].reindex(frame.index)
        rows = codes.notna().to_numpy()
        X = design.to_numpy()[rows].copy()
        X[:, col] = levels[codes[rows].to_numpy(dtype=int)]
        y, off = y_all[rows], off_all[rows]
        fit = batch.fit_negbin_batch(X, y, off)
        cr = batch.cox_reid_batch(X, y, off, fit)
        n, p = X.shape
        if weights is None:
            return nr.Estimate(**nr.wald(fit.params[0, col], cr.bse[0, col], n, df=n - p, pooled_df=n - p))
        w = weights.reindex(frame.index[rows]).to_numpy(float)
        value, se = _weighted(X, y, off, w / w.mean(), float(fit.alpha[0]), col)
        return nr.Estimate(**nr.wald(value, se, n, df=n - p))

    what = f"rate ratio per level of cooperation, survey {year}{LOG_SCALE}"
    return nr.statistic(f"score_{year}", what, (year,), compute)


def _weighted(X, y, offset, w, alpha, col) -> tuple[float, float]:
    """The weighted NB2 pseudo-likelihood at fixed ``alpha`` (statsmodels GLM with ``var_weights``) and the HC0
    sandwich standard error of coefficient ``col``, bread (X' diag(w mu / (1 + alpha mu)) X)^-1, meat
    X' diag(w^2 (y - mu)^2 / (1 + alpha mu)^2) X."""
    fit = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset, var_weights=w).fit(
        tol=1e-12, tol_criterion="params", maxiter=200
    )
    mu = np.asarray(fit.fittedvalues)
    bread = np.linalg.inv(X.T @ ((w * mu / (1 + alpha * mu))[:, None] * X))
    meat = X.T @ (((w * (y - mu) / (1 + alpha * mu)) ** 2)[:, None] * X)
    cov = bread @ meat @ bread
    return float(fit.params[col]), float(np.sqrt(cov[col, col]))


def response_sensitivity(
    inputs: ModelInputs,
    ordering=DEFAULT_ORDERING,
    *,
    m: int = nr.imputation.M,
    seed: int = nr.imputation.SEED,
    random_starts: int = 0,
) -> ResponseSensitivity:
    """The score rate ratio of every round of ``inputs`` under the four treatments of non-response.

    The panel holds the run's rounds (each imputation uses the other rounds' answers and the
    covariates); ``m`` imputed data sets (``seed``); the bounds search starts from the five constant
    completions and ``random_starts`` random ones (0: a fit takes a few ms and the search makes
    thousands).
    """
    from helpers.analysis import compare
    from helpers.data import reference, survey

    municipalities = reference.load_municipalities()
    aligned = compare.align_rounds({y: survey.load_clean(y) for y in inputs.rounds}, municipalities)
    treatments = nr.prepare(nr.panel(aligned, municipalities), m=m, seed=seed)
    rows = tuple(
        nr.four_ways(score_statistic(inputs, year, ordering), treatments, random_starts=random_starts)
        for year in inputs.rounds
    )
    return ResponseSensitivity(rows, treatments, rate_ratio_table(rows))


def rate_ratio_table(rows) -> pd.DataFrame:
    """:func:`helpers.analysis.nonresponse.sensitivity_table` of log rate ratios, shown as rate ratios."""
    table = nr.sensitivity_table(rows)
    table.index = [str(i).removesuffix(LOG_SCALE) for i in table.index]
    for column in table.columns:
        if column[1] in RATE_COLUMNS or (column[0] == "bounds" and column[1] in ("low", "high")):
            table[column] = np.exp(table[column].astype(float))
    return table
