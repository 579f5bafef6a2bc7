"""Any statistic under the four treatments of non-response, side by side.

:func:`prepare` computes, once per panel, what the treatments need: the raking weights of each
response pattern (every single round, and all rounds together) and the imputed data sets.
:func:`four_ways` then gives one statistic as complete case, bounds, weighted and imputed
(a :class:`~helpers.results.nonresponse.Sensitivity`), and :func:`sensitivity_table` lays several out
as one table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.analysis.nonresponse import manski
from helpers.analysis.nonresponse.frame import Panel
from helpers.analysis.nonresponse.imputation import ITERATIONS, SEED, Imputations, M, impute
from helpers.analysis.nonresponse.pooling import pool, wilson_pooled
from helpers.analysis.nonresponse.statistics import Statistic, estimate
from helpers.analysis.nonresponse.weighting import ResponseWeights, response_weights, weighted
from helpers.results.nonresponse import Estimate, Pooled, Sensitivity


@dataclass(frozen=True)
class Treatments:
    """What the treatments of non-response need for one panel (:func:`prepare`).

    Fields: ``panel`` (:class:`~.frame.Panel`); ``weights`` (response pattern, a tuple of rounds ->
    :class:`~.weighting.ResponseWeights`: each round alone, and all rounds); ``imputations``
    (:class:`~.imputation.Imputations`); ``trim`` (the weights' cap, or None); ``bounds_seed`` (the
    seed of the bounds' random starts).
    """

    panel: Panel
    weights: dict[tuple[int, ...], ResponseWeights]
    imputations: Imputations
    trim: float | None
    bounds_seed: int

    def weights_for(self, rounds: Sequence[int]) -> ResponseWeights:
        """The weights of the kommuner that answered every round of ``rounds`` (computed if not prepared)."""
        key = tuple(sorted(int(y) for y in rounds))
        return self.weights[key] if key in self.weights else response_weights(self.panel, key, trim=self.trim)


def prepare(
    panel: Panel,
    *,
    m: int = M,
    iterations: int = ITERATIONS,
    seed: int = SEED,
    trim: float | None = None,
) -> Treatments:
    """Weights for each round and for all rounds together, and ``m`` imputed data sets (``seed``).

    ``trim``: None, or a cap on the weights (see :func:`.weighting.response_weights`). The same
    ``seed`` also seeds the random starts of a bounds search.
    """
    patterns = [(y,) for y in panel.years] + ([panel.years] if len(panel.years) > 1 else [])
    weights = {p: response_weights(panel, p, trim=trim) for p in patterns}
    return Treatments(panel, weights, impute(panel, m=m, iterations=iterations, seed=seed), trim, seed)


def complete_case(stat: Statistic, panel: Panel) -> Estimate:
    """``stat`` on the kommuner that answered every round it reads, unweighted (a share: with its Wilson score
    interval, :func:`.statistics.wilson`)."""
    keep = panel.answered(stat.rounds)
    answers = panel.answers.loc[keep, list(stat.rounds)].astype(int)
    return estimate(stat, answers, panel.covariates.loc[keep])


def imputed(stat: Statistic, imputations: Imputations, panel: Panel) -> Pooled:
    """``stat`` on each completed data set, pooled by Rubin's rules (a share: with the Wilson-type interval of
    :func:`.pooling.wilson_pooled`)."""
    pooled = pool([estimate(stat, c[list(stat.rounds)].astype(int), panel.covariates) for c in imputations.completed])
    return wilson_pooled(pooled) if stat.proportion else pooled


def four_ways(
    stat: Statistic,
    treatments: Treatments,
    *,
    max_completions: int = manski.MAX_COMPLETIONS,
    random_starts: int = manski.RANDOM_STARTS,
) -> Sensitivity:
    """``stat`` as complete case, bounds, weighted and imputed (a :class:`Sensitivity`)."""
    t = treatments
    b = manski.bounds(stat, t.panel, max_completions=max_completions, random_starts=random_starts, seed=t.bounds_seed)
    return Sensitivity(
        quantity=stat.name,
        description=stat.description,
        rounds=stat.rounds,
        complete_case=complete_case(stat, t.panel),
        bounds=b.bounds,
        weighted=weighted(stat, t.panel, t.weights_for(stat.rounds)),
        imputed=imputed(stat, t.imputations, t.panel),
    )


SENSITIVITY_COLUMNS = ("estimate", "low", "high", "n", "interval")


def sensitivity_table(rows: Sequence[Sensitivity], scale: float = 1.0) -> pd.DataFrame:
    """The quantities (rows) under the four treatments (column groups): complete case, bounds, weighted,
    imputed; each with its estimate, the 95 % interval (or the bounds), n and what the interval is
    (``interval``: "Wilson score" for a share's complete case, "z", "t, df ..." for the pooled imputations,
    "Wilson score by Rubin's rules, t, df ..." for a share's). ``scale`` multiplies every value (100 for
    percent)."""
    out = {}
    for r in rows:
        row = {}
        for method, e in (("complete case", r.complete_case), ("weighted", r.weighted), ("imputed", r.imputed)):
            row[(method, "estimate")] = e.value * scale
            row[(method, "low")] = None if e.low is None else e.low * scale
            row[(method, "high")] = None if e.high is None else e.high * scale
            row[(method, "n")] = e.n
            row[(method, "interval")] = e.interval  # what the interval is: z, or t with its df (Rubin's rules)
        row[("bounds", "low")] = r.bounds.low * scale
        row[("bounds", "high")] = r.bounds.high * scale
        row[("bounds", "incomplete")] = r.bounds.incomplete
        out[r.description] = row
    table = pd.DataFrame.from_dict(out, orient="index")
    order = ["complete case", "bounds", "weighted", "imputed"]
    table = table[[c for o in order for c in table.columns if c[0] == o]]
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table
