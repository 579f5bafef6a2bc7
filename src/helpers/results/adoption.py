"""Key results of notebook 04_adoption_panel: the event study of library loans around adoption.

Built by :func:`helpers.analysis.adoption.key_results` from the typed analysis results (the panel,
the event studies, the static TWFE fit, the sensitivity table, the simulation study and, with the
synthetic panel, the comparison with the truth); read back by the brief and the report site.
All effects are on the log scale (log rate ratio of loans per inhabitant). A value that does not
exist (the reference period's standard error, a p-value pyfixest could not compute) is ``None``
(JSON ``null``), never NaN.

Plain data only: this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.vocabulary import AdoptionSource, Estimator, Reversals, Treatment
from helpers.results.base import KeyResults

TREATMENT_WORDS: dict[str, str] = {
    "any": "any cooperation (models 1-4)",
    "staff": "library staff doing the tasks (models 3-4)",
    **{f"level{k}+": f"cooperation level {k} or higher" for k in (1, 2, 3, 4)},
}
"""Each :data:`~helpers.core.vocabulary.Treatment` in words (tests check it names exactly the alias's values)."""

ESTIMATOR_LABELS: dict[str, str] = {"cs": "Callaway & Sant'Anna", "twfe": "TWFE Poisson"}
"""The short name of each :data:`~helpers.core.vocabulary.Estimator`, as tables, figures and the brief show it."""


@dataclass(frozen=True)
class YearUse:
    """One calendar year of the loans series: in the series, with exposure, a COVID year, used, and why not."""

    year: int
    in_series: bool
    has_population: bool
    covid: bool
    used: bool
    note: str


@dataclass(frozen=True)
class TimingGroup:
    """Units of one timing category and first treated year (``g_round``; earliest bound ``g_earliest``; 0 = never):
    ``units`` in all, ``included`` in the estimators, ``reversals`` reporting a lower level later."""

    category: str
    g_round: int
    g_earliest: int
    units: int
    included: int
    reversals: int


@dataclass(frozen=True)
class ReversalUnit:
    """A unit reporting a lower level after a treated one: its answers, first treated round and year, the rule."""

    kommunekode: int
    history: str
    first_treated_round: int | None
    g_round: int
    category: str
    rule: str


@dataclass(frozen=True)
class ReversalRule:
    """The rule for units reporting a lower level later (``rule``) and the units it applies to."""

    rule: Reversals
    units: tuple[ReversalUnit, ...]


@dataclass(frozen=True)
class EventTimeEffect:
    """One event time: estimate, standard error, pointwise 95 % interval, p-value; the reference period is 0
    by construction, with no standard error, interval or p-value (``None``)."""

    event_time: int
    estimate: float | None
    se: float | None
    low: float | None
    high: float | None
    p: float | None
    reference: bool


@dataclass(frozen=True)
class PretrendTest:
    """The test that every pre-period effect is 0: Wald ``statistic``, its ``df`` (None when the library does not
    report it), ``p`` and the test in words."""

    statistic: float | None
    df: int | None
    p: float | None
    test: str


@dataclass(frozen=True)
class EventStudyResult:
    """One estimator's event study: ``estimator`` code and ``label``; ``units`` (kommuner) and ``observations``
    (unit-years) it used; the ``effects`` by event time; the ``pretrend`` test."""

    estimator: Estimator
    label: str
    units: int
    observations: int
    effects: tuple[EventTimeEffect, ...]
    pretrend: PretrendTest


@dataclass(frozen=True)
class StaticEffect:
    """The naive two-way fixed-effects Poisson effect (one effect for all): estimate, se, 95 % interval, p, and
    ``n`` unit-years."""

    estimate: float
    se: float
    low: float
    high: float
    p: float
    n: int


@dataclass(frozen=True)
class SensitivityRow:
    """One variant of the data choices: units and adopters in the headline estimator's sample, its average
    post-adoption effect (``avg_post``), the naive TWFE effect with its 95 % interval, the headline pre-trend p."""

    variant: str
    units: int
    adopters: int
    avg_post: float | None
    twfe_static: float
    twfe_low: float
    twfe_high: float
    pretrend_p: float | None


@dataclass(frozen=True)
class TruthRow:
    """The headline estimate at one event time beside the true effect (synthetic panel), and whether the 95 %
    interval covers it (``None`` for the reference period or where no truth exists)."""

    event_time: int
    estimate: float | None
    low: float | None
    high: float | None
    true: float | None
    covered: bool | None


@dataclass(frozen=True)
class CoverageRow:
    """Simulated panels, one event time: the true effect, mean estimate, bias, coverage of the 95 % intervals and
    the Monte Carlo standard error of that coverage."""

    event_time: int
    true: float
    mean_estimate: float
    bias: float
    coverage: float
    mc_se: float


@dataclass(frozen=True)
class TwfeBias:
    """Simulated panels: the true average effect over treated unit-years, the mean naive TWFE estimate, its bias
    and its standard deviation across panels."""

    true_att: float
    mean: float
    bias: float
    sd: float


@dataclass(frozen=True)
class SimulationResult:
    """The simulation study: ``reps`` panels, coverage per event time (``event``), the naive TWFE bias (``twfe``)."""

    reps: int
    event: tuple[CoverageRow, ...]
    twfe: TwfeBias


@dataclass(frozen=True)
class AdoptionResults(KeyResults):
    """Key results of one 04_adoption_panel run.

    Fields: ``rounds`` dating adoption, ``treatment`` (canonical), ``source`` of the loans and whether the loans
    (``synthetic_usage``) and the survey rounds (``synthetic_survey``) are synthetic; ``years`` (every calendar
    year and its use), ``left_out`` (unit-years left out, by reason), ``timing`` (units per category and first
    treated year), ``cohorts`` (units in the estimation sample per first treated year, 0 = never), ``reversals``;
    ``event_studies`` by estimator (Callaway & Sant'Anna, TWFE Poisson) and the ``headline`` estimator;
    ``twfe_static`` (the naive one-effect fit); ``sensitivity`` (one row per variant of the data choices);
    ``simulation`` (coverage and TWFE bias on simulated panels of this sample's design); ``vs_truth``
    (synthetic panel only: the headline estimates against the truth, else empty).
    """

    prefix = "04_adoption"

    rounds: tuple[int, ...]
    treatment: Treatment
    source: AdoptionSource
    synthetic_usage: bool
    synthetic_survey: bool
    years: tuple[YearUse, ...]
    left_out: dict[str, int]
    timing: tuple[TimingGroup, ...]
    cohorts: dict[int, int]
    reversals: ReversalRule
    event_studies: dict[Estimator, EventStudyResult]
    headline: Estimator
    twfe_static: StaticEffect
    sensitivity: tuple[SensitivityRow, ...]
    simulation: SimulationResult
    vs_truth: tuple[TruthRow, ...] = ()

    @property
    def headline_study(self) -> EventStudyResult:
        """The event study of the headline estimator."""
        return self.event_studies[self.headline]
