"""The adoption panel: library loans per unit and year around each kommune's move into cooperation.

Design
------
One row per library unit (97; unit 561 = Esbjerg + Fanø, :func:`helpers.data.usage.to_library_units`)
and year of the real loans series (2010-2015, 2018-2025). The survey rounds give each unit a
*treatment status* per round (does it report the treated level?); the **first round** at which it
reports the treated level gives its **first treated usage year** ``g`` by the pairing rule of
notebook 03 (:func:`helpers.analysis.models.usage_year`: round + ``offset``, default 2009->2010,
2011->2012, 2014->2015). Units never reporting it are never treated (``g = 0``).

Rules (each shown in :func:`timing`'s table)
--------------------------------------------
* **Always treated**: a unit treated at the *first* round of the configuration has no untreated
  year in the data (2009 -> 2010, the first year of the series) or an unknown start (a first
  round after 2009). It is left out of the estimators by default: their effect is not identified,
  the estimates describe the later adopters only.
* **Reporting a lower level later** (``reversals``): ``"absorbing"`` (default) keeps the unit
  treated from its first treated report on (the effect of first adoption; a later lower answer may
  be a change or a reporting difference); ``"exclude"`` leaves such units out.
* **Non-response**: an unanswered round says nothing; the adoption interval reaches back to the
  last round answered below the treated level. A unit answering no round is left out.
* **Interval-censored timing**: adoption happened somewhere between the last untreated report and
  the first treated one. By the pairing rule, the usage year paired with the last untreated round
  (round + offset) is untreated, so the earliest first treated year is that year + 1 (2011 for a
  unit untreated in 2009 and treated in 2011; 2013 for 2011 -> 2014). ``timing="earliest"`` dates
  adoption there (the sensitivity); ``timing="round"`` (default) at the round's usage year.

Years: 2016-2017 are not in the series (Statistics Denmark did not publish them): event times that
fall there have no observation; the estimators use calendar years, so event time ``e = year - g``
keeps its meaning across the gap. 2020-2021 (COVID-19 closures) are kept by default (the year
effects absorb a national shock) or left out with ``covid="exclude"``. 2024-2025 have no 1 January
population in ``data/raw/reference`` and so no exposure: they are left out. Values flagged as
reporting failures (:data:`helpers.data.usage.QUALITY_FLAGS`, e.g. Gribskov 2012 = 0) are left out by
default; the balanced-panel estimator (Callaway & Sant'Anna) then leaves those units out entirely.

Estimators (:mod:`.estimators`)
-------------------------------
* :func:`fit_twfe_event` — two-way fixed-effects Poisson (PPML, ``pyfixest.fepois``) with event-time
  dummies; :func:`fit_twfe_static` the one-dummy version. Biased when effects differ across cohorts.
* :func:`fit_cs` — Callaway & Sant'Anna (2021) with ``csdid`` on log loans per 1,000. With
  never-treated controls its event-time estimates equal Sun & Abraham's interaction-weighted
  estimator (pyfixest's saturated event study) to 1e-8: two libraries, one estimand (tested).
* :func:`cs_event_arrays` — the same estimator written with numpy for many panels at once (the
  coverage simulation); tested equal to ``csdid`` to 1e-10. It exists because 500 ``csdid`` fits
  take minutes; nothing else is hand-written.

All effects are on the log scale (log rate ratio): ``exp(b) - 1`` is the relative change.

Modules, by concern
-------------------
``dating`` (who is treated, and when; a round unanswered or left out is unobserved), ``panel`` (the
outcome, the years, the panel and its sample), ``estimators`` (TWFE and Callaway & Sant'Anna with
did::aggte's aggregations, bands, jackknife intervals, families of event times, pre-trend tests),
``arrays`` (the numpy estimators for many panels and the bootstraps, each tested equal to its
library), ``inference`` (the wild score bootstrap for the PPML fits), ``honest`` (Rambachan & Roth),
``spillover`` (contiguity, clustering of adoption, neighbours as controls), ``simulation`` (recovery
at the real design), ``truth`` (the synthetic panel's truth), ``variants`` (the sensitivity to the
data choices and the leave-one-round-out table), ``study`` (the notebook's parameters, every
estimator on one panel, :func:`key_results`). Every result is a frozen dataclass; the library
fits are fields of them, never modified.
"""

