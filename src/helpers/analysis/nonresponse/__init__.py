"""Non-response, three ways (and the complete case beside them): bounds, weights, multiple imputation.

Not every kommune answers every survey round (8 to 12 of 98 per round in the example data), and
whether a kommune answers may depend on what it would have answered. Dropping the non-respondents
(complete case) assumes it does not. This package treats the assumption as something to vary:

=================  ==========================================================  ==================
treatment          assumes about the kommuner that did not answer                module
=================  ==========================================================  ==================
complete case      they answer like those that did (missing completely at        :mod:`.sensitivity`
                   random)
bounds (Manski)    nothing: each could have answered any model                   :mod:`.manski`
weighted           like respondents of the same kommunegruppe, region,           :mod:`.weighting`
                   population and previous answer (raking)
imputed            the same, by chained equations with the other rounds'         :mod:`.imputation`,
                   answers, m data sets pooled by Rubin's rules                  :mod:`.pooling`
=================  ==========================================================  ==================

Every treatment estimates the same estimand: the quantity over *all* kommuner of the reference
table, as if every one had answered.

How a notebook uses it (notebook 02 does exactly this; notebook 03 the same with its own statistics)::

    from helpers.analysis import compare, nonresponse as nr

    aligned = compare.align_rounds(rounds, municipalities)          # kommuner x rounds, 0 = no answer
    panel = nr.panel(aligned, municipalities)                         # answers with gaps + covariates
    treatments = nr.prepare(panel, m=50, seed=2023)                   # weights per pattern, imputations
    started = nr.moved("started", 2009, 2011, start=[5], end=[1, 2, 3, 4])
    row = nr.four_ways(started, treatments)                          # complete case, bounds, weighted, imputed
    nr.sensitivity_table([row], scale=100)

**A statistic of your own** (e.g. a rate ratio of a count model, notebook 03) is
``nr.statistic(name, description, rounds, compute)`` where ``compute(answers, covariates, weights)``
returns an :class:`~helpers.results.nonresponse.Estimate` (value, se, and ``df``: the complete-data
degrees of freedom for Barnard-Rubin, None for a large-sample z statistic):

* ``answers``: kommunekode x the statistic's rounds, model codes 1-5 with no gaps (the complete cases
  for complete case and weighted; every kommune for each imputed data set and each completion);
* ``covariates``: :attr:`Panel.covariates` of the same kommuner (join your own data by kommunekode);
* ``weights``: None, or the raking weights of those kommuner (use them as your model's weights:
  ``freq_weights``/``var_weights`` or a weighted design; say which, and how its standard errors treat them).

``four_ways`` then fits it on the complete cases, with the weights, on every imputed data set (Rubin),
and over completions for the bounds: every completion when there are at most
``max_completions`` (exact), otherwise a coordinate search (:func:`.manski.search`; its docstring says
why it is sound and what it guarantees; its cost is a few thousand fits, so pass ``random_starts=0``
for a slow model).

**Do the intervals cover?** :func:`.coverage.key_coverage` simulates pairs of rounds at a panel's design
and counts how often notebook 02's complete-case and imputed intervals cover (with Monte Carlo SEs).

Plain results (:class:`~helpers.results.nonresponse.Estimate`, ``Bounds``, ``Pooled``, ``Sensitivity``,
``WeightSummary``, ``ImputationSettings``, ``CoverageCheck``) live in :mod:`helpers.results.nonresponse`, so key results
can hold them.
"""

from __future__ import annotations

from helpers.analysis.nonresponse import coverage
from helpers.analysis.nonresponse.coverage import coverage_table, key_coverage
from helpers.analysis.nonresponse.frame import PREVIOUS_LEVELS, Panel, cooperation_level, panel
from helpers.analysis.nonresponse.imputation import Imputations, impute
from helpers.analysis.nonresponse.manski import BoundsResult, bounds, exhaustive, search
from helpers.analysis.nonresponse.pooling import barnard_rubin, pool
from helpers.analysis.nonresponse.sensitivity import (
    Treatments,
    complete_case,
    four_ways,
    imputed,
    prepare,
    sensitivity_table,
)
from helpers.analysis.nonresponse.statistics import (
    Statistic,
    estimate,
    mean_of,
    moved,
    net_change,
    share,
    statistic,
    wald,
    weighted_mean,
)
from helpers.analysis.nonresponse.weighting import (
    ResponseWeights,
    response_weights,
    summary_table,
    weighted,
    weights_table,
)
from helpers.results.nonresponse import (
    Bounds,
    CoverageCheck,
    Estimate,
    ImputationSettings,
    IntervalCoverage,
    Pooled,
    Sensitivity,
    WeightSummary,
)

__all__ = [
    "PREVIOUS_LEVELS",
    "Bounds",
    "BoundsResult",
    "CoverageCheck",
    "Estimate",
    "ImputationSettings",
    "Imputations",
    "IntervalCoverage",
    "Panel",
    "Pooled",
    "ResponseWeights",
    "Sensitivity",
    "Statistic",
    "Treatments",
    "WeightSummary",
    "barnard_rubin",
    "bounds",
    "complete_case",
    "cooperation_level",
    "coverage",
    "coverage_table",
    "estimate",
    "exhaustive",
    "four_ways",
    "impute",
    "imputed",
    "key_coverage",
    "mean_of",
    "moved",
    "net_change",
    "panel",
    "pool",
    "prepare",
    "response_weights",
    "search",
    "sensitivity_table",
    "share",
    "statistic",
    "summary_table",
    "wald",
    "weighted",
    "weighted_mean",
    "weights_table",
]
