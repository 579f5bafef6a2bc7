"""Models of cooperation level against library usage (notebook 03), one concern per module.

* :mod:`~helpers.analysis.models.design`: how cooperation enters a model (the level score, the
  formula, the names of its terms).
* :mod:`~helpers.analysis.models.inputs`: survey rounds joined to usage years; values flagged as
  reporting failures leave the frames by default (:func:`model_inputs` -> :class:`ModelInputs`).
* :mod:`~helpers.analysis.models.fit`: what every typed fit offers (a frozen dataclass holding the
  statsmodels result; nothing is set on it), the covariance label, IRR tables.
* :mod:`~helpers.analysis.models.count`: negative binomial with the dispersion by profile
  likelihood, as MASS::glm.nb (:class:`NegBinFit`); Poisson with true HC3 (:class:`PoissonHC3Fit`).
* :mod:`~helpers.analysis.models.change`: first differences between two rounds (:class:`ChangeFit`).
* :mod:`~helpers.analysis.models.ordinal`: the ordinal logit of the cooperation level, equal to
  MASS::polr (:class:`OrdinalFit`).
* :mod:`~helpers.analysis.models.batch`: the batched IRLS / NB fitter, the Cox-Reid dispersion and
  profile intervals for stacks of simulated datasets (used by :mod:`helpers.analysis.simulation`,
  and by :func:`fit_negbin` for its one dataset).
* :mod:`~helpers.analysis.models.sensitivity`: the score rate ratio under other orderings and samples.
* :mod:`~helpers.analysis.models.response`: the score rate ratio under the four treatments of
  non-response (complete case, bounds, weighted, imputed; :mod:`helpers.analysis.nonresponse`).
* :mod:`~helpers.analysis.models.rounds`: the per-round fits and tables of notebook 03, and the
  intervals it reports.
* :mod:`~helpers.analysis.models.published`: its key results (:func:`key_results` ->
  :class:`helpers.results.models.ModelResults`).

This package re-exports the public names of those modules.
"""

from __future__ import annotations

from helpers.analysis.models.batch import (
    ALPHA_MIN,
    BATCH_TOL,
    BatchFit,
    CoxReidFit,
    cox_reid_batch,
    cox_reid_loglik,
    fit_negbin_batch,
    fit_poisson_batch,
    irls_batch,
    nb_loglik,
    profile_intervals_batch,
)
from helpers.analysis.models.change import ChangeFit, change_between, change_frame, fit_change
from helpers.analysis.models.count import (
    GLM_FIT,
    GLM_TOL,
    THETA_MAX,
    THETA_RTOL,
    NegBinFit,
    PoissonHC3Fit,
    cox_reid_interval_label,
    dispersion,
    fit_count,
    fit_negbin,
    hc3_cov,
    pearson_residuals,
    profile_irr_table,
)
from helpers.analysis.models.design import CONTROLS, formula, model_term, score, term_label, truth_by_term
from helpers.analysis.models.fit import (
    Fit,
    OwnCovarianceFit,
    covariance_label,
    interval_label,
    irr_in_words,
    irr_table,
)
from helpers.analysis.models.inputs import (
    FLAGGED_OUTCOMES,
    REPORTING_FAILURE,
    AnalysisFrame,
    ModelInputs,
    analysis_frame,
    model_inputs,
    reporting_failures,
    usage_year,
)
from helpers.analysis.models.ordinal import (
    ORDINAL_GRADIENT_TOL,
    ORDINAL_POPULATION_CENTRE,
    OrdinalFit,
    cut_points,
    fit_ordinal,
    ordinal_design,
    thresholds,
)
from helpers.analysis.models.published import key_results, run_name
from helpers.analysis.models.response import (
    ResponseSensitivity,
    rate_ratio_table,
    response_sensitivity,
    score_statistic,
    usage_frame,
)
from helpers.analysis.models.rounds import (
    FAMILY_IN_WORDS,
    CountFitsByRound,
    ReportedIntervals,
    RoundCountFits,
    adjusted_irr_table,
    estimates_vs_truth,
    family_name,
    fit_rounds,
    fit_summary,
    large_residuals,
    reported_intervals,
    round_models,
)
from helpers.analysis.models.sensitivity import EXCLUSIONS, ORDERINGS, sensitivity, sensitivity_by_round

__all__ = [
    "ALPHA_MIN",
    "BATCH_TOL",
    "CONTROLS",
    "EXCLUSIONS",
    "FAMILY_IN_WORDS",
    "FLAGGED_OUTCOMES",
    "GLM_FIT",
    "GLM_TOL",
    "ORDERINGS",
    "ORDINAL_GRADIENT_TOL",
    "ORDINAL_POPULATION_CENTRE",
    "REPORTING_FAILURE",
    "THETA_MAX",
    "THETA_RTOL",
    "AnalysisFrame",
    "BatchFit",
    "ChangeFit",
    "CountFitsByRound",
    "CoxReidFit",
    "Fit",
    "ModelInputs",
    "NegBinFit",
    "OrdinalFit",
    "OwnCovarianceFit",
    "PoissonHC3Fit",
    "ReportedIntervals",
    "ResponseSensitivity",
    "RoundCountFits",
    "adjusted_irr_table",
    "analysis_frame",
    "change_between",
    "change_frame",
    "covariance_label",
    "cox_reid_batch",
    "cox_reid_interval_label",
    "cox_reid_loglik",
    "cut_points",
    "dispersion",
    "estimates_vs_truth",
    "family_name",
    "fit_change",
    "fit_count",
    "fit_negbin",
    "fit_negbin_batch",
    "fit_ordinal",
    "fit_poisson_batch",
    "fit_rounds",
    "fit_summary",
    "formula",
    "hc3_cov",
    "interval_label",
    "irls_batch",
    "irr_in_words",
    "irr_table",
    "key_results",
    "large_residuals",
    "model_inputs",
    "model_term",
    "nb_loglik",
    "ordinal_design",
    "pearson_residuals",
    "profile_intervals_batch",
    "profile_irr_table",
    "rate_ratio_table",
    "reported_intervals",
    "reporting_failures",
    "response_sensitivity",
    "round_models",
    "run_name",
    "score",
    "score_statistic",
    "sensitivity",
    "sensitivity_by_round",
    "term_label",
    "thresholds",
    "truth_by_term",
    "usage_frame",
    "usage_year",
]