from __future__ import annotations

from .arrays import (
    aggregate,
    cs_event_arrays,
    group_time_arrays,
    jackknife,
    multiplier_bootstrap,
    ppml_arrays,
    score_bootstrap,
    twfe_static_arrays,
)
from .dating import parse_treatment, reversal_table, round_models, timing, timing_summary, treated_models
from .estimators import (
    CONTROL_GROUP_WORDS,
    CS_WEIGHTS_WORDS,
    DEFAULT_WINDOW,
    ESTIMANDS,
    ESTIMATOR_WORDS,
    CSEventStudy,
    Effect,
    EstimationSpec,
    EventStudy,
    PretrendTest,
    StaticFit,
    event_dummies,
    event_term,
    fit_cs,
    fit_twfe_event,
    fit_twfe_static,
    wald,
)
from .honest import HonestSensitivity, honest_sensitivity
from .imputed import ImputedTiming, Robustness, imputed_timing, robustness
from .inference import WildBootstrap, twfe_wild, wild_bootstrap, wild_table
from .panel import (
    COVID_YEARS,
    AdoptionPanel,
    OutcomeSeries,
    PanelSpec,
    assemble,
    balanced,
    build,
    build_panel,
    cohort_table,
    outcome_panel,
    year_table,
)
from .simulation import (
    NoiseCalibration,
    SimulationStudy,
    TwfeBias,
    calibrate_noise,
    simulate_panels,
    simulation_for,
    simulation_study,
)
from .spillover import Spillovers, spillovers
from .study import Estimates, Specification, estimate, key_results
from .truth import (
    TruthComparison,
    compare_with_truth,
    estimates_vs_truth,
    load_adoption_truth,
    synthetic_effect,
    true_event_effects,
)
from .variants import Sensitivity, leave_one_round_out, round_variants, sensitivity, sensitivity_variants

__all__ = [
    "COVID_YEARS",
    "CONTROL_GROUP_WORDS",
    "CS_WEIGHTS_WORDS",
    "ESTIMANDS",
    "Effect",
    "HonestSensitivity",
    "ImputedTiming",
    "Robustness",
    "NoiseCalibration",
    "Spillovers",
    "WildBootstrap",
    "aggregate",
    "calibrate_noise",
    "group_time_arrays",
    "honest_sensitivity",
    "imputed_timing",
    "jackknife",
    "leave_one_round_out",
    "multiplier_bootstrap",
    "ppml_arrays",
    "robustness",
    "round_variants",
    "score_bootstrap",
    "spillovers",
    "twfe_wild",
    "wild_bootstrap",
    "wild_table",
    "DEFAULT_WINDOW",
    "ESTIMATOR_WORDS",
    "AdoptionPanel",
    "CSEventStudy",
    "Estimates",
    "EstimationSpec",
    "EventStudy",
    "OutcomeSeries",
    "PanelSpec",
    "PretrendTest",
    "Sensitivity",
    "SimulationStudy",
    "Specification",
    "StaticFit",
    "TruthComparison",
    "TwfeBias",
    "assemble",
    "balanced",
    "build",
    "build_panel",
    "cohort_table",
    "compare_with_truth",
    "cs_event_arrays",
    "estimate",
    "estimates_vs_truth",
    "event_dummies",
    "event_term",
    "fit_cs",
    "fit_twfe_event",
    "fit_twfe_static",
    "key_results",
    "load_adoption_truth",
    "outcome_panel",
    "parse_treatment",
    "reversal_table",
    "round_models",
    "sensitivity",
    "sensitivity_variants",
    "simulate_panels",
    "simulation_for",
    "simulation_study",
    "synthetic_effect",
    "timing",
    "timing_summary",
    "treated_models",
    "true_event_effects",
    "twfe_static_arrays",
    "wald",
    "year_table",
]
