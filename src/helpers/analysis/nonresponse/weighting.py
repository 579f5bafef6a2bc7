"""Weights for non-response: raking the respondents to the totals of all kommuner.

**What the weights assume.** Within cells of kommunegruppe, region, population and the previous
round's answer, kommuner that did not answer would have answered like those that did (missing at
random given these). The respondents are weighted so that their weighted totals of these variables
equal those of all kommuner.

**How: raking** (calibration with the raking distance, Deville & Särndal 1992), as R's
``survey::calibrate(design, ~ ..., population, calfun = "raking")``. Each respondent's weight is
``d_i * exp(x_i' lambda)``, where ``d_i`` is its base weight (1 for every kommune: the survey asks all
of them) and ``lambda`` solves ``sum_respondents d_i exp(x_i' lambda) x_i = totals``. The weight is the
inverse of an implied response propensity, ``exp(-x_i' lambda)``: raking *is* a response-propensity
model, log-linear in the calibration variables, fitted so that it balances them exactly (Kott 2006).
``x`` holds an intercept, kommunegruppe and region (dummies), log population, and the previous
round's answer (cooperating, not cooperating, did not answer).

**Why raking and not a logistic regression.** With 98 kommuner and 8-12 non-respondents per round,
several cells have no non-respondent at all (in the example rounds: every Storbykommune answered in
both rounds; every kommune that skipped 2009 answered in 2011). There a logistic regression's
maximum-likelihood estimate does not exist (quasi-separation: statsmodels stops unconverged with
coefficients of 20+, R's ``glm`` warns "fitted probabilities numerically 0 or 1"), and its weights
depend on where the optimiser stopped. Raking has a unique solution whenever every category has a
respondent; a category with none cannot be represented by any weighting and is merged into its
variable's reference category (listed in ``collapsed``).

**Why no library.** balance 0.23 (the only maintained Python package for this) pins numpy < 2 and
scikit-learn < 1.4 on Python 3.11, which the package cannot install beside its numpy 2; samplics is
archived (it warns on import and points to svy); svy is a beta with a Rust extension and polars. The
algorithm is short: Newton's method on the convex dual, ``survey:::grake``'s, with step halving. The
weights, the means and their standard errors equal ``survey::calibrate`` and ``survey::svymean`` to
1e-6 (``tests/test_r_reference.py``).

**Several rounds** (the kommuner that answered both rounds of a pair, for paired quantities): in
steps, as the answers come. Step 1 rakes the respondents of the first round to the totals of all
kommuner; step k rakes those that also answered round k, starting from the step-(k-1) weights, to
the weighted totals of step k-1's respondents, with the answer in round k-1 (cooperating or not)
among the variables. The weights are the product of the steps' factors.

**Standard errors** of a weighted mean are linearization standard errors that account for the last
raking step (``survey::svymean`` on the calibrated design: the influence values are residuals of a
regression on the calibration variables) and treat the base weights as fixed; they leave out the
earlier steps' variability and, as any weighting, the uncertainty of the missing-at-random model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.nonresponse.frame import PREVIOUS_LEVELS, Panel, cooperation_level
from helpers.analysis.nonresponse.statistics import Statistic, estimate, wald
from helpers.results.nonresponse import Estimate, WeightSummary

TOLERANCE = 1e-12  # largest misfit of a calibrated total, relative to 1 + |total| (survey's criterion)
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class Raking:
    """One raking step: respondents weighted to reproduce totals.

    Fields: ``rounds`` (the respondents answered all of these); ``design`` (respondents x calibration
    variables, the intercept first); ``totals`` (the targets, one per variable); ``base`` (the weights
    before the step: 1, or the previous step's); ``g`` (the raking factors: weights = base x g);
    ``iterations`` (Newton steps); ``collapsed`` (categories merged into their reference: no respondent).
    """

    rounds: tuple[int, ...]
    design: pd.DataFrame
    totals: pd.Series
    base: pd.Series
    g: pd.Series
    iterations: int
    collapsed: tuple[str, ...]

    @property
    def weights(self) -> pd.Series:
        return (self.base * self.g).rename("weight")


@dataclass(frozen=True)
class ResponseWeights:
    """Raking weights for the kommuner that answered every round of ``rounds``.

    Fields: ``rounds``; ``steps`` (one :class:`Raking` per round, in order); ``weights`` (kommunekode ->
    final weight, respondents only; trimmed if ``trim``); ``kommuner`` (all kommuner, whose totals the
    weights reproduce); ``trim`` (the cap, or None) and ``trimmed`` (how many weights it cut);
    ``summary`` (:class:`~helpers.results.nonresponse.WeightSummary`).
    """

    rounds: tuple[int, ...]
    steps: tuple[Raking, ...]
    weights: pd.Series
    kommuner: int
    trim: float | None
    trimmed: int
    summary: WeightSummary

    @property
    def propensity(self) -> pd.Series:
        """The implied probability of answering every round of ``rounds``: 1 / weight."""
        return (1 / self.weights).rename("propensity")


def rake(design: np.ndarray, base: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, int]:
    """Raking factors g (weights = base x g) with sum_i base_i g_i x_i = totals, g_i = exp(x_i' lambda).

    Newton's method on the convex function sum_i base_i exp(x_i' lambda) - lambda' totals (its
    gradient is the misfit), halving a step that does not decrease it. Raises ValueError when the
    totals cannot be reached (a category without respondents, or collinear variables).
    """
    x, d, t = np.asarray(design, float), np.asarray(base, float), np.asarray(totals, float)
    lam = np.zeros(x.shape[1])

    def objective(lam):
        return float((d * np.exp(x @ lam)).sum() - lam @ t)

    for iteration in range(MAX_ITERATIONS):
        g = np.exp(x @ lam)
        misfit = t - (d * g) @ x
        if np.max(np.abs(misfit) / (1 + np.abs(t))) < TOLERANCE:
            return g, iteration
        hessian = (x * (d * g)[:, None]).T @ x
        step = np.linalg.lstsq(hessian, misfit, rcond=None)[0]
        f0, size = objective(lam), 1.0
        while objective(lam + size * step) > f0 and size > 1e-10:
            size /= 2
        lam = lam + size * step
    raise ValueError(
        f"raking did not converge in {MAX_ITERATIONS} steps (largest misfit {np.max(np.abs(misfit)):.3g}): "
        "the totals are out of reach of the respondents"
    )


def _dummies(values: pd.Series, name: str, answered: pd.Series, weights: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """Treatment dummies of ``values``; the reference is the level with the largest weighted respondent
    total. A level with no respondent is merged into the reference (returned in the list)."""
    levels = sorted(values.unique(), key=str)
    resp = weights[answered].groupby(values[answered]).sum().reindex(levels, fill_value=0.0)
    reference = resp.idxmax()
    cols, collapsed = {}, []
    for level in levels:
        if level == reference:
            continue
        if resp[level] == 0:
            collapsed.append(f"{name} {level}")
            continue
        cols[f"{name}[{level}]"] = (values == level).astype(float)
    return pd.DataFrame(cols, index=values.index), collapsed


def _design(
    panel: Panel, year: int, pool: pd.Index, answered: pd.Series, base: pd.Series, previous: pd.Series | None
) -> tuple[pd.DataFrame, list[str]]:
    """The calibration variables of round ``year`` for the kommuner in ``pool``, intercept first."""
    cov = panel.covariates_of(year).loc[pool]
    parts, collapsed = [pd.DataFrame({"(Intercept)": 1.0}, index=pool)], []
    for column, values in (
        ("kommunegruppe", cov["kommunegruppe"]),
        ("regionsnavn", cov["regionsnavn"]),
        ("previous", previous),
    ):
        if column == "previous":
            parts.append(cov[["log_population"]])
        if values is None:
            continue
        d, c = _dummies(values.loc[pool], column, answered.loc[pool], base.loc[pool])
        parts.append(d)
        collapsed += c
    x = pd.concat(parts, axis=1)
    rank = np.linalg.matrix_rank(x.loc[answered.loc[pool].to_numpy()].to_numpy())
    if rank < x.shape[1]:
        raise ValueError(f"round {year}: the calibration variables {list(x.columns)} are collinear among respondents")
    return x, collapsed


def _trim(weights: pd.Series, cap: float) -> tuple[pd.Series, int]:
    """Weights above ``cap`` cut to it and the excess spread over the others in proportion to their weight
    (repeated until none exceeds it), so the total is kept."""
    w = weights.copy()
    cut = pd.Series(False, index=w.index)
    for _ in range(len(w)):
        over = w > cap + 1e-12
        if not over.any():
            break
        cut |= over
        excess = (w[over] - cap).sum()
        w[over] = cap
        free = ~cut
        w[free] += excess * w[free] / w[free].sum()
    return w, int(cut.sum())


def response_weights(panel: Panel, rounds: Sequence[int], *, trim: float | None = None) -> ResponseWeights:
    """Raking weights for the kommuner that answered every round of ``rounds`` (see the module docstring).

    ``trim``: None (no trimming), or a cap on the final weights (the excess is spread over the others).
    """
    rounds = tuple(sorted(int(y) for y in rounds))
    base = pd.Series(1.0, index=panel.answers.index)
    pool = panel.answers.index
    steps = []
    for k, year in enumerate(rounds):
        if k == 0:
            previous = panel.previous_answer(year)
        else:
            previous = cooperation_level(panel.answers.loc[pool, rounds[k - 1]])
        answered = panel.answers[year].notna()
        x, collapsed = _design(panel, year, pool, answered, base, previous)
        totals = (x.mul(base.loc[pool], axis=0)).sum()
        resp = pool[answered.loc[pool].to_numpy()]
        if len(resp) == 0:
            raise ValueError(f"round {year}: no kommune answered; nothing to weight")
        g, iterations = rake(x.loc[resp].to_numpy(), base.loc[resp].to_numpy(), totals.to_numpy())
        step = Raking(
            rounds=rounds[: k + 1],
            design=x.loc[resp],
            totals=totals,
            base=base.loc[resp].rename("base"),
            g=pd.Series(g, index=resp, name="g"),
            iterations=iterations,
            collapsed=tuple(collapsed),
        )
        steps.append(step)
        base, pool = step.weights, resp
    weights, trimmed = (base, 0) if trim is None else _trim(base, trim)
    weights = weights.rename("weight")
    summary = WeightSummary(
        rounds=rounds,
        respondents=len(weights),
        kommuner=panel.n,
        total=float(weights.sum()),
        minimum=float(weights.min()),
        median=float(weights.median()),
        maximum=float(weights.max()),
        effective_n=float(weights.sum() ** 2 / (weights**2).sum()),
        trim=trim,
        trimmed=trimmed,
        variables=tuple(steps[-1].design.columns),
        collapsed=tuple(c for s in steps for c in s.collapsed),
    )
    return ResponseWeights(rounds, tuple(steps), weights, panel.n, trim, trimmed, summary)


def calibrated_mean(y: np.ndarray, step: Raking, weights: np.ndarray | None = None) -> tuple[float, float]:
    """Weighted mean of ``y`` (respondents of ``step``, in its order) and its standard error accounting for
    the raking step, as ``survey::svymean`` on ``survey::calibrate``'s design.

    survey (``svyrecvar``) replaces the influence values z_i = w_i (y_i - mean) / sum w by
    ``qr.resid(qr(X sqrt(d)), z / (g sqrt(d))) * g sqrt(d)`` (X the calibration variables, d the base
    weights, g the raking factors), then takes n / (n - 1) times their centred sum of squares.
    ``weights``: the final weights when they differ from base x g (trimmed); then the residuals still
    use the step's g.
    """
    y = np.asarray(y, dtype=float)
    d, g = step.base.to_numpy(), step.g.to_numpy()
    w = d * g if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    mean = float((w * y).sum() / total)
    z = w * (y - mean) / total
    half = np.sqrt(d)
    x = step.design.to_numpy() * half[:, None]
    coef = np.linalg.lstsq(x, z / (g * half), rcond=None)[0]
    r = (z / (g * half) - x @ coef) * (g * half)
    n = len(y)
    r = r - r.mean()
    se = float(np.sqrt(n / (n - 1) * (r**2).sum())) if n > 1 else float("nan")
    return mean, se


def weighted(stat: Statistic, panel: Panel, weights: ResponseWeights) -> Estimate:
    """``stat`` on the kommuner that answered its rounds, weighted by ``weights`` (which must be for the
    same rounds). A mean gets the raking-aware standard error (:func:`calibrated_mean`); anything else is
    ``stat.compute(answers, covariates, weights)``."""
    if tuple(sorted(stat.rounds)) != weights.rounds:
        raise ValueError(f"statistic {stat.name!r} reads rounds {stat.rounds}; the weights are for {weights.rounds}")
    step = weights.steps[-1]
    resp = step.design.index
    answers = panel.answers.loc[resp, list(stat.rounds)].astype(int)
    if not stat.additive:
        return estimate(stat, answers, panel.covariates.loc[resp], weights.weights)
    y = stat.score(answers)
    value, se = calibrated_mean(y, step, weights.weights.loc[resp].to_numpy())
    return Estimate(**wald(value, se, len(resp), df=len(resp) - 1))


def weights_table(weights: ResponseWeights, panel: Panel) -> pd.DataFrame:
    """One row per respondent: kommunegruppe, region, population, the previous answer, the weight and the
    implied propensity of answering (1 / weight)."""
    resp = weights.weights.index
    last = weights.rounds[-1]
    cov = panel.covariates.loc[resp]
    prev = panel.previous_answer(weights.rounds[0])
    out = pd.DataFrame(
        {
            "kommunegruppe": cov["kommunegruppe"],
            "regionsnavn": cov["regionsnavn"],
            f"population_{last}": cov[f"population_{last}"],
        }
    )
    if prev is not None:
        out[f"answer_{panel.previous(weights.rounds[0])}"] = prev.loc[resp]
    for y in weights.rounds[:-1]:
        out[f"answer_{y}"] = cooperation_level(panel.answers.loc[resp, y])
    out["weight"] = weights.weights
    out["propensity"] = weights.propensity
    return out


def summary_table(all_weights: Sequence[ResponseWeights]) -> pd.DataFrame:
    """The :class:`WeightSummary` of each set of weights, a row each (index: the rounds answered)."""
    rows = {}
    for w in all_weights:
        s = w.summary
        rows[" and ".join(map(str, s.rounds))] = {
            "respondents": s.respondents,
            "kommuner": s.kommuner,
            "sum of weights": s.total,
            "minimum": s.minimum,
            "median": s.median,
            "maximum": s.maximum,
            "effective n (Kish)": s.effective_n,
            "trimmed": s.trimmed,
            "collapsed": ", ".join(s.collapsed) or "none",
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("answered")


__all__ = [
    "PREVIOUS_LEVELS",
    "Raking",
    "ResponseWeights",
    "calibrated_mean",
    "rake",
    "response_weights",
    "summary_table",
    "weighted",
    "weights_table",
]
